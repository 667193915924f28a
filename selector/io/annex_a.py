"""Reading the Annex A lists that local areas prepare for the inspection (List 1: EHC plans,
List 2: SEN support) into the contract's caseload, through an editable mapping table.

Annex A problems are reported in Annex A's own terms: the file or sheet, the row, and the
column header as the area wrote it. Dates of birth, UPN and ULN are read only to work out the
age and are then dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..contract.columns import CONTRACT_COLUMNS, FALSE_WORDS, MAX_AGE, TRUE_WORDS
from ..contract.errors import CaseloadValidationError, InputError
from ..contract.failures import FAILURE_COLUMNS, HIDDEN_VALUE, not_a_child, rows_without_a_child
from .annex_a_rules import check_list, parse_dates
from .establishments import Establishments, agrees, read_establishments
from .headers import annex_key, header_keys, is_annex_a, is_list1
from .mapping import Mapping, code_for, load_mapping
from .tables import RawTable, Workbook, read_table

if TYPE_CHECKING:
    from .options import ReadOptions

# Annex A headers (normalised by `annex_key`) -> the column they become.
HEADERS = {
    "unique id": "child_id",
    "upn": "upn",
    "uln": "uln",
    "date of birth": "date_of_birth",
    "gender": "gender",
    "ethnicity": "ethnicity",
    "date initial ehc plan issued": "ehcp_initial_issued",
    "date updated ehc plan issued": "ehcp_updated_issued",
    "date ehc plan last reviewed": "ehcp_last_reviewed",
    "sen primary need": "sen_primary_need",
    "main education establishment urn": "setting_id",
    "main education establishment phase": "main_phase",
    "subsidiary education establishment phase dual registration": "subsidiary_phase",
    "elective home education": "elective_home_education",
    "suspensions": "suspensions",
    "permanent exclusions": "permanent_exclusions",
    "absence": "absence",
    "pupil premium": "pupil_premium",
    "known to childrens social care": "known_to_social_care",
    "which childrens social care team": "social_care_team",
    "does the child or young person have a disability": "disability",
}
# The headers as the Annex A template writes them, for messages about a column a list lacks.
OFFICIAL_HEADERS = {
    "upn": "UPN", "uln": "ULN", "date_of_birth": "Date of birth", "gender": "Gender", "ethnicity": "Ethnicity",
    "ehcp_initial_issued": "Date initial EHC plan issued", "ehcp_updated_issued": "Date updated EHC plan issued",
    "ehcp_last_reviewed": "Date EHC plan last reviewed", "sen_primary_need": "SEN primary need",
    "setting_id": "Main education establishment – URN",
    "subsidiary_phase": "Subsidiary education establishment – phase (dual registration)",
    "disability": "Does the child or young person have a disability?",
}
ANNEX_HEADER_OF = {column: key for key, column in HEADERS.items()}
REQUIRED = ("unique id", "date of birth", "sen primary need", "main education establishment phase")
IDENTIFYING = ("upn", "uln", "date_of_birth")

def read_workbook_lists(book: Workbook) -> tuple[RawTable | None, RawTable | None]:
    """List 1 and List 2 from one workbook: sheets named like List_1 / List 2, else by headers."""
    sheets = list_sheets(book)

    def sheet_table(key: str) -> RawTable | None:
        return _labelled(book.table(sheets[key]), book.path.name, sheets[key]) if key in sheets else None

    return sheet_table("list1"), sheet_table("list2")


def list_sheets(book: Workbook) -> dict[str, str]:
    """The sheet holding each list of a workbook ('list1', 'list2': the sheet's name): sheets named
    like List_1 / List 2, else found by their headers.

    Raises:
        InputError: no sheet holds a list (code `no_annex_a`).
    """
    found: dict[str, str] = {}
    for name in book.names:
        key = annex_key(name).replace(" ", "")
        if key in ("list1", "list2"):
            found[key] = name
    if not found:
        for name in book.names:
            try:
                table = book.table(name)
            except InputError:
                continue
            if is_annex_a(table):
                found["list1" if is_list1(table) else "list2"] = name
    if not found:
        raise InputError(f"{book.path.name}: no Annex A sheets found (named List_1 / List_2, or with the headers "
                         "'Unique ID' and 'SEN primary need').", "no_annex_a")
    return found


def _labelled(table: RawTable, workbook: str, sheet: str) -> RawTable:
    """A sheet's table named as messages should say it: `workbook.xlsx [List_1]`."""
    return replace(table, name=f"{workbook} [{sheet}]")


def whole_years(born: pd.Series, as_of: dt.date) -> pd.Series:
    """Age in whole years on `as_of` (birthdays counted on the day)."""
    had_birthday = (born.dt.month < as_of.month) | ((born.dt.month == as_of.month) & (born.dt.day <= as_of.day))
    return as_of.year - born.dt.year - (~had_birthday).astype(int)


@dataclass(frozen=True)
class AnnexAResult:
    """Annex A converted to the contract: the caseload table and the problems found."""

    table: RawTable
    failures: pd.DataFrame


def convert(list1: RawTable | None, list2: RawTable | None, *, as_of: dt.date, mapping: Mapping,
            ap_urns: frozenset[str] = frozenset(), establishments: Establishments | None = None) -> AnnexAResult:
    """Annex A List 1 (EHC plans) and List 2 (SEN support) as one contract caseload.

    Raises:
        CaseloadValidationError: any problem in the lists (every one, by sheet, row, column).
    """
    failures: list[dict[str, object]] = []
    parts = []
    for table, status in ((list1, "EHCP"), (list2, "SEN_SUPPORT")):
        if table is not None:
            parts.append(_convert_list(table, status, as_of, mapping, ap_urns, failures, establishments))
    if not parts:
        raise InputError("no Annex A list given.", "no_lists",
                         fix="Give List 1 (EHC plans), List 2 (SEN support) or both.")
    frame = pd.concat(parts, ignore_index=True)

    # A child on both lists: the EHC plan row wins.
    both = frame["child_id"].where(frame["child_id"] != "").duplicated(keep=False) & frame["child_id"].ne("")
    statuses = frame.loc[both].groupby("child_id")["plan_status"].nunique()
    on_both = sorted(statuses[statuses > 1].index)
    if on_both:
        drop = frame["child_id"].isin(on_both) & (frame["plan_status"] == "SEN_SUPPORT")
        for _, row in frame.loc[drop].iterrows():
            failures.append(_failure("warning", row["_file"], row["_row"], "Unique ID", row["child_id"],
                                     "child is on both lists; the List 1 (EHC plan) row is used",
                                     "Remove the child from List 2."))
        frame = frame.loc[~drop].reset_index(drop=True)
    table = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    if (table["severity"] == "error").any():
        # Errors first, then sheet by sheet in row order (as the area will fix them).
        files = {f: i for i, f in enumerate(dict.fromkeys(table["file"]))}
        table = (table.assign(_o=table["severity"].map({"error": 0, "warning": 1}), _f=table["file"].map(files))
                 .sort_values(["_o", "_f", "row"], kind="stable").drop(columns=["_o", "_f"]).reset_index(drop=True))
        errors = int((table["severity"] == "error").sum())
        raise CaseloadValidationError(f"Annex A: {errors} problem(s) found; fix them and run again.", table)

    rows = frame.pop("_row").to_numpy()
    files = frame.pop("_file")
    name = "+".join(dict.fromkeys(files))
    # The lists' own columns the contract does not define are named as the template writes them,
    # so that the run says which it left out (and `--keep-column Gender` keeps one) in the lists' words.
    header = {c: c if c in CONTRACT_COLUMNS else OFFICIAL_HEADERS.get(c, ANNEX_HEADER_OF.get(c, c))
              for c in frame.columns}
    sha = "".join(t.sha256 for t in (list1, list2) if t is not None)
    return AnnexAResult(RawTable(name, frame.astype(str), rows, hashlib.sha256(sha.encode()).hexdigest(), header,
                                 foreseen=frozenset(c for c in frame.columns if c not in CONTRACT_COLUMNS)),
                        table)


def _failure(severity: str, file: str, row: object, column: str, value: object, problem: str,
             fix: str) -> dict[str, object]:
    return {"severity": severity, "file": file, "row": int(row), "column": column, "value": value,
            "problem": problem, "fix": fix}


Report = Callable[..., None]  # (mask, column, values, problem, fix, severity="error", counted=False)


def _rows_without_a_child(src: pd.DataFrame, rows: np.ndarray, headers: list[str], file: str,
                          failures: list[dict[str, object]]) -> np.ndarray:
    """Rows that hold no child by the template's required columns (`headers`, as the list writes
    them): an error each, naming the row as what it seems to be; which rows they are."""
    columns = [HEADERS[k] for k in REQUIRED]
    filled = np.column_stack([(src[c].astype(str).str.strip() != "").to_numpy() for c in columns])
    sparse = rows_without_a_child(filled)
    for k, header in enumerate((*headers, None)):
        these = sparse & (filled[:, k] if header is not None else ~filled.any(axis=1))
        values = src.loc[these, columns[k]].astype(str).str.strip() if header is not None else [""] * int(these.sum())
        for row, value in zip(rows[these], values, strict=True):
            failures.append(_failure("error", file, row, header or "", value, *not_a_child(headers, header)))
    return sparse


def _convert_list(table: RawTable, status: str, as_of: dt.date, mapping: Mapping, ap_urns: frozenset[str],
                  failures: list[dict[str, object]], establishments: Establishments | None = None) -> pd.DataFrame:
    file = table.name
    for cells in table.merged:  # every column of the template is read, or its identifiers checked
        failures.append(_failure("warning", file, cells.first_row, cells.header, "", cells.problem, cells.FIX))
    for note in table.notes:  # rows hidden; a column of the template hidden, or with formulas never calculated
        if not note.header or annex_key(note.header) in HEADERS:
            failures.append(_failure("warning", file, note.first_row, note.header, "", note.problem, note.fix))
    by_key = header_keys(table.header)
    original = {key: table.header[column] for key, column in by_key.items()}
    list_name = "List 1" if status == "EHCP" else "List 2"
    for required in REQUIRED:
        if required not in by_key:
            failures.append(_failure("error", file, 1, required, "", f"{list_name} has no column like "
                                     f"'{required}'", "Use the Annex A headers (see the README)."))
    if any(r not in by_key for r in REQUIRED):
        return pd.DataFrame(columns=["child_id", "_row", "_file", "plan_status"])
    src = table.frame.rename(columns={by_key[k]: v for k, v in HEADERS.items() if k in by_key})
    rows = table.row_numbers
    head = {v: original[k] for k, v in HEADERS.items() if k in original}
    not_children = _rows_without_a_child(src, rows, [head[HEADERS[k]] for k in REQUIRED], file, failures)
    if not_children.any():  # each said once, as what it is, not as an empty cell per column
        src, rows = src.loc[~not_children].reset_index(drop=True), rows[~not_children]

    def report(mask: np.ndarray, column: str, values: object, problem: str, fix: str, severity: str = "error",
               counted: bool = False) -> None:
        values_arr = np.broadcast_to(np.asarray(values, dtype=object), (len(rows),))
        # For unmapped text, say how many rows share the value: one mapping line fixes them all.
        tally = pd.Series(values_arr[mask]).value_counts() if counted else None
        for row, value in zip(rows[mask], values_arr[mask], strict=True):
            text = f"{problem} ({tally[value]} row(s) in {file} have it)" if tally is not None else problem
            failures.append(_failure(severity, file, row, head.get(column, column), value, text, fix))

    # The sector's data-quality rules, as warnings with their codes (never the values).
    for broken in check_list(src, rows, 1 if status == "EHCP" else 2, as_of):
        shown = head.get(broken.column, OFFICIAL_HEADERS.get(broken.column, broken.column))
        for row in broken.rows:
            failures.append(_failure("warning", file, row, shown, "", f"Annex A rule {broken.code}: {broken.message}",
                                     broken.fix))

    out = pd.DataFrame({"_row": rows, "_file": file})
    ids = src["child_id"].str.strip()
    report((ids == "").to_numpy(), "child_id", "", "Unique ID is empty", "Give every row its Unique ID.")
    dup = ids.duplicated(keep="first").to_numpy() & (ids != "").to_numpy()
    report(dup, "child_id", ids.to_numpy(), f"Unique ID repeated in {list_name}", "List each child once.")
    out["child_id"] = ids.to_numpy()
    out["age"] = _ages(src, as_of, report)
    need_text = src["sen_primary_need"].astype(str).str.strip()
    need = _each_distinct(need_text, lambda t: code_for(mapping.primary_need, t))
    report((need == "").to_numpy(), "sen_primary_need", need_text.to_numpy(), "SEN primary need maps to no SEN2 code",
           "Use an SEN2 code or name, or add it to [primary_need] in a mapping file.", counted=True)
    out["primary_need"] = need.to_numpy()
    out["plan_status"] = status
    out["setting_type"], out["setting_id"] = _setting_types(src, mapping, ap_urns, establishments, report)
    out["social_care"] = _social_care(src, mapping, report)
    for column in src.columns:
        if column in out.columns or column in IDENTIFYING or column in ("sen_primary_need", "social_care_team"):
            continue
        if column in HEADERS.values():
            out[column] = src[column].to_numpy()
    return out


def _each_distinct(text: pd.Series, convert: Callable[[str], str]) -> pd.Series:
    """`text.map(convert)`, converting each distinct text once (a column repeats a few dozen texts
    over tens of thousands of rows)."""
    return text.map({value: convert(value) for value in text.unique()})


def _ages(src: pd.DataFrame, as_of: dt.date, report: Report) -> np.ndarray:
    """Each child's age in whole years on `as_of`, from the date of birth (which no message shows)."""
    dob_text = src["date_of_birth"].astype(str).str.strip()
    born = parse_dates(dob_text)
    age = whole_years(born, as_of)
    empty = (dob_text == "").to_numpy()
    report(empty, "date_of_birth", "", "date of birth is empty", "Give the date of birth (the age is taken from it).")
    bad_date = born.isna().to_numpy()
    # 03/16/2011 fails as day first because its month comes first, as a US system writes it.
    month_first = dob_text.str.fullmatch(r"(0?[1-9]|1[0-2])[/.\-](1[3-9]|2\d|3[01])[/.\-]\d{4}").to_numpy(dtype=bool)
    report(bad_date & month_first, "date_of_birth", HIDDEN_VALUE,
           "not a date day first: the month seems to come first (as in 03/16/2011 for 16 March 2011)",
           "Write the day first (16/03/2011) or as 2011-03-16; if the list came from a system set to US dates, "
           "export it with UK dates.")
    report(bad_date & ~empty & ~month_first, "date_of_birth", HIDDEN_VALUE,
           "not a date (use 2011-03-04, 04/03/2011 or 4 March 2011)", "Correct the date of birth.")
    future = ~bad_date & (age < 0).to_numpy()
    report(future, "date_of_birth", HIDDEN_VALUE, f"date of birth is after {as_of.isoformat()}",
           "Correct the date of birth, or check the date ages are taken at.")
    over = ~bad_date & (age > MAX_AGE).to_numpy()
    report(over, "date_of_birth", age.fillna(0).astype(int).astype(str).radd("age ").to_numpy(),
           f"older than {MAX_AGE} on {as_of.isoformat()}",
           "Correct the date of birth; the lists cover ages 0 to 25.")
    return np.asarray(age.fillna(-1).astype(int).to_numpy())


def _setting_types(src: pd.DataFrame, mapping: Mapping, ap_urns: frozenset[str],
                   establishments: Establishments | None, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Each child's setting type (from the phase, refined by the establishment's type, a dual
    registration at AP, elective home education and the AP URNs) and the URN."""
    urn = src["setting_id"].astype(str).str.strip() if "setting_id" in src.columns else pd.Series([""] * len(src))
    phase_text = src["main_phase"].astype(str).str.strip()
    setting = _each_distinct(phase_text, lambda t: code_for(mapping.setting_type, t))
    if establishments is not None:
        setting = _with_establishments(setting, urn, establishments, report)
    unmapped = (setting == "").to_numpy()
    report(unmapped, "main_phase", phase_text.to_numpy(), "phase maps to no setting type",
           "Add it to [setting_type] in a mapping file"
           + (", or give the establishments extract to find it from the URN." if establishments is None else "."),
           counted=True)
    if "subsidiary_phase" in src.columns:
        sub_text = src["subsidiary_phase"].astype(str).str.strip()
        sub = _each_distinct(sub_text, lambda t: code_for(mapping.setting_type, t) if t else "")
        unmapped_sub = ((sub == "") & (sub_text != "")).to_numpy()
        report(unmapped_sub, "subsidiary_phase", sub_text.to_numpy(), "phase maps to no setting type",
               "Add it to [setting_type] in a mapping file.", counted=True)
        # Dual registration at a pupil referral unit or other AP: the child attends AP.
        setting = setting.where(sub != "AP", "AP")
    if "elective_home_education" in src.columns:
        ehe_text = src["elective_home_education"].astype(str).str.strip().str.lower()
        bad = ~ehe_text.isin(TRUE_WORDS | FALSE_WORDS).to_numpy()
        report(bad, "elective_home_education", src["elective_home_education"].to_numpy(),
               "not yes or no", "Use yes/no (empty means no).")
        setting = setting.where(~ehe_text.isin(TRUE_WORDS), "EHE")
    if ap_urns:
        setting = setting.where(~urn.isin(ap_urns), "AP")
    return np.asarray(setting.to_numpy()), np.asarray(urn.to_numpy())


def _social_care(src: pd.DataFrame, mapping: Mapping, report: Report) -> np.ndarray:
    """Each child's social care code, from the team named (none: NONE)."""
    team_text = (src["social_care_team"].astype(str).str.strip() if "social_care_team" in src.columns
                 else pd.Series([""] * len(src)))
    care = _each_distinct(team_text, lambda t: code_for(mapping.social_care, t) if t else "NONE")
    unmapped = (care == "").to_numpy()
    report(unmapped, "social_care_team", team_text.to_numpy(), "social care team maps to no code",
           "Add it to [social_care] in a mapping file.", counted=True)
    if "known_to_social_care" in src.columns:
        known = src["known_to_social_care"].astype(str).str.strip().str.lower().isin(TRUE_WORDS)
        missing_team = (known & (team_text == "")).to_numpy()
        report(missing_team, "social_care_team", "", "known to social care but no team given",
               "Name the team (e.g. Children in need), or answer No to 'Known to children's social care?'.",
               severity="warning")
    return np.asarray(care.to_numpy())


# Setting types a phase of education gives (Nursery, Primary, Secondary, 16 plus): the URN's
# type of establishment says more (a special school, a pupil referral unit), so it refines them.
PHASE_LEVEL = frozenset({"MAINSTREAM", "EARLY_YEARS", "FE"})


def _with_establishments(setting: pd.Series, urn: pd.Series, establishments: Establishments,
                         report: Callable[..., None]) -> pd.Series:
    """Setting types refined by the URN lookup: it fills what the phase leaves unknown and refines
    a phase of education; a setting type the list states (AP, special, home education...) wins,
    and the lookup contradicting it is a warning."""
    found = pd.Series(establishments.lookup(urn), index=setting.index)
    refine = (found != "") & (setting.isin(PHASE_LEVEL) | (setting == ""))
    conflict = ((found != "") & ~refine).to_numpy() & ~agrees(setting.to_numpy(), found.to_numpy())
    report(conflict, "main_phase", setting.to_numpy(),
           f"the phase gives this setting type but {establishments.name} gives the URN another; the list's is used",
           "Check the phase and the URN.", severity="warning")
    return setting.where(~refine, found)


def read_ap_urns(path: Path | str) -> frozenset[str]:
    """URNs of AP settings from a file whose column `urn` (or first column) lists them."""
    table = read_table(path)
    column = "urn" if "urn" in table.frame.columns else table.frame.columns[0]
    return frozenset(v.strip() for v in table.frame[column] if v.strip())


def detect_lists(path: Path, sheet: str | None, book: Workbook | None = None
                 ) -> tuple[RawTable | None, RawTable | None] | None:
    """Annex A lists in a caseload file, if that is what it holds (else None); `book`: the
    workbook's sheets as read so far."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and sheet is None:
        try:
            return read_workbook_lists(book or Workbook(path))
        except InputError as error:
            if error.code != "no_annex_a":
                raise
            return None
    return None


def read_lists(options: ReadOptions, caseload: Path | None, sheet: str | None,
               first: RawTable | None = None, book: Workbook | None = None) -> AnnexAResult | None:
    """Annex A converted to the contract when the input is Annex A; None when it is not. `first`:
    the caseload file as read already; `book`: its sheets, when it is a workbook."""
    if options.list1 or options.list2:
        # One workbook given as both lists is opened once: each of its sheets is read once.
        books: dict[Path, Workbook] = {}
        list1, other1 = _given_list(options.list1, "list1", books) if options.list1 else (None, "")
        list2, other2 = _given_list(options.list2, "list2", books) if options.list2 else (None, "")
        for table in (list1, list2):
            if table is not None and not is_annex_a(table):
                raise InputError(f"{table.name}: not an Annex A list (no 'Unique ID' and 'SEN primary need' "
                                 "headers).", "no_annex_a")
        _refuse_swapped(list1, list2)
    elif caseload is not None:
        lists = detect_lists(caseload, sheet, book)
        if lists is None:
            if first is None or not is_annex_a(first):
                return None
            lists = (first, None) if is_list1(first) else (None, first)
        list1, list2 = lists
    else:
        return None
    mapping = load_mapping(options.mapping)
    result = convert(list1, list2, as_of=options.as_of or dt.date.today(), mapping=mapping,
                     ap_urns=read_ap_urns(options.ap_urns) if options.ap_urns else frozenset(),
                     establishments=(read_establishments(options.establishments, mapping.establishment_type)
                                     if options.establishments else None))
    mismatched = _given_as_the_other_list(list1, list2) if options.list1 or options.list2 else []
    if options.list1 and not options.list2 and other1:
        mismatched.append(_other_sheet_left(list1, Path(options.list1).name, other1, LIST2_WORDS))
    if options.list2 and not options.list1 and other2:
        mismatched.append(_other_sheet_left(list2, Path(options.list2).name, other2, LIST1_WORDS))
    if not mismatched:
        return result
    said = pd.DataFrame(mismatched, columns=FAILURE_COLUMNS)
    return replace(result, failures=pd.concat([said, result.failures], ignore_index=True))


# Which list is which decides every child's plan status: the file given as List 1 has EHC plans.
LIST1_WORDS = "List 1 (EHC plans)"
LIST2_WORDS = "List 2 (SEN support)"


def _given_list(path: Path, which: str, books: dict[Path, Workbook]) -> tuple[RawTable, str]:
    """The list given as List 1 or 2 (`which`: 'list1', 'list2'), and the sheet holding the other
    list ('' for none): a workbook holding both lists, in sheets named like List_1 and List_2 or
    found by their headers, gives each list its own sheet (its first sheet, read for both, made
    every child a List 1 child on both lists)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return read_table(path), ""
    key = path.resolve()
    if key not in books:
        books[key] = Workbook(path)
    book = books[key]
    if len(book.names) < 2:  # a list alone in its workbook is named by the file, as a CSV is
        return book.table(), ""
    try:
        sheets = list_sheets(book)
    except InputError as error:
        if error.code != "no_annex_a":
            raise
        return book.table(), ""
    wanted = sheets.get(which)
    table = _labelled(book.table(wanted), path.name, wanted) if wanted else book.table()
    return table, sheets.get("list2" if which == "list1" else "list1", "")


def _other_sheet_left(given: RawTable, book: str, sheet: str, other: str) -> dict[str, object]:
    """A warning for the workbook `book` given as one list whose sheet `sheet` holds the other, unread."""
    return _failure("warning", given.name, 1, "", "",
                    f"the workbook's sheet '{sheet}' ({other}) was not read: only the list given is",
                    f"To read both, give {book} as {other} too, or as the caseload alone.")


def _refuse_swapped(list1: RawTable | None, list2: RawTable | None) -> None:
    """Both lists given, each the other's by its headers: read so, every child would have the
    other plan status, without an error.

    Raises:
        InputError: naming which file to give as which list.
    """
    if list1 is None or list2 is None or is_list1(list1) or not is_list1(list2):
        return
    raise InputError(f"{list1.name} and {list2.name} seem given the wrong way round: {list2.name}, given as "
                     f"{LIST2_WORDS}, has List 1's EHC plan columns, and {list1.name}, given as {LIST1_WORDS}, has "
                     "none of them; read so, every child would have the other plan status.", "lists_swapped",
                     fix=f"Give {list2.name} as List 1 and {list1.name} as List 2.")


def _given_as_the_other_list(list1: RawTable | None, list2: RawTable | None) -> list[dict[str, object]]:
    """A warning for one list given alone whose headers are the other list's (a List 1 may be
    sent without its plan dates, so this is not an error)."""
    if list2 is None and list1 is not None and not is_list1(list1):
        return [_failure("warning", list1.name, 1, "", "",
                         f"given as {LIST1_WORDS}, the list has none of List 1's EHC plan columns (such as 'Date "
                         "initial EHC plan issued'), so its children are all read as having EHC plans",
                         f"If it is {LIST2_WORDS}, give it as List 2.")]
    if list2 is not None and is_list1(list2):  # with a List 1 beside it too: both would hold EHC plans
        return [_failure("warning", list2.name, 1, "", "",
                         f"given as {LIST2_WORDS}, the list has List 1's EHC plan columns (such as 'Date initial EHC "
                         "plan issued'), so its children are all read as on SEN support",
                         f"If it is {LIST1_WORDS}, give it as List 1.")]
    return []
