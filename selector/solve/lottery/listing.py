"""Every cohort of a small lottery, listed: when few children can be drawn, CP-SAT lists every
cohort of the lottery's score among them within a little work, and the lottery over that list
is exact at every level (each level is one LP over every cohort, so the LP proves it), where
column generation may run out of work before it proves its first level and its certificate
must lean on the looser relaxation. A generated 300-row caseload with 42 children who can be
drawn: its 50 best cohorts listed in 0.04 s, and all 17 levels proved, where column generation
proved none in 1.4 s (benchmarks/lottery.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from ortools.sat.python import cp_model

from ..constraints import CohortModel, add_never_twice
from ..problem import subset
from ..settings import SelectionParams, make_solver
from .findings import Findings
from .kinds import apart
from .pricing import Collector

# Lists are tried only when at most this many children can be drawn (more: the list is long and
# slow to make, and column generation is the way).
LIST_CHILDREN = 150
LIST_COHORTS = 5_000  # a longer list is abandoned (each level's LP grows with it)
LIST_DETERMINISTIC_TIME = 1.0  # CP-SAT's work for the list (deterministic: the same on every machine)


class Listing(Collector):
    """Every cohort a CP-SAT enumeration passes (as pricing's collector keeps them), until there
    are more than `most`."""

    def __init__(self, x: list[cp_model.IntVar], most: int) -> None:
        super().__init__(x)
        self.most = most
        self.overflow = False

    def on_solution_callback(self) -> None:
        if len(self.found) == self.most:
            self.overflow = True
            self.stop_search()
            return
        super().on_solution_callback()


def every_cohort(findings: Findings, params: SelectionParams, most_children: int = LIST_CHILDREN
                 ) -> list[tuple[int, ...]] | None:
    """Every cohort of the lottery (positions; one per set of types, since type-mates are
    interchangeable), over the children some column found holds (discovery found every child
    who can be drawn), or None when they are more than `most_children`, the cohorts more than
    LIST_COHORTS, or the list was not finished within its work."""
    inside = np.flatnonzero(findings.seen[findings.type_of])
    if not 0 < len(inside) <= most_children:
        return None
    problem = subset(findings.problem, inside)
    m = CohortModel(problem, exact=True)  # each cohort listed once, not once per way of counting its values
    m.model.add(m.score >= findings.threshold)
    add_never_twice(m, apart(problem, findings.threshold))  # implied by the score: it prunes
    _one_per_type_set(m, findings.type_of[inside])
    meter = findings.meter
    solver = make_solver(replace(params, workers=1, seed=0), max(meter.wall_left(), 0.01))
    # CP-SAT's own linearization: listing with the full relaxation (ours for one worker) took
    # 2-6 times as long on small caseloads (benchmarks/lottery.md).
    solver.parameters.linearization_level = 1
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.max_deterministic_time = LIST_DETERMINISTIC_TIME
    listing = Listing(m.x, LIST_COHORTS)
    status = solver.solve(m.model, listing)
    if status != cp_model.OPTIMAL or listing.overflow:
        if status != cp_model.INFEASIBLE and meter.wall_left() <= 0:
            meter.by_clock = True  # the wall clock, not the work, ended it: not reproducible
        return None
    return [tuple(int(inside[i]) for i in cohort) for cohort in listing.found]


def _one_per_type_set(m: CohortModel, type_of: Sequence[int] | np.ndarray) -> None:
    """Of type-mates, a cohort holds the first before the next: one cohort per set of types is
    listed (swapping type-mates keeps a cohort in the lottery, so none is lost)."""
    type_of = np.asarray(type_of)
    order = np.argsort(type_of, kind="stable")
    for a, b in zip(order[:-1].tolist(), order[1:].tolist(), strict=True):
        if type_of[a] == type_of[b]:
            m.model.add(m.x[b] <= m.x[a])
