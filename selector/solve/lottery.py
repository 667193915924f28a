"""The lottery over the best cohorts: a probability distribution over the cohorts that reach the
proven optimum (or come within a slack of it), as even across children as it can be (leximin:
the smallest chance of any child who is in some such cohort as large as possible, then the next
smallest, ...), and a seeded draw from it.

Children who hold the same values for every hard rule and objective term, and the same key of
every spread rule that can bind, are interchangeable: a *type*. The distribution is found over
types by column generation (Flanigan, Goelz, Gupta, Hennig and Procaccia, Nature 596, 2021):
GLOP solves the master LP over the cohorts found so far, CP-SAT prices a new cohort from its
duals, and the types whose constraints bind are fixed level by level. A draw chooses a cohort
of the distribution, then which children of each of its types uniformly, so children of one
type have exactly equal chances.

Exact for any caseload; the work grows with the number of types in some optimal cohort, so this
is for small and medium caseloads until the column generation is made to scale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from ..contract.errors import SolverError
from .constraints import CohortModel
from .problem import Problem
from .settings import SelectionParams, make_solver

TOLERANCE = 1e-7  # LP and pricing tolerance on chances
WEIGHT_SCALE = 10**7  # duals to CP-SAT's whole-number weights
FIXED_SLACK = 1e-7  # a fixed level may give back GLOP's own feasibility tolerance, so the LP stays feasible


@dataclass(frozen=True)
class Lottery:
    """A distribution over cohorts and every candidate's exact chance under it.

    Attributes:
        cohorts: the cohorts the distribution gives weight to (candidate positions, sorted).
        weights: each cohort's probability (they sum to 1).
        type_of: each candidate's type number.
        chances: each candidate's chance of being in the drawn cohort.
        threshold: the lowest score a cohort of the lottery may have.
        levels: how many leximin levels were fixed.
    """

    cohorts: tuple[tuple[int, ...], ...]
    weights: tuple[float, ...]
    type_of: np.ndarray
    chances: np.ndarray
    threshold: int
    levels: int

    @property
    def possible(self) -> np.ndarray:
        """Candidates who are in at least one cohort of the lottery."""
        return np.flatnonzero(self.chances > TOLERANCE)


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
    _unique, first, inverse = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # renumber by first appearance
    return order[inverse.ravel()]


def fair_lottery(problem: Problem, params: SelectionParams, optimum: int, slack_percent: float = 0.0,
                 time_limit: float = 60.0) -> Lottery:
    """The leximin lottery over the cohorts scoring at least `optimum` less `slack_percent`%.

    Raises:
        SolverError: the time limit came before the lottery was complete.
    """
    started = time.perf_counter()
    threshold = int(np.ceil(optimum * (1 - slack_percent / 100) - 1e-9))
    type_of = child_types(problem)
    sizes = np.bincount(type_of)
    pricer = _Pricer(problem, params, threshold)

    def left() -> float:
        remaining = time_limit - (time.perf_counter() - started)
        if remaining <= 0:
            raise SolverError(f"the lottery was not complete within {time_limit:g} s.", "lottery_time",
                              fix="Allow more time.")
        return remaining

    columns: dict[tuple[int, ...], None] = {}
    # Which types are in some cohort: ask for a cohort holding as many not yet seen as it can.
    seen = np.zeros(len(sizes), dtype=bool)
    while True:
        weights = np.where(seen[type_of], 0, 1)
        found = pricer.best(weights.astype(np.int64), left())
        if found is None or not weights[list(found)].any():
            break
        columns[found] = None
        seen[type_of[list(found)]] = True
    if not columns:
        raise SolverError("no cohort reaches the score the lottery needs.", "lottery_empty")
    support = np.flatnonzero(seen)

    fixed: dict[int, float] = {}
    levels = 0
    while len(fixed) < len(support):
        while True:
            value, probabilities, duals, convexity = _master(list(columns), type_of, sizes, support, fixed)
            weights = np.zeros(problem.n)
            for t, y in duals.items():
                weights[type_of == t] = y / sizes[t]
            found = pricer.best(np.round(weights * WEIGHT_SCALE).astype(np.int64), left())
            if found is None or found in columns or weights[list(found)].sum() <= convexity + TOLERANCE:
                break
            columns[found] = None
        levels += 1
        binding = [t for t in support if t not in fixed and duals.get(t, 0.0) > TOLERANCE]
        if not binding:  # degenerate duals: fix whoever sits at the level
            chance = _type_chances(list(columns), probabilities, type_of, sizes)
            binding = [t for t in support if t not in fixed and chance[t] <= value + TOLERANCE]
        for t in binding:
            fixed[int(t)] = value
    chosen = [c for c, p in zip(columns, probabilities, strict=True) if p > TOLERANCE]
    weights_kept = np.array([p for p in probabilities if p > TOLERANCE])
    weights_kept = weights_kept / weights_kept.sum()
    chance = _type_chances(chosen, weights_kept, type_of, sizes)
    return Lottery(tuple(chosen), tuple(float(w) for w in weights_kept), type_of, chance[type_of], threshold,
                   levels)


def draw(lottery: Lottery, seed: int) -> tuple[int, ...]:
    """One cohort of the lottery for a seed: a cohort by its weight, then, type by type, which of
    that type's children uniformly (they are interchangeable under every rule)."""
    rng = np.random.default_rng([seed, 7919])
    pick = int(rng.choice(len(lottery.cohorts), p=np.array(lottery.weights)))
    cohort = lottery.cohorts[pick]
    chosen: list[int] = []
    for t in sorted({int(lottery.type_of[i]) for i in cohort}):
        need = sum(1 for i in cohort if lottery.type_of[i] == t)
        members = np.flatnonzero(lottery.type_of == t)
        chosen += [int(i) for i in rng.choice(members, size=need, replace=False)]
    return tuple(sorted(chosen))


def _type_chances(cohorts: list[tuple[int, ...]], probabilities: np.ndarray | list[float], type_of: np.ndarray,
                  sizes: np.ndarray) -> np.ndarray:
    chance = np.zeros(len(sizes))
    for cohort, p in zip(cohorts, probabilities, strict=True):
        np.add.at(chance, type_of[list(cohort)], p)
    return chance / sizes


def _master(cohorts: list[tuple[int, ...]], type_of: np.ndarray, sizes: np.ndarray, support: np.ndarray,
            fixed: dict[int, float]) -> tuple[float, list[float], dict[int, float], float]:
    """The master LP over the cohorts found: the largest level every unfixed type reaches while
    fixed types keep theirs. Returns the level, each cohort's probability, the duals of the
    types' rows (>= 0) and of the probabilities summing to 1."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    x = [solver.NumVar(0.0, 1.0, f"x{k}") for k in range(len(cohorts))]
    z = solver.NumVar(0.0, 1.0, "z")
    rows = {}
    counts = [np.bincount(type_of[list(c)], minlength=len(sizes)) for c in cohorts]
    for t in support:
        expression = sum(float(counts[k][t]) / sizes[t] * x[k] for k in range(len(cohorts)) if counts[k][t])
        if t in fixed:
            rows[int(t)] = solver.Add(expression >= fixed[t] - FIXED_SLACK)
        else:
            rows[int(t)] = solver.Add(expression - z >= 0)
    convexity = solver.Add(sum(x) == 1)
    solver.Maximize(z)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SolverError("the lottery's linear program has no solution.", "lottery_lp")
    duals = {t: row.dual_value() for t, row in rows.items()}
    mu = convexity.dual_value()
    if sum(duals[t] for t in duals if t not in fixed) < 0:  # the solver's sign convention
        duals = {t: -v for t, v in duals.items()}
        mu = -mu
    return z.solution_value(), [v.solution_value() for v in x], duals, mu


class _Pricer:
    """CP-SAT over the real rules: the cohort scoring at least the threshold that maximises a
    weighted sum of its children."""

    def __init__(self, problem: Problem, params: SelectionParams, threshold: int) -> None:
        self.problem = problem
        self.params = params
        self.threshold = threshold

    def best(self, weights: np.ndarray, time_limit: float) -> tuple[int, ...] | None:
        m = CohortModel(self.problem)
        m.model.add(m.score >= self.threshold)
        m.model.maximize(sum(int(w) * x for w, x in zip(weights, m.x, strict=True) if w))
        solver = make_solver(self.params, time_limit)
        status = solver.solve(m.model)
        if status == cp_model.OPTIMAL:
            return tuple(i for i in range(self.problem.n) if solver.boolean_value(m.x[i]))
        if status == cp_model.INFEASIBLE:
            return None
        raise SolverError("the lottery's search for a cohort did not finish in time.", "lottery_time",
                          fix="Allow more time.")
