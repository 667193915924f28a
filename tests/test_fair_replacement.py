"""Replacements drawn fairly: after a decline, the children who come in are drawn by the run's
seed from the fairest lottery over the best ways to fill the freed slots (the other members
kept, every rule met), every candidate's chance of coming in is shown, the draws follow those
chances, and nobody whose family said no comes in."""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector import check
from selector.contract.rules import DEFAULT_RULES, CountRule, Dimension, Rules
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import draw_refill
from selector.solve.problem import excluding
from selector.solve.reserves import find_reserves
from selector.solve.search import solve, solve_replacement
from tests.conftest import EIGHT, caseload_frame, run, validated, write_csv
from tests.generated import caseload_rows, small_rules
from tests.test_lottery import leximin_by_enumeration

scipy_stats = pytest.importorskip("scipy.stats")

NEEDS = (Dimension("primary_need", 1, 3),)
PARAMS = SelectionParams(seed=0, sets=1)


def refill_chances(rows: list[dict[str, object]], rules: Rules, kept: list[str], best: int,
                   seed: int = 0, preferred: tuple[str, ...] = ()) -> tuple[dict[str, float], tuple[str, ...]]:
    """Each child's chance of being in cohort 1 after the refill, and the cohort drawn."""
    problem = build_problem(validated(rows).frame, rules)
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    lottery = draw_refill(problem, replace(PARAMS, seed=seed), [at[c] for c in kept], best,
                          [at[c] for c in preferred])
    return dict(zip(lottery.child_ids, (round(p, 9) for p in lottery.chances), strict=True)), lottery.drawn


def test_one_freed_slot_gives_every_child_who_fills_it_best_the_same_chance() -> None:
    # Size 3, one point per distinct need (cap 3). K1 ASD and K2 MLD stay; the freed slot scores
    # 3 with a third need: K3 SEMH, K4 SEMH or K6 PD (1/3 each); K5 ASD would score 2 (chance 0).
    rows = [{"primary_need": n} for n in ("ASD", "MLD", "SEMH", "SEMH", "ASD", "PD")]
    chances, drawn = refill_chances(rows, Rules(size=3, dimensions=NEEDS), ["K1", "K2"], best=3)
    assert chances == pytest.approx({"K1": 1, "K2": 1, "K3": 1 / 3, "K4": 1 / 3, "K5": 0, "K6": 1 / 3}, abs=1e-6)
    assert {"K1", "K2"} < set(drawn) and len(drawn) == 3 and "K5" not in drawn


def test_the_first_reserve_who_fills_the_slot_best_is_the_one_who_comes_in() -> None:
    # As above; the slot's reserves in call order are K5 (scores less: passed over), then K4.
    rows = [{"primary_need": n} for n in ("ASD", "MLD", "SEMH", "SEMH", "ASD", "PD")]
    for seed in range(5):
        _chances, drawn = refill_chances(rows, Rules(size=3, dimensions=NEEDS), ["K1", "K2"], best=3,
                                         seed=seed, preferred=("K5", "K4", "K6"))
        assert set(drawn) == {"K1", "K2", "K4"}


def test_two_freed_slots_get_the_leximin_an_enumeration_gives() -> None:
    # Size 4, K1 stays, three slots... two freed with K1 and K2 kept: every cohort holding both,
    # enumerated, the checker keeping the best, SciPy's HiGHS solving the leximin level by level.
    rng = np.random.default_rng(11)
    needs = ["ASD", "MLD", "SEMH", "PD", "HI", "VI"]
    rows = [{"primary_need": str(rng.choice(needs)), "age": int(rng.integers(2, 24)),
             "plan_status": str(rng.choice(["EHCP", "SEN_SUPPORT"]))} for _ in range(9)]
    dims = (Dimension("primary_need", 2, 4), Dimension("age_band", 1, 3), Dimension("plan_status", 1, 2))
    rules = Rules(size=4, counts=(CountRule("plan_status", ("EHCP",), min=1),), dimensions=dims)
    kept = ["K1", "K2"]
    with_kept = replace(rules, counts=(*rules.counts, CountRule("child_id", tuple(kept), min=2, max=2)))
    frame = validated(rows).frame
    expected = leximin_by_enumeration(frame, with_kept)
    best = max(check.score(frame, c, with_kept) for c in [tuple(c) for c in _cohorts(frame, with_kept)])
    chances, drawn = refill_chances(rows, rules, kept, best)
    assert chances == pytest.approx(expected, abs=1e-6)
    assert not check.violations(frame, drawn, rules) and check.score(frame, drawn, rules) == best


def _cohorts(frame: pd.DataFrame, rules: Rules) -> list[tuple[str, ...]]:
    ids = frame.loc[frame["eligible"], "child_id"].tolist()
    return [c for c in itertools.combinations(ids, rules.size) if not check.violations(frame, c, rules)]


def chi_square_p(observed: dict[str, int], chances: dict[str, float], draws: int, per_draw: int) -> float:
    """Goodness of fit of how often each child came in against draws x its chance (the children
    with a chance; each draw brings in `per_draw` of them)."""
    possible = sorted(c for c, p in chances.items() if p > 1e-9)
    expected = np.array([chances[c] * draws for c in possible])
    counts = np.array([observed.get(c, 0) for c in possible], dtype=float)
    assert counts.sum() == draws * per_draw
    return float(scipy_stats.chisquare(counts, expected * counts.sum() / expected.sum()).pvalue)


@pytest.fixture(scope="module")
def forty() -> pd.DataFrame:
    """Forty children meeting the default rules many ways."""
    rng = np.random.default_rng(5)
    rows = [{"primary_need": str(rng.choice(["ASD", "MLD", "SEMH", "SLCN", "PD", "HI"])),
             "age": int(rng.integers(1, 25)), "plan_status": str(rng.choice(["EHCP", "SEN_SUPPORT"])),
             "setting_type": str(rng.choice(["MAINSTREAM", "AP", "SPECIAL", "FE"]))} for _ in range(40)]
    return validated(rows).frame


def test_replacements_over_many_seeds_follow_their_shown_chances(forty: pd.DataFrame) -> None:
    # One family of a fixed cohort declines; for each seed the slot's reserves are drawn and the
    # replacement made as `replace` makes it. How often each child comes in must fit the chances
    # the replacement shows (chi-square), and the family that declined never comes back.
    problem = build_problem(forty, DEFAULT_RULES)
    params = replace(PARAMS, seed=0)
    cohort = solve(problem, params).cohorts[0].members
    # The slot that most children can fill equally well (a strong test of evenness).
    fillers = [solve_replacement(problem, params, cohort, [c]).lottery for c in cohort]
    slot = int(np.argmax([f.possible if f else 0 for f in fillers]))
    leaving = cohort[slot]
    came: dict[str, int] = {}
    shown: dict[str, float] | None = None
    draws = 200
    for seed in range(draws):
        p = replace(params, seed=seed)
        reserves = find_reserves(problem, cohort, p)[leaving]
        after = solve_replacement(problem, p, cohort, [leaving], preferred=reserves)
        newcomer = after.cohorts[0].members[slot]
        assert newcomer != leaving and [c for c in after.cohorts[0].members if c != newcomer] == [
            c for c in cohort if c != leaving]
        came[newcomer] = came.get(newcomer, 0) + 1
        assert after.lottery is not None
        chances = {c: p for c, p in zip(after.lottery.child_ids, after.lottery.chances, strict=True)
                   if c not in after.lottery.kept}
        assert shown is None or chances == shown  # the chances do not depend on the seed
        shown = chances
    assert shown is not None and shown[leaving] == 0
    assert len([c for c, p in shown.items() if p > 0]) >= 3
    assert chi_square_p(came, shown, draws, 1) > 0.001


def test_two_declines_over_many_seeds_follow_their_shown_chances(forty: pd.DataFrame) -> None:
    problem = build_problem(forty, DEFAULT_RULES)
    cohort = solve(problem, PARAMS).cohorts[0].members
    # The two slots that the most children can fill (a slot only one child fills tests nothing).
    pairs = [[a, b] for a, b in itertools.combinations(cohort, 2)]
    fillings = [solve_replacement(problem, PARAMS, cohort, pair) for pair in pairs]
    most = int(np.argmax([f.lottery.possible if f.lottery else 0 for f in fillings]))
    leaving, best = pairs[most], fillings[most].cohorts[0].score
    remaining = excluding(problem, set(leaving))
    at = {str(c): i for i, c in enumerate(remaining.child_ids)}
    kept = [at[c] for c in cohort if c not in leaving]
    came: dict[str, int] = {}
    draws = 200
    lottery = None
    for seed in range(draws):
        lottery = draw_refill(remaining, replace(PARAMS, seed=seed), kept, best)
        for child in set(lottery.drawn) - set(lottery.kept):
            came[child] = came.get(child, 0) + 1
        assert not check.violations(forty, lottery.drawn, DEFAULT_RULES)
        assert check.score(forty, lottery.drawn, DEFAULT_RULES) == best
    assert lottery is not None and lottery.proved
    shown = {c: p for c, p in zip(lottery.child_ids, lottery.chances, strict=True) if c not in lottery.kept}
    assert len([p for p in shown.values() if 0 < p < 1]) >= 4
    assert not set(came) & set(leaving)
    assert chi_square_p(came, shown, draws, 2) > 0.001


def eight_run(tmp_path: Path, *flags: str) -> Path:
    """EIGHT's run folder, chosen with these flags (seed 3, one cohort): K3 is its only child in
    AP, so every cohort holds K3."""
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--seed", "3", "--sets", "1", *flags)
    assert code == 0, stderr
    return out



def test_a_slot_only_one_child_can_fill_is_said_as_no_draw(tmp_path: Path) -> None:
    # Seven children, six chosen (K4 left out: MLD, 12, EHCP, SPECIAL). K2's family declines;
    # K4 alone can take the slot (with K2 out it is the only child left), so nothing is drawn,
    # and the run says so rather than "1 child ... each with a chance of 100.0000%".
    caseload = write_csv(tmp_path / "seven.csv", caseload_frame(EIGHT[:7]))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--seed", "3", "--sets", "1")
    assert code == 0, stderr
    assert "K4" not in json.loads((out / "run.json").read_text())["cohorts"][0]["members"]
    code, stdout, stderr = run("replace", str(out), "--decline", "K2")
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == "Replaced K2 with K4; the other members kept their slots."
    assert lines[-3:-1] == [
        "No draw: only 1 child could fill the freed slot with the best score (K4).",
        "Certificate: every child who can come in has a chance of 100%, the most any lottery could give."]
    report = (tmp_path / "run-replace-1" / "report.md").read_text()
    assert ("The freed slot was filled by the only child who can fill it in a way that keeps the other members, "
            "meets every rule and reaches the best score such a filling can, 64: it came in whatever the seed") in report
    assert "with chances from 100% to 100%" not in report

@pytest.mark.parametrize("declined", [["K3"], ["K3", "K1"]])
def test_with_relax_a_replacement_that_needs_a_rule_dropped_drops_it(tmp_path: Path, declined: list[str]) -> None:
    # EIGHT has one child in AP, K3, so every cohort holds K3 and the run drops nothing. Once
    # K3's family says no, "at least 1 with setting_type AP" cannot be met: the run asked for
    # --relax, so the replacement drops it, fills the places from the rest (K2 and K8 are the
    # only children not in the cohort), names the rule dropped, and verifies.
    out = eight_run(tmp_path, "--relax")
    record = json.loads((out / "run.json").read_text())
    assert record["dropped_rules"] == [] and "K3" in record["cohorts"][0]["members"]
    code, stdout, stderr = run("replace", str(out), *itertools.chain.from_iterable(("--decline", d) for d in declined))
    assert code == 0, stdout + stderr
    after = json.loads((tmp_path / "run-replace-1" / "run.json").read_text())
    assert after["dropped_rules"] == ["at least 1 with setting_type AP"]
    newcomers = set(after["cohorts"][0]["members"]) - set(record["cohorts"][0]["members"])
    assert len(newcomers) == len(declined) and newcomers <= {"K2", "K8"}
    code, stdout, stderr = run("verify", str(tmp_path / "run-replace-1"))
    assert code == 0 and f"VERIFIED: {tmp_path / 'run-replace-1'}: the run was redone" in stdout, stdout + stderr


def test_without_relax_a_replacement_that_breaks_a_rule_says_which_counting_the_declined_out(tmp_path: Path) -> None:
    # As above without --relax: K3 was the only child in AP, so with K3's family out none is left.
    out = eight_run(tmp_path)
    code, _, stderr = run("replace", str(out), "--decline", "K3")
    assert code == 3
    # K3 is said as declined (it read "1 more are excluded or have no contact", as if K3 were).
    assert ("  - at least 1 with setting_type AP: 0 eligible CYP have setting_type AP; "
            "1 more, whose family declined") in stderr.splitlines()
    # Choosing again with --relax would choose K3 again (it is still in the list, so the rule can
    # be kept): the advice is this replacement with --relax, typed as it can be run.
    assert stderr.splitlines()[-1] == (
        "The run was chosen without --relax, so its replacements keep every rule. To fill the slot all the same, "
        "dropping the fewest lowest-priority rules no child can keep (the other members keep their slots): "
        f"selector replace {out} --decline K3 --relax")
    assert not (tmp_path / "run-replace-1").exists()


def test_without_relax_two_slots_no_child_can_fill_are_said_as_slots(tmp_path: Path) -> None:
    # As above with K3 and another member declined together: "To fill the slot" said one slot.
    out = eight_run(tmp_path)
    other = next(m for m in json.loads((out / "run.json").read_text())["cohorts"][0]["members"] if m != "K3")
    code, _, stderr = run("replace", str(out), "--decline", "K3", "--decline", other)
    assert code == 3
    assert stderr.splitlines()[-1] == (
        "The run was chosen without --relax, so its replacements keep every rule. To fill the slots all the same, "
        "dropping the fewest lowest-priority rules no child can keep (the other members keep their slots): "
        f"selector replace {out} --decline K3 --decline {other} --relax")


def test_a_child_declined_twice_is_one_slot_in_the_command_given(tmp_path: Path) -> None:
    # `--decline K3 --decline k3` is one slot: it said "To fill the slots" and gave the command
    # with both.
    out = eight_run(tmp_path)
    code, _, stderr = run("replace", str(out), "--decline", "K3", "--decline", "k3")
    assert code == 3 and stderr.splitlines()[-1].endswith(
        f"To fill the slot all the same, dropping the fewest lowest-priority rules no child can keep (the other "
        f"members keep their slots): selector replace {out} --decline K3 --relax")


def test_consent_says_a_slot_no_child_can_take_with_every_rule_kept_and_gives_the_replace_that_fills_it(
        tmp_path: Path) -> None:
    # K3, the only child in AP, is in every cohort and has no reserve; its family declines. It
    # said "No reserve is left for this slot; replace draws from the whole caseload" and gave the
    # replace that then stops with exit 3.
    out = eight_run(tmp_path)
    assert json.loads((out / "run.json").read_text())["cohorts"][0]["reserves"]["K3"] == []
    code, stdout, stderr = run("consent", str(out), "K3", "declined")
    assert code == 0, stderr
    slot = json.loads((out / "run.json").read_text())["cohorts"][0]["members"].index("K3") + 1
    said = [(f"No child can take slot {slot} with every rule kept and the other members staying (the run found no reserve "
            "for it)."),
            (f"To fill it, dropping the fewest lowest-priority rules in the way: selector replace {out} --decline K3 "
            "--relax")]
    assert stdout.splitlines()[1:3] == said
    code, stdout, stderr = run("consent", str(out))
    assert code == 0 and stdout.splitlines()[-2:] == said, stderr


def test_consent_says_no_child_can_take_a_slot_once_its_only_reserve_said_no_too(tmp_path: Path) -> None:
    # EIGHT and a ninth child in AP: the two AP children are each other's only reserve (fewer than
    # the 3 asked for, so every child who can). Neither family says yes: `consent` said "No reserve
    # is left for this slot; replace draws from the whole caseload", and that replace stopped with
    # exit 3; and the reserve's decline itself said nothing of the slot.
    nine = [*EIGHT, {"primary_need": "SEMH", "age": 13, "plan_status": "SEN_SUPPORT", "setting_type": "AP"}]
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(nine))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--seed", "3", "--sets", "1")
    assert code == 0, stderr
    first = json.loads((out / "run.json").read_text())["cohorts"][0]
    (member,) = {"K3", "K9"} & set(first["members"])
    (reserve,) = first["reserves"][member]
    slot = first["members"].index(member) + 1
    code, stdout, stderr = run("consent", str(out), member, "declined")
    assert code == 0 and stdout.splitlines()[1] == f"Offered for slot {slot}: {reserve}.", stdout + stderr
    code, stdout, stderr = run("consent", str(out), reserve, "unreachable")
    said = [(f"No child can take slot {slot} with every rule kept and the other members staying (the only child who "
             f"could, {reserve}: its family declined or could not be reached)."),
            (f"To fill it, dropping the fewest lowest-priority rules in the way: selector replace {out} --decline "
             f"{member} --relax")]
    assert code == 0 and stdout.splitlines()[1:3] == said, stdout + stderr
    code, stdout, stderr = run("consent", str(out))
    assert code == 0 and stdout.splitlines()[-2:] == said, stderr
    # What it says is so: without --relax replace finds no child; with it, the slot is filled.
    assert run("replace", str(out), "--decline", member)[0] == 3
    code, stdout, stderr = run("replace", str(out), "--decline", member, "--relax")
    assert code == 0 and "Rules dropped by --relax: at least 1 with setting_type AP" in stdout.splitlines(), stderr


def test_replace_relax_drops_the_rule_no_child_left_can_keep_for_a_run_that_kept_every_rule(tmp_path: Path) -> None:
    # As above, with --relax given to replace: K3's slot is filled from K2 and K8 (the only
    # children not in the cohort, neither in AP), the AP rule is dropped and said, the other
    # members keep their slots, and verify redoes it, beside the run and without it.
    out = eight_run(tmp_path)
    before = json.loads((out / "run.json").read_text())["cohorts"][0]["members"]
    code, stdout, stderr = run("replace", str(out), "--decline", "K3", "--relax")
    assert code == 0, stdout + stderr
    assert "Rules dropped by --relax: at least 1 with setting_type AP" in stdout.splitlines()
    after = json.loads((tmp_path / "run-replace-1" / "run.json").read_text())
    assert after["dropped_rules"] == ["at least 1 with setting_type AP"] and after["params"]["relax"] is True
    # The history (run.json, and the page and report that show it) says the rule in words.
    assert after["replacements"][-1]["rules"] == (
        "every rule met except those dropped to make a cohort possible: at least 1 whose setting is: alternative "
        "provision (e.g. a pupil referral unit)")
    members = after["cohorts"][0]["members"]
    assert [m for m, b in zip(members, before, strict=True) if m != b] in (["K2"], ["K8"])
    assert members.index(next(m for m in members if m not in before)) == before.index("K3")
    # The report does not say the fillings meet every rule, nor "chances from 50% to 50%".
    report = (tmp_path / "run-replace-1" / "report.md").read_text()
    assert ("from a lottery over every way to fill it that keeps the other members, meets every rule not dropped and "
            "reaches the best score such a filling can") in report
    assert "If a family declines, each slot's reserves can take it with every rule not dropped still met" in report
    contacts = (tmp_path / "run-replace-1" / "contacts.csv").read_text(encoding="utf-8-sig")
    assert "a reserve: can take the place in slot" in contacts and "every rule met" not in contacts
    assert "2 children are in at least one such filling, so any of them could have come in, each with a chance of 50.0%" in report
    code, stdout, stderr = run("verify", str(tmp_path / "run-replace-1"))
    assert code == 0 and f"VERIFIED: {tmp_path / 'run-replace-1'}: the run was redone" in stdout, stdout + stderr
    moved = tmp_path / "elsewhere" / "run-replace-1"
    moved.parent.mkdir()
    (tmp_path / "run-replace-1").rename(moved)
    code, stdout, stderr = run("verify", str(moved))
    assert code == 0 and f"VERIFIED: {moved}: the run was redone" in stdout, stdout + stderr


def test_a_family_that_said_no_when_asked_as_a_reserve_never_comes_in(sample_run_copy: Path) -> None:
    record = json.loads((sample_run_copy / "run.json").read_text())
    first = record["cohorts"][0]
    leaving = first["members"][1]
    reserve = first["reserves"][leaving][0]
    # Without that answer, the slot's first reserve is the one who comes in.
    code, stdout, stderr = run("replace", str(sample_run_copy), "--decline", leaving,
                               "--out", str(sample_run_copy.parent / "without"))
    assert code == 0, stderr
    assert f"Replaced {leaving} with {reserve};" in stdout
    assert run("consent", str(sample_run_copy), reserve, "declined")[0] == 0
    code, stdout, stderr = run("replace", str(sample_run_copy), "--decline", leaving,
                               "--out", str(sample_run_copy.parent / "with"))
    assert code == 0, stderr
    after = json.loads((sample_run_copy.parent / "with" / "run.json").read_text())
    assert reserve not in after["cohorts"][0]["members"] and leaving not in after["cohorts"][0]["members"]
    assert reserve in after["replaced"]["all_declined"]
    chances = pd.read_csv(sample_run_copy.parent / "with" / "chances.csv", dtype={"child_id": str})
    by_id = dict(zip(chances["child_id"], chances["chance"], strict=True))
    assert by_id[reserve] == 0 and by_id[leaving] == 0
    # The chances shown: the members who stay 1, those who can come in equal shares of one place.
    kept = [c for c in after["cohorts"][0]["members"] if c in first["members"]]
    assert all(by_id[c] == 1 for c in kept) and len(kept) == 5
    coming = [p for c, p in by_id.items() if 0 < p < 1]
    assert sum(coming) == pytest.approx(1, abs=1e-6) and max(coming) == pytest.approx(min(coming))
    assert re.search(r"Drawn from the lottery over the best ways to fill the freed slot: \d+ children could have come "
                     r"in; each with a chance of [\d.]+% \(proved fairest\)", stdout)
    report = (sample_run_copy.parent / "with" / "report.md").read_text()
    assert "## How the freed slot was filled" in report
    # Proved fairest: the certificate says the first level is reached, and no more than that.
    reached = "so the smallest chance is within 0.1% of the fairest possible: the first level of the fairest lottery"
    assert f"{reached} is reached." in report
    assert "(100% of it: within 0.1% of the fairest possible, the first level reached)." in stdout  # one pair of brackets


def test_a_member_whose_family_said_no_keeps_the_slot_until_its_own_replacement(sample_run_copy: Path) -> None:
    # Two families of cohort 1 said no, recorded by `consent`; the inspector replaces the second
    # first. The first stays in its slot (its own replacement comes next), and no one who said
    # no comes in.
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    first, second = members[0], members[3]
    assert run("consent", str(sample_run_copy), first, "declined")[0] == 0
    assert run("consent", str(sample_run_copy), second, "unreachable")[0] == 0
    code, stdout, stderr = run("replace", str(sample_run_copy), "--decline", second)
    assert code == 0, stdout + stderr
    once = sample_run_copy.parent / f"{sample_run_copy.name}-replace-1"
    after = json.loads((once / "run.json").read_text())["cohorts"][0]["members"]
    assert after[0] == first and second not in after and after[1:3] + after[4:] == members[1:3] + members[4:]
    code, stdout, stderr = run("replace", str(once), "--decline", first)
    assert code == 0, stdout + stderr
    again = sample_run_copy.parent / f"{sample_run_copy.name}-replace-2"  # numbered on from the first run
    twice = json.loads((again / "run.json").read_text())
    assert not {first, second} & set(twice["cohorts"][0]["members"])
    assert set(twice["replaced"]["all_declined"]) == {first, second}
    for folder in (once, again):
        code, stdout, stderr = run("verify", str(folder))
        assert code == 0, stdout + stderr



def test_when_every_family_declines_one_lottery_is_worked_out_and_it_draws_the_whole_cohort(forty: pd.DataFrame) -> None:
    # With nobody kept, the whole cohort is refilled: the refill's lottery over every best cohort
    # is the one drawn from, and the selection's own lottery is not worked out beside it (it
    # doubled the time, and its notes were said twice).
    from selector.solve.lottery import leximin

    problem = build_problem(forty, DEFAULT_RULES)
    cohort = solve(problem, PARAMS).cohorts[0].members
    with mock.patch.object(leximin, "_over", wraps=leximin._over) as worked_out:
        after = solve_replacement(problem, PARAMS, cohort, list(cohort))
    assert worked_out.call_count == 1
    first = after.cohorts[0].members
    assert not set(first) & set(cohort) and not check.violations(forty, first, DEFAULT_RULES)
    assert check.score(forty, first, DEFAULT_RULES) == after.cohorts[0].score
    assert after.lottery is not None and sorted(after.lottery.drawn) == sorted(first)
    assert len(after.notes) == len(set(after.notes))


def test_replacing_the_whole_cohort_on_the_sample_says_each_note_once(sample_run_copy: Path) -> None:
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    code, stdout, stderr = run("replace", str(sample_run_copy), *(a for c in members for a in ("--decline", c)))
    assert code == 0, stdout + stderr
    notes = [line for line in stdout.splitlines() if line.startswith("Note:")]
    assert notes and len(notes) == len(set(notes))
    after = json.loads((sample_run_copy.parent / f"{sample_run_copy.name}-replace-1" / "run.json").read_text())
    assert not set(after["cohorts"][0]["members"]) & set(members)

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=5, max_rows=8), rules=small_rules(), freed=st.integers(1, 2),
       size=st.integers(3, 4), pick=st.randoms())
def test_a_replacements_chances_are_the_leximin_of_an_enumeration(rows: list[dict[str, object]], rules: Rules,
                                                                 freed: int, size: int, pick: random.Random) -> None:
    # Any small caseload and rules: keep all but one or two members of a best cohort; every
    # cohort holding the kept members is enumerated, the checker keeps the best, and SciPy's
    # HiGHS solves the leximin child by child. The replacement's chances must be those.
    rules = replace(rules, size=size)
    frame = validated(rows).frame
    ids = frame.loc[frame["eligible"], "child_id"].tolist()
    if len(ids) < rules.size:
        return
    valid = [c for c in itertools.combinations(ids, rules.size) if not check.violations(frame, c, rules)]
    if not valid:
        return
    best = max(check.score(frame, c, rules) for c in valid)
    cohort = pick.choice([c for c in valid if check.score(frame, c, rules) == best])
    kept = sorted(pick.sample(list(cohort), rules.size - freed))
    with_kept = replace(rules, counts=(*rules.counts, CountRule("child_id", tuple(kept), min=len(kept),
                                                                max=len(kept))))
    fill = max(check.score(frame, c, rules) for c in valid if set(kept) <= set(c))
    expected = leximin_by_enumeration(frame, with_kept)
    problem = build_problem(frame, rules)
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    lottery = draw_refill(problem, PARAMS, [at[c] for c in kept], fill)
    assert dict(zip(lottery.child_ids, lottery.chances, strict=True)) == pytest.approx(expected, abs=1e-6)
    # The certificate's bound: never below the fairest smallest chance (the enumeration's first
    # level), and, with every level proved, no further above it than the LP's tolerance.
    newcomers = [p for c, p in expected.items() if c not in kept and p > 1e-9]
    if newcomers and lottery.bound is not None:
        assert lottery.bound >= min(newcomers) - 1e-9
        if lottery.proved:
            assert lottery.bound <= min(newcomers) + 1e-6
    assert set(kept) <= set(lottery.drawn) and not check.violations(frame, lottery.drawn, rules)
    assert check.score(frame, lottery.drawn, rules) == fill


def test_a_replacements_alternatives_share_few_children_with_the_cohort_it_ends_with(forty: pd.DataFrame) -> None:
    # After a decline the newcomer is drawn; the alternatives must share at most --max-overlap
    # children with cohort 1 as it ends (the kept children and the newcomer drawn), for every
    # seed. With no sharing allowed, an alternative holding the newcomer would break it.
    problem = build_problem(forty, DEFAULT_RULES)
    for seed in range(12):
        params = SelectionParams(seed=seed, sets=3, max_overlap=0)
        cohort = solve(problem, replace(params, sets=1)).cohorts[0].members
        after = solve_replacement(problem, params, cohort, [cohort[seed % len(cohort)]])
        first = set(after.cohorts[0].members)
        for i, other in enumerate(after.cohorts[1:], start=2):
            assert not first & set(other.members), (seed, i)
            assert all(not set(a.members) & set(other.members) for a in after.cohorts[1:i - 1])


def enumerated_fillings(rows: list[dict[str, object]], rules: Rules, free: int, pick: random.Random
                        ) -> tuple[pd.DataFrame, list[str], list[tuple[str, ...]]] | None:
    """A small caseload with all but `free` members of a cohort kept at random: the frame, the
    kept children and every filling the independent checker accepts (None: too few children)."""
    frame = validated(rows).frame
    ids = frame.loc[frame["eligible"], "child_id"].tolist()
    if len(ids) < rules.size:
        return None
    kept = sorted(pick.sample(ids, rules.size - free))
    fillings = [(*kept, *added) for added in itertools.combinations([c for c in ids if c not in kept], free)]
    return frame, kept, [c for c in fillings if not check.violations(frame, c, rules)]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=4, max_rows=10), rules=small_rules(), size=st.integers(2, 4),
       free=st.integers(1, 2), pick=st.randoms())
def test_with_one_or_two_places_free_the_search_finds_the_best_filling_an_enumeration_finds(
        rows: list[dict[str, object]], rules: Rules, size: int, free: int, pick: random.Random) -> None:
    # A replacement's search keeps every member but one or two. One place: every child is tried
    # in it at once. Two: pairs are checked from the highest score their gains allow down, and
    # the first score a pair reaches is the best. Against every filling the independent checker
    # accepts: the same best score, proved, a filling it accepts; the rules' conflict when there
    # is none. With no pair checks allowed, CP-SAT decides, with the same score.
    from selector.contract.errors import InfeasibleSelectionError
    from selector.solve import search

    rules = replace(rules, size=size)
    enumerated = enumerated_fillings(rows, rules, free, pick)
    if enumerated is None:
        return
    frame, kept, valid = enumerated
    problem = build_problem(frame, rules)
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    fixed = [at[c] for c in kept]
    if not valid:
        with pytest.raises(InfeasibleSelectionError):
            search.solve_cohort(problem, PARAMS, fixed=fixed)
        return
    found = search.solve_cohort(problem, PARAMS, fixed=fixed)
    assert found.score == max(check.score(frame, c, rules) for c in valid)
    assert found.status == search.OPTIMAL and found.bound == found.score
    assert set(kept) <= set(found.members) and not check.violations(frame, found.members, rules)
    assert check.score(frame, found.members, rules) == found.score
    with mock.patch.object(search, "PAIR_CHECKS", -1):
        assert search.solve_cohort(problem, PARAMS, fixed=fixed).score == found.score


def who_can_come_in(rows: list[dict[str, object]], rules: Rules, free: int, lower: int, pick: random.Random
                    ) -> tuple[set[str], set[str]] | None:
    """With all but `free` members of a cohort kept at random and a threshold `lower` below the
    best filling's score: the kept members and every child of an enumerated filling reaching the
    threshold, and the children the replacement lets in (None: no filling)."""
    from selector.solve.lottery.refill import _who_can_come_in

    enumerated = enumerated_fillings(rows, rules, free, pick)
    if enumerated is None or not enumerated[2]:
        return None
    frame, kept, valid = enumerated
    threshold = max(check.score(frame, c, rules) for c in valid) - lower
    expected = set(kept) | {child for c in valid if check.score(frame, c, rules) >= threshold for child in c}
    problem = build_problem(frame, rules)
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    inside = _who_can_come_in(problem, [at[c] for c in kept], threshold)
    return expected, {str(problem.child_ids[i]) for i in inside}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=4, max_rows=10), rules=small_rules(), size=st.integers(2, 4),
       lower=st.integers(0, 6), pick=st.randoms())
def test_with_two_places_free_exactly_the_children_of_some_best_filling_can_come_in(
        rows: list[dict[str, object]], rules: Rules, size: int, lower: int, pick: random.Random) -> None:
    # Two families declined: only pairs whose gains (each child's score added to the kept members
    # alone) reach what the kept members lack are checked. Against every filling the independent
    # checker accepts: the children in some filling scoring at least the threshold (the best
    # filling's score, or less), and the kept members, and no one else.
    answer = who_can_come_in(rows, replace(rules, size=size), 2, lower, pick)
    if answer is not None:
        expected, inside = answer
        assert inside == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=caseload_rows(min_rows=4, max_rows=10), rules=small_rules(), size=st.integers(3, 5),
       free=st.integers(2, 3), lower=st.integers(0, 6), pick=st.randoms())
def test_with_more_places_free_no_child_of_some_best_filling_is_left_out(
        rows: list[dict[str, object]], rules: Rules, size: int, free: int, lower: int, pick: random.Random) -> None:
    # With two or more places free, children are left out of the replacement's lottery by plain
    # reasons (a limit the kept members fill, a score out of reach: a value they hold that no
    # best cohort repeats, say). Against every filling the independent checker accepts: every
    # child of some filling scoring at least the threshold is kept in, whether the other places
    # are told apart by count class or not (past PLACE_CELLS), and by class never more.
    from selector.solve import fit

    state = pick.getstate()
    answer = who_can_come_in(rows, replace(rules, size=size), free, lower, pick)
    if answer is not None:
        expected, inside = answer
        assert expected <= inside
        pick.setstate(state)
        with mock.patch.object(fit, "PLACE_CELLS", 0):
            terms_alone = who_can_come_in(rows, replace(rules, size=size), free, lower, pick)
        assert terms_alone is not None and terms_alone[0] == expected
        assert inside <= terms_alone[1]


def test_with_three_places_free_children_who_cannot_come_in_are_left_out_before_the_search() -> None:
    # The sample's cohort 1 less its members aged 0-4, 16-19 and 20-25: a best filling must
    # bring those three age bands (the kept members hold the other two, and a best cohort
    # covers all five), one child each, and six localities (each kept member's is taken). A
    # child of 5-15 or of a kept member's locality is in no best filling, and is left out
    # before the lottery's search (at 60,000 rows, the same three declined: 7.6-9 s and
    # unfinished with the limits alone; 5 s with the bound term by term; 2.3-2.5 s with the
    # places by count class; all 324 children who can come in found).
    from selector.solve.lottery.refill import _who_can_come_in
    from selector.solve.search import solve_cohort
    from tests.conftest import load_caseload

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    frame = load_caseload(sample / "caseload.csv", sample / "contacts.csv").frame.set_index("child_id", drop=False)
    problem = build_problem(frame, DEFAULT_RULES)
    cohort = solve_cohort(problem, PARAMS).members
    kept = [c for c in cohort if frame.at[c, "age_band"] in ("5-10", "11-15")]
    assert len(kept) == 3
    best = solve(problem, PARAMS, fixed_ids=kept, ranked=False).cohorts[0].score
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    inside = [str(problem.child_ids[i]) for i in _who_can_come_in(problem, [at[c] for c in kept], best)]
    newcomers = frame.loc[[c for c in inside if c not in kept]]
    assert len(newcomers) > 20
    assert set(newcomers["age_band"]) <= {"0-4", "16-19", "20-25"}
    assert not set(newcomers["locality"]) & set(frame.loc[kept, "locality"])
    lottery = draw_refill(problem, PARAMS, [at[c] for c in kept], best)
    assert not check.violations(frame.reset_index(drop=True), lottery.drawn, DEFAULT_RULES)


def let_in(rows: list[dict[str, object]], rules: Rules, kept: list[str], best: int) -> set[str]:
    """The children a replacement keeping `kept` lets into its lottery (those kept among them)."""
    from selector.solve.lottery.refill import _who_can_come_in

    problem = build_problem(validated(rows).frame, rules)
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    return {str(problem.child_ids[i]) for i in _who_can_come_in(problem, [at[c] for c in kept], best)}


def test_places_that_count_rules_claim_leave_out_a_newcomer_the_terms_alone_let_in() -> None:
    # Size 4, K1 (EHCP, 0-4) stays, three places free; at least 2 at SEN support; plan status
    # (values up to 3) and age band (up to 3) count 1 each, so a best filling scores 6. K3 and
    # K4 are the only children at SEN support: every filling holds both, and one more child.
    #   K5 (being assessed, 16-19): plans EHCP, SEN support, assessed (3) + bands 3 = 6, best.
    #   K2 (EHCP, 5-10) or K6 (EHCP, 20-25): plans 2 + bands 3 = 5.
    # Term by term K2 could reach 6 (its place and two more, each bringing a plan and a band);
    # by count class its two other places must both be at SEN support, which bring one plan.
    rows = [{"plan_status": "EHCP", "age": 2}, {"plan_status": "EHCP", "age": 8},
            {"plan_status": "SEN_SUPPORT", "age": 8}, {"plan_status": "SEN_SUPPORT", "age": 13},
            {"plan_status": "ASSESSMENT", "age": 17}, {"plan_status": "EHCP", "age": 22}]
    rules = Rules(size=4, counts=(CountRule("plan_status", ("SEN_SUPPORT",), min=2),),
                  dimensions=(Dimension("plan_status", 1, 3), Dimension("age_band", 1, 3)))
    inside = let_in(rows, rules, ["K1"], 6)
    assert inside == {"K1", "K3", "K4", "K5"}
    chances, drawn = refill_chances(rows, rules, ["K1"], 6)
    assert sorted(drawn) == ["K1", "K3", "K4", "K5"]
    assert chances["K2"] == chances["K6"] == 0


def test_a_newcomers_own_values_are_not_counted_again_for_the_places_beside_it() -> None:
    # Size 4, K1 (EHCP, 5-10) stays, three places free; at least 2 at SEN support; plan status
    # (up to 3) and age band (up to 4) count 1 each. Every filling holds K3 (SEN, 0-4) and K4
    # (SEN, 11-15), the only two at SEN support, and one more:
    #   K5 (assessed, 0-4): plans 3 + bands 5-10, 0-4, 11-15 (3) = 6;
    #   K6 (EHCP, 20-25): plans 2 + bands 4 = 6;
    #   K2 (EHCP, 11-15): plans 2 + bands 3 = 5, not best.
    # The places beside K2 must both be at SEN support, whose new bands are 0-4 and 11-15; K2
    # holds 11-15 itself, so they add one band, not two: K2 is out.
    rows = [{"plan_status": "EHCP", "age": 8}, {"plan_status": "EHCP", "age": 13},
            {"plan_status": "SEN_SUPPORT", "age": 2}, {"plan_status": "SEN_SUPPORT", "age": 13},
            {"plan_status": "ASSESSMENT", "age": 2}, {"plan_status": "EHCP", "age": 22}]
    rules = Rules(size=4, counts=(CountRule("plan_status", ("SEN_SUPPORT",), min=2),),
                  dimensions=(Dimension("plan_status", 1, 3), Dimension("age_band", 1, 4)))
    inside = let_in(rows, rules, ["K1"], 6)
    assert inside == {"K1", "K3", "K4", "K5", "K6"}


def test_two_declines_on_the_sample_get_the_fairest_lottery_proved() -> None:
    # With two places free every best filling is a pair of children, and all of them are found
    # (the pairs whose gains reach what the kept members lack, checked), so the lottery is the
    # leximin over every one of them: each level proved, the smallest chance equal to the bound.
    # The two places that the most children can fill: hundreds of children and thousands of
    # pairs, where the search for cohorts within the default work proved no level.
    from selector.solve.lottery.refill import _who_can_come_in
    from selector.solve.search import solve_cohort
    from tests.conftest import load_caseload

    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    frame = load_caseload(sample / "caseload.csv", sample / "contacts.csv").frame
    problem = build_problem(frame, DEFAULT_RULES)
    cohort = solve_cohort(problem, PARAMS).members
    at = {str(c): i for i, c in enumerate(problem.child_ids)}

    def filling(pair: tuple[str, str]) -> tuple[int, list[str], int]:
        kept = [c for c in cohort if c not in pair]
        best = solve(problem, PARAMS, fixed_ids=kept, ranked=False).cohorts[0].score
        return len(_who_can_come_in(problem, [at[c] for c in kept], best)), kept, best

    fillings = [filling(pair) for pair in itertools.combinations(cohort, 2)]
    possible, kept, best = max(fillings)
    assert possible > 300
    lottery = draw_refill(problem, PARAMS, [at[c] for c in kept], best)
    chances = np.array(lottery.chances)
    smallest = chances[chances > 1e-9].min()
    assert lottery.proved and lottery.levels >= 2 and lottery.complete
    assert smallest == pytest.approx(lottery.bound, abs=1e-6)  # the bound is the first level (+ the LP tolerance)
    assert (chances > 1e-9).sum() == possible  # kept members (chance 1) and every child who can come in
    assert set(kept) <= set(lottery.drawn) and not check.violations(frame, lottery.drawn, DEFAULT_RULES)
    assert check.score(frame, lottery.drawn, DEFAULT_RULES) == best


def test_two_declines_draw_the_same_whatever_the_order_of_the_rows(forty: pd.DataFrame) -> None:
    # Every best filling is taken whole, one per pair of types: which of alike pairs stands for
    # them, and the order the columns come in, must not depend on the order of the rows.
    problem = build_problem(forty, DEFAULT_RULES)
    cohort = solve(problem, PARAMS).cohorts[0].members
    kept = list(cohort[2:])
    best = solve(problem, PARAMS, fixed_ids=kept, ranked=False).cohorts[0].score
    results = []
    for shuffle in (np.arange(len(forty)), np.random.default_rng(3).permutation(len(forty)),
                    np.arange(len(forty))[::-1]):
        shuffled = build_problem(forty.iloc[shuffle].reset_index(drop=True), DEFAULT_RULES)
        at = {str(c): i for i, c in enumerate(shuffled.child_ids)}
        for seed in (0, 1, 2):
            lottery = draw_refill(shuffled, replace(PARAMS, seed=seed), [at[c] for c in kept], best)
            assert lottery.proved
            results.append((seed, sorted(lottery.drawn), dict(zip(lottery.child_ids, lottery.chances, strict=True))))
    for seed, drawn, chances in results[3:]:
        assert (drawn, chances) == (results[seed][1], results[seed][2])


def test_three_declines_discovery_checks_only_cohorts_that_keep_the_members_who_stay(
        forty: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every cohort of a replacement's lottery holds the members who stay; a cohort less one of
    # them is completed by no one, so discovery's swaps and repairs never check one (at 60,000
    # rows with three declines they were a fifth of the time), and the lottery is still the
    # one of best fillings, by the independent checker.
    from selector.solve.lottery import discovery
    from selector.solve.lottery.findings import Findings

    problem = build_problem(forty, DEFAULT_RULES)
    cohort = solve(problem, PARAMS).cohorts[0].members
    kept = list(cohort[3:])
    best = solve(problem, PARAMS, fixed_ids=kept, ranked=False).cohorts[0].score
    at = {str(c): i for i, c in enumerate(problem.child_ids)}
    checked: list[bool] = []
    inside = [False]
    shortfalls = Findings.shortfalls

    def recording(self: Findings, rests, among):  # type: ignore[no-untyped-def]
        if inside[0]:
            always = set(np.flatnonzero(self.always).tolist())
            checked.extend(always <= set(map(int, rest)) for rest in rests)
        return shortfalls(self, rests, among)

    def watched(step):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            inside[0] = True
            try:
                return step(*args, **kwargs)
            finally:
                inside[0] = False
        return run

    monkeypatch.setattr(Findings, "shortfalls", recording)
    monkeypatch.setattr(discovery, "_swap_from", watched(discovery._swap_from))
    monkeypatch.setattr(discovery, "_repair", watched(discovery._repair))
    lottery = draw_refill(problem, PARAMS, [at[c] for c in kept], best)
    assert checked and all(checked)
    assert set(kept) <= set(lottery.drawn) and not check.violations(forty, lottery.drawn, DEFAULT_RULES)
    assert check.score(forty, lottery.drawn, DEFAULT_RULES) == best
