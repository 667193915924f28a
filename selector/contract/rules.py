"""The hard rules and the objective as data: the defaults, and plain data (a TOML file's or a
run record's) checked into typed rules, every problem collected.

A rules file (see data/sample/rules.toml) may set:

    size = 6
    [[count]]            # how many cohort members may have a value in a column
    column = "setting_type"
    value = "AP"         # or values = ["AP", "CUSTODY"]: a member matches any of them
    min = 1              # and/or max = ...
    priority = 10        # relaxing drops lower priorities first
    [[spread]]           # at most `max` members share one value of the column
    column = "setting_id"
    max = 1
    [objective.primary_need]
    weight = 4
    cap = 6
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .cells import MULTI_VALUED_COLUMNS, match_key
from .columns import CODE_COLUMNS, CONTRACT_COLUMNS, normalise_column
from .errors import RulesError, problems_said

# The practitioner spread rule reads this column of the validated caseload: the lead
# practitioner's id when given, else the lead contact's e-mail, else name and organisation.
PRACTITIONER_COLUMNS = {"lead_practitioner", "lead_practitioner_id", "practitioner", "practitioner_key"}


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
        dropped: names of rules relaxed away (recorded in every output).
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

    def defaults_left_out(self) -> tuple[str, ...]:
        """The default hard rules on a column and value (or, for a spread, a column) that these
        rules say nothing of, relaxed ones aside: a rules file's own [[count]] rules replace the
        defaults whole, so one written to add "at least 2 with services CAMHS" drops "at least 1
        with setting_type AP" without a word.

        >>> Rules(counts=(CountRule("setting_type", ("AP",), min=2),)).defaults_left_out()
        ('at least 2 with plan_status EHCP', 'at least 2 with plan_status SEN_SUPPORT', 'at most 1 per setting_id', 'at most 1 per lead practitioner')
        """
        def spread_of(rule: SpreadRule) -> str:  # any column naming the lead practitioner is one
            return "practitioner" if rule.is_practitioner else rule.column

        said = {(rule.column, value) for rule in self.counts for value in rule.values}
        spread = {spread_of(rule) for rule in self.spreads}
        left = [*(rule.name for rule in DEFAULT_RULES.counts if not any((rule.column, v) in said for v in rule.values)),
                *(rule.name for rule in DEFAULT_RULES.spreads if spread_of(rule) not in spread)]
        return tuple(name for name in left if name not in self.dropped)

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

# Priorities: a higher number is kept longer when rules are relaxed. The plan-status balance matters most
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


# Bounds that keep the model well-defined (CP-SAT needs bounded integers) and catch typos.
MAX_SIZE = 100
MAX_WEIGHT = 1000
MAX_CAP = 1000
MAX_PRIORITY = 1_000_000

Path_ = tuple[str | int, ...]
"""Where a value sits in the rules' data: ("count", 2, "min") is [[count]] 2's min."""


_COUNT_NAMED = re.compile(r"(?:(at least|at most) (\d+)|between (\d+) and (\d+)) with (\w+) (.+)")
_SPREAD_NAMED = re.compile(r"at most (\d+) per (lead practitioner|\w+)")


def rule_named(name: str) -> CountRule | SpreadRule | None:
    """The rule a name stands for (`CountRule.name`, `SpreadRule.name`), as a run records the
    rules it dropped (by name alone), so that they can be said in words; None for a rule's own
    label, which is words already.

    >>> rule_named("at least 1 with setting_type AP")
    CountRule(column='setting_type', values=('AP',), min=1, max=None, priority=0, label='')
    >>> rule_named("at most 1 per lead practitioner"), rule_named("no two from one school")
    (SpreadRule(column='lead_practitioner', max=1, priority=0, label=''), None)
    """
    if found := _SPREAD_NAMED.fullmatch(name):
        column = "lead_practitioner" if found[2] == "lead practitioner" else found[2]
        return SpreadRule(column, int(found[1]))
    if found := _COUNT_NAMED.fullmatch(name):
        values = tuple(found[6].split(" or "))
        if found[1]:
            many = int(found[2])
            return CountRule(found[5], values, min=many if found[1] == "at least" else None,
                             max=many if found[1] == "at most" else None)
        return CountRule(found[5], values, min=int(found[3]), max=int(found[4]))
    return None


def minimums_together(counts: Collection[CountRule]) -> list[tuple[tuple[CountRule, ...], int]]:
    """For each single-valued column with minimum rules on two or more different values, those
    rules and the members they need together: a child has one value of such a column (one plan,
    one setting type), so their minimums add up. Columns whose rules share a value are left out.

    >>> ehcp, sen = CountRule("plan_status", ("EHCP",), min=4), CountRule("plan_status", ("SEN_SUPPORT",), min=3)
    >>> [(len(rules), needed) for rules, needed in minimums_together([ehcp, sen])]
    [(2, 7)]
    """
    by_column: dict[str, list[CountRule]] = {}
    for rule in counts:
        if rule.min and rule.column not in MULTI_VALUED_COLUMNS:
            by_column.setdefault(rule.column, []).append(rule)
    together = []
    for column_rules in by_column.values():
        values = [set(rule.values) for rule in column_rules]
        if len(column_rules) > 1 and all(not a & b for i, a in enumerate(values) for b in values[i + 1:]):
            together.append((tuple(column_rules), sum(rule.min or 0 for rule in column_rules)))
    return together


def describe_path(path: Path_) -> str:
    """A place in the rules as a person reads it.

    >>> describe_path(("count", 2, "min")), describe_path(("objective", "locality", "cap"))
    ('[[count]] 2, min', '[objective.locality] cap')
    """
    if not path:
        return "top level"
    if path[0] in ("count", "spread") and len(path) > 1:
        head = f"[[{path[0]}]] {path[1]}"
        return head + (f", {path[2]}" if len(path) > 2 else "")
    if path[0] == "objective" and len(path) > 1:
        return f"[objective.{path[1]}]" + (f" {path[2]}" if len(path) > 2 else "")
    return ".".join(str(p) for p in path)


class _Problems:
    """Every problem found in the rules' data, each with its place (and line, when known)."""

    def __init__(self, source: str, locate: Any, columns: Collection[str] | None = None,
                 values: Callable[[str], Collection[str]] | None = None,
                 likely_code: Callable[[str, str], str] | None = None) -> None:
        self.source = source
        self.locate = locate
        self.columns = frozenset(columns) if columns is not None else None
        self.values = values
        self.likely_code = likely_code
        self.found: list[tuple[int, int, str]] = []

    def add(self, path: Path_, text: str) -> None:
        line = self.locate(path) if self.locate else None
        where = (f"line {line}, " if line else "") + describe_path(path)
        self.found.append((line or 0, len(self.found), f"{where}: {text}"))

    @property
    def items(self) -> list[str]:
        """The problems in the order of the file's lines (those without a line last, as found)."""
        return [text for _, _, text in sorted(self.found, key=lambda p: (p[0] == 0, p[0], p[1]))]

    def check_column(self, column: str, path: Path_, also: Collection[str] = ()) -> None:
        """A column a rule names must be in the caseload (when the caseload is known): a typo is
        an error, not a rule silently met or a term that silently scores 0."""
        if self.columns is None or column in self.columns or column in also:
            return
        near = difflib.get_close_matches(column, sorted(self.columns | set(also)), n=1)
        hint = f"; did you mean '{near[0]}'?" if near else ""
        self.add(path, f"the caseload has no column '{column}'{hint}")

    def check_values(self, column: str, wanted: tuple[str, ...], path: Path_) -> None:
        """A value a count rule names (outside the coded columns, whose codes are checked
        anyway) must be held by some child: a misspelt place would make the rule silently met."""
        if self.values is None or self.columns is None or column not in self.columns:
            return
        present = {match_key(v): str(v) for v in sorted(self.values(column), key=str)}
        for value in wanted:
            if match_key(value) not in present:
                near = difflib.get_close_matches(match_key(value), sorted(present), n=1)
                hint = f"; did you mean '{present[near[0]]}'?" if near else ""
                self.add(path, f"no child has {value!r} in {column}{hint}")

    def raise_if_any(self) -> None:
        if not self.found:
            return
        raise RulesError(problems_said(self.source, "the rules", self.items), "bad_rules", problems=tuple(self.items),
                         where=self.source,
                         fix="Correct the rules file at the lines named.")


def rules_from_dict(data: dict[str, Any], source: str = "rules", locate: Any = None,
                    columns: Collection[str] | None = None,
                    values: Callable[[str], Collection[str]] | None = None,
                    likely_code: Callable[[str, str], str] | None = None) -> Rules:
    """Build Rules from plain data (a TOML file's or a run record's), checking every key and
    collecting every problem before raising once.

    Args:
        data: the parsed rules.
        source: the name messages give the rules (a file name).
        locate: optional `path -> line number` for messages (the TOML reader supplies one).
        columns: the caseload's columns, when known: every column a rule or a weighted term
            names must be one of them (an optional contract column may be absent: it then
            limits or covers nothing).
        values: the values the caseload holds in a column, when known: a count rule's value
            outside the coded columns must be one of them.
        likely_code: `(column, text) -> code` a wrong value most likely means ('' for none),
            for the fix.

    >>> rules_from_dict({"size": 4}).size
    4
    >>> rules_from_dict({"count": [{"column": "plan_status", "value": "EHCP", "min": 7}]}, "r.toml")
    Traceback (most recent call last):
    ...
    selector.contract.errors.RulesError: r.toml: [[count]] 1, min: 7 is more than the cohort size 6
    """
    problems = _Problems(source, locate, columns, values, likely_code)
    if not isinstance(data, dict):
        problems.add((), "the rules must be a table of keys")
        problems.raise_if_any()
    _only_keys(problems, data, {"size", "count", "spread", "objective", "dropped"}, ())
    size = _whole(problems, data.get("size", DEFAULT_RULES.size), ("size",), 1, MAX_SIZE)

    counts = DEFAULT_RULES.counts
    if "count" in data:
        items = _tables(problems, data["count"], "count")
        counts = tuple(r for i, item in enumerate(items)
                       if (r := _count_rule(problems, item, i + 1, size)) is not None)
    spreads = DEFAULT_RULES.spreads
    if "spread" in data:
        items = _tables(problems, data["spread"], "spread")
        spreads = tuple(s for i, item in enumerate(items)
                        if (s := _spread_rule(problems, item, i + 1)) is not None)
    dimensions = DEFAULT_RULES.dimensions
    if "objective" in data:
        dimensions = _objective(problems, data["objective"], size or DEFAULT_RULES.size)
    dropped_raw = data.get("dropped", [])
    if not isinstance(dropped_raw, list) or not all(isinstance(x, str) for x in dropped_raw):
        problems.add(("dropped",), "must be a list of rule names")
        dropped_raw = []
    problems.raise_if_any()
    return Rules(size=size or 1, counts=counts, spreads=spreads, dimensions=dimensions,
                 dropped=tuple(dropped_raw))


def _only_keys(problems: _Problems, table: Any, allowed: set[str], path: Path_) -> bool:
    if not isinstance(table, dict):
        problems.add(path, "must be a table of keys")
        return False
    for key in sorted(set(table) - allowed):
        near = difflib.get_close_matches(str(key), sorted(allowed), n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        problems.add((*path, key), f"unknown key {key!r}{guess}; the keys here are {', '.join(sorted(allowed))}")
    return True


def _tables(problems: _Problems, value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        problems.add((key,), f"must be written as [[{key}]] tables")
        return []
    return value


def _whole(problems: _Problems, value: Any, path: Path_, low: int, high: int) -> int | None:
    """A whole number from `low` to `high`, or None (with a problem recorded)."""
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, f"must be a whole number (got {value!r})")
        return None
    if not low <= value <= high:
        problems.add(path, f"must be from {low} to {high} (got {value})")
        return None
    return value


def _count_rule(problems: _Problems, item: Any, number: int, size: int | None) -> CountRule | None:
    path: Path_ = ("count", number)
    if not _only_keys(problems, item, {"column", "value", "values", "min", "max", "priority", "name"}, path):
        return None
    column = _column(problems, item.get("column"), (*path, "column"))
    if column is not None:
        problems.check_column(column, (*path, "column"))  # counted, so it must be there
    if ("value" in item) == ("values" in item):
        problems.add(path, "needs exactly one of 'value' or 'values'")
        return None
    raw_values = item["values"] if "values" in item else [item["value"]]
    if not isinstance(raw_values, list) or not raw_values or not all(
            isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip() for v in raw_values):
        problems.add((*path, "values" if "values" in item else "value"),
                     "must be a value, or a non-empty list of values, written as text")
        return None
    # Codes in capitals, as the data holds them; other values (a locality, a kept column's) as
    # written, as the data spells them (they match in any case): `Oakham Vale`, not `OAKHAM VALE`.
    values = tuple(str(v).strip().upper() if column in CODE_COLUMNS or column == "services" else str(v).strip()
                   for v in raw_values)
    if column in CODE_COLUMNS:
        for value in values:
            if value not in CODE_COLUMNS[column]:
                meant = problems.likely_code(column, value) if problems.likely_code else ""
                problems.add((*path, "values" if "values" in item else "value"),
                             f"{value!r} is not one of the {column} codes ({' '.join(CODE_COLUMNS[column])})"
                             + (f"; did you mean '{meant}'?" if meant else ""))
    elif column is not None:
        problems.check_values(column, tuple(str(v).strip() for v in raw_values), (*path, "values" if "values" in item else "value"))
    if "min" not in item and "max" not in item:
        problems.add(path, "needs 'min' and/or 'max'")
        return None
    limit = MAX_SIZE
    low = _whole(problems, item["min"], (*path, "min"), 0, limit) if "min" in item else None
    high = _whole(problems, item["max"], (*path, "max"), 0, limit) if "max" in item else None
    priority = _whole(problems, item.get("priority", 0), (*path, "priority"), 0, MAX_PRIORITY)
    label = item.get("name", "")
    if not isinstance(label, str):
        problems.add((*path, "name"), f"must be text (got {label!r})")
        label = ""
    if column is None or ("min" in item and low is None) or ("max" in item and high is None) or priority is None:
        return None
    rule = CountRule(column=column, values=values, min=low, max=high, priority=priority, label=label)
    if low is not None and high is not None and low > high:
        problems.add((*path, "min"), f"{low} is more than max {high}")
    if low is not None and size is not None and low > size:
        problems.add((*path, "min"), f"{low} is more than the cohort size {size}")
    return rule


def _spread_rule(problems: _Problems, item: Any, number: int) -> SpreadRule | None:
    path: Path_ = ("spread", number)
    if not _only_keys(problems, item, {"column", "max", "priority", "name"}, path):
        return None
    column = _column(problems, item.get("column"), (*path, "column"))
    if column is not None:
        problems.check_column(column, (*path, "column"), (*CONTRACT_COLUMNS, *PRACTITIONER_COLUMNS))
    most = _whole(problems, item.get("max", 1), (*path, "max"), 1, MAX_SIZE)
    priority = _whole(problems, item.get("priority", 0), (*path, "priority"), 0, MAX_PRIORITY)
    label = item.get("name", "")
    if not isinstance(label, str):
        problems.add((*path, "name"), f"must be text (got {label!r})")
        label = ""
    if column is None or most is None or priority is None:
        return None
    return SpreadRule(column=column, max=most, priority=priority, label=label)


def _objective(problems: _Problems, table: Any, size: int) -> tuple[Dimension, ...]:
    """The objective's terms. A term without `weight` or `cap` takes the default rules' own for
    its column (`[objective.age_band] weight = 6` keeps age bands counted up to 5); a column
    outside them takes weight 1 and every distinct value counted up to the cohort size, so
    `[objective.gender] weight = 1` asks for a spread of genders (a cap of 1 would count one
    gender, which every cohort covers, and so change nothing)."""
    if not isinstance(table, dict):
        problems.add(("objective",), "must be a table of columns, e.g. [objective.primary_need]")
        return ()
    defaults = {d.column: d for d in DEFAULT_RULES.dimensions}
    dims = []
    for column, spec in table.items():
        path: Path_ = ("objective", column)
        if not _only_keys(problems, spec, {"weight", "cap"}, path):
            continue
        name = _column(problems, column, path)
        default = defaults.get(name or "", Dimension(column="", weight=1, cap=size))
        weight = _whole(problems, spec.get("weight", default.weight), (*path, "weight"), 0, MAX_WEIGHT)
        cap = _whole(problems, spec.get("cap", default.cap), (*path, "cap"), 0, MAX_CAP)
        if name is not None and weight:
            problems.check_column(name, path, CONTRACT_COLUMNS)
        if name is not None and weight is not None and cap is not None:
            dims.append(Dimension(column=name, weight=weight, cap=cap))
    return tuple(dims)


def _column(problems: _Problems, value: Any, path: Path_) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "must name a column (text)")
        return None
    return normalise_column(value)
