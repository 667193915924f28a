"""Stopping cleanly on Ctrl+C, a polite kill (SIGTERM) or a closed terminal (SIGHUP).

Each signal raises `Interrupted` in the main thread (once a held step is done: contract/stops.py),
so the run unwinds through its `finally` blocks (staging folders, uploads, locks). Python runs a
signal handler only between bytecodes, and a solve runs in C++; so the signal is also written to
a wake-up pipe that a watcher thread reads at once and answers by stopping every search under way
(`contract.stops.stoppable`), which hands control back. It keeps stopping them until the process
ends: a solve that was just starting when the signal came may not hear the first request.

This module needs only the standard library and the contract, so a command installs it before it
imports anything heavy: a stop during the imports ends as cleanly as one during the run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from .contract.errors import Interrupted
from .contract.stops import stop, stop_all_searches

T = TypeVar("T")
R = TypeVar("R")

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)
RESTOP_S = 0.05  # how often the watcher stops again any search under way once a stop came


def install() -> None:
    """Handle the stop signals for this process (main thread only; once)."""
    if threading.current_thread() is not threading.main_thread():
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    for signum in STOP_SIGNALS:
        # A signal ignored on entry was ignored on purpose: `nohup` ignores SIGHUP so that a batch
        # outlives its terminal, and a script's `selector ... &` ignores Ctrl+C meant for the
        # script. Left ignored, as POSIX shells and Python's own Ctrl+C handling leave it.
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _raise_interrupted)
    threading.Thread(target=_watch, args=(read_end,), name="stop-watcher", daemon=True).start()
    sys.unraisablehook = _quiet_about_stops(sys.unraisablehook)
    # The `selector` command starts Python with these signals held (bin/selector), so that a stop
    # during the interpreter's own start waits for the handlers above; one held now is raised here.
    if hasattr(signal, "pthread_sigmask"):  # POSIX only (`python -m selector` on Windows has none)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _raise_interrupted(signum: int, _frame: object) -> None:
    stop(signum)


def _quiet_about_stops(
    previous: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], object]:
    """Python may run the handler inside a finaliser (a weak reference's callback, as the import
    machinery's module locks have), where the stop cannot be raised and Python prints it as
    "Exception ignored", with a traceback. The stop is remembered and raised again at the run's
    next check (`contract.stops`), so nothing is printed for it; anything else is as before."""

    def hook(unraisable: sys.UnraisableHookArgs) -> object:
        if isinstance(unraisable.exc_value, Interrupted):
            return None
        return previous(unraisable)

    return hook


# A process of a batch's pool: whether it is running an area now (`run_as_worker`).
_in_task = False


def install_in_worker() -> None:
    """The stops of a batch's worker process (the pool's initializer).

    Ctrl+C and a hang-up reach every process of the job, and they are the parent's to answer: it
    stops its workers with SIGTERM and waits for them. So here they are ignored, and SIGTERM
    stops the area under way (which unwinds and removes its staging folder; like any stop, only
    the first is raised, so the parent's SIGTERM after one sent to the whole job is not a second)
    or ends an idle worker at once. The wake-up pipe and watcher inherited from the parent are
    the parent's own.
    """
    install()
    for signum in STOP_SIGNALS:
        if signum != signal.SIGTERM:
            signal.signal(signum, signal.SIG_IGN)
    if signal.getsignal(signal.SIGTERM) != signal.SIG_IGN:
        signal.signal(signal.SIGTERM, _stop_worker)


def _stop_worker(signum: int, _frame: object) -> None:
    if not _in_task:
        os._exit(128 + signum)  # nothing under way, nothing to remove; no traceback from the pool's loop
    stop(signum)


def run_as_worker(task: Callable[[T], R], argument: T) -> R:
    """`task(argument)` in a batch's worker: stopped, it removes what it made and the process ends
    quietly with 128 + the signal (the parent prints the one line)."""
    global _in_task
    _in_task = True
    try:
        return task(argument)
    except Interrupted as stopped:
        os._exit(stopped.exit_code)
    finally:
        _in_task = False


def _watch(read_end: int) -> None:
    while True:
        try:
            received = os.read(read_end, 64)
        except OSError:
            return
        if not received:
            return
        while True:  # a stop ends the process: any search still under way or starting is stopped
            stop_all_searches()
            time.sleep(RESTOP_S)
