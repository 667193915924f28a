"""What a caseload offers: value counts per objective dimension and the room for each hard rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import build_problem
from .rules import CountRule, Rules


@dataclass(frozen=True)
class RuleRoom:
    """A hard rule and whether the eligible caseload has enough children to meet it alone."""

    name: str
    available: int
    ineligible: int
    can_meet: bool
    detail: str


def dimension_counts(caseload: pd.DataFrame, rules: Rules) -> dict[str, pd.Series]:
    """For each dimension, each value's count among eligible CYP (most common first)."""
    eligible = caseload.loc[caseload["eligible"]]
    out = {}
    for dim in rules.dimensions:
        if dim.column not in eligible.columns:
            out[dim.column] = pd.Series(dtype=int)
            continue
        values = eligible[dim.column].astype(str).str.strip()
        if dim.multi_valued:
            values = values.str.split(";").explode().str.strip()
        values = values[values != ""].str.upper() if dim.column != "locality" else values[values != ""]
        counts = values.value_counts()
        out[dim.column] = counts.iloc[np.lexsort((counts.index.to_numpy(dtype=str), -counts.to_numpy()))]
    return out


def rule_room(caseload: pd.DataFrame, rules: Rules) -> list[RuleRoom]:
    """For each hard rule, how many eligible CYP could meet it."""
    problem = build_problem(caseload, rules)
    rooms = [RuleRoom(
        name=f"exactly {rules.size} CYP",
        available=problem.n, ineligible=problem.ineligible_count,
        can_meet=problem.n >= rules.size,
        detail=f"{problem.n} eligible",
    )]
    for rule in rules.hard_rules:
        stats = problem.rule_stats[rule.name]
        if isinstance(rule, CountRule):
            can = rule.min is None or stats.eligible >= rule.min
            rooms.append(RuleRoom(rule.name, stats.eligible, stats.ineligible, can,
                                  f"{stats.eligible} eligible"))
        else:
            keys = problem.spread_keys[rules.spreads.index(rule)]
            unknown = int((keys == "").sum())
            distinct = stats.eligible
            # Children with no known value are not limited by a spread rule.
            room = distinct * rule.max + unknown
            rooms.append(RuleRoom(rule.name, room, 0, room >= rules.size,
                                  f"{distinct} distinct, {unknown} unknown"))
    return rooms


def profile_html(caseload: pd.DataFrame, rules: Rules, source: str) -> str:
    """The caseload profile as a self-contained HTML page, with the report's charts."""
    from .charts import counts_bar
    from .report import CHART_DIMENSIONS, Chart, Section, Table, distributions, label, render_html

    eligible = int(caseload["eligible"].sum())
    summary = Section("What was read", [
        (f"`{source}`: {len(caseload)} rows, {eligible} eligible CYP "
        f"({int(caseload['exclude'].sum())} excluded, "
        f"{int((caseload['ineligible_reason'] == 'no practitioner contact').sum())} without a contact).")])
    charts = Section("What the eligible CYP offer", charts=[
        Chart(f"profile_{column}.svg", f"{CHART_DIMENSIONS[column]}: eligible CYP",
              counts_bar(CHART_DIMENSIONS[column], counts),
              "; ".join(f"{v}: {n}" for v, n in counts.items()))
        for column, counts in distributions(caseload).items()])
    counts = dimension_counts(caseload, rules)
    tables = Section("Count per value, by dimension", tables=[
        Table([f"{label(d.column)} (weight {d.weight}, up to {d.cap})", "eligible CYP"],
              [[str(v), str(n)] for v, n in counts[d.column].items()] or [["(none)", "0"]])
        for d in rules.dimensions])
    rooms = Section("Hard rules", tables=[Table(
        ["rule", "available", "can be met"],
        [[r.name, r.detail + (f"; {r.ineligible} more excluded or without a contact" if r.ineligible else ""),
          "yes" if r.can_meet else "NO"] for r in rule_room(caseload, rules)])])
    return render_html(f"Caseload profile for {source}", [summary, charts, tables, rooms])
