"""Sentences for people: the rules, the score and the history of a week of calls, in words."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from ..contract.rules import CountRule, Rules, SpreadRule
from ..io.run_record import ConsentEvent, ReplacementEvent
from ..solve import Solution
from ..solve.profile import RuleRoom
from .content import kept_claim, label, rule_in_words, slack_claim

# Inspections are in England: times are shown as its clocks show them (GMT, or BST in summer).
# The record keeps UTC; this is only how a person reads it.
SHOWN_ZONE = "Europe/London"


def rules_in_words(rules: Rules, rooms: Iterable[RuleRoom]) -> list[tuple[str, str, bool, str]]:
    """Each hard rule in words, with what the caseload has for it, whether it can be met, and
    what meeting it only just means ("" when it has room)."""
    rooms = list(rooms)
    by_name = {room.name: room for room in rooms}
    said = [(rule_in_words(rule), _room_in_words(rule, by_name[rule.name]), by_name[rule.name].can_meet,
             by_name[rule.name].only_just) for rule in rules.hard_rules]
    counts = {rule.name: rule for rule in rules.counts}
    return said + [("together, " + " and ".join(rule_in_words(counts[name]) for name in room.together),
                    room.detail, room.can_meet, "") for room in rooms if room.together]


def _room_in_words(rule: CountRule | SpreadRule, room: RuleRoom) -> str:
    """What the caseload has for a rule, as a reader says it (a spread rule's '147 distinct, 110
    unknown' is '147 settings, and 110 children with none recorded, not limited')."""
    if isinstance(rule, CountRule):
        return room.detail
    kinds = ("lead practitioners" if rule.is_practitioner else
             {"setting_id": "settings"}.get(rule.column, f"different {label(rule.column)} values"))
    unknown = (f", and {room.unknown} {'child' if room.unknown == 1 else 'children'} with none recorded, not limited"
               if room.unknown else "")
    return f"{room.values} {kinds}{unknown}"


def score_sentence(solution: Solution) -> str:
    """Cohort 1's score said for people: what it means, not a fraction of a maximum (for a
    replacement, what the freed slots could reach with the other members kept)."""
    first = solution.cohorts[0]
    if claim := kept_claim(solution):
        return (f"Cohort 1 scores {first.score}: {claim} (proved)." if first.status == "OPTIMAL" else
                f"Cohort 1 scores {first.score}, the best found before the time limit; {claim}.")
    if first.status == "OPTIMAL":
        return f"Cohort 1 scores {first.score}: no cohort under these rules scores higher (proved)."
    if claim := slack_claim(solution):
        return f"Cohort 1 scores {first.score}, {claim}."
    return (f"Cohort 1 scores {first.score}, the best found before the time limit; no cohort under these rules "
            f"can score more than {first.bound}.")


def time_shown(at: str) -> str:
    """A recorded time (UTC ISO text) as a person in England reads it, to the minute.

    >>> time_shown("2026-12-04T09:15:42Z"), time_shown("2026-06-04T09:15:42Z")
    ('2026-12-04 09:15 GMT', '2026-06-04 10:15 BST')
    """
    when = dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(SHOWN_ZONE))
    return when.strftime("%Y-%m-%d %H:%M %Z")


def history(consent: Iterable[ConsentEvent], replacements: Iterable[ReplacementEvent]) -> list[str]:
    """Every call and change, oldest first, in words."""
    lines: list[tuple[str, int, str]] = []
    for e in consent:
        note = f" ({e.note})" if e.note else ""
        lines.append((e.at, 0, f"{time_shown(e.at)}: {e.child_id}: {e.state}{note}."))
    for r in replacements:
        who = ", ".join(r.newcomers) or "nobody"
        if r.action == "replaced":
            text = f"{who} took the place of {', '.join(r.declined)} ({r.reason})"
        else:
            text = f"undone: {who} gave the place back to {', '.join(r.declined)}"
        lines.append((r.at, 1, f"{time_shown(r.at)}: {text}; score {r.score_before} -> {r.score_after}; {r.rules}."))
    return [text for _, _, text in sorted(lines, key=lambda line: (line[0], line[1]))]

