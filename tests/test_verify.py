"""`selector verify`: a run folder is checked against its record and against the run redone from
its inputs, rules and seed; each kind of tampering is caught (one test per kind)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import EIGHT, caseload_frame, run, write_csv


def test_the_samples_run_verifies(sample_run_copy: Path) -> None:
    code, stdout, stderr = run("verify", str(sample_run_copy))
    assert code == 0, stdout + stderr
    assert stdout.startswith(f"VERIFIED: {sample_run_copy}: the run was redone from its inputs, rules and seed")


@pytest.fixture
def small_run(tmp_path: Path) -> Path:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--sets", "2", "--format", "xlsx,parquet",
                          "--seed-phrase", "an inspector's phrase")
    assert code == 0, stderr
    return out


def verify(folder: Path) -> tuple[int, list[str]]:
    code, stdout, stderr = run("verify", str(folder))
    return code, (stdout + stderr).splitlines()


def rehash(folder: Path, name: str) -> None:
    """Update run.json's hash of a file, as someone hiding an edit would."""
    record = json.loads((folder / "run.json").read_text())
    record["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "run.json").write_text(json.dumps(record, indent=2))


def test_a_run_with_its_consent_calls_verifies(small_run: Path) -> None:
    member = json.loads((small_run / "run.json").read_text())["cohorts"][0]["members"][0]
    assert run("consent", str(small_run), member, "declined", "--note", "moving")[0] == 0
    code, lines = verify(small_run)
    assert code == 0 and lines[0].startswith("VERIFIED"), lines


def test_a_run_that_dropped_a_rule_verifies(tmp_path: Path) -> None:
    # No child is in AP, so the usual rule "at least 1 with setting_type AP" cannot be met and
    # --relax drops it. run.json keeps the rules without it (and names it dropped); the run
    # redone from them has nothing left to drop, yet its outputs must still name the rule.
    rows = [{**row, "setting_type": "MAINSTREAM"} if row.get("setting_type") == "AP" else row for row in EIGHT]
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(rows))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--relax", "--seed", "3")
    assert code == 0, stderr
    assert json.loads((out / "run.json").read_text())["dropped_rules"] == ["at least 1 with setting_type AP"]
    code, lines = verify(out)
    assert code == 0 and lines[0].startswith(f"VERIFIED: {out}"), lines


def test_a_run_that_recorded_a_sheet_of_a_csv_verifies_and_is_replaced(tmp_path: Path) -> None:
    # Before a sheet named for a CSV was refused, `select caseload.csv --sheet EHCPs` read the CSV
    # and recorded the sheet: read again with it, the run was refused, so it could be neither
    # verified nor carried on. Such a run's folder is this one, its record naming the sheet.
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    out = tmp_path / "run"
    assert run("select", str(caseload), "--out", str(out), "--sets", "1", "--seed", "3")[0] == 0
    record = json.loads((out / "run.json").read_text())
    record["input"]["options"]["sheet"] = "EHCPs"
    (out / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    code, lines = verify(out)
    assert code == 0 and lines[-1].startswith("VERIFIED"), lines
    member = record["cohorts"][0]["members"][0]
    code, _, stderr = run("replace", str(out), "--decline", member)
    assert code == 0, stderr
    assert json.loads((tmp_path / "run-replace-1" / "run.json").read_text())["input"]["options"]["sheet"] is None


def test_a_file_edited_by_hand_is_caught(small_run: Path) -> None:
    text = (small_run / "cohorts.csv").read_text(encoding="utf-8-sig")
    (small_run / "cohorts.csv").write_text(text.replace("K1", "K9", 1), encoding="utf-8-sig")
    code, lines = verify(small_run)
    assert code == 1 and lines[0] == f"NOT VERIFIED: {small_run}: 2 difference(s):"
    assert "  cohorts.csv: its SHA-256 is not the one run.json records (the file was changed)" in lines
    # The rest of the run still stands, and is said to (a workbook saved in Excel differs alone).
    others = sum(1 for path in small_run.iterdir()) - 1
    assert lines[-1] == f"The other {others} file(s) match the record and the redone run, byte for byte."


def test_a_file_cut_short_says_which_holds_fewer_lines(small_run: Path) -> None:
    # It said "(one has 1 more line(s))", without saying which: the folder's file is the short one.
    path = small_run / "cohorts.csv"
    path.write_text("".join(path.read_text(encoding="utf-8-sig").splitlines(keepends=True)[:-1]), encoding="utf-8-sig")
    code, lines = verify(small_run)
    assert code == 1 and "  cohorts.csv: differs from the redone run (1 line(s) fewer than the redone run: cut short?)" \
        in lines


def test_a_chance_changed_and_rehashed_is_caught(small_run: Path) -> None:
    lines = (small_run / "chances.csv").read_text(encoding="utf-8-sig").splitlines()
    child, chance, *rest = lines[1].split(",")
    lines[1] = ",".join([child, f"{float(chance) + 0.01:.10f}", *rest])
    (small_run / "chances.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    rehash(small_run, "chances.csv")
    code, out = verify(small_run)
    assert code == 1 and "  chances.csv: differs from the redone run (first at line 2)" in out


def test_a_cohort_swapped_in_the_record_is_caught(small_run: Path) -> None:
    record = json.loads((small_run / "run.json").read_text())
    members = record["cohorts"][0]["members"]
    outsider = next(f"K{i}" for i in range(1, 9) if f"K{i}" not in members)
    record["cohorts"][0]["members"] = [outsider, *members[1:]]
    (small_run / "run.json").write_text(json.dumps(record, indent=2))
    code, out = verify(small_run)
    assert code == 1 and "  run.json: cohorts is not what the redone run gives" in out


def test_a_redo_cut_short_by_the_time_limit_says_so(small_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The run finished within its time limit; on a busier machine the redo's lottery did not
    # (as a 100-place cohort with --slack did under load). The differences are listed, and the
    # note says where they may come from rather than leaving a good run looking tampered with.
    from dataclasses import replace

    import selector.app.verify as verifying

    def redone_on_a_busy_machine(*args: object, **kwargs: object) -> object:
        solution = choose(*args, **kwargs)
        return replace(solution, lottery=replace(solution.lottery, reproducible=False))

    choose = verifying.choose
    monkeypatch.setattr(verifying, "choose", redone_on_a_busy_machine)
    code, out = verify(small_run)
    assert out[0] == ("Note: the time limit cut the redone search short on this machine (the original finished "
                      "within it), so differences below may come from that; verify again when the machine is "
                      "less busy.")
    assert code == 1 and "  run.json: lottery is not what the redone run gives" in out


def test_a_seed_that_the_phrase_does_not_give_is_caught(small_run: Path) -> None:
    record = json.loads((small_run / "run.json").read_text())
    record["seed"] = (record["seed"] + 1) % 2**31
    (small_run / "run.json").write_text(json.dumps(record, indent=2))
    code, out = verify(small_run)
    assert code == 1 and any(line.startswith("  seed: ") and "is not the seed the phrase gives" in line
                             for line in out)


def as_made_by(folder: Path, version: str) -> None:
    """The folder as an earlier selector, of this version, would have written it (its version
    stamped in run.json and the reports, their hashes recorded again)."""
    from selector import __version__

    for name in ("run.json", "report.md", "report.html"):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(__version__, version), encoding="utf-8")
    for name in ("report.md", "report.html"):
        rehash(folder, name)


@pytest.fixture
def csv_run(tmp_path: Path) -> Path:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    out = tmp_path / "run"
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--sets", "2", "--seed", "5")
    assert code == 0, stderr
    return out


def test_a_run_made_by_another_version_verifies_when_every_other_byte_matches(csv_run: Path) -> None:
    # An inspector verifies, with this selector, a run a colleague made with an earlier one
    # that chose exactly the same: the version stamp is the run's own, the rest must match.
    from selector import __version__

    as_made_by(csv_run, "0.0.9")
    code, out = verify(csv_run)
    assert out[0] == (f"Note: this run was made by selector 0.0.9 and is redone by selector {__version__}, which "
                      "gives the same files.")
    assert code == 0 and out[1].startswith(f"VERIFIED: {csv_run}: "), out


def made_by_another_with_two_chances_swapped(run_dir: Path) -> None:
    """The run as selector 0.0.9 made it, with its first two chances.csv rows in the other order."""
    as_made_by(run_dir, "0.0.9")
    chances = run_dir / "chances.csv"
    lines = chances.read_text(encoding="utf-8-sig").splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    chances.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def test_a_run_made_by_another_version_that_differs_says_the_versions_may_be_why(csv_run: Path) -> None:
    # A newer version may choose differently (a changed lottery, say): the differences are
    # listed as for any run, and the note says where they may come from.
    from selector import __version__

    made_by_another_with_two_chances_swapped(csv_run)
    rehash(csv_run, "chances.csv")
    code, out = verify(csv_run)
    assert out[0] == (f"Note: this run was made by selector 0.0.9 and is redone by selector {__version__}; a version "
                      "gives the same files only for the runs it made itself, so the differences below may come from "
                      "what changed between them (verify with selector 0.0.9 to be sure).")
    assert code == 1 and any(line.startswith("  chances.csv: differs from the redone run") for line in out), out


def test_a_file_changed_after_a_run_by_another_version_is_not_put_down_to_the_versions(csv_run: Path) -> None:
    # As above without the new hash: the file is not as run.json hashed it, which no version
    # does (it said the versions may be why).
    from selector import __version__

    made_by_another_with_two_chances_swapped(csv_run)
    code, out = verify(csv_run)
    assert out[0] == (f"Note: this run was made by selector 0.0.9 and is redone by selector {__version__}; a file "
                      "that is not as run.json hashed it was changed after the run, whichever version made it.")
    assert code == 1 and "  chances.csv: its SHA-256 is not the one run.json records (the file was changed)" in out


def test_a_file_added_or_removed_is_caught(small_run: Path) -> None:
    (small_run / "extra.csv").write_text("x\n")
    (small_run / "report.md").unlink()
    code, out = verify(small_run)
    assert code == 1
    assert "  extra.csv: not listed in run.json (added to the folder)" in out
    assert "  report.md: missing (the record lists it)" in out


def test_a_changed_caseload_is_bad_input_not_a_verdict(small_run: Path, tmp_path: Path) -> None:
    caseload = tmp_path / "caseload.csv"
    caseload.write_text(caseload.read_text().replace("K8", "K88"))
    code, stdout, stderr = run("verify", str(small_run))
    assert code == 2 and "is not the caseload file" in stderr and "VERIFIED" not in stdout


@pytest.mark.parametrize(("edit", "said"), [
    ({"reserves": None}, "the search parameter reserves (None) is not what a run records."),
    ({"sets": "2", "relax": 1}, "the search parameters sets ('2'), relax (1) are not what a run records."),
    ({"workers": 0}, "the search parameter workers (0) is not what a run records."),
])
def test_search_parameters_edited_in_the_record_are_bad_input(small_run: Path, edit: dict[str, object],
                                                              said: str) -> None:
    # Each once reached the solver and ended in a traceback (exit 1) from verify, replace and consent alike.
    record = json.loads((small_run / "run.json").read_text())
    record["params"].update(edit)
    (small_run / "run.json").write_text(json.dumps(record, indent=2))
    member = record["cohorts"][0]["members"][0]
    for command in (["verify", str(small_run)], ["replace", str(small_run), "--decline", member]):
        code, _, stderr = run(*command)
        assert code == 2 and stderr.startswith(f"Error: {small_run}/run.json: {said} The record was edited"), stderr


def test_a_replacement_run_is_redone_from_the_run_it_replaced(small_run: Path, tmp_path: Path) -> None:
    member = json.loads((small_run / "run.json").read_text())["cohorts"][0]["members"][0]
    again = tmp_path / "run-replace-1"
    assert run("replace", str(small_run), "--decline", member, "--out", str(again))[0] == 0
    newcomer = json.loads((again / "run.json").read_text())["cohorts"][0]["members"][0]
    assert run("consent", str(again), newcomer, "agreed")[0] == 0  # a call made since
    code, out = verify(again)
    assert code == 0 and out[0] == (f"Note: a replacement of run: redone from that run as it is now "
                                    f"(`selector verify {small_run}` checks that one).")
    assert out[1].startswith(f"VERIFIED: {again}: the run was redone")


def bring_in_another(folder: Path, declined: str) -> None:
    """Put another of the eight children in slot 1 of a replacement folder, editing run.json and
    cohorts.csv to match and rehashing, as someone steering the replacement would."""
    replaced = json.loads((folder / "run.json").read_text())
    members = replaced["cohorts"][0]["members"]
    newcomer = members[0]
    other = next(f"K{i}" for i in range(1, 9) if f"K{i}" not in members and f"K{i}" != declined)
    members[0] = other
    (folder / "run.json").write_text(json.dumps(replaced, indent=2))
    cohorts = folder / "cohorts.csv"
    cohorts.write_text(cohorts.read_text(encoding="utf-8-sig").replace(newcomer, other), encoding="utf-8-sig")
    rehash(folder, "cohorts.csv")


def test_a_replacement_not_drawn_as_recorded_is_caught(small_run: Path, tmp_path: Path) -> None:
    member = json.loads((small_run / "run.json").read_text())["cohorts"][0]["members"][0]
    again = tmp_path / "run-replace-1"
    assert run("replace", str(small_run), "--decline", member, "--out", str(again))[0] == 0
    # Whoever made the calls brought in another child, and edited the folder to match.
    bring_in_another(again, member)
    code, out = verify(again)
    assert code == 1 and "  run.json: cohorts is not what the redone run gives" in out
    assert "  cohorts.csv: differs from the redone run (first at line 2)" in out


def test_a_replacement_whose_run_is_not_beside_it_is_redone_from_its_own_record(
        small_run: Path, tmp_path: Path) -> None:
    member = json.loads((small_run / "run.json").read_text())["cohorts"][0]["members"][0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = elsewhere / "again"
    assert run("replace", str(small_run), "--decline", member, "--out", str(again))[0] == 0
    newcomer = json.loads((again / "run.json").read_text())["cohorts"][0]["members"][0]
    assert run("consent", str(again), newcomer, "agreed")[0] == 0  # a call made since
    code, out = verify(again)
    assert code == 0 and out[0] == ("Note: a replacement of run, which is not beside it: redone from its own record "
                                    "(who was left out and the reserves offered as recorded; verifying that run "
                                    "checks them).")
    assert out[1].startswith(f"VERIFIED: {again}: the run was redone")
    # Another child brought in, the folder edited to match: caught without the earlier run.
    bring_in_another(again, member)
    code, out = verify(again)
    assert code == 1 and "  cohorts.csv: differs from the redone run (first at line 2)" in out
