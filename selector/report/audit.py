"""The audit's content as data: the tables of audit.csv and the sections of audit.md and
audit.html (a summary for an inspector or a challenge, the per-dimension shares and charts)."""

from __future__ import annotations

import pandas as pd

from ..contract.cells import value_order
from ..solve.audit import Audit
from ..solve.lottery import Chances
from .chances import only_cohort, percent, places_by_value, values_by_child
from .charts import CASELOAD_COLOUR, COHORT_COLOUR, Series, bars
from .content import Chart, Section, Table, in_words, label

SIGNIFICANCE = 0.001  # a p-value below this is reported as a deviation


def audit_frame(result: Audit) -> pd.DataFrame:
    """audit.csv: one row per type of child who could be drawn: how many children, each one's
    chance, the count expected over the draws and the count observed, and the p-value."""
    return pd.DataFrame(
        [[t.type, t.children, f"{t.chance:.10f}", f"{t.expected:.3f}", t.observed, f"{t.p_value:.4g}"]
         for t in result.types],
        columns=["type", "children", "chance_each", "expected", "observed", "p_value"])


def audit_sections(caseload: pd.DataFrame, lottery: Chances, result: Audit, drawn: pd.Series,
                   shuffle_difference: float, size: int, off_cohorts: int = 0) -> list[Section]:
    """The audit's summary: whether the draws follow the computed chances, whether the order of
    the rows changes any chance, and each value's share of the chances against its share of the
    draws (`drawn`: how often each child was drawn, by child id)."""
    deviation = result.overall_p < SIGNIFICANCE or result.smallest_p_adjusted < SIGNIFICANCE
    verdict = ("The draws DEVIATE from the computed chances" if deviation
               else "No deviation from the computed chances was found")
    summary = Section("Summary", [
        (f"{verdict}: {result.draws} lotteries were drawn with seeds {result.first_seed} to "
         f"{result.first_seed + result.draws - 1}, and how often each type of child was drawn was compared "
         f"with the chances the lottery computes (chances.csv). Overall test: p = {result.overall_p:.3g} "
         f"(chi-square {result.overall_statistic:.1f} on {result.degrees} degrees of freedom); the smallest "
         f"p-value of the {len(result.types)} types, times their number, is {result.smallest_p_adjusted:.3g}. "
         f"A p-value below {SIGNIFICANCE} would show a deviation."),
        ("Every cohort drawn was checked by the independent checker: "
         + ("each meets every rule and scores at least " if not off_cohorts
            else f"{off_cohorts} distinct cohort(s) drawn break a rule or score less than ")
         + f"{lottery.threshold}" + (" (the best score)." if not lottery.slack_percent else ".")),
        (f"Row order: the caseload's rows were shuffled and the lottery computed again; the largest change in "
         f"any child's chance was {shuffle_difference:.3g}"
         + (" (none: the order of the rows changes nothing)." if shuffle_difference == 0 else ".")),
        (f"The lottery: only one cohort reaches the score, so its {lottery.possible} "
         f"{'child has' if lottery.possible == 1 else 'children have'} a chance of 100%, the most any lottery "
         f"could give{', and every other child none' if len(lottery.chances) > lottery.possible else ''}."
         if only_cohort(lottery) else
         f"The lottery: {lottery.possible} {'child' if lottery.possible == 1 else 'children'} could be drawn, with "
         "chances from "
         f"{percent(lottery.smallest)} to {percent(lottery.largest)}; "
         + ("proved the fairest possible." if lottery.proved
            else f"the fairest found in the {lottery.found_in} allowed (not proved the fairest).")
         + (f" No lottery over these cohorts could give every child who can be drawn more than "
            f"{percent(lottery.bound)}: the smallest chance is {lottery.certified_percent} of that."
            if lottery.bound is not None and lottery.certified is not None else "")),
        "audit.csv lists every type: its children, each one's chance, and the counts expected and observed.",
    ])
    eligible = caseload.loc[caseload["eligible"]].set_index("child_id", drop=False)
    chances = pd.Series(lottery.chances, index=list(lottery.child_ids))
    rows, charts = [], []
    values = values_by_child(eligible, chances.index)
    for column in values.columns:
        computed = places_by_value(values[column], chances, size)
        observed = places_by_value(values[column], drawn.reindex(chances.index) / result.draws, size)
        order = sorted(computed.index, key=value_order(column))
        for value in order:
            rows.append([label(column), in_words(column, value) or "(none)", percent(float(computed[value])),
                         percent(float(observed.get(value, 0.0)))])
        svg = bars(f"{label(column).capitalize()}: computed and drawn", [str(v) or "(none)" for v in order],
                   [Series("computed chance", CASELOAD_COLOUR, False, tuple(100 * float(computed[v]) for v in order)),
                    Series(f"share of {result.draws} draws", COHORT_COLOUR, True,
                           tuple(100 * float(observed.get(v, 0.0)) for v in order))],
                   "share of cohort 1's places (%)", "{:.1f}%")
        charts.append(Chart(f"audit_{column}.svg", f"{label(column).capitalize()}: computed and drawn", svg,
                            "; ".join(f"{v}: computed {computed[v]:.1%}, drawn {observed.get(v, 0.0):.1%}"
                                      for v in order)))
    shares = Section("Each value's share of cohort 1's places, computed and drawn", [
        ("For each need, age band, setting and locality: the share of cohort 1's places the computed chances "
         "give it, beside the share it had in the draws.")],
        [Table(["dimension", "value", "computed", "drawn"], rows)], charts)
    return [summary, shares]
