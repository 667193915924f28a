"""Ranked cohorts with CP-SAT: a problem in, a solution out. Pure: no files, no printing.

Each cohort is found in two steps: the best score is proved first, then, with the score held
at that optimum, a seeded random weight picks among the equally good cohorts. Cohort 1 is then
drawn by the seed from the fair lottery over every cohort reaching that score (lottery/), and
the alternatives after it from the same lottery (a draw sharing more than the overlap limit
with an earlier cohort is drawn again; each has the proven optimum, so none can score more);
the search finds those the draws do not, and the reserves around the cohort drawn. A
replacement with one or two places free is proved by checking the candidates (or the pairs
that can reach each score) in numpy instead of a search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from .. import __version__
from ..contract.errors import InfeasibleSelectionError, SolverError
from ..contract.rules import Rules
from .constraints import CohortModel
from .explain import check_enough_candidates, explain_infeasible, rules_to_relax
from .fit import PAIR_CHECKS, Fitter, check_pairs, gains, promising_pairs
from .lottery import INCOMPLETE_WHY, Chances, StoredLottery, draw_first, draw_refill
from .problem import Problem, excluding, subset, without_rules
from .reserves import find_reserves
from .settings import (
    FIRST_COHORT_SHARE,
    MIN_SOLVE_S,
    TIE_BREAK_DETERMINISTIC_TIME,
    Budget,
    SelectionParams,
    make_solver,
    solver_record,
)

OPTIMAL, FEASIBLE = "OPTIMAL", "FEASIBLE"
RANDOM_WEIGHT_RANGE = 1000
# Of the time left after cohort 1, at most, for the lottery: finding every child who can be drawn
# is bounded only by time (about 30 s at 60,000 children); the rest of its work is counted.
LOTTERY_SHARE = 0.8
# The seeded random pool (see solve_cohort): POOL_RANDOM children at random plus
# POOL_PER_VALUE holders of every value.
POOL_RANDOM = 200
POOL_PER_VALUE = 5
POOL_RANDOM_WIDER = 2_000  # a second pool's children at random, when the first holds no cohort at the bound


@dataclass(frozen=True)
class Cohort:
    """One ranked cohort.

    Attributes:
        rank: 1 is the best.
        members: child ids, in slot order.
        score: objective value.
        status: OPTIMAL (proved) or FEASIBLE (time limit, `bound` the best possible; or, for cohort 1
            of a run with a slack, drawn below the best score, `bound`, proved).
        bound: the proven upper bound on the score.
        seconds: wall time to find and prove it, model building included.
    """

    rank: int
    members: tuple[str, ...]
    score: int
    status: str
    bound: int
    seconds: float


@dataclass(frozen=True)
class Solution:
    """The result of a selection run.

    Attributes:
        cohorts: ranked cohorts (fewer than asked when no more exist under the overlap limit).
        reserves: for each member of cohort 1, up to N reserve child ids, best first.
        rules: the rules the cohorts meet (after any relaxing).
        dropped: names of rules relaxed away.
        params: the parameters used.
        candidates: eligible children considered.
        version: selector's version.
        solver: CP-SAT parameters that matter, and the seconds the search spent, for the record.
        notes: what the time limit cut short, in words (empty when nothing was).
        no_more_cohorts: fewer cohorts than asked because no other meets every rule under the
            overlap limit (proved by the search), not because the time ran out.
        lottery: the lottery cohort 1 was drawn from, and every candidate's chance (None for a
            replacement, which keeps the children who stay).
    """

    cohorts: tuple[Cohort, ...]
    reserves: dict[str, tuple[str, ...]]
    rules: Rules
    dropped: tuple[str, ...]
    params: SelectionParams
    candidates: int
    version: str = __version__
    solver: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    lottery: Chances | None = None
    no_more_cohorts: bool = False

    @property
    def below_best_by_slack(self) -> bool:
        """Whether cohort 1 scores less than the best only because the slack let the lottery draw
        it so (the best score proved), not because the time limit cut the search short."""
        lottery = self.lottery
        return (lottery is not None and not lottery.kept
                and drawn_below_best(self.cohorts[0].status, self.cohorts[0].bound, lottery.slack_percent,
                                     lottery.optimum))


def drawn_below_best(status: str, bound: int, slack_percent: float, optimum: int | None) -> bool:
    """Whether a cohort 1 short of the best was drawn within a slack below a best score that was
    proved: its bound is that score (a search the time limit cut short has its bound above the
    best score it found, from which the lottery's slack is measured)."""
    return status != OPTIMAL and slack_percent > 0 and optimum is not None and bound == optimum


def upper_bound(problem: Problem) -> int:
    """A score no cohort can beat: each dimension's weight x the fewest of its cap, the values
    the candidates offer, and (one value per child) the cohort size.

    A cohort reaching it is optimal for the whole caseload, however it was found.
    """
    total = 0
    for dim, values in zip(problem.rules.dimensions, problem.coverage, strict=True):
        reachable = min(dim.cap, len(values))
        if not dim.multi_valued:
            reachable = min(reachable, problem.rules.size)
        total += dim.weight * reachable
    return total


def pool_positions(problem: Problem, params: SelectionParams, rank: int,
                   fixed: Sequence[int] = (), drawn: int = POOL_RANDOM) -> np.ndarray:
    """A seeded random pool of candidates that very likely holds a best cohort: `drawn`
    children at random, plus a few random holders of every value and members of every count
    rule (so rare values are always there), plus the children who must stay."""
    rng = np.random.default_rng([params.seed, rank, problem.n, 7])
    chosen = np.zeros(problem.n, dtype=bool)
    chosen[rng.choice(problem.n, size=min(drawn, problem.n), replace=False)] = True
    for values in problem.coverage:
        for _value, holders in values:
            chosen[rng.permutation(holders)[:POOL_PER_VALUE]] = True
    for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
        chosen[rng.permutation(members)[:POOL_PER_VALUE + (rule.min or 0)]] = True
    chosen[list(fixed)] = True
    return np.flatnonzero(chosen)


@dataclass(frozen=True)
class _Found:
    chosen: tuple[int, ...]
    score: int
    bound: int
    proved: bool


def solve_cohort(
    problem: Problem,
    params: SelectionParams,
    *,
    rank: int = 1,
    earlier: Sequence[Sequence[int]] = (),
    fixed: Sequence[int] = (),
    time_limit: float | None = None,
) -> Cohort:
    """The best cohort, proved optimal within the time limit.

    Large caseloads are first solved on a seeded random pool of candidates; when the pool's
    best reaches `upper_bound` of the whole caseload it is proved optimal for the whole. If
    not, the whole caseload is solved, starting from the pool's cohort.

    Args:
        problem: candidates and rules.
        params: seed, time limit, workers, overlap limit.
        rank: the rank recorded on the cohort.
        earlier: better-ranked cohorts (candidate positions); at most `max_overlap` shared with each.
        fixed: candidate positions that must be in the cohort (replacement keeps them).
        time_limit: seconds this cohort may take (default: the run's whole limit).

    Raises:
        InfeasibleSelectionError: no cohort meets the rules (with the conflicting rules named).
        SolverError: the time limit came before any cohort was found.
    """
    started = time.perf_counter()
    limit = params.time_limit_s if time_limit is None else time_limit
    check_enough_candidates(problem, fixed)
    if len(fixed) == problem.rules.size - 1 and not earlier:
        return _fill_one_slot(problem, params, rank, fixed, started)
    if len(fixed) == problem.rules.size - 2 and not earlier:
        filled = _fill_two_slots(problem, params, rank, fixed, started)
        if filled is not None:
            return filled
    bound = upper_bound(problem)
    # A seeded pool first, then a wider one, before the whole caseload: with three members of a
    # 60,000-child cohort kept, 200 children at random held no cohort at the bound and the whole
    # caseload took 9 s; 1,000 held one, found in 0.08 s.
    for drawn in (POOL_RANDOM, POOL_RANDOM_WIDER):
        if problem.n <= params.pool_threshold:
            break
        positions = pool_positions(problem, params, rank, fixed, drawn)
        if len(positions) >= problem.n:
            break
        where = {int(p): i for i, p in enumerate(positions)}
        reached = _reach_bound(
            subset(problem, positions), params, rank, bound, limit,
            earlier=[[where[i] for i in c if i in where] for c in earlier],
            fixed=[where[i] for i in fixed],
        )
        if reached is not None:
            return _cohort(problem, rank, [int(positions[i]) for i in reached], bound, bound, True, started)
    remaining = limit - (time.perf_counter() - started)
    found = _optimise(problem, params, rank, earlier=earlier, fixed=fixed,
                      time_limit=max(remaining, MIN_SOLVE_S))
    if found is None:
        if earlier:
            raise _NoMoreCohorts()
        raise explain_infeasible(problem, params, fixed)
    return _cohort(problem, rank, found.chosen, found.score, found.bound, found.proved, started)


def tie_break_weights(params: SelectionParams, rank: int, n: int) -> np.ndarray:
    """The seeded random weight of each of n candidates that chooses among equally good cohorts
    (the same seed, rank and number of candidates: the same weights)."""
    return np.random.default_rng([params.seed, rank, n]).integers(1, RANDOM_WEIGHT_RANGE, size=n)


def _fill_one_slot(problem: Problem, params: SelectionParams, rank: int, fixed: Sequence[int],
                   started: float) -> Cohort:
    """With every member but one fixed (a family declined), the best cohort by checking every
    candidate in the free place at once (proved: each one is tried), the seeded random weights of
    the tie-break choosing among the best. At 60,000 children the search over the whole caseload
    this replaces took seconds whenever no filling reached the caseload's upper bound.

    Raises:
        InfeasibleSelectionError: no candidate completes the cohort under every rule.
    """
    breaks, scores = Fitter(problem, 0).swaps([list(fixed)], np.arange(problem.n))
    fits = np.flatnonzero(breaks[0] == 0)
    if not len(fits):
        raise explain_infeasible(problem, params, fixed)
    best = int(scores[0, fits].max())
    weights = tie_break_weights(params, rank, problem.n)
    tied = fits[scores[0, fits] == best]
    chosen = int(tied[np.argmax(weights[tied])])
    return _cohort(problem, rank, [*fixed, chosen], best, best, True, started)


def _fill_two_slots(problem: Problem, params: SelectionParams, rank: int, fixed: Sequence[int],
                    started: float) -> Cohort | None:
    """With every member but two fixed (two families declined), the best cohort by checking
    pairs of candidates: for each score from the most the pairs' gains allow downwards, only
    the pairs whose gains reach it (`fit.check_pairs`: the score is submodular, so no other
    pair can); the first score some pair reaches under every rule is proved the best. The
    seeded random weights of the tie-break choose among its pairs. None when the pairs to check
    grow past PAIR_CHECKS (the CP-SAT search then decides); at 60,000 children the search this
    replaces took 3 s, the pairs about half a million checks.

    Raises:
        InfeasibleSelectionError: no pair completes the cohort under every rule.
    """
    candidates = np.setdiff1d(np.arange(problem.n), fixed)
    if len(candidates) < 2:
        raise explain_infeasible(problem, params, fixed)
    fitter = Fitter(problem, 0)
    gain = gains(fitter, fixed, candidates)
    base = fitter.score(fixed)
    top = min(upper_bound(problem), base + int(np.sort(gain)[-2:].sum()))
    weights = tie_break_weights(params, rank, problem.n)
    checked = 0
    for score in range(top, -1, -1):
        checked += promising_pairs(gain, score - base)[1]
        if checked > PAIR_CHECKS:
            return None
        best: tuple[int, int, int] | None = None  # (weight, newcomer, partner)
        for chunk, partners, fits in check_pairs(fitter.at(score), fixed, candidates, gain, score - base):
            rows, columns = np.nonzero(fits)
            if len(rows):
                total = weights[chunk[rows]] + weights[partners[columns]]
                k = int(np.argmax(total))
                if best is None or int(total[k]) > best[0]:
                    best = (int(total[k]), int(chunk[rows[k]]), int(partners[columns[k]]))
        if best is not None:
            return _cohort(problem, rank, [*fixed, best[1], best[2]], score, score, True, started)
    raise explain_infeasible(problem, params, fixed)


def _reach_bound(pool: Problem, params: SelectionParams, rank: int, bound: int, time_limit: float, *,
                 earlier: Sequence[Sequence[int]], fixed: Sequence[int]) -> tuple[int, ...] | None:
    """A cohort of the pool scoring `bound`, chosen by seeded random weights among all such
    cohorts of the pool (one solve: the score is known, only the choice is left); None when
    the pool has none within the tie-break's work limit."""
    m = CohortModel(pool, earlier=earlier, fixed=fixed, max_overlap=params.max_overlap)
    m.model.add(m.score >= bound)
    weights = tie_break_weights(params, rank, pool.n)
    m.model.maximize(sum(int(w) * x for w, x in zip(weights, m.x, strict=True)))
    solver = make_solver(params, time_limit)
    solver.parameters.max_deterministic_time = TIE_BREAK_DETERMINISTIC_TIME
    if solver.solve(m.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return tuple(i for i in range(pool.n) if solver.boolean_value(m.x[i]))
    return None


def _cohort(problem: Problem, rank: int, chosen: Sequence[int], score: int, bound: int,
            proved: bool, started: float) -> Cohort:
    return Cohort(
        rank=rank,
        members=tuple(str(problem.child_ids[i]) for i in sorted(chosen)),
        score=score,
        status=OPTIMAL if proved else FEASIBLE,
        bound=score if proved else bound,
        seconds=round(time.perf_counter() - started, 3),
    )


def _optimise(problem: Problem, params: SelectionParams, rank: int, *, earlier: Sequence[Sequence[int]],
              fixed: Sequence[int], time_limit: float) -> _Found | None:
    """Best score, then a seeded tie-break among the cohorts reaching it; None if infeasible.

    Raises:
        SolverError: the time limit came before any cohort was found.
    """
    m = CohortModel(problem, earlier=earlier, fixed=fixed, max_overlap=params.max_overlap)
    m.model.maximize(m.score)

    started = time.perf_counter()
    solver = make_solver(params, time_limit)
    status = solver.solve(m.model)
    if status == cp_model.INFEASIBLE:
        return None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(
            f"no cohort was found before the time limit ran out (this search had {time_limit:.2g} s of the run's "
            f"{params.time_limit_s:g} s; solver status {solver.status_name(status)}).",
            "no_solution", fix="Allow more time.",
        )
    best = round(solver.objective_value)
    bound = round(solver.best_objective_bound)
    chosen = [i for i in range(problem.n) if solver.boolean_value(m.x[i])]

    # Tie-break: hold the score at its optimum and let seeded random weights choose among
    # the equally good cohorts. The cohort from the first step is a valid start.
    m.model.add(m.score >= best)
    weights = tie_break_weights(params, rank, problem.n)
    m.model.maximize(sum(int(w) * x for w, x in zip(weights, m.x, strict=True)))
    _hint(m, chosen)
    tie = make_solver(params, max(time_limit - (time.perf_counter() - started), 0.1))
    tie.parameters.max_deterministic_time = TIE_BREAK_DETERMINISTIC_TIME
    tie_status = tie.solve(m.model)
    if tie_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [i for i in range(problem.n) if tie.boolean_value(m.x[i])]
    return _Found(tuple(chosen), best, bound, status == cp_model.OPTIMAL)


def _hint(m: CohortModel, chosen: Sequence[int]) -> None:
    m.model.clear_hints()  # type: ignore[no-untyped-call]
    selected = np.zeros(m.problem.n, dtype=bool)
    selected[list(chosen)] = True
    for x, value in zip(m.x, selected.tolist(), strict=True):
        m.model.add_hint(x, value)


class _NoMoreCohorts(Exception):
    """No further cohort exists under the overlap limit (not an error for ranked sets)."""


def solve(problem: Problem, params: SelectionParams, fixed_ids: Sequence[str] = (),
          progress: Callable[[str], None] | None = None, budget: Budget | None = None,
          known: Mapping[str, StoredLottery] | None = None, ranked: bool = True, draw: bool = True) -> Solution:
    """Ranked cohorts and cohort 1's reserves.

    Args:
        problem: the candidates and rules (`build_problem`).
        params: search parameters.
        fixed_ids: children who must stay in cohort 1 (a replacement keeps them).
        progress: called with a short description before each step; it may raise to stop
            the run between steps (the web page's Cancel does so).
        budget: the run's time, shared out between its solves (default: `params.time_limit_s`
            from now). Cohort 1 may use most of it; the alternatives share the rest, and those
            the time does not reach are left out, with a note saying so.
        known: lotteries worked out before, by key: one for this problem is used again
            (`lottery.draw_first`); the solution's lottery holds the one drawn from, to keep.
        ranked: find the alternatives after cohort 1 (False: cohort 1 and its reserves only,
            its time share as when they are asked for; a replacement finds them after its draw).
        draw: draw cohort 1 from the lottery (False: the search's cohort 1 and no lottery; a
            replacement draws its newcomers from its own lottery, even when every family declined).

    Raises:
        InfeasibleSelectionError: the rules cannot be met (and `relax` is off, or cannot help).
        SolverError: no cohort found within the time limit.
    """
    step = _teller(progress)
    budget = budget or Budget(params.time_limit_s)
    positions = _positions_of(problem)
    fixed = positions(fixed_ids) if fixed_ids else []
    first_share = FIRST_COHORT_SHARE if params.sets > 1 else 1.0
    step(f"cohort 1 of {params.sets}")
    try:
        first = solve_cohort(problem, params, rank=1, fixed=fixed, time_limit=budget.share(1, first_share))
    except InfeasibleSelectionError:
        if not params.relax:
            raise
        problem = without_rules(problem, rules_to_relax(problem, params, fixed))
        first = solve_cohort(problem, params, rank=1, fixed=fixed, time_limit=budget.share(1, first_share))

    notes = []
    if first.status != OPTIMAL:
        notes.append(f"the time limit of {params.time_limit_s:g} s ran out before cohort 1 was proved best: it "
                     f"scores {first.score}, and no cohort scores more than {first.bound}")
    lottery = None
    if draw and not fixed:
        step("the lottery")
        # The alternatives are drawn from the lottery too when its cohorts have the proven
        # optimum: each then has the best score under the overlap limit, with no search.
        lottery = draw_first(problem, params, first.score, budget.left() * LOTTERY_SHARE,
                             fallback=positions(first.members), progress=progress, known=known,
                             alternatives=params.sets - 1 if first.status == OPTIMAL else 0)
        first = replace(first, members=lottery.drawn, score=lottery.drawn_score,
                        status=first.status if lottery.drawn_score == first.score else FEASIBLE,
                        seconds=round(first.seconds + lottery.seconds, 3))
        notes += lottery_notes(lottery)
    drawn = [] if lottery is None else [
        Cohort(rank=rank, members=members, score=first.score, status=OPTIMAL, bound=first.score, seconds=0.0)
        for rank, members in enumerate(lottery.alternatives, start=2)]
    cohorts, no_more = (_ranked(problem, params, [first, *drawn], budget, positions, step, notes) if ranked
                        else ([first], False))
    step("reserves")
    reserves = find_reserves(problem, first.members, params)
    return Solution(
        cohorts=tuple(cohorts),
        reserves=reserves,
        rules=problem.rules,
        # What the rules record as dropped, not only what this search dropped: a run redone
        # from a relaxed run's rules (verify, replace) has nothing left to drop.
        dropped=problem.rules.dropped,
        params=params,
        candidates=problem.n,
        solver={**solver_record(params), "seconds_spent": round(budget.spent(), 3)},
        notes=tuple(notes),
        lottery=lottery,
        no_more_cohorts=no_more,
    )


def _teller(progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """Tell `progress` of each step (when there is one to tell)."""
    return progress if progress is not None else (lambda _text: None)


def _positions_of(problem: Problem) -> Callable[[Sequence[str]], list[int]]:
    """Child ids to their candidate positions (-1: not a candidate), through a hash table built
    once, not a dict of a million ids."""
    index = pd.Index(problem.child_ids)
    return lambda ids: [int(i) for i in index.get_indexer(list(ids))]


def _ranked(problem: Problem, params: SelectionParams, drawn: list[Cohort], budget: Budget,
            positions: Callable[[Sequence[str]], list[int]], step: Callable[[str], None], notes: list[str]
            ) -> tuple[list[Cohort], bool]:
    """Cohort 1 and the ranked alternatives after it, each sharing at most `max_overlap` children
    with every better-ranked one: those drawn from the lottery (`drawn`, cohort 1 first), then
    as many more found by search as the time allows (a note says what it cut short); and
    whether the search proved that no more exist."""
    cohorts = list(drawn)
    earlier = [positions(c.members) for c in cohorts]
    for rank in range(len(cohorts) + 1, params.sets + 1):
        if budget.exhausted():
            notes.append(f"the time limit of {params.time_limit_s:g} s was spent after {len(cohorts)} of the "
                         f"{params.sets} ranked cohorts asked for; the others were not searched")
            break
        step(f"cohort {rank} of {params.sets}")
        try:
            cohort = solve_cohort(problem, params, rank=rank, earlier=earlier,
                                  time_limit=budget.share(params.sets - rank + 1))
        except (_NoMoreCohorts, InfeasibleSelectionError):
            return cohorts, True
        except SolverError:  # an alternative the time did not reach is left out, not an error
            notes.append(f"the time limit of {params.time_limit_s:g} s ran out while searching for cohort {rank}; "
                         f"{len(cohorts)} of the {params.sets} ranked cohorts asked for were found")
            break
        cohorts.append(cohort)
        earlier.append(positions(cohort.members))
    return cohorts, False


def lottery_notes(lottery: Chances) -> list[str]:
    """What the lottery's work or time cut short, in words."""
    notes = []
    if not lottery.proved:
        again = "" if lottery.reproducible else ", and another run may give other chances"
        notes.append(f"{lottery.stopped} before it was proved the fairest possible: cohort 1 was drawn from the "
                     f"fairest lottery found (every chance shown is exact for it){again}")
    if not lottery.complete:
        notes.append(f"not every child who could be in a best cohort was found ({INCOMPLETE_WHY}): children not "
                     "found have no chance in this lottery")
    if not lottery.reproducible and lottery.proved:
        notes.append("the time limit, not the lottery's work, ended its search, so another run may give other "
                     "chances")
    return notes


def solve_replacement(problem: Problem, params: SelectionParams, cohort: Sequence[str],
                      declined: Sequence[str], progress: Callable[[str], None] | None = None,
                      preferred: Sequence[str] = (), left_out: Sequence[str] = ()) -> Solution:
    """Cohort 1 with the declined children replaced: the others stay in their slots and the
    freed slots are filled by a draw (the run's seed) from the fairest lottery over the best
    ways to fill them under every rule (lottery/refill.py); alternatives and reserves are
    refreshed, and the solution's lottery gives every candidate's chance of coming in.

    Args:
        problem: the candidates and rules of the original run (the declined are left out here).
        params: the original run's parameters.
        cohort: the original cohort 1, in slot order.
        declined: members of `cohort` whose families declined or could not be reached.
        preferred: for one freed slot, its reserves in call order: the first who can take it
            with the best score comes in (the reserves were drawn from those children by the
            same seed), so that the family asked is the one offered.
        left_out: children who said no earlier (not in `problem`), listed with no chance.
    """
    gone = set(declined)
    kept = [c for c in cohort if c not in gone]
    remaining = excluding(problem, gone)
    budget = Budget(params.time_limit_s)
    # The alternatives come after the draw: they must share few children with cohort 1 as it
    # ends, newcomers included (found before it, one could hold a newcomer the draw brought in).
    # No lottery of the selection's own here, even with every member declined (nobody kept): the
    # refill's lottery below is the one the newcomers are drawn from.
    solution = solve(remaining, params, fixed_ids=kept, progress=progress, budget=budget, ranked=False, draw=False)
    # When relaxing is allowed, the search may have dropped rules that the members who stay cannot meet
    # without the declined: the fillings are drawn, ranked and checked under the same rules.
    remaining = without_rules(remaining, solution.dropped)  # those dropped before are no longer there
    first = solution.cohorts[0]
    if progress is not None:
        progress("the lottery over the ways to fill the freed slots")
    positions = _positions_of(remaining)
    offered = [i for i in positions(preferred) if i >= 0]  # reserves still among the candidates
    lottery = draw_refill(remaining, params, positions(kept), first.score, offered,
                          fallback=positions(first.members),
                          time_limit=max(budget.left(), 1.0), left_out=[*left_out, *declined])
    newcomers = iter(c for c in lottery.drawn if c not in set(kept))
    # Each newcomer takes a freed slot, so that kept children keep their slot numbers.
    ordered = tuple(c if c not in gone else next(newcomers) for c in cohort)
    first = replace(first, members=ordered, score=lottery.drawn_score,
                    status=first.status if lottery.drawn_score == first.score else FEASIBLE,
                    seconds=round(first.seconds + lottery.seconds, 3))
    notes = [*solution.notes, *lottery_notes(lottery)]
    cohorts, no_more = _ranked(remaining, params, [first], budget, positions, _teller(progress), notes)
    return replace(solution, cohorts=tuple(cohorts), reserves=find_reserves(remaining, ordered, params),
                   lottery=lottery, notes=tuple(notes), no_more_cohorts=no_more)
