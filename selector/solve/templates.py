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


class Fitter:
    """Which candidates complete a cohort that is one child short, under every hard rule and
    with a score of at least `threshold`: numpy checks every candidate at once, so swapping one
    child of a cohort for each possible other costs one pass over the caseload."""

    def __init__(self, problem: Problem, threshold: int) -> None:
        n, rules = problem.n, problem.rules
        self.n, self.size, self.threshold = n, rules.size, threshold
        self.count_flags = np.zeros((len(rules.counts), n), dtype=np.int16)
        for r, members in enumerate(problem.count_members):
            self.count_flags[r, members] = 1
        self.count_min = np.array([rule.min or 0 for rule in rules.counts], dtype=np.int16)
        self.count_max = np.array([rules.size if rule.max is None else rule.max for rule in rules.counts],
                                  dtype=np.int16)
        self.spreads = []
        for rule, groups in zip(rules.spreads, problem.spread_groups, strict=True):
            codes = np.full(n, len(groups), dtype=np.int64)  # the last code: a group no one shares
            for g, members in enumerate(groups):
                codes[members] = g
            self.spreads.append((codes, len(groups), rule.max))
        self.width = len(rules.counts) + len(rules.spreads)  # checks per candidate, for the work meter
        self.terms = []
        for dim, values in zip(rules.dimensions, problem.coverage, strict=True):
            if not values:
                continue
            holds = np.zeros((n, len(values)), dtype=bool)
            for v, (_value, holders) in enumerate(values):
                holds[holders, v] = True
            self.terms.append((holds, dim.weight, dim.cap))
            self.width += len(values)
        # Candidates are checked by kind: those alike for the count rules, or holding the same
        # values of one term, are worked out once and each candidate reads its kind's answer
        # (a few dozen kinds, so checking every candidate is a lookup, not a copy of the tables).
        self.count_kinds = _kinds(self.count_flags.T)
        self.term_kinds = [_kinds(holds) for holds, _weight, _cap in self.terms]

    def score(self, cohort: Sequence[int]) -> int:
        """A cohort's score."""
        return sum(weight * min(int(holds[list(cohort)].any(axis=0).sum()), cap) for holds, weight, cap in self.terms)

    def completes(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        """Which of the candidates `among` (positions) make `rest` a full cohort that meets every
        hard rule and reaches the threshold."""
        return self.shortfall(rest, among) == 0

    def shortfall(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        """For each of the candidates `among`, how far `rest` with that child is from a cohort
        of the lottery: the score missing plus the children too many or too few for each hard
        rule (0: a cohort of the lottery)."""
        return self.shortfalls([rest], among)[0]

    def shortfalls(self, rests: Sequence[Sequence[int]], among: np.ndarray) -> np.ndarray:
        """`shortfall` for several rests of one size at once (a row each): a cohort's every slot
        is checked in one pass, with numpy's overhead paid once."""
        if not len(rests):
            return np.zeros((0, len(among)), dtype=np.int64)
        rests = np.asarray(rests, dtype=np.int64).reshape(len(rests), -1)
        count, size = rests.shape
        member = np.zeros((count, self.n), dtype=bool)  # who is in each rest already
        member[np.repeat(np.arange(count), size), rests.ravel()] = True
        short = np.where(member[:, among], 10**6, 0).astype(np.int64)
        if len(self.count_min):
            kinds, kind_of = self.count_kinds
            total = kinds[None, :, :] + self.count_flags[:, rests].sum(axis=2).T[:, None, :]
            missing = (np.maximum(self.count_min - total, 0) + np.maximum(total - self.count_max, 0)).sum(axis=2)
            short += missing[:, kind_of[among]]
        for codes, shared, most in self.spreads:
            used = np.zeros((count, shared + 1), dtype=np.int64)
            np.add.at(used, (np.repeat(np.arange(count), size), codes[rests].ravel()), 1)
            used[:, shared] = 0  # the last code: a group no one shares
            short += np.maximum(used - most, 0).sum(axis=1)[:, None] + (used[:, codes[among]] + 1 > most)
        score = np.zeros((count, len(among)), dtype=np.int64)
        for (holds, weight, cap), (kinds, kind_of) in zip(self.terms, self.term_kinds, strict=True):
            covered = holds[rests].any(axis=1)
            gained = (~covered).astype(np.int64) @ kinds.T.astype(np.int64)
            per_kind = weight * np.minimum(covered.sum(axis=1)[:, None] + gained, cap)
            score += per_kind[:, kind_of[among]]
        return short + np.maximum(self.threshold - score, 0)


def distinct_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As np.unique(table, axis=0, return_index=True, return_inverse=True) (the distinct rows in
    the same order, the first row of each, each row's number), without sorting whole rows:
    each column is numbered and the numbers are joined column by column into one integer key
    (a key that could grow too large is renumbered first, which keeps its order), so tens of
    thousands of rows are grouped in milliseconds."""
    key = np.zeros(len(table), dtype=np.int64)
    for column in table.T:
        _values, codes = np.unique(column, return_inverse=True)
        base = int(codes.max()) + 1 if len(codes) else 1
        if int(key.max(initial=0)) >= (2**62) // base:
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        key = key * base + codes
    _keys, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return table[first], first, inverse.ravel()


def _kinds(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a table (candidates by columns) and each candidate's row number."""
    if table.shape[1] == 0:
        return np.zeros((1, 0), dtype=table.dtype), np.zeros(len(table), dtype=np.int64)
    kinds, _first, kind_of = distinct_rows(table)
    return kinds, kind_of


def _words(bits: np.ndarray) -> np.ndarray:
    """Rows of booleans packed into 64-bit words."""
    packed = np.packbits(bits, axis=1, bitorder="little")
    padded = np.zeros((len(bits), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    padded[:, :packed.shape[1]] = packed
    return padded.view(np.uint64)


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
        self.rarest_first = np.argsort(self.holds.sum(axis=0), kind="stable").tolist()
        self.term_of = np.repeat(np.arange(len(self.terms)), [b - a for a, b, _w, _c in self.terms]).tolist()
        flags = fitter.count_flags.T.astype(bool)
        # Candidates alike for every count rule and holding the same values form one class;
        # pools are found class by class (far fewer than candidates).
        signature = np.concatenate([flags, self.holds], axis=1)
        _unique, first, self.class_of = distinct_rows(signature)
        # Per class: its kind for the count rules, and the values it holds as bits (64 to a word),
        # so that the classes fit for a role are found with a few word operations each.
        self.class_kind = distinct_rows(flags[first])[2] if flags.shape[1] else np.zeros(len(first), dtype=np.int64)
        self.class_bits = _words(self.holds[first])
        order = np.argsort(self.class_of, kind="stable")
        bounds = np.concatenate(([0], np.cumsum(np.bincount(self.class_of))))
        self.class_members = [order[bounds[c]:bounds[c + 1]] for c in range(len(first))]
        # For each spread rule: each candidate's binding group (-1: none), and the rule's max.
        self.groups = [(np.where(codes == shared, -1, codes), most) for codes, shared, most in fitter.spreads]

    def roles(self, cohort: Sequence[int]) -> np.ndarray:
        """The members' values, less every value the score can spare (rarest first, since a rare
        value required narrows a pool most)."""
        roles = self.holds[list(cohort)].copy()
        holders = roles.sum(axis=0)  # how many roles hold each value
        covered = [int((holders[a:b] > 0).sum()) for a, b, _weight, _cap in self.terms]
        score = sum(weight * min(c, cap) for c, (_a, _b, weight, cap) in zip(covered, self.terms, strict=True))
        for k in range(len(cohort)):
            for v in self.rarest_first:
                if not roles[k, v]:
                    continue
                if holders[v] > 1:  # another role still covers it: the score is unchanged
                    roles[k, v] = False
                    holders[v] -= 1
                    continue
                t = self.term_of[v]
                weight, cap = self.terms[t][2], self.terms[t][3]
                loss = weight * (min(covered[t], cap) - min(covered[t] - 1, cap))
                if score - loss >= self.threshold:
                    roles[k, v] = False
                    holders[v] -= 1
                    covered[t] -= 1
                    score -= loss
        return roles

    def template(self, cohort: Sequence[int]) -> Column | None:
        """The template around a cohort that meets every rule and reaches the threshold, or None
        when a pool ends up empty."""
        cohort = list(cohort)
        roles = self.roles(cohort)
        taken = np.zeros(self.n, dtype=bool)
        pools = []
        for k, member in enumerate(cohort):
            same_flags = self.class_kind == self.class_kind[self.class_of[member]]
            needed = _words(roles[k][None, :])[0]
            holding = ((self.class_bits & needed) == needed).all(axis=1)
            pool = (same_flags & holding)[self.class_of] & ~taken  # a child in two pools stays in the first
            taken |= pool
            pools.append(pool)
        for group, most in self.groups:
            pools = self._spread(pools, group, most, [int(group[c]) for c in cohort])
        if not all(p.any() for p in pools):
            return None
        return Column(tuple(sorted(tuple(np.flatnonzero(p).tolist()) for p in pools)))

    @staticmethod
    def _spread(pools: list[np.ndarray], group: np.ndarray, most: int, own: list[int]) -> list[np.ndarray]:
        """The pools with each binding group (of one spread rule) kept in at most `most` of them:
        the pools whose own member is in the group first, then the earliest. Each child is in one
        group only, so the groups are settled all at once (numpy, not a loop over groups)."""
        shared = int(group.max()) + 1
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
            kept.append(pool & ~banned[group])
        return kept
