"""Time one caseload's stages in this process and print them as JSON (used by benchmarks/run.py).

Usage: python benchmarks/stages.py CASELOAD CONTACTS
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(caseload: str, contacts: str) -> None:
    started = time.perf_counter()
    from selector.contract.rules import DEFAULT_RULES
    from selector.io.tables import read_table
    from selector.solve import SelectionParams, build_problem, solve
    from selector.solve.search import solve_cohort
    from selector.validate import validate

    out: dict[str, object] = {"import_s": time.perf_counter() - started}
    t = time.perf_counter()
    raw, raw_contacts = read_table(caseload), read_table(contacts)
    out.update(load_s=time.perf_counter() - t, load_mb=peak_mb())
    t = time.perf_counter()
    loaded = validate(raw, raw_contacts)
    out.update(validate_s=time.perf_counter() - t, validate_mb=peak_mb())
    params = SelectionParams(seed=1)
    t = time.perf_counter()
    problem = build_problem(loaded.frame, DEFAULT_RULES)
    first = solve_cohort(problem, params)
    out.update(cohort1_s=time.perf_counter() - t, cohort1_solve_s=first.seconds, cohort1_mb=peak_mb(),
               status=first.status, score=first.score, bound=first.bound)
    t = time.perf_counter()
    solution = solve(build_problem(loaded.frame, DEFAULT_RULES), params)
    out.update(sets_s=time.perf_counter() - t, sets_mb=peak_mb(), sets_found=len(solution.cohorts),
               sets_scores=[c.score for c in solution.cohorts])
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
