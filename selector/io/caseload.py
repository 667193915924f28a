"""Reading a caseload whatever form it comes in: the contract's columns (CSV, XLSX, Parquet), the
Annex A lists, or a SEN2 return, with the establishments extract filling setting types; and the contacts file that goes with it.

How to read is declared once, in `ReadOptions` (io/options.py). Each reader is imported only when
its format is met, so a plain caseload costs none of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..contract.columns import REQUIRED_COLUMNS, normalise_column
from ..contract.errors import InputError
from ..contract.failures import listed
from .headers import is_annex_a
from .options import ReadOptions
from .tables import RawTable, SheetNote, Workbook, is_workbook, read_table

if TYPE_CHECKING:
    import pandas as pd

    from .establishments import Establishments

SEN2_SUFFIXES = (".xml", ".zip")  # a SEN2 return: its XML, or its module CSVs in a zip


@dataclass(frozen=True)
class CaseloadTable:
    """The caseload as read: the raw table, the warnings found on the way (Annex A rules, the
    establishments lookup), and the date ages were taken at (None when the file gives ages)."""

    raw: RawTable
    warnings: pd.DataFrame | None = None
    as_of: dt.date | None = None


def read_caseload_table(path: Path | None, sheet: str | None, options: ReadOptions) -> CaseloadTable:
    """The caseload as a raw table, whether it comes in the contract's columns, as Annex A lists
    (converted, ages taken at `options.as_of`, default today) or as a SEN2 return.

    Raises:
        InputError: no caseload given, or a file cannot be read.
        CaseloadValidationError: the Annex A lists or the SEN2 return have problems (every one).
    """
    _one_caseload(path, options)
    if sheet and path is None:  # read by nothing, without a word: the lists are read from their own sheets
        raise InputError(f"The sheet '{sheet}' was named for the caseload file, and none is given. The Annex A lists "
                         "are found in a workbook by their sheets' names (List_1, List_2) or headers; a SEN2 return "
                         "has no sheets.", "sheet_without_caseload", fix="Name no sheet, or give the caseload file.")
    if sheet and path is not None and not takes_a_sheet(path, options):
        # A sheet of a CSV, Parquet or SEN2 file was passed over without a word: the workbook meant
        # may be another file, whose children would not be the ones read.
        raise InputError(f"The sheet '{sheet}' was named, and {path.name} is not a workbook: it has no sheets. "
                         "The sheet to read is a workbook's (.xlsx or .xls).", "sheet_without_caseload",
                         where=path.name, fix="Name no sheet, or give the workbook the sheet is in.")
    sen2 = options.sen2 or (path if path is not None and path.suffix.lower() in SEN2_SUFFIXES else None)
    if sen2 is not None:
        from .mapping import load_mapping
        from .sen2 import read_sen2

        if options.ap_urns is not None:
            _not_read(options.ap_urns, "an AP URNs file", Path(sen2).name, "a SEN2 return",
                      "its placements' URNs and setting codes give who is in AP")
        mapping = load_mapping(options.mapping)
        result = read_sen2(sen2, options.as_of, {k.upper(): v for k, v in mapping.sen_setting.items()},
                           _establishments(options, mapping.establishment_type))
        return CaseloadTable(result.table, result.failures, result.as_of)
    first = None
    book = None
    if path is not None:  # (never with the lists: _one_caseload)
        if is_workbook(path):
            book = Workbook(path)  # its sheets, each read once, whether it holds Annex A or not
        else:
            first = read_table(path, sheet=sheet)
    if options.list1 or options.list2 or (path is not None and _may_hold_lists(path, sheet, first)):
        from .annex_a import read_lists

        as_of = options.as_of or dt.date.today()
        converted = read_lists(replace(options, as_of=as_of), path, sheet, first, book)
        if converted is not None:
            return CaseloadTable(converted.table, converted.failures, as_of)
    if first is None and path is not None:
        first = book.table(sheet) if book is not None else read_table(path, sheet=sheet)
        if book is not None and first.sheets and not set(REQUIRED_COLUMNS) & set(map(normalise_column, first.frame)):
            # A cover sheet read first: the sheet that holds the list is named in the error.
            first = replace(first, list_sheet=book.sheet_holding(REQUIRED_COLUMNS))
        elif book is not None and first.sheets:  # (the first visible sheet read by default)
            _refuse_list_over_sheets(book, first)
    if first is None:
        raise InputError("no caseload given: name a caseload file, or the Annex A lists.", "no_caseload")
    _unread_options(first.name, options)
    if options.establishments is None:
        return CaseloadTable(first)
    from .establishments import fill_setting_types
    from .mapping import load_mapping

    # A contract caseload: empty setting types come from the URN in setting_id.
    types = load_mapping(options.mapping).establishment_type
    return CaseloadTable(*fill_setting_types(first, _establishments(options, types)))  # type: ignore[arg-type]


def takes_a_sheet(path: Path | None, options: ReadOptions) -> bool:
    """Whether a sheet can be named for this caseload: a workbook given as the caseload, not the
    lists alone nor a CSV, Parquet or SEN2 file (a file not there is said by its reader)."""
    if path is None:
        return False
    sen2 = options.sen2 is not None or path.suffix.lower() in SEN2_SUFFIXES
    return not path.is_file() or (not sen2 and is_workbook(path))


def _refuse_list_over_sheets(book: Workbook, first: RawTable) -> None:
    """A caseload over several sheets (EHC plans on one, SEN support on another, as Annex A has
    them) would be read as its first sheet alone, and the children of the others could never
    be chosen: refused, with each sheet's rows, unless the sheet to read is given.

    Raises:
        InputError: another visible sheet holds every required column too.
    """
    _refuse_over_sheets(book, first, book.sheets_holding(REQUIRED_COLUMNS), "the caseload's columns",
                        "the children on the others could never be chosen",
                        "Put every child on one sheet (copy the rows of the others under the first's), or, if "
                        "only one sheet is the caseload, give the sheet to read.")


def contacts_sheet_in(path: Path | None) -> str | None:
    """The sheet of a caseload workbook that holds practitioners' contacts (a name, and whom it
    belongs to), when one does: the workbook an area sends may have them on a sheet of their own."""
    if path is None or not path.is_file() or not is_workbook(path):
        return None
    return next(iter(_contacts_sheets(Workbook(path))), None)


def _contacts_sheets(book: Workbook) -> list[str]:
    """The sheets holding contacts: a name, and the practitioner or child it belongs to."""
    return [name for key in ("practitioner_id", "child_id") for name in book.sheets_holding(("name", key))]


def read_contacts_table(path: Path) -> RawTable:
    """The contacts file as a raw table (a workbook's first visible sheet).

    Raises:
        InputError: the file cannot be read, or its contacts are over several visible sheets:
            read as the first alone, the children whose practitioners are on the others would
            have no contact, and so could never be chosen.
    """
    if not is_workbook(path):
        return read_table(path)
    book = Workbook(path)
    first = book.table()
    if first.sheets and not _holds_contacts(first):
        # A cover sheet first (notes on the list): the contacts are read from the one sheet that
        # holds them, and the warning says which (there is no sheet to name for the contacts).
        holding = _contacts_sheets(book)
        if len(set(holding)) == 1:
            table = book.table(holding[0])
            note = SheetNote("", 1, f"the contacts were read from the sheet '{holding[0]}': the first sheet, "
                             f"'{book.visible}', holds none", "Nothing to do; to be sure which sheet is read, "
                             "move the contacts' sheet first in the workbook.")
            return replace(table, notes=(note, *table.notes), sheets=())
    if first.sheets and "name" in first.frame.columns:
        keys = [key for key in ("practitioner_id", "child_id") if key in first.frame.columns]
        others = list(dict.fromkeys(name for key in keys for name in book.sheets_holding(("name", key))))
        _refuse_over_sheets(book, first, others, "the contacts' columns",
                            "the children whose practitioners are on the others would have no contact, and so "
                            "could never be chosen",
                            "Put every contact on one sheet (copy the rows of the others under the first's).")
    return first


def _holds_contacts(table: RawTable) -> bool:
    """Whether a sheet has the contacts' name and a key to match them by."""
    columns = set(table.frame.columns)
    return "name" in columns and bool({"practitioner_id", "child_id"} & columns)


def _refuse_over_sheets(book: Workbook, first: RawTable, others: list[str], what: str, harm: str, fix: str) -> None:
    """Refuse a workbook whose first visible sheet is read and `others` hold the same list."""
    if others:
        sheets = [(book.visible, len(first.frame)), *((name, len(book.table(name).frame)) for name in others)]
        said = listed([f"'{name}' ({rows:,} row{'s' if rows != 1 else ''})" for name, rows in sheets], "and")
        raise InputError(f"{first.name}: {what} are on {len(sheets)} sheets: {said}; one sheet is read, and {harm}.",
                         "list_over_sheets", where=first.name, fix=fix)


def _one_caseload(path: Path | None, options: ReadOptions) -> None:
    """A caseload comes one way: a file, the Annex A lists, or a SEN2 return. Two given would
    leave one unread without a word (which one the order of the checks decided).

    Raises:
        InputError: naming what was given twice over.
    """
    given = [f"{Path(path).name} (the caseload)"] if path is not None else []
    lists = [Path(p).name for p in (options.list1, options.list2) if p is not None]
    if lists:
        given.append(f"{' and '.join(lists)} (Annex A)")
    if options.sen2 is not None:
        given.append(f"{Path(options.sen2).name} (a SEN2 return)")
    if len(given) > 1:
        raise InputError(f"{' and '.join(given)} were {'both' if len(given) == 2 else 'all'} given as the caseload: "
                         "only one would be read.",
                         "two_caseloads", fix="Give the caseload one way only: a caseload file, the Annex A lists "
                                              "(one or both), or a SEN2 return.")


def _unread_options(name: str, options: ReadOptions) -> None:
    """A caseload in the contract's columns reads no AP URNs file, and a mapping file only to type
    the establishments extract: one given is refused rather than silently left unread.

    Raises:
        InputError: naming the file given and why it is not read.
    """
    if options.ap_urns is not None:
        _not_read(options.ap_urns, "an AP URNs file", name, "a caseload in selector's own columns",
                  "its setting_type column says who is in AP")
    if options.mapping is not None and options.establishments is None:
        _not_read(options.mapping, "a mapping file", name, "a caseload in selector's own columns",
                  "it holds the codes themselves; a mapping is read with Annex A lists, a SEN2 return or the "
                  "establishments extract")


def _not_read(given: Path, what: str, name: str, kind: str, why: str) -> None:
    raise InputError(f"{Path(given).name}: {what} is not read with {name}, which is {kind} ({why}).",
                     "option_not_used", fix="Leave it out (it would change nothing), or check that the caseload "
                                            "is the file you meant.")


def _establishments(options: ReadOptions, types: dict[str, str]) -> Establishments | None:
    """The establishments extract the options name, read through the mapping's types."""
    if options.establishments is None:
        return None
    from .establishments import read_establishments

    return read_establishments(options.establishments, types)


def _may_hold_lists(path: Path, sheet: str | None, first: RawTable | None) -> bool:
    """Whether a caseload file may be Annex A: a workbook read whole (its sheets are looked at),
    or a table with Annex A's headers."""
    if first is None:
        return is_workbook(path) and sheet is None
    return is_annex_a(first)
