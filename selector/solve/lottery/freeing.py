"""Freeing: before the largest chance is spread, columns without the most-drawn children for the
children found only beside them.

Discovery's swaps start from the first cohort found, so many children are found only in cohorts
holding one of its members (on the sample, 681 of the types that can be drawn are in no column
without the most-drawn child). Every such child's chance is then also that member's, and
spreading, which keeps every child's level, cannot lower the member's chance below what they
need together: the sample's most-drawn child had 49%. So, for each of the most-drawn types in
turn: every type found only beside it (one child each, its first) is offered to every place of
the known cohorts without it (a single swap, numpy weighing every child at once). Where several
complete the same rest of a cohort, one column holds the rest's types and a pool of all of them:
a draw takes any one of them with the rest, and each completes it (type-mates are alike for every
rule and term). The checks are charged to the lottery's work, and the freeing stops where the
work does; but when the work is spent before spreading begins (at 60,000 rows the first level's
swaps spend it), the types drawn one time in four or more are still freed, to the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..fit import rests_of
from ..templates import Column
from .discovery import BASE_CELLS, SWAP_CELLS
from .findings import Findings

MOST_DRAWN = 3  # the types with the largest chances whose companions are freed, largest first
FREE_BASES = 256  # the known cohorts without the type (the first found) whose places are offered
FREE_COVER = 3  # columns a freed type is given before a rest that only such types fit is passed over
# Freeing starts only when the work left is this many times the spreading LP's first solve (the
# freeing and the LP solved again with its columns: at 5,000 rows across 60 localities one more
# solve cost twice the first).
FREE_LPS = 2.0
# A chance at which a child stands out: an area could prepare for a child drawn one time in four.
# The children found only beside such a child are freed whatever the work left (leximin._spread;
# at 60,000 rows about 0.5 s).
PREDICTABLE = 0.25


def free_most_drawn(findings: Findings, chances: np.ndarray, least: float = 0.0) -> None:
    """New columns (added to `findings`) for the types found only beside the types the columns
    draw most (`chances`: each child's, under the columns' probabilities), of those whose
    chance is above zero and at least `least`.

    Raises:
        OutOfWork: the work ran out (the columns added by then are kept).
    """
    findings.meter.check()
    first = findings.first_member
    by_chance = np.argsort(-chances[first], kind="stable")
    for drawn in by_chance[:MOST_DRAWN].tolist():
        if chances[first[drawn]] <= 0 or chances[first[drawn]] < least:
            break
        owner, children = _members(findings.columns)
        holds = np.zeros(len(findings.columns), dtype=bool)
        holds[owner[findings.type_of[children] == drawn]] = True
        elsewhere = np.zeros(len(findings.sizes), dtype=bool)  # the types some column without it holds
        elsewhere[findings.type_of[children[~holds[owner]]]] = True
        # (The type itself is left out: pools being unions of types, its children are in every
        # column that holds one of them.)
        bound = np.flatnonzero(findings.seen & ~elsewhere & (np.arange(len(findings.sizes)) != drawn))
        if not len(bound):
            continue
        bases = list(dict.fromkeys(findings.cohort_of[column]
                                   for column, held in zip(findings.columns, holds, strict=True) if not held))
        _offer(findings, bases[:FREE_BASES], first[bound])


def _members(columns: Sequence[Column]) -> tuple[np.ndarray, np.ndarray]:
    """Every (column, child) pair of the columns' pools, as two arrays."""
    sizes = [sum(len(pool) for pool in column.pools) for column in columns]
    children = np.fromiter(itertools.chain.from_iterable(itertools.chain.from_iterable(column.pools)
                                                         for column in columns), dtype=np.int64, count=sum(sizes))
    return np.repeat(np.arange(len(columns)), sizes), children


def _offer(findings: Findings, bases: list[tuple[int, ...]], children: np.ndarray) -> None:
    """Each child offered to every place of the bases (the members every cohort holds stay): for
    each rest that some child completes, one column of the rest's types and a pool of every type
    whose child completes it, while some of those types has fewer than FREE_COVER such columns.
    The children are the first of their types, and no rest holds their types (the bases' members
    are in columns without the type being freed from; these children are in none)."""
    if not bases or not len(children):
        return
    type_of, members_of = findings.type_of, findings.members_of
    size = len(bases[0])
    rests = rests_of(bases, findings.always)
    covered = np.zeros(len(children), dtype=np.int64)
    step = max(1, min(SWAP_CELLS // len(children), BASE_CELLS // (size * findings.problem.n)))
    for start in range(0, len(rests), step):
        findings.meter.check()
        group = rests[start:start + step]
        fits = findings.shortfalls(group, children) == 0
        for rest, fit in zip(group, fits, strict=True):
            if not (fit & (covered < FREE_COVER)).any():
                continue
            covered[fit] += 1
            pool = np.sort(np.concatenate([members_of[int(t)] for t in type_of[children[fit]]]))
            pools = [tuple(members_of[int(type_of[c])].tolist()) for c in rest] + [tuple(pool.tolist())]
            findings.add_column(Column(tuple(sorted(pools))), tuple(sorted((*rest, int(children[fit][0])))))
