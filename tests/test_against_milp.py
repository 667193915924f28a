"""Cohort 1's score equals an independent optimum (scipy's HiGHS MILP) on generated caseloads
of 50 to 5,000 rows, and every cohort meets every hard rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.peers import greedy, milp_optimum
from selector import check
from selector.contract.rules import DEFAULT_RULES, CountRule
from selector.io.sample import generate
from selector.io.tables import RawTable
from selector.solve import SelectionParams, build_problem
from selector.solve.search import upper_bound
from selector.validate import validate
from tests.conftest import solve_frame


def sample_caseload(rows: int, seed: int):
    caseload, contacts = generate(rows, seed)
    raw = RawTable("c.csv", caseload.astype(str), caseload.index.to_numpy() + 2, "", {})
    return validate(raw, RawTable("k.csv", contacts.astype(str), contacts.index.to_numpy() + 2, "", {})).frame


@pytest.mark.slow
@pytest.mark.parametrize(("rows", "seed"), [(50, 1), (80, 2), (120, 3), (300, 4), (1000, 5), (5000, 6)])
def test_score_equals_milp_optimum(rows: int, seed: int) -> None:
    caseload = sample_caseload(rows, seed)
    solution = solve_frame(caseload, DEFAULT_RULES, SelectionParams(seed=seed, sets=2))
    best, chosen, message = milp_optimum(caseload, DEFAULT_RULES)
    assert best is not None, message
    first = solution.cohorts[0]
    assert first.status == "OPTIMAL"
    assert first.score == round(best) == check.score(caseload, chosen, DEFAULT_RULES)
    for cohort in solution.cohorts:
        assert check.violations(caseload, cohort.members, DEFAULT_RULES) == []
        assert check.score(caseload, cohort.members, DEFAULT_RULES) == cohort.score


def test_greedy_never_beats_the_model() -> None:
    caseload = sample_caseload(200, 8)
    picked = greedy(caseload, DEFAULT_RULES)
    ours = solve_frame(caseload, DEFAULT_RULES, SelectionParams(sets=1)).cohorts[0].score
    if picked is not None:
        assert check.violations(caseload, picked, DEFAULT_RULES) == []
        assert check.score(caseload, picked, DEFAULT_RULES) <= ours


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_when_the_bound_is_out_of_reach_the_whole_caseload_is_solved(seed: int) -> None:
    """At least 5 with an EHC plan leaves one slot for the other two plan statuses, so the
    plan dimension's cap of 3 cannot be reached; a narrow caseload (three needs, three
    setting types, one locality, no services) adds real trade-offs. The pool cannot prove the
    optimum by the bound, so the whole caseload is solved; it must equal HiGHS's optimum."""
    caseload = sample_caseload(4000, seed)
    narrow = caseload[caseload["primary_need"].isin(["ASD", "SLCN", "SEMH"])
                      & caseload["setting_type"].isin(["MAINSTREAM", "AP", "SPECIAL"])
                      & (caseload["locality"] == caseload["locality"].iloc[0])].reset_index(drop=True)
    narrow = narrow.assign(services="")
    rules = replace(DEFAULT_RULES, counts=(
        CountRule("setting_type", ("AP",), min=1), CountRule("plan_status", ("EHCP",), min=5)))
    problem = build_problem(narrow, rules)
    solution = solve_frame(narrow, rules, SelectionParams(seed=seed, sets=1, pool_threshold=100))
    best, _, message = milp_optimum(narrow, rules)
    assert best is not None, message
    first = solution.cohorts[0]
    assert first.score < upper_bound(problem)
    assert first.status == "OPTIMAL" and first.score == round(best)
    assert check.violations(narrow, first.members, rules) == []
