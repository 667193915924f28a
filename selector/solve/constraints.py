"""The CP-SAT model of one cohort choice: one boolean per candidate, one small function per hard
rule and per objective term, summed into the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from ortools.sat.python import cp_model

from ..contract.rules import CountRule, Dimension, SpreadRule
from .problem import Problem


class CohortModel:
    """A CP-SAT model of one cohort choice; each hard rule is guarded by a literal so that
    infeasibility can be explained and rules relaxed."""

    def __init__(self, problem: Problem, guarded: bool = False, *, earlier: Sequence[Sequence[int]] = (),
                 fixed: Sequence[int] = (), max_overlap: int = 0, exact: bool = False) -> None:
        self.problem = problem
        self.guarded = guarded
        self.model = cp_model.CpModel()
        self.x = [self.model.new_bool_var(f"x{i}") for i in range(problem.n)]
        self.guards: dict[str, cp_model.IntVar] = {}
        add_size(self)
        for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
            add_count_rule(self, rule, members)
        for spread, groups in zip(problem.rules.spreads, problem.spread_groups, strict=True):
            add_spread_rule(self, spread, groups)
        term = add_exact_coverage_term if exact else add_coverage_term
        self.score = sum(
            (term(self, dim, values)
             for dim, values in zip(problem.rules.dimensions, problem.coverage, strict=True)),
            start=cp_model.LinearExpr.constant(0) if hasattr(cp_model.LinearExpr, "constant") else 0,
        )
        add_overlap_limit(self, earlier, max_overlap)
        for i in fixed:
            self.model.add(self.x[i] == 1)

    def guard(self, name: str) -> list[cp_model.IntVar]:
        """The enforcement literals for a rule: none in a plain model (guards would stop
        CP-SAT's presolve), one when explaining or relaxing infeasibility."""
        if not self.guarded:
            return []
        literal = self.model.new_bool_var(f"rule:{name}")
        self.guards[name] = literal
        return [literal]


def add_size(m: CohortModel) -> None:
    """Exactly `size` children."""
    m.model.add(sum(m.x) == m.problem.rules.size)


def add_overlap_limit(m: CohortModel, earlier: Sequence[Sequence[int]], max_overlap: int) -> None:
    """At most `max_overlap` members shared with each better-ranked cohort."""
    for cohort in earlier:
        if cohort:
            m.model.add(sum(m.x[i] for i in cohort) <= max_overlap)


def add_count_rule(m: CohortModel, rule: CountRule, members: np.ndarray) -> None:
    """At least `min` / at most `max` of the children having the rule's values."""
    guard = m.guard(rule.name)
    chosen = sum(m.x[i] for i in members)
    if rule.min is not None:
        m.model.add(chosen >= rule.min).only_enforce_if(*guard)
    if rule.max is not None:
        m.model.add(chosen <= rule.max).only_enforce_if(*guard)


def add_spread_rule(m: CohortModel, rule: SpreadRule, groups: Sequence[np.ndarray]) -> None:
    """At most `max` children from each group sharing a setting or practitioner."""
    guard = m.guard(rule.name)
    for group in groups:
        if rule.max == 1:
            m.model.add_at_most_one(m.x[i] for i in group).only_enforce_if(*guard)
        else:
            m.model.add(sum(m.x[i] for i in group) <= rule.max).only_enforce_if(*guard)


def add_coverage_term(m: CohortModel, dim: Dimension, values: Sequence[tuple[str, np.ndarray]]) -> cp_model.LinearExpr:
    """weight x (values covered, up to cap): a value counts only if a chosen child has it."""
    covered = []
    for value, members in values:
        y = m.model.new_bool_var(f"cov:{dim.column}={value}")
        m.model.add_bool_or([m.x[i] for i in members]).only_enforce_if(y)
        covered.append(y)
    if len(covered) > dim.cap:
        m.model.add(sum(covered) <= dim.cap)
    return cast(cp_model.LinearExpr, dim.weight * sum(covered))


def add_exact_coverage_term(m: CohortModel, dim: Dimension, values: Sequence[tuple[str, np.ndarray]]
                            ) -> cp_model.LinearExpr:
    """weight x min(values covered, cap), every literal fixed by the choice of children (a value
    is covered exactly when a chosen child has it), so that listing every solution lists each
    cohort once (with `add_coverage_term` a cohort comes back once per way of counting values)."""
    covered = []
    for value, members in values:
        if not len(members):  # held by no candidate: never covered
            continue
        y = m.model.new_bool_var(f"cov:{dim.column}={value}")
        m.model.add_max_equality(y, [m.x[i] for i in members])
        covered.append(y)
    counted = m.model.new_int_var(0, min(dim.cap, len(covered)), f"counted:{dim.column}")
    m.model.add_min_equality(counted, [sum(covered), dim.cap])
    return dim.weight * counted


def add_never_twice(m: CohortModel, dimensions: Sequence[np.ndarray]) -> None:
    """Dimensions whose values no two members of a cohort share, each as every candidate's value
    (-1: none), as `lottery.kinds.apart` finds them from the score a cohort must reach: at most
    one holder of each value, and no candidate without one (a member holding none leaves the
    dimension a value short, as two sharing one do). Implied by the score; stated so that
    CP-SAT prunes by it (the cohorts allowed are the same)."""
    left_out = np.zeros(m.problem.n, dtype=bool)
    for value in dimensions:
        order = np.argsort(value, kind="stable")
        codes, starts, counts = np.unique(value[order], return_index=True, return_counts=True)
        for code, start, count in zip(codes.tolist(), starts.tolist(), counts.tolist(), strict=True):
            if code >= 0 and count > 1:
                m.model.add_at_most_one(m.x[i] for i in order[start:start + count].tolist())
        left_out |= value < 0
    for i in np.flatnonzero(left_out).tolist():
        m.model.add(m.x[i] == 0)
