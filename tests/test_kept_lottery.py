"""The lottery worked out once and used again: the run folder's lottery.json, the process's
memory (a batch's scenarios, the page's runs) and `audit --lottery-from`. A kept lottery must
give exactly what working it out gives (every chance, every draw), and only for the candidates,
rules, slack and work it was worked out from."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from selector.app import selection
from selector.contract.rules import DEFAULT_RULES, CountRule
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.lottery import StoredLottery, draw_first, drawing, lottery_key
from selector.solve.problem import subset
from selector.solve.search import solve_cohort
from tests.conftest import SAMPLE_ARGS, count_calls, run, validated, write_csv


@pytest.fixture(scope="module")
def generated() -> tuple[object, SelectionParams, int]:
    """A generated 300-row caseload's problem, parameters and best score."""
    caseload, _contacts = generate(300, seed=4)
    frame = validated(caseload.to_dict("records"), allow_missing_contact=True).frame
    problem = build_problem(frame, DEFAULT_RULES)
    params = SelectionParams(seed=0, sets=1)
    return problem, params, solve_cohort(problem, params).score


def test_a_kept_lottery_gives_every_chance_and_draw_as_worked_out(generated) -> None:
    problem, params, optimum = generated
    worked = draw_first(problem, params, optimum, 600.0)
    assert worked.stored is not None and not worked.reused
    # Kept as the run folder keeps it (JSON), then used on the rows in another order.
    kept = StoredLottery.from_dict(json.loads(json.dumps(worked.stored.to_dict())))
    shuffle = np.random.default_rng(1).permutation(problem.n)
    shuffled = subset(problem, shuffle)
    assert lottery_key(shuffled, params, optimum) == kept.key  # the order of the rows is not in the key
    for seed in (0, 1, 2, 3):
        fresh = draw_first(problem, replace(params, seed=seed), optimum, 600.0)
        again = draw_first(shuffled, replace(params, seed=seed), optimum, 600.0, known={kept.key: kept})
        assert again.reused
        assert set(again.drawn) == set(fresh.drawn)
        assert again.child_ids == fresh.child_ids and again.chances == fresh.chances and again.types == fresh.types
        assert (again.bound, again.levels, again.proved) == (fresh.bound, fresh.levels, fresh.proved)


def test_the_key_is_what_the_lottery_is_worked_out_from(generated) -> None:
    problem, params, optimum = generated
    key = lottery_key(problem, params, optimum)
    assert lottery_key(problem, replace(params, seed=9, workers=2), optimum) == key  # the seed only draws
    assert lottery_key(problem, replace(params, slack=5.0), optimum) != key
    assert lottery_key(problem, replace(params, lottery_work=2.0), optimum) != key
    assert lottery_key(problem, params, optimum - 1) != key
    stricter = replace(DEFAULT_RULES, counts=(*DEFAULT_RULES.counts, CountRule("social_care", ("CLA",), min=0)))
    caseload, _contacts = generate(300, seed=4)
    frame = validated(caseload.to_dict("records"), allow_missing_contact=True).frame
    assert lottery_key(build_problem(frame, stricter), params, optimum) != key
    # One child's need changed: another lottery.
    changed = caseload.copy()
    changed.loc[0, "primary_need"] = "VI" if changed.loc[0, "primary_need"] != "VI" else "HI"
    other = validated(changed.to_dict("records"), allow_missing_contact=True).frame
    assert lottery_key(build_problem(other, DEFAULT_RULES), params, optimum) != key


def test_the_key_changes_with_the_lottery_code_not_with_selector_s_version(generated, monkeypatch) -> None:
    # A version that changes nothing of the lottery (0.4.0: the reports and the reading of the list)
    # keeps the keys its runs recorded, so a run made by the version before verifies; a change to
    # the lottery's code raises LOTTERY_VERSION, and kept lotteries are worked out anew.
    from selector.solve.lottery import stored

    problem, params, optimum = generated
    key = lottery_key(problem, params, optimum)
    monkeypatch.setattr(stored, "__version__", "9.9.9", raising=False)  # (read by the key before 0.4.0)
    assert lottery_key(problem, params, optimum) == key
    monkeypatch.setattr(stored, "LOTTERY_VERSION", "9.9.9")
    assert lottery_key(problem, params, optimum) != key

def test_a_kept_lottery_for_other_candidates_is_not_used(generated) -> None:
    problem, params, optimum = generated
    worked = draw_first(problem, params, optimum, 600.0)
    assert worked.stored is not None
    fewer = subset(problem, np.arange(problem.n - 1))
    # Even filed under the right key, a lottery over other children is worked out anew.
    answer = draw_first(fewer, params, optimum, 600.0, known={lottery_key(fewer, params, optimum): worked.stored})
    assert not answer.reused and len(answer.child_ids) == problem.n - 1


@pytest.mark.parametrize("edit", ["huge type", "type nobody has"])
def test_a_kept_lottery_edited_by_hand_is_worked_out_anew_not_a_crash(generated, edit: str) -> None:
    # lottery.json edited and its hash in run.json updated: a type number past any int64 ended in an
    # OverflowError, a pool of a type no child has in a ZeroDivisionError. Neither is a lottery this
    # problem could have: it is worked out anew.
    problem, params, optimum = generated
    worked = draw_first(problem, params, optimum, 600.0)
    assert worked.stored is not None
    kept = worked.stored.to_dict()
    if edit == "huge type":
        kept["type_of"][0] = 10**30
    else:  # the children of the first column's first pool's one type given a new type number
        lone = kept["columns"][0]["pools"][0][0]
        kept["type_of"] = [t if t != lone else max(kept["type_of"]) + 1 for t in kept["type_of"]]
    edited = StoredLottery.from_dict(json.loads(json.dumps(kept)))
    answer = draw_first(problem, params, optimum, 600.0, known={edited.key: edited})
    assert not answer.reused and answer.chances == worked.chances


def test_a_second_choice_on_the_same_caseload_uses_the_lottery_again(monkeypatch: pytest.MonkeyPatch) -> None:
    caseload, _contacts = generate(300, seed=6)
    loaded = validated(caseload.to_dict("records"), allow_missing_contact=True)
    monkeypatch.setattr(selection, "KNOWN_LOTTERIES", {})
    params = SelectionParams(seed=3, sets=2)
    first = selection.choose(loaded, DEFAULT_RULES, params)
    calls = count_calls(monkeypatch, drawing, "fair_lottery")
    second = selection.choose(loaded, DEFAULT_RULES, params)
    assert calls == [] and second.lottery is not None and second.lottery.reused
    assert [c.members for c in second.cohorts] == [c.members for c in first.cohorts]
    assert second.lottery.chances == first.lottery.chances  # type: ignore[union-attr]
    other_seed = selection.choose(loaded, DEFAULT_RULES, replace(params, seed=4))
    assert calls == [] and other_seed.lottery is not None and other_seed.lottery.reused
    # Another lottery's work: worked out.
    selection.choose(loaded, DEFAULT_RULES, replace(params, lottery_work=0.5))
    assert calls == [1]
    # verify works everything out anew.
    selection.choose(loaded, DEFAULT_RULES, params, reuse=False)
    assert calls == [1, 1]


def test_the_run_folder_keeps_the_lottery_it_drew_from(sample_run: Path) -> None:
    record = json.loads((sample_run / "run.json").read_text())
    kept = json.loads((sample_run / "lottery.json").read_text())
    assert "lottery.json" in record["files"] and record["lottery"]["key"] == kept["key"]
    assert record["lottery"]["columns"] == len(kept["columns"])
    assert abs(sum(c["weight"] for c in kept["columns"]) - 1) < 1e-9
    assert len(kept["children"]) == record["candidates"]


def test_audit_uses_the_lottery_a_run_kept(sample_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    from selector.solve import audit as solve_audit

    calls = count_calls(monkeypatch, solve_audit, "fair_lottery")
    out = tmp_path / "audit"
    code, stdout, stderr = run("audit", *SAMPLE_ARGS, "--lottery-from", str(sample_run), "--draws", "200",
                               "--out", str(out))
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == f"The lottery audited: the one {sample_run} kept (lottery.json), not worked out again"
    assert lines[2] == "Shuffled rows: largest change in any chance 0"  # the kept lottery is the one worked out
    assert calls == [1]  # only on the rows shuffled
    # The audit's chances are the run's, byte for byte.
    assert (out / "chances.csv").read_bytes() == (sample_run / "chances.csv").read_bytes()


def test_audit_of_a_run_folder_alone_reads_what_the_run_was_made_from(sample_run: Path, sample_run_copy: Path,
                                                                        tmp_path: Path) -> None:
    # `audit --lottery-from RUN` alone: the caseload and contacts where run.json names them, and
    # the run's rules, slack and work, so the audit is the one given them all, file for file.
    alone, given = tmp_path / "alone", tmp_path / "given"
    code, stdout, stderr = run("audit", "--lottery-from", str(sample_run), "--draws", "200", "--out", str(alone))
    assert code == 0, stderr
    assert stdout.splitlines()[0] == f"The lottery audited: the one {sample_run} kept (lottery.json), not worked out again"
    assert run("audit", *SAMPLE_ARGS, "--lottery-from", str(sample_run), "--draws", "200", "--out", str(given))[0] == 0
    assert sorted(p.name for p in alone.iterdir()) == sorted(p.name for p in given.iterdir())
    assert all((alone / p.name).read_bytes() == p.read_bytes() for p in given.iterdir())
    # The run folder given as the caseload says how to audit it.
    code, _, stderr = run("audit", str(sample_run), "--out", str(tmp_path / "f"))
    assert code == 2 and stderr.splitlines()[-1] == (
        f"Error: {sample_run} is a run folder, not a caseload. To audit the lottery it kept: selector audit "
        f"--lottery-from {sample_run} --out DIR")
    # Alone, the run's own rules, slack and work are audited: one given is refused, not ignored.
    code, stdout, stderr = run("audit", "--lottery-from", str(sample_run), "--slack", "5", "--out", str(tmp_path / "s"))
    assert code == 2 and stderr.splitlines()[-1] == (
        "Error: --slack: with --lottery-from alone the run's own are audited; leave it out, or give the run's "
        "caseload too.")
    # A replacement keeps no lottery: the one cohort 1 came from is the first run's.
    first = sample_run_copy
    member = json.loads((first / "run.json").read_text())["cohorts"][0]["members"][0]
    assert run("replace", str(first), "--decline", member)[0] == 0
    later = first.parent / f"{first.name}-replace-1"
    code, stdout, stderr = run("audit", "--lottery-from", str(later), "--out", str(tmp_path / "r"))
    assert code == 2 and stderr.splitlines()[-2:] == [
        (f"Error: {later}: a replacement run (made from {first.name}) keeps no lottery of its own; the lottery cohort "
        "1 was drawn from is kept by the run the week started from."),
        "Give that run's folder to --lottery-from (the folder without -replace-N)."]
    assert not any((tmp_path / name).exists() for name in ("f", "s", "r"))


def test_audit_refuses_a_kept_lottery_of_other_inputs_or_changed(sample_run: Path, tmp_path: Path) -> None:
    code, stdout, stderr = run("audit", *SAMPLE_ARGS, "--lottery-from", str(sample_run), "--slack", "5",
                               "--out", str(tmp_path / "a1"))
    assert code == 2 and stdout == ""
    assert stderr.splitlines()[-2:] == [
        (f"Error: {sample_run}/lottery.json was worked out from other candidates, rules, slack or lottery work "
         "than this audit's."),
        ("Give the run's caseload and contacts, and its --rules, --slack and --lottery-work (run.json lists "
         "them), or leave --lottery-from out.")]
    changed = tmp_path / "changed"
    shutil.copytree(sample_run, changed)
    kept = json.loads((changed / "lottery.json").read_text())
    kept["columns"][0]["weight"], kept["columns"][1]["weight"] = kept["columns"][1]["weight"], kept["columns"][0]["weight"]
    (changed / "lottery.json").write_text(json.dumps(kept))
    code, stdout, stderr = run("audit", *SAMPLE_ARGS, "--lottery-from", str(changed), "--out", str(tmp_path / "a2"))
    assert code == 2 and "lottery.json: changed since the run wrote it" in stderr
    # Edited, and its hash in run.json updated to hide it: a type number no lottery writes.
    kept = json.loads((sample_run / "lottery.json").read_text())
    kept["type_of"][0] = 10**30
    (changed / "lottery.json").write_text(json.dumps(kept))
    record = json.loads((changed / "run.json").read_text())
    record["files"]["lottery.json"] = hashlib.sha256((changed / "lottery.json").read_bytes()).hexdigest()
    (changed / "run.json").write_text(json.dumps(record))
    code, stdout, stderr = run("audit", *SAMPLE_ARGS, "--lottery-from", str(changed), "--out", str(tmp_path / "a3"))
    assert code == 2 and stderr.startswith(f"Error: {changed}/lottery.json: not a lottery selector wrote for these "
                                           "inputs, though its key is theirs: it was edited."), stderr
    assert not any((tmp_path / name).exists() for name in ("a1", "a2", "a3"))


def test_audit_says_when_a_kept_lottery_is_another_versions(sample_run: Path, tmp_path: Path) -> None:
    # A run made by an earlier selector: its lottery's key holds that version, so this one does
    # not take it, and says why (not "other candidates, rules, slack or work", which would send
    # the user looking for a difference in the files).
    from selector import __version__

    older = tmp_path / "older"
    shutil.copytree(sample_run, older)
    kept = json.loads((older / "lottery.json").read_text())
    kept["key"] = hashlib.sha256(b"the key an earlier version wrote").hexdigest()
    (older / "lottery.json").write_text(json.dumps(kept))
    record = json.loads((older / "run.json").read_text())
    record["version"] = "0.1.0"
    record["files"]["lottery.json"] = hashlib.sha256((older / "lottery.json").read_bytes()).hexdigest()
    (older / "run.json").write_text(json.dumps(record))
    code, stdout, stderr = run("audit", *SAMPLE_ARGS, "--lottery-from", str(older), "--out", str(tmp_path / "a"))
    assert code == 2 and stdout == ""
    assert stderr.splitlines()[-2:] == [
        (f"Error: {older}/lottery.json was worked out by selector 0.1.0, and this is selector {__version__}: a kept "
         "lottery is used only by the version that worked it out."),
        "Leave --lottery-from out (the audit works the lottery out again), or audit with selector 0.1.0."]
    assert not (tmp_path / "a").exists()


def test_a_run_without_a_kept_lottery_is_explained(small_caseload_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run("select", str(small_caseload_csv), "--out", str(out), "--seed", "1")[0] == 0
    (out / "lottery.json").unlink()
    code, _stdout, stderr = run("audit", str(small_caseload_csv), "--lottery-from", str(out),
                                "--out", str(tmp_path / "a"))
    assert code == 2 and f"{out}: no lottery.json here" in stderr


def test_a_run_folder_with_its_kept_lottery_verifies(tmp_path: Path) -> None:
    caseload, contacts = generate(200, seed=8)
    c, p = write_csv(tmp_path / "c.csv", caseload), write_csv(tmp_path / "p.csv", contacts)
    out = tmp_path / "r"
    assert run("select", str(c), "--contacts", str(p), "--out", str(out), "--seed", "2", "--sets", "1")[0] == 0
    assert (out / "lottery.json").is_file()
    code, stdout, _stderr = run("verify", str(out))
    assert code == 0 and stdout.startswith("VERIFIED")


def test_a_folder_written_before_runs_kept_their_lottery_still_verifies(sample_run_copy: Path) -> None:
    (sample_run_copy / "lottery.json").unlink()
    record = json.loads((sample_run_copy / "run.json").read_text())
    del record["files"]["lottery.json"], record["lottery"]["key"]
    (sample_run_copy / "run.json").write_text(json.dumps(record, indent=2))
    code, stdout, stderr = run("verify", str(sample_run_copy))
    assert code == 0 and stdout.startswith("VERIFIED"), stdout + stderr
