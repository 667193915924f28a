"""The hard rules and the objective as data: defaults from the SPEC, or read from a TOML file.

A rules file (see data/sample/rules.toml) may set:

    size = 6
    [[count]]            # how many cohort members may have a value in a column
    column = "setting_type"
    value = "AP"         # or values = ["AP", "CUSTODY"]: a member matches any of them
    min = 1              # and/or max = ...
    priority = 10        # --relax drops lower priorities first
    [[spread]]           # at most `max` members share one value of the column
    column = "setting_id"
    max = 1
    [objective.primary_need]
    weight = 4
    cap = 6
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import RulesError

# The practitioner spread rule reads this column of the validated caseload: the lead
# practitioner's id when given, else the lead contact's e-mail, else name and organisation.
PRACTITIONER_COLUMNS = {"lead_practitioner", "lead_practitioner_id", "practitioner", "practitioner_key"}
MULTI_VALUED_COLUMNS = {"services"}


@dataclass(frozen=True)
class CountRule:
    """At least `min` and at most `max` cohort members have one of `values` in `column`."""

    column: str
    values: tuple[str, ...]
    min: int | None = None
    max: int | None = None
    priority: int = 0
    label: str = ""

    @property
    def name(self) -> str:
        """The rule in words, as messages and outputs show it."""
        if self.label:
            return self.label
        what = f"{self.column} {' or '.join(self.values)}"
        if self.min is not None and self.max is not None:
            return f"between {self.min} and {self.max} with {what}"
        if self.min is not None:
            return f"at least {self.min} with {what}"
        return f"at most {self.max} with {what}"


@dataclass(frozen=True)
class SpreadRule:
    """At most `max` cohort members share any one (known) value of `column`."""

    column: str
    max: int = 1
    priority: int = 0
    label: str = ""

    @property
    def is_practitioner(self) -> bool:
        return self.column in PRACTITIONER_COLUMNS

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        what = "lead practitioner" if self.is_practitioner else self.column
        return f"at most {self.max} per {what}"


@dataclass(frozen=True)
class Dimension:
    """An objective term: `weight` x (distinct values covered in `column`, counted up to `cap`)."""

    column: str
    weight: int
    cap: int

    @property
    def multi_valued(self) -> bool:
        """`services` holds a `;`-list; each service named counts as a value."""
        return self.column in MULTI_VALUED_COLUMNS


@dataclass(frozen=True)
class Rules:
    """Everything that decides what a good cohort is.

    Attributes:
        size: cohort size (exact).
        counts: min/max count rules.
        spreads: spread rules (at most N per setting, per practitioner).
        dimensions: the objective's weighted, capped coverage terms.
        dropped: names of rules that --relax dropped (recorded in every output).
    """

    size: int = 6
    counts: tuple[CountRule, ...] = ()
    spreads: tuple[SpreadRule, ...] = ()
    dimensions: tuple[Dimension, ...] = ()
    dropped: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.size < 1:
            raise RulesError(f"size must be at least 1 (got {self.size}).", "bad_size")

    @property
    def hard_rules(self) -> tuple[CountRule | SpreadRule, ...]:
        """Every relaxable rule, counts first."""
        return (*self.counts, *self.spreads)

    def with_size(self, size: int) -> Rules:
        return replace(self, size=size)

    def without(self, names: set[str]) -> Rules:
        """These rules with the named hard rules dropped (and recorded as dropped)."""
        return replace(
            self,
            counts=tuple(r for r in self.counts if r.name not in names),
            spreads=tuple(r for r in self.spreads if r.name not in names),
            dropped=tuple(sorted(set(self.dropped) | names)),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for run.json; `from_dict` reads it back."""
        def clean(d: dict[str, Any]) -> dict[str, Any]:
            return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
                    if v is not None and v != ""}

        return {
            "size": self.size,
            "count": [clean(asdict(r)) for r in self.counts],
            "spread": [clean(asdict(r)) for r in self.spreads],
            "objective": {d.column: {"weight": d.weight, "cap": d.cap} for d in self.dimensions},
            "dropped": list(self.dropped),
        }


DEFAULT_DIMENSIONS = (
    Dimension("primary_need", 4, 6),
    Dimension("age_band", 4, 5),
    Dimension("setting_type", 3, 4),
    Dimension("plan_status", 2, 3),
    Dimension("social_care", 2, 2),
    Dimension("services", 1, 8),
    Dimension("locality", 1, 6),
)

# Priorities: a higher number is kept longer by --relax. The plan-status balance matters most
# to inspectors; then one family per practitioner (workload of consent calls), one child per
# setting, and AP, which inspectors "usually" but not always include.
DEFAULT_RULES = Rules(
    size=6,
    counts=(
        CountRule("setting_type", ("AP",), min=1, priority=10),
        CountRule("plan_status", ("EHCP",), min=2, priority=40),
        CountRule("plan_status", ("SEN_SUPPORT",), min=2, priority=40),
    ),
    spreads=(
        SpreadRule("setting_id", max=1, priority=20),
        SpreadRule("lead_practitioner", max=1, priority=30),
    ),
    dimensions=DEFAULT_DIMENSIONS,
)


def load_rules(path: Path | str) -> Rules:
    """Read a rules TOML file; anything it leaves out keeps the SPEC's default.

    Raises:
        RulesError: the file is missing, not TOML, or a key or value is wrong (named).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise RulesError(f"{path.name}: rules file not found ({path}).", "missing_file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path.name}: cannot be read as UTF-8 text ({exc}).", "unreadable") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path.name}: not valid TOML: {exc}. Fix that line.", "bad_toml") from exc
    return rules_from_dict(data, source=path.name)


def rules_from_dict(data: dict[str, Any], source: str = "rules") -> Rules:
    """Build Rules from plain data (a TOML file's or run.json's), checking every key.

    >>> rules_from_dict({"size": 4}).size
    4
    >>> rules_from_dict({"count": [{"column": "plan_status", "value": "EHCP", "min": 7}]}, "r.toml")
    Traceback (most recent call last):
    ...
    selector.errors.RulesError: r.toml: [[count]] 1 (at least 7 with plan_status EHCP): min 7 is more than the cohort size 6.
    """
    _only_keys(data, {"size", "count", "spread", "objective", "dropped"}, source, "top level")
    size = _int(data.get("size", DEFAULT_RULES.size), source, "size", low=1)

    counts = DEFAULT_RULES.counts
    if "count" in data:
        counts = tuple(_count_rule(item, source, i + 1) for i, item in enumerate(_list(data["count"], source, "count")))
    spreads = DEFAULT_RULES.spreads
    if "spread" in data:
        spreads = tuple(_spread_rule(item, source, i + 1) for i, item in enumerate(_list(data["spread"], source, "spread")))
    dimensions = DEFAULT_RULES.dimensions
    if "objective" in data:
        dimensions = _objective(data["objective"], source)
    dropped = tuple(str(x) for x in data.get("dropped", ()))
    rules = Rules(size=size, counts=counts, spreads=spreads, dimensions=dimensions, dropped=dropped)
    _check_consistent(rules, source)
    return rules


def _only_keys(table: Any, allowed: set[str], source: str, where: str) -> None:
    if not isinstance(table, dict):
        raise RulesError(f"{source}: {where} must be a table of keys.", "bad_rules")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise RulesError(
            f"{source}: unknown key {unknown[0]!r} in {where}; the keys are {', '.join(sorted(allowed))}.",
            "unknown_key",
        )


def _list(value: Any, source: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise RulesError(f"{source}: '{key}' must be written as [[{key}]] tables.", "bad_rules")
    return value


def _int(value: Any, source: str, key: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RulesError(f"{source}: {key} must be a whole number (got {value!r}).", "bad_value")
    if value < low:
        raise RulesError(f"{source}: {key} must be at least {low} (got {value}).", "bad_value")
    return value


def _count_rule(item: Any, source: str, number: int) -> CountRule:
    where = f"[[count]] {number}"
    _only_keys(item, {"column", "value", "values", "min", "max", "priority", "name"}, source, where)
    if "column" not in item:
        raise RulesError(f"{source}: {where} has no 'column'.", "missing_key")
    if ("value" in item) == ("values" in item):
        raise RulesError(f"{source}: {where} needs exactly one of 'value' or 'values'.", "missing_key")
    raw_values = item.get("values", [item.get("value")])
    if not isinstance(raw_values, list) or not raw_values:
        raise RulesError(f"{source}: {where}: 'values' must be a non-empty list.", "bad_value")
    values = tuple(str(v).strip().upper() for v in raw_values)
    if "min" not in item and "max" not in item:
        raise RulesError(f"{source}: {where} needs 'min' and/or 'max'.", "missing_key")
    rule = CountRule(
        column=_column(item["column"], source, where),
        values=values,
        min=_int(item["min"], source, f"{where} min") if "min" in item else None,
        max=_int(item["max"], source, f"{where} max") if "max" in item else None,
        priority=_int(item.get("priority", 0), source, f"{where} priority"),
        label=str(item.get("name", "")),
    )
    if rule.min is not None and rule.max is not None and rule.min > rule.max:
        raise RulesError(f"{source}: {where} ({rule.name}): min {rule.min} is more than max {rule.max}.",
                         "contradictory")
    return rule


def _spread_rule(item: Any, source: str, number: int) -> SpreadRule:
    where = f"[[spread]] {number}"
    _only_keys(item, {"column", "max", "priority", "name"}, source, where)
    if "column" not in item:
        raise RulesError(f"{source}: {where} has no 'column'.", "missing_key")
    return SpreadRule(
        column=_column(item["column"], source, where),
        max=_int(item.get("max", 1), source, f"{where} max", low=1),
        priority=_int(item.get("priority", 0), source, f"{where} priority"),
        label=str(item.get("name", "")),
    )


def _objective(table: Any, source: str) -> tuple[Dimension, ...]:
    if not isinstance(table, dict):
        raise RulesError(f"{source}: [objective] must be a table of columns.", "bad_rules")
    dims = []
    for column, spec in table.items():
        where = f"[objective.{column}]"
        _only_keys(spec, {"weight", "cap"}, source, where)
        dims.append(Dimension(
            column=_column(column, source, where),
            weight=_int(spec.get("weight", 1), source, f"{where} weight"),
            cap=_int(spec.get("cap", 1), source, f"{where} cap"),
        ))
    return tuple(dims)


def _column(value: Any, source: str, where: str) -> str:
    from .schema import normalise_column

    if not isinstance(value, str) or not value.strip():
        raise RulesError(f"{source}: {where}: column must be a column name.", "bad_value")
    return normalise_column(value)


def _check_consistent(rules: Rules, source: str) -> None:
    """Contradictions visible without any data: a minimum above the size, or minimums of
    the same column's different values adding up to more than the size."""
    for i, rule in enumerate(rules.counts, start=1):
        if rule.min is not None and rule.min > rules.size:
            raise RulesError(
                f"{source}: [[count]] {i} ({rule.name}): min {rule.min} is more than the cohort size {rules.size}.",
                "contradictory",
            )
    by_column: dict[str, list[CountRule]] = {}
    for rule in rules.counts:
        if rule.min and rule.column not in MULTI_VALUED_COLUMNS:
            by_column.setdefault(rule.column, []).append(rule)
    for column, column_rules in by_column.items():
        disjoint = all(
            not set(a.values) & set(b.values)
            for j, a in enumerate(column_rules) for b in column_rules[j + 1:]
        )
        total = sum(r.min or 0 for r in column_rules)
        if disjoint and total > rules.size:
            names = "; ".join(r.name for r in column_rules)
            raise RulesError(
                f"{source}: rules on {column} need {total} members but the cohort has {rules.size}: {names}.",
                "contradictory",
            )


def rules_to_toml(rules: Rules) -> str:
    """The rules written out as a commented TOML file (the form `load_rules` reads)."""
    lines = [
        "# selector rules: the SPEC's defaults written out. Edit and pass with --rules FILE.",
        "# Cohort size (exact).",
        f"size = {rules.size}",
        "",
        "# Count rules: at least `min` / at most `max` cohort members with a value in a column.",
        "# `values = [\"A\", \"B\"]` matches either. `priority`: --relax drops lower numbers first.",
        "# Any column can be used, e.g. social_care = CLA (min 1) or age_band = 16-19 (max 2).",
    ]
    for rule in rules.counts:
        lines += ["[[count]]", f'column = "{rule.column}"']
        if len(rule.values) == 1:
            lines.append(f'value = "{rule.values[0]}"')
        else:
            lines.append("values = [" + ", ".join(f'"{v}"' for v in rule.values) + "]")
        if rule.min is not None:
            lines.append(f"min = {rule.min}")
        if rule.max is not None:
            lines.append(f"max = {rule.max}")
        lines += [f"priority = {rule.priority}", ""]
    lines += [
        "# Spread rules: at most `max` cohort members share one setting / lead practitioner.",
        "# Children with no setting_id or no known practitioner are not limited by these.",
    ]
    for spread in rules.spreads:
        lines += ["[[spread]]", f'column = "{spread.column}"', f"max = {spread.max}",
                  f"priority = {spread.priority}", ""]
    lines += [
        "# The objective: for each column, weight x distinct values the cohort covers,",
        "# counted up to cap. Missing values cover nothing; social_care NONE is a value.",
    ]
    for dim in rules.dimensions:
        lines += [f"[objective.{dim.column}]", f"weight = {dim.weight}", f"cap = {dim.cap}", ""]
    return "\n".join(lines)
