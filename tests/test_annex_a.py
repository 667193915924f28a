"""Reading the Annex A lists: headers as areas write them, dates, mapping, unmapped values,
a child on both lists, identifiers dropped, and select/replace on the lists."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from selector.cli import main
from selector.contract.errors import CaseloadValidationError, InputError
from selector.io.annex_a import parse_dates, whole_years
from selector.io.headers import annex_key
from selector.io.mapping import load_mapping
from selector.io.options import ReadOptions
from tests.conftest import SAMPLE, load_caseload

ANNEX = SAMPLE / "annex_a"
AS_OF = dt.date(2026, 11, 1)

LIST1_HEADERS = ["Unique ID", "UPN", "ULN", "Date of birth", "Gender", "Ethnicity", "Date initial EHC plan issued",
                 "Date updated EHC plan issued", "Date EHC plan last reviewed", "SEN primary need",
                 "Main education establishment – URN", "Main education establishment – phase",
                 "Subsidiary education establishment – phase (dual registration)", "Elective home education",
                 "Suspensions", "Permanent exclusions", "Absence", "Pupil Premium",
                 "Known to children's social care?", "Which children's social care team?",
                 "Does the child or young person have a disability?"]


def list_rows(rows: list[dict[str, str]], list1: bool = True) -> pd.DataFrame:
    headers = LIST1_HEADERS if list1 else [h for h in LIST1_HEADERS if h not in (
        "Date initial EHC plan issued", "Date updated EHC plan issued", "Date EHC plan last reviewed",
        "Elective home education")]
    base = {"Date of birth": "2015-05-01", "SEN primary need": "ASD", "Main education establishment – URN": "100001",
            "Main education establishment – phase": "Primary", "Which children's social care team?": "",
            "Known to children's social care?": "No", "ULN": "1234567890", "Gender": "Female",
            "Ethnicity": "WBRI", "Does the child or young person have a disability?": "No"}
    # Each child its own UPN (a repeated UPN is the sector's rule 109).
    return pd.DataFrame([{h: {**base, "UPN": f"H12345678{i:04d}", **r}.get(h, "") for h in headers}
                         for i, r in enumerate(rows)])


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def contacts_for(ids: list[str], path: Path) -> Path:
    return write(pd.DataFrame({"child_id": ids, "name": [f"P {i}" for i in ids],
                               "email": [f"p{i}@x.org" for i in ids]}), path)


def test_header_variants_are_recognised(tmp_path: Path) -> None:
    frame = list_rows([{"Unique ID": "A1"}])
    # Hyphen for en dash, trailing spaces, other case.
    frame.columns = [c.replace("–", "-").upper() + "  " for c in frame.columns]
    list1 = write(frame, tmp_path / "l1.csv")
    loaded = load_caseload(None, contacts_for(["A1"], tmp_path / "c.csv"),
                           annex=ReadOptions(list1=list1, as_of=AS_OF))
    row = loaded.frame.iloc[0]
    assert (row.child_id, row.plan_status, row.primary_need, row.setting_type, row.setting_id) == (
        "A1", "EHCP", "ASD", "MAINSTREAM", "100001")
    assert annex_key("Main education establishment \u2013 URN") == annex_key("main education establishment - urn ")


def test_headers_with_a_note_in_brackets_after_them_are_recognised(tmp_path: Path) -> None:
    # An area's template adds notes to its headers: read as the headers they annotate, so the
    # list is taken for Annex A at all (it was read as a caseload in selector's columns).
    frame = list_rows([{"Unique ID": "A1", "Date of birth": "01/03/2012"}])
    notes = {"Unique ID": "Unique ID (see note 1)", "Date of birth": "Date of birth (dd/mm/yyyy)",
             "SEN primary need": "SEN primary need [code or name]"}
    frame.columns = [notes.get(c, c) for c in frame.columns]
    list1 = write(frame, tmp_path / "l1.csv")
    loaded = load_caseload(None, contacts_for(["A1"], tmp_path / "c.csv"),
                           annex=ReadOptions(list1=list1, as_of=AS_OF))
    row = loaded.frame.iloc[0]
    assert (row.child_id, row.age, row.plan_status, row.primary_need) == ("A1", 14, "EHCP", "ASD")
    assert "Date of birth (dd/mm/yyyy)" not in loaded.frame.columns and "date_of_birth" not in loaded.frame.columns


@pytest.mark.parametrize(("text", "expected"), [
    ("2011-03-04", "2011-03-04"), ("04/03/2011", "2011-03-04"), ("4/3/2011", "2011-03-04"),
    ("04-03-2011", "2011-03-04"), ("2011-03-04 00:00:00", "2011-03-04"), ("40606", "2011-03-04"),
    # The month by name, as Excel saves a cell formatted so.
    ("4 March 2011", "2011-03-04"), ("04-Mar-2011", "2011-03-04"), ("4 mar 2011", "2011-03-04"),
    ("4 Sept 2011", "2011-09-04"),
])
def test_date_formats(text: str, expected: str) -> None:
    assert parse_dates(pd.Series([text])).iloc[0].date().isoformat() == expected


def test_age_in_whole_years_on_the_as_of_date() -> None:
    born = pd.to_datetime(pd.Series(["2010-11-01", "2010-11-02"]))
    assert whole_years(born, AS_OF).tolist() == [16, 15]  # a birthday counts on the day


def test_mapping_defaults_read_long_names_phases_and_teams(tmp_path: Path) -> None:
    rows = [
        {"Unique ID": "A1", "SEN primary need": "Autistic Spectrum Disorder",
         "Main education establishment – phase": "Pupil Referral Unit",
         "Known to children's social care?": "Yes", "Which children's social care team?": "Looked after children"},
        {"Unique ID": "A2", "SEN primary need": "Speech, language and communication needs",
         "Main education establishment – phase": "Secondary", "Elective home education": "Yes",
         "Which children's social care team?": "Child protection"},
        {"Unique ID": "A3", "SEN primary need": "semh", "Main education establishment – phase": "Special",
         "Subsidiary education establishment – phase (dual registration)": "PRU",
         "Which children's social care team?": "Leaving care", "Date of birth": "01/01/2004"},
    ]
    list1 = write(list_rows(rows), tmp_path / "l1.csv")
    frame = load_caseload(None, contacts_for(["A1", "A2", "A3"], tmp_path / "c.csv"),
                          annex=ReadOptions(list1=list1, as_of=AS_OF)).frame
    assert frame[["primary_need", "setting_type", "social_care"]].values.tolist() == [
        ["ASD", "AP", "CLA"], ["SLCN", "EHE", "CP"], ["SEMH", "AP", "CARE_LEAVER"]]
    assert frame["age"].tolist() == [11, 11, 22]


def test_needs_as_case_systems_write_them_are_read(tmp_path: Path) -> None:
    # '&' for 'and', plurals, 'Autistic spectrum condition' (ASC), a note in brackets: each was
    # "maps to no SEN2 code" until a mapping file was written for it.
    needs = {"Profound & Multiple Learning Difficulties": "PMLD", "Moderate Learning Difficulties": "MLD",
             "Autistic Spectrum Condition": "ASD", "ASC": "ASD", "Speech, Language & Communication Needs": "SLCN",
             "Specific Learning Difficulty (dyslexia)": "SPLD"}
    rows = [{"Unique ID": f"A{i}", "SEN primary need": text} for i, text in enumerate(needs)]
    list1 = write(list_rows(rows), tmp_path / "l1.csv")
    frame = load_caseload(None, contacts_for([r["Unique ID"] for r in rows], tmp_path / "c.csv"),
                          annex=ReadOptions(list1=list1, as_of=AS_OF)).frame
    assert frame["primary_need"].tolist() == list(needs.values())


def test_phases_as_case_systems_write_them_are_read(tmp_path: Path) -> None:
    # Infant and junior schools, a school's phase with 'school' after it, private nurseries, home
    # education and NEET as written out: each stopped the list until a mapping file named it.
    phases = {"Infant": "MAINSTREAM", "Secondary School": "MAINSTREAM", "PVI": "EARLY_YEARS",
              "Home educated": "EHE", "Not in education, employment or training": "NOT_IN_EDUCATION",
              "Further Education College": "FE", "Secure children's home": "CUSTODY"}
    rows = [{"Unique ID": f"A{i}", "Main education establishment – phase": text} for i, text in enumerate(phases)]
    list2 = write(list_rows(rows, list1=False), tmp_path / "l2.csv")
    frame = load_caseload(None, contacts_for([r["Unique ID"] for r in rows], tmp_path / "c.csv"),
                          annex=ReadOptions(list2=list2, as_of=AS_OF)).frame
    assert frame["setting_type"].tolist() == list(phases.values())


def test_social_care_teams_as_areas_name_them_are_read(tmp_path: Path) -> None:
    teams = {"Children in care": "CLA", "Child protection plan": "CP", "Disabled children's team": "CIN",
             "Leaving care team": "CARE_LEAVER"}
    rows = [{"Unique ID": f"A{i}", "Known to children's social care?": "Yes", "Which children's social care team?": t}
            for i, t in enumerate(teams)]
    list1 = write(list_rows(rows), tmp_path / "l1.csv")
    frame = load_caseload(None, contacts_for([r["Unique ID"] for r in rows], tmp_path / "c.csv"),
                          annex=ReadOptions(list1=list1, as_of=AS_OF)).frame
    assert frame["social_care"].tolist() == list(teams.values())


def test_ap_register_marks_ap_settings(tmp_path: Path) -> None:
    rows = [{"Unique ID": "A1", "Main education establishment – URN": "555"}, {"Unique ID": "A2"}]
    register = write(pd.DataFrame({"URN": ["555"]}), tmp_path / "ap.csv")
    frame = load_caseload(None, contacts_for(["A1", "A2"], tmp_path / "c.csv"), annex=ReadOptions(
        list2=write(list_rows(rows, list1=False), tmp_path / "l2.csv"), as_of=AS_OF, ap_urns=register)).frame
    assert frame["setting_type"].tolist() == ["AP", "MAINSTREAM"]
    assert frame["plan_status"].tolist() == ["SEN_SUPPORT", "SEN_SUPPORT"]


def test_a_total_under_an_annex_a_list_is_one_error_naming_the_row(tmp_path: Path) -> None:
    # The sample's List 1 with a total under it: one error saying what the row seems to be, not
    # an empty date of birth, an unmapped need and phase and four rules broken.
    frame = pd.read_csv(ANNEX / "list1.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    total = {column: "" for column in frame.columns} | {"Unique ID": f"Total: {len(frame)}"}
    list1 = tmp_path / "list1.csv"
    pd.concat([frame, pd.DataFrame([total])]).to_csv(list1, index=False)
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(None, ANNEX / "contacts.csv", annex=ReadOptions(list1=list1, list2=ANNEX / "list2.csv",
                                                                      as_of=AS_OF))
    table = caught.value.failures
    assert table[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["list1.csv", len(frame) + 2, "Unique ID", f"Total: {len(frame)}",
         ("is the only required cell filled in this row (no Date of birth, SEN primary need or Main education "
          "establishment – phase): a total, heading or note, not a child")]]


def test_unmapped_values_are_reported_with_rows_never_guessed(tmp_path: Path) -> None:
    rows = [{"Unique ID": "A1", "SEN primary need": "Dyslexia"},
            {"Unique ID": "A2", "Main education establishment – phase": "Hospital school"},
            {"Unique ID": "A3", "Which children's social care team?": "Family support"},
            {"Unique ID": "A4", "SEN primary need": "Dyslexia"}]
    list1 = write(list_rows(rows), tmp_path / "l1.csv")
    with pytest.raises(CaseloadValidationError) as caught:
        load_caseload(None, None, annex=ReadOptions(list1=list1, as_of=AS_OF))
    table = caught.value.failures
    assert table[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["l1.csv", 2, "SEN primary need", "Dyslexia",
         "SEN primary need maps to no SEN2 code (2 row(s) in l1.csv have it)"],
        ["l1.csv", 3, "Main education establishment – phase", "Hospital school",
         "phase maps to no setting type (1 row(s) in l1.csv have it)"],
        ["l1.csv", 4, "Which children's social care team?", "Family support",
         "social care team maps to no code (1 row(s) in l1.csv have it)"],
        ["l1.csv", 5, "SEN primary need", "Dyslexia",
         "SEN primary need maps to no SEN2 code (2 row(s) in l1.csv have it)"],
    ]


def test_an_edited_mapping_maps_them(tmp_path: Path) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[primary_need]\n"Dyslexia" = "SPLD"\n[setting_type]\n"Hospital school" = "OTHER"\n')
    rows = [{"Unique ID": "A1", "SEN primary need": "Dyslexia", "Main education establishment – phase": "Hospital school"}]
    frame = load_caseload(None, contacts_for(["A1"], tmp_path / "c.csv"), annex=ReadOptions(
        list1=write(list_rows(rows), tmp_path / "l1.csv"), as_of=AS_OF, mapping=mapping)).frame
    assert frame[["primary_need", "setting_type"]].values.tolist() == [["SPLD", "OTHER"]]
    mapping.write_text('[primary_need]\n"Dyslexia" = "DYS"\n')
    with pytest.raises(InputError, match=r"m\.toml: line 2: \[primary_need\] 'Dyslexia' = 'DYS' is not one of"):
        load_mapping(mapping)
    mapping.write_text('primary_need = "SPLD"\n')  # a key where a table belongs
    with pytest.raises(InputError, match=r"m\.toml: line 1: primary_need = 'SPLD' is not a table: write \[primary_"):
        load_mapping(mapping)


def test_every_problem_of_a_mapping_file_is_said_at_once_with_its_line(tmp_path: Path) -> None:
    # An analyst's edits with three slips: each run named the first alone, so three runs to find them.
    mapping = tmp_path / "m.toml"
    mapping.write_text('[primary_need]\n"Dyslexia" = "SPLD"\n"Autism" = "AUTISM"\n\n[socialcare]\n"CIN team" = "CIN"\n'
                       '[setting_type]\n"Pupil referral unit" = "PRU"\n')
    with pytest.raises(InputError) as raised:
        load_mapping(mapping)
    assert raised.value.message.splitlines() == [
        "m.toml: 3 problems in the mapping:",
        ("  - line 3: [primary_need] 'Autism' = 'AUTISM' is not one of SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH "
        "NSA; did you mean 'ASD'?"),
        "  - line 5: unknown table [socialcare]; did you mean [social_care]?",
        ("  - line 8: [setting_type] 'Pupil referral unit' = 'PRU' is not one of EARLY_YEARS MAINSTREAM RESOURCED "
        "SPECIAL INDEPENDENT AP FE TRAINING EHE NOT_IN_EDUCATION CUSTODY OTHER; did you mean 'AP'?")]
    assert raised.value.fix == "Correct the mapping file at the lines named."


def test_child_on_both_lists_keeps_the_ehc_plan_row(tmp_path: Path) -> None:
    list1 = write(list_rows([{"Unique ID": "A1", "SEN primary need": "PD"}]), tmp_path / "l1.csv")
    list2 = write(list_rows([{"Unique ID": "A1"}, {"Unique ID": "B2"}], list1=False), tmp_path / "l2.csv")
    loaded = load_caseload(None, contacts_for(["A1", "B2"], tmp_path / "c.csv"),
                           annex=ReadOptions(list1=list1, list2=list2, as_of=AS_OF))
    assert loaded.frame[["child_id", "plan_status", "primary_need"]].values.tolist() == [
        ["A1", "EHCP", "PD"], ["B2", "SEN_SUPPORT", "ASD"]]
    warning = loaded.warnings.iloc[0]
    assert (warning["file"], warning["row"], warning["value"], warning["problem"]) == (
        "l2.csv", 2, "A1", "child is on both lists; the List 1 (EHC plan) row is used")


def test_identifiers_never_reach_any_output(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "select", "--list1", str(ANNEX / "list1.csv"), "--list2", str(ANNEX / "list2.csv"),
        "--contacts", str(ANNEX / "contacts.csv"), "--out", str(out), "--format", "xlsx,parquet",
        "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    list1 = pd.read_csv(ANNEX / "list1.csv", dtype=str, encoding="utf-8-sig")
    secrets = set(list1["UPN"]) | set(list1["ULN"]) | set(list1["Date of birth"])
    text = "".join(p.read_bytes().decode("utf-8", "replace") for p in out.iterdir() if p.suffix != ".xlsx")
    from openpyxl import load_workbook

    book = load_workbook(out / "cohorts.xlsx")
    text += " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    for header in ("date_of_birth", "upn", "uln", "Date of birth"):
        assert header not in pd.read_csv(out / "cohorts.csv", encoding="utf-8-sig").columns


def test_list_2_alone_says_why_no_child_has_an_ehc_plan(tmp_path: Path) -> None:
    # List 2 is the children at SEN support: given alone, the default "at least 2 with an EHC plan"
    # cannot be met, and the reason names the list that holds them.
    result = CliRunner().invoke(main, ["select", "--list2", str(ANNEX / "list2.csv"), "--contacts",
                                       str(ANNEX / "contacts.csv"), "--out", str(tmp_path / "run"),
                                       "--as-of", "2026-11-01"])
    assert result.exit_code == 3
    assert ("  - at least 2 with plan_status EHCP: 0 eligible CYP have plan_status EHCP, and none in the list at all "
            "(Annex A List 2 alone holds only children at SEN support: give List 1 too, or drop this rule)"
            ) in result.output.splitlines()



def test_lists_given_the_wrong_way_round_are_refused(tmp_path: Path) -> None:
    # The SEN support list given as List 1 and the EHC plans as List 2: read so, every child has
    # the other plan status and nothing else looks wrong, so it is an error naming the fix.
    result = CliRunner().invoke(main, ["validate", "--list1", str(ANNEX / "list2.csv"), "--list2",
                                       str(ANNEX / "list1.csv"), "--as-of", "2026-11-01"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        ("Error: list2.csv and list1.csv seem given the wrong way round: list1.csv, given as List 2 (SEN support), has "
        "List 1's EHC plan columns, and list2.csv, given as List 1 (EHC plans), has none of them; read so, every "
        "child would have the other plan status."),
        "Give list1.csv as List 1 and list2.csv as List 2."]


@pytest.mark.parametrize(("given", "file", "problem"), [
    ("--list1", "list2.csv", ("given as List 1 (EHC plans), the list has none of List 1's EHC plan columns (such as "
     "'Date initial EHC plan issued'), so its children are all read as having EHC plans")),
    ("--list2", "list1.csv", ("given as List 2 (SEN support), the list has List 1's EHC plan columns (such as 'Date "
     "initial EHC plan issued'), so its children are all read as on SEN support"))])
def test_one_list_given_as_the_other_is_a_warning(given: str, file: str, problem: str) -> None:
    # Alone, a list may be the other one or the right one sent without its plan dates: a warning.
    loaded = load_caseload(None, ANNEX / "contacts.csv", annex=ReadOptions(**{given[2:]: ANNEX / file}, as_of=AS_OF))
    first = loaded.warnings.iloc[0]
    assert (first["file"], first["row"], first["problem"]) == (file, 1, problem)
    assert loaded.warnings["problem"].tolist().count(problem) == 1

def test_list_1_given_beside_another_list_1_is_a_warning() -> None:
    # Both files hold EHC plan columns: the one given as List 2 would make its children SEN support.
    loaded = load_caseload(None, ANNEX / "contacts.csv",
                           annex=ReadOptions(list1=ANNEX / "list1.csv", list2=ANNEX / "list1.csv", as_of=AS_OF))
    assert ("given as List 2 (SEN support), the list has List 1's EHC plan columns (such as 'Date initial EHC plan "
            "issued'), so its children are all read as on SEN support") in loaded.warnings["problem"].tolist()


def test_one_workbook_given_as_both_lists_reads_each_its_own_sheet() -> None:
    # annex_a.xlsx holds sheets List_1 and List_2: given as --list1 and --list2, each option read
    # the first sheet, so every child read as a List 1 child 'on both lists', none at SEN support.
    book = ANNEX / "annex_a.xlsx"
    loaded = load_caseload(None, ANNEX / "contacts.csv", annex=ReadOptions(list1=book, list2=book, as_of=AS_OF))
    whole = load_caseload(book, ANNEX / "contacts.csv", annex=ReadOptions(as_of=AS_OF))
    assert loaded.frame["plan_status"].value_counts().to_dict() == whole.frame["plan_status"].value_counts().to_dict()
    assert loaded.frame["plan_status"].value_counts()["SEN_SUPPORT"] > 0
    assert loaded.warnings.empty


def test_a_workbook_whose_sheets_are_named_otherwise_gives_each_list_by_its_headers(tmp_path: Path) -> None:
    # Sheets 'Cover', 'SEN support' and 'EHCPs': the lists are found by their headers, as for the
    # workbook given as the caseload (the cover sheet was read for both, and refused).
    book = tmp_path / "annex.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"Annex A": ["Northshire, 1 November 2026"]}).to_excel(writer, sheet_name="Cover", index=False)
        for sheet, name in (("SEN support", "list2.csv"), ("EHCPs", "list1.csv")):
            pd.read_csv(ANNEX / name, dtype=str, keep_default_na=False).to_excel(writer, sheet_name=sheet, index=False)
    loaded = load_caseload(None, ANNEX / "contacts.csv", annex=ReadOptions(list1=book, list2=book, as_of=AS_OF))
    lists = load_caseload(None, ANNEX / "contacts.csv",
                          annex=ReadOptions(list1=ANNEX / "list1.csv", list2=ANNEX / "list2.csv", as_of=AS_OF))
    assert loaded.frame["plan_status"].value_counts().to_dict() == lists.frame["plan_status"].value_counts().to_dict()
    assert loaded.warnings.empty


def test_a_sheet_named_for_the_lists_is_refused_not_passed_over() -> None:
    # `--sheet` names the caseload's sheet: with the lists alone it was read by nothing, silently.
    result = CliRunner().invoke(main, ["validate", "--list1", str(ANNEX / "annex_a.xlsx"), "--sheet", "List_2"])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        ("Error: The sheet 'List_2' was named for the caseload file, and none is given. The Annex A lists are found "
         "in a workbook by their sheets' names (List_1, List_2) or headers; a SEN2 return has no sheets."),
        "Leave out --sheet, or give the CASELOAD workbook the sheet is in."]


def test_a_workbook_with_its_contacts_on_a_sheet_says_how_to_read_them(tmp_path: Path) -> None:
    # Both lists and the contacts in one workbook, given alone: "no contact file was given" was
    # all it said, though the contacts were in the file given, on a sheet of their own.
    book = tmp_path / "Annex A.xlsx"
    with pd.ExcelWriter(book) as writer:
        for sheet, name in (("List_1", "list1.csv"), ("List_2", "list2.csv"), ("Contacts", "contacts.csv")):
            pd.read_csv(ANNEX / name, dtype=str, keep_default_na=False).to_excel(writer, sheet_name=sheet, index=False)
    result = CliRunner().invoke(main, ["select", str(book), "--out", str(tmp_path / "run"), "--as-of", "2026-11-01"])
    assert result.exit_code == 3 and result.output.splitlines()[-2] == (
        "Error: a cohort of 6 cannot be chosen: only 0 children can be chosen (no contact file was given and the "
        "caseload has no practitioner contact columns, so no child has a contact; the workbook's sheet 'Contacts' "
        "holds practitioners' contacts, read when Annex A.xlsx is given as the contacts file too).")
    checked = CliRunner().invoke(main, ["validate", str(book), "--as-of", "2026-11-01"])
    assert ("so no child has a contact; the workbook's sheet 'Contacts' holds practitioners' contacts, read when "
            "Annex A.xlsx is given as the contacts file too. Give the contacts file") in checked.output
    given = CliRunner().invoke(main, ["select", str(book), "--contacts", str(book), "--out", str(tmp_path / "run"),
                                      "--as-of", "2026-11-01", "--sets", "1"])
    assert given.exit_code == 0, given.output


def test_one_list_given_from_a_workbook_of_both_says_the_other_was_not_read() -> None:
    loaded = load_caseload(None, ANNEX / "contacts.csv",
                           annex=ReadOptions(list1=ANNEX / "annex_a.xlsx", as_of=AS_OF))
    assert set(loaded.frame["plan_status"]) == {"EHCP"}
    said = loaded.warnings.iloc[0]
    assert (said["file"], said["row"], said["problem"], said["fix"]) == (
        "annex_a.xlsx [List_1]", 1, ("the workbook's sheet 'List_2' (List 2 (SEN support)) was not read: only the "
        "list given is"), "To read both, give annex_a.xlsx as List 2 (SEN support) too, or as the caseload alone.")


@pytest.mark.parametrize("written", ["2026-11-01", "01/11/2026", "1/11/2026", "1 November 2026", "1 Nov 2026"])
def test_the_date_ages_are_taken_at_is_read_as_an_analyst_in_england_writes_it(tmp_path: Path, written: str) -> None:
    # '01/11/2026' (day first, as England writes it) was refused: "does not match the format '%Y-%m-%d'".
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["select", "--list1", str(ANNEX / "list1.csv"), "--list2", str(ANNEX / "list2.csv"),
                                       "--contacts", str(ANNEX / "contacts.csv"), "--out", str(out), "--sets", "1",
                                       "--seed", "1", "--as-of", written])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["as_of"] == "2026-11-01"


def test_a_date_that_is_not_one_says_how_to_write_it() -> None:
    result = CliRunner().invoke(main, ["validate", "--list1", str(ANNEX / "list1.csv"), "--as-of", "31/11/2026"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: Invalid value for '--as-of': '31/11/2026' is not a date: give it "
                                              "as 2026-12-01 (or 01/12/2026, or 1 December 2026).")


def test_select_on_the_lists_and_the_workbook_alike(tmp_path: Path) -> None:
    runner = CliRunner()
    for name, args in {"lists": ["--list1", str(ANNEX / "list1.csv"), "--list2", str(ANNEX / "list2.csv")],
                       "workbook": [str(ANNEX / "annex_a.xlsx")]}.items():
        out = tmp_path / name
        result = runner.invoke(main, ["select", *args, "--contacts", str(ANNEX / "contacts.csv"), "--out", str(out),
                                      "--as-of", "2026-11-01", "--sets", "2"])
        assert result.exit_code == 0, result.output
        record = json.loads((out / "run.json").read_text())
        assert record["cohorts"][0]["status"] == "OPTIMAL"
        assert len(record["cohorts"][0]["members"]) == 6
    a = json.loads((tmp_path / "lists" / "run.json").read_text())["cohorts"][0]
    b = json.loads((tmp_path / "workbook" / "run.json").read_text())["cohorts"][0]
    assert a["score"] == b["score"]
    replaced = runner.invoke(main, ["replace", str(tmp_path / "lists"), "--decline", a["members"][0]])
    assert replaced.exit_code == 0, replaced.output


def test_dates_of_birth_that_fail_in_many_rows_are_one_kind_of_error_not_one_value(tmp_path: Path) -> None:
    # No message shows a date of birth, so every failing one is given as '(hidden)': seven
    # different dates were grouped as "one value fails in many rows, fix it once throughout its
    # column (Find and Replace)", which no replacement could do. They are one kind of error.
    written = ["1st May 2015", "20150501", "soon", "unknown", "1/5/15", "May 2015", "5th of May"]
    list1 = write(list_rows([{"Unique ID": f"A{i}", "Date of birth": d} for i, d in enumerate(written)]),
                  tmp_path / "list1.csv")
    result = CliRunner().invoke(main, ["validate", "--list1", str(list1), "--as-of", "2026-11-01"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert not any("Where one value fails in many rows" in line or ("7 rows" in line and "'(hidden)'" in line)
                   for line in lines)
    assert ("    list1.csv: 7 rows, the first row 2, column 'Date of birth': not a date (use 2011-03-04, 04/03/2011 "
            "or 4 March 2011). Correct the date of birth.") in lines


def test_bad_workbook_lists_every_problem_by_sheet_row_and_column(tmp_path: Path) -> None:
    list1 = list_rows([{"Unique ID": "A1", "SEN primary need": "XYZ"},
                       {"Unique ID": "A2", "Date of birth": "1990-01-01"},
                       {"Unique ID": "A3", "Date of birth": "soon"},
                       {"Unique ID": "A4", "Date of birth": ""},
                       {"Unique ID": "A5", "Date of birth": "03/16/2011"}])  # a US system's month first
    list2 = list_rows([{"Unique ID": "B1", "Main education establishment – phase": "???"},
                       {"Unique ID": "B1"}], list1=False)
    book = tmp_path / "annex.xlsx"
    with pd.ExcelWriter(book) as writer:
        list1.to_excel(writer, sheet_name="List_1", index=False)
        list2.to_excel(writer, sheet_name="List_2", index=False)
    result = CliRunner().invoke(main, ["validate", str(book), "--as-of", "2026-11-01"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("  error: ")]
    assert errors == [
        ("  error: annex.xlsx [List_1]: row 2, column 'SEN primary need': 'XYZ' SEN primary need maps to no "
        "SEN2 code (1 row(s) in annex.xlsx [List_1] have it). Use an SEN2 code or name, or add it to "
        "[primary_need] in a mapping file."),
        ("  error: annex.xlsx [List_1]: row 3, column 'Date of birth': 'age 36' older than 25 on 2026-11-01. "
        "Correct the date of birth; the lists cover ages 0 to 25."),
        ("  error: annex.xlsx [List_1]: row 4, column 'Date of birth': '(hidden)' not a date (use 2011-03-04, "
        "04/03/2011 or 4 March 2011). Correct the date of birth."),
        ("  error: annex.xlsx [List_1]: row 5, column 'Date of birth': date of birth is empty. Give the date of "
         "birth (the age is taken from it)."),
        ("  error: annex.xlsx [List_1]: row 6, column 'Date of birth': '(hidden)' not a date day first: the month "
         "seems to come first (as in 03/16/2011 for 16 March 2011). Write the day first (16/03/2011) or as "
         "2011-03-16; if the list came from a system set to US dates, export it with UK dates."),
        ("  error: annex.xlsx [List_2]: row 2, column 'Main education establishment – phase': '???' phase maps to "
        "no setting type (1 row(s) in annex.xlsx [List_2] have it). Add it to [setting_type] in a mapping "
        "file, or give the establishments extract to find it from the URN."),
        ("  error: annex.xlsx [List_2]: row 3, column 'Unique ID': 'B1' Unique ID repeated in List 2. "
        "List each child once."),
    ]
    # The layers below never name flags; the command line says how to give what the fixes ask for.
    assert [line for line in result.stderr.splitlines() if line.startswith("  how: ")] == [
        "  how: give a mapping file with --mapping FILE (`selector annex-a-mapping` writes one to edit).",
        "  how: give the establishments extract (Get Information About Schools) with --establishments FILE.",
    ]
    assert "1990-01-01" not in result.output + result.stderr


def test_annex_a_mapping_command_writes_the_defaults() -> None:
    result = CliRunner().invoke(main, ["annex-a-mapping"])
    assert result.exit_code == 0 and "[primary_need]" in result.output
    assert load_mapping(None).setting_type["pupil referral unit"] == "AP"


def test_data_sample_annex_a_is_what_the_readme_command_makes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["sample", "--rows", "400", "--seed", "1", "--annex-a", str(tmp_path)])
    assert result.exit_code == 0
    for name in ("list1.csv", "list2.csv", "contacts.csv"):
        assert (tmp_path / name).read_bytes() == (ANNEX / name).read_bytes(), name


def test_replace_days_later_takes_ages_on_the_first_runs_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decline a year later must not move a child into another age band: the run records the
    date it took ages at (here today's, no --as-of given) and replace reads the lists on it."""
    import selector.io.annex_a as annex_a

    class Today(dt.date):
        current = dt.date(2026, 9, 1)

        @classmethod
        def today(cls) -> dt.date:
            return cls.current

    monkeypatch.setattr(annex_a.dt, "date", Today)
    workbook = SAMPLE / "annex_a" / "annex_a.xlsx"  # found to be Annex A by its sheets: no Annex A option given
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["select", str(workbook), "--contacts", str(SAMPLE / "annex_a" / "contacts.csv"),
                                       "--out", str(out), "--sets", "1"])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text())
    assert record["input"]["options"]["annex_a"]["as_of"] == "2026-09-01"
    before = pd.read_csv(out / "cohorts.csv", dtype=str, encoding="utf-8-sig").set_index("child_id")

    Today.current = dt.date(2027, 9, 1)  # a year on: every child is a year older today
    first = record["cohorts"][0]["members"][0]
    result = CliRunner().invoke(main, ["replace", str(out), "--decline", first])
    assert result.exit_code == 0, result.output
    after = pd.read_csv(tmp_path / "run-replace-1" / "cohorts.csv", dtype=str, encoding="utf-8-sig")
    kept = after[after["cohort"] == "1"].set_index("child_id")
    kept = kept.loc[kept.index.isin(before.index)]  # the five who stayed (the newcomer is new)
    assert len(kept) == 5
    assert (kept["age"] == before.loc[kept.index, "age"]).all()
    assert json.loads((tmp_path / "run-replace-1" / "run.json").read_text())["input"]["options"]["annex_a"][
        "as_of"] == "2026-09-01"


def test_rows_hidden_in_an_annex_a_workbook_are_read_and_named(tmp_path: Path) -> None:
    # The sample workbook with List_2's rows 4 and 5 hidden by a filter: both children are read,
    # and the warning says so (a filter leaves no child out). Its SEN primary need column is
    # hidden too (read: named), and so is a column of the area's own notes (not read: no word).
    import openpyxl

    book = openpyxl.load_workbook(ANNEX / "annex_a.xlsx")
    sheet = book["List_2"]
    for row in (4, 5):
        sheet.row_dimensions[row].hidden = True
    need = [c.value for c in sheet[1]].index("SEN primary need") + 1
    letter = openpyxl.utils.get_column_letter(need)
    notes = openpyxl.utils.get_column_letter(sheet.max_column + 1)
    sheet[f"{notes}1"] = "Caseworker notes"
    for column in (letter, notes):
        sheet.column_dimensions[column].hidden = True
    path = tmp_path / "annex_a.xlsx"
    book.save(path)
    loaded = load_caseload(path, ANNEX / "contacts.csv", annex=ReadOptions(as_of=AS_OF))
    assert {sheet.cell(row, 1).value for row in (4, 5)} <= set(loaded.frame["child_id"])
    hidden = loaded.warnings[loaded.warnings["problem"].str.contains("hidden in Excel")]
    assert hidden[["file", "row", "column", "problem"]].values.tolist() == [
        ["annex_a.xlsx [List_2]", 4, "",
         "rows 4 to 5 (2 rows) are hidden in Excel (by a filter, or by hand): read like every other row"],
        ["annex_a.xlsx [List_2]", 1, "SEN primary need",
         f"column {letter} (SEN primary need) is hidden in Excel: read like the others"]]


def test_merged_cells_in_an_annex_a_workbook_are_read_as_shown_and_named(tmp_path: Path) -> None:
    # The sample workbook with List_1's SEN primary need merged over its first two children (rows
    # 2-3): Excel shows row 2's need on both; row 3's own need is stored nowhere.
    import openpyxl

    book = openpyxl.load_workbook(ANNEX / "annex_a.xlsx")
    sheet = book["List_1"]
    column = [c.value for c in sheet[1]].index("SEN primary need") + 1
    letter = openpyxl.utils.get_column_letter(column)
    sheet.cell(3, column).value = None
    sheet.merge_cells(f"{letter}2:{letter}3")
    path = tmp_path / "annex_a.xlsx"
    book.save(path)
    loaded = load_caseload(path, ANNEX / "contacts.csv", annex=ReadOptions(as_of=AS_OF))
    ids = [sheet.cell(row, 1).value for row in (2, 3)]
    needs = loaded.frame.set_index("child_id")["primary_need"]
    assert needs[ids[0]] == needs[ids[1]] != ""  # both read with row 2's need, whatever row 3 held
    merges = loaded.warnings[loaded.warnings["problem"].str.startswith("cells ")]
    assert merges[["file", "row", "column", "problem"]].values.tolist() == [
        ["annex_a.xlsx [List_1]", 2, "SEN primary need",
         (f"cells {letter}2:{letter}3 are merged: rows 2 to 3 were each read with the value Excel shows across them "
          f"(that of {letter}2)")]]
