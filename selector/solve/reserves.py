"""Reserves: for each slot of cohort 1, the children who can take it with every hard rule still
met, best score after the swap first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .fit import Fitter
from .problem import Problem
from .settings import SelectionParams


def find_reserves(problem: Problem, members: Sequence[str], params: SelectionParams) -> dict[str, tuple[str, ...]]:
    """For each member, up to `params.reserves` children who can take that slot with every
    hard rule still met, best score after the swap first (equal scores in seeded random order).
    """
    cohort = pd.Index(problem.child_ids).get_indexer(list(members))
    n = problem.n
    tie = np.random.default_rng([params.seed, 0, n]).random(n)
    outside = np.ones(n, dtype=bool)
    outside[cohort] = False
    everyone = np.arange(n)
    # Every slot at once: the others of the cohort with each candidate in the slot's place.
    breaks, scores = Fitter(problem, 0).swaps([np.delete(cohort, slot) for slot in range(len(cohort))], everyone)
    reserves: dict[str, tuple[str, ...]] = {}
    for slot, leaving in enumerate(cohort):
        candidates = np.flatnonzero(outside & (breaks[slot] == 0))
        # Best score first, then the seeded tie-break: one key, and only the few best sorted.
        key = tie[candidates] * 0.5 - scores[slot, candidates]
        take = min(params.reserves, len(candidates))
        nearest = np.argpartition(key, take - 1)[:take] if 0 < take < len(candidates) else np.arange(len(candidates))
        best = candidates[nearest[np.argsort(key[nearest], kind="stable")]][: params.reserves]
        reserves[str(problem.child_ids[leaving])] = tuple(str(problem.child_ids[i]) for i in best)
    return reserves
