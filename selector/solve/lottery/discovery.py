"""Discovery: for every type that is in some cohort of the lottery's score, a column holding it,
so that every child who can be drawn has a chance above zero. The work budget counts only what
comes after it; it is cut short only by the wall clock, or by one CP-SAT search that reaches its
own work limit (budget.PRICING_DETERMINISTIC_TIME) neither finding a cohort nor proving none.

First a cohort of a small pool (`Pricing.first`), then cohorts far from it (a seeded walk of
swaps, so that the first cohort's children are not in every column), a cohort for each of the
few children a count rule needs (every cohort holds some of them), then every cohort one swap
away from a known one (layer by layer), then repairs (a child put into the known cohorts it fits
best, the rest repaired one swap at a time), and CP-SAT for the rest: the first cohort it finds
holding a type not yet seen (then swaps and repairs from it), or the proof that no cohort holds
them. Children that a plain pairwise reason keeps out of every cohort (outcasts: none of the few
children a count rule needs can sit beside them) are neither repaired nor searched for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ...contract.errors import SolverError
from ..fit import rests_of
from .budget import OutOfWork
from .findings import Findings
from .kinds import apart
from .pricing import Pricing

REPAIR_STARTS = 2  # known cohorts a repair starts from: those the child fits best
REPAIR_BASES = 256  # known cohorts (the first found) among which those starts are chosen
BASE_CELLS = 4_000_000  # rests x candidates weighed at once (the checker's tables grow with both)
SCARCE = 12  # a count rule with a minimum and at most this many members: each is placed first
REPAIR_STEPS = 6  # swaps a repair may make
SWAP_CELLS = 200_000  # rests x candidates a swap pass weighs at once
REPAIR_GIVE_UP = 16  # failed repairs in a row that end a pass from the cohorts CP-SAT found
WALKS, WALK_STEPS, WALK_SEED = 16, 12, 2021  # cohorts far from the first, found before the rest


def find_every_child(findings: Findings, pricing: Pricing, fallback: Sequence[int] = (),
                     searching: Callable[[int, int], None] | None = None) -> bool:
    """Columns for every type that can be drawn; whether that was done before the wall clock
    came or a search reached its work limit (else the columns found by then, or `fallback` when
    there are none). `searching(found, left)` is told, before the repairs and each search for
    children not yet in a column, how many children are in one and how many are left to search
    for (the slow part, for cohorts of 4 or 5).

    Raises:
        SolverError: no cohort reaches the score, or none was found in time.
    """
    meter = findings.meter
    meter.counting = False  # every child who can be drawn is found, however long it takes
    complete = True
    try:
        # The first cohort, of a small pool (holders of every value): found in child-id order,
        # so the lottery does not depend on the order of the rows even when cut short.
        first = pricing.first()
        if not first:
            raise SolverError("no cohort reaches the score the lottery needs.", "lottery_empty")
        for cohort in first:
            findings.add(cohort)
        _discover(findings, pricing, searching)
    except OutOfWork:  # only the wall clock stops the search for every child
        complete = False
        if not findings.columns and fallback:
            findings.add(tuple(sorted(fallback)))
        if not findings.columns:
            raise SolverError("no cohort for the lottery was found within the time limit.", "lottery_time",
                              fix="Allow more time.") from None
    meter.counting = True
    return complete


def _discover(findings: Findings, pricing: Pricing, searching: Callable[[int, int], None] | None = None) -> None:
    _walk(findings)
    _scarce_members(findings, pricing)
    # The walks first, so that the first cohort's children are not in every column (they would
    # get large chances).
    _swap_from(findings, list(reversed(findings.cohorts)))
    outcast = _outcasts(findings)

    def left_to_find() -> np.ndarray:
        """The children not yet in a column and not outcasts; `searching` is told how many."""
        seen = findings.seen[findings.type_of]
        left: np.ndarray = ~seen & ~outcast
        if searching is not None and left.any():
            searching(int(seen.sum()), int(left.sum()))
        return left

    left_to_find()
    _by_repair(findings, skip=outcast)
    # CP-SAT: the first cohort it finds holding an unseen type, or the proof of none (not needed
    # when every child left is one no cohort can hold: the search would find nothing). Any such
    # cohort will do (swaps and repairs spread from it), and the children left this late are
    # often ones no cohort holds two of: searching on for a heavier cohort costs most of each
    # search for nothing. Pools of the caseload first, until neither pool answers a search;
    # then the whole caseload at once (the children left are then rarely in a pool's cohort,
    # and a pool's failed search costs about as much as the whole caseload's).
    pools = True
    while (left := left_to_find()).any():
        weights = left.astype(np.int64)
        found = pricing.exact(weights, first_only=True, pools=pools)
        pools = pools and pricing.pool_found
        if not found:
            break
        for cohort in found:
            findings.add(cohort)
        _swap_from(findings, found)  # their neighbours often hold other children not yet seen
        _by_repair(findings, found, give_up=REPAIR_GIVE_UP)  # and a repair from them reaches more


def _swap_from(findings: Findings, cohorts: list[tuple[int, ...]]) -> None:
    """Cohorts one swap away from these, then from those found, and so on, each kept only when
    it holds a type not yet seen."""
    seen, type_of = findings.seen, findings.type_of
    layer = cohorts
    # One child per type not yet seen (its first): type-mates fit the same rests, and the
    # first is the one a pass over every child would place (tens of thousands fewer checks).
    unseen = np.sort(findings.first_member[~seen]).astype(np.int64)
    while layer and len(unseen):
        next_layer = []
        start = 0
        while start < len(layer) and len(unseen):
            findings.meter.check()
            # Every slot of several cohorts at once (numpy's overhead paid once for them); a
            # child whose type an earlier rest's cohort placed is skipped, as one at a time would.
            size = len(layer[start])
            # (Bounded by the caseload's size too, so that memory stays low on large caseloads.)
            most = min(SWAP_CELLS // (size * len(unseen)), BASE_CELLS // (size * findings.problem.n))
            group = layer[start:start + max(1, most)]
            start += len(group)
            rests = rests_of(group, findings.always)
            fits = findings.shortfalls(rests, unseen) == 0 if rests else np.zeros((0, len(unseen)), dtype=bool)
            for rest, fit in zip(rests, fits, strict=True):
                for child in unseen[fit]:
                    if not seen[type_of[child]]:
                        new = tuple(sorted((*rest, int(child))))
                        findings.add(new)
                        next_layer.append(new)
            unseen = unseen[~seen[type_of[unseen]]]
        layer = next_layer


def _walk(findings: Findings) -> None:
    """Cohorts far from the first (each child swapped for a random one that keeps the cohort in
    the lottery, WALK_STEPS times), so that no child of the first sits in most columns."""
    rng = np.random.default_rng(WALK_SEED)
    everyone = np.arange(findings.problem.n)
    cohort = list(findings.cohorts[0])
    for _walk in range(WALKS):
        for step in range(WALK_STEPS):
            findings.meter.check()
            slot = step % len(cohort)
            rest = cohort[:slot] + cohort[slot + 1:]
            fits = everyone[findings.completes(rest, everyone)]
            cohort[slot] = int(rng.choice(fits))  # the child itself always fits
        findings.add(tuple(sorted(cohort)))


def _scarce_members(findings: Findings, pricing: Pricing) -> None:
    """A cohort holding each member of a count rule that every cohort must meet from a few
    children (3 in alternative provision, say), or the proof that none holds it: every cohort
    then holds one of them, and a child who cannot sit beside the ones the walks kept is
    repaired from a cohort holding another."""
    problem = findings.problem
    for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
        if not rule.min or len(members) > SCARCE:
            continue
        for child in members:
            if findings.seen[findings.type_of[child]]:
                continue
            weights = np.zeros(problem.n, dtype=np.int64)
            weights[child] = 1
            for cohort in pricing.exact(weights):
                findings.add(cohort)


def _outcasts(findings: Findings) -> np.ndarray:
    """Children no cohort of the lottery can hold, for a plain reason: a count rule that every
    cohort meets from a few children (at most SCARCE: the few in alternative provision, say),
    none of whom can sit beside the child (they share a value no cohort of the lottery repeats,
    such as the need when every cohort must cover six, or a setting or practitioner that a
    cohort may hold once). Children the rule counts are never outcasts by it. And a child with
    no value of such a dimension (no locality, when every cohort must cover six): beside it the
    dimension is a value short, as with two members sharing one."""
    problem = findings.problem
    never_twice = apart(problem, findings.threshold)
    once = [(codes, shared) for codes, shared, most in findings.fitter.spreads if most <= 1]
    outcast = np.zeros(problem.n, dtype=bool)
    for value in never_twice:
        outcast |= value < 0
    for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
        if not rule.min or not len(members) or len(members) > SCARCE:
            continue
        clash = np.zeros((problem.n, len(members)), dtype=bool)
        for value in never_twice:
            clash |= (value[:, None] == value[members][None, :]) & (value[:, None] >= 0)
        for codes, shared in once:
            clash |= (codes[:, None] == codes[members][None, :]) & (codes[:, None] != shared)
        counted = np.zeros(problem.n, dtype=bool)
        counted[members] = True
        outcast |= ~counted & clash.all(axis=1)
    return outcast


def _by_repair(findings: Findings, bases: list[tuple[int, ...]] | None = None, give_up: int = 0,
               skip: np.ndarray | None = None) -> None:
    """For each type no single swap reached: put one of its children into the known cohorts it
    fits best (the fewest children too many or too few, and score missing, with it in the best
    slot) and repair the rest one swap at a time, each swap the one that most reduces the
    shortfall (numpy weighs every candidate at once), preferring children of types not yet seen.
    With `give_up`, the children closest to fitting go first and the pass ends after that many
    repairs in a row have failed (the children left may be in no cohort at all; CP-SAT decides)."""
    seen = findings.seen
    everyone = np.arange(findings.problem.n)
    unseen = np.flatnonzero(~seen[findings.type_of] if skip is None else ~seen[findings.type_of] & ~skip)
    bases = findings.cohorts[:REPAIR_BASES] if bases is None else bases
    starts, closest = _best_bases(findings, bases, unseen)
    order = np.argsort(closest, kind="stable") if give_up else np.arange(len(unseen))
    failed = 0
    # A type whose child no repair could place is not tried again through its other children:
    # they hold the same values for every rule and term, so their repairs fail alike (only a
    # spread group that no best cohort can hold two of might steer one differently), and CP-SAT,
    # which follows, decides for them; at 5,000 rows with three children in AP that is hundreds
    # of children, each repaired from two cohorts in vain.
    given_up = np.zeros(len(findings.sizes), dtype=bool)
    for child, best in zip(unseen[order], starts[order], strict=True):
        child_type = findings.type_of[child]
        if seen[child_type] or given_up[child_type]:
            continue
        findings.meter.check()
        for base in best:
            found = _repair(findings, int(child), list(bases[base]), everyone)
            if found is not None:
                findings.add(found)
                failed = 0
                break
        else:
            given_up[child_type] = True
            failed += 1
            if failed == give_up:
                return


def _best_bases(findings: Findings, bases: list[tuple[int, ...]], children: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """For each child, the REPAIR_STARTS bases (positions, best first; ties: the earlier base)
    with the smallest shortfall when the child takes its best slot, and that smallest shortfall."""
    if not len(children) or not bases:
        return np.zeros((len(children), 0), dtype=np.int64), np.zeros(len(children), dtype=np.int64)
    size = len(bases[0])
    best = np.empty((len(bases), len(children)), dtype=np.int64)
    chunk = max(1, BASE_CELLS // (size * findings.problem.n))
    for start in range(0, len(bases), chunk):
        group = bases[start:start + chunk]
        rests = rests_of(group)
        shorts = findings.shortfalls(rests, children).reshape(len(group), size, len(children))
        best[start:start + len(group)] = shorts.min(axis=1)
    return np.argsort(best, axis=0, kind="stable")[:REPAIR_STARTS].T, best.min(axis=0)


def _repair(findings: Findings, child: int, cohort: list[int], everyone: np.ndarray) -> tuple[int, ...] | None:
    seen = findings.seen
    size = len(cohort)
    free = [slot for slot in range(size) if not findings.always[cohort[slot]]]  # the members who stay, stay
    if not free:
        return None
    placed = findings.shortfalls([cohort[:s] + cohort[s + 1:] for s in free], np.array([child]))[:, 0]
    place = free[int(np.argmin(placed))]
    cohort[place] = child
    current = int(placed.min())  # the shortfall with the child in its place
    others = [slot for slot in free if slot != place]
    for _step in range(REPAIR_STEPS):
        if current == 0:
            return tuple(sorted(cohort))
        best, move = current, None
        shorts = findings.shortfalls([cohort[:slot] + cohort[slot + 1:] for slot in others], everyone)
        for slot, short in zip(others, shorts, strict=True):
            short = short * 2 + seen[findings.type_of]  # ties: a type not yet seen first
            k = int(np.argmin(short))
            if short[k] // 2 < best:
                best, move = int(short[k] // 2), (slot, k)
        if move is None:
            return None
        cohort[move[0]] = int(move[1])
        current = best
    return tuple(sorted(cohort)) if current == 0 else None
