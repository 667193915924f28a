"""Reserves: for each slot of cohort 1, the children who can take it with every hard rule still
met, best score after the swap first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .problem import Problem
from .settings import SelectionParams


def find_reserves(problem: Problem, members: Sequence[str], params: SelectionParams) -> dict[str, tuple[str, ...]]:
    """For each member, up to `params.reserves` children who can take that slot with every
    hard rule still met, best score after the swap first (equal scores in seeded random order).
    """
    cohort = pd.Index(problem.child_ids).get_indexer(list(members))
    n = problem.n
    rules = problem.rules
    tie = np.random.default_rng([params.seed, 0, n]).random(n)
    in_cohort = np.zeros(n, dtype=bool)
    in_cohort[cohort] = True

    membership = [np.zeros(n, dtype=bool) for _ in rules.counts]
    for flags, idx in zip(membership, problem.count_members, strict=True):
        flags[idx] = True

    # Spread keys as small integers (the last code: unknown), so that a full group is a lookup.
    key_codes = []
    for keys in problem.spread_keys:
        codes, uniques = pd.factorize(keys)
        unknown = len(uniques)
        codes = np.where((codes < 0) | (keys == ""), unknown, codes)
        key_codes.append((codes, unknown))

    # For a dimension where each child holds at most one value: each child's value number (the
    # last number: none), so that what the others cover is one gather.
    value_of: list[np.ndarray | None] = []
    for values in problem.coverage:
        held = np.bincount(np.concatenate([h for _, h in values]), minlength=n) if values else np.zeros(n, int)
        if values and held.max() <= 1:
            single = np.full(n, len(values), dtype=np.int64)
            for number, (_value, holders) in enumerate(values):
                single[holders] = number
            value_of.append(single)
        else:
            value_of.append(None)

    reserves: dict[str, tuple[str, ...]] = {}
    for slot, leaving in enumerate(cohort):
        others = np.delete(cohort, slot)
        ok = ~in_cohort.copy()
        for rule, flags in zip(rules.counts, membership, strict=True):
            after = flags[others].sum() + flags.astype(int)
            if rule.min is not None:
                ok &= after >= rule.min
            if rule.max is not None:
                ok &= after <= rule.max
        for rule, (codes, unknown) in zip(rules.spreads, key_codes, strict=True):
            taken = np.bincount(codes[others], minlength=unknown + 1)
            full = taken >= rule.max
            full[unknown] = False  # an unknown key limits nothing
            ok &= ~full[codes]
        swap_score = np.zeros(n, dtype=np.int64)
        for dim, values, single in zip(rules.dimensions, problem.coverage, value_of, strict=True):
            if not values:
                continue
            if single is not None:  # one value per child: a gather, not a pass per value
                covered = np.zeros(len(values) + 1, dtype=bool)
                covered[single[others]] = True
                covered[-1] = True  # no value: gains nothing
                covered_by_others = int(covered[:-1].sum())
                gain = (~covered[single]).astype(np.int64)
            else:
                covered_by_others = 0
                gain = np.zeros(n, dtype=np.int64)
                for _value, holders in values:
                    if np.isin(holders, others).any():
                        covered_by_others += 1
                    else:
                        gain[holders] += 1
            swap_score += dim.weight * np.minimum(dim.cap, covered_by_others + gain)
        candidates = np.flatnonzero(ok)
        # Best score first, then the seeded tie-break: one key, and only the few best sorted.
        key = tie[candidates] * 0.5 - swap_score[candidates]
        take = min(params.reserves, len(candidates))
        nearest = np.argpartition(key, take - 1)[:take] if 0 < take < len(candidates) else np.arange(len(candidates))
        best = candidates[nearest[np.argsort(key[nearest], kind="stable")]][: params.reserves]
        reserves[str(problem.child_ids[leaving])] = tuple(str(problem.child_ids[i]) for i in best)
    return reserves
