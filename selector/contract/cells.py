"""The one cell reader: what values a child holds on a dimension, as every layer reads them.

The model, the checker, the reports and the profile all read cells through `cell_values`
(one cell), `value_of` (one child) or `column_values` (a whole column, each distinct cell
read once), so they cannot disagree. A value keeps its display form (trimmed, as the area
wrote it); `match_key` folds case, separators, full stops and apostrophes for matching.
Validation makes each free-text value's spelling the same on every row (`canonical_spellings`),
so a display form stands for one key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from .columns import AGE_BANDS

# Columns holding several values, `;`-separated: each named value counts on its own.
MULTI_VALUED_COLUMNS = frozenset({"services"})


# What a value's spelling may vary in and still be one value: a run of spaces, hyphens or
# underscores is one separator, and full stops and apostrophes are dropped, so that lists merged
# from two systems ("Oakham Vale", "Oakham-Vale"; "St. Mary's", "St Marys") count one place once.
_SEPARATORS = re.compile(r"[\s_\-\u2010-\u2015]+")
_DROPPED = re.compile(r"[.'\u2018\u2019`]")


def match_key(value: object) -> str:
    """A value as matching compares it: trimmed, case-folded, its spaces, hyphens and
    underscores one separator, its full stops and apostrophes dropped.

    >>> match_key("  Westmoor "), match_key("WESTMOOR")
    ('westmoor', 'westmoor')
    >>> match_key("Oakham-Vale"), match_key("oakham  vale"), match_key("St. Mary's")
    ('oakham vale', 'oakham vale', 'st marys')
    >>> match_key(" - "), match_key(".")  # nothing but punctuation stays itself, not empty
    ('-', '.')
    """
    text = str(value).strip().casefold()
    return _SEPARATORS.sub(" ", _DROPPED.sub("", text)).strip() or text


def whole_ids(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """An id column with whole numbers written as decimals ('224962.0', as a script or a
    spreadsheet's number format writes them) read as the whole numbers they are, so that one
    setting or practitioner is one value; and which cells were changed.

    >>> ids, changed = whole_ids(pd.Series(["224962.0", "224962", "P0001", "12.50", ""]))
    >>> ids.tolist(), changed.tolist()
    (['224962', '224962', 'P0001', '12.50', ''], [True, False, False, False, False])
    """
    text = column.astype(str).str.strip()
    whole = text.str.extract(r"^(\d+)\.0+$", expand=False)
    changed = whole.notna().to_numpy()
    return text.where(~changed, whole), changed


def cell_values(cell: object, dimension: str) -> tuple[str, ...]:
    """The values one cell holds, in display form: trimmed; empty holds none; `services` split on
    `;`; a boolean as TRUE or FALSE.

    >>> cell_values(" Westmoor ", "locality"), cell_values("", "locality"), cell_values(None, "x")
    (('Westmoor',), (), ())
    >>> cell_values("OT; SALT;;", "services"), cell_values(True, "out_of_area")
    (('OT', 'SALT'), ('TRUE',))
    """
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ()
    if isinstance(cell, bool | np.bool_):
        return ("TRUE" if cell else "FALSE",)
    text = str(cell).strip()
    if dimension in MULTI_VALUED_COLUMNS:
        return tuple(part.strip() for part in text.split(";") if part.strip())
    return (text,) if text else ()


def value_of(child: Mapping[str, object] | pd.Series, dimension: str) -> tuple[str, ...]:
    """The values one child holds on a dimension (none when the caseload lacks the column).

    >>> value_of({"locality": "Westmoor", "services": "OT;SALT"}, "services")
    ('OT', 'SALT')
    """
    return cell_values(child.get(dimension), dimension)


def distinct_cells(column: pd.Series, dimension: str) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each row's code (-1 for a missing cell) and `cell_values` of each distinct cell, in the order
    the cells first appear: work done once per distinct cell, not once per child.

    >>> distinct_cells(pd.Series(["OT;SALT", "", "OT;SALT"]), "services")
    (array([0, 1, 0]), [('OT', 'SALT'), ()])
    """
    codes, uniques = pd.factorize(column, sort=False)
    return codes, [cell_values(u.item() if isinstance(u, np.generic) else u, dimension) for u in uniques]


def column_values(column: pd.Series, dimension: str) -> list[tuple[str, ...]]:
    """`cell_values` of every cell of a column (each distinct cell read once: fast at 60,000 rows)."""
    codes, read = distinct_cells(column, dimension)
    return [read[c] if c >= 0 else () for c in codes]


def holds_any(child: Mapping[str, object] | pd.Series, dimension: str, wanted: set[str]) -> bool:
    """Whether a child holds one of `wanted` (compared by `match_key`) on a dimension."""
    keys = {match_key(w) for w in wanted}
    return any(match_key(v) in keys for v in value_of(child, dimension))


def canonical_spellings(column: pd.Series, dimension: str) -> np.ndarray:
    """The column with each value spelled as it is first spelled in the file, so that `Westmoor`,
    `WESTMOOR` and ` westmoor` are one value shown one way everywhere.

    >>> canonical_spellings(pd.Series(["Westmoor", "WESTMOOR", " eastfield", "Eastfield"]), "locality").tolist()
    ['Westmoor', 'Westmoor', 'eastfield', 'eastfield']
    """
    spelling: dict[str, str] = {}
    codes, uniques = pd.factorize(column.astype(str), sort=False)
    rewritten = []
    for text in uniques:
        parts = []
        for value in cell_values(text, dimension):
            parts.append(spelling.setdefault(match_key(value), value))
        rewritten.append(";".join(parts))
    table = np.array([*rewritten, ""], dtype=object)
    return table[codes]


def value_order(dimension: str) -> Callable[[str], tuple[int, str]]:
    """A sort key for a dimension's values as a reader expects them: age bands youngest first
    (0-4 before 5-10 before 11-15), everything else alphabetically.

    >>> sorted(["11-15", "0-4", "5-10"], key=value_order("age_band"))
    ['0-4', '5-10', '11-15']
    """
    if dimension == "age_band":
        rank = {band: i for i, (band, _low, _high) in enumerate(AGE_BANDS)}
        return lambda value: (rank.get(value, len(rank)), value)
    return lambda value: (0, value)
