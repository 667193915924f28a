"""A child's direct identifiers never reach an output or a log, however the header is spelled;
practitioner contacts stay; a look-alike column is kept only when named; data cannot inject
markup or spreadsheet formulas into what we write."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector.contract.columns import normalise_column
from selector.contract.identifiers import identifier_kind
from tests.conftest import EIGHT, caseload_frame, load_caseload, run, write_csv

# Headers as areas really write them (from the issue, and more of each kind).
AS_AREAS_WRITE_THEM = [
    "Post Code", "NHS No", "D.O.B", "Child's Name", "Forename(s)", "Pupil Name", "Unique Pupil Number",
    "Home Address", "Post\u00a0Code", "Child\u2019s Surname", "SURNAME", "Legal name", "Preferred Name",
    "Given names", "Family name", "Date of Birth", "DOB (dd/mm/yyyy)", "Birth date", "Address Line 1",
    "UPN", "ULN", "NHS number", "unique learner number", "Parent phone", "Carer's e-mail", "Home telephone",
    "Mobile (parent)", "Child email",
]


def everything_written(folder: Path) -> str:
    """Every output file's content as text: CSV, Markdown, HTML, SVG, run.json as they are, and the
    workbook's and Parquet's cells read back (both are compressed, so their bytes would hide a leak)."""
    parts = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            parts += [str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row]
            book.close()
        elif path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            parts += [*map(str, frame.columns), frame.to_csv(index=False)]
        else:
            parts.append(path.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


@pytest.mark.parametrize("header", AS_AREAS_WRITE_THEM)
def test_an_identifier_header_as_areas_write_it_is_recognised(header: str) -> None:
    assert identifier_kind(header) is not None


@pytest.mark.parametrize("header", ["practitioner_email", "practitioner_phone", "practitioner_name",
                                    "Lead Practitioner Email", "Key worker phone", "SENCO name", "child_id",
                                    "primary_need", "locality", "setting_id", "services", "age"])
def test_practitioner_contacts_and_contract_columns_are_not_identifiers(header: str) -> None:
    assert identifier_kind(header) is None


def test_identifier_columns_never_reach_an_output_or_the_log(tmp_path: Path) -> None:
    frame = caseload_frame(EIGHT)
    secrets = {}
    for i, header in enumerate(AS_AREAS_WRITE_THEM):
        secrets[header] = [f"secret{i:02d}x{row}" for row in range(len(frame))]
        frame[header] = secrets[header]
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(path), "--out", str(out), "--format", "csv,xlsx,parquet", "--sets", "2")
    assert code == 0, stderr
    written = everything_written(out)
    assert "secret" not in written and "secret" not in stdout + stderr
    # The practitioner's contact (what the consent call needs) is still there.
    assert "p1@example.org" in (out / "contacts.csv").read_text(encoding="utf-8-sig")
    # validate says which columns were dropped, by their headers, without their values.
    code, stdout, stderr = run("validate", str(path))
    assert code == 0
    assert "direct identifier column(s) dropped at load" in stdout + stderr
    assert "Post Code" in stdout + stderr and "secret" not in stdout + stderr


def test_a_duplicated_header_is_an_error_naming_both_columns(tmp_path: Path) -> None:
    path = tmp_path / "caseload.csv"
    frame = caseload_frame(EIGHT).assign(postcode="ZZ1 1ZZ")
    text = frame.to_csv(index=False).replace("postcode", "postcode,postcode", 1)
    path.write_text("\n".join(line if i == 0 else line + ",ZZ9 9ZZ" for i, line in enumerate(text.splitlines())))
    code, stdout, stderr = run("select", str(path), "--out", str(tmp_path / "o"))
    assert code == 2
    assert stderr.strip() == ("Error: caseload.csv: columns 'postcode' and 'postcode' both read as 'postcode'. "
                              "Rename or remove one of them.")
    assert "ZZ" not in stdout + stderr and not (tmp_path / "o").exists()


def test_headers_that_differ_only_in_spelling_are_duplicates_too(tmp_path: Path) -> None:
    frame = caseload_frame(EIGHT)
    frame["Post Code"], frame["post-code"] = "ZZ1 1ZZ", "ZZ1 1ZZ"
    path = write_csv(tmp_path / "caseload.csv", frame)
    code, _, stderr = run("validate", str(path))
    assert code == 2 and "columns 'Post Code' and 'post-code' both read as 'post_code'" in stderr


def test_a_duplicated_header_in_a_workbook_is_an_error(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    frame = caseload_frame(EIGHT)
    sheet.append([*frame.columns, "NHS No", "nhs_no"])
    for row in frame.itertuples(index=False):
        sheet.append([*row, "943 476 5919", "943 476 5919"])
    path = tmp_path / "caseload.xlsx"
    book.save(path)
    code, stdout, stderr = run("validate", str(path))
    assert code == 2 and "columns 'NHS No' and 'nhs_no' both read as 'nhs_no'" in stderr
    assert "943" not in stdout + stderr


def test_a_look_alike_column_is_kept_only_when_named_and_with_a_warning(tmp_path: Path) -> None:
    frame = caseload_frame(EIGHT).assign(**{"Setting Name": "Oak Primary"})
    path = write_csv(tmp_path / "caseload.csv", frame)
    # When unsure (a "name" of something), drop and warn.
    code, _, stderr = run("select", str(path), "--out", str(tmp_path / "a"), "--sets", "1")
    assert code == 0 and "Oak Primary" not in everything_written(tmp_path / "a")
    loaded = load_caseload(path)
    assert "Setting Name" in loaded.warnings["column"].tolist()
    # Named explicitly: kept, written, and the warning says so.
    code, _, stderr = run("select", str(path), "--keep-column", "Setting Name", "--out", str(tmp_path / "b"),
                          "--sets", "1")
    assert code == 0, stderr
    assert "Oak Primary" in (tmp_path / "b" / "cohorts.csv").read_text(encoding="utf-8-sig")
    code, stdout, stderr = run("validate", str(path), "--keep-column", "setting name")
    assert "kept because you asked; they will appear in the outputs" in stdout + stderr
    # A column to keep that is not there is a mistake worth saying.
    code, _, stderr = run("validate", str(path), "--keep-column", "Setting Nmae")
    assert code == 2 and "column(s) to keep are not in the file" in stderr
    assert "Name the column as its header is written (did you mean 'Setting Name' for 'Setting Nmae'?)." in stderr


def test_a_locality_that_is_a_full_postcode_is_an_error_never_quoted(tmp_path: Path) -> None:
    # The locality is written in every output; a home's full postcode points at a few homes. Its
    # district alone is an area, and names are places: both pass.
    places = ["NE1 4XY", "sw1a1aa", "NE1", "Oakham Vale", "Westmoor", "Ward 12", "Hillcrest", "E1"]
    frame = caseload_frame([{**row, "locality": place} for row, place in zip(EIGHT, places, strict=True)])
    path = write_csv(tmp_path / "caseload.csv", frame)
    code, stdout, stderr = run("validate", str(path))
    assert code == 2
    errors = [line for line in stderr.splitlines() if "locality" in line]
    assert errors == [f"  error: caseload.csv: row {row}, column 'locality': locality looks like a full postcode (not "
                      "shown). Give the locality's name, or the postcode district alone (e.g. NE1): a full postcode "
                      "points at a few homes, and the locality is written in every output." for row in (2, 3)]
    assert "4XY" not in stdout + stderr and "1aa" not in stdout + stderr


def test_report_md_carries_no_html_or_links_from_the_data(tmp_path: Path) -> None:
    rows = [dict(r) for r in EIGHT]
    rows[0]["locality"] = "<img src=x onerror=alert(1)>"
    rows[1]["locality"] = "[click me](javascript:alert(1))"
    path = write_csv(tmp_path / "caseload.csv", caseload_frame(rows))
    out = tmp_path / "run"
    assert run("select", str(path), "--out", str(out), "--sets", "1")[0] == 0
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "[click me](" not in markdown and "\\[click me\\](javascript:alert(1))" in markdown
    assert "<img" not in (out / "report.html").read_text(encoding="utf-8")


def test_formulas_are_escaped_in_spreadsheet_headers_as_in_cells(tmp_path: Path) -> None:
    frame = caseload_frame(EIGHT)
    header = '=HYPERLINK("http://evil.example","x")'
    frame[header] = "=1+1"
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    # Only a column the user keeps reaches the outputs at all.
    assert run("select", str(path), "--out", str(out), "--sets", "1", "--format", "xlsx",
               "--keep-column", header)[0] == 0
    header = (out / "cohorts.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert '"\'=HYPERLINK(""http://evil.example"",""x"")"' in header  # as the file writes it, escaped
    book = openpyxl.load_workbook(out / "cohorts.xlsx")
    cells = [c.value for c in book["Cohort 1"][1]]
    assert all(not str(v).startswith(("=", "+", "-", "@")) for v in cells)
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in cells
    assert all(c.data_type != "f" for row in book["Cohort 1"].iter_rows() for c in row)


# ---------------------------------------------------------------- generated headers

FORMS = ["name", "first name", "forename(s)", "surname", "given name", "family name", "preferred name",
         "legal name", "child's name", "pupil name", "full name", "date of birth", "DOB", "D.O.B", "birth date",
         "address line 1", "home address", "postcode", "post code", "UPN", "ULN", "NHS number", "NHS No",
         "unique pupil number", "unique learner number", "parent phone", "family email", "carer mobile",
         "child email", "home telephone", "parent e-mail"]
SEPARATORS = [" ", "_", "-", ".", "\u00a0", "\u2009", "  ", " - "]


@st.composite
def identifier_header(draw: st.DrawFn) -> str:
    """An identifier form as an area might write it: any case, any separator, stray punctuation."""
    form = draw(st.sampled_from(FORMS))
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in form)
    spaced = cased.replace(" ", draw(st.sampled_from(SEPARATORS)))
    before = draw(st.sampled_from(["", " ", "(", "*", "Child ", "CYP ", "\u00a0"]))
    after = draw(st.sampled_from(["", " ", ")", ":", ".", "?", " (if known)", "\u00a0"]))
    return before + spaced + after


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(identifier_header(), min_size=1, max_size=4, unique_by=normalise_column))
def test_no_generated_identifier_header_leaks_into_any_output_or_log(headers: list[str]) -> None:
    frame = caseload_frame(EIGHT)
    for i, header in enumerate(headers):
        frame[header] = [f"leak{i}q{row}z" for row in range(len(frame))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "caseload.csv"
        path.write_bytes(frame.to_csv(index=False).encode())
        out = Path(folder) / "run"
        code, stdout, stderr = run("select", str(path), "--out", str(out), "--format", "csv,xlsx,parquet",
                                   "--sets", "1", "--time-limit", "20")
        assert code == 0, stderr
        assert "leak" not in everything_written(out)
        assert "leak" not in stdout + stderr
        record = json.loads((out / "run.json").read_text())
        assert "leak" not in json.dumps(record)
        code, stdout, stderr = run("validate", str(path), "--failures", str(Path(folder) / "f.csv"))
        assert "leak" not in stdout + stderr + (Path(folder) / "f.csv").read_text(encoding="utf-8-sig")


def test_the_generated_headers_can_fail(tmp_path: Path) -> None:
    """The check above can see a leak: a column the user keeps does reach the outputs."""
    frame = caseload_frame(EIGHT).assign(favourite_colour=[f"leak{i}z" for i in range(8)])
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    assert run("select", str(path), "--out", str(out), "--format", "xlsx,parquet", "--sets", "1",
               "--keep-column", "favourite_colour")[0] == 0
    for name in ("cohorts.csv", "cohorts.xlsx", "cohorts.parquet"):  # the reports show only rule columns
        only = tmp_path / name
        only.mkdir()
        (only / name).write_bytes((out / name).read_bytes())
        assert "leak" in everything_written(only), name


@pytest.mark.parametrize("header", ["DateOfBirth", "PersonBirthDate", "NHSNumber", "EmailAddress", "MobileNumber",
                                    "GuardianName", "HomePostcode", "PupilUPN", "LegalSurname", "StudentName",
                                    "AddressLine1", "ParentCarerName", "ContactTelephone", "UPN1", "ULNNo"])
def test_identifiers_written_together_or_with_digits_are_recognised(header: str) -> None:
    """The second line of defence reads CamelCase and digits as word breaks."""
    assert identifier_kind(header) is not None


# Words a call's note is written in (days, times, year groups, the family's words): none names or
# reaches anyone. A number comes with its word ("24 Nov", "year 12"): bare numbers side by side
# ("12 12 12 12 12") are ten digits, written as a phone number is, and refused as one.
NOTE_WORDS = ["spoke", "to", "mum", "Mum", "dad", "Dad", "carer", "by", "phone", "left", "voicemail", "will",
              "call", "back", "Monday", "Friday", "24 Nov", "3pm", "5PM", "Y11", "after", "school", "agreed",
              "said", "no", "interpreter", "Polish", "speaker", "via", "SENCO", "text", "sent", "again", "on",
              "teacher", "GP", "Surgery", "year 12"]
SAFE_NOTES = st.lists(st.sampled_from(NOTE_WORDS), min_size=1, max_size=12).map(" ".join)
REACHES = st.one_of(
    st.from_regex(r"07\d{3} ?\d{6}", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}@[a-z]{2,8}\.(?:org|com|gov\.uk)", fullmatch=True),
    st.from_regex(r"[A-Z]{1,2}\d{1,2} ?\d[ABD-HJLNP-UW-Z]{2}", fullmatch=True),
    st.sampled_from(["John", "Aisha", "Tomasz", "Priya"]).map(lambda name: f"mum {name}"),
    st.sampled_from(["Jane", "Imran"]).map(lambda name: f"social worker {name}"),
    st.from_regex(r"\d{1,3} [A-Z][a-z]{2,8} (?:Road|Street|Avenue|Close)", fullmatch=True),
    st.from_regex(r"(?:DOB|dob|born) \d{1,2}/\d{1,2}/20\d\d", fullmatch=True))


@settings(max_examples=150, deadline=None)
@given(note=SAFE_NOTES)
def test_a_note_in_everyday_words_is_kept(note: str) -> None:
    from selector.app.consent import note_without_names

    assert note_without_names(note) == note


@settings(max_examples=150, deadline=None)
@given(before=SAFE_NOTES, reaching=REACHES, after=SAFE_NOTES)
def test_a_note_that_reaches_someone_is_refused_wherever_it_says_so(before: str, reaching: str, after: str) -> None:
    # A phone number, an e-mail address, a postcode, a family member's or a professional's name, a
    # house and street or a date of birth, anywhere in a note of everyday words: the history keeps
    # every note for good, so it is refused.
    from selector.app.consent import note_without_names
    from selector.contract.errors import InputError

    with pytest.raises(InputError) as refused:
        note_without_names(f"{before} {reaching}, {after}")
    assert refused.value.code == "named_in_note" and reaching not in refused.value.message
