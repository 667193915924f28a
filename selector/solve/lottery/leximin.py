"""The leximin loop: over the columns found, the master LP raises the smallest chance of every
type not yet fixed as far as it can, pricing adds every cohort that could raise it further, and
the types whose rows bind are fixed at that level; then the next level, until every type is
fixed (Flanigan, Goelz, Gupta, Hennig and Procaccia, "Fair algorithms for selecting citizens'
assemblies", Nature 596, 2021, and its leximin algorithm as sortition-algorithms implements it).

A level is fixed only when pricing proves that no cohort can raise it (pricing.py), so the
levels fixed are the leximin's. When the work runs out first, every type keeps the level
reached and the largest chance is made as small as it can be (`Master.spread`; first, columns
without the most-drawn children for those found only beside them: freeing.py): the chances are
exact for the lottery used, and `proved` says it is not yet the fairest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from ...contract.errors import SolverError
from ..master import Master
from ..problem import Problem, subset
from ..settings import SelectionParams
from ..templates import Column
from .bound import maximin_bound
from .budget import LP_WORK, SPREAD_BEYOND, SPREAD_SHARE, Meter, OutOfWork
from .discovery import find_every_child
from .findings import Findings
from .freeing import FREE_LPS, PREDICTABLE, free_most_drawn
from .listing import LIST_CHILDREN, every_cohort
from .pricing import Enumerated, Pricing
from .result import TOLERANCE, Lottery

# A type is fixed at a level when its row's dual is above this (smaller duals are the LP's noise).
DUAL_TOLERANCE = 1e-6


def fair_lottery(problem: Problem, params: SelectionParams, optimum: int, time_limit: float = 600.0,
                 fallback: Sequence[int] = (), pricing: type[Pricing] = Pricing,
                 progress: Callable[[str], None] | None = None,
                 cohorts: Sequence[Sequence[int]] | None = None, listing: int = LIST_CHILDREN) -> Lottery:
    """The leximin lottery over the cohorts scoring at least `optimum` less `params.slack`%.
    With slack, the lottery without it is worked out first and its columns start this one
    (`_with_slack`).

    Args:
        problem: candidates and rules.
        params: the run's parameters: the slack (cohorts within this percentage of the optimum
            join the lottery) and the lottery's work (machine-independent units, about a second
            each on a laptop; the lottery found by then is used, not proved fairest).
        optimum: the proven best score.
        time_limit: wall seconds, a last resort (the lottery is then not reproducible).
        fallback: a cohort reaching the score, used only when the time limit comes before any
            other is found (the lottery is then that cohort, its children's types drawn evenly).
        pricing: how new cohorts are found; another pricing (one that stops at its first cohort,
            say) changes how fast the lottery is found, never the lottery.
        progress: told, in words, how far the lottery has got (children found, the bound, the
            smallest chance as it rises); it may raise to stop the run.
        cohorts: every cohort of the lottery (positions), when they are known (the best
            fillings of two free places): they are its columns, nothing is searched for, and
            each level the LP reaches over them is proved.
        listing: when discovery finds at most this many children who can be drawn, every cohort
            is listed (listing.py) and the lottery is worked out over the list as over `cohorts`
            (0: never; column generation then, as for larger caseloads).

    Raises:
        SolverError: no cohort reaches the score, or none was found in time.
    """
    if params.slack > 0 and cohorts is None:
        return _with_slack(problem, params, optimum, time_limit, fallback, pricing, progress, listing)
    return _over(problem, params, optimum, time_limit, fallback, pricing, progress, cohorts, listing)


def _with_slack(problem: Problem, params: SelectionParams, optimum: int, time_limit: float,
                fallback: Sequence[int], pricing: type[Pricing], progress: Callable[[str], None] | None,
                listing: int) -> Lottery:
    """The lottery with slack, its columns at first those of the lottery without it (which gets
    half the time limit) and then what discovery and pricing add. Every best cohort is a cohort
    of the lottery with slack, so the lottery without it is one of its lotteries: started from
    its columns, the first LP already gives every child at least the smallest chance it gives
    (when no child is drawable only with slack) and spreading starts from its largest. Started
    from discovery's columns alone, most shared a few children (a wide slack lets nearly every
    child into one cohort less one member): on the sample, 97% for four children at a slack of
    99.9%, and smaller smallest chances than without slack at 20%."""
    started = time.perf_counter()
    # Its progress told as its own (at cohorts of 4 or 5 its search for every child takes seconds).
    told = None if progress is None else (
        lambda text: progress(text.replace("the lottery:", "the lottery without the slack, to start from:", 1)))
    try:
        plain: Lottery | None = _over(problem, replace(params, slack=0.0), optimum, time_limit / 2, fallback,
                                      pricing, told, None, listing)
    except SolverError:  # no time left to find any cohort of the best score
        plain = None
    left = time_limit - (time.perf_counter() - started)
    lottery = _over(problem, params, optimum, left, fallback, pricing, progress, None, listing,
                    seeds=plain.columns if plain is not None else ())
    return replace(lottery, reproducible=lottery.reproducible and plain is not None and plain.reproducible,
                   # else not every child was placed without the slack: no fair comparison
                   largest_without_slack=float(plain.chances.max()) if plain is not None and plain.complete else None)


def _over(problem: Problem, params: SelectionParams, optimum: int, time_limit: float, fallback: Sequence[int],
          pricing: type[Pricing], progress: Callable[[str], None] | None,
          cohorts: Sequence[Sequence[int]] | None, listing: int, seeds: Sequence[Column] = ()) -> Lottery:
    """`fair_lottery` as asked (the slack taken as the threshold only), its columns starting with
    `seeds`: another lottery's columns over these candidates (row positions), each of whose
    draws is a cohort of this one."""
    threshold = int(np.ceil(optimum * (1 - params.slack / 100) - 1e-9))
    order = np.argsort(problem.child_ids.astype(str), kind="stable")  # row order changes nothing
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    findings = Findings(subset(problem, order), threshold, Meter(params.lottery_work, time.perf_counter() + time_limit))
    told = Progress(progress, problem.n)
    # One worker, and the solver's own seed fixed: the lottery is the same for every seed and
    # machine (the run's seed only draws from it).
    if cohorts is not None:
        prices: Pricing = Enumerated(findings, params)
        _take_every_cohort(findings, [[int(back[i]) for i in c] for c in cohorts])
        complete = True
        listed = True
    else:
        prices = pricing(findings, replace(params, workers=1, seed=0))
        _take_seeds(findings, seeds, back)
        complete = find_every_child(findings, prices, [int(back[i]) for i in fallback],  # in child-id order
                                    searching=told.searching)
        every = every_cohort(findings, params, listing) if complete else None
        listed = every is not None
        if every is not None:  # few children can be drawn: every cohort is a column, each level proved
            findings = Findings(findings.problem, threshold, findings.meter)
            prices = Enumerated(findings, params)
            _take_every_cohort(findings, every)
            told.listed(len(findings.columns))
    found = _leximin(findings, prices, complete, told, first_level_counted=not listed)
    # The pools keep the canonical order (child-id order), which the draw follows.
    columns = tuple(Column(tuple(tuple(np.sort(order[np.asarray(pool, dtype=np.int64)]).tolist())
                                 for pool in column.pools)) for column in found.columns)
    return replace(found, columns=columns, type_of=found.type_of[back], chances=found.chances[back], rank=back)


def _take_seeds(findings: Findings, columns: Sequence[Column], back: np.ndarray) -> None:
    """Columns of another lottery (row positions; `back` gives each one's canonical position)
    taken as they are, before discovery and whatever they cost (as discovery's). Each pool of
    one is a union of this lottery's types: types with slack tell apart at least the children
    that types without it do (kinds.py), so a child's type-mates share its pool and its chance."""
    findings.meter.counting = False
    for seed in columns:
        column = Column(tuple(sorted(tuple(sorted(int(back[i]) for i in pool)) for pool in seed.pools)))
        findings.add_column(column, tuple(sorted(c for pool, k in column.picks() for c in pool[:k])))
    findings.meter.counting = True


def _take_every_cohort(findings: Findings, cohorts: Sequence[Sequence[int]]) -> None:
    """Every cohort of the lottery as a column (one per set of types: children of a type are
    alike, so the others give the same column).

    Raises:
        SolverError: none was given.
    """
    if not cohorts:
        raise SolverError("no cohort reaches the score the lottery needs.", "lottery_empty")
    findings.meter.counting = False  # like discovery: every cohort is taken, whatever it costs
    # One cohort per set of types, in the order of those sets (each type named by its first
    # child in child-id order), so that neither the row order nor which of alike cohorts was
    # given changes the columns or their order.
    by_types: dict[tuple[int, ...], tuple[int, ...]] = {}
    for cohort in cohorts:
        kinds = tuple(sorted(findings.first_member[findings.type_of[list(cohort)]].tolist()))
        by_types.setdefault(kinds, tuple(sorted(int(c) for c in cohort)))
    for kinds in sorted(by_types):
        findings.add(by_types[kinds], template=False)
    findings.meter.counting = True


class Progress:
    """What the terminal (or the page) is told while the lottery works: the children who can be
    drawn, the bound, and the smallest chance each time it has risen by a tenth."""

    RISE = 1.1
    # While searching for the children not yet in a cohort: said again when this share of the
    # candidates more (and at least FOUND_LEAST) has been found; at 12,400 rows and cohorts of 5,
    # a line every few seconds where there was none for half a minute.
    FOUND_STEP, FOUND_LEAST = 0.01, 10

    def __init__(self, tell: Callable[[str], None] | None, n: int) -> None:
        self.tell, self.n, self.shown, self.bound = tell, n, 0.0, 0.0
        self.told_found = -1

    def searching(self, found: int, left: int) -> None:
        step = max(self.FOUND_STEP * self.n, self.FOUND_LEAST)
        if self.tell is not None and (self.told_found < 0 or found - self.told_found >= step):
            self.told_found = found
            self.tell(f"the lottery: {found} of {self.n} children found in a best cohort so far; searching for "
                      f"the other {left} (some may be in none)")

    def listed(self, cohorts: int) -> None:
        if self.tell is not None:
            self.tell(f"the lottery: every best cohort listed ({cohorts}, one for each set of children alike), "
                      "so every level will be proved")

    def found(self, possible: int, bound: float) -> None:
        self.bound = bound
        if self.tell is not None:
            self.tell(f"the lottery: {possible} of {self.n} children can be drawn; no lottery can give every one "
                      f"more than {bound:.4%}")

    def level(self, smallest: float) -> None:
        if self.tell is not None and smallest > max(self.shown * self.RISE, 0.0) and self.bound > 0:
            self.shown = smallest
            self.tell(f"the lottery: every child who can be drawn has at least {smallest:.4%} "
                      f"({min(smallest / self.bound, 1.0):.0%} of the bound)")


def _leximin(findings: Findings, pricing: Pricing, complete: bool, progress: Progress | None = None,
             first_level_counted: bool = True) -> Lottery:
    """The levels, one by one, over the columns found (and those pricing adds), within the work.
    Unless `first_level_counted`, the first level is solved whatever its LP costs (every cohort
    is a column already, so that LP is the whole of it), and the work counts from the second."""
    progress = progress or Progress(None, findings.problem.n)
    meter = findings.meter
    # Kept for spreading, should the levels not finish (with every cohort a column already, the
    # levels themselves: each costs one LP, and the last one proves the lottery the fairest).
    meter.reserve = (min(meter.work, 1.0) * SPREAD_SHARE + max(meter.work - 1.0, 0.0) * SPREAD_BEYOND
                     if first_level_counted else 0.0)
    master = Master(np.flatnonzero(findings.seen), findings.sizes, findings.columns, findings.type_of)
    levels, proved, floor, first_level = 0, complete, None, None
    possible = findings.seen[findings.type_of]
    # The bound first (it needs only who can be drawn), so that the progress can be told against it.
    bound = maximin_bound(findings.fitter, possible)
    progress.found(int(possible.sum()), bound)
    meter.counting = first_level_counted
    probabilities = _solve(findings, master)[1]
    try:
        while master.unfixed():
            value, probabilities, duals = _improve(findings, pricing, master, progress if levels == 0 else None)
            levels += 1
            meter.counting = True
            if levels == 1 and complete:  # proved: no lottery gives every child more than this
                first_level = pricing.level_bound(value, master.per_child(duals)[findings.type_of])
            binding = [g for g in master.unfixed() if duals[g] > DUAL_TOLERANCE]
            if not binding:  # degenerate duals: fix whoever sits at the level
                chance = findings.chances(probabilities, findings.columns)
                first = master.first_types()
                binding = [g for g in master.unfixed()
                           if chance[findings.members_of[first[g]][0]] <= value + TOLERANCE]
            for g in binding:
                master.fix(g, value)
    except OutOfWork:
        meter.counting = True
        proved = False
        _trim(findings, master)
        floor = master.spread()
        probabilities = _spread(findings, pricing, master)
    weights = np.array(probabilities)
    keep = np.flatnonzero(weights > TOLERANCE)
    kept = weights[keep] / weights[keep].sum()
    columns = tuple(findings.columns[k] for k in keep)
    chances = findings.chances(kept, columns)
    if not np.array_equal(chances > TOLERANCE, possible):  # the time limit cut discovery short
        bound = maximin_bound(findings.fitter, chances > TOLERANCE)
    return Lottery(columns, tuple(float(w) for w in kept), findings.type_of, chances,
                   findings.threshold, levels, proved, complete, reproducible=not meter.by_clock,
                   spread_floor=floor, bound=min(bound, first_level) if first_level is not None else bound)


def _improve(findings: Findings, pricing: Pricing, master: Master, progress: Progress | None = None
             ) -> tuple[float, list[float], np.ndarray]:
    """The master LP with every cohort that could improve it added (for a level, or when
    spreading, for the largest chance), and its answer then (the first level's rise told to
    `progress`)."""
    while True:
        findings.meter.check()
        value, probabilities, duals = _solve(findings, master)
        if progress is not None:
            progress.level(value)
        weights = master.per_child(duals)[findings.type_of]
        # What a cohort must be worth under the duals to improve the LP: the worth of the
        # columns the LP uses (their reduced cost is 0), whatever the solver's sign convention.
        price = findings.columns[int(np.argmax(probabilities))].worth(weights)
        if not master.spreading:
            # First every cohort one swap from those the LP uses that could raise the level
            # (thousands at once, the LP then built afresh), and only when there is none the
            # search for one cohort (swaps, then CP-SAT, which alone can prove there is none).
            used = [findings.cohort_of[findings.columns[j]] for j in np.flatnonzero(np.array(probabilities) > TOLERANCE)]
            near = pricing.neighbours(weights, price, list(dict.fromkeys(used)))
            if near:
                for cohort in near:
                    findings.add(cohort, template=False)
                master.extend(findings.columns, findings.type_of)
                continue
        found = pricing.by_swaps(weights, price) or pricing.proved(weights, price)
        if not found:
            return value, probabilities, duals
        for cohort in found:
            for column in findings.add(cohort):
                master.add(column, findings.type_of)


def _trim(findings: Findings, master: Master) -> None:
    """Before spreading: of the columns added in bulk, only those the level's LP uses (tens of
    thousands of columns make spreading's LP slow, and the level needs only these)."""
    if not findings.bulk:
        return
    # Any weight at all counts as used: many columns each below the tolerance on chances can
    # hold a fixed level between them, and without them spreading's LP has no solution.
    used = np.array(master.solve()[1]) > 0.0
    findings.keep([c for c, u in zip(findings.columns, used, strict=True) if u or c not in findings.bulk])
    master.extend(findings.columns, findings.type_of)


def _spread(findings: Findings, pricing: Pricing, master: Master) -> list[float]:
    """When the work runs out before every level is fixed (the master spreading): every type
    keeps at least the level reached, and the largest chance is made as small as it can be (so
    that no child stands out) over every cohort of the lottery, not only those found: cohorts
    are priced from the duals as for a level (a child at the largest chance weighs against a
    cohort), within the work kept for it. Each column's probability."""
    findings.meter.reserve = 0.0
    try:
        # First columns without the most-drawn children for those found only beside them
        # (freeing.py): without them no pricing of single cohorts moves those children's weight.
        # When the work left is FREE_LPS times what this first solve cost (the freeing, and one
        # more solve with its columns, which is made whatever the work left). Otherwise still for
        # the types whose chance is PREDICTABLE or more, to its end whatever the work left (its
        # size is bounded: at most three types, 256 cohorts; its checks still counted), when
        # those two would fit in the whole work: at 60,000 rows the first level's swaps had spent
        # the work, and one child kept 39.6% (19.9% with the freeing); across 60 localities, a
        # solve of 60,000 rows costs 4 units, and the one after the freeing took 17 s.
        before, used = len(findings.columns), findings.meter.used
        probabilities = _solve(findings, master)[1]
        solve = findings.meter.used - used
        try:
            chances = findings.chances(probabilities, findings.columns)
            if findings.meter.work_left() > FREE_LPS * solve:
                free_most_drawn(findings, chances)
            elif chances.max() >= PREDICTABLE and FREE_LPS * solve <= findings.meter.work:
                findings.meter.uncut = True
                free_most_drawn(findings, chances, least=PREDICTABLE)
        finally:
            findings.meter.uncut = False
            for column in findings.columns[before:]:
                master.add(column, findings.type_of)
        return _improve(findings, pricing, master)[1]
    except OutOfWork:  # the LP over every column found so far
        return _solve(findings, master)[1]


def _solve(findings: Findings, master: Master) -> tuple[float, list[float], np.ndarray]:
    answer = master.solve()
    findings.meter.spend(master.solver.iterations() * (len(master.rows) + len(master.x)) * LP_WORK)
    return answer
