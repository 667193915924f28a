"""Defaults a run is given when the user says nothing, kept where the command line's help can
show them without importing the solver."""

from __future__ import annotations

# Work (machine-independent units, about a second each here) for making the lottery fairest: at
# the sample's 3,000 children it finds every child who could be drawn (benchmarks/lottery.md).
LOTTERY_WORK = 1.0
