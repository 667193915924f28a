"""select and replace end to end: outputs, exit codes, --force, determinism, escaping."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from selector import check
from selector.app import selection
from selector.contract.rules import DEFAULT_RULES
from selector.report.content import GLOSSARY, in_words
from tests.conftest import EIGHT, SAMPLE, SAMPLE_ARGS, caseload_frame, load_caseload, run, write_csv


def test_select_writes_every_output_of_the_spec(sample_run: Path) -> None:
    names = sorted(p.name for p in sample_run.iterdir())
    assert names == ["chances.csv", "chart_age_band.svg", "chart_primary_need.svg", "chart_setting_type.svg",
                     "cohorts.csv", "cohorts.parquet", "cohorts.xlsx", "contacts.csv", "lottery.json", "report.html",
                     "report.md", "run.json"]
    record = json.loads((sample_run / "run.json").read_text())
    assert {"schema_version", "version", "input_sha256", "as_of", "rules", "seed", "cohorts"} <= set(record)
    assert record["as_of"] is None  # this caseload gives ages; Annex A and SEN2 record their date
    first = record["cohorts"][0]
    assert first["status"] == "OPTIMAL" and first["rank"] == 1 and len(first["members"]) == 6
    assert set(first["reserves"]) == set(first["members"])
    assert all(len(r) == 3 for r in first["reserves"].values())
    assert {"rank", "score", "status", "bound", "seconds", "members", "reserves"} <= set(first)


def test_cohorts_csv_matches_run_json_and_the_checker(sample_run: Path) -> None:
    record = json.loads((sample_run / "run.json").read_text())
    cohorts = pd.read_csv(sample_run / "cohorts.csv", dtype=str, encoding="utf-8-sig")
    assert list(cohorts.columns[:4]) == ["cohort", "slot", "child_id", "score"]
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv").frame
    for entry in record["cohorts"]:
        rows = cohorts[cohorts["cohort"] == str(entry["rank"])]
        assert rows["child_id"].tolist() == entry["members"]
        assert check.violations(caseload, entry["members"], DEFAULT_RULES) == []
        assert check.score(caseload, entry["members"], DEFAULT_RULES) == entry["score"]
    scores = [c["score"] for c in record["cohorts"]]
    assert scores == sorted(scores, reverse=True)


def test_contacts_csv_lists_cohort_1_then_every_reserve_in_call_order(sample_run: Path) -> None:
    record = json.loads((sample_run / "run.json").read_text())
    contacts = pd.read_csv(sample_run / "contacts.csv", dtype=str, encoding="utf-8-sig")
    assert list(contacts.columns) == ["call", "for", "slot", "child_id", "age", "age_band", "primary_need",
                                      "setting_type", "plan_status", "lead", "name", "role", "organisation",
                                      "email", "phone", "why_chosen", "consent"]
    members = record["cohorts"][0]["members"]
    reserves = record["cohorts"][0]["reserves"]
    # The six families first, then each slot's first reserve, then the second ones, ...
    expected = [*members, *[reserves[m][rank] for rank in range(3) for m in members]]
    assert contacts["child_id"].tolist() == list(dict.fromkeys(expected))
    assert contacts["call"].tolist() == [str(i) for i in range(1, len(contacts) + 1)]
    assert contacts["for"].tolist()[:7] == [*(f"cohort 1, slot {s}" for s in range(1, 7)), "reserve 1 for slot 1"]
    assert contacts["email"].str.contains("@").all()
    cases = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv").frame.set_index("child_id")
    for _, row in contacts.iterrows():  # what a practitioner needs to recognise the case
        case = cases.loc[row["child_id"]]
        assert [row["age"], row["primary_need"], row["setting_type"], row["plan_status"]] == [
            str(case["age"]), case["primary_need"], case["setting_type"], case["plan_status"]]
    contacts = contacts[contacts["for"].str.startswith("cohort 1")]
    # Each member of the sample's cohort 1 has a need no other member has, and the reason says so;
    # the one in AP is the one that counts toward the AP rule.
    cohorts = pd.read_csv(sample_run / "cohorts.csv", dtype=str, encoding="utf-8-sig")
    first = cohorts[cohorts["cohort"] == "1"].set_index("child_id")
    for _, row in contacts.iterrows():
        member = first.loc[row["child_id"]]
        need = in_words("primary_need", member["primary_need"])  # in words, as a reader says it
        assert row["why_chosen"].startswith(f"only member with need {need}"), row["why_chosen"]
        counts_for_ap = "at least 1 whose setting is: alternative provision" in row["why_chosen"]
        assert counts_for_ap == (member["setting_type"] == "AP")


def test_report_reads_for_an_inspector(sample_run: Path) -> None:
    report = (sample_run / "report.md").read_text()
    assert "## Cohort 1: score 80, the highest any cohort can reach under these rules (proved)" in report
    # Coverage said as it is: how many of the values this caseload offers (not "4 of 4" over 5 listed).
    need = next(line for line in report.splitlines() if line.startswith("| need | "))
    assert need.startswith("| need | covers 6 of the 13 in this caseload; counts up to 6 (weight 4) |")
    for heading in ("## Coverage of cohort 1", "## Reserves", "## Ranked cohorts", "## What was run"):
        assert heading in report
    assert "| at least 1 whose setting is: alternative provision (e.g. a pupil referral unit) | met |" in report
    # Slot 2's row in words, whoever the lottery drew (cohorts.csv has the codes).
    slot = pd.read_csv(sample_run / "cohorts.csv", encoding="utf-8-sig", dtype=str).iloc[1]
    words = GLOSSARY["Need (SEN2 primary need)"][slot["primary_need"]], GLOSSARY["Plan"][slot["plan_status"]]
    assert (f"| 2 | {slot['child_id']} | {slot['age']} | {slot['age_band']} | {words[0]} | {words[1]} | "
            f"{GLOSSARY['Setting'][slot['setting_type']]} | {GLOSSARY['Social care'][slot['social_care']]} |") in report
    assert "## How cohort 1 was chosen: a fair lottery" in report
    assert ("Each cohort shares at most 3 CYP with every better-ranked one. Cohorts 2 to 5 were drawn from the "
            "same lottery as cohort 1 (a draw sharing more was drawn again) and reach its proven best score.") in report
    assert ("Cohorts 2 to 5 were drawn from this lottery too, one after another, each sharing at most 3 children "
            "with cohort 1 and with every cohort before it (a draw sharing more was drawn again), and each reaches "
            "the best score. The reserves are the best stand-ins") in report
    html = (sample_run / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<th scope=\"col\">why chosen</th>" in html
    assert 'src="http' not in html and 'href="http' not in html  # self-contained: nothing fetched


def test_same_seed_gives_identical_bytes(tmp_path: Path, sample_run: Path) -> None:
    again = tmp_path / "again"
    code, printed, _ = run("select", *SAMPLE_ARGS, "--out", str(again), "--format", "xlsx,parquet", "--seed", "0")
    assert code == 0
    # The workbook and the Parquet file asked for are named with the rest.
    assert printed.splitlines()[-1] == (f"Results in {again}/ (report.html, report.md, cohorts.csv, cohorts.xlsx, "
                                        "cohorts.parquet, contacts.csv, chances.csv, run.json)")
    for name in ("cohorts.csv", "contacts.csv", "chances.csv", "report.md", "report.html", "cohorts.xlsx",
                 "cohorts.parquet"):
        assert (again / name).read_bytes() == (sample_run / name).read_bytes(), name

    def without_seconds(path: Path) -> dict:
        record = json.loads(path.read_text())
        for cohort in record["cohorts"]:
            cohort.pop("seconds")
        record["solver"].pop("seconds_spent")  # wall time too
        record["lottery"].pop("seconds")
        return record

    assert without_seconds(again / "run.json") == without_seconds(sample_run / "run.json")


def test_a_different_seed_can_choose_differently(tmp_path: Path, sample_run: Path) -> None:
    other = tmp_path / "other"
    assert run("select", *SAMPLE_ARGS, "--out", str(other), "--seed", "5", "--sets", "1")[0] == 0
    a = json.loads((sample_run / "run.json").read_text())["cohorts"][0]
    b = json.loads((other / "run.json").read_text())["cohorts"][0]
    assert a["score"] == b["score"] and a["members"] != b["members"]


def test_non_empty_out_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run("select", *SAMPLE_ARGS, "--out", str(out), "--sets", "1")
    assert code == 2
    assert err.strip().splitlines() == [f"Error: {out}: the folder is not empty.",
                                        "Choose a new --out, or add --force to replace it."]
    assert (out / "keep.txt").read_text() == "mine"
    # --force replaces only an earlier run folder (or an empty one), never a folder of other files.
    code, _, err = run("select", *SAMPLE_ARGS, "--out", str(out), "--sets", "1", "--force")
    assert code == 2 and err.strip().splitlines() == [
        (f"Error: {out}: is not a run folder written by selector, so it is never replaced (that would delete what "
        "it holds)."), "Choose a new --out."]
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    assert run("select", *SAMPLE_ARGS, "--out", str(out), "--sets", "1")[0] == 0  # empty: fine
    (out / "extra.txt").write_text("left by the user in a run folder")
    assert run("select", *SAMPLE_ARGS, "--out", str(out), "--sets", "2", "--force")[0] == 0
    assert not (out / "extra.txt").exists() and (out / "run.json").exists()


def impossible_caseload(tmp_path: Path) -> Path:
    # Nobody eligible is in AP; one AP child is excluded.
    rows = [{"plan_status": p, "primary_need": n} for p, n in
            [("EHCP", "ASD"), ("EHCP", "PD"), ("SEN_SUPPORT", "SLCN"), ("SEN_SUPPORT", "MLD"),
             ("EHCP", "HI"), ("SEN_SUPPORT", "VI"), ("EHCP", "SEMH")]]
    rows.append({"setting_type": "AP", "exclude": "true"})
    return write_csv(tmp_path / "no_ap.csv", caseload_frame(rows))


def test_impossible_rules_exit_3_with_the_reason(tmp_path: Path) -> None:
    code, _, err = run("select", str(impossible_caseload(tmp_path)), "--out", str(tmp_path / "out"))
    assert code == 3
    assert err.splitlines()[-3:] == [
        "Error: the rules cannot all be met:",
        "  - at least 1 with setting_type AP: 0 eligible CYP have setting_type AP; 1 more are excluded or have no contact",
        "Run with --relax to drop the lowest-priority rule(s), or change the rules file.",
    ]
    assert not (tmp_path / "out").exists()


AP_IN_WORDS = "at least 1 whose setting is: alternative provision (e.g. a pupil referral unit)"


def test_relax_drops_the_rule_and_says_so_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, _ = run("select", str(impossible_caseload(tmp_path)), "--out", str(out), "--relax", "--sets", "2")
    assert code == 0
    assert "Rules dropped by --relax: at least 1 with setting_type AP" in stdout
    record = json.loads((out / "run.json").read_text())
    assert record["dropped_rules"] == ["at least 1 with setting_type AP"]
    assert record["rules"]["dropped"] == ["at least 1 with setting_type AP"]
    # The report, for the inspector, says the rule dropped in words, as it says the rules kept.
    assert (f"| {AP_IN_WORDS} | dropped by --relax (could not be met with the others) |"
            in (out / "report.md").read_text())
    for name in ("cohorts.csv", "contacts.csv"):
        table = pd.read_csv(out / name, encoding="utf-8-sig")
        assert set(table["rules_dropped"]) == {"at least 1 with setting_type AP"}, name


def test_a_rules_file_that_replaces_a_default_rule_with_nothing_says_so(tmp_path: Path) -> None:
    # Written to add one rule (a child in the CAMHS service), the file's [[count]] replaces the
    # default ones whole: cohort 1 need hold no one in AP, and the run said nothing of it.
    caseload = write_csv(tmp_path / "c.csv", caseload_frame(
        [{**row, "services": "CAMHS" if i % 2 else ""} for i, row in enumerate(EIGHT)]))
    rules = tmp_path / "camhs.toml"
    rules.write_text('[[count]]\ncolumn = "services"\nvalue = "CAMHS"\nmin = 1\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 2\n')
    code, _, err = run("select", str(caseload), "--rules", str(rules), "--out", str(tmp_path / "a"), "--sets", "1")
    assert code == 0, err
    assert ("Note: camhs.toml gives its own rules in place of the defaults, and none for these, which were not "
            "applied: at least 1 with setting_type AP; at least 2 with plan_status SEN_SUPPORT (`selector "
            "default-rules` prints the defaults, to copy those to keep).") in err.splitlines()
    # Its own rule dropped by --relax (more EHC plans than the caseload has) was not a default left
    # out: only the defaults the file says nothing of are named (the EHCP one was, too).
    rules.write_text('[[count]]\ncolumn = "services"\nvalue = "CAMHS"\nmin = 1\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 5\n')
    code, _, err = run("select", str(caseload), "--rules", str(rules), "--out", str(tmp_path / "c"), "--sets", "1",
                       "--relax")
    assert code == 0, err
    assert ("Note: camhs.toml gives its own rules in place of the defaults, and none for these, which were not "
            "applied: at least 1 with setting_type AP; at least 2 with plan_status SEN_SUPPORT (`selector "
            "default-rules` prints the defaults, to copy those to keep).") in err.splitlines()
    # The defaults written out say nothing: every default rule is there.
    code, _, err = run("select", str(caseload), "--rules", str(SAMPLE / "rules.toml"), "--out", str(tmp_path / "b"),
                       "--sets", "1")
    assert code == 0 and "in place of the defaults" not in err


def test_the_report_and_run_record_say_what_the_list_was_read_with_warnings_about(tmp_path: Path,
                                                                                  sample_run: Path) -> None:
    # Services separated by commas in two rows: each counted as one service no other child has,
    # which changes what a cohort covers. validate said so; the run folder an inspector is sent
    # said nothing of it.
    rows = [{**row, "services": "EP, SALT" if i in (1, 3) else ""} for i, row in enumerate(EIGHT)]
    caseload = write_csv(tmp_path / "c.csv", caseload_frame(rows))
    out = tmp_path / "run"
    code, _, err = run("select", str(caseload), "--out", str(out), "--sets", "1", "--seed", "1")
    assert code == 0, err
    said = ("c.csv, column 'services', 2 rows, the first 'EP, SALT' is read as the one service 'EP,_SALT': services "
            "are separated by ';' only")
    assert json.loads((out / "run.json").read_text())["input"]["warnings"] == [said]
    assert ("The list was read with warnings, which did not stop the choice (`selector validate` lists each, with "
            f"what to do): {said}.") in (out / "report.md").read_text().splitlines()
    code, stdout, _ = run("verify", str(out))
    assert code == 0 and stdout.startswith("VERIFIED")
    # A list read without a warning (the sample) says nothing of warnings.
    assert "warnings" not in json.loads((sample_run / "run.json").read_text())["input"]
    assert "read with warnings" not in (sample_run / "report.md").read_text()


def test_spreadsheet_formulas_are_escaped(tmp_path: Path) -> None:
    rows = [{"locality": "=HYPERLINK(\"http://x\")", "primary_need": n, "plan_status": p}
            for n, p in [("ASD", "EHCP"), ("PD", "EHCP"), ("SLCN", "SEN_SUPPORT"), ("MLD", "SEN_SUPPORT"),
                         ("HI", "EHCP"), ("VI", "SEN_SUPPORT")]]
    rows[0]["setting_type"] = "AP"
    rows[1]["practitioner_name"] = "+44 evil"
    path = write_csv(tmp_path / "c.csv", caseload_frame(rows))
    out = tmp_path / "out"
    assert run("select", str(path), "--out", str(out), "--sets", "1", "--format", "xlsx")[0] == 0
    text = (out / "cohorts.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert "'+44 evil" in (out / "contacts.csv").read_text(encoding="utf-8-sig")
    from openpyxl import load_workbook

    sheet = load_workbook(out / "cohorts.xlsx")["Cohort 1"]
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://x\")" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_phone_numbers_written_as_digits_alone_are_spaced_so_excel_keeps_their_zero(tmp_path: Path) -> None:
    # contacts.csv opened in Excel read 07700900123 as the number 7700900123, and +447700900123
    # as 447700900123: the consent call could not be made from it. Written spaced, as numbers
    # usually are in the UK, Excel keeps them; a number already spaced, or with words, is kept.
    phones = ["07700900123", "+447700900123", "02079460000", "01632 960001", "01134960000 ext 4",
              "01632960005", "01632960006", "01632960007"]
    rows = [{**row, "practitioner_phone": phone} for row, phone in zip(EIGHT, phones, strict=True)]
    path = write_csv(tmp_path / "c.csv", caseload_frame(rows))
    out = tmp_path / "out"
    assert run("select", str(path), "--out", str(out), "--sets", "1", "--seed", "1", "--format", "xlsx")[0] == 0
    by_child = {f"K{i + 1}": phone for i, phone in enumerate(
        ["07700 900123", "07700 900123", "020 7946 0000", "01632 960001", "01134960000 ext 4", "01632 960005",
         "01632 960006", "01632 960007"])}
    written = pd.read_csv(out / "contacts.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(written) > 0 and all(by_child[c] == phone for c, phone in zip(written["child_id"], written["phone"],
                                                                               strict=True))
    from openpyxl import load_workbook

    sheet = load_workbook(out / "cohorts.xlsx")["Contacts"]
    header = [c.value for c in sheet[1]]
    shown = {row[header.index("child_id")]: row[header.index("phone")] for row in sheet.iter_rows(min_row=2,
                                                                                                  values_only=True)}
    assert shown and all(by_child[c] == phone for c, phone in shown.items())


def test_replace_keeps_the_others_and_records_why(tmp_path: Path, sample_run: Path) -> None:
    record = json.loads((sample_run / "run.json").read_text())
    first = record["cohorts"][0]["members"]
    out = tmp_path / "replaced"
    code, stdout, _ = run("replace", str(sample_run), "--decline", first[2], "--out", str(out))
    assert code == 0, stdout
    new = json.loads((out / "run.json").read_text())
    members = new["cohorts"][0]["members"]
    assert first[2] not in members
    assert [m for i, m in enumerate(members) if i != 2] == [m for i, m in enumerate(first) if i != 2]
    assert new["replaced"]["declined"] == [first[2]]
    assert new["replaced"]["reason"] == "family declined or could not be reached"
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv").frame
    assert check.violations(caseload, members, DEFAULT_RULES) == []
    assert first[2] not in {r for rs in new["cohorts"][0]["reserves"].values() for r in rs}
    assert "replaces" in (out / "report.md").read_text()


def test_two_families_declined_at_once_fill_both_slots(tmp_path: Path, sample_run: Path) -> None:
    first = json.loads((sample_run / "run.json").read_text())["cohorts"][0]["members"]
    out = tmp_path / "two"
    code, _, stderr = run("replace", str(sample_run), "--decline", first[1], "--decline", first[4], "--out", str(out))
    assert code == 0, stderr
    new = json.loads((out / "run.json").read_text())
    members = new["cohorts"][0]["members"]
    assert first[1] not in members and first[4] not in members
    assert [m for i, m in enumerate(members) if i not in (1, 4)] == [m for i, m in enumerate(first) if i not in (1, 4)]
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv").frame
    assert check.violations(caseload, members, DEFAULT_RULES) == []
    (event,) = new["replacements"]
    assert event["declined"] == [first[1], first[4]] and sorted(event["newcomers"]) == sorted(
        m for m in members if m not in first)


def test_replace_refuses_a_child_not_in_cohort_1(sample_run: Path) -> None:
    code, _, err = run("replace", str(sample_run), "--decline", "NOPE")
    assert code == 2 and err.startswith(f"Error: NOPE is not in cohort 1 of {sample_run}; cohort 1 is ")


def test_replace_of_a_reserve_says_it_is_one_and_how_to_record_its_answer(sample_run: Path) -> None:
    # A reserve's family said no: it is recorded with consent (then not offered), not replaced.
    # Matched ignoring case, as every child id typed is; nothing is written. The command to type is
    # given whole (it said `selector consent RUN_DIR CHILD_ID declined`).
    first = json.loads((sample_run / "run.json").read_text())["cohorts"][0]
    reserve = first["reserves"][first["members"][2]][1]
    before = sorted(p.name for p in sample_run.parent.iterdir())
    code, out, err = run("replace", str(sample_run), "--decline", reserve.lower())
    assert (code, out) == (2, "") and err.splitlines() == [
        f"Error: {reserve} is a reserve for slot 3 of {sample_run}, not in cohort 1: only a member's slot is replaced.",
        (f"If that family said no, record it: selector consent {sample_run} {reserve} declined (the reserve is then "
         "not offered).")]
    assert sorted(p.name for p in sample_run.parent.iterdir()) == before


def test_replace_needs_a_run_folder(tmp_path: Path) -> None:
    code, _, err = run("replace", str(tmp_path), "--decline", "X")
    assert code == 2
    assert err.strip() == f"Error: {tmp_path}: no run.json here; give a folder written by `selector select`."


def test_bad_rules_file_exit_2_naming_the_key(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text('size = 6\n[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 4\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "SEN_SUPPORT"\nminimum = 3\n')
    code, _, err = run("select", *SAMPLE_ARGS, "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.strip().splitlines() == [
        "Error: r.toml: 2 problems in the rules:",  # in the order of the file's lines
        "  - line 6, [[count]] 2: needs 'min' and/or 'max'",
        ("  - line 9, [[count]] 2, minimum: unknown key 'minimum' (did you mean 'min'?); the keys here are column, "
         "max, min, name, priority, value, values"),
        "Correct the rules file at the lines named.",
    ]
    rules.write_text('[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 4\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "SEN_SUPPORT"\nmin = 3\n')
    # Rules each fine but together more than the cohort holds cannot be met: exit 3, as when
    # --size makes them so, and --relax drops the fewest (the file was refused, exit 2, and
    # --relax did nothing for it).
    code, _, err = run("select", *SAMPLE_ARGS, "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 3
    assert err.strip().splitlines() == [
        "Error: the rules cannot all be met:",
        ("  - at least 4 with plan_status EHCP: 984 eligible CYP have plan_status EHCP; 3 more are excluded or have "
         "no contact"),
        ("  - at least 3 with plan_status SEN_SUPPORT: 1933 eligible CYP have plan_status SEN_SUPPORT; 12 more are "
         "excluded or have no contact"),
        "  - together these rules need at least 7 members, and the cohort has 6",
        "Run with --relax to drop the lowest-priority rule(s), or change the rules file."]
    code, out, _ = run("select", *SAMPLE_ARGS, "--rules", str(rules), "--out", str(tmp_path / "relaxed"), "--relax",
                       "--sets", "1", "--seed", "1")
    assert code == 0 and "Rules dropped by --relax: at least 4 with plan_status EHCP" in out.splitlines()
    rules.write_text("size = \n")
    code, _, err = run("select", *SAMPLE_ARGS, "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("Error: r.toml: not valid TOML: ") and "line 1" in err


def test_progress_says_each_stage_as_the_run_reaches_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A lottery an earlier test of this process worked out would be used again, with a stage of its own.
    monkeypatch.setattr(selection, "KNOWN_LOTTERIES", {})
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "r"), "--sets", "2", "--progress")
    assert code == 0, stderr
    stages = [line for line in stderr.splitlines() if line.startswith("... ")]
    # The lottery says who can be drawn, the bound, and the smallest chance as it rises: here K1,
    # K3, K5, K6 and K7 are in every best cohort and K2, K4, K8 share the sixth place, 1/3 each
    # (three best cohorts, so few that every one is listed and each level proved).
    assert stages == ["... reading the caseload", "... reading the rules and candidates", "... cohort 1 of 2",
                      "... the lottery",
                      ("... the lottery: every best cohort listed (3, one for each set of children alike), so every "
                       "level will be proved"),
                      "... the lottery: 8 of 8 children can be drawn; no lottery can give every one more than 33.3333%",
                      "... the lottery: every child who can be drawn has at least 33.3333% (100% of the bound)",
                      "... cohort 2 of 2", "... reserves", "... writing the run folder"]
    # Not on a terminal (a script, a log), nothing unless asked.
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "q"), "--sets", "1")
    assert code == 0 and not [line for line in stderr.splitlines() if line.startswith("... ")]


def test_progress_says_how_many_children_are_found_while_the_lottery_searches(tmp_path: Path) -> None:
    # Cohorts of 4 from the sample's first 300 rows: few children are in a best cohort, and
    # finding which takes many searches (at 12,400 rows and cohorts of 5, half a minute that the
    # terminal was silent for). Each line says how many are found so far, told again only when at
    # least 10 more have been (1% of 296 is less), and never more than the end says can be drawn.
    caseload = tmp_path / "c.csv"
    caseload.write_text("\n".join((SAMPLE / "caseload.csv").read_text(encoding="utf-8-sig").splitlines()[:301]) + "\n")
    code, _, stderr = run("select", str(caseload), "--contacts", str(SAMPLE / "contacts.csv"), "--size", "4",
                          "--out", str(tmp_path / "o"), "--seed", "1", "--sets", "1", "--progress")
    assert code == 0, stderr
    stages = [line for line in stderr.splitlines() if line.startswith("... the lottery")]
    searching = [line for line in stages if "found in a best cohort so far" in line]
    found = [int(line.split()[3]) for line in searching]
    drawn = json.loads((tmp_path / "o" / "run.json").read_text())["lottery"]["possible"]
    assert stages[0] == "... the lottery" and stages[-2].startswith(f"... the lottery: {drawn} of 296 children can be drawn")
    assert stages[1:len(searching) + 1] == searching  # before the end of the search, in order
    assert len(found) >= 2 and all(b - a >= 10 for a, b in itertools.pairwise(found)) and found[-1] <= drawn
    left = int(searching[0].split("searching for the other ")[1].split()[0])
    assert searching[0] == (f"... the lottery: {found[0]} of 296 children found in a best cohort so far; searching for "
                            f"the other {left} (some may be in none)")
    assert 0 < left <= 296 - found[0]


def test_a_list_no_longer_than_the_cohort_says_so_not_to_use_a_slack(tmp_path: Path) -> None:
    # Eight children, two excluded: the six left are the cohort whatever the rules and the seed.
    # It said "A slack (`--slack P`) lets cohorts within P% of the best score into the lottery",
    # which could never help: only a longer list, or a smaller cohort, leaves a choice.
    rows = [dict(row) for row in EIGHT]
    rows[6]["exclude"] = rows[7]["exclude"] = "true"
    out = tmp_path / "o"
    code, stdout, stderr = run("select", str(write_csv(tmp_path / "c.csv", caseload_frame(rows))), "--out", str(out),
                               "--seed", "1", "--sets", "1")
    assert code == 0, stderr
    said = ("the list has 6 children who can be chosen, and the cohort holds 6: every one is chosen whatever the seed. "
            "Only a list with more children who can be chosen (check the exclude and contact columns) or a smaller "
            "cohort leaves a choice.")
    assert f"No draw: {said}" in stdout.splitlines() and "--slack" not in stdout
    assert f"\n\n{said[0].upper()}{said[1:]}\n\n" in (out / "report.md").read_text()


def test_a_list_shorter_than_the_cohort_says_so_without_naming_contacts_none_lack(tmp_path: Path) -> None:
    # Five children, each with a contact and none excluded: the hint named --allow-missing-contact
    # "if contacts are missing", where none were; five with two excluded still says to check them.
    rows = [dict(row) for row in EIGHT[:5]]
    code, stdout, stderr = run("select", str(write_csv(tmp_path / "c.csv", caseload_frame(rows))),
                               "--out", str(tmp_path / "o"))
    assert (code, stdout, stderr.splitlines()) == (3, "", [
        "Error: a cohort of 6 cannot be chosen: only 5 children can be chosen (the caseload is that small).",
        "Check that the list is the whole caseload, or use --size for a smaller cohort."])
    rows = [dict(row) for row in EIGHT[:7]]
    rows[5]["exclude"] = rows[6]["exclude"] = "true"
    code, _, stderr = run("select", str(write_csv(tmp_path / "d.csv", caseload_frame(rows))),
                          "--out", str(tmp_path / "p"))
    assert code == 3 and stderr.splitlines()[-1] == ("Use --size for a smaller cohort, or --allow-missing-contact if "
                                                     "contacts are missing.")


def test_a_lottery_of_one_child_says_one_child(tmp_path: Path) -> None:
    # A cohort of 1: K2 alone names a service, so only K2 reaches the best score (4+4+3+2+2+1 = 16 against 15).
    # The draw is certain: no draw is said, in the singular, and its certificate is 100%.
    rows = [{"plan_status": "SEN_SUPPORT"}, {"services": "EP"}, {"age": 4}]
    rules = tmp_path / "one.toml"
    rules.write_text("size = 1\ncount = []\n")  # no minimums: one child cannot meet them
    code, stdout, stderr = run("select", str(write_csv(tmp_path / "c.csv", caseload_frame(rows))), "--rules", str(rules),
                               "--out", str(tmp_path / "o"), "--seed", "1", "--sets", "1")
    assert code == 0, stderr
    assert ("No draw: only one cohort reaches the best score, 16: its child is chosen whatever the seed, so anyone "
            "who works out the best cohorts from the list can foresee it.") in stdout
    assert "Certificate: every child who can be drawn has a chance of 100%, the most any lottery could give." in stdout
    report = (tmp_path / "o" / "report.md").read_text()
    assert "## How cohort 1 was chosen: no draw was needed" in report
    assert ("Certificate: its child has a chance of 100%, the most any lottery could give; every other child has "
            "none (chances.csv).") in report
    assert "Were every one of the" not in report  # no even-chances comparison for a single child drawn
    code, stdout, stderr = run("audit", str(tmp_path / "c.csv"), "--rules", str(rules), "--out", str(tmp_path / "a"),
                               "--draws", "20")
    assert code == 0, stderr
    assert "Certificate: every child who can be drawn has a chance of 100%, the most any lottery could give." in stdout
    assert ("The lottery: only one cohort reaches the score, so its 1 child has a chance of 100%, the most any "
            "lottery could give, and every other child none.") in (tmp_path / "a" / "audit.md").read_text()


def test_the_cohort_printed_keeps_its_columns_aligned_with_a_long_setting(tmp_path: Path) -> None:
    # The eight children of conftest, all chosen (a cohort of 8), one not in education: its 16
    # letters overran the setting column and pushed its social care out of line.
    rows = [dict(child, setting_type="NOT_IN_EDUCATION") if i == 7 else child for i, child in enumerate(EIGHT)]
    rules = tmp_path / "eight.toml"
    rules.write_text("size = 8\n")
    code, stdout, stderr = run("select", str(write_csv(tmp_path / "c.csv", caseload_frame(rows))), "--rules",
                               str(rules), "--out", str(tmp_path / "o"), "--seed", "1", "--sets", "1")
    assert code == 0, stderr
    members = [line for line in stdout.splitlines() if re.match(r"  \d\. ", line)]
    assert len(members) == 8
    assert len({line.rindex(" ") for line in members}) == 1  # social care starts in one column
    assert any("NOT_IN_EDUCATION NONE" in line for line in members)


def test_a_cohort_of_ten_or_more_keeps_its_slot_numbers_in_line(tmp_path: Path) -> None:
    # A cohort of 10, every child chosen: "  10. K10" began a column to the right of "  9. K9", so
    # the ids (and every column after) stepped out of line; the consent listing did the same.
    rows = [*EIGHT, {"primary_need": "OTH", "age": 3}, {"primary_need": "MSI", "age": 19}]
    rules = tmp_path / "ten.toml"
    rules.write_text("size = 10\n")
    out = tmp_path / "o"
    code, stdout, stderr = run("select", str(write_csv(tmp_path / "c.csv", caseload_frame(rows))), "--rules",
                               str(rules), "--out", str(out), "--seed", "1", "--sets", "1")
    assert code == 0, stderr
    members = [line for line in stdout.splitlines() if re.match(r" +\d+\. K", line)]
    assert len(members) == 10
    assert {line.index("K") for line in members} == {6}  # "   1. K.." and "  10. K..": ids in one column
    code, stdout, stderr = run("consent", str(out))
    assert code == 0, stderr
    slots = [line for line in stdout.splitlines() if re.match(r" +\d+\. K", line)]
    assert len(slots) == 10 and {line.index("K") for line in slots} == {6}
