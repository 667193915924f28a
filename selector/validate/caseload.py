"""Validation of a caseload (and its contacts) against the contract, collecting every failure.

Pure: it takes tables already read and returns the normalised caseload; no files, no printing.

Every problem becomes one row of a failures table (file, row, column, value, problem, fix,
severity); errors are raised once, together, as CaseloadValidationError. Warnings travel with
the validated Caseload.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..contract.cells import canonical_spellings, match_key, whole_ids
from ..contract.columns import (
    AGE_BANDS,
    BOOLEAN_COLUMNS,
    CODE_COLUMNS,
    CONTACT_COLUMNS,
    CONTACT_FIELDS,
    CONTACTS_FILE_COLUMNS,
    CONTRACT_COLUMNS,
    FALSE_WORDS,
    INLINE_CONTACT_COLUMNS,
    MAX_AGE,
    MIN_AGE,
    OWN_COLUMNS,
    REQUIRED_COLUMNS,
    SERVICE_NAMES,
    TRUE_WORDS,
    normalise_column,
)
from ..contract.errors import CaseloadValidationError
from ..contract.failures import Failures, listed, not_a_child, rows_without_a_child
from ..contract.identifiers import FULL_POSTCODE, header_words, identifier_kind, identifying_ids
from ..contract.rules import DEFAULT_RULES
from ..io.tables import RawTable

# The columns a caseload may bring: the contract's, and the inline practitioner contact.
CONTRACT_INPUT_COLUMNS = CONTRACT_COLUMNS | frozenset(INLINE_CONTACT_COLUMNS)
# An age written as a date: 2015-03-04, 04/03/2015, 4.3.15, with a time after it or not.
AGE_AS_DATE = r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
# A day of January 1900 (1900-01-08, 08/01/1900, 01/08/1900, midnight or not): a number of 0 to 31
# formatted as a date. Its day is the number (Excel counts days from 0 January 1900).
EXCEL_AGE_AS_DATE = (r"^(?:1900-01-(\d{1,2})|(\d{1,2})[/.-]0?1[/.-]1900|0?1[/.-](\d{1,2})[/.-]1900)"
                     r"(?:[ T]0{1,2}:00(?::00)?)?$")


@dataclass(frozen=True)
class Caseload:
    """A validated caseload: one row per child, codes normalised, contacts attached.

    Attributes:
        frame: the children. Contract columns with normalised values; `age` int, `age_band`,
            booleans as bool, `services` as a sorted `;`-list, `contact_*` lead contact,
            `practitioner_key` (who the lead practitioner is, for the spread rule),
            `eligible` and `ineligible_reason`, `row` (spreadsheet row); the kept columns as read.
        warnings: the failures table's warning rows (nothing here stops a run).
        source: the caseload file's name (no folder).
        source_sha256: hash of the caseload file's bytes.
        contacts_source: the contacts file's name, or "" when the inline columns served.
        contacts_sha256: hash of the contacts file, or "".
        left_out_columns: the headers of the columns left out at load (outside the contract and
            not named to keep); never their values.
        kept_columns: the headers of the columns outside the contract kept because the user named
            them (`--keep-column`), as the file writes them.
        kept_names: those columns' names in `frame`, in the same order (`kept_headers` pairs them).
        all_contacts: every contact per child (child_id, lead, name, role, ...), lead first.
        as_of: the date ages were taken at (Annex A), or None when the file gave the ages.
        held_back: why children cannot be chosen, in words ("" when all can).
    """

    frame: pd.DataFrame
    warnings: pd.DataFrame
    source: str
    source_sha256: str
    contacts_source: str = ""
    contacts_sha256: str = ""
    left_out_columns: tuple[str, ...] = ()
    kept_columns: tuple[str, ...] = ()
    kept_names: tuple[str, ...] = ()
    all_contacts: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: dt.date | None = None
    held_back: str = ""

    @property
    def eligible(self) -> pd.DataFrame:
        """The children who may be chosen."""
        return self.frame.loc[self.frame["eligible"]]

    @property
    def kept_headers(self) -> dict[str, str]:
        """Each kept column's name in `frame` and its header as the file writes it: the outputs
        name it so (`FavouriteFood`, not `favouritefood`)."""
        return dict(zip(self.kept_names, self.kept_columns, strict=True))


def validate(raw: RawTable, contacts: RawTable | None = None, *,
             allow_missing_contact: bool = False, keep_columns: tuple[str, ...] = (),
             likely_code: Callable[[str, str], str] | None = None) -> Caseload:
    """Check a raw caseload against the contract and return it normalised. `likely_code(column,
    text)`, when given, names the code a wrong text most likely means ('' for none), for the fix.

    Raises:
        CaseloadValidationError: when any error is found; its `failures` holds every one.
    """
    failures = Failures()
    frame = raw.frame
    rows = raw.row_numbers
    file = raw.name

    if raw.list_sheet:
        # A cover sheet read first: one error naming the list's sheet, not five columns missing
        # that are there, a sheet away (nor the cover sheet's columns as left out).
        failures.add("error", file, 1, "", "",
                     f"the first sheet holds none of the required columns; the sheet '{raw.list_sheet}' holds them all",
                     "Move that sheet to the front of the workbook, or give the sheet to read.")
        _raise_if_errors(failures, file)
    _refuse_contacts_as_caseload(failures, raw)
    frame, left_out, kept_names = _minimise(failures, raw, keep_columns)
    _sheet_warnings(failures, raw, frame.columns)

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    # None of them on a workbook's first sheet, and other sheets: the list is likely on one.
    elsewhere = ""
    if raw.sheets and len(missing) == len(REQUIRED_COLUMNS):
        elsewhere = (f" Or, if the list is on another of the workbook's sheets ({', '.join(raw.sheets)}), move it to "
                     "the first sheet, or give the sheet to read.")
    for column in missing:
        add = f"a column headed '{column}' (see the data contract in the README).{elsewhere}"
        births = _birth_date_hint(file, left_out) if column == "age" else ""
        failures.add("error", file, 1, column, "", "required column is missing",
                     births or _or_add(_rename_hint(file, column, left_out), add))
    if missing:
        _raise_if_errors(failures, file)

    not_children = _rows_without_a_child(failures, file, rows, frame, raw.header)
    if not_children.any():  # each said once, as what it is, not as four empty cells
        frame, rows = frame.loc[~not_children].reset_index(drop=True), rows[~not_children]
    out = _contract_columns(failures, file, rows, frame, likely_code)
    all_contacts = _attach_contacts(failures, raw, out, frame, contacts)
    any_contacts = contacts is not None or any(c in frame.columns for c in INLINE_CONTACT_COLUMNS)
    # Contacts that could not be read are said by their own errors: a warning per child without a
    # contact would only repeat them, thousands of times.
    contacts_unread = contacts is not None and failures.has_errors(contacts.name)
    held_back = _eligibility(failures, file, out, any_contacts and not contacts_unread, allow_missing_contact,
                             quiet=contacts_unread)
    _raise_if_errors(failures, file)
    return Caseload(
        frame=out,
        warnings=failures.table(),
        source=raw.name,
        source_sha256=raw.sha256,
        contacts_source=contacts.name if contacts is not None else "",
        contacts_sha256=contacts.sha256 if contacts is not None else "",
        left_out_columns=left_out,
        kept_columns=tuple(raw.header.get(c, c) for c in kept_names),
        kept_names=kept_names,
        all_contacts=all_contacts,
        held_back=held_back,
    )


def _rows_without_a_child(failures: Failures, file: str, rows: np.ndarray, frame: pd.DataFrame,
                          header: dict[str, str]) -> np.ndarray:
    """Rows that hold no child (`rows_without_a_child`, a total with its count beside it, and the
    header row again): an error each, naming the row as what it seems to be; which rows they are
    (the other checks leave them out)."""
    filled = np.column_stack([(frame[c].str.strip() != "").to_numpy() for c in REQUIRED_COLUMNS])
    sparse = rows_without_a_child(filled)
    for k, column in enumerate((*REQUIRED_COLUMNS, None)):
        these = sparse & (filled[:, k] if column is not None else ~filled.any(axis=1))
        values = frame.loc[these, column].str.strip().to_numpy() if column is not None else ""
        failures.add("error", file, rows[these], column or "", values, *not_a_child(REQUIRED_COLUMNS, column))
    # A total under the list with a count beside its word ("Total", 2985): two cells filled.
    written = frame["child_id"].str.strip()
    named_total = written.str.fullmatch(TOTAL_WORDS, case=False).fillna(False).to_numpy(dtype=bool)
    totals = named_total & ~sparse & (filled.sum(axis=1) <= 2)
    failures.add("error", file, rows[totals], "child_id", written[totals].to_numpy(),
                 "a total, not a child (the row fills no need, plan status or setting)",
                 "Delete the row (totals belong on another sheet).")
    # The header row again, as when a second list is pasted under the first with its headers:
    # its child_id is that column's header, and so are most required columns' cells (it gave
    # eight errors and two warnings). Only rows whose id is the header are looked at further.
    def is_header(values: pd.Series, column: str) -> np.ndarray:
        return (values.str.strip().str.lower() == header.get(column, column).strip().lower()).to_numpy(dtype=bool)

    headers_again = is_header(frame["child_id"], "child_id") & ~sparse & ~totals
    if headers_again.any():
        candidates = frame.loc[headers_again]
        same = sum(is_header(candidates[c], c) for c in REQUIRED_COLUMNS)
        headers_again[headers_again] = same > len(REQUIRED_COLUMNS) // 2
    failures.add("error", file, rows[headers_again], "", "",
                 "the header row again, not a child (a second list pasted under the first with its headers?)",
                 "Delete the row.")
    return sparse | totals | headers_again


# What a totals row writes where the child's id belongs.
TOTAL_WORDS = r"(grand |sub ?)?totals?:?|count:?|sum:?|number of (children|pupils|young people|cyp):?"


def _contract_columns(failures: Failures, file: str, rows: np.ndarray, frame: pd.DataFrame,
                      likely_code: Callable[[str, str], str] | None = None) -> pd.DataFrame:
    """The contract's columns checked and normalised (each problem a failure), with the kept
    columns as read."""
    out = pd.DataFrame({"row": rows})
    frame = _blank_said_missing(failures, file, rows, frame)
    # Text columns stay pandas' own (Arrow) strings: a trip through Python objects and back
    # costs seconds at a million rows.
    out["child_id"] = frame["child_id"].str.strip().array
    _check_child_ids(failures, file, rows, out["child_id"], frame)
    out["age"] = _check_age(failures, file, rows, frame["age"])
    out["age_band"] = _age_bands(out["age"])
    for column, codes in CODE_COLUMNS.items():
        if column in frame.columns:
            out[column] = _check_codes(failures, file, rows, frame[column], column, codes,
                                       required=column in REQUIRED_COLUMNS, likely_code=likely_code)
        elif column == "social_care":
            out[column] = "NONE"
    if "social_care" in out:
        out["social_care"] = out["social_care"].replace("", "NONE")
    for column in BOOLEAN_COLUMNS:
        values = frame[column] if column in frame.columns else pd.Series([""] * len(frame))
        out[column] = _check_boolean(failures, file, rows, values, column)
    if "services" in frame.columns:
        out["services"] = _normalise_services(frame["services"])
        _check_service_separators(failures, file, rows, frame["services"], out["services"])
        counts, first_position = _service_counts(out["services"])
        _warn_service_names(failures, file, rows, counts, first_position)
        _warn_joined_services(failures, file, rows, frame["services"], out["services"], counts)
        _warn_likely_typos(failures, file, rows, "services", "services", counts, first_position)
    for column in ("locality", "exclude_reason"):
        if column in frame.columns:
            out[column] = frame[column].str.strip().array
    for column in ("setting_id", "lead_practitioner_id"):  # trimmed, and whole numbers as whole numbers
        if column in frame.columns:
            ids, changed = whole_ids(frame[column])
            out[column] = ids.array
            _warn_decimal_ids(failures, file, rows, frame[column], ids, changed, column)
    if "locality" in out:
        _refuse_postcodes(failures, file, rows, out)
        # One spelling per place (the first in the file): `WESTMOOR` on one row and `Westmoor`
        # on another are the same locality, counted once and shown one way everywhere.
        written = out["locality"]
        out["locality"] = canonical_spellings(written, "locality")
        _warn_respelled(failures, file, rows, written, out["locality"], "locality")
        _warn_likely_typos(failures, file, rows, "locality", "localities", *_value_counts(out["locality"]))
    handled = set(out.columns) | set(INLINE_CONTACT_COLUMNS)
    for column in frame.columns:
        if column not in handled:
            out[column] = frame[column].array

    return out


def _warn_respelled(failures: Failures, file: str, rows: np.ndarray, written: pd.Series, read: object,
                    column: str) -> None:
    """One warning per spelling read as another beyond case (`Oakham-Vale` as `Oakham Vale`,
    first written so): they count as one value, which is right for one place written two ways
    and wrong for two places, which only the analyst can tell."""
    written_text = pd.Series(written.astype(str).str.strip().to_numpy())
    read_text = pd.Series(np.asarray(read, dtype=object)).astype(str)
    respelled = written_text.str.casefold() != read_text.str.casefold()
    if not respelled.any():
        return
    first_read = {value: position for position, value in read_text.drop_duplicates().items()}
    counts = written_text[respelled].value_counts()
    for position, spelling in written_text[respelled].drop_duplicates().items():  # in file order
        as_read, count = read_text[position], int(counts[spelling])
        first_row = int(rows[first_read[as_read]])
        failures.add("warning", file, rows[position], column, spelling,
                     f"read as '{as_read}' (first written so at row {first_row}), the same {column} "
                     f"written another way ({count} row{'s' if count != 1 else ''}): they count as one",
                     "Nothing to do if they are one place; if they are two, name them so that they "
                     "differ by more than spaces, hyphens, full stops or apostrophes.")


# What an export writes in a cell that has no value: read as empty, since a missing value covers
# nothing (an 'N/A' counted as a service or a place would make a cohort holding it look broader,
# and children whose setting is 'Unknown' would be kept apart as if in one setting).
SAID_MISSING = frozenset({"none", "n/a", "na", "n.a.", "nil", "null", "-", "--", "\u2014", "not applicable",
                          "not known", "unknown"})  # (#N/A is a lookup that failed: reported, not read as none)
# The optional columns where such a word stands for nothing (social_care's NONE is a value); in
# the true/false columns it is read as an empty cell is, false ('N/A' in exclude: not excluded).
MAY_SAY_MISSING = ("secondary_need", "services", "locality", "setting_id", "lead_practitioner_id", *BOOLEAN_COLUMNS)


def _blank_said_missing(failures: Failures, file: str, rows: np.ndarray, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the cells (and the services in a list) that say there is no value made empty,
    and one warning per column and word, at its first row, saying how many rows write it."""
    blanked: dict[str, pd.Series] = {}
    for column in (c for c in MAY_SAY_MISSING if c in frame.columns):
        values = frame[column]
        # Each distinct cell looked at once (a column repeats a few hundred over 60,000 rows).
        read_as: dict[str, str] = {}  # cell -> the cell read
        word_of: dict[str, str] = {}  # cell -> the word in it that says none
        for cell in values.dropna().unique():
            names = str(cell).split(";") if column == "services" else [str(cell)]  # 'EP;None' is EP
            words = [n.strip() for n in names if n.strip().casefold() in SAID_MISSING]
            if words:
                read_as[str(cell)] = ";".join(n for n in names if n.strip().casefold() not in SAID_MISSING)
                word_of[str(cell)] = words[0]
        if not read_as:
            continue
        hit = values.isin(list(read_as)).fillna(False).to_numpy(dtype=bool)
        written = values[hit].astype(object)
        blanked[column] = values.where(~hit, written.map(read_as))
        found = pd.DataFrame({"row": rows[hit], "written": written.map(word_of).to_numpy()})
        found["key"] = found["written"].str.casefold()
        counts = found["key"].value_counts()
        for first in found.drop_duplicates("key").itertuples():
            more = int(counts[first.key]) - 1
            fix = (f"Nothing to do: read as false, as an empty cell is (write true where the child is "
                   f"{BOOLEAN_MEANING[column]}, false or nothing where not)." if column in BOOLEAN_COLUMNS else
                   f"Nothing to do: a value that says there is none covers nothing (leave such {column} cells "
                   "empty).")
            failures.add("warning", file, int(first.row), column, str(first.written),
                         "read as empty" + (f", here and in the {more} more rows that write it" if more else ""), fix)
    return frame.assign(**blanked) if blanked else frame


def _warn_decimal_ids(failures: Failures, file: str, rows: np.ndarray, values: pd.Series, ids: pd.Series,
                      changed: np.ndarray, column: str) -> None:
    """One warning, at the first row, for an id column's whole numbers written as decimals (read
    as whole numbers: '224962.0' and '224962' are one setting, for the rules and for matching)."""
    if not changed.any():
        return
    first = int(np.argmax(changed))
    value = str(values.iloc[first]).strip()
    more = int(changed.sum()) - 1
    failures.add("warning", file, rows[first], column, value,
                 "a whole number written as a decimal" + (f", as are {more} more {column} values" if more else "")
                 + f": read as '{ids.iloc[first]}', the same id as where it is written without the decimals",
                 f"Nothing to do; to keep ids as written, format the {column} column as text before saving.")


def _eligibility(failures: Failures, file: str, out: pd.DataFrame, any_contacts: bool,
                 allow_missing_contact: bool, quiet: bool = False) -> str:
    """Mark who can be chosen (`eligible`, `ineligible_reason`), warn about children without a
    contact and about too few to choose from (unless `quiet`: an error already says why); why
    children are held back, in words."""
    has_contact = _has_contact(out)
    no_contact = ~has_contact & ~out["exclude"]
    if any_contacts:
        failures.add(
            "warning", file, out.loc[no_contact, "row"], "contact", out.loc[no_contact, "child_id"],
            "no practitioner contact (name with email or phone) for this child",
            "Add the lead practitioner's contact, or allow children without a contact to be chosen."
            if not allow_missing_contact else "The child stays eligible (children without a contact are allowed).",
        )
    elif allow_missing_contact and no_contact.any() and not quiet:
        # No contact anywhere: one warning, not one per child (thousands of rows saying the same
        # thing hide every other warning). Without the allowance, the warning about too few
        # children to choose from below says it.
        failures.add("warning", file, 1, "contact", "",
                     "no contact file was given and the caseload has no practitioner contact columns, so none "
                     f"of the {int(no_contact.sum())} children has a practitioner contact",
                     "They stay eligible (children without a contact are allowed); give the contacts file "
                     "for the practitioners to call.", first=True)
    reason = np.where(out["exclude"], "excluded", "")
    if "exclude_reason" in out:
        detail = out["exclude_reason"].to_numpy()
        reason = np.where(out["exclude"] & (detail != ""), "excluded: " + detail.astype(str), reason)
    if not allow_missing_contact:
        reason = np.where((reason == "") & ~has_contact, "no practitioner contact", reason)
    out["ineligible_reason"] = reason
    out["eligible"] = out["ineligible_reason"] == ""
    held_back = _held_back(out, any_contacts, allow_missing_contact)
    eligible = int(out["eligible"].sum())
    if eligible < DEFAULT_RULES.size and not quiet:
        # Said once, first, in words: a list of 3,000 "no contact" warnings hides the cause.
        children = f"{eligible} {'child' if eligible == 1 else 'children'}"
        failures.add("warning", file, 1, "eligible", "",
                     f"only {children} can be chosen, and a cohort needs {DEFAULT_RULES.size}: {held_back}"
                     if held_back else
                     f"the list has only {children}, and a cohort needs {DEFAULT_RULES.size}",
                     "Give the contacts file (or the practitioner_* columns)." if "no contact" in held_back
                     else "Check the exclude and contact columns." if held_back
                     else "Check that the list is the whole caseload, or choose a smaller cohort.", first=True)

    return held_back


def without_contact(frame: pd.DataFrame) -> tuple[int, int]:
    """Children without a practitioner contact: those left out for it, and those still eligible
    (children without a contact allowed), for the one-line summary.

    >>> f = pd.DataFrame({"eligible": [True, False, True], "ineligible_reason": ["", "no practitioner contact", ""],
    ...                   "contact_name": ["A", "", ""], "contact_email": ["a@x", "", ""], "contact_phone": "",
    ...                   "exclude": False})
    >>> without_contact(f)
    (1, 1)
    """
    left_out = int((frame["ineligible_reason"] == "no practitioner contact").sum())
    if not {"contact_name", "contact_email", "contact_phone"} <= set(frame.columns):
        return left_out, 0
    return left_out, int((frame["eligible"] & ~_has_contact(frame)).sum())


def _has_contact(frame: pd.DataFrame) -> pd.Series:
    """Whether each child's lead contact has a name and an e-mail or phone."""
    return (frame["contact_name"] != "") & ((frame["contact_email"] != "") | (frame["contact_phone"] != ""))


def contact_summary(frame: pd.DataFrame) -> str:
    """'15 excluded, 3 without a contact', or with children without a contact allowed, '15
    excluded; 2985 without a contact, allowed'."""
    excluded = int(frame["exclude"].sum())
    left_out, allowed = without_contact(frame)
    if allowed:
        return f"{excluded} excluded; {allowed} without a contact, allowed"
    return f"{excluded} excluded, {left_out} without a contact"


def _held_back(out: pd.DataFrame, any_contacts: bool, allow_missing_contact: bool) -> str:
    """Why children cannot be chosen, in words ("" when every child can be)."""
    excluded = int(out["exclude"].sum())
    no_contact = int((out["ineligible_reason"] == "no practitioner contact").sum())
    if not any_contacts and not allow_missing_contact and no_contact:
        also = f"; {excluded} are also excluded" if excluded else ""
        return ("no contact file was given and the caseload has no practitioner contact columns, so no child "
                f"has a contact{also}")
    parts = [f"{excluded} excluded" if excluded else "", f"{no_contact} without a practitioner contact"
             if no_contact else ""]
    return ", ".join(p for p in parts if p)


def _minimise(failures: Failures, raw: RawTable, keep_columns: tuple[str, ...]
              ) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """Keep the contract's columns and those the user names; leave out every other column.

    Data minimisation is the first line of defence: a column the contract does not define never
    goes further than this, whatever its header, unless the user names it (`--keep-column`).
    Recognising identifiers by their header is the second: it says which left-out columns were
    identifiers, and warns when a kept column looks like one. Columns are named by their headers,
    never by their values.

    Returns:
        the table to validate, the left-out headers and the kept columns' names in the table.
    """
    # A header is named however it is written: `favourite colour` keeps `FavouriteColour`.
    keep = {header_words(k): k for k in keep_columns}
    shown = {c: raw.header.get(c, c) for c in raw.frame.columns}
    extra = [c for c in raw.frame.columns if c not in CONTRACT_INPUT_COLUMNS]
    kept = [c for c in extra if header_words(c) in keep or header_words(shown[c]) in keep]
    left_out = [c for c in extra if c not in kept]
    identifiers = [c for c in left_out if identifier_kind(shown[c]) or identifier_kind(c)]
    others = [c for c in left_out if c not in identifiers and c not in raw.foreseen]
    if identifiers:
        failures.add("warning", raw.name, 1, ", ".join(shown[c] for c in identifiers), "",
                     "direct identifier column(s) dropped at load; they are never written",
                     "Remove these columns from the export; selector does not need them.")
    # A left-out header that may be a column the contract reads but the file lacks ('Services
    # Received' for services) is said apart: "nothing to do" would be wrong advice for it.
    maybe = _maybe_optional([shown[c] for c in others], set(raw.frame.columns))
    for header, column in maybe.items():
        failures.add("warning", raw.name, 1, header, "",
                     f"column left out at load: it may hold the {column}, which selector reads under the header "
                     f"'{column}'", f"If it does, rename its header to '{column}' so that it counts; otherwise "
                     "nothing to do.")
    # And one that may be a required column the file lacks is named by that error, which says to
    # rename it: not here as needing nothing.
    required_missing = [c for c in REQUIRED_COLUMNS if c not in raw.frame.columns]
    others = [c for c in others if shown[c] not in maybe
              and not any(_may_hold(shown[c], column) for column in required_missing)]
    if others:
        failures.add("warning", raw.name, 1, ", ".join(shown[c] for c in others), "",
                     "column(s) outside the data contract left out at load; they are never written",
                     "Nothing to do: selector does not need them. To carry one into the outputs, name it as "
                     "a column to keep.")
    looks_identifying = [c for c in kept if identifier_kind(shown[c]) or identifier_kind(c)]
    if looks_identifying:
        failures.add("warning", raw.name, 1, ", ".join(shown[c] for c in looks_identifying), "",
                     "column(s) that look like a child's identifier are kept because you asked; they will "
                     "appear in the outputs", "Keep them only if they identify no child.")
    found = {header_words(c) for c in raw.frame.columns} | {header_words(h) for h in shown.values()}
    unknown = [given for words, given in keep.items() if words not in found]
    if unknown:
        # The header most like each one given ('Teams' for 'Team'), among those the file has.
        headers = list(shown.values())
        near = [f"'{match}' for '{given}'" for given in unknown if (match := _header_meant(given, headers))]
        failures.add("error", raw.name, 1, ", ".join(unknown), "", "column(s) to keep are not in the file",
                     "Name the column as its header is written" + (f" (did you mean {', '.join(near)}?)." if near
                                                                    else "."))
    taken = [c for c in kept if c in OWN_COLUMNS]
    if taken:
        # Kept, `Score` would be written over by the cohort's score and `Row` lost behind the row number.
        failures.add("error", raw.name, 1, ", ".join(shown[c] for c in taken), "",
                     f"column(s) to keep have a name selector uses for a column of its own ({', '.join(taken)})",
                     f"Rename them in the file (e.g. '{shown[taken[0]]}' as '{shown[taken[0]]} (list)'), or do not "
                     "keep them.")
    return raw.frame.drop(columns=left_out), tuple(shown[c] for c in left_out), tuple(kept)


# The words of a header that may hold a practitioner's id (`Key Worker ID`, `Caseworker`, a
# staff or worker number: `Staff ID`, `Worker No`).
_PRACTITIONER_WORDS = (frozenset({"practitioner"}), frozenset({"key", "worker"}), frozenset({"keyworker"}),
                       frozenset({"caseworker"}), frozenset({"case", "worker"}), frozenset({"lead", "professional"}),
                       frozenset({"sen", "officer"}),
                       *(frozenset({who, key}) for who in ("staff", "worker", "officer", "employee")
                         for key in ("id", "number", "no", "code", "ref", "reference")))
# Words that many headers share and that say nothing of which column a header is.
_COMMON_HEADER_WORDS = frozenset({"id", "type", "status"})
# The words that say a header may hold a column (any one set, every word of it), where the
# column's own words say too little or too much: `Services Received`, `Setting URN`, `Social
# Care Status`, `SEN Provision`, `Key Worker ID`, `Ward`, `Email Address`, `Telephone`. `Social
# Worker` is a person, not social_care.
_TELLING_WORDS: dict[str, tuple[frozenset[str], ...]] = {
    "services": (*(frozenset({word}) for word in ("services", "service", "agencies", "professionals")),),
    "social_care": (frozenset({"social", "care"}), *(frozenset({word}) for word in ("cin", "cla", "lac")),
                    frozenset({"looked", "after"}), frozenset({"child", "protection"})),
    "setting_id": (frozenset({"setting"}), frozenset({"urn"}), frozenset({"laestab"}), frozenset({"df", "e", "number"}),
                   frozenset({"establishment", "number"})),
    "locality": (*(frozenset({word}) for word in ("locality", "ward", "district", "neighbourhood")),),
    "secondary_need": (frozenset({"secondary"}),),
    # The school census's `SEN provision` (E or K) and `SEN type` (the need), and the setting as
    # systems head it (`Placement Type`, `School Type`, `Establishment Type`, `Provision Type`).
    "plan_status": (frozenset({"plan"}), frozenset({"sen", "provision"}), frozenset({"ehcp"})),
    "primary_need": (frozenset({"primary"}), frozenset({"need"}), frozenset({"sen", "type"})),
    "setting_type": (frozenset({"setting"}), frozenset({"placement"}),
                     *(frozenset({word, "type"}) for word in ("school", "establishment", "provision"))),
    "out_of_area": (frozenset({"out", "area"}),),
    "lead_practitioner_id": _PRACTITIONER_WORDS,
    "practitioner_id": _PRACTITIONER_WORDS,
    "email": (frozenset({"email"}), frozenset({"mail"})),
    "phone": (*(frozenset({word}) for word in ("phone", "telephone", "tel", "mobile")),
              frozenset({"contact", "number"})),
    # A case system's own key for the person: `Person ID`, `CYP ID`, Annex A's `Unique ID`.
    "child_id": (*(frozenset({word}) for word in ("child", "person", "cyp", "client", "unique")),
                 *(frozenset({"case", word}) for word in ("id", "ref", "reference"))),
}
# The optional columns a left-out header is offered for; none for `exclude`, as school exports'
# "Exclusions" are suspensions, not this.
_OFFERED_OPTIONAL = ("services", "social_care", "locality", "setting_id", "secondary_need", "out_of_area",
                     "lead_practitioner_id")


def _header_meant(given: str, headers: list[str]) -> str:
    """The file's header a name given to keep most likely means ('' for none): the one most like
    it whatever the case ('Teams' for 'team'), or the one header holding it as a word ('School
    Name' for 'school').

    >>> _header_meant("team", ["Teams", "Notes"]), _header_meant("school", ["School Name", "Notes"])
    ('Teams', 'School Name')
    >>> _header_meant("name", ["School Name", "Parent Name"])
    ''
    """
    folded = {header.casefold(): header for header in headers}
    match = difflib.get_close_matches(given.casefold(), list(folded), n=1, cutoff=0.6)
    if match:
        return folded[match[0]]
    holding = [header for header in headers if given.casefold() in header.casefold().split()]
    return holding[0] if len(holding) == 1 else ""


def _may_hold(header: str, column: str) -> bool:
    """Whether a header's words say it may hold the column (`Plan` for plan_status): those of
    `_TELLING_WORDS`, else any word of the column's name but the common ones."""
    telling = _TELLING_WORDS.get(column) or tuple(
        frozenset({word}) for word in column.split("_") if word not in _COMMON_HEADER_WORDS)
    words = set(header_words(header).split())
    return any(needed <= words for needed in telling)


def _maybe_optional(headers: list[str], present: set[str]) -> dict[str, str]:
    """Each left-out header that may hold an optional column the file lacks, with that column."""
    found: dict[str, str] = {}
    for column in _OFFERED_OPTIONAL:
        if column not in present:
            for header in headers:
                if _may_hold(header, column):
                    found.setdefault(header, column)
    return found


def _rename_hint(file: str, column: str, headers: tuple[str, ...], *, identifiers: bool = False) -> str:
    """When a column is missing and the file has headers that may hold it ('Plan' for
    plan_status, 'Email Address' for email), a sentence naming them, to put before the fix. A
    header that names a child's identifier is never offered unless `identifiers` (a contacts
    file's e-mail and phone are the practitioner's)."""
    alike = [h for h in headers if _may_hold(h, column) and (identifiers or identifier_kind(h) is None)]
    if not alike:
        return ""
    which = "it holds" if len(alike) == 1 else "one of them holds"
    return (f"{file} has {listed([repr(h) for h in alike], 'and')}: if {which} the {column}, rename its header "
            f"to '{column}'.")


def _birth_date_hint(file: str, headers: tuple[str, ...]) -> str:
    """When the age is missing and a date of birth was left out (it identifies a child, so it is
    never read from a caseload), how to give the age from it instead."""
    births = [h for h in headers if identifier_kind(h) == "date of birth"]
    if not births:
        return ""
    return (f"{file} has a date of birth ({listed([repr(h) for h in births], 'and')}), which selector never reads "
            "from a caseload, as it identifies a child: work out each age in whole years at the inspection date "
            "(in Excel, =DATEDIF(birth date, inspection date, \"y\")) into a column headed 'age' and remove the date "
            "of birth; or give the Annex A lists, from which selector works out the ages and then drops the dates.")


def _or_add(hint: str, what: str) -> str:
    """The fix for a missing column: the hint, if any, then adding it."""
    return f"{hint} Otherwise add {what}" if hint else f"Add {what}"


def _sheet_warnings(failures: Failures, raw: RawTable, read: pd.Index) -> None:
    """A warning for each range of merged cells in a column that is read (a left-out column's
    merges change nothing): one column's rows were each read with the value Excel shows across
    them; across columns, only the first cell holds it. And one for rows the sheet hides, for
    each column read that it hides, and for each column read with formulas never calculated."""
    for cells in raw.merged:
        if normalise_column(cells.header) in read:
            failures.add("warning", raw.name, cells.first_row, cells.header, "", cells.problem, cells.FIX)
    _note_warnings(failures, raw, read)


def _note_warnings(failures: Failures, raw: RawTable, read: Collection[str]) -> None:
    """A warning for each note of the sheet (rows above the headers left out, rows hidden, a
    column read hidden, formulas never calculated, the sheet read) that concerns the rows or a
    column read."""
    for note in raw.notes:
        if not note.header or normalise_column(note.header) in read:
            failures.add("warning", raw.name, note.first_row, note.header, "", note.problem, note.fix)


def _raise_if_errors(failures: Failures, file: str) -> None:
    table = failures.table()
    errors = table[table["severity"] == "error"]
    if len(errors):
        where = " and ".join(dict.fromkeys(errors["file"].astype(str))) or file  # the files the errors are in
        raise CaseloadValidationError(f"{where}: {len(errors)} problem(s) found; fix them and run again.", table)


def _check_child_ids(failures: Failures, file: str, rows: np.ndarray, ids: pd.Series, frame: pd.DataFrame) -> None:
    empty = (ids == "").to_numpy()
    failures.add("error", file, rows[empty], "child_id", "", "child_id is empty",
                 "Give every row its pseudonymous id.")
    # The id is written in every output (the report, the contacts sent to practitioners): one that
    # is a name, an e-mail, a UPN or an NHS number would carry it there. Never quoted, here or below.
    kinds = identifying_ids(ids)
    identifying = (kinds != "") & ~empty
    if identifying.any():
        failures.add("error", file, rows[identifying], "child_id", "",
                     [f"child_id looks like {kind} (not shown)" for kind in kinds[identifying]],
                     "Give every child a pseudonymous id (the case system's own reference, or a number) and keep "
                     "the key to who is who elsewhere: the id is written in every output, including the contacts "
                     "sent to practitioners.")
        return  # (repeated ids are checked once the ids are pseudonyms: their errors would quote them)
    dup = ids.duplicated(keep="first").to_numpy() & ~empty
    if dup.any():
        _repeated_children(failures, file, rows, ids, dup, frame)
    # Ids are matched ignoring case wherever a person types one (a decline, a consent): two that
    # differ only in case would be one child there.
    folded = ids.str.casefold()
    alike = folded.duplicated(keep="first").to_numpy() & ~empty & ~dup
    if alike.any():
        first_row = pd.Series(rows, index=folded.to_numpy()).groupby(level=0).first()
        failures.add("error", file, rows[alike], "child_id", ids.to_numpy()[alike],
                     [f"child_id differs from row {first_row[i]}'s only in case (ids are matched ignoring case)"
                      for i in folded.to_numpy()[alike]],
                     "Each child appears once: remove the repeated row or correct its id.")


def _repeated_children(failures: Failures, file: str, rows: np.ndarray, ids: pd.Series, dup: np.ndarray,
                       frame: pd.DataFrame) -> None:
    """A child_id seen before, said by how its row differs from the first: the same row twice
    (remove it); the child again with other services or another practitioner (a case system's
    export with a row per service or per practitioner, whose rows removed would lose their
    services: they belong in one row); or other values (two children under one id, or one
    child's rows that disagree).

    >>> from selector.contract.failures import Failures
    >>> frame = pd.DataFrame({"child_id": ["A", "A", "A", "B", "B", "B"], "age": ["7", "7", "7", "9", "10", "9"],
    ...                       "services": ["EP", "EP", "SALT", "EP", "EP", "EP"],
    ...                       "practitioner_name": ["Ann", "Ann", "Ann", "Ann", "Ann", "Bea"]})
    >>> failures = Failures()
    >>> ids = frame["child_id"]
    >>> _repeated_children(failures, "c.csv", np.arange(2, 8), ids, ids.duplicated().to_numpy(), frame)
    >>> for problem in failures.table()["problem"]: print(problem)
    duplicate child_id, first seen on row 2: the same row again
    child_id of row 2 again, with other services (a row per service?)
    duplicate child_id, first seen on row 5 (differs in age)
    child_id of row 5 again, with another practitioner (a row per practitioner?)
    """
    positions = np.flatnonzero(dup)
    first = pd.Series(np.arange(len(ids)), index=ids.to_numpy()).groupby(level=0).first()
    firsts = first[ids.to_numpy()[dup]].to_numpy()
    columns = np.asarray([c for c in frame.columns if c != "child_id"])

    def cells(at: np.ndarray) -> np.ndarray:
        return frame.iloc[at][list(columns)].astype(str).apply(lambda column: column.str.strip()).to_numpy()

    differs = cells(positions) != cells(firsts)
    services = columns == "services"
    practitioner = np.isin(columns, [*INLINE_CONTACT_COLUMNS, "lead_practitioner_id"])
    problems, fixes = [], []
    for row, changed in zip(rows[firsts], differs, strict=True):
        other_services, other_practitioner = bool(changed[services].any()), bool(changed[practitioner].any())
        if not changed.any():
            problems.append(f"duplicate child_id, first seen on row {row}: the same row again")
            fixes.append("Remove the repeated row.")
        elif not changed[~(services | practitioner)].any():
            said, needs = [], []
            if other_services:
                said.append("other services")
                needs.append("all its services in the one cell separated by ';' (e.g. EP;SALT)")
            if other_practitioner:
                said.append("another practitioner")
                needs.append("its lead practitioner")
            per = "service" if other_services else "practitioner"
            problems.append(f"child_id of row {row} again, with {' and '.join(said)} (a row per {per}?)")
            lose = ": removing the repeated row would lose its services." if other_services else "."
            fixes.append(f"Give each child one row, with {' and '.join(needs)}{lose}")
        else:
            named = ", ".join(columns[changed][:4]) + (", ..." if changed.sum() > 4 else "")
            problems.append(f"duplicate child_id, first seen on row {row} (differs in {named})")
            fixes.append("Each child appears once: if these are two children, correct one id; if one, keep the "
                         "row that is right and remove the other.")
    failures.add("error", file, rows[positions], "child_id", ids.to_numpy()[dup], problems, fixes)


def _check_age(failures: Failures, file: str, rows: np.ndarray, ages: pd.Series) -> pd.Series:
    text = ages.str.strip()
    # An age in a column formatted as dates shows as a day of January 1900 (8 as 08/01/1900, 0 as a
    # time): read as the number the cell holds, with a warning, since no child was born then.
    # Only the few cells that could be such a day are looked at closely (a pattern over every
    # cell of 60,000 took seconds).
    midnight = text.isin(["00:00:00", "0:00:00", "00:00"]).to_numpy()
    maybe = text.str.contains("1900", regex=False).to_numpy() | midnight
    if maybe.any():
        groups = text[maybe].str.extract(EXCEL_AGE_AS_DATE).to_numpy(dtype=object)
        days = [next((g for g in row if isinstance(g, str)), None) for row in groups]
        serial = np.array([None] * len(text), dtype=object)
        serial[maybe] = ["0" if at_midnight else day for day, at_midnight in zip(days, midnight[maybe], strict=True)]
        as_date = np.array([day is not None for day in serial])
        failures.add("warning", file, rows[as_date], "age", text.to_numpy()[as_date],
                     [f"age shows as a date: it is {int(n)} in a column formatted as dates, and is read as {int(n)}"
                      for n in serial[as_date]],
                     "Format the age column as Number in Excel, so that it shows the ages.")
        text = text.where(~as_date, pd.Series([str(int(n)) if n is not None else "" for n in serial],
                                              index=text.index))
    number = pd.to_numeric(text, errors="coerce")
    empty = (text == "").to_numpy()
    not_number = number.isna().to_numpy() & ~empty
    # A date (of birth, most likely: a list exported with dates where ages belong) gets its own
    # fix, which says how to turn it into an age.
    a_date = not_number & text.str.fullmatch(AGE_AS_DATE).fillna(False).to_numpy(dtype=bool)
    not_number &= ~a_date
    not_whole = ~number.isna().to_numpy() & (np.mod(number.fillna(0).to_numpy(), 1) != 0)
    out_of_range = ~number.isna().to_numpy() & ~not_whole & (
        (number.fillna(0).to_numpy() < MIN_AGE) | (number.fillna(0).to_numpy() > MAX_AGE))
    failures.add("error", file, rows[empty], "age", "", "age is empty",
                 "Give the age in whole years at the inspection date.")
    # Years written with their unit ('8 years', '8y 3m', '8 yrs'): the whole years it most likely
    # means, as a question (never read on a guess).
    years = text[not_number].str.extract(AGE_WITH_UNIT, expand=False).to_numpy()
    failures.add("error", file, rows[not_number], "age", text.to_numpy()[not_number], "age is not a number",
                 [f"Give the age in whole years, the number alone: did you mean {int(y)}?" if isinstance(y, str)
                  else "Give the age in whole years, e.g. 12." for y in years])
    failures.add("error", file, rows[a_date], "age", "",  # a date of birth is an identifier: never quoted
                 "age is a date (a date of birth?, not shown), not an age",
                 'Give the age in whole years at the inspection date, e.g. 12; in Excel, =DATEDIF(birth date, '
                 'inspection date, "y") works it out.')
    failures.add("error", file, rows[not_whole], "age", text.to_numpy()[not_whole],
                 "age is not a whole number of years", "Round down to whole years, e.g. 12.")
    failures.add("error", file, rows[out_of_range], "age", text.to_numpy()[out_of_range],
                 f"age is outside {MIN_AGE} to {MAX_AGE}",
                 "Check the age; the SEND caseload covers ages 0 to 25 only.")
    return number.fillna(-1).to_numpy().astype(int)


# An age with its unit: whole years first ('8 years', '8y 3m', '8 yrs 3 mths'), what follows ignored.
AGE_WITH_UNIT = r"^(\d{1,2})\s*(?:y|yr|yrs|year|years)\b"


def _age_bands(ages: pd.Series) -> np.ndarray:
    labels = np.full(len(ages), "", dtype=object)
    values = np.asarray(ages)
    for label, low, high in AGE_BANDS:
        labels[(values >= low) & (values <= high)] = label
    return labels


def _check_codes(failures: Failures, file: str, rows: np.ndarray, values: pd.Series,
                 column: str, codes: tuple[str, ...], required: bool,
                 likely_code: Callable[[str, str], str] | None = None) -> np.ndarray:
    text = values.str.strip()
    upper = text.str.upper()
    empty = (upper == "").to_numpy()
    if required:
        failures.add("error", file, rows[empty], column, "", f"{column} is empty",
                     f"Give one of: {' '.join(codes)}.")
    bad = ~upper.isin(codes).to_numpy() & ~empty
    listed = f"Use one of: {' '.join(codes)} (see the data contract in the README)."
    if bad.any():
        # What each wrong text most likely means (a long name, the census's letters, two needs in
        # one cell), said in the fix; never read as that, which the contract does not allow.
        hints = text[bad].map({value: _code_hint(column, value, codes, likely_code)
                               for value in text[bad].unique()}).to_numpy()
        for hint in dict.fromkeys(hints):
            these = np.flatnonzero(bad)[hints == hint]
            failures.add("error", file, rows[these], column, text.to_numpy()[these], f"not one of the {column} codes",
                         f"{hint} {listed}" if hint else listed)
    return upper.to_numpy()


def _code_hint(column: str, text: str, codes: tuple[str, ...], likely_code: Callable[[str, str], str] | None) -> str:
    """What a text that is no code most likely means, as the start of its fix ('' for nothing).

    >>> codes = ("ASD", "SLCN", "SEMH")
    >>> _code_hint("primary_need", "ASD / SLCN", codes, None)
    'One need per cell: ASD as primary_need and SLCN as secondary_need (the first written taken as the main one: check it).'
    >>> _code_hint("secondary_need", "semh; slcn", codes, None)
    'One need per cell: the list holds one secondary need per child, so keep SEMH or SLCN.'
    >>> _code_hint("primary_need", "ASD / ADHD", codes, None), _code_hint("primary_need", "Autism", codes, lambda c, t: "ASD")
    ('', 'Did you mean ASD?')
    >>> _code_hint("social_care", "CIN;CP", ("CIN", "CP"), None)
    'One status per cell: the one that says most, CP (a child looked after or on a plan is a child in need too).'
    """
    parts = [part.upper() for part in _TWO_IN_ONE.split(text.strip()) if part]  # ('ASD / SLCN': two codes)
    two_needs = len(parts) == 2 and all(part in codes for part in parts) and parts[0] != parts[1]
    if column == "primary_need" and two_needs:
        return (f"One need per cell: {parts[0]} as primary_need and {parts[1]} as secondary_need (the first "
                "written taken as the main one: check it).")
    if column == "secondary_need" and two_needs:
        return f"One need per cell: the list holds one secondary need per child, so keep {parts[0]} or {parts[1]}."
    if column == "social_care" and len(parts) > 1 and set(parts) <= set(_CARE_BY_LEVEL):
        most = min(parts, key=_CARE_BY_LEVEL.index)
        return (f"One status per cell: the one that says most, {most} (a child looked after or on a plan is a "
                "child in need too).")
    code = likely_code(column, text) if likely_code is not None else ""
    return f"Did you mean {code}?" if code else ""


# What joins two values written in one cell.
_TWO_IN_ONE = re.compile(r"\s*(?:/|;|,|&|\+|\band\b)\s*")
# Social care statuses from the most involvement to the least: a child on a child protection plan
# is a child in need too, and one looked after is known to both.
_CARE_BY_LEVEL = ("CLA", "CP", "CIN", "EARLY_HELP")


def _check_boolean(failures: Failures, file: str, rows: np.ndarray, values: pd.Series,
                   column: str) -> np.ndarray:
    text = values.astype(str).str.strip()
    lower = text.str.lower()
    truthy = lower.isin(TRUE_WORDS).to_numpy()
    bad = ~truthy & ~lower.isin(FALSE_WORDS).to_numpy()
    mark = bad & lower.isin(MARKS).to_numpy()  # a tick or a cross, as a paper list would be marked
    listed = "Use true/false, yes/no, y/n or 1/0 (empty means false)."
    # The column's own words ('Excluded', 'OOA', 'In area'): the value they most likely mean is
    # suggested, never read on a guess.
    meant = np.full(len(lower), "", dtype=object)
    if bad.any():  # (looked up for the few cells that are neither, not every row)
        meant[bad] = lower[bad].map(_BOOLEAN_WORDS[column]).fillna("").to_numpy(dtype=object)
    said = bad & ~mark & (meant != "")
    other = bad & ~mark & ~said
    failures.add("error", file, np.asarray(rows)[other], column, text.to_numpy()[other],
                 f"{column} is not true or false", listed)
    failures.add("error", file, np.asarray(rows)[mark], column, text.to_numpy()[mark],
                 f"{column} is not true or false", f"Did you mean true (a mark)? {listed}")
    for value in ("true", "false"):
        these = said & (meant == value)
        failures.add("error", file, np.asarray(rows)[these], column, text.to_numpy()[these],
                     f"{column} is not true or false", f"Did you mean {value}? {listed}")
    return truthy


# What a true/false column says, in words ("... where the child is to be left out").
BOOLEAN_MEANING = {"exclude": "to be left out of the choice", "out_of_area": "placed out of the area"}
# A yes/no column's own words for its values, for the one they most likely mean.
_BOOLEAN_WORDS = {
    "exclude": {**dict.fromkeys(("excluded", "exclude", "excl", "exclude from selection", "do not select"), "true"),
                **dict.fromkeys(("included", "include", "incl", "eligible"), "false")},
    "out_of_area": {**dict.fromkeys(("ooa", "out of area", "out-of-area", "out of county", "out of borough",
                                     "out of authority", "placed out of area", "oola"), "true"),
                    **dict.fromkeys(("in area", "in-area", "in county", "in borough", "local", "within area"),
                                    "false")},
}


# Marks an analyst may put in a yes/no column instead of a word.
MARKS = frozenset({"x", "\u2713", "\u2714", "\u2611", "\u2612", "tick", "ticked", "*"})


def _check_service_separators(failures: Failures, file: str, rows: np.ndarray, values: pd.Series,
                              read: pd.Series) -> None:
    """A warning for each cell of services separated otherwise than by `;` (a comma, a bar, a line
    break from Alt+Enter): it is read as one service of that name, which no other child shares,
    so the cohort's count of services would be wrong."""
    other = values.str.contains(r"[,|\n\r]", regex=True).fillna(False).to_numpy(dtype=bool)
    failures.add("warning", file, rows[other], "services", values.to_numpy()[other],
                 [_read_as(str(r).split(";")) for r in np.asarray(read)[other]],
                 "Separate the services with ';' (SALT;OT), so that each counts as the service it is.")


def _warn_service_names(failures: Failures, file: str, rows: np.ndarray, counts: Counter[str],
                        first_position: dict[str, int]) -> None:
    """One warning per well-known service written under two or more of its names in the file
    (`SERVICE_NAMES`): each name counts as a service, so a cohort holding both is credited with
    one service too many. At the first row of every name but the most used (`_service_counts`)."""
    for short, long_names in SERVICE_NAMES.items():
        names = [n for n in (short, *long_names) if n in counts]
        if len(names) < 2:
            continue
        names.sort(key=lambda n: (-counts[n], n != short, n))  # the most used; on a tie, the short name
        kept = names[0]
        for other in names[1:]:
            failures.add("warning", file, rows[first_position[other]], "services", other,
                         f"looks like '{kept}' ({_rows_count(counts[kept])}) written another way "
                         f"({_rows_count(counts[other])}): they count as two services",
                         f"Write one name for it throughout (e.g. '{kept}'), unless they are different services.")


# Between two services a person may write a slash, a plus, an ampersand or "and" (read as one name).
_JOINED = re.compile(r"_?[/+&]_?|_AND_")


def _warn_joined_services(failures: Failures, file: str, rows: np.ndarray, values: pd.Series, read: pd.Series,
                          counts: Counter[str]) -> None:
    """A warning for each cell naming two services joined otherwise than by `;` (`EP/SALT`, `EP and
    SALT`) when each is a service of other rows: it is read as one service of that name, so the
    cohort's count of services would be wrong. (`Speech and language therapy` is one name: its parts
    are no services of the file.)"""
    joined = {name: parts for name in counts if len(parts := [p for p in _JOINED.split(name) if p]) > 1
              and all(part in counts for part in parts)}
    if not joined:
        return
    codes, lists = pd.factorize(pd.Series(np.asarray(read, dtype=object)), sort=False)  # each distinct list once
    said_of_list = [next((_read_as_joined(name, joined[name]) for name in str(text).split(";") if name in joined), "")
                    for text in lists] + [""]
    said = np.asarray(said_of_list, dtype=object)[codes]
    held = said != ""
    failures.add("warning", file, rows[held], "services", values.to_numpy()[held], list(said[held]),
                 "Separate the services with ';' (SALT;OT), so that each counts as the service it is.")


def _read_as_joined(name: str, parts: list[str]) -> str:
    return (f"is read as the one service {name!r}, while {listed(parts, 'and')} are each a service of other rows: "
            "services are separated by ';' only")


def _service_counts(services: pd.Series) -> tuple[Counter[str], dict[str, int]]:
    """How many rows name each service, and the position of the first that does."""
    # Few distinct lists exist: count each name over them, weighted by the rows holding each list.
    codes, lists = pd.factorize(pd.Series(np.asarray(services, dtype=object)), sort=False)
    rows_per_list = np.bincount(codes[codes >= 0], minlength=len(lists))
    first_of_list = pd.Series(np.arange(len(codes)))[codes >= 0].groupby(codes[codes >= 0]).first()
    counts: Counter[str] = Counter()
    first_position: dict[str, int] = {}
    for number, text in enumerate(lists):
        for name in str(text).split(";"):
            if name:
                counts[name] += int(rows_per_list[number])
                first_position.setdefault(name, int(first_of_list[number]))  # lists are numbered by first row
    return counts, first_position


def _value_counts(values: object) -> tuple[dict[str, int], dict[str, int]]:
    """How many rows hold each (non-empty) value of a one-valued column, and the first that does."""
    read = pd.Series(np.asarray(values, dtype=object)).astype(str)
    read = read[read != ""]
    return read.value_counts().to_dict(), {value: int(p) for p, value in read.drop_duplicates().items()}


# A value written by at most this share of the rows of one a letter away looks like its typo.
TYPO_SHARE = 0.2


def _warn_likely_typos(failures: Failures, file: str, rows: np.ndarray, column: str, plural: str,
                       counts: Mapping[str, int], first_position: dict[str, int]) -> None:
    """A warning for each value one letter away (wrong, missing, extra, or two swapped) from a
    value at least five times as common (`Westmor` beside `Westmoor`, `CAHMS` beside `CAMHS`):
    likely a typo, which counts as one more value. Nothing is changed: it may be another place."""
    names = sorted(counts, key=lambda n: (-counts[n], n))
    for rare in names:
        if len(match_key(rare)) < 4:
            continue  # short codes (OT, EP) are a letter apart by nature
        common = next((n for n in names if counts[rare] <= TYPO_SHARE * counts[n]
                       and _one_letter_apart(match_key(rare), match_key(n))), None)
        if common is not None:
            failures.add("warning", file, rows[first_position[rare]], column, rare,
                         f"is one letter away from '{common}' ({_rows_count(counts[common])}), so likely a typo "
                         f"({_rows_count(counts[rare])}): they count as two {plural}",
                         f"If it is '{common}', correct it; if not, nothing to do.")


def _one_letter_apart(a: str, b: str) -> bool:
    """Whether one edit (a letter changed, added or dropped, or two neighbours swapped) turns a
    into b.

    >>> _one_letter_apart("westmor", "westmoor"), _one_letter_apart("cahms", "camhs"), _one_letter_apart("ab", "ba")
    (True, True, True)
    >>> _one_letter_apart("eastbrook", "westbrook"), _one_letter_apart("same", "same")
    (False, False)
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[start:] == b[start + 1:]
    return a[start + 1:] == b[start + 1:] or (a[start + 2:] == b[start + 2:]
                                                and a[start:start + 2] == b[start:start + 2][::-1])


def _rows_count(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _read_as(services: list[str]) -> str:
    if len(services) == 1:
        return f"is read as the one service {services[0]!r}: services are separated by ';' only"
    return f"is read as the services {listed([repr(n) for n in services], 'and')}: services are separated by ';' only"


def _normalise_services(values: pd.Series) -> np.ndarray:
    """`;`-separated services as a sorted, de-duplicated list of codes (free vocabulary): upper
    case, words joined by `_`, full stops and apostrophes dropped."""
    def tidy(text: str) -> str:
        # Spelled as a code: `Short breaks`, `SHORT-BREAKS` and `short_breaks` are one service.
        names = {match_key(part).upper().replace(" ", "_") for part in text.split(";")}
        names.discard("")
        return ";".join(sorted(names))

    # Few distinct service lists exist: tidy each distinct one once.
    codes, uniques = pd.factorize(values, sort=False)
    tidied = np.array([tidy(str(u)) for u in uniques] + [""], dtype=object)
    return tidied[codes]


def _attach_contacts(failures: Failures, raw: RawTable, out: pd.DataFrame, frame: pd.DataFrame,
                     contacts: RawTable | None) -> pd.DataFrame:
    """Fill the lead contact columns and `practitioner_key`; return every contact per child."""
    n = len(out)
    lead_id = out["lead_practitioner_id"] if "lead_practitioner_id" in out else pd.Series([""] * n)
    columns = {c: np.full(n, "", dtype=object) for c in CONTACT_COLUMNS}
    all_contacts = pd.DataFrame(columns=["child_id", "lead", *CONTACT_FIELDS])

    if contacts is None:
        for inline, field_name in INLINE_CONTACT_COLUMNS.items():
            if inline in frame.columns:
                columns[f"contact_{field_name}"] = frame[inline].str.strip().to_numpy()
        for field_name in ("email", "phone"):
            columns[f"contact_{field_name}"] = _usable(failures, raw.name, out["row"].to_numpy(),
                                                       columns[f"contact_{field_name}"], field_name,
                                                       f"practitioner_{field_name}")
    else:
        table = _check_contacts_table(failures, contacts)
        if table is not None:
            if "practitioner_id" in table.columns and "lead_practitioner_id" in out:
                by_id = table.drop_duplicates("practitioner_id").set_index("practitioner_id")
                # One hash lookup per child, shared by every contact field (not one per field).
                found = by_id.index.get_indexer(lead_id.to_numpy(dtype=object))
                unknown = (found < 0) & (lead_id != "").to_numpy()
                # An id the contacts write in another case, or without the leading zeros a
                # spreadsheet drops, is named (ids match exactly: the practitioner is also who the
                # spread rule keeps apart, and a near match may be someone else).
                loose = {_loose_id(i): str(i) for i in by_id.index}
                failures.add("warning", raw.name, out.loc[unknown, "row"], "lead_practitioner_id",
                             lead_id[unknown],
                             [f"practitioner not found in {contacts.name}" + _near_id(str(i), loose)
                              for i in lead_id[unknown]],
                             f"Add the practitioner to {contacts.name} or correct the id.")
                for field_name in CONTACT_FIELDS:
                    columns[f"contact_{field_name}"] = _taken(by_id[field_name], found)
            elif "child_id" in table.columns:
                # The first row is the lead; when it gives no way to reach them (no e-mail or
                # phone), the call goes to the first contact listed who can be reached, who
                # knows the child too: the child is not left without a contact.
                reachable = ((table["name"] != "") & ((table["email"] != "") | (table["phone"] != ""))).to_numpy()
                ordered = table.iloc[np.argsort(~reachable, kind="stable")]
                first = ordered.drop_duplicates("child_id").set_index("child_id")
                ids = out["child_id"]
                found = first.index.get_indexer(ids.to_numpy(dtype=object))
                for field_name in CONTACT_FIELDS:
                    columns[f"contact_{field_name}"] = _taken(first[field_name], found)
                _warn_lead_unreachable(failures, contacts.name, table, reachable, first)
                unknown = ~table["child_id"].isin(ids).to_numpy()
                loose = {_loose_id(i): str(i) for i in ids} if unknown.any() else {}
                failures.add("warning", contacts.name, table.loc[unknown, "_row"], "child_id",
                             table.loc[unknown, "child_id"],
                             [f"child_id is not in the caseload{_near_id(str(i), loose)}"
                              for i in table.loc[unknown, "child_id"]],
                             "Remove the row or correct the id; it is ignored.")
                known = table.loc[~unknown]
                all_contacts = known.assign(
                    lead=~known["child_id"].duplicated(keep="first")
                )[["child_id", "lead", *CONTACT_FIELDS]].reset_index(drop=True)
            else:
                left_out = tuple(raw.header.get(c, c) for c in raw.frame.columns if c not in frame.columns)
                failures.add("error", contacts.name, 1, "practitioner_id", "",
                             "contacts are keyed by practitioner_id but the caseload has no "
                             "lead_practitioner_id column",
                             _or_add(_rename_hint(raw.name, "lead_practitioner_id", left_out),
                                     f"lead_practitioner_id to {raw.name}, or key contacts by child_id."))
    for name, values in columns.items():
        out[name] = values
    if all_contacts.empty:
        lead = out[["child_id", *CONTACT_COLUMNS]].rename(
            columns=dict(zip(CONTACT_COLUMNS, CONTACT_FIELDS, strict=True)))
        all_contacts = lead.assign(lead=True)[["child_id", "lead", *CONTACT_FIELDS]]
    # Who the lead practitioner is, for "no two share a practitioner": the id when given,
    # otherwise the contact's e-mail, otherwise name and organisation.
    lead = pd.Series(lead_id.to_numpy(), index=out.index, dtype="str")
    email = out["contact_email"].astype("str").str.lower()
    name = out["contact_name"].astype("str")
    name_org = name.str.lower() + "|" + out["contact_organisation"].astype("str").str.lower()
    by_name = ("name:" + name_org).where(name != "", "")
    by_email = ("email:" + email).where(email != "", by_name)
    out["practitioner_key"] = ("id:" + lead).where(lead != "", by_email).array
    return all_contacts


def _warn_lead_unreachable(failures: Failures, file: str, table: pd.DataFrame, reachable: np.ndarray,
                           called: pd.DataFrame) -> None:
    """A warning on each lead contact (a child's first row) who cannot be reached while another of
    the child's contacts can: that one is called instead."""
    lead = ~table["child_id"].duplicated(keep="first").to_numpy()
    instead = table["child_id"].map(called["_row"]).to_numpy() != table["_row"].to_numpy()
    passed_over = lead & ~reachable & instead
    failures.add("warning", file, table.loc[passed_over, "_row"], "child_id", table.loc[passed_over, "child_id"],
                 "the child's first contact (the lead) has no e-mail or phone: the next contact listed who has one "
                 "is the one to call", "Add the lead's e-mail or phone if they should make the call.")


def _refuse_postcodes(failures: Failures, file: str, rows: np.ndarray, out: pd.DataFrame) -> None:
    """An error, the value not shown, on each locality that is a full postcode (a home's, most
    likely): the locality is written in every output, and a full postcode points at a few homes.
    The locality is then left empty, so the postcode reaches nothing."""
    postcode = pd.Series(out["locality"]).astype(str).str.strip().str.match(FULL_POSTCODE).to_numpy(dtype=bool)
    if postcode.any():
        failures.add("error", file, rows[postcode], "locality", "", "locality looks like a full postcode (not shown)",
                     "Give the locality's name, or the postcode district alone (e.g. NE1): a full postcode points at "
                     "a few homes, and the locality is written in every output.")
        out["locality"] = np.where(postcode, "", out["locality"])


def _loose_id(value: object) -> str:
    """An id as two files may both mean it: case folded, and leading zeros dropped before a digit.

    >>> _loose_id("P00262"), _loose_id("000262"), _loose_id("0")
    ('p00262', '262', '0')
    """
    return re.sub(r"^0+(?=\d)", "", str(value).casefold())


def _near_id(written: str, loose: dict[str, str]) -> str:
    """The contacts' id that `written` nearly is, and how they differ ('' for none).

    >>> _near_id("P00262;P00001", {"p00262": "P00262"})
    " (the cell holds 2 ids, and 'P00262' is there: give one id alone)"
    >>> _near_id("000262", {"262": "262"}), _near_id("p1", {"p1": "P1"})
    (" (it has '262': ids are matched exactly, leading zeros included; a spreadsheet drops them from ids that look like numbers: keep the column as text)", " (it has 'P1': ids are matched exactly, case included)")
    """
    near = loose.get(_loose_id(written))
    if near is None:
        # Two or more ids in the cell ('P00262;P00001'): the lead is one practitioner.
        parts = [part.strip() for part in re.split(r"[;,/|&+]| and ", written) if part.strip()]
        held = [loose[_loose_id(part)] for part in parts if _loose_id(part) in loose] if len(parts) > 1 else []
        return (f" (the cell holds {len(parts)} ids, and {listed([repr(h) for h in held], 'and')} "
                f"{'is' if len(held) == 1 else 'are'} there: give one id alone)" if held else "")
    how = ("case included" if near.casefold() == written.casefold() else
           "leading zeros included; a spreadsheet drops them from ids that look like numbers: keep the column as text")
    return f" (it has {near!r}: ids are matched exactly, {how})"


EMAIL = r"^[^@]+@[^@]+\.[^@]+$"  # something @ a domain with a dot: no more is asked of an address


def _usable(failures: Failures, file: str, rows: np.ndarray, values: np.ndarray, field_name: str,
            column: str) -> np.ndarray:
    """A contact column with what cannot reach anyone left out, each with a warning: an e-mail
    that is no address, a phone with no digit ('n/a', 'tbc', 'unknown'). A practitioner with
    neither left is no contact, so the child is not chosen unless children without one are
    allowed: the consent call could not be made."""
    text = pd.Series(values, dtype=object).fillna("").astype(str)
    given = text != ""
    ok = text.str.match(EMAIL) if field_name == "email" else text.str.contains(r"\d")
    bad = (given & ~ok).to_numpy()
    what = "not an e-mail address" if field_name == "email" else "not a phone number (no digit)"
    failures.add("warning", file, rows[bad], column, text[bad].to_numpy(),
                 f"{what}; left out (a practitioner with no e-mail or phone left cannot be called)",
                 f"Give the practitioner's {'e-mail address' if field_name == 'email' else 'phone number'}, or "
                 "leave the cell empty.")
    if field_name == "phone":
        # 01632 960001 read as the number 1632960001: said once, for the whole column.
        dropped = np.flatnonzero((given & text.str.replace(" ", "").str.fullmatch(r"[1-9]\d{9}")).to_numpy())
        if len(dropped):
            failures.add("warning", file, rows[dropped[0]], column, text.iloc[dropped[0]],
                         "phone number of 10 digits and no leading 0 (a UK number has 11, from 0); "
                         f"{_rows_count(len(dropped))} from here have one: a spreadsheet drops the 0 of a number it "
                         "reads as a number",
                         "Export the phone column as text (e.g. 01632 960001); the numbers are kept as given.")
        text = spaced_phone_numbers(text)
    return text.where(~bad, "").to_numpy(dtype=object)


# A UK number written as digits alone, by its area code's length (Ofcom's usual grouping):
# London and the other 02 codes 3-4-4; 011x, 01x1 and the 03, 05, 08 and 09 ranges 4-3-4; the
# rest, mobiles and most 01 codes, 5-6.
_UK_GROUPS = ((r"(02\d)(\d{4})(\d{4})", r"\1 \2 \3"), (r"(011\d|01\d1|0[3589]\d\d)(\d{3})(\d{4})", r"\1 \2 \3"),
              (r"(0\d{4})(\d{6})", r"\1 \2"))


def spaced_phone_numbers(phones: pd.Series) -> pd.Series:
    """UK phone numbers written as digits alone (01632960001, +447700900123), spaced as they are
    usually written in the UK, where the calls are made (07700 900123); every other value as
    given. Excel opening contacts.csv reads 01632960001 as the number 1632960001 (and
    +447700900123 as 447700900123), and the call cannot be made; a number with a space it keeps.

    >>> spaced_phone_numbers(pd.Series(["02079460000", "01134960000", "07700900123", "+447700900123",
    ...                                 "01632 960001", "ext 12", ""])).tolist()
    ['020 7946 0000', '0113 496 0000', '07700 900123', '07700 900123', '01632 960001', 'ext 12', '']
    """
    bare = phones.str.fullmatch(r"(\+44|0)\d{10}").fillna(False).to_numpy(dtype=bool)
    if not bare.any():
        return phones
    national = phones[bare].str.replace(r"^\+44", "0", regex=True)
    spaced = national.copy()
    done = pd.Series(False, index=national.index)
    for pattern, groups in _UK_GROUPS:
        fits = ~done & national.str.fullmatch(pattern)
        spaced[fits] = national[fits].str.replace(pattern, groups, regex=True)
        done |= fits
    return phones.where(~bare, spaced.reindex(phones.index))


def _taken(values: pd.Series, positions: np.ndarray) -> Any:
    """values[positions] as text, "" where a position is -1 (not found), without leaving pandas'
    own string arrays (a million Python strings would be made and converted back)."""
    return values.array.take(positions, allow_fill=True, fill_value="")


def _refuse_contacts_as_caseload(failures: Failures, raw: RawTable) -> None:
    """The contacts file given as the caseload: one error saying so (not five columns missing, and
    its names and e-mails said as a child's identifiers left out)."""
    present = {normalise_column(column) for column in raw.frame.columns}
    if present & set(_CASELOAD_ONLY) or "name" not in present or not present & {"email", "phone"}:
        return
    failures.add("error", raw.name, 1, "", "", "the file holds practitioners' contacts (name, email, phone), not the "
                 "caseload", f"Give the caseload ({', '.join(REQUIRED_COLUMNS)} and the rest) as the caseload, and "
                 "this file as the contacts.")
    _raise_if_errors(failures, raw.name)


# The caseload's own columns, which a contacts file never has (child_id may key contacts).
_CASELOAD_ONLY = tuple(column for column in REQUIRED_COLUMNS if column != "child_id")


def _check_contacts_table(failures: Failures, contacts: RawTable) -> pd.DataFrame | None:
    frame = contacts.frame
    file = contacts.name
    held = [column for column in _CASELOAD_ONLY if column in frame.columns]
    if len(held) >= 2 and "name" not in frame.columns:
        # The caseload given as the contacts: one error saying so, not the contact columns missing.
        failures.add("error", file, 1, "", "", f"the file holds the caseload's columns ({', '.join(held)}), not "
                     "practitioners' contacts", "Give the contacts file (name, role, organisation, email, phone, by "
                     "practitioner_id or child_id) as the contacts, and the caseload as the caseload.")
        return None
    _note_warnings(failures, contacts, CONTACTS_FILE_COLUMNS)
    # The contacts' other columns are never read: said by header, as the caseload's are.
    unread = tuple(contacts.header.get(c, c) for c in frame.columns if c not in CONTACTS_FILE_COLUMNS)
    if unread:
        failures.add("warning", file, 1, ", ".join(unread), "",
                     "column(s) the contacts file does not use are left out; they are never written",
                     "Nothing to do, unless one of them is a contact's name, role, organisation, email or phone "
                     "under another header: then rename it so.")
    ok = True
    if "practitioner_id" not in frame.columns and "child_id" not in frame.columns:
        failures.add("error", file, 1, "practitioner_id", "",
                     "contacts need a practitioner_id or a child_id column",
                     _or_add(_rename_hint(file, "practitioner_id", unread, identifiers=True),
                             "practitioner_id (matched to the caseload's lead_practitioner_id) or child_id."))
        ok = False
    if "name" not in frame.columns:
        failures.add("error", file, 1, "name", "", "required column is missing",
                     _or_add(_rename_hint(file, "name", unread, identifiers=True),
                             "a column 'name' with the practitioner's name."))
        ok = False
    if "email" not in frame.columns and "phone" not in frame.columns:
        hints = " ".join(hint for column in ("email", "phone")
                         if (hint := _rename_hint(file, column, unread, identifiers=True)))
        failures.add("error", file, 1, "email", "", "contacts need an email or a phone column",
                     _or_add(hints, "'email' and/or 'phone' so the practitioner can be reached."))
        ok = False
    if not ok:
        return None
    table = pd.DataFrame({"_row": contacts.row_numbers})
    for column in (*CONTACT_FIELDS, "practitioner_id", "child_id"):
        if column in frame.columns:
            table[column] = frame[column].str.strip().to_numpy()
        elif column in CONTACT_FIELDS:
            table[column] = ""
    for field_name in ("email", "phone"):
        table[field_name] = _usable(failures, file, contacts.row_numbers, table[field_name].to_numpy(), field_name,
                                    field_name)
    if "practitioner_id" in frame.columns:  # matched to the caseload's lead_practitioner_id, read alike
        ids, changed = whole_ids(frame["practitioner_id"])
        table["practitioner_id"] = ids.to_numpy()
        _warn_decimal_ids(failures, file, contacts.row_numbers, frame["practitioner_id"], ids, changed,
                          "practitioner_id")
    key = "practitioner_id" if "practitioner_id" in table.columns else "child_id"
    empty = (table[key] == "").to_numpy()
    failures.add("error", file, table.loc[empty, "_row"], key, "", f"{key} is empty",
                 "Give every contact row the id it belongs to.")
    if key == "practitioner_id":
        # A row repeated whole (an export joined twice) says nothing new: read once, with a warning.
        # The same id with other details is an error: which of them to call is not known.
        fields = [c for c in table.columns if c != "_row"]
        repeated = table.duplicated(subset=fields, keep="first").to_numpy() & ~empty
        first_row = table.groupby(key)["_row"].transform("first")
        failures.add("warning", file, table.loc[repeated, "_row"], key, table.loc[repeated, key],
                     "the practitioner's row is repeated", "Nothing to do: it is read once (remove the repeat "
                     "to silence this).")
        dup = table[key].duplicated(keep="first").to_numpy() & ~empty & ~repeated
        failures.add("error", file, table.loc[dup, "_row"], key, table.loc[dup, key],
                     [f"duplicate practitioner_id with other details (first on row {r})"
                      for r in first_row[dup]], "List each practitioner once, with the details to use.")
        return table.loc[~empty & ~repeated]
    return table.loc[~empty]


def with_warnings(caseload: Caseload, earlier: pd.DataFrame | None) -> Caseload:
    """The caseload with warnings found before validation (reading Annex A) put first."""
    if earlier is None or not len(earlier):
        return caseload
    return replace(caseload, warnings=pd.concat([earlier, caseload.warnings], ignore_index=True))
