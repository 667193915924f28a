"""The draw: cohort 1 chosen by the run's seed from the lottery (a column by its weight, then one
child of each of its pools uniformly), the ranked alternatives drawn after it from the same
lottery, and the lottery with the cohort drawn as the outputs give them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..problem import Problem, cohort_score
from ..settings import SelectionParams
from .leximin import fair_lottery
from .result import Chances, Lottery, StoredLottery
from .stored import lottery_key, restored, stored_from

# Draws tried for each alternative (a cohort sharing few children with those before it) before
# the alternatives are left to the search; each is a few tens of microseconds.
ALTERNATIVE_DRAWS = 200


def draw_first(problem: Problem, params: SelectionParams, optimum: int, time_limit: float,
               fallback: Sequence[int] = (), progress: Callable[[str], None] | None = None,
               known: Mapping[str, StoredLottery] | None = None, alternatives: int = 0) -> Chances:
    """Cohort 1 drawn by the run's seed from the fairest lottery over the cohorts scoring at
    least the optimum less the slack, and up to `alternatives` more (`draw_alternatives`) when
    every cohort of the lottery has the optimum (no slack). With slack, the lottery without it
    is worked out first (`fair_lottery`): it starts the one drawn from, and the outputs say what
    the slack changed. A lottery in `known` under this problem's key (`lottery_key`) is used
    instead of working it out: the outputs are the same."""
    started = time.perf_counter()
    key = lottery_key(problem, params, optimum)
    kept = known.get(key) if known is not None else None
    lottery = restored(problem, kept) if kept is not None else None
    reused = lottery is not None and kept is not None
    if lottery is not None and kept is not None:
        if progress is not None:
            progress("the lottery: the same candidates, rules and work as a lottery worked out before; it is used again")
        stored: StoredLottery | None = kept
    else:
        # Cohort 1's search is only a fallback: the cohort it found depends on the order of the rows.
        lottery = fair_lottery(problem, params, optimum, time_limit, fallback=fallback, progress=progress)
        stored = stored_from(problem, lottery, key)  # None when the wall clock, not the work, decided it
    first = draw(lottery, params.seed)
    chances = chances_of(problem, lottery, optimum, params, first, round(time.perf_counter() - started, 3))
    others = (draw_alternatives(lottery, params.seed, first, alternatives, params.max_overlap)
              if alternatives and lottery.threshold >= optimum else ())
    return replace(chances, stored=stored, reused=reused,
                   alternatives=tuple(tuple(str(problem.child_ids[i]) for i in c) for c in others))


def chances_of(problem: Problem, lottery: Lottery, optimum: int, params: SelectionParams, drawn: Sequence[int],
               seconds: float = 0.0) -> Chances:
    """A lottery and the cohort drawn from it, as the outputs give them (children in child-id order)."""
    order = np.argsort(lottery.rank, kind="stable") if lottery.rank is not None else np.arange(problem.n)
    return Chances(
        # Whole arrays to Python values at once (a pass per child cost 0.04 s at 60,000 children).
        child_ids=tuple(np.asarray(problem.child_ids)[order].astype(str).tolist()),
        chances=tuple(np.asarray(lottery.chances, dtype=float)[order].tolist()),
        types=tuple(np.asarray(lottery.type_of)[order].astype(int).tolist()),  # numbered in child-id order
        optimum=optimum, threshold=lottery.threshold, slack_percent=params.slack,
        drawn=tuple(str(problem.child_ids[i]) for i in drawn),
        drawn_score=cohort_score(problem, drawn),
        proved=lottery.proved, complete=lottery.complete, reproducible=lottery.reproducible,
        levels=lottery.levels, columns=len(lottery.columns), largest_without_slack=lottery.largest_without_slack,
        seconds=seconds, bound=lottery.bound)


def draw(lottery: Lottery, seed: int) -> tuple[int, ...]:
    """One cohort of the lottery for a seed: a column by its weight, then from each of its pools
    uniformly (children in child-id order, so the order of the rows changes nothing)."""
    return _draw_with(lottery, np.random.default_rng([seed, 7919]))


def draw_alternatives(lottery: Lottery, seed: int, first: Sequence[int], count: int, max_overlap: int
                      ) -> tuple[tuple[int, ...], ...]:
    """Up to `count` more cohorts of the lottery, drawn in turn by the seed (a stream of its own,
    so cohort 1 is the same with or without them), each sharing at most `max_overlap` children
    with cohort 1 and with every one drawn before it, and none the same as one of them: a draw
    that shares more is drawn again. Stops at the first that `ALTERNATIVE_DRAWS` draws do not
    find (the search takes over from there)."""
    rng = np.random.default_rng([seed, 7919, 2])
    earlier = [frozenset(first)]
    found: list[tuple[int, ...]] = []
    for _ in range(count):
        for _ in range(ALTERNATIVE_DRAWS):
            cohort = _draw_with(lottery, rng)
            members = frozenset(cohort)
            if all(members != e and len(members & e) <= max_overlap for e in earlier):
                earlier.append(members)
                found.append(cohort)
                break
        else:
            break
    return tuple(found)


def _draw_with(lottery: Lottery, rng: np.random.Generator) -> tuple[int, ...]:
    column = lottery.columns[int(rng.choice(len(lottery.columns), p=np.array(lottery.weights)))]
    chosen: list[int] = []
    for pool, need in column.picks():
        members = np.array(pool)
        if lottery.rank is not None:
            members = members[np.argsort(lottery.rank[members])]
        chosen += [int(i) for i in rng.choice(members, size=need, replace=False)]
    return tuple(sorted(chosen))
