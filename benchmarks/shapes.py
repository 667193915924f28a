"""Cohort 1 against HiGHS on caseloads of different shapes, in one run (the ratios are what count).

Run from the repository root (after `pip install -e ".[dev]"`):

    python benchmarks/shapes.py                 # 5,000 rows, every shape, medians of 3
    python benchmarks/shapes.py --rows 2000 --repeats 1

Each shape is the generator's caseload changed in one way a real area can differ:
- `generator`: as `selector sample` writes it;
- `many-localities`: 60 small localities instead of a handful;
- `few-ap`: only 3 children in alternative provision;
- `crowded-settings`: every child in one of 20 settings (the one-per-setting rule bites);
- `skewed-needs`: 70% of children with autism;
- `services-rich`: 4 to 8 services per child from 15.

Both methods get the same validated caseload and the default rules; times are the solver's
work including building its model (selector: problem + CP-SAT proof; HiGHS: matrix + MILP).
Writes the table to benchmarks/shapes.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.peers import milp_optimum  # noqa: E402
from selector.contract.rules import DEFAULT_RULES  # noqa: E402
from selector.io.sample import generate, inline_contacts  # noqa: E402
from selector.io.tables import RawTable  # noqa: E402
from selector.solve import SelectionParams, build_problem  # noqa: E402
from selector.solve.search import solve_cohort  # noqa: E402
from selector.validate import validate  # noqa: E402

SERVICES = ["SALT", "OT", "PHYSIO", "EP", "CAMHS", "SOCIAL_CARE", "COMMUNITY_PAEDS", "SENSORY_SUPPORT",
            "HABILITATION", "PORTAGE", "DIETETICS", "NURSING", "AAC", "BEHAVIOUR_SUPPORT", "MENTORING"]


def _many_localities(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(locality=[f"Ward {i:02d}" for i in rng.integers(0, 60, len(frame))])


def _few_ap(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    ap = np.flatnonzero(frame["setting_type"].to_numpy() == "AP")
    keep = set(rng.choice(ap, size=min(3, len(ap)), replace=False).tolist()) if len(ap) else set()
    out = frame.copy()
    for i in ap:
        if i not in keep:
            out.iloc[i, out.columns.get_loc("setting_type")] = "MAINSTREAM"
    return out


def _crowded_settings(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(setting_id=[f"S{i:03d}" for i in rng.integers(0, 20, len(frame))])


def _skewed_needs(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    autism = rng.random(len(frame)) < 0.7
    return frame.assign(primary_need=np.where(autism, "ASD", frame["primary_need"]))


def _services_rich(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(services=[";".join(rng.choice(SERVICES, size=int(k), replace=False))
                                  for k in rng.integers(4, 9, len(frame))])


SHAPES: dict[str, Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]] = {
    "generator": lambda frame, _rng: frame,
    "many-localities": _many_localities,
    "few-ap": _few_ap,
    "crowded-settings": _crowded_settings,
    "skewed-needs": _skewed_needs,
    "services-rich": _services_rich,
}


def shaped(rows: int, shape: str) -> pd.DataFrame:
    """A caseload of the shape as a file holds it (same rows and seed for every shape)."""
    frame, contacts = generate(rows, 11)
    frame = inline_contacts(frame, contacts)
    return SHAPES[shape](frame, np.random.default_rng(7)).fillna("").astype(str)


def caseload(rows: int, shape: str) -> pd.DataFrame:
    """A validated caseload of the shape (same rows and seed for every shape)."""
    frame = shaped(rows, shape)
    raw = RawTable(f"{shape}.csv", frame, np.arange(2, len(frame) + 2), "0" * 64, {c: c for c in frame.columns})
    return validate(raw).frame


def selector_cohort(frame: pd.DataFrame) -> tuple[float, int, str]:
    started = time.perf_counter()
    cohort = solve_cohort(build_problem(frame, DEFAULT_RULES), SelectionParams(seed=1))
    return time.perf_counter() - started, cohort.score, cohort.status


def selector_lottery(frame: pd.DataFrame) -> tuple[float, float, int]:
    """Cohort 1 with its lottery, as `select` works them out (default work): seconds, the
    certificate s/U and the leximin levels fixed."""
    from selector.solve.lottery import draw_first

    started = time.perf_counter()
    problem = build_problem(frame, DEFAULT_RULES)
    params = SelectionParams(seed=1, sets=1)
    cohort = solve_cohort(problem, params)
    lottery = draw_first(problem, params, cohort.score, 600.0)
    return time.perf_counter() - started, lottery.certified or 0.0, lottery.levels


def highs_cohort(frame: pd.DataFrame) -> tuple[float, int, str]:
    started = time.perf_counter()
    best, _chosen, message = milp_optimum(frame, DEFAULT_RULES, time_limit=120)
    return time.perf_counter() - started, round(best) if best is not None else -1, str(message)


def end_to_end(rows: int, shape: str, repeats: int, folder: Path) -> tuple[float, float, float]:
    """`selector select --sets 1` on the shape's file, in its own process: seconds and peak MB
    (medians and max of the repeats), and the floor process's seconds on the same file."""
    from benchmarks.measuring import PYTHON, SELECTOR, median_run

    path = folder / f"{shape}.csv"
    shaped(rows, shape).to_csv(path, index=False)
    seconds, mb, _ = median_run([*SELECTOR, "select", str(path), "--out", str(folder / f"run-{shape}"), "--force",
                                 "--sets", "1"], repeats)
    floor, _, _ = median_run([PYTHON, "-c", ("import sys, pandas, ortools.sat.python.cp_model; "
                              "pandas.read_csv(sys.argv[1])"), str(path)], repeats)
    return seconds, mb, floor


def shape_lines(rows: int, repeats: int) -> list[str]:
    """The table of every shape, one line per shape (printed as each is measured)."""
    import tempfile

    lines = [("| shape | selector cohort 1 (s) | HiGHS (s) | speed-up | selector score | HiGHS score | equal | "
              "selector status | `select --sets 1` (s) | x floor | peak MB | cohort 1 + lottery (s) | s/U | "
              "levels |"),
             "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|"]
    folder = Path(tempfile.mkdtemp(prefix="selector-shapes-"))
    for shape in SHAPES:
        whole, mb, floor = end_to_end(rows, shape, repeats, folder)
        frame = caseload(rows, shape)
        ours = [selector_cohort(frame) for _ in range(repeats)]
        theirs = [highs_cohort(frame) for _ in range(repeats)]
        mine = statistics.median(t for t, _, _ in ours)
        other = statistics.median(t for t, _, _ in theirs)
        score, status = ours[0][1], ours[0][2]
        drawn = [selector_lottery(frame) for _ in range(repeats)]
        with_lottery = statistics.median(t for t, _, _ in drawn)
        line = (f"| {shape} | {mine:.3f} | {other:.3f} | {other / mine:.1f}x | {score} | {theirs[0][1]} | "
                f"{'yes' if score == theirs[0][1] else 'NO'} | {status} | {whole:.2f} | {whole / floor:.1f}x | "
                f"{mb:.0f} | {with_lottery:.2f} | {drawn[0][1]:.3f} | {drawn[0][2]} |")
        print(line, file=sys.stderr, flush=True)
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "shapes.md"))
    args = parser.parse_args()
    from benchmarks.measuring import cache_bytecode

    cache_bytecode()
    lines = [(f"Machine: {platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores, Python "
             f"{platform.python_version()}. Date: {time.strftime('%Y-%m-%d')}. Rows: {args.rows:,}. "
             f"Repeats: {args.repeats} (medians)."), "", *shape_lines(args.rows, args.repeats)]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
