"""selector batch reads every caseload `select` reads and takes select's options for every area:
SEN2 returns (XML, or a folder of module CSVs) with the establishments extract given once, Annex
A as two files, a manifest's own columns on how to read its area (establishments, mapping,
ap_urns, as_of), and the slack, lottery work, columns kept and seed phrase."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from selector import app
from tests.conftest import SAMPLE, run
from tests.test_batch import write_area

EXTRACT = SAMPLE / "annex_a" / "establishments.csv"
SEN2_RULES = SAMPLE / "sen2" / "rules.toml"  # the default rules less "at least 2 at SEN support"


def summary_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)


def sen2_area(folder: Path, name: str) -> None:
    """The sample SEN2 return as NAME.xml, its contacts as NAME_contacts.csv."""
    shutil.copy(SAMPLE / "sen2" / "return.xml", folder / f"{name}.xml")
    shutil.copy(SAMPLE / "sen2" / "contacts.csv", folder / f"{name}_contacts.csv")


def test_a_folder_runs_its_sen2_returns_with_the_extract_given_once(tmp_path: Path) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Eastshire", 150, 1)
    sen2_area(folder, "Westshire")
    # The same return as one CSV per module, in a folder of its own; a folder of anything else
    # is not an area.
    shutil.copytree(SAMPLE / "sen2" / "csv", folder / "Southshire")
    shutil.copy(SAMPLE / "sen2" / "contacts.csv", folder / "Southshire_contacts.csv")
    # And zipped (as the page takes it).
    shutil.make_archive(str(folder / "Northshire"), "zip", SAMPLE / "sen2" / "csv")
    shutil.copy(SAMPLE / "sen2" / "contacts.csv", folder / "Northshire_contacts.csv")
    (folder / "notes").mkdir()
    (folder / "notes" / "minutes.csv").write_text("a,b\n1,2\n")
    # The extract and mapping kept beside the areas, as an analyst would: they are not areas.
    extract, mapping = folder / "establishments.csv", folder / "mapping.toml"
    shutil.copy(EXTRACT, extract)
    mapping.write_text(run("annex-a-mapping")[1])
    out = tmp_path / "out"
    code, stdout, stderr = run("batch", str(folder), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "4",
                               "--establishments", str(extract), "--mapping", str(mapping), "--as-of", "2026-11-02",
                               "--scenario-rules", str(SEN2_RULES))
    assert code == 0, stderr
    assert stdout.splitlines()[-1] == f"4 of 4 runs succeeded; summary in {out / 'summary.csv'}"
    summary = summary_of(out)
    # The return is an area of its own (it used to be passed over without a word).
    assert summary[["area", "caseload", "status", "rows"]].values.tolist() == [
        ["Eastshire", str(folder / "Eastshire.csv"), "OPTIMAL", "150"],
        ["Northshire", str(folder / "Northshire.zip"), "OPTIMAL", summary["rows"].iloc[3]],
        ["Southshire", str(folder / "Southshire"), "OPTIMAL", summary["rows"].iloc[3]],
        ["Westshire", str(folder / "Westshire.xml"), "OPTIMAL", summary["rows"].iloc[3]]]
    south = json.loads((out / "Southshire__rules" / "run.json").read_text())
    assert south["input"]["options"]["annex_a"]["sen2"] == str(folder / "Southshire")
    record = json.loads((out / "Westshire__rules" / "run.json").read_text())
    read = record["input"]["options"]["annex_a"]
    assert (read["establishments"], read["mapping"], record["as_of"]) == (str(extract), str(mapping), "2026-11-02")
    # The area's folder is checked as any run's: the record says where the extract was.
    assert run("verify", str(out / "Westshire__rules"))[0] == 0


def test_without_the_extract_a_returns_area_fails_and_says_what_to_give(tmp_path: Path) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    sen2_area(folder, "Westshire")
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(folder), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "4")
    assert code == 1
    row = summary_of(out).iloc[0]
    assert (row["area"], row["status"], row["exit_code"]) == ("Westshire", "INVALID_INPUT", "2")
    assert "its setting type is unknown. Give the establishments extract" in row["error"]
    assert "Westshire: INVALID_INPUT" in stderr


def test_a_manifests_columns_say_how_each_area_is_read(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "returns").mkdir(parents=True)
    sen2_area(data / "returns", "Westshire")
    shutil.copy(EXTRACT, data / "gias.csv")
    shutil.copy(SEN2_RULES, data / "sen2_rules.toml")
    shutil.copy(SAMPLE / "annex_a" / "annex_a.xlsx", data / "Northshire.xlsx")
    shutil.copy(SAMPLE / "annex_a" / "contacts.csv", data / "Northshire_contacts.csv")
    (data / "ap.csv").write_text("urn\n100001\n")
    manifest = data / "manifest.csv"
    shutil.copytree(SAMPLE / "sen2" / "csv", data / "returns" / "Southshire")
    pd.DataFrame({
        "area": ["Westshire", "Northshire", "Southshire"],
        "caseload": ["returns/Westshire.xml", "Northshire.xlsx", ""],
        "sen2": ["", "", "returns/Southshire"],  # a SEN2 return as one CSV per module
        "contacts": ["returns/Westshire_contacts.csv", "Northshire_contacts.csv", "returns/Westshire_contacts.csv"],
        "rules": ["sen2_rules.toml", "", "sen2_rules.toml"],
        "establishments": ["gias.csv", "", "gias.csv"],  # relative to the manifest; the second area has none
        "ap_urns": ["", "ap.csv", ""],
        "as_of": ["2026-09-01", "02/11/2026", ""],  # the second as Excel in England writes a date
    }).to_csv(manifest, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "4")
    assert code == 0, stderr
    assert summary_of(out)["status"].tolist() == ["OPTIMAL", "OPTIMAL", "OPTIMAL"]
    west, north = (json.loads((out / area / "run.json").read_text()) for area in ("Westshire", "Northshire"))
    assert (west["as_of"], west["input"]["options"]["annex_a"]["establishments"]) == (
        "2026-09-01", str(data / "gias.csv"))
    assert (north["as_of"], north["input"]["options"]["annex_a"]["establishments"],
            north["input"]["options"]["annex_a"]["ap_urns"]) == ("2026-11-02", None, str(data / "ap.csv"))


def test_a_manifest_date_that_is_no_date_is_refused_before_any_run(tmp_path: Path) -> None:
    # 09/31/2026 (month first, as a system set to US dates writes it) is no day, day first.
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Eastshire", 120, 1)
    manifest = folder / "manifest.csv"
    pd.DataFrame({"area": ["Eastshire"], "caseload": ["Eastshire.csv"], "as_of": ["09/31/2026"]}).to_csv(
        manifest, index=False)
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert code == 2
    assert ("manifest.csv: row 2, column 'as_of': '09/31/2026' is not a date: give it as 2026-12-01 (or 01/12/2026, "
            "or 1 December 2026).") in stderr
    assert not (tmp_path / "out").exists()


def test_the_batchs_own_files_are_made_absolute_for_processes_and_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Eastshire", 120, 1)
    shutil.copy(EXTRACT, tmp_path / "gias.csv")
    monkeypatch.chdir(tmp_path)  # the extract named as typed here; a worker runs in another folder
    items = app.plan_batch(Path("areas"), Path("out"), app.SelectionParams(),
                           read_options=app.ReadOptions(establishments=Path("gias.csv"), as_of=dt.date(2026, 9, 1)))
    options = items[0].request.sources.options
    assert (options.establishments, options.as_of) == (tmp_path / "gias.csv", dt.date(2026, 9, 1))


def test_slack_lottery_work_and_a_kept_column_reach_every_area(tmp_path: Path) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    caseload, _ = write_area(folder, "Eastshire", 150, 1)
    frame = pd.read_csv(caseload, dtype=str, keep_default_na=False)
    frame.assign(**{"Region": [f"Region Q{i}Z" for i in range(len(frame))],
                    "Pupil name": [f"Pupil P{i}Y" for i in range(len(frame))],
                    "Keyworker": [f"Keyworker K{i}X" for i in range(len(frame))]}).to_csv(caseload, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(folder), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "2",
                          "--slack", "5", "--lottery-work", "0.5", "--keep-column", "Region",
                          "--keep-column", "Pupil name")
    assert code == 0, stderr
    # Said once for the batch, with the warning a run of select gives for a header like a child's name.
    assert stderr.splitlines()[:2] == [
        "Kept outside the data contract in every area, as you asked: Region, Pupil name",
        ("Warning: Pupil name: column(s) that look like a child's identifier are kept because you asked; they will "
         "appear in every area's outputs. Keep them only if they identify no child.")]
    record = json.loads((out / "Eastshire" / "run.json").read_text())
    assert (record["params"]["slack"], record["params"]["lottery_work"]) == (5.0, 0.5)
    assert record["input"]["options"]["keep_columns"] == ["Region", "Pupil name"]
    cohort = pd.read_csv(out / "Eastshire" / "cohorts.csv", encoding="utf-8-sig", dtype=str)
    assert cohort["Region"].str.fullmatch(r"Region Q\d+Z").all()  # under its header as written
    # The column not named stays out of every file of the area's folder.
    assert not any(b"Keyworker K" in path.read_bytes() for path in (out / "Eastshire").iterdir())


def test_a_file_a_manifest_names_that_is_missing_is_the_file_its_failure_names(tmp_path: Path) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Eastshire", 120, 1)
    manifest = folder / "manifest.csv"
    manifest.write_text("area,caseload,contacts,establishments\nEastshire,Eastshire.csv,Eastshire_contacts.csv,gias.csv\n")
    out = tmp_path / "out"
    assert run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "1")[0] == 1
    failure = pd.read_csv(out / "failures.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False).iloc[0]
    assert (failure["area"], failure["file"]) == ("Eastshire", "gias.csv")  # not the caseload, which was fine
    assert failure["problem"] == f"gias.csv: file not found ({folder / 'gias.csv'}). Check the path."


def test_a_manifest_names_annex_a_as_two_lists(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("list1.csv", "list2.csv", "contacts.csv", "establishments.csv"):
        shutil.copy(SAMPLE / "annex_a" / name, data / name)
    manifest = data / "manifest.csv"
    manifest.write_text("area,list1,list2,contacts,establishments\n"
                        "Northshire,list1.csv,list2.csv,contacts.csv,establishments.csv\n"
                        "Ehcponly,list1.csv,,contacts.csv,establishments.csv\n")
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "3",
                          "--scenario-rules", str(SEN2_RULES))  # List 1 alone has no one at SEN support
    assert code == 0, stderr
    summary = summary_of(out)
    assert summary[["area", "caseload", "status"]].values.tolist() == [
        ["Northshire", "list1.csv + list2.csv", "OPTIMAL"], ["Ehcponly", "list1.csv", "OPTIMAL"]]
    both, one = (json.loads((out / area / "run.json").read_text())["input"]
                 for area in ("Northshire__rules", "Ehcponly__rules"))
    assert (both["options"]["annex_a"]["list1"], both["options"]["annex_a"]["list2"]) == (
        str(data / "list1.csv"), str(data / "list2.csv"))
    assert both["rows"] > one["rows"] > 0
    # The same lists through select give the same cohort (the batch reads as select reads).
    code, _, _ = run("select", "--list1", str(data / "list1.csv"), "--list2", str(data / "list2.csv"), "--contacts",
                     str(data / "contacts.csv"), "--establishments", str(data / "establishments.csv"), "--rules",
                     str(SEN2_RULES), "--sets", "1", "--seed", "3", "--out", str(tmp_path / "alone"))
    assert code == 0
    chosen = [pd.read_csv(folder / "cohorts.csv", encoding="utf-8-sig", dtype=str)["child_id"].tolist()
              for folder in (out / "Northshire__rules", tmp_path / "alone")]
    assert chosen[0] == chosen[1]


def test_a_manifest_row_with_no_caseload_or_both_kinds_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("area,caseload,list1\nx,,\n")
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path / "out"))
    assert (code, stderr.strip()) == (2, ("Error: m.csv: row 2, columns 'caseload' and 'list1': empty. Give the "
                                         "area's caseload, its Annex A lists or its SEN2 return."))
    manifest.write_text("area,caseload,list1,sen2\nx,a.csv,l1.csv,\n")
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path / "out"))
    assert (code, stderr.strip()) == (2, "Error: m.csv: row 2: both a caseload and Annex A lists. Give one of them.")
    manifest.write_text("area,list2,sen2\nx,l2.csv,return.xml\n")
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path / "out"))
    assert (code, stderr.strip()) == (2, ("Error: m.csv: row 2: both Annex A lists and a SEN2 return. Give one of "
                                         "them."))


def test_a_seed_phrase_makes_each_areas_seed_from_its_own_caseload(tmp_path: Path) -> None:
    """Agreed after the lists were sent, one phrase fixes every area's draw, each area's seed its
    own (the phrase with its caseload's and rules' SHA-256), and anyone can check each as select would."""
    folder = tmp_path / "areas"
    folder.mkdir()
    for seed, name in enumerate(("Eastshire", "Westshire"), start=1):
        write_area(folder, name, 120, seed)
    manifest = folder / "manifest.csv"
    manifest.write_text("area,caseload,contacts,seed\nEastshire,Eastshire.csv,Eastshire_contacts.csv,\n"
                        "Westshire,Westshire.csv,Westshire_contacts.csv,77\n")
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1",
                          "--seed-phrase", "07 19 23 41 44")
    assert code == 0, stderr
    east, west = (json.loads((out / area / "run.json").read_text()) for area in ("Eastshire", "Westshire"))
    assert (east["params"]["seed_source"], east["params"]["seed_phrase"]) == ("phrase", "07 19 23 41 44")
    assert (west["params"]["seed_source"], west["seed"]) == ("given", 77)  # the row's own seed wins
    code, _, _ = run("select", str(folder / "Eastshire.csv"), "--contacts", str(folder / "Eastshire_contacts.csv"),
                     "--sets", "1", "--seed-phrase", "07 19 23 41 44", "--out", str(tmp_path / "alone"))
    alone = json.loads((tmp_path / "alone" / "run.json").read_text())
    assert code == 0 and east["seed"] == alone["seed"]
    assert summary_of(out)["seed"].tolist() == [str(east["seed"]), "77"]
    assert east["cohorts"][0]["members"] == alone["cohorts"][0]["members"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--seed", "3"], "Error: give --seed or --seed-phrase, not both."),
    (["--audit", "10"], "Error: an audit's draws are numbered from --seed; a phrase makes no draw to audit."),
    (["--seeds", "1,2"], "Error: give --seeds or --seed-phrase, not both: each seed of --seeds is a run of every area."),
])
def test_a_seed_phrase_with_a_seed_or_an_audit_is_refused(tmp_path: Path, extra: list[str], message: str) -> None:
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Eastshire", 120, 1)
    code, _, stderr = run("batch", str(folder), "--out", str(tmp_path / "out"), "--seed-phrase", "x y", *extra)
    assert code == 2 and message in stderr
    assert not (tmp_path / "out").exists()


def test_an_area_without_contacts_is_told_where_a_batch_takes_them(tmp_path: Path) -> None:
    # The Annex A workbook carries no contacts: its area failed saying "Give the practitioners'
    # contacts file", with no word of the manifest's `contacts` column a batch reads them from.
    shutil.copy(SAMPLE / "annex_a" / "annex_a.xlsx", tmp_path / "north.xlsx")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"area": ["North"], "caseload": ["north.xlsx"], "as_of": ["2026-11-01"]}).to_csv(manifest, index=False)
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path / "out"), "--jobs", "1", "--seed", "1")
    assert code == 1 and summary_of(tmp_path / "out")["status"].tolist() == ["INFEASIBLE"]
    assert stderr.splitlines()[-1] == (
        "  how: give an area's contacts file in the manifest's `contacts` column, or as NAME_contacts.csv beside its "
        "caseload in a folder (or --allow-missing-contact to choose without).")


def test_a_manifests_sheet_names_where_an_areas_list_is(tmp_path: Path) -> None:
    # Two areas' workbooks open on a sheet of notes, the list on the next. The manifest's `sheet`
    # names it for the first; the second, without one, fails and its error names the sheets.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False).head(400)
    for area in ("East", "West"):
        with pd.ExcelWriter(tmp_path / f"{area}.xlsx") as writer:
            pd.DataFrame({"Read me first": ["Ages at 31 August.", "Extracted 1 December."]}).to_excel(
                writer, sheet_name="Notes", index=False)
            frame.to_excel(writer, sheet_name="Caseload", index=False)
    shutil.copy(SAMPLE / "contacts.csv", tmp_path / "contacts.csv")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"area": ["East", "West"], "caseload": ["East.xlsx", "West.xlsx"],
                  "contacts": ["contacts.csv", "contacts.csv"], "sheet": ["Caseload", ""]}).to_csv(manifest, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "4",
                          "--relax")
    summary = summary_of(out)
    assert code == 1 and summary["status"].tolist() == ["OPTIMAL", "INVALID_INPUT"]
    # How to give the sheet in a batch: the manifest's column (there is no --sheet for every area).
    assert stderr.splitlines()[-1] == ("  how: name an area's sheet in the manifest's `sheet` column (a folder of "
                                       "caseloads has none: list the areas in a manifest).")
    assert json.loads((out / "East" / "run.json").read_text())["input"]["options"]["sheet"] == "Caseload"
    assert ("the first sheet holds none of the required columns; the sheet 'Caseload' holds them all"
            in summary["error"].iloc[1])


def test_an_areas_list_over_two_sheets_fails_with_what_to_do(tmp_path: Path) -> None:
    # EHC plans and SEN support on sheets of their own: the area fails (its first sheet alone
    # would leave the other's children no chance), and summary.csv says what to do about it, not
    # only what is wrong, with the batch's way to give the sheet.
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False).head(400)
    with pd.ExcelWriter(tmp_path / "Split.xlsx") as writer:
        frame[frame["plan_status"] == "EHCP"].to_excel(writer, sheet_name="EHCP", index=False)
        frame[frame["plan_status"] != "EHCP"].to_excel(writer, sheet_name="SEN support", index=False)
    shutil.copy(SAMPLE / "contacts.csv", tmp_path / "contacts.csv")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"area": ["Split"], "caseload": ["Split.xlsx"], "contacts": ["contacts.csv"]}).to_csv(
        manifest, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1")
    summary = summary_of(out)
    ehcp = int((frame["plan_status"] == "EHCP").sum())
    assert code == 1 and summary["error"].tolist() == [
        (f"Split.xlsx: the caseload's columns are on 2 sheets: 'EHCP' ({ehcp} rows) and 'SEN support' ({400 - ehcp} "
        "rows); one sheet is read, and the children on the others could never be chosen. Put every child on one "
        "sheet (copy the rows of the others under the first's), or, if only one sheet is the caseload, give the "
        "sheet to read.")]
    assert stderr.splitlines()[-1] == ("  how: name an area's sheet in the manifest's `sheet` column (a folder of "
                                       "caseloads has none: list the areas in a manifest).")


def test_a_folders_spreadsheets_in_formats_not_read_are_areas_that_fail_with_how_to_save_them(tmp_path: Path) -> None:
    # A national folder where one area sent .xls, one LibreOffice's .ods and one a macro-enabled
    # .xlsm: the first two were passed over without a word (the batch said every run succeeded,
    # two areas short) and the .xlsm too, though `select` reads it. Each is now an area: the
    # .xlsm runs, with its NAME_contacts.xlsm; the others fail, saying how to save them.
    folder = tmp_path / "areas"
    folder.mkdir()
    caseload, contacts = write_area(folder, "North", 300, 2)
    frame = pd.read_csv(caseload, dtype=str, keep_default_na=False)
    frame.to_excel(folder / "West.xlsm", index=False)
    pd.read_csv(contacts, dtype=str, keep_default_na=False).to_excel(folder / "West_contacts.xlsm", index=False)
    (folder / "East.xls").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600)
    with zipfile.ZipFile(folder / "South.ods", "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")
    out = tmp_path / "out"
    code, _, _ = run("batch", str(folder), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "1")
    summary = summary_of(out).set_index("area")
    assert code == 1 and sorted(summary.index) == ["East", "North", "South", "West"]
    assert summary.loc[["North", "West"], "exit_code"].tolist() == ["0", "0"]
    assert summary.loc["East", "error"] == "East.xls: old Excel .xls files are not read. Save it as .xlsx or .csv in Excel."
    assert summary.loc["South", "error"] == (
        "South.ods: is an OpenDocument spreadsheet (LibreOffice Calc's own format), which is not read. In Calc, "
        "File > Save As, and choose Excel 2007-365 (.xlsx) or Text CSV (.csv).")


def test_a_manifest_written_on_windows_names_its_files_with_backslashes(tmp_path: Path) -> None:
    # `areas\North.csv`, as a manifest typed on Windows names it, run on a Linux server: the
    # area failed as "file not found (.../areas\North.csv)". Its backslashes now separate folders
    # when the name as written is no file; a file whose own name holds one is still read as named.
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "North", 300, 2)
    shutil.copy(folder / "North.csv", tmp_path / "odd\\name.csv")
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"area": ["North", "Odd"], "caseload": ["areas\\North.csv", "odd\\name.csv"],
                  "contacts": ["areas\\North_contacts.csv", "areas\\North_contacts.csv"]}).to_csv(manifest, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(manifest), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "1")
    summary = summary_of(out)
    assert code == 0, stderr
    assert summary["caseload"].tolist() == ["areas\\North.csv", "odd\\name.csv"]
    assert int(summary["eligible"].iloc[0]) > 0  # its contacts were read too
