"""Reading XLSX workbooks: each sheet's cells as the text Excel shows, its merged ranges, and what
Excel shows differently from what the file holds (rows and columns hidden, formulas never calculated).

calamine reads a workbook 11-13x faster than openpyxl; openpyxl still reads one with a
zero-padded number format or an error cell, which calamine cannot see. tables.py builds the
table from what is read here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
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
        raise InputError(f"{path.name}: {_other_spreadsheet(data, names)}", "bad_xlsx")
    if "xl/workbook.bin" in names:
        raise InputError(f"{path.name}: is an Excel binary workbook (.xlsb), which is not read. In Excel, File > "
                         "Save As, and choose Excel Workbook (.xlsx) or CSV.", "bad_xlsx")


def _other_spreadsheet(data: bytes, names: list[str]) -> str:
    """What a zip that is no Excel workbook is, and how to save it as one: LibreOffice's and
    Numbers' own spreadsheets are zips too, and an analyst who uses either saves in it first."""
    if "mimetype" in names:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            kind = archive.read("mimetype")[:100]
        if kind.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return ("is an OpenDocument spreadsheet (LibreOffice Calc's own format), which is not read. In Calc, "
                    "File > Save As, and choose Excel 2007-365 (.xlsx) or Text CSV (.csv).")
    if any(name.startswith("Index/") and name.endswith(".iwa") for name in names):
        return ("is a Numbers spreadsheet, which is not read. In Numbers, File > Export To > Excel (or CSV), "
                "and give the file it writes.")
    return "is a zip file, not an Excel workbook. Give the .xlsx itself."


def _damaged(path: Path, exc: Exception) -> InputError:
    return InputError(f"{path.name}: cannot be opened as an Excel workbook ({type(exc).__name__}). "
                      "Open it in Excel and save it again as .xlsx.", "bad_xlsx")


# A number format of zeros only (an id typed 00123 in a column formatted 00000 is stored as 123),
# and a cell holding an error (#N/A from a lookup that failed): only openpyxl reads either.
_PADDED_FORMAT = re.compile(rb"""formatCode=["']0{2,}["']""")
_ERROR_CELL = (b' t="e"', b" t='e'")


def _scan(data: bytes, sheet: str | None) -> tuple[bool, SheetMarks]:
    """Whether the workbook has a zero-padded number format or an error cell, which calamine
    (11-13 times faster than openpyxl: benchmarks/xlsx.md) reads as a plain number or an empty
    cell; and what the sheet to be read (None: the first visible one) hides or never calculated.
    Each sheet's XML is unpacked once, for both."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        padded = "xl/styles.xml" in names and bool(_PADDED_FORMAT.search(archive.read("xl/styles.xml")))
        try:
            target = _sheet_member(archive, sheet)
        except Exception:  # a damaged workbook.xml: the reader says what is wrong with the file
            target = None
        errors, marks = False, SheetMarks()
        for name in names:
            if name.startswith("xl/worksheets/") and name.endswith(".xml") and (name == target or not (padded or errors)):
                xml = archive.read(name)
                errors = errors or any(marker in xml for marker in _ERROR_CELL)
                if name == target:
                    marks = _marks(xml)
    return padded or errors, marks


def sheet_names(path: Path) -> tuple[list[str], str, frozenset[str]]:
    """A workbook's sheet names, the first visible worksheet's (a hidden lookup sheet may come
    before the list), and those of the sheets hidden.

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
    return [m.name for m in sheets], visible, frozenset(m.name for m in sheets if m.visible != SheetVisibleEnum.Visible)


@dataclass(frozen=True)
class SheetMarks:
    """Where a sheet shows the analyst something other than what every reader reads.

    Attributes:
        hidden_rows: rows hidden (by a filter, or by hand), as the spreadsheet numbers them;
            they are read like any other row.
        hidden_columns: columns hidden, numbered from 1 (A); they are read too.
        uncalculated: (row, column) of each formula cell stored without its value: the workbook
            was written by a program and never opened in Excel, which works formulas out and
            stores the result; every reader reads such a cell as empty.
    """

    hidden_rows: tuple[int, ...] = ()
    hidden_columns: tuple[int, ...] = ()
    uncalculated: tuple[tuple[int, int], ...] = ()


XlsxRows = tuple[str, list[str], list[list[str]], list[tuple[int, int, int, int]], SheetMarks]


def read_sheet(path: Path, data: bytes, sheet: str | None) -> XlsxRows:
    """A sheet (None: the first visible one): its title, every sheet's name, its rows as text from
    row 1 and column A, its merged ranges as (first row, first column, last row, last column), and
    what it hides or never calculated.

    Raises:
        InputError: no workbook, damaged, or no such sheet.
    """
    _check_workbook(path, data)
    try:
        slow, marks = _scan(data, sheet)
    except Exception as exc:  # zipfile and zlib raise many kinds for a damaged member
        raise _damaged(path, exc) from exc
    title, sheets, rows, ranges = (_xlsx_rows_openpyxl if slow else _xlsx_rows_calamine)(path, data, sheet)
    return title, sheets, rows, ranges, marks


def _calamine_failed(exc: BaseException) -> bool:
    """Whether calamine failed on the file: its errors, or a panic of its Rust code (which pyo3
    raises as a BaseException, so that a plain `except Exception` would let it through as a
    traceback); a stop asked for (Ctrl+C) is not."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _missing_sheet(path: Path, sheet: str, sheets: list[str]) -> InputError:
    return InputError(f"{path.name}: no sheet named {sheet!r}; the sheets are {', '.join(sheets)}.", "missing_sheet")


def _xlsx_rows_calamine(path: Path, data: bytes, sheet: str | None
                        ) -> tuple[str, list[str], list[list[str]], list[tuple[int, int, int, int]]]:
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


def _xlsx_rows_openpyxl(path: Path, data: bytes, sheet: str | None
                        ) -> tuple[str, list[str], list[list[str]], list[tuple[int, int, int, int]]]:
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


# A sheet's own tags, with or without a namespace prefix: a row or column hidden, and a formula
# (`<f>`, not `<formula1>`: the word ends at f) with what follows it in its cell.
_HIDDEN_ROW = re.compile(rb"""<(?:\w+:)?row\b([^>]*\bhidden=["'](?:1|true)["'][^>]*)>""")
_HIDDEN_COLUMNS = re.compile(rb"""<(?:\w+:)?col\b([^>]*\bhidden=["'](?:1|true)["'][^>]*)>""")
_ROW_NUMBER = re.compile(rb"""\br=["'](\d+)["']""")
_COLUMN_SPAN = re.compile(rb"""\b(min|max)=["'](\d+)["']""")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(/?)>")
_CELL_REF = re.compile(rb"""\br=["']([A-Z]{1,3})(\d+)["']""")
_STRING_RESULT = re.compile(rb"""\bt=["']str["']""")
_VALUE = re.compile(rb"\s*<(?:\w+:)?v\b[^>]*?(?:/>|>([^<]*)<)")


def _marks(xml: bytes) -> SheetMarks:
    """A sheet's hidden rows and columns and its formulas never calculated, read from its XML
    (neither reader reports them)."""
    hidden_rows: list[int] = []
    hidden_columns: list[int] = []
    if b"hidden=" in xml:  # most sheets: a plain search, far faster than the patterns
        for match in _HIDDEN_ROW.finditer(xml):
            number = _ROW_NUMBER.search(match.group(1))
            if number:
                hidden_rows.append(int(number.group(1)))
        for match in _HIDDEN_COLUMNS.finditer(xml):
            span = dict(_COLUMN_SPAN.findall(match.group(1)))
            if b"min" in span:
                hidden_columns.extend(range(int(span[b"min"]), int(span.get(b"max", span[b"min"])) + 1))
    # A formula with text ends </f> (or </x:f>); one that shares another's text has none, and
    # its group's first cell has it: without that end, no formula at all.
    uncalculated = _uncalculated(xml) if b"f>" in xml else ()
    return SheetMarks(tuple(sorted(set(hidden_rows))), tuple(sorted(set(hidden_columns))), uncalculated)


def _uncalculated(xml: bytes) -> tuple[tuple[int, int], ...]:
    """(row, column) of each formula cell stored without a value. A formula comes first in its
    cell (the schema's order), so the cell's own tag ends where the formula starts. A formula
    whose result is the empty text is stored with `t="str"` and an empty value: calculated."""
    found = []
    for match in _FORMULA.finditer(xml):
        tag_end = match.start()
        while tag_end and xml[tag_end - 1] in b" \t\r\n":  # an indented sheet (not Excel's own)
            tag_end -= 1
        opened = xml.rfind(b"<", 0, tag_end)
        if opened < 0 or xml[tag_end - 1:tag_end] != b">":
            continue
        cell = xml[opened:tag_end]
        ref = _CELL_REF.search(cell)
        if ref is None:
            continue
        after = match.end()
        if not match.group(1):  # <f>...</f>: past its closing tag
            closing = xml.find(b"</", after)
            after = xml.find(b">", closing) + 1 if closing >= 0 else len(xml)
        value = _VALUE.match(xml, after)
        if value is not None and value.group(1):
            continue
        if value is not None and _STRING_RESULT.search(cell):
            continue
        found.append((int(ref.group(2)), _column_number(ref.group(1).decode())))
    return tuple(sorted(found))


def _sheet_member(archive: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip member holding the sheet of this name (None: the first visible worksheet, as the
    readers choose): workbook.xml names the sheets, its relationships say where each is."""
    from defusedxml import ElementTree

    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    links = {r.get("Id"): (r.get("Target") or "", r.get("Type") or "")
             for r in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")).iter()}
    found = []
    for element in book.iter():
        if element.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        link = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        target, kind = links.get(link, ("", ""))
        if target and kind.endswith("/worksheet"):
            found.append((element.get("name"), element.get("state", "visible"), target))
    if sheet is None:
        chosen = next((t for _n, state, t in found if state == "visible"), found[0][2] if found else None)
    else:
        chosen = next((t for name, _s, t in found if name == sheet), None)
    if not chosen:
        return None
    return chosen.lstrip("/") if chosen.startswith("/") else f"xl/{chosen}"


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
