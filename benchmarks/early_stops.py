"""Stops in a program's first instants: what Ctrl+C, SIGTERM or SIGHUP do while Python itself starts.

    .venv/bin/python benchmarks/early_stops.py [--tries 120] [--within-ms 30] [--out benchmarks/early_stops.md]

The installed `selector` command runs `select` on the sample and gets a signal a random instant
(0 to --within-ms milliseconds, the same instants for every way in) after it was launched, the
three signals in turn. Two ways in:
- the command as installed (bin/selector: Python started with the stop signals held);
- the entry point a generated script would run (a `#!python` script calling
  `selector.launch.entry`, as `[project.scripts]` made it before): Python's own start unguarded.

Each end is counted as one of: the one line and 128 + the signal; a traceback; ended by the
signal itself before any handler ran (no line; a shell shows 128 + the signal); anything else.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
COMMAND = Path(sys.executable).with_name("selector")
STOPPED = "Interrupted: stopped before finishing; nothing was written and temporary files were removed."
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GENERATED = f"""#!{sys.executable}
import re
import sys
from selector.launch import entry
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(entry())
"""
OUTCOMES = ("the one line, 128 + signal", "traceback", "ended by the signal, no line", "other")


def outcome(returncode: int, stderr: str, signum: int) -> str:
    if "Traceback" in stderr:
        return OUTCOMES[1]
    if returncode == 128 + signum and stderr.strip().splitlines()[-1:] == [STOPPED]:
        return OUTCOMES[0]
    if returncode == -signum and not stderr.strip():
        return OUTCOMES[2]
    return OUTCOMES[3]


def stop_once(command: Path, delay_s: float, signum: int, folder: Path) -> str:
    process = subprocess.Popen(
        [str(command), "select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
         "--out", str(folder / "run")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    left = list(folder.iterdir())
    result = outcome(process.returncode, stderr, signum)
    return result if not left else f"{result}; left {len(left)} files"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=120)
    parser.add_argument("--within-ms", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if COMMAND.read_bytes()[:9] != b"#!/bin/sh":
        sys.exit(f"{COMMAND} is not the shell launcher: install selector with pip into this environment")
    draws = random.Random(20261204)
    instants = [draws.uniform(0, args.within_ms / 1000) for _ in range(args.tries)]
    counts: dict[str, Counter[str]] = {"installed command": Counter(), "generated entry script": Counter()}
    with tempfile.TemporaryDirectory() as scratch:
        generated = Path(scratch) / "selector-entry"
        generated.write_text(GENERATED)
        generated.chmod(0o755)
        for i, delay in enumerate(instants):
            signum = SIGNALS[i % len(SIGNALS)]
            for way, command in (("installed command", COMMAND), ("generated entry script", generated)):
                folder = Path(scratch) / f"{i}-{way.split()[0]}"
                folder.mkdir()
                counts[way][stop_once(command, delay, signum, folder)] += 1
    heading = (f"Stops 0-{args.within_ms:g} ms after launch, {args.tries} tries each way (SIGINT, SIGTERM and "
               "SIGHUP in turn, the same instants both ways), `select` on the sample.")
    lines = [heading, "",
             "| way in | " + " | ".join(OUTCOMES) + " |", "|---|" + "---:|" * len(OUTCOMES)]
    for way, counted in counts.items():
        lines.append(f"| {way} | " + " | ".join(str(counted[o]) for o in OUTCOMES) + " |")
        lines.extend(f"|   {other} | {n} |" for other, n in counted.items() if other not in OUTCOMES)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
