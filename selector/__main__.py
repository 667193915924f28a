"""`python -m selector` runs the command line."""

from .cli import entry

entry()
