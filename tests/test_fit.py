"""The numpy rule checker (`Fitter`) and the roles (`Roles`) the lottery and the reserves read,
held directly on caseloads small enough to work out by hand, and against the independent checker."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector import check
from selector.contract.rules import CountRule, Dimension, Rules, SpreadRule
from selector.solve import build_problem
from selector.solve.fit import Fitter
from selector.solve.templates import Column, Roles
from tests.conftest import validated
from tests.generated import SMALL_RULES, caseload_rows, random_caseload, small_rules

# Five children; a cohort of 2 needs at least one at AP and no two from one setting; need counts
# 2 a value (up to 2 values), the age band 1 (up to 2).
#   K1 ASD  AP          10 (5-10)   S1
#   K2 MLD  MAINSTREAM  10 (5-10)   S1
#   K3 ASD  MAINSTREAM  13 (11-15)  S2
#   K4 SEMH MAINSTREAM   3 (0-4)    S3
#   K5 MLD  AP          17 (16-19)  S2
ROWS = [{"primary_need": "ASD", "setting_type": "AP", "age": 10, "setting_id": "S1"},
        {"primary_need": "MLD", "setting_type": "MAINSTREAM", "age": 10, "setting_id": "S1"},
        {"primary_need": "ASD", "setting_type": "MAINSTREAM", "age": 13, "setting_id": "S2"},
        {"primary_need": "SEMH", "setting_type": "MAINSTREAM", "age": 3, "setting_id": "S3"},
        {"primary_need": "MLD", "setting_type": "AP", "age": 17, "setting_id": "S2"}]
RULES = Rules(size=2, counts=(CountRule("setting_type", ("AP",), min=1),), spreads=(SpreadRule("setting_id", 1),),
              dimensions=(Dimension("primary_need", 2, 2), Dimension("age_band", 1, 2)))
EVERYONE = np.arange(5)


def fitter(threshold: int = 6) -> Fitter:
    problem = build_problem(validated(ROWS).frame, RULES)
    assert list(problem.child_ids) == ["K1", "K2", "K3", "K4", "K5"]  # positions 0..4
    return Fitter(problem, threshold)


def test_swaps_count_the_broken_rules_and_score_each_candidate_in_the_free_place() -> None:
    breaks, score = fitter().swaps([[0], [1]], EVERYONE)
    # K1 kept, each child in the other place:
    #   K1 itself: already in (a million) + S1 twice (1); K2: S1 twice (1); K3, K4, K5: nothing broken.
    #   Scores: K2 ASD+MLD (4) + one band (1) = 5; K3 ASD (2) + two bands = 4; K4 ASD+SEMH (4) + 2 = 6;
    #   K5 ASD+MLD (4) + 2 = 6.
    assert breaks[0].tolist() == [10**6 + 1, 1, 0, 0, 0]
    assert score[0].tolist()[1:] == [5, 4, 6, 6]
    # K2 kept: with K3 or K4 nobody is at AP (1); with K1 S1 twice (1); K5 breaks nothing.
    #   Scores: K1 5; K3 MLD+ASD (4) + 2 = 6; K4 4 + 2 = 6; K5 MLD (2) + 2 = 4.
    assert breaks[1].tolist() == [1, 10**6 + 2, 1, 1, 0]
    assert score[1].tolist() == [5, 3, 6, 6, 4]


def test_a_shortfall_adds_the_score_missing_to_the_rules_broken() -> None:
    # Threshold 6 with K1 kept: K2 1 broken + 1 missing; K3 4 points short by 2; K4 and K5 complete it.
    assert fitter().shortfalls([[0]], EVERYONE)[0].tolist()[1:] == [2, 2, 0, 0]
    assert fitter().completes([0], EVERYONE).tolist() == [False, False, False, True, True]
    # Threshold 0: only the rules count.
    assert fitter(0).completes([0], EVERYONE).tolist() == [False, False, True, True, True]


def test_the_fitter_agrees_with_the_independent_checker_on_every_pair() -> None:
    frame = validated(ROWS).frame
    f = fitter(0)
    for a, b in itertools.combinations(range(5), 2):
        members = [f"K{a + 1}", f"K{b + 1}"]
        assert f.score((a, b)) == check.score(frame, members, RULES)
        meets = not check.violations(frame, members, RULES)
        assert bool(f.completes([a], np.array([b]))[0]) == meets, members


def test_the_largest_weights_and_caps_a_rules_file_allows_score_as_the_checker_says() -> None:
    # The checker's sums are 32-bit: with every weight and cap at the most a rules file takes
    # (1,000 each), each rest with each candidate (both ways of checking: all five candidates at
    # once, and one at a time) scores what the independent checker says.
    from selector.contract.rules import MAX_CAP, MAX_WEIGHT

    rules = Rules(size=3, dimensions=tuple(Dimension(column, MAX_WEIGHT, MAX_CAP)
                                           for column in ("primary_need", "age_band", "setting_type")))
    frame = validated(ROWS).frame
    f = Fitter(build_problem(frame, rules), 0)
    for rest in itertools.combinations(range(5), 2):
        together = f.swaps([list(rest)], EVERYONE)[1][0]
        for child in set(range(5)) - set(rest):
            members = [f"K{i + 1}" for i in (*rest, child)]
            assert together[child] == f.swaps([list(rest)], np.array([child]))[1][0, 0] \
                == check.score(frame, members, rules) == f.score((*rest, child))


def test_the_template_around_a_cohort_pools_the_children_who_can_stand_in() -> None:
    # Need counts 1 a value, up to 2; cohort K1 (ASD) + K3 (MLD) scores 2. K1's place is the
    # cohort's ASD: K1 or K2 can hold it; K3's is its MLD: K3 or K4. Any pick from the pools
    # scores 2 too.
    rows = [{"primary_need": need} for need in ("ASD", "ASD", "MLD", "MLD", "SEMH")]
    rules = Rules(size=2, dimensions=(Dimension("primary_need", 1, 2),))
    problem = build_problem(validated(rows).frame, rules)
    f = Fitter(problem, 2)
    template = Roles(f).template((0, 2))
    assert template == Column(((0, 1), (2, 3)))
    assert all(f.score(pick) == 2 for pick in itertools.product(*template.pools))


def test_a_child_who_can_stand_in_for_two_members_is_in_one_pool_only() -> None:
    # Services count 1 a value, up to 2; cohort K1 (service A) + K2 (service B) scores 2 and
    # needs both. K3 holds A and B, so it could stand in for either: it is kept in the first
    # member's pool only, so no draw takes it twice (K3 with K3 would be no cohort at all).
    rows = [{"services": services} for services in ("A", "B", "A;B")]
    rules = Rules(size=2, dimensions=(Dimension("services", 1, 2),))
    f = Fitter(build_problem(validated(rows).frame, rules), 2)
    template = Roles(f).template((0, 1))
    assert template == Column(((0, 2), (1,)))
    assert all(f.score(pick) == 2 for pick in itertools.product(*template.pools))


def test_candidates_alike_are_checked_once_and_each_gets_its_own_answer() -> None:
    # Three more children alike for every rule and term to K1, K2 and K4 (so 8 candidates in 5
    # classes: the checker then works per class), with settings of their own: K6 shares K1's
    # values but not its setting, so K1 with K6 breaks nothing but scores 1 (one need, one band)
    # and K2 with K7 breaks the AP rule. Every pair agrees with the independent checker, and the
    # whole caseload at once agrees with one candidate at a time (worked per candidate).
    extra = [{**ROWS[0], "setting_id": "S4"}, {**ROWS[1], "setting_id": "S5"}, {**ROWS[3], "setting_id": "S1"}]
    rows = [*ROWS, *extra]
    frame = validated([{**r, "child_id": f"K{i + 1}"} for i, r in enumerate(rows)]).frame
    f = Fitter(build_problem(frame, RULES), 0)
    everyone = np.arange(8)
    assert len(set(f.class_of.tolist())) == 5
    breaks, score = f.swaps([[0], [1]], everyone)
    assert breaks[0].tolist() == [10**6 + 1, 1, 0, 0, 0, 0, 0, 1]  # K8 is in K1's setting S1
    assert score[0].tolist()[5] == 3  # K1 + K6: ASD (2) + one band (1)
    for a in range(8):
        one_at_a_time = [f.swaps([[a]], np.array([b])) for b in range(8)]
        assert breaks.shape == (2, 8) and [int(s[0][0, 0]) for s in one_at_a_time] == f.swaps([[a]], everyone)[0][0].tolist()
        assert [int(s[1][0, 0]) for s in one_at_a_time] == f.swaps([[a]], everyone)[1][0].tolist()
        for b in range(a + 1, 8):
            members = [f"K{a + 1}", f"K{b + 1}"]
            assert f.score((a, b)) == check.score(frame, members, RULES)
            assert bool(f.completes([a], everyone)[b]) == (not check.violations(frame, members, RULES)), members


def test_rests_of_several_children_are_checked_for_the_spread_rules_as_the_checker_does() -> None:
    # Six children, cohorts of 3; no two in one setting, at most two in one locality.
    #   K1 S1 North   K2 S1 North   K3 S2 North   K4 S3 South   K5 S4 South   K6 (no setting) North
    # Rest K1+K2 shares S1 already: one child too many for every candidate, and K3 or K6 (North)
    # would make three in North (one more). Rest K1+K3: K2 shares S1 (1) and brings North to
    # three (1); K6 brings North to three (1); K4 and K5 break nothing.
    rows = [{"primary_need": "ASD", "age": 10, "setting_id": s, "locality": place}
            for s, place in (("S1", "North"), ("S1", "North"), ("S2", "North"), ("S3", "South"),
                             ("S4", "South"), ("", "North"))]
    rules = Rules(size=3, spreads=(SpreadRule("setting_id", 1), SpreadRule("locality", 2)),
                  dimensions=(Dimension("primary_need", 1, 1),))
    frame = validated([{**r, "child_id": f"K{i + 1}"} for i, r in enumerate(rows)]).frame
    f = Fitter(build_problem(frame, rules), 0)
    everyone = np.arange(6)
    breaks, _score = f.swaps([[0, 1], [0, 2]], everyone)
    assert breaks[0].tolist()[2:] == [1 + 1, 1, 1, 1 + 1]
    assert breaks[1].tolist()[1:] == [1 + 1, 10**6 + 1, 0, 0, 1]
    for rest in itertools.combinations(range(6), 2):
        fits = f.completes(list(rest), everyone)
        for c in range(6):
            if c in rest:
                continue
            members = [f"K{i + 1}" for i in (*rest, c)]
            assert bool(fits[c]) == (not check.violations(frame, members, rules)), members


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), setting_most=st.integers(1, 3), locality_most=st.integers(1, 3),
       candidates=st.integers(2, 14))
def test_every_rest_and_candidate_as_the_independent_checker_says(seed: int, setting_most: int, locality_most: int,
                                                                    candidates: int) -> None:
    # Generated caseloads, spread limits of one to three (a rest may already hold two of a
    # setting, or be over its limit on its own) and a subset of candidates in any order: a
    # candidate completes a rest exactly when the checker finds nothing wrong with the cohort,
    # and a member of the rest never does.
    rng = np.random.default_rng(seed)
    frame = random_caseload(seed, n=14)
    rules = Rules(size=4, counts=SMALL_RULES.counts,
                  spreads=(SpreadRule("setting_id", setting_most), SpreadRule("locality", locality_most)),
                  dimensions=SMALL_RULES.dimensions)
    problem = build_problem(frame, rules)
    f = Fitter(problem, 0)
    among = rng.permutation(problem.n)[:candidates]
    rests = [rng.choice(problem.n, size=3, replace=False) for _ in range(6)]
    fits = f.shortfalls(rests, among) == 0
    ids = [str(i) for i in problem.child_ids]
    for rest, fit in zip(rests, fits, strict=True):
        for c, ok in zip(among, fit, strict=True):
            members = [ids[i] for i in (*rest, c)]
            expected = c not in rest and not check.violations(frame, members, rules)
            assert bool(ok) == expected, (members, setting_most, locality_most)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=3, max_rows=10), rules=small_rules(), data=st.data())
def test_a_cohort_scores_the_same_by_its_values_holders_as_by_the_checker(rows: list[dict[str, object]],
                                                                          rules: Rules, data: st.DataObject) -> None:
    # The score of the cohort drawn is read from each value's holders (no table as large as the
    # caseload); it must be the independent checker's and the Fitter's, for any rules.
    from selector.solve.problem import cohort_score

    frame = validated(rows).frame
    problem = build_problem(frame, rules)
    if problem.n < 1:
        return
    cohort = data.draw(st.lists(st.integers(0, problem.n - 1), min_size=1, max_size=min(problem.n, 5), unique=True))
    ids = [str(problem.child_ids[i]) for i in cohort]
    assert cohort_score(problem, cohort) == check.score(frame, ids, rules) == Fitter(problem, 0).score(cohort)
