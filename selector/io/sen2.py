"""The SEN2 person-level return read as a caseload: the XML an area submits to the Department
for Education, or the same modules as one CSV each (the form sector tools use), in a folder or
in a .zip (which the web page can upload, as it cannot a folder).

Each child with an active plan becomes a row: plan status EHCP, the primary need from the
rank-1 SEN need (rank 2 is the secondary need), the age in whole years at the reference date,
the setting type from the current placement (rank 1 among those not left): from its URN
through a Get Information About Schools extract when one is given, else from its SEN setting
code through the editable mapping. Names, birth dates, postcodes, UPN and ULN are read only to
compute the age (or, when the return has no person id, a pseudonym) and are never kept.

The XML is parsed with defusedxml: a document type declaration, an entity (an "XML bomb") or
an external reference is refused before anything is expanded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeTree

from ..contract.columns import NEED_CODES, SETTING_CODES
from ..contract.errors import CaseloadValidationError, InputError
from ..contract.failures import FAILURE_COLUMNS, HIDDEN_VALUE
from .annex_a_rules import parse_dates
from .establishments import Establishments
from .tables import RawTable, is_side_file, read_table

# The modules of the return, as XML elements (under Person) and as CSV files (by name).
MODULES = ("person", "requests", "assessment", "named_plan", "plan_detail", "active_plans", "placement_detail",
           "sen_need")
# SEN setting codes of a placement without a URN -> setting type; edit with [sen_setting] in a --mapping file.
SEN_SETTINGS: dict[str, str] = {
    "EHE": "EHE",          # elective home education
    "EYP": "EARLY_YEARS",  # early years provider
    "OLA": "OTHER",        # other arrangements made by the local authority
    "OPA": "OTHER",        # other arrangements made by parents
    "OTH": "OTHER",
}
# Older returns and some tools write these for the codes of the contract.
NEED_SYNONYMS = {"PLD": "SPLD"}
PERSON_FIELDS = ("PersonID", "PersonBirthDate", "UPN", "UniqueLearnerNumber", "Forename", "Surname")
# The module CSVs in a .zip: a return of a million children is a few hundred MB; more than this
# unpacked is refused before it fills the disk (a "zip bomb" unpacks to far more than it weighs).
ZIP_UNPACKED_MOST = 4 * 1024**3


@dataclass(frozen=True)
class Sen2Result:
    """The return as a contract caseload, its warnings, and the date ages were taken at."""

    table: RawTable
    failures: pd.DataFrame
    as_of: dt.date


def read_sen2(path: Path, as_of: dt.date | None, settings: dict[str, str] | None = None,
              establishments: Establishments | None = None) -> Sen2Result:
    """Read a SEN2 return: an .xml file, or module CSVs in a folder or a .zip.

    Args:
        as_of: the date ages are taken at; None takes the return's reference date.
        settings: SEN setting code -> setting type (the defaults when None).

    Raises:
        InputError: unreadable, unsafe or malformed XML, a wrong root, an unknown module, a damaged
            or password-protected zip.
        CaseloadValidationError: every problem in the children's records, by person and field.
    """
    path = Path(path)
    if path.is_dir():
        modules, sha256, reference = _read_csv_modules(path), _folder_sha256(path), None
    elif path.suffix.lower() == ".zip":
        data = _read_bytes(path)
        # Unpacked into a folder of its own for the module reader, removed however the read ends.
        with tempfile.TemporaryDirectory(prefix="selector-sen2-") as folder:
            _unpack_modules(path.name, data, Path(folder))
            modules = _read_csv_modules(Path(folder), shown=path.name, packed=True)
        sha256, reference = hashlib.sha256(data).hexdigest(), None
    else:
        data = _read_bytes(path)
        _refuse_other_files(path, data)
        modules, reference = _read_xml(path.name, data)
        sha256 = hashlib.sha256(data).hexdigest()
    when = as_of or reference or dt.date.today()
    return _to_caseload(path.name, modules, sha256, when, settings or SEN_SETTINGS, establishments)


# ---------------------------------------------------------------- XML

def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"{path.name}: file not found, or not an ordinary file ({path}).", "missing_file",
                         where=path.name)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror}).", "unreadable") from exc


def _refuse_other_files(path: Path, data: bytes) -> None:
    """A file that is no XML at all given as the return (a module CSV, the contacts, a workbook)
    is said as that, with what to give, not as XML broken at its first character.

    Raises:
        InputError: the file is not XML.
    """
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return
    module = path.stem.lower()
    what = (f"{path.name} is one module of a return given as CSVs: give the folder (or .zip) that holds it with the "
            "other modules" if module in MODULES else
            f"{path.name} is not a SEN2 return, which is an XML file, or one CSV per module (person.csv, "
            "requests.csv and the rest) in a folder or a .zip: give one of those (a caseload in selector's own "
            "columns is given as the caseload, not as a SEN2 return)")
    raise InputError(f"{what}.", "not_sen2", where=path.name)


def _read_xml(name: str, data: bytes) -> tuple[dict[str, pd.DataFrame], dt.date | None]:
    try:
        root = SafeTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputError(f"{name}: refused: the XML declares a document type, entities or external references "
                         f"({type(exc).__name__}), which a SEN2 return never needs and which can make a reader "
                         "expand or fetch data. Export the return again from the case management system.",
                         "unsafe_xml") from exc
    except SafeTree.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise InputError(f"{name}: not well-formed XML (line {line}, column {column}). Export the return again.",
                         "bad_xml") from exc
    for element in root.iter():  # some systems write the return in a namespace; its elements are the same
        element.tag = _local(element.tag)
    collection = _text(root.find("Header/CollectionDetails/Collection"))
    if root.tag != "Message" or collection.upper() != "SEN2":
        found = (f"the root is <{root.tag}>" if root.tag != "Message" else
                 f"its collection is {collection}" if collection else
                 "its header names no collection in <Header><CollectionDetails><Collection>")
        raise InputError(f"{name}: not a SEN2 return ({found}; a return is a <Message> whose header names the "
                         "collection SEN2).", "not_sen2")
    reference = _date(_text(root.find("Header/CollectionDetails/ReferenceDate")))
    persons = root.find("Persons")
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in MODULES}
    for number, person in enumerate(persons if persons is not None else [], start=1):
        if person.tag != "Person":
            raise _unknown_module(name, person.tag, "Persons")
        _flatten(name, person, number, rows)
    return {m: pd.DataFrame(r) for m, r in rows.items()}, reference


# Which child elements each module holds, and the module each nested element starts.
NESTED = {"person": {"Requests": "requests"},
          "requests": {"Assessment": "assessment", "ActivePlans": "active_plans"},
          "assessment": {"NamedPlan": "named_plan"},
          "named_plan": {"PlanDetail": "plan_detail"},
          "active_plans": {"PlacementDetail": "placement_detail", "SENneed": "sen_need"},
          "plan_detail": {}, "placement_detail": {}, "sen_need": {}}


def _flatten(name: str, person: Any, number: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    """One <Person> as rows of each module, linked by person_id / requests_id / active_plans_id."""
    counter = {m: len(rows[m]) for m in MODULES}

    def walk(element: Any, module: str, keys: dict[str, int]) -> None:
        record: dict[str, Any] = {**keys}
        for child in element:
            tag = child.tag
            if tag in NESTED[module]:
                continue
            if len(child):
                raise _unknown_module(name, tag, element.tag)
            record[tag] = _text(child)
        counter[module] += 1
        own = {**keys, f"{module}_id": counter[module]}
        record[f"{module}_id"] = counter[module]
        rows[module].append(record)
        for child in element:
            tag = child.tag
            if tag in NESTED[module]:
                walk(child, NESTED[module][tag], own)

    walk(person, "person", {"person_number": number})


def _unknown_module(name: str, tag: str, parent: str) -> InputError:
    return InputError(f"{name}: <{tag}> inside <{parent}> is not a SEN2 module this reader knows (the modules are "
                      "Person, Requests, Assessment, NamedPlan, PlanDetail, ActivePlans, PlacementDetail, SENneed).",
                      "unknown_module")


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def _date(text: str) -> dt.date | None:
    parsed = parse_dates(pd.Series([text])).iloc[0]
    return None if pd.isna(parsed) else parsed.date()


# ---------------------------------------------------------------- CSV modules

KEYS = {"person": ("person_id",), "requests": ("requests_id", "person_id"),
        "active_plans": ("active_plans_id", "requests_id"), "placement_detail": ("active_plans_id",),
        "sen_need": ("active_plans_id",), "assessment": (), "named_plan": (), "plan_detail": ()}


# The module files a folder must hold: a child is a person with a request, an active plan, a placement and a need.
REQUIRED_FILES = ("person", "requests", "active_plans", "placement_detail", "sen_need")


def _unpack_modules(name: str, data: bytes, folder: Path) -> None:
    """The files of a .zip of module CSVs, into `folder` by their own names (a zip made of the
    folder itself holds them one folder down; hidden and side files are skipped).

    Raises:
        InputError: not a zip or damaged, password-protected, two files of one name, or more
            than ZIP_UNPACKED_MOST unpacked.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        files = [(m, m.filename.replace("\\", "/").rsplit("/", 1)[-1]) for m in members]
        files = [(m, base) for m, base in files if base and not base.startswith((".", "~$"))]
        if any(base == "run.json" for _m, base in files):  # the page's Download: a zip too
            raise InputError(f"{name}: is a run folder (it holds run.json), not a SEN2 return's module CSVs. To carry "
                             "its calls on, give it under 'Carry on with the calls' on the page; on the command line, "
                             "unzip it and give its folder to verify, replace or consent.", "run_not_caseload")
        if any(m.flag_bits & 0x1 for m, _base in files):
            raise InputError(f"{name}: the zip is password-protected. Make it again without a password.",
                             "encrypted_zip")
        bases = [base.lower() for _m, base in files]
        twice = sorted({base for _m, base in files if bases.count(base.lower()) > 1})
        if twice:
            raise InputError(f"{name}: holds {', '.join(twice)} more than once (in different folders). Put one CSV "
                             "per module in the zip.", "bad_sen2")
        left = ZIP_UNPACKED_MOST
        for member, base in files:
            # In blocks, counted as they come (the sizes a zip declares may lie), never whole in memory.
            with archive.open(member) as source, open(folder / base, "wb") as target:
                while block := source.read(1 << 20):
                    left -= len(block)
                    if left < 0:
                        raise InputError(f"{name}: unpacks to more than {ZIP_UNPACKED_MOST // 1024**3} GB, far more "
                                         "than a SEN2 return's module CSVs. Check that it is the right file.",
                                         "zip_too_large")
                    target.write(block)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, RuntimeError,
            zlib.error) as exc:  # a damaged zip fails in any of these ways
        raise InputError(f"{name}: cannot be read as a zip ({exc}). Make the zip again from the module CSVs.",
                         "bad_zip") from exc
    except OSError as exc:  # the disk full, say
        raise InputError(f"{name}: cannot be unpacked here ({exc.strerror}).", "unreadable") from exc


def _read_csv_modules(folder: Path, shown: str | None = None, packed: bool = False) -> dict[str, pd.DataFrame]:
    """One CSV per module, named after it (person.csv, active_plans.csv, ...); rows linked by
    person_id, requests_id and active_plans_id columns. `shown` names the folder (or the zip it
    was unpacked from, when `packed`) in messages."""
    found: dict[str, pd.DataFrame] = {m: pd.DataFrame() for m in MODULES}
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in (".csv", ".xlsx", ".parquet") and not is_side_file(p))
    for path in files:
        module = _module_of(path)
        if module not in MODULES:
            raise InputError(f"{path.name}: not a SEN2 module (the module files are "
                             f"{', '.join(m + '.csv' for m in MODULES)}).", "unknown_module")
        table = read_table(path)
        frame = table.frame.rename(columns={c: h for c, h in table.header.items()})
        frame.columns = [c if c.lower() not in [k for k in KEYS[module]] else c.lower() for c in frame.columns]
        missing = [k for k in KEYS[module] if k not in frame.columns]
        if missing:
            raise InputError(f"{path.name}: the {module} module needs the column(s) {', '.join(missing)} that link "
                             "its rows to the other modules.", "bad_sen2")
        frame["_row"] = table.row_numbers
        frame["_file"] = path.name
        found[module] = frame
    present = {_module_of(path) for path in files}
    absent = [m for m in REQUIRED_FILES if m not in present]
    if absent:
        where = "zip" if packed else "folder"
        raise InputError(f"{shown or folder.name}: no {', '.join(m + '.csv' for m in absent)}: a SEN2 return in CSV "
                         f"form is a {where} of one CSV per module, and every child's person, plan, placement and need "
                         f"come from {', '.join(m + '.csv' for m in REQUIRED_FILES)}. Export them all from the return "
                         f"into this {where}.", "not_sen2" if "person" in absent else "bad_sen2")
    person = found["person"]
    person["person_number"] = person["_row"]
    return found


def _module_of(path: Path) -> str:
    """The module a file holds, by its name: "Active-Plans.csv" -> active_plans."""
    return "_".join(path.stem.lower().replace("-", " ").replace("_", " ").split())


def _folder_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not is_side_file(p)):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# ---------------------------------------------------------------- to the contract

def _to_caseload(name: str, modules: dict[str, pd.DataFrame], sha256: str, as_of: dt.date,
                 settings: dict[str, str], establishments: Establishments | None) -> Sen2Result:
    failures: list[dict[str, object]] = []

    def problem(row: object, column: str, value: object, text: str, fix: str, severity: str = "error",
                file: object = None) -> None:
        failures.append({"severity": severity, "file": file if isinstance(file, str) else name, "row": int(row),
                         "column": column, "value": value, "problem": text, "fix": fix})

    person = _column_text(modules["person"], PERSON_FIELDS)
    requests = _with_links(modules["requests"], ("requests_id", "person_id"))
    plans = _with_links(modules["active_plans"], ("active_plans_id", "requests_id"))
    if plans.empty or requests.empty:
        raise InputError(f"{name}: no active plans in the return (no ActivePlans module).", "no_active_plans")
    # In the CSV form the modules are linked by id columns, which can name a row that is not there.
    plans = _linked(plans, "requests_id", requests, "requests", problem)
    requests = _linked(requests, "person_id", person, "person", problem)
    plans = plans.drop(columns=["person_id"], errors="ignore").merge(  # a plan of a request reported above: dropped
        requests[["requests_id", "person_id"]].drop_duplicates("requests_id"), on="requests_id", how="inner")
    placements = _column_text(_with_links(modules["placement_detail"], ("active_plans_id",)),
                              ("URN", "SENSetting", "PlacementRank", "LeavingDate"))
    needs = _column_text(_with_links(modules["sen_need"], ("active_plans_id",)), ("SENtype", "SENtypeRank"))

    rows = []
    for _, plan in plans.drop_duplicates("person_id").iterrows():
        who = person.loc[person["person_id"] == plan["person_id"]].iloc[0]
        number = int(who["person_number"])

        def said(column: str, value: object, text: str, fix: str, severity: str = "error",
                 source: pd.Series | None = None, whose: pd.Series = who) -> None:
            """A problem of this person's: in the CSV form at the file and row that hold the field
            (`source`, a row of a module; else the person's row of person.csv), in the XML at the
            person's position in the return (its frames have no file)."""
            at = source if source is not None and isinstance(source.get("_file"), str) else whose
            in_csv = isinstance(at.get("_file"), str)
            problem(at["_row"] if in_csv else whose["person_number"], column, value, text, fix, severity,
                    file=at.get("_file"))

        child_id = who["PersonID"] or _pseudonym(who)
        born = _date(who["PersonBirthDate"])
        age = -1
        if born is None:
            said("PersonBirthDate", HIDDEN_VALUE, "no birth date, or not a date",
                 "Give the person's birth date as 2011-03-04.")
        else:
            age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
            if not 0 <= age <= 25:
                said("PersonBirthDate", f"age {age}", f"aged {age} on {as_of.isoformat()}, outside 0 to 25",
                     "Check the birth date, or the date ages are taken at.")
        own_needs = needs.loc[needs["active_plans_id"] == plan["active_plans_id"]]
        ranked = own_needs.assign(rank=pd.to_numeric(own_needs["SENtypeRank"], errors="coerce")).sort_values("rank")
        codes = [NEED_SYNONYMS.get(t.upper(), t.upper()) for t in ranked["SENtype"]]
        primary = codes[0] if codes else ""
        if primary not in NEED_CODES:
            said("SENtype", primary, "the rank-1 SEN need is missing or not an SEN2 need code",
                 f"Give the SEN need of rank 1 as one of {' '.join(NEED_CODES)}.",
                 source=ranked.iloc[0] if len(ranked) else None)
        secondary = codes[1] if len(codes) > 1 and codes[1] in NEED_CODES else ""
        setting_type, urn = _placement(placements, plan["active_plans_id"], as_of, settings, establishments, said)
        rows.append({"child_id": child_id, "age": str(age), "primary_need": primary, "secondary_need": secondary,
                     "plan_status": "EHCP", "setting_type": setting_type, "setting_id": urn, "_row": number})
    frame = pd.DataFrame(rows, columns=["child_id", "age", "primary_need", "secondary_need", "plan_status",
                                        "setting_type", "setting_id", "_row"])
    table = pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    if (table["severity"] == "error").any():
        errors = int((table["severity"] == "error").sum())
        raise CaseloadValidationError(f"{name}: {errors} problem(s) in the SEN2 return; fix them and run again.",
                                      table.sort_values(["row"], kind="stable").reset_index(drop=True))
    row_numbers = frame.pop("_row").to_numpy(dtype=np.int64)
    raw = RawTable(name, frame.astype(str), row_numbers, sha256, {c: c for c in frame.columns})
    return Sen2Result(raw, table[table["severity"] == "warning"].reset_index(drop=True), as_of)


def _placement(placements: pd.DataFrame, plan_id: object, as_of: dt.date, settings: dict[str, str],
               establishments: Establishments | None, problem: Any) -> tuple[str, str]:
    """The current placement's setting type and URN: rank 1 among those not left by `as_of`."""
    own = placements.loc[placements["active_plans_id"] == plan_id]
    left = parse_dates(own["LeavingDate"])
    current = own.loc[~(left.notna() & (left <= pd.Timestamp(as_of))).to_numpy()]
    if current.empty:
        problem("PlacementDetail", "", "no current placement", "Give the child's placement (URN or SEN setting).")
        return "", ""
    first = current.assign(rank=pd.to_numeric(current["PlacementRank"], errors="coerce")).sort_values("rank").iloc[0]
    urn, code = first["URN"], first["SENSetting"].upper()
    if code:
        setting = settings.get(code, "")
        if setting not in SETTING_CODES:
            problem("SENSetting", code, "SEN setting maps to no setting type",
                    "Add it to [sen_setting] in a mapping file.", source=first)
        return setting, urn
    if urn and establishments is not None:
        setting = str(establishments.lookup(pd.Series([urn]))[0])
        if not setting:
            problem("URN", urn, f"the URN is not in {establishments.name}, or its type maps to no setting type",
                    "Check the URN, or add its type to [establishment_type] in a mapping file.", source=first)
        return setting, urn
    if urn:
        problem("URN", urn, "a placement given by URN only: its setting type is unknown",
                "Give the establishments extract to find it from the URN.", source=first)
        return "", urn
    problem("PlacementDetail", "", "the placement has neither a URN nor a SEN setting", "Give one of them.",
            source=first)
    return "", ""


def _with_links(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The module with its id columns even when the return holds none of its rows."""
    out = frame.copy()
    for key in keys:
        if key not in out.columns:
            out[key] = pd.Series(dtype=object)
    return out


def _linked(rows: pd.DataFrame, key: str, targets: pd.DataFrame, target: str, problem: Any) -> pd.DataFrame:
    """The rows whose `key` names a row of `targets`; each other one is reported (CSV form: by its file and row)."""
    found = rows[key].isin(targets[key]) & rows[key].notna()
    for _, row in rows.loc[~found].iterrows():
        problem(row.get("_row", row.get("person_number", 0)), key, "" if pd.isna(row[key]) else row[key],
                f"names no row of {target}.csv", f"Give the {key} of a row of {target}.csv.", file=row.get("_file"))
    return rows.loc[found]


def _column_text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The frame with each named column present, as trimmed text."""
    out = frame.copy()
    for column in columns:
        out[column] = out[column].fillna("").astype(str).str.strip() if column in out.columns else ""
    return out


def _pseudonym(person: pd.Series) -> str:
    """A stable id for a person whose record has no PersonID: a hash of their UPN (or ULN, or name and
    birth date). The identifiers themselves are never kept."""
    basis = person["UPN"] or person["UniqueLearnerNumber"] or "|".join(
        (person["Forename"], person["Surname"], person["PersonBirthDate"]))
    return "S2-" + hashlib.sha256(f"selector-sen2|{basis.upper()}".encode()).hexdigest()[:10].upper()
