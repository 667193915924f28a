"""Benchmarks: selector's stages and end-to-end CLI against the alternatives, at several sizes.

Run from the repository root (after `pip install -e ".[dev,bench]"`):

    python benchmarks/run.py                      # all sizes, peers, national batch
    python benchmarks/run.py --sizes 1000,5000 --no-national --repeats 1

Every measurement runs in its own process, so peak memory (max RSS) is that process's alone.
Times are medians over --repeats runs. The machine is shared and noisy: compare the ratios
within one run. Prints one table and writes it to benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measuring import PYTHON, SELECTOR, cache_bytecode, median_run, run_measured  # noqa: E402

SORTITION_ALGORITHMS = ["legacy", "diversimax", "maximin", "nash", "leximin"]


def make_caseload(folder: Path, rows: int) -> tuple[Path, Path]:
    caseload, contacts = folder / f"caseload_{rows}.csv", folder / f"contacts_{rows}.csv"
    subprocess.run([*SELECTOR, "sample", "--rows", str(rows), "--seed", "1", "--out", str(caseload),
                    "--contacts-out", str(contacts), "--force"], check=True, cwd=ROOT, capture_output=True)
    return caseload, contacts


def measure_size(rows: int, folder: Path, repeats: int, peer_timeout: float, skip: set[str]) -> list[dict]:
    caseload, contacts = make_caseload(folder, rows)
    results: list[dict] = []

    stages = [run_measured([PYTHON, "benchmarks/stages.py", str(caseload), str(contacts)]) for _ in range(repeats)]
    records = [json.loads(s[2]) for s in stages]

    def med(key: str) -> float:
        return statistics.median(float(r[key]) for r in records)

    first = records[0]
    results += [
        {"method": "selector: load (read file)", "rows": rows, "seconds": med("load_s"), "mb": med("load_mb")},
        {"method": "selector: validate", "rows": rows, "seconds": med("validate_s"), "mb": med("validate_mb")},
        {"method": "selector: cohort 1 proved", "rows": rows, "seconds": med("cohort1_s"), "mb": med("cohort1_mb"),
         "score": first["score"], "optimal": first["status"] == "OPTIMAL",
         "note": f"solver {med('cohort1_solve_s'):.2f} s"},
        {"method": "selector: 5 sets + reserves", "rows": rows, "seconds": med("sets_s"), "mb": med("sets_mb"),
         "score": "/".join(str(s) for s in first["sets_scores"]), "optimal": True},
    ]
    results += end_to_end(caseload, contacts, rows, folder, repeats)
    floor = [PYTHON, "-c", "import sys, pandas, ortools.sat.python.cp_model; pandas.read_csv(sys.argv[1])",
             str(caseload)]
    seconds, mb, _ = median_run(floor, repeats)
    results.append({"method": FLOOR, "rows": rows,
                    "seconds": seconds, "mb": mb})

    for method in ["greedy", "milp", *[f"sortition-{a}" for a in SORTITION_ALGORITHMS]]:
        if method in skip:
            results.append({"method": method, "rows": rows, "note": "skipped (timed out at a smaller size)"})
            continue
        seconds, mb, stdout, code = run_measured(
            [PYTHON, "benchmarks/peer_run.py", method, str(caseload), str(contacts)], timeout=peer_timeout)
        if code == -9:
            skip.add(method)
            results.append({"method": method, "rows": rows, "seconds": seconds, "mb": mb,
                            "note": f"no result within {peer_timeout:g} s"})
            continue
        if code != 0 or not stdout.strip():
            results.append({"method": method, "rows": rows, "mb": mb, "note": "failed"})
            continue
        peer = json.loads(stdout.strip().splitlines()[-1])
        note = "" if not peer.get("broken_rules") else f"breaks {peer['broken_rules']} hard rule(s)"
        if peer["score"] is None:
            note = "no cohort (dead end)"
        results.append({"method": method, "rows": rows, "seconds": peer["seconds"], "mb": mb,
                        "score": peer["score"], "optimal": peer["optimal"], "note": note})
    return results


ANALYSIS_MARKER = "## Profiles, and why a target is not met"
E2E_FIVE = "selector select (CLI, end to end: 5 sets + reserves)"
E2E_ONE = "selector select --sets 1 (CLI, end to end)"
FLOOR = "floor: python + import pandas, OR-Tools + read_csv"


def end_to_end(caseload: Path, contacts: Path, rows: int, folder: Path, repeats: int) -> list[dict]:
    """The whole command, reports included: the default (5 ranked sets, reserves) and --sets 1."""
    results = []
    for method, extra in ((E2E_FIVE, []), (E2E_ONE, ["--sets", "1"])):
        out = folder / f"run_{rows}"
        seconds, mb, _ = median_run([*SELECTOR, "select", str(caseload), "--contacts", str(contacts), "--out",
                                     str(out), "--force", *extra], repeats)
        record = json.loads((out / "run.json").read_text())
        lottery = record.get("lottery", {})
        results.append({"method": method, "rows": rows, "seconds": seconds, "mb": mb,
                        "score": record["cohorts"][0]["score"],
                        "optimal": record["cohorts"][0]["status"] == "OPTIMAL",
                        "certified": lottery.get("certified"), "levels": lottery.get("levels"),
                        "note": (f"lottery s/U {lottery['certified']:.3f}, {lottery.get('levels')} levels"
                                 if lottery.get("certified") is not None else "")})
    return results


def sample_run(folder: Path, repeats: int) -> list[dict]:
    """`select --sets 1` on the sample caseload (its lottery's certificate), and the floor."""
    caseload, contacts = ROOT / "data" / "sample" / "caseload.csv", ROOT / "data" / "sample" / "contacts.csv"
    rows = sum(1 for _ in caseload.open(encoding="utf-8")) - 1
    results = [{**r, "note": f"data/sample; {r['note']}"}
               for r in end_to_end(caseload, contacts, rows, folder, repeats) if r["method"] == E2E_ONE]
    floor = [PYTHON, "-c", "import sys, pandas, ortools.sat.python.cp_model; pandas.read_csv(sys.argv[1])",
             str(caseload)]
    seconds, mb, _ = median_run(floor, repeats)
    return [*results, {"method": FLOOR, "rows": rows, "seconds": seconds, "mb": mb}]


def million(folder: Path, rows: int, repeats: int) -> list[dict]:
    """The whole command on one very large caseload (a million rows), and the floor beside it."""
    caseload, contacts = make_caseload(folder, rows)
    results = end_to_end(caseload, contacts, rows, folder, repeats)
    floor = [PYTHON, "-c", "import sys, pandas, ortools.sat.python.cp_model; pandas.read_csv(sys.argv[1])",
             str(caseload)]
    seconds, mb, _ = median_run(floor, repeats)
    return [*results, {"method": FLOOR, "rows": rows, "seconds": seconds, "mb": mb}]


def national(folder: Path, areas: int, total_rows: int, jobs: int) -> dict:
    """A batch of `areas` synthetic areas with sizes like England's, about `total_rows` in all."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from selector.io.sample import generate

    rng = np.random.default_rng(2025)
    sizes = rng.lognormal(mean=0.0, sigma=0.7, size=areas)
    sizes = np.maximum(1500, np.round(sizes / sizes.sum() * total_rows)).astype(int)
    area_folder = folder / "national"
    area_folder.mkdir(exist_ok=True)
    started = time.perf_counter()
    for i, rows in enumerate(sizes):
        caseload, contacts = generate(int(rows), seed=i, area=f"Area{i:03d}")
        caseload.to_csv(area_folder / f"area{i:03d}.csv", index=False)
        contacts.to_csv(area_folder / f"area{i:03d}_contacts.csv", index=False)
    generated = time.perf_counter() - started
    out = folder / "national_runs"
    seconds, mb, _, code = run_measured([*SELECTOR, "batch", str(area_folder), "--out", str(out), "--force",
                                         "--jobs", str(jobs)])
    import csv

    with open(out / "summary.csv", encoding="utf-8-sig") as handle:
        summary = list(csv.DictReader(handle))
    return {"areas": len(sizes), "rows": int(sizes.sum()), "largest": int(sizes.max()), "seconds": seconds,
            "peak_mb": mb, "exit_code": code, "generate_s": generated,
            "optimal": sum(1 for r in summary if r["status"] == "OPTIMAL")}


def table(results: list[dict]) -> str:
    lines = ["| method | rows | seconds (median) | peak MB | score | optimal? | note |",
             "|---|---:|---:|---:|---:|---|---|"]
    for r in results:
        seconds = r.get("seconds")
        shown = "-" if seconds is None else (f"> {r.get('note', '').split()[-2]}" if seconds == float("inf")
                                              else f"{seconds:.2f}")
        optimal = {True: "yes (proved)", False: "no", None: "-"}.get(r.get("optimal"), "-")
        floor = next((f for f in results if f["method"] == FLOOR and f["rows"] == r["rows"]), None)
        if r["method"] in (E2E_ONE, E2E_FIVE) and floor and seconds:
            r = {**r, "note": "; ".join(filter(None, [f"{seconds / floor['seconds']:.1f}x the floor", r.get("note")]))}
        milp = next((m for m in results if m["method"] == "milp" and m["rows"] == r["rows"]), None)
        if r["method"] == "selector: cohort 1 proved" and milp and milp.get("seconds") not in (None, float("inf")):
            same = "equal score" if milp.get("score") == r.get("score") else "DIFFERENT score"
            r = {**r, "note": f"{r.get('note', '')}; {milp['seconds'] / seconds:.1f}x faster than HiGHS, {same}"}
        if r["method"].startswith(("greedy", "sortition")) and r.get("score") is not None:
            optimal = "not proved"
        lines.append(f"| {r['method']} | {r['rows']:,} | {shown} | {r.get('mb', 0):.0f} | "
                     f"{r.get('score', '-')} | {optimal} | {r.get('note', '')} |")
    return "\n".join(lines)


def targets(results: list[dict], nat: dict | None, shapes: list[str], shape_rows: int = 5000,
            big_rows: int = 1_000_000) -> list[str]:
    """Each target of the speed issue, met or NOT met, with the measured figure."""
    def get(method: str, rows: int) -> dict | None:
        return next((r for r in results if r["method"] == method and r["rows"] == rows), None)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    one, five, floor = get(E2E_ONE, 60000), get(E2E_FIVE, 60000), get(FLOOR, 60000)
    if one and five and floor:
        lines += [
            (f"- 60,000 rows, `select --sets 1`, reports included: {one['seconds']:.2f} s = "
             f"{one['seconds'] / floor['seconds']:.1f}x the floor of {floor['seconds']:.2f} s (target <= 2.5x): "
             f"{verdict(one['seconds'] <= 2.5 * floor['seconds'])}"),
            (f"- 60,000 rows, `select` with 5 sets and reserves: {five['seconds']:.2f} s = "
             f"{five['seconds'] / floor['seconds']:.1f}x the floor (target <= 4x): "
             f"{verdict(five['seconds'] <= 4 * floor['seconds'])}"),
        ]
    for shape in shapes[2:]:
        cells = [c.strip() for c in shape.strip("|").split("|")]
        ratio = float(cells[3].rstrip("x"))
        lines.append(f"- {shape_rows:,} rows, shape {cells[0]}: cohort 1 {cells[1]} s vs HiGHS {cells[2]} s = {cells[3]} "
                     f"faster, scores equal: {cells[6]} (target >= 15x with an equal score): "
                     f"{verdict(ratio >= 15 and cells[6] == 'yes')}")
    for method in (E2E_ONE, E2E_FIVE):
        big = get(method, big_rows)
        if big:
            lines.append(f"- {big_rows:,} rows, {method.split(' (')[0].replace('selector ', '`selector ')}` "
                         f"({method.split('(', 1)[1].rstrip(')')}): {big['seconds']:.1f} s, peak "
                         f"{big['mb']:.0f} MB (targets <= 15 s, <= 1536 MB): "
                         f"{verdict(big['seconds'] <= 15 and big['mb'] <= 1536)}")
    lines += lottery_targets(results, shapes, shape_rows)
    best_by_rows: dict[int, int] = {}
    for r in results:
        if isinstance(r.get("score"), int):
            best_by_rows[r["rows"]] = max(best_by_rows.get(r["rows"], 0), r["score"])
    ours_best = all((get("selector: cohort 1 proved", rows) or get(E2E_ONE, rows))["score"] == best
                    for rows, best in best_by_rows.items())
    lines.append(f"- selector's score is the best of every method at every size: {'yes' if ours_best else 'NO'}")
    if nat:
        lines.append(
            f"- National run: {nat['areas']} areas, {nat['rows']:,} rows (largest {nat['largest']:,}) through "
            f"`selector batch --jobs 2` in {nat['seconds']:.0f} s (target <= 60 s): {verdict(nat['seconds'] <= 60)}; "
            f"peak {nat['peak_mb']:.0f} MB over all processes; {nat['optimal']} of {nat['areas']} areas proved optimal")
        lines.append(f"- National run with the lottery on (the fair lottery's target <= 120 s): {nat['seconds']:.0f} s: "
                     f"{verdict(nat['seconds'] <= 120)}")
    return lines


def lottery_targets(results: list[dict], shapes: list[str], shape_rows: int) -> list[str]:
    """The fair lottery's targets: its certificate s/U >= 0.99 with the default work (the sample,
    every shape, 60,000 rows), two leximin levels on the shapes, cohort 1 with its lottery no slower
    than HiGHS alone per shape, and 60,000 rows' `select --sets 1` within 4x the floor."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    for r in results:
        on_sample = "data/sample" in str(r.get("note", ""))
        if r["method"] == E2E_ONE and r.get("certified") is not None and (on_sample or r["rows"] == 60000):
            where = "the sample" if on_sample else f"{r['rows']:,} rows"
            lines.append(f"- Lottery certificate on {where} (`select --sets 1`, default work): s/U "
                         f"{r['certified']:.3f}, {r['levels']} levels (target s/U >= 0.99): "
                         f"{verdict(r['certified'] >= 0.99)}")
    one = next((r for r in results if r["method"] == E2E_ONE and r["rows"] == 60000), None)
    floor = next((r for r in results if r["method"] == FLOOR and r["rows"] == 60000), None)
    if one and floor:
        lines.append(f"- 60,000 rows, `select --sets 1` with its lottery: {one['seconds']:.2f} s = "
                     f"{one['seconds'] / floor['seconds']:.1f}x the floor (the fair lottery's target <= 4x): "
                     f"{verdict(one['seconds'] <= 4 * floor['seconds'])}")
    for shape in shapes[2:]:
        cells = [c.strip() for c in shape.strip("|").split("|")]
        highs, drawn, certified, levels = float(cells[2]), float(cells[11]), float(cells[12]), int(cells[13])
        lines.append(f"- {shape_rows:,} rows, shape {cells[0]}: cohort 1 with its lottery {drawn:.2f} s vs HiGHS "
                     f"alone {highs:.2f} s (target: no slower): {verdict(drawn <= highs)}; s/U {certified:.3f} "
                     f"(target >= 0.99): {verdict(certified >= 0.99)}; {levels} leximin levels (target >= 2): "
                     f"{verdict(levels >= 2)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,10000,60000,250000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peer-timeout", type=float, default=60.0)
    parser.add_argument("--no-national", action="store_true")
    parser.add_argument("--areas", type=int, default=153)
    parser.add_argument("--national-rows", type=int, default=1_900_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--million", type=int, default=1_000_000, help="rows of the very large run (0: none)")
    parser.add_argument("--shape-rows", type=int, default=5000, help="rows of the shapes against HiGHS (0: none)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.md"))
    args = parser.parse_args()
    cache_bytecode()

    results: list[dict] = []
    skip: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="selector-bench-") as tmp:
        folder = Path(tmp)
        for rows in (int(s) for s in args.sizes.split(",")):
            print(f"measuring {rows:,} rows ...", file=sys.stderr, flush=True)
            results += measure_size(rows, folder, args.repeats, args.peer_timeout, skip)
        print("measuring the sample ...", file=sys.stderr, flush=True)
        results += sample_run(folder, args.repeats)
        if args.million:
            print(f"measuring {args.million:,} rows ...", file=sys.stderr, flush=True)
            results += million(folder, args.million, args.repeats)
        shapes: list[str] = []
        if args.shape_rows:
            print(f"shapes of {args.shape_rows:,} rows against HiGHS ...", file=sys.stderr, flush=True)
            sys.path.insert(0, str(ROOT))
            from benchmarks.shapes import shape_lines

            shapes = shape_lines(args.shape_rows, args.repeats)
        nat = None
        if not args.no_national:
            print(f"national batch: {args.areas} areas ...", file=sys.stderr, flush=True)
            nat = national(folder, args.areas, args.national_rows, args.jobs)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{platform.platform()}")
    text = "\n".join([
        f"Machine: {machine}. Date: {time.strftime('%Y-%m-%d')}. Repeats: {args.repeats}.", "",
        table(results), "",
        f"Cohort 1 against HiGHS on caseloads of different shapes ({args.shape_rows:,} rows; "
        "`benchmarks/shapes.py` says what each shape is):" if shapes else "", "", *shapes, "",
        "Targets:", "", *targets(results, nat, shapes, args.shape_rows, args.million), "",
    ])
    print(text)
    out = Path(args.out)
    # The reading of the figures is written by hand below the marker; a new run keeps it (and
    # whoever runs it checks that it still holds).
    kept = ""
    if out.exists() and ANALYSIS_MARKER in out.read_text():
        kept = ANALYSIS_MARKER + out.read_text().split(ANALYSIS_MARKER, 1)[1]
    out.write_text(text + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    main()
