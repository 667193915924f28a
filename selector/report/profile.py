"""The caseload's profile as a self-contained HTML page, before any selection: counts per value,
charts, and the room for each hard rule."""

from __future__ import annotations

import pandas as pd

from ..contract.rules import Rules
from ..solve.profile import dimension_counts, rule_room
from ..validate import contact_summary
from .charts import counts_bar
from .content import CHART_DIMENSIONS, Chart, Section, Table, label
from .files import chart_counts
from .render import render_html


def profile_html(caseload: pd.DataFrame, rules: Rules, source: str) -> str:
    """The caseload profile as a self-contained HTML page, with the report's charts."""

    eligible = int(caseload["eligible"].sum())
    summary = Section("What was read", [
        (f"`{source}`: {len(caseload)} rows, {eligible} eligible CYP ({contact_summary(caseload)}).")])
    charts = Section("What the eligible CYP offer", charts=[
        Chart(f"profile_{column}.svg", f"{CHART_DIMENSIONS[column]}: eligible CYP",
              counts_bar(CHART_DIMENSIONS[column], counts),
              "; ".join(f"{v}: {n}" for v, n in counts.items()))
        for column, counts in chart_counts(caseload).items()])
    counts = dimension_counts(caseload, rules)
    tables = Section("Count per value, by dimension", tables=[
        Table([f"{label(d.column)} (weight {d.weight}, up to {d.cap})", "eligible CYP"],
              [[str(v), str(n)] for v, n in counts[d.column].items()] or [["(none)", "0"]])
        for d in rules.dimensions])
    rooms = Section("Hard rules", tables=[Table(
        ["rule", "available", "can be met"],
        [[r.name, r.detail + (f"; {r.ineligible} more excluded or without a contact" if r.ineligible else ""),
          ("yes, only just: " + r.only_just if r.only_just else "yes") if r.can_meet else "NO"]
         for r in rule_room(caseload, rules)])])
    return render_html(f"Caseload profile for {source}", [summary, charts, tables, rooms])
