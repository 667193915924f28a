"""Cohort 1's score equals an independent optimum (scipy's HiGHS MILP) on generated caseloads
of 50 to 5,000 rows, and every cohort meets every hard rule."""

from __future__ import annotations

import pytest

from benchmarks.peers import greedy, milp_optimum
from selector import check
from selector.io import RawTable
from selector.model import SelectionParams, solve
from selector.rules import DEFAULT_RULES
from selector.sample import generate
from selector.validate import validate


def sample_caseload(rows: int, seed: int):
    caseload, contacts = generate(rows, seed)
    raw = RawTable("c.csv", caseload.astype(str), caseload.index.to_numpy() + 2, "", {})
    return validate(raw, RawTable("k.csv", contacts.astype(str), contacts.index.to_numpy() + 2, "", {})).frame


@pytest.mark.slow
@pytest.mark.parametrize(("rows", "seed"), [(50, 1), (80, 2), (120, 3), (300, 4), (1000, 5), (5000, 6)])
def test_score_equals_milp_optimum(rows: int, seed: int) -> None:
    caseload = sample_caseload(rows, seed)
    solution = solve(caseload, DEFAULT_RULES, SelectionParams(seed=seed, sets=2))
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
    ours = solve(caseload, DEFAULT_RULES, SelectionParams(sets=1)).cohorts[0].score
    if picked is not None:
        assert check.violations(caseload, picked, DEFAULT_RULES) == []
        assert check.score(caseload, picked, DEFAULT_RULES) <= ours
