"""`python -m selector` runs the command line."""

from .cli import main

main()
