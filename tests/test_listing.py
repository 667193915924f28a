"""Every cohort listed: when few children can be drawn, the lottery is worked out over every cohort
of its score, each level proved by its LP alone, where column generation may run out of work
before it proves one; and when the list is long or the children many, column generation as
before."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from selector.contract.rules import Dimension, Rules
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import fair_lottery, listing
from selector.solve.lottery.budget import Meter
from selector.solve.lottery.findings import Findings
from selector.solve.lottery.listing import every_cohort
from tests.conftest import run, validated, write_csv

PARAMS = SelectionParams(seed=0)
# Size 2, a point per distinct need (cap 2). K1 ASD, K2-K4 MLD (alike for every rule: one type),
# K5 SEMH. The best cohorts (score 2) are the 7 pairs of two needs: {ASD,MLD} x3, {ASD,SEMH},
# {MLD,SEMH} x3. Leximin: each MLD child is in (u + w)/3 of the draws for the weights u, v, w of
# the three kinds, at most 1/3 (v = 0); then K1 and K5 share the rest: 1/2 each.
ROWS = [{"primary_need": n} for n in ("ASD", "MLD", "MLD", "MLD", "SEMH")]
RULES = Rules(size=2, dimensions=(Dimension("primary_need", 1, 2),))
FAIREST = [1 / 2, 1 / 3, 1 / 3, 1 / 3, 1 / 2]


def found_everyone(rows: list[dict[str, object]] = ROWS, rules: Rules = RULES, threshold: int = 2) -> Findings:
    """The findings of a caseload (the one above unless told) once discovery has found every
    child (all can be drawn)."""
    findings = Findings(build_problem(validated(rows).frame, rules), threshold, Meter(1.0, time.perf_counter() + 60))
    findings.seen[:] = True
    return findings


def test_every_cohort_is_listed_once_for_each_set_of_types() -> None:
    # The three sets of types, each once, the first MLD child (K2, position 1) standing for hers.
    assert sorted(every_cohort(found_everyone(), PARAMS) or []) == [(0, 1), (0, 4), (1, 4)]


def test_each_cohort_is_listed_once_however_its_values_could_be_counted() -> None:
    # Size 2, a point for a need, counted up to 1: every pair scores 1. A pair of two needs covers
    # two values of which one counts: counted as the first or as the second need, it is still one
    # cohort, listed once (three pairs, not six).
    rows: list[dict[str, object]] = [{"primary_need": n} for n in ("ASD", "MLD", "SEMH")]
    rules = Rules(size=2, dimensions=(Dimension("primary_need", 1, 1),))
    assert sorted(every_cohort(found_everyone(rows, rules, threshold=1), PARAMS) or []) == [(0, 1), (0, 2), (1, 2)]


def test_no_list_for_more_children_than_it_is_made_for_or_a_list_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    assert every_cohort(found_everyone(), PARAMS, most_children=4) is None  # 5 children can be drawn
    monkeypatch.setattr(listing, "LIST_COHORTS", 2)
    assert every_cohort(found_everyone(), PARAMS) is None  # 3 cohorts


def test_with_little_work_a_listed_lottery_is_proved_at_every_level_where_column_generation_is_not() -> None:
    problem = build_problem(validated(ROWS).frame, RULES)
    little = replace(PARAMS, lottery_work=0.001)
    listed = fair_lottery(problem, little, 2)
    assert listed.proved and listed.levels == 2
    assert listed.chances.tolist() == pytest.approx(FAIREST, abs=1e-6)
    assert listed.smallest / listed.bound >= 0.999  # the certificate: the first level, exactly
    searched = fair_lottery(problem, little, 2, listing=0)
    assert not searched.proved


def test_a_list_too_long_leaves_the_lottery_to_column_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = build_problem(validated(ROWS).frame, RULES)
    searched = fair_lottery(problem, PARAMS, 2, listing=0)
    monkeypatch.setattr(listing, "LIST_COHORTS", 2)
    fallen_back = fair_lottery(problem, PARAMS, 2)
    assert fallen_back.columns == searched.columns and fallen_back.weights == searched.weights
    assert np.array_equal(fallen_back.chances, searched.chances)


def test_a_small_area_is_told_its_lottery_is_proved_the_fairest(tmp_path: Path) -> None:
    # `selector sample --rows 300 --seed 1`: 42 of its children are in some best cohort. The
    # search alone found the fairest smallest chance, 1/15, but proved nothing within the work
    # (its bound, the relaxation, said 9.28%: a certificate of 71%); listed, every level is
    # proved and the bound is the first level itself.
    caseload, contacts = generate(300, seed=1)
    paths = write_csv(tmp_path / "caseload.csv", caseload), write_csv(tmp_path / "contacts.csv", contacts)
    code, stdout, stderr = run("select", str(paths[0]), "--contacts", str(paths[1]), "--out", str(tmp_path / "run"),
                               "--sets", "1", "--seed", "0")
    assert code == 0, stdout + stderr
    lines = stdout.splitlines()
    assert ("Drawn from a lottery: 42 children could have been drawn; chances from 6.6667% to 60.00% "
            "(proved fairest)") in lines
    assert ("Certificate: every child who can be drawn has at least 6.6667%; no lottery over these cohorts could "
            "give every one more than 6.6667% (99.99% of it: within 0.1% of the fairest possible, the first level "
            "reached).") in lines
    record = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert record["lottery"]["proved"] is True
    # The report says what proved the bound: the first level, not the relaxation.
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert ("no lottery over these cohorts could give every one of them more than 6.7% (the first level of the "
            "fairest lottery, proved: no cohort could raise it), so the smallest chance is within 0.1% of the "
            "fairest possible") in report
