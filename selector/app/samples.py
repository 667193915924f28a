"""Synthetic data: a caseload shaped like an English area, or Annex A lists, written to files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..contract.errors import InputError
from ..io.sample import annex_a_lists, establishments_extract, generate, inline_contacts
from ..io.tables import write_table


def write_sample(rows: int, seed: int, out: Path, contacts_out: Path | None, area: str, force: bool) -> tuple[int, int]:
    """A synthetic caseload (and contacts) written to files; returns (children, practitioners)."""
    _refuse_existing([p for p in (out, contacts_out) if p is not None], force)
    caseload, contacts = generate(rows, seed, area=area)
    if contacts_out is None:
        caseload = inline_contacts(caseload, contacts)
    write_table(caseload, out)
    if contacts_out is not None:
        write_table(contacts, contacts_out)
    return len(caseload), len(contacts)


def write_annex_sample(rows: int, seed: int, area: str, folder: Path, force: bool) -> tuple[int, int]:
    """Synthetic Annex A lists (CSV each, and one workbook); returns (List 1 rows, List 2 rows)."""
    names = ["list1.csv", "list2.csv", "contacts.csv", "annex_a.xlsx", "establishments.csv"]
    _refuse_existing([folder / n for n in names], force)
    list1, list2, contacts = annex_a_lists(rows, seed, area)
    # The settings' URNs in the Get Information About Schools format (Windows-1252, as GIAS writes).
    folder.mkdir(parents=True, exist_ok=True)
    establishments_extract(rows, seed, area).to_csv(folder / "establishments.csv", index=False, encoding="cp1252")
    write_table(list1, folder / "list1.csv")
    write_table(list2, folder / "list2.csv")
    write_table(contacts, folder / "contacts.csv")
    with pd.ExcelWriter(folder / "annex_a.xlsx") as writer:
        list1.astype(str).to_excel(writer, sheet_name="List_1", index=False)
        list2.astype(str).to_excel(writer, sheet_name="List_2", index=False)
    return len(list1), len(list2)


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]}: already exists; nothing was written.", "sample_exists",
                         fix="Choose another name, or allow overwriting it.")
