"""selector batch: many areas in parallel, failures reported per area, scenario mode."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from selector.io.sample import generate
from tests.conftest import count_calls, load_caseload, run


def write_area(folder: Path, name: str, rows: int, seed: int, drop_ap: bool = False) -> tuple[Path, Path]:
    caseload, contacts = generate(rows, seed, area=name)
    if drop_ap:
        caseload = caseload[caseload["setting_type"] != "AP"]
    caseload_path, contacts_path = folder / f"{name}.csv", folder / f"{name}_contacts.csv"
    caseload.to_csv(caseload_path, index=False)
    contacts.to_csv(contacts_path, index=False)
    return caseload_path, contacts_path


@pytest.fixture
def areas(tmp_path: Path) -> Path:
    """Three areas: a good one, one with bad data, one whose rules cannot be met (no AP)."""
    folder = tmp_path / "areas"
    folder.mkdir()
    write_area(folder, "Northshire", 400, 1)
    bad, _ = write_area(folder, "Badshire", 200, 2)
    frame = pd.read_csv(bad, dtype=str, keep_default_na=False)
    frame.loc[3, "age"] = "31"
    frame.to_csv(bad, index=False)
    write_area(folder, "Noapshire", 200, 3, drop_ap=True)
    manifest = folder / "manifest.csv"
    pd.DataFrame({
        "area": ["Northshire", "Badshire", "Noapshire"],
        "caseload": ["Northshire.csv", "Badshire.csv", "Noapshire.csv"],
        "contacts": ["Northshire_contacts.csv", "Badshire_contacts.csv", "Noapshire_contacts.csv"],
    }).to_csv(manifest, index=False)
    return manifest


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failing_areas_are_reported_and_the_rest_carry_on(areas: Path, tmp_path: Path, jobs: str) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run("batch", str(areas), "--out", str(out), "--jobs", jobs, "--sets", "2")
    assert code == 1  # not every area succeeded
    assert "1 of 3 runs succeeded" in stdout
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False)
    assert summary["area"].tolist() == ["Northshire", "Badshire", "Noapshire"]  # manifest order
    good, bad, impossible = (summary.iloc[i] for i in range(3))
    assert (good["status"], good["exit_code"], int(good["score"]), int(good["rows"])) == ("OPTIMAL", 0, 80, 400)
    assert bad["status"] == "INVALID_INPUT" and bad["exit_code"] == 2
    assert "Badshire.csv: row 5, column 'age': '31' age is outside 0 to 25." in bad["error"]
    assert impossible["status"] == "INFEASIBLE" and impossible["exit_code"] == 3
    assert "at least 1 with setting_type AP: 0 eligible CYP have setting_type AP" in impossible["error"]
    # Its list was read: its rows and eligible children are counted, as select reads them. The bad
    # area's list was not valid, so it has none.
    read = load_caseload(areas.parent / "Noapshire.csv", areas.parent / "Noapshire_contacts.csv")
    assert (impossible["rows"], impossible["eligible"]) == (str(len(read.frame)), str(read.frame["eligible"].sum()))
    assert (bad["rows"], bad["eligible"]) == ("", "")
    assert sorted(p.name for p in out.iterdir()) == ["Northshire", "failures.csv", "summary.csv"]
    record = json.loads((out / "Northshire" / "run.json").read_text())
    assert record["cohorts"][0]["status"] == "OPTIMAL"
    assert "Badshire: INVALID_INPUT" in stderr
    # Each area's lottery and its certificate, as its run.json has them; none for an area that failed.
    lottery = record["lottery"]
    for name in ("smallest", "largest", "bound"):
        assert float(good[f"lottery_{name}"]) == pytest.approx(lottery[name], rel=1e-7), name
    assert float(good["lottery_certified"]) == pytest.approx(lottery["certified"], abs=5e-5)
    assert int(good["lottery_levels"]) == lottery["levels"]
    assert [bad[f"lottery_{n}"] for n in ("smallest", "certified", "levels")] == ["", "", ""]


def test_summary_names_each_area_as_the_manifest_does(areas: Path, tmp_path: Path) -> None:
    # Official names hold commas ("Bristol, City of"): summary.csv and failures.csv keep them, to
    # join back to the analyst's own list; only the run's folder is made safe as a file name.
    manifest = pd.read_csv(areas)
    manifest["area"] = ["Northshire, County of", "Badshire, City of", "Noapshire"]
    manifest.iloc[:2].to_csv(areas, index=False)
    out = tmp_path / "out"
    code, _, stderr = run("batch", str(areas), "--out", str(out), "--sets", "1", "--jobs", "1")
    assert code == 1
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False)
    assert summary[["area", "run_folder"]].values.tolist() == [
        ["Northshire, County of", "Northshire_County_of"], ["Badshire, City of", ""]]  # it failed: no folder
    assert (out / "Northshire_County_of" / "run.json").exists()
    failures = pd.read_csv(out / "failures.csv", encoding="utf-8-sig")
    assert set(failures["area"]) == {"Badshire, City of"}
    assert "  Badshire, City of: INVALID_INPUT: Badshire.csv: 1 problem(s) found" in stderr


def test_all_good_exits_0_and_relax_rescues_the_impossible_area(areas: Path, tmp_path: Path) -> None:
    manifest = pd.read_csv(areas)
    manifest[manifest["area"] != "Badshire"].to_csv(areas, index=False)
    code, stdout, _ = run("batch", str(areas), "--out", str(tmp_path / "out"), "--relax", "--sets", "1")
    assert code == 0, stdout
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig")
    assert summary["status"].tolist() == ["OPTIMAL", "OPTIMAL"]


def test_folder_of_caseloads_pairs_contacts_by_name(areas: Path, tmp_path: Path) -> None:
    (areas.parent / "Badshire.csv").unlink()
    areas.unlink()
    code, _, _ = run("batch", str(areas.parent), "--out", str(tmp_path / "out"), "--sets", "1")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig")
    assert summary["area"].tolist() == ["Noapshire", "Northshire"]
    assert summary["status"].tolist() == ["INFEASIBLE", "OPTIMAL"]
    assert code == 1


def test_scenario_mode_runs_each_rules_file_and_seed(areas: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = pd.read_csv(areas)
    manifest[manifest["area"] == "Northshire"].to_csv(areas, index=False)
    strict = tmp_path / "strict.toml"
    strict.write_text('[[count]]\ncolumn = "social_care"\nvalue = "CLA"\nmin = 1\n')
    small = tmp_path / "small.toml"
    small.write_text("size = 4\n[[count]]\ncolumn = \"setting_type\"\nvalue = \"AP\"\nmin = 1\n")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run("batch", str(areas), "--out", str(out), "--scenario-rules", "strict.toml",
                               "--scenario-rules", str(small), "--seeds", "1,2", "--sets", "1")
    assert code == 0, stdout
    # Each file's [[count]] replaced the defaults whole: said once per file, as select says it of a run.
    assert [line for line in stderr.splitlines() if line.startswith("Note:")] == [
        ("Note: strict.toml gives its own rules in place of the defaults, and none for these, which were not applied: "
        "at least 1 with setting_type AP; at least 2 with plan_status EHCP; at least 2 with plan_status SEN_SUPPORT "
        "(`selector default-rules` prints the defaults, to copy those to keep)."),
        ("Note: small.toml gives its own rules in place of the defaults, and none for these, which were not applied: "
        "at least 2 with plan_status EHCP; at least 2 with plan_status SEN_SUPPORT (`selector default-rules` prints "
        "the defaults, to copy those to keep).")]
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig")
    # The area as the manifest names it; each scenario's run by its folder (and its rules and seed).
    assert summary["area"].tolist() == ["Northshire"] * 4
    assert summary["run_folder"].tolist() == ["Northshire__strict__seed1", "Northshire__strict__seed2",
                                              "Northshire__small__seed1", "Northshire__small__seed2"]
    # Each rules file as the command named it (not made absolute: a home folder may name a person).
    assert summary["rules"].tolist() == ["strict.toml", "strict.toml", str(small), str(small)]
    assert summary["seed"].tolist() == [1, 2, 1, 2]
    strict_run = json.loads((out / "Northshire__strict__seed1" / "run.json").read_text())
    members = strict_run["cohorts"][0]["members"]
    cohorts = pd.read_csv(out / "Northshire__strict__seed1" / "cohorts.csv", encoding="utf-8-sig")
    assert (cohorts[cohorts["child_id"].isin(members)]["social_care"] == "CLA").sum() >= 1
    small_run = json.loads((out / "Northshire__small__seed1" / "run.json").read_text())
    assert len(small_run["cohorts"][0]["members"]) == 4


def test_bad_manifest_is_exit_2(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("area,file\nx,y.csv\n")
    code, _, err = run("batch", str(manifest), "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.strip() == ("Error: m.csv: a manifest needs a 'caseload' column, or 'list1' and/or 'list2' for "
                           "Annex A as two files, or 'sen2' for a SEN2 return (and 'area', optional 'contacts', "
                           "'rules', 'seed', 'establishments', 'mapping', 'ap_urns', 'as_of', 'sheet').")


@pytest.mark.parametrize(("manifest", "extra", "message"), [
    ("area,caseload\nx,a.csv\nx,b.csv\n", [],
     "2 runs would write one folder, 'x': area 'x' (2 times). Give each area a name of its own; letters"),
    # One folder on Windows and macOS, and the same folder once '/' is made '_'.
    ("area,caseload\nX,a.csv\nx,b.csv\n", [], "2 runs would write one folder, 'X': area 'X'; area 'x'. Give"),
    ("area,caseload\nb/c,a.csv\nb_c,b.csv\n", [], "2 runs would write one folder, 'b_c': area 'b/c'; area 'b_c'."),
    # Two scenario rules files with one file name, from two folders.
    ("area,caseload\ny,a.csv\n", ["--scenario-rules", "r1/strict.toml", "--scenario-rules", "r2/strict.toml"],
     ("2 runs would write one folder, 'y__strict': area 'y' with r1/strict.toml; area 'y' with r2/strict.toml. "
     "Give each area a name of its own (and each scenario rules file a file name of its own);")),
    ("area,caseload,seed\ny,a.csv,-5\n", [], "row 2, column 'seed': '-5' is not a whole number from 0 to 2147483647."),
    ("area,caseload,seed\ny,a.csv,2147483648\n", [], "row 2, column 'seed': '2147483648' is not a whole number"),
], ids=["same-area", "case", "slash", "rules-file-names", "negative-seed", "seed-too-large"])
def test_runs_that_would_share_a_folder_or_a_seed_out_of_range_are_refused_before_any_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: str, extra: list[str], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    for folder in ("r1", "r2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "strict.toml").write_text("size = 6\n")
    (tmp_path / "m.csv").write_text(manifest)
    code, _, err = run("batch", "m.csv", "--out", "out", *extra)
    assert code == 2 and err.startswith(f"Error: m.csv: {message}"), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("seeds", "message"), [
    ("1,1", "'1,1' names a seed twice; each seed is one run of every area."),
    ("1,-1", "'1,-1' is not a comma-separated list of whole numbers from 0 to 2147483647."),
])
def test_scenario_seeds_are_distinct_and_in_range(tmp_path: Path, seeds: str, message: str) -> None:
    (tmp_path / "m.csv").write_text("area,caseload\ny,a.csv\n")
    code, _, err = run("batch", str(tmp_path / "m.csv"), "--out", str(tmp_path / "out"), "--seeds", seeds)
    assert code == 2 and err.splitlines()[-1] == f"Error: Invalid value for --seeds: {message}"


def test_failures_csv_has_every_error_of_every_area(areas: Path, tmp_path: Path) -> None:
    bad = areas.parent / "Badshire.csv"  # `areas` is the manifest
    frame = pd.read_csv(bad, dtype=str, keep_default_na=False)
    frame.loc[7, "primary_need"] = "AUT"  # a second error in the same area: the summary shows only the first
    frame.to_csv(bad, index=False)
    out = tmp_path / "out"
    assert run("batch", str(areas), "--out", str(out), "--jobs", "1", "--sets", "1")[0] == 1
    failures = pd.read_csv(out / "failures.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(failures.columns) == ["area", "severity", "file", "row", "column", "value", "problem", "fix"]
    badshire = failures[failures["area"] == "Badshire"]
    assert badshire[["row", "column", "value"]].values.tolist() == [["5", "age", "31"], ["9", "primary_need", "AUT"]]
    noap = failures[failures["area"] == "Noapshire"]
    assert len(noap) == 1 and noap["problem"].iloc[0].startswith("the rules cannot all be met:")
    assert "Northshire" not in set(failures["area"])


def test_each_area_draws_its_own_secure_seed_unless_one_is_given(areas: Path, tmp_path: Path) -> None:
    # A national run must be as unpredictable as a single one: without --seed each area's run
    # draws a seed from the secure random source, recorded in summary.csv and its run.json.
    seeds = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        assert run("batch", str(areas), "--out", str(out), "--jobs", "1", "--sets", "1")[0] == 1
        summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
        record = json.loads((out / "Northshire" / "run.json").read_text())
        assert summary["seed"].tolist()[0] == str(record["seed"])
        assert record["params"]["seed_source"] == "random"
        assert summary["seed"].tolist()[1:] == ["", ""]  # the areas that failed drew none
        seeds.append(record["seed"])
    assert seeds[0] != seeds[1]
    out = tmp_path / "given"
    assert run("batch", str(areas), "--out", str(out), "--jobs", "1", "--sets", "1", "--seed", "7")[0] == 1
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert summary["seed"].tolist() == ["7", "7", "7"]
    assert json.loads((out / "Northshire" / "run.json").read_text())["params"]["seed_source"] == "given"


def test_scenarios_sharing_a_lottery_run_in_one_process_and_work_it_out_once(
        areas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from selector import app
    from selector.app import selection
    from selector.solve import SelectionParams
    from selector.solve.lottery import drawing

    strict = tmp_path / "strict.toml"
    strict.write_text('[[count]]\ncolumn = "social_care"\nvalue = "CLA"\nmin = 1\n')
    items = app.plan_batch(areas, tmp_path / "out", SelectionParams(sets=1), rules_variants=(strict,), seeds=(1, 2))
    groups = app.scenario_groups(items)
    # One group per area (and rules file): the two seeds of each together.
    assert [[i.name for i in g] for g in groups] == [
        [f"{area}__strict__seed{s}" for s in (1, 2)] for area in ("Northshire", "Badshire", "Noapshire")]
    monkeypatch.setattr(selection, "KNOWN_LOTTERIES", {})
    calls = count_calls(monkeypatch, drawing, "fair_lottery")
    rows = app.run_batch_group([replace(i, request=replace(i.request, out=tmp_path / i.name)) for i in groups[0]])
    assert [(r["seed"], r["exit_code"]) for r in rows] == [(1, 0), (2, 0)]
    assert calls == [1]  # the second seed drew from the lottery the first worked out
    first, second = (json.loads((tmp_path / i.name / "run.json").read_text()) for i in groups[0])
    assert first["lottery"]["key"] == second["lottery"]["key"]
    assert (tmp_path / groups[0][0].name / "chances.csv").read_bytes() == \
        (tmp_path / groups[0][1].name / "chances.csv").read_bytes()
