"""The independent checker: does a cohort meet the hard rules, and what does it score?

Plain Python over the validated caseload, written apart from the CP-SAT model (no OR-Tools,
no shared helpers with model.py) so that tests can compare the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pandas as pd

from .rules import Rules


def cell_values(value: object, column: str) -> set[str]:
    """The values a cell holds as the contract reads them: upper-case codes, services split."""
    if value is None or (isinstance(value, float) and value != value):
        return set()
    if isinstance(value, bool):
        return {"TRUE" if value else "FALSE"}
    text = str(value).strip()
    if column == "services":
        return {part.strip().upper() for part in text.split(";") if part.strip()}
    return {text.upper()} if text else set()


def _members(caseload: pd.DataFrame, cohort: Sequence[str]) -> pd.DataFrame:
    by_id = caseload.set_index("child_id", drop=False)
    return by_id.loc[[c for c in cohort if c in by_id.index]]


def _spread_column(column: str) -> str:
    practitioner = {"lead_practitioner", "lead_practitioner_id", "practitioner", "practitioner_key"}
    return "practitioner_key" if column in practitioner else column


def violations(caseload: pd.DataFrame, cohort: Sequence[str], rules: Rules) -> list[str]:
    """Every hard rule the cohort breaks, in words with numbers; empty when it meets them all.

    Args:
        caseload: the validated caseload frame (all children, with `eligible`).
        cohort: the chosen children's ids.
        rules: the rules in force (already without any dropped by --relax).
    """
    problems = []
    if len(cohort) != rules.size:
        problems.append(f"size: cohort has {len(cohort)} members, the rule is exactly {rules.size}")
    repeated = [c for c, n in Counter(cohort).items() if n > 1]
    if repeated:
        problems.append(f"repeated members: {', '.join(repeated)}")
    known = set(caseload["child_id"])
    unknown = [c for c in cohort if c not in known]
    if unknown:
        problems.append(f"not in the caseload: {', '.join(unknown)}")
    members = _members(caseload, list(dict.fromkeys(cohort)))
    ineligible = members.loc[~members["eligible"].astype(bool), "child_id"].tolist()
    if ineligible:
        problems.append(f"not eligible (excluded or no contact): {', '.join(ineligible)}")

    for rule in rules.counts:
        if rule.column not in caseload.columns:
            problems.append(f"{rule.name}: column {rule.column} is not in the caseload")
            continue
        wanted = set(rule.values)
        count = sum(1 for v in members[rule.column] if cell_values(v, rule.column) & wanted)
        if rule.min is not None and count < rule.min:
            problems.append(f"{rule.name}: cohort has {count}")
        if rule.max is not None and count > rule.max:
            problems.append(f"{rule.name}: cohort has {count}")

    for spread in rules.spreads:
        column = _spread_column(spread.column)
        if column not in caseload.columns:
            continue  # "when the column exists"
        shared = Counter(str(v).strip() for v in members[column] if str(v).strip())
        for value, count in sorted(shared.items()):
            if count > spread.max:
                problems.append(f"{spread.name}: {count} members share {value}")
    return problems


def coverage(caseload: pd.DataFrame, cohort: Sequence[str], rules: Rules) -> dict[str, set[str]]:
    """For each objective dimension, the distinct values the cohort covers."""
    members = _members(caseload, cohort)
    covered: dict[str, set[str]] = {}
    for dim in rules.dimensions:
        values: set[str] = set()
        if dim.column in members.columns:
            for cell in members[dim.column]:
                values |= cell_values(cell, dim.column)
        covered[dim.column] = values
    return covered


def score(caseload: pd.DataFrame, cohort: Sequence[str], rules: Rules) -> int:
    """The SPEC objective: sum over dimensions of weight x min(cap, distinct values covered).

    >>> import pandas as pd
    >>> from selector.rules import DEFAULT_RULES
    >>> kids = pd.DataFrame({"child_id": ["a", "b"], "primary_need": ["ASD", "ASD"],
    ...                      "age_band": ["5-10", "11-15"]})
    >>> score(kids, ["a", "b"], DEFAULT_RULES)  # need: 4 x 1; age band: 4 x 2
    12
    """
    covered = coverage(caseload, cohort, rules)
    return sum(d.weight * min(d.cap, len(covered[d.column])) for d in rules.dimensions)
