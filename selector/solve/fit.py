"""The hard rules and the capped score, checked in numpy for every candidate at once.

A `Fitter` answers, for a cohort with one place free (a *rest*) and every candidate who could
take it: how far the cohort would be from meeting the rules and what it would score. Swapping one
child of a cohort for each possible other then costs one pass over the caseload. The lottery
(placing children, pricing, templates) and the reserves read it; the CP-SAT model
(constraints.py) states the same rules for the solver, and `check.py` checks them apart from both.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np

from .problem import Problem

# Cohorts less one member, a row each (positions of children).
Rests = Sequence[Sequence[int]] | Sequence[np.ndarray] | np.ndarray


def rests_of(cohorts: Sequence[tuple[int, ...]], staying: np.ndarray | None = None) -> list[tuple[int, ...]]:
    """Each cohort less each of its members in turn, cohort by cohort and place by place: every
    place of several cohorts checked in one pass. With `staying` (a flag per candidate), a
    member so flagged is never left out (a rest without a member every cohort holds is
    completed by no one)."""
    return [cohort[:slot] + cohort[slot + 1:] for cohort in cohorts for slot in range(len(cohort))
            if staying is None or not staying[cohort[slot]]]


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
        # Each spread rule's groups, member by member (where each group starts, and the members
        # in group order): a candidate whose group a rest has filled is found by its group.
        self.spread_members = []
        for codes, shared, _most in self.spreads:
            order = np.argsort(codes, kind="stable")
            self.spread_members.append((np.searchsorted(codes[order], np.arange(shared + 2)), order))
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
        self.term_kinds_float = [kinds.T.astype(np.float64) for kinds, _kind_of in self.term_kinds]
        # Candidates alike for every count rule and term (a *class*) get the same answer from
        # both: it is worked out once per class and read by each candidate with one lookup.
        kind_columns = [self.count_kinds[1]] + [kind_of for _kinds_, kind_of in self.term_kinds]
        _rows, first, self.class_of = distinct_rows(np.stack(kind_columns, axis=1))
        self.class_count_kind = self.count_kinds[1][first]
        self.class_term_kinds = [kind_of[first] for _kinds_, kind_of in self.term_kinds]

    def at(self, threshold: int) -> Fitter:
        """The same checker with another threshold (its tables shared, not built again)."""
        other = copy.copy(self)
        other.threshold = threshold
        return other

    def score(self, cohort: Sequence[int]) -> int:
        """A cohort's score."""
        return sum(weight * min(int(holds[list(cohort)].any(axis=0).sum()), cap) for holds, weight, cap in self.terms)

    def completes(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        """Which of the candidates `among` (positions) make `rest` a full cohort that meets every
        hard rule and reaches the threshold."""
        return np.asarray(self.shortfall(rest, among) == 0)

    def shortfall(self, rest: Sequence[int], among: np.ndarray) -> np.ndarray:
        """For each of the candidates `among`, how far `rest` with that child is from a cohort
        of the lottery: the score missing plus the children too many or too few for each hard
        rule (0: a cohort of the lottery)."""
        return np.asarray(self.shortfalls([rest], among)[0])

    def shortfalls(self, rests: Rests, among: np.ndarray) -> np.ndarray:
        """`shortfall` for several rests of one size at once (a row each): a cohort's every slot
        is checked in one pass, with numpy's overhead paid once."""
        hits, over, class_breaks, class_score, classes = self._checks(rests, among)
        answer = (class_breaks + np.maximum(self.threshold - class_score, 0) + over[:, None])[:, classes]
        np.add.at(answer, (hits[0], hits[1]), hits[2])
        return np.asarray(answer)

    def swaps(self, rests: Rests, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each rest (a row) and each candidate of `among` (a column): how many children too
        many or too few the hard rules find in the rest with that candidate (a candidate already
        in the rest counts as a million), and the score of that cohort."""
        hits, over, class_breaks, class_score, classes = self._checks(rests, among)
        breaks = (class_breaks + over[:, None])[:, classes]
        np.add.at(breaks, (hits[0], hits[1]), hits[2])
        return breaks, class_score[:, classes]

    def _checks(self, rests: Rests, among: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What depends on each candidate itself (a rest's own member, a spread rule's group the
        rest has filled) as the few (rest, candidate, amount) it touches, and each rest over a
        spread limit on its own; what depends only on a candidate's class (the count rules, the
        score), per rest and class; and each candidate's class."""
        among = np.asarray(among, dtype=np.int64)
        if len(among) > len(self.class_count_kind):  # many candidates: worked out per class
            classes = self.class_of[among]
            count_kind, term_kinds = self.class_count_kind, self.class_term_kinds
        else:  # a few: per candidate (each its own "class")
            classes = np.arange(len(among))
            count_kind = self.count_kinds[1][among]
            term_kinds = [kind_of[among] for _kinds_, kind_of in self.term_kinds]
        width = len(count_kind)
        rows = (np.asarray(rests, dtype=np.int64).reshape(len(rests), -1) if len(rests)
                else np.zeros((0, self.size - 1), dtype=np.int64))
        count = len(rows)
        hits, over = self._own(rows, among)
        # 32-bit sums (a score and a count of children): half the memory the tables as wide as
        # the classes pass through, and on caseloads where nearly every child is a class of its
        # own (many services), those tables are most of a check. A score is at most a weight
        # (<= 1,000) x a cap (<= 1,000) per column of the caseload, far below 2**31.
        if len(self.count_min) and count:
            kinds, _kind_of = self.count_kinds
            total = kinds[None, :, :] + self.count_flags[:, rows].sum(axis=2).T[:, None, :]
            missing = (np.maximum(self.count_min - total, 0) + np.maximum(total - self.count_max, 0)).sum(axis=2)
            class_breaks = missing.astype(np.int32)[:, count_kind]
        else:
            class_breaks = np.zeros((count, width), dtype=np.int32)
        class_score = np.zeros((count, width), dtype=np.int32)
        if not count:
            return hits, over, class_breaks, class_score, classes
        for (holds, weight, cap), kinds, kind_of_class in zip(self.terms, self.term_kinds_float, term_kinds, strict=True):
            covered = holds[rows].any(axis=1)
            # Counts of at most a few dozen, exact in floating point, where BLAS multiplies
            # (an integer product is numpy's own loop, many times slower with thousands of kinds).
            gained = (~covered).astype(np.float64) @ kinds
            per_kind = (weight * np.minimum(covered.sum(axis=1)[:, None] + gained, cap)).astype(np.int32)
            class_score += per_kind[:, kind_of_class]
        return hits, over, class_breaks, class_score, classes

    def _own(self, rows: np.ndarray, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The checks that depend on the candidate itself, as sparse additions: a candidate who
        is in the rest already (a million), or whose group under a spread rule the rest has
        filled (one per rule), as rows (rest, candidate's index in `among`, amount); and each
        rest's children over a spread limit on their own. Only the rest's few members and
        their groups' members are looked at, not every candidate against every member (which
        took most of a check at 60,000 children). The candidates must be distinct."""
        count, size = rows.shape
        where = np.full(self.n, -1, dtype=np.int64)  # each child's index in `among`
        where[among] = np.arange(len(among))
        index = where[rows]
        at, place = np.nonzero(index >= 0)
        parts = [(at, index[at, place], np.full(len(at), 10**6, dtype=np.int64))]
        over = np.zeros(count, dtype=np.int64)
        for (codes, shared, most), (starts, members) in zip(self.spreads, self.spread_members, strict=True):
            held = np.where(codes[rows] == shared, -1, codes[rows])  # the last code: a group no one shares
            # A rest over the limit on its own: in each row's sorted groups, a member with the
            # one `most` places before it in the same group is one too many.
            held = np.sort(held, axis=1)
            if most == 0:  # every candidate is one too many
                over += 1 + (held >= 0).sum(axis=1)
                continue
            if most > size:  # no rest can fill a group
                continue
            over += ((held[:, most:] == held[:, :size - most]) & (held[:, most:] >= 0)).sum(axis=1)
            # The groups each rest has filled (where a run of `most` members of one group ends,
            # once per group), and every candidate of them.
            last = held[:, most - 1:]
            ends = (last == held[:, :size - most + 1]) & (last >= 0)
            filled = ends.copy()
            filled[:, 1:] &= ~(ends[:, :-1] & (last[:, 1:] == last[:, :-1]))
            rest_of, column = np.nonzero(filled)
            group = last[rest_of, column]
            lengths = starts[group + 1] - starts[group]
            inside = members[np.repeat(starts[group], lengths) + _ranges(lengths)]
            found = where[inside]
            keep = found >= 0
            parts.append((np.repeat(rest_of, lengths)[keep], found[keep], np.ones(int(keep.sum()), dtype=np.int64)))
        return np.stack([np.concatenate(p) for p in zip(*parts, strict=True)]), over


def gains(fitter: Fitter, kept: Sequence[int], candidates: np.ndarray) -> np.ndarray:
    """What each candidate adds to the score of the kept members alone."""
    base = fitter.score(kept)
    return np.asarray(fitter.swaps([list(kept)], candidates)[1][0].astype(np.int64) - base)


# Combinations of count classes for the places beside a newcomer, times the candidates, that
# `within_reach` works through at most (at 60,000 rows, five declines: 126 x 59,605; rules
# with many count rules make many classes); past it the places are not told apart by class.
PLACE_CELLS = 20_000_000


def within_reach(fitter: Fitter, kept: Sequence[int], possible: np.ndarray) -> np.ndarray:
    """Which of the `possible` candidates could reach the fitter's threshold beside the kept
    members and others of `possible` in the places left. The other places are filled from
    *count classes* (candidates alike for every count rule), in every combination of classes
    that meets the count rules with the kept members and the candidate; in each objective term
    such a filling holds the kept members' values, the candidate's new ones and at most, from
    each class, its places times the most new values one of its members brings and the new
    values its members hold between them, and from all its classes together the new values any
    of them holds that the candidate does not, up to the cap. A bound on the score, not a check
    of it (the spread rules are not checked); worked out again over those left until none drops
    out.

    Why classes: at 60,000 rows, with the two members who stay holding EHC plans, an EHCP
    newcomer leaves three places, two of which must be at SEN support (a count rule) and bring
    one plan value between them; the third must then bring the plan's last value (being
    assessed) or the 20-25 band (which only EHC plans hold there), not both. Four declines
    there: 19,834 children within reach, exactly those in some best filling, where the bound
    term by term let 29,371 through."""
    kept = list(kept)
    possible = possible.copy()
    places = fitter.size - len(kept) - 1  # the places beside the candidate's
    signatures, class_of = _kinds(fitter.count_flags.T.astype(np.int64))
    kept_count = signatures[class_of[kept]].sum(axis=0)
    new_holds, covered = [], []
    for holds, _weight, _cap in fitter.terms:
        held = holds[kept].any(axis=0)
        new_holds.append(holds[:, ~held])
        covered.append(int(held.sum()))
    new_count = (np.stack([h.sum(axis=1) for h in new_holds], axis=1) if new_holds
                 else np.zeros((fitter.n, 0), dtype=np.int64))
    weights = np.array([weight for _holds, weight, _cap in fitter.terms], dtype=np.int64)
    caps = np.array([cap for _holds, _weight, cap in fitter.terms], dtype=np.int64)
    while possible.any():
        classes = np.unique(class_of[possible])
        if math.comb(len(classes) + places - 1, places) * int(possible.sum()) > PLACE_CELLS:
            class_of_here = np.zeros(fitter.n, dtype=np.int64)  # one class: the bound term by term
            classes, alike = np.zeros(1, dtype=np.int64), True
        else:
            class_of_here, alike = class_of, False
        reach = _reach(fitter, possible, places, classes, class_of_here, alike, signatures, class_of, kept_count,
                       new_holds, new_count, covered, weights, caps)
        left = possible & (reach >= fitter.threshold)
        if np.array_equal(left, possible):
            break
        possible = left
    return possible


def _reach(fitter: Fitter, possible: np.ndarray, places: int, classes: np.ndarray, place_class: np.ndarray,
           alike: bool, signatures: np.ndarray, class_of: np.ndarray, kept_count: np.ndarray,
           new_holds: list[np.ndarray], new_count: np.ndarray, covered: list[int], weights: np.ndarray,
           caps: np.ndarray) -> np.ndarray:
    """`within_reach`'s bound for each candidate, over every combination of the places' classes
    (with `alike`, one class and no count rule checked: the term-by-term bound). Candidates alike
    for the count rules and in the new values they hold are worked out once."""
    terms = len(new_holds)
    most = np.zeros((len(classes), terms), dtype=np.int64)
    values = [np.zeros((len(classes), h.shape[1]), dtype=bool) for h in new_holds]
    for a, c in enumerate(classes.tolist()):
        members = possible & (place_class == c)
        if terms:
            most[a] = new_count[members].max(axis=0, initial=0)
        for t, h in enumerate(new_holds):
            values[t][a] = h[members].any(axis=0)
    distinct = np.stack([v.sum(axis=1) for v in values], axis=1) if terms else most
    rows = np.flatnonzero(possible)
    in_class = class_of[rows, None] == np.arange(len(signatures))[None, :]
    first, key_of = distinct_flag_rows(np.concatenate([in_class, *(h[rows] for h in new_holds)], axis=1))
    key_class, key_new = class_of[rows[first]], new_count[rows[first]]
    key_holds = [h[rows[first]].astype(np.int64) for h in new_holds]
    best = np.full(len(first), -1, dtype=np.int64)
    beyond_by_classes: dict[bytes, np.ndarray] = {}
    for combination in itertools.combinations_with_replacement(range(len(classes)), places):
        taken = np.bincount(np.asarray(combination, dtype=np.int64), minlength=len(classes))
        meets = np.ones(len(first), dtype=bool)
        if not alike:
            total = kept_count + taken @ signatures[classes] + signatures[key_class]
            meets = ((total >= fitter.count_min) & (total <= fitter.count_max)).all(axis=1)
            if not meets.any():
                continue
        used = taken > 0
        brought = np.minimum(taken[:, None] * most, distinct * used[:, None]).sum(axis=0)
        # ...and no more than the classes' new values that the candidate does not hold itself
        # (the same for every combination of the same classes)
        beyond = beyond_by_classes.get(used.tobytes())
        if beyond is None:
            union = [v[used].any(axis=0) for v in values]
            beyond = (np.stack([u.sum() - held @ u for u, held in zip(union, key_holds, strict=True)], axis=1)
                      if terms else np.zeros((len(first), 0), dtype=np.int64))
            beyond_by_classes[used.tobytes()] = beyond
        score = (weights * np.minimum(caps, np.asarray(covered) + key_new + np.minimum(brought, beyond))).sum(axis=1)
        best = np.maximum(best, np.where(meets, score, -1))
    reach = np.full(fitter.n, -1, dtype=np.int64)
    reach[rows] = best[key_of]
    return reach


# Pairs of candidates checked for a cohort with two places free before leaving it to CP-SAT (the
# search), or to column generation (a replacement's lottery).
PAIR_CHECKS = 20_000_000


def promising_pairs(gain: np.ndarray, lacking: int) -> tuple[np.ndarray, int]:
    """Which candidates can be in a pair whose gains add up to `lacking`, and how many (ordered)
    pairs those are. The score is submodular (each term counts values covered, up to a cap), so
    a child adds to the kept members and one newcomer at most what it adds to the kept members
    alone: no other pair can add `lacking`."""
    if len(gain) < 2:
        return np.zeros(len(gain), dtype=bool), 0
    first = gain + int(gain.max()) >= lacking
    ordered = np.sort(gain)
    partners = len(gain) - np.searchsorted(ordered, lacking - gain[first], side="left")
    return first, int(partners.sum())


def check_pairs(fitter: Fitter, kept: Sequence[int], candidates: np.ndarray, gain: np.ndarray, lacking: int,
                cells: int = 2_000_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pairs of candidates (positions) whose gains (`gains`) add up to `lacking`, checked
    with the kept members (every rule and the fitter's threshold), a few million at once: for
    each chunk, its newcomers, their possible partners, and which pairs fit (newcomer x partner)."""
    first, _count = promising_pairs(gain, lacking)
    for level in np.unique(gain[first]).tolist():
        newcomers = candidates[first & (gain == level)]
        partners = candidates[gain >= lacking - level]
        step = max(1, cells // max(len(partners), 1))
        for start in range(0, len(newcomers), step):
            chunk = newcomers[start:start + step]
            yield chunk, partners, fitter.shortfalls([[*kept, int(c)] for c in chunk], partners) == 0


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """0..k-1 for each length k, one after another (an index within each run)."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.asarray(np.arange(total) - np.repeat(ends - lengths, lengths))


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
    """The distinct rows of a table (candidates by columns) and each candidate's row number (in no
    particular order: a kind is only a place to look its answer up)."""
    if table.shape[1] == 0:
        return np.zeros((1, 0), dtype=table.dtype), np.zeros(len(table), dtype=np.int64)
    if table.dtype == bool:
        first, kind_of = distinct_flag_rows(table)
        return table[first], kind_of
    kinds, _first, kind_of = distinct_rows(table)
    return kinds, kind_of


def packed_words(bits: np.ndarray) -> np.ndarray:
    """Rows of booleans packed into 64-bit words (a row of flags becomes a few numbers)."""
    packed = np.packbits(bits, axis=1, bitorder="little")
    padded = np.zeros((len(bits), -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    padded[:, :packed.shape[1]] = packed
    return padded.view(np.uint64)


def distinct_flag_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a table of flags (booleans), the first row of each distinct row and each row's number
    (in no particular order): 64 flags to a word, so a few columns are grouped instead of one per
    flag."""
    _unique, first, kind_of = distinct_rows(packed_words(table).view(np.int64))
    return first, kind_of
