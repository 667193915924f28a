"""The failures table: every data problem as one row (severity, file, row, column, value, problem,
fix), collected while checking and raised once."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

FAILURE_COLUMNS = ["severity", "file", "row", "column", "value", "problem", "fix"]

# What a fix may ask the user to give, in the words every fix uses: each front end says how to
# give it there (a flag, a form field, or that it cannot), since the layers below never name flags.
REMEDIES = {
    "mapping": "a mapping file",
    "establishments": "the establishments extract",
    "as_of": "the date ages are taken at",
    "keep_column": "a column to keep",
    "sheet": "the sheet to read",
    "contacts": "the practitioners' contacts file",
}


def remedies_in(fixes: Iterable[object]) -> tuple[str, ...]:
    """The remedies (keys of REMEDIES) that these fixes ask for, in REMEDIES' order.

    >>> remedies_in(["Add it to [social_care] in a mapping file.", "Check the URN."])
    ('mapping',)
    """
    text = "\n".join(str(fix) for fix in fixes)
    return tuple(key for key, words in REMEDIES.items() if words in text)


def listed(words: Sequence[str], last: str) -> str:
    """Words as a sentence lists them.

    >>> listed(["age", "primary_need", "plan_status"], "and"), listed(["age"], "or")
    ('age, primary_need and plan_status', 'age')
    """
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def rows_without_a_child(filled: np.ndarray) -> np.ndarray:
    """Which rows hold at most one required cell (`filled`: a row per row of the list, a column
    per required column): a total under the list, a heading between its parts, a note. None when
    most rows are so: the list itself then lacks its values, and each empty cell is the problem."""
    sparse = np.asarray(filled.sum(axis=1) <= 1)
    if sparse.sum() * 2 > len(sparse):
        return np.zeros(len(sparse), dtype=bool)
    return sparse


def not_a_child(required: Sequence[str], filled: str | None) -> tuple[str, str]:
    """The problem and the fix for a row that holds no child, by the one required column it fills
    (None: it fills none).

    >>> not_a_child(["Unique ID", "Date of birth"], "Unique ID")[0]
    'is the only required cell filled in this row (no Date of birth): a total, heading or note, not a child'
    """
    others = [column for column in required if column != filled]
    problem = (f"no required cell is filled in this row ({listed(required, 'or')})" if filled is None else
               f"is the only required cell filled in this row (no {listed(others, 'or')})")
    return (f"{problem}: a total, heading or note, not a child",
            f"Delete the row (notes belong on another sheet), or fill in the child's {listed(others, 'and')}.")


def failure_line(row: pd.Series | dict[str, object]) -> str:
    """One failure in plain words: where, what, how to fix.

    >>> failure_line({"file": "c.csv", "row": 4, "column": "age", "value": "31",
    ...               "problem": "age is outside 0 to 25", "fix": "Check the age."})
    "c.csv: row 4, column 'age': '31' age is outside 0 to 25. Check the age."
    >>> failure_line({"file": "l.csv", "row": 2, "column": "UPN", "value": "",
    ...               "problem": "Duplicated UPN.", "fix": "Keep one row."})
    "l.csv: row 2, column 'UPN': Duplicated UPN. Keep one row."
    >>> failure_line({"file": "c.xlsx", "row": 5, "column": "", "value": "",
    ...               "problem": "row 5 is hidden", "fix": "Delete it."})
    'c.xlsx: row 5: row 5 is hidden. Delete it.'
    """
    where = f"{row['file']}: row {row['row']}" + (f", column '{row['column']}'" if row["column"] != "" else "")
    problem = str(row["problem"]).rstrip(".")  # a rule's own text may end its sentence already
    return f"{where}:{shown_value(row['value'])} {problem}. {row['fix']}"


# Said above the values that fail in many rows.
REPEATED_HEADING = ("Where one value fails in many rows, fix it once throughout its column (in Excel, Find and Replace "
                    "with 'Match entire cell contents' changes every copy):")


# The value a failure gives for a cell no message may show (a date of birth): each such cell
# holds its own value, so failures that give it are never grouped as one value failing in many rows.
HIDDEN_VALUE = "(hidden)"


def repeated_errors(errors: pd.DataFrame, most: int = 5) -> list[str]:
    """The values that fail in more than one row, the most frequent first (at most `most`), each
    said once with how many rows hold it: an export that spells a code its own way fails in
    thousands of rows, and the first few lines shown do not say that one replacement fixes them.

    >>> errors = pd.DataFrame({"severity": "error", "file": "c.csv", "row": [2, 3, 5, 6, 7],
    ...     "column": ["plan_status"] * 4 + ["age"], "value": ["EHC Plan", "SEN Support", "EHC Plan", "EHC Plan", "x"],
    ...     "problem": "not a code", "fix": ["Did you mean EHCP?", "Did you mean SEN_SUPPORT?"] + ["Did you mean EHCP?"] * 2
    ...     + ["Give a number."]})
    >>> repeated_errors(errors)
    ["c.csv: 3 rows, the first row 2, column 'plan_status': 'EHC Plan' not a code. Did you mean EHCP?"]
    """
    # An empty or unshown value has nothing to replace, and a repeated child_id is not mended by
    # replacing it throughout (each row is a child, or a child's row again).
    errors = errors[~errors["value"].astype(str).isin(("", HIDDEN_VALUE)) & (errors["column"] != "child_id")]
    return [f"{_where_many(row)}:{shown_value(row['value'])} {str(row['problem']).rstrip('.')}. {row['fix']}"
            for row in _many_rows(errors, ["file", "column", "value"], most)]


# At most this many errors of one kind (file, column, value, problem and fix) are shown one by
# one: a list whose every id is a name, or whose needs are blank in 500 rows, would otherwise
# fill the lines shown with one problem and hide the others.
PER_KIND_SHOWN = 3


def errors_shown(errors: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The errors to show one by one, in the list's order: at most `PER_KIND_SHOWN` of each kind,
    at most `limit` in all (`errors_by_kind` and `repeated_errors` count the rest).

    >>> errors = pd.DataFrame({"severity": "error", "file": "c.csv", "row": [2, 3, 4, 5, 6],
    ...     "column": ["child_id"] * 4 + ["age"], "value": ["", "", "", "", "x"],
    ...     "problem": ["looks like a name"] * 4 + ["not a number"], "fix": "Fix it."})
    >>> errors_shown(errors, 20)["row"].tolist()
    [2, 3, 4, 6]
    """
    kinds = errors.groupby(["file", "column", "value", "problem", "fix"], sort=False, dropna=False)
    return errors[(kinds.cumcount() < PER_KIND_SHOWN).to_numpy()].head(limit)


def warnings_shown(warnings: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The warnings to show one by one, in the list's order: at most `PER_KIND_SHOWN` of each
    kind (file, column and what to do), at most `limit` in all (`warnings_by_kind` counts the
    rest). 27 children without a contact filled the lines shown, and the contacts' own warnings
    that said why came after them, unseen.

    >>> warnings = pd.DataFrame({"severity": "warning", "file": ["c.csv"] * 4 + ["k.csv"], "row": [2, 3, 4, 5, 2],
    ...     "column": ["contact"] * 4 + ["email"], "value": ["C1", "C2", "C3", "C4", "n/a"],
    ...     "problem": "no contact", "fix": ["Add a contact."] * 4 + ["Give an e-mail."]})
    >>> warnings_shown(warnings, 5)["row"].tolist()
    [2, 3, 4, 2]
    """
    kinds = warnings.groupby(["file", "column", "fix"], sort=False, dropna=False)
    return warnings[(kinds.cumcount() < PER_KIND_SHOWN).to_numpy()].head(limit)


# Said above the errors of many rows that have no value to replace.
ERRORS_HEADING = "The errors of many rows, by column and what is wrong:"


def errors_by_kind(errors: pd.DataFrame, most: int = 5) -> list[str]:
    """The errors with no value to replace (an empty cell, or a value not shown, as an id that is
    a name or a date of birth) in more rows than are shown one by one, grouped by file, column
    and problem, the most rows first (at most `most`): 500 rows without a need are one thing to
    fix in one column.

    >>> errors = pd.DataFrame({"severity": "error", "file": "c.csv", "row": [2, 3, 4, 5, 6],
    ...     "column": "primary_need", "value": "", "problem": "primary_need is empty", "fix": "Give a need."})
    >>> errors_by_kind(errors)
    ["c.csv: 5 rows, the first row 2, column 'primary_need': primary_need is empty. Give a need."]
    """
    return [f"{_where_many(row)}: {str(row['problem']).rstrip('.')}. {row['fix']}"
            for row in _many_rows(errors[errors["value"].astype(str).isin(("", HIDDEN_VALUE))],
                                  ["file", "column", "problem", "fix"], most)
            if row["count"] > PER_KIND_SHOWN]


def warnings_by_kind(warnings: pd.DataFrame, most: int = 5) -> list[str]:
    """The warnings of many rows, grouped by file, column and what to do (the most rows first, at
    most `most`): a list exported with services separated by commas warns on every such row, and
    the first few lines shown do not say that it is one thing to do throughout a column.

    >>> warnings = pd.DataFrame({"severity": "warning", "file": "c.csv", "row": [3, 4, 5, 6, 7, 8],
    ...     "column": ["services", "services", "locality", "lead", "lead", "lead"],
    ...     "value": ["EP, OT", "SALT, EP", "Wstmoor", "P1", "P2", "P1"], "problem": "read as one",
    ...     "fix": ["Use ';'."] * 2 + ["Check it."] + ["Add P."] * 3})
    >>> warnings_by_kind(warnings)
    ["c.csv: 3 rows (2 different values), the first row 6, column 'lead': Add P.", "c.csv: 2 rows, the first row 3, column 'services': Use ';'."]
    """
    # 946 rows may be 148 practitioners missing, each added once: the different values are said.
    return [_where_many(row, "" if row["values"] == row["count"] else f" ({row['values']:,} different values)"
                        if row["values"] > 1 else " (one value)") + f": {row['fix']}"
            for row in _many_rows(warnings, ["file", "column", "fix"], most)]


def _where_many(row: dict[Hashable, Any], about_values: str = "") -> str:
    """Where a group of failures is, as each grouping says it: the file, its rows (and, given,
    what its values are), the first row and the column."""
    return (f"{row['file']}: {row['count']:,} rows{about_values}, the first row {row['row']}"
            + (f", column '{row['column']}'" if row["column"] != "" else ""))


def _many_rows(failures: pd.DataFrame, keys: list[str], most: int) -> list[dict[Hashable, Any]]:
    """The first failure of each group sharing `keys` that holds more than one row, with `count`
    (its rows) and `values` (its different values), the most rows first, at most `most`."""
    first = ~failures.duplicated(keys)
    grouped = failures.groupby(keys, sort=False, dropna=False)
    counts, values = grouped["row"].transform("size"), grouped["value"].transform("nunique")
    firsts = failures[first].assign(count=counts[first], values=values[first])
    return firsts[firsts["count"] > 1].sort_values("count", ascending=False, kind="stable").head(most).to_dict("records")


# Said above the warnings grouped by what to do.
WARNINGS_HEADING = "The warnings, by column and what to do:"


# A value longer than this is shortened in a message (the failures table keeps it whole).
SHOWN_CHARACTERS = 60


def shown_value(value: object) -> str:
    """A cell's value as a message quotes it: a space and the value in quotes, shortened when
    long (a whole paragraph pasted into a code column would fill the screen); empty for none.

    >>> shown_value("SEMH")
    " 'SEMH'"
    >>> shown_value("x" * 500)
    " 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (500 characters)"
    """
    text = str(value)
    if text == "":
        return ""
    if len(text) <= SHOWN_CHARACTERS:
        return f" {text!r}"
    return f" {text[:SHOWN_CHARACTERS] + '…'!r} ({len(text):,} characters)"


def empty_failures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in FAILURE_COLUMNS})


class Failures:
    """Collects failures as column arrays (fast for a quarter of a million rows)."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def add(self, severity: str, file: str, rows: object, column: str, values: object,
            problem: object, fix: object, first: bool = False) -> None:
        """Add failures (one per row; `values`, `problem` and `fix` one for all or one per row);
        `first` puts them before the others of their row."""
        rows_arr = np.atleast_1d(np.asarray(rows))
        n = len(rows_arr)
        if n == 0:
            return
        self.parts.insert(0 if first else len(self.parts), pd.DataFrame({
            "severity": severity,
            "file": file,
            "row": rows_arr.astype(int),
            "column": column,
            "value": np.broadcast_to(np.asarray(values, dtype=object), (n,)),
            "problem": np.broadcast_to(np.asarray(problem, dtype=object), (n,)),
            "fix": np.broadcast_to(np.asarray(fix, dtype=object), (n,)),
        }))

    def has_errors(self, file: str) -> bool:
        """Whether any error was found in the file."""
        return any(((part["severity"] == "error") & (part["file"] == file)).any() for part in self.parts)

    def table(self) -> pd.DataFrame:
        if not self.parts:
            return empty_failures()
        table = pd.concat(self.parts, ignore_index=True)
        table["row"] = table["row"].astype(int)
        # Errors first, then in file order, so the first lines shown are the ones to fix.
        order = table["severity"].map({"error": 0, "warning": 1})
        return (
            table.assign(_o=order).sort_values(["_o", "file", "row"], kind="stable")
            .drop(columns="_o").reset_index(drop=True)[FAILURE_COLUMNS]
        )

