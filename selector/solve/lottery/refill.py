"""A replacement's draw: when families decline, the children who come in are drawn by the run's
seed from the fairest lottery over the best ways to fill the freed slots, the other members of
cohort 1 kept and every rule met, so that whoever makes the consent calls cannot steer who
comes in, and every candidate's chance of coming in is known.

The lottery is the selection's own (leximin.py) over the cohorts that hold every kept member:
the kept members are one count rule (all of them, exactly), so every rule, the certificate and
the exact chances carry over unchanged. With one slot freed, every child who fills it with the
best score is one cohort of that lottery and has the same chance; the slot's reserves were drawn
from the same children by the same seed (reserves.py), so the first reserve who can still take
the slot is the one offered, which keeps the reserves' call order and the draw one thing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ...contract.errors import SolverError
from ...contract.rules import CountRule
from ..fit import PAIR_CHECKS, Fitter, check_pairs, gains, promising_pairs, within_reach
from ..problem import Problem, subset
from ..settings import SelectionParams
from ..templates import Column
from .drawing import chances_of, draw
from .kinds import child_types
from .leximin import fair_lottery
from .result import TOLERANCE, Chances, Lottery

KEPT_RULE = "the members who stay"
# Pairs of types (columns) a replacement's lottery takes whole at most; more: column generation.
PAIR_COLUMNS = 200_000
SAME_TYPE_CHECKS = 512  # types whose first two children are checked together in one pass


def with_members(problem: Problem, kept: Sequence[int]) -> Problem:
    """The problem with every cohort holding these candidates (positions): one more count rule."""
    ids = tuple(str(problem.child_ids[i]) for i in kept)
    rule = CountRule("child_id", ids, min=len(ids), max=len(ids), label=KEPT_RULE)
    return replace(problem, rules=replace(problem.rules, counts=(*problem.rules.counts, rule)),
                   count_members=(*problem.count_members, np.sort(np.asarray(kept, dtype=np.int64))))


def draw_refill(problem: Problem, params: SelectionParams, kept: Sequence[int], best: int,
                preferred: Sequence[int] = (), fallback: Sequence[int] = (), time_limit: float = 600.0,
                left_out: Sequence[str] = ()) -> Chances:
    """The children who fill the freed slots, drawn by `params.seed` from the fairest lottery over
    the cohorts that keep `kept` and score at least `best` (the best a filling can reach).

    Args:
        problem: the candidates (those who declined already left out) and the rules.
        kept: the members who stay (positions).
        best: the best score a filling reaches (proved by the search).
        preferred: with one slot freed, its reserves in call order: the first who is in the
            lottery comes in (they were drawn from it by the same seed).
        fallback: a best filling (the search's), used only if the time runs out first.
        left_out: children not in `problem` (families who said no), listed with a chance of 0.

    Returns:
        The lottery and the cohort drawn, as the outputs give them (`drawn`: kept and newcomers).
    """
    started = time.perf_counter()
    inside = _who_can_come_in(problem, kept, best)
    kept_inside = [int(k) for k in np.searchsorted(inside, kept)]
    fixed = with_members(subset(problem, inside), kept_inside)
    back = {int(p): k for k, p in enumerate(inside)}
    freed = problem.rules.size - len(kept)
    if freed == 1:
        lottery = _one_slot(fixed, kept_inside, best)
    else:
        every = _best_pairs(fixed, kept_inside, best) if freed == 2 else None
        lottery = fair_lottery(fixed, replace(params, slack=0.0), best, time_limit,
                               fallback=[back[p] for p in fallback if p in back], cohorts=every)
    offered = [back[p] for p in preferred if p in back and lottery.chances[back[p]] > TOLERANCE]
    offered = [p for p in offered if p not in set(kept_inside)]
    drawn = tuple(sorted((*kept_inside, offered[0]))) if freed == 1 and offered else draw(lottery, params.seed)
    chances = chances_of(fixed, lottery, best, replace(params, slack=0.0), drawn,
                         seconds=round(time.perf_counter() - started, 3))
    # Every other candidate is in no best filling: a chance of 0, in child-id order with the rest.
    outside = sorted((set(map(str, problem.child_ids)) | set(left_out)) - set(chances.child_ids))
    everyone = sorted(zip((*chances.child_ids, *outside),
                          (*chances.chances, *[0.0] * len(outside)),
                          (*chances.types, *[-1] * len(outside)), strict=True))
    return replace(chances, child_ids=tuple(c for c, _p, _t in everyone),
                   chances=tuple(p for _c, p, _t in everyone), types=tuple(t for _c, _p, t in everyone),
                   kept=tuple(str(problem.child_ids[i]) for i in kept))


def _who_can_come_in(problem: Problem, kept: Sequence[int], best: int) -> np.ndarray:
    """The kept members and every candidate who may be in a best filling (positions, in order):
    with one slot freed, exactly those who complete the cohort with the best score; with more,
    those who break no upper limit (a count rule's max, a spread rule) beside the kept members
    and with whom the best score is within reach (`fit.within_reach`: a child of a kept
    member's locality, say, when a best cohort covers six; at 60,000 rows, with three slots
    freed, 26,367 children where the limits alone left 59,432), and with two, those whom some
    other child then completes: only children in no best filling are left out."""
    everyone = np.arange(problem.n)
    if problem.rules.size - len(kept) == 1:
        possible = Fitter(problem, best).completes(list(kept), everyone)
    else:
        fitter = Fitter(problem, best)
        possible = np.ones(problem.n, dtype=bool)
        rows = list(kept)
        for r in range(len(fitter.count_max)):
            flags = fitter.count_flags[r]
            possible &= int(flags[rows].sum()) + flags <= fitter.count_max[r]
        for codes, shared, most in fitter.spreads:
            used = np.bincount(codes[rows], minlength=shared + 1)
            used[shared] = 0  # the last code: a group no one shares
            possible &= used[codes] + 1 <= most
        possible[rows] = False
        possible = within_reach(fitter, rows, possible)  # the best score out of reach: in no best filling
        if problem.rules.size - len(kept) == 2:  # exactly: those with whom some other child completes it
            possible = _in_some_best_pair(problem, fitter, rows, possible)
    possible[list(kept)] = True
    return np.flatnonzero(possible)


def _in_some_best_pair(problem: Problem, fitter: Fitter, kept: list[int], possible: np.ndarray) -> np.ndarray:
    """With two slots freed, the children (of those `possible`) that some other child completes
    the cohort with, under every rule and with the fitter's score: the children of every type in
    some pair of types that fills the slots (`_type_pairs`); at 60,000 children 19,000 pairs of
    types where the pairs of children took 4 s. Past PAIR_CHECKS pairs of types, pairs of
    children whose gains reach what the kept members lack (`fit.check_pairs`)."""
    candidates = np.flatnonzero(possible)
    candidates = candidates[~np.isin(candidates, kept)]
    type_of = child_types(problem, fitter.threshold)
    pairs = _type_pairs(fitter, type_of, kept, candidates)
    if pairs is not None:
        return possible & np.isin(type_of, type_of[pairs.ravel()])
    found = np.zeros(len(possible), dtype=bool)
    lacking = fitter.threshold - fitter.score(kept)
    for chunk, _partners, fits in check_pairs(fitter, kept, candidates, gains(fitter, kept, candidates), lacking):
        found[chunk] = fits.any(axis=1)
    return found


def _best_pairs(problem: Problem, kept: list[int], best: int) -> list[tuple[int, ...]] | None:
    """With two slots freed, every best filling, as cohorts (positions), one for each pair of
    types that fills the slots (`_type_pairs`): the column made of one such cohort holds every
    filling of those types. Given all of them, the lottery needs no search for cohorts and
    proves each level it reaches. None past PAIR_CHECKS pairs of types to check or PAIR_COLUMNS
    that fill the slots (column generation then finds the lottery)."""
    fitter = Fitter(problem, best)
    candidates = np.setdiff1d(np.arange(problem.n), kept)
    pairs = _type_pairs(fitter, child_types(problem, best), kept, candidates, most=PAIR_COLUMNS)
    if pairs is None or len(pairs) > PAIR_COLUMNS:
        return None
    return [tuple(sorted((*kept, int(a), int(b)))) for a, b in pairs]


def _type_pairs(fitter: Fitter, type_of: np.ndarray, kept: list[int], candidates: np.ndarray,
                most: int | None = None) -> np.ndarray | None:
    """The pairs of types that fill two slots beside the kept members under every rule with the
    fitter's score, as pairs of candidates (positions, a row each): children of a type are
    alike for every rule and term (`child_types` at the same score), so two types fill them
    when their first candidates do, and one type twice when its first two do. Only the pairs
    whose gains reach what the kept members lack are checked (`fit.check_pairs`; the score is
    submodular, so no other pair can). None past PAIR_CHECKS pairs to check, or past `most`
    found (each pair of two types counted from both of its ends)."""
    by_type = candidates[np.argsort(type_of[candidates], kind="stable")]
    starts = (np.flatnonzero(np.r_[True, type_of[by_type][1:] != type_of[by_type][:-1]]) if len(by_type)
              else np.zeros(0, dtype=np.int64))
    firsts = by_type[starts]  # each type's first candidate (the smallest position)
    ends = np.r_[starts[1:], len(by_type)]
    gain = gains(fitter, kept, firsts)
    lacking = fitter.threshold - fitter.score(kept)
    # Its first two, for each type with two or more whose two can add what is lacking.
    twice = (ends - starts >= 2) & (2 * gain >= lacking)
    seconds = by_type[starts[twice] + 1]
    if promising_pairs(gain, lacking)[1] + len(seconds) > PAIR_CHECKS:
        return None
    found = [np.zeros((0, 2), dtype=np.int64)]
    count = 0
    for chunk, partners, fits in check_pairs(fitter, kept, firsts, gain, lacking):
        newcomer, partner = np.nonzero(fits)
        found.append(np.sort(np.stack([chunk[newcomer], partners[partner]], axis=1), axis=1))
        count += len(newcomer)
        if most is not None and count > 2 * most:
            return None
    for start in range(0, len(seconds), SAME_TYPE_CHECKS):
        first, second = firsts[twice][start:start + SAME_TYPE_CHECKS], seconds[start:start + SAME_TYPE_CHECKS]
        fits = np.diagonal(fitter.shortfalls([[*kept, int(f)] for f in first], second)) == 0
        found.append(np.stack([first[fits], second[fits]], axis=1))
    # A pair of two types is found from both ends when each can start one: once each.
    return np.unique(np.concatenate(found), axis=0)


def _one_slot(problem: Problem, kept: list[int], best: int) -> Lottery:
    """With one slot freed, the fairest lottery is even over the children who fill it with the
    best score (each is in exactly one best filling, so no lottery gives every one of them more
    than one over their number): one column, the kept members and a pool of every such child.
    `problem` holds only the kept members and those children (`_who_can_come_in`)."""
    fills = np.setdiff1d(np.arange(problem.n), kept)
    if not len(fills):
        raise SolverError("no child can take the freed slot with the best score.", "lottery_empty")
    types = child_types(problem, best)
    order = np.argsort(problem.child_ids.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    chances = np.zeros(problem.n)
    chances[kept] = 1.0
    chances[fills] = 1.0 / len(fills)
    column = Column(tuple(sorted([*((int(k),) for k in kept), tuple(int(i) for i in fills)])))
    return Lottery((column,), (1.0,), types, chances, best, levels=2, proved=True, complete=True, rank=rank,
                   bound=1.0 / len(fills))
