"""The run record (run.json): one frozen, versioned dataclass, and the only code that writes or
reads run.json. What it reads is checked field by field, so a damaged or hand-edited record
gives a clear error naming every problem, never a traceback."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..contract.errors import RunRecordError
from .options import READ_OPTIONS, ReadOptions

SCHEMA_VERSION = 2
RUN_RECORD_NAME = "run.json"
LOTTERY_FILE = "lottery.json"  # the lottery cohort 1 was drawn from, to use again


@dataclass(frozen=True)
class InputRecord:
    """What was read: names (shown), full paths (to read again), hashes, counts, reading options."""

    caseload: str
    caseload_path: str
    caseload_sha256: str
    contacts: str = ""
    contacts_path: str = ""
    contacts_sha256: str = ""
    rows: int = 0
    eligible: int = 0
    sheet: str | None = None
    allow_missing_contact: bool = False
    formats: tuple[str, ...] = ()
    annex_a: dict[str, str | None] | None = None  # the reading options (io/caseload.py), as text
    keep_columns: tuple[str, ...] = ()  # columns outside the contract kept because the user named them
    warnings: tuple[str, ...] = ()  # where the list was read with warnings, by file and column, with their rows

    @property
    def made_from_uploads(self) -> bool:
        """Whether the files were uploaded to the web page: the record names them without a folder
        (a run made from files on this computer records full paths)."""
        return not self.caseload_path and ReadOptions.from_record(self.annex_a or {}).by_name_only


@dataclass(frozen=True)
class CohortRecord:
    """One ranked cohort as recorded: members in slot order; reserves only for cohort 1."""

    rank: int
    score: int
    status: str
    bound: int
    seconds: float
    members: tuple[str, ...]
    reserves: dict[str, tuple[str, ...]] = field(default_factory=dict)


CONSENT_STATES = ("to ask", "asked", "agreed", "declined", "unreachable")
REPLACEMENT_ACTIONS = ("replaced", "undone")


@dataclass(frozen=True)
class ConsentEvent:
    """One change of a family's consent: whose, to what, when (UTC, to the second) and why."""

    child_id: str
    state: str
    at: str
    note: str = ""


@dataclass(frozen=True)
class ReplacementEvent:
    """One decision about cohort 1 after a decline: a replacement made, or one taken back.

    Attributes:
        at: when (UTC, to the second).
        action: "replaced", or "undone" (the latest replacement still standing was taken back).
        declined: the members whose slots were freed.
        newcomers: who took the freed slots.
        reason: why the slots were freed.
        score_before, score_after: cohort 1's score before and after.
        rules: whether every hard rule still holds, in words.
    """

    at: str
    action: str
    declined: tuple[str, ...]
    newcomers: tuple[str, ...]
    reason: str
    score_before: int
    score_after: int
    rules: str


@dataclass(frozen=True)
class Replacement:
    """A `replace` run: the run it came from, who declined, who stayed, everyone left out (every
    family that said no), and, with one slot freed, its reserves in call order as offered (the
    first who could take the slot came in)."""

    from_run: str
    declined: tuple[str, ...]
    reason: str
    kept: tuple[str, ...]
    all_declined: tuple[str, ...]
    offered: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """Everything needed to understand, repeat or continue a run.

    Attributes:
        version: selector's version.
        input: the files read and how.
        rules: the rules in force (plain data, as a rules file holds them).
        dropped_rules: rules relaxed away.
        seed: the seed that chose among equally good cohorts.
        params: the search parameters (sets, max_overlap, time_limit_s, workers, reserves, relax).
        solver: the solver settings that matter.
        candidates: eligible children considered.
        cohorts: the ranked cohorts.
        replaced: for a `replace` run, what it replaced.
        files: the other files of the run folder with their SHA-256 (names inside the folder only).
        schema_version: the layout of this record.
        notes: what the time limit cut short, in words.
        as_of: the date ages were taken at (ISO), or None when the caseload gave the ages.
        consent: every change of consent, oldest first (carried into replacement runs).
        replacements: every replacement made or taken back, oldest first (carried on too).
        lottery: how cohort 1 was drawn (plain data: proved, complete, reproducible, levels,
            columns, optimum, threshold, slack_percent, drawn_score, possible, smallest, largest,
            largest_without_slack, work, seconds); empty for a replacement.
    """

    version: str
    input: InputRecord
    rules: dict[str, Any]
    dropped_rules: tuple[str, ...]
    seed: int
    params: dict[str, Any]
    solver: dict[str, Any]
    candidates: int
    cohorts: tuple[CohortRecord, ...]
    replaced: Replacement | None = None
    files: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    notes: tuple[str, ...] = ()
    as_of: str | None = None
    consent: tuple[ConsentEvent, ...] = ()
    replacements: tuple[ReplacementEvent, ...] = ()
    lottery: dict[str, Any] = field(default_factory=dict)

    def consent_state(self, child_id: str) -> ConsentEvent | None:
        """A child's latest consent event (None: not asked yet)."""
        return next((e for e in reversed(self.consent) if e.child_id == child_id), None)

    def to_dict(self, *, with_files: bool = True) -> dict[str, Any]:
        """Plain data in run.json's order (only the `seconds` fields vary between identical runs)."""
        source = self.input
        options: dict[str, Any] = {"sheet": source.sheet, "allow_missing_contact": source.allow_missing_contact,
                                   "formats": list(source.formats)}
        if source.keep_columns:
            options["keep_columns"] = list(source.keep_columns)
        if source.annex_a is not None:
            options["annex_a"] = {name: source.annex_a.get(name) for name in READ_OPTIONS}
        data: dict[str, Any] = {
            "schema_version": self.schema_version,
            "version": self.version,
            "input_sha256": source.caseload_sha256,
            "as_of": self.as_of,
            "input": {
                "caseload": source.caseload, "caseload_path": source.caseload_path,
                "caseload_sha256": source.caseload_sha256, "contacts": source.contacts,
                "contacts_path": source.contacts_path, "contacts_sha256": source.contacts_sha256,
                "rows": source.rows, "eligible": source.eligible, "options": options,
                **({"warnings": list(source.warnings)} if source.warnings else {}),
            },
            "rules": self.rules,
            "dropped_rules": list(self.dropped_rules),
            "seed": self.seed,
            "params": self.params,
            "solver": self.solver,
            "candidates": self.candidates,
            "notes": list(self.notes),
        }
        if self.lottery:
            data["lottery"] = self.lottery
        data["consent"] = [{"child_id": e.child_id, "state": e.state, "at": e.at, "note": e.note}
                           for e in self.consent]
        data["replacements"] = [
            {"at": e.at, "action": e.action, "declined": list(e.declined), "newcomers": list(e.newcomers),
             "reason": e.reason, "score_before": e.score_before, "score_after": e.score_after, "rules": e.rules}
            for e in self.replacements]
        if self.replaced is not None:
            r = self.replaced
            data["replaced"] = {"from_run": r.from_run, "declined": list(r.declined), "reason": r.reason,
                                "kept": list(r.kept), "all_declined": list(r.all_declined)}
            if r.offered:
                data["replaced"]["offered"] = list(r.offered)
        data["cohorts"] = [
            {"rank": c.rank, "score": c.score, "status": c.status, "bound": c.bound, "seconds": c.seconds,
             "members": list(c.members), "reserves": {m: list(rs) for m, rs in c.reserves.items()}}
            for c in self.cohorts
        ]
        if with_files:
            data["files"] = dict(self.files)
        return data

    def to_json_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()


def read_recorded_json(run_dir: Path, name: str, record: RunRecord) -> Any:
    """A JSON file of a run folder, checked against the SHA-256 its record lists.

    Raises:
        RunRecordError: the file is missing, not listed, changed since the run, or not JSON.
    """
    path = Path(run_dir) / name
    if not path.is_file() or name not in record.files:
        raise RunRecordError(f"{run_dir}: no {name} here (a run folder written by a selector before it kept one, "
                             "or by a run whose lottery the time limit cut short).", "no_kept_file", where=str(path),
                             fix="Leave the option out: the lottery is then worked out again.")
    content = path.read_bytes()
    if hashlib.sha256(content).hexdigest() != record.files[name]:
        raise RunRecordError(f"{path}: changed since the run wrote it (its SHA-256 is not the one run.json "
                             "lists).", "changed_file", where=str(path),
                             fix="Use the folder as the run wrote it, or leave the option out.")
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RunRecordError(f"{path}: cannot be read as JSON ({exc}).", "bad_run", where=str(path)) from exc


def read_run_record(run_dir: Path) -> RunRecord:
    """A run folder's record, checked.

    Raises:
        RunRecordError: no run.json, not JSON, or a field missing, of the wrong type or out of place
            (every problem named).
    """
    path = Path(run_dir) / RUN_RECORD_NAME
    if Path(run_dir).is_file():
        # The web page's Download, as it was sent: the calls are recorded in a folder, not a zip.
        raise RunRecordError(f"{run_dir} is a file: give the run folder (a zip, such as the web page's Download, "
                             "unzipped first).", "not_a_run", where=str(run_dir))
    if not path.is_file():
        raise RunRecordError(f"{run_dir}: no {RUN_RECORD_NAME} here; give a folder written by `selector select`.",
                             "not_a_run", where=str(run_dir))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunRecordError(f"{path}: cannot be read as JSON ({exc}).", "bad_run", where=str(path)) from exc
    return record_from_dict(data, str(path))


def record_from_dict(data: Any, source: str) -> RunRecord:
    """Check plain data field by field and build the record (all problems raised together, in
    the order of the record's parts)."""
    reader = _Reader(source)
    top = reader.table(data, "run record")
    version = reader.get(top, "schema_version", int, "run record")
    if version is not None and version != SCHEMA_VERSION:
        reader.problem(f"schema_version {version} is not {SCHEMA_VERSION}; this selector cannot read it")
    record_input = _input_from(reader, top)
    cohorts = _cohorts_from(reader, top)
    consent = _consent_from(reader, top)
    replacements = _replacements_from(reader, top)
    replaced = _replaced_from(reader, top)
    files = _files_from(reader, top)
    record = RunRecord(
        version=reader.get(top, "version", str, "run record"),
        input=record_input,
        rules=reader.table(reader.get(top, "rules", dict, "run record"), "rules"),
        dropped_rules=tuple(reader.strings(top.get("dropped_rules", []), "dropped_rules")),
        seed=reader.get(top, "seed", int, "run record"),
        params=reader.table(reader.get(top, "params", dict, "run record"), "params"),
        solver=reader.table(top.get("solver", {}), "solver"),
        notes=tuple(reader.strings(top.get("notes", []), "notes")),
        as_of=reader.get(top, "as_of", (str, type(None)), "run record", default=None),
        consent=consent,
        replacements=replacements,
        candidates=reader.get(top, "candidates", int, "run record", default=0),
        cohorts=cohorts,
        replaced=replaced,
        files={str(k): str(v) for k, v in files.items()},
        lottery=reader.table(top.get("lottery", {}), "lottery"),
    )
    reader.raise_if_any()
    return record


def _input_from(reader: _Reader, top: dict[str, Any]) -> InputRecord:
    source_table = reader.table(reader.get(top, "input", dict, "run record"), "input")
    options = reader.table(reader.get(source_table, "options", dict, "input"), "input.options")
    annex = None
    if options.get("annex_a") is not None:
        given = reader.table(options["annex_a"], "input.options.annex_a")
        annex = {k: reader.get(given, k, (str, type(None)), "input.options.annex_a", default=None)
                 for k in READ_OPTIONS}
    for key in ("caseload_path", "contacts_path"):
        reader.input_path(source_table.get(key), f"input.{key}")
    return InputRecord(
        caseload=reader.get(source_table, "caseload", str, "input"),
        caseload_path=reader.get(source_table, "caseload_path", str, "input"),
        caseload_sha256=reader.get(source_table, "caseload_sha256", str, "input"),
        contacts=reader.get(source_table, "contacts", str, "input", default=""),
        contacts_path=reader.get(source_table, "contacts_path", str, "input", default=""),
        contacts_sha256=reader.get(source_table, "contacts_sha256", str, "input", default=""),
        rows=reader.get(source_table, "rows", int, "input", default=0),
        eligible=reader.get(source_table, "eligible", int, "input", default=0),
        sheet=reader.get(options, "sheet", (str, type(None)), "input.options", default=None),
        allow_missing_contact=reader.get(options, "allow_missing_contact", bool, "input.options", default=False),
        formats=tuple(reader.strings(options.get("formats", []), "input.options.formats")),
        annex_a=annex,
        keep_columns=tuple(reader.strings(options.get("keep_columns", []), "input.options.keep_columns")),
        warnings=tuple(reader.strings(source_table.get("warnings", []), "input.warnings")),
    )


def _cohorts_from(reader: _Reader, top: dict[str, Any]) -> tuple[CohortRecord, ...]:
    cohorts = []
    for i, item in enumerate(reader.list_of(top.get("cohorts"), "cohorts")):
        where = f"cohorts[{i}]"
        c = reader.table(item, where)
        reserves_table = reader.table(c.get("reserves", {}), f"{where}.reserves")
        cohorts.append(CohortRecord(
            rank=reader.get(c, "rank", int, where), score=reader.get(c, "score", int, where),
            status=reader.get(c, "status", str, where), bound=reader.get(c, "bound", int, where),
            seconds=float(reader.get(c, "seconds", (int, float), where) or 0),
            members=tuple(reader.strings(c.get("members"), f"{where}.members")),
            reserves={str(k): tuple(reader.strings(v, f"{where}.reserves.{k}")) for k, v in reserves_table.items()},
        ))
    if not cohorts:
        reader.problem("cohorts: the record holds no cohort")
    elif not cohorts[0].members:
        reader.problem("cohorts[0].members: cohort 1 has no members")
    return tuple(cohorts)


def _consent_from(reader: _Reader, top: dict[str, Any]) -> tuple[ConsentEvent, ...]:
    consent = []
    for i, given in enumerate(reader.list_of(top.get("consent", []), "consent")):
        event = reader.table(given, f"consent[{i}]")
        state = reader.get(event, "state", str, f"consent[{i}]")
        if state is not None and state not in CONSENT_STATES:
            reader.problem(f"consent[{i}].state: {state!r} is not one of {', '.join(CONSENT_STATES)}")
        consent.append(ConsentEvent(child_id=reader.get(event, "child_id", str, f"consent[{i}]"), state=state,
                                    at=reader.get(event, "at", str, f"consent[{i}]"),
                                    note=reader.get(event, "note", str, f"consent[{i}]", default="")))
    return tuple(consent)


def _replacements_from(reader: _Reader, top: dict[str, Any]) -> tuple[ReplacementEvent, ...]:
    replacements = []
    for i, given in enumerate(reader.list_of(top.get("replacements", []), "replacements")):
        where = f"replacements[{i}]"
        event = reader.table(given, where)
        action = reader.get(event, "action", str, where)
        if action is not None and action not in REPLACEMENT_ACTIONS:
            reader.problem(f"{where}.action: {action!r} is not one of {', '.join(REPLACEMENT_ACTIONS)}")
        replacements.append(ReplacementEvent(
            at=reader.get(event, "at", str, where), action=action,
            declined=tuple(reader.strings(event.get("declined", []), f"{where}.declined")),
            newcomers=tuple(reader.strings(event.get("newcomers", []), f"{where}.newcomers")),
            reason=reader.get(event, "reason", str, where, default=""),
            score_before=reader.get(event, "score_before", int, where),
            score_after=reader.get(event, "score_after", int, where),
            rules=reader.get(event, "rules", str, where, default="")))
    return tuple(replacements)


def _replaced_from(reader: _Reader, top: dict[str, Any]) -> Replacement | None:
    if top.get("replaced") is None:
        return None
    r = reader.table(top["replaced"], "replaced")
    return Replacement(
        from_run=reader.get(r, "from_run", str, "replaced"),
        declined=tuple(reader.strings(r.get("declined"), "replaced.declined")),
        reason=reader.get(r, "reason", str, "replaced", default=""),
        kept=tuple(reader.strings(r.get("kept", []), "replaced.kept")),
        all_declined=tuple(reader.strings(r.get("all_declined", []), "replaced.all_declined")),
        offered=tuple(reader.strings(r.get("offered", []), "replaced.offered")),
    )


def _files_from(reader: _Reader, top: dict[str, Any]) -> dict[str, Any]:
    files = reader.table(top.get("files", {}), "files")
    for name, digest in files.items():
        if not _inside_folder(name):
            reader.problem(f"files: {name!r} is not a file of the run folder (a path outside it)")
        if not isinstance(digest, str):
            reader.problem(f"files.{name}: must be text (a SHA-256)")
    return files


def _inside_folder(name: object) -> bool:
    """A plain file name of the run folder: no folders, no `..`, not absolute."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    parts = PurePosixPath(name).parts
    return len(parts) == 1 and parts[0] not in (".", "..") and not name.startswith("/")


class _Reader:
    """Reads fields of untrusted plain data, noting every problem instead of failing on the first."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if value is not None:
            self.problem(f"{where}: must be a JSON object")
        return {}

    def get(self, table: dict[str, Any], key: str, kind: Any, where: str, default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                self.problem(f"{where}: '{key}' is missing")
                return None
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if (bool not in kinds and isinstance(value, bool)) or not isinstance(value, kinds):
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            self.problem(f"{where}.{key}: must be {names} (got {value!r})")
            return None if default is ... else default
        return value

    def list_of(self, value: Any, where: str) -> list[Any]:
        if isinstance(value, list):
            return value
        self.problem(f"{where}: must be a list")
        return []

    def strings(self, value: Any, where: str) -> list[str]:
        items = self.list_of(value, where)
        if not all(isinstance(v, str) for v in items):
            self.problem(f"{where}: must be a list of text")
            return []
        return items

    def input_path(self, value: Any, where: str) -> None:
        if value in (None, ""):
            return
        if not isinstance(value, str) or not Path(value).is_absolute():
            self.problem(f"{where}: must be a full path to the input file (got {value!r})")

    def raise_if_any(self) -> None:
        if self.problems:
            raise RunRecordError(
                f"{self.source}: not a usable run record ({len(self.problems)} problem(s)):\n  - "
                + "\n  - ".join(self.problems)
                + "\nRun `selector select` again rather than editing run.json by hand.",
                "bad_run", where=self.source)
