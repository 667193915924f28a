"""Random small caseloads for brute-force and property tests, and a brute-force optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from selector import check
from selector.contract.rules import CountRule, Dimension, Rules, SpreadRule
from tests.conftest import validated

SMALL_RULES = Rules(
    size=4,
    counts=(CountRule("setting_type", ("AP",), min=1, priority=10),
            CountRule("plan_status", ("EHCP",), min=1, priority=40),
            CountRule("plan_status", ("SEN_SUPPORT",), min=1, priority=40),
            CountRule("age_band", ("16-19",), max=1, priority=5)),
    spreads=(SpreadRule("setting_id", max=1, priority=20),
             SpreadRule("lead_practitioner", max=1, priority=30)),
    dimensions=(Dimension("primary_need", 4, 3), Dimension("age_band", 4, 3),
                Dimension("setting_type", 3, 2), Dimension("plan_status", 2, 3),
                Dimension("social_care", 2, 2), Dimension("services", 1, 3),
                Dimension("locality", 1, 2)),
)


def random_rows(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    """n children over a narrow vocabulary, so that rules bind and trade-offs are real."""
    rows = []
    for i in range(n):
        rows.append({
            "child_id": f"G{i:03d}",
            "age": int(rng.choice([3, 8, 12, 17, 21])),
            "primary_need": str(rng.choice(["ASD", "SLCN", "SEMH", "MLD", "PD"])),
            "plan_status": str(rng.choice(["EHCP", "SEN_SUPPORT", "ASSESSMENT"], p=[0.4, 0.5, 0.1])),
            "setting_type": str(rng.choice(["MAINSTREAM", "SPECIAL", "AP", "FE"], p=[0.5, 0.2, 0.15, 0.15])),
            "setting_id": str(rng.choice(["", "S1", "S2", "S3", "S4", "S5"])),
            "services": ";".join(sorted(set(rng.choice(["SALT", "OT", "CAMHS", "EP"], size=int(rng.integers(0, 3)))))),
            "social_care": str(rng.choice(["", "CIN", "CLA"], p=[0.7, 0.2, 0.1])),
            "locality": str(rng.choice(["", "North", "South", "East"])),
            "practitioner_email": f"p{int(rng.integers(0, max(2, n // 2)))}@example.org",
            "exclude": "true" if rng.random() < 0.1 else "false",
        })
    return rows


def random_caseload(seed: int, n: int) -> pd.DataFrame:
    return validated(random_rows(np.random.default_rng(seed), n)).frame


def brute_force(caseload: pd.DataFrame, rules: Rules) -> tuple[int | None, list[tuple[str, ...]]]:
    """The best score over every cohort that the checker accepts, and all cohorts reaching it
    (None when no cohort meets the rules). Uses only the independent checker."""
    ids = list(caseload.loc[caseload["eligible"], "child_id"])
    best, best_sets = None, []
    for combo in itertools.combinations(ids, rules.size):
        if check.violations(caseload, combo, rules):
            continue
        value = check.score(caseload, combo, rules)
        if best is None or value > best:
            best, best_sets = value, [combo]
        elif value == best:
            best_sets.append(combo)
    return best, best_sets


NEEDS = ["ASD", "SLCN", "SEMH", "MLD", "PD"]
SETTINGS = ["MAINSTREAM", "SPECIAL", "AP", "FE"]
PLANS = ["EHCP", "SEN_SUPPORT", "ASSESSMENT"]


@st.composite
def caseload_rows(draw: st.DrawFn, min_rows: int = 4, max_rows: int = 10) -> list[dict[str, object]]:
    """A small caseload valid by construction, every attribute drawn by Hypothesis (so failures
    shrink to the child and value that matter), localities in mixed case on purpose."""
    n = draw(st.integers(min_rows, max_rows))
    rows = []
    for i in range(n):
        rows.append({
            "child_id": f"H{i:02d}",
            "age": draw(st.sampled_from([3, 8, 12, 17, 21])),
            "primary_need": draw(st.sampled_from(NEEDS)),
            "plan_status": draw(st.sampled_from(PLANS)),
            "setting_type": draw(st.sampled_from(SETTINGS)),
            "setting_id": draw(st.sampled_from(["", "S1", "S2", "S3"])),
            "services": ";".join(draw(st.sets(st.sampled_from(["SALT", "OT", "CAMHS"]), max_size=2))),
            "social_care": draw(st.sampled_from(["", "CIN", "CLA"])),
            "locality": draw(st.sampled_from(["", "North", "NORTH", "south ", "South"])),
            "practitioner_email": f"p{draw(st.integers(0, max(1, n // 2)))}@example.org",
            "exclude": draw(st.sampled_from(["false", "false", "false", "true"])),
        })
    return rows


@st.composite
def small_rules(draw: st.DrawFn) -> Rules:
    """Rules drawn over the same vocabulary: size, count rules (min and/or max), spreads, weights, caps."""
    counts = []
    for _ in range(draw(st.integers(0, 2))):
        column, values = draw(st.sampled_from([("setting_type", SETTINGS), ("plan_status", PLANS),
                                               ("primary_need", NEEDS)]))
        low = draw(st.one_of(st.none(), st.integers(0, 2)))
        high = draw(st.one_of(st.none(), st.integers(1, 3))) if low is not None else draw(st.integers(0, 3))
        if low is not None and high is not None and low > high:
            low, high = high, low
        counts.append(CountRule(column, (draw(st.sampled_from(values)),), min=low, max=high))
    spreads = tuple(s for s in (SpreadRule("setting_id"), SpreadRule("lead_practitioner")) if draw(st.booleans()))
    dimensions = tuple(Dimension(column, draw(st.integers(0, 4)), draw(st.integers(0, 3)))
                       for column in ("primary_need", "age_band", "setting_type", "services", "locality"))
    return Rules(size=draw(st.integers(1, 4)), counts=tuple(counts), spreads=spreads, dimensions=dimensions)
