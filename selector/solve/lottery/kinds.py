"""Types: children who hold the same values for every hard rule and objective term, and the same
key of every spread rule that can bind, are interchangeable, so the lottery is found over types
and every child of a type gets exactly the same chance."""

from __future__ import annotations

import numpy as np

from ..fit import distinct_rows, packed_words
from ..problem import Problem


def child_types(problem: Problem, threshold: int | None = None) -> np.ndarray:
    """Each candidate's type: candidates alike for every count rule, every objective value and
    every spread key that can bind get one number (numbered in order of first appearance).
    With the lottery's threshold, a spread group that no cohort scoring that much can hold two
    of (`apart`) binds nobody and its key is left out: fewer, larger types, the same lottery.

    >>> from selector.contract.rules import Rules, CountRule, Dimension
    >>> p = Problem(np.array(["a", "b", "c"]), Rules(size=1, counts=(), spreads=(), dimensions=()),
    ...             (), (), (), ((("x", np.array([0, 2])),),))
    >>> child_types(p).tolist()
    [0, 1, 0]
    """
    n = problem.n
    holds = list(problem.count_members)
    holds += [holders for values in problem.coverage for _value, holders in values]
    flags = np.zeros((n, len(holds)), dtype=bool)
    for f, members in enumerate(holds):
        flags[members, f] = True
    # The flags packed 64 to a word: a few columns to group by instead of one per flag.
    columns = list(packed_words(flags).view(np.int64).T)
    one_each = apart(problem, threshold) if threshold is not None else []
    for rule, groups in zip(problem.rules.spreads, problem.spread_groups, strict=True):
        key = np.full(n, -1, dtype=np.int64)  # only groups that can bind; others limit nobody
        for number, members in enumerate(groups):
            key[members] = number
        if rule.max >= 1 and len(groups):
            inside = key >= 0
            free = np.zeros(len(groups), dtype=bool)
            for value in one_each:  # a group whose children all hold one such value: never two
                low = np.full(len(groups), np.iinfo(np.int64).max)
                high = np.full(len(groups), -1)
                np.minimum.at(low, key[inside], value[inside])
                np.maximum.at(high, key[inside], value[inside])
                free |= (low == high) & (low >= 0)
            key[inside & free[np.maximum(key, 0)]] = -1
        columns.append(key)
    if not columns:
        return np.zeros(n, dtype=np.int64)
    signature = np.stack(columns, axis=1)
    _unique, first, inverse = distinct_rows(signature)
    order = np.argsort(np.argsort(first))  # renumber by first appearance
    return np.asarray(order[inverse])


def apart(problem: Problem, threshold: int) -> list[np.ndarray]:
    """Dimensions whose values no two children of a cohort scoring `threshold` share: each as
    every candidate's value (-1: none). A dimension counts when every candidate holds at most one
    of its values and a cohort with two children sharing one would score below the threshold
    even with every other dimension at its best (then it covers one value fewer than it could).
    Children who all hold one such value are never two in a cohort of the lottery, so a spread
    rule over them (a setting, a practitioner, with a max of at least 1) cannot bind.

    >>> from selector.contract.rules import Rules, Dimension
    >>> p = Problem(np.array(["a", "b", "c"]), Rules(size=2, dimensions=(Dimension("x", 1, 2),)),
    ...             (), (), (), ((("p", np.array([0, 1])), ("q", np.array([2]))),))
    >>> [v.tolist() for v in apart(p, 2)], apart(p, 1)
    ([[0, 0, 1]], [])
    """
    size, n = problem.rules.size, problem.n
    offered = [len(values) for values in problem.coverage]
    single = []  # every candidate holds at most one of the dimension's values
    for values in problem.coverage:
        held = np.zeros(n, dtype=np.int64)
        for _value, holders in values:
            held[holders] += 1
        single.append(held.max(initial=0) <= 1)
    # The most each dimension can add: its cap, or as many values as it offers; a cohort covers
    # at most `size` values of a dimension whose children hold one each.
    best = [dim.weight * min(k, dim.cap, size if one else k)
            for dim, k, one in zip(problem.rules.dimensions, offered, single, strict=True)]
    found = []
    for d, (dim, values) in enumerate(zip(problem.rules.dimensions, problem.coverage, strict=True)):
        if not len(values) or not single[d]:
            continue
        sharing = sum(best) - best[d] + dim.weight * min(offered[d], dim.cap, size - 1)
        if sharing < threshold:
            value = np.full(n, -1, dtype=np.int64)
            for v, (_value, holders) in enumerate(values):
                value[holders] = v
            found.append(value)
    return found
