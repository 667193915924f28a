"""The fair lottery's scale (issue targets: its distribution and draw at 5,000 rows within 3x
cohort 1's time, at 60,000 rows within 10 s; the audit of 1,000 draws at 5,000 rows within 60 s):
generated caseloads with the default rules, cohort 1 solved first (the optimum), then the lottery
as `select` computes it (finding every child who can be drawn, then `--lottery-work` units), then
an audit. Prints one line per size.

    python benchmarks/lottery.py [--sizes 400,2000,5000,60000] [--work 1] [--audit-rows 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from selector import app
from selector.contract.rules import DEFAULT_RULES
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.fit import Fitter
from selector.solve.lottery import draw, fair_lottery
from selector.solve.lottery.bound import maximin_bound
from selector.solve.search import solve_cohort
from selector.solve.settings import LOTTERY_WORK


def write_caseload(rows: int, folder: Path) -> tuple[Path, Path]:
    caseload, contacts = generate(rows, seed=3)
    paths = folder / f"caseload{rows}.csv", folder / f"contacts{rows}.csv"
    caseload.to_csv(paths[0], index=False)
    contacts.to_csv(paths[1], index=False)
    return paths


def measure(rows: int, work: float, folder: Path) -> str:
    paths = write_caseload(rows, folder)
    loaded = app.load(app.Sources(caseload=paths[0], contacts=paths[1]))
    problem = build_problem(loaded.frame, DEFAULT_RULES)
    params = SelectionParams(seed=0, sets=1, lottery_work=work)
    started = time.perf_counter()
    first = solve_cohort(problem, params)
    cohort_seconds = time.perf_counter() - started
    started = time.perf_counter()
    lottery = fair_lottery(problem, replace(params, lottery_work=work), first.score, time_limit=600)
    draw(lottery, 0)
    seconds = time.perf_counter() - started
    state = "proved fairest" if lottery.proved else "fairest found"
    state += "" if lottery.complete else ", NOT every child found"
    started = time.perf_counter()
    bound = maximin_bound(Fitter(problem, first.score), lottery.chances > 1e-7)
    bound_seconds = time.perf_counter() - started
    return (f"{rows:>6} rows, {problem.n:>6} candidates: cohort 1 {cohort_seconds:.2f} s; lottery and draw "
            f"{seconds:.1f} s = {seconds / cohort_seconds:.0f}x ({state}; {len(lottery.columns)} columns, "
            f"{lottery.levels} levels, {len(lottery.possible_positions)} children possible, smallest chance "
            f"{lottery.smallest:.6f} (even: {6 / max(len(lottery.possible_positions), 1):.6f}), largest "
            f"{lottery.chances.max():.4f}); certificate s/U {lottery.smallest / (lottery.bound or 1):.3f} "
            f"(s*n {lottery.smallest * problem.n:.2f}, U*n {(lottery.bound or 0) * problem.n:.2f}; the bound alone "
            f"{bound_seconds:.2f} s, U*n {bound * problem.n:.2f})")


def measure_audit(rows: int, work: float, folder: Path) -> str:
    paths = write_caseload(rows, folder)
    params = SelectionParams(seed=0, lottery_work=work, time_limit_s=600)
    started = time.perf_counter()
    result = app.audit(app.AuditRequest(sources=app.Sources(caseload=paths[0], contacts=paths[1]),
                                        out=folder / f"audit{rows}", params=params, draws=1000))
    seconds = time.perf_counter() - started
    return (f"audit, {rows} rows, 1000 draws: {seconds:.1f} s (target 60 s); overall p {result.audit.overall_p:.3g}, "
            f"smallest per-type p x types {result.audit.smallest_p_adjusted:.3g}, shuffle change "
            f"{result.shuffle_difference:.3g}, {'DEVIATION' if result.deviates else 'no deviation'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="400,2000,5000,60000")
    parser.add_argument("--work", type=float, default=LOTTERY_WORK, help="the lottery's work (select's --lottery-work)")
    parser.add_argument("--audit-rows", type=int, default=5000, help="the audit's caseload size (0: no audit)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for rows in (int(s) for s in args.sizes.split(",") if s):
            print(measure(rows, args.work, Path(folder)), flush=True)
        if args.audit_rows:
            print(measure_audit(args.audit_rows, args.work, Path(folder)), flush=True)


if __name__ == "__main__":
    main()
