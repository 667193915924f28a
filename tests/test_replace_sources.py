"""replace on any run folder: a caseload that moved, and a run downloaded from the web page,
are read from where they are now, and only if they are byte for byte the files the run used."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from selector.app.replace import READ_OPTION_FILES
from selector.io import caseload as caseload_reading
from selector.io.options import READ_OPTIONS
from tests.conftest import SAMPLE, run


def test_a_caseload_that_moved_is_given_where_it_is_now(tmp_path: Path) -> None:
    area = tmp_path / "area"
    area.mkdir()
    for name in ("caseload.csv", "contacts.csv"):
        shutil.copy(SAMPLE / name, area / name)
    out = tmp_path / "run"
    assert run("select", str(area / "caseload.csv"), "--contacts", str(area / "contacts.csv"), "--out", str(out),
               "--sets", "1")[0] == 0
    first = json.loads((out / "run.json").read_text())["cohorts"][0]["members"][0]
    moved = tmp_path / "archive"
    area.rename(moved)
    code, _, stderr = run("replace", str(out), "--decline", first)
    assert code == 2
    assert stderr.splitlines() == [
        f"Error: {area / 'caseload.csv'}: the caseload file {out}/run.json names is missing or not an ordinary file.",
        "If the file moved, give it with --caseload FILE (or --contacts FILE); or choose again."]
    code, stdout, stderr = run("replace", str(out), "--decline", first, "--caseload", str(moved / "caseload.csv"),
                               "--contacts", str(moved / "contacts.csv"))
    assert code == 0, stderr
    assert stdout.startswith(f"Replaced {first} with ")
    record = json.loads((tmp_path / "run-replace-1" / "run.json").read_text())
    assert record["input"]["caseload_path"] == str(moved / "caseload.csv")  # the next replace finds it there


def test_another_file_given_as_the_caseload_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"), "--out", str(out),
               "--sets", "1")[0] == 0
    first = json.loads((out / "run.json").read_text())["cohorts"][0]["members"][0]
    other = tmp_path / "other.csv"
    other.write_text((SAMPLE / "caseload.csv").read_text().replace("Westmoor", "Eastmoor"))
    code, _, stderr = run("replace", str(out), "--decline", first, "--caseload", str(other))
    assert code == 2 and f"{other}: is not the caseload file {out} was chosen from" in stderr
    assert not (tmp_path / "run-replace-1").exists()


def web_download(tmp_path: Path, caseload: Path | None = SAMPLE / "caseload.csv",
                 contacts: Path = SAMPLE / "contacts.csv", **lists: Path) -> Path:
    """A run chosen on the web page from these uploads (the caseload, or `list1` and `list2`), its
    download unzipped: the run folder."""
    pytest.importorskip("flask")
    from selector import web
    from tests.test_web import default_form, post, upload, wait_for_result

    application = web.create_app(tmp_path / "uploads")
    application.config["TESTING"] = True
    client = application.test_client()
    sid = upload(client, caseload=caseload, contacts=contacts, **lists).headers["Location"].rsplit("/", 1)[1]
    post(client, f"/s/{sid}/choose", default_form(sets="1"))
    wait_for_result(client, sid)
    zipfile.ZipFile(io.BytesIO(client.get(f"/s/{sid}/download").data)).extractall(tmp_path / "download")
    return tmp_path / "download" / "selector-run"


def test_a_run_downloaded_from_the_web_page_can_be_replaced(tmp_path: Path) -> None:
    folder = web_download(tmp_path)
    first = json.loads((folder / "run.json").read_text())["cohorts"][0]["members"][0]
    code, _, stderr = run("replace", str(folder), "--decline", first)
    assert code == 2 and "names no caseload file to read again" in stderr and "--caseload FILE" in stderr
    code, stdout, stderr = run("replace", str(folder), "--decline", first, "--caseload", str(SAMPLE / "caseload.csv"),
                               "--contacts", str(SAMPLE / "contacts.csv"))
    assert code == 0, stderr
    assert stdout.startswith(f"Replaced {first} with ")


def test_an_annex_a_run_downloaded_from_the_web_page_verifies_on_another_day(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The page records no paths; it did not record the date the ages were taken at either, so verifying
    # its download days later took them at that later day: a child's birthday in between changed the run.
    workbook, contacts = SAMPLE / "annex_a" / "annex_a.xlsx", SAMPLE / "annex_a" / "contacts.csv"
    folder = web_download(tmp_path, workbook, contacts)
    record = json.loads((folder / "run.json").read_text())
    assert record["input"]["options"]["annex_a"]["as_of"] == record["as_of"] == dt.date.today().isoformat()

    class ADayLater(dt.date):  # a year and a day later: every child's age has moved on
        @classmethod
        def today(cls) -> dt.date:
            return dt.date.fromisoformat(record["as_of"]) + dt.timedelta(days=366)

    monkeypatch.setattr(caseload_reading.dt, "date", ADayLater)
    code, stdout, stderr = run("verify", str(folder), "--caseload", str(workbook), "--contacts", str(contacts))
    assert code == 0, stdout + stderr
    assert stdout.startswith(f"VERIFIED: {folder}")
    # And it can be replaced from: the workbook's lists are hashed together, not as the file (which was
    # refused as "not the caseload file").
    code, stdout, stderr = run("replace", str(folder), "--decline", record["cohorts"][0]["members"][0],
                               "--caseload", str(workbook), "--contacts", str(contacts))
    assert code == 0, stderr


def test_an_annex_a_list_that_moved_is_named(tmp_path: Path) -> None:
    # The lists are read again where the run read them; List 2 moved away: replace and verify name it, not
    # "file not found ... Check the path".
    for name in ("list1.csv", "list2.csv", "contacts.csv"):
        shutil.copy(SAMPLE / "annex_a" / name, tmp_path / name)
    out = tmp_path / "run"
    code, _, stderr = run("select", "--list1", str(tmp_path / "list1.csv"), "--list2", str(tmp_path / "list2.csv"),
                          "--contacts", str(tmp_path / "contacts.csv"), "--as-of", "2026-12-01", "--sets", "1",
                          "--out", str(out))
    assert code == 0, stderr
    (tmp_path / "elsewhere").mkdir()
    shutil.move(tmp_path / "list2.csv", tmp_path / "elsewhere" / "list2.csv")
    member = json.loads((out / "run.json").read_text())["cohorts"][0]["members"][0]
    for command in (["replace", str(out), "--decline", member], ["verify", str(out)]):
        code, _, stderr = run(*command)
        assert code == 2
        assert stderr.splitlines() == [
            f"Error: {(tmp_path / 'list2.csv').resolve()}: the Annex A List 2 {out}/run.json names is missing.",
            ("Give it where it is now (--list1, --list2, --mapping, --ap-urns, --establishments or --sen2), or choose "
            "again.")]
    # Said where it is now, it is read there (its contents must be the run's), and the new run
    # records where it is, so the next replacement finds it.
    now = tmp_path / "elsewhere" / "list2.csv"
    code, stdout, _ = run("verify", str(out), "--list2", str(now))
    assert code == 0 and stdout.startswith(f"VERIFIED: {out}")
    code, _, stderr = run("replace", str(out), "--decline", member, "--list2", str(now))
    assert code == 0, stderr
    record = json.loads((tmp_path / "run-replace-1" / "run.json").read_text())
    assert record["input"]["options"]["annex_a"]["list2"] == str(now.resolve())
    code, _, stderr = run("verify", str(out), "--list2", str(tmp_path / "nowhere.csv"))
    assert code == 2 and stderr.splitlines() == [
        f"Error: {tmp_path / 'nowhere.csv'}: the Annex A List 2 given is not there.", "Check the path."]
    # A file the run did not read is refused: it would change what is chosen.
    code, _, stderr = run("verify", str(out), "--list2", str(now), "--mapping", str(now))
    assert code == 2 and stderr.splitlines() == [
        f"Error: {now}: {out} read no Annex A mapping file.", "Give only the files the run read, where they are now."]


def test_a_run_made_on_the_web_page_from_two_list_files_verifies_and_is_replaced(tmp_path: Path) -> None:
    # The page records no paths: the lists are given where they are now, as a caseload would be.
    annex = SAMPLE / "annex_a"
    folder = web_download(tmp_path, None, annex / "contacts.csv", list1=annex / "list1.csv",
                          list2=annex / "list2.csv")
    code, _, stderr = run("verify", str(folder))
    assert code == 2 and stderr.splitlines() == [
        (f"Error: list1.csv, list2.csv: {folder} was made from the Annex A List 1 list1.csv and the Annex A List 2 "
         "list2.csv, uploaded to the web page; give them as well."),
        "Give each with its option: --list1, --list2, --mapping, --ap-urns, --establishments or --sen2."]
    lists = ["--list1", str(annex / "list1.csv"), "--list2", str(annex / "list2.csv")]
    code, _, stderr = run("verify", str(folder), *lists)
    assert code == 2 and stderr.splitlines() == [
        "Error: contacts.csv: its contacts file was uploaded too; give it as well.",
        "Give the contacts file the run was made from with --contacts FILE."]
    code, stdout, stderr = run("verify", str(folder), *lists, "--contacts", str(annex / "contacts.csv"))
    assert code == 0 and stdout.startswith(f"VERIFIED: {folder}"), stdout + stderr
    member = json.loads((folder / "run.json").read_text())["cohorts"][0]["members"][0]
    code, _, stderr = run("replace", str(folder), "--decline", member, *lists, "--contacts", str(annex / "contacts.csv"))
    assert code == 0, stderr
    code, stdout, stderr = run("verify", f"{folder}-replace-1")
    assert code == 0 and f"VERIFIED: {folder}-replace-1" in stdout, stdout + stderr


def test_every_file_a_run_reads_through_its_options_has_a_name_for_messages() -> None:
    assert set(READ_OPTION_FILES) == set(READ_OPTIONS) - {"as_of"}


def test_a_run_downloaded_from_the_web_page_is_audited_with_its_files(tmp_path: Path) -> None:
    # The page records the names of the files uploaded, not where they are: `audit --lottery-from`
    # alone says to give them, and given them it audits the lottery the download kept.
    folder = web_download(tmp_path)
    code, stdout, stderr = run("audit", "--lottery-from", str(folder), "--out", str(tmp_path / "a"))
    assert code == 2 and stdout == "" and stderr.splitlines()[-2:] == [
        (f"Error: {folder}: made on the web page, whose record keeps the names of the files uploaded, not where they "
        "are."),
        ("Give them as for a new audit, with the folder: selector audit CASELOAD --contacts FILE --lottery-from "
        "RUN_DIR --out DIR.")]
    code, stdout, stderr = run("audit", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                               "--lottery-from", str(folder), "--draws", "50", "--out", str(tmp_path / "a"))
    assert code == 0, stderr
    assert stdout.splitlines()[0] == f"The lottery audited: the one {folder} kept (lottery.json), not worked out again"
