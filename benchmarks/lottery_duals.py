"""What the certificate's bound says about the fairest lottery: the duals of its relaxation.

The bound U (selector/solve/lottery/bound.py) is the optimum of a linear relaxation over kinds of
child. bound.py folds the per-kind rows into variable bounds (fast, but the duals are then spread
over its other rows); here the relaxation is written again, apart, with a row "expected number
drawn of kind k >= m_k t" per kind, and its U is checked against bound.py's. Its duals give
each child a weight (the kind's dual), the weights sum to 1, and no lottery over the best cohorts
can give every child more than the heaviest best cohort's weight. This prints, for a caseload:

- U (as a multiple of 1/n), and the distinct weights as multiples of U with how many children
  hold each: a weight of U/k on a set H and 0 elsewhere means every best cohort holds at most k
  of H, so U = k/|H|, and a lottery reaches U exactly when every child of H gets the same chance
  (for instance, H split into sets of k, each completed into a best cohort);
- with --prove, the heaviest best cohort under those weights, by CP-SAT over the whole caseload
  (when it is proved to weigh U, these weights are an optimal dual of the lottery's master LP
  whenever U can be reached at all; on the sample the proof takes about 25 s, and at 5,000 rows
  and more it did not finish in 120 s).

    python -m benchmarks.lottery_duals                     # the sample
    python -m benchmarks.lottery_duals --rows 12400 --prove
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from selector import app
from selector.contract.rules import DEFAULT_RULES
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.constraints import CohortModel
from selector.solve.fit import Fitter, distinct_flag_rows
from selector.solve.lottery.bound import maximin_bound
from selector.solve.problem import Problem
from selector.solve.search import solve_cohort

ROOT = Path(__file__).resolve().parents[1]


def relaxation_weights(fitter: Fitter) -> tuple[float, np.ndarray]:
    """U and each child's weight (its kind's dual), every child counted as one who can be drawn."""
    holds = np.concatenate([h for h, _w, _c in fitter.terms], axis=1)
    first, kind_of = distinct_flag_rows(np.concatenate([fitter.count_flags.T.astype(bool), holds], axis=1))
    members = np.bincount(kind_of, minlength=len(first)).astype(float)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    t = solver.NumVar(0.0, 1.0, "t")
    drawn = [solver.NumVar(0.0, float(min(m, fitter.size)), "") for m in members]
    per_kind = [solver.Add(drawn[k] - members[k] * t >= 0) for k in range(len(first))]
    solver.Add(sum(drawn) == fitter.size)
    for r in range(len(fitter.count_min)):
        total = sum(drawn[k] for k in np.flatnonzero(fitter.count_flags[r, first]))
        solver.Add(total >= int(fitter.count_min[r]))
        solver.Add(total <= int(fitter.count_max[r]))
    score = 0
    for term_holds, weight, cap in fitter.terms:
        covered = []
        for v in range(term_holds.shape[1]):
            c = solver.NumVar(0.0, 1.0, "")
            solver.Add(c <= sum(drawn[k] for k in np.flatnonzero(term_holds[first, v])))
            covered.append(c)
        counted = solver.NumVar(0.0, float(cap), "")
        solver.Add(counted <= sum(covered))
        score += weight * counted
    solver.Add(score >= fitter.threshold)
    solver.Maximize(t)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SystemExit("the relaxation has no solution")
    duals = np.abs(np.array([row.dual_value() for row in per_kind]))
    return t.solution_value(), duals[kind_of]


def heaviest_cohort(problem: Problem, threshold: int, weights: np.ndarray, seconds: float) -> tuple[float, float, str]:
    """The heaviest best cohort's weight found, the bound CP-SAT proved, and its status."""
    model = CohortModel(problem)
    model.model.add(model.score >= threshold)
    scale = 1e9 / weights.max()
    scaled = np.round(weights * scale).astype(np.int64)
    model.model.maximize(sum(int(w) * x for w, x in zip(scaled, model.x, strict=True) if w))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = seconds
    status = solver.solve(model.model)
    return solver.objective_value / scale, solver.best_objective_bound / scale, solver.status_name(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=0, help="a generated caseload of this many rows (0: the sample)")
    parser.add_argument("--prove", action="store_true", help="find the heaviest best cohort under the weights")
    parser.add_argument("--seconds", type=float, default=120.0, help="CP-SAT's limit for --prove")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.rows:
            caseload, contacts = generate(args.rows, seed=3)
            paths = Path(folder) / "caseload.csv", Path(folder) / "contacts.csv"
            caseload.to_csv(paths[0], index=False)
            contacts.to_csv(paths[1], index=False)
        else:
            paths = ROOT / "data/sample/caseload.csv", ROOT / "data/sample/contacts.csv"
        loaded = app.load(app.Sources(caseload=paths[0], contacts=paths[1]))
    problem = build_problem(loaded.frame, DEFAULT_RULES)
    optimum = solve_cohort(problem, SelectionParams(seed=0, sets=1)).score
    started = time.perf_counter()
    fitter = Fitter(problem, optimum)
    bound, weights = relaxation_weights(fitter)
    print(f"{problem.n} candidates, best score {optimum}: U = {bound * problem.n:.3f}/n "
          f"(relaxation and its duals {time.perf_counter() - started:.2f} s; bound.py's U "
          f"{maximin_bound(fitter, np.ones(problem.n, dtype=bool)) * problem.n:.3f}/n)")
    values, counts = np.unique(np.round(weights / bound, 6), return_counts=True)
    print("weights (x U): " + ", ".join(f"{v:g} for {c} children" for v, c in zip(values, counts, strict=True)))
    print(f"weights sum to {weights.sum():.6f}")
    if args.prove:
        started = time.perf_counter()
        found, proved, status = heaviest_cohort(problem, optimum, weights, args.seconds)
        print(f"heaviest best cohort: {found / bound:.6f} U, proved at most {proved / bound:.6f} U ({status}, "
              f"{time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
