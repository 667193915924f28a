"""Small lotteries listed whole (selector/solve/lottery/listing.py) against column generation on
the same caseloads: generated small caseloads (`selector sample --rows N --seed S`), default rules
and work, cohort 1 solved first, then the lottery both ways. Prints one line per caseload: the
lottery's seconds, its certificate s/U, the leximin levels fixed and whether it was proved the
fairest, each way, and whether the chances agree where both were proved.

    python benchmarks/listing.py [--caseloads 150:1,150:3,300:1,300:2,300:3,400:3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from selector import app
from selector.contract.rules import DEFAULT_RULES
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import fair_lottery
from selector.solve.search import solve_cohort


def measure(rows: int, seed: int) -> str:
    caseload, contacts = generate(rows, seed=seed)  # as `selector sample --rows ROWS --seed SEED` writes it
    with tempfile.TemporaryDirectory() as folder:
        paths = Path(folder) / "caseload.csv", Path(folder) / "contacts.csv"
        caseload.to_csv(paths[0], index=False)
        contacts.to_csv(paths[1], index=False)
        frame = app.load(app.Sources(caseload=paths[0], contacts=paths[1])).frame
    problem = build_problem(frame, DEFAULT_RULES)
    params = SelectionParams(seed=0, sets=1)
    optimum = solve_cohort(problem, params).score
    parts, lotteries = [], []
    for label, listing in (("search", 0), ("listed", None)):
        started = time.perf_counter()
        lottery = (fair_lottery(problem, params, optimum, time_limit=600) if listing is None
                   else fair_lottery(problem, params, optimum, time_limit=600, listing=listing))
        seconds = time.perf_counter() - started
        lotteries.append(lottery)
        parts.append(f"{label} {seconds:.2f} s, s/U {lottery.smallest / (lottery.bound or 1):.3f}, "
                     f"{lottery.levels} levels, {'proved' if lottery.proved else 'not proved'}")
    agree = ("same chances" if np.allclose(lotteries[0].chances, lotteries[1].chances, atol=1e-6) else "other chances"
             ) if all(lottery.proved for lottery in lotteries) else "-"
    return (f"{rows} rows, seed {seed}: {len(lotteries[1].possible_positions)} of {problem.n} can be drawn; "
            + "; ".join(parts) + f"; {agree}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caseloads", default="150:1,150:3,300:1,300:2,300:3,400:3",
                        help="rows:seed of each generated caseload")
    args = parser.parse_args()
    for spec in args.caseloads.split(","):
        rows, seed = (int(part) for part in spec.split(":"))
        print(measure(rows, seed), flush=True)


if __name__ == "__main__":
    main()
