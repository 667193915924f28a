"""The workbook of a run: a sheet per cohort, contacts, coverage and the run record; styled,
ids as text, formula-escaped, and the same bytes for the same content."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from ..io.tables import escape_formula


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with a styled, frozen header per sheet; ids as text; formulas escaped.

    The bytes are deterministic: fixed document dates and zip entry times.
    """
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name[:31])
        sheet.append([escape_formula(str(c)) for c in frame.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDDDDD")
        for record in frame.itertuples(index=False):
            sheet.append([escape_formula(v if isinstance(v, int | float | bool) and not isinstance(v, str)
                                         else str(v)) for v in record])
        for column in ("child_id", "setting_id", "lead_practitioner_id"):
            if column in frame.columns:
                index = list(frame.columns).index(column) + 1
                for row in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    row[0].number_format = "@"
        sheet.freeze_panes = "A2"
        _print_setup(sheet, list(frame.columns))
        for index, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].tolist()])
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    return _saved(book)


def _print_setup(sheet: Any, columns: list[str]) -> None:
    """Printed from Excel, a sheet is A4 landscape, with its header row, and its columns up to the
    child's id, on every page: a cohort's 22 columns run over pages across, and a page of
    practitioners' phones or of reasons should still say whose they are."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.print_title_rows = "1:1"
    if "child_id" in columns:
        sheet.print_title_cols = f"A:{sheet.cell(1, columns.index('child_id') + 1).column_letter}"


def with_consent(data: bytes, states: dict[str, str], consent: list[dict[str, str]]) -> bytes:
    """A run's workbook with the consent calls made since it was written: each child's state in
    the Contacts sheet's consent column, and the history in the Run sheet's consent row (as
    contacts.csv and run.json hold them). Same bytes for the same calls."""
    book = load_workbook(io.BytesIO(data))
    if "Contacts" in book.sheetnames:
        sheet = book["Contacts"]
        header = [cell.value for cell in sheet[1]]
        if "child_id" in header and "consent" in header:
            child, state = header.index("child_id"), header.index("consent")
            for row in sheet.iter_rows(min_row=2):
                if row[child].value in states:
                    row[state].value = states[str(row[child].value)]
    if "Run" in book.sheetnames:
        for row in book["Run"].iter_rows(min_row=2):
            if row[0].value == "consent":
                row[1].value = json.dumps(consent, ensure_ascii=False)
    return _saved(book)


def _saved(book: Workbook) -> bytes:
    """The workbook's bytes, the same for the same content: fixed document dates and zip times."""
    fixed = dt.datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    raw = io.BytesIO()
    book.save(raw)
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                # openpyxl stamps the save time here; a fixed date keeps the bytes reproducible.
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", content)
            target.writestr(info, content)
    return out.getvalue()
