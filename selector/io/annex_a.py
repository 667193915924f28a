"""Reading the Annex A lists that local areas prepare for the inspection (List 1: EHC plans,
List 2: SEN support) into the contract's caseload, through an editable mapping table.

Annex A problems are reported in Annex A's own terms: the file or sheet, the row, and the
column header as the area wrote it. Dates of birth, UPN and ULN are read only to work out the
age and are then dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.columns import FALSE_WORDS, MAX_AGE, NEED_CODES, SETTING_CODES, SOCIAL_CARE_CODES, TRUE_WORDS
from ..contract.errors import CaseloadValidationError, InputError
from ..contract.failures import FAILURE_COLUMNS
from .annex_a_rules import check_list, parse_dates
from .establishments import (
    ESTABLISHMENT_TYPES,
    Establishments,
    agrees,
    fill_setting_types,
    read_establishments,
    type_key,
)
from .sen2 import SEN_SETTINGS, read_sen2
from .tables import RawTable, open_workbook, read_table

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
REQUIRED = ("unique id", "date of birth", "sen primary need", "main education establishment phase")
LIST1_ONLY = ("date initial ehc plan issued", "elective home education")
IDENTIFYING = ("upn", "uln", "date_of_birth")

DEFAULT_MAPPING_TOML = """\
# How selector reads the text of the Annex A lists. Keys are matched ignoring case, spaces,
# hyphens, dashes and punctuation. Edit and pass with --mapping FILE. A value that maps to
# nothing is reported by `selector validate` with its rows; it is never guessed.

# SEN primary need: the SEN2 codes themselves are always accepted; these are the long names.
[primary_need]
"Specific learning difficulty" = "SPLD"
"Moderate learning difficulty" = "MLD"
"Severe learning difficulty" = "SLD"
"Profound and multiple learning difficulty" = "PMLD"
"Social, emotional and mental health" = "SEMH"
"Speech, language and communication needs" = "SLCN"
"Hearing impairment" = "HI"
"Visual impairment" = "VI"
"Multi-sensory impairment" = "MSI"
"Physical disability" = "PD"
"Autistic spectrum disorder" = "ASD"
"Autism" = "ASD"
"Other difficulty/disability" = "OTH"
"Other difficulty or disability" = "OTH"
"SEN support but no specialist assessment of type of need" = "NSA"
"No specialist assessment" = "NSA"

# Main (and subsidiary) education establishment phase -> setting_type.
[setting_type]
"Nursery" = "EARLY_YEARS"
"Early years" = "EARLY_YEARS"
"Private, voluntary or independent early years" = "EARLY_YEARS"
"Primary" = "MAINSTREAM"
"Middle deemed primary" = "MAINSTREAM"
"Middle deemed secondary" = "MAINSTREAM"
"Secondary" = "MAINSTREAM"
"All-through" = "MAINSTREAM"
"Sixth form" = "MAINSTREAM"
"Resourced provision" = "RESOURCED"
"SEN unit" = "RESOURCED"
"Special" = "SPECIAL"
"Special school" = "SPECIAL"
"Independent" = "INDEPENDENT"
"Independent special school" = "INDEPENDENT"
"Non-maintained special school" = "INDEPENDENT"
"Pupil referral unit" = "AP"
"PRU" = "AP"
"Alternative provision" = "AP"
"AP academy" = "AP"
"16 plus" = "FE"
"Post-16" = "FE"
"Further education" = "FE"
"FE college" = "FE"
"Sixth form college" = "FE"
"Apprenticeship" = "TRAINING"
"Traineeship" = "TRAINING"
"Supported internship" = "TRAINING"
"Elective home education" = "EHE"
"Not in education" = "NOT_IN_EDUCATION"
"NEET" = "NOT_IN_EDUCATION"
"Not applicable" = "NOT_IN_EDUCATION"
"Custody" = "CUSTODY"
"Youth custody" = "CUSTODY"
"Secure setting" = "CUSTODY"
"Other" = "OTHER"

# Which children's social care team? -> social_care. Empty means NONE when the child is
# not known to children's social care.
[social_care]
"None" = "NONE"
"Not known to social care" = "NONE"
"Early help" = "EARLY_HELP"
"Children in need" = "CIN"
"Child in need" = "CIN"
"CIN" = "CIN"
"Child protection" = "CP"
"CP" = "CP"
"Looked after children" = "CLA"
"Looked after child" = "CLA"
"Children looked after" = "CLA"
"CLA" = "CLA"
"LAC" = "CLA"
"Leaving care" = "CARE_LEAVER"
"Care leavers" = "CARE_LEAVER"
"Care leaver" = "CARE_LEAVER"
"Disabled children" = "CIN"
"Children with disabilities" = "CIN"
"""
DEFAULT_MAPPING_TOML += (
    "\n# SEN2 returns: the SEN setting code of a placement without a URN -> setting_type.\n"
    "[sen_setting]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in SEN_SETTINGS.items()))
DEFAULT_MAPPING_TOML += (
    "\n# Get Information About Schools: type of establishment (or type group) -> setting_type,\n"
    "# used with --establishments FILE to find a child's setting type from the URN.\n"
    "[establishment_type]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in ESTABLISHMENT_TYPES.items()))


def annex_key(text: object) -> str:
    """Text as the mapping matches it: lower case, punctuation and dashes as spaces, single spaces.

    >>> annex_key("Main education establishment – URN ")
    'main education establishment urn'
    >>> annex_key("Known to children's social care?")
    'known to childrens social care'
    """
    lowered = str(text).strip().lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", " ", lowered).strip()


@dataclass(frozen=True)
class Mapping:
    """The mapping tables: normalised text -> contract code, per target column."""

    primary_need: dict[str, str]
    setting_type: dict[str, str]
    social_care: dict[str, str]
    establishment_type: dict[str, str]
    sen_setting: dict[str, str]


def load_mapping(path: Path | str | None = None) -> Mapping:
    """The default mapping, or an edited one (every code checked).

    Raises:
        InputError: the file is missing, not TOML, or maps to a code the contract lacks.
    """
    source = "default mapping"
    text = DEFAULT_MAPPING_TOML
    if path is not None:
        path = Path(path)
        source = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"{path.name}: mapping file cannot be read ({exc.strerror}).", "missing_file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}.", "bad_mapping") from exc
    allowed = {"primary_need": NEED_CODES, "setting_type": SETTING_CODES, "social_care": SOCIAL_CARE_CODES,
               "establishment_type": SETTING_CODES, "sen_setting": SETTING_CODES}
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(f"{source}: unknown table [{unknown[0]}]; the tables are "
                         f"{', '.join(allowed)}.", "bad_mapping")
    tables: dict[str, dict[str, str]] = {}
    for name, codes in allowed.items():
        table = {annex_key(code): code for code in codes}  # the codes themselves always map
        if name == "establishment_type":  # GIAS's names, matched their own way; defaults kept under edits
            table = {type_key(k): v for k, v in ESTABLISHMENT_TYPES.items()}
        if name == "sen_setting":  # SEN2's setting codes of a placement without a URN
            table = {annex_key(k): v for k, v in SEN_SETTINGS.items()}
        for key, value in data.get(name, {}).items():
            code = str(value).strip().upper()
            if code not in codes:
                raise InputError(f"{source}: [{name}] {key!r} = {value!r} is not one of {' '.join(codes)}.",
                                 "bad_mapping")
            table[type_key(key) if name == "establishment_type" else annex_key(key)] = code
        tables[name] = table
    return Mapping(**tables)


def is_annex_a(table: RawTable) -> bool:
    """Whether a table has Annex A headers (a Unique ID and a SEN primary need)."""
    keys = {annex_key(h) for h in table.header.values()}
    return "unique id" in keys and "sen primary need" in keys


def is_list1(table: RawTable) -> bool:
    keys = {annex_key(h) for h in table.header.values()}
    return any(k in keys for k in LIST1_ONLY)


def read_workbook_lists(path: Path) -> tuple[RawTable | None, RawTable | None]:
    """List 1 and List 2 from one workbook: sheets named like List_1 / List 2, else by headers."""
    book = open_workbook(path)
    names = book.sheetnames
    book.close()
    found: dict[str, RawTable] = {}
    for name in names:
        key = annex_key(name).replace(" ", "")
        if key in ("list1", "list2"):
            found[key] = _labelled(read_table(path, sheet=name), path.name, name)
    if not found:
        for name in names:
            try:
                table = read_table(path, sheet=name)
            except InputError:
                continue
            if is_annex_a(table):
                found["list1" if is_list1(table) else "list2"] = _labelled(table, path.name, name)
    if not found:
        raise InputError(f"{path.name}: no Annex A sheets found (named List_1 / List_2, or with the headers "
                         "'Unique ID' and 'SEN primary need').", "no_annex_a")
    return found.get("list1"), found.get("list2")


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
        raise InputError("no Annex A list given: pass --list1 and/or --list2.", "no_annex_a")
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
    header = {c: c for c in frame.columns}
    sha = "".join(t.sha256 for t in (list1, list2) if t is not None)
    return AnnexAResult(RawTable(name, frame.astype(str), rows, hashlib.sha256(sha.encode()).hexdigest(), header),
                        table)


def _failure(severity: str, file: str, row: object, column: str, value: object, problem: str,
             fix: str) -> dict[str, object]:
    return {"severity": severity, "file": file, "row": int(row), "column": column, "value": value,
            "problem": problem, "fix": fix}


def _convert_list(table: RawTable, status: str, as_of: dt.date, mapping: Mapping, ap_urns: frozenset[str],
                  failures: list[dict[str, object]], establishments: Establishments | None = None) -> pd.DataFrame:
    file = table.name
    original = {annex_key(h): h for h in table.header.values()}
    by_key = {annex_key(h): column for column, h in table.header.items()}
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

    dob_text = src["date_of_birth"].astype(str).str.strip()
    born = parse_dates(dob_text)
    age = whole_years(born, as_of)
    bad_date = born.isna().to_numpy()
    report(bad_date, "date_of_birth", "(hidden)", "not a date (use 2011-03-04 or 04/03/2011)",
           "Correct the date of birth.")
    future = ~bad_date & (age < 0).to_numpy()
    report(future, "date_of_birth", "(hidden)", f"date of birth is after {as_of.isoformat()}",
           "Correct the date of birth, or check --as-of.")
    over = ~bad_date & (age > MAX_AGE).to_numpy()
    report(over, "date_of_birth", age.fillna(0).astype(int).astype(str).radd("age ").to_numpy(),
           f"older than {MAX_AGE} on {as_of.isoformat()}",
           "Correct the date of birth; the lists cover ages 0 to 25.")
    out["age"] = age.fillna(-1).astype(int).to_numpy()

    need_text = src["sen_primary_need"].astype(str).str.strip()
    need = need_text.map(lambda t: mapping.primary_need.get(annex_key(t), ""))
    unmapped = (need == "").to_numpy()
    report(unmapped, "sen_primary_need", need_text.to_numpy(), "SEN primary need maps to no SEN2 code",
           "Use an SEN2 code or name, or add it to [primary_need] in a --mapping file.", counted=True)
    out["primary_need"] = need.to_numpy()
    out["plan_status"] = status

    urn = src["setting_id"].astype(str).str.strip() if "setting_id" in src.columns else pd.Series([""] * len(src))
    phase_text = src["main_phase"].astype(str).str.strip()
    setting = phase_text.map(lambda t: mapping.setting_type.get(annex_key(t), ""))
    if establishments is not None:
        setting = _with_establishments(setting, urn, establishments, report)
    unmapped = (setting == "").to_numpy()
    report(unmapped, "main_phase", phase_text.to_numpy(), "phase maps to no setting type",
           "Add it to [setting_type] in a --mapping file (selector annex-a-mapping writes one)"
           + (", or give --establishments to find it from the URN." if establishments is None else "."),
           counted=True)
    if "subsidiary_phase" in src.columns:
        sub_text = src["subsidiary_phase"].astype(str).str.strip()
        sub = sub_text.map(lambda t: mapping.setting_type.get(annex_key(t), "") if t else "")
        unmapped_sub = ((sub == "") & (sub_text != "")).to_numpy()
        report(unmapped_sub, "subsidiary_phase", sub_text.to_numpy(), "phase maps to no setting type",
               "Add it to [setting_type] in a --mapping file.", counted=True)
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
    out["setting_type"] = setting.to_numpy()
    out["setting_id"] = urn.to_numpy()

    team_text = (src["social_care_team"].astype(str).str.strip() if "social_care_team" in src.columns
                 else pd.Series([""] * len(src)))
    care = team_text.map(lambda t: mapping.social_care.get(annex_key(t), "") if t else "NONE")
    unmapped = (care == "").to_numpy()
    report(unmapped, "social_care_team", team_text.to_numpy(), "social care team maps to no code",
           "Add it to [social_care] in a --mapping file.", counted=True)
    if "known_to_social_care" in src.columns:
        known = src["known_to_social_care"].astype(str).str.strip().str.lower().isin(TRUE_WORDS)
        missing_team = (known & (team_text == "")).to_numpy()
        report(missing_team, "social_care_team", "", "known to social care but no team given",
               "Name the team (e.g. Children in need), or answer No to 'Known to children's social care?'.",
               severity="warning")
    out["social_care"] = care.to_numpy()

    for column in src.columns:
        if column in out.columns or column in IDENTIFYING or column in ("sen_primary_need", "social_care_team"):
            continue
        if column in HEADERS.values():
            out[column] = src[column].to_numpy()
    return out


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


@dataclass(frozen=True)
class AnnexOptions:
    """How to read Annex A input.

    Attributes:
        list1, list2: the list files (CSV, or a sheet of a workbook), when given explicitly.
        as_of: the date ages are taken at (default today).
        mapping: an edited mapping TOML, or None for the defaults.
        ap_urns: a file of AP settings' URNs, or None.
        establishments: a Get Information About Schools extract (setting type from the URN), or None.
        sen2: a SEN2 return (an .xml file, or a folder of one CSV per module), or None.
    """

    list1: Path | None = None
    list2: Path | None = None
    as_of: dt.date | None = None
    mapping: Path | None = None
    ap_urns: Path | None = None
    establishments: Path | None = None
    sen2: Path | None = None


def detect_lists(path: Path, sheet: str | None) -> tuple[RawTable | None, RawTable | None] | None:
    """Annex A lists in a caseload file, if that is what it holds (else None)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") and sheet is None:
        try:
            return read_workbook_lists(path)
        except InputError as error:
            if error.code != "no_annex_a":
                raise
            return None
    return None


def read_lists(options: AnnexOptions, caseload: Path | None, sheet: str | None,
               first: RawTable | None = None) -> AnnexAResult | None:
    """Annex A converted to the contract when the input is Annex A; None when it is not."""
    if options.list1 or options.list2:
        list1 = read_table(options.list1) if options.list1 else None
        list2 = read_table(options.list2) if options.list2 else None
        for table in (list1, list2):
            if table is not None and not is_annex_a(table):
                raise InputError(f"{table.name}: not an Annex A list (no 'Unique ID' and 'SEN primary need' "
                                 "headers).", "no_annex_a")
    elif caseload is not None:
        lists = detect_lists(caseload, sheet)
        if lists is None:
            if first is None or not is_annex_a(first):
                return None
            lists = (first, None) if is_list1(first) else (None, first)
        list1, list2 = lists
    else:
        return None
    mapping = load_mapping(options.mapping)
    return convert(list1, list2, as_of=options.as_of or dt.date.today(), mapping=mapping,
                   ap_urns=read_ap_urns(options.ap_urns) if options.ap_urns else frozenset(),
                   establishments=(read_establishments(options.establishments, mapping.establishment_type)
                                   if options.establishments else None))


@dataclass(frozen=True)
class CaseloadTable:
    """The caseload as read: the raw table, the warnings found on the way (Annex A rules, the
    establishments lookup), and the date ages were taken at (None when the file gives ages)."""

    raw: RawTable
    warnings: pd.DataFrame | None = None
    as_of: dt.date | None = None


def read_caseload_table(path: Path | None, sheet: str | None, annex: AnnexOptions) -> CaseloadTable:
    """The caseload as a raw table, whether it comes in the contract's columns or as Annex A lists
    (converted, ages taken at `annex.as_of`, default today).

    Raises:
        InputError: no caseload given, or a file cannot be read.
        CaseloadValidationError: the Annex A lists have problems (every one).
    """
    sen2 = annex.sen2 or (path if path is not None and path.suffix.lower() == ".xml" else None)
    if sen2 is not None:
        mapping = load_mapping(annex.mapping)
        result = read_sen2(sen2, annex.as_of, {k.upper(): v for k, v in mapping.sen_setting.items()},
                           read_establishments(annex.establishments, mapping.establishment_type)
                           if annex.establishments else None)
        return CaseloadTable(result.table, result.failures, result.as_of)
    first = None
    if path is not None and path.suffix.lower() not in (".xlsx", ".xlsm") and not (annex.list1 or annex.list2):
        first = read_table(path, sheet=sheet)
    as_of = annex.as_of or dt.date.today()
    converted = read_lists(replace(annex, as_of=as_of), path, sheet, first)
    if converted is not None:
        return CaseloadTable(converted.table, converted.failures, as_of)
    if first is None and path is not None:
        first = read_table(path, sheet=sheet)
    if first is None:
        raise InputError("no caseload given: name a caseload file, or the Annex A lists.", "no_caseload")
    if annex.establishments is None:
        return CaseloadTable(first)
    # A contract caseload: empty setting types come from the URN in setting_id.
    mapping = load_mapping(annex.mapping).establishment_type
    return CaseloadTable(*fill_setting_types(first, read_establishments(annex.establishments, mapping)))
