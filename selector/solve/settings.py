"""How to search: the parameters a run is given, and the CP-SAT settings they become."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import ortools
from ortools.sat.python import cp_model

from ..contract import stops
from ..contract.defaults import LOTTERY_WORK
from ..contract.errors import InputError

# Work allowed to the seeded tie-break among equally good cohorts, in CP-SAT's deterministic
# time units, so that the same seed gives the same cohort on any machine.
TIE_BREAK_DETERMINISTIC_TIME = 0.2
# Above this many candidates, a seeded random pool is solved first (see search.solve_cohort).
POOL_THRESHOLD = 800


@dataclass(frozen=True)
class SelectionParams:
    """How to search.

    Attributes:
        seed: picks among equally good cohorts (same seed, same cohorts).
        time_limit_s: wall-time limit for proving each cohort; the best found is kept.
        workers: CP-SAT search workers; 1 is deterministic and measured fastest here.
        sets: number of ranked cohorts.
        max_overlap: members a cohort may share with each better-ranked cohort.
        reserves: reserves listed per slot of cohort 1.
        relax: when the rules cannot all hold, drop the fewest, lowest-priority ones.
        pool_threshold: above this many candidates, try a random pool first (exact either way).
        slack: cohort 1 is drawn from the cohorts scoring within this percentage of the optimum.
        lottery_work: the work the fairest lottery may take (machine-independent units, about
            a second each here); when it runs out the lottery found so far is used.
        seed_source: how the seed was made: "given", "random" (the operating system's secure
            random source) or "phrase" (contract/seeds.py); for "random" and "phrase" the
            application sets `seed` before the search.
        seed_phrase: the phrase, when the seed was made from one.
    """

    seed: int = 0
    time_limit_s: float = 60.0
    workers: int = 1
    sets: int = 5
    max_overlap: int = 3
    reserves: int = 3
    relax: bool = False
    pool_threshold: int = POOL_THRESHOLD
    slack: float = 0.0
    lottery_work: float = LOTTERY_WORK
    seed_source: str = "given"
    seed_phrase: str = ""

    def __post_init__(self) -> None:
        if self.sets < 1:
            raise InputError("the number of ranked cohorts must be at least 1.", "bad_params")
        if self.max_overlap < 0:
            raise InputError("the overlap allowed between cohorts must be at least 0.", "bad_params")
        if self.time_limit_s <= 0:
            raise InputError("the time limit must be more than 0 seconds.", "bad_params")
        if not 0 <= self.slack < 100:
            raise InputError("the slack must be a percentage from 0 up to (not including) 100.", "bad_params")
        if self.lottery_work < 0:
            raise InputError("the lottery's work must be 0 or more.", "bad_params")


# The smallest slice a solve is given, so that even a spent budget lets it hand back what it has.
MIN_SOLVE_S = 0.05
# Cohort 1 is the answer; the alternatives share what it leaves. It may use this much of the
# budget when alternatives are asked for.
FIRST_COHORT_SHARE = 0.8


class Budget:
    """The run's time limit, shared out between its solves: it bounds the whole search (cohort
    1, the alternatives, the replacements), not each solve on its own."""

    def __init__(self, total: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.total = total
        self.clock = clock
        self.started = clock()

    def spent(self) -> float:
        return self.clock() - self.started

    def left(self) -> float:
        return max(self.total - self.spent(), 0.0)

    def share(self, steps: int, fraction: float = 1.0) -> float:
        """A solve's time limit: `fraction` of an even share of what is left among `steps` solves.

        >>> Budget(60, clock=lambda: 0.0).share(3)
        20.0
        >>> Budget(60, clock=lambda: 0.0).share(1, FIRST_COHORT_SHARE)
        48.0
        """
        return max(self.left() / max(steps, 1) * fraction, MIN_SOLVE_S)

    def exhausted(self) -> bool:
        return self.left() < MIN_SOLVE_S


class StoppableSolver(cp_model.CpSolver):
    """A CP-SAT solver that a stop request stops from another thread (contract/stops.py) while
    the main thread is inside a long solve."""

    def solve(self, model: cp_model.CpModel, solution_callback: object = None) -> object:  # type: ignore[override]
        stops.check()  # a stop whose exception was lost (see contract/stops.py) ends the run here
        with stops.stoppable(self):
            answer = super().solve(model, solution_callback)  # type: ignore[arg-type]
        stops.check()
        return answer


def make_solver(params: SelectionParams, time_limit: float) -> cp_model.CpSolver:
    solver = StoppableSolver()
    # The process's own handlers decide what Ctrl+C and a polite kill do (stop, clean up, exit);
    # the solver must neither catch nor reset them.
    solver.parameters.catch_sigint_signal = False
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    if params.workers == 1:
        # Measured (benchmarks/): one worker with the full linear relaxation
        # proves these models as fast as several workers with the defaults.
        solver.parameters.linearization_level = 2
    return solver


def solver_record(params: SelectionParams) -> dict[str, object]:
    """The solver settings recorded in run.json."""
    return {
        "engine": "OR-Tools CP-SAT",
        "ortools": _ortools_version(),
        "num_workers": params.workers,
        "random_seed": params.seed,
        "max_time_in_seconds": params.time_limit_s,
        "linearization_level": 2 if params.workers == 1 else 1,
        "tie_break_max_deterministic_time": TIE_BREAK_DETERMINISTIC_TIME,
    }


def _ortools_version() -> str:
    return str(ortools.__version__)  # type: ignore[attr-defined]
