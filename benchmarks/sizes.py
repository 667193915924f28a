"""The lottery at other cohort sizes: `select --sets 1 --size N` on the sample, a 12,400-row
area (the national average) and the shapes of benchmarks/shapes.py, one process each.

Run from the repository root (after `pip install -e ".[dev]"`):

    python benchmarks/sizes.py                        # sizes 4-8, every caseload
    python benchmarks/sizes.py --sizes 4 5 --only sample

Each line: the whole command's seconds, the lottery's seconds, the children who can be drawn,
whether every one was found (`complete`: else some have no chance) and the certificate s/U.
`--code DIR` times another copy of selector (a worktree of an earlier commit, say) on the same
files, so that a change is measured before and after in one run. Writes benchmarks/sizes.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.shapes import SHAPES, shaped  # noqa: E402
from selector.io.sample import generate, inline_contacts  # noqa: E402


def caseloads(folder: Path, only: list[str]) -> dict[str, tuple[Path, Path | None]]:
    """Every caseload measured: its file and its contacts file (None: contacts inline)."""
    files: dict[str, tuple[Path, Path | None]] = {
        "sample": (ROOT / "data/sample/caseload.csv", ROOT / "data/sample/contacts.csv")}
    area = folder / "area-12400.csv"
    inline_contacts(*generate(12_400, seed=3)).to_csv(area, index=False)
    files["12,400 rows"] = (area, None)
    for shape in SHAPES:
        path = folder / f"{shape}.csv"
        shaped(5_000, shape).to_csv(path, index=False)
        files[f"{shape} (5,000)"] = (path, None)
    return {name: paths for name, paths in files.items() if not only or any(o in name for o in only)}


def measure(code: Path, caseload: Path, contacts: Path | None, size: int, out: Path) -> str:
    command = [sys.executable, "-m", "selector", "select", str(caseload), "--out", str(out), "--force",
               "--sets", "1", "--size", str(size), "--seed", "1", "--no-progress"]
    if contacts is not None:
        command[5:5] = ["--contacts", str(contacts)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=code, env={**os.environ, "PYTHONPATH": str(code)}, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"{seconds:.1f} | - | - | - | exit {done.returncode}"
    lottery = json.loads((out / "run.json").read_text(encoding="utf-8"))["lottery"]
    return (f"{seconds:.1f} | {lottery['seconds']:.1f} | {lottery['possible']:,} | "
            f"{'yes' if lottery['complete'] else 'NO'} | {lottery['certified']:.3f}")


def _label(code: Path) -> str:
    return "this" if code == ROOT else code.name


def _commit(code: Path) -> str:
    done = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (done.stdout.strip() or "unknown") + (" with changes not committed" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 5, 6, 7, 8])
    parser.add_argument("--only", nargs="*", default=[], help="caseloads whose name holds one of these")
    parser.add_argument("--code", type=Path, action="append", default=[],
                        help="another copy of selector to time too (repeatable)")
    parser.add_argument("--write", type=Path, default=ROOT / "benchmarks/sizes.md")
    args = parser.parse_args()
    codes = [ROOT, *args.code]
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             f"Date: {time.strftime('%Y-%m-%d')}. Code: " + ", ".join(f"{_label(c)} = commit {_commit(c)}" for c in codes)
             + ". One run, the copies in turn on each caseload and size.", "",
             "| caseload | size | code | select s | lottery s | can be drawn | all found | s/U |",
             "|---|---:|---|---:|---:|---:|---|---:|"]
    with tempfile.TemporaryDirectory(prefix="selector-sizes-") as folder:
        for name, (caseload, contacts) in caseloads(Path(folder), args.only).items():
            for size in args.sizes:
                for code in codes:
                    line = f"| {name} | {size} | {_label(code)} | " + measure(code, caseload, contacts, size,
                                                                        Path(folder) / "run") + " |"
                    print(line, flush=True)
                    lines.append(line)
    args.write.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
