"""The page's rules form: its fields' defaults and labels, the rules and parameters it sets, and
what it says at a field (a number it does not take, a rule the caseload cannot meet)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import app
from ..contract.errors import InputError, problems_said
from ..contract.rules import CountRule, Dimension, Rules, SpreadRule, rules_from_dict
from ..contract.seeds import SEED_LIMIT


def form_defaults(rules: Rules, params: app.SelectionParams) -> dict[str, object]:
    """The form's fields as the rules and parameters in force fill them."""
    def minimum(column: str, values: tuple[str, ...]) -> int:
        return next((r.min or 0 for r in rules.counts if r.column == column and r.values == values), 0)

    most = {spread_kind(s): s.max for s in rules.spreads}
    return {"size": rules.size, **{field: minimum(*rule) for rule, field in MINIMUM_FIELDS.items()},
            **{field: kind in most for kind, field in SPREAD_FIELDS.items()}, "setting_max": most.get("setting", 1),
            "practitioner_max": most.get("practitioner", 1),
            "sets": params.sets, "slack": f"{params.slack:g}",
            "seed": params.seed if params.seed_source == "given" else "",
            "relax": params.relax,
            "caps": [(d.column, app.dimension_name(d.column), d.weight, d.cap) for d in rules.dimensions]}


def rules_named(rules: Rules, names: tuple[str, ...]) -> list[str]:
    """Rules in words, by name, each with a capital to stand as a list's item; [] when any name
    is not a rule (as the cohort's size is not)."""
    by_name = {rule.name: rule for rule in rules.hard_rules}
    if not names or any(name not in by_name for name in names):
        return []
    return [f"{words[:1].upper()}{words[1:]}" for words in map(app.rule_in_words, (by_name[n] for n in names))]


def spread_kind(rule: SpreadRule) -> str:
    """Which of the page's two boxes a spread rule is: "setting", "practitioner", or "" for neither."""
    return "setting" if rule.column == "setting_id" else "practitioner" if rule.is_practitioner else ""


class FormError(InputError):
    """What the form says at its fields (a number a field does not take, a rule the caseload
    cannot meet): `fields` maps each number field to what it says there, `said` lists each as
    the error summary says it, with the field it links to."""

    def __init__(self, said: list[tuple[str, str]], fields: dict[str, str]) -> None:
        super().__init__(problems_said("the form", "its fields", [text for _, text in said]), "bad_form")
        self.said = said
        self.fields = fields


class _FormNumbers:
    """The form's whole numbers, each field's problem kept under the label the page shows it by
    (it said "'ap' must be ...", the field's name, and only the first of several)."""

    def __init__(self, form: Any, labels: dict[str, str]) -> None:
        self.form = form
        self.labels = labels
        self.said: list[tuple[str, str]] = []
        self.fields: dict[str, str] = {}

    def whole(self, name: str, low: int, high: int) -> int:
        text = str(self.form.get(name, "")).strip()
        if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
            self._wrong(name, f"a whole number from {low} to {high} is needed (got {text!r})")
            return low
        return int(text)

    def percent(self, name: str) -> float:
        """A share of the best score, as 5, 2.5 or 5% (0 up to, not including, 100; empty is 0)."""
        text = str(self.form.get(name, "")).strip()
        number = text.removesuffix("%").strip() or "0"
        try:
            value = float(number)
        except ValueError:
            value = -1.0
        if not 0 <= value < 100 or not number.replace(".", "", 1).isdigit():
            self._wrong(name, f"a number from 0 up to 100, such as 5 or 2.5, is needed (got {text!r})")
            return 0.0
        return value

    def _wrong(self, name: str, needed: str) -> None:
        self.said.append((name, f"{self.labels[name]}: {needed}"))
        self.fields[name] = needed[:1].upper() + needed[1:]

    def check(self) -> None:
        """Raises FormError naming every field whose number is not one it takes."""
        if self.said:
            raise FormError(self.said, self.fields)


# The form's fields that set a rule: its three minimums and its two spread boxes.
MINIMUM_FIELDS = {("setting_type", ("AP",)): "ap", ("plan_status", ("EHCP",)): "ehcp",
                  ("plan_status", ("SEN_SUPPORT",)): "sen"}
SPREAD_FIELDS = {"setting": "one_setting", "practitioner": "one_practitioner"}


def field_of(rule: CountRule | SpreadRule) -> str:
    """The form's field that sets a rule ('' for a rule of an uploaded file the form does not show)."""
    if isinstance(rule, CountRule):
        return MINIMUM_FIELDS.get((rule.column, rule.values), "")
    return SPREAD_FIELDS.get(spread_kind(rule), "")


def unmet_on_form(rules: Rules, profile: app.Profile) -> FormError | None:
    """The rules typed that this caseload cannot meet, each said at the field that sets it (a
    file's rule the form does not show, at the box that drops the fewest); None when every rule
    can be met as far as counting the children shows (the choice itself finds the rest)."""
    hard = list(rules.hard_rules)
    by_name = {rule.name: rule for rule in hard}
    owners = [(rule,) for rule in hard] + [tuple(by_name[name] for name in room.together)
                                           for room in profile.rooms if room.together]
    said: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    for (words, detail, can_meet, _), owned in zip(app.rules_in_words(profile), owners, strict=True):
        if can_meet:
            continue
        named = [field for field in map(field_of, owned) if field]
        do = ("lower one of them or make the cohort larger" if len(owned) > 1 else
              "lower it" if named and isinstance(owned[0], CountRule) else
              "untick it" if named else "change the rules file")
        text = f"{words[:1].upper()}{words[1:]} cannot be met ({detail}): {do}, or tick \"drop the fewest\""
        said.append((named[0] if named else "relax", text))
        fields.update({field: text for field in named if field in NUMBER_FIELDS and field not in fields})
    return FormError(said, fields) if said else None


# Each number field's label, as the page shows it and as a problem with it is said.
FIELD_LABELS = {"size": "Cohort size", "ap": "At least this many in alternative provision",
                "ehcp": "At least this many with an EHC plan", "sen": "At least this many at SEN support",
                "sets": "Ranked cohorts",
                "slack": "Slack: cohorts this many per cent below the best score also in the lottery", "seed": "Seed"}
# The form's fields that hold numbers, and its boxes: kept as typed when the page says what to change.
NUMBER_FIELDS = tuple(FIELD_LABELS)
BOX_FIELDS = (*SPREAD_FIELDS.values(), "relax")


def field_labels(rules: Rules) -> dict[str, str]:
    """Every number field's label, the weight and cap of each dimension too."""
    return {**FIELD_LABELS, **{f"{part}_{d.column}": f"{app.dimension_name(d.column)}: {part}"
                               for d in rules.dimensions for part in ("weight", "cap")}}


def typed_form(form: dict[str, Any], typed: Any) -> dict[str, Any]:
    """The form's values as the inspector typed them (a page that says what to change keeps
    every other change made), over those of the rules in force."""
    kept = dict(form, **{name: str(typed.get(name, "")) for name in NUMBER_FIELDS},
                **{name: bool(typed.get(name)) for name in BOX_FIELDS})
    kept["caps"] = [(column, name, str(typed.get(f"weight_{column}", weight)), str(typed.get(f"cap_{column}", cap)))
                    for column, name, weight, cap in form["caps"]]
    return kept


def rules_from_form(form: Any, base: Rules) -> tuple[Rules, app.SelectionParams]:
    """Rules and parameters from the page's form: the three usual minimums, the two spread
    rules, and the weight and cap of each dimension; other rules of an uploaded file are kept.

    Raises:
        InputError: a number on the form is not one its field takes (every such field named).
    """
    numbers = _FormNumbers(form, field_labels(base))
    size = numbers.whole("size", 1, 50)
    most = 50 if numbers.said else size  # (a minimum is not also said wrong for a size that is)
    mins = {rule: numbers.whole(field, 0, most) for rule, field in MINIMUM_FIELDS.items()}
    # The form sets these three minimums; a file's maximum, priority and label for them stay.
    counts = [replace(r, min=mins[(r.column, r.values)] or None) if (r.column, r.values) in mins else r
              for r in base.counts]
    counts += [CountRule(c, v, min=n, priority=10 if c == "setting_type" else 40) for (c, v), n in mins.items()
               if n and not any((r.column, r.values) == (c, v) for r in base.counts)]
    # The two boxes switch the setting and practitioner spread rules on or off (a file's maximum kept);
    # the file's other spread rules stay.
    ticked = {kind: bool(form.get(field)) for kind, field in SPREAD_FIELDS.items()}
    spreads = [r for r in base.spreads if ticked.get(spread_kind(r), True)]
    spreads += [SpreadRule(column, 1, priority=priority) for kind, column, priority in
                (("setting", "setting_id", 20), ("practitioner", "lead_practitioner", 30))
                if ticked[kind] and not any(spread_kind(r) == kind for r in base.spreads)]
    dimensions = tuple(Dimension(d.column, numbers.whole(f"weight_{d.column}", 0, 100),
                                 numbers.whole(f"cap_{d.column}", 0, 100)) for d in base.dimensions)
    # No seed given: one is drawn from this computer's secure random source, and shown with the result.
    given = str(form.get("seed", "")).strip() != ""
    seed = numbers.whole("seed", 0, SEED_LIMIT - 1) if given else 0
    sets = numbers.whole("sets", 1, 10)
    slack = numbers.percent("slack")
    numbers.check()
    rules = Rules(size=size, counts=tuple(r for r in counts if r.min is not None or r.max is not None),
                  spreads=tuple(spreads), dimensions=dimensions)
    rules = rules_from_dict(rules.to_dict(), source="the form")  # the file's checks apply to the form too
    params = app.SelectionParams(seed=seed, seed_source="given" if given else "random", sets=sets,
                                 relax=bool(form.get("relax")), slack=slack)
    return rules, params
