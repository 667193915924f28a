"""The `selector` program: stops are handled from its first instant, then the command line runs.

Ctrl+C, SIGTERM or SIGHUP end the process with one line and the exit code 128 + the signal
(130, 143, 129), whenever they come: while the libraries are being imported (which takes longer
than many runs), while the caseload is read, the cohort searched or the run folder written.
So the handlers are installed first, with nothing imported but the standard library and the
contract's stop requests, and only then is the command line itself imported.

The interpreter's own start (a few hundredths of a second before any of this code runs) is
covered by the installed command, bin/selector: it starts Python with the three signals held,
and `stopping.install` releases them once the handlers are in place. Left uncovered: the first
two or three milliseconds (the launcher's shell and `env` starting), where a stop ends the
process by the signal itself, with no line, before anything is read or written; and
`python -m selector`, which starts Python unguarded.
"""

from __future__ import annotations

import os
import sys

from . import stopping
from .contract import stops
from .contract.errors import Interrupted

STOPPED = "Interrupted: stopped before finishing; nothing was written and temporary files were removed."


def entry() -> None:
    """Run the command line with clean stops; staging folders and uploads are removed on the way
    out by the code that made them."""
    try:
        try:
            stopping.install()
            from .cli import main

            stops.check()  # a stop whose exception an import swallowed (an optional library "missing")
            main(standalone_mode=True)
        except Exception:
            # A library may turn the stop into an error of its own (an extension module whose
            # initialisation is cut short raises ImportError): the stop asked for wins.
            stops.check()
            raise
    except Interrupted as stop:
        try:
            sys.stderr.write((stop.said or STOPPED) + "\n")
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # Everything is cleaned up by now; skip the interpreter's teardown, which a C++
            # library's threads stopped part-way can crash (an abort after the line above).
            os._exit(stop.exit_code)
