"""The fair lottery's scale (issue targets: its distribution at 5,000 rows within 3x cohort 1's
time, at 60,000 rows within 10 s): generated caseloads with the default rules, cohort 1 solved
first (the optimum), then the leximin lottery with a time cap. Prints one line per size.

    python benchmarks/lottery.py [--sizes 400,2000,5000] [--cap 120]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from selector import app
from selector.contract.rules import DEFAULT_RULES
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import fair_lottery
from selector.solve.search import solve_cohort


def measure(rows: int, cap: float) -> str:
    caseload, contacts = generate(rows, seed=3)
    with tempfile.TemporaryDirectory() as folder:
        paths = Path(folder) / "caseload.csv", Path(folder) / "contacts.csv"
        caseload.to_csv(paths[0], index=False)
        contacts.to_csv(paths[1], index=False)
        loaded = app.load(app.Sources(caseload=paths[0], contacts=paths[1]))
    problem = build_problem(loaded.frame, DEFAULT_RULES)
    params = SelectionParams(seed=0, sets=1)
    started = time.perf_counter()
    first = solve_cohort(problem, params)
    cohort_seconds = time.perf_counter() - started
    index = {c: i for i, c in enumerate(problem.child_ids)}
    started = time.perf_counter()
    lottery = fair_lottery(problem, params, first.score, work=cap, time_limit=2 * cap,
                           start=[index[c] for c in first.members])
    seconds = time.perf_counter() - started
    state = "proved fairest" if lottery.proved else ("cut short" + ("" if lottery.complete else ", support incomplete"))
    return (f"{rows:>6} rows, {problem.n:>6} candidates: cohort 1 {cohort_seconds:.2f} s; lottery {seconds:.1f} s "
            f"= {seconds / cohort_seconds:.0f}x ({state}; {len(lottery.cohorts)} cohorts, {lottery.levels} levels, "
            f"{len(lottery.possible)} children possible, smallest chance {lottery.smallest:.6f}, largest "
            f"{lottery.chances.max():.4f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="400,2000,5000")
    parser.add_argument("--cap", type=float, default=120.0, help="work (about a second each) the lottery may take at each size")
    args = parser.parse_args()
    for rows in (int(s) for s in args.sizes.split(",")):
        print(measure(rows, args.cap), flush=True)


if __name__ == "__main__":
    main()
