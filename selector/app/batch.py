"""Batch runs: many areas or scenarios planned from a manifest or a folder, each run (select or
audit) described as a summary row, and the batch folder written all at once."""

from __future__ import annotations

import glob
import os
import re
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..contract.dates import DATE_WRITTEN, written_date
from ..contract.errors import CaseloadValidationError, InputError, SelectorError
from ..contract.failures import FAILURE_COLUMNS, failure_line
from ..contract.identifiers import identifier_kind
from ..contract.seeds import SEED_LIMIT
from ..io.folders import output_lock, staged_folder
from ..io.options import ReadOptions
from ..io.tables import frame_to_csv_bytes, is_side_file, read_table
from ..solve import SelectionParams
from .auditing import AuditRequest, audit
from .loading import Sources, defaults_left_out_said, read_rules
from .selection import SelectRequest, select

if TYPE_CHECKING:
    from ..solve.lottery import Chances
    from ..validate import Caseload

CONTACTS_SUFFIXES = {".csv", ".tsv", ".xlsx", ".xlsm", ".parquet"}
# Spreadsheets that are not read: in a folder of areas each is an area all the same, reported
# failed with how to save it (passed over, an area sent as .xls was missing without a word).
UNREAD_SPREADSHEETS = {".xls", ".xlsb", ".ods", ".numbers"}
# .xml, and .zip of module CSVs: a SEN2 return, read as `select` reads one
CASELOAD_SUFFIXES = CONTACTS_SUFFIXES | {".xml", ".zip"} | UNREAD_SPREADSHEETS
# A manifest's optional column: the date ages are taken at for its area (as `--as-of`); the
# columns establishments, mapping and ap_urns name files as the options of those names.
AS_OF_COLUMN = "as_of"
# A manifest row's caseload: one file, Annex A's two lists, or a SEN2 return (its XML, or a
# folder of one CSV per module).
CASELOAD_COLUMNS = ("caseload", "list1", "list2", "sen2")
SEN2_MODULES_FILE = "person.csv"  # a folder holding it is a SEN2 return as one CSV per module


# Each area's lottery in the summary, as run.json's `lottery` names it: its range of chances and
# its certificate (the smallest chance against the proved bound on the fairest possible, and the
# share of it that proves), so a national run shows which areas' lotteries are far from fair.
LOTTERY_SUMMARY = ("smallest", "largest", "bound", "certified", "levels")
SUMMARY_COLUMNS = ["area", "caseload", "rules", "seed", "rows", "eligible", "status", "score", "bound",
                   *(f"lottery_{name}" for name in LOTTERY_SUMMARY), "seconds", "exit_code", "error", "run_folder"]


@dataclass(frozen=True)
class BatchItem:
    """One run of a batch: an area (or scenario) name and its request."""

    name: str
    request: SelectRequest
    manifest: Path | None = None
    audit_draws: int = 0  # above 0: audit the area's lottery with this many draws instead of selecting
    caseload_as_given: str = ""  # the caseload as the user named it, for summary.csv (the request's is absolute)
    rules_as_given: str = ""  # the same for the rules file (a home folder's path may name a person)
    area: str = ""  # the area as the manifest names it ("Bristol, City of"), for summary.csv; `name` is its folder


def _safe_name(text: str) -> str:
    """A folder name from an area's name: its letters (any alphabet), digits, '.', '-' and '_'.

    >>> _safe_name("Bristol, City of"), _safe_name("Ynys Môn"), _safe_name("../x")
    ('Bristol_City_of', 'Ynys_Môn', 'x')
    """
    name = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", text.strip())).strip("._")
    return name or "area"


def plan_batch(manifest: Path, out: Path, params: SelectionParams, *, rules_variants: tuple[Path, ...] = (),
               seeds: tuple[int, ...] = (), formats: tuple[str, ...] = (),
               allow_missing_contact: bool = False, audit_draws: int = 0,
               read_options: ReadOptions | None = None, keep_columns: tuple[str, ...] = ()) -> list[BatchItem]:
    """The batch's runs from a manifest CSV (area; caseload, or Annex A's list1 and/or list2, or
    sen2; optional contacts, rules, seed, establishments, mapping, ap_urns, as_of, sheet; paths relative
    to it) or a folder of caseloads (contacts from NAME_contacts.* beside each; a .xml, or a
    folder or .zip of module CSVs, is a SEN2 return). Scenario mode runs every area once per extra rules
    file and/or seed. With `audit_draws`, each area's lottery is audited (that many draws)
    instead of a cohort being chosen. `read_options` (an establishments extract, a mapping, an
    as-of date) read every area's caseload; a manifest's column of the same name wins for its
    row. `keep_columns`: columns outside the contract every area's outputs keep (as `select`'s).

    Raises:
        InputError: the manifest is missing, malformed, or names an area twice.
    """
    manifest = Path(manifest)
    if not manifest.exists():
        raise InputError(f"{manifest}: not found. Give a manifest CSV or a folder of caseloads.", "missing_file")
    rows, base = _manifest_rows(manifest)
    # The batch's own files, made absolute as the manifest's are: a process or cluster worker
    # with another working folder reads the same file.
    given = read_options or ReadOptions()

    def absolute(path: Path | None) -> Path | None:
        return Path(os.path.abspath(path)) if path is not None else None

    batch_wide = replace(given, establishments=absolute(given.establishments), mapping=absolute(given.mapping),
                         ap_urns=absolute(given.ap_urns))
    if manifest.is_dir():  # the extract kept beside the areas is not an area
        helpers = {Path(os.path.realpath(path)) for path in batch_wide.files}
        rows = [row for row in rows
                if Path(os.path.realpath(base / row.get("caseload", row.get("sen2", "")))) not in helpers]
        if not rows:
            raise InputError(f"{manifest}: no caseload files in this folder besides the files given to help read "
                             "them.", "empty_batch")

    def path_of(text: str | None) -> Path | None:
        """A path the manifest (or folder) names, resolved once against where it comes from and made
        absolute, so that a process or a cluster worker with another working folder reads the same file."""
        if not text or not str(text).strip():
            return None
        path = Path(os.path.abspath(base / Path(str(text).strip())))
        # A manifest written on Windows (`areas\\north.csv`) read where `/` separates folders:
        # its backslashes are separators when the path as written names no file and that does.
        if os.sep == "/" and "\\" in str(text) and not path.exists():
            forward = Path(os.path.abspath(base / Path(str(text).strip().replace("\\", "/"))))
            if forward.exists():
                return forward
        return path

    def as_given(text: str) -> str:
        # A folder's caseloads as the user would name them from where they ran the command; a
        # manifest's as the manifest writes them.
        return str(base / text) if manifest.is_dir() else text.strip()

    items: list[BatchItem] = []
    labels: list[str] = []  # each run as the user would name it, for a clash of folders
    for record in rows:
        area = record.get("area", "").strip() or Path(_first_file(record)).stem
        seed_text = str(record.get("seed", "")).strip()
        row_params = replace(params, seed=int(seed_text), seed_source="given") if seed_text else params
        named = str(record.get("rules") or "").strip()
        variants: list[tuple[str, Path | None, str]] = [("", path_of(named), named)]
        if rules_variants:
            variants = [(f"__{_safe_name(r.stem)}", Path(os.path.abspath(r)), str(r)) for r in rules_variants]
        for suffix, rules_file, rules_named in variants:
            for seed in seeds or (row_params.seed,):
                name = _safe_name(area) + suffix + (f"__seed{seed}" if seeds else "")
                sources = Sources(caseload=path_of(record.get("caseload")),
                                  contacts=path_of(record.get("contacts")),
                                  sheet=str(record.get("sheet") or "").strip() or None,  # a workbook's sheet
                                  options=_row_options(batch_wide, record, path_of),
                                  allow_missing_contact=allow_missing_contact, keep_columns=keep_columns)
                items.append(BatchItem(name, SelectRequest(sources=sources, out=out / name, rules_file=rules_file,
                                                           params=replace(row_params, seed=seed, seed_source=(
                                                               "given" if seeds else row_params.seed_source)),
                                                           formats=formats),
                                       manifest, audit_draws, as_given(_caseload_as_named(record)), rules_named,
                                       area))
                labels.append(f"area {area!r}" + (f" with {rules_named}" if rules_variants else "")
                              + (f" and seed {seed}" if seeds else ""))
    _refuse_shared_folders(manifest, items, labels)
    return items


def rules_files_said(items: list[BatchItem]) -> list[str]:
    """What a batch says once for each rules file that leaves default rules with nothing in their
    place (as `select` says it of its run); a file that cannot be read is left to the areas that
    use it, which report what is wrong with it."""
    lines = []
    for path in dict.fromkeys(item.request.rules_file for item in items if item.request.rules_file is not None):
        try:
            said = defaults_left_out_said(path, read_rules(path))
        except SelectorError:
            continue
        if said:
            lines.append(said)
    return lines


def kept_columns_said(keep_columns: tuple[str, ...]) -> list[str]:
    """What a batch says once about the columns outside the contract it keeps in every area: which,
    and those whose header looks like a child's identifier (each area's run warns the same)."""
    if not keep_columns:
        return []
    lines = ["Kept outside the data contract in every area, as you asked: " + ", ".join(keep_columns)]
    identifying = [header for header in keep_columns if identifier_kind(header)]
    if identifying:
        lines.append(f"Warning: {', '.join(identifying)}: column(s) that look like a child's identifier are kept "
                     "because you asked; they will appear in every area's outputs. Keep them only if they identify "
                     "no child.")
    return lines


def _row_options(batch_wide: ReadOptions, record: dict[str, str],
                 path_of: Callable[[str | None], Path | None]) -> ReadOptions:
    """How an area's caseload is read: the batch's options, with the manifest row's own files and
    date in their place (a cell left empty keeps the batch's)."""
    def file(name: str) -> Path | None:
        return path_of(record[name]) if str(record.get(name, "")).strip() else getattr(batch_wide, name)

    options = replace(batch_wide, establishments=file("establishments"), mapping=file("mapping"),
                      ap_urns=file("ap_urns"), list1=file("list1"), list2=file("list2"), sen2=file("sen2"))
    as_of = str(record.get(AS_OF_COLUMN, "")).strip()
    return replace(options, as_of=written_date(as_of)) if as_of else options  # checked by _manifest_rows


def _refuse_shared_folders(manifest: Path, items: list[BatchItem], labels: list[str]) -> None:
    """Two runs that would write one folder: the same area twice, names that differ only in case
    (one folder on Windows and macOS) or in characters a folder name cannot hold, or two scenario
    rules files with the same name."""
    runs: dict[str, list[tuple[str, str]]] = {}
    for item, label in zip(items, labels, strict=True):
        runs.setdefault(item.name.casefold(), []).append((item.name, label))
    for clashing in runs.values():
        if len(clashing) > 1:
            counted = Counter(label for _, label in clashing)
            named = "; ".join(label + (f" ({n} times)" if n > 1 else "") for label, n in counted.items())
            rules = " (and each scenario rules file a file name of its own)" if " with " in named else ""
            raise InputError(f"{manifest.name}: {len(clashing)} runs would write one folder, {clashing[0][0]!r}: "
                             f"{named}. Give each area a name of its own{rules}; letters, digits, '.', '-' and '_' "
                             "make the folder's name, whatever their case.", "bad_manifest")


def _manifest_rows(manifest: Path) -> tuple[list[dict[str, str]], Path]:
    rows: list[dict[str, str]] = []
    if manifest.is_dir():
        for path in sorted(manifest.iterdir()):
            if is_side_file(path):
                continue
            if path.is_dir():  # a SEN2 return as one CSV per module; other folders are not areas
                if (path / SEN2_MODULES_FILE).is_file():
                    rows.append({"area": path.name, "sen2": path.name,
                                 "contacts": _contacts_beside(manifest, path.name)})
                continue
            if path.suffix.lower() not in CASELOAD_SUFFIXES or path.stem.endswith("_contacts"):
                continue
            rows.append({"area": path.stem, "caseload": path.name, "contacts": _contacts_beside(manifest, path.stem)})
        if not rows:
            raise InputError(f"{manifest}: no caseload files (.csv, .xlsx, .parquet, or a SEN2 return: its .xml, or "
                             f"one CSV per module, with {SEN2_MODULES_FILE}, in a folder or a .zip) in this folder.",
                             "empty_batch")
        return rows, manifest
    table = read_table(manifest)
    if not set(CASELOAD_COLUMNS) & set(table.frame.columns):
        raise InputError(f"{manifest.name}: a manifest needs a 'caseload' column, or 'list1' and/or 'list2' for "
                         "Annex A as two files, or 'sen2' for a SEN2 return (and 'area', optional 'contacts', "
                         "'rules', 'seed', 'establishments', 'mapping', 'ap_urns', 'as_of', 'sheet').", "bad_manifest")
    for row_number, cells in zip(table.row_numbers, table.frame.to_dict("records"), strict=True):
        record = {str(column): str(value) for column, value in cells.items()}
        if not _first_file(record):
            given = [f"'{c}'" for c in CASELOAD_COLUMNS if c in record]
            named = ("columns " if len(given) > 1 else "column ") + " and ".join(given)
            raise InputError(f"{manifest.name}: row {row_number}, {named}: empty. Give the area's caseload, its "
                             "Annex A lists or its SEN2 return.", "bad_manifest")
        kinds = [kind for kind, columns in (("a caseload", ("caseload",)), ("Annex A lists", ("list1", "list2")),
                                            ("a SEN2 return", ("sen2",)))
                 if any(record.get(c, "").strip() for c in columns)]
        if len(kinds) > 1:
            raise InputError(f"{manifest.name}: row {row_number}: both {' and '.join(kinds)}. Give one of them.",
                             "bad_manifest")
        record.setdefault("area", Path(_first_file(record)).stem)
        seed = record.get("seed", "").strip()
        if seed and not (seed.isdigit() and int(seed) < SEED_LIMIT):
            raise InputError(f"{manifest.name}: row {row_number}, column 'seed': {record['seed']!r} is not "
                             f"a whole number from 0 to {SEED_LIMIT - 1}.", "bad_manifest")
        as_of = record.get(AS_OF_COLUMN, "").strip()
        if as_of and written_date(as_of) is None:
            raise InputError(f"{manifest.name}: row {row_number}, column '{AS_OF_COLUMN}': {record[AS_OF_COLUMN]!r} "
                             f"is not a date: give it as {DATE_WRITTEN}.", "bad_manifest")
        rows.append(record)
    return rows, manifest.parent


def _contacts_beside(folder: Path, area: str) -> str:
    """The contacts file NAME_contacts.* beside an area's caseload in a folder of areas ("" when none)."""
    return next((c.name for c in sorted(folder.glob(f"{glob.escape(area)}_contacts.*"))
                 if c.suffix.lower() in CONTACTS_SUFFIXES), "")


def _first_file(record: dict[str, str]) -> str:
    """The caseload a manifest row names: its file, its first Annex A list or its SEN2 return ("" when
    none)."""
    return next((record[c].strip() for c in CASELOAD_COLUMNS if record.get(c, "").strip()), "")


def _caseload_as_named(record: dict[str, str]) -> str:
    """The caseload as a manifest row names it: the file, or the lists joined by ' + '."""
    return " + ".join(record[c].strip() for c in CASELOAD_COLUMNS if record.get(c, "").strip())


def run_batch_item(item: BatchItem) -> dict[str, object]:
    """Run one area and describe the outcome as a summary row; never raises for a bad area."""
    started = time.perf_counter()
    request = item.request
    row: dict[str, object] = {
        "area": item.area or item.name, "caseload": item.caseload_as_given or str(request.sources.caseload),
        "rules": item.rules_as_given or ("default" if request.rules_file is None else str(request.rules_file)),
        # A secure random seed (or one from the phrase and the caseload read) is made when the area's run
        # starts: known only once it has.
        "seed": "" if request.params.seed_source in ("random", "phrase") else request.params.seed,
        "rows": "", "eligible": "", "status": "", "score": "", "bound": "", "exit_code": 0, "error": "",
        "run_folder": item.name, **{f"lottery_{name}": "" for name in LOTTERY_SUMMARY},
        "run": item.name,  # the run's own name, kept when it fails (and has no folder) to sort by; not written
    }
    sources = request.sources
    caseload_name = next((p.name for p in (sources.caseload, sources.options.list1, sources.options.list2,
                                           sources.options.sen2) if p), "")
    failures: list[dict[str, object]] = []  # every error of the area, for failures.csv

    def counted(caseload: Caseload) -> None:
        """The area's rows and eligible children, known once it is read, whatever follows."""
        row.update(rows=len(caseload.frame), eligible=int(caseload.frame["eligible"].sum()))

    try:
        if item.audit_draws:
            # An audit's draws are numbered from its seed (as `selector audit`, 0 unless given).
            given = request.params if request.params.seed_source == "given" else replace(
                request.params, seed=0, seed_source="given")
            row["seed"] = given.seed
            audited = audit(AuditRequest(sources=request.sources, out=request.out, rules_file=request.rules_file,
                                         params=given, draws=item.audit_draws), on_loaded=counted)
        else:
            result = select(request, on_loaded=counted)
    except CaseloadValidationError as error:
        errors = error.failures[error.failures["severity"] == "error"]
        first = f" First: {failure_line(errors.iloc[0])}" if len(errors) else ""
        row.update(status="INVALID_INPUT", exit_code=2, error=error.message + first, run_folder="")
        failures = [{str(k): v for k, v in f.items()} for f in errors.astype(object).to_dict("records")]
    except SelectorError as error:
        row.update(status={2: "INVALID_INPUT", 3: "INFEASIBLE"}.get(error.exit_code, "ERROR"),
                   exit_code=error.exit_code, error=error.explained().replace("\n", " "), run_folder="")
        failures = [_failure_row(error.where or caseload_name, error.message, error.fix)]
    except Exception as error:  # one broken area must not stop the others
        row.update(status="ERROR", exit_code=1, error=f"{type(error).__name__}: {error}", run_folder="")
        failures = [_failure_row(caseload_name, f"{type(error).__name__}: {error}", "")]
    else:
        if item.audit_draws:
            row.update(status="DEVIATION" if audited.deviates else "NO_DEVIATION", score=audited.lottery.optimum)
            row.update(_lottery_summary(audited.lottery))
        else:
            best = result.solution.cohorts[0]
            row.update(status=best.status, seed=result.solution.params.seed, score=best.score, bound=best.bound)
            if result.solution.lottery is not None:
                row.update(_lottery_summary(result.solution.lottery))
    row["seconds"] = round(time.perf_counter() - started, 3)
    row["failures"] = [{"area": item.area or item.name, **f} for f in failures]
    return row


def _lottery_summary(lottery: Chances) -> dict[str, object]:
    """The summary's lottery cells: chances and bound to 8 significant figures, the share of the
    bound to 4, levels whole ("" for a bound not worked out)."""
    cells = {"smallest": lottery.smallest, "largest": lottery.largest, "bound": lottery.bound,
             "certified": lottery.certified, "levels": lottery.levels}
    return {f"lottery_{name}": ("" if value is None else value if name == "levels"
                                else float(f"{value:.4g}") if name == "certified" else float(f"{value:.8g}"))
            for name, value in cells.items()}


def scenario_groups(items: list[BatchItem]) -> list[list[BatchItem]]:
    """The items in groups that share one lottery: the same caseload, contacts and rules (the
    scenarios of one area that differ only in the seed, say), in the order first met. A process
    that runs a group one after another works the lottery out once (`choose` keeps it)."""
    groups: dict[tuple[object, ...], list[BatchItem]] = {}
    for item in items:
        sources = item.request.sources
        key = (sources, item.request.rules_file, item.request.size, item.audit_draws > 0,
               replace(item.request.params, seed=0, seed_source="given", seed_phrase=""))
        groups.setdefault(key, []).append(item)
    return list(groups.values())


def run_batch_group(items: list[BatchItem]) -> list[dict[str, object]]:
    """Run a group of items (`scenario_groups`) one after another in this process; their rows."""
    return [run_batch_item(item) for item in items]


def _failure_row(file: str, problem: str, fix: str) -> dict[str, object]:
    """An error that is not about one cell (impossible rules, an unreadable file) as a failures row."""
    return {"severity": "error", "file": file, "row": "", "column": "", "value": "",
            "problem": problem.replace("\n", " "), "fix": fix}


RunMany = Callable[[list[BatchItem]], Iterator[dict[str, object]]]


def run_batch(items: list[BatchItem], out: Path, force: bool, run_many: RunMany | None = None) -> pd.DataFrame:
    """Run every item (through `run_many`, e.g. a process pool; one by one without it), write
    OUT/<area>/ folders and OUT/summary.csv. The batch is built beside OUT and moved into place
    at the end, so an interrupted batch leaves no half-written OUT.

    Returns:
        The summary table, one row per item, in manifest order.
    """
    inputs = [p for t in items for p in (*t.request.inputs, t.manifest) if p is not None]
    out = Path(os.path.abspath(out))  # the areas' folders are written by processes or workers elsewhere
    with output_lock(out), staged_folder(out, force, inputs) as staging:
        staged = [replace(t, request=replace(t.request, out=staging / t.name, force=False)) for t in items]
        stream = run_many(staged) if run_many else (run_batch_item(t) for t in staged)
        rows = list(stream)
        order = {t.name: i for i, t in enumerate(items)}
        rows.sort(key=lambda r: order[str(r["run"])])
        failures = pd.DataFrame([f for r in rows for f in r.pop("failures", [])],  # type: ignore[attr-defined]
                                columns=["area", *FAILURE_COLUMNS])
        summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
        (staging / "summary.csv").write_bytes(frame_to_csv_bytes(summary))
        # Every error of every area (the summary shows only the first), for a spreadsheet.
        (staging / "failures.csv").write_bytes(frame_to_csv_bytes(failures))
    return summary
