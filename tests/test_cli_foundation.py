"""The validate, profile and sample commands end to end, with exact messages and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pandas as pd

from selector.cli import main
from tests.conftest import SAMPLE, run


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("selector, version ")
    code, out, _ = run("-h")
    assert code == 0 and "validate" in out and "select" in out


def test_every_command_has_help_with_an_example() -> None:
    for name in main.commands:
        code, out, _ = run(name, "-h")
        assert code == 0, name
        assert "Example:" in out, f"{name} help has no example"


def test_a_command_given_nothing_shows_its_help_with_the_examples() -> None:
    # `selector select` alone said "Missing option '--out'" before a word on the caseload.
    for name in main.commands:
        if name in ("sample", "serve", "annex-a-mapping", "default-rules"):  # each runs as it is
            continue
        code, out, err = run(name)
        assert code == 2 and out == "", name
        assert err == run(name, "-h")[1] and "Example:" in err, name


def test_as_of_says_the_dates_it_takes_wherever_it_is_an_option() -> None:
    # It showed YYYY-MM-DD alone, and "Annex A" alone for select and validate, though it takes
    # 01/09/2026 and 1 September 2026 and sets the date a SEN2 return's ages are taken at too.
    for name in ("validate", "profile", "select", "audit", "batch"):
        help_text = " ".join(run(name, "-h")[1].split())
        assert "--as-of DATE Annex A and SEN2: the date ages are taken at" in help_text, name
        assert "as 2026-09-01, 01/09/2026 or 1 September 2026 (default today)." in help_text, name


def test_a_second_file_after_the_caseload_says_to_give_it_with_contacts() -> None:
    # `select caseload.csv contacts.csv` said only "Got unexpected extra argument": the second
    # file is most often the contacts (or Annex A's second list). Other extra words as before.
    contacts = str(SAMPLE / "contacts.csv")
    for name, *more in (("validate",), ("profile",), ("select", "--out", "unused")):
        code, _, stderr = run(name, str(SAMPLE / "caseload.csv"), contacts, *more)
        assert code == 2 and stderr.splitlines()[-1] == (
            f"Error: Got unexpected extra argument ({contacts}): one caseload is read. Give the practitioners' "
            f"contacts with --contacts {contacts}, or Annex A's two lists with --list1 and --list2."), name
    code, _, stderr = run("validate", str(SAMPLE / "caseload.csv"), "no-such-file")
    assert code == 2 and stderr.splitlines()[-1] == "Error: Got unexpected extra argument (no-such-file)"


def test_a_child_typed_after_the_run_folder_says_to_give_it_with_decline(tmp_path: Path) -> None:
    # `replace runs/demo C004431` said only "Missing option '--decline'", naming neither the child
    # nor the folder: the command that was meant is given whole (the folder quoted as a shell needs it).
    folder = str(tmp_path / "week 2")
    code, _, stderr = run("replace", folder, "C004431", "C001794")
    assert code == 2 and stderr.splitlines()[-1] == (
        "Error: Got unexpected extra arguments (C004431 C001794): give each child whose family declined with "
        f"--decline: selector replace '{folder}' --decline C004431 --decline C001794")
    code, _, stderr = run("replace", folder)
    assert code == 2 and stderr.splitlines()[-1] == "Error: Missing option '--decline'."
    code, _, stderr = run("replace", folder, "--decline", "C004431", "C001794")
    assert code == 2 and stderr.splitlines()[-1] == (
        "Error: Got unexpected extra argument (C001794): give each child whose family declined with --decline: "
        f"selector replace '{folder}' --decline C004431 --decline C001794")


def test_formats_separated_by_spaces_are_read_and_excel_is_said_to_be_xlsx(tmp_path: Path) -> None:
    # `--format "xlsx parquet"` was refused as one unknown format, and `--format excel` with no hint.
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--out", str(tmp_path / "o"), "--format", "excel")
    assert code == 2 and stderr.splitlines()[-1] == (
        "Error: Invalid value for --format: unknown format 'excel' (did you mean xlsx?); use csv, xlsx, parquet "
        "(comma-separated).")
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                          "--out", str(tmp_path / "o"), "--format", "xlsx parquet", "--sets", "1", "--seed", "1")
    assert code == 0, stderr
    assert (tmp_path / "o" / "cohorts.xlsx").is_file() and (tmp_path / "o" / "cohorts.parquet").is_file()


def test_every_option_of_every_command_says_what_it_does() -> None:
    # `selector batch -h` once listed --max-overlap, --time-limit, --allow-missing-contact and
    # --format with no word on what they do.
    bare = [(name, option.opts[0]) for name, command in main.commands.items() for option in command.params
            if isinstance(option, click.Option) and not option.hidden and not option.help]
    assert bare == []


def test_validate_sample_is_clean() -> None:
    code, out, _ = run("validate", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 0
    assert out.splitlines()[0].startswith("caseload.csv: 3000 rows read, ")
    assert "OK: the caseload meets the contract." in out


def test_validate_bad_copy_names_every_problem_with_rows(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame.loc[4, "primary_need"] = "AUT"        # spreadsheet row 6
    frame.loc[9, "child_id"] = frame.loc[2, "child_id"]  # row 11 repeats row 4
    frame.loc[19, "age"] = "31"                 # row 21
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    failures = tmp_path / "failures.csv"
    code, out, err = run("validate", str(bad), "--contacts", str(SAMPLE / "contacts.csv"),
                         "--failures", str(failures))
    assert code == 2
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert lines[0] == "3 error(s), 0 warning(s)"
    assert lines[1] == (
        "  error: bad.csv: row 6, column 'primary_need': 'AUT' not one of the primary_need codes. "
        "Use one of: SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH NSA (see the data contract in the README).")
    assert lines[2].startswith(f"  error: bad.csv: row 11, column 'child_id': '{frame.loc[2, 'child_id']}' "
                               "duplicate child_id, first seen on row 4 (differs in age, primary_need, ")
    assert lines[3].startswith("  error: bad.csv: row 21, column 'age': '31' age is outside 0 to 25.")
    assert lines[-1] == "Error: bad.csv: 3 problem(s) found; fix them and run again."
    table = pd.read_csv(failures, encoding="utf-8-sig")
    assert table["row"].tolist() == [6, 11, 21]


def test_a_value_failing_in_many_rows_is_said_once_with_its_count(tmp_path: Path) -> None:
    # An export writes 'EHC Plan' and 'SEN Support' for the codes: 2,900 errors, and the first 20
    # shown do not say that two replacements fix them all, so the values are summed up below.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame["plan_status"] = frame["plan_status"].replace({"EHCP": "EHC Plan", "SEN_SUPPORT": "SEN Support"})
    spelled = tmp_path / "spelled.csv"
    frame.to_csv(spelled, index=False)
    counts = frame["plan_status"].value_counts()
    first_row = {value: int(frame.index[frame["plan_status"] == value][0]) + 2 for value in counts.index}
    code, _, err = run("validate", str(spelled), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 2
    lines = err.splitlines()
    errors = counts["EHC Plan"] + counts["SEN Support"]
    # Three rows of each value are shown one by one, the rest counted.
    assert [line.split(": '")[1][:11] for line in lines[1:7]].count("EHC Plan' n") == 3
    assert lines[7] == f"  ... and {errors - 6} more errors (write them all with --failures FILE)"
    assert lines[8] == ("  Where one value fails in many rows, fix it once throughout its column (in Excel, Find "
                        "and Replace with 'Match entire cell contents' changes every copy):")
    codes = "Use one of: EHCP SEN_SUPPORT ASSESSMENT (see the data contract in the README)."
    most, fewer = sorted(["EHC Plan", "SEN Support"], key=lambda value: -counts[value])
    meant = {"EHC Plan": "EHCP", "SEN Support": "SEN_SUPPORT"}
    assert lines[9:11] == [
        f"    spelled.csv: {counts[value]:,} rows, the first row {first_row[value]}, column 'plan_status': "
        f"'{value}' not one of the plan_status codes. Did you mean {meant[value]}? {codes}"
        for value in (most, fewer)]
    assert lines[11] == f"Error: spelled.csv: {errors} problem(s) found; fix them and run again."


def test_many_rows_with_one_problem_and_no_value_are_counted_not_listed(tmp_path: Path) -> None:
    # 500 rows with no primary need, and an age written 'x' in 60: the first 20 lines were all
    # but one the empty need, and nothing said how many rows lack it. Now 3 rows of each kind,
    # then each counted once.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame.loc[::6, "primary_need"] = ""
    frame.loc[::50, "age"] = "x"
    blank = tmp_path / "blank.csv"
    frame.to_csv(blank, index=False)
    code, _, err = run("validate", str(blank), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 2
    needs = "Give one of: SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH NSA."
    age = "age is not a number. Give the age in whole years, e.g. 12."
    assert err.splitlines() == [
        "560 error(s), 0 warning(s)",
        f"  error: blank.csv: row 2, column 'age': 'x' {age}",
        f"  error: blank.csv: row 2, column 'primary_need': primary_need is empty. {needs}",
        f"  error: blank.csv: row 8, column 'primary_need': primary_need is empty. {needs}",
        f"  error: blank.csv: row 14, column 'primary_need': primary_need is empty. {needs}",
        f"  error: blank.csv: row 52, column 'age': 'x' {age}",
        f"  error: blank.csv: row 102, column 'age': 'x' {age}",
        "  ... and 554 more errors (write them all with --failures FILE)",
        ("  Where one value fails in many rows, fix it once throughout its column (in Excel, Find and Replace with "
        "'Match entire cell contents' changes every copy):"),
        f"    blank.csv: 60 rows, the first row 2, column 'age': 'x' {age}",
        "  The errors of many rows, by column and what is wrong:",
        f"    blank.csv: 500 rows, the first row 2, column 'primary_need': primary_need is empty. {needs}",
        "Error: blank.csv: 560 problem(s) found; fix them and run again."]


def test_a_list_with_a_row_per_service_says_so_not_remove_the_repeats(tmp_path: Path) -> None:
    # A case system's export gives a child a row per service: 1,113 rows repeat a child_id. "Remove
    # the repeated row" would lose those services, and a repeated id is not mended by Find and
    # Replace, so no such summary follows.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    long = frame.assign(services=frame["services"].str.split(";")).explode("services")
    long.to_csv(tmp_path / "long.csv", index=False)
    repeats = int(long["child_id"].duplicated().sum())
    code, _, err = run("validate", str(tmp_path / "long.csv"), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 2
    lines = err.splitlines()
    first = int(long["child_id"].duplicated().to_numpy().argmax())  # its position; the file's row is 2 more
    assert lines[:2] == [
        f"{repeats} error(s), 0 warning(s)",
        (f"  error: long.csv: row {first + 2}, column 'child_id': '{long['child_id'].iloc[first]}' child_id of row "
        f"{first + 1} again, with other services (a row per service?). Give each child one row, with all its "
        "services in the one cell separated by ';' (e.g. EP;SALT): removing the repeated row would lose its services.")]
    assert not any("Where one value fails in many rows" in line for line in lines)

def test_validate_unreadable_files_exit_2_without_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    header = tmp_path / "header.csv"
    header.write_text("child_id,age,primary_need,plan_status,setting_type\n")
    cases = {
        str(empty): "Error: empty.csv: the file is empty. Export the list again.",
        str(binary): "Error: photo.csv: this is not a text (CSV) file. Save it as CSV, XLSX or Parquet.",
        str(header): "Error: header.csv: the file has a header row but no data rows. Export the list again.",
        str(tmp_path / "missing.csv"): f"Error: missing.csv: file not found ({tmp_path / 'missing.csv'}). Check the path.",
    }
    for path, message in cases.items():
        code, out, err = run("validate", path)
        assert code == 2, path
        assert err.strip().splitlines()[-1] == message
        assert "Traceback" not in out + err


def test_profile_shows_dimensions_and_rule_room() -> None:
    code, out, _ = run("profile", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 0
    assert "  primary_need (weight 4, counted up to 6): 13 value(s)" in out
    ap = [line for line in out.splitlines() if line.startswith("  at least 1 with setting_type AP: ")]
    assert len(ap) == 1 and ap[0].endswith("- can be met")


def test_profile_says_there_are_warnings(tmp_path: Path) -> None:
    # One child's services name SALT as "Speech and language therapy" while others write SALT:
    # the profile's services count them as two, so it says there is a warning to read first.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["services"] == "SALT", "services"] = ["Speech and language therapy"] + [
        "SALT"] * (int((frame["services"] == "SALT").sum()) - 1)
    path = tmp_path / "two_names.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run("profile", str(path), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 0
    assert out.splitlines()[:2] == ["two_names.csv: 3000 rows read, 2985 eligible (15 excluded, 0 without a contact)",
                                    "1 warning(s) (see `selector validate`)"]


def test_profile_says_when_a_rule_cannot_be_met(tmp_path: Path) -> None:
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame = frame[frame["setting_type"] != "AP"]
    path = tmp_path / "no_ap.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run("profile", str(path), "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 0
    assert "  at least 1 with setting_type AP: 0 eligible - CANNOT be met" in out


def test_profile_says_first_why_too_few_children_can_be_chosen() -> None:
    # Without the contacts no child can be chosen: every rule below says "CANNOT be met" for that
    # one reason, which profile now says first, as select would.
    code, out, _ = run("profile", str(SAMPLE / "caseload.csv"))
    assert code == 0
    assert out.splitlines()[1:4] == [
        "1 warning(s) (see `selector validate`)",
        ("Note: a cohort of 6 cannot be chosen: only 0 children can be chosen (no contact file was given and the "
         "caseload has no practitioner contact columns, so no child has a contact; 15 are also excluded)."),
        "  how: give the contacts file with --contacts FILE (or --allow-missing-contact to choose without)."]


def test_profile_says_when_minimums_together_ask_more_than_the_cohort_holds(tmp_path: Path) -> None:
    # At least 4 with a plan and 3 at SEN support: each can be met alone, and a cohort of 6 can
    # hold 6 of them, not 7 (profile said every rule could be met; select then stopped, exit 3).
    rules = tmp_path / "r.toml"
    rules.write_text('[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 4\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "SEN_SUPPORT"\nmin = 3\n')
    code, out, _ = run("profile", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                       "--rules", str(rules))
    assert code == 0
    assert out.splitlines()[-2:] == [
        "  at most 1 per lead practitioner: 447 distinct, 0 unknown - can be met",
        ("  together, at least 4 with plan_status EHCP and at least 3 with plan_status SEN_SUPPORT: 7 members "
         "needed, and the cohort has 6 - CANNOT be met")]


def test_sample_is_deterministic_and_refuses_to_overwrite(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("sample", "--rows", "300", "--seed", "9", "--out", str(a))[0] == 0
    assert run("sample", "--rows", "300", "--seed", "9", "--out", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()
    frame = pd.read_csv(a, encoding="utf-8-sig")
    assert len(frame) == 300 and "practitioner_email" in frame.columns  # inline contacts
    code, _, err = run("sample", "--rows", "300", "--seed", "9", "--out", str(a))
    # How to overwrite is said with the option that does it.
    assert code == 2 and err.splitlines() == [f"Error: {a}: already exists; nothing was written.",
                                              "Choose another name, or add --force to overwrite it."]


def test_sample_writes_xlsx_and_parquet_that_validate(tmp_path: Path) -> None:
    for name in ("s.xlsx", "s.parquet"):
        out = tmp_path / name
        contacts = tmp_path / f"contacts-{name}"
        assert run("sample", "--rows", "120", "--out", str(out), "--contacts-out", str(contacts))[0] == 0
        code, stdout, _ = run("validate", str(out), "--contacts", str(contacts))
        assert code == 0, stdout


def test_data_sample_is_what_the_readme_command_makes(tmp_path: Path) -> None:
    out, contacts = tmp_path / "caseload.csv", tmp_path / "contacts.csv"
    run("sample", "--rows", "3000", "--seed", "2026", "--out", str(out), "--contacts-out", str(contacts))
    assert out.read_bytes() == (SAMPLE / "caseload.csv").read_bytes()
    assert contacts.read_bytes() == (SAMPLE / "contacts.csv").read_bytes()


def test_default_rules_match_the_sample_rules_file(tmp_path: Path) -> None:
    code, out, _ = run("default-rules")
    assert code == 0 and out == (SAMPLE / "rules.toml").read_text()
    # The printed rules, read back as a rules file, are the defaults: profile says the same.
    shutil.copy(SAMPLE / "rules.toml", tmp_path / "r.toml")
    with_file = run("profile", str(SAMPLE / "caseload.csv"), "--rules", str(tmp_path / "r.toml"))
    without = run("profile", str(SAMPLE / "caseload.csv"))
    assert with_file[0] == 0 and with_file == without


def test_a_failures_table_named_xlsx_is_a_workbook_excel_opens(tmp_path: Path) -> None:
    # An analyst who lives in Excel types problems.xlsx: CSV text under that name, which Excel
    # refuses to open, was written. Now a workbook, rewritten on the next check, never over another.
    import openpyxl

    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame.loc[4, "primary_need"] = "AUT"  # spreadsheet row 6
    frame.loc[19, "age"] = "=31"          # row 21: a formula in a cell, shown as text, never run
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    problems = tmp_path / "problems.xlsx"
    for _check in range(2):
        code, _, stderr = run("validate", str(bad), "--contacts", str(SAMPLE / "contacts.csv"), "--failures",
                              str(problems))
        assert code == 2 and stderr.splitlines()[-2] == f"Full table of 2 problem(s): {problems}"
    sheet = openpyxl.load_workbook(problems).active
    assert sheet.title == "Problems"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["severity", "file", "row", "column", "value", "problem", "fix"]
    assert [(r[2], r[3], r[4]) for r in rows[1:]] == [(6, "primary_need", "AUT"), (21, "age", "'=31")]
    stranger = tmp_path / "budget.xlsx"
    openpyxl.Workbook().save(stranger)
    before = stranger.read_bytes()
    code, _, stderr = run("validate", str(bad), "--contacts", str(SAMPLE / "contacts.csv"), "--failures", str(stranger))
    assert code == 2 and "already exists and was not written by selector" in stderr and stranger.read_bytes() == before


def test_a_folder_given_as_the_caseload_says_what_to_give(tmp_path: Path) -> None:
    # Click said "File 'runs/demo' is a directory." A run folder names the file to give instead.
    run_dir = tmp_path / "demo"
    run_dir.mkdir()
    (run_dir / "run.json").write_text("{}")
    code, _, err = run("select", str(run_dir), "--out", str(tmp_path / "out"))
    assert code == 2 and err.splitlines()[-1] == (
        f"Error: {run_dir} is a run folder, not a caseload. Give the caseload file it was made from (its run.json "
        "names it).")
    code, _, err = run("validate", str(tmp_path))
    assert code == 2 and err.splitlines()[-1] == (
        f"Error: {tmp_path} is a folder: give the caseload file (a SEN2 return's folder of CSV files goes with --sen2).")
    assert not (tmp_path / "out").exists()


def test_profile_says_a_minimum_met_only_just_puts_its_children_in_every_cohort(tmp_path: Path) -> None:
    # The sample with one child left in AP: the rule can be met, but only by that child, who is
    # then in every cohort, and whose family's decline leaves no child to keep it. It said
    # "1 eligible - can be met", as for 11.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    ap = frame.index[frame["setting_type"] == "AP"]
    frame.loc[ap[1:], "setting_type"] = "MAINSTREAM"
    frame.to_csv(caseload := tmp_path / "one_ap.csv", index=False)
    code, out, _ = run("profile", str(caseload), "--contacts", str(SAMPLE / "contacts.csv"), "--html",
                       str(tmp_path / "profile.html"))
    assert code == 0
    assert ("<td>yes, only just: that child is in every cohort, and if the family declines no other child can keep "
            "this rule</td>") in (tmp_path / "profile.html").read_text()
    assert ("  at least 1 with setting_type AP: 1 eligible - can be met, only just: that child is in every cohort, "
            "and if the family declines no other child can keep this rule") in out.splitlines()
    assert "  at least 2 with plan_status EHCP: 984 eligible; 3 more excluded or without a contact - can be met" in (
        out.splitlines())
