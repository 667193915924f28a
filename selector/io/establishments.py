"""Setting type from the school's URN, through the public Get Information About Schools extract.

Lists often give only the URN of the school a child attends. The all-establishments extract
(CSV, as GIAS writes it: `URN`, `EstablishmentName`, `TypeOfEstablishment (name)`,
`EstablishmentTypeGroup (name)`, `PhaseOfEducation (name)`, `EstablishmentStatus (name)`, ...)
says what kind of place each URN is; an editable mapping turns the type of establishment (or,
failing that, its type group) into the contract's setting type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.cells import whole_ids
from ..contract.errors import InputError
from ..contract.failures import FAILURE_COLUMNS
from .tables import RawTable, read_table

# GIAS's type of establishment (and type group, the fallback) -> setting type. Keys are
# matched ignoring case and punctuation; edit with [establishment_type] in a --mapping file.
ESTABLISHMENT_TYPES: dict[str, str] = {
    "Pupil referral unit": "AP",
    "Academy alternative provision converter": "AP",
    "Academy alternative provision sponsor led": "AP",
    "Free schools alternative provision": "AP",
    "Community special school": "SPECIAL",
    "Foundation special school": "SPECIAL",
    "Academy special converter": "SPECIAL",
    "Academy special sponsor led": "SPECIAL",
    "Free schools special": "SPECIAL",
    "Non-maintained special school": "SPECIAL",
    "Special post 16 institution": "SPECIAL",
    "Other independent special school": "INDEPENDENT",
    "Other independent school": "INDEPENDENT",
    "Further education": "FE",
    "Sixth form centres": "FE",
    "Academy 16-19 converter": "FE",
    "Academy 16 to 19 sponsor led": "FE",
    "Free schools 16 to 19": "FE",
    "Local authority nursery school": "EARLY_YEARS",
    "Secure units": "CUSTODY",
    "Community school": "MAINSTREAM",
    "Voluntary aided school": "MAINSTREAM",
    "Voluntary controlled school": "MAINSTREAM",
    "Foundation school": "MAINSTREAM",
    "Academy converter": "MAINSTREAM",
    "Academy sponsor led": "MAINSTREAM",
    "Free schools": "MAINSTREAM",
    "University technical college": "MAINSTREAM",
    "Studio schools": "MAINSTREAM",
    "City technology college": "MAINSTREAM",
    # Type groups, used when the type itself is not in the mapping.
    "Special schools": "SPECIAL",
    "Independent schools": "INDEPENDENT",
    "Colleges": "FE",
    "Local authority maintained schools": "MAINSTREAM",
    "Academies": "MAINSTREAM",
    "Free Schools": "MAINSTREAM",
}

# A resource base (RESOURCED) sits inside a mainstream school and has the school's URN.
AGREEING = frozenset({("RESOURCED", "MAINSTREAM")})


def agrees(stated: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Whether a stated setting type and the URN's agree (equal, or a resource base in a school)."""
    return (stated == found) | np.array([(s, f) in AGREEING for s, f in zip(stated, found, strict=True)], dtype=bool)


URN = "urn"
TYPE = "typeofestablishment_(name)"
GROUP = "establishmenttypegroup_(name)"
NAME = "establishmentname"


def type_key(text: object) -> str:
    """A type name as the mapping matches it.

    >>> type_key(" Academy 16-19 converter"), type_key("Non-maintained special school")
    ('academy 16 19 converter', 'non maintained special school')
    """
    return " ".join("".join(c if c.isalnum() else " " for c in str(text).casefold()).split())


@dataclass(frozen=True)
class Establishments:
    """What the extract says about each URN: the setting type (empty when its type maps to nothing)
    and the establishment's type as GIAS names it."""

    name: str
    setting_type: dict[str, str]
    type_name: dict[str, str]

    def lookup(self, urns: pd.Series) -> np.ndarray:
        """The setting type of each URN ("" where the extract does not know it or cannot map it)."""
        return whole_ids(urns)[0].map(self.setting_type).fillna("").to_numpy(dtype=object)


def read_establishments(path: Path | str, mapping: dict[str, str] | None = None) -> Establishments:
    """Read a GIAS extract (CSV, XLSX or Parquet).

    The national extract is large (50,000 establishments, some 60 MB) and a batch reads it for
    every area: one process reads the same file (same place, size and time of change) with the
    same mapping once.

    Args:
        mapping: `type_key` of a type or type-group name -> setting type (the defaults when None).

    Raises:
        InputError: the file lacks the URN or TypeOfEstablishment (name) column, or a mapping
            value is not a setting type.
    """
    path = Path(path)
    try:
        status = path.stat()
    except OSError:
        return _read_establishments(path, mapping)  # read_table says what is wrong
    key = (str(path.resolve()), status.st_size, status.st_mtime_ns, tuple(sorted((mapping or {}).items())),
           mapping is None)
    if key not in _READ:
        _READ.clear()  # one extract at a time: a batch gives every area the same one
        _READ[key] = _read_establishments(path, mapping)
    return _READ[key]


_READ: dict[tuple[object, ...], Establishments] = {}


def _read_establishments(path: Path, mapping: dict[str, str] | None) -> Establishments:
    table = read_table(path)
    frame = table.frame
    if URN not in frame.columns or TYPE not in frame.columns:
        raise InputError(f"{table.name}: not a Get Information About Schools extract (it needs the columns 'URN' "
                         "and 'TypeOfEstablishment (name)'). Download 'all establishment data' from GIAS.",
                         "bad_establishments")
    by_key = mapping if mapping is not None else {type_key(k): v for k, v in ESTABLISHMENT_TYPES.items()}
    urns = whole_ids(frame[URN])[0]  # '224962.0' is URN 224962, as the caseload's ids are read
    types = frame[TYPE].str.strip()
    groups = frame[GROUP].str.strip() if GROUP in frame.columns else pd.Series([""] * len(frame))
    # Each distinct type and group looked up once: the national extract repeats a few dozen over 50,000 rows.
    setting = types.map({t: by_key.get(type_key(t), "") for t in types.unique()}).where(
        lambda s: s != "", groups.map({g: by_key.get(type_key(g), "") for g in groups.unique()}))
    keep = urns != ""
    return Establishments(table.name, dict(zip(urns[keep], setting[keep], strict=True)),
                          dict(zip(urns[keep], types[keep], strict=True)))


def fill_setting_types(raw: RawTable, establishments: Establishments) -> tuple[RawTable, pd.DataFrame]:
    """A contract caseload's empty `setting_type` cells filled from its `setting_id` (a URN); a
    stated setting type wins, and one that the extract contradicts is a warning.

    Returns:
        The table (a copy) and the warnings.
    """
    frame = raw.frame
    failures: list[dict[str, object]] = []
    if "setting_id" not in frame.columns:
        failures.append(_warning(raw.name, 1, "setting_id", "the caseload has no setting_id column, so "
                                 f"{establishments.name} was not used", "Add the URN of each child's setting."))
        return raw, pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    found = establishments.lookup(frame["setting_id"])
    stated = (frame["setting_type"].astype(str).str.strip() if "setting_type" in frame.columns
              else pd.Series([""] * len(frame)))
    differs = (stated != "").to_numpy() & (found != "") & ~agrees(stated.str.upper().to_numpy(), found)
    urns = whole_ids(frame["setting_id"])[0].to_numpy()
    for row, urn, said, looked in zip(raw.row_numbers[differs], urns[differs], stated[differs], found[differs],
                                      strict=True):
        failures.append(_warning(raw.name, row, "setting_type", said,
                                 f"the list says {said} but {establishments.name} makes URN {urn} "
                                 f"({establishments.type_name.get(urn, '')}) {looked}; the list's value is used",
                                 "Check the setting type, or the URN."))
    unknown = (stated == "").to_numpy() & (found == "") & (urns != "")
    for row, urn in zip(raw.row_numbers[unknown], urns[unknown], strict=True):
        known = urn in establishments.type_name
        failures.append(_warning(raw.name, row, "setting_id", urn,
                                 f"{establishments.name} gives URN {urn} the type "
                                 f"'{establishments.type_name[urn]}', which maps to no setting type" if known else
                                 f"URN {urn} is not in {establishments.name}",
                                 "Give the setting type, or add the type to [establishment_type] in a mapping file."
                                 if known else "Give the setting type, or check the URN."))
    filled = raw.frame.copy()
    filled["setting_type"] = np.where(stated == "", found, stated)
    header = {**raw.header, "setting_type": raw.header.get("setting_type", "setting_type")}
    return (replace(raw, frame=filled, header=header),
            pd.DataFrame(failures, columns=FAILURE_COLUMNS))


def _warning(file: str, row: object, column: str, value: object, problem: str, fix: str) -> dict[str, object]:
    return {"severity": "warning", "file": file, "row": int(row), "column": column, "value": value,
            "problem": problem, "fix": fix}
