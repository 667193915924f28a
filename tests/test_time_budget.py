"""--time-limit is the budget of the whole run: cohort 1 may use most of it, the alternatives
share the rest, and what the time did not reach is said in words in every output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from selector.cli import main
from selector.solve import SelectionParams, build_problem, search
from selector.solve.lottery import drawing
from selector.solve.settings import Budget
from tests.conftest import SAMPLE, load_caseload, write_slow_caseload


class Clock:
    """A clock the test moves: each solve "takes" 30 s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_solves_share_one_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    from selector.contract.rules import DEFAULT_RULES

    problem = build_problem(caseload.frame, DEFAULT_RULES)
    clock = Clock()
    limits: list[float] = []
    real = search.solve_cohort

    def timed(*args: object, time_limit: float, **kwargs: object) -> object:
        limits.append(time_limit)
        found = real(*args, time_limit=time_limit, **kwargs)  # type: ignore[arg-type]
        clock.now += 30
        return found

    monkeypatch.setattr(search, "solve_cohort", timed)
    # No alternative drawn from the lottery (as with --slack): each is searched for.
    monkeypatch.setattr(drawing, "ALTERNATIVE_DRAWS", 0)
    params = SelectionParams(time_limit_s=60, sets=5)
    solution = search.solve(problem, params, budget=Budget(60, clock=clock))
    # Cohort 1: 80% of 60 s = 48 s. Then 30 s are left for 4 alternatives: 7.5 s for cohort 2.
    # After it the clock reads 60: the budget is spent and cohorts 3 to 5 are not searched.
    assert limits == [48.0, 7.5]
    assert len(solution.cohorts) == 2
    assert solution.notes[-1] == ("the time limit of 60 s was spent after 2 of the 5 ranked cohorts asked for; "
                                  "the others were not searched")


def test_one_cohort_may_use_the_whole_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    from selector.contract.rules import DEFAULT_RULES

    limits: list[float] = []
    real = search.solve_cohort

    def spy(*args: object, time_limit: float, **kwargs: object) -> object:
        limits.append(time_limit)
        return real(*args, time_limit=time_limit, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "solve_cohort", spy)
    search.solve(build_problem(caseload.frame, DEFAULT_RULES), SelectionParams(time_limit_s=60, sets=1),
                 budget=Budget(60, clock=Clock()))
    assert limits == [60.0]


def test_a_cut_short_run_says_so_everywhere(tmp_path: Path) -> None:
    write_slow_caseload(tmp_path)  # a proof that takes minutes with two workers
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["select", str(tmp_path / "slow.csv"), "--rules", str(tmp_path / "slow.toml"),
                                       "--allow-missing-contact", "--time-limit", "4", "--sets", "3", "--workers", "2",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    note = "the time limit of 4 s ran out before cohort 1 was proved best"
    assert f"Note: {note}" in result.stdout
    record = json.loads((out / "run.json").read_text())
    assert record["notes"][0].startswith(note) and record["cohorts"][0]["status"] == "FEASIBLE"
    assert f"Note: {note}" in (out / "report.md").read_text()
    assert record["solver"]["seconds_spent"] < 60  # the run, not each solve, had the 4 s (generous for noise)


def test_no_cohort_before_the_time_limit_is_said_plainly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Every search ends before it finds a cohort (as a time limit far too short makes it): exit 1,
    # with the time the search had and what to do, said once.
    from ortools.sat.python import cp_model

    made = search.make_solver

    def out_of_time(*args, **kwargs):  # type: ignore[no-untyped-def]
        solver = made(*args, **kwargs)
        solver.solve = lambda model, *rest: cp_model.UNKNOWN
        return solver

    monkeypatch.setattr(search, "make_solver", out_of_time)
    result = CliRunner().invoke(main, ["select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                                       "--out", str(tmp_path / "run"), "--time-limit", "10"])
    assert result.exit_code == 1 and not (tmp_path / "run").exists()
    said, how = result.stderr.splitlines()[-2:]
    assert re.fullmatch(r"Error: no cohort was found before the time limit ran out \(this search had [\d.]+ s of the "
                        r"run's 10 s; solver status UNKNOWN\)\.", said), said
    assert how == "Raise --time-limit."
