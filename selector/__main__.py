"""`python -m selector` runs the command line (stops handled from the first instant)."""

from .launch import entry

entry()
