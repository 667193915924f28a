"""Setting type from the URN through a Get Information About Schools extract: the type mapping,
Annex A rows that give only the URN, a stated value winning (with a warning), the contract
caseload's empty cells, and a file that is no extract."""

from __future__ import annotations

import json
import os
from pathlib import Path
from unittest import mock

import pandas as pd

from selector.io.establishments import read_establishments
from selector.io.sample import ANNEX_A_ANCHOR, GIAS_COLUMNS
from selector.io.tables import read_table
from tests.conftest import SAMPLE, caseload_frame, load_caseload, run, write_csv

ANNEX = SAMPLE / "annex_a"
PHASE = "Main education establishment – phase"


def extract(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A GIAS extract (Windows-1252, as GIAS writes it) of (URN, type, type group)."""
    frame = pd.DataFrame([{"URN": urn, "LA (name)": "Northshire", "EstablishmentName": f"School {urn}",
                           "TypeOfEstablishment (name)": kind, "EstablishmentTypeGroup (name)": group,
                           "EstablishmentStatus (name)": "Open", "PhaseOfEducation (name)": "Not applicable"}
                          for urn, kind, group in rows], columns=GIAS_COLUMNS)
    frame.to_csv(path, index=False, encoding="cp1252")
    return path


def test_the_types_of_establishment_map_to_setting_types(tmp_path: Path) -> None:
    path = extract(tmp_path / "gias.csv", [
        ("100001", "Pupil referral unit", "Local authority maintained schools"),         # AP
        ("100002", "Academy alternative provision converter", "Academies"),              # AP, not "an academy"
        ("100003", "Non-maintained special school", "Special schools"),                  # SPECIAL
        ("100004", "Other independent school", "Independent schools"),                   # INDEPENDENT
        ("100005", "Further education", "Colleges"),                                     # FE
        ("100006", "Academy converter", "Academies"),                                    # MAINSTREAM
        ("100007", "Some new special type", "Special schools"),                          # by its group: SPECIAL
        ("100008", "Welsh establishment", "Welsh schools"),                              # nothing known
    ])
    found = read_establishments(path)
    assert found.setting_type == {"100001": "AP", "100002": "AP", "100003": "SPECIAL", "100004": "INDEPENDENT",
                                  "100005": "FE", "100006": "MAINSTREAM", "100007": "SPECIAL", "100008": ""}


def lists_without_ap_phase(tmp_path: Path) -> tuple[Path, Path, int]:
    """The sample lists with the phase of every pupil-referral-unit child blanked: only the URN says AP."""
    paths = []
    blanked = 0
    for name in ("list1.csv", "list2.csv"):
        frame = pd.read_csv(ANNEX / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        ap = frame[PHASE] == "Pupil referral unit"
        blanked += int(ap.sum())
        frame.loc[ap, PHASE] = ""
        frame.to_csv(tmp_path / name, index=False)
        paths.append(tmp_path / name)
    return paths[0], paths[1], blanked


def test_annex_a_rows_with_only_a_urn_find_their_ap_children(tmp_path: Path) -> None:
    list1, list2, blanked = lists_without_ap_phase(tmp_path)
    assert blanked == 11  # 4 on List 1, 7 on List 2 (see the sample)
    args = ["--list1", str(list1), "--list2", str(list2), "--contacts", str(ANNEX / "contacts.csv"),
            "--as-of", ANNEX_A_ANCHOR]
    code, _, stderr = run("validate", *args)
    assert code == 2 and "phase maps to no setting type" in stderr and "--establishments" in stderr
    code, stdout, stderr = run("profile", *args, "--establishments", str(ANNEX / "establishments.csv"))
    assert code == 0, stderr
    assert "at least 1 with setting_type AP: 11 eligible - can be met" in stdout


def test_a_setting_type_the_list_states_wins_with_a_warning(tmp_path: Path) -> None:
    frame = pd.read_csv(ANNEX / "list1.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    special = frame.index[frame[PHASE] == "Special"][0]
    urn = frame.loc[special, "Main education establishment – URN"]
    frame.to_csv(tmp_path / "list1.csv", index=False)
    gias = extract(tmp_path / "gias.csv", [(urn, "Pupil referral unit", "Local authority maintained schools")])
    loaded = load_caseload(None, ANNEX / "contacts.csv", annex=_annex(tmp_path / "list1.csv", gias))
    child = frame.loc[special, "Unique ID"]
    assert loaded.frame.set_index("child_id").loc[child, "setting_type"] == "SPECIAL"
    warnings = loaded.warnings
    conflict = warnings[warnings["problem"].str.contains("gives the URN another")]
    at_urn = frame.index[frame["Main education establishment – URN"] == urn]  # every child at that school
    assert conflict[["row", "column", "value"]].values.tolist() == [[i + 2, PHASE, "SPECIAL"] for i in at_urn]
    assert len(at_urn) > 1


def test_a_phase_of_education_is_refined_by_the_urn(tmp_path: Path) -> None:
    frame = pd.read_csv(ANNEX / "list2.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    primary = frame.index[frame[PHASE] == "Primary"][0]
    urn = frame.loc[primary, "Main education establishment – URN"]
    frame.to_csv(tmp_path / "list2.csv", index=False)
    gias = extract(tmp_path / "gias.csv", [(urn, "Community special school", "Special schools")])
    loaded = load_caseload(None, ANNEX / "contacts.csv", annex=_annex(None, gias, tmp_path / "list2.csv"))
    # "Primary" says only the phase; the URN says a special school: every child at that URN is SPECIAL.
    at_urn = loaded.frame[loaded.frame["setting_id"] == urn]
    assert len(at_urn) >= 1 and set(at_urn["setting_type"]) == {"SPECIAL"}


def test_a_contract_caseload_fills_empty_setting_types_from_the_urn(tmp_path: Path) -> None:
    rows = [{"setting_type": "", "setting_id": "100001"},      # empty: the URN says AP
            {"setting_type": "SPECIAL", "setting_id": "100001"},  # stated: wins, with a warning
            {"setting_type": "MAINSTREAM", "setting_id": "100009"}]  # the extract does not know it
    path = write_csv(tmp_path / "caseload.csv", caseload_frame(rows))
    gias = extract(tmp_path / "gias.csv", [("100001", "Pupil referral unit", "Local authority maintained schools")])
    loaded = load_caseload(path, annex=_annex(None, gias))
    assert loaded.frame["setting_type"].tolist() == ["AP", "SPECIAL", "MAINSTREAM"]
    setting_warnings = loaded.warnings[loaded.warnings["column"] == "setting_type"]
    assert setting_warnings["problem"].tolist() == [
        "the list says SPECIAL but gias.csv makes URN 100001 (Pupil referral unit) AP; the list's value is used"]
    code, _, stderr = run("validate", str(path))
    assert code == 2 and "setting_type" in stderr  # without the extract the empty cell is an error


def test_a_urn_written_as_a_decimal_is_found_in_the_extract(tmp_path: Path) -> None:
    # '100001.0' in the caseload (a script's export) and '100002.0' in the extract: each is the
    # URN it stands for, so both empty setting types are filled.
    rows = [{"setting_type": "", "setting_id": "100001.0"}, {"setting_type": "", "setting_id": "100002"}]
    path = write_csv(tmp_path / "caseload.csv", caseload_frame(rows))
    gias = extract(tmp_path / "gias.csv", [("100001", "Pupil referral unit", "Local authority maintained schools"),
                                           ("100002.0", "Foundation special school", "Special schools")])
    loaded = load_caseload(path, annex=_annex(None, gias))
    assert loaded.frame["setting_type"].tolist() == ["AP", "SPECIAL"]
    assert loaded.frame["setting_id"].tolist() == ["100001", "100002"]

def test_an_empty_setting_type_the_extract_cannot_fill_is_explained_beside_its_error(tmp_path: Path) -> None:
    # Row 2: URN 100009 is not in the extract. Row 3: 100008 is, as a Welsh establishment, which maps to
    # nothing. Both setting types stay empty (errors); the warning saying why is shown right after them,
    # before the other rows' warnings (row 4: a stated type the extract contradicts).
    rows = [{"setting_type": "", "setting_id": "100009"}, {"setting_type": "", "setting_id": "100008"},
            {"setting_type": "SPECIAL", "setting_id": "100001"}]
    path = write_csv(tmp_path / "caseload.csv", caseload_frame(rows))
    gias = extract(tmp_path / "gias.csv", [("100001", "Pupil referral unit", "Local authority maintained schools"),
                                           ("100008", "Welsh establishment", "Welsh schools")])
    code, _, stderr = run("validate", str(path), "--establishments", str(gias), "--allow-missing-contact")
    assert code == 2
    lines = stderr.splitlines()
    assert lines[0].startswith("2 error(s), ")
    assert [line.split(". Give")[0] for line in lines[1:5]] == [
        "  error: caseload.csv: row 2, column 'setting_type': setting_type is empty",
        "  error: caseload.csv: row 3, column 'setting_type': setting_type is empty",
        "  warning: caseload.csv: row 2, column 'setting_id': '100009' URN 100009 is not in gias.csv",
        ("  warning: caseload.csv: row 3, column 'setting_id': '100008' gias.csv gives URN 100008 the type 'Welsh "
        "establishment', which maps to no setting type"),
    ]
    assert lines[5].startswith("  warning: caseload.csv: row 4, column 'setting_type': 'SPECIAL' the list says")


def test_a_batch_reads_the_national_extract_once_per_process_and_again_when_it_changes(tmp_path: Path) -> None:
    # Each area of a batch reads the extract given with --establishments: the same file, with the
    # same mapping, is read once; another mapping, or the file changed, is read again.
    path = extract(tmp_path / "gias.csv", [("100001", "Pupil referral unit", "Other types")])
    with mock.patch("selector.io.establishments.read_table", wraps=read_table) as reader:
        first = read_establishments(path)
        assert read_establishments(path) is first and reader.call_count == 1
        assert read_establishments(path, {"pupil referral unit": "SPECIAL"}).setting_type == {"100001": "SPECIAL"}
        assert reader.call_count == 2
        extract(path, [("100001", "Community special school", "Special schools"), ("100002", "Pupil referral unit",
                                                                                 "Other types")])
        os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000_000))  # a later change, whatever the clock's grain
        again = read_establishments(path)
        assert reader.call_count == 3 and again.setting_type == {"100001": "SPECIAL", "100002": "AP"}
    assert first.setting_type == {"100001": "AP"}


def test_a_file_that_is_no_extract_is_a_clear_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "caseload.csv", caseload_frame([{}]))
    (tmp_path / "gias.csv").write_text("School,Kind\nOak,Primary\n")
    code, _, stderr = run("validate", str(path), "--establishments", str(tmp_path / "gias.csv"))
    assert code == 2
    assert stderr.strip() == ("Error: gias.csv: not a Get Information About Schools extract (it needs the columns "
                              "'URN' and 'TypeOfEstablishment (name)'). Download 'all establishment data' from GIAS.")


def test_the_run_record_keeps_the_extract_for_replace(tmp_path: Path) -> None:
    list1, list2, _ = lists_without_ap_phase(tmp_path)
    out = tmp_path / "run"
    code, _, stderr = run("select", "--list1", str(list1), "--list2", str(list2), "--contacts",
                          str(ANNEX / "contacts.csv"), "--as-of", ANNEX_A_ANCHOR, "--establishments",
                          str(ANNEX / "establishments.csv"), "--out", str(out), "--sets", "1")
    assert code == 0, stderr
    record = json.loads((out / "run.json").read_text())
    assert record["input"]["options"]["annex_a"]["establishments"] == str((ANNEX / "establishments.csv").resolve())
    first = record["cohorts"][0]["members"][0]
    code, _, stderr = run("replace", str(out), "--decline", first)
    assert code == 0, stderr  # read again with the extract, so the AP children are still AP


def _annex(list1: Path | None, establishments: Path, list2: Path | None = None):  # type: ignore[no-untyped-def]
    from selector.io.options import ReadOptions

    return ReadOptions(list1=list1, list2=list2, as_of=None, establishments=establishments)
