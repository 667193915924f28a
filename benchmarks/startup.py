"""Start-up: what `selector` costs before it does any work, against Python itself and the two
libraries the job cannot do without.

    .venv/bin/python benchmarks/startup.py [--repeats 9] [--out benchmarks/startup.md]

Measured, each in a fresh process, interleaved round by round so that a busy moment of a
shared machine touches every measure alike (median of the rounds):
- `python -c pass`: the interpreter alone;
- `selector --help`: the installed command, as a user types it;
- bare imports: `import pandas` and OR-Tools' CP-SAT, the floor of any `select`;
- select's imports: every module a real `select` on the sample has loaded by its end, imported
  in a fresh process (found once, by running `select` and listing `sys.modules`).

Targets: `--help` within 0.3 s of `python -c pass`; select's imports within 0.15 s of the bare
imports. selector's bytecode is cached first (benchmarks/measuring.py: `cache_bytecode`), as a
user's copy has it after its first run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
PYTHON = sys.executable
COMMAND = Path(PYTHON).with_name("selector")
HELP_TARGET_S = 0.3
IMPORTS_TARGET_S = 0.15

# Runs select in this process and prints the modules it loaded (the command line exits through
# SystemExit, which is caught so the list can be printed).
LIST_MODULES = """
import json, sys
from selector.launch import entry
sys.argv = ["selector", "select", {caseload!r}, "--contacts", {contacts!r}, "--out", {out!r}, "--sets", "1"]
try:
    entry()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


def select_modules() -> list[str]:
    """Every module a `select` on the sample loads, found by running one."""
    with tempfile.TemporaryDirectory() as folder:
        code = LIST_MODULES.format(caseload=str(SAMPLE / "caseload.csv"), contacts=str(SAMPLE / "contacts.csv"),
                                   out=str(Path(folder) / "run"))
        done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    # Names a process has without importing them, and a command's own entry script.
    return [m for m in modules if m not in sys.builtin_module_names and m != "__main__"]


def import_all(modules: list[str]) -> str:
    """A program importing each module (a name that is no longer importable on its own is skipped)."""
    return (f"import importlib\nfor name in {modules!r}:\n    try:\n        importlib.import_module(name)\n"
            "    except Exception:\n        pass\n")


def seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(repeats: int) -> dict[str, float]:
    modules = select_modules()
    commands = {
        "python -c pass": [PYTHON, "-c", "pass"],
        "selector --help": [str(COMMAND), "--help"],
        "bare imports: pandas + OR-Tools CP-SAT": [PYTHON, "-c", "import pandas\nfrom ortools.sat.python import cp_model"],
        f"select's imports ({len(modules)} modules)": [PYTHON, "-c", import_all(modules)],
    }
    for argv in commands.values():  # warm the file cache once
        seconds(argv)
    rounds: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, argv in commands.items():
            rounds[name].append(seconds(argv))
    return {name: statistics.median(times) for name, times in rounds.items()}


def report(medians: dict[str, float], repeats: int) -> str:
    names = list(medians)
    bare, help_, pass_, imports = medians[names[2]], medians[names[1]], medians[names[0]], medians[names[3]]
    lines = [f"Start-up, median of {repeats} interleaved rounds, each in a fresh process.", "",
             "| what | seconds |", "|---|---:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in medians.items()]
    help_over, imports_over = help_ - pass_, imports - bare
    lines += ["",
              f"- `selector --help` costs {help_over:.3f} s over `python -c pass` (target ≤ {HELP_TARGET_S} s): "
              + ("met" if help_over <= HELP_TARGET_S else "MISSED"),
              f"- select's imports cost {imports_over:.3f} s over the bare imports (target ≤ {IMPORTS_TARGET_S} s): "
              + ("met" if imports_over <= IMPORTS_TARGET_S else "MISSED")]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (Markdown)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.measuring import cache_bytecode

    cache_bytecode()
    text = report(measure(args.repeats), args.repeats)
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
