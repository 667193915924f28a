"""The independent checker: does a cohort meet the hard rules, and what does it score?

Plain Python over the validated caseload, written apart from the CP-SAT model (no OR-Tools,
nothing shared with `solve/` but the contract's one cell reader) so that tests can compare
the two. One small function per hard rule; each returns the problems it finds, in words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from .contract.cells import holds_any, match_key, value_of
from .contract.rules import CountRule, Rules, SpreadRule

Child = Mapping[str, object]


@dataclass(frozen=True)
class Children:
    """Children of a caseload as plain records by id, with the caseload's columns: read once, for
    checking many cohorts (an audit's draws) without looking rows up in the frame each time."""

    by_id: Mapping[object, Child]
    columns: frozenset[str]


def children_of(caseload: pd.DataFrame) -> Children:
    """The caseload's rows as `Children` (column by column: fast whatever the columns' types)."""
    columns = {str(column): caseload[column].tolist() for column in caseload.columns}
    return Children({child: {column: values[i] for column, values in columns.items()}
                     for i, child in enumerate(columns["child_id"])}, frozenset(columns))


def _children(caseload: pd.DataFrame | Children, cohort: Sequence[str]) -> Children:
    """`caseload` as Children: those of the cohort alone when it is a frame (the rest are never looked at)."""
    if isinstance(caseload, Children):
        return caseload
    return children_of(caseload[caseload["child_id"].isin(list(cohort))])


def _members(children: Children, cohort: Sequence[str]) -> list[Child]:
    return [children.by_id[c] for c in cohort if c in children.by_id]


def size_problems(cohort: Sequence[str], rules: Rules) -> list[str]:
    """Exactly `size` members, none repeated."""
    problems = []
    if len(cohort) != rules.size:
        problems.append(f"size: cohort has {len(cohort)} members, the rule is exactly {rules.size}")
    repeated = [c for c, n in Counter(cohort).items() if n > 1]
    if repeated:
        problems.append(f"repeated members: {', '.join(repeated)}")
    return problems


def eligibility_problems(caseload: pd.DataFrame | Children, cohort: Sequence[str]) -> list[str]:
    """Every member is in the caseload and may be chosen (not excluded, has a contact)."""
    children = _children(caseload, cohort)
    problems = []
    unknown = [c for c in cohort if c not in children.by_id]
    if unknown:
        problems.append(f"not in the caseload: {', '.join(unknown)}")
    ineligible = [str(m["child_id"]) for m in _members(children, list(dict.fromkeys(cohort))) if not bool(m["eligible"])]
    if ineligible:
        problems.append(f"not eligible (excluded or no contact): {', '.join(ineligible)}")
    return problems


def count_rule_problems(members: list[Child], rule: CountRule, columns: frozenset[str]) -> list[str]:
    """At least `min` / at most `max` members hold one of the rule's values."""
    if rule.column not in columns:
        return [f"{rule.name}: column {rule.column} is not in the caseload"]
    count = sum(1 for m in members if holds_any(m, rule.column, set(rule.values)))
    if (rule.min is not None and count < rule.min) or (rule.max is not None and count > rule.max):
        return [f"{rule.name}: cohort has {count}"]
    return []


def spread_rule_problems(members: list[Child], rule: SpreadRule, columns: frozenset[str]) -> list[str]:
    """At most `max` members share one known value (the rule holds trivially without the column)."""
    column = "practitioner_key" if rule.is_practitioner else rule.column
    if column not in columns:
        return []
    held = [values[0] for m in members if (values := value_of(m, column))]
    shown = {match_key(v): v for v in reversed(held)}  # the first spelling, for the message
    shared = Counter(match_key(v) for v in held)
    return [f"{rule.name}: {count} members share {shown[key]}" for key, count in sorted(shared.items())
            if count > rule.max]


def violations(caseload: pd.DataFrame | Children, cohort: Sequence[str], rules: Rules) -> list[str]:
    """Every hard rule the cohort breaks, in words with numbers; empty when it meets them all.

    Args:
        caseload: the validated caseload frame (all children, with `eligible`).
        cohort: the chosen children's ids.
        rules: the rules in force (already without any relaxed away).
    """
    children = _children(caseload, cohort)
    members = _members(children, list(dict.fromkeys(cohort)))
    problems = size_problems(cohort, rules) + eligibility_problems(children, cohort)
    for rule in rules.counts:
        problems += count_rule_problems(members, rule, children.columns)
    for spread in rules.spreads:
        problems += spread_rule_problems(members, spread, children.columns)
    return problems


def distinct(values: Sequence[str]) -> list[str]:
    """Values with case-only repeats removed (the first spelling kept).

    >>> distinct(["Westmoor", "WESTMOOR", "Eastfield"])
    ['Westmoor', 'Eastfield']
    """
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(match_key(value), value)
    return list(seen.values())


def coverage(caseload: pd.DataFrame | Children, cohort: Sequence[str], rules: Rules) -> dict[str, set[str]]:
    """For each objective dimension, the distinct values the cohort covers (display form)."""
    members = _members(_children(caseload, cohort), cohort)
    return {dim.column: set(distinct([v for m in members for v in value_of(m, dim.column)]))
            for dim in rules.dimensions}


def score(caseload: pd.DataFrame | Children, cohort: Sequence[str], rules: Rules) -> int:
    """The objective: sum over dimensions of weight x min(cap, distinct values covered).

    >>> import pandas as pd
    >>> from selector.contract.rules import DEFAULT_RULES
    >>> kids = pd.DataFrame({"child_id": ["a", "b"], "primary_need": ["ASD", "ASD"],
    ...                      "age_band": ["5-10", "11-15"]})
    >>> score(kids, ["a", "b"], DEFAULT_RULES)  # need: 4 x 1; age band: 4 x 2
    12
    """
    covered = coverage(caseload, cohort, rules)
    return sum(d.weight * min(d.cap, len(covered[d.column])) for d in rules.dimensions)
