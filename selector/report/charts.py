"""Charts for the reports, drawn with matplotlib (headless) as SVG text that is the same for the
same data: fixed ids, no timestamps. Bars are hatched as well as coloured, and every bar is
labelled with its value, so that no meaning rests on colour alone."""

from __future__ import annotations

import io

import pandas as pd

CASELOAD_COLOUR, COHORT_COLOUR = "#4a6fa5", "#e07b39"


def _figure(height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "selector"  # stable element ids
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: readable, searchable, small
    from matplotlib.figure import Figure

    return Figure(figsize=(6.4, height), dpi=100)


def _svg(figure) -> str:  # type: ignore[no-untyped-def]
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: drop the XML prologue and doctype


def compare_shares(title: str, caseload: pd.Series, cohort: pd.Series) -> str:
    """Horizontal bars: each value's share of the eligible caseload beside its share of the cohort.

    Args:
        title: the chart's title (e.g. "Primary need").
        caseload: count per value among eligible CYP.
        cohort: count per value among cohort 1.
    """
    values = list(caseload.index)
    values += [v for v in cohort.index if v not in values]
    base = (caseload.reindex(values, fill_value=0) / max(caseload.sum(), 1) * 100).to_numpy()
    chosen = (cohort.reindex(values, fill_value=0) / max(cohort.sum(), 1) * 100).to_numpy()
    figure = _figure(0.35 * len(values) + 1.2)
    axes = figure.add_subplot()
    rows = range(len(values))
    bars_a = axes.barh([r - 0.2 for r in rows], base, height=0.4, color=CASELOAD_COLOUR, label="caseload (eligible)")
    bars_b = axes.barh([r + 0.2 for r in rows], chosen, height=0.4, color=COHORT_COLOUR, hatch="//",
                       edgecolor="#222222", label="cohort 1")
    for bars in (bars_a, bars_b):
        axes.bar_label(bars, labels=[f"{w:.0f}%" for w in bars.datavalues], padding=2, fontsize=8)
    axes.set_yticks(list(rows), [str(v) for v in values], fontsize=9)
    axes.invert_yaxis()
    axes.set_xlabel("share (%)")
    axes.set_title(title, fontsize=11)
    axes.set_xlim(0, max([*base, *chosen, 1]) * 1.25)
    axes.legend(fontsize=8, loc="lower right")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def counts_bar(title: str, counts: pd.Series) -> str:
    """Horizontal bars of a count per value (the caseload profile)."""
    figure = _figure(0.28 * len(counts) + 1.2)
    axes = figure.add_subplot()
    rows = range(len(counts))
    bars = axes.barh(list(rows), counts.to_numpy(), color=CASELOAD_COLOUR)
    axes.bar_label(bars, labels=[str(int(v)) for v in counts.to_numpy()], padding=2, fontsize=8)
    axes.set_yticks(list(rows), [str(v) for v in counts.index], fontsize=9)
    axes.invert_yaxis()
    axes.set_xlabel("eligible CYP")
    axes.set_title(title, fontsize=11)
    axes.set_xlim(0, max([*counts.to_numpy(), 1]) * 1.2)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
