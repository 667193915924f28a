"""What a caseload offers: value counts per objective dimension and the room for each hard rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract.cells import cell_values, match_key
from ..contract.rules import CountRule, Rules, minimums_together
from .problem import build_problem


@dataclass(frozen=True)
class RuleRoom:
    """A hard rule and whether the eligible caseload has enough children to meet it alone; or
    (`together` naming them) minimums that the cohort cannot hold all at once."""

    name: str
    available: int
    ineligible: int
    can_meet: bool
    detail: str
    together: tuple[str, ...] = ()
    values: int = 0  # a spread rule: the different values the eligible children have
    unknown: int = 0  # a spread rule: children with no value, whom it does not limit
    only_just: str = ""  # a minimum that just as many children meet: what that means (`_only_just`)


def dimension_counts(caseload: pd.DataFrame, rules: Rules) -> dict[str, pd.Series]:
    """For each dimension, each value's count among eligible CYP (most common first, then by
    value), read through the one cell reader: values differing only in case are one value."""
    eligible = caseload.loc[caseload["eligible"]]
    out = {}
    for dim in rules.dimensions:
        if dim.column not in eligible.columns:
            out[dim.column] = pd.Series(dtype=int)
            continue
        # Each distinct cell is read once and counted as often as it occurs.
        codes, uniques = pd.factorize(eligible[dim.column], sort=False)
        occurrences = np.bincount(codes[codes >= 0], minlength=len(uniques))
        display: dict[str, str] = {}
        tally: dict[str, int] = {}
        for cell, times in zip(uniques, occurrences, strict=True):
            for value in dict.fromkeys(cell_values(cell, dim.column)):
                shown = display.setdefault(match_key(value), value)
                tally[shown] = tally.get(shown, 0) + int(times)
        counts = pd.Series(tally, dtype=int)
        out[dim.column] = counts.iloc[np.lexsort((counts.index.to_numpy(dtype=str), -counts.to_numpy()))]
    return out


def _only_just(eligible: int, rule: CountRule) -> str:
    """What a minimum that exactly as many children meet as it asks for means, said before
    choosing: they are in every cohort (anyone can foresee it), and a family's decline leaves
    nobody to keep the rule.

    >>> _only_just(1, CountRule("setting_type", ("AP",), min=1))
    'that child is in every cohort, and if the family declines no other child can keep this rule'
    >>> _only_just(2, CountRule("x", ("A",), min=2)), _only_just(3, CountRule("x", ("A",), min=1))
    ('both are in every cohort, and if a family declines no other child can keep this rule', '')
    """
    if rule.min is None or eligible != rule.min or eligible == 0:
        return ""
    if eligible == 1:
        return "that child is in every cohort, and if the family declines no other child can keep this rule"
    who = "both are" if eligible == 2 else f"all {eligible} are"
    return f"{who} in every cohort, and if a family declines no other child can keep this rule"


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
                                  f"{stats.eligible} eligible", only_just=_only_just(stats.eligible, rule)))
        else:
            keys = problem.spread_keys[rules.spreads.index(rule)]
            unknown = int((keys == "").sum())
            distinct = stats.eligible
            # Children with no known value are not limited by a spread rule.
            room = distinct * rule.max + unknown
            rooms.append(RuleRoom(rule.name, room, 0, room >= rules.size,
                                  f"{distinct} distinct, {unknown} unknown", values=distinct, unknown=unknown))
    for together, needed in minimums_together(rules.counts):
        if needed > rules.size:  # each can be met alone; a cohort cannot hold them all
            names = tuple(rule.name for rule in together)
            rooms.append(RuleRoom("together, " + " and ".join(names), rules.size, 0, False,
                                  f"{needed} members needed, and the cohort has {rules.size}", names))
    return rooms
