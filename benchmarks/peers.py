"""Other ways a user might choose a cohort, for cross-checks and benchmarks.

Written apart from selector's CP-SAT model, reading the validated caseload frame directly:
- `milp_optimum`: the same problem as a generic MILP in scipy's HiGHS (scipy.optimize.milp);
- `greedy`: the obvious hand-written max-coverage heuristic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from selector.contract.rules import Rules

PRACTITIONER = {"lead_practitioner", "lead_practitioner_id", "practitioner", "practitioner_key"}


def _values(frame: pd.DataFrame, column: str) -> list[set[str]]:
    if column not in frame.columns:
        return [set() for _ in range(len(frame))]
    out = []
    for cell in frame[column].tolist():
        if isinstance(cell, bool):
            out.append({"TRUE" if cell else "FALSE"})
        elif column == "services":
            out.append({p.strip().upper() for p in str(cell).split(";") if p.strip()})
        else:
            text = str(cell).strip().upper()
            out.append({text} if text else set())
    return out


def milp_optimum(caseload: pd.DataFrame, rules: Rules, time_limit: float = 60.0) -> tuple[float | None, list[str], str]:
    """Best score by HiGHS, the chosen ids, and HiGHS's status message (None if infeasible)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    eligible = caseload.loc[caseload["eligible"]].reset_index(drop=True)
    n = len(eligible)
    cover: list[tuple[int, float, list[int]]] = []  # (dimension index, weight, holders)
    for d, dim in enumerate(rules.dimensions):
        by_value: dict[str, list[int]] = {}
        for i, values in enumerate(_values(eligible, dim.column)):
            for v in values:
                by_value.setdefault(v, []).append(i)
        for holders in by_value.values():
            cover.append((d, float(dim.weight), holders))
    m = len(cover)
    rows: list[tuple[dict[int, float], float, float]] = [({i: 1.0 for i in range(n)}, rules.size, rules.size)]
    for rule in rules.counts:
        members = [i for i, v in enumerate(_values(eligible, rule.column)) if v & set(rule.values)]
        rows.append(({i: 1.0 for i in members}, rule.min if rule.min is not None else 0,
                     rule.max if rule.max is not None else np.inf))
    for spread in rules.spreads:
        column = "practitioner_key" if spread.column in PRACTITIONER else spread.column
        if column not in eligible.columns:
            continue
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(eligible[column].astype(str).str.strip()):
            if key:
                groups.setdefault(key, []).append(i)
        for members in groups.values():
            if len(members) > spread.max:
                rows.append(({i: 1.0 for i in members}, 0, spread.max))
    for j, (_d, _w, holders) in enumerate(cover):
        rows.append(({n + j: 1.0, **{i: -1.0 for i in holders}}, -np.inf, 0))
    for d, dim in enumerate(rules.dimensions):
        idx = [n + j for j, c in enumerate(cover) if c[0] == d]
        if idx:
            rows.append(({i: 1.0 for i in idx}, 0, dim.cap))
    a = lil_matrix((len(rows), n + m))
    lower, upper = np.empty(len(rows)), np.empty(len(rows))
    for r, (coefs, lo, hi) in enumerate(rows):
        for col, value in coefs.items():
            a[r, col] = value
        lower[r], upper[r] = lo, hi
    objective = np.concatenate([np.zeros(n), -np.array([c[1] for c in cover])])
    result = milp(objective, constraints=LinearConstraint(a.tocsr(), lower, upper),
                  integrality=np.ones(n + m), bounds=Bounds(0, 1),
                  options={"time_limit": time_limit, "disp": False})
    if result.x is None:
        return None, [], result.message
    chosen = [str(eligible.loc[i, "child_id"]) for i in range(n) if result.x[i] > 0.5]
    return -result.fun, chosen, result.message


def greedy(caseload: pd.DataFrame, rules: Rules, seed: int = 0) -> list[str] | None:
    """Pick one child at a time, each time the one adding most score while the rules can
    still be met by the remaining slots; None when it dead-ends."""
    eligible = caseload.loc[caseload["eligible"]].reset_index(drop=True)
    n = len(eligible)
    dims = [(_values(eligible, d.column), d) for d in rules.dimensions]
    counts = [(np.array([bool(v & set(r.values)) for v in _values(eligible, r.column)]), r) for r in rules.counts]
    spreads = []
    for s in rules.spreads:
        column = "practitioner_key" if s.column in PRACTITIONER else s.column
        if column in eligible.columns:
            spreads.append((eligible[column].astype(str).str.strip().to_numpy(), s))
    order = np.random.default_rng(seed).permutation(n)
    chosen: list[int] = []
    covered = [set() for _ in dims]
    for _slot in range(rules.size):
        best, best_gain = None, -1.0
        left = rules.size - len(chosen) - 1
        for i in order:
            if i in chosen:
                continue
            trial = [*chosen, i]
            ok = True
            for flags, r in counts:
                have = int(flags[trial].sum())
                if (r.max is not None and have > r.max) or (r.min is not None and have + left < r.min):
                    ok = False
                    break
            for keys, s in spreads:
                if ok and keys[i] and sum(1 for j in chosen if keys[j] == keys[i]) >= s.max:
                    ok = False
            if not ok:
                continue
            gain = sum(d.weight * (min(d.cap, len(cov | values[i])) - min(d.cap, len(cov)))
                       for (values, d), cov in zip(dims, covered, strict=True))
            if gain > best_gain:
                best, best_gain = i, gain
        if best is None:
            return None
        chosen.append(best)
        for (values, _d), cov in zip(dims, covered, strict=True):
            cov |= values[best]
    return [str(eligible.loc[i, "child_id"]) for i in chosen]
