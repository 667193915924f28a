"""The lottery's master LP: over the columns found so far, the largest level every type not yet
fixed reaches while fixed types keep theirs (or, when spreading, the smallest largest chance),
with one row per group of types that every column gives the same chance.

With columns j (each a lottery over cohorts: templates.py), a_tj each child of type t's chance
under column j, F the fixed types with their levels l_t, the level's LP is

    maximise z  over  p >= 0, z
    subject to  sum_j p_j = 1                          (dual mu)
                sum_j a_tj p_j >= z     for t not in F (dual y_t >= 0)
                sum_j a_tj p_j >= l_t   for t in F     (dual y_t >= 0)

and its dual: minimise mu - sum_(t in F) y_t l_t subject to sum_(t not in F) y_t = 1 and, for
every column j, sum_t y_t a_tj <= mu. So a column can raise z only if its worth under the
weights y, sum_t y_t a_tj, exceeds mu, the worth of the columns the LP uses (their reduced cost
is 0): that is what pricing looks for, per child (y_t shared by the type's children,
`per_child`). When no cohort is worth more, z is the level, and the types whose y_t > 0 bind
there and are fixed (the leximin step of Flanigan et al. 2021; sortition-algorithms' leximin
writes the same LP). Spreading replaces the objective by: minimise the largest chance, with
sum_j a_tj p_j <= largest for every type, every type keeping its level.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from ortools.linear_solver import pywraplp

from ..contract.errors import SolverError
from .fit import distinct_rows
from .templates import Column

FIXED_SLACK = 1e-7  # a fixed level may give back GLOP's own feasibility tolerance, so the LP stays feasible
HASH_SEED = 2021  # the salts of the rows' hashes (any fixed number: the grouping is checked entry by entry)


class Master:
    """The master LP over the columns found, kept between solves (GLOP starts from its last
    basis): the largest level every unfixed type reaches while fixed types keep theirs.

    Types that every column found gives the same chance share one row (a *group*): identical
    rows change nothing in the LP, and at 60,000 children ~57,000 types fill a few thousand
    rows. A group is split when a new column tells its types apart, and a group's dual is
    shared by its children evenly (an optimal dual of the LP with a row per type)."""

    def __init__(self, support: np.ndarray, sizes: np.ndarray, columns: Sequence[Column], type_of: np.ndarray) -> None:
        self.sizes = sizes
        self.group_of, self.terms = group_types(np.asarray(support, dtype=np.int64), len(sizes),
                                                *columns_entries(columns, type_of))
        self.columns = len(columns)
        self.fixed: dict[int, float] = {}  # group -> its level
        self.spreading = False
        self._build()

    def _build(self) -> None:
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.z = self.solver.NumVar(0.0, 1.0, "z")
        self.total = self.solver.Constraint(1.0, 1.0)  # the probabilities sum to 1
        # No upper bound (the probabilities sum to 1 anyway): a column the LP uses is then never
        # held at a bound, so its reduced cost is 0 and its worth is the price (leximin._improve).
        self.x = [self.solver.NumVar(0.0, self.solver.infinity(), f"x{j}") for j in range(self.columns)]
        for x in self.x:
            self.total.SetCoefficient(x, 1.0)
        self.rows = [self._row(g) for g in range(len(self.terms))]
        if self.spreading:
            self._caps()
        else:
            self.solver.Maximize(self.z)

    def _row(self, g: int) -> pywraplp.Constraint:
        row = self.solver.Constraint(0.0, self.solver.infinity())
        if g in self.fixed:
            row.SetLb(self.fixed[g] - FIXED_SLACK)
        else:
            row.SetCoefficient(self.z, -1.0)
        for j, c in self.terms[g].items():
            row.SetCoefficient(self.x[j], c)
        return row

    def add(self, column: Column, type_of: np.ndarray) -> None:
        """A new column; groups whose types it gives different chances are split first."""
        j = len(self.x)
        types, values = column_entries(column, type_of)
        inside = self.group_of[types] >= 0  # a type outside the LP (not found before the levels) only gains
        types, values = types[inside], values[inside]
        groups = self.group_of[types]
        x = self.solver.NumVar(0.0, self.solver.infinity(), f"x{j}")
        self.total.SetCoefficient(x, 1.0)
        self.x.append(x)
        self.columns += 1
        if not len(types):
            return
        _parts, first, part = distinct_rows(np.stack([groups, values.view(np.int64)], axis=1))
        order = np.argsort(part, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(part))))
        size = np.bincount(self.group_of[self.group_of >= 0])
        by_group: dict[int, list[int]] = {}
        for p in np.argsort(first, kind="stable").tolist():  # parts in order of first appearance
            by_group.setdefault(int(groups[first[p]]), []).append(p)
        for g, parts in by_group.items():
            held = sum(int(bounds[p + 1] - bounds[p]) for p in parts)
            for k, p in enumerate(parts):
                # The types the column leaves out keep the group; if it holds them all, the first part does.
                target = g if (k == 0 and held == size[g]) else self._split(g, types[order[bounds[p]:bounds[p + 1]]])
                value = float(values[first[p]])
                self.terms[target][j] = value
                self.rows[target].SetCoefficient(x, value)
                if self.spreading:
                    self.caps[target].SetCoefficient(x, value)

    def extend(self, columns: Sequence[Column], type_of: np.ndarray) -> None:
        """Every column found, the ones already in the LP first and in the same order, with many
        new ones: the LP built afresh over them (thousands of columns at once, where adding them
        one by one costs more than the LP), each type keeping the level it was fixed at."""
        if self.spreading:
            raise ValueError("columns are added in bulk only while the levels are raised")
        support = np.flatnonzero(self.group_of >= 0)
        level = {int(t): self.fixed[int(self.group_of[t])] for t in support if int(self.group_of[t]) in self.fixed}
        self.group_of, self.terms = group_types(support, len(self.sizes), *columns_entries(columns, type_of))
        # Types in one group now were in one group before (more columns only tell more apart).
        self.fixed = {int(self.group_of[t]): value for t, value in level.items()}
        self.columns = len(columns)
        self._build()

    def _split(self, g: int, members: np.ndarray) -> int:
        """A new group of these types of group g, with g's row."""
        new = len(self.terms)
        self.terms.append(dict(self.terms[g]))
        self.group_of[members] = new
        if g in self.fixed:
            self.fixed[new] = self.fixed[g]
        self.rows.append(self._row(new))
        if self.spreading:
            self.caps.append(self._cap(new))
        return new

    def unfixed(self) -> list[int]:
        return [g for g in range(len(self.terms)) if g not in self.fixed]

    def first_types(self) -> np.ndarray:
        """Each group's first type (-1 for a group that holds none)."""
        where = np.flatnonzero(self.group_of >= 0)
        first = np.full(len(self.terms), len(self.group_of), dtype=np.int64)
        np.minimum.at(first, self.group_of[where], where)  # unbuffered: every type of a group is compared
        first[first == len(self.group_of)] = -1
        return first

    def per_child(self, duals: np.ndarray) -> np.ndarray:
        """Each type's dual per child: its group's dual shared evenly by the group's children
        (below zero only when spreading: a child at the largest chance weighs against a cohort)."""
        inside = self.group_of >= 0
        children = np.bincount(self.group_of[inside], weights=self.sizes[inside], minlength=len(self.terms))
        share = np.zeros(len(self.sizes))
        signed = duals if self.spreading else np.maximum(duals, 0.0)
        share[inside] = signed[self.group_of[inside]] / children[self.group_of[inside]]
        return share

    def fix(self, g: int, value: float) -> None:
        self.rows[g].SetCoefficient(self.z, 0.0)
        self.rows[g].SetLb(value - FIXED_SLACK)
        self.fixed[g] = value

    def spread(self) -> float:
        """From now on every group keeps at least the level reached, and the LP makes the largest
        chance as small as it can be. The level."""
        level = self.solve()[0]
        for g in self.unfixed():
            self.fix(g, level)
        self.spreading = True
        self._caps()
        return level

    def _caps(self) -> None:
        self.largest = self.solver.NumVar(0.0, 1.0, "largest")
        self.caps = [self._cap(g) for g in range(len(self.terms))]
        self.solver.Minimize(self.largest)

    def _cap(self, g: int) -> pywraplp.Constraint:
        cap = self.solver.Constraint(-self.solver.infinity(), 0.0)
        cap.SetCoefficient(self.largest, -1.0)
        for j, c in self.terms[g].items():
            cap.SetCoefficient(self.x[j], c)
        return cap

    def solve(self) -> tuple[float, list[float], np.ndarray]:
        """The level (when spreading: the largest chance), each column's probability, and each
        group's dual (>= 0; when spreading, that of its floor plus that of its cap, <= 0)."""
        status = self.solver.Solve()
        if status == pywraplp.Solver.ABNORMAL:  # GLOP lost its way from the last basis: afresh
            self._build()
            status = self.solver.Solve()
        if status != pywraplp.Solver.OPTIMAL:
            raise SolverError("the lottery's linear program has no solution.", "lottery_lp")
        duals = np.array([row.dual_value() for row in self.rows])
        probabilities = [v.solution_value() for v in self.x]
        if self.spreading:
            caps = np.array([cap.dual_value() for cap in self.caps])
            if caps.sum() > 0:  # the solver's sign convention: a cap binding weighs against
                duals, caps = -duals, -caps
            return self.largest.solution_value(), probabilities, duals + caps
        if duals[self.unfixed()].sum() < 0:  # the solver's sign convention
            duals = -duals
        return self.z.solution_value(), probabilities, duals


def column_entries(column: Column, type_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The types a column holds and each one's chance per child (pools are unions of types; a
    child of a type gets 1/size of each pool holding it)."""
    _column, held, value = columns_entries([column], type_of)
    return held, value


def columns_entries(columns: Sequence[Column], type_of: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every column's entries at once (a few thousand columns in one sort, not one each): for each
    column in order and each type it holds, in order, the column's number, the type and its chance
    per child."""
    sizes = np.array([len(pool) for column in columns for pool in column.pools], dtype=np.int64)
    pool_column = np.repeat(np.arange(len(columns)), [len(column.pools) for column in columns])
    children = np.fromiter(itertools.chain.from_iterable(pool for column in columns for pool in column.pools),
                           dtype=np.int64, count=int(sizes.sum()))
    # Each (pool, type) pair once, pool by pool and type by type; then each (column, type) with
    # its pools' shares added in pool order.
    span = int(type_of.max(initial=0)) + 1
    pairs = np.unique(np.repeat(np.arange(len(sizes)), sizes) * span + type_of[children])
    pool, held = np.divmod(pairs, span)
    keys, where = np.unique(pool_column[pool] * span + held, return_inverse=True)
    column, held = np.divmod(keys, span)
    return column, held, np.bincount(where, weights=1.0 / sizes[pool], minlength=len(keys))


def row_hash(column: np.ndarray, held: np.ndarray, value: np.ndarray, types: int) -> np.ndarray:
    """A 64-bit hash of each type's row (its chance in each column), to compare rows at once."""
    salt = np.random.default_rng(HASH_SEED).integers(1, 2**62, size=int(column.max(initial=0)) + 1, dtype=np.uint64)
    bits = value.view(np.uint64)
    hashed = np.zeros(types, dtype=np.uint64)
    np.add.at(hashed, held, salt[column] * (bits | np.uint64(1)) + (bits >> np.uint64(29)))
    return hashed


def group_types(support: np.ndarray, types: int, column: np.ndarray, held: np.ndarray, value: np.ndarray
                ) -> tuple[np.ndarray, list[dict[int, float]]]:
    """Groups of the support's types that every column gives the same chance (each type's group,
    -1 outside the support; each group's chance per column), from the columns' entries (each
    column's number, a type it holds, the type's chance per child in it). Rows are compared by a
    hash and then checked entry by entry; should the check ever fail, every type keeps a row of
    its own."""
    inside = np.zeros(types, dtype=bool)
    inside[support] = True
    column, held = np.asarray(column, dtype=np.int64), np.asarray(held, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    keep = inside[held]
    column, held, value = column[keep], held[keep], value[keep]
    hashed = row_hash(column, held, value, types)
    count = np.bincount(held, minlength=types)
    _rows, first, group = distinct_rows(np.stack([hashed[support].view(np.int64), count[support]], axis=1))
    renumber = np.argsort(np.argsort(first, kind="stable"), kind="stable")  # groups in order of their first type
    group_of = np.full(types, -1, dtype=np.int64)
    group_of[support] = renumber[group]
    order = np.lexsort((column, held))  # entries type by type, column by column
    column, held, value = column[order], held[order], value[order]
    start = np.concatenate(([0], np.cumsum(count)))[:-1]
    first_type = np.full(len(first), -1, dtype=np.int64)
    first_type[group_of[support[::-1]]] = support[::-1]
    same_as = first_type[group_of[held]]  # each entry's counterpart in its group's first type
    counterpart = start[same_as] + (np.arange(len(held)) - start[held])
    if not (np.array_equal(column[counterpart], column) and np.array_equal(value[counterpart], value)):
        group_of[support] = np.arange(len(support))
        first_type = support.copy()
    terms: list[dict[int, float]] = [{} for _ in range(int(group_of.max(initial=-1)) + 1)]
    leads = np.flatnonzero(first_type[group_of[held]] == held)
    for e in leads.tolist():
        terms[int(group_of[held[e]])][int(column[e])] = float(value[e])
    return group_of, terms
