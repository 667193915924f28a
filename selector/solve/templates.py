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

from .fit import Fitter, distinct_flag_rows, distinct_rows, packed_words


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
    return Column(tuple(sorted(tuple(members_of[int(type_of[c])].tolist()) for c in cohort)))


class Roles:
    """What a cohort's members must hold for any stand-ins to keep the rules and the score (read
    from the Fitter's tables of who holds what)."""

    def __init__(self, fitter: Fitter) -> None:
        n = fitter.n
        self.n, self.threshold = n, fitter.threshold
        self.terms, start = [], 0
        for holds, weight, cap in fitter.terms:
            self.terms.append((start, start + holds.shape[1], weight, cap))
            start += holds.shape[1]
        self.holds = (np.concatenate([holds for holds, _w, _c in fitter.terms], axis=1) if fitter.terms
                      else np.zeros((n, 0), dtype=bool))
        # Each value's place when values are ordered rarest first (fewest holders; ties by position).
        self.rarity = np.argsort(np.argsort(self.holds.sum(axis=0), kind="stable"))
        self.held: dict[int, list[int]] = {}  # each child's values, rarest first (see _held)
        self.term_of = np.repeat(np.arange(len(self.terms)), [b - a for a, b, _w, _c in self.terms]).tolist()
        flags = fitter.count_flags.T.astype(bool)
        # Candidates alike for every count rule and holding the same values form one class;
        # pools are found class by class (far fewer than candidates).
        signature = np.concatenate([flags, self.holds], axis=1)
        first, self.class_of = distinct_flag_rows(signature)  # flags packed 64 to a word
        # Per class: its kind for the count rules, and the values it holds as bits (64 to a word),
        # so that the classes fit for a role are found with a few word operations each.
        self.class_kind = distinct_rows(flags[first])[2] if flags.shape[1] else np.zeros(len(first), dtype=np.int64)
        self.class_bits = packed_words(self.holds[first])
        # The classes of each count-rule kind, and their bits word by word: a role looks only
        # among its own kind (numpy's reductions over a few words cost more than the words).
        self.kind_classes = [np.flatnonzero(self.class_kind == k) for k in range(int(self.class_kind.max(initial=-1)) + 1)]
        self.kind_words = [[np.ascontiguousarray(self.class_bits[classes, w]) for w in range(self.class_bits.shape[1])]
                           for classes in self.kind_classes]
        self.class_order = np.argsort(self.class_of, kind="stable")
        self.class_bounds = np.concatenate(([0], np.cumsum(np.bincount(self.class_of))))
        self.classes = len(first)
        # For each spread rule: each candidate's binding group (-1: none), and the rule's max.
        self.groups = [(np.where(codes == shared, -1, codes), most) for codes, shared, most in fitter.spreads]
        # How many binding groups each rule has (worked out once, not per template: a pass over
        # the caseload each time).
        self.group_counts = [int(group.max(initial=-1)) + 1 for group, _most in self.groups]

    def roles(self, cohort: Sequence[int]) -> np.ndarray:
        """The members' values, less every value the score can spare (rarest first, since a rare
        value required narrows a pool most)."""
        held = [self._held(c) for c in cohort]
        holders = [0] * self.holds.shape[1]  # how many roles hold each value
        for values in held:
            for v in values:
                holders[v] += 1
        covered = [0] * len(self.terms)
        for v, h in enumerate(holders):
            if h:
                covered[self.term_of[v]] += 1
        score = sum(weight * min(c, cap) for c, (_a, _b, weight, cap) in zip(covered, self.terms, strict=True))
        kept_role, kept_value = [], []
        for k, values in enumerate(held):
            for v in values:  # its values, rarest first
                if holders[v] > 1:  # another role still covers it: the score is unchanged
                    holders[v] -= 1
                    continue
                t = self.term_of[v]
                weight, cap = self.terms[t][2], self.terms[t][3]
                loss = weight * (min(covered[t], cap) - min(covered[t] - 1, cap))
                if score - loss >= self.threshold:
                    holders[v] -= 1
                    covered[t] -= 1
                    score -= loss
                    continue
                kept_role.append(k)
                kept_value.append(v)
        roles = np.zeros((len(cohort), self.holds.shape[1]), dtype=bool)
        roles[kept_role, kept_value] = True
        return roles

    def _held(self, child: int) -> list[int]:
        """A child's values, rarest first (kept: the same children are in many cohorts)."""
        values = self.held.get(child)
        if values is None:
            row = np.flatnonzero(self.holds[child])
            values = self.held[child] = row[np.argsort(self.rarity[row])].tolist()
        return values

    def template(self, cohort: Sequence[int]) -> Column | None:
        """The template around a cohort that meets every rule and reaches the threshold, or None
        when a pool ends up empty."""
        cohort = list(cohort)
        needed = packed_words(self.roles(cohort))
        fit = []  # each role's classes: those of its member's kind for the count rules holding its values
        for member, role_words in zip(cohort, needed, strict=True):
            kind = int(self.class_kind[self.class_of[member]])
            holding = None
            for words, word in zip(self.kind_words[kind], role_words, strict=True):
                holds = (words & word) == word
                holding = holds if holding is None else holding & holds
            fit.append(self.kind_classes[kind] if holding is None else self.kind_classes[kind][holding])
        pools = self._pools(fit)
        for (group, most), shared in zip(self.groups, self.group_counts, strict=True):
            pools = self._spread(pools, group, most, [int(group[c]) for c in cohort], shared)
        if not all(len(p) for p in pools):
            return None
        return Column(tuple(sorted(tuple(p.tolist()) for p in pools)))

    def _pools(self, fit: list[np.ndarray]) -> list[np.ndarray]:
        """Each role's pool (positions, in order) from the classes fit for it: read class by
        class, not by a pass over the whole caseload, for every role at once; a child fit for
        two roles stays in the first one's pool."""
        role = np.repeat(np.arange(len(fit)), [len(classes) for classes in fit])
        classes = np.concatenate(fit)
        starts, ends = self.class_bounds[classes], self.class_bounds[classes + 1]
        lengths = ends - starts
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        members = self.class_order[offsets + np.arange(int(lengths.sum()))]
        role = np.repeat(role, lengths)
        order = np.lexsort((role, members))  # by child, then role: each child's first role first
        members, role = members[order], role[order]
        first = np.ones(len(members), dtype=bool)
        first[1:] = members[1:] != members[:-1]
        members, role = members[first], role[first]
        order = np.lexsort((members, role))  # by role, then child
        return np.split(members[order], np.cumsum(np.bincount(role, minlength=len(fit)))[:-1])

    @staticmethod
    def _spread(pools: list[np.ndarray], group: np.ndarray, most: int, own: list[int], shared: int
                ) -> list[np.ndarray]:
        """The pools (positions) with each binding group (of one spread rule) kept in at most `most` of them:
        the pools whose own member is in the group first, then the earliest. Each child is in one
        group only, so the groups are settled all at once (numpy, not a loop over groups). `shared`:
        the rule's number of groups (its codes are 0 to shared - 1, or -1 for none)."""
        if shared <= 0:
            return pools
        present = np.zeros((len(pools), shared + 1), dtype=bool)  # the last column: no group
        for k, pool in enumerate(pools):
            present[k, group[pool]] = True
        over = np.flatnonzero(present[:, :shared].sum(axis=0) > most)  # groups in too many pools
        if not len(over):
            return pools
        present = present[:, over]
        # Each pool's place in the order of keeping, per group: its own group's pools first.
        priority = np.arange(len(pools))[:, None] + len(pools) * (np.array(own)[:, None] != over)
        priority = np.where(present, priority, np.iinfo(np.int64).max)
        place = np.argsort(np.argsort(priority, axis=0, kind="stable"), axis=0, kind="stable")
        strip = present & (place >= most)
        kept = []
        for k, pool in enumerate(pools):
            banned = np.zeros(shared + 1, dtype=bool)  # group -1 reads the last entry: never banned
            banned[over[strip[k]]] = True
            kept.append(pool[~banned[group[pool]]])
        return kept
