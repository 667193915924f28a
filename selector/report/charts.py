"""Charts for the reports: horizontal bars written as SVG from a template, with no plotting
library (importing one cost every run most of a second). The same data give the same bytes.
The cohort's bars are hatched as well as coloured, every bar is labelled with its value, and
each chart carries a title and a text description, so no meaning rests on colour or sight."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd

CASELOAD_COLOUR, COHORT_COLOUR = "#4a6fa5", "#e07b39"
WIDTH, LABEL_RIGHT, BARS_LEFT, BARS_SPAN = 640, 176, 184, 380
TOP, BAR_HEIGHT, GAP = 36, 14, 8


@dataclass(frozen=True)
class Series:
    """One set of bars: its name in the legend, its fill, and a value per row."""

    label: str
    colour: str
    hatched: bool
    values: tuple[float, ...]


@cache
def _template() -> jinja2.Template:
    folder = Path(__file__).parent / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.get_template("bars.svg.j2")


def _number(value: float) -> str:
    """Coordinates with at most one decimal, so the text is short and the same everywhere."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def bars(title: str, labels: list[str], series: list[Series], axis_label: str, text: str) -> str:
    """A horizontal bar chart: one row per label, one bar per series in each row.

    Args:
        text: how a value is written beside its bar, e.g. "{:.0f}%".
    """
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "chart"
    most = max([v for s in series for v in s.values] + [1e-9])
    row_height = BAR_HEIGHT * len(series) + GAP
    rows = []
    for i, label in enumerate(labels):
        top = TOP + i * row_height
        row_bars = []
        for j, one in enumerate(series):
            value = one.values[i]
            y = top + j * BAR_HEIGHT
            width = BARS_SPAN * value / most / 1.15
            row_bars.append({"y": _number(y), "height": BAR_HEIGHT - 2, "width": _number(width),
                             "text_x": _number(BARS_LEFT + width + 4), "text_y": _number(y + (BAR_HEIGHT - 2) / 2),
                             "fill": f"url(#{slug}-hatch)" if one.hatched else one.colour,
                             "outline": one.hatched, "text": text.format(value)})
        rows.append({"label": label, "label_y": _number(top + len(series) * BAR_HEIGHT / 2), "bars": row_bars})
    axis_bottom = TOP + len(labels) * row_height
    legend = []
    x = BARS_LEFT
    for one in series if len(series) > 1 else []:
        legend.append({"x": x, "label": one.label, "outline": one.hatched,
                       "fill": f"url(#{slug}-hatch)" if one.hatched else one.colour})
        x += 28 + 7 * len(one.label)
    description = "; ".join(
        f"{label}: " + ", ".join(f"{one.label} {text.format(one.values[i])}" for one in series)
        for i, label in enumerate(labels))
    hatch = next((s.colour for s in series if s.hatched), COHORT_COLOUR)
    svg = _template().render(
        slug=slug, title=title, description=description, width=WIDTH, rows=rows, label_right=LABEL_RIGHT,
        bars_left=BARS_LEFT, bars_span=BARS_SPAN, axis_top=TOP - 4, axis_bottom=axis_bottom, axis_label=axis_label,
        legend=legend, legend_y=axis_bottom + 30, hatch_colour=hatch,
        height=axis_bottom + (50 if legend else 30))
    return svg.strip() + "\n"


def compare_shares(title: str, caseload: pd.Series, cohort: pd.Series) -> str:
    """Horizontal bars: each value's share of the eligible caseload beside its share of the cohort.

    Args:
        title: the chart's title (e.g. "Primary need").
        caseload: count per value among eligible CYP.
        cohort: count per value among cohort 1.
    """
    values = list(caseload.index)
    values += [v for v in cohort.index if v not in values]
    base = caseload.reindex(values, fill_value=0) / max(caseload.sum(), 1) * 100
    chosen = cohort.reindex(values, fill_value=0) / max(cohort.sum(), 1) * 100
    return bars(title, [str(v) for v in values],
                [Series("caseload (eligible)", CASELOAD_COLOUR, False, tuple(float(x) for x in base)),
                 Series("cohort 1", COHORT_COLOUR, True, tuple(float(x) for x in chosen))],
                "share (%)", "{:.0f}%")


def counts_bar(title: str, counts: pd.Series) -> str:
    """Horizontal bars of a count per value (the caseload profile)."""
    return bars(title, [str(v) for v in counts.index],
                [Series("eligible CYP", CASELOAD_COLOUR, False, tuple(float(x) for x in counts.to_numpy()))],
                "eligible CYP", "{:.0f}")
