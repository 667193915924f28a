"""Every validation rule of the contract, each with a failing case whose message is asserted."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from selector.contract.errors import CaseloadValidationError
from selector.contract.identifiers import upn_checks
from tests.conftest import caseload_frame, load_caseload, run, validated, write_csv


def failures_of(rows: list[dict[str, object]]) -> pd.DataFrame:
    with pytest.raises(CaseloadValidationError) as caught:
        validated(rows)
    return caught.value.failures


def only_error(rows: list[dict[str, object]]) -> dict[str, object]:
    table = failures_of(rows)
    errors = table[table["severity"] == "error"]
    assert len(errors) == 1, errors
    return errors.iloc[0].to_dict()


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        ({"primary_need": "AUT"}, "primary_need", "AUT", "not one of the primary_need codes"),
        ({"primary_need": ""}, "primary_need", "", "primary_need is empty"),
        ({"plan_status": "PLAN"}, "plan_status", "PLAN", "not one of the plan_status codes"),
        ({"setting_type": "SCHOOL"}, "setting_type", "SCHOOL", "not one of the setting_type codes"),
        ({"social_care": "LAC"}, "social_care", "LAC", "not one of the social_care codes"),
        ({"age": 31}, "age", "31", "age is outside 0 to 25"),
        ({"age": -1}, "age", "-1", "age is outside 0 to 25"),
        ({"age": "ten"}, "age", "ten", "age is not a number"),
        ({"age": "7.5"}, "age", "7.5", "age is not a whole number of years"),
        ({"age": "2015-03-04"}, "age", "", "age is a date (a date of birth?, not shown), not an age"),
        ({"age": "04/03/2015"}, "age", "", "age is a date (a date of birth?, not shown), not an age"),
        ({"age": "4.3.15 09:30"}, "age", "", "age is a date (a date of birth?, not shown), not an age"),
        ({"age": "12 years"}, "age", "12 years", "age is not a number"),
        ({"age": ""}, "age", "", "age is empty"),
        ({"exclude": "maybe"}, "exclude", "maybe", "exclude is not true or false"),
        ({"out_of_area": "2"}, "out_of_area", "2", "out_of_area is not true or false"),
        ({"secondary_need": "XYZ"}, "secondary_need", "XYZ", "not one of the secondary_need codes"),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else "",
)
def test_each_rule_reports_row_column_value(row: dict[str, object], column: str, value: str,
                                            problem: str) -> None:
    # (A date in the age column is likely a date of birth, an identifier: never quoted.)
    error = only_error([{}, row])
    assert (error["row"], error["column"], error["value"], error["problem"]) == (3, column, value, problem)
    assert error["fix"]  # every failure says how to fix it


@pytest.mark.parametrize(("age", "fix"), [
    ("12 years", "Give the age in whole years, the number alone: did you mean 12?"),
    ("8y 3m", "Give the age in whole years, the number alone: did you mean 8?"),
    ("15 yrs", "Give the age in whole years, the number alone: did you mean 15?"),
    ("ten", "Give the age in whole years, e.g. 12."),
])
def test_an_age_written_with_its_unit_is_refused_with_the_years_it_likely_means(age: str, fix: str) -> None:
    # An export writing '12 years' or '8y 3m': refused (never read on a guess), the fix naming the
    # whole years it most likely means.
    error = only_error([{}, {"age": age}])
    assert (error["value"], error["problem"], error["fix"]) == (age, "age is not a number", fix)


@pytest.mark.parametrize(("shown", "age"), [
    ("1900-01-08", 8), ("08/01/1900", 8), ("01/08/1900", 8), ("1900-01-25 00:00:00", 25), ("00:00:00", 0)])
def test_an_age_in_a_column_formatted_as_dates_is_read_as_the_number_it_holds(shown: str, age: int) -> None:
    # 8 in a column formatted as dates shows as 08/01/1900 (0 as a time): it was refused as "a
    # date of birth?", which it cannot be, with a fix to work the age out of it.
    loaded = validated([{}, {"age": shown}], allow_missing_contact=True)
    warned = loaded.warnings[loaded.warnings["column"] == "age"]
    assert warned[["row", "value", "problem"]].values.tolist() == [
        [3, shown, f"age shows as a date: it is {age} in a column formatted as dates, and is read as {age}"]]
    assert loaded.frame["age"].tolist() == [10, age]
    # Then checked as any age is: 30 is too old, said as the number.
    error = only_error([{}, {"age": "1900-01-30"}])
    assert (error["value"], error["problem"]) == ("30", "age is outside 0 to 25")


def test_an_age_of_8_in_a_date_formatted_workbook_cell_is_read_as_8(tmp_path: Path) -> None:
    from openpyxl import Workbook as Book

    book = Book()
    sheet = book.active
    sheet.append(["child_id", "age", "primary_need", "plan_status", "setting_type"])
    sheet.append(["K1", 8, "ASD", "EHCP", "AP"])
    sheet.cell(2, 2).number_format = "dd/mm/yyyy"
    book.save(tmp_path / "c.xlsx")
    assert load_caseload(tmp_path / "c.xlsx", allow_missing_contact=True).frame["age"].tolist() == [8]


def _with_rows_below(extra: list[dict[str, str]]) -> pd.DataFrame:
    """The eight children of tests/conftest.py, then rows that are no child, every other cell empty."""
    from selector.io.tables import RawTable
    from selector.validate import validate
    from tests.conftest import EIGHT

    frame = caseload_frame(EIGHT).fillna("").astype(str)
    frame = pd.concat([frame, pd.DataFrame([{c: row.get(c, "") for c in frame.columns} for row in extra])],
                      ignore_index=True)
    raw = RawTable("list.csv", frame, pd.RangeIndex(2, len(frame) + 2).to_numpy(), "0" * 64, {c: c for c in frame.columns})
    with pytest.raises(CaseloadValidationError) as caught:
        validate(raw)
    return caught.value.failures


def test_a_total_or_a_note_below_the_list_is_named_as_not_a_child_once() -> None:
    # Row 10: a total in child_id; row 11: a note in the locality column only. Each is one error
    # saying what the row seems to be, not four or five "is empty" errors.
    failures = _with_rows_below([{"child_id": "Total: 8"}, {"locality": "Source: the area's MIS, 1 Sept"}])
    assert failures[["row", "column", "value", "problem"]].values.tolist() == [
        [10, "child_id", "Total: 8", ("is the only required cell filled in this row (no age, primary_need, plan_status "
                                     "or setting_type): a total, heading or note, not a child")],
        [11, "", "", ("no required cell is filled in this row (child_id, age, primary_need, plan_status or "
                     "setting_type): a total, heading or note, not a child")]]
    assert failures["fix"].tolist() == [
        ("Delete the row (notes belong on another sheet), or fill in the child's age, primary_need, plan_status and "
        "setting_type."),
        ("Delete the row (notes belong on another sheet), or fill in the child's child_id, age, primary_need, "
        "plan_status and setting_type.")]



def test_a_total_with_its_count_beside_it_is_one_error() -> None:
    # Row 10: "Total" and the count in the age column (two required cells filled), row 11: "Grand
    # total" and a count in setting_type: each one error naming the total, not four about its cells.
    failures = _with_rows_below([{"child_id": "Total", "age": "8"}, {"child_id": "Grand Total:", "setting_type": "8"}])
    assert failures[["row", "column", "value", "problem"]].values.tolist() == [
        [10, "child_id", "Total", "a total, not a child (the row fills no need, plan status or setting)"],
        [11, "child_id", "Grand Total:", "a total, not a child (the row fills no need, plan status or setting)"]]

def test_the_header_row_again_is_one_error_naming_it(tmp_path: Path) -> None:
    # The SEN support list pasted under the EHC plans' with its own header row (written in
    # capitals there): row 5 gave eight errors and two warnings, one per cell; now one error.
    frame = caseload_frame([{}] * 7).rename(columns={"child_id": "Child ID", "primary_need": "Primary Need"})
    headers = pd.DataFrame([[str(c).upper() for c in frame.columns]], columns=frame.columns)
    path = write_csv(tmp_path / "c.csv", pd.concat([frame.head(3), headers, frame.tail(4)], ignore_index=True))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    assert caught.value.failures[["severity", "row", "column", "problem", "fix"]].values.tolist() == [[
        "error", 5, "", "the header row again, not a child (a second list pasted under the first with its headers?)",
        "Delete the row."]]


def test_a_list_most_of_whose_rows_lack_their_values_names_each_empty_cell() -> None:
    # Eight children and nine rows with only a child_id: the list itself lacks its values, so the
    # empty cells are named (36 of them), not nine rows called totals or notes.
    failures = _with_rows_below([{"child_id": f"X{k}"} for k in range(9)])
    errors = failures[failures["severity"] == "error"]
    assert set(errors["problem"]) == {"age is empty", "primary_need is empty", "plan_status is empty",
                                      "setting_type is empty"}
    assert len(errors) == 36


@pytest.mark.parametrize(("cell", "problem"), [
    ("SALT, OT", "is read as the one service 'SALT,_OT': services are separated by ';' only"),
    ("EP\nCAMHS", "is read as the one service 'EP_CAMHS': services are separated by ';' only"),
    ("OT | PHYSIO; EP", "is read as the services 'EP' and 'OT_|_PHYSIO': services are separated by ';' only"),
    # Joined by a slash, a plus or "and": SALT and OT are each a service of row 2, so the name is two.
    ("SALT/OT", ("is read as the one service 'SALT/OT', while SALT and OT are each a service of other rows: services "
     "are separated by ';' only")),
    ("OT and EP", ("is read as the one service 'OT_AND_EP', while OT and EP are each a service of other rows: "
     "services are separated by ';' only")),
    ("EP + SALT", ("is read as the one service 'EP_+_SALT', while EP and SALT are each a service of other rows: "
     "services are separated by ';' only")),
])
def test_services_separated_otherwise_than_by_semicolons_are_a_warning(cell: str, problem: str) -> None:
    # Read as the contract says (one service per ';'), with a warning: such a cell counts as one
    # service no other child has, so the cohort's count of services would be wrong.
    loaded = validated([{"services": "SALT;OT"}, {"services": cell}, {"services": "EP"}])
    warned = loaded.warnings[loaded.warnings["column"] == "services"]
    assert warned[["row", "value", "problem"]].values.tolist() == [[3, cell, problem]]


def test_many_warnings_of_one_kind_are_said_once_by_column_and_what_to_do(tmp_path: Path) -> None:
    # Twelve rows with services separated by commas (an export's habit) and one locality typo:
    # the terminal shows three of the first kind and the typo, then the warnings grouped (a kind
    # of one row is not).
    rows = [{"child_id": f"K{k}", "services": "EP, SALT" if k % 2 else "OT, EP"} for k in range(12)]
    rows += [{"child_id": f"W{k}", "locality": "Westmoor"} for k in range(6)] + [{"child_id": "T", "locality": "Westmor"}]
    path = write_csv(tmp_path / "c.csv", caseload_frame(rows))
    code, _, stderr = run("validate", str(path))
    assert code == 0
    lines = stderr.splitlines()
    tail = lines[lines.index("  ... and 9 more warnings"):]
    assert tail == ["  ... and 9 more warnings",
                    "  The warnings, by column and what to do:",
                    ("    c.csv: 12 rows (2 different values), the first row 2, column 'services': Separate the services "
                     "with ';' (SALT;OT), so that each counts as the service it is.")]


def test_the_lines_errors_leave_unused_go_to_warnings(tmp_path: Path) -> None:
    # Five rows aged 30 (one kind of error: three shown, the rest counted), 25 rows with services
    # separated by commas and 20 localities each written once one letter short: of the 20 lines,
    # the 3 errors shown leave 17 for warnings (the 2 errors not shown took 2 more, and left 15).
    # Warnings too are shown at most 3 of a kind: the 25 rows of one kind filled the lines, and
    # the typos (each a kind of its own: what to do names the locality) were not seen.
    rows = [{"child_id": f"A{k}", "age": 30} for k in range(5)]
    rows += [{"child_id": f"K{k}", "services": "EP, SALT"} for k in range(25)]
    for place in ("Alderbrook", "Beechwood", "Cedarfield", "Dunmore", "Elmstead", "Fernhill", "Glenview", "Hawthorn",
                  "Ivybridge", "Juniper", "Kingsmead", "Larchmont", "Maplewood", "Northwick", "Oakhurst", "Pinegrove",
                  "Quarrydale", "Rosebank", "Sycamore", "Thornbury"):
        rows += [{"locality": place} for _ in range(6)] + [{"locality": place[:-1]}]
    path = write_csv(tmp_path / "c.csv", caseload_frame(rows))
    code, _, stderr = run("validate", str(path))
    assert code == 2
    lines = stderr.splitlines()
    assert sum(line.startswith("  error: ") for line in lines) == 3
    warnings = [line for line in lines if line.startswith("  warning: ")]
    assert len(warnings) == 17 and sum("column 'services'" in line for line in warnings) == 3
    assert "  ... and 28 more warnings" in lines


def test_a_cell_that_says_there_is_no_value_is_read_as_empty_with_one_warning_per_word() -> None:
    # Exports write 'None', 'N/A' or 'Unknown' where there is nothing: read as values, 'N/A' was a
    # service and a place a cohort covered, and children in setting 'Unknown' were kept apart as
    # if in one school. Rows 2-3 'None' services, row 4 'EP;N/A', row 5 locality 'n/a',
    # row 6 setting 'Unknown', row 7 secondary need 'none'; social care NONE stays a value.
    loaded = validated([{"services": "None"}, {"services": "none"}, {"services": "EP;N/A"},
                        {"locality": "n/a"}, {"setting_id": "Unknown", "social_care": "NONE"},
                        {"secondary_need": "none"}])
    frame = loaded.frame
    assert frame["services"].tolist() == ["", "", "EP", "", "", ""]
    assert frame["locality"].tolist() == [""] * 6 and frame["setting_id"].tolist() == [""] * 6
    assert frame["secondary_need"].tolist() == [""] * 6 and frame["social_care"].tolist() == ["NONE"] * 6
    warned = loaded.warnings[["row", "column", "value", "problem"]].values.tolist()
    assert sorted(warned) == [
        [2, "services", "None", "read as empty, here and in the 1 more rows that write it"],
        [4, "services", "N/A", "read as empty"],
        [5, "locality", "n/a", "read as empty"],
        [6, "setting_id", "Unknown", "read as empty"],
        [7, "secondary_need", "none", "read as empty"],
    ]


def test_a_yes_no_column_reads_a_word_for_none_as_false_and_suggests_for_its_own_words() -> None:
    # 'N/A' in exclude was refused as not true or false, though it is read as empty elsewhere:
    # it is false, as an empty cell is, with the one warning. The columns' own words, as an
    # export writes them ('Excluded', 'OOA', 'In area'), are refused with the value they most
    # likely mean (they were refused with none), never read on a guess.
    loaded = validated([{"exclude": "N/A"}, {"exclude": "n/a"}, {"out_of_area": "Unknown"}, {}, {}, {}])
    assert loaded.frame["exclude"].tolist() == [False] * 6 and loaded.frame["out_of_area"].tolist() == [False] * 6
    assert loaded.warnings[["row", "column", "value", "problem", "fix"]].values.tolist() == [
        [2, "exclude", "N/A", "read as empty, here and in the 1 more rows that write it",
         ("Nothing to do: read as false, as an empty cell is (write true where the child is to be left out of the "
          "choice, false or nothing where not).")],
        [4, "out_of_area", "Unknown", "read as empty",
         ("Nothing to do: read as false, as an empty cell is (write true where the child is placed out of the area, "
          "false or nothing where not).")]]
    with pytest.raises(CaseloadValidationError) as caught:
        validated([{"exclude": "Excluded"}, {"out_of_area": "OOA"}, {"out_of_area": "In area"}, {"exclude": "maybe"}])
    listed = "Use true/false, yes/no, y/n or 1/0 (empty means false)."
    errors = caught.value.failures[caught.value.failures["severity"] == "error"]
    assert errors[["row", "value", "fix"]].values.tolist() == [
        [2, "Excluded", f"Did you mean true? {listed}"], [3, "OOA", f"Did you mean true? {listed}"],
        [4, "In area", f"Did you mean false? {listed}"], [5, "maybe", listed]]


def test_a_service_whose_name_holds_and_is_no_warning_when_its_parts_are_no_services() -> None:
    # "Speech and language therapy" joins words, not services: neither part is a service of the file.
    loaded = validated([{"services": "EP"}, {"services": "Speech and language therapy;EP"}, {"services": "OT"}])
    assert loaded.warnings[loaded.warnings["column"] == "services"].empty


def test_one_service_under_two_of_its_names_is_a_warning_and_nothing_is_merged() -> None:
    # SALT on rows 2 and 4, written out on row 3, and "SLT" on row 5: two other names of SALT, one
    # warning each at its first row, naming SALT (the most used). OT written out on row 6 alone
    # is no warning: one name of a service is just its name in this file.
    loaded = validated([{"services": "SALT;EP"}, {"services": "Speech and language therapy"},
                        {"services": "SALT"}, {"services": "SLT;EP"}, {"services": "Occupational therapy"}])
    warned = loaded.warnings[loaded.warnings["column"] == "services"]
    assert warned[["row", "value", "problem"]].values.tolist() == [
        [3, "SPEECH_AND_LANGUAGE_THERAPY",
         "looks like 'SALT' (2 rows) written another way (1 row): they count as two services"],
        [5, "SLT", "looks like 'SALT' (2 rows) written another way (1 row): they count as two services"]]
    assert loaded.frame["services"].tolist()[1:4] == ["SPEECH_AND_LANGUAGE_THERAPY", "SALT", "EP;SLT"]


def test_a_value_one_letter_from_a_five_times_commoner_one_is_a_likely_typo() -> None:
    # Rows 2-6 Westmoor and CAMHS; row 7 "Westmor" and "CAHMS" (a letter dropped, two swapped):
    # each 1 row against 5, so each a warning at row 7 (services are read first). Row 8
    # "Westbrook" is more than a letter from every other value: no warning; "OTS" beside "OT" is
    # too short to tell. Nothing is changed: "Westmor" is still its own locality.
    rows = [{"locality": "Westmoor", "services": "CAMHS;OT"}] * 5 + [
        {"locality": "Westmor", "services": "CAHMS"}, {"locality": "Westbrook", "services": "OTS"}]
    loaded = validated(rows)
    warned = loaded.warnings[loaded.warnings["column"].isin(["locality", "services"])]
    assert warned[["row", "column", "value", "problem"]].values.tolist() == [
        [7, "services", "CAHMS",
         "is one letter away from 'CAMHS' (5 rows), so likely a typo (1 row): they count as two services"],
        [7, "locality", "Westmor",
         "is one letter away from 'Westmoor' (5 rows), so likely a typo (1 row): they count as two localities"]]
    assert loaded.frame["locality"].tolist()[5] == "Westmor"
    # Four to one is not rare enough to call a typo: two places with alike names are left alone.
    assert "locality" not in set(validated(rows[1:]).warnings["column"])


def test_a_tie_between_two_names_of_a_service_names_the_short_one() -> None:
    loaded = validated([{"services": "OT"}, {"services": "Occupational therapy"}])
    warned = loaded.warnings[loaded.warnings["column"] == "services"]
    assert warned[["row", "value"]].values.tolist() == [[3, "OCCUPATIONAL_THERAPY"]]


def test_a_wrong_code_names_the_code_it_most_likely_means(tmp_path: Path) -> None:
    # The school census's K, the long name of a need, a setting type with "school" after it, a
    # text no table knows (no guess), a code among other words, and two codes among other words
    # (no guess). The code is only suggested: the rows are still errors (the contract takes its
    # codes only).
    from tests.conftest import run

    caseload = write_csv(tmp_path / "c.csv", caseload_frame(
        [{"plan_status": "K"}, {"primary_need": "Autism"}, {"setting_type": "Mainstream school"},
         {"setting_type": "Hospital"}, {"primary_need": "SEMH needs"},
         {"setting_type": "Mainstream with resourced provision"}]))
    code, _, stderr = run("validate", str(caseload))
    assert code == 2
    settings = "EARLY_YEARS MAINSTREAM RESOURCED SPECIAL INDEPENDENT AP FE TRAINING EHE NOT_IN_EDUCATION CUSTODY OTHER"
    assert [line for line in stderr.splitlines() if line.startswith("  error:")] == [
        ("  error: c.csv: row 2, column 'plan_status': 'K' not one of the plan_status codes. Did you mean SEN_SUPPORT? "
         "Use one of: EHCP SEN_SUPPORT ASSESSMENT (see the data contract in the README)."),
        ("  error: c.csv: row 3, column 'primary_need': 'Autism' not one of the primary_need codes. Did you mean ASD? "
         "Use one of: SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH NSA (see the data contract in the README)."),
        ("  error: c.csv: row 4, column 'setting_type': 'Mainstream school' not one of the setting_type codes. Did you "
         f"mean MAINSTREAM? Use one of: {settings} (see the data contract in the README)."),
        ("  error: c.csv: row 5, column 'setting_type': 'Hospital' not one of the setting_type codes. Use one of: "
         f"{settings} (see the data contract in the README)."),
        ("  error: c.csv: row 6, column 'primary_need': 'SEMH needs' not one of the primary_need codes. Did you mean "
         "SEMH? Use one of: SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH NSA (see the data contract in the "
         "README)."),
        ("  error: c.csv: row 7, column 'setting_type': 'Mainstream with resourced provision' not one of the "
         f"setting_type codes. Use one of: {settings} (see the data contract in the README).")]


def test_social_care_written_as_not_known_or_n_a_suggests_none(tmp_path: Path) -> None:
    # NONE is "not known to children's social care": an export's 'Not known' or 'N/A' most likely
    # means it, and is said so (still an error: the contract takes its codes only; empty is NONE).
    from tests.conftest import run

    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"social_care": "Not known"}, {"social_care": "N/A"}]))
    code, _, stderr = run("validate", str(caseload))
    assert code == 2
    codes = "Use one of: NONE EARLY_HELP CIN CP CLA CARE_LEAVER (see the data contract in the README)."
    assert [line for line in stderr.splitlines() if line.startswith("  error:")] == [
        (f"  error: c.csv: row 2, column 'social_care': 'Not known' not one of the social_care codes. Did you mean NONE? "
        f"{codes}"),
        f"  error: c.csv: row 3, column 'social_care': 'N/A' not one of the social_care codes. Did you mean NONE? {codes}"]


@pytest.mark.parametrize(("cell", "fix"), [
    ("x", "Did you mean true (a mark)? Use true/false, yes/no, y/n or 1/0 (empty means false)."),
    ("\u2713", "Did you mean true (a mark)? Use true/false, yes/no, y/n or 1/0 (empty means false)."),
    ("maybe", "Use true/false, yes/no, y/n or 1/0 (empty means false)."),
])
def test_a_mark_in_a_yes_or_no_column_is_an_error_that_suggests_true(cell: str, fix: str) -> None:
    error = only_error([{}, {"exclude": cell}])
    assert (error["row"], error["column"], error["value"], error["problem"], error["fix"]) == (
        3, "exclude", cell, "exclude is not true or false", fix)


def test_codes_are_matched_case_insensitively_after_trimming() -> None:
    loaded = validated([{"primary_need": " asd ", "plan_status": "sen_support", "setting_type": "Ap",
                         "social_care": "cla"}])
    row = loaded.frame.iloc[0]
    assert (row.primary_need, row.plan_status, row.setting_type, row.social_care) == (
        "ASD", "SEN_SUPPORT", "AP", "CLA")


def test_whole_number_ages_from_spreadsheets_are_accepted() -> None:
    loaded = validated([{"age": "12.0"}, {"age": "0"}, {"age": "25"}])
    assert loaded.frame["age"].tolist() == [12, 0, 25]
    assert loaded.frame["age_band"].tolist() == ["11-15", "0-4", "20-25"]


def test_booleans_accept_the_contract_words() -> None:
    words = ["true", "False", "YES", "no", "y", "N", "1", "0", ""]
    loaded = validated([{"exclude": w} for w in words])
    assert loaded.frame["exclude"].tolist() == [True, False, True, False, True, False, True, False, False]


def test_empty_social_care_means_none() -> None:
    assert validated([{"social_care": ""}]).frame["social_care"].tolist() == ["NONE"]


def test_duplicate_and_empty_ids() -> None:
    pat = "pat@example.org"
    table = failures_of([{"child_id": "X", "practitioner_email": pat}, {"child_id": "Y"},
                         {"child_id": "X", "practitioner_email": pat}, {"child_id": " "}])
    errors = table[table["severity"] == "error"]
    # The space-only id reads as empty; the third row repeats X from row 2, the same row again.
    assert errors[["row", "problem", "fix"]].values.tolist() == [
        [4, "duplicate child_id, first seen on row 2: the same row again", "Remove the repeated row."],
        [5, "child_id is empty", "Give every row its pseudonymous id."],
    ]


def test_a_child_repeated_is_said_by_how_its_row_differs() -> None:
    # Rows 2-4 are one child exported with a row per service (removing rows 3 and 4, as a plain
    # "duplicate" message would have it, loses SALT and OT); row 6 repeats row 5 with another
    # age and need (two children under one id, or one child's rows that disagree); row 8 repeats
    # row 7 with another practitioner (each row here has its own unless it says otherwise).
    pat = "pat@example.org"
    table = failures_of([{"child_id": "A", "services": "EP", "practitioner_email": pat},
                         {"child_id": "A", "services": "SALT", "practitioner_email": pat},
                         {"child_id": "A", "services": "OT", "practitioner_email": pat},
                         {"child_id": "B", "age": "9", "primary_need": "HI", "practitioner_email": pat},
                         {"child_id": "B", "age": "10", "primary_need": "ASD", "practitioner_email": pat},
                         {"child_id": "C"}, {"child_id": "C"}])
    errors = table[table["severity"] == "error"]
    per_service = ("Give each child one row, with all its services in the one cell separated by ';' (e.g. EP;SALT): "
                   "removing the repeated row would lose its services.")
    assert errors[["row", "problem", "fix"]].values.tolist() == [
        [3, "child_id of row 2 again, with other services (a row per service?)", per_service],
        [4, "child_id of row 2 again, with other services (a row per service?)", per_service],
        [6, "duplicate child_id, first seen on row 5 (differs in age, primary_need)",
         ("Each child appears once: if these are two children, correct one id; if one, keep the row that is right "
         "and remove the other.")],
        [8, "child_id of row 7 again, with another practitioner (a row per practitioner?)",
         "Give each child one row, with its lead practitioner."],
    ]


def test_ids_that_differ_only_in_case_are_one_child_twice() -> None:
    # A decline or a consent names a child ignoring case, so Ab1 and aB1 would be one child there.
    table = failures_of([{"child_id": i, "practitioner_email": "pat@example.org"} for i in ("Ab1", "aB1 ", "AB1", "Ab1")])
    errors = table[table["severity"] == "error"]
    assert errors[["row", "value", "problem"]].values.tolist() == [
        [3, "aB1", "child_id differs from row 2's only in case (ids are matched ignoring case)"],
        [4, "AB1", "child_id differs from row 2's only in case (ids are matched ignoring case)"],
        [5, "Ab1", "duplicate child_id, first seen on row 2: the same row again"],
    ]


def test_missing_required_columns_are_all_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", pd.DataFrame({"child_id": ["a"], "age": ["3"]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    table = caught.value.failures
    assert table["column"].tolist() == ["primary_need", "plan_status", "setting_type"]
    assert set(table["problem"]) == {"required column is missing"}
    assert set(table["row"]) == {1}


def test_headers_written_as_systems_export_them_are_the_contract_columns(tmp_path: Path) -> None:
    # PrimaryNeed, PlanStatus, LeadPractitionerID, Child ID.: the contract's words run together or
    # punctuated are its columns (they were left out, and the required ones reported missing).
    # A header of other words keeps its plain name: FavColour is favcolour, as it always was.
    rows = [{"child_id": "A", "lead_practitioner_id": "P1"}, {"child_id": "B", "lead_practitioner_id": "P2"}]
    plain = caseload_frame(rows).assign(FavColour="red")
    exported = plain.rename(columns={"child_id": "Child ID.", "primary_need": "PrimaryNeed",
                                     "plan_status": "PlanStatus", "setting_type": "SETTING-TYPE",
                                     "lead_practitioner_id": "LeadPractitionerID"})
    read = load_caseload(write_csv(tmp_path / "exported.csv", exported), keep_columns=("FavColour",))
    expected = load_caseload(write_csv(tmp_path / "plain.csv", plain), keep_columns=("FavColour",))
    pd.testing.assert_frame_equal(read.frame, expected.frame)
    assert "favcolour" in read.frame.columns
    assert read.frame["lead_practitioner_id"].tolist() == ["P1", "P2"]


def test_a_missing_column_names_the_headers_that_may_hold_it(tmp_path: Path) -> None:
    # 'Plan' and 'EHC plan type' share the word plan with plan_status: the fix names them. 'Child
    # Name' shares child with child_id but names a child, so it is never offered as the id.
    frame = caseload_frame([{}]).drop(columns=["plan_status", "child_id"]).assign(
        **{"Plan": "EHCP", "EHC plan type": "x", "Child Name": "Ann", "Notes": "n"})
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(write_csv(tmp_path / "c.csv", frame))
    fixes = caught.value.failures.set_index("column")["fix"]
    assert fixes["plan_status"] == (
        "c.csv has 'Plan' and 'EHC plan type': if one of them holds the plan_status, rename its header to "
        "'plan_status'. Otherwise add a column headed 'plan_status' (see the data contract in the README).")
    assert fixes["child_id"] == "Add a column headed 'child_id' (see the data contract in the README)."
    # A case system's key ('Person ID') is offered for the id; a header an error offers to rename
    # is not also in the warning of columns that need nothing ('Notes' is).
    frame = frame.assign(**{"Person ID": "K1"})
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(write_csv(tmp_path / "c.csv", frame))
    table = caught.value.failures
    assert table.set_index("column")["fix"]["child_id"] == (
        "c.csv has 'Person ID': if it holds the child_id, rename its header to 'child_id'. Otherwise add a column "
        "headed 'child_id' (see the data contract in the README).")
    needing_nothing = table[table["fix"].str.startswith("Nothing to do")]
    assert needing_nothing["column"].tolist() == ["Notes"]


@pytest.mark.parametrize(("column", "header"), [
    ("plan_status", "SEN Provision"), ("plan_status", "EHCP Status"), ("plan_status", "SENProvision"),
    ("primary_need", "SEN Type"), ("setting_type", "Placement Type"), ("setting_type", "School Type"),
    ("setting_type", "Establishment Type"), ("setting_type", "Provision Type")])
def test_the_census_and_case_systems_headers_are_offered_for_the_column_they_hold(tmp_path: Path, column: str,
                                                                                 header: str) -> None:
    # A school census export says the plan under 'SEN provision' (E, K) and the need under 'SEN
    # type'; case systems say the setting under 'Placement Type': none shares a word with the
    # column's name, so the fix named no header.
    frame = caseload_frame([{}]).drop(columns=[column]).assign(**{header: "x"})
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(write_csv(tmp_path / "c.csv", frame))
    assert caught.value.failures.set_index("column")["fix"][column] == (
        f"c.csv has '{header}': if it holds the {column}, rename its header to '{column}'. Otherwise add a "
        f"column headed '{column}' (see the data contract in the README).")


def test_a_left_out_header_that_may_hold_an_optional_column_says_so(tmp_path: Path) -> None:
    # Services under 'Services Received' and the setting under 'Setting URN' would be left out with
    # "nothing to do", and the cohort chosen without them: each is said apart, with the rename.
    # 'Notes' is left out as ever; 'Exclusions' (a school's suspensions) is not taken for `exclude`,
    # nor 'Social Worker' (a person) for social_care.
    frame = caseload_frame([{"services": "SALT", "setting_id": "100"}]).drop(columns=["social_care"]).rename(
        columns={"services": "Services Received", "setting_id": "Setting URN"}).assign(
        Notes="n", Exclusions="0", **{"Social Worker": "team 2"})
    loaded = load_caseload(write_csv(tmp_path / "c.csv", frame), allow_missing_contact=True)
    said = loaded.warnings[loaded.warnings["row"] == 1][["column", "problem", "fix"]].values.tolist()
    assert [
        "Services Received",
        "column left out at load: it may hold the services, which selector reads under the header 'services'",
        "If it does, rename its header to 'services' so that it counts; otherwise nothing to do."] in said
    assert [
        "Setting URN",
        "column left out at load: it may hold the setting_id, which selector reads under the header 'setting_id'",
        "If it does, rename its header to 'setting_id' so that it counts; otherwise nothing to do."] in said
    others = [row for row in said if row[1].startswith("column(s) outside the data contract")]
    assert [row[0] for row in others] == ["Notes, Exclusions, Social Worker"]


@pytest.mark.parametrize(("column", "header"), [
    ("lead_practitioner_id", "Key Worker ID"), ("lead_practitioner_id", "Caseworker ID"),
    ("lead_practitioner_id", "Lead Professional ID"), ("lead_practitioner_id", "SEN Officer"),
    ("social_care", "CIN CP CLA"), ("social_care", "LAC Status"), ("locality", "Ward"), ("locality", "District"),
    ("setting_id", "DfE Number"), ("setting_id", "LAESTAB"), ("services", "Agencies Involved"),
    ("services", "Professionals Involved")])
def test_an_optional_column_under_a_systems_own_header_is_offered(tmp_path: Path, column: str, header: str) -> None:
    # Under these headers the column was left out with "nothing to do": a key worker's id under
    # 'Key Worker ID' left no two children of one practitioner kept apart, without a word.
    frame = caseload_frame([{}]).rename(columns={column: header})
    loaded = load_caseload(write_csv(tmp_path / "c.csv", frame), allow_missing_contact=True)
    said = loaded.warnings[loaded.warnings["column"] == header]["problem"].tolist()
    assert said == [(f"column left out at load: it may hold the {column}, which selector reads under the header "
                    f"'{column}'")]


def test_out_of_area_is_not_offered_as_the_locality(tmp_path: Path) -> None:
    # The words of a place (ward, district) are the locality's; an area said out of is not.
    frame = caseload_frame([{}]).drop(columns=["locality"]).assign(**{"Out of Area Placement": "false"})
    loaded = load_caseload(write_csv(tmp_path / "c.csv", frame), allow_missing_contact=True)
    said = loaded.warnings[loaded.warnings["column"] == "Out of Area Placement"]["problem"].tolist()
    assert said == [("column left out at load: it may hold the out_of_area, which selector reads under the header "
                    "'out_of_area'")]


def test_a_locality_under_locality_name_is_offered_not_taken_for_a_childs_name(tmp_path: Path) -> None:
    # 'Locality Name' ends in "name", so it was dropped as a direct identifier, and the cohort
    # chosen without localities with nothing saying the column may hold them.
    frame = caseload_frame([{"locality": "Westmoor"}]).rename(columns={"locality": "Locality Name"})
    loaded = load_caseload(write_csv(tmp_path / "c.csv", frame))
    said = loaded.warnings[loaded.warnings["column"] != "eligible"][["column", "problem"]].values.tolist()
    assert said == [["Locality Name", ("column left out at load: it may hold the locality, which selector reads "
                                      "under the header 'locality'")]]


def test_an_age_missing_beside_a_date_of_birth_says_how_to_give_the_age(tmp_path: Path) -> None:
    # The export has DOB, not age. The date of birth is never read (it identifies a child; its
    # values appear nowhere), so the fix says how to work the age out from it, or to give the
    # Annex A lists, from which selector works the ages out itself.
    frame = caseload_frame([{}]).drop(columns=["age"]).assign(DOB="2015-03-04")
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(write_csv(tmp_path / "c.csv", frame))
    table = caught.value.failures
    assert table.set_index("column").loc["age", "fix"] == (
        "c.csv has a date of birth ('DOB'), which selector never reads from a caseload, as it identifies a child: "
        "work out each age in whole years at the inspection date (in Excel, =DATEDIF(birth date, inspection date, "
        "\"y\")) into a column headed 'age' and remove the date of birth; or give the Annex A lists, from which "
        "selector works out the ages and then drops the dates.")
    assert not table.astype(str).apply(lambda column: column.str.contains("2015")).any().any()


@pytest.mark.parametrize("phone", ["Telephone", "Contact Number"])
def test_contacts_under_other_headers_are_named_and_their_other_columns_listed(tmp_path: Path, phone: str) -> None:
    # A council export: 'Email Address' and 'Telephone' (or 'Contact Number') for email and phone. Each is offered for
    # the column it likely is; every column the contacts file does not use is listed by header, never
    # by a value, as a warning (it is never written).
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"lead_practitioner_id": "P1"}]).drop(
        columns=["practitioner_name", "practitioner_email"]))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "practitioner_id": ["P1"], "name": ["Sam Roe"], "Email Address": ["sam@example.org"],
        phone: ["01632 960001"], "Notes": ["SECRET-NOTE"]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(caseload, contacts)
    table = caught.value.failures
    error = table[table["severity"] == "error"].iloc[0]
    assert error["fix"] == (
        f"k.csv has 'Email Address': if it holds the email, rename its header to 'email'. k.csv has '{phone}': "
        "if it holds the phone, rename its header to 'phone'. Otherwise add 'email' and/or 'phone' so the "
        "practitioner can be reached.")
    unread = table[table["problem"].str.startswith("column(s) the contacts file does not use")]
    assert unread[["file", "row", "column", "value"]].values.tolist() == [
        ["k.csv", 1, f"Email Address, {phone}, Notes", ""]]
    assert not table.astype(str).apply(lambda column: column.str.contains("SECRET-NOTE")).any().any()
    # The contacts could not be read: that error says why no child has a contact, once. No warning
    # per child without one, nor of too few children to choose from, repeats it.
    assert table["column"].tolist() == ["email", f"Email Address, {phone}, Notes"]


def test_a_caseload_over_two_sheets_is_refused_not_read_as_its_first(tmp_path: Path) -> None:
    # EHC plans on one sheet, SEN support on the next (as Annex A has its lists), a hidden copy
    # and a notes sheet: read as the first sheet alone, 'OK' came back and the 4 children on
    # 'SEN support' could never be chosen. Given the sheet to read, that sheet is read.
    from selector.contract.errors import InputError
    from tests.conftest import run

    path = tmp_path / "c.xlsx"
    children = caseload_frame([{"plan_status": "EHCP"}] * 3 + [{"plan_status": "SEN_SUPPORT"}] * 4)
    with pd.ExcelWriter(path) as writer:
        children.head(3).to_excel(writer, sheet_name="EHCP", index=False)
        children.tail(4).to_excel(writer, sheet_name="SEN support", index=False)
        children.to_excel(writer, sheet_name="Old copy", index=False)
        pd.DataFrame({"Notes": ["Ages at 31 August."]}).to_excel(writer, sheet_name="Notes", index=False)
    book = openpyxl.load_workbook(path)
    book["Old copy"].sheet_state = "hidden"
    book.save(path)
    with pytest.raises(InputError) as caught:
        load_caseload(path)
    assert caught.value.exit_code == 2 and caught.value.message == (
        "c.xlsx: the caseload's columns are on 2 sheets: 'EHCP' (3 rows) and 'SEN support' (4 rows); one sheet is "
        "read, and the children on the others could never be chosen.")
    assert caught.value.fix == ("Put every child on one sheet (copy the rows of the others under the first's), or, "
                                "if only one sheet is the caseload, give the sheet to read.")
    assert len(load_caseload(path, sheet="SEN support").frame) == 4
    code, _, stderr = run("validate", str(path))
    assert code == 2 and stderr.splitlines()[-1] == "how: name the sheet to read with --sheet NAME."
    # The same workbook saved under an old Excel name (read as a workbook by its bytes): the same.
    misnamed = path.rename(tmp_path / "c.xls")
    with pytest.raises(InputError) as caught:
        load_caseload(misnamed)
    assert caught.value.code == "list_over_sheets"


def _six_by_practitioner(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """Six children, each with a lead practitioner P0-P5 and no inline contact, and the contacts
    of those six practitioners."""
    caseload = write_csv(tmp_path / "c.csv", caseload_frame(
        [{"lead_practitioner_id": f"P{i}"} for i in range(6)]).drop(columns=["practitioner_name", "practitioner_email"]))
    contacts = pd.DataFrame({"practitioner_id": [f"P{i}" for i in range(6)], "name": [f"Name {i}" for i in range(6)],
                             "email": [f"p{i}@example.org" for i in range(6)]})
    return caseload, contacts


def test_contacts_over_two_sheets_are_refused_not_read_as_the_first(tmp_path: Path) -> None:
    # Schools' practitioners on one sheet, health and care's on the next: read as the first alone,
    # the other sheet's children had no contact (ineligible, a warning each) and no chance.
    from selector.contract.errors import InputError

    caseload, contacts = _six_by_practitioner(tmp_path)
    with pd.ExcelWriter(tmp_path / "k.xlsx") as writer:
        contacts.head(4).to_excel(writer, sheet_name="Schools", index=False)
        contacts.tail(2).to_excel(writer, sheet_name="Health and care", index=False)
    with pytest.raises(InputError) as caught:
        load_caseload(caseload, tmp_path / "k.xlsx")
    assert caught.value.message == (
        "k.xlsx: the contacts' columns are on 2 sheets: 'Schools' (4 rows) and 'Health and care' (2 rows); one sheet "
        "is read, and the children whose practitioners are on the others would have no contact, and so could never "
        "be chosen.")
    assert caught.value.fix == "Put every contact on one sheet (copy the rows of the others under the first's)."
    with pd.ExcelWriter(tmp_path / "k.xlsx") as writer:  # one sheet of contacts, and notes: read as ever
        contacts.to_excel(writer, sheet_name="Schools", index=False)
        pd.DataFrame({"Notes": ["From the case system."]}).to_excel(writer, sheet_name="Notes", index=False)
    assert load_caseload(caseload, tmp_path / "k.xlsx").frame["eligible"].all()


def test_contacts_after_a_cover_sheet_are_read_from_their_sheet_with_a_warning(tmp_path: Path) -> None:
    # A 'Read me' sheet before the contacts: read as the first sheet, no child had a contact (three
    # errors of missing columns), and the contacts have no sheet to name, as the caseload has.
    caseload, contacts = _six_by_practitioner(tmp_path)
    with pd.ExcelWriter(tmp_path / "k.xlsx") as writer:
        pd.DataFrame({"Notes": ["Contacts for the inspection."]}).to_excel(writer, sheet_name="Read me", index=False)
        contacts.to_excel(writer, sheet_name="Contacts", index=False)
    loaded = load_caseload(caseload, tmp_path / "k.xlsx")
    assert loaded.frame["eligible"].all() and loaded.frame["contact_name"].tolist() == contacts["name"].tolist()
    assert loaded.warnings[["file", "row", "problem"]].values.tolist() == [
        ["k.xlsx", 1, "the contacts were read from the sheet 'Contacts': the first sheet, 'Read me', holds none"]]


def test_a_title_above_the_contacts_is_said_in_a_warning(tmp_path: Path) -> None:
    caseload, _ = _six_by_practitioner(tmp_path)
    (tmp_path / "k.csv").write_text("Practitioners for the inspection\n\npractitioner_id,name,email\n"
                                    + "".join(f"P{i},Name {i},p{i}@example.org\n" for i in range(6)))
    loaded = load_caseload(caseload, tmp_path / "k.csv")
    assert loaded.frame["eligible"].all()
    assert loaded.warnings["problem"].tolist() == [
        "the 2 rows above the column headers (row 3) were left out, as a title or empty"]


def test_a_workbook_whose_first_sheet_holds_none_of_the_columns_points_to_its_other_sheets(tmp_path: Path) -> None:
    # A cover sheet of notes first, the list on the third: one error names the sheet that holds
    # every required column (not five columns missing that are there, nor the notes as left out).
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Read me first": ["Ages at 31 August.", "Extracted 1 December."]}).to_excel(
            writer, sheet_name="Notes", index=False)
        pd.DataFrame({"child_id": ["a"], "Total": ["6"]}).to_excel(writer, sheet_name="Totals", index=False)
        caseload_frame([{}] * 6).rename(columns={"primary_need": "PrimaryNeed"}).to_excel(
            writer, sheet_name="Caseload", index=False)
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    assert caught.value.failures[["row", "column", "problem", "fix"]].values.tolist() == [[
        1, "", "the first sheet holds none of the required columns; the sheet 'Caseload' holds them all",
        "Move that sheet to the front of the workbook, or give the sheet to read."]]
    assert load_caseload(path, sheet="Caseload").frame["eligible"].all()
    from tests.conftest import run

    code, _, stderr = run("validate", str(path))
    assert code == 2 and "  how: name the sheet to read with --sheet NAME." in stderr.splitlines()
    # No sheet holds the list: every required column is missing, and the fix names the sheets.
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Read me first": ["Ages at 31 August."]}).to_excel(writer, sheet_name="Notes", index=False)
        caseload_frame([{}] * 6).drop(columns="age").to_excel(writer, sheet_name="Caseload", index=False)
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    fixes = set(caught.value.failures.query("problem == 'required column is missing'")["fix"])
    assert fixes == {f"Add a column headed '{c}' (see the data contract in the README). Or, if the list is on another "
                     "of the workbook's sheets (Notes, Caseload), move it to the first sheet, or give the sheet "
                     "to read." for c in ("child_id", "age", "primary_need", "plan_status", "setting_type")}
    # A sheet holding some of the columns is the list, short of the rest: no word of other sheets.
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"child_id": ["a"], "age": ["3"]}).to_excel(writer, sheet_name="List", index=False)
        pd.DataFrame({"Read me first": ["notes"]}).to_excel(writer, sheet_name="Notes", index=False)
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    assert not caught.value.failures["fix"].str.contains("sheet").any()

def test_all_failures_are_collected_in_one_run() -> None:
    table = failures_of([{"primary_need": "AUT"}, {"child_id": "K1"}, {"age": 31, "plan_status": "X"}])
    errors = table[table["severity"] == "error"]
    assert sorted(errors["column"]) == ["age", "child_id", "plan_status", "primary_need"]


def test_direct_identifiers_are_dropped_with_a_warning(tmp_path: Path) -> None:
    frame = caseload_frame([{}]).assign(**{"First Name": ["Amelia"], "DOB": ["2014-01-02"],
                                           "Postcode": ["ZZ1 1ZZ"], "school_house": ["Red"]})
    path = write_csv(tmp_path / "c.csv", frame)
    loaded = load_caseload(path)
    assert loaded.left_out_columns == ("First Name", "DOB", "Postcode", "school_house")
    for column in ("first_name", "dob", "postcode", "school_house"):  # outside the contract: left out
        assert column not in loaded.frame.columns
    text = loaded.warnings.to_csv()
    assert "Amelia" not in text and "ZZ1" not in text and "2014-01-02" not in text and "Red" not in text
    # The headers as the user wrote them: identifiers said apart from the other columns left out.
    assert {"First Name, DOB, Postcode", "school_house"} <= set(loaded.warnings["column"])


def test_missing_contact_is_a_warning_and_makes_the_child_ineligible() -> None:
    loaded = validated([{}, {"practitioner_email": "", "practitioner_name": ""}])
    assert loaded.frame["eligible"].tolist() == [True, False]
    assert loaded.frame["ineligible_reason"].tolist() == ["", "no practitioner contact"]
    # First the summary (two children cannot make a cohort of 6), then the child without a contact.
    assert loaded.warnings["problem"].iloc[0] == ("only 1 child can be chosen, and a cohort needs 6: "
                                                  "1 without a practitioner contact")
    warning = loaded.warnings.iloc[1]
    assert (warning["row"], warning["column"], warning["value"]) == (3, "contact", "K2")
    allowed = validated([{}, {"practitioner_email": "", "practitioner_name": ""}],
                        allow_missing_contact=True)
    assert allowed.frame["eligible"].tolist() == [True, True]


def test_excluded_children_are_ineligible_with_their_reason() -> None:
    loaded = validated([{"exclude": "yes", "exclude_reason": "consent declined"}, {"exclude": "no"}])
    assert loaded.frame["ineligible_reason"].tolist() == ["excluded: consent declined", ""]


def _by_practitioner(tmp_path: Path, lead_ids: list[str]) -> tuple[Path, Path]:
    """A caseload whose children name these lead practitioners, and contacts holding P1 only."""
    frame = caseload_frame([{"lead_practitioner_id": lead} for lead in lead_ids])
    frame = frame.drop(columns=["practitioner_name", "practitioner_email"])
    caseload = write_csv(tmp_path / "c.csv", frame)
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "Practitioner ID": ["P1"], "Name": ["Sam Roe"], "Role": ["SENCO"], "Organisation": ["School"],
        "Email": ["sam@example.org"], "Phone": ["01632 960001"]}))
    return caseload, contacts


def test_contacts_by_practitioner_id(tmp_path: Path) -> None:
    caseload, contacts = _by_practitioner(tmp_path, ["P1", "P9"])
    loaded = load_caseload(caseload, contacts)
    first = loaded.frame.iloc[0]
    assert (first.contact_name, first.contact_email, first.practitioner_key) == (
        "Sam Roe", "sam@example.org", "id:P1")
    assert loaded.frame["eligible"].tolist() == [True, False]
    problems = loaded.warnings["problem"].tolist()
    assert "practitioner not found in k.csv" in problems


def test_a_practitioner_id_the_contacts_write_in_another_case_is_named(tmp_path: Path) -> None:
    # p1 is P1 in the contacts: not matched (ids match exactly: the practitioner is who the spread
    # rule keeps apart), and the warning names the id as the contacts write it; P9 is nowhere.
    caseload, contacts = _by_practitioner(tmp_path, ["p1", "P9"])
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    found = loaded.warnings[loaded.warnings["column"] == "lead_practitioner_id"]
    assert found[["row", "value", "problem"]].values.tolist() == [
        [2, "p1", "practitioner not found in k.csv (it has 'P1': ids are matched exactly, case included)"],
        [3, "P9", "practitioner not found in k.csv"]]


def test_a_cell_naming_two_practitioners_says_so(tmp_path: Path) -> None:
    # An export that lists every practitioner in the lead's cell: not found, and the warning says
    # which of its ids the contacts have (the spread rule keeps one lead per child apart).
    caseload, contacts = _by_practitioner(tmp_path, ["P1;P7", "P1 / P9"])
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    found = loaded.warnings[loaded.warnings["column"] == "lead_practitioner_id"]
    said = " and 'P1' is there: give one id alone)"
    assert found[["row", "value", "problem"]].values.tolist() == [
        [2, "P1;P7", f"practitioner not found in k.csv (the cell holds 2 ids,{said}"],
        [3, "P1 / P9", f"practitioner not found in k.csv (the cell holds 2 ids,{said}"]]



def test_a_practitioner_id_without_the_leading_zeros_of_the_other_file_is_named(tmp_path: Path) -> None:
    # The contacts were saved from a spreadsheet that read 000262 as the number 262: no child's
    # practitioner is found, and the warning says why (not matched: 262 may be someone else).
    frame = caseload_frame([{"lead_practitioner_id": lead} for lead in ("000262", "0262", "263")])
    caseload = write_csv(tmp_path / "c.csv", frame.drop(columns=["practitioner_name", "practitioner_email"]))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "practitioner_id": ["262"], "name": ["Sam Roe"], "email": ["sam@example.org"], "phone": [""]}))
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    found = loaded.warnings[loaded.warnings["column"] == "lead_practitioner_id"]
    near = ("practitioner not found in k.csv (it has '262': ids are matched exactly, leading zeros included; a "
            "spreadsheet drops them from ids that look like numbers: keep the column as text)")
    assert found[["row", "value", "problem"]].values.tolist() == [
        [2, "000262", near], [3, "0262", near], [4, "263", "practitioner not found in k.csv"]]
    assert (loaded.frame["contact_name"] == "").all()
    # Contacts keyed by child: a child's id the other file writes with its zeros is named alike.
    by_child = write_csv(tmp_path / "k2.csv", pd.DataFrame({
        "child_id": ["7"],
        "name": ["Sam Roe"], "email": ["sam@example.org"], "phone": [""]}))
    padded = write_csv(tmp_path / "c2.csv", caseload_frame([{"child_id": "007"}]).drop(
        columns=["practitioner_name", "practitioner_email", "lead_practitioner_id"]))
    loaded = load_caseload(padded, by_child, allow_missing_contact=True)
    assert loaded.warnings.query("column == 'child_id'")["problem"].tolist() == [
        ("child_id is not in the caseload (it has '007': ids are matched exactly, leading zeros included; a "
        "spreadsheet drops them from ids that look like numbers: keep the column as text)")]

def test_contacts_by_child_id_first_row_is_lead(tmp_path: Path) -> None:
    frame = caseload_frame([{"child_id": "A"}, {"child_id": "B"}]).drop(
        columns=["practitioner_name", "practitioner_email", "lead_practitioner_id"])
    caseload = write_csv(tmp_path / "c.csv", frame)
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "child_id": ["A", "A", "B", "Z"], "name": ["Lead A", "Second A", "Lead B", "Nobody"],
        "email": ["a1@x.org", "a2@x.org", "", "z@x.org"], "phone": ["", "", "01632 960002", ""]}))
    loaded = load_caseload(caseload, contacts)
    assert loaded.frame["contact_name"].tolist() == ["Lead A", "Lead B"]
    assert loaded.frame["practitioner_key"].tolist() == ["email:a1@x.org", "name:lead b|"]
    assert loaded.all_contacts[["child_id", "lead", "name"]].values.tolist() == [
        ["A", True, "Lead A"], ["A", False, "Second A"], ["B", True, "Lead B"]]
    unknown = loaded.warnings[loaded.warnings["file"] == "k.csv"]
    assert unknown[["row", "value", "problem"]].values.tolist() == [[5, "Z", "child_id is not in the caseload"]]


def test_a_lead_contact_who_cannot_be_reached_gives_the_call_to_the_next_one_listed(tmp_path: Path) -> None:
    # A's lead has a name and nothing to reach them by; A's second contact (a social worker who
    # knows the child) has an e-mail. A was left with no contact and could not be chosen; now the
    # call goes to the second, with a warning on the lead's row. B's only contact has neither:
    # still no contact.
    frame = caseload_frame([{"child_id": "A"}, {"child_id": "B"}]).drop(
        columns=["practitioner_name", "practitioner_email", "lead_practitioner_id"])
    caseload = write_csv(tmp_path / "c.csv", frame)
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "child_id": ["A", "A", "B"], "name": ["Lead A", "Second A", "Lead B"],
        "email": ["", "a2@x.org", ""], "phone": ["", "", ""]}))
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    assert loaded.frame["contact_name"].tolist() == ["Second A", "Lead B"]
    assert loaded.frame["contact_email"].tolist() == ["a2@x.org", ""]
    assert loaded.all_contacts[["child_id", "lead", "name"]].values.tolist() == [
        ["A", True, "Lead A"], ["A", False, "Second A"], ["B", True, "Lead B"]]
    passed_over = loaded.warnings[loaded.warnings["file"] == "k.csv"]
    assert passed_over[["row", "value", "problem"]].values.tolist() == [
        [2, "A", ("the child's first contact (the lead) has no e-mail or phone: the next contact listed who has one "
                 "is the one to call")]]
    assert load_caseload(caseload, contacts).frame["eligible"].tolist() == [True, False]


def test_contacts_without_a_key_column_is_an_error(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{}]))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({"name": ["x"], "email": ["x@y.z"]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(caseload, contacts)
    row = caught.value.failures.iloc[0]
    assert (row["file"], row["column"], row["problem"]) == (
        "k.csv", "practitioner_id", "contacts need a practitioner_id or a child_id column")


@pytest.mark.parametrize("header", ["Staff ID", "Key Worker ID", "Worker Number", "Officer Code"])
def test_contacts_keyed_by_a_staff_or_worker_number_name_it_as_the_practitioner_id(tmp_path: Path,
                                                                                   header: str) -> None:
    # A contacts export keys its rows by the staff's own number: it said only "Add practitioner_id",
    # with the column that holds it there under another header. `Staff Name` is not named.
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"lead_practitioner_id": "P1"}]))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({header: ["P1"], "Staff Name": ["x"], "name": ["x"],
                                                          "email": ["x@y.z"]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(caseload, contacts)
    assert caught.value.failures.iloc[0]["fix"].startswith(
        f"k.csv has '{header}': if it holds the practitioner_id, rename its header to 'practitioner_id'.")
    # The caseload's lead practitioner under such a header is named the same way (it was left out
    # with "nothing to do").
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"lead_practitioner_id": "P1"}]).rename(
        columns={"lead_practitioner_id": header}))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({"practitioner_id": ["P1"], "name": ["x"],
                                                          "email": ["x@y.z"]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(caseload, contacts)
    assert f"c.csv has '{header}': if it holds the lead_practitioner_id" in caught.value.failures.iloc[0]["fix"]


def test_services_are_normalised() -> None:
    loaded = validated([{"services": " salt; OT;;salt "}])
    assert loaded.frame["services"].tolist() == ["OT;SALT"]


def test_a_very_long_value_is_shortened_in_the_message_and_kept_whole_in_the_failures(tmp_path: Path) -> None:
    from tests.conftest import run
    pasted = "a paragraph pasted into the wrong cell " * 150
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"primary_need": pasted}, {}]))
    code, _, stderr = run("validate", str(caseload), "--failures", str(tmp_path / "failures.csv"))
    assert code == 2
    line = next(x for x in stderr.splitlines() if "column 'primary_need'" in x)
    # The first 60 characters (the cell as read: trimmed, 5,849 characters).
    assert line.startswith("  error: c.csv: row 2, column 'primary_need': 'a paragraph pasted into the wrong cell "
                           "a paragraph pasted in…' (5,849 characters) not one of the primary_need codes.")
    assert len(line) < 300
    failures = pd.read_csv(tmp_path / "failures.csv", dtype=str, keep_default_na=False)
    assert failures.loc[failures["column"] == "primary_need", "value"].tolist() == [pasted.strip()]


def test_merged_cells_in_a_column_read_are_a_warning_naming_them(tmp_path: Path) -> None:
    # The workbook of tests/test_io.py: the locality and plan status merges are read, so each is a
    # warning on its first row; the note across G3:H3 is in a column left out, so says nothing.
    from tests.test_io import _merged_workbook

    loaded = load_caseload(_merged_workbook(tmp_path / "merged.xlsx"), allow_missing_contact=True)
    merges = loaded.warnings[loaded.warnings["problem"].str.startswith("cells ")]
    assert merges[["row", "column", "problem"]].values.tolist() == [
        [2, "locality", ("cells F2:F4 are merged: rows 2 to 4 were each read with the value Excel shows across them "
                         "(that of F2)")],
        [5, "plan_status", ("cells D5:D6 are merged: rows 5 to 6 were each read with the value Excel shows across "
                            "them (that of D5)")]]
    assert loaded.frame.set_index("child_id")["locality"].to_dict() == {
        "K1": "Northgate", "K2": "Northgate", "K3": "Northgate", "K4": "Southgate", "K5": "Eastgate"}


def test_hidden_rows_and_columns_and_formulas_never_calculated_are_warnings_for_what_is_read(tmp_path: Path) -> None:
    # The workbook of tests/test_io.py: rows 3, 5 and 6 hidden by a filter, column B (age) hidden,
    # two formulas never calculated in F (locality) and one in H (notes, a column left out: no word).
    from tests.test_io import _marked_workbook

    loaded = load_caseload(_marked_workbook(tmp_path / "marked.xlsx"), allow_missing_contact=True)
    notes = loaded.warnings[loaded.warnings["problem"].str.contains("hidden in Excel|never calculated")]
    assert notes[["row", "column", "value"]].values.tolist() == [[1, "age", ""], [3, "", ""], [4, "locality", ""]]
    assert notes["fix"].tolist() == [
        "Unhide it in Excel to see what it holds; delete it if it should not be read.",
        ("Hiding a row does not leave a child out: delete the rows of children who must not be chosen, or mark them "
        "in the exclude column."),
        "Open the workbook in Excel and save it (Excel works the formulas out), or paste the column as values."]
    assert len(loaded.frame) == 6  # hidden rows are read, as the warning says


def test_validate_prints_the_hidden_rows_as_one_line_without_a_column(tmp_path: Path) -> None:
    from tests.conftest import run
    from tests.test_io import _marked_workbook

    code, stdout, stderr = run("validate", str(_marked_workbook(tmp_path / "marked.xlsx")))
    assert code == 0, stdout + stderr
    assert ("  warning: marked.xlsx: row 3: rows 3 and 5 to 6 (3 rows) are hidden in Excel (by a filter, or by hand): "
            "read like every other row. Hiding a row does not leave a child out: delete the rows of children who must "
            "not be chosen, or mark them in the exclude column.") in (stdout + stderr).splitlines()


def test_a_lookup_that_failed_in_a_workbook_is_reported_not_read_as_empty(tmp_path: Path) -> None:
    # An analyst's VLOOKUP found no locality for K2: Excel stores the error #N/A. Read as an empty
    # cell, K2 would silently have no locality (an optional column); it is reported instead.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["child_id", "age", "primary_need", "plan_status", "setting_type", "locality"])
    sheet.append(["K1", 4, "ASD", "EHCP", "EARLY_YEARS", "Northgate"])
    sheet.append(["K2", 7, "SLCN", "SEN_SUPPORT", "MAINSTREAM", "#N/A"])  # openpyxl stores it as an error cell
    path = tmp_path / "lookups.xlsx"
    book.save(path)
    assert b' t="e"' in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    loaded = load_caseload(path, allow_missing_contact=True)
    assert loaded.frame.set_index("child_id")["locality"].to_dict() == {"K1": "Northgate", "K2": "#N/A"}


def test_ids_written_as_decimals_are_the_ids_they_stand_for(tmp_path: Path) -> None:
    # A script (or a number format) wrote some ids as '1001.0'. K1 and K2 are at one setting,
    # written two ways; the rule allows one child per setting, and the best pairs cover two needs:
    # {K1, K2} would break the rule, so {K1, K3} is the only best cohort, whatever the seed.
    # K3's practitioner is '7.0' in the caseload and '7' in the contacts: the same person.
    from tests.conftest import run

    caseload = write_csv(tmp_path / "c.csv", pd.DataFrame({
        "child_id": ["K1", "K2", "K3"], "age": 9, "primary_need": ["ASD", "MLD", "MLD"], "plan_status": "EHCP",
        "setting_type": "MAINSTREAM", "setting_id": ["1001", "1001.0", "2002"],
        "lead_practitioner_id": ["5", "6", "7.0"]}))
    contacts = write_csv(tmp_path / "p.csv", pd.DataFrame({
        "practitioner_id": ["5.0", "6", "7"], "name": ["A Lee", "B Lee", "C Lee"],
        "email": ["a@example.org", "b@example.org", "c@example.org"]}))
    loaded = load_caseload(caseload, contacts)
    assert loaded.frame["setting_id"].tolist() == ["1001", "1001", "2002"]
    assert loaded.frame["eligible"].all()  # every child's practitioner found in the contacts
    warnings = loaded.warnings.query("column != 'eligible'")  # (three children, fewer than the default six)
    assert warnings[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["c.csv", 3, "setting_id", "1001.0", ("a whole number written as a decimal: read as '1001', the same id as "
                                             "where it is written without the decimals")],
        ["c.csv", 4, "lead_practitioner_id", "7.0", ("a whole number written as a decimal: read as '7', the same id "
                                                    "as where it is written without the decimals")],
        ["p.csv", 2, "practitioner_id", "5.0", ("a whole number written as a decimal: read as '5', the same id as "
                                               "where it is written without the decimals")]]
    rules = tmp_path / "r.toml"
    rules.write_text('size = 2\ncount = []\n[[spread]]\ncolumn = "setting_id"\nmax = 1\n'
                     '[objective.primary_need]\nweight = 1\ncap = 2\n')
    code, _, stderr = run("select", str(caseload), "--contacts", str(contacts), "--rules", str(rules),
                          "--out", str(tmp_path / "o"), "--sets", "1")
    assert code == 0, stderr
    chances = pd.read_csv(tmp_path / "o" / "chances.csv", dtype=str).set_index("child_id")["chance"].astype(float)
    assert chances.to_dict() == {"K1": 1.0, "K3": 1.0, "K2": 0.0}


def test_a_contact_that_reaches_nobody_is_no_contact(tmp_path: Path) -> None:
    # P1's e-mail is a placeholder but the phone works: still a contact. P2 has 'n/a' for both and
    # P3 an address cut short and 'tbc': neither can be called, so K2 and K3 have no contact and
    # are not chosen (unless allowed). Each value left out is a warning on its contacts row.
    caseload = write_csv(tmp_path / "c.csv", pd.DataFrame({
        "child_id": ["K1", "K2", "K3"], "age": 9, "primary_need": "ASD", "plan_status": "EHCP",
        "setting_type": "MAINSTREAM", "lead_practitioner_id": ["P1", "P2", "P3"]}))
    contacts = write_csv(tmp_path / "p.csv", pd.DataFrame({
        "practitioner_id": ["P1", "P2", "P3"], "name": ["A Lee", "B Lee", "C Lee"],
        "email": ["none", "n/a", "c.lee@"], "phone": ["01632 960001", "n/a", "tbc"]}))
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    assert loaded.frame["contact_email"].tolist() == ["", "", ""]
    assert loaded.frame["contact_phone"].tolist() == ["01632 960001", "", ""]
    left_out = loaded.warnings.query("file == 'p.csv'")
    email = "not an e-mail address; left out (a practitioner with no e-mail or phone left cannot be called)"
    phone = "not a phone number (no digit); left out (a practitioner with no e-mail or phone left cannot be called)"
    assert left_out[["row", "column", "value", "problem"]].values.tolist() == [
        [2, "email", "none", email], [3, "email", "n/a", email], [3, "phone", "n/a", phone],
        [4, "email", "c.lee@", email], [4, "phone", "tbc", phone]]
    strict = load_caseload(caseload, contacts)
    assert strict.frame["eligible"].tolist() == [True, False, False]
    # Given inline, the same.
    inline = write_csv(tmp_path / "i.csv", pd.DataFrame({
        "child_id": ["K1", "K2"], "age": 9, "primary_need": "ASD", "plan_status": "EHCP", "setting_type": "MAINSTREAM",
        "practitioner_name": "A Lee", "practitioner_email": ["a.lee@example.org", "unknown"],
        "practitioner_phone": ["", "-"]}))
    loaded = load_caseload(inline)
    assert loaded.frame["eligible"].tolist() == [True, False]
    assert loaded.warnings.query("column == 'practitioner_email'")[["row", "value"]].values.tolist() == [[3, "unknown"]]


def test_a_practitioner_repeated_whole_is_read_once_and_one_with_other_details_is_refused(tmp_path: Path) -> None:
    # P1's row twice, word for word (an export joined twice): K1's contact is P1's, read once, and
    # the repeat is a warning. P2 twice with another phone: which to call is not known, so an
    # error on the second row naming the first, and the summary names the contacts file, where
    # the problem is (it named the caseload before).
    caseload = write_csv(tmp_path / "c.csv", pd.DataFrame({
        "child_id": ["K1", "K2"], "age": 9, "primary_need": "ASD", "plan_status": "EHCP",
        "setting_type": "MAINSTREAM", "lead_practitioner_id": ["P1", "P2"]}))
    repeated = write_csv(tmp_path / "p.csv", pd.DataFrame({
        "practitioner_id": ["P1", "P2", "P1"], "name": ["A Lee", "B Lee", "A Lee"],
        "phone": ["01632 960001", "01632 960002", "01632 960001"]}))
    loaded = load_caseload(caseload, repeated)
    assert loaded.frame[["contact_name", "contact_phone"]].values.tolist() == [
        ["A Lee", "01632 960001"], ["B Lee", "01632 960002"]]
    assert loaded.warnings.query("file == 'p.csv'")[["row", "value", "problem"]].values.tolist() == [
        [4, "P1", "the practitioner's row is repeated"]]
    conflicting = write_csv(tmp_path / "q.csv", pd.DataFrame({
        "practitioner_id": ["P1", "P2", "P2"], "name": ["A Lee", "B Lee", "B Lee"],
        "phone": ["01632 960001", "01632 960002", "01632 960099"]}))
    with pytest.raises(CaseloadValidationError) as raised:
        load_caseload(caseload, conflicting)
    assert raised.value.message == "q.csv: 1 problem(s) found; fix them and run again."
    errors = raised.value.failures.query("severity == 'error'")
    assert errors[["file", "row", "value", "problem"]].values.tolist() == [
        ["q.csv", 4, "P2", "duplicate practitioner_id with other details (first on row 3)"]]


def _nhs_numbers(count: int) -> list[str]:
    """NHS numbers with right check digits (a first nine digits whose check would be 10 has none)."""
    found = []
    for first_nine in map(str, range(401023210, 401023300)):
        check = 11 - sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            found.append(first_nine + str(0 if check == 11 else check))
    return found[:count]


@pytest.mark.parametrize(("ids", "kind"), [
    (["Amelia Jones", "Noah O'Neill", "Khan, Isla", "Leo Brown-Lee", "Mia Taylor", "Jack Smith"], "a person's name"),
    ([f"child{i}@school.example" for i in range(6)], "an e-mail address"),
    (_nhs_numbers(6), "an NHS number"),
    ([next(c + f"8012001000{i:02d}" for c in "ABCDEFGHJKLMNPQRTUVWXYZ" if upn_checks(c + f"8012001000{i:02d}"))
      for i in range(6)], "a UPN"),
])
def test_a_child_id_that_is_an_identifier_is_refused_and_never_quoted(tmp_path: Path, ids: list[str],
                                                                      kind: str) -> None:
    # The id is written in every output and sent to practitioners: a name, an e-mail or an NHS
    # number there identifies the child. Each row is an error, and no id is quoted anywhere.
    frame = caseload_frame([{}] * len(ids))
    frame["child_id"] = ids
    path = write_csv(tmp_path / "c.csv", frame)
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(path)
    table = caught.value.failures
    assert table[["row", "column", "problem"]].values.tolist() == [
        [row, "child_id", f"child_id looks like {kind} (not shown)"] for row in range(2, len(ids) + 2)]
    from tests.conftest import run

    code, out, err = run("validate", str(path), "--failures", str(tmp_path / "f.csv"))
    written = out + err + (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert code == 2 and not any(i in written for i in ids)


def test_pseudonymous_ids_are_not_taken_for_identifiers(tmp_path: Path) -> None:
    # Ids of letters and digits, a word and a number, and ten-digit numbers of which only some
    # happen to pass the NHS check digit (1 in 11 do by chance): none is refused.
    ids = ["C000154", "K1", "Child 7", "ab-12", *(f"{4010232130 + i}" for i in range(40))]
    frame = caseload_frame([{}] * len(ids))
    frame["child_id"] = ids
    loaded = load_caseload(write_csv(tmp_path / "c.csv", frame), allow_missing_contact=True)
    assert len(loaded.frame) == len(ids)


@pytest.mark.parametrize("key", ["practitioner_id", "child_id"])
def test_the_contacts_given_as_the_caseload_is_said_once_as_that(tmp_path: Path, key: str) -> None:
    # Not five required columns missing and its names and e-mails said as a child's identifiers.
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        key: ["P1"], "name": ["Sam Roe"], "email": ["sam@example.org"], "phone": [""]}))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(contacts)
    assert caught.value.failures[["severity", "row", "problem", "fix"]].values.tolist() == [[
        "error", 1, "the file holds practitioners' contacts (name, email, phone), not the caseload",
        ("Give the caseload (child_id, age, primary_need, plan_status, setting_type and the rest) as the caseload, "
        "and this file as the contacts.")]]


def test_the_caseload_given_as_the_contacts_is_said_once_as_that(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{}] * 6))
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(caseload, caseload)
    assert caught.value.failures[["severity", "file", "row", "problem"]].values.tolist() == [[
        "error", "c.csv", 1, ("the file holds the caseload's columns (age, primary_need, plan_status, setting_type), "
        "not practitioners' contacts")]]


def test_phone_numbers_whose_leading_zero_a_spreadsheet_dropped_are_said_once(tmp_path: Path) -> None:
    # 01632 960001 saved as the number 1632960001: the practitioner could not be called on it.
    # One warning for the column (not one per practitioner); an 11-digit number or +44 passes.
    caseload = write_csv(tmp_path / "c.csv", caseload_frame([{"lead_practitioner_id": p} for p in
                                                             ("P1", "P2", "P3", "P4")]).drop(
        columns=["practitioner_name", "practitioner_email"]))
    contacts = write_csv(tmp_path / "k.csv", pd.DataFrame({
        "practitioner_id": ["P1", "P2", "P3", "P4"], "name": ["A", "B", "C", "D"],
        "phone": ["01632 960001", "1632960002", "+44 1632 960003", "1632 960004"]}))
    loaded = load_caseload(caseload, contacts, allow_missing_contact=True)
    said = loaded.warnings[loaded.warnings["column"] == "phone"]
    assert said[["file", "row", "value", "problem"]].values.tolist() == [[
        "k.csv", 3, "1632960002", ("phone number of 10 digits and no leading 0 (a UK number has 11, from 0); 2 rows "
        "from here have one: a spreadsheet drops the 0 of a number it reads as a number")]]
