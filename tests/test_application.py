"""The application layer's promises: one cell reader everywhere, every rules mistake at once with
its line, a run record read only through RunRecord and refused with a message when damaged, and
reasons a person can check by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from selector import app, check
from selector.contract.rules import DEFAULT_RULES, Dimension, Rules
from selector.io.rules_toml import load_rules
from selector.io.run_record import read_run_record
from selector.report.content import offered_values, reasons
from selector.solve import build_problem
from selector.solve.profile import dimension_counts
from tests.conftest import SAMPLE, caseload_frame, run, validated, write_csv

# ---- one cell reader

# Three children in one locality spelled three ways, one in another. Every reader must see two
# localities, shown as first spelled in the file: "Westmoor" (3 children) and "Eastfield" (1).
SPELLINGS = [{"locality": "Westmoor"}, {"locality": "WESTMOOR"}, {"locality": " westmoor "},
             {"locality": "Eastfield"}]
LOCALITY_ONLY = Rules(size=2, dimensions=(Dimension("locality", 1, 5),))


def test_every_reader_sees_one_spelling_of_a_locality() -> None:
    caseload = validated(SPELLINGS).frame
    assert caseload["locality"].tolist() == ["Westmoor", "Westmoor", "Westmoor", "Eastfield"]
    assert dict(dimension_counts(caseload, LOCALITY_ONLY)["locality"]) == {"Westmoor": 3, "Eastfield": 1}
    assert offered_values(caseload, LOCALITY_ONLY)["locality"] == {"Westmoor", "Eastfield"}
    assert check.coverage(caseload, ["K1", "K2"], LOCALITY_ONLY)["locality"] == {"Westmoor"}
    problem = build_problem(caseload, LOCALITY_ONLY)
    assert [(value, holders.tolist()) for value, holders in problem.coverage[0]] == [
        ("Eastfield", [3]), ("Westmoor", [0, 1, 2])]


# One place written four ways by two systems, and a service three ways: a cohort of two from
# the one place covers one locality, not two, and the three services are one. Rows 2-5 are the
# place (row 2 first: "Oakham Vale"), row 6 is elsewhere. The best pair: one of rows 2-5 and
# row 6, 2 localities; the first two rows alone: 1 locality, 1 service (SHORT_BREAKS).
PUNCTUATED = [{"locality": "Oakham Vale", "services": "Short breaks"},
              {"locality": "Oakham-Vale", "services": "SHORT-BREAKS"},
              {"locality": "oakham_vale", "services": "short_breaks;S.A.L.T"},
              {"locality": "OAKHAM  VALE"}, {"locality": "Eastfield", "services": "SALT"}]
PLACE_AND_SERVICE = Rules(size=2, dimensions=(Dimension("locality", 1, 5), Dimension("services", 1, 5)))


def test_a_place_written_with_other_separators_is_one_locality() -> None:
    result = validated(PUNCTUATED)
    caseload = result.frame
    assert caseload["locality"].tolist() == ["Oakham Vale"] * 4 + ["Eastfield"]
    assert caseload["services"].tolist() == ["SHORT_BREAKS", "SHORT_BREAKS", "SALT;SHORT_BREAKS", "", "SALT"]
    assert check.score(caseload, ["K1", "K2"], PLACE_AND_SERVICE) == 2
    best = app.choose(result, PLACE_AND_SERVICE, app.SelectionParams(sets=1)).cohorts[0]
    assert best.score == 4 == check.score(caseload, best.members, PLACE_AND_SERVICE)  # e.g. K1, K5
    # The analyst is told of each spelling read as another beyond case, at its first row.
    warned = result.warnings.query("column == 'locality'")
    assert warned["row"].tolist() == [3, 4, 5]
    assert warned["problem"].iloc[0] == (
        "read as 'Oakham Vale' (first written so at row 2), the same locality written another way "
        "(1 row): they count as one")


def test_the_model_and_checker_count_case_variants_as_one_value() -> None:
    """Without canonical spellings (a column the contract does not tidy), the model and the checker
    still agree: `North` and `NORTH` are one value, so the best pair scores 2, not 3."""
    rows = [{"gender": "North"}, {"gender": "NORTH"}, {"gender": "South"}]
    caseload = validated(rows, keep_columns=("gender",)).frame
    rules = Rules(size=2, dimensions=(Dimension("gender", 1, 5),))
    best = app.choose(validated(rows, keep_columns=("gender",)), rules, app.SelectionParams(sets=1)).cohorts[0]
    assert best.score == 2 == check.score(caseload, best.members, rules)
    assert check.score(caseload, ["K1", "K2"], rules) == 1


def test_reports_and_profile_agree_on_the_spelling(tmp_path: Path) -> None:
    frame = caseload_frame([
        {"locality": "Westmoor", "setting_type": "AP", "plan_status": "EHCP"},
        {"locality": "WESTMOOR", "plan_status": "EHCP", "age": 4},
        {"locality": "westmoor", "plan_status": "SEN_SUPPORT", "age": 16},
        {"locality": "Eastfield", "plan_status": "SEN_SUPPORT", "age": 21},
    ])
    path = write_csv(tmp_path / "c.csv", frame)
    code, out, _ = run("profile", str(path))
    assert code == 0 and "    Westmoor        3" in out and "WESTMOOR" not in out
    rules = tmp_path / "r.toml"
    rules.write_text("size = 4\n")
    code, _, err = run("select", str(path), "--rules", str(rules), "--out", str(tmp_path / "run"), "--sets", "1")
    assert code == 0, err
    for name in ("report.md", "report.html", "cohorts.csv"):
        text = (tmp_path / "run" / name).read_text(encoding="utf-8-sig")
        assert "Westmoor" in text and "WESTMOOR" not in text and "westmoor" not in text, name


# ---- reasons, worked by hand

def test_why_each_member_was_chosen() -> None:
    # Cohort K1, K2 under the default rules' dimensions. K1 alone brings need ASD, age band 0-4,
    # setting AP and service SALT, and counts toward "at least 1 in AP" and "at least 2 EHCP".
    # K2 alone brings need SEMH, age band 11-15 and plan SEN_SUPPORT; both share NONE (social
    # care), so neither is the only member with it; K2 counts toward "at least 2 SEN support".
    # K1's two services are said together, as one dimension.
    caseload = validated([
        {"primary_need": "ASD", "age": 3, "setting_type": "AP", "plan_status": "EHCP", "services": "SALT;OT"},
        {"primary_need": "SEMH", "age": 13, "plan_status": "SEN_SUPPORT"},
    ]).frame
    why = reasons(caseload, ("K1", "K2"), DEFAULT_RULES)
    assert why == {  # in words, as a reader says them
        "K1": "only member with need autistic spectrum disorder, age band 0-4, setting alternative provision "
              "(e.g. a pupil referral unit), plan education, health and care plan, services OT and SALT; counts "
              "toward at least 1 whose setting is: alternative provision (e.g. a pupil referral unit); at least 2 "
              "whose plan is: education, health and care plan",
        "K2": "only member with need social, emotional and mental health, age band 11-15, setting mainstream "
              "school, plan SEN support (no plan); counts toward at least 2 whose plan is: SEN support (no plan)",
    }


def test_a_member_who_brings_nothing_of_its_own_says_so() -> None:
    caseload = validated([{"primary_need": "ASD"}, {"primary_need": "ASD"}]).frame
    rules = Rules(size=2, dimensions=(Dimension("primary_need", 1, 5),))
    assert reasons(caseload, ("K1", "K2"), rules)["K2"] == "adds breadth without a value of its own"


# ---- rules files: every mistake at once, with its line

def test_a_rules_file_with_three_mistakes_reports_all_three_with_their_lines(tmp_path: Path) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text(
        "size = 6\n"                              # 1
        "[[count]]\n"                             # 2
        'column = "setting_type"\n'               # 3
        'value = "APP"\n'                         # 4: not a setting code
        "min = 1\n"                               # 5
        "[[spread]]\n"                            # 6
        'column = "setting_id"\n'                 # 7
        "max = 0\n"                               # 8: at least 1
        "[objective.locality]\n"                  # 9
        "weight = -2\n"                           # 10: negative
        "cap = 6\n")                              # 11
    code, _, err = run("select", str(SAMPLE / "caseload.csv"), "--rules", str(rules), "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.splitlines() == [
        "Error: r.toml: 3 problems in the rules:",
        ("  - line 4, [[count]] 1, value: 'APP' is not one of the setting_type codes (EARLY_YEARS MAINSTREAM "
        "RESOURCED SPECIAL INDEPENDENT AP FE TRAINING EHE NOT_IN_EDUCATION CUSTODY OTHER)"),
        "  - line 8, [[spread]] 1, max: must be from 1 to 100 (got 0)",
        "  - line 10, [objective.locality] weight: must be from 0 to 1000 (got -2)",
        "Correct the rules file at the lines named.",
    ]
    assert not (tmp_path / "o").exists()



def test_a_rule_naming_a_code_in_other_words_says_the_code(tmp_path: Path) -> None:
    # The analyst wrote the setting and the plan status as the area's system names them.
    rules = tmp_path / "r.toml"
    rules.write_text('[[count]]\ncolumn = "setting_type"\nvalue = "Alternative provision"\nmin = 1\n'  # 1-4
                     '[[count]]\ncolumn = "plan_status"\nvalues = ["EHC plan", "K"]\nmin = 2\n')  # 5-8
    code, _, err = run("profile", str(SAMPLE / "caseload.csv"), "--rules", str(rules))
    assert code == 2
    assert err.splitlines()[1:4] == [
        ("  - line 3, [[count]] 1, value: 'ALTERNATIVE PROVISION' is not one of the setting_type codes (EARLY_YEARS "
         "MAINSTREAM RESOURCED SPECIAL INDEPENDENT AP FE TRAINING EHE NOT_IN_EDUCATION CUSTODY OTHER); did you mean "
         "'AP'?"),
        ("  - line 7, [[count]] 2, values: 'EHC PLAN' is not one of the plan_status codes (EHCP SEN_SUPPORT "
        "ASSESSMENT); did you mean 'EHCP'?"),
        ("  - line 7, [[count]] 2, values: 'K' is not one of the plan_status codes (EHCP SEN_SUPPORT ASSESSMENT); did "
        "you mean 'SEN_SUPPORT'?")]

def test_the_written_rules_read_back_as_the_same_rules(tmp_path: Path) -> None:
    shutil.copy(SAMPLE / "rules.toml", tmp_path / "r.toml")
    assert load_rules(tmp_path / "r.toml") == DEFAULT_RULES


def test_rule_names_with_quotes_are_written_as_valid_toml(tmp_path: Path) -> None:
    from selector.contract.rules import CountRule
    from selector.io.rules_toml import rules_to_toml

    tricky = Rules(counts=(CountRule("social_care", ("CLA",), min=1, label='a "looked after" child\\ \n'),),
                   dimensions=DEFAULT_RULES.dimensions)
    (tmp_path / "r.toml").write_text(rules_to_toml(tricky))
    assert load_rules(tmp_path / "r.toml").counts[0].label == 'a "looked after" child\\ \n'


# ---- the run record

def test_run_json_is_written_and_read_through_the_record(sample_run: Path) -> None:
    record = read_run_record(sample_run)
    data = json.loads((sample_run / "run.json").read_text())
    assert data["schema_version"] == record.schema_version == 2
    assert record.to_dict() == data
    assert set(record.files) == {p.name for p in sample_run.iterdir()} - {"run.json"}


def tampered(sample_run: Path, tmp_path: Path, change: object) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(sample_run, copy)
    data = json.loads((copy / "run.json").read_text())
    change(data)  # type: ignore[operator]
    (copy / "run.json").write_text(json.dumps(data))
    return copy


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.pop("cohorts"), "cohorts: must be a list"),
    (lambda d: d.pop("seed"), "run record: 'seed' is missing"),
    (lambda d: d.update(seed="seven"), "run record.seed: must be int (got 'seven')"),
    (lambda d: d["cohorts"][0].update(members="C1,C2"), "cohorts[0].members: must be a list"),
    (lambda d: d["input"].update(rows=True), "input.rows: must be int (got True)"),
    (lambda d: d["files"].update({"../../etc/passwd": "x"}),
     "files: '../../etc/passwd' is not a file of the run folder (a path outside it)"),
    (lambda d: d["input"].update(caseload_path="caseload.csv"),
     "input.caseload_path: must be a full path to the input file (got 'caseload.csv')"),
    (lambda d: d.update(schema_version=99), "schema_version 99 is not 2; this selector cannot read it"),
], ids=["no-cohorts", "no-seed", "seed-text", "members-text", "rows-bool", "path-outside", "relative-path",
        "future-schema"])
def test_a_hand_edited_run_record_is_refused_with_a_message(sample_run: Path, tmp_path: Path, change: object,
                                                             problem: str) -> None:
    folder = tampered(sample_run, tmp_path, change)
    first = json.loads((sample_run / "run.json").read_text())["cohorts"][0]["members"][0]
    code, _, err = run("replace", str(folder), "--decline", first)
    assert code == 2, err
    assert err.startswith(f"Error: {folder / 'run.json'}: not a usable run record (")
    assert f"  - {problem}" in err.splitlines()
    assert "Traceback" not in err


def test_run_json_that_is_not_json_is_refused(sample_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(sample_run, folder)
    (folder / "run.json").write_text("{not json")
    code, _, err = run("replace", str(folder), "--decline", "X")
    assert code == 2 and err.startswith(f"Error: {folder / 'run.json'}: cannot be read as JSON (")
