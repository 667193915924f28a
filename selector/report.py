"""The run folder's contents, built from a solution: CSV tables, run.json, report.md and .html.

Pure formatting (bytes out); writing them is io.write_folder's job.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import check
from .io import escape_formula, frame_to_csv_bytes
from .model import Solution
from .rules import CountRule, Rules
from .schema import CONTACT_FIELDS

LABELS = {"primary_need": "need", "age_band": "age band", "setting_type": "setting",
          "plan_status": "plan", "social_care": "social care", "services": "services",
          "locality": "locality"}
ATTRIBUTE_COLUMNS = ["age", "age_band", "primary_need", "secondary_need", "plan_status",
                     "setting_type", "setting_id", "social_care", "services", "locality",
                     "out_of_area", "lead_practitioner_id"]
INTERNAL_COLUMNS = {"row", "eligible", "ineligible_reason", "practitioner_key", "exclude",
                    "exclude_reason", "child_id"}


@dataclass(frozen=True)
class RunInfo:
    """What was run, for run.json and the reports.

    Attributes:
        caseload: the caseload file's name; caseload_path its full path (for `replace`).
        caseload_sha256: hash of the caseload file.
        contacts, contacts_path, contacts_sha256: the same for the contacts file ("" if none).
        rows: rows in the caseload; eligible: eligible CYP.
        options: the options that shape the result (sheet, allow_missing_contact, ...).
        replaced: for a `replace` run, what it replaced and why.
    """

    caseload: str
    caseload_path: str
    caseload_sha256: str
    rows: int
    eligible: int
    contacts: str = ""
    contacts_path: str = ""
    contacts_sha256: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    replaced: dict[str, Any] = field(default_factory=dict)


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def reasons(caseload: pd.DataFrame, members: tuple[str, ...], rules: Rules) -> dict[str, str]:
    """Why each member was chosen: the values only it brings, and the rules it helps meet."""
    out = {}
    for child in members:
        others = [m for m in members if m != child]
        mine = check.coverage(caseload, [child], rules)
        theirs = check.coverage(caseload, others, rules)
        unique = [f"{label(d.column)} {v}" for d in rules.dimensions if d.weight > 0
                  for v in sorted(mine[d.column] - theirs[d.column])]
        row = caseload.loc[caseload["child_id"] == child].iloc[0]
        rules_met = [r.name for r in rules.counts if r.min and _matches(row, r)]
        parts = []
        if unique:
            parts.append("only member with " + ", ".join(unique))
        else:
            parts.append("adds breadth without a value of its own")
        if rules_met:
            parts.append("counts toward " + "; ".join(rules_met))
        out[child] = "; ".join(parts)
    return out


def _matches(row: pd.Series, rule: CountRule) -> bool:
    """Whether a child has one of the rule's values, read as the checker reads cells."""
    return bool(check.cell_values(row.get(rule.column, ""), rule.column) & set(rule.values))


def cohorts_frame(caseload: pd.DataFrame, solution: Solution) -> pd.DataFrame:
    """cohorts.csv: a row per member of every cohort; cohort, slot, child_id, score first."""
    by_id = caseload.set_index("child_id", drop=False)
    extra = [c for c in caseload.columns
             if c not in INTERNAL_COLUMNS and c not in ATTRIBUTE_COLUMNS and not c.startswith("contact_")]
    attributes = [c for c in ATTRIBUTE_COLUMNS if c in caseload.columns] + extra
    rows = []
    for cohort in solution.cohorts:
        why = reasons(caseload, cohort.members, solution.rules)
        for slot, child in enumerate(cohort.members, start=1):
            member = by_id.loc[child]
            record = {"cohort": cohort.rank, "slot": slot, "child_id": child, "score": cohort.score}
            record.update({c: member[c] for c in attributes})
            record.update({f"practitioner_{f}": member[f"contact_{f}"] for f in CONTACT_FIELDS})
            record["why_chosen"] = why[child]
            rows.append(record)
    return pd.DataFrame(rows)


def contacts_frame(caseload: pd.DataFrame, solution: Solution, all_contacts: pd.DataFrame) -> pd.DataFrame:
    """contacts.csv: cohort 1's practitioners for the consent calls, lead first per child."""
    first = solution.cohorts[0]
    why = reasons(caseload, first.members, solution.rules)
    rows = []
    for slot, child in enumerate(first.members, start=1):
        people = all_contacts.loc[all_contacts["child_id"] == child]
        for _, person in people.iterrows():
            rows.append({"slot": slot, "child_id": child, "lead": bool(person["lead"]),
                         **{f: person[f] for f in CONTACT_FIELDS}, "why_chosen": why[child]})
    columns = ["slot", "child_id", "lead", *CONTACT_FIELDS, "why_chosen"]
    return pd.DataFrame(rows, columns=columns)


def run_record(solution: Solution, info: RunInfo) -> dict[str, Any]:
    """run.json's content. Only the `seconds` fields vary between identical runs."""
    return {
        "version": solution.version,
        "input_sha256": info.caseload_sha256,
        "input": {
            "caseload": info.caseload, "caseload_path": info.caseload_path,
            "caseload_sha256": info.caseload_sha256, "contacts": info.contacts,
            "contacts_path": info.contacts_path, "contacts_sha256": info.contacts_sha256,
            "rows": info.rows, "eligible": info.eligible, "options": info.options,
        },
        "rules": solution.rules.to_dict(),
        "dropped_rules": list(solution.dropped),
        "seed": solution.params.seed,
        "params": {"sets": solution.params.sets, "max_overlap": solution.params.max_overlap,
                   "time_limit_s": solution.params.time_limit_s, "workers": solution.params.workers,
                   "reserves": solution.params.reserves, "relax": solution.params.relax},
        "solver": solution.solver,
        "candidates": solution.candidates,
        **({"replaced": info.replaced} if info.replaced else {}),
        "cohorts": [
            {"rank": c.rank, "score": c.score, "status": c.status, "bound": c.bound,
             "seconds": c.seconds, "members": list(c.members),
             "reserves": {m: list(solution.reserves.get(m, ())) for m in c.members} if c.rank == 1 else {}}
            for c in solution.cohorts
        ],
    }


# ---------------------------------------------------------------- the reader's report

@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    """A chart: its SVG (inlined in HTML), a file name (linked from Markdown) and a text summary."""

    name: str
    title: str
    svg: str
    summary: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


CHART_DIMENSIONS = {"primary_need": "Primary need", "age_band": "Age band", "setting_type": "Setting type"}


def distributions(caseload: pd.DataFrame) -> dict[str, pd.Series]:
    """Count per value among eligible CYP for the charted dimensions (most common first)."""
    eligible = caseload.loc[caseload["eligible"]]
    out = {}
    for column in CHART_DIMENSIONS:
        if column in eligible.columns:
            counts = eligible[column].astype(str).value_counts()
            out[column] = counts[counts.index != ""]
    return out


def comparison_charts(caseload: pd.DataFrame, members: tuple[str, ...],
                      caseload_counts: dict[str, pd.Series]) -> list[Chart]:
    """Caseload against cohort 1, on need, age band and setting."""
    from .charts import compare_shares

    chosen = caseload.loc[caseload["child_id"].isin(members)]
    charts = []
    for column, counts in caseload_counts.items():
        cohort = chosen[column].astype(str).value_counts()
        summary = "; ".join(f"{v}: caseload {n / max(counts.sum(), 1):.0%}, cohort {cohort.get(v, 0)} of "
                            f"{len(members)}" for v, n in counts.items())
        charts.append(Chart(f"chart_{column}.svg", f"{CHART_DIMENSIONS[column]}: caseload and cohort 1",
                            compare_shares(CHART_DIMENSIONS[column], counts, cohort), summary))
    return charts


def coverage_matrix(caseload: pd.DataFrame, members: tuple[str, ...], rules: Rules,
                    offered: dict[str, set[str]]) -> Table:
    """Dimension x value rows, a column per member: which member covers each value, and the
    values the caseload offers that the cohort leaves out."""
    per_member = {m: check.coverage(caseload, [m], rules) for m in members}
    rows = []
    for dim in rules.dimensions:
        if dim.weight == 0:
            continue
        values = sorted(offered.get(dim.column, set()) | {v for m in members for v in per_member[m][dim.column]})
        for value in values:
            holders = [m for m in members if value in per_member[m][dim.column]]
            rows.append([label(dim.column), value, *["covers" if m in holders else "" for m in members],
                         "covered" if holders else "not covered"])
    return Table(["dimension", "value", *members, "cohort 1"], rows)


def max_score(rules: Rules) -> int:
    return sum(d.weight * d.cap for d in rules.dimensions)


def report_sections(caseload: pd.DataFrame, solution: Solution, info: RunInfo,
                    offered: dict[str, set[str]], caseload_counts: dict[str, pd.Series] | None = None,
                    ) -> list[Section]:
    """The report's content, rendered to Markdown and HTML alike.

    Args:
        caseload: the validated caseload (at least the chosen children).
        solution: the run's result.
        info: what was run.
        offered: the values the eligible caseload offers per dimension (`offered_values`).
        caseload_counts: counts per value of the charted dimensions (`distributions`); no
            charts without them.
    """
    rules = solution.rules
    first = solution.cohorts[0]
    by_id = caseload.set_index("child_id", drop=False)
    status = {"OPTIMAL": "proved optimal", "FEASIBLE": "best found when the time limit came"}
    run = Section("What was run", [
        f"Caseload `{info.caseload}` (SHA-256 {info.caseload_sha256[:12]}...): {info.rows} rows, "
        f"{info.eligible} eligible CYP." + (f" Contacts `{info.contacts}`." if info.contacts else ""),
        (f"selector {solution.version}, seed {solution.params.seed}, {len(solution.cohorts)} ranked "
        f"cohort(s), at most {solution.params.max_overlap} shared between any two."),
    ])
    if info.replaced:
        run.paragraphs.append(
            f"This run replaces {', '.join(info.replaced['declined'])} ({info.replaced['reason']}) "
            f"in cohort 1 of run `{info.replaced['from_run']}`; the other members were kept.")
    rule_rows = [[f"exactly {rules.size} CYP", "met"]]
    for rule in rules.hard_rules:
        broken = [v for v in check.violations(caseload, first.members, Rules(
            size=len(first.members), counts=(rule,) if isinstance(rule, CountRule) else (),
            spreads=() if isinstance(rule, CountRule) else (rule,)))]
        rule_rows.append([rule.name, "met" if not broken else "NOT met: " + "; ".join(broken)])
    for name in solution.dropped:
        rule_rows.append([name, "dropped by --relax (could not be met with the others)"])
    run.tables.append(Table(["rule", "cohort 1"], rule_rows))

    why = reasons(caseload, first.members, rules)
    cohort_rows = []
    for slot, child in enumerate(first.members, start=1):
        m = by_id.loc[child]
        cohort_rows.append([str(slot), child, str(m.get("age", "")), m.get("age_band", ""),
                            m.get("primary_need", ""), m.get("plan_status", ""),
                            m.get("setting_type", ""), m.get("social_care", ""),
                            str(m.get("services", "")).replace(";", ", "), str(m.get("locality", "")),
                            f"{m['contact_name']} ({m['contact_role']}, {m['contact_organisation']})"
                            if m["contact_name"] else "no contact", why[child]])
    cohort = Section(
        f"Cohort 1: score {first.score} of {max_score(rules)} possible ({status[first.status]}"
        + (f", bound {first.bound}" if first.status != "OPTIMAL" else "") + ")",
        ["Practitioners' e-mail and phone are in contacts.csv, for the consent calls."],
        [Table(["slot", "child", "age", "age band", "need", "plan", "setting", "social care",
                "services", "locality", "practitioner", "why chosen"], cohort_rows)],
    )

    covered = check.coverage(caseload, first.members, rules)
    coverage_rows = []
    for dim in rules.dimensions:
        have = covered[dim.column]
        missing = sorted(offered[dim.column] - have)
        coverage_rows.append([
            label(dim.column), f"{min(len(have), dim.cap)} of {dim.cap} (weight {dim.weight})",
            ", ".join(sorted(have)) or "-", ", ".join(missing) or "-",
        ])
    coverage = Section("Coverage of cohort 1", [
        ("Each dimension counts the distinct values covered, up to its cap; past the cap the "
        "choice is left to chance so that the cohort still looks like the caseload.")],
        [Table(["dimension", "counted", "values covered", "offered by the caseload, not covered"],
               coverage_rows)])
    matrix = Section("Coverage matrix", [
        ("Which member of cohort 1 covers each value the caseload offers (\"covers\"), and the "
        "values no member covers (\"not covered\").")],
        [coverage_matrix(caseload, first.members, rules, offered)])
    charts = Section("Caseload and cohort 1 compared", [
        ("Share of each value among the eligible CYP and in cohort 1. The cohort is chosen for "
        "breadth, so rare values are over-represented on purpose.")],
        charts=comparison_charts(caseload, first.members, caseload_counts) if caseload_counts else [])

    reserve_rows = [[str(slot), child, *list(solution.reserves.get(child, ())) + [""] * 3][:5]
                    for slot, child in enumerate(first.members, start=1)]
    reserves = Section("Reserves", [
        ("If a family declines, each slot's reserves can take it with every rule still met, best "
        "score first. `selector replace RUN_DIR --decline CHILD_ID` re-optimises the slot.")],
        [Table(["slot", "child", "reserve 1", "reserve 2", "reserve 3"], reserve_rows)])

    alt_rows = []
    base = set(first.members)
    base_cover = check.coverage(caseload, first.members, rules)
    for c in solution.cohorts:
        other = check.coverage(caseload, c.members, rules)
        gains = [f"+{label(d.column)} {v}" for d in rules.dimensions if d.weight
                 for v in sorted(other[d.column] - base_cover[d.column])]
        losses = [f"-{label(d.column)} {v}" for d in rules.dimensions if d.weight
                  for v in sorted(base_cover[d.column] - other[d.column])]
        differs = "same as cohort 1" if c.rank == 1 else "; ".join(gains + losses) or "covers the same values"
        alt_rows.append([str(c.rank), str(c.score), status[c.status], ", ".join(c.members),
                         str(len(base & set(c.members))), differs])
    alternatives = Section("Ranked cohorts", [
        (f"Each cohort shares at most {solution.params.max_overlap} CYP with every better-ranked one. "
         "'+' marks values a cohort covers that cohort 1 does not; '-' the reverse.")],
        [Table(["rank", "score", "status", "members", "shared with cohort 1", "compared with cohort 1"],
               alt_rows)])
    return [run, cohort, coverage, charts, matrix, reserves, alternatives]



def offered_values(caseload: pd.DataFrame, rules: Rules) -> dict[str, set[str]]:
    """For each dimension, the distinct values among eligible CYP (as the checker reads them)."""
    eligible = caseload.loc[caseload["eligible"]]
    out = {}
    for dim in rules.dimensions:
        if dim.column not in eligible.columns:
            out[dim.column] = set()
            continue
        column = eligible[dim.column]
        if column.dtype == bool:
            out[dim.column] = {"TRUE" if v else "FALSE" for v in column.unique()}
            continue
        text = column.astype(str).str.strip().str.upper()
        if dim.multi_valued:
            text = text.str.split(";").explode().str.strip()
        out[dim.column] = set(text.unique()) - {""}
    return out


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        for chart in section.charts:
            lines += [f"![{chart.title}]({chart.name})", "", f"*{chart.title}.* {chart.summary}", ""]
        for table in section.tables:
            lines.append("| " + " | ".join(table.headers) + " |")
            lines.append("|" + "---|" * len(table.headers))
            for row in table.rows:
                lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            lines.append("")
    return "\n".join(lines)


HTML_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#111;margin:2rem;max-width:80rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #333}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #555;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#e8e8e8}code{background:#f2f2f2;padding:0 .2rem}
figure{display:inline-block;margin:0 1rem 1rem 0;vertical-align:top;max-width:32rem}figure svg{max-width:100%;height:auto}
figcaption{font-size:.85rem}
@media print{body{margin:0;max-width:none;font-size:10pt}table{page-break-inside:auto}
tr{page-break-inside:avoid}h2{page-break-after:avoid}}
@page{size:A4;margin:12mm}
"""


def render_html(title: str, sections: list[Section]) -> str:
    def inline(text: str) -> str:
        escaped = html.escape(str(text))
        parts = escaped.split("`")
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{HTML_STYLE}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        out.append(f"<section><h2>{inline(section.title)}</h2>")
        for paragraph in section.paragraphs:
            out.append(f"<p>{inline(paragraph)}</p>")
        for chart in section.charts:
            out.append(f'<figure role="img" aria-label="{html.escape(chart.title)}. {html.escape(chart.summary)}">'
                       f"{chart.svg}<figcaption>{html.escape(chart.title)}</figcaption></figure>")
        for table in section.tables:
            out.append("<table><thead><tr>" + "".join(f'<th scope="col">{html.escape(h)}</th>'
                                                      for h in table.headers) + "</tr></thead><tbody>")
            for row in table.rows:
                out.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>")
            out.append("</tbody></table>")
        out.append("</section>")
    out.append("</body></html>\n")
    return "\n".join(out)


def xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with a styled, frozen header per sheet; ids as text; formulas escaped.

    The bytes are deterministic: fixed document dates and zip entry times.
    """
    import datetime as dt

    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(name[:31])
        sheet.append([str(c) for c in frame.columns])
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
        for index, column in enumerate(frame.columns, start=1):
            width = max([len(str(column))] + [len(str(v)) for v in frame[column].tolist()])
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
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


def run_files(caseload: pd.DataFrame, all_contacts: pd.DataFrame, solution: Solution, info: RunInfo,
              formats: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file of the run folder, by name."""
    # The reports only look at the chosen children and reserves (and the values the whole
    # caseload offers); slicing them out first keeps large caseloads fast.
    involved = {m for c in solution.cohorts for m in c.members}
    involved |= {r for rs in solution.reserves.values() for r in rs}
    offered = offered_values(caseload, solution.rules)
    counts = distributions(caseload)
    caseload = caseload.loc[caseload["child_id"].isin(involved)]
    cohorts = cohorts_frame(caseload, solution)
    contacts = contacts_frame(caseload, solution, all_contacts)
    if solution.dropped:
        # --relax dropped rules: every output says so, the CSVs in a column of their own.
        dropped = "; ".join(solution.dropped)
        cohorts["rules_dropped"] = dropped
        contacts["rules_dropped"] = dropped
    title = f"Tracking cohort for {info.caseload}"
    sections = report_sections(caseload, solution, info, offered, counts)
    files = {
        "cohorts.csv": frame_to_csv_bytes(cohorts),
        "contacts.csv": frame_to_csv_bytes(contacts),
        "run.json": (json.dumps(run_record(solution, info), indent=2, ensure_ascii=False) + "\n").encode(),
        "report.md": render_markdown(title, sections).encode(),
        "report.html": render_html(title, sections).encode(),
        **{chart.name: chart.svg.encode() for section in sections for chart in section.charts},
    }
    if "xlsx" in formats:
        sheets = {f"Cohort {c.rank}": cohorts[cohorts["cohort"] == c.rank] for c in solution.cohorts}
        sheets["Contacts"] = contacts
        coverage = next(s for s in sections if s.title.startswith("Coverage")).tables[0]
        sheets["Coverage"] = pd.DataFrame(coverage.rows, columns=coverage.headers)
        record = run_record(solution, info)
        sheets["Run"] = pd.DataFrame(
            [[k, json.dumps(v, ensure_ascii=False) if not isinstance(v, str | int) else v]
             for k, v in record.items() if k != "cohorts"], columns=["item", "value"])
        files["cohorts.xlsx"] = xlsx_bytes(sheets)
    if "parquet" in formats:
        buffer = io.BytesIO()
        cohorts.astype({c: str for c in cohorts.columns if cohorts[c].dtype == object}).to_parquet(
            buffer, index=False)
        files["cohorts.parquet"] = buffer.getvalue()
    return files
