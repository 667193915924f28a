"""Reading every supported format and encoding, and refusing bad files with a clear message."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from unittest import mock

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selector.contract.errors import InputError
from selector.io.folders import write_folder
from selector.io.tables import escape_formula, frame_to_csv_bytes, read_table

FRAME = pd.DataFrame({"Child ID": ["007", "A2"], "Primary-Need": ["ASD", "Ménière"], "Age": ["5", "6"]})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])  # utf-16: with its BOM
@pytest.mark.parametrize("sep", [",", ";", "\t"])  # tab: Excel's "Unicode Text"
def test_csv_encodings_and_separators_read_alike(tmp_path: Path, encoding: str, sep: str) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(FRAME.to_csv(index=False, sep=sep).encode(encoding))
    table = read_table(path)
    assert list(table.frame.columns) == ["child_id", "primary_need", "age"]
    assert table.frame["child_id"].tolist() == ["007", "A2"]  # leading zeros kept
    assert table.frame["primary_need"].tolist() == ["ASD", "Ménière"]
    assert table.header["primary_need"] == "Primary-Need"


def test_xlsx_first_sheet_and_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as writer:
        FRAME.to_excel(writer, sheet_name="Front", index=False)
        FRAME.assign(Age=["7", "8"]).to_excel(writer, sheet_name="List", index=False)
    assert read_table(path).frame["age"].tolist() == ["5", "6"]
    assert read_table(path, sheet="List").frame["age"].tolist() == ["7", "8"]
    with pytest.raises(InputError, match="no sheet named 'Nope'; the sheets are Front, List"):
        read_table(path, sheet="Nope")


def test_xlsx_numbers_read_as_whole_numbers(tmp_path: Path) -> None:
    path = tmp_path / "n.xlsx"
    pd.DataFrame({"child_id": [101, 102], "age": [12.0, 3]}).to_excel(path, index=False)
    frame = read_table(path).frame
    assert frame["child_id"].tolist() == ["101", "102"]
    assert frame["age"].tolist() == ["12", "3"]


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pd.DataFrame({"child_id": ["a", None], "age": [3, 4]}).to_parquet(path)
    frame = read_table(path).frame
    assert frame["child_id"].tolist() == ["a", ""]
    assert frame["age"].tolist() == ["3", "4"]


def test_parquet_missing_values_of_typed_columns_are_empty_cells(tmp_path: Path) -> None:
    # pandas writes a nullable true/false or integer column's missing value as NA and a date
    # column's as NaT: read as the text '<NA>', an empty out_of_area was refused as not true or false.
    path = tmp_path / "c.parquet"
    pd.DataFrame({"child_id": ["a", "b"],
                  "out_of_area": pd.array([True, None], dtype="boolean"),
                  "setting_id": pd.array([None, 100234], dtype="Int64"),
                  "noted": pd.to_datetime([None, "2026-03-04"])}).to_parquet(path)
    frame = read_table(path).frame
    assert frame["out_of_area"].tolist() == ["true", ""]
    assert frame["setting_id"].tolist() == ["", "100234"]
    assert frame["noted"].tolist() == ["", "2026-03-04"]


def test_parquet_list_cells_are_values_separated_by_semicolons(tmp_path: Path) -> None:
    # Services written from pandas as a list column: each item a service, as 'EP;SALT' in a CSV
    # (they were read as the one service "['EP' 'SALT']", and an empty list as the service '[]').
    path = tmp_path / "c.parquet"
    pd.DataFrame({"child_id": ["a", "b", "c"], "services": [["EP", "SALT"], [], None]}).to_parquet(path)
    assert read_table(path).frame["services"].tolist() == ["EP;SALT", "", ""]


def test_blank_rows_are_dropped_but_row_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("child_id,age\na,1\n,\nb,2\n\n", encoding="utf-8")
    table = read_table(path)
    assert table.frame["child_id"].tolist() == ["a", "b"]
    assert table.row_numbers.tolist() == [2, 4]  # as Excel shows them: header is row 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "c.csv", "c.csv: the file is empty. Export the list again."),
        (b"child_id,age\n", "c.csv", "c.csv: the file has a header row but no data rows."),
        (b"\x00\x01\x02binary", "c.csv", "c.csv: this is not a text (CSV) file."),
        # A byte-order mark, then half a character: not UTF-16 after all.
        (b"\xff\xfea\x00,\x00b", "c.csv", "c.csv: the text is neither UTF-8, UTF-16 nor Windows-1252."),
        (b"PK\x03\x04junk", "c.xlsx", "c.xlsx: cannot be opened as an Excel workbook"),
        (b"PAR1junk", "c.parquet", "c.parquet: cannot be read as Parquet"),
        (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 64, "c.xls", "c.xls: old Excel .xls files are not read."),
        (b"<HTML><body><table><tr><td>child_id</td></tr></table>", "c.xls",
         ("c.xls: is a web page (HTML) named .xls, as some systems' \"export to Excel\" write it, and is not read. "
         "Save it as .xlsx or .csv in Excel.")),
        (b"Child ID,child_id\n1,2\n", "c.csv", "columns 'Child ID' and 'child_id' both read as 'child_id'"),
    ],
    ids=["empty", "header-only", "binary", "broken-utf-16", "bad-xlsx", "bad-parquet", "xls", "html-xls",
         "duplicate-header"],
)
def test_bad_files_raise_input_error(tmp_path: Path, content: bytes, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert message in caught.value.message
    assert caught.value.exit_code == 2


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")


def test_formula_escaping_in_csv_output() -> None:
    frame = pd.DataFrame({"a": ["=1+1", "+44", "-x", "@SUM", "\tx", "ok"], "n": [1, 2, 3, 4, 5, -6]})
    text = frame_to_csv_bytes(frame).decode("utf-8-sig")
    assert text.splitlines()[1:] == ["'=1+1,1", "'+44,2", "'-x,3", "'@SUM,4", "'\tx,5", "ok,-6"]
    assert escape_formula(-6) == -6


def test_write_folder_refuses_non_empty_without_force(tmp_path: Path) -> None:
    out = tmp_path / "run"
    write_folder(out, {"a.txt": b"1", "run.json": b"{}"}, force=False)
    with pytest.raises(InputError, match="the folder is not empty"):
        write_folder(out, {"a.txt": b"2"}, force=False)
    assert (out / "a.txt").read_bytes() == b"1"
    write_folder(out, {"b.txt": b"2"}, force=True)  # an earlier run folder (it has a run record)
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    with pytest.raises(InputError, match="is not a run folder written by selector"):
        write_folder(out, {"c.txt": b"3"}, force=True)  # no run record: not ours to delete
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no staging folder left behind


# ---- the fast reader for plain CSV agrees with pandas' reader, and steps aside otherwise

TRICKY_CSVS = [
    'child_id,need,note\n007,ASD,"a, quoted ""note"""\n0010, SEMH ,é ü\n',  # quotes, spaces, zeros
    "child_id;need;note\n1;ASD;x,y\n2;MLD;\n",  # semicolons, an empty last cell
    "child_id,need,note\n1,ASD,x\n\n2,MLD,y\n",  # a blank line: pandas keeps row numbers
    "child_id,need,note\n1,ASD\n2,MLD,y\n",  # a short row: filled with ""
    'child_id,need,note\n1,ASD,"two\nlines"\n',  # a newline inside quotes
    "child_id,need,\n1,ASD,\n2,MLD,\n",  # a trailing separator (Excel)
    "sep=;\r\nchild_id;need;note\n1;ASD;x,y\n",  # Excel's separator line
    "child_id,need,note\r1,ASD,x\r2,MLD,\r",  # "CSV (Macintosh)": lines end in CR alone
]


@pytest.mark.parametrize("content", TRICKY_CSVS)
def test_plain_csv_reader_agrees_with_pandas(tmp_path: Path, content: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content, encoding="utf-8")
    fast = read_table(path)
    with mock.patch("selector.io.tables._read_plain_csv", return_value=None):  # pandas alone
        slow = read_table(path)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert list(fast.row_numbers) == list(slow.row_numbers)


@pytest.mark.parametrize("line", ["sep=;\n", "sep=;\r\n"])
def test_excels_separator_line_is_obeyed_and_rows_numbered_as_excel_shows_them(tmp_path: Path, line: str) -> None:
    # Some exports start with Excel's 'sep=;' line, which Excel obeys and hides: it was read as a
    # one-column title and the file refused ("if the rows above the column headers are a title").
    plain = "child_id;need;note\n1;ASD;x,y\n2;MLD;\n"
    (tmp_path / "plain.csv").write_text(plain, encoding="utf-8")
    (tmp_path / "excel.csv").write_text(line + plain, encoding="utf-8")
    read, expected = read_table(tmp_path / "excel.csv"), read_table(tmp_path / "plain.csv")
    pd.testing.assert_frame_equal(read.frame, expected.frame)
    assert list(read.row_numbers) == [2, 3]  # the headers are row 1, as Excel shows them


@pytest.mark.parametrize(("written", "name"), [("csv", "list.xlsx"), ("csv", "list.xls"), ("xlsx", "list.csv")])
def test_a_file_saved_under_the_others_name_is_read_as_what_it_is(tmp_path: Path, written: str, name: str) -> None:
    # A system's "export to Excel" writes CSV named .xlsx or .xls; a workbook renamed .csv. They
    # were refused ("is not an Excel workbook", "old Excel .xls files are not read", "not a text
    # (CSV) file"); their bytes say what they are.
    frame = pd.DataFrame({"child_id": ["1", "2"], "need": ["ASD", "MLD"]})
    if written == "csv":
        frame.to_csv(tmp_path / name, index=False)
    else:
        frame.to_excel(tmp_path / name, index=False, engine="openpyxl")
    read = read_table(tmp_path / name)
    assert read.frame.values.tolist() == [["1", "ASD"], ["2", "MLD"]] and list(read.row_numbers) == [2, 3]


def test_lines_ending_in_cr_alone_are_read_as_lines(tmp_path: Path) -> None:
    # Excel's "CSV (Macintosh)" ends each line with a CR alone: the file was refused as having no
    # header row ("new-line character seen in unquoted field").
    (tmp_path / "mac.csv").write_bytes(b"child_id,need\r1,ASD\r2,MLD\r")
    read = read_table(tmp_path / "mac.csv")
    assert read.frame.values.tolist() == [["1", "ASD"], ["2", "MLD"]] and list(read.row_numbers) == [2, 3]


def test_a_mac_csv_is_read_in_its_own_encoding(tmp_path: Path) -> None:
    # "CSV (Macintosh)" writes Mac Roman, where e-acute is byte 0x8E (Windows-1252 reads it as Z-caron)
    # and a right quote 0xD5: the locality and the organisation keep their letters.
    (tmp_path / "mac.csv").write_bytes("locality,organisation\rCafé Quarter,St Mary’s\r".encode("mac_roman"))
    assert read_table(tmp_path / "mac.csv").frame.values.tolist() == [["Café Quarter", "St Mary’s"]]
    # Written as UTF-8 with the same line ends, it is read as UTF-8.
    (tmp_path / "utf8.csv").write_bytes("locality\rCafé Quarter\r".encode())
    assert read_table(tmp_path / "utf8.csv").frame.values.tolist() == [["Café Quarter"]]


def test_plain_csv_reader_is_used_for_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(TRICKY_CSVS[0], encoding="utf-8")
    with mock.patch("selector.io.tables.pd.read_csv", side_effect=AssertionError("pandas' reader used")):
        frame = read_table(path).frame
    assert frame["child_id"].tolist() == ["007", "0010"] and frame["note"].tolist() == ['a, quoted "note"', "é ü"]


def test_a_separator_too_many_at_the_end_of_every_row_shifts_no_column(tmp_path: Path) -> None:
    # Data rows ending in a separator the header does not have (an export's trailing comma): the
    # empty last values are dropped and every value stays under its own header.
    path = tmp_path / "list.csv"
    path.write_text("child_id,need,age\n007,ASD,5,\n008,MLD,6,\n", encoding="utf-8")
    frame = read_table(path).frame
    assert frame.to_dict("list") == {"child_id": ["007", "008"], "need": ["ASD", "MLD"], "age": ["5", "6"]}


@pytest.mark.parametrize("content", ["child_id,need,age\n007,ASD,5,x\n008,MLD,6,y\n",  # every row
                                     "child_id,need,age\n007,ASD,5\n008,MLD,6,y\n"])  # one row
def test_a_row_with_more_values_than_headers_is_refused_with_its_row(tmp_path: Path, content: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content, encoding="utf-8")
    row = 2 if content.count(",x") else 3
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == (f"list.csv: row {row} has 4 values but the header row names 3 columns. "
                                 "Give the extra column a header, or remove the extra separators from that row.")


def test_a_first_row_too_long_for_headers_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # A file with no line break in its first 200,000 characters (a binary export renamed .csv, or
    # one cell of free text): Python's csv reader stops at 128 KB per cell.
    path = tmp_path / "list.csv"
    path.write_text("a" * 200_000 + "\n1\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == ("list.csv: row 1 cannot be read as the column headers (field larger than field limit "
                                 "(131072)). Check that this is the exported list, with the column names on row 1.")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_title_above_the_headers_is_left_out_and_rows_keep_their_numbers(tmp_path: Path, kind: str) -> None:
    # A report's title in row 1 and a blank row 2: the headers are on row 3. It was refused,
    # sending an inspector to edit the area's file in Excel; now the table is read from row 3,
    # each child's row numbered as the spreadsheet shows it, with a warning saying so.
    rows = [["Northshire SEND caseload"], [], ["child_id", "need", "age"], ["007", "ASD", "5"], ["008", "MLD", "6"]]
    path = tmp_path / f"list.{kind}"
    if kind == "csv":
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        pd.DataFrame([r + [None] * (3 - len(r)) for r in rows]).to_excel(path, index=False, header=False)
    table = read_table(path)
    assert table.frame.to_dict("list") == {"child_id": ["007", "008"], "need": ["ASD", "MLD"], "age": ["5", "6"]}
    assert list(table.row_numbers) == [4, 5]
    assert [(note.first_row, note.problem) for note in table.notes] == [
        (1, "the 2 rows above the column headers (row 3) were left out, as a title or empty")]


def test_excels_padded_title_lines_in_a_semicolon_csv_are_left_out(tmp_path: Path) -> None:
    # Excel saves a title above a table padded with separators; the title line alone has no
    # separator at all when written by hand, and the table's own (;) is found below it.
    padded = "Caseload;;\nRun 01/12/2026;;\nchild_id;need;age\n007;ASD;5\n"
    bare = "Caseload\n\nchild_id;need;age\n007;ASD;5\n"
    for name, text, header_row in (("padded.csv", padded, 3), ("bare.csv", bare, 3)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        table = read_table(tmp_path / name)
        assert list(table.frame.columns) == ["child_id", "need", "age"], name
        assert list(table.row_numbers) == [header_row + 1], name


@pytest.mark.parametrize(("rows", "message"), [
    # A block of key and value cells above the table: row 2 is not the table's headers (the
    # rows under it fill more), so nothing is guessed.
    ([["Caseload"], ["Area", "Northshire", "Date", "1/12/2026"], ["child_id", "need", "age", "locality", "plan"],
      ["007", "ASD", "5", "Eastbrook", "EHCP"]],
     ("list.csv: row 1 names 1 column(s) but row 2 fills 4: if the rows above the column headers are a title, "
     "delete them so that the headers are on row 1.")),
    # Row 3 holds numbers, not headers: the headers are missing, not lower down.
    ([["Caseload"], [], ["7", "5", "3"], ["8", "6", "4"]],
     ("list.csv: row 1 names 1 column(s) but row 3 fills 3: if the rows above the column headers are a title, "
     "delete them so that the headers are on row 1.")),
])
def test_a_lower_row_that_is_not_the_headers_is_refused_not_guessed(tmp_path: Path, rows: list[list[str]],
                                                                   message: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == message


def test_a_table_placed_lower_down_is_read_from_its_headers(tmp_path: Path) -> None:
    # An Excel table started at B3, rows 1 and 2 and column A empty.
    frame = pd.DataFrame({"child_id": ["007"], "need": ["ASD"], "age": ["5"]})
    frame.to_excel(tmp_path / "list.xlsx", index=False, startrow=2, startcol=1)
    table = read_table(tmp_path / "list.xlsx")
    assert table.frame.to_dict("list") == {"child_id": ["007"], "need": ["ASD"], "age": ["5"]}
    assert list(table.row_numbers) == [4]


def test_merged_cells_under_headers_lower_down_are_filled_and_named_by_their_rows(tmp_path: Path) -> None:
    # A title on row 1, headers on row 2; one locality merged across rows 3 to 4 (B3:B4).
    from openpyxl import Workbook as Book

    book = Book()
    sheet = book.active
    for row in (["Caseload"], ["child_id", "locality", "age"], ["007", "Eastbrook", "5"], ["008", None, "6"]):
        sheet.append(row)
    sheet.merge_cells("B3:B4")
    book.save(tmp_path / "list.xlsx")
    table = read_table(tmp_path / "list.xlsx")
    assert table.frame["locality"].tolist() == ["Eastbrook", "Eastbrook"]
    assert [(cells.ref, cells.first_row, cells.last_row) for cells in table.merged] == [("B3:B4", 3, 4)]


def test_an_empty_first_sheet_names_the_sheets_there_are(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="Notes", index=False)
        FRAME.to_excel(writer, sheet_name="List", index=False)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == ("c.xlsx: the sheet 'Notes' is empty. The workbook's sheets are Notes, List: put the "
                                 "list on the first visible sheet, or name its sheet with --sheet on the command line.")
    assert read_table(path, sheet="List").frame["age"].tolist() == ["5", "6"]


def test_a_first_sheet_of_one_line_of_notes_names_the_sheets_there_are(tmp_path: Path) -> None:
    # "Read me first" in A1 of a cover sheet reads as a header with no rows under it; the list is
    # on the next sheet, and the message says where to look, as for an empty first sheet.
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Read me first": []}).to_excel(writer, sheet_name="Notes", index=False)
        FRAME.to_excel(writer, sheet_name="List", index=False)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == ("c.xlsx: the sheet 'Notes' has a header row but no data rows. The workbook's sheets "
                                 "are Notes, List: put the list on the first visible sheet, or name its sheet with "
                                 "--sheet on the command line.")
    alone = tmp_path / "alone.xlsx"  # a workbook of one sheet has nowhere else to look
    pd.DataFrame({"child_id": []}).to_excel(alone, sheet_name="List", index=False)
    with pytest.raises(InputError, match=r"^alone.xlsx: the file has a header row but no data rows. Export the list again.$"):
        read_table(alone)

def test_a_hidden_sheet_before_the_list_is_passed_over(tmp_path: Path) -> None:
    # A hidden lookup sheet first, the list on the first sheet the analyst sees.
    book = openpyxl.Workbook()
    lookups = book.active
    lookups.title = "Lookups"
    lookups.append(["code", "meaning"])
    lookups.sheet_state = "hidden"
    listed = book.create_sheet("Caseload")
    listed.append(list(FRAME.columns))
    for row in FRAME.itertuples(index=False):
        listed.append([str(v) for v in row])
    book.active = 1
    book.save(tmp_path / "c.xlsx")
    assert read_table(tmp_path / "c.xlsx").frame["age"].tolist() == ["5", "6"]


def _merged_workbook(path: Path, error_cell: bool = False) -> Path:
    """Five children; the analyst merged the locality of rows 2-4 (one label for three children of
    Northgate), the plan status of rows 5-6, and a note across two columns of row 3. With
    `error_cell`, a lookup that failed (#N/A) in a column left out: the workbook is then read by
    openpyxl, which sees error cells, not by calamine."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["child_id", "age", "primary_need", "plan_status", "setting_type", "locality", "notes", "extra"])
    sheet.append(["K1", 4, "ASD", "EHCP", "EARLY_YEARS", "Northgate", "", ""])
    sheet.append(["K2", 7, "SLCN", "SEN_SUPPORT", "MAINSTREAM", None, "see file", None])
    sheet.append(["K3", 13, "SEMH", "SEN_SUPPORT", "AP", None, "", ""])
    sheet.append(["K4", 12, "MLD", "EHCP", "SPECIAL", "Southgate", "", ""])
    sheet.append(["K5", 17, "PD", None, "FE", "Eastgate", "", ""])
    sheet.merge_cells("F2:F4")
    sheet.merge_cells("D5:D6")
    sheet.merge_cells("G3:H3")
    if error_cell:
        sheet["H6"] = "#N/A"  # openpyxl stores this text as an error cell
    book.save(path)
    return path


@pytest.mark.parametrize("error_cell", [False, True], ids=["calamine", "openpyxl"])
def test_merged_cells_in_a_column_are_read_as_excel_shows_them(tmp_path: Path, error_cell: bool) -> None:
    # F2:F4 shows "Northgate" for K1, K2 and K3 (Excel stores it in F2 only: K2 and K3 would lose
    # their locality); D5:D6 shows "EHCP" for K4 and K5 (K5's plan status would be empty, an
    # error the analyst could not see). G3:H3 spans two columns: only G3 holds its text.
    table = read_table(_merged_workbook(tmp_path / "merged.xlsx", error_cell))
    assert table.frame["locality"].tolist() == ["Northgate"] * 3 + ["Southgate", "Eastgate"]
    assert table.frame["plan_status"].tolist() == ["EHCP", "SEN_SUPPORT", "SEN_SUPPORT", "EHCP", "EHCP"]
    assert table.frame["extra"].tolist() == [""] * 4 + ["#N/A" if error_cell else ""]
    assert [(m.ref, m.header, m.first_row, m.last_row, m.filled) for m in table.merged] == [
        ("F2:F4", "locality", 2, 4, True), ("G3:H3", "notes", 3, 3, False), ("D5:D6", "plan_status", 5, 6, True)]


_CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**15, 10**15),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: abs(x) < 1e15),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12).filter(
        lambda s: not s.startswith("=")),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(_CELLS, min_size=1, max_size=6), min_size=1, max_size=8))
def test_calamine_reads_every_workbook_as_openpyxl_does(rows: list[list[object]]) -> None:
    # The fast reader (calamine) is used unless a workbook has a zero-padded number format or an
    # error cell; on everything else it must give the text openpyxl gives, cell for cell.
    from selector.io import workbooks

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert not workbooks._scan(data, None)[0]
    fast = workbooks._xlsx_rows_calamine(Path("c.xlsx"), data, None)
    slow = workbooks._xlsx_rows_openpyxl(Path("c.xlsx"), data, None)

    width = max(len(r) for r in fast[2] + slow[2])

    def cells(found: list[list[str]]) -> list[list[str]]:  # empty cells past a row's end, or rows past the last, alike
        # openpyxl writes a cell of spaces without xml:space="preserve", which calamine reads, as
        # XML allows, as empty; every reader of the rows trims cells, so the two are alike.
        padded = [[v if v.strip() else "" for v in r] + [""] * (width - len(r)) for r in found]
        while padded and not any(padded[-1]):
            padded.pop()
        return padded

    assert (fast[0], fast[1], fast[3]) == (slow[0], slow[1], slow[3])
    assert cells(fast[2]) == cells(slow[2])


@pytest.mark.parametrize(("workbook", "sheets_read"), [("caseload", 1), ("annex_a", 2)])
def test_each_sheet_of_a_workbook_caseload_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        workbook: str, sheets_read: int) -> None:
    # Looking for Annex A's lists reads a workbook's sheets; a caseload in selector's own columns
    # is one of them and was read again after (a second 1.2 s at 60,000 rows).
    from selector.io import tables
    from tests.conftest import SAMPLE, load_caseload

    if workbook == "caseload":
        path = tmp_path / "caseload.xlsx"
        pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False).to_excel(path, index=False)
    else:
        path = SAMPLE / "annex_a" / "annex_a.xlsx"
    reads = []
    real = tables._read_xlsx
    monkeypatch.setattr(tables, "_read_xlsx", lambda *args: reads.append(args[2]) or real(*args))
    load_caseload(path, SAMPLE / "annex_a" / "contacts.csv" if workbook == "annex_a" else SAMPLE / "contacts.csv",
                  allow_missing_contact=True)
    assert len(reads) == sheets_read


@pytest.mark.parametrize("damage", ["sheet-data", "zip-version"])
def test_a_damaged_workbook_is_refused_not_a_traceback(tmp_path: Path, damage: str) -> None:
    # Found by flipping bytes of workbooks: a sheet whose compressed data is damaged (zlib's own
    # error) or a zip directory asking for a newer zip version (NotImplementedError) escaped.
    book = openpyxl.Workbook()
    for row in range(200):
        book.active.append([f"K{row}", row % 25, "ASD"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = bytearray(buffer.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    if damage == "sheet-data":
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        for at in range(start + 40, start + 80):
            data[at] ^= 0xA5
    else:  # "version needed to extract" of the sheet's entry in the central directory: 15.4
        entry = data.find(b"PK\x01\x02")
        while entry >= 0 and data[entry + 46:entry + 46 + len(info.filename)] != info.filename.encode():
            entry = data.find(b"PK\x01\x02", entry + 4)
        data[entry + 6] = 154
    path = tmp_path / "c.xlsx"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value).startswith("c.xlsx: cannot be opened as an Excel workbook (")
    assert str(caught.value).endswith("). Open it in Excel and save it again as .xlsx.")


def test_a_panic_in_the_workbook_reader_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # calamine is Rust: a panic on a malformed file reaches Python as pyo3's PanicException, a
    # BaseException that `except Exception` lets through as a traceback.
    import python_calamine

    class PanicException(BaseException):
        pass

    class Panicking:
        @staticmethod
        def from_filelike(_data: object) -> None:
            raise PanicException("index out of bounds")

    path = tmp_path / "c.xlsx"
    FRAME.to_excel(path, index=False)
    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Panicking)
    with pytest.raises(InputError) as caught:
        read_table(path)
    assert str(caught.value) == ("c.xlsx: cannot be opened as an Excel workbook (PanicException). Open it in Excel and "
                                 "save it again as .xlsx.")


def _marked_workbook(path: Path, error_cell: bool = False) -> Path:
    """Six children. The analyst filtered out rows 3 and 5 to 6 and hid column B (age); a script
    wrote formulas into F (locality): F4 and F7 were never calculated (no value stored), F2 was
    (Excel stored "NORTH"), and F3's formula gives the empty text (stored so, and calculated);
    B7's formula (age 9) was calculated too.
    H (notes, a column left out) holds one formula never calculated. With `error_cell`, a lookup
    that failed (#N/A) makes openpyxl the reader."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["child_id", "age", "primary_need", "plan_status", "setting_type", "locality", "services", "notes"])
    for k, (age, need) in enumerate([(4, "ASD"), (7, "SLCN"), (13, "SEMH"), (12, "MLD"), (17, "PD"), (9, "HI")]):
        sheet.append([f"K{k + 1}", age, need, "EHCP", "MAINSTREAM", "Southgate", "SALT", ""])
    for cell in ("F2", "F3", "F4", "F7", "H5"):
        sheet[cell] = '=UPPER("north")'
    sheet["B7"] = "=8+1"
    for row in (3, 5, 6):
        sheet.row_dimensions[row].hidden = True
    sheet.column_dimensions["B"].hidden = True
    if error_cell:
        sheet["G7"] = "#N/A"
    buffer = io.BytesIO()
    book.save(buffer)
    # What Excel stores once it has calculated F2 and F3 (openpyxl writes formulas without values).
    with zipfile.ZipFile(buffer) as original, zipfile.ZipFile(path, "w") as edited:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                formula = b'<f>UPPER("north")</f><v /></c>'
                assert data.count(formula) == 5
                data = data.replace(b'<c r="F2">' + formula, b'<c r="F2" t="str"><f>UPPER("north")</f><v>NORTH</v></c>')
                data = data.replace(b'<c r="F3">' + formula, b'<c r="F3" t="str"><f>UPPER("north")</f><v></v></c>')
                assert b'<c r="B7"><f>8+1</f><v /></c>' in data
                data = data.replace(b'<c r="B7"><f>8+1</f><v /></c>', b'<c r="B7"><f>8+1</f><v>9</v></c>')
            edited.writestr(item, data)
    return path


@pytest.mark.parametrize("error_cell", [False, True], ids=["calamine", "openpyxl"])
def test_rows_and_columns_hidden_and_formulas_never_calculated_are_noted(tmp_path: Path, error_cell: bool) -> None:
    # Neither reader reports what the sheet hides: hidden rows and columns are read like the others
    # (a filter leaves no child out), and a formula never calculated reads as empty.
    table = read_table(_marked_workbook(tmp_path / "marked.xlsx", error_cell))
    assert table.frame["age"].tolist() == ["4", "7", "13", "12", "17", "9"]
    assert table.frame["locality"].tolist() == ["NORTH", "", "", "Southgate", "Southgate", ""]
    assert [(n.header, n.first_row, n.problem) for n in table.notes] == [
        ("", 3, "rows 3 and 5 to 6 (3 rows) are hidden in Excel (by a filter, or by hand): read like every other row"),
        ("age", 1, "column B (age) is hidden in Excel: read like the others"),
        ("locality", 4, ("2 cells of column F (from F4) hold formulas that were never calculated (the workbook was "
                        "written by a program and not opened in Excel since): read as empty")),
        ("notes", 5, ("1 cell of column H (H5) holds a formula that was never calculated (the workbook was "
                     "written by a program and not opened in Excel since): read as empty"))]


def test_a_plain_workbook_has_nothing_to_note(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["child_id", "age"])
    book.active.append(["K1", 4])
    book.save(tmp_path / "plain.xlsx")
    assert read_table(tmp_path / "plain.xlsx").notes == ()


def test_hidden_rows_are_named_in_runs_at_most_four() -> None:
    from selector.io.tables import _rows_in_words

    assert _rows_in_words([7]) == "row 7 is"
    assert _rows_in_words([2, 3]) == "rows 2 to 3 (2 rows) are"
    assert _rows_in_words([2, 4, 6, 8, 9, 10, 20, 30, 31]) == (
        "rows 2, 4, 6, 8 to 10 and 3 more (9 rows) are")


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 40), data=st.data())
def test_every_hidden_row_and_formula_never_calculated_is_counted(rows: int, data: st.DataObject) -> None:
    # Random rows hidden and random cells of one column given a formula (never calculated): the
    # notes count exactly those, and name the first of each.
    hidden = data.draw(st.sets(st.integers(2, rows + 1)))
    formulas = data.draw(st.sets(st.integers(2, rows + 1)))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["child_id", "locality"])
    for k in range(rows):
        sheet.append([f"K{k}", "Northgate"])
    for row in hidden:
        sheet.row_dimensions[row].hidden = True
    for row in formulas:
        sheet[f"B{row}"] = "=1+1"
    buffer = io.BytesIO()
    book.save(buffer)
    from selector.io.tables import _read_xlsx, _sheet_notes

    frame, numbers, _merged, marks, headers, _sheets = _read_xlsx(Path("c.xlsx"), buffer.getvalue(), None)
    assert marks.hidden_rows == tuple(sorted(hidden))
    assert marks.uncalculated == tuple((row, 2) for row in sorted(formulas))
    assert frame["locality"].eq("").sum() == len(formulas)
    notes = _sheet_notes(marks, headers, numbers)
    said = [(n.header, n.first_row, n.problem.split(" hidden")[0].split(" never")[0]) for n in notes]
    expected = []
    if hidden:
        count = "row" if len(hidden) == 1 else f"({len(hidden)} rows)"
        expected.append(("", min(hidden), count))
    if formulas:
        expected.append(("locality", min(formulas), "cell" if len(formulas) == 1 else f"{len(formulas)} cells"))
    assert [(h, r) for h, r, _ in said] == [(h, r) for h, r, _ in expected]
    assert all(words in text for (_h, _r, words), (_h2, _r2, text) in zip(expected, said, strict=True))


def test_formulas_never_calculated_are_found_in_indented_and_prefixed_sheets() -> None:
    # Excel writes a sheet on one line; other programs indent it or prefix its tags (x:c). C4 has
    # no value, D4 was calculated, E4 gives the empty text (calculated), F4 shares a formula and
    # has no value.
    from selector.io.workbooks import _uncalculated

    indented = (b'<row r="4">\n  <c r="C4">\n    <f>UPPER(A4)</f>\n    <v/>\n  </c>\n'
                b'  <c r="D4"><f>1+1</f><v>2</v></c>\n  <c r="E4" t="str"> <f>""</f> <v></v></c>\n'
                b'  <c r="F4"><f t="shared" si="0"/></c></row>')
    assert _uncalculated(indented) == ((4, 3), (4, 6))
    prefixed = b'<x:row r="9"><x:c r="AB9"><x:f>A9</x:f></x:c><x:c r="AC9"><x:f>A9</x:f><x:v>3</x:v></x:c></x:row>'
    assert _uncalculated(prefixed) == ((9, 28),)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_a_rules_or_mapping_file_saved_by_notepad_is_read_in_its_encoding(tmp_path: Path, encoding: str) -> None:
    # Notepad saves "Unicode" (UTF-16) or "ANSI" (Windows-1252, where 'Café' is not UTF-8): a
    # mapping so saved ended in a traceback, and a rules file was refused as not UTF-8.
    from selector.io.mapping import load_mapping
    from selector.io.rules_toml import load_rules

    rules = tmp_path / "rules.toml"
    rules.write_text("# Café's rules\nsize = 5\n", encoding=encoding)
    assert load_rules(rules).size == 5
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('# Café\n[primary_need]\n"Autisme" = "ASD"\n', encoding=encoding)
    assert load_mapping(mapping).primary_need["autisme"] == "ASD"


def test_a_mapping_file_that_is_not_text_is_refused_with_how_to_save_it(tmp_path: Path) -> None:
    from selector.io.mapping import load_mapping

    mapping = tmp_path / "mapping.toml"
    mapping.write_bytes(b"[primary_need]\x00\x01")
    with pytest.raises(InputError) as caught:
        load_mapping(mapping)
    assert caught.value.message == ("mapping.toml: the mapping file cannot be read as text (a zero byte). Save it as "
                                    "UTF-8 text.")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_characters_nobody_can_see_are_removed_as_spaces_are(tmp_path: Path, kind: str) -> None:
    # A code copied from a web page with a zero-width space after it was 'not one of the codes'
    # ('ASD\u200b', did you mean ASD?), a fault the analyst could not see in Excel.
    rows = [["child_id", "need\u200b", "age"], ["\ufeff007", "ASD\u200b", "5"], ["008", "M\u200dLD", "6\u2060"]]
    path = tmp_path / f"list.{kind}"
    if kind == "csv":
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)
    assert read_table(path).frame.to_dict("list") == {"child_id": ["007", "008"], "need": ["ASD", "MLD"],
                                                      "age": ["5", "6"]}
