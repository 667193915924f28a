"""Reading XLSX workbooks: each sheet's cells as the text Excel shows, and its merged ranges.

calamine reads a workbook 11-13x faster than openpyxl; openpyxl still reads one with a
zero-padded number format or an error cell, which calamine cannot see. tables.py builds the
table from what is read here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from ..contract.errors import InputError

ZIP_MAGIC = b"PK\x03\x04"


def cell_text(value: object) -> str:
    """A cell's value as the text a spreadsheet shows: a whole number without `.0`, a date as
    YYYY-MM-DD, true/false; nothing for an empty cell (or a Parquet null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def open_workbook(path: Path, data: bytes) -> Any:
    """A workbook's bytes opened by openpyxl, or an InputError that says what the file really is.

    Raises:
        InputError: empty, password-protected (or an old .xls), a zip that is no workbook, or damaged.
    """
    import openpyxl  # only XLSX needs it, and importing it costs every other run ~0.1 s

    _check_workbook(path, data)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged file
        raise _damaged(path, exc) from exc


def _check_workbook(path: Path, data: bytes) -> None:
    """Refuse bytes that are no XLSX workbook, saying what they are.

    Raises:
        InputError: empty, password-protected (or an old .xls), not a zip, or a zip that is no workbook.
    """
    if not data:
        raise InputError(f"{path.name}: the file is empty. Export the list again.", "empty_file")
    if data.startswith(OLE_MAGIC):
        raise InputError(f"{path.name}: the workbook is password-protected (or an old .xls file). Open it in "
                         "Excel, remove the password, and save it as .xlsx.", "encrypted_xlsx")
    if not data.startswith(ZIP_MAGIC):
        raise InputError(f"{path.name}: is not an Excel workbook (damaged, or another kind of file renamed "
                         ".xlsx). Open it in Excel and save it again as .xlsx.", "bad_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except Exception as exc:  # zipfile raises several kinds for a damaged directory
        raise _damaged(path, exc) from exc
    if "[Content_Types].xml" not in names:
        raise InputError(f"{path.name}: is a zip file, not an Excel workbook. Give the .xlsx itself.", "bad_xlsx")


def _damaged(path: Path, exc: Exception) -> InputError:
    return InputError(f"{path.name}: cannot be opened as an Excel workbook ({type(exc).__name__}). "
                      "Open it in Excel and save it again as .xlsx.", "bad_xlsx")


# A number format of zeros only (an id typed 00123 in a column formatted 00000 is stored as 123),
# and a cell holding an error (#N/A from a lookup that failed): only openpyxl reads either.
_PADDED_FORMAT = re.compile(rb"""formatCode=["']0{2,}["']""")
_ERROR_CELL = (b' t="e"', b" t='e'")


def _needs_formats(data: bytes) -> bool:
    """Whether the workbook has a zero-padded number format or an error cell, which calamine
    (11-13 times faster than openpyxl: benchmarks/xlsx.md) reads as a plain number or an empty
    cell."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if "xl/styles.xml" in names and _PADDED_FORMAT.search(archive.read("xl/styles.xml")):
            return True
        for name in names:
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name)
                if any(marker in xml for marker in _ERROR_CELL):
                    return True
    return False


def sheet_names(path: Path) -> tuple[list[str], str]:
    """A workbook's sheet names, and the first visible worksheet's (a hidden lookup sheet may come
    before the list).

    Raises:
        InputError: the file is missing, unreadable, or no workbook.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path.name}: file not found ({path}). Check the path.", "missing_file",
                         where=path.name) from exc
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror}).", "unreadable") from exc
    _check_workbook(path, data)
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        sheets = CalamineWorkbook.from_filelike(io.BytesIO(data)).sheets_metadata
    except BaseException as exc:  # calamine raises its own error, and others, for a damaged file
        if not _calamine_failed(exc):
            raise
        raise _damaged(path, exc) from exc
    worksheets = [m for m in sheets if m.typ == SheetTypeEnum.WorkSheet] or sheets
    if not worksheets:
        raise _damaged(path, ValueError("no sheets"))
    visible = next((m.name for m in worksheets if m.visible == SheetVisibleEnum.Visible), worksheets[0].name)
    return [m.name for m in sheets], visible


XlsxRows = tuple[str, list[str], list[list[str]], list[tuple[int, int, int, int]]]


def read_sheet(path: Path, data: bytes, sheet: str | None) -> XlsxRows:
    """A sheet (None: the first visible one): its title, every sheet's name, its rows as text from
    row 1 and column A, and its merged ranges as (first row, first column, last row, last column).

    Raises:
        InputError: no workbook, damaged, or no such sheet.
    """
    _check_workbook(path, data)
    try:
        slow = _needs_formats(data)
    except Exception as exc:  # zipfile and zlib raise many kinds for a damaged member
        raise _damaged(path, exc) from exc
    return (_xlsx_rows_openpyxl if slow else _xlsx_rows_calamine)(path, data, sheet)


def _calamine_failed(exc: BaseException) -> bool:
    """Whether calamine failed on the file: its errors, or a panic of its Rust code (which pyo3
    raises as a BaseException, so that a plain `except Exception` would let it through as a
    traceback); a stop asked for (Ctrl+C) is not."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _missing_sheet(path: Path, sheet: str, sheets: list[str]) -> InputError:
    return InputError(f"{path.name}: no sheet named {sheet!r}; the sheets are {', '.join(sheets)}.", "missing_sheet")


def _xlsx_rows_calamine(path: Path, data: bytes, sheet: str | None) -> XlsxRows:
    """The sheet's title, every sheet's name, its rows as text from row 1 and column A, and its
    merged ranges, read by calamine."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [m.name for m in book.sheets_metadata]
        worksheets = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        if sheet is None:  # the first sheet the analyst sees: a hidden lookup sheet may come before it
            title = next((m.name for m in worksheets if m.visible == SheetVisibleEnum.Visible), worksheets[0].name)
        elif sheet in sheets:
            title = sheet
        else:
            raise _missing_sheet(path, sheet, sheets)
        ws = book.get_sheet_by_name(title)
        values = ws.to_python(skip_empty_area=False)  # from A1, so that row numbers are the spreadsheet's
        merges = ws.merged_cell_ranges or []
    except InputError:
        raise
    except BaseException as exc:  # calamine raises its own error, and others, for a damaged file
        if not _calamine_failed(exc):
            raise
        raise _damaged(path, exc) from exc
    rows = [[v if type(v) is str else cell_text(v) for v in row] for row in values]
    return title, sheets, rows, [(r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in merges]


def _xlsx_rows_openpyxl(path: Path, data: bytes, sheet: str | None) -> XlsxRows:
    """As `_xlsx_rows_calamine`, read by openpyxl, which sees number formats and error cells."""
    book = open_workbook(path, data)
    try:
        if sheet is None:
            ws = next((w for w in book.worksheets if getattr(w, "sheet_state", "visible") == "visible"),
                      book.worksheets[0])
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise _missing_sheet(path, sheet, book.sheetnames)
        rows = [[_workbook_text(c) for c in row] for row in ws.iter_rows()]
        ranges = _merged_ranges(data, getattr(ws, "_worksheet_path", None))
        return ws.title, list(book.sheetnames), rows, ranges
    finally:
        book.close()


# <mergeCell ref="J2:J4"/> in a sheet's XML (with or without a namespace prefix).
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')


def _merged_ranges(data: bytes, member: str | None) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges as (first row, first column, last row, last column), from 1.
    openpyxl's read-only mode, which keeps large workbooks quicker to read, does not read them."""
    if not member:
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read(member.lstrip("/"))
    except Exception:  # no such member, or a damaged one: openpyxl, which read the sheet, says so first
        return []
    if b"mergeCell" not in xml:  # most sheets: a plain search, 5x faster than the pattern over 60,000 rows
        return []
    ranges = []
    for match in _MERGE_CELL.finditer(xml):
        first_col, first_row, last_col, last_row = (g.decode() if g else None for g in match.groups())
        start, end = _column_number(first_col or "A"), _column_number(last_col or first_col or "A")
        ranges.append((int(first_row or 1), start, int(last_row or first_row or 1), end))
    return sorted(ranges)


def _column_number(letters: str) -> int:
    """`A` -> 1, `Z` -> 26, `AA` -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


_ZERO_PADDED = re.compile(r"^0+$")


def _workbook_text(cell: Any) -> str:
    """A workbook cell as the text Excel shows: a number formatted `00000` keeps its leading zeros
    (an id typed as 00123 in a column formatted so is stored as the number 123)."""
    value = getattr(cell, "value", None)
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        form = str(getattr(cell, "number_format", "") or "")
        if _ZERO_PADDED.match(form):
            return str(int(value)).zfill(len(form))
    return cell_text(value)
