"""Run one alternative method on one caseload and print time, memory and score as JSON.

Usage: python benchmarks/peer_run.py METHOD CASELOAD CONTACTS
METHOD: greedy, milp, or sortition-ALGORITHM (legacy, maximin, nash, leximin, diversimax).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selector import app, check
from selector.contract.rules import DEFAULT_RULES

# The dimensions sortition can stratify on (single-valued; services is a list).
SORTITION_FEATURES = ["primary_need", "age_band", "setting_type", "plan_status", "social_care", "locality"]


def sortition(caseload, algorithm: str, seed: int = 1) -> list[str]:
    """Our hard rules as sortition quotas; the spread rules (setting, practitioner) cannot be
    expressed, so the checker may find them broken."""
    import csv
    import io

    from sortition_algorithms import CSVStringDataSource, SelectionData, Settings, run_stratification

    eligible = caseload.loc[caseload["eligible"]]
    size = DEFAULT_RULES.size
    mins = {("setting_type", "AP"): 1, ("plan_status", "EHCP"): 2, ("plan_status", "SEN_SUPPORT"): 2}
    features = io.StringIO()
    writer = csv.writer(features)
    writer.writerow(["feature", "value", "min", "max"])
    for column in SORTITION_FEATURES:
        for value in sorted(eligible[column].astype(str).unique()):
            # Diversity the way a sortition user would ask for it: at most one per need and two
            # per age band (five bands, six seats), any number of the rest.
            cap = {"primary_need": 1, "age_band": 2}.get(column, size)
            writer.writerow([column, value or "none", mins.get((column, value), 0), cap])
    people = io.StringIO()
    people_writer = csv.writer(people)
    people_writer.writerow(["child_id", *SORTITION_FEATURES])
    for row in eligible[["child_id", *SORTITION_FEATURES]].astype(str).itertuples(index=False):
        people_writer.writerow([row[0], *[v or "none" for v in row[1:]]])
    data = SelectionData(CSVStringDataSource(features.getvalue(), people.getvalue()))
    settings = Settings(id_column="child_id", columns_to_keep=[], selection_algorithm=algorithm,
                        random_number_seed=seed)
    feature_collection, _ = data.load_features(size)
    people_obj, _ = data.load_people(settings, feature_collection)
    ok, panels, report = run_stratification(feature_collection, people_obj, size, settings, max_seconds=600)
    if not ok or not panels:
        raise RuntimeError("no panel: " + report.as_text()[-300:])
    return sorted(panels[0])


def main(method: str, caseload_path: str, contacts_path: str) -> None:
    caseload = app.load(app.Sources(caseload=Path(caseload_path), contacts=Path(contacts_path))).frame
    started = time.perf_counter()
    if method == "greedy":
        from benchmarks.peers import greedy

        chosen = greedy(caseload, DEFAULT_RULES, seed=1)
        optimal = None
    elif method == "milp":
        from benchmarks.peers import milp_optimum

        _best, chosen, message = milp_optimum(caseload, DEFAULT_RULES, time_limit=60)
        optimal = "Optimal" in str(message)
    elif method.startswith("sortition-"):
        chosen = sortition(caseload, method.removeprefix("sortition-"))
        optimal = None
    else:
        raise SystemExit(f"unknown method {method}")
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "optimal": optimal}
    if chosen:
        result["score"] = check.score(caseload, chosen, DEFAULT_RULES)
        result["broken_rules"] = len(check.violations(caseload, chosen, DEFAULT_RULES))
    else:
        result["score"] = None
        result["broken_rules"] = None
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
