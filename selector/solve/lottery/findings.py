"""What the column generation has found so far: the cohorts, the columns made of them (each
cohort, and the template around it), which types some column holds; and the rule checks it
makes, charged to the budget."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..fit import Fitter, Rests
from ..problem import Problem
from ..templates import Column, Roles, cohort_column
from .budget import CALL_WORK, CHECK_WORK, Meter
from .kinds import child_types


class Findings:
    """The cohorts and columns found for one lottery, on candidates in canonical order.

    Attributes:
        problem, threshold, meter: the candidates and rules, the lowest score a cohort of the
            lottery may have, the budget.
        type_of, sizes, members_of: each candidate's type, each type's size and members.
        first_member: each type's first member.
        cohorts: every cohort found, in the order found (swaps start from them).
        cohorts_found: the same, as a set (a cohort is taken once).
        columns, known: every column, in order and as a set.
        cohort_of: the cohort each column was made of (or around).
        bulk: the columns added in bulk (cohorts one swap from those the LP used, no template).
        seen: the types some column holds.
        always: the children every cohort of the lottery holds.
    """

    def __init__(self, problem: Problem, threshold: int, meter: Meter) -> None:
        self.problem, self.threshold, self.meter = problem, threshold, meter
        self.type_of = child_types(problem, threshold)
        self.sizes = np.bincount(self.type_of)
        order = np.argsort(self.type_of, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(self.sizes)))
        self.members_of = [order[bounds[t]:bounds[t + 1]] for t in range(len(self.sizes))]
        self.first_member = order[bounds[:-1]]  # each type's first child (its smallest position)
        self.fitter = Fitter(problem, threshold)
        self.roles = Roles(self.fitter)
        self.cohorts: list[tuple[int, ...]] = []
        self.cohorts_found: set[tuple[int, ...]] = set()
        self.columns: list[Column] = []
        self.known: set[Column] = set()
        self.cohort_of: dict[Column, tuple[int, ...]] = {}
        self.bulk: set[Column] = set()
        self.seen = np.zeros(len(self.sizes), dtype=bool)
        # Children every cohort of the lottery holds: the members of a count rule that needs all
        # of them (a replacement's members who stay); a cohort without one is never a cohort of
        # the lottery, so no swap or repair moves them.
        self.always = np.zeros(problem.n, dtype=bool)
        for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
            if rule.min is not None and rule.min >= len(members) > 0:
                self.always[members] = True

    def add(self, cohort: tuple[int, ...], template: bool = True) -> list[Column]:
        """Take a cohort found: as a column of its own, and (unless told not to) the template
        around it; the columns that are new."""
        if cohort in self.cohorts_found:
            return []
        self.cohorts_found.add(cohort)
        self.cohorts.append(cohort)
        self.meter.spend(CALL_WORK * (len(cohort) if template else 1)
                         + template * self.roles.classes * self.fitter.width * CHECK_WORK)
        columns: list[Column | None] = [cohort_column(cohort, self.type_of, self.members_of)]
        if template:
            columns.append(self.roles.template(cohort))
        return [column for column in columns if column is not None and self._take(column, cohort, bulk=not template)]

    def add_column(self, column: Column, cohort: tuple[int, ...]) -> bool:
        """Take a column made elsewhere (every draw from it a cohort of the lottery; `cohort` one
        of them); whether it is new."""
        self.meter.spend(CALL_WORK)
        return self._take(column, cohort, bulk=False)

    def _take(self, column: Column, cohort: tuple[int, ...], bulk: bool) -> bool:
        if column in self.known:
            return False
        self.known.add(column)
        self.columns.append(column)
        self.cohort_of[column] = cohort
        if bulk:
            self.bulk.add(column)
        for pool in column.pools:
            self.seen[self.type_of[list(pool)]] = True
        return True

    def keep(self, kept: Sequence[Column]) -> None:
        """Only these columns from now on (in this order)."""
        self.columns = list(kept)
        self.known = set(kept)
        self.bulk &= self.known

    def shortfalls(self, rests: Rests, among: np.ndarray) -> np.ndarray:
        """How far each rest with each candidate of `among` is from a cohort of the lottery
        (`Fitter.shortfalls`), charged to the budget."""
        self.meter.spend(len(rests) * self.check_cost(len(among)))
        return self.fitter.shortfalls(rests, among)

    def check_cost(self, candidates: int) -> float:
        """The work of checking one rest against this many candidates."""
        return CALL_WORK + candidates * self.fitter.width * CHECK_WORK

    def completes(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        """Which candidates of `among` make `rest` a cohort of the lottery."""
        return np.asarray(self.shortfalls([rest], among)[0] == 0)

    def chances(self, probabilities: Sequence[float] | np.ndarray, columns: Sequence[Column]) -> np.ndarray:
        """Each candidate's chance under these columns with these probabilities: a column's
        probability shared evenly by the children of each of its pools."""
        chance = np.zeros(self.problem.n)
        for column, p in zip(columns, probabilities, strict=True):
            if p == 0:  # most columns of an LP's answer (adding 0 changes no chance)
                continue
            for pool in column.pools:
                chance[list(pool)] += p / len(pool)
        return chance
