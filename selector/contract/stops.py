"""Stop requests (Ctrl+C, a polite kill, a closed terminal) as the run sees them, and the searches
under way that a stop must end (`stoppable`; selector/stopping.py installs the handlers).

A stop raises `Interrupted` in the main thread at once, except inside `held()`: a short step
that must not be cut in two (a lock taken, a staging folder made, a finished folder swapped in)
finishes first, and the stop is raised as the step ends, under the `finally` that undoes it.
Masking the signals cannot do this: the process's other threads (the stop watcher, the
libraries' own) may take the signal, and Python then runs the handler in the main thread anyway.
A stop is also remembered, and `check()` raises it again: Python may run the handler inside a
finaliser, where the exception is only printed and lost. Only the first stop is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from .errors import Interrupted

_held = 0  # how many held steps the main thread is in
_pending: int | None = None  # a stop that came during one
_requested: int | None = None  # the stop asked for, if any (the process is ending)


def stop(signum: int) -> None:
    """A stop signal came (the signal handler, main thread): raise now, or when the held step ends."""
    global _pending, _requested
    if _requested is not None:
        # Already stopping: a second Ctrl+C, pressed while the first unwinds, must not cut its
        # clean-up short (a lock or staging folder left behind). One the run swallowed is raised
        # again by `check()`, and the stop watcher keeps stopping every search.
        return
    _requested = signum
    if _held:
        _pending = signum
        return
    raise Interrupted(signum)


def check() -> None:
    """Raise the stop asked for, if one was (called where long work begins or goes on)."""
    if _requested is not None and not _held and threading.current_thread() is threading.main_thread():
        raise Interrupted(_requested)


@contextmanager
def held() -> Iterator[None]:
    """A step a stop waits for; the stop is raised as it ends (and wins over any error in it)."""
    global _held, _pending
    if threading.current_thread() is not threading.main_thread():  # signals are handled in the main thread only
        yield
        return
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            signum, _pending = _pending, None
            raise Interrupted(signum)


class Stoppable(Protocol):
    """A search another thread can stop (a CP-SAT solver)."""

    def stop_search(self) -> None: ...


_running: set[Stoppable] = set()
_running_lock = threading.Lock()


@contextmanager
def stoppable(search: Stoppable) -> Iterator[None]:
    """A search under way that a stop ends at once (it hands back its best so far)."""
    with _running_lock:
        _running.add(search)
    try:
        yield
    finally:
        with _running_lock:
            _running.discard(search)


def stop_all_searches() -> None:
    """Ask every search under way to stop now."""
    with _running_lock:
        running = list(_running)
    for search in running:
        search.stop_search()
