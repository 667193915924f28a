"""A lottery kept (the run folder's lottery.json, a batch's or the page's memory) and used again
instead of working it out anew: its key, and a lottery turned into its kept form (`StoredLottery`,
result.py) and back.

The lottery depends only on the candidates (ids, and what every rule and objective term reads
of them), the rules, the best score, the slack and the lottery's work, never on the order of the
rows or on the seed: those make its key. A lottery the wall clock cut short depends on the machine
too, so it is never kept. Pools are kept as type numbers (a pool is a union of types), which keeps
a 60,000-child lottery small.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..problem import Problem
from ..settings import SelectionParams
from ..templates import Column
from .result import FORMAT, Lottery, StoredLottery

# The version of selector that last changed how a lottery is worked out: part of the key, so that
# a lottery kept by an earlier way of working is never drawn from again, while a version that
# changes nothing of it (the reports, reading the list) keeps its runs' keys, and those runs verify.
# Raise it to the new version with any change to the lottery's code that can give another lottery.
LOTTERY_VERSION = "0.3.0"


def lottery_key(problem: Problem, params: SelectionParams, optimum: int) -> str:
    """SHA-256 of what the lottery is worked out from: the candidates in child-id order with what
    every count rule, spread rule and objective term reads of them, the rules, the best score,
    the slack, the lottery's work, and the version that last changed the lottery's code
    (LOTTERY_VERSION: a new way of working may find another)."""
    order = np.argsort(problem.child_ids.astype(str), kind="stable")
    where = np.empty(len(order), dtype=np.int64)
    where[order] = np.arange(len(order))
    digest = hashlib.sha256()

    def add(part: bytes) -> None:
        digest.update(len(part).to_bytes(8, "little") + part)

    def members(positions: np.ndarray) -> bytes:
        flags = np.zeros(problem.n, dtype=bool)
        flags[where[np.asarray(positions, dtype=np.int64)]] = True
        return np.packbits(flags).tobytes()

    add(json.dumps({"format": FORMAT, "version": LOTTERY_VERSION, "optimum": optimum, "slack": params.slack,
                    "work": params.lottery_work, "rules": problem.rules.to_dict()}, sort_keys=True).encode())
    add("\x1f".join(problem.child_ids.astype(str)[order]).encode())
    for positions in problem.count_members:
        add(members(positions))
    for keys in problem.spread_keys:
        add("\x1f".join(np.asarray(keys).astype(str)[order]).encode())
    for values in problem.coverage:
        for value, holders in values:
            add(str(value).encode())
            add(members(holders))
    return digest.hexdigest()


def stored_from(problem: Problem, lottery: Lottery, key: str) -> StoredLottery | None:
    """The lottery as kept (None when the wall clock cut it short, or a pool is not a union of
    types, which the columns never make: it is then simply not kept)."""
    if not lottery.reproducible:
        return None
    order = np.argsort(problem.child_ids.astype(str), kind="stable")
    type_of = np.asarray(lottery.type_of)
    sizes = np.bincount(type_of)
    columns = []
    for column in lottery.columns:
        pools = []
        for pool in column.pools:
            types = np.unique(type_of[list(pool)])
            if int(sizes[types].sum()) != len(pool):
                return None
            pools.append(tuple(int(t) for t in types))
        columns.append(tuple(pools))
    return StoredLottery(key, tuple(problem.child_ids[order].astype(str).tolist()), tuple(type_of[order].tolist()),
                         tuple(columns), tuple(lottery.weights), lottery.threshold, lottery.levels, lottery.proved,
                         lottery.complete, lottery.bound, lottery.spread_floor, lottery.largest_without_slack)


def restored(problem: Problem, stored: StoredLottery) -> Lottery | None:
    """The kept lottery on this problem's rows, exactly as it was worked out (the draw and every
    chance the same); None when it does not fit these candidates and rules."""
    order = np.argsort(problem.child_ids.astype(str), kind="stable")
    if tuple(str(c) for c in problem.child_ids[order]) != stored.children or len(stored.type_of) != problem.n:
        return None
    kept_types = np.asarray(stored.type_of)
    if kept_types.dtype.kind not in "iu" or ((kept_types < 0) | (kept_types >= max(problem.n, 1))).any():
        return None  # (a file edited by hand: numbers no lottery writes)
    type_of = np.empty(problem.n, dtype=np.int64)
    type_of[order] = kept_types
    if not stored.columns or len(stored.weights) != len(stored.columns):
        return None
    members = [np.sort(np.flatnonzero(type_of == t)) for t in range(int(type_of.max(initial=0)) + 1)]
    columns = []
    for pools in stored.columns:
        if len(pools) != problem.rules.size or any(not p or max(p) >= len(members) for p in pools):
            return None
        children = tuple(tuple(int(i) for i in np.sort(np.concatenate([members[t] for t in p]))) for p in pools)
        if not all(children):
            return None  # a pool of types no child has
        columns.append(Column(children))
    weights = np.array(stored.weights)
    if (weights < 0).any() or abs(weights.sum() - 1.0) > 1e-6:
        return None
    chances = np.zeros(problem.n)  # as the lottery worked them out: column by column, pool by pool
    for column, p in zip(columns, stored.weights, strict=True):
        for pool in column.pools:
            chances[list(pool)] += p / len(pool)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return Lottery(tuple(columns), stored.weights, type_of, chances, stored.threshold, stored.levels, stored.proved,
                   stored.complete, rank=back, reproducible=True, spread_floor=stored.spread_floor,
                   bound=stored.bound, largest_without_slack=stored.largest_without_slack)

