"""Every bad input is a clear error (the file, what is wrong, how to fix), exit 2, never a
traceback: damaged workbooks, ids that lose their zeros, rules with typos, a tampered run.json;
and the web page says the same on the page, removes the upload, and answers only this machine."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import EIGHT, SAMPLE, caseload_frame, load_caseload, run, write_csv


def workbook_bytes(rows: list[list[object]], formats: dict[int, str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Caseload"
    for row in rows:
        sheet.append(row)
    for column, number_format in (formats or {}).items():
        for cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cells[0].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def good_workbook() -> bytes:
    frame = caseload_frame(EIGHT)
    return workbook_bytes([list(frame.columns), *frame.astype(str).values.tolist()])


def zip_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def _binary_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x00")
    return buffer.getvalue()


BAD_WORKBOOKS = {
    "empty": (b"", "caseload.xlsx: the file is empty. Export the list again."),
    "password-protected": (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600,
                           ("caseload.xlsx: the workbook is password-protected (or an old .xls file). Open it in "
                           "Excel, remove the password, and save it as .xlsx.")),
    "zip-renamed": (zip_of("caseload.csv", b"child_id,age\nK1,4\n"),
                    "caseload.xlsx: is a zip file, not an Excel workbook. Give the .xlsx itself."),
    "damaged": (good_workbook()[:700],
                ("caseload.xlsx: cannot be opened as an Excel workbook (BadZipFile). Open it in Excel and save it "
                "again as .xlsx.")),
    "binary-workbook": (_binary_workbook(),
                        ("caseload.xlsx: is an Excel binary workbook (.xlsb), which is not read. In Excel, File > "
                         "Save As, and choose Excel Workbook (.xlsx) or CSV.")),
    "not-a-workbook": (b"<html>an error page saved as .xlsx</html>",
                       ("caseload.xlsx: is not an Excel workbook (damaged, or another kind of file renamed .xlsx). "
                       "Open it in Excel and save it again as .xlsx.")),
}


@pytest.mark.parametrize("kind", list(BAD_WORKBOOKS))
def test_a_bad_workbook_is_exit_2_with_the_file_and_what_is_wrong(tmp_path: Path, kind: str) -> None:
    content, message = BAD_WORKBOOKS[kind]
    path = tmp_path / "caseload.xlsx"
    path.write_bytes(content)
    for command in (["validate", str(path)], ["select", str(path), "--out", str(tmp_path / "o")]):
        code, _, stderr = run(*command)
        assert code == 2
        assert stderr.strip() == f"Error: {message}"
    assert not (tmp_path / "o").exists()


def test_a_libreoffice_or_numbers_spreadsheet_says_how_to_save_it_as_a_workbook(tmp_path: Path) -> None:
    # Both are zips, and were refused as "a zip file, not an Excel workbook. Give the .xlsx
    # itself": an analyst who works in LibreOffice or Numbers has no other .xlsx to give.
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    numbers = zip_of("Index/Document.iwa", b"\x00")
    for name, content, message in [
        ("caseload.ods", ods.getvalue(), ("caseload.ods: is an OpenDocument spreadsheet (LibreOffice Calc's own "
         "format), which is not read. In Calc, File > Save As, and choose Excel 2007-365 (.xlsx) or Text CSV (.csv).")),
        ("caseload.numbers", numbers, ("caseload.numbers: is a Numbers spreadsheet, which is not read. In Numbers, "
         "File > Export To > Excel (or CSV), and give the file it writes."))]:
        path = tmp_path / name
        path.write_bytes(content)
        code, _, stderr = run("validate", str(path))
        assert (code, stderr.strip()) == (2, f"Error: {message}")


def test_a_missing_sheet_names_the_sheets_there_are(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    path.write_bytes(good_workbook())
    code, _, stderr = run("validate", str(path), "--sheet", "List 1")
    assert code == 2 and stderr.strip() == "Error: caseload.xlsx: no sheet named 'List 1'; the sheets are Caseload."


@pytest.mark.parametrize("name", ["caseload.csv", "sen2/return.xml"])
def test_a_sheet_named_for_a_file_without_sheets_is_refused_not_passed_over(name: str) -> None:
    # The CSV export given where the workbook was meant: its rows were read, the sheet named passed over.
    code, stdout, stderr = run("validate", str(SAMPLE / name), "--sheet", "EHCPs")
    file = name.split("/")[-1]
    assert (code, stdout, stderr.splitlines()) == (2, "", [
        (f"Error: The sheet 'EHCPs' was named, and {file} is not a workbook: it has no sheets. The sheet to read is "
        "a workbook's (.xlsx or .xls)."), "Leave out --sheet, or give the CASELOAD workbook the sheet is in."])


def test_a_file_given_that_the_caseload_does_not_read_is_refused_not_left_unread(tmp_path: Path) -> None:
    """An AP URNs file only ever changes Annex A lists, and a mapping a caseload in the contract's
    columns only through the establishments extract: given otherwise, even a broken one would have
    been accepted and changed nothing, which the person who gave it would not expect."""
    broken = tmp_path / "ap.toml"
    broken.write_text("[setting_type\n")
    keep = "Leave it out (it would change nothing), or check that the caseload is the file you meant."
    code, _, stderr = run("validate", str(SAMPLE / "caseload.csv"), "--ap-urns", str(broken))
    assert code == 2 and stderr.splitlines() == [
        ("Error: ap.toml: an AP URNs file is not read with caseload.csv, which is a caseload in selector's own "
        "columns (its setting_type column says who is in AP)."), keep]
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--mapping", str(broken), "--out",
                          str(tmp_path / "run"))
    assert code == 2 and stderr.splitlines() == [
        ("Error: ap.toml: a mapping file is not read with caseload.csv, which is a caseload in selector's own "
        "columns (it holds the codes themselves; a mapping is read with Annex A lists, a SEN2 return or the "
        "establishments extract)."), keep]
    assert not (tmp_path / "run").exists()
    code, _, stderr = run("validate", str(SAMPLE / "sen2" / "return.xml"), "--ap-urns", str(broken))
    assert code == 2 and stderr.splitlines()[0] == (
        "Error: ap.toml: an AP URNs file is not read with return.xml, which is a SEN2 return (its placements' "
        "URNs and setting codes give who is in AP).")
    # With the extract, the mapping types its establishments: it is read (and a broken one says so).
    code, _, stderr = run("validate", str(SAMPLE / "caseload.csv"), "--mapping", str(broken), "--establishments",
                          str(SAMPLE / "annex_a" / "establishments.csv"))
    assert code == 2 and "ap.toml: not valid TOML" in stderr


def test_a_caseload_given_two_ways_is_refused_not_one_left_unread(tmp_path: Path) -> None:
    # A caseload file with --list2 read the list alone, and with --sen2 the return alone, without
    # a word about the file named first.
    once = "Give the caseload one way only: a caseload file, the Annex A lists (one or both), or a SEN2 return."
    code, _, stderr = run("validate", str(SAMPLE / "caseload.csv"), "--list2", str(SAMPLE / "annex_a" / "list2.csv"))
    assert code == 2 and stderr.splitlines() == [
        ("Error: caseload.csv (the caseload) and list2.csv (Annex A) were both given as the caseload: only one would "
        "be read."), once]
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--sen2", str(SAMPLE / "sen2" / "return.xml"),
                          "--list1", str(SAMPLE / "annex_a" / "list1.csv"), "--out", str(tmp_path / "run"))
    assert code == 2 and stderr.splitlines() == [
        ("Error: caseload.csv (the caseload) and list1.csv (Annex A) and return.xml (a SEN2 return) were all given as "
        "the caseload: only one would be read."), once]
    assert not (tmp_path / "run").exists()


def test_a_workbook_given_as_annex_a_lists_gets_the_same_messages(tmp_path: Path) -> None:
    path = tmp_path / "caseload.xlsx"
    path.write_bytes(BAD_WORKBOOKS["password-protected"][0])
    code, _, stderr = run("validate", "--list1", str(path))
    assert code == 2 and "password-protected" in stderr and "Traceback" not in stderr


def test_ids_keep_their_leading_zeros_from_every_format(tmp_path: Path) -> None:
    frame = caseload_frame(EIGHT)
    frame["child_id"] = [f"{i:05d}" for i in range(1, 9)]  # 00001 ... 00008
    header = list(frame.columns)
    # In the workbook: typed as text in one row, as a number formatted 00000 (Excel's way) in the rest.
    rows = [[int(v) if c == "child_id" and i else v for c, v in zip(header, r, strict=True)]
            for i, r in enumerate(frame.astype(str).values.tolist())]
    (tmp_path / "c.xlsx").write_bytes(workbook_bytes([header, *rows], {header.index("child_id") + 1: "00000"}))
    write_csv(tmp_path / "c.csv", frame)
    frame.astype(str).to_parquet(tmp_path / "c.parquet")
    for name in ("c.xlsx", "c.csv", "c.parquet"):
        loaded = load_caseload(tmp_path / name)
        assert loaded.frame["child_id"].tolist() == [f"{i:05d}" for i in range(1, 9)], name
    out = tmp_path / "run"
    assert run("select", str(tmp_path / "c.xlsx"), "--out", str(out), "--sets", "1")[0] == 0
    assert ",00003," in (out / "cohorts.csv").read_text(encoding="utf-8-sig")


def test_every_mistake_in_a_rules_file_is_reported_together_with_its_line(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text(
        "size = 6\n"                          # 1
        "dropped = 5\n"                       # 2: must be a list
        "[[count]]\n"                         # 3
        'column = "setting_typo"\n'           # 4: no such column
        'value = "AP"\n'                      # 5
        "min = 1\n"                           # 6
        "[[count]]\n"                         # 7
        'column = "locality"\n'               # 8
        'value = "Westmor"\n'                 # 9: nobody lives there (a typo of Westmoor)
        "max = 2\n"                           # 10
        "[[spread]]\n"                        # 11
        'column = "setting"\n'                # 12: no such column
        "[objective]\n"                       # 13
        "primary_need = 5\n"                  # 14: must be a table
        "[objective.age_bnd]\n"               # 15: no such column
        "weight = 4\n"                        # 16
        "[objective.locality]\n"              # 17
        "weight = 1000000\n"                  # 18: too large
        "cap = -1\n")                         # 19: negative
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 2
    assert stderr.splitlines() == [
        "Error: r.toml: 8 problems in the rules:",
        "  - line 2, dropped: must be a list of rule names",
        "  - line 4, [[count]] 1, column: the caseload has no column 'setting_typo'; did you mean 'setting_type'?",
        "  - line 9, [[count]] 2, value: no child has 'Westmor' in locality; did you mean 'Westmoor'?",
        "  - line 12, [[spread]] 1, column: the caseload has no column 'setting'; did you mean 'setting_id'?",
        "  - line 14, [objective.primary_need]: must be a table of keys",
        "  - line 15, [objective.age_bnd]: the caseload has no column 'age_bnd'; did you mean 'age_band'?",
        "  - line 18, [objective.locality] weight: must be from 0 to 1000 (got 1000000)",
        "  - line 19, [objective.locality] cap: must be from 0 to 1000 (got -1)",
        "Correct the rules file at the lines named.",
    ]
    assert not (tmp_path / "o").exists()


def test_profile_checks_the_rules_against_the_caseload_too(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text('[[count]]\ncolumn = "plan_stat"\nvalue = "EHCP"\nmin = 2\n')
    code, _, stderr = run("profile", str(SAMPLE / "caseload.csv"), "--rules", str(rules))
    assert code == 2 and "line 2, [[count]] 1, column: the caseload has no column 'plan_stat'" in stderr


# ---------------------------------------------------------------- a tampered run.json

@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("area")
    shutil.copy(SAMPLE / "caseload.csv", folder / "caseload.csv")
    shutil.copy(SAMPLE / "contacts.csv", folder / "contacts.csv")
    out = folder / "runs" / "demo"
    code, _, stderr = run("select", str(folder / "caseload.csv"), "--contacts", str(folder / "contacts.csv"),
                          "--out", str(out), "--sets", "1")
    assert code == 0, stderr
    return out


def edited(run_folder: Path, tmp_path: Path, **changes: str) -> tuple[Path, str]:
    copy = tmp_path / "demo"
    shutil.copytree(run_folder, copy)
    record = json.loads((copy / "run.json").read_text())
    record["input"].update(changes)
    (copy / "run.json").write_text(json.dumps(record))
    return copy, record["cohorts"][0]["members"][0]


def test_a_run_json_pointing_at_another_areas_file_is_refused(run_folder: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-area.csv"
    frame = caseload_frame(EIGHT)
    write_csv(other, frame)
    copy, first = edited(run_folder, tmp_path, caseload_path=str(other))
    code, _, stderr = run("replace", str(copy), "--decline", first)
    assert code == 2
    assert stderr.splitlines() == [
        (f"Error: {other}: is not the caseload file {copy} was chosen from (its contents differ: another area's file, "
        "or a changed list)."),
        ("Give the files as they were when the run was chosen (kept elsewhere, or the analyst's copy). Choosing again "
        "on the changed list draws a new cohort 1: the calls recorded so far stay with this run.")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "other-area.csv"]


def test_a_run_json_pointing_at_a_device_or_a_missing_file_is_refused(run_folder: Path, tmp_path: Path) -> None:
    for target in ("/dev/zero", str(tmp_path / "gone.csv")):
        copy, first = edited(run_folder, tmp_path, caseload_path=target)
        code, _, stderr = run("replace", str(copy), "--decline", first)
        assert code == 2, target
        assert stderr.strip().startswith(f"Error: {target}: the caseload file {copy}/run.json names is missing or "
                                         "not an ordinary file.")
        shutil.rmtree(copy)


def test_a_run_json_with_wrong_types_is_refused(run_folder: Path, tmp_path: Path) -> None:
    copy, first = edited(run_folder, tmp_path, caseload_sha256=["not", "a", "hash"])  # type: ignore[arg-type]
    code, _, stderr = run("replace", str(copy), "--decline", first)
    assert code == 2 and "input.caseload_sha256: must be str" in stderr and "Traceback" not in stderr


# ---------------------------------------------------------------- the web page

@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("flask", reason="the web extra (Flask) is not installed")
    from selector import web

    application = web.create_app(tmp_path / "uploads")
    application.config["TESTING"] = True
    return application.test_client()


def token(client) -> str:  # type: ignore[no-untyped-def]
    return client.application.config["CSRF_TOKEN"]


@pytest.mark.parametrize("kind", list(BAD_WORKBOOKS))
def test_the_web_page_shows_a_bad_workbook_as_a_message_and_removes_it(client, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                      kind: str) -> None:
    content, message = BAD_WORKBOOKS[kind]
    response = client.post("/upload", data={"caseload": (io.BytesIO(content), "caseload.xlsx"),
                                            "csrf_token": token(client)}, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The file cannot be used" in page and message.split(": ", 1)[1][:40] in page
    assert "Traceback" not in page
    assert list((tmp_path / "uploads").iterdir()) == []


def test_every_form_carries_the_token_and_a_post_without_it_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/").get_data(as_text=True)
    assert f'name="csrf_token" value="{token(client)}"' in page
    csv = (SAMPLE / "caseload.csv").read_bytes()
    for sent in ({}, {"csrf_token": "guessed"}):
        response = client.post("/upload", data={"caseload": (io.BytesIO(csv), "c.csv"), **sent},
                               content_type="multipart/form-data")
        assert response.status_code == 403
        assert "did not come from this page" in response.get_data(as_text=True)


def test_a_request_for_another_host_name_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    # DNS rebinding: a page at evil.example whose name now points at 127.0.0.1.
    response = client.get("/", headers={"Host": "evil.example:8765"})
    assert response.status_code == 421
    assert client.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:8765"}).status_code == 200


def test_a_post_from_another_site_is_refused_even_with_the_token(client) -> None:  # type: ignore[no-untyped-def]
    csv = (SAMPLE / "caseload.csv").read_bytes()
    response = client.post("/upload", data={"caseload": (io.BytesIO(csv), "c.csv"), "csrf_token": token(client)},
                           content_type="multipart/form-data", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "other sites are refused" in response.get_data(as_text=True)
    same = client.post("/upload", data={"caseload": (io.BytesIO(csv), "c.csv"), "csrf_token": token(client)},
                       content_type="multipart/form-data", headers={"Origin": "http://127.0.0.1:8765"})
    assert same.status_code == 303
