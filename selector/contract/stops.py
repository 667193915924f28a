"""Stop requests (Ctrl+C, a polite kill, a closed terminal) as the run sees them.

A stop raises `Interrupted` in the main thread at once, except inside `held()`: a short step
that must not be cut in two (a lock taken, a staging folder made, a finished folder swapped in)
finishes first, and the stop is raised as the step ends, under the `finally` that undoes it.
Masking the signals cannot do this: the process's other threads (the stop watcher, the
libraries' own) may take the signal, and Python then runs the handler in the main thread anyway.
A stop is also remembered, and `check()` raises it again: Python may run the handler inside a
finaliser, where the exception is only printed and lost.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import Interrupted

_held = 0  # how many held steps the main thread is in
_pending: int | None = None  # a stop that came during one
_requested: int | None = None  # the stop asked for, if any (the process is ending)


def stop(signum: int) -> None:
    """A stop signal came (the signal handler, main thread): raise now, or when the held step ends."""
    global _pending, _requested
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
