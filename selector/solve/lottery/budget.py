"""The lottery's budget: work in machine-independent units, so that a lottery cut short is the
same on every machine and for every row order, and the wall clock as a last resort.

CP-SAT reports its own deterministic time; what is not CP-SAT is charged by what it does (a numpy
check of one candidate against one value or rule, a call's overhead, a GLOP iteration per row or
column). A unit is about a second here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ...contract import stops

CHECK_WORK = 5e-9
CALL_WORK = 2e-5
LP_WORK = 2e-8
# CP-SAT work for the longer search of one pricing (the one that proves there is no cohort), and
# all a pricing may take while nothing counts (finding every child who can be drawn).
PRICING_DETERMINISTIC_TIME = 5.0
# Kept for spreading the chances should the levels not finish: this share of the first unit of
# work, and SPREAD_BEYOND of the rest (more work goes to raising the level as well).
SPREAD_SHARE, SPREAD_BEYOND = 0.8, 0.5


class OutOfWork(Exception):
    """The lottery's budget ran out: use what has been found."""


@dataclass
class Meter:
    """The work spent and left, and the wall clock's deadline."""

    work: float
    deadline: float  # time.perf_counter() at which to stop
    used: float = 0.0
    by_clock: bool = False
    counting: bool = True  # False while finding every child who can be drawn: the budget does not cut that short
    reserve: float = 0.0  # work kept back (for spreading the chances when the levels do not finish)
    uncut: bool = False  # True while a step bounded by its own size runs to its end, its work still counted

    def spend(self, units: float) -> None:
        if self.counting:
            self.used += units

    def work_left(self) -> float:
        return self.work - self.reserve - self.used if self.counting else PRICING_DETERMINISTIC_TIME

    def wall_left(self) -> float:
        return self.deadline - time.perf_counter()

    def check(self) -> None:
        """Raise `OutOfWork` when the work or the wall clock has run out (and a stop asked for)."""
        stops.check()
        if self.work_left() <= 0 and not self.uncut:
            raise OutOfWork
        if self.wall_left() <= 0:
            self.by_clock = True
            raise OutOfWork
