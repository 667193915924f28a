"""The sector's own data-quality rules for Annex A, as warnings an analyst sees before the call.

These are the rules of Data to Insight's open-source Annex A SEN validator (the codes and the
wording are theirs), written again here from their definitions: 1xx rules check List 1 (EHC
plans), 2xx rules the same things on List 2 (SEN support). Where that validator compares with
today, these compare with the run's reference date (`--as-of`, default today), so the same
list and date always give the same warnings. A failing rule never shows the value (most are
about a date of birth or a pupil number): only the list, row, column, code and wording.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

Check = Callable[[pd.DataFrame, dt.date], np.ndarray]


@dataclass(frozen=True)
class AnnexRule:
    """One rule: its code per list, the validator's wording, the columns it reads (internal names,
    the first being the one a failure points at), the check (True where a row fails) and a fix."""

    suffix: str
    message: str
    columns: tuple[str, ...]
    check: Check
    fix: str
    list1_only: bool = False

    def code(self, list_number: int) -> str:
        return f"{list_number}{self.suffix}"


def parse_dates(text: pd.Series) -> pd.Series:
    """Dates as areas write them: ISO (2011-03-04), UK day first (04/03/2011, 4-3-2011), the
    month by name (4 March 2011, 04-Mar-2011), or an Excel serial day number; NaT where none fits."""
    text = text.astype(str).str.strip()
    # Each distinct text parsed once: a list's dates repeat (60,000 rows hold a few thousand), and
    # the rules parse each date column several times.
    codes, distinct_values = pd.factorize(text)
    distinct = pd.Series(np.asarray(distinct_values, dtype=object), dtype=object)
    iso = pd.to_datetime(distinct.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(distinct.str.replace(r"[.\-]", "/", regex=True), format="%d/%m/%Y", errors="coerce")
    # Excel shows a date as 04-Mar-2011 or 4 March 2011 when the cell is formatted so, and saves it so.
    spaced = distinct.str.replace(r"[\s\-/.,]+", " ", regex=True).str.replace(r"(?i)\bsept\b", "Sep", regex=True)
    named = pd.to_datetime(spaced, format="%d %B %Y", errors="coerce").fillna(
        pd.to_datetime(spaced, format="%d %b %Y", errors="coerce"))
    serial = pd.to_numeric(distinct, errors="coerce")
    excel = pd.to_datetime("1899-12-30") + pd.to_timedelta(serial.where((serial > 0) & (serial < 80000)), unit="D")
    parsed = iso.fillna(uk).fillna(named).fillna(excel).to_numpy(dtype="datetime64[ns]")
    return pd.Series(parsed[codes], index=text.index, name=text.name)


def _blank(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].astype(str).str.strip().eq("").to_numpy()


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    return parse_dates(frame[column])


def _years_after(born: pd.Series, years: int, as_of: dt.date) -> np.ndarray:
    """Whether `born` + `years` is strictly before `as_of` (False where there is no date)."""
    return ((born + pd.DateOffset(years=years)) < pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)


def _years_before(born: pd.Series, years: int, as_of: dt.date) -> np.ndarray:
    return ((born + pd.DateOffset(years=years)) > pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)


def _missing(column: str) -> Check:
    return lambda frame, _: _blank(frame, column)


def _in_future(column: str) -> Check:
    return lambda frame, as_of: (_dates(frame, column) > pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)


def _after(first: str, second: str) -> Check:
    return lambda frame, _: (_dates(frame, first) > _dates(frame, second)).fillna(False).to_numpy(dtype=bool)


def _aged_25(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    born = _dates(frame, "date_of_birth")
    return _years_after(born, 25, as_of) & _years_before(born, 26, as_of)


def _aged_26_or_over(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    return _years_after(_dates(frame, "date_of_birth"), 26, as_of)


def _six_without_upn_or_uln(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    return _years_after(_dates(frame, "date_of_birth"), 6, as_of) & _blank(frame, "upn") & _blank(frame, "uln")


def _school_aged(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    born = _dates(frame, "date_of_birth")
    return _years_after(born, 5, as_of) & _years_before(born, 16, as_of)


def _school_aged_without_establishment(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    return _school_aged(frame, as_of) & _blank(frame, "setting_id") & _blank(frame, "subsidiary_phase")


def _school_aged_subsidiary_only(frame: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    return _school_aged(frame, as_of) & _blank(frame, "setting_id") & ~_blank(frame, "subsidiary_phase")


def _duplicated_upn(frame: pd.DataFrame, _: dt.date) -> np.ndarray:
    upn = frame["upn"].astype(str).str.strip()
    return (upn.ne("") & upn.duplicated(keep=False)).to_numpy()


RULES: tuple[AnnexRule, ...] = (
    AnnexRule("01a", "Missing personal information - DOB", ("date_of_birth",), _missing("date_of_birth"),
              "Add the date of birth."),
    AnnexRule("01b", "Missing personal information - Gender", ("gender",), _missing("gender"), "Add the gender."),
    AnnexRule("01c", "Missing personal information - Ethnicity", ("ethnicity",), _missing("ethnicity"),
              "Add the ethnicity."),
    AnnexRule("01d", "Missing personal information - SEN primary need", ("sen_primary_need",),
              _missing("sen_primary_need"), "Add the SEN primary need."),
    AnnexRule("02a", "Age is 25 - Query", ("date_of_birth",), _aged_25,
              "Check the date of birth: the young person is 25 and leaves the lists at 26."),
    AnnexRule("02b", "Age is 26 or over - Error", ("date_of_birth",), _aged_26_or_over,
              "Check the date of birth, or remove the young person from the list."),
    AnnexRule("03", "No disability status given", ("disability",), _missing("disability"),
              "Answer 'Does the child or young person have a disability?'."),
    AnnexRule("05a", "Date of birth is in the future - Query", ("date_of_birth",), _in_future("date_of_birth"),
              "Correct the date of birth."),
    AnnexRule("05b", "Date initial EHC plan issued is in the future - Query", ("ehcp_initial_issued",),
              _in_future("ehcp_initial_issued"), "Correct the date the initial plan was issued.", list1_only=True),
    AnnexRule("05c", "Date updated EHC plan issued is in the future - Query", ("ehcp_updated_issued",),
              _in_future("ehcp_updated_issued"), "Correct the date the updated plan was issued.", list1_only=True),
    AnnexRule("05d", "Date EHC plan last reviewed is in the future - Query", ("ehcp_last_reviewed",),
              _in_future("ehcp_last_reviewed"), "Correct the date of the last review.", list1_only=True),
    AnnexRule("06a", "Initial EHCP date is after Updated Date", ("ehcp_initial_issued", "ehcp_updated_issued"),
              _after("ehcp_initial_issued", "ehcp_updated_issued"),
              "Correct one of the two dates: a plan is updated after it is first issued.", list1_only=True),
    AnnexRule("06b", "Initial EHCP date is after Date EHC plan last reviewed",
              ("ehcp_initial_issued", "ehcp_last_reviewed"), _after("ehcp_initial_issued", "ehcp_last_reviewed"),
              "Correct one of the two dates: a plan is reviewed after it is first issued.", list1_only=True),
    AnnexRule("07", "Child aged 6+ without either a) UPN, b) ULN", ("upn", "uln", "date_of_birth"),
              _six_without_upn_or_uln, "Add the UPN or the ULN."),
    AnnexRule("08a", "School aged child/young person (5-16) without  main OR subsidiary education establishment",
              ("setting_id", "subsidiary_phase", "date_of_birth"), _school_aged_without_establishment,
              "Add the main education establishment's URN (or the subsidiary establishment)."),
    AnnexRule("08b", "School aged child/young person (5-16) has subsidiary education establishment but not main",
              ("setting_id", "subsidiary_phase", "date_of_birth"), _school_aged_subsidiary_only,
              "Add the main education establishment's URN."),
    AnnexRule("09", "Duplicated UPN - return requires only the most recent initial EHCP date, close the first and "
              "submit the most recent.", ("upn",), _duplicated_upn,
              "Keep one row per pupil: the one with the most recent initial EHC plan date."),
)


@dataclass(frozen=True)
class RuleFailure:
    """Rows of one list that break one rule."""

    code: str
    message: str
    column: str
    rows: tuple[int, ...]
    fix: str


def check_list(frame: pd.DataFrame, rows: np.ndarray, list_number: int, as_of: dt.date) -> list[RuleFailure]:
    """Every rule of one list that some rows break (a rule whose columns the list lacks is reported
    once, at row 1, as not checked).

    Args:
        frame: the list with its columns under their internal names (as `annex_a.HEADERS` gives them).
        rows: each row's number in the file.
        list_number: 1 (EHC plans) or 2 (SEN support).
    """
    found = []
    for rule in RULES:
        if rule.list1_only and list_number != 1:
            continue
        absent = [c for c in rule.columns if c not in frame.columns]
        if absent:
            found.append(RuleFailure(rule.code(list_number), rule.message, absent[0], (1,),
                                     "The list has no such column, so this rule could not be checked; add it."))
            continue
        failing = rule.check(frame, as_of)
        if failing.any():
            found.append(RuleFailure(rule.code(list_number), rule.message, rule.columns[0],
                                     tuple(int(r) for r in rows[failing]), rule.fix))
    return found
