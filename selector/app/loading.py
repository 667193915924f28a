"""Reading a caseload and what it offers: the sources of a run, loading and validating them,
the rules asked for, the profile, and the failures table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..contract.cells import column_values
from ..contract.columns import normalise_column
from ..contract.errors import (
    CaseloadValidationError,
    InfeasibleSelectionError,
    InputError,
    RulesError,
    cohort_too_large,
)
from ..contract.rules import DEFAULT_RULES, Rules
from ..io.caseload import contacts_sheet_in, read_caseload_table, read_contacts_table
from ..io.folders import is_failures_table, write_file
from ..io.options import ReadOptions
from ..io.rules_toml import load_rules, rules_to_toml
from ..io.tables import frame_to_csv_bytes
from ..report.profile import profile_html
from ..solve.profile import RuleRoom, dimension_counts, rule_room
from ..validate import Caseload, contact_summary, validate, with_warnings

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Sources:
    """Where a caseload comes from and how to read it.

    Attributes:
        caseload: a caseload file (contract columns, an Annex A list or workbook, a SEN2 XML), or
            None when the options name the lists or a SEN2 return.
        contacts: the practitioners' contacts file, or None (inline columns serve).
        sheet: the XLSX sheet to read (default the first).
        options: the Annex A lists, the mapping, the AP URNs, the date ages are taken at, the
            establishments extract and the SEN2 return (see `ReadOptions`).
        allow_missing_contact: children without a contact stay eligible.
        keep_columns: columns outside the contract kept in the outputs, by header.
        uploaded: the files were uploaded to the web page: the run record keeps their names, not
            where the page kept them.
    """

    caseload: Path | None = None
    contacts: Path | None = None
    sheet: str | None = None
    options: ReadOptions = field(default_factory=ReadOptions)
    allow_missing_contact: bool = False
    keep_columns: tuple[str, ...] = ()
    uploaded: bool = False

    def __post_init__(self) -> None:
        o = self.options
        if self.caseload is None and not (o.list1 or o.list2 or o.sen2):
            raise InputError("give a caseload file, the Annex A lists (List 1 and/or List 2) or a SEN2 return.",
                             "no_caseload")

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file read: no output may be, or hold, one of them."""
        return tuple(p for p in (self.caseload, self.contacts, *self.options.files) if p is not None)


def inputs_of(sources: Sources, rules_file: Path | None) -> tuple[Path, ...]:
    """Every file a run reads: no output may be, or hold, one of them."""
    return (*sources.paths, *((rules_file,) if rules_file else ()))


@dataclass(frozen=True)
class Profile:
    """What a caseload offers: counts per value of each dimension, and each hard rule's room."""

    caseload: Caseload
    rules: Rules
    counts: dict[str, pd.Series]
    rooms: list[RuleRoom]


def load(sources: Sources) -> Caseload:
    """Read and validate a caseload (contract columns, or the Annex A lists) and its contacts.

    Raises:
        InputError: a file cannot be read.
        CaseloadValidationError: the data break the contract (every failure in `.failures`).
    """
    table = read_caseload_table(sources.caseload, sources.sheet, sources.options)
    contacts = read_contacts_table(sources.contacts) if sources.contacts is not None else None
    try:
        caseload = validate(table.raw, contacts, allow_missing_contact=sources.allow_missing_contact,
                            keep_columns=sources.keep_columns, likely_code=_likely_code)
    except CaseloadValidationError as error:
        # What reading found (a URN the extract lacks, an Annex A value mapped) often explains an error.
        if table.warnings is not None and len(table.warnings):
            error.failures = pd.concat([table.warnings, error.failures], ignore_index=True)
        raise
    if sources.contacts is None and "no contact file" in caseload.held_back:
        # Only when no child can be chosen for want of contacts: the workbook is opened again.
        sheet = contacts_sheet_in(sources.caseload)
        if sheet is not None and sources.caseload is not None:
            held_back = (f"{caseload.held_back}; the workbook's sheet '{sheet}' holds practitioners' contacts, read "
                         f"when {sources.caseload.name} is given as the contacts file too")
            # Said where the reason is: the error, the summary, and the warning that names it (the page's too).
            problems = caseload.warnings["problem"].str.replace(caseload.held_back, held_back, regex=False)
            caseload = replace(caseload, held_back=held_back, warnings=caseload.warnings.assign(problem=problems))
    return replace(with_warnings(caseload, table.warnings), as_of=table.as_of)


def _likely_code(column: str, text: str) -> str:
    """The code a wrong text most likely means, for the fix (io/mapping.py's tables: read only
    when some code is wrong)."""
    from ..io.mapping import likely_code

    return likely_code(column, text)


def describe(caseload: Caseload) -> str:
    """One line: rows read, eligible, excluded, without a contact; and a second naming the columns
    outside the contract kept because the user asked, when there are any."""
    frame = caseload.frame
    line = (f"{caseload.source}: {len(frame)} rows read, {int(frame['eligible'].sum())} eligible "
            f"({contact_summary(frame)})")
    if caseload.kept_columns:
        line += "\nKept outside the data contract, as you asked: " + ", ".join(caseload.kept_columns)
    return line


def defaults_left_out_said(rules_file: Path | None, rules: Rules) -> str:
    """The note a run from a rules file gives when the file left default rules with nothing in
    their place ('' for none): written to add one rule, a file's [[count]] replaces the default
    ones whole."""
    left_out = rules.defaults_left_out() if rules_file is not None else ()
    if rules_file is None or not left_out:
        return ""
    return (f"Note: {rules_file.name} gives its own rules in place of the defaults, and none for these, which were "
            f"not applied: {'; '.join(left_out)} (`selector default-rules` prints the defaults, to copy those to "
            "keep).")


def read_rules(rules_file: Path | None = None, size: int | None = None, caseload: Caseload | None = None) -> Rules:
    """The rules a run asks for: a file's, or the defaults, with any size override. Given the
    caseload, every column a rule names is checked against it, with the file's other problems."""
    if rules_file is None:
        rules = DEFAULT_RULES
    elif caseload is None:
        rules = load_rules(rules_file, likely_code=_likely_code)
    else:
        frame = caseload.frame
        try:
            rules = load_rules(rules_file, tuple(frame.columns),
                               lambda column: {v for held in column_values(frame[column], column) for v in held},
                               _likely_code)
        except RulesError as error:
            raise _with_left_out_hint(error, caseload) from None
    return rules.with_size(size) if size is not None else rules


def _with_left_out_hint(error: RulesError, caseload: Caseload) -> RulesError:
    """A rule naming a column the caseload had but minimisation left out: say how to keep it."""
    said = " ".join(error.problems)
    named = [h for h in caseload.left_out_columns if f"no column '{normalise_column(h)}'" in said]
    if not named:
        return error
    return RulesError(error.message, error.code, problems=error.problems, where=error.where,
                      fix=f"Columns outside the data contract are left out when the caseload is read; to use "
                          f"{', '.join(named)} in a rule, name it as a column to keep.")


def default_rules_toml() -> str:
    """The default rules written out as a commented TOML file."""
    return rules_to_toml(DEFAULT_RULES)


def profile_of(caseload: Caseload, rules: Rules) -> Profile:
    """What the eligible children offer on each dimension, and the room for each hard rule."""
    return Profile(caseload, rules, dimension_counts(caseload.frame, rules), rule_room(caseload.frame, rules))


def profile(sources: Sources, rules_file: Path | None = None) -> Profile:
    """Load a caseload and profile it under the rules."""
    caseload = load(sources)
    return profile_of(caseload, read_rules(rules_file, caseload=caseload))


def write_profile_page(result: Profile, path: Path, force: bool, sources: Sources | None = None) -> None:
    """The profile as a self-contained HTML page (over an existing file only with `force`, never
    over an input)."""
    page = profile_html(result.caseload.frame, result.rules, result.caseload.source).encode()
    write_file(path, page, sources.paths if sources else (), replaceable=force)


def write_failures(path: Path, failures: pd.DataFrame, sources: Sources | None = None) -> None:
    """The full failures table for a spreadsheet, as a workbook when the name ends .xlsx (Excel
    refuses CSV text under that name) and as CSV otherwise: never over an input, and over an
    existing file only when it is an earlier failures table."""
    if Path(path).suffix.lower() == ".xlsx":
        from ..report.xlsx import xlsx_bytes  # openpyxl, only when a workbook is asked for

        content = xlsx_bytes({"Problems": failures})
    else:
        content = frame_to_csv_bytes(failures)
    write_file(path, content, sources.paths if sources else (), replaceable=is_failures_table(path))


def too_few(caseload: Caseload, rules: Rules) -> InfeasibleSelectionError | None:
    """What choosing says when fewer children can be chosen than the cohort needs, and why (None
    when enough can be): `profile` says it too, before anyone tries."""
    eligible = int(caseload.frame["eligible"].sum())
    if eligible >= rules.size:
        return None
    no_contacts = "no contact file" in caseload.held_back
    said = (f"a cohort of {rules.size} cannot be chosen: only {eligible} {'child' if eligible == 1 else 'children'} "
            f"can be chosen ({caseload.held_back or 'the caseload is that small'}).")
    if no_contacts:
        return InfeasibleSelectionError(said, ("cohort size",), code="no_contacts",
                                        fix="Give the practitioners' contacts file.")
    return cohort_too_large(said, eligible, bool(caseload.held_back))
