"""The lottery over the best cohorts: a probability distribution over the cohorts that reach the
proven optimum (or come within a slack of it), as even across children as it can be (leximin:
the smallest chance of any child who is in some such cohort as large as possible, then the next
smallest, ...), and a seeded draw from it.

Children who hold the same values for every hard rule and objective term, and the same key of
every spread rule that can bind, are interchangeable: a *type*. The distribution is found over
types by column generation (Flanigan, Goelz, Gupta, Hennig and Procaccia, Nature 596, 2021):
GLOP solves the master LP over the columns found so far (each cohort found, and the template
around it: templates.py), with one row per group of types that no column found tells apart; a
new cohort is priced from its duals (first by swapping children of known cohorts, which numpy
checks for every candidate at once, then, to prove that none is left, by CP-SAT), and the types
whose constraints bind are fixed level by level. A draw chooses a
column by its weight, then one child of each of its pools uniformly; pools are unions of types,
so children of one type have exactly equal chances.

Everything runs on the candidates sorted by child id, so the order of the rows changes nothing.
Finding every child who can be drawn (at least one column for every type that is in some
cohort of the lottery's score) is never cut short but by the wall clock. The rest of the work is
bounded in machine-independent units (CP-SAT's deterministic time, and the like for numpy's
checks and GLOP's iterations), so a lottery cut short is the same on every machine and for every
row order: when the work runs out before every level is proved, the lottery over the columns
found is made as even as it can be at the smallest chance reached and then at the largest (so no
child stands out), its chances exact for it, and `proved` says it is not yet the fairest. Wall
time is only a last resort (`reproducible` then says so). At a few thousand children the first
level does not finish in minutes (benchmarks/lottery.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from ..contract import stops
from ..contract.defaults import LOTTERY_WORK
from ..contract.errors import SolverError
from .constraints import CohortModel
from .fit import Fitter, distinct_rows
from .master import Master
from .problem import Problem, subset
from .settings import SelectionParams, make_solver
from .templates import Column, Roles, cohort_column

TOLERANCE = 1e-7  # LP and pricing tolerance on chances
WEIGHT_SCALE = 10**9  # duals to CP-SAT's whole-number weights
# The smallest gain in a cohort's worth that pricing counts (above GLOP's optimality tolerance).
PRICING_GAIN = 1e-6
# A type is fixed at a level when its row's dual is above this (smaller duals are the LP's noise).
DUAL_TOLERANCE = 1e-6
# CP-SAT work (machine-independent units) for one pricing: a short search that usually finds a
# cohort, then a longer one to prove there is none.
QUICK_DETERMINISTIC_TIME = 0.2
PRICING_DETERMINISTIC_TIME = 5.0
# Work units (about a second each here) charged for what is not CP-SAT: a numpy check of one
# candidate against one value or rule, a call's overhead, and a GLOP iteration per row or column.
CHECK_WORK = 5e-9
CALL_WORK = 2e-5
LP_WORK = 2e-8
SWAP_STARTS = 16  # known cohorts a swap search starts from, best first
POOL_PER_VALUE = 5  # holders of each value in a pricing pool
REPAIR_STARTS = 2  # known cohorts a repair starts from
REPAIR_STEPS = 6  # swaps a repair may make
WALKS, WALK_STEPS, WALK_SEED = 16, 12, 2021  # cohorts far from the first, found before the rest
SPREAD_SHARE = 0.8  # of the work, kept for spreading the chances should the levels not finish


@dataclass(frozen=True)
class Lottery:
    """A distribution over cohorts and every candidate's exact chance under it.

    Attributes:
        columns: the columns the distribution gives weight to (each a set of pools of candidate
            positions, a cohort taking one child of each pool; see templates.py).
        weights: each column's probability (they sum to 1).
        type_of: each candidate's type number.
        chances: each candidate's chance of being in the drawn cohort.
        threshold: the lowest score a cohort of the lottery may have.
        levels: how many leximin levels were fixed.
        proved: every level was proved (the fairest lottery); False when the work budget ran
            out first (the chances are exact for the lottery used, which may not be the fairest).
        complete: every child who is in some cohort of the lottery's score was found (so every
            such child has a chance above zero).
        reproducible: the work budget, not the wall clock, decided where the search stopped, so
            the same caseload in any row order gives this lottery on any machine.
        rank: each candidate's place in child-id order (draws pick by it, not by row order).
        spread_floor: when the levels did not finish, the chance every child who can be drawn
            was kept at while the largest chance was made as small as it could be (None otherwise).
    """

    columns: tuple[Column, ...]
    weights: tuple[float, ...]
    type_of: np.ndarray
    chances: np.ndarray
    threshold: int
    levels: int
    proved: bool = True
    complete: bool = True
    rank: np.ndarray | None = None
    reproducible: bool = True
    spread_floor: float | None = None

    @property
    def possible(self) -> np.ndarray:
        """Candidates who can be drawn."""
        return np.flatnonzero(self.chances > TOLERANCE)

    @property
    def smallest(self) -> float:
        """The smallest chance of any child who can be chosen."""
        chosen = self.chances[self.chances > TOLERANCE]
        return float(chosen.min()) if len(chosen) else 0.0


def child_types(problem: Problem) -> np.ndarray:
    """Each candidate's type: candidates alike for every count rule, every objective value and
    every spread key that can bind get one number (numbered in order of first appearance).

    >>> from selector.contract.rules import Rules, CountRule, Dimension
    >>> p = Problem(np.array(["a", "b", "c"]), Rules(size=1, counts=(), spreads=(), dimensions=()),
    ...             (), (), (), ((("x", np.array([0, 2])),),))
    >>> child_types(p).tolist()
    [0, 1, 0]
    """
    n = problem.n
    columns = []
    for members in problem.count_members:
        flags = np.zeros(n, dtype=np.int64)
        flags[members] = 1
        columns.append(flags)
    for values in problem.coverage:
        for _value, holders in values:
            flags = np.zeros(n, dtype=np.int64)
            flags[holders] = 1
            columns.append(flags)
    for groups in problem.spread_groups:  # only groups that can bind; others limit nobody
        key = np.full(n, -1, dtype=np.int64)
        for number, members in enumerate(groups):
            key[members] = number
        columns.append(key)
    if not columns:
        return np.zeros(n, dtype=np.int64)
    signature = np.stack(columns, axis=1)
    _unique, first, inverse = distinct_rows(signature)
    order = np.argsort(np.argsort(first))  # renumber by first appearance
    return np.asarray(order[inverse])


def fair_lottery(problem: Problem, params: SelectionParams, optimum: int, slack_percent: float = 0.0,
                 work: float = LOTTERY_WORK, time_limit: float = 600.0, fallback: Sequence[int] = ()) -> Lottery:
    """The leximin lottery over the cohorts scoring at least `optimum` less `slack_percent`%.

    Args:
        problem: candidates and rules.
        params: the run's parameters (CP-SAT's seed and workers).
        optimum: the proven best score.
        slack_percent: cohorts within this percentage of the optimum join the lottery.
        work: the work allowed (machine-independent units, about a second each on a laptop);
            the lottery found by then is used, not proved fairest.
        time_limit: wall seconds, a last resort (the lottery is then not reproducible).
        fallback: a cohort reaching the score, used only when the time limit comes before any
            other is found (the lottery is then that cohort, its children's types drawn evenly).

    Raises:
        SolverError: no cohort reaches the score, or none was found in time.
    """
    threshold = int(np.ceil(optimum * (1 - slack_percent / 100) - 1e-9))
    order = np.argsort(problem.child_ids.astype(str), kind="stable")  # row order changes nothing
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    canonical = subset(problem, order)
    meter = _Meter(work, time.perf_counter() + time_limit)
    # One worker, and the solver's own seed fixed: the lottery is the same for every seed and
    # machine (the run's seed only draws from it).
    engine = _Engine(canonical, replace(params, workers=1, seed=0), threshold, meter)
    found = engine.run([int(back[i]) for i in fallback])  # in child-id order
    # The pools keep the engine's order (child-id order), which the draw follows.
    columns = tuple(Column(tuple(tuple(sorted(int(order[i]) for i in pool)) for pool in column.pools))
                    for column in found.columns)
    return replace(found, columns=columns, type_of=found.type_of[back], chances=found.chances[back], rank=back)


@dataclass(frozen=True)
class Chances:
    """The lottery a run drew cohort 1 from, for its outputs.

    Attributes:
        child_ids: every candidate, in child-id order.
        chances: each one's chance of being in cohort 1.
        types: each one's type number (children of one type are alike for every rule and term).
        optimum: the best score (proven, or the best found when the time limit cut it short).
        threshold: the lowest score a cohort of the lottery may have.
        slack_percent: the slack asked for.
        drawn: the cohort the seed drew (child ids, in row order as every cohort's slots).
        drawn_score: its score.
        proved: the lottery was proved the fairest (leximin).
        complete: every child in some cohort of the lottery's score was found.
        reproducible: the work budget, not the wall clock, ended the search.
        levels: leximin levels fixed.
        columns: columns (groups of cohorts) the lottery gives weight to.
        largest_without_slack: with slack, the largest chance of the lottery without it (None when
            the time limit came before it was worked out).
        seconds: wall time spent.
    """

    child_ids: tuple[str, ...]
    chances: tuple[float, ...]
    types: tuple[int, ...]
    optimum: int
    threshold: int
    slack_percent: float
    drawn: tuple[str, ...]
    drawn_score: int
    proved: bool
    complete: bool
    reproducible: bool
    levels: int
    columns: int
    largest_without_slack: float | None
    seconds: float

    @property
    def possible(self) -> int:
        """How many children could have been drawn."""
        return sum(1 for c in self.chances if c > TOLERANCE)

    @property
    def smallest(self) -> float:
        return min((c for c in self.chances if c > TOLERANCE), default=0.0)

    @property
    def largest(self) -> float:
        return max(self.chances, default=0.0)


def draw_first(problem: Problem, params: SelectionParams, optimum: int, time_limit: float,
               fallback: Sequence[int] = ()) -> Chances:
    """Cohort 1 drawn by the run's seed from the fairest lottery over the cohorts scoring at
    least the optimum less the slack. With slack, the lottery without it is worked out next, in
    the time left, so that the outputs can say what the slack changed (the lottery drawn from
    comes first: it must not be cut short for a comparison)."""
    started = time.perf_counter()
    deadline = started + time_limit
    # Cohort 1's search is only a fallback: the cohort it found depends on the order of the rows.
    lottery = fair_lottery(problem, params, optimum, params.slack, params.lottery_work, time_limit, fallback=fallback)
    largest_without_slack = None
    if params.slack > 0 and deadline - time.perf_counter() > 0:
        try:
            plain = fair_lottery(problem, params, optimum, 0.0, params.lottery_work, deadline - time.perf_counter(),
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
        seconds=seconds)


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


class _OutOfTime(Exception):
    """The lottery's budget ran out: use what has been found."""


@dataclass
class _Meter:
    """The lottery's budget: work in machine-independent units, and wall time as a last resort."""

    work: float
    deadline: float  # time.perf_counter() at which to stop
    used: float = 0.0
    by_clock: bool = False
    counting: bool = True  # False while finding every child who can be drawn: that is never cut short
    reserve: float = 0.0  # work kept back (for spreading the chances when the levels do not finish)

    def spend(self, units: float) -> None:
        if self.counting:
            self.used += units

    def work_left(self) -> float:
        return self.work - self.reserve - self.used if self.counting else PRICING_DETERMINISTIC_TIME

    def wall_left(self) -> float:
        return self.deadline - time.perf_counter()

    def check(self) -> None:
        stops.check()
        if self.work_left() <= 0:
            raise _OutOfTime
        if self.wall_left() <= 0:
            self.by_clock = True
            raise _OutOfTime


class _Engine:
    """Column generation for one lottery, on candidates in canonical order."""

    def __init__(self, problem: Problem, params: SelectionParams, threshold: int, meter: _Meter) -> None:
        self.problem, self.params, self.threshold, self.meter = problem, params, threshold, meter
        self.type_of = child_types(problem)
        self.sizes = np.bincount(self.type_of)
        order = np.argsort(self.type_of, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(self.sizes)))
        self.members_of = [order[bounds[t]:bounds[t + 1]] for t in range(len(self.sizes))]
        self.fitter = Fitter(problem, threshold)
        self.roles = Roles(self.fitter)
        self.cohorts: list[tuple[int, ...]] = []  # every cohort found, to swap from and to rule out
        self.found: set[tuple[int, ...]] = set()
        self.columns: list[Column] = []
        self.known: set[Column] = set()
        self.seen = np.zeros(len(self.sizes), dtype=bool)  # types in some column

    def run(self, fallback: Sequence[int] = ()) -> Lottery:
        complete = True
        self.meter.counting = False  # every child who can be drawn is found, however long it takes
        try:
            # The first cohort, of a small pool (holders of every value): found in child-id order,
            # so the lottery does not depend on the order of the rows even when cut short.
            found = self._exact_price(np.zeros(self.problem.n, dtype=np.int64), -1)
            if not found:
                raise SolverError("no cohort reaches the score the lottery needs.", "lottery_empty")
            for cohort in found:
                self._add(cohort)
            self._discover()
        except _OutOfTime:  # only the wall clock stops the search for every child
            complete = False
            if not self.columns and fallback:
                self._add(tuple(sorted(fallback)))
            if not self.columns:
                raise SolverError("no cohort for the lottery was found within the time limit.", "lottery_time",
                                  fix="Allow more time.") from None
        self.meter.counting = True
        self.meter.reserve = self.meter.work * SPREAD_SHARE  # kept for spreading, should the levels not finish
        support = np.flatnonzero(self.seen)
        master = Master(support, self.sizes, self.columns, self.type_of)
        levels, proved, floor = 0, complete, None
        probabilities = self._solve(master)[1]
        try:
            while master.unfixed():
                value, probabilities, duals = self._improve(master)
                levels += 1
                binding = [g for g in master.unfixed() if duals[g] > DUAL_TOLERANCE]
                if not binding:  # degenerate duals: fix whoever sits at the level
                    chance = self._chances(probabilities, self.columns)
                    first = master.first_types()
                    binding = [g for g in master.unfixed() if chance[self.members_of[first[g]][0]] <= value + TOLERANCE]
                for g in binding:
                    master.fix(g, value)
        except _OutOfTime:
            proved = False
            floor = master.spread()
            probabilities = self._spread(master)
        weights = np.array(probabilities)
        keep = np.flatnonzero(weights > TOLERANCE)
        kept = weights[keep] / weights[keep].sum()
        columns = tuple(self.columns[k] for k in keep)
        return Lottery(columns, tuple(float(w) for w in kept), self.type_of, self._chances(kept, columns),
                       self.threshold, levels, proved, complete, reproducible=not self.meter.by_clock,
                       spread_floor=floor)

    def _improve(self, master: Master) -> tuple[float, list[float], np.ndarray]:
        """The master LP with every cohort that could improve it added (for a level, or when
        spreading, for the largest chance), and its answer then."""
        while True:
            self._check_time()
            value, probabilities, duals = self._solve(master)
            weights = master.per_child(duals)[self.type_of]
            # What a cohort must be worth under the duals to improve the LP: the worth of the
            # columns the LP uses (their reduced cost is 0), whatever the solver's sign convention.
            price = self.columns[int(np.argmax(probabilities))].worth(weights)
            found = self._swap_price(weights, price) or self._proved_price(weights, price)
            if not found:
                return value, probabilities, duals
            for cohort in found:
                for column in self._add(cohort):
                    master.add(column, self.type_of)

    def _proved_price(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        """New cohorts worth more than `price` under `weights`, by CP-SAT; none is a proof."""
        # GLOP leaves columns already in the LP worth up to its optimality tolerance more than
        # `price`: only a gain above PRICING_GAIN counts, and a cohort already in the LP is ruled
        # out and the search run again, so that "none" is a proof.
        scaled = np.round(weights * WEIGHT_SCALE).astype(np.int64)
        above = int(np.floor((price + PRICING_GAIN) * WEIGHT_SCALE))
        known: list[tuple[int, ...]] = []
        while True:
            answer = self._exact_price(scaled, above, known)
            found = [c for c in answer if c not in self.found]
            if found or not answer:
                return found
            known += answer

    def _spread(self, master: Master) -> list[float]:
        """When the work runs out before every level is fixed (the master spreading): every type
        keeps at least the level reached, and the largest chance is made as small as it can be (so
        that no child stands out) over every cohort of the lottery, not only those found: cohorts
        are priced from the duals as for a level (a child at the largest chance weighs against a
        cohort), within the work kept for it. Each column's probability."""
        self.meter.reserve = 0.0
        try:
            return self._improve(master)[1]
        except _OutOfTime:  # the LP over every column found so far
            return self._solve(master)[1]

    def _check_time(self) -> None:
        self.meter.check()

    def _solve(self, master: Master) -> tuple[float, list[float], np.ndarray]:
        answer = master.solve()
        self.meter.spend(master.solver.iterations() * (len(master.rows) + len(master.x)) * LP_WORK)
        return answer

    def _shortfall(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        return np.asarray(self._shortfalls([rest], among)[0])

    def _shortfalls(self, rests: Sequence[Sequence[int]], among: np.ndarray) -> np.ndarray:
        self.meter.spend(len(rests) * (CALL_WORK + len(among) * self.fitter.width * CHECK_WORK))
        return self.fitter.shortfalls(rests, among)

    def _completes(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        return np.asarray(self._shortfall(rest, among) == 0)

    def _add(self, cohort: tuple[int, ...]) -> list[Column]:
        """Take a cohort found: as a column of its own, and the template around it; the columns
        that are new."""
        if cohort in self.found:
            return []
        self.found.add(cohort)
        self.cohorts.append(cohort)
        self.meter.spend(CALL_WORK * len(cohort) + len(self.roles.class_members) * self.fitter.width * CHECK_WORK)
        added = []
        for column in (cohort_column(cohort, self.type_of, self.members_of), self.roles.template(cohort)):
            if column is not None and column not in self.known:
                self.known.add(column)
                self.columns.append(column)
                for pool in column.pools:
                    self.seen[self.type_of[list(pool)]] = True
                added.append(column)
        return added

    def _discover(self) -> None:
        """Find, for every type, a column holding it if there is one: first cohorts far apart (a
        seeded walk of swaps), then by swapping one child of a known cohort (layer by layer), then
        by repairs, then by CP-SAT for the rest (and single swaps around every cohort it finds)."""
        self._walk()
        # The walks first, so that the first cohort's children are not in every column (they would
        # get large chances).
        self._swap_from(list(reversed(self.cohorts)))
        self._discover_by_repair(self.seen)
        while not self.seen.all():  # CP-SAT: a cohort holding as many unseen types as it can, or proof of none
            weights = np.where(self.seen[self.type_of], 0, 1).astype(np.int64)
            found = self._exact_price(weights)
            if not found:
                break
            for cohort in found:
                self._add(cohort)
            self._swap_from(found)  # their neighbours often hold other children not yet seen

    def _swap_from(self, cohorts: list[tuple[int, ...]]) -> None:
        """Cohorts one swap away from these, then from those found, and so on, each kept only when
        it holds a type not yet seen."""
        seen = self.seen
        layer = cohorts
        unseen = np.flatnonzero(~seen[self.type_of])
        while layer and len(unseen):
            next_layer = []
            for cohort in layer:
                if not len(unseen):
                    break
                self._check_time()
                # Every slot at once; a child whose type an earlier slot's cohort placed is skipped.
                rests = [cohort[:slot] + cohort[slot + 1:] for slot in range(len(cohort))]
                fits = self._shortfalls(rests, unseen) == 0
                for rest, fit in zip(rests, fits, strict=True):
                    for child in unseen[fit]:
                        if not seen[self.type_of[child]]:
                            new = tuple(sorted((*rest, int(child))))
                            self._add(new)
                            next_layer.append(new)
                unseen = unseen[~seen[self.type_of[unseen]]]
            layer = next_layer

    def _walk(self) -> None:
        """Cohorts far from the first (each child swapped for a random one that keeps the cohort in
        the lottery, WALK_STEPS times), so that no child of the first sits in most columns."""
        rng = np.random.default_rng(WALK_SEED)
        everyone = np.arange(self.problem.n)
        cohort = list(self.cohorts[0])
        for _walk in range(WALKS):
            for step in range(WALK_STEPS):
                self._check_time()
                slot = step % len(cohort)
                rest = cohort[:slot] + cohort[slot + 1:]
                fits = everyone[self._completes(rest, everyone)]
                cohort[slot] = int(rng.choice(fits))  # the child itself always fits
            self._add(tuple(sorted(cohort)))

    def _discover_by_repair(self, seen: np.ndarray) -> None:
        """For each type no single swap reached: put one of its children into a known cohort and
        repair the rest one swap at a time, each swap the one that most reduces the shortfall
        (numpy weighs every candidate at once), preferring children of types not yet seen."""
        everyone = np.arange(self.problem.n)
        for child in np.flatnonzero(~seen[self.type_of]):
            if seen[self.type_of[child]]:
                continue
            self._check_time()
            for base in self.cohorts[:REPAIR_STARTS]:
                found = self._repair(int(child), list(base), everyone, seen)
                if found is not None:
                    self._add(found)
                    break

    def _repair(self, child: int, cohort: list[int], everyone: np.ndarray, seen: np.ndarray
                ) -> tuple[int, ...] | None:
        size = len(cohort)
        placed = self._shortfalls([cohort[:s] + cohort[s + 1:] for s in range(size)], np.array([child]))[:, 0]
        place = int(np.argmin(placed))
        cohort[place] = child
        current = int(placed[place])  # the shortfall with the child in its place
        others = [slot for slot in range(size) if slot != place]
        for _step in range(REPAIR_STEPS):
            if current == 0:
                return tuple(sorted(cohort))
            best, move = current, None
            shorts = self._shortfalls([cohort[:slot] + cohort[slot + 1:] for slot in others], everyone)
            for slot, short in zip(others, shorts, strict=True):
                short = short * 2 + seen[self.type_of]  # ties: a type not yet seen first
                k = int(np.argmin(short))
                if short[k] // 2 < best:
                    best, move = int(short[k] // 2), (slot, k)
            if move is None:
                return None
            cohort[move[0]] = int(move[1])
            current = best
        return tuple(sorted(cohort)) if current == 0 else None

    def _swap_price(self, weights: np.ndarray, price: float) -> list[tuple[int, ...]]:
        """New cohorts worth more than `price` under `weights`, found by swapping one child
        at a time in the best known cohorts (none if the swaps find none)."""
        table = np.array(self.cohorts)
        values = weights[table].sum(axis=1)
        starts = np.argsort(-values, kind="stable")[:SWAP_STARTS]
        valued = np.flatnonzero(weights > 0)
        found: dict[tuple[int, ...], None] = {}
        for k in starts:
            cohort = list(self.cohorts[int(k)])
            improved = True
            while improved:
                improved = False
                for slot in range(len(cohort)):
                    # A member who weighs against the cohort (when spreading) may give way to anyone
                    # who weighs less against it.
                    among = valued if weights[cohort[slot]] >= 0 else np.arange(self.problem.n)
                    better = among[weights[among] > weights[cohort[slot]] + TOLERANCE]
                    if not len(better):
                        continue
                    rest = cohort[:slot] + cohort[slot + 1:]
                    fits = better[self._completes(rest, better)]
                    if len(fits):
                        cohort[slot] = int(fits[np.argmax(weights[fits])])
                        improved = True
            better_cohort = tuple(sorted(cohort))
            if weights[list(better_cohort)].sum() > price + PRICING_GAIN and better_cohort not in self.found:
                found[better_cohort] = None
        return list(found)

    def _exact_price(self, weights: np.ndarray, above: int = 0, exclude: Sequence[tuple[int, ...]] = ()
                     ) -> list[tuple[int, ...]]:
        """CP-SAT: cohorts reaching the threshold whose total weight is more than `above` (every
        one the search passes on its way to the heaviest, within a short search); none when it
        proves there is none. The children with weight and a few holders of every value are
        searched first (fast, usually enough); the whole caseload only when they hold none."""
        pool = self._pool(weights, exclude)
        if len(pool) < self.problem.n:
            where = {int(p): k for k, p in enumerate(pool)}
            found = self._cp_sat_price(subset(self.problem, pool), weights[pool], above,
                                       [[where[i] for i in c] for c in exclude], prove=False)
            if found:
                return [tuple(sorted(int(pool[i]) for i in cohort)) for cohort in found]
        return self._cp_sat_price(self.problem, weights, above, exclude)

    def _pool(self, weights: np.ndarray, exclude: Sequence[tuple[int, ...]]) -> np.ndarray:
        chosen = weights > 0
        for values in self.problem.coverage:
            for _value, holders in values:
                chosen[holders[:POOL_PER_VALUE]] = True
        for members in self.problem.count_members:
            chosen[members[:POOL_PER_VALUE + self.problem.rules.size]] = True
        for cohort in [*self.cohorts[:SWAP_STARTS], *exclude]:
            chosen[list(cohort)] = True
        return np.flatnonzero(chosen)

    def _cp_sat_price(self, problem: Problem, weights: np.ndarray, above: int,
                      exclude: Sequence[Sequence[int]] = (), prove: bool = True) -> list[tuple[int, ...]]:
        """Cohorts of `problem` heavier than `above`, the heaviest first: a short search, then
        (when `prove`) a longer one that finds one or proves there is none. Without `prove` (a
        pool of the caseload, which the whole caseload's search follows) nothing is proved."""
        self._check_time()
        m = CohortModel(problem)
        for cohort in exclude:
            m.model.add(sum(m.x[i] for i in cohort) <= len(cohort) - 1)
        m.model.add(m.score >= self.threshold)
        total = sum(int(w) * x for w, x in zip(weights, m.x, strict=True) if w)
        m.model.add(total >= above + 1)
        m.model.maximize(total)
        for work in (QUICK_DETERMINISTIC_TIME, PRICING_DETERMINISTIC_TIME):
            solver = make_solver(self.params, max(self.meter.wall_left(), 0.01))
            solver.parameters.max_deterministic_time = max(min(work, self.meter.work_left()), 1e-3)
            collector = _Collector(m.x)
            status = solver.solve(m.model, collector)
            self.meter.spend(solver.response_proto.deterministic_time)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return list(dict.fromkeys(reversed(collector.found)))  # the heaviest first
            if status == cp_model.INFEASIBLE or not prove:
                return []
            self._check_time()
        raise _OutOfTime

    def _chances(self, probabilities: Sequence[float] | np.ndarray, columns: Sequence[Column]) -> np.ndarray:
        """Each candidate's chance under these columns with these probabilities."""
        chance = np.zeros(self.problem.n)
        for column, p in zip(columns, probabilities, strict=True):
            for pool in column.pools:
                chance[list(pool)] += p / len(pool)
        return chance


class _Collector(cp_model.CpSolverSolutionCallback):
    """Every cohort a CP-SAT search finds on its way (each is a column for the LP)."""

    def __init__(self, x: list[cp_model.IntVar]) -> None:
        super().__init__()
        self.x = x
        self.found: list[tuple[int, ...]] = []

    def on_solution_callback(self) -> None:
        self.found.append(tuple(i for i, v in enumerate(self.x) if self.boolean_value(v)))
