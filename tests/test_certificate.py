"""The lottery's certificate: a proved upper bound U on the smallest chance any lottery over the
best cohorts can give every child who can be drawn, held to an independent computation (every
cohort enumerated, the checker keeping the best, HiGHS solving the maximin LP) on small
caseloads, and worked out by hand where it is exact."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector import check
from selector.contract.rules import CountRule, Dimension, Rules, SpreadRule
from selector.solve import SelectionParams, build_problem
from selector.solve.fit import Fitter
from selector.solve.lottery import fair_lottery
from selector.solve.lottery.bound import maximin_bound
from selector.solve.lottery.listing import LIST_CHILDREN
from tests.conftest import SAMPLE, run, validated
from tests.test_lottery import leximin_by_enumeration

PARAMS = SelectionParams(seed=0)


def test_the_bound_is_exact_when_every_child_is_alike() -> None:
    # Four children alike, a cohort of 2: every lottery gives the four 2/4 in all, so no
    # lottery gives each more than 1/2, and the even one gives each exactly 1/2.
    rows = [{"primary_need": "ASD"}] * 4
    rules = Rules(size=2, dimensions=(Dimension("primary_need", 1, 2),))
    problem = build_problem(validated(rows).frame, rules)
    assert maximin_bound(Fitter(problem, 1), np.ones(4, dtype=bool)) == pytest.approx(0.5, abs=1e-6)


def test_a_rare_value_every_best_cohort_needs_bounds_the_others() -> None:
    # K1 alone is ASD; the others MLD. Need counts 1 a value up to 2, a cohort of 2: every best
    # cohort (score 2) holds K1 and one of the 3 MLD children, so K1 has chance 1 and the others
    # 1/3 at best: U = 1/3 (the relaxation sees it: X_ASD <= 1, so X_MLD >= 1 must cover 3t).
    rows = [{"primary_need": n} for n in ("ASD", "MLD", "MLD", "MLD")]
    rules = Rules(size=2, dimensions=(Dimension("primary_need", 1, 2),))
    problem = build_problem(validated(rows).frame, rules)
    assert maximin_bound(Fitter(problem, 2), np.ones(4, dtype=bool)) == pytest.approx(1 / 3, abs=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(needs=st.lists(st.sampled_from(("ASD", "MLD", "SEMH", "HI")), min_size=4, max_size=7),
       ap=st.lists(st.booleans(), min_size=7, max_size=7),
       ages=st.lists(st.sampled_from([3, 8, 13, 17, 21]), min_size=7, max_size=7),
       settings_=st.lists(st.sampled_from(["S1", "S2", "S3"]), min_size=7, max_size=7),
       size=st.integers(2, 3), need_ap=st.booleans(), spread=st.booleans(),
       listing=st.sampled_from([0, LIST_CHILDREN]))
def test_the_certificate_holds_against_the_enumerated_maximin(needs: list[str], ap: list[bool], ages: list[int],
                                                              settings_: list[str], size: int, need_ap: bool,
                                                              spread: bool, listing: int) -> None:
    rows = [{"primary_need": n, "setting_type": "AP" if a else "MAINSTREAM", "age": age, "setting_id": s}
            for n, a, age, s in zip(needs, ap, ages, settings_, strict=False)]
    counts = (CountRule("setting_type", ("AP",), min=1),) if need_ap else ()
    spreads = (SpreadRule("setting_id", 1),) if spread else ()
    rules = Rules(size=size, counts=counts, spreads=spreads,
                  dimensions=(Dimension("primary_need", 2, 3), Dimension("age_band", 1, 2)))
    frame = validated(rows).frame
    feasible = [c for c in itertools.combinations(frame["child_id"], size) if not check.violations(frame, c, rules)]
    if not feasible:
        return
    optimum = max(check.score(frame, c, rules) for c in feasible)
    chances = leximin_by_enumeration(frame, rules)
    maximin = min(p for p in chances.values() if p > 1e-9)  # the fairest possible smallest chance
    problem = build_problem(frame, rules)
    possible = np.array([chances[str(c)] > 1e-9 for c in problem.child_ids])
    # The bound is a bound: no lottery does better than it.
    assert maximin_bound(Fitter(problem, optimum), possible) >= maximin - 1e-6
    # A lottery proved fairest reaches its first level, and its certificate says so.
    lottery = fair_lottery(problem, PARAMS, optimum, listing=listing)  # column generation, or every cohort listed
    assert lottery.proved and lottery.bound is not None
    assert lottery.bound >= maximin - 1e-6
    assert lottery.smallest == pytest.approx(maximin, abs=1e-6)
    assert lottery.smallest / lottery.bound >= 0.999


def test_a_lottery_cut_short_says_how_far_it_is_from_the_fairest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                               "--out", str(out), "--sets", "1", "--seed", "0")
    assert code == 0, stderr
    record = json.loads((out / "run.json").read_text())["lottery"]
    # The sample: every child has 1.06/n or more; no lottery could give every child more than
    # 3.31/n (the relaxation, as the LP over kinds gives it); so about 32%.
    assert record["bound"] * 2985 == pytest.approx(3.308, abs=0.01)
    assert record["certified"] == pytest.approx(record["smallest"] / record["bound"])
    assert not record["first_level"]
    assert "Certificate: every child who can be drawn has at least 0.0355%" in stdout
    # U bounds the fairest smallest chance from above, so 32% of U is a floor, not a finding
    # that a fairer lottery exists.
    assert ("(32% of it: the smallest chance is at least that share of the fairest possible; not proved the "
            "fairest).") in stdout
    report = (out / "report.md").read_text()
    assert ("no lottery over these cohorts could give every one of them more than 0.11% (a linear relaxation of "
            "the best cohorts proves it), so the smallest chance is at least 32% of the fairest possible.") in report


@pytest.mark.parametrize(("smallest", "bound", "said"), [
    (0.0017780, 0.0017800, "99.8%"),  # 99.89%: not "100%", which would claim the first level
    (0.3278, 1.0, "32%"),  # not "33%": the lottery is at least 32.78% of the fairest, no more proved
    (0.999, 1.0, "99.90%"),
    (0.999999, 1.0, "99.99%"),  # a bound above the chance by floating-point noise: not "100%" either
    (0.5, 0.5, "100%"),
    (0.0099, 1.0, "0%"),
])
def test_the_certified_share_is_rounded_down_never_up(smallest: float, bound: float, said: str) -> None:
    from selector.solve.lottery import Chances

    chances = Chances(child_ids=("A", "B"), chances=(smallest, 1.0), types=(0, 1), optimum=1, threshold=1,
                      slack_percent=0.0, drawn=("B",), drawn_score=1, proved=False, complete=True,
                      reproducible=True, levels=0, columns=1, largest_without_slack=None, seconds=0.0, bound=bound)
    assert chances.certified_percent == said


@pytest.mark.parametrize(("proved", "first_level", "tolerance_only"), [(True, True, True), (False, False, False)])
def test_a_proved_lottery_reaches_the_first_level_even_where_the_tolerance_shows(proved: bool, first_level: bool,
                                                                                  tolerance_only: bool) -> None:
    # s/U = 99.89%: with every level proved, the gap is the LP's tolerance (a ten-millionth of
    # a chance of 0.0178%), and the first level is reached; without the proof, it is not.
    from selector.solve.lottery import Chances

    chances = Chances(child_ids=("A", "B"), chances=(0.0017780, 1.0), types=(0, 1), optimum=1, threshold=1,
                      slack_percent=0.0, drawn=("B",), drawn_score=1, proved=proved, complete=True,
                      reproducible=True, levels=3, columns=1, largest_without_slack=None, seconds=0.0,
                      bound=0.0017800)
    assert (chances.first_level_reached, chances.gap_is_tolerance) == (first_level, tolerance_only)


def test_a_lottery_whose_search_was_cut_short_claims_no_level() -> None:
    # The time limit cut the search for children in best cohorts short: 2 of the candidates were
    # found, each at 50%, the most any lottery could give both (s/U = 1). Others may be in best
    # cohorts and have no chance here, so neither the first level nor "the fairest" is claimed.
    from selector.cli.show import certificate_line
    from selector.report.chances import certified_share
    from selector.solve.lottery import Chances

    chances = Chances(child_ids=("A", "B", "C"), chances=(0.5, 0.5, 0.0), types=(0, 0, 1), optimum=1, threshold=1,
                      slack_percent=0.0, drawn=("A",), drawn_score=1, proved=False, complete=False,
                      reproducible=False, levels=0, columns=2, largest_without_slack=None, seconds=0.0, bound=0.5)
    assert not chances.first_level_reached
    assert certificate_line(chances) == (
        "Certificate: every child who can be drawn has at least 50.0000%; no lottery over these cohorts could give "
        "every one more than 50.0000% (100% of it: for the children found only, as not every child who could be in "
        "a best cohort was found; not proved the fairest).")
    assert certified_share(chances) == (
        "at least 100% of the most any lottery could give every child found; but not every child who could be in "
        "a best cohort was found, and those not found have no chance, so it is not proved the fairest possible.")
    assert replace(chances, complete=True).first_level_reached


def test_a_lottery_the_time_limit_stopped_says_so_and_not_that_its_work_ran_out() -> None:
    # The clock, not the work, ended the search (reproducible False): the note, the terminal and
    # the audit said "the lottery's work ran out" and "fairest found in the work allowed", and
    # advised more --lottery-work, which changes nothing while the time limit stops it first.
    from selector.cli.show import chances_range
    from selector.solve.lottery import Chances
    from selector.solve.search import lottery_notes

    chances = Chances(child_ids=("A", "B", "C"), chances=(0.25, 0.5, 0.25), types=(0, 1, 0), optimum=1, threshold=1,
                      slack_percent=0.0, drawn=("B",), drawn_score=1, proved=False, complete=True,
                      reproducible=False, levels=0, columns=2, largest_without_slack=None, seconds=0.0, bound=0.3)
    assert lottery_notes(chances) == [
        ("the time limit ended the lottery's search before it was proved the fairest possible: cohort 1 was drawn "
        "from the fairest lottery found (every chance shown is exact for it), and another run may give other chances")]
    assert chances_range(chances) == "chances from 25.0000% to 50.00% (fairest found in the time allowed)"
    assert chances.stopped == "the time limit ended the lottery's search"
    # Stopped by its work, as before.
    worked = replace(chances, reproducible=True)
    assert lottery_notes(worked)[0].startswith("the lottery's work ran out before it was proved the fairest possible")
    assert chances_range(worked).endswith("(fairest found in the work allowed)")
