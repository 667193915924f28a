"""selector batch finds every area however the folder or manifest is named: relative, absolute,
`.`, from another folder, with spaces in the name (each run from a working folder other than
the data's), and summary.csv names each caseload as the user gave it."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from selector import app
from tests.conftest import run
from tests.test_batch import write_area

AREAS = ("Eastshire", "Westshire")


def make_areas(folder: Path) -> Path:
    """Two small areas, each with its NAME_contacts.csv, in `folder` (made)."""
    folder.mkdir(parents=True)
    for seed, name in enumerate(AREAS, start=1):
        write_area(folder, name, 120, seed)
    return folder


def summary_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)


# case: (folder of the data relative to the root, working folder relative to the root, the
# folder as typed, how summary.csv names Eastshire's caseload)
FOLDER_FORMS = [
    ("areas", ".", "areas", "areas/Eastshire.csv"),
    ("areas", ".", "./areas", "areas/Eastshire.csv"),
    ("x/areas", "y", "../x/areas", "../x/areas/Eastshire.csv"),
    ("areas", "areas", ".", "Eastshire.csv"),
    ("my areas", ".", "my areas", "my areas/Eastshire.csv"),
]


@pytest.mark.parametrize(("data", "cwd", "typed", "named"), FOLDER_FORMS,
                         ids=["relative", "dot-slash", "up-and-over", "dot", "spaces"])
def test_a_folder_named_any_way_runs_every_area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: str,
                                                cwd: str, typed: str, named: str) -> None:
    make_areas(tmp_path / data)
    (tmp_path / cwd).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / cwd)
    code, stdout, stderr = run("batch", typed, "--out", str(tmp_path / "runs"), "--jobs", "1", "--sets", "1")
    assert code == 0, stderr
    assert "2 of 2 runs succeeded" in stdout
    summary = summary_of(tmp_path / "runs")
    assert summary["status"].tolist() == ["OPTIMAL", "OPTIMAL"]
    assert summary["caseload"].tolist() == [named, named.replace("Eastshire", "Westshire")]


def test_an_absolute_folder_runs_every_area_and_is_named_as_given(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_areas(tmp_path / "areas")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, _, stderr = run("batch", str(folder), "--out", "runs", "--jobs", "2", "--sets", "1")
    assert code == 0, stderr
    summary = summary_of(tmp_path / "elsewhere" / "runs")
    assert summary["status"].tolist() == ["OPTIMAL", "OPTIMAL"]
    assert summary["caseload"].tolist() == [str(folder / "Eastshire.csv"), str(folder / "Westshire.csv")]


def test_a_manifest_in_another_folder_reads_its_paths_relative_to_itself(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    make_areas(tmp_path / "data" / "lists")
    manifest = tmp_path / "data" / "areas.csv"
    pd.DataFrame({"area": list(AREAS), "caseload": [f"lists/{a}.csv" for a in AREAS],
                  "contacts": [f"lists/{a}_contacts.csv" for a in AREAS]}).to_csv(manifest, index=False)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    code, _, stderr = run("batch", os.path.join("..", "data", "areas.csv"), "--out", "runs", "--jobs", "1",
                               "--sets", "1")
    assert code == 0, stderr
    summary = summary_of(tmp_path / "work" / "runs")
    assert summary["status"].tolist() == ["OPTIMAL", "OPTIMAL"]
    assert summary["caseload"].tolist() == ["lists/Eastshire.csv", "lists/Westshire.csv"]  # as the manifest has them


def test_a_folder_skips_hidden_and_lock_files_and_keeps_an_areas_own_letters(tmp_path: Path) -> None:
    # Beside the areas: macOS's ._ copy of one (on a shared drive), Excel's ~$ owner file of a workbook that is
    # open, and a hidden file. Each would have been an area that failed. Accented letters stay in folder names.
    folder = make_areas(tmp_path / "areas")
    (folder / "._Eastshire.csv").write_bytes(b"\x00\x05\x16\x07")
    (folder / "~$Westshire.xlsx").write_bytes(b"\x0bowner")
    (folder / ".notes.csv").write_text("a,b\n1,2\n")
    (folder / "Ynys Môn.csv").write_bytes((folder / "Eastshire.csv").read_bytes())
    items = app.plan_batch(folder, tmp_path / "out", app.SelectionParams(seed=1))
    assert [item.name for item in items] == ["Eastshire", "Westshire", "Ynys_Môn"]
