"""The CP-SAT model against the independent checker and brute force."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from selector import check
from selector.contract.errors import InfeasibleSelectionError, RulesError
from selector.contract.rules import CountRule, Dimension, Rules, SpreadRule, rules_from_dict
from selector.solve import SelectionParams, build_problem, solve_replacement
from selector.solve.constraints import CohortModel, add_never_twice
from selector.solve.lottery.kinds import apart
from selector.solve.reserves import find_reserves
from selector.solve.search import solve_cohort
from tests.conftest import solve_frame, validated
from tests.generated import SMALL_RULES, brute_force, caseload_rows, random_caseload, small_rules

PARAMS = SelectionParams(seed=0, time_limit_s=20, sets=1)
NEED_ONLY = (Dimension("primary_need", 1, 10),)


def best_of(rows: list[dict[str, object]], rules: Rules) -> tuple[str, ...]:
    caseload = validated(rows).frame
    return solve_frame(caseload, rules, PARAMS).cohorts[0].members


# ---- one test per hard rule and objective term, on 3-8 rows with the answer worked out


def test_size_is_exact() -> None:
    # Four children, size 3, need coverage only: any 3 of the 4 distinct needs score 3.
    rows = [{"primary_need": n} for n in ("ASD", "SLCN", "SEMH", "PD")]
    members = best_of(rows, Rules(size=3, dimensions=NEED_ONLY))
    assert len(members) == 3


def test_min_count_rule_forces_a_poor_child_in() -> None:
    # K1..K3 have distinct needs; K4 and K5 are the only AP children, both ASD. Size 3 with
    # "at least 2 AP": K4 and K5 must be in, so the best covers 2 needs, not 3 (score 2).
    rows = [{"primary_need": "ASD"}, {"primary_need": "SLCN"}, {"primary_need": "SEMH"},
            {"primary_need": "ASD", "setting_type": "AP"}, {"primary_need": "ASD", "setting_type": "AP"}]
    rules = Rules(size=3, counts=(CountRule("setting_type", ("AP",), min=2),), dimensions=NEED_ONLY)
    solution = solve_frame(validated(rows).frame, rules, PARAMS)
    assert {"K4", "K5"} <= set(solution.cohorts[0].members)
    assert solution.cohorts[0].score == 2
    assert solve_frame(validated(rows).frame, Rules(size=3, dimensions=NEED_ONLY), PARAMS).cohorts[0].score == 3


def test_max_count_rule_keeps_a_good_child_out() -> None:
    # Needs: K1 ASD (EHCP), K2 SLCN (EHCP), K3 SEMH (SEN support), K4 ASD (SEN support).
    # At most 1 EHCP, size 3: K3, K4 and one of K1/K2 -> needs {SEMH, ASD} or
    # {SEMH, ASD, SLCN}: best takes K2, score 3.
    rows = [{"primary_need": "ASD"}, {"primary_need": "SLCN"},
            {"primary_need": "SEMH", "plan_status": "SEN_SUPPORT"},
            {"primary_need": "ASD", "plan_status": "SEN_SUPPORT"}]
    rules = Rules(size=3, counts=(CountRule("plan_status", ("EHCP",), max=1),), dimensions=NEED_ONLY)
    assert sorted(best_of(rows, rules)) == ["K2", "K3", "K4"]


def test_setting_spread_rule() -> None:
    # K1 and K2 share setting S1 and have the two rarest needs; size 2 with one per
    # setting: K1 or K2 with K3 (needs 2); never K1 with K2.
    rows = [{"primary_need": "ASD", "setting_id": "S1"}, {"primary_need": "PD", "setting_id": "S1"},
            {"primary_need": "ASD", "setting_id": "S2"}]
    rules = Rules(size=2, spreads=(SpreadRule("setting_id"),), dimensions=NEED_ONLY)
    members = best_of(rows, rules)
    assert "K3" in members and sorted(members) != ["K1", "K2"]


def test_practitioner_spread_rule() -> None:
    # K1 and K2 share a practitioner; size 2 needs K3 plus one of them.
    rows = [{"primary_need": "ASD", "practitioner_email": "same@x.org"},
            {"primary_need": "PD", "practitioner_email": "same@x.org"}, {"primary_need": "ASD"}]
    rules = Rules(size=2, spreads=(SpreadRule("lead_practitioner"),), dimensions=NEED_ONLY)
    assert "K3" in best_of(rows, rules)


def test_coverage_term_prefers_distinct_values_up_to_cap() -> None:
    # Age bands: K1 0-4, K2 0-4, K3 5-10. Size 2 with age band weight 1, cap 2: {K3, K1 or K2}.
    rows = [{"age": 2}, {"age": 3}, {"age": 8}]
    rules = Rules(size=2, dimensions=(Dimension("age_band", 1, 2),))
    solution = solve_frame(validated(rows).frame, rules, PARAMS)
    assert "K3" in solution.cohorts[0].members and solution.cohorts[0].score == 2


def test_a_term_written_without_a_cap_counts_as_a_user_would_expect() -> None:
    # A rules file giving only a weight: the default's cap for a default dimension (age_band:
    # 5), and every distinct value up to the cohort size for any other column. Secondary
    # needs: K1 ASD, K2 ASD, K3 SLCN. Size 2, secondary_need weight 1 and no cap: the best
    # covers both needs (K3 and K1 or K2, score 2); a cap of 1 would score any pair 1 and
    # leave the spread of needs to chance.
    dims = rules_from_dict({"size": 2, "count": [], "objective": {"secondary_need": {"weight": 1},
                                                     "age_band": {"weight": 6}}}).dimensions
    assert dims == (Dimension("secondary_need", 1, 2), Dimension("age_band", 6, 5))
    rows = [{"secondary_need": "ASD"}, {"secondary_need": "ASD"}, {"secondary_need": "SLCN"}]
    solution = solve_frame(validated(rows).frame, Rules(size=2, dimensions=dims[:1]), PARAMS)
    assert "K3" in solution.cohorts[0].members and solution.cohorts[0].score == 2


def test_services_count_each_service() -> None:
    # K1 brings SALT+OT, K2 SALT, K3 CAMHS. Size 2: K1+K3 covers 3 services.
    rows = [{"services": "SALT;OT"}, {"services": "SALT"}, {"services": "CAMHS"}]
    rules = Rules(size=2, dimensions=(Dimension("services", 1, 8),))
    assert sorted(best_of(rows, rules)) == ["K1", "K3"]


def test_excluded_child_is_never_chosen() -> None:
    rows = [{"primary_need": "PD", "exclude": "yes"}, {"primary_need": "ASD"}, {"primary_need": "SLCN"}]
    assert sorted(best_of(rows, Rules(size=2, dimensions=NEED_ONLY))) == ["K2", "K3"]


# Size 2; locality counts 2 a value (up to 2), the age band 1 (up to 2): the most is 6.
#   K1 North 8 (5-10)   K2 North 12 (11-15)   K3 South 8 (5-10)   K4 no locality 3 (0-4)
LOCALITY_ROWS = [{"locality": "North", "age": 8}, {"locality": "North", "age": 12},
                 {"locality": "South", "age": 8}, {"locality": "", "age": 3}]
LOCALITY_RULES = Rules(size=2, dimensions=(Dimension("locality", 2, 2), Dimension("age_band", 1, 2)))


def test_a_locality_the_score_must_cover_once_per_member_is_held_by_one_member_at_most() -> None:
    # The caseload above. At 5 the score can spare 1, less than the locality's 2: every cohort
    # reaching 5 covers two localities, so it is K1 or K2 (not both: one North) with K3; K4, of
    # no locality, is in none. At 4 the score can spare 2, the locality's weight: nothing is
    # implied (K1 + K2 reach 4).
    problem = build_problem(validated(LOCALITY_ROWS).frame, LOCALITY_RULES)
    assert [value.tolist() for value in apart(problem, 5)] == [[0, 0, 1, -1]]
    assert apart(problem, 4) == []


def test_the_model_told_the_values_no_two_members_share_allows_only_those_cohorts() -> None:
    # The caseload above, at 5: told only those limits (not the score), CP-SAT allows K1 + K3 and
    # K2 + K3, and no pair with K1 and K2 (one North) or with K4 (no locality).
    problem = build_problem(validated(LOCALITY_ROWS).frame, LOCALITY_RULES)
    allowed = []
    for pair in itertools.combinations(range(4), 2):
        m = CohortModel(problem)
        add_never_twice(m, apart(problem, 5))
        for i in pair:
            m.model.add(m.x[i] == 1)
        if cp_model.CpSolver().solve(m.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            allowed.append(pair)
    assert allowed == [(0, 2), (1, 2)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=3, max_rows=9), rules=small_rules(), data=st.data())
def test_values_no_two_members_share_hold_for_every_cohort_reaching_the_score(
        rows: list[dict[str, object]], rules: Rules, data: st.DataObject) -> None:
    # Every cohort the independent checker scores at or above the threshold (all of them,
    # whatever the hard rules) has, in each dimension `apart` names, a value for every member and
    # no value twice: what discovery's search tells CP-SAT (add_never_twice).
    frame = validated(rows).frame
    problem = build_problem(frame, rules)
    if problem.n < rules.size:
        return
    ids = [str(i) for i in problem.child_ids]
    scores = {cohort: check.score(frame, [ids[i] for i in cohort], rules)
              for cohort in itertools.combinations(range(problem.n), rules.size)}
    threshold = data.draw(st.integers(0, max(scores.values()) + 1))
    for value in apart(problem, threshold):
        for cohort, score in scores.items():
            if score >= threshold:
                held = value[list(cohort)].tolist()
                assert min(held) >= 0 and len(set(held)) == len(held), (cohort, score, held)


def test_unknown_rule_column_is_a_rules_error() -> None:
    with pytest.raises(RulesError, match="the caseload has no column 'gender'"):
        build_problem(validated([{}]).frame, Rules(size=1, counts=(CountRule("gender", ("F",), min=1),)))


# ---- infeasibility and relaxing


def test_infeasible_names_the_rule_and_the_counts() -> None:
    # No eligible AP child; one AP child is excluded.
    rows = [{}, {}, {"setting_type": "AP", "exclude": "true"}, {}]
    rules = Rules(size=2, counts=(CountRule("setting_type", ("AP",), min=1),
                                  CountRule("plan_status", ("EHCP",), min=1)), dimensions=NEED_ONLY)
    with pytest.raises(InfeasibleSelectionError) as caught:
        solve_frame(validated(rows).frame, rules, PARAMS)
    assert caught.value.conflicts == ("at least 1 with setting_type AP",)
    assert ("at least 1 with setting_type AP: 0 eligible CYP have setting_type AP; "
            "1 more are excluded or have no contact") in caught.value.message
    assert caught.value.exit_code == 3


def test_conflict_between_rules_is_found_and_relax_drops_the_lower_priority() -> None:
    # The only AP child shares a setting with the only EHCP child: with size 2, "at least 1 AP"
    # (priority 10) and "at least 1 EHCP" (40) need both, which "one per setting" (20) forbids.
    rows = [{"setting_type": "AP", "plan_status": "SEN_SUPPORT", "setting_id": "S1"},
            {"plan_status": "EHCP", "setting_id": "S1"},
            {"plan_status": "SEN_SUPPORT", "setting_id": "S2"}]
    rules = Rules(size=2, counts=(CountRule("setting_type", ("AP",), min=1, priority=10),
                                  CountRule("plan_status", ("EHCP",), min=1, priority=40)),
                  spreads=(SpreadRule("setting_id", priority=20),), dimensions=NEED_ONLY)
    caseload = validated(rows).frame
    with pytest.raises(InfeasibleSelectionError) as caught:
        solve_frame(caseload, rules, PARAMS)
    assert set(caught.value.conflicts) == {"at least 1 with setting_type AP", "at least 1 with plan_status EHCP",
                                           "at most 1 per setting_id"}
    relaxed = solve_frame(caseload, rules, SelectionParams(sets=1, relax=True))
    assert relaxed.dropped == ("at least 1 with setting_type AP",)
    assert check.violations(caseload, relaxed.cohorts[0].members, relaxed.rules) == []


def test_too_few_eligible_children() -> None:
    with pytest.raises(InfeasibleSelectionError, match="cohort size 3: only 2 eligible CYP"):
        solve_frame(validated([{}, {}]).frame, Rules(size=3), PARAMS)


# ---- brute force on generated caseloads


@pytest.mark.parametrize("seed", range(120))
def test_optimum_equals_brute_force(seed: int) -> None:
    caseload = random_caseload(seed, n=8 + seed % 7)
    best, _best_sets = brute_force(caseload, SMALL_RULES)
    if best is None:
        with pytest.raises(InfeasibleSelectionError):
            solve_frame(caseload, SMALL_RULES, PARAMS)
        return
    cohort = solve_frame(caseload, SMALL_RULES, PARAMS).cohorts[0]
    assert cohort.status == "OPTIMAL"
    assert cohort.score == best == check.score(caseload, cohort.members, SMALL_RULES)
    assert check.violations(caseload, cohort.members, SMALL_RULES) == []


@pytest.mark.parametrize("seed", range(40))
def test_pool_first_search_keeps_the_exact_optimum(seed: int) -> None:
    """With the random pool forced on (threshold 0), the optimum is still brute force's:
    either the pool reaches the whole caseload's bound, or the whole caseload is solved."""
    caseload = random_caseload(1000 + seed, n=10 + seed % 6)
    best, _ = brute_force(caseload, SMALL_RULES)
    params = SelectionParams(seed=seed, sets=1, pool_threshold=0)
    if best is None:
        with pytest.raises(InfeasibleSelectionError):
            solve_frame(caseload, SMALL_RULES, params)
        return
    cohort = solve_frame(caseload, SMALL_RULES, params).cohorts[0]
    assert cohort.status == "OPTIMAL" and cohort.score == best
    assert check.violations(caseload, cohort.members, SMALL_RULES) == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(), rules=small_rules())
def test_property_cohort_passes_checker_or_none_exists(rows: list[dict[str, object]], rules: Rules) -> None:
    """On generated caseloads and generated rules: either the cohort meets every hard rule, holds
    no excluded child and scores brute force's optimum, or infeasibility is raised and brute
    force confirms that no cohort exists."""
    caseload = validated(rows).frame
    try:
        solution = solve_frame(caseload, rules, PARAMS)
    except InfeasibleSelectionError:
        assert brute_force(caseload, rules)[0] is None
        return
    members = solution.cohorts[0].members
    assert check.violations(caseload, members, rules) == []
    excluded = set(caseload.loc[caseload["exclude"], "child_id"])
    assert not excluded & set(members)
    assert solution.cohorts[0].score == check.score(caseload, members, rules) == brute_force(caseload, rules)[0]


# ---- ranked sets, seeds, reserves, replacement


def test_ranked_sets_hold_overlap_and_never_increase() -> None:
    caseload = random_caseload(7, n=40)
    params = SelectionParams(seed=3, sets=5, max_overlap=2)
    solution = solve_frame(caseload, SMALL_RULES, params)
    assert len(solution.cohorts) >= 3
    scores = [c.score for c in solution.cohorts]
    assert scores == sorted(scores, reverse=True)
    for i, a in enumerate(solution.cohorts):
        assert check.violations(caseload, a.members, SMALL_RULES) == []
        assert a.score == check.score(caseload, a.members, SMALL_RULES)
        for b in solution.cohorts[:i]:
            assert len(set(a.members) & set(b.members)) <= 2


def test_same_seed_same_cohort_and_seeds_spread_the_choice() -> None:
    caseload = random_caseload(11, n=60)
    runs = {s: solve_frame(caseload, SMALL_RULES, SelectionParams(seed=s, sets=1)).cohorts[0] for s in range(8)}
    again = solve_frame(caseload, SMALL_RULES, SelectionParams(seed=0, sets=1)).cohorts[0]
    assert again.members == runs[0].members
    assert len({c.score for c in runs.values()}) == 1  # every seed finds the optimum
    assert len({frozenset(c.members) for c in runs.values()}) > 1  # ... but not the same children


def test_reserves_each_keep_every_rule() -> None:
    caseload = random_caseload(5, n=50)
    solution = solve_frame(caseload, SMALL_RULES, SelectionParams(seed=1, sets=1))
    first = solution.cohorts[0].members
    assert set(solution.reserves) == set(first)
    eligible = list(caseload.loc[caseload["eligible"], "child_id"])
    for slot, member in enumerate(first):
        reserves = solution.reserves[member]
        if not reserves:  # only when no child can take the slot with every rule kept
            assert all(check.violations(caseload, [*first[:slot], c, *first[slot + 1:]], SMALL_RULES)
                       for c in eligible if c not in first), member
        scores = []
        for reserve in reserves:
            swapped = [*first[:slot], reserve, *first[slot + 1:]]
            assert check.violations(caseload, swapped, SMALL_RULES) == []
            scores.append(check.score(caseload, swapped, SMALL_RULES))
        assert scores == sorted(scores, reverse=True)


def test_reserves_are_the_best_swaps() -> None:
    caseload = random_caseload(9, n=30)
    problem = build_problem(caseload, SMALL_RULES)
    first = solve_cohort(problem, PARAMS).members
    reserves = find_reserves(problem, first, PARAMS)
    eligible = list(caseload.loc[caseload["eligible"], "child_id"])
    for slot, member in enumerate(first):
        best = max((check.score(caseload, [*first[:slot], c, *first[slot + 1:]], SMALL_RULES)
                    for c in eligible if c not in first
                    and not check.violations(caseload, [*first[:slot], c, *first[slot + 1:]], SMALL_RULES)),
                   default=None)
        if best is not None:
            top = reserves[member][0]
            assert check.score(caseload, [*first[:slot], top, *first[slot + 1:]], SMALL_RULES) == best


def test_replacement_keeps_the_others_in_their_slots() -> None:
    caseload = random_caseload(21, n=60)
    params = SelectionParams(seed=2, sets=2)
    first = solve_frame(caseload, SMALL_RULES, params).cohorts[0].members
    declined = first[1]
    solution = solve_replacement(build_problem(caseload, SMALL_RULES), params, first, [declined])
    new = solution.cohorts[0].members
    assert declined not in new
    assert [c for i, c in enumerate(new) if i != 1] == [c for i, c in enumerate(first) if i != 1]
    assert check.violations(caseload, new, SMALL_RULES) == []
    assert declined not in {r for rs in solution.reserves.values() for r in rs}


def test_a_pool_that_misses_the_bound_is_widened_before_the_whole_caseload_is_searched() -> None:
    """On the sample (2,985 candidates) with three members of a best cohort kept: when the
    seeded pool holds no cohort at the bound (made so here), a wider seeded pool is searched
    before the whole caseload; its cohort is proved optimal (it reaches the bound), holds the
    kept members and passes the independent checker. When neither pool holds one, the whole
    caseload gives the same score."""
    from pathlib import Path
    from unittest import mock

    from selector.contract.rules import DEFAULT_RULES
    from selector.solve import search
    from tests.conftest import load_caseload

    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    caseload = load_caseload(sample / "caseload.csv", sample / "contacts.csv")
    problem = build_problem(caseload.frame, DEFAULT_RULES)
    best = solve_cohort(problem, SelectionParams(seed=0, sets=1))
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    kept = [at[c] for c in best.members[:3]]
    real, pools = search._reach_bound, []

    def first_misses(pool, *args, **kwargs):  # type: ignore[no-untyped-def]
        pools.append(pool.n)
        return None if len(pools) == 1 else real(pool, *args, **kwargs)

    with mock.patch.object(search, "_reach_bound", first_misses):
        found = solve_cohort(problem, SelectionParams(seed=4, sets=1), fixed=kept)
    assert len(pools) == 2 and pools[0] < pools[1] < problem.n
    assert found.status == "OPTIMAL" and found.score == search.upper_bound(problem)
    assert set(best.members[:3]) <= set(found.members)
    assert check.violations(caseload.frame, found.members, DEFAULT_RULES) == []
    assert check.score(caseload.frame, found.members, DEFAULT_RULES) == found.score
    with mock.patch.object(search, "_reach_bound", lambda *args, **kwargs: None):
        assert solve_cohort(problem, SelectionParams(seed=4, sets=1), fixed=kept).score == found.score
