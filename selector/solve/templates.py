"""Columns of the lottery: many cohorts at once.

A column is a short list of pools of candidates (one pool per place in the cohort): a draw
takes one child from each pool, uniformly, the same pool listed twice giving two different
children. Every such choice is a cohort that meets every hard rule and reaches the lottery's
score, so a column is a small lottery of its own whose chances are exact: a child's chance is
the sum, over the pools holding it, of one over the pool's size.

Two kinds:
- a cohort: each member's pool is its type (children alike for every rule and objective term
  and binding spread key); swapping children of one type keeps every rule and the score.
- a template, built around a cohort: each member's pool holds every candidate who can stand in
  for the member's *role*: the member's values for every count rule, and at least those of its
  objective values the score needs (values the score can spare are dropped, rarest first). A
  child with a superset of a role's values covers at least what the role covers, so any choice
  from the pools scores at least the role's score; binding spread keys are kept to as many pools
  as the rule allows, and a child in two pools is kept in the first only. One template moves
  the chances of whole groups of children at once, which a list of single cohorts cannot.

Pools are unions of types, so children of one type always have equal chances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .problem import Problem


@dataclass(frozen=True)
class Column:
    """Pools of candidate positions (sorted), one per place in the cohort: a pool listed more
    than once is drawn without replacement; different pools share no one."""

    pools: tuple[tuple[int, ...], ...]

    def worth(self, weights: np.ndarray) -> float:
        """The expected total weight of a cohort drawn from this column."""
        return float(sum(weights[list(pool)].mean() for pool in self.pools))

    def picks(self) -> list[tuple[tuple[int, ...], int]]:
        """Each distinct pool and how many children to take from it, in pool order."""
        counts: dict[tuple[int, ...], int] = {}
        for pool in self.pools:
            counts[pool] = counts.get(pool, 0) + 1
        return list(counts.items())


def cohort_column(cohort: Sequence[int], type_of: np.ndarray, members_of: list[np.ndarray]) -> Column:
    """A cohort as a column: each member's pool is its type."""
    return Column(tuple(sorted(tuple(int(i) for i in members_of[int(type_of[c])]) for c in cohort)))


class Roles:
    """What a cohort's members must hold for any stand-ins to keep the rules and the score."""

    def __init__(self, problem: Problem, threshold: int) -> None:
        n = problem.n
        self.n, self.threshold = n, threshold
        holds, self.terms, frequency = [], [], []
        start = 0
        for dim, values in zip(problem.rules.dimensions, problem.coverage, strict=True):
            if not values:
                continue
            for _value, holders in values:
                column = np.zeros(n, dtype=bool)
                column[holders] = True
                holds.append(column)
                frequency.append(len(holders))
            self.terms.append((start, start + len(values), dim.weight, dim.cap))
            start += len(values)
        self.holds = np.stack(holds, axis=1) if holds else np.zeros((n, 0), dtype=bool)
        self.rarest_first = np.argsort(np.array(frequency), kind="stable")
        flags = np.zeros((n, len(problem.count_members)), dtype=bool)
        for r, members in enumerate(problem.count_members):
            flags[members, r] = True
        # Candidates alike for every count rule and holding the same values form one class;
        # pools are found class by class (far fewer than candidates).
        signature = np.concatenate([flags, self.holds], axis=1)
        _unique, first, self.class_of = np.unique(signature, axis=0, return_index=True, return_inverse=True)
        self.class_of = self.class_of.ravel()
        self.class_flags = flags[first]
        self.class_holds = self.holds[first]
        order = np.argsort(self.class_of, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(self.class_of))))
        self.class_members = [order[bounds[c]:bounds[c + 1]] for c in range(len(first))]
        self.groups = []  # for each spread rule: each candidate's binding group (-1: none), and the rule's max
        for rule, groups in zip(problem.rules.spreads, problem.spread_groups, strict=True):
            group = np.full(n, -1, dtype=np.int64)
            for g, members in enumerate(groups):
                group[members] = g
            self.groups.append((group, rule.max))

    def score(self, roles: np.ndarray) -> int:
        """The score any cohort whose members hold at least these roles' values reaches."""
        covered = roles.any(axis=0)
        return sum(weight * min(int(covered[a:b].sum()), cap) for a, b, weight, cap in self.terms)

    def roles(self, cohort: Sequence[int]) -> np.ndarray:
        """The members' values, less every value the score can spare (rarest first, since a rare
        value required narrows a pool most)."""
        roles = self.holds[list(cohort)].copy()
        for k in range(len(cohort)):
            for v in self.rarest_first:
                if roles[k, v]:
                    roles[k, v] = False
                    if self.score(roles) < self.threshold:
                        roles[k, v] = True
        return roles

    def template(self, cohort: Sequence[int]) -> Column | None:
        """The template around a cohort that meets every rule and reaches the threshold, or None
        when a pool ends up empty."""
        cohort = list(cohort)
        roles = self.roles(cohort)
        taken = np.zeros(self.n, dtype=bool)
        pools = []
        for k, member in enumerate(cohort):
            same_flags = (self.class_flags == self.class_flags[self.class_of[member]]).all(axis=1)
            holding = self.class_holds[:, roles[k]].all(axis=1)
            classes = np.flatnonzero(same_flags & holding)
            pool = np.zeros(self.n, dtype=bool)
            for c in classes:
                pool[self.class_members[c]] = True
            pool &= ~taken  # a child in two pools stays in the first
            taken |= pool
            pools.append(pool)
        for group, most in self.groups:
            for g in np.unique(np.concatenate([group[p] for p in pools])):
                if g < 0:
                    continue
                holding = [k for k, p in enumerate(pools) if (group[p] == g).any()]
                if len(holding) <= most:
                    continue
                own = [k for k in holding if group[cohort[k]] == g]
                keep = (own + [k for k in holding if k not in own])[:most]
                for k in holding:
                    if k not in keep:
                        pools[k] &= group != g
        if not all(p.any() for p in pools):
            return None
        return Column(tuple(sorted(tuple(int(i) for i in np.flatnonzero(p)) for p in pools)))
