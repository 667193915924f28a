"""The draw: cohort 1 chosen by the run's seed from the lottery (a column by its weight, then one
child of each of its pools uniformly), and the lottery with the cohort drawn as the outputs give
them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ...contract.errors import SolverError
from ..fit import Fitter
from ..problem import Problem
from ..settings import SelectionParams
from .leximin import fair_lottery
from .result import Chances, Lottery


def draw_first(problem: Problem, params: SelectionParams, optimum: int, time_limit: float,
               fallback: Sequence[int] = (), progress: Callable[[str], None] | None = None) -> Chances:
    """Cohort 1 drawn by the run's seed from the fairest lottery over the cohorts scoring at
    least the optimum less the slack. With slack, the lottery without it is worked out next, in
    the time left, so that the outputs can say what the slack changed (the lottery drawn from
    comes first: it must not be cut short for a comparison)."""
    started = time.perf_counter()
    deadline = started + time_limit
    # Cohort 1's search is only a fallback: the cohort it found depends on the order of the rows.
    lottery = fair_lottery(problem, params, optimum, time_limit, fallback=fallback, progress=progress)
    largest_without_slack = None
    if params.slack > 0 and deadline - time.perf_counter() > 0:
        try:
            plain = fair_lottery(problem, replace(params, slack=0.0), optimum, deadline - time.perf_counter(),
                                 fallback=fallback)
        except SolverError:  # no time left to find any cohort of the best score
            plain = None
        if plain is not None and plain.complete:  # else not every child was placed: no fair comparison
            largest_without_slack = float(plain.chances.max())
    return chances_of(problem, lottery, optimum, params, draw(lottery, params.seed), largest_without_slack,
                      round(time.perf_counter() - started, 3))


def chances_of(problem: Problem, lottery: Lottery, optimum: int, params: SelectionParams, drawn: Sequence[int],
               largest_without_slack: float | None = None, seconds: float = 0.0) -> Chances:
    """A lottery and the cohort drawn from it, as the outputs give them (children in child-id order)."""
    order = np.argsort(lottery.rank, kind="stable") if lottery.rank is not None else np.arange(problem.n)
    return Chances(
        child_ids=tuple(str(problem.child_ids[i]) for i in order),
        chances=tuple(float(lottery.chances[i]) for i in order),
        types=tuple(int(lottery.type_of[i]) for i in order),  # numbered in child-id order
        optimum=optimum, threshold=lottery.threshold, slack_percent=params.slack,
        drawn=tuple(str(problem.child_ids[i]) for i in drawn),
        drawn_score=Fitter(problem, 0).score(drawn),
        proved=lottery.proved, complete=lottery.complete, reproducible=lottery.reproducible,
        levels=lottery.levels, columns=len(lottery.columns), largest_without_slack=largest_without_slack,
        seconds=seconds, bound=lottery.bound)


def draw(lottery: Lottery, seed: int) -> tuple[int, ...]:
    """One cohort of the lottery for a seed: a column by its weight, then from each of its pools
    uniformly (children in child-id order, so the order of the rows changes nothing)."""
    rng = np.random.default_rng([seed, 7919])
    column = lottery.columns[int(rng.choice(len(lottery.columns), p=np.array(lottery.weights)))]
    chosen: list[int] = []
    for pool, need in column.picks():
        members = np.array(pool)
        if lottery.rank is not None:
            members = members[np.argsort(lottery.rank[members])]
        chosen += [int(i) for i in rng.choice(members, size=need, replace=False)]
    return tuple(sorted(chosen))
