"""Types: children who hold the same values for every hard rule and objective term, and the same
key of every spread rule that can bind, are interchangeable, so the lottery is found over types
and every child of a type gets exactly the same chance."""

from __future__ import annotations

import numpy as np

from ..fit import distinct_rows
from ..problem import Problem


def child_types(problem: Problem) -> np.ndarray:
    """Each candidate's type: candidates alike for every count rule, every objective value and
    every spread key that can bind get one number (numbered in order of first appearance).

    >>> from selector.contract.rules import Rules, CountRule, Dimension
    >>> p = Problem(np.array(["a", "b", "c"]), Rules(size=1, counts=(), spreads=(), dimensions=()),
    ...             (), (), (), ((("x", np.array([0, 2])),),))
    >>> child_types(p).tolist()
    [0, 1, 0]
    """
    n = problem.n
    columns = []
    for members in problem.count_members:
        flags = np.zeros(n, dtype=np.int64)
        flags[members] = 1
        columns.append(flags)
    for values in problem.coverage:
        for _value, holders in values:
            flags = np.zeros(n, dtype=np.int64)
            flags[holders] = 1
            columns.append(flags)
    for groups in problem.spread_groups:  # only groups that can bind; others limit nobody
        key = np.full(n, -1, dtype=np.int64)
        for number, members in enumerate(groups):
            key[members] = number
        columns.append(key)
    if not columns:
        return np.zeros(n, dtype=np.int64)
    signature = np.stack(columns, axis=1)
    _unique, first, inverse = distinct_rows(signature)
    order = np.argsort(np.argsort(first))  # renumber by first appearance
    return np.asarray(order[inverse])
