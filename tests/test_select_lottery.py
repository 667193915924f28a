"""select draws cohort 1 from the fair lottery: every eligible child's chance in chances.csv,
equal within a type, the same in any row order, every draw a best cohort (the independent
checker says so), and --slack's trade said in the outputs."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selector import check
from selector.contract.rules import DEFAULT_RULES
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import Lottery, draw, fair_lottery
from selector.solve.lottery.drawing import draw_alternatives
from selector.solve.search import solve_cohort
from selector.solve.templates import Column
from tests.conftest import load_caseload, run, solve_frame, write_csv
from tests.generated import SMALL_RULES, random_caseload

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lottery") / "run"
    code, stdout, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                               "--out", str(out), "--sets", "1", "--seed", "0")
    assert code == 0, stdout + stderr
    return out


def read_chances(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "chances.csv", encoding="utf-8-sig", dtype={"child_id": str})


def test_chances_csv_gives_every_eligible_child_an_exact_chance(drawn: Path) -> None:
    chances = read_chances(drawn)
    frame = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv").frame
    assert sorted(chances["child_id"]) == sorted(frame.loc[frame["eligible"], "child_id"])
    assert chances["chance"].sum() == pytest.approx(6.0, abs=1e-6)  # six places, shared out
    # Children of one type are alike for every rule and dimension: exactly the same chance.
    assert (chances.groupby("type")["chance"].nunique() == 1).all()
    assert (chances.groupby("type")["child_id"].transform("size") == chances["children_of_type"]).all()
    record = json.loads((drawn / "run.json").read_text())
    lottery = record["lottery"]
    assert lottery["complete"] and lottery["possible"] == len(chances)
    possible = chances.loc[chances["chance"] > 0, "chance"]
    assert possible.min() == pytest.approx(lottery["smallest"], abs=1e-9) and possible.min() > 0
    members = record["cohorts"][0]["members"]
    assert (chances.set_index("child_id").loc[members, "chance"] > 0).all()  # drawn from the lottery
    report = (drawn / "report.md").read_text()
    assert f"{len(possible)} of the {len(chances)} children who can be chosen are in at least one such cohort" \
        in report


def test_shuffled_rows_give_the_same_chances_and_the_same_cohort(drawn: Path, tmp_path: Path) -> None:
    rows = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    shuffled = write_csv(tmp_path / "shuffled.csv", rows.sample(frac=1.0, random_state=8))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(shuffled), "--contacts", str(SAMPLE / "contacts.csv"), "--out", str(out),
                          "--sets", "1", "--seed", "0")
    assert code == 0, stderr
    assert (out / "chances.csv").read_bytes() == (drawn / "chances.csv").read_bytes()
    first = [json.loads((folder / "run.json").read_text())["cohorts"][0] for folder in (drawn, out)]
    assert sorted(first[0]["members"]) == sorted(first[1]["members"])


def test_every_draw_is_a_best_cohort_by_the_independent_checker() -> None:
    # The lottery's columns hold many cohorts each (every child of a pool may be drawn); 300
    # draws of the sample's lottery must each meet every rule and reach the best score.
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    problem = build_problem(caseload.frame, DEFAULT_RULES)
    best = solve_cohort(problem, SelectionParams(seed=0, sets=1)).score
    lottery = fair_lottery(problem, SelectionParams(lottery_work=2.0), best)
    frame = caseload.frame
    counts = np.zeros(problem.n)
    for seed in range(300):
        cohort = draw(lottery, seed)
        ids = [str(problem.child_ids[i]) for i in cohort]
        assert len(set(ids)) == 6
        assert check.violations(frame, ids, DEFAULT_RULES) == []
        assert check.score(frame, ids, DEFAULT_RULES) == best
        counts[list(cohort)] += 1
    assert counts.sum() == 1800


def test_no_child_of_the_sample_is_drawn_more_than_three_times_in_ten(sample_run: Path) -> None:
    # Discovery's swaps start from the first cohort found, so 681 types of the sample were found
    # only in cohorts holding its member C000814: each of them needed C000814's chance too, and
    # spreading left C000814 at 49% (an area could have prepared for her). Freeing gives those
    # children columns without her, and the sample's largest chance is 27%.
    chances = pd.read_csv(sample_run / "chances.csv", dtype={"child_id": str}, encoding="utf-8-sig")
    assert chances["chance"].max() <= 0.3


def test_slack_lets_more_cohorts_in_and_says_what_it_gives_up(tmp_path: Path) -> None:
    from selector.io.sample import generate

    caseload, contacts = generate(1500, seed=6)
    paths = write_csv(tmp_path / "c.csv", caseload), write_csv(tmp_path / "p.csv", contacts)
    outs = {}
    for slack in ("0", "10"):
        out = tmp_path / f"slack{slack}"
        code, _, stderr = run("select", str(paths[0]), "--contacts", str(paths[1]), "--out", str(out),
                              "--sets", "1", "--slack", slack)
        assert code == 0, stderr
        outs[slack] = json.loads((out / "run.json").read_text())["lottery"]
    plain, slack = outs["0"], outs["10"]
    assert slack["optimum"] == plain["optimum"] and slack["threshold"] == int(np.ceil(plain["optimum"] * 0.9))
    assert slack["possible"] >= plain["possible"]  # more cohorts in: at least as many children could be drawn
    assert slack["largest_without_slack"] == pytest.approx(plain["largest"])
    # Every best cohort is a cohort of the slack's lottery, which starts from the columns of the
    # lottery without it: with the same children drawable, none has a smaller chance than there
    # (started from discovery's columns alone, the smallest chance was 1.07/n against 1.13/n).
    assert slack["possible"] == plain["possible"]
    assert slack["smallest"] >= plain["smallest"] - 1e-12
    # Those columns' pools are unions of the slack's types too: children alike stay equally likely.
    chances = read_chances(tmp_path / "slack10")
    assert (chances.groupby("type")["chance"].nunique() == 1).all()
    assert slack["drawn_score"] >= slack["threshold"]
    report = (tmp_path / "slack10" / "report.md").read_text()
    assert (f"The slack of 10% let cohorts scoring down to {slack['threshold']} in: cohort 1 scores "
            f"{slack['drawn_score']}, {slack['optimum'] - slack['drawn_score']} below the best.") in report


def test_a_wide_slack_makes_no_child_of_the_sample_more_likely_than_without_it(tmp_path: Path) -> None:
    # --slack makes the draw harder to foresee. At 99.9% nearly any six children make a cohort
    # of the lottery; discovery once placed them all beside one cohort's other five, and four
    # children got chances of 96-97% (27% at most without the slack). Started from the columns
    # of the lottery without the slack, the largest chance is at most that lottery's.
    out = tmp_path / "run"
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                          "--out", str(out), "--sets", "1", "--seed", "0", "--slack", "99.9", "--progress")
    assert code == 0, stderr
    # The lottery without the slack is said as it is worked out, before the one drawn from.
    lines = stderr.splitlines()
    first = lines.index("... the lottery without the slack, to start from: 2985 of 2985 children can be drawn; "
                        "no lottery can give every one more than 0.1108%")
    assert lines.index("... the lottery: 2985 of 2985 children can be drawn; no lottery can give every one more "
                       "than 0.1715%") > first
    record = json.loads((out / "run.json").read_text())["lottery"]
    assert record["largest_without_slack"] == pytest.approx(0.2735, abs=1e-4)  # the sample's, without slack
    assert record["largest"] <= record["largest_without_slack"]
    assert read_chances(out)["chance"].max() == pytest.approx(record["largest"])


def test_with_slack_a_lottery_without_it_out_of_time_still_draws_and_says_the_comparison_is_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The lottery without the slack starts the one drawn from and is the comparison: when the
    # time limit comes before it is worked out (here: it always does), cohort 1 is still drawn
    # from the slack's lottery, found from discovery alone, and the report says the comparison
    # is missing instead of giving a number.
    from selector.contract.errors import SolverError
    from selector.solve.lottery import leximin

    real = leximin._over

    def plain_out_of_time(problem, params, optimum, *args, **kwargs):
        if not params.slack:
            raise SolverError("no cohort for the lottery was found within the time limit.", "lottery_time")
        return real(problem, params, optimum, *args, **kwargs)

    monkeypatch.setattr(leximin, "_over", plain_out_of_time)
    out = tmp_path / "run"
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                          "--out", str(out), "--sets", "1", "--slack", "10")
    assert code == 0, stderr
    record = json.loads((out / "run.json").read_text())["lottery"]
    assert record["complete"] and record["largest_without_slack"] is None
    assert record["possible"] == len(read_chances(out).query("chance > 0"))
    assert not (out / "lottery.json").exists()  # cut short by the clock: not kept for later commands
    report = (out / "report.md").read_text()
    assert (f"The largest chance of any child is {record['largest'] * 100:.1f}% with it; the time limit came before "
            "the lottery without the slack was worked out, so it cannot be compared (allow more time with "
            "--time-limit).") in " ".join(report.split())


def test_alternatives_are_drawn_in_turn_each_sharing_few_with_those_before() -> None:
    # Six children, cohorts of three. Cohort 1 is A = {0, 1, 2}; the lottery also holds
    # B = {0, 3, 4} (one child shared with A) and C = {3, 4, 5} (none); B and C share two.
    # At most one shared: whichever of B and C comes first, the other shares two with it, so
    # every seed gives one alternative. At most two shared: B and C, in either order; a third
    # would be A again, so there is none.
    a, b, c = (0, 1, 2), (0, 3, 4), (3, 4, 5)
    lottery = Lottery(columns=tuple(Column(tuple((i,) for i in cohort)) for cohort in (a, b, c)),
                      weights=(0.4, 0.3, 0.3), type_of=np.arange(6), chances=np.ones(6) / 2, threshold=1, levels=0)
    one_each = {draw_alternatives(lottery, seed, a, 3, max_overlap=1) for seed in range(20)}
    assert one_each == {(b,), (c,)}  # drawn: both come up
    for seed in range(20):
        both = draw_alternatives(lottery, seed, a, 3, max_overlap=2)
        assert sorted(both) == [b, c]
        assert draw_alternatives(lottery, seed, a, 1, max_overlap=2) == both[:1]
    assert draw_alternatives(lottery, 0, a, 3, max_overlap=0) == (c,)


def test_select_draws_the_alternatives_from_the_lottery_in_any_row_order() -> None:
    # Each alternative is a cohort of the lottery: the proven best score (the independent checker
    # says so), every rule met, at most --max-overlap children shared with each cohort before it;
    # cohort 1 is the one drawn without alternatives, and the rows' order changes none of them.
    caseload = random_caseload(7, n=40)
    params = SelectionParams(seed=3, sets=5, max_overlap=2)
    solution = solve_frame(caseload, SMALL_RULES, params)
    first, *others = solution.cohorts
    assert solution.lottery is not None and len(others) == 4
    assert [c.members for c in others] == list(solution.lottery.alternatives)
    assert first.members == solve_frame(caseload, SMALL_RULES, replace(params, sets=1)).cohorts[0].members
    for i, cohort in enumerate(solution.cohorts):
        assert cohort.status == "OPTIMAL"
        assert check.violations(caseload, cohort.members, SMALL_RULES) == []
        assert check.score(caseload, cohort.members, SMALL_RULES) == first.score
        for earlier in solution.cohorts[:i]:
            assert len(set(cohort.members) & set(earlier.members)) <= 2
    shuffled = solve_frame(caseload.sample(frac=1.0, random_state=4).reset_index(drop=True), SMALL_RULES, params)
    assert [sorted(c.members) for c in shuffled.cohorts] == [sorted(c.members) for c in solution.cohorts]
    other_seed = solve_frame(caseload, SMALL_RULES, replace(params, seed=4))
    assert [c.members for c in other_seed.cohorts[1:]] != [c.members for c in others]


def test_a_pool_holding_most_of_the_caseload_is_not_searched_before_the_whole_of_it() -> None:
    # With most children weighted the pool is the caseload in all but name: its search (which
    # proves nothing) would come before the whole caseload's for nothing: at 600 rows, where
    # discovery weighs hundreds of children, such pools were searched before every search.
    from selector.solve.lottery.budget import Meter
    from selector.solve.lottery.findings import Findings
    from selector.solve.lottery.pricing import POOL_SHARE, Pricing

    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    problem = build_problem(caseload.frame, DEFAULT_RULES)
    best = solve_cohort(problem, SelectionParams(seed=0, sets=1)).score
    searched: list[int] = []

    class Recording(Pricing):
        def _cp_sat(self, pool, weights, above, exclude=(), prove=True, first_only=False):  # type: ignore[no-untyped-def]
            searched.append(pool.n)
            return super()._cp_sat(pool, weights, above, exclude, prove, first_only)

    findings = Findings(problem, best, Meter(1.0, float("inf")))
    findings.meter.counting = False  # as in discovery
    pricing = Recording(findings, SelectionParams(seed=0, workers=1))
    weights = np.zeros(problem.n, dtype=np.int64)
    weights[: int(problem.n * POOL_SHARE) + 1] = 1
    found = pricing.exact(weights, first_only=True)
    assert searched == [problem.n] and len(found) == 1 and not pricing.pool_found
    ids = [str(problem.child_ids[i]) for i in found[0]]
    assert check.violations(caseload.frame, ids, DEFAULT_RULES) == []
    assert check.score(caseload.frame, ids, DEFAULT_RULES) >= best


def test_discovery_takes_the_first_cohort_found_and_leaves_the_pools_once_they_do_not_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Late in discovery the children not yet found are often ones no cohort holds two of, so a
    # search for the heaviest cohort finds one new child anyway and spends most of its time on
    # the proof: any cohort holding one will do, and once a pool has not answered, the searches
    # go to the whole caseload. With swaps and repairs left out every child is found by search.
    from selector.solve.lottery import discovery
    from selector.solve.lottery.pricing import Pricing
    from tests.generated import SMALL_RULES, random_caseload

    asked: list[tuple[bool, bool, bool]] = []  # first only, pools allowed, a pool answered

    class Recording(Pricing):
        def exact(self, weights, above=0, exclude=(), first_only=False, pools=True):  # type: ignore[no-untyped-def]
            found = super().exact(weights, above, exclude, first_only, pools)
            if weights.any():
                asked.append((first_only, pools, self.pool_found))
            return found

    for step in ("_walk", "_scarce_members", "_swap_from", "_by_repair"):
        monkeypatch.setattr(discovery, step, lambda *args, **kwargs: None)
    problem = build_problem(random_caseload(3, 150), SMALL_RULES)
    best = solve_cohort(problem, SelectionParams(seed=0, sets=1)).score
    lottery = fair_lottery(problem, SelectionParams(seed=0, sets=1, lottery_work=0.0), best, pricing=Recording)
    assert len(asked) > 5 and all(first for first, _pools, _answered in asked)
    for (_first, _pools, answered), (_next_first, pools_next, _next) in itertools.pairwise(asked):
        assert pools_next is answered or not pools_next  # a pool that did not answer is not asked again
    assert not asked[-1][1]
    with_everything = fair_lottery(problem, SelectionParams(seed=0, sets=1, lottery_work=0.0), best)
    assert np.array_equal(lottery.chances > 0, with_everything.chances > 0)  # the same children found


def test_a_pricing_pool_that_holds_no_cohort_is_widened_by_a_fixed_sample_before_the_whole_caseload() -> None:
    # Pricing searches the weighted children and a few holders of every value first. When they
    # hold no cohort (here: the first search is made to find none), a fixed random sample of the
    # caseload joins them before the whole caseload is searched; what it finds is a cohort of
    # the lottery by the independent checker, and the same every time. For the lottery's first
    # cohort (no child weighted) the second pool has more holders of every value instead (with
    # needs skewed it finds the cohort in 0.08 s where the whole caseload took 0.9 s).
    from selector.solve.lottery.budget import Meter
    from selector.solve.lottery.findings import Findings
    from selector.solve.lottery.pricing import POOL_SAMPLE, Pricing

    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    problem = build_problem(caseload.frame, DEFAULT_RULES)
    best = solve_cohort(problem, SelectionParams(seed=0, sets=1)).score

    class FirstPoolEmpty(Pricing):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self.searched: list[int] = []

        def _cp_sat(self, pool, weights, above, exclude=(), prove=True, first_only=False):  # type: ignore[no-untyped-def]
            self.searched.append(pool.n)
            return [] if len(self.searched) == 1 else super()._cp_sat(pool, weights, above, exclude, prove, first_only)

    weights = np.zeros(problem.n, dtype=np.int64)
    weights[[5, 50, 500]] = 1
    found = []
    for _ in range(2):
        pricing = FirstPoolEmpty(Findings(problem, best, Meter(1.0, float("inf"))), SelectionParams(seed=0, workers=1))
        found.append(pricing.exact(weights))
        first, second = pricing.searched
        assert first < second <= first + POOL_SAMPLE < problem.n
    assert found[0] == found[1] and found[0]
    for cohort in found[0]:
        ids = [str(problem.child_ids[i]) for i in cohort]
        assert check.violations(caseload.frame, ids, DEFAULT_RULES) == []
        assert check.score(caseload.frame, ids, DEFAULT_RULES) >= best
    findings = Findings(problem, best, Meter(1.0, float("inf")))
    findings.meter.counting = False  # as in discovery, where the first cohort is searched for
    pricing = FirstPoolEmpty(findings, SelectionParams(seed=0, workers=1))
    first_cohort = pricing.exact(np.zeros(problem.n, dtype=np.int64), -1)
    # The second pool (here its short search finds none: a larger pool is no easier to search)
    # comes before the whole caseload.
    assert pricing.searched[0] < pricing.searched[1] < problem.n and pricing.searched[2:] in ([], [problem.n])
    assert first_cohort
    ids = [str(problem.child_ids[i]) for i in first_cohort[0]]
    assert check.violations(caseload.frame, ids, DEFAULT_RULES) == []
    assert check.score(caseload.frame, ids, DEFAULT_RULES) >= best


def test_a_caseload_across_60_localities_draws_from_every_child_not_only_cohort_1(tmp_path: Path) -> None:
    # 12,400 rows across 60 localities (benchmarks/shapes.py's many-localities shape): the
    # lottery's first search, maximising a sum of no weights, found no cohort within its work,
    # nor did the whole caseload's, so the lottery was cohort 1 alone: six children drawn for
    # certain and everyone else with no chance. A pool searched for any cohort finds one.
    from benchmarks.shapes import shaped

    path = write_csv(tmp_path / "wards.csv", shaped(12400, "many-localities"))
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(path), "--out", str(out), "--sets", "1", "--seed", "1")
    assert code == 0, stdout + stderr
    lottery = json.loads((out / "run.json").read_text())["lottery"]
    assert lottery["complete"] and lottery["possible"] > 12_000
    assert lottery["largest"] < 0.9  # no child is drawn for certain any more
    assert "could have been drawn; chances from" in stdout



TWO_NEEDS = "size = 2\ncount = []\nspread = []\n[objective.primary_need]\nweight = 1\ncap = 2\n"
AP_AND_SUPPORT = ('size = 2\nspread = []\n[[count]]\ncolumn = "setting_type"\nvalue = "AP"\nmin = 1\n'
                  '[[count]]\ncolumn = "plan_status"\nvalue = "SEN_SUPPORT"\nmin = 1\n'
                  '[objective.primary_need]\nweight = 1\ncap = 2\n')
SLACK_NOTE = ("A slack (`--slack P`) lets cohorts within P% of the best score into the lottery, so that fewer "
              "children are certain (cohort 1 may then score less).")


@pytest.mark.parametrize(("needs", "rules", "said"), [
    # Pairs covering two needs: K1 (the only ASD) with K2 or with K3, so K1 is in both (100%) and
    # the others in one each (50%): K1 can be foreseen whatever the seed.
    (["ASD", "MLD", "MLD"], TWO_NEEDS,
     ("1 child is in every cohort that reaches the best score, 2 (a chance of 100%): it is chosen whatever the seed, "
     "so anyone who works out the best cohorts from the list can foresee it.")),
    # K1 is the only child in AP and K2 the only one on SEN support: {K1, K2} is the one cohort.
    (["ASD", "MLD", "SLD", "SLD"], AP_AND_SUPPORT,
     ("Only one cohort reaches the best score, 2: its 2 children are chosen whatever the seed, so anyone who works "
     "out the best cohorts from the list can foresee all of them.")),
    # Three needs: any two children cover two, each with a chance of 2/3: nobody is certain.
    (["ASD", "MLD", "SLD"], TWO_NEEDS, ""),
], ids=["one-child-certain", "one-cohort", "none-certain"])
def test_children_drawn_whatever_the_seed_are_said_to_be_foreseeable(tmp_path: Path, needs: list[str], rules: str,
                                                                     said: str) -> None:
    caseload = write_csv(tmp_path / "c.csv", pd.DataFrame({
        "child_id": [f"K{i}" for i in range(1, len(needs) + 1)], "age": 9, "primary_need": needs,
        "plan_status": ["EHCP", "SEN_SUPPORT", *["EHCP"] * (len(needs) - 2)],
        "setting_type": ["AP", *["MAINSTREAM"] * (len(needs) - 1)], "practitioner_name": "Pat Lee",
        "practitioner_email": [f"p{i}@example.org" for i in range(len(needs))]}))
    (tmp_path / "r.toml").write_text(rules)
    code, stdout, stderr = run("select", str(caseload), "--rules", str(tmp_path / "r.toml"), "--out",
                               str(tmp_path / "o"), "--sets", "1", "--seed", "3")
    assert code == 0, stderr
    notes = [line for line in stdout.splitlines() if line.startswith("Note:")]
    report = (tmp_path / "o" / "report.md").read_text()
    if not said:
        assert notes == [] and "whatever the seed" not in report
        return
    if said.startswith("Only one cohort"):  # no draw: said so, where a lottery's note would be
        assert notes == [] and f"No draw: {said[0].lower()}{said[1:]} {SLACK_NOTE}" in stdout.splitlines()
        assert "## How cohort 1 was chosen: no draw was needed" in report and "Were every one" not in report
    else:
        assert notes == [f"Note: {said[0].lower()}{said[1:]} {SLACK_NOTE}"]
    assert f"\n\n{said} {SLACK_NOTE}\n\n" in report
    assert "Beyond the children every such cohort holds (below)" not in report  # the seed was given
    # A secure random seed: nobody can know it, but the certain children are no secret.
    code, _, stderr = run("select", str(caseload), "--rules", str(tmp_path / "r.toml"), "--out", str(tmp_path / "r"),
                          "--sets", "1")
    assert code == 0, stderr
    report = (tmp_path / "r" / "report.md").read_text()
    if not said.startswith("Only one cohort"):  # (with one cohort there is nobody else to tell of)
        assert ("Beyond the children every such cohort holds (below), nobody could tell in advance who would be "
                "drawn") in report
    assert "Nobody could tell in advance" not in report and f"\n\n{said} {SLACK_NOTE}\n\n" in report


def test_a_lottery_cut_short_says_only_what_it_found_of_the_certain_children() -> None:
    # The same pairs as above (K1 the only ASD: in both best pairs). When the search for cohorts
    # was cut short, other best cohorts may exist: the sentence says what was found, not that
    # every best cohort holds K1, and it offers no slack (more cohorts may simply not be found).
    from selector.contract.rules import Dimension, Rules
    from selector.report.chances import foreseen_sentence
    from tests.conftest import validated

    frame = validated([{"primary_need": n} for n in ("ASD", "MLD", "MLD")]).frame
    rules = Rules(size=2, counts=(), spreads=(), dimensions=(Dimension("primary_need", 1, 2),))
    lottery = solve_frame(frame, rules, SelectionParams(seed=0, sets=1)).lottery
    assert lottery is not None and lottery.complete
    assert foreseen_sentence(lottery, 2).startswith("1 child is in every cohort that reaches the best score, 2")
    cut = replace(lottery, complete=False)
    assert foreseen_sentence(cut, 2) == ("1 child is in every cohort found for this lottery (the search for others "
                                         "was cut short), so chosen whatever the seed.")
    everyone = replace(cut, chances=tuple(1.0 if c > 0 else 0.0 for c in cut.chances))
    assert foreseen_sentence(everyone, 2) == ("Only one cohort was found for this lottery (the search for others was "
                                              "cut short): its 2 children are chosen whatever the seed.")


def test_a_cohort_drawn_below_the_best_by_the_slack_is_not_said_cut_short_by_the_clock(tmp_path: Path) -> None:
    # Twelve children of the sample, cohorts within 15% of the best, 71, in the lottery: the draw
    # gives cohort 1 a score of 61, with the best proved. The terminal said "best found, bound 71",
    # the report "the best found before the time limit", the page "(not proved)", and verify "the
    # time limit cut the original search short": no time limit came; the slack let it score less.
    twelve = ["C002268", "C006448", "C006769", "C002974", "C004158", "C004731", "C000347", "C001311", "C000220",
              "C000333", "C004127", "C004663"]
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    caseload = write_csv(tmp_path / "twelve.csv", frame[frame["child_id"].isin(twelve)])
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(caseload), "--contacts", str(SAMPLE / "contacts.csv"), "--out", str(out),
                               "--seed", "0", "--sets", "2", "--slack", "15")
    assert code == 0, stderr
    said = "drawn within the 15% slack; the best score, 71, is proved"
    assert stdout.splitlines()[0].startswith(f"Cohort 1: score 61 ({said}) in ")
    report = (out / "report.md").read_text()
    assert f"## Cohort 1: score 61, {said}\n" in report
    assert f"| 1 | 61 | {said} |" in report and "time limit" not in report
    first = json.loads((out / "run.json").read_text())["cohorts"][0]
    assert (first["status"], first["score"], first["bound"]) == ("FEASIBLE", 61, 71)  # as the contract has it
    code, stdout, stderr = run("verify", str(out))
    assert (code, stderr) == (0, "") and stdout.startswith("VERIFIED:")
