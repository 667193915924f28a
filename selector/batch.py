"""Many areas or scenarios in parallel processes, each into its own run folder, with a summary.

A manifest CSV names, per row, `area`, `caseload` and optionally `contacts`, `rules` and
`seed` (paths relative to the manifest). A folder of caseloads works too: each file is an area
named after it, with contacts from `<name>_contacts.<ext>` beside it when present. Scenario
mode runs every area once per extra rules file and/or seed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from .errors import CaseloadValidationError, InputError, SelectorError
from .io import frame_to_csv_bytes, read_table, staged_folder
from .model import SelectionParams
from .pipeline import RunRequest, run_selection
from .validate import failure_line

CASELOAD_SUFFIXES = {".csv", ".xlsx", ".parquet"}
SUMMARY_COLUMNS = ["area", "caseload", "rules", "seed", "rows", "eligible", "status", "score", "bound",
                   "seconds", "exit_code", "error", "run_folder"]


@dataclass(frozen=True)
class AreaTask:
    """One run of a batch: an area (or scenario) name and its request."""

    name: str
    request: RunRequest


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip()).strip("._")
    return name or "area"


def read_manifest(manifest: Path, out: Path, params: SelectionParams, *, rules_variants: tuple[Path, ...] = (),
                  seeds: tuple[int, ...] = (), formats: tuple[str, ...] = (),
                  allow_missing_contact: bool = False) -> list[AreaTask]:
    """The batch's tasks from a manifest CSV or a folder of caseloads.

    Raises:
        InputError: the manifest is missing, malformed, or names an area twice.
    """
    manifest = Path(manifest)
    rows: list[dict[str, str]] = []
    if manifest.is_dir():
        for path in sorted(manifest.iterdir()):
            if path.suffix.lower() not in CASELOAD_SUFFIXES or path.stem.endswith("_contacts"):
                continue
            contacts = next((str(c) for c in sorted(manifest.glob(f"{path.stem}_contacts.*"))
                             if c.suffix.lower() in CASELOAD_SUFFIXES), "")
            rows.append({"area": path.stem, "caseload": str(path), "contacts": contacts})
        if not rows:
            raise InputError(f"{manifest}: no caseload files (.csv, .xlsx, .parquet) in this folder.", "empty_batch")
        base = manifest
    else:
        table = read_table(manifest)
        if "caseload" not in table.frame.columns:
            raise InputError(f"{manifest.name}: a manifest needs a 'caseload' column (and 'area', optional "
                             "'contacts', 'rules', 'seed').", "bad_manifest")
        for row_number, record in zip(table.row_numbers, table.frame.to_dict("records"), strict=True):
            if not record["caseload"].strip():
                raise InputError(f"{manifest.name}: row {row_number}, column 'caseload': empty.", "bad_manifest")
            record.setdefault("area", Path(record["caseload"]).stem)
            if "seed" in record and record["seed"].strip() and not record["seed"].strip().lstrip("-").isdigit():
                raise InputError(f"{manifest.name}: row {row_number}, column 'seed': {record['seed']!r} is not "
                                 "a whole number.", "bad_manifest")
            rows.append(record)
        base = manifest.parent

    def path_of(text: str | None) -> Path | None:
        if not text or not str(text).strip():
            return None
        path = Path(str(text).strip())
        return path if path.is_absolute() else base / path

    tasks: list[AreaTask] = []
    for record in rows:
        area = record.get("area", "").strip() or Path(record["caseload"]).stem
        seed_text = str(record.get("seed", "")).strip()
        row_params = replace(params, seed=int(seed_text)) if seed_text else params
        variants: list[tuple[str, Path | None]] = [("", path_of(record.get("rules")))]
        if rules_variants:
            variants = [(f"__{_safe_name(r.stem)}", r) for r in rules_variants]
        for suffix, rules_file in variants:
            for seed in seeds or (row_params.seed,):
                name = _safe_name(area) + suffix + (f"__seed{seed}" if seeds else "")
                request = RunRequest(
                    caseload=path_of(record["caseload"]) or Path(), out=out / name,
                    contacts=path_of(record.get("contacts")), rules_file=rules_file,
                    params=replace(row_params, seed=seed), formats=formats,
                    allow_missing_contact=allow_missing_contact,
                )
                tasks.append(AreaTask(name, request))
    names = [t.name for t in tasks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{manifest.name}: area {repeated[0]!r} appears more than once; give each row its "
                         "own area name.", "bad_manifest")
    return tasks


def run_area(task: AreaTask) -> dict[str, object]:
    """Run one area and describe the outcome as a summary row; never raises for a bad area."""
    started = time.perf_counter()
    request = task.request
    row: dict[str, object] = {
        "area": task.name, "caseload": str(request.caseload),
        "rules": str(request.rules_file or "default"), "seed": request.params.seed,
        "rows": "", "eligible": "", "status": "", "score": "", "bound": "", "exit_code": 0, "error": "",
        "run_folder": task.name,
    }
    try:
        loaded, solution = run_selection(request)
    except CaseloadValidationError as error:
        errors = error.failures[error.failures["severity"] == "error"]
        first = f" First: {failure_line(errors.iloc[0])}" if len(errors) else ""
        row.update(status="INVALID_INPUT", exit_code=2, error=error.message + first, run_folder="")
    except SelectorError as error:
        row.update(status={2: "INVALID_INPUT", 3: "INFEASIBLE"}.get(error.exit_code, "ERROR"),
                   exit_code=error.exit_code, error=error.message.replace("\n", " "), run_folder="")
    except Exception as error:  # one broken area must not stop the others
        row.update(status="ERROR", exit_code=1, error=f"{type(error).__name__}: {error}", run_folder="")
    else:
        first = solution.cohorts[0]
        row.update(rows=len(loaded.frame), eligible=int(loaded.frame["eligible"].sum()), status=first.status,
                   score=first.score, bound=first.bound)
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def run_batch(tasks: list[AreaTask], out: Path, jobs: int, force: bool,
              progress: Callable[[Iterator[dict[str, object]], int], Iterator[dict[str, object]]] | None = None,
              ) -> pd.DataFrame:
    """Run every task (in `jobs` processes), write OUT/<area>/ folders and OUT/summary.csv.

    The batch is built in a temporary folder beside OUT and moved into place at the end, so
    an interrupted batch leaves no half-written OUT.

    Returns:
        The summary table, one row per task, in manifest order.
    """
    with staged_folder(Path(out), force) as staging:
        staged = [AreaTask(t.name, replace(t.request, out=staging / t.name, force=False)) for t in tasks]
        rows = list(_results(staged, jobs, progress))
        order = {t.name: i for i, t in enumerate(tasks)}
        summary = pd.DataFrame(sorted(rows, key=lambda r: order[str(r["area"])]), columns=SUMMARY_COLUMNS)
        (staging / "summary.csv").write_bytes(frame_to_csv_bytes(summary))
    return summary


def _results(tasks: list[AreaTask], jobs: int, progress: Callable | None) -> Iterator[dict[str, object]]:
    if jobs <= 1:
        stream: Iterator[dict[str, object]] = (run_area(t) for t in tasks)
    else:
        stream = _parallel(tasks, jobs)
    return progress(stream, len(tasks)) if progress else stream


def _parallel(tasks: list[AreaTask], jobs: int) -> Iterator[dict[str, object]]:
    # Largest caseloads first, so a big area does not start last and hold up the end.
    ordered = sorted(tasks, key=lambda t: -_size_of(t.request.caseload))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_area, t) for t in ordered]
        for future in as_completed(futures):
            yield future.result()


def _size_of(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0
