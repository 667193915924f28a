"""Every file of a run folder, as bytes by name: the CSV tables, the reports, the charts, the
optional workbook and Parquet, and last the run record with the others' SHA-256."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import replace

import pandas as pd

from ..contract.cells import value_order
from ..contract.rules import Dimension, Rules
from ..io.run_record import LOTTERY_FILE, RUN_RECORD_NAME, RunRecord
from ..io.tables import frame_to_csv_bytes
from ..solve import Solution
from ..solve.profile import dimension_counts
from .chances import chances_frame, lottery_section
from .content import (
    CHART_DIMENSIONS,
    cohorts_frame,
    contacts_frame,
    offered_values,
    report_sections,
)
from .render import render_html, render_markdown


def chart_counts(caseload: pd.DataFrame) -> dict[str, pd.Series]:
    """Count per value among eligible CYP for the charted dimensions (read by the one cell reader)."""
    charted = Rules(dimensions=tuple(Dimension(c, 1, 1) for c in CHART_DIMENSIONS))
    counts = dimension_counts(caseload, charted)
    # Age bands read youngest first; other values most common first.
    return {c: (counts[c].loc[sorted(counts[c].index, key=value_order(c))] if c == "age_band" else counts[c])
            for c in CHART_DIMENSIONS if c in caseload.columns}


def run_files(caseload: pd.DataFrame, all_contacts: pd.DataFrame, solution: Solution, record: RunRecord,
              formats: tuple[str, ...] = (), kept_headers: dict[str, str] | None = None) -> dict[str, bytes]:
    """Every file of the run folder, by name (run.json last, listing the others' hashes).
    `kept_headers`: each kept column's name in `caseload` and its header as the file writes it,
    which the cohort tables give it."""
    # The reports only look at the chosen children and reserves (and the values the whole
    # caseload offers); slicing them out first keeps large caseloads fast.
    involved = {m for c in solution.cohorts for m in c.members}
    involved |= {r for rs in solution.reserves.values() for r in rs}
    offered = offered_values(caseload, solution.rules)
    counts = chart_counts(caseload)
    drawn = lottery_section(caseload, solution, record.input.made_from_uploads)
    caseload = caseload.loc[caseload["child_id"].isin(involved)]
    cohorts = cohorts_frame(caseload, solution)
    consent = {e.child_id: e.state for e in record.consent}  # the latest state of each child
    first = cohorts.loc[cohorts["cohort"] == 1]
    why = dict(zip(first["child_id"], first["why_chosen"], strict=True))  # worked out once, used thrice
    contacts = contacts_frame(caseload, solution, all_contacts, consent, why)
    if solution.dropped:
        # Relaxed rules: every output says so, the CSVs in a column of their own.
        dropped = "; ".join(solution.dropped)
        cohorts["rules_dropped"] = dropped
        contacts["rules_dropped"] = dropped
    cohorts = cohorts.rename(columns=kept_headers or {})
    title = f"Tracking cohort for {record.input.caseload}"
    sections = report_sections(caseload, solution, record, offered, counts, why, drawn)
    files = {
        "cohorts.csv": frame_to_csv_bytes(cohorts),
        "contacts.csv": frame_to_csv_bytes(contacts),
        "report.md": render_markdown(title, sections).encode(),
        "report.html": render_html(title, sections).encode(),
        **{chart.name: chart.svg.encode() for section in sections for chart in section.charts},
    }
    if solution.lottery is not None:
        files["chances.csv"] = frame_to_csv_bytes(chances_frame(solution.lottery))
        if solution.lottery.stored is not None:  # the lottery itself, to use again (`audit RUN_DIR`)
            files[LOTTERY_FILE] = json.dumps(solution.lottery.stored.to_dict(), separators=(",", ":")).encode()
    if "xlsx" in formats:
        from .xlsx import xlsx_bytes  # openpyxl is heavy; only a workbook needs it

        sheets = {f"Cohort {c.rank}": cohorts[cohorts["cohort"] == c.rank] for c in solution.cohorts}
        sheets["Contacts"] = contacts
        coverage = next(s for s in sections if s.title.startswith("Coverage")).tables[0]
        sheets["Coverage"] = pd.DataFrame(coverage.rows, columns=coverage.headers)
        # The workbook is the same for the same input and seed: wall time stays in run.json only.
        items = {k: v for k, v in record.to_dict(with_files=False).items() if k != "cohorts"}
        items["solver"] = {k: v for k, v in items["solver"].items() if k != "seconds_spent"}
        if "lottery" in items:
            items["lottery"] = {k: v for k, v in items["lottery"].items() if k != "seconds"}
        sheets["Run"] = pd.DataFrame(
            [[k, json.dumps(v, ensure_ascii=False) if not isinstance(v, str | int) else v]
             for k, v in items.items()], columns=["item", "value"])
        files["cohorts.xlsx"] = xlsx_bytes(sheets)
    if "parquet" in formats:
        buffer = io.BytesIO()
        cohorts.astype({c: str for c in cohorts.columns if cohorts[c].dtype == object}).to_parquet(
            buffer, index=False)
        files["cohorts.parquet"] = buffer.getvalue()
    hashes = {name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())}
    files[RUN_RECORD_NAME] = replace(record, files=hashes).to_json_bytes()
    return files
