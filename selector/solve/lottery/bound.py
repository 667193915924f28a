"""The certificate's bound: no lottery over the cohorts of the lottery's score can give every
child who can be drawn a chance above U. With the smallest chance s the run's lottery gives, s/U
says how close it is to the fairest possible smallest chance (1: the first leximin level).

U is the optimum of a linear relaxation over *kinds* (children alike for every count rule and
every value of every objective term; the spread rules are left out, which only loosens it).
For any lottery p over cohorts C scoring at least the threshold, take X_k = E_p[|C & kind k|]
(the expected number of kind-k children drawn), c_v = E_p[value v covered] and s_d = E_p[dimension
d's capped count]. Each cohort meets the count rules, covers a value only if a holder is in it,
and scores at least the threshold, so the expectations satisfy

    sum_k X_k = size,      min_r <= sum_(k in rule r) X_k <= max_r,      0 <= X_k <= min(n_k, size)
    c_v <= sum_(k holds v) X_k,      c_v <= 1,      s_d <= sum_(v of d) c_v,      s_d <= cap_d
    sum_d weight_d s_d >= threshold

(the capped count and "covered" are concave, so their expectations are at most the caps of
the expected counts). And if every one of the m_k children of kind k who can be drawn has a
chance of at least t, then X_k >= m_k t. So t is at most the largest t this LP allows: U.

Written with X_k = m_k t + Y_k, every per-kind row becomes a bound on Y_k (0 <= Y_k <=
min(n_k, size), looser by m_k t, which keeps U a bound), and t enters the few other rows
through totals: M t + sum_k Y_k = size (M children can be drawn), F_r t for a count rule's
children, H_v t for a value's holders. The LP then has a row per rule and per value, not per
kind, and GLOP solves it in a fraction of a second at 60,000 children.
"""

from __future__ import annotations

import math

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

from ...contract.errors import SolverError
from ..fit import Fitter, distinct_flag_rows

# GLOP's primal feasibility tolerance: U is raised by this much so that it stays a bound.
LP_TOLERANCE = 1e-7


def maximin_bound(fitter: Fitter, possible: np.ndarray) -> float:
    """An upper bound on the smallest chance any lottery over the cohorts of the fitter's
    threshold can give every candidate marked `possible` (see the module's text).

    Raises:
        SolverError: the relaxation has no solution (no cohort reaches the threshold).
    """
    holds = (np.concatenate([h for h, _w, _c in fitter.terms], axis=1) if fitter.terms
             else np.zeros((fitter.n, 0), dtype=bool))
    signature = np.concatenate([fitter.count_flags.T.astype(bool), holds], axis=1)
    first, kind_of = distinct_flag_rows(signature) if signature.shape[1] else (
        np.zeros(1, dtype=np.int64), np.zeros(fitter.n, dtype=np.int64))
    sizes = np.bincount(kind_of, minlength=len(first))
    reachable = np.bincount(kind_of, weights=possible.astype(np.int64), minlength=len(first))

    # The LP is written as a model proto from numpy (a row per rule and value, holding thousands
    # of kinds: coefficient by coefficient through the Python API that takes most of a second).
    model = linear_solver_pb2.MPModelProto(maximize=True)
    model.variable.add(lower_bound=0.0, upper_bound=1.0, objective_coefficient=1.0, name="t")  # index 0
    for n in sizes.tolist():
        model.variable.add(lower_bound=0.0, upper_bound=float(min(n, fitter.size)))  # y_k: index 1 + k

    def drawn(kinds: np.ndarray, low: float, high: float) -> linear_solver_pb2.MPConstraintProto:
        """low <= the expected number drawn of these kinds (their children who can be drawn at t
        each, and the rest of their share) <= high."""
        row = model.constraint.add(lower_bound=low, upper_bound=high)
        row.var_index.extend([0, *(kinds + 1).tolist()])
        row.coefficient.extend([float(reachable[kinds].sum())] + [1.0] * len(kinds))
        return row

    def variable(low: float, high: float) -> int:
        model.variable.add(lower_bound=low, upper_bound=high)
        return len(model.variable) - 1

    drawn(np.arange(len(sizes)), fitter.size, fitter.size)
    for r in range(len(fitter.count_min)):
        drawn(np.flatnonzero(fitter.count_flags[r, first]), int(fitter.count_min[r]), int(fitter.count_max[r]))
    score = model.constraint.add(lower_bound=float(fitter.threshold), upper_bound=math.inf)
    for term_holds, weight, cap in fitter.terms:
        counted = variable(0.0, float(cap))
        covering = model.constraint.add(lower_bound=-math.inf, upper_bound=0.0)  # counted <= values covered
        covering.var_index.append(counted)
        covering.coefficient.append(1.0)
        for v in range(term_holds.shape[1]):
            c = variable(0.0, 1.0)
            covered = drawn(np.flatnonzero(term_holds[first, v]), 0.0, math.inf)  # c <= drawn
            covered.var_index.append(c)
            covered.coefficient.append(-1.0)
            covering.var_index.append(c)
            covering.coefficient.append(-1.0)
        score.var_index.append(counted)
        score.coefficient.append(float(weight))
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver.LoadModelFromProto(model) or solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SolverError("the lottery's bound has no solution.", "lottery_bound")
    t = solver.variable(0)
    return min(1.0, float(t.solution_value()) + LP_TOLERANCE)
