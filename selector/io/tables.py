"""Tables: reading caseloads and contacts from CSV, Parquet and XLSX, and writing tables for
spreadsheet users (formula-escaped).

Every table is read as text (no type guessing), with its column headers normalised as the
contract says and each row's number as a person sees it in a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.columns import normalise_column
from ..contract.errors import InputError
from .text import decoded, is_utf16
from .workbooks import ZIP_MAGIC, SheetMarks, cell_text, column_letters, read_sheet, sheet_names

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawTable:
    """A table as read from a file, every cell as text.

    Attributes:
        name: the file name shown in messages (never the folder, which may name a person).
        frame: the cells, as str, with normalised column names; blank rows removed.
        row_numbers: for each row of `frame`, its row number in the file (header is row 1).
        sha256: hash of the file's bytes, recorded in run.json.
        header: the original header text for each normalised column name.
        foreseen: columns outside the contract that the file's own format defines (the Annex A
            template's gender, ethnicity, plan dates...): left out like any other, but without a
            warning, since the area did nothing wrong in sending them.
        sheets: a workbook's sheets, when its first visible sheet was read by default and there
            are others (the list may be on one of them); empty otherwise.
        list_sheet: another of those sheets whose headers hold every required column, when the
            sheet read holds none ('' when there is no such sheet, or it was not looked for).
    """

    name: str
    frame: pd.DataFrame
    row_numbers: np.ndarray
    sha256: str
    header: dict[str, str]
    foreseen: frozenset[str] = frozenset()
    merged: tuple[MergedCells, ...] = ()
    notes: tuple[SheetNote, ...] = ()
    sheets: tuple[str, ...] = ()
    list_sheet: str = ""


@dataclass(frozen=True)
class SheetNote:
    """Something a workbook shows the analyst otherwise than it was read: rows or a column hidden,
    formulas never calculated. Said in words, never with a value.

    Attributes:
        header: the column's header ('' for whole rows).
        first_row: the first row it concerns, as the spreadsheet numbers them.
        problem, fix: what was read, and what to do.
    """

    header: str
    first_row: int
    problem: str
    fix: str


@dataclass(frozen=True)
class MergedCells:
    """Cells a workbook merged below its header row (Excel shows the first cell's value across them).

    Attributes:
        ref: the range as Excel names it (J2:J4).
        header: the header of its first column.
        first_row, last_row: its rows, as the spreadsheet numbers them.
        filled: True when it lies in one column and each of its rows was read with the first
            cell's value, as Excel shows it; False when it spans columns (only its first cell
            holds a value; the others read as empty).
    """

    ref: str
    header: str
    first_row: int
    last_row: int
    filled: bool

    FIX = ("Unmerge the cells in Excel and give each row its own value (sorting or filtering merged cells can "
           "move a value to another child).")

    @property
    def problem(self) -> str:
        """What was read, in words (never a value)."""
        first = self.ref.split(":")[0]
        if self.filled:
            return (f"cells {self.ref} are merged: rows {self.first_row} to {self.last_row} were each read with the "
                    f"value Excel shows across them (that of {first})")
        return f"cells {self.ref} are merged across columns: only {first} holds a value, the others read as empty"


def is_workbook(path: Path) -> bool:
    """Whether `read_table` reads the file as a workbook (see `_is_workbook`)."""
    try:
        with path.open("rb") as file:
            head = file.read(65536)
    except OSError:  # missing, unreadable or a folder: read_table says so
        return False
    return _is_workbook(path.suffix.lower(), head)


def _is_workbook(suffix: str, head: bytes) -> bool:
    """A workbook by its bytes whatever its name (an .xlsx renamed .xls or .csv), or named as one
    unless its bytes are a CSV's (a system's CSV export named .xlsx); an .xlsx that is neither
    is read as a workbook, to be said damaged."""
    return head.startswith(ZIP_MAGIC) or (suffix in XLSX_SUFFIXES and not _is_csv_text(head))


def _is_csv_text(head: bytes) -> bool:
    """Whether a file's first bytes are text (as the CSV reader decodes it) whose first line holds
    a separator."""
    try:
        text = _decode("", head)
    except InputError:  # binary, or no encoding the CSV reader reads
        return False
    first_line = text.split("\n", 1)[0]
    return any(separator in first_line for separator in (",", ";", "\t")) or first_line.startswith("sep=")


def read_table(path: Path | str, sheet: str | None = None) -> RawTable:
    """Read a CSV, Parquet or XLSX file into a RawTable.

    Args:
        path: the file.
        sheet: for XLSX, the sheet name (default: the first visible sheet).

    Raises:
        InputError: the file is missing, empty, unreadable, binary, or has no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path.name}: file not found ({path}). Check the path.", "missing_file",
                         where=path.name)
    if path.is_dir():
        raise InputError(f"{path.name}: is a folder, not a file.", "not_a_file", where=path.name)
    if not path.is_file():  # a device or a pipe: reading it could never end
        raise InputError(f"{path.name}: is not an ordinary file. Give the exported list itself.", "not_a_file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path.name}: cannot be read ({exc.strerror}).", "unreadable") from exc
    if not data.strip():
        raise InputError(f"{path.name}: the file is empty. Export the list again.", "empty_file")

    suffix = path.suffix.lower()
    merged: tuple[MergedCells, ...] = ()
    marks, headers_by_number = SheetMarks(), {}
    sheets: tuple[str, ...] = ()
    # What a file is, by its bytes first: a workbook or a CSV saved under the other's name (a
    # system's "export to Excel" writes CSV named .xlsx or .xls) is read as what it is.
    if _is_workbook(suffix, data[:65536]):
        frame, rows, merged, marks, headers_by_number, sheets = _read_xlsx(path, data, sheet)
    elif suffix in PARQUET_SUFFIXES or data.startswith(PARQUET_MAGIC):
        frame, rows = _read_parquet(path, data)
    elif suffix == ".xls" and not _is_csv_text(data[:65536]):
        # Some systems' "export to Excel" write a web page named .xls, which Excel opens.
        web_page = re.search(rb"<\s*(html|table)\b", data[:4096], re.IGNORECASE)
        raise InputError(
            f"{path.name}: " + ("is a web page (HTML) named .xls, as some systems' \"export to Excel\" write it, "
                                "and is not read." if web_page else "old Excel .xls files are not read.")
            + " Save it as .xlsx or .csv in Excel.", "unsupported_format")
    else:
        frame, rows = _read_csv(path, data)

    # Rows left out above the headers (a title): the first row read says how many.
    above = int(rows[0]) - 2 if len(rows) else 0
    header = {normalise_column(c): str(c).strip() for c in frame.columns}
    frame.columns = list(_normalised_unique(path.name, list(frame.columns)))
    if len(frame.columns) == 0:
        raise InputError(f"{path.name}: no column headers found in row 1.", "no_header")
    blank = (frame == "").all(axis=1).to_numpy()
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
        rows = rows[~blank]
    if len(frame) == 0:
        raise InputError(
            f"{path.name}: the file has a header row but no data rows. Export the list again.",
            "no_rows",
        )
    return RawTable(path.name, frame, rows, hashlib.sha256(data).hexdigest(), header, merged=merged,
                    notes=_above_headers_note(above) + _sheet_notes(marks, headers_by_number, rows), sheets=sheets)


def _sheet_notes(marks: SheetMarks, headers: dict[int, str], rows: np.ndarray) -> tuple[SheetNote, ...]:
    """In words, what a sheet hid or never calculated among the rows and columns read (`headers`:
    each column's number, from 1, and its header)."""
    notes = []
    read = set(rows.tolist())
    hidden = [r for r in marks.hidden_rows if r in read]
    if hidden:
        notes.append(SheetNote("", hidden[0], f"{_rows_in_words(hidden)} hidden in Excel (by a filter, or by hand): "
                               "read like every other row",
                               "Hiding a row does not leave a child out: delete the rows of children who must not "
                               "be chosen, or mark them in the exclude column."))
    for column in marks.hidden_columns:
        if column in headers:
            notes.append(SheetNote(headers[column], 1, f"column {column_letters(column)} ({headers[column]}) is hidden "
                                   "in Excel: read like the others",
                                   "Unhide it in Excel to see what it holds; delete it if it should not be read."))
    by_column: dict[int, list[int]] = {}
    for row, column in marks.uncalculated:
        if row in read and column in headers:
            by_column.setdefault(column, []).append(row)
    for column, cells in sorted(by_column.items()):
        letter = column_letters(column)
        which = (f"1 cell of column {letter} ({letter}{cells[0]}) holds a formula that was" if len(cells) == 1 else
                 f"{len(cells):,} cells of column {letter} (from {letter}{cells[0]}) hold formulas that were")
        notes.append(SheetNote(headers[column], cells[0],
                               f"{which} never calculated (the workbook was written by a program and not opened in "
                               "Excel since): read as empty",
                               "Open the workbook in Excel and save it (Excel works the formulas out), or paste "
                               "the column as values."))
    return tuple(notes)


def _rows_in_words(rows: list[int]) -> str:
    """`row 5 is`, `rows 5, 9 and 12 to 40 are` (at most four runs named, then how many more)."""
    runs: list[list[int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    named = [str(a) if a == b else f"{a} to {b}" for a, b in runs[:4]]
    if len(runs) > 4:
        rest = sum(b - a + 1 for a, b in runs[4:])
        words = ", ".join(named) + f" and {rest:,} more"
    else:
        words = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    if len(rows) == 1:
        return f"row {words} is"
    return f"rows {words} ({len(rows):,} rows) are"


def is_side_file(path: Path) -> bool:
    """A file beside the data that is not data: hidden, macOS's ._ copy, or the ~$ owner file Excel
    keeps beside an open workbook. A folder read as a whole (a batch, a SEN2 return) skips them."""
    return path.name.startswith((".", "~$"))


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks (as recorded in run.json)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _normalised_unique(file: str, columns: list[object]) -> list[str]:
    names = [normalise_column(c) for c in columns]
    seen: dict[str, str] = {}
    for original, name in zip(columns, names, strict=True):
        if name in seen:
            raise InputError(
                f"{file}: columns {seen[name]!r} and {str(original)!r} both read as '{name}'. "
                "Rename or remove one of them.",
                "duplicate_column",
            )
        seen[name] = str(original)
    return names


def _decode(name: str, data: bytes) -> str:
    utf16 = is_utf16(data)
    if not utf16 and b"\x00" in data[:65536]:  # (UTF-16's zero bytes are not a sign of a binary file)
        raise InputError(
            f"{name}: this is not a text (CSV) file. Save it as CSV, XLSX or Parquet.", "binary_file"
        )
    # Lines ending in CR alone: Excel's "CSV (Macintosh)", whose text is Mac Roman when not UTF-8.
    mac = b"\r" in data and b"\n" not in data
    try:
        return decoded(data, "mac_roman" if mac else "cp1252")
    except UnicodeDecodeError:
        raise InputError(
            f"{name}: the text is neither UTF-8, UTF-16 nor Windows-1252. Save it as 'CSV UTF-8' in Excel.",
            "bad_encoding",
        ) from None


def _delimiter(first_line: str) -> str:
    """The separator of a CSV header line: comma, semicolon or tab, whichever occurs most."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


# Characters a cell copied from a web page or an e-mail can hold unseen (zero-width spaces and
# joiners, a byte-order mark mid-file): removed as spaces around a value are, so that 'ASD' with
# one is ASD, not a code nobody can see is wrong.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_WITHOUT_INVISIBLE = str.maketrans("", "", INVISIBLE)


def _read_csv(path: Path, data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    text = _decode(path.name, data)
    if any(character in text for character in INVISIBLE):  # (a search that costs nothing on ASCII text)
        text = text.translate(_WITHOUT_INVISIBLE)
    if "\r" in text and "\n" not in text:  # Excel's "CSV (Macintosh)": each line ends in a CR alone
        text = text.replace("\r", "\n")
    first_line = text.split("\n", 1)[0]
    separator = _delimiter(first_line)
    directive = re.fullmatch(r"sep=(.)\r?", first_line)
    if directive:
        # Excel's line naming the separator, which Excel obeys and hides: the headers are on the
        # next line, and rows are numbered as Excel shows them (the headers as row 1).
        separator, text = directive.group(1), text.split("\n", 1)[1] if "\n" in text else ""
        first_line = text.split("\n", 1)[0]
    title = _title_lines(path.name, text, separator)
    if title:
        # The headers are lower down: read from their line, rows numbered as the file has them.
        text = text.split("\n", title)[title]
        first_line = text.split("\n", 1)[0]
        separator = directive.group(1) if directive else _delimiter(first_line)
    # pandas would rename a repeated header (postcode, postcode.1) and let the copy through.
    try:
        header = next(csv.reader([first_line.rstrip("\r")], delimiter=separator), [])
    except csv.Error as exc:  # a header cell longer than the csv module takes (128 KB): no header row
        raise InputError(f"{path.name}: row 1 cannot be read as the column headers ({exc}). Check that this is the "
                         "exported list, with the column names on row 1.", "bad_csv") from exc
    _normalised_unique(path.name, [h for h in header if h.strip()])
    first = 2 + title  # the first row under the headers, as the file numbers it
    frame = _read_plain_csv(text, separator, header)
    if frame is not None:
        return frame, np.arange(first, len(frame) + first)
    _check_row_widths(path.name, text, separator, len(header), first)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
            # Empty values past the last header (a separator too many at the end of a row) are
            # dropped: without these, pandas would take the first column as the index and move
            # every value one column to the left.
            index_col=False,
            usecols=range(len(header)),
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            f"{path.name}: cannot be read as CSV ({str(exc).strip()}). "
            "Check for unbalanced quotes or rows with extra separators.",
            "bad_csv",
        ) from exc
    frame = _drop_unnamed_empty(frame)
    frame = frame.astype(str).fillna("")
    return frame, np.arange(first, len(frame) + first)


def _title_lines(name: str, text: str, separator: str) -> int:
    """How many lines above a CSV's headers to leave out (see `_rows_above_headers`). The rows are
    cut by line, so a title whose cells run over lines (in quotes) is refused as before."""
    lines = [line.rstrip("\r") for line in text.split("\n", 2 * TITLE_ROWS + 1)[:2 * TITLE_ROWS + 1]]
    if not _delimiter_in(lines[0]):
        # A title line alone (or an empty line) says nothing of the table's separator: the first
        # line with one does.
        separator = next((_delimiter(line) for line in lines[1:] if _delimiter_in(line)), separator)
    try:
        rows = [next(csv.reader([line], delimiter=separator), []) for line in lines]
    except csv.Error:
        return 0  # pandas' reader says what is wrong
    above = _rows_above_headers(name, rows)
    if above and any(line.count('"') % 2 for line in lines[:above + 1]):
        raise InputError(
            f"{name}: the column headers are on row {above + 1} and a title in quotes is above them: delete the "
            "rows above the headers so that the headers are on row 1.", "header_not_first")
    return above


def _delimiter_in(line: str) -> bool:
    return any(separator in line for separator in (",", ";", "\t"))


# The rows after row 1 looked at for a table that starts lower down (a title above it).
TITLE_ROWS = 10


def _rows_above_headers(name: str, first_rows: list[list[str]]) -> int:
    """How many rows above the column headers to leave out: 0 when the headers are on row 1, or
    the rows of a title (a report's name and date, a line or two) or empty rows above a table
    whose headers are lower down, as exports and spreadsheets often have them. A lower row is
    taken as the headers when it names at least 3 columns, every row above it fills fewer than
    half as many, its cells are distinct words (not numbers or dates), and no row below it fills
    more columns than it names (a header names every column the rows fill).

    Args:
        first_rows: the file's first rows (1 + TITLE_ROWS, and as many after), as cells.

    Raises:
        InputError: a lower row fills far more columns than row 1 but does not read as the
            headers (say, a block of key and value cells above the table): the file is refused,
            naming the row, rather than read from a guess.

    >>> _rows_above_headers("f.csv", [["Caseload"], [], ["child_id", "age", "need"], ["C1", "5", "ASD"]])
    2
    >>> _rows_above_headers("f.csv", [["child_id", "age", "need"], ["C1", "5", "ASD"]])
    0
    """
    filled = [sum(value.strip() != "" for value in row) for row in first_rows]
    for index in range(1, min(len(first_rows), TITLE_ROWS + 1)):
        count = filled[index]
        if count < 3 or 2 * filled[0] >= count:
            continue
        cells = [value.strip() for value in first_rows[index] if value.strip()]
        below = filled[index + 1:index + 1 + TITLE_ROWS]
        if (all(2 * above < count for above in filled[:index]) and any(below) and max(below) <= count
                and len({cell.casefold() for cell in cells}) == len(cells)
                and not any(NOT_A_HEADER.fullmatch(cell) for cell in cells)):
            return index
        number = index + 1
        if filled[0] == 0 and not any(filled[:index]):  # a table placed lower down, empty rows above
            raise InputError(
                f"{name}: rows 1 to {number - 1} are empty and row {number} fills {count} columns: if it holds "
                "the column headers, delete the empty rows above it so that the headers are on row 1.",
                "header_not_first")
        raise InputError(
            f"{name}: row 1 names {filled[0]} column(s) but row {number} fills {count}: if the rows above the "
            "column headers are a title, delete them so that the headers are on row 1.",
            "header_not_first",
        )
    return 0


# A cell no header is: a number, or a date as a spreadsheet writes one.
NOT_A_HEADER = re.compile(r"[-+]?[\d.,]+|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T][\d:.]+)?")


def _above_headers_note(rows_left_out: int) -> tuple[SheetNote, ...]:
    """The warning that rows above the headers were left out (none when the headers are on row 1)."""
    if not rows_left_out:
        return ()
    rows = "the row" if rows_left_out == 1 else f"the {rows_left_out} rows"
    return (SheetNote("", 1, f"{rows} above the column headers (row {rows_left_out + 1}) "
                      f"{'was' if rows_left_out == 1 else 'were'} left out, as a title or empty",
                      "Nothing to do if they hold no child; the rows under the headers are numbered as the "
                      "spreadsheet shows them."),)


def _check_row_widths(name: str, text: str, sep: str, width: int, first: int) -> None:
    """Refuse a row with a value past the last header (which pandas would drop or shift), naming
    its spreadsheet row (`first`: the number of the row under the headers); empty values there
    (a separator too many at the end) are let through.

    Raises:
        InputError: the first such row.
    """
    try:
        records = csv.reader(io.StringIO(text), delimiter=sep)
        next(records, None)  # the headers
        for number, values in enumerate(records, start=first):
            if len(values) > width and any(v.strip() for v in values[width:]):
                raise InputError(
                    f"{name}: row {number} has {len(values)} values but the header row names {width} columns. "
                    "Give the extra column a header, or remove the extra separators from that row.",
                    "bad_csv",
                )
    except csv.Error:
        return  # pandas' reader says what is wrong


def _read_plain_csv(text: str, sep: str, header: list[str]) -> pd.DataFrame | None:
    """A plain CSV (every header named and distinct, no blank line, every row as wide as the
    header) read by Arrow's multi-threaded reader, three times faster than pandas' at a million
    rows; None for anything else, which pandas' reader then handles (and explains)."""
    if not header or any(not h.strip() for h in header) or len(set(header)) != len(header):
        return None
    body = text.rstrip("\r\n")
    if "\n\n" in body or "\n\r\n" in body:
        return None  # a blank line keeps its spreadsheet row number only in pandas' reader
    import pyarrow as pa
    from pyarrow import csv as arrow_csv

    # Arrow would put its own Ctrl+C handler in place during the read and could swallow a stop
    # that the run's own handling (contract/stops.py) must see.
    pa.enable_signal_handlers(False)
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(body.encode("utf-8")),
            read_options=arrow_csv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(delimiter=sep, newlines_in_values=False),
            convert_options=arrow_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    text_dtype = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own str, as read_csv gives
    return table.to_pandas(types_mapper=lambda _type: text_dtype)


def _drop_unnamed_empty(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop header-less columns with nothing in them (trailing separators from Excel)."""
    drop = [
        c for c in frame.columns
        if (str(c).startswith("Unnamed:") or str(c).strip() == "")
        and (frame[c].astype(str).str.strip() == "").all()
    ]
    return frame.drop(columns=drop)


def _read_xlsx(path: Path, data: bytes, sheet: str | None
               ) -> tuple[pd.DataFrame, np.ndarray, tuple[MergedCells, ...], SheetMarks, dict[int, str], tuple[str, ...]]:
    """The sheet's cells as text, as Excel shows them (merged ranges in one column filled); what
    it hid or never calculated, each column's header by its number (from 1), and the workbook's
    sheets when the first was read by default and there are others (else none)."""
    title, sheets, rows, ranges, marks = read_sheet(path, data, sheet)
    others = [name for name in sheets if name != title]
    where = (f" The workbook's sheets are {', '.join(sheets)}: put the list on the first visible sheet, "
             "or name its sheet with --sheet on the command line." if sheet is None and others else "")
    if not rows:
        raise InputError(f"{path.name}: the sheet {title!r} is empty.{where}", "empty_file")
    if where and not any(v.strip() for row in rows[1:] for v in row):
        # A notes or cover sheet first (a line or two of text): the list is on another sheet.
        raise InputError(f"{path.name}: the sheet {title!r} has a header row but no data rows.{where}", "no_rows")
    above = _rows_above_headers(path.name, rows[:1 + 2 * TITLE_ROWS])
    header = [h.translate(_WITHOUT_INVISIBLE).strip() for h in rows[above]]
    width = len(header)
    while width and header[width - 1] == "":
        width -= 1
    body = [row[:width] + [""] * (width - len(row)) for row in rows[above + 1:]]
    cells = "".join(itertools.chain.from_iterable(body))  # one search, not one per cell
    if any(character in cells for character in INVISIBLE):
        body = [[value.translate(_WITHOUT_INVISIBLE) for value in row] for row in body]
    merged = _fill_merged(body, header[:width], ranges, above + 1)
    names = [h if h else f"unnamed_{i + 1}" for i, h in enumerate(header[:width])]
    frame = pd.DataFrame(body, columns=names, dtype=str) if body else pd.DataFrame(columns=names, dtype=str)
    empty_unnamed = [
        n for n, h in zip(names, header[:width], strict=True) if not h and (frame[n] == "").all()
    ]
    frame = frame.drop(columns=empty_unnamed)
    headers = {i + 1: h for i, h in enumerate(header[:width]) if h}
    return frame, np.arange(above + 2, len(frame) + above + 2), merged, marks, headers, tuple(sheets) if where else ()


class Workbook:
    """The sheets of one XLSX file, each read at most once: looking for Annex A's lists reads
    them, and a caseload in selector's own columns is one of them (it was read twice)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.names, self.visible, self.hidden = sheet_names(path)
        self._tables: dict[str, RawTable] = {}

    def table(self, sheet: str | None = None) -> RawTable:
        """A sheet as `read_table` reads it (None: the first visible sheet)."""
        name = self.visible if sheet is None else sheet
        if name not in self._tables:
            self._tables[name] = read_table(self.path, sheet=name)
        # Read by default, the sheet says which others the list may be on (as read_table's does).
        others = sheet is None and any(n != name for n in self.names)
        return replace(self._tables[name], sheets=tuple(self.names) if others else ())

    def sheet_holding(self, columns: Sequence[str]) -> str:
        """The first sheet other than the first visible one whose headers hold every one of
        `columns` ('' for none): where the list is when a cover sheet comes first."""
        return next(iter(self.sheets_holding(columns, visible_only=False)), "")

    def sheets_holding(self, columns: Sequence[str], visible_only: bool = True) -> list[str]:
        """The sheets other than the first visible one (and, by default, other than those hidden)
        whose headers hold every one of `columns`."""
        found = []
        for name in self.names:
            if name == self.visible or (visible_only and name in self.hidden):
                continue
            try:
                headers = {normalise_column(column) for column in self.table(name).frame.columns}
            except InputError:  # an empty or unreadable sheet holds no list
                continue
            if set(columns) <= headers:
                found.append(name)
        return found


def _fill_merged(body: list[list[str]], header: list[str], ranges: list[tuple[int, int, int, int]],
                 header_row: int = 1) -> tuple[MergedCells, ...]:
    """Give each row of a merged range in one column the value Excel shows across it (its first
    cell's: the others are stored empty, and a child would silently lose its need, locality or
    services); ranges across columns are only reported. The header row's merges (and a title's
    above it) are the header's business (a header left empty is refused or dropped as for any
    file). `header_row`: the sheet's row holding the headers, the body being the rows under it."""
    found = []
    top, bottom = header_row + 1, header_row + len(body)  # the body's rows, as the sheet numbers them
    for first_row, first_col, last_row, last_col in sorted(ranges):
        if first_row < top or first_row > bottom or first_col > len(header):
            continue
        last_row = min(last_row, bottom)
        ref = f"{column_letters(first_col)}{first_row}:{column_letters(last_col)}{last_row}"
        column = first_col - 1
        filled = first_col == last_col
        if filled:
            value = body[first_row - top][column]
            for row in range(first_row - top + 1, last_row - top + 1):
                if body[row][column] == "":
                    body[row][column] = value
        found.append(MergedCells(ref, header[column] or f"unnamed_{first_col}", first_row, last_row, filled))
    return tuple(found)


def _read_parquet(path: Path, data: bytes) -> tuple[pd.DataFrame, np.ndarray]:
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise InputError(
            f"{path.name}: cannot be read as Parquet ({type(exc).__name__}). Export it again.",
            "bad_parquet",
        ) from exc
    # A missing value of a typed column (pandas' NA of a nullable integer or true/false column,
    # NaT of a date column) is an empty cell, as in a spreadsheet: not the text '<NA>' or 'NaT'.
    text = pd.DataFrame(
        {c: ["" if missing else _parquet_cell(v) for v, missing in zip(frame[c].tolist(), frame[c].isna(), strict=True)]
         for c in frame.columns}, dtype=str
    )
    return text, np.arange(2, len(text) + 2)


def _parquet_cell(value: object) -> str:
    """A Parquet value as a cell's text; a list (services written as a list column) as its items
    separated by ';', as the contract writes several values in one cell (it was read as the text
    "['EP' 'SALT']", one service, and an empty list as the service '[]').

    >>> _parquet_cell(np.array(["EP", "SALT"], dtype=object)), _parquet_cell([]), _parquet_cell(7.0)
    ('EP;SALT', '', '7')
    """
    if isinstance(value, list | tuple | np.ndarray):
        return ";".join(text for item in value if (text := _parquet_cell(item)))
    return "" if value is None or value is pd.NA or value is pd.NaT else cell_text(value)


# ---------------------------------------------------------------- writing

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_PATTERN = "[" + re.escape("".join(FORMULA_STARTS)) + "]"  # the same starts, for a whole column at once


def escape_formula(value: object) -> object:
    """Make text safe to open in a spreadsheet: a leading = + - @ tab or CR gets a quote.

    >>> escape_formula("=HYPERLINK(1)"), escape_formula("ASD"), escape_formula(7)
    ("'=HYPERLINK(1)", 'ASD', 7)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def frame_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV bytes for a spreadsheet user: UTF-8 with BOM (Excel reads it), formulas escaped in the
    header as in every cell."""
    safe = frame.copy()
    safe.columns = [escape_formula(str(c)) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object:  # text, numbers or both: cell by cell
            safe[column] = safe[column].map(escape_formula)
        elif pd.api.types.is_string_dtype(safe[column]):  # text only: the cells to quote found at once
            formula = safe[column].str.match(FORMULA_PATTERN, na=False).to_numpy(dtype=bool)
            if formula.any():
                safe[column] = safe[column].map(escape_formula)
    return ("\ufeff" + safe.to_csv(index=False, lineterminator="\n")).encode("utf-8")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table as .csv (for spreadsheets), .xlsx or .parquet, by the file's suffix.

    Raises:
        InputError: the suffix is none of these.
    """
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".xlsx", ".csv", ".txt"):
        raise InputError(f"{path.name}: write .csv, .xlsx or .parquet.", "bad_suffix")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.astype(str).to_excel(path, index=False)
    else:
        path.write_bytes(frame_to_csv_bytes(frame))
