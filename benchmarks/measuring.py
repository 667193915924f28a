"""Running a command in its own process and measuring it: wall seconds and the peak memory of
its whole process tree (shared by benchmarks/run.py and benchmarks/shapes.py); and selector's
bytecode cached first, as a user's copy has it (`cache_bytecode`)."""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The command as a user types it (the installed launcher), or the module where it is not installed.
COMMAND = Path(PYTHON).with_name("selector")
SELECTOR = [str(COMMAND)] if COMMAND.exists() else [PYTHON, "-m", "selector"]


def cache_bytecode() -> None:
    """Compile selector's modules into their bytecode cache (__pycache__, not tracked) before
    anything is timed. A user's copy has it from its first run, or from pip for an installed
    copy; where PYTHONDONTWRITEBYTECODE is set (this machine sets it) nothing ever writes it,
    and every measured process would compile selector's 60-odd modules from source again
    (about 0.04 s of each start), a cost libraries installed by pip never pay."""
    compileall.compile_dir(ROOT / "selector", quiet=1)


def run_measured(command: list[str], timeout: float | None = None) -> tuple[float, float, str, int]:
    """Run a command; return wall seconds, peak RSS in MB of it and its children, stdout, code.

    Peak memory is sampled from /proc every 50 ms over the whole process tree (so parallel
    batch workers are added up), and also taken from the kernel's max RSS of the process.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        done.set()
        return float("inf"), peak[0], "", -9
    finally:
        done.set()
    seconds = time.perf_counter() - started
    return seconds, peak[0], stdout, process.returncode


def tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def median_run(command: list[str], repeats: int) -> tuple[float, float, list[str]]:
    runs = [run_measured(command) for _ in range(repeats)]
    for _seconds, _, _, code in runs:
        if code != 0:
            raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs), [r[2] for r in runs]
