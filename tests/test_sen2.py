"""The SEN2 return as a caseload: the XML and the one-CSV-per-module form give the same children
(worked by hand below), identifiers never reach an output, and unsafe or malformed XML, a wrong
root and an unknown module are refused with a clear error."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from selector.io.options import ReadOptions
from tests.conftest import SAMPLE, load_caseload, run
from tests.test_privacy import everything_written

SEN2 = SAMPLE / "sen2"
GIAS = SAMPLE / "annex_a" / "establishments.csv"

# data/sample/sen2 by hand, on the return's reference date 2026-01-15 (GIAS types from the sample extract):
# NS0001 born 2014-03-10 -> 11; URN 225117 is a pupil referral unit -> AP; needs SEMH (1), SLCN (2)
# NS0002 born 2019-11-02 -> 6; URN 224882 an academy converter -> MAINSTREAM; ASD
# NS0003 born 2008-07-21 -> 17; left the special school 224997 on 2025-07-18, now at 225165 (FE) -> FE; MLD
# NS0004 born 2012-01-15 -> 14 on her birthday; SEN setting EHE, no URN -> EHE; HI
# NS0005 born 2022-05-30 -> 3; SEN setting EYP -> EARLY_YEARS; SLCN
# NS0006 born 2010-09-01 -> 15; URN 224997 a community special school -> SPECIAL; needs ranked PMLD, VI, PD
# NS0007 has a request but no active plan: not in the caseload
# NS0008 born 2013-04-04 -> 12; URN 225085 an independent special school -> INDEPENDENT; ASD
EXPECTED = [
    ["NS0001", 11, "SEMH", "SLCN", "EHCP", "AP", "225117"],
    ["NS0002", 6, "ASD", "", "EHCP", "MAINSTREAM", "224882"],
    ["NS0003", 17, "MLD", "", "EHCP", "FE", "225165"],
    ["NS0004", 14, "HI", "", "EHCP", "EHE", ""],
    ["NS0005", 3, "SLCN", "", "EHCP", "EARLY_YEARS", ""],
    ["NS0006", 15, "PMLD", "VI", "EHCP", "SPECIAL", "224997"],
    ["NS0008", 12, "ASD", "", "EHCP", "INDEPENDENT", "225085"],
]
COLUMNS = ["child_id", "age", "primary_need", "secondary_need", "plan_status", "setting_type", "setting_id"]
IDENTIFIERS = ["Amber", "Alex", "2014-03-10", "ZZ99", "A123456789001", "Hazel"]


@pytest.mark.parametrize(("source", "as_of"), [(SEN2 / "return.xml", None), (SEN2 / "csv", dt.date(2026, 1, 15))],
                         ids=["xml", "csv-modules"])
def test_the_sample_return_reads_as_worked_by_hand(source: Path, as_of: dt.date | None) -> None:
    loaded = load_caseload(None, SEN2 / "contacts.csv", annex=ReadOptions(sen2=source, as_of=as_of,
                                                                           establishments=GIAS))
    assert loaded.frame[COLUMNS].values.tolist() == EXPECTED
    assert loaded.as_of == dt.date(2026, 1, 15)  # the XML's reference date; the CSV form was told
    assert not any(c in loaded.frame.columns for c in ("UPN", "Surname", "PersonBirthDate", "PostCode"))


@pytest.mark.parametrize("given", [[str(SEN2 / "return.xml")], ["--sen2", str(SEN2 / "csv"), "--as-of", "2026-01-15"]],
                         ids=["xml", "csv-modules"])
def test_the_sample_selects_cleanly_and_writes_no_identifier(tmp_path: Path, given: list[str]) -> None:
    out = tmp_path / "run"
    code, stdout, stderr = run("select", *given, "--contacts", str(SEN2 / "contacts.csv"),
                               "--establishments", str(GIAS), "--rules", str(SEN2 / "rules.toml"), "--out", str(out),
                               "--sets", "2", "--format", "xlsx,parquet")
    assert code == 0, stderr
    assert "Cohort 1: score 52 (proved optimal)" in stdout
    written = everything_written(out) + stdout + stderr
    assert not [i for i in IDENTIFIERS if i in written]
    record = json.loads((out / "run.json").read_text())
    if given[0].endswith(".xml"):  # read as SEN2 by its .xml
        assert record["input"]["caseload_path"] == str((SEN2 / "return.xml").resolve())
    else:
        assert record["input"]["options"]["annex_a"]["sen2"] == str((SEN2 / "csv").resolve())
    assert record["input"]["options"]["annex_a"]["as_of"] == record["as_of"] == "2026-01-15"
    code, _, stderr = run("replace", str(out), "--decline", "NS0002")  # read again, alike
    assert code == 0, stderr


def test_the_default_rules_on_a_return_say_why_no_child_is_at_sen_support(tmp_path: Path) -> None:
    # Every child of a return has an EHC plan (or is being assessed): the default "at least 2 at SEN
    # support" cannot be met, and the reason says why and what to do, not only "0 eligible".
    code, _, stderr = run("select", str(SEN2 / "return.xml"), "--contacts", str(SEN2 / "contacts.csv"),
                          "--establishments", str(GIAS), "--out", str(tmp_path / "run"))
    assert code == 3
    assert ("  - at least 2 with plan_status SEN_SUPPORT: 0 eligible CYP have plan_status SEN_SUPPORT, and none in "
            "the list at all (a SEN2 return, or Annex A List 1 alone, holds only children with an EHC plan or being "
            "assessed: give both Annex A lists, or drop this rule)") in stderr.splitlines()
    assert not (tmp_path / "run").exists()


def test_a_placement_given_only_by_urn_needs_the_extract(tmp_path: Path) -> None:
    code, _, stderr = run("validate", "--sen2", str(SEN2 / "return.xml"))
    assert code == 2
    assert ("error: return.xml: row 1, column 'URN': '225117' a placement given by URN only: its setting type is "
            "unknown. Give the establishments extract to find it from the URN.") in stderr
    assert ("  how: give the establishments extract (Get Information About Schools) with --establishments FILE."
            in stderr.splitlines())


def test_an_unmapped_sen_setting_is_an_error_with_its_person(tmp_path: Path) -> None:
    text = (SEN2 / "return.xml").read_text().replace("<SENSetting>EYP</SENSetting>", "<SENSetting>XYZ</SENSetting>")
    (tmp_path / "r.xml").write_text(text)
    code, _, stderr = run("validate", str(tmp_path / "r.xml"), "--establishments", str(GIAS))
    assert code == 2 and "row 5, column 'SENSetting': 'XYZ' SEN setting maps to no setting type" in stderr


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Message><Header><CollectionDetails><Collection>&lol3;</Collection></CollectionDetails></Header></Message>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Message><Header><CollectionDetails><Collection>SEN2</Collection></CollectionDetails></Header>
<Persons><Person><PersonID>&secret;</PersonID></Person></Persons></Message>"""


@pytest.mark.parametrize(("content", "message"), [
    (BOMB, "refused: the XML declares a document type, entities or external references"),
    (EXTERNAL, "refused: the XML declares a document type, entities or external references"),
    ("<Message><Header>", "not well-formed XML (line 1, column 17)"),
    ("<Return><Header/></Return>", "not a SEN2 return (the root is <Return>"),
    ("<Message><Header><CollectionDetails><Collection>CIN</Collection></CollectionDetails></Header></Message>",
     "not a SEN2 return (its collection is CIN; a return is a <Message> whose header names the collection SEN2)"),
    ("<Message><Header><CollectionDetails><Year>2026</Year></CollectionDetails></Header></Message>",
     "not a SEN2 return (its header names no collection in <Header><CollectionDetails><Collection>;"),
    (("<Message><Header><CollectionDetails><Collection>SEN2</Collection></CollectionDetails></Header><Persons>"
     "<Person><Wellbeing><Score>3</Score></Wellbeing></Person></Persons></Message>"),
     "<Wellbeing> inside <Person> is not a SEN2 module this reader knows"),
], ids=["xml-bomb", "external-entity", "malformed", "wrong-root", "other-collection", "no-collection",
    "unknown-module"])
def test_bad_xml_is_refused_with_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "return.xml"
    path.write_text(content)
    code, _, stderr = run("validate", "--sen2", str(path))
    assert code == 2
    assert stderr.startswith(f"Error: return.xml: {message}")
    assert "root:" not in stderr and "lollol" not in stderr  # nothing was expanded or fetched



def test_a_file_that_is_no_xml_given_as_the_return_says_what_to_give(tmp_path: Path) -> None:
    # One module of the CSV form, or the contacts, given as the return: said as what they are,
    # not as XML broken at line 1, column 0.
    folder = _modules(tmp_path)
    code, _, stderr = run("validate", "--sen2", str(folder / "person.csv"))
    assert code == 2 and stderr.splitlines() == [
        ("Error: person.csv is one module of a return given as CSVs: give the folder (or .zip) that holds it with "
        "the other modules.")]
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("practitioner_id,name,email\nP1,Sam Roe,sam@example.org\n")
    code, _, stderr = run("validate", "--sen2", str(contacts))
    assert code == 2 and stderr.splitlines() == [
        ("Error: contacts.csv is not a SEN2 return, which is an XML file, or one CSV per module (person.csv, "
        "requests.csv and the rest) in a folder or a .zip: give one of those (a caseload in selector's own columns "
        "is given as the caseload, not as a SEN2 return).")]

def test_an_unknown_module_file_in_the_csv_form_is_refused(tmp_path: Path) -> None:
    folder = _modules(tmp_path)
    (folder / "wellbeing.csv").write_text("person_id,score\n1,3\n")
    code, _, stderr = run("validate", "--sen2", str(folder), "--establishments", str(GIAS))
    assert code == 2 and stderr.startswith("Error: wellbeing.csv: not a SEN2 module (the module files are person.csv")


def _modules(tmp_path: Path) -> Path:
    """A copy of the sample return's CSV form, to break."""
    folder = tmp_path / "csv"
    folder.mkdir()
    for path in (SEN2 / "csv").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.mark.parametrize("module", ["requests", "active_plans", "placement_detail", "sen_need"])
def test_a_module_file_missing_from_the_csv_form_is_named(tmp_path: Path, module: str) -> None:
    folder = _modules(tmp_path)
    (folder / f"{module}.csv").unlink()
    code, _, stderr = run("validate", "--sen2", str(folder), "--establishments", str(GIAS))
    assert code == 2 and "Traceback" not in stderr
    assert stderr.startswith(f"Error: csv: no {module}.csv: a SEN2 return in CSV form is a folder of one CSV per module")


def test_an_id_that_names_no_row_of_the_linked_module_is_an_error_with_its_file_and_row(tmp_path: Path) -> None:
    # requests.csv row 3 (requests_id 2) names person 99, whom person.csv lacks; active_plans.csv row 8
    # (the plan of NS0008) names request 80, which requests.csv lacks. Both are reported once, by file and row,
    # and the plans hanging from them are not reported again.
    folder = _modules(tmp_path)
    requests = folder / "requests.csv"
    requests.write_text(requests.read_text().replace("\n2,2,", "\n2,99,"))
    plans = folder / "active_plans.csv"
    plans.write_text(plans.read_text().replace("\n7,8", "\n7,80"))
    code, _, stderr = run("validate", "--sen2", str(folder), "--establishments", str(GIAS))
    assert code == 2
    assert stderr.splitlines()[:3] == [
        "2 error(s), 0 warning(s)",
        ("  error: requests.csv: row 3, column 'person_id': '99' names no row of person.csv. Give the person_id of a "
         "row of person.csv."),
        ("  error: active_plans.csv: row 8, column 'requests_id': '80' names no row of requests.csv. Give the "
         "requests_id of a row of requests.csv."),
    ]


@pytest.mark.parametrize(("element", "message"), [
    ("SENneed", "row 1, column 'SENtype': the rank-1 SEN need is missing or not an SEN2 need code"),
    ("PlacementDetail", "row 1, column 'PlacementDetail': no current placement"),
])
def test_a_return_with_no_element_of_a_module_reports_each_child(tmp_path: Path, element: str, message: str) -> None:
    # Every <SENneed> (or <PlacementDetail>) taken out: each of the seven children with a plan lacks it.
    text = re.sub(rf"<{element}>.*?</{element}>", "", (SEN2 / "return.xml").read_text(), flags=re.S)
    (tmp_path / "return.xml").write_text(text)
    code, _, stderr = run("validate", "--sen2", str(tmp_path / "return.xml"), "--establishments", str(GIAS))
    assert code == 2 and "Traceback" not in stderr
    assert stderr.startswith("7 error(s)") and f"error: return.xml: {message}" in stderr


def test_a_persons_field_in_the_csv_form_is_named_by_the_file_and_row_that_hold_it(tmp_path: Path) -> None:
    # "csv: row 2, column 'URN'" sent the analyst to row 2 of a folder: the person's row of person.csv, while
    # the URN is in placement_detail.csv. Now each field's own file and row (the XML keeps the person's place).
    folder = _modules(tmp_path)
    needs = (folder / "sen_need.csv").read_text().splitlines()
    needs[1] = needs[1].replace("SEMH", "SEMHX")  # the first person's rank-1 need, row 2 of sen_need.csv
    (folder / "sen_need.csv").write_text("\n".join(needs) + "\n")
    code, _, stderr = run("validate", "--sen2", str(folder), "--as-of", "2026-01-15")
    assert code == 2
    lines = stderr.splitlines()
    assert ("  error: placement_detail.csv: row 2, column 'URN': '225117' a placement given by URN only: its setting "
            "type is unknown. Give the establishments extract to find it from the URN.") in lines
    assert ("  error: sen_need.csv: row 2, column 'SENtype': 'SEMHX' the rank-1 SEN need is missing or not an SEN2 "
            "need code. Give the SEN need of rank 1 as one of SPLD MLD SLD PMLD SEMH SLCN HI VI MSI PD ASD OTH NSA.") in lines


def test_side_files_in_the_csv_form_are_skipped(tmp_path: Path) -> None:
    # macOS's ._ copy of a module and Excel's owner file of one open in Excel were refused as modules.
    folder = _modules(tmp_path)
    (folder / "._person.csv").write_bytes(b"\x00\x05\x16\x07")
    (folder / "~$sen_need.xlsx").write_bytes(b"\x0bowner")
    loaded = load_caseload(None, SEN2 / "contacts.csv", annex=ReadOptions(sen2=folder, as_of=dt.date(2026, 1, 15),
                                                                          establishments=GIAS))
    assert loaded.frame[COLUMNS].values.tolist() == EXPECTED


def _zipped(tmp_path: Path, members: dict[str, bytes], name: str = "return.zip", password: bool = False) -> Path:
    """A zip of these members (name in the zip -> bytes)."""
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    if password:  # the zip module writes no encrypted member: mark each one as the encrypting tools do
        raw = bytearray(path.read_bytes())
        for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (start := raw.find(signature, start)) >= 0:
                raw[start + flags_at] |= 0x1
                start += 4
        path.write_bytes(bytes(raw))
    return path


SAMPLE_MODULES = {path.name: path.read_bytes() for path in sorted((SEN2 / "csv").iterdir())}


@pytest.mark.parametrize("folder", ["", "csv/"], ids=["flat", "the-folder-zipped"])
def test_the_module_csvs_in_a_zip_read_as_the_folder_does(tmp_path: Path, folder: str, private_tmp: Path) -> None:
    # The page cannot upload a folder: the same modules in a zip (as made of the files, or of the
    # folder itself, with macOS's side folder) give the children worked by hand above.
    members = {folder + name: data for name, data in SAMPLE_MODULES.items()}
    members["__MACOSX/csv/._person.csv"] = b"\x00\x05\x16\x07"
    zipped = _zipped(tmp_path, members)
    loaded = load_caseload(None, SEN2 / "contacts.csv", annex=ReadOptions(sen2=zipped, as_of=dt.date(2026, 1, 15),
                                                                          establishments=GIAS))
    assert loaded.frame[COLUMNS].values.tolist() == EXPECTED
    assert not list(private_tmp.glob("selector-sen2-*"))  # unpacked only while read


def test_a_zip_given_as_the_caseload_selects_and_verifies(tmp_path: Path) -> None:
    zipped = _zipped(tmp_path, SAMPLE_MODULES, name="sen2 modules.zip")
    out = tmp_path / "run"
    code, stdout, stderr = run("select", str(zipped), "--as-of", "2026-01-15", "--contacts", str(SEN2 / "contacts.csv"),
                               "--establishments", str(GIAS), "--rules", str(SEN2 / "rules.toml"), "--out", str(out),
                               "--seed", "3")
    assert code == 0, stderr
    assert stderr.startswith("sen2 modules.zip: 7 rows read, 7 eligible") and "Cohort 1: score 52" in stdout
    record = json.loads((out / "run.json").read_text())
    assert hashlib.sha256(zipped.read_bytes()).hexdigest() in json.dumps(record)
    assert run("verify", str(out))[0] == 0
    assert not [i for i in IDENTIFIERS if i in everything_written(out) + stdout + stderr]
    assert run("replace", str(out), "--decline", "NS0002")[0] == 0  # the zip read again, to its SHA-256


@pytest.mark.parametrize(("members", "password", "message"), [
    (None, False, "cannot be read as a zip (File is not a zip file). Make the zip again from the module CSVs."),
    ({"person.csv": SAMPLE_MODULES["person.csv"]}, True,
     "the zip is password-protected. Make it again without a password."),
    ({"a/person.csv": SAMPLE_MODULES["person.csv"], "b/person.csv": SAMPLE_MODULES["person.csv"]}, False,
     "holds person.csv more than once (in different folders). Put one CSV per module in the zip."),
    ({"person.csv": SAMPLE_MODULES["person.csv"], "requests.csv": SAMPLE_MODULES["requests.csv"]}, False,
     ("no active_plans.csv, placement_detail.csv, sen_need.csv: a SEN2 return in CSV form is a zip of one CSV per "
      "module")),
], ids=["not-a-zip", "password", "two-of-one-name", "modules-missing"])
def test_a_zip_that_is_not_a_return_is_refused_with_a_clear_error(
        tmp_path: Path, members: dict[str, bytes] | None, password: bool, message: str, private_tmp: Path) -> None:
    zipped = tmp_path / "return.zip"
    if members is None:
        zipped.write_bytes(SAMPLE_MODULES["person.csv"])
    else:
        zipped = _zipped(tmp_path, members, password=password)
    code, _, stderr = run("validate", str(zipped), "--establishments", str(GIAS))
    assert code == 2 and stderr.startswith(f"Error: return.zip: {message}"), stderr
    assert not list(private_tmp.glob("selector-sen2-*"))


def test_a_zip_that_unpacks_to_far_more_than_a_return_is_refused(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 MB of zeros weighs 1 KB zipped; the reader stops at its limit (here 100 KB), not at what the zip declares.
    from selector.io import sen2

    monkeypatch.setattr(sen2, "ZIP_UNPACKED_MOST", 100_000)
    zipped = _zipped(tmp_path, {"person.csv": b"0" * 1_000_000})
    code, _, stderr = run("validate", str(zipped))
    assert code == 2 and stderr.startswith("Error: return.zip: unpacks to more than"), stderr


def test_a_zip_whose_module_is_damaged_is_refused_not_a_traceback(tmp_path: Path) -> None:
    zipped = _zipped(tmp_path, {"person.csv": SAMPLE_MODULES["person.csv"] * 40})
    data = bytearray(zipped.read_bytes())
    info = zipfile.ZipFile(zipped).getinfo("person.csv")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for at in range(start + 20, start + 60):  # inside the compressed data: zlib's own error, or a bad CRC
        data[at] ^= 0xA5
    zipped.write_bytes(bytes(data))
    code, _, stderr = run("validate", str(zipped))
    assert code == 2 and stderr.startswith("Error: return.zip: cannot be read as a zip ("), stderr


@pytest.mark.parametrize("namespaced", [
    lambda text: text.replace("<Message>", '<Message xmlns="http://www.example.org/SEN2">', 1),
    lambda text: re.sub(r"<(/?)(\w+)>", r"<\1s:\2>", text).replace(
        "<s:Message>", '<s:Message xmlns:s="http://www.example.org/SEN2">', 1),
], ids=["default-namespace", "prefixed"])
def test_a_return_whose_elements_are_in_a_namespace_reads_as_without_one(tmp_path: Path, namespaced) -> None:
    # Some systems write the return's elements in a namespace (on the root, or prefixed on every
    # tag): the elements are the same, so the children are the same as the plain return's.
    given = tmp_path / "return.xml"
    given.write_text(namespaced((SEN2 / "return.xml").read_text(encoding="utf-8")), encoding="utf-8")
    loaded = load_caseload(None, SEN2 / "contacts.csv", annex=ReadOptions(sen2=given, establishments=GIAS))
    assert loaded.frame[COLUMNS].values.tolist() == EXPECTED
    assert loaded.as_of == dt.date(2026, 1, 15)
