"""Data minimisation: a column the contract does not define reaches no output, log, page or
message, whatever its header, unless the user names it with --keep-column. The headers here are
made up, not taken from any list of identifiers: the rule must not depend on recognising them.

Every check reads what a run leaves as bytes a person could open: each file of the run folder
(a workbook's parts unzipped, a Parquet file both as bytes and read back), the failures table,
what is printed, and the web page's HTML and its download.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from selector.contract.columns import INLINE_CONTACT_COLUMNS, normalise_column
from selector.validate.caseload import CONTRACT_INPUT_COLUMNS
from tests.conftest import EIGHT, SAMPLE, caseload_frame, run, write_csv

ANNEX = SAMPLE / "annex_a"


def bytes_of_run(folder: Path) -> str:
    """Everything a run folder holds, as text: workbooks unzipped part by part, Parquet as its
    bytes and as its cells read back (it may be compressed), every other file as it is."""
    parts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data.startswith(b"PK"):
            with zipfile.ZipFile(path) as archive:
                parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        elif path.suffix == ".parquet":
            parts += [data.decode("latin-1"), pd.read_parquet(path).to_csv(index=False)]
        else:
            parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def with_markers(frame: pd.DataFrame, headers: list[str]) -> pd.DataFrame:
    """The caseload with one column per header, each cell a marker no other text holds: a digit
    between capitals, which no generated header has (one did read `QZX`)."""
    frame = frame.copy()
    for i, header in enumerate(headers):
        frame[header] = [f"Q7Z{i}m{row}KV" for row in range(len(frame))]
    return frame


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=9)


@st.composite
def unlisted_header(draw: st.DrawFn) -> str:
    """A header no list foresaw: made-up words, run together in CamelCase or separated, perhaps
    with digits, in any case."""
    words = draw(st.lists(WORD, min_size=1, max_size=3))
    style = draw(st.sampled_from(["camel", "snake", "spaced", "upper", "lower"]))
    if style == "camel":
        text = "".join(w.capitalize() for w in words)
    elif style == "snake":
        text = "_".join(words)
    elif style == "spaced":
        text = " ".join(w.capitalize() for w in words)
    elif style == "upper":
        text = " ".join(words).upper()
    else:
        text = "".join(words)
    return text + draw(st.sampled_from(["", "1", "2", "No", " (2)", "_id"]))


def _outside_contract(header: str) -> bool:
    name = normalise_column(header)
    return name not in CONTRACT_INPUT_COLUMNS and name not in INLINE_CONTACT_COLUMNS and name != "practitioner_id"


HEADERS = st.lists(unlisted_header().filter(_outside_contract), min_size=1, max_size=4, unique_by=normalise_column)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=HEADERS, fmt=st.sampled_from(["csv", "xlsx", "parquet"]))
@example(headers=["QZX"], fmt="csv")  # a header validate names must not read as a marker
def test_no_unlisted_column_reaches_any_output_whatever_its_header(headers: list[str], fmt: str) -> None:
    frame = with_markers(caseload_frame(EIGHT), headers)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), frame, fmt)
        out = Path(folder) / "run"
        code, stdout, stderr = run("select", str(path), "--out", str(out), "--format", "csv,xlsx,parquet",
                                   "--sets", "2", "--time-limit", "20")
        assert code == 0, stderr
        assert "Q7Z" not in bytes_of_run(out) + stdout + stderr
        failures = Path(folder) / "failures.csv"
        code, stdout, stderr = run("validate", str(path), "--failures", str(failures))
        assert code == 0, stderr
        assert "Q7Z" not in stdout + stderr + failures.read_text(encoding="utf-8-sig")
        # validate lists what it left out, by header (never a value); a made-up header can
        # happen to read as an identifier (`Lastname`), which is said as such.
        said = stdout + stderr
        assert "outside the data contract left out at load" in said or "identifier column(s) dropped at load" in said


def test_a_named_column_is_kept_and_the_run_says_so(tmp_path: Path) -> None:
    frame = with_markers(caseload_frame(EIGHT), ["FavouriteColour", "ShoeSize"])
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    code, _, stderr = run("select", str(path), "--out", str(out), "--sets", "1", "--format", "xlsx,parquet",
                          "--keep-column", "favourite colour")
    assert code == 0, stderr
    assert "Kept outside the data contract, as you asked: FavouriteColour" in stderr
    written = bytes_of_run(out)
    assert "Q7Z0m" in written and "Q7Z1m" not in written  # the named one only
    # Under its header as the file writes it, as the run said it (it was `favouritecolour`).
    assert "FavouriteColour" in pd.read_csv(out / "cohorts.csv", encoding="utf-8-sig").columns
    assert "FavouriteColour" in pd.read_parquet(out / "cohorts.parquet").columns
    sheet = openpyxl.load_workbook(out / "cohorts.xlsx", read_only=True)["Cohort 1"]
    assert "FavouriteColour" in next(sheet.iter_rows(max_row=1, values_only=True))
    # A replacement reads the caseload again and keeps the same column.
    member = pd.read_csv(out / "cohorts.csv", encoding="utf-8-sig")["child_id"].iloc[0]
    code, _, stderr = run("replace", str(out), "--decline", member, "--out", str(tmp_path / "again"))
    assert code == 0, stderr
    again = bytes_of_run(tmp_path / "again")
    assert "Q7Z0m" in again and "Q7Z1m" not in again


def test_a_column_to_keep_named_as_one_of_selectors_own_is_refused(tmp_path: Path) -> None:
    # Kept, `Score` was written over by each cohort's score, `Slot` by the slot, and `Row` and
    # `Eligible` were lost behind selector's own columns, while the run said it kept them.
    frame = with_markers(caseload_frame(EIGHT), ["Score", "Row", "Eligible", "Notes"])
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(path), "--out", str(out), "--keep-column", "score", "--keep-column",
                               "Row", "--keep-column", "eligible", "--keep-column", "notes")
    assert code == 2 and not out.exists()
    assert ("  error: caseload.csv: row 1, column 'Score, Row, Eligible': column(s) to keep have a name selector uses "
            "for a column of its own (score, row, eligible). Rename them in the file (e.g. 'Score' as 'Score (list)'), "
            "or do not keep them.") in (stdout + stderr).splitlines()
    assert "Q7Z" not in stdout + stderr


def test_a_kept_column_that_looks_like_an_identifier_is_warned_about(tmp_path: Path) -> None:
    frame = with_markers(caseload_frame(EIGHT), ["GuardianName"])
    path = write_csv(tmp_path / "caseload.csv", frame)
    code, stdout, stderr = run("validate", str(path), "--keep-column", "GuardianName")
    assert code == 0, stderr
    assert "look like a child's identifier are kept because you asked" in stdout + stderr
    assert "Q7Z" not in stdout + stderr


def _write(folder: Path, frame: pd.DataFrame, fmt: str) -> Path:
    path = folder / f"caseload.{fmt}"
    if fmt == "csv":
        write_csv(path, frame)
    elif fmt == "parquet":
        frame.astype(str).to_parquet(path)
    else:
        frame.astype(str).to_excel(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_each_table_reader_leaves_out_what_the_contract_does_not_define(tmp_path: Path, fmt: str) -> None:
    # Headers areas export that a list of identifiers might miss, and plain unlisted ones.
    headers = ["PersonBirthDate", "GuardianName", "UPN1", "Notes", "Sibling Group", "Zeta9"]
    path = _write(tmp_path, with_markers(caseload_frame(EIGHT), headers), fmt)
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(path), "--out", str(out), "--sets", "1", "--format", "xlsx,parquet")
    assert code == 0, stderr
    assert "Q7Z" not in bytes_of_run(out) + stdout + stderr


def test_annex_a_columns_outside_the_contract_stay_out(tmp_path: Path) -> None:
    """Gender, ethnicity, plan dates, absence and a column of the area's own: none is written."""
    list1 = pd.read_csv(ANNEX / "list1.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    list1["Gender"] = [f"Q7Zg{i}KV" for i in range(len(list1))]
    list1["Ethnicity"] = [f"Q7Ze{i}KV" for i in range(len(list1))]
    list1["Absence"] = [f"Q7Za{i}KV" for i in range(len(list1))]
    list1["KeyWorkerNotes"] = [f"Q7Zn{i}KV" for i in range(len(list1))]
    path = write_csv(tmp_path / "list1.csv", list1)
    out = tmp_path / "run"
    code, stdout, stderr = run("select", "--list1", str(path), "--list2", str(ANNEX / "list2.csv"),
                               "--contacts", str(ANNEX / "contacts.csv"), "--as-of", "2026-11-01",
                               "--out", str(out), "--sets", "1", "--format", "xlsx,parquet")
    assert code == 0, stderr
    assert "Q7Z" not in bytes_of_run(out) + stdout + stderr
    # Kept when named, by the lists' own header.
    code, _, stderr = run("select", "--list1", str(path), "--list2", str(ANNEX / "list2.csv"),
                          "--contacts", str(ANNEX / "contacts.csv"), "--as-of", "2026-11-01",
                          "--out", str(tmp_path / "kept"), "--sets", "1", "--keep-column", "Gender")
    assert code == 0, stderr
    assert "Q7Zg" in (tmp_path / "kept" / "cohorts.csv").read_text(encoding="utf-8-sig")


def test_the_web_page_shows_and_downloads_no_unlisted_column(tmp_path: Path) -> None:
    pytest.importorskip("flask", reason="the web extra (Flask) is not installed")
    from selector import web
    from tests.test_web import default_form, post, upload, wait_for_result

    sample = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    path = write_csv(tmp_path / "caseload.csv", with_markers(sample, ["CarerFullName", "HomeLanguage", "Notes2"]))
    page = web.create_app(tmp_path / "uploads")
    page.config["TESTING"] = True
    client = page.test_client()
    response = upload(client, path, SAMPLE / "contacts.csv")
    assert response.status_code == 303
    sid = response.headers["Location"].rsplit("/", 1)[1]
    seen = client.get(f"/s/{sid}").get_data(as_text=True)
    assert post(client, f"/s/{sid}/choose", default_form(sets="1")).status_code == 303
    seen += wait_for_result(client, sid)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/s/{sid}/download").data))
    for name in archive.namelist():
        data = archive.read(name)
        if data.startswith(b"PK"):
            inner = zipfile.ZipFile(io.BytesIO(data))
            seen += "".join(inner.read(n).decode("utf-8", "replace") for n in inner.namelist())
        else:
            seen += data.decode("utf-8", "replace")
    assert "Cohort 1" in seen
    assert "Q7Z" not in seen
    book = openpyxl.load_workbook(io.BytesIO(archive.read("selector-run/cohorts.xlsx")), read_only=True)
    assert "HomeLanguage" not in [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]


# Headers as school and council systems export them (MIS, case management, health): identifiers,
# near-identifiers and plain extras. Kept apart from any list the code holds.
HELD_OUT = [
    "DateOfBirth", "PersonBirthDate", "NHSNumber", "EmailAddress", "MobileNumber", "GuardianName",
    "HomePostcode", "PupilUPN", "LegalSurname", "StudentName", "AddressLine1", "ParentCarerName",
    "ContactTelephone", "UPN1", "FormerUPN", "ULNNo", "CarerEmail2", "Mother Name", "FatherMobile",
    "Emergency Contact", "EmergencyContactNumber", "Sibling IDs", "GP Practice", "GPSurgery",
    "HospitalNumber", "MosaicID", "LiquidLogicRef", "CaseRef", "Social Worker Notes", "ChildNotes",
    "Religion", "Ethnicity", "EthnicityCode", "Gender", "Sex", "Nationality", "FirstLanguage",
    "HomeLanguage", "FSMEligible", "PupilPremium", "LACStatus", "YearGroup", "TutorGroup", "Form",
    "AdmissionDate", "LeavingDate", "Attendance%", "Exclusions2025", "SafeguardingFlag",
    "Allergies", "Medication", "Photo", "Address 2", "Town", "County", "Flat/House No",
    "Known As", "Preferred Forename", "Middle Names", "Date Of Death",
]


def test_a_held_out_list_of_exported_headers_reaches_no_output(tmp_path: Path) -> None:
    assert len(HELD_OUT) > 42
    frame = with_markers(caseload_frame(EIGHT), HELD_OUT)
    path = write_csv(tmp_path / "caseload.csv", frame)
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(path), "--out", str(out), "--sets", "2", "--format", "xlsx,parquet")
    assert code == 0, stderr
    assert "Q7Z" not in bytes_of_run(out) + stdout + stderr
    code, stdout, stderr = run("validate", str(path), "--failures", str(tmp_path / "f.csv"))
    assert code == 0, stderr
    assert "Q7Z" not in stdout + stderr + (tmp_path / "f.csv").read_text(encoding="utf-8-sig")


def test_validate_says_how_to_keep_a_column_it_left_out(tmp_path: Path) -> None:
    """The reader's warning asks for "a column to keep" in the domain's words; the command line
    names its flag once, after the warnings."""
    frame = with_markers(caseload_frame(EIGHT), ["FavouriteColour"])
    code, stdout, stderr = run("validate", str(write_csv(tmp_path / "caseload.csv", frame)))
    assert code == 0, stderr
    lines = (stdout + stderr).splitlines()
    assert ("  warning: caseload.csv: row 1, column 'FavouriteColour': column(s) outside the data contract left out "
            "at load; they are never written. Nothing to do: selector does not need them. To carry one into the "
            "outputs, name it as a column to keep.") in lines
    assert "  how: name a column to keep with --keep-column HEADER." in lines


def test_every_remedy_a_fix_can_ask_for_is_asked_for_and_said_by_each_front_end() -> None:
    from selector.cli.show import REMEDY_FLAGS
    from selector.contract.failures import REMEDIES

    assert set(REMEDY_FLAGS) == set(REMEDIES)
    sources = "".join(p.read_text(encoding="utf-8") for folder in ("io", "validate", "app")
                      for p in (SAMPLE.parent.parent / "selector" / folder).rglob("*.py"))
    assert [words for words in REMEDIES.values() if words not in sources] == []  # each is asked for somewhere
    web = pytest.importorskip("selector.web", reason="the web extra (Flask) is not installed")
    assert set(web.REMEDY_ON_PAGE) == set(REMEDIES)


def test_a_rule_on_a_column_left_out_says_how_to_keep_it(tmp_path: Path) -> None:
    """The fix is in the domain's words; the command line adds its flag (the page, its own words:
    test_web)."""
    frame = with_markers(caseload_frame(EIGHT), ["Region"])
    rules = tmp_path / "rules.toml"
    rules.write_text('size = 3\n[[count]]\ncolumn = "region"\nvalue = "North"\nmin = 1\n')
    code, _, stderr = run("select", str(write_csv(tmp_path / "caseload.csv", frame)), "--rules", str(rules),
                          "--out", str(tmp_path / "run"))
    assert code == 2, stderr
    assert stderr.splitlines()[-2:] == [
        ("Columns outside the data contract are left out when the caseload is read; to use Region in a rule, name it "
        "as a column to keep."),
        "how: name a column to keep with --keep-column HEADER."]
