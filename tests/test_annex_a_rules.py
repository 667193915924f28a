"""The sector's Annex A data-quality rules (Data to Insight's validator, codes and wording kept):
each on a three-row list that breaks it in one row, the sample passing every one, and the
warnings reaching `validate` without the values they are about."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from selector.cli import main
from selector.io.annex_a_rules import RULES, check_list
from selector.io.sample import ANNEX_A_ANCHOR
from tests.conftest import SAMPLE

AS_OF = dt.date(2026, 11, 1)

# A child who breaks no rule on 1 November 2026: born 1 May 2015 (aged 11, school age), at a
# school (URN), plan issued 2018, updated 2020, reviewed 2026.
GOOD = {"child_id": "A", "upn": "H000000000001", "uln": "1000000001", "date_of_birth": "01/05/2015",
        "gender": "Female", "ethnicity": "WBRI", "sen_primary_need": "ASD", "disability": "No",
        "ehcp_initial_issued": "2018-03-01", "ehcp_updated_issued": "2020-03-01",
        "ehcp_last_reviewed": "2026-06-01", "setting_id": "100001", "subsidiary_phase": ""}

# For each rule: the change to the second of three good rows that breaks it, and why.
BREAKS = {
    "01a": {"date_of_birth": ""},                        # no date of birth
    "01b": {"gender": " "},                              # blank is missing
    "01c": {"ethnicity": ""},
    "01d": {"sen_primary_need": ""},
    "02a": {"date_of_birth": "2001-06-01"},              # 25 on 1 Nov 2026 (26 on 1 Jun 2027)
    "02b": {"date_of_birth": "31/10/2000"},              # turned 26 on 31 Oct 2026, the day before
    "03": {"disability": ""},
    "05a": {"date_of_birth": "2026-11-02"},              # born the day after the reference date
    "05b": {"ehcp_initial_issued": "2027-01-01", "ehcp_updated_issued": "", "ehcp_last_reviewed": ""},
    "05c": {"ehcp_updated_issued": "02/11/2026", "ehcp_last_reviewed": ""},
    "05d": {"ehcp_last_reviewed": "2026-12-01"},
    "06a": {"ehcp_initial_issued": "2021-01-01"},        # issued after its update of 2020
    "06b": {"ehcp_initial_issued": "2026-07-01", "ehcp_updated_issued": ""},  # issued after its 2026 review
    "07": {"upn": "", "uln": ""},                        # 11 years old, neither number
    "08a": {"setting_id": ""},                           # 11, no school and no dual registration
    "08b": {"setting_id": "", "subsidiary_phase": "Pupil referral unit"},
    "09": {"upn": "H000000000003"},                      # the third row's UPN too: both rows fail
}


def three_rows(change: dict[str, str]) -> pd.DataFrame:
    rows = [{**GOOD, "child_id": f"C{i}", "upn": f"H00000000000{i}", "uln": f"100000000{i}"} for i in (1, 2, 3)]
    rows[1].update(change)
    return pd.DataFrame(rows)


def test_every_rule_of_the_validator_is_here_once() -> None:
    codes = sorted(r.code(1) for r in RULES) + sorted(r.code(2) for r in RULES if not r.list1_only)
    assert codes == ["101a", "101b", "101c", "101d", "102a", "102b", "103", "105a", "105b", "105c", "105d",
                     "106a", "106b", "107", "108a", "108b", "109",
                     "201a", "201b", "201c", "201d", "202a", "202b", "203", "205a", "207", "208a", "208b", "209"]
    assert set(BREAKS) == {r.suffix for r in RULES}


def test_a_good_list_breaks_no_rule() -> None:
    assert check_list(three_rows({}), np.array([2, 3, 4]), 1, AS_OF) == []


@pytest.mark.parametrize("suffix", list(BREAKS))
def test_each_rule_finds_the_row_that_breaks_it(suffix: str) -> None:
    found = check_list(three_rows(BREAKS[suffix]), np.array([2, 3, 4]), 1, AS_OF)
    assert [f.code for f in found] == [f"1{suffix}"]
    assert found[0].rows == ((3, 4) if suffix == "09" else (3,))


def test_list_2_rules_carry_2xx_codes_and_skip_the_plan_dates() -> None:
    frame = three_rows({"gender": "", "ehcp_last_reviewed": "2030-01-01"})  # a plan date means nothing on List 2
    assert [f.code for f in check_list(frame, np.array([2, 3, 4]), 2, AS_OF)] == ["201b"]


def test_dates_are_compared_with_the_reference_date_not_today() -> None:
    frame = three_rows({"ehcp_last_reviewed": "2026-12-01"})
    assert [f.code for f in check_list(frame, np.array([2, 3, 4]), 1, AS_OF)] == ["105d"]
    assert check_list(frame, np.array([2, 3, 4]), 1, dt.date(2027, 1, 1)) == []


def test_a_column_the_list_lacks_is_reported_once_as_not_checked() -> None:
    frame = three_rows({}).drop(columns=["gender"])
    found = check_list(frame, np.array([2, 3, 4]), 1, AS_OF)
    assert [(f.code, f.column, f.rows) for f in found] == [("101b", "gender", (1,))]
    assert "could not be checked" in found[0].fix


def test_the_sample_lists_pass_every_rule() -> None:
    runner = CliRunner()
    folder = SAMPLE / "annex_a"
    result = runner.invoke(main, ["validate", "--list1", str(folder / "list1.csv"), "--list2", str(folder / "list2.csv"),
                                  "--contacts", str(folder / "contacts.csv"), "--as-of", ANNEX_A_ANCHOR])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warning(s)" in result.stdout + result.stderr


def test_validate_shows_a_broken_rule_with_its_code_and_never_the_value(tmp_path: Path) -> None:
    folder = SAMPLE / "annex_a"
    list1 = pd.read_csv(folder / "list1.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    first = list1.loc[0, "Date of birth"]
    list1.loc[0, "Date initial EHC plan issued"] = "2026-08-31"  # after the last review: rule 106b
    list1.loc[1, "UPN"] = list1.loc[2, "UPN"]                     # one UPN twice: rule 109
    list1.to_csv(tmp_path / "list1.csv", index=False)
    result = CliRunner().invoke(main, ["validate", "--list1", str(tmp_path / "list1.csv"), "--contacts",
                                       str(folder / "contacts.csv"), "--as-of", ANNEX_A_ANCHOR,
                                       "--failures", str(tmp_path / "f.csv")])
    assert result.exit_code == 0
    table = pd.read_csv(tmp_path / "f.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table = table[table["problem"].str.startswith("Annex A rule")]  # (List 2's children's contacts warn too)
    assert table[["row", "column", "problem"]].values.tolist() == [
        ["2", "Date initial EHC plan issued",
         "Annex A rule 106b: Initial EHCP date is after Date EHC plan last reviewed"],
        ["3", "UPN", ("Annex A rule 109: Duplicated UPN - return requires only the most recent initial EHCP date, "
         "close the first and submit the most recent.")],
        ["4", "UPN", ("Annex A rule 109: Duplicated UPN - return requires only the most recent initial EHCP date, "
         "close the first and submit the most recent.")],
    ]
    shown = result.stdout + result.stderr + (tmp_path / "f.csv").read_text(encoding="utf-8-sig")
    assert list1.loc[2, "UPN"] not in shown and first not in shown
