"""Reading an XLSX caseload: calamine (the reader used) against openpyxl (used only for a
workbook with a zero-padded number format or an error cell, which calamine cannot see).

    .venv/bin/python benchmarks/xlsx.py [--rows 12400 60000] [--repeats 3] [--out benchmarks/xlsx.md]

Each size is a sample caseload (`selector sample`, seed 1) saved as .xlsx; both readers read the
same bytes, interleaved round by round, in this process (median of the rounds), and must give
the same cells. The CSV of the same caseload is read too, for scale, and so is the scan of the
sheet's XML that comes before either reader (error cells and number formats, which choose the
reader; rows and columns hidden; formulas never calculated).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selector.io import tables, workbooks  # noqa: E402


def timed(work: Callable[..., object], *args: object) -> tuple[float, object]:
    started = time.perf_counter()
    answer = work(*args)
    return time.perf_counter() - started, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[12_400, 60_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "xlsx.md")
    args = parser.parse_args()
    command = Path(sys.executable).with_name("selector")
    lines = [(f"Machine: {platform.machine()}, {platform.python_version()}. Date: {dt.date.today()}. "
              f"Median of {args.repeats} interleaved rounds, in one process."), "",
             ("| rows | CSV read (s) | XLSX scan (s) | XLSX, calamine (s) | XLSX, openpyxl (s) | openpyxl / calamine "
             "| same cells |"),
             "|---:|---:|---:|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            book, text = Path(folder) / f"c{rows}.xlsx", Path(folder) / f"c{rows}.csv"
            for path in (book, text):
                subprocess.run([str(command), "sample", "--rows", str(rows), "--seed", "1", "--out", str(path)],
                               check=True, capture_output=True)
            data = book.read_bytes()
            assert not workbooks._scan(data, None)[0]
            times: dict[str, list[float]] = {"csv": [], "scan": [], "calamine": [], "openpyxl": []}
            answers = {}
            for _round in range(args.repeats):
                seconds, _ = timed(tables.read_table, text)
                times["csv"].append(seconds)
                seconds, _ = timed(workbooks._scan, data, None)
                times["scan"].append(seconds)
                for name, read in (("calamine", workbooks._xlsx_rows_calamine), ("openpyxl", workbooks._xlsx_rows_openpyxl)):
                    seconds, answers[name] = timed(read, book, data, None)
                    times[name].append(seconds)
            median = {name: statistics.median(values) for name, values in times.items()}
            same = answers["calamine"] == answers["openpyxl"]
            lines.append(f"| {rows:,} | {median['csv']:.2f} | {median['scan']:.2f} | {median['calamine']:.2f} | "
                         f"{median['openpyxl']:.2f} | "
                         f"{median['openpyxl'] / median['calamine']:.1f}x | {'yes' if same else 'NO'} |")
            print(lines[-1], flush=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
