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
    position = {cid: i for i, cid in enumerate(problem.child_ids)}
    cohort = np.array([position[c] for c in members])
    n = problem.n
    rules = problem.rules
    tie = np.random.default_rng([params.seed, 0, n]).random(n)
    in_cohort = np.zeros(n, dtype=bool)
    in_cohort[cohort] = True

    membership = [np.zeros(n, dtype=bool) for _ in rules.counts]
    for flags, idx in zip(membership, problem.count_members, strict=True):
        flags[idx] = True

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
        for rule, keys in zip(rules.spreads, problem.spread_keys, strict=True):
            counts = pd.Series(keys[others]).value_counts()
            counts = counts[counts.index != ""]
            full = counts[counts >= rule.max].index
            ok &= ~np.isin(keys, list(full)) | (keys == "")
        swap_score = np.zeros(n, dtype=np.int64)
        for dim, values in zip(rules.dimensions, problem.coverage, strict=True):
            if not values:
                continue
            covered_by_others = 0
            gain = np.zeros(n, dtype=np.int64)
            for _value, holders in values:
                if np.isin(holders, others).any():
                    covered_by_others += 1
                else:
                    gain[holders] += 1
            swap_score += dim.weight * np.minimum(dim.cap, covered_by_others + gain)
        candidates = np.flatnonzero(ok)
        order = np.lexsort((tie[candidates], -swap_score[candidates]))
        best = candidates[order[: params.reserves]]
        reserves[str(problem.child_ids[leaving])] = tuple(str(problem.child_ids[i]) for i in best)
    return reserves
