"""Rules files: read with tomllib (every problem reported together, each with its line) and
written with a real TOML writer (tomli-w), with comments that explain each part."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import tomli_w

from ..contract.errors import RulesError
from ..contract.rules import Path_, Rules, rules_from_dict
from .text import read_text


def load_rules(path: Path | str, columns: Collection[str] | None = None,
               values: Callable[[str], Collection[str]] | None = None,
               likely_code: Callable[[str, str], str] | None = None) -> Rules:
    """Read a rules TOML file; anything it leaves out keeps the default. `likely_code(column,
    text)`, when given, names the code a wrong value most likely means, for the fix.

    Raises:
        RulesError: the file is missing, not TOML, or has wrong keys or values (all named, by line).
    """
    path = Path(path)
    try:
        text = read_text(path)
    except FileNotFoundError as exc:
        raise RulesError(f"{path.name}: rules file not found ({path}).", "missing_file",
                         where=path.name) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path.name}: cannot be read as text ({exc}). Save it as UTF-8 text.", "unreadable") from exc
    return rules_from_text(text, path.name, columns, values, likely_code)


def rules_from_text(text: str, source: str, columns: Collection[str] | None = None,
                    values: Callable[[str], Collection[str]] | None = None,
                    likely_code: Callable[[str, str], str] | None = None) -> Rules:
    """Rules from TOML text (a file's, or an upload's); `columns` and `values`, when given, are the
    caseload's, which every rule must name correctly."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}. Fix that line.", "bad_toml", where=source) from exc
    return rules_from_dict(data, source=source, locate=line_locator(text), columns=columns,
                           values=values, likely_code=likely_code)


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def line_locator(text: str) -> Any:
    """A function giving the line number (from 1) of a place in the rules, e.g. ("count", 2, "min")
    is the `min =` line of the second [[count]] table; None when it cannot be found."""
    lines = text.splitlines()
    # (header text, array?) -> start line of each occurrence
    sections: list[tuple[str, bool, int]] = [("", False, 0)]
    for number, line in enumerate(lines):
        found = _HEADER.match(line)
        if found:
            sections.append((found.group(2).replace('"', "").replace(" ", ""), found.group(1) == "[[", number))

    def body(start: int) -> range:
        later = [s for _, _, s in sections if s > start]
        return range(start, min(later) if later else len(lines))

    def key_line(span: range, key: str) -> int | None:
        pattern = re.compile(rf'^\s*"?{re.escape(str(key))}"?\s*=')
        return next((i + 1 for i in span if pattern.match(lines[i])), None)

    def locate(path: Path_) -> int | None:
        if not path:
            return None
        if path[0] in ("count", "spread") and len(path) >= 2:
            starts = [s for name, array, s in sections if array and name == path[0]]
            index = int(path[1]) - 1
            if not 0 <= index < len(starts):
                return None
            start = starts[index]
            return (key_line(body(start + 1), str(path[2])) if len(path) > 2 else None) or start + 1
        if path[0] == "objective" and len(path) >= 2:
            for name, _array, start in sections:
                if name == f"objective.{path[1]}":
                    return (key_line(body(start + 1), str(path[2])) if len(path) > 2 else None) or start + 1
            for name, _array, start in sections:
                if name == "objective":
                    return key_line(body(start + 1), str(path[1]))
            return None
        return key_line(body(0), str(path[0]))

    return locate


def rules_to_toml(rules: Rules) -> str:
    """The rules as a commented TOML file (the form `load_rules` reads)."""
    def toml(data: dict[str, Any]) -> str:
        return tomli_w.dumps(data)

    parts = [
        "# selector rules: the defaults written out. Edit and pass with --rules FILE.\n",
        "# Cohort size (exact).\n",
        toml({"size": rules.size}),
        "\n# Count rules: at least `min` / at most `max` cohort members with a value in a column.\n",
        "# `values = [\"A\", \"B\"]` matches either. `priority`: --relax drops lower numbers first.\n",
        "# Any column can be used, e.g. social_care = CLA (min 1) or age_band = 16-19 (max 2);\n",
        "# one outside the data contract once kept with --keep-column HEADER.\n",
    ]
    for rule in rules.counts:
        entry: dict[str, Any] = {"column": rule.column}
        if len(rule.values) == 1:
            entry["value"] = rule.values[0]
        else:
            entry["values"] = list(rule.values)
        entry.update({k: v for k, v in (("min", rule.min), ("max", rule.max)) if v is not None})
        entry["priority"] = rule.priority
        if rule.label:
            entry["name"] = rule.label
        parts.append("[[count]]\n" + toml(entry) + "\n")
    parts += [
        "# Spread rules: at most `max` cohort members share one setting / lead practitioner.\n",
        "# Children with no setting_id or no known practitioner are not limited by these.\n",
    ]
    for spread in rules.spreads:
        entry = {"column": spread.column, "max": spread.max, "priority": spread.priority}
        if spread.label:
            entry["name"] = spread.label
        parts.append("[[spread]]\n" + toml(entry) + "\n")
    parts += [
        "# The objective: for each column, weight x distinct values the cohort covers,\n",
        "# counted up to cap. Missing values cover nothing; social_care NONE is a value.\n",
    ]
    for dim in rules.dimensions:
        parts.append(toml({"objective": {dim.column: {"weight": dim.weight, "cap": dim.cap}}}) + "\n")
    return "".join(parts).rstrip("\n") + "\n"
