"""Pricing: new cohorts worth more, under the master LP's dual weights, than the columns the LP
uses, or a proof that there is none.

For dual weights w (one per child, from the master LP's rows: master.py), a cohort C is worth
w(C) = sum of w_i over its children; the LP can improve only by a cohort with w(C) > price, the
worth of the columns it uses. Swaps find such cohorts cheaply (numpy checks every candidate of a
slot at once): while a level rises, every cohort one swap from those the LP uses that is worth
more (thousands a round, when the work left pays for a whole round), then a hill-climb from the
best known cohorts; CP-SAT finds one, or proves there is none, over the whole caseload. Only a proof ends
a level: a pricing that stops at its first cohort, or finds none by swaps, changes how fast the
lottery is found, never the lottery.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
from ortools.sat.python import cp_model

from ..constraints import CohortModel, add_never_twice
from ..fit import rests_of
from ..problem import Problem, subset
from ..settings import SelectionParams, make_solver
from .budget import PRICING_DETERMINISTIC_TIME, OutOfWork
from .findings import Findings
from .kinds import apart
from .result import TOLERANCE

WEIGHT_SCALE = 10**9  # duals to CP-SAT's whole-number weights
# The smallest gain in a cohort's worth that pricing counts (above GLOP's optimality tolerance).
PRICING_GAIN = 1e-6
# CP-SAT work for one pricing's short search, which usually finds a cohort (the longer one, which
# proves there is none, is budget.PRICING_DETERMINISTIC_TIME).
QUICK_DETERMINISTIC_TIME = 0.2
SWAP_STARTS = 16  # known cohorts a swap search starts from, best first
POOL_PER_VALUE = 5  # holders of each value in a pricing pool
POOL_SAMPLE, POOL_SEED = 200, 2021  # children drawn into a second pool, when the first holds no cohort
POOL_SHARE = 0.5  # a pool holding more of the caseload than this is not searched before the whole of it
FIRST_POOL_PER_VALUE = 20  # holders of each value in the second pool of the lottery's first cohort
FIRST_POOLS = ((0, POOL_PER_VALUE), (0, FIRST_POOL_PER_VALUE))  # the first cohort's pools: (sample, per value)
NEIGHBOURS_PER_PLACE = 8  # cohorts one swap away that a cohort's place gives at most, the heaviest
NEIGHBOUR_CELLS = 4_000_000  # rests x candidates weighed at once
NEIGHBOUR_TYPES = 256  # the heaviest types a round of neighbours brings in


class Collector(cp_model.CpSolverSolutionCallback):
    """Every cohort a CP-SAT search finds on its way (each is a column for the LP); with
    `first_only`, the search stops at the first (pricing must still prove the lottery)."""

    def __init__(self, x: list[cp_model.IntVar], first_only: bool = False) -> None:
        super().__init__()
        self.x = x
        self.first_only = first_only
        self.found: list[tuple[int, ...]] = []

    def on_solution_callback(self) -> None:
        self.found.append(tuple(i for i, v in enumerate(self.x) if self.boolean_value(v)))
        if self.first_only:
            self.stop_search()


class Pricing:
    """The pricing of one lottery's column generation.

    Args:
        findings: what has been found (its cohorts start the swaps; a cohort found is not new).
        params: CP-SAT's seed and workers.
    """

    def __init__(self, findings: Findings, params: SelectionParams) -> None:
        self.findings, self.params = findings, params
        self.pool_found = False  # whether the last `exact` search was answered by a pool

    def level_bound(self, level: float, weights: np.ndarray) -> float:
        """What no lottery can give every child more than, once pricing has proved no cohort
        raises `level` (weights: the LP's duals per child): the level and the tolerance within
        which pricing's proof holds."""
        return level + TOLERANCE

    def collector(self, x: list[cp_model.IntVar]) -> Collector:
        """What collects the cohorts a CP-SAT search passes (a subclass may stop it sooner)."""
        return Collector(x)

    def neighbours(self, weights: np.ndarray, price: float, starts: Sequence[tuple[int, ...]]
                   ) -> list[tuple[int, ...]]:
        """New cohorts one swap away from `starts` (the cohorts the LP uses) that are worth more
        than `price`: in each place, the heaviest children of the heaviest weighted types that
        fit there (a few per place). Thousands a round, where one hill-climb finds one: the level
        rises as fast as new children find their way into the LP, a few per cohort. None when
        the work left cannot pay for the whole round.

        Weights must not be negative (a level, not the spreading of the largest chance)."""
        f = self.findings
        types = np.flatnonzero(np.bincount(f.type_of, weights=weights > 0, minlength=len(f.sizes)))
        candidates = f.first_member[types]
        # Only the heaviest types: smaller rounds, and the LP's weights renewed more often (on
        # the sample at 4 units of work, s/U 0.36 with every weighted type, 0.45 with these).
        candidates = np.sort(candidates[np.argsort(-weights[candidates], kind="stable")[:NEIGHBOUR_TYPES]])
        if not len(candidates) or not len(starts):
            return []
        size = len(starts[0])
        # A round is made whole or not at all: when the work left cannot pay for every start,
        # the search for a single cohort goes on as it would without this one.
        if len(starts) * size * f.check_cost(len(candidates)) > f.meter.work_left():
            return []
        chunk = max(1, NEIGHBOUR_CELLS // (size * len(candidates)))  # a few million checks at once
        found: dict[tuple[int, ...], None] = {}
        for begin in range(0, len(starts), chunk):
            if f.meter.wall_left() <= 0:  # the time limit, a last resort
                break
            group = starts[begin:begin + chunk]
            rests = rests_of(group)
            fits = f.shortfalls(rests, candidates) == 0
            for rest, fit in zip(rests, fits, strict=True):
                fitting = candidates[fit]
                gain = weights[list(rest)].sum() + weights[fitting] - price
                fitting = fitting[gain > PRICING_GAIN]
                for child in fitting[np.argsort(-weights[fitting], kind="stable")[:NEIGHBOURS_PER_PLACE]].tolist():
                    cohort = tuple(sorted((*rest, child)))
                    if cohort not in f.cohorts_found:
                        found[cohort] = None
        return list(found)

    def by_swaps(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        """New cohorts worth more than `price` under `weights`, found by swapping one child
        at a time in the best known cohorts (none if the swaps find none).

        Each start climbs on its own; the climbs go side by side so that one check serves a
        step of every climb (numpy's overhead, most of a check, paid once), and the work is
        charged as if each step were checked alone, start by start: the same cohorts, the same
        budget, as climbing one start after another."""
        f = self.findings
        table = np.array(f.cohorts)
        values = weights[table].sum(axis=1)
        starts = np.argsort(-values, kind="stable")[:SWAP_STARTS]
        valued = np.flatnonzero(weights > 0)
        climbs = [_climb(list(f.cohorts[int(k)]), weights, valued, f.problem.n) for k in starts]
        ended: list[tuple[int, ...]] = [() for _ in climbs]
        charges: list[list[int]] = [[] for _ in climbs]  # candidates each step checked, climb by climb
        asks: dict[int, tuple[Sequence[int], np.ndarray]] = {}

        def answer(k: int, fits: np.ndarray | None) -> None:  # the climb's next ask, or its end
            try:
                asks[k] = next(climbs[k]) if fits is None else climbs[k].send(fits)
            except StopIteration as done:
                asks.pop(k, None)
                ended[k] = done.value

        for k in range(len(climbs)):
            answer(k, None)
        where = np.zeros(f.problem.n, dtype=np.int64)  # each candidate's column in the check
        while asks:
            asked = np.zeros(f.problem.n, dtype=bool)
            for _rest, better in asks.values():
                asked[better] = True
            union = np.flatnonzero(asked)
            where[union] = np.arange(len(union))
            shortfalls = f.fitter.shortfalls([rest for rest, _better in asks.values()], union)
            for row, (k, (_rest, better)) in enumerate(list(asks.items())):
                charges[k].append(len(better))
                answer(k, shortfalls[row, where[better]] == 0)
        for spent in charges:
            for candidates in spent:
                f.meter.spend(f.check_cost(candidates))
        found: dict[tuple[int, ...], None] = {}
        for better_cohort in ended:
            if weights[list(better_cohort)].sum() > price + PRICING_GAIN and better_cohort not in f.cohorts_found:
                found[better_cohort] = None
        return list(found)

    def proved(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        """New cohorts worth more than `price` under `weights`, by CP-SAT; none is a proof."""
        # GLOP leaves columns already in the LP worth up to its optimality tolerance more than
        # `price`: only a gain above PRICING_GAIN counts, and a cohort already in the LP is ruled
        # out and the search run again, so that "none" is a proof.
        scaled = np.round(weights * WEIGHT_SCALE).astype(np.int64)
        above = int(np.floor((price + PRICING_GAIN) * WEIGHT_SCALE))
        known: list[tuple[int, ...]] = []
        while True:
            answer = self.exact(scaled, above, known)
            found = [c for c in answer if c not in self.findings.cohorts_found]
            if found or not answer:
                return found
            known += answer

    def exact(self, weights: np.ndarray, above: int = 0, exclude: Sequence[tuple[int, ...]] = (),
              first_only: bool = False, pools: bool = True) -> list[tuple[int, ...]]:
        """CP-SAT: cohorts reaching the threshold whose total weight is more than `above` (every
        one the search passes on its way to the heaviest, within a short search; with
        `first_only`, the first it finds); none when it proves there is none. Without `pools`,
        the whole caseload is searched at once (`pool_found` says whether a pool answered). The
        children with weight and a few holders of every value are
        searched first (fast, usually enough); when they hold none and some child has weight,
        the same with a fixed random sample of the caseload (with three children in AP, 5,000
        rows: 0.14 s where the whole caseload took 0.97 s); the whole caseload only after that.
        For the lottery's first cohort (no child weighted) the second pool holds more holders of
        every value instead (with needs skewed, 5,000 rows: 0.1 s where the whole caseload took
        0.9 s; a cohort from a random sample there left discovery a longer search later). A pool
        holding more than half the caseload is hardly easier to search, and is not searched."""
        problem = self.findings.problem
        shapes = ((0, POOL_PER_VALUE), (POOL_SAMPLE, POOL_PER_VALUE)) if weights.any() else FIRST_POOLS
        self.pool_found = False
        for sample, per_value in shapes if pools else ():
            pool = self._pool(weights, exclude, sample, per_value)
            if len(pool) > POOL_SHARE * problem.n:  # hardly easier than the whole caseload
                break
            where = {int(p): k for k, p in enumerate(pool)}
            found = self._cp_sat(subset(problem, pool), weights[pool], above,
                                 [[where[i] for i in c] for c in exclude], prove=False, first_only=first_only)
            if found:
                self.pool_found = True
                return [tuple(sorted(int(pool[i]) for i in cohort)) for cohort in found]
        return self._cp_sat(problem, weights, above, exclude, first_only=first_only)

    def first(self) -> list[tuple[int, ...]]:
        """The lottery's first cohorts (`exact` with no child weighted); none when there is none.
        When that search reaches its work limit, the same pools are searched again for any
        cohort at all, with no objective: on 12,400 rows across 60 localities the first pool
        held a cohort that its search, maximising a sum of no weights (a constant), did not find
        within its work (0.26 units where a plain search needs 0.06), and nor did the whole
        caseload's; cohort 1 was then the lottery's only cohort, drawn for certain.

        Raises:
            OutOfWork: the wall clock came, or no pool held a cohort either.
        """
        problem = self.findings.problem
        none = np.zeros(problem.n, dtype=np.int64)
        try:
            return self.exact(none, -1)
        except OutOfWork:
            if self.findings.meter.by_clock:
                raise
            for sample, per_value in FIRST_POOLS:  # even a pool of the whole caseload, unlike `exact`
                pool = self._pool(none, (), sample, per_value)
                found = self._cp_sat(subset(problem, pool), none[pool], -1, prove=False, objective=False)
                if found:
                    return [tuple(sorted(int(pool[i]) for i in cohort)) for cohort in found]
            raise

    def _pool(self, weights: np.ndarray, exclude: Sequence[tuple[int, ...]], sample: int = 0,
              per_value: int = POOL_PER_VALUE) -> np.ndarray:
        problem = self.findings.problem
        chosen = weights > 0
        if sample:
            rng = np.random.default_rng([POOL_SEED, problem.n])
            chosen[rng.choice(problem.n, size=min(sample, problem.n), replace=False)] = True
        for values in problem.coverage:
            for _value, holders in values:
                chosen[holders[:per_value]] = True
        for members in problem.count_members:
            chosen[members[:per_value + problem.rules.size]] = True
        for cohort in [*self.findings.cohorts[:SWAP_STARTS], *exclude]:
            chosen[list(cohort)] = True
        return np.flatnonzero(chosen)

    def _cp_sat(self, problem: Problem, weights: np.ndarray, above: int,
                exclude: Sequence[Sequence[int]] = (), prove: bool = True, first_only: bool = False,
                objective: bool = True) -> list[tuple[int, ...]]:
        """Cohorts of `problem` heavier than `above`, the heaviest first: a short search, then
        (when `prove`) a longer one that finds one or proves there is none. Without `prove` (a
        pool of the caseload, which the whole caseload's search follows) nothing is proved."""
        meter = self.findings.meter
        meter.check()
        m = CohortModel(problem)
        for cohort in exclude:
            m.model.add(sum(m.x[i] for i in cohort) <= len(cohort) - 1)
        m.model.add(m.score >= self.findings.threshold)
        if first_only and prove:
            # Discovery's search over the whole caseload for a child not yet in a cohort: any
            # cohort will do, or the proof of none, and the values no two members can share
            # prune both (at 600 rows with crowded settings, 17.5 -> 12.3 s). Only there: in the
            # searches of a pool it gave the sample a slightly less even lottery (s/U 0.320 ->
            # 0.318), and in every search it made a caseload with 60 localities three times slower.
            add_never_twice(m, apart(problem, self.findings.threshold))
        total = sum(int(w) * x for w, x in zip(weights, m.x, strict=True) if w)
        m.model.add(total >= above + 1)
        if objective:  # else any cohort reaching the threshold (the search ends at the first)
            m.model.maximize(total)
        discovering = first_only and prove
        # Discovery's whole-caseload search, one long search without probing: probing alone
        # took more than the short search's work (at 12,400 rows, 0.27 s spent for no answer,
        # then 1.3 s before the search began), and without it cohorts of 4 or 5 found every
        # child up to 3.5x sooner, and found some that the probing search gave up on
        # (benchmarks/lottery.md). Cohorts of 6 rarely get this far.
        for work in (PRICING_DETERMINISTIC_TIME,) if discovering else (QUICK_DETERMINISTIC_TIME,
                                                                         PRICING_DETERMINISTIC_TIME):
            solver = make_solver(self.params, max(meter.wall_left(), 0.01))
            solver.parameters.max_deterministic_time = max(min(work, meter.work_left()), 1e-3)
            if discovering:
                solver.parameters.cp_model_probing_level = 0
            collector = Collector(m.x, first_only=True) if first_only else self.collector(m.x)
            status = solver.solve(m.model, collector)
            meter.spend(solver.response_proto.deterministic_time)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return list(dict.fromkeys(reversed(collector.found)))  # the heaviest first
            if status == cp_model.INFEASIBLE or not prove:
                return []
            meter.check()
        raise OutOfWork


def _climb(cohort: list[int], weights: np.ndarray, valued: np.ndarray, n: int
           ) -> Generator[tuple[Sequence[int], np.ndarray], np.ndarray, tuple[int, ...]]:
    """One hill-climb of `Pricing.by_swaps`: slot after slot, the member gives way to the heaviest
    candidate heavier than it who keeps the cohort in the lottery, until a pass changes nothing.
    It asks for each check it needs (a rest and the candidates), is sent which of them fit, and
    returns the cohort it ends with."""
    improved = True
    while improved:
        improved = False
        for slot in range(len(cohort)):
            # A member who weighs against the cohort (when spreading) may give way to anyone
            # who weighs less against it.
            among = valued if weights[cohort[slot]] >= 0 else np.arange(n)
            better = among[weights[among] > weights[cohort[slot]] + TOLERANCE]
            if not len(better):
                continue
            fit = yield cohort[:slot] + cohort[slot + 1:], better
            fits = better[fit]
            if len(fits):
                cohort[slot] = int(fits[np.argmax(weights[fits])])
                improved = True
    return tuple(sorted(cohort))


class Enumerated(Pricing):
    """The pricing of a lottery whose every cohort is a column already (`fair_lottery`'s
    `cohorts`: every best filling of two free places, say): no cohort is left to add, so every
    search answers none, and that answer is a proof."""

    def neighbours(self, weights: np.ndarray, price: float, starts: Sequence[tuple[int, ...]]
                   ) -> list[tuple[int, ...]]:
        return []

    def by_swaps(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        return []

    def proved(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        return []

    def exact(self, weights: np.ndarray, above: int = 0, exclude: Sequence[tuple[int, ...]] = (),
              first_only: bool = False, pools: bool = True) -> list[tuple[int, ...]]:
        return []

    def level_bound(self, level: float, weights: np.ndarray) -> float:
        """The bound the LP's duals prove, worked out over every cohort (each is in a column):
        for any weights on the children, no lottery gives every child more than the heaviest
        cohort's weight over the weights' total (the LP's dual), so no tolerance is added to it
        (which, at a few thousand children, is a tenth of a percent of a chance)."""
        total = float(weights.sum())
        if total <= 0:
            return level + TOLERANCE
        return max(column.worth(weights) for column in self.findings.columns) / total
