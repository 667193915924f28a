"""The application layer: every use case once, as a function taking typed requests and returning
typed results. The command line, the web page and batch runs call these and nothing below them.

load → validate → profile → select (choose, write the run folder) → decline/replace → batch.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import io
import os
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, check, stopping
from .contract.cells import column_values
from .contract.errors import CaseloadValidationError, InfeasibleSelectionError, InputError, SelectorError
from .contract.failures import FAILURE_COLUMNS, failure_line
from .contract.rules import DEFAULT_RULES, Rules, rules_from_dict
from .io.annex_a import DEFAULT_MAPPING_TOML, AnnexOptions, read_caseload_table
from .io.folders import (
    check_output_folder,
    is_failures_table,
    output_lock,
    staged_folder,
    write_file,
    write_folder,
)
from .io.rules_toml import load_rules, rules_to_toml
from .io.run_record import (
    CONSENT_STATES,
    AnnexRecord,
    CohortRecord,
    ConsentEvent,
    InputRecord,
    Replacement,
    ReplacementEvent,
    RunRecord,
    read_run_record,
)
from .io.sample import annex_a_lists, establishments_extract, generate, inline_contacts
from .io.tables import file_sha256, frame_to_csv_bytes, read_table, write_table
from .report.audit import SIGNIFICANCE, audit_frame, audit_sections
from .report.content import call_order, chances_frame, in_words, reasons, rule_in_words
from .report.content import label as dimension_name
from .report.files import run_files
from .report.profile import profile_html
from .report.render import render_html, render_markdown
from .solve import Cohort, Problem, SelectionParams, Solution, build_problem, solve, solve_replacement
from .solve.audit import Audit, draw_many
from .solve.audit import audit as audit_draws
from .solve.lottery import Chances, chances_of, draw, fair_lottery
from .solve.problem import excluding, subset
from .solve.profile import RuleRoom, dimension_counts, rule_room
from .solve.search import solve_cohort
from .solve.settings import LOTTERY_WORK
from .validate import Caseload, validate, with_warnings

Progress = Callable[[str], None]
handle_stop_signals = stopping.install
DECLINE_REASON = "family declined or could not be reached"

__all__ = [
    "DEFAULT_MAPPING_TOML",
    "LOTTERY_WORK",
    "Caseload",
    "Chances",
    "InputError",
    "Rules",
    "SelectionParams",
    "SelectorError",
    "Solution",
    "dimension_name",
    "in_words",
]


# ---------------------------------------------------------------- requests and results

@dataclass(frozen=True)
class Sources:
    """Where a caseload comes from and how to read it.

    Attributes:
        caseload: a caseload file (contract columns, an Annex A list or workbook), or None with lists.
        contacts: the practitioners' contacts file, or None (inline columns serve).
        sheet: the XLSX sheet to read (default the first).
        list1, list2: Annex A List 1 (EHC plans) and List 2 (SEN support) files.
        as_of: the date Annex A ages are taken at (default today).
        mapping: an edited Annex A mapping TOML.
        ap_urns: a file of AP settings' URNs.
        establishments: a Get Information About Schools extract: setting type from the URN.
        sen2: a SEN2 return (.xml, or a folder of one CSV per module).
        allow_missing_contact: children without a contact stay eligible.
        keep_columns: columns that look like a child's identifier but are kept, by name.
    """

    caseload: Path | None = None
    contacts: Path | None = None
    sheet: str | None = None
    list1: Path | None = None
    list2: Path | None = None
    as_of: dt.date | None = None
    mapping: Path | None = None
    ap_urns: Path | None = None
    establishments: Path | None = None
    sen2: Path | None = None
    allow_missing_contact: bool = False
    keep_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.caseload is None and not (self.list1 or self.list2 or self.sen2):
            raise InputError("give a caseload file, the Annex A lists (List 1 and/or List 2) or a SEN2 return.",
                             "no_caseload")

    @property
    def annex(self) -> AnnexOptions:
        # Every reading option of the request, by name: a new option is added in one place.
        return AnnexOptions(**{f.name: getattr(self, f.name) for f in fields(AnnexOptions)})

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file read: no output may be, or hold, one of them."""
        given = (self.caseload, self.contacts, self.list1, self.list2, self.mapping, self.ap_urns,
                 self.establishments, self.sen2)
        return tuple(p for p in given if p is not None)

    @property
    def uses_annex_options(self) -> bool:
        return bool(self.list1 or self.list2 or self.mapping or self.ap_urns or self.as_of or self.establishments
                    or self.sen2)


@dataclass(frozen=True)
class SelectRequest:
    """One selection run into a run folder.

    Attributes:
        sources: the caseload and how to read it.
        out: the run folder to write.
        rules_file: a rules TOML, or None for the defaults; size overrides the rules' size.
        params: the search parameters.
        formats: extra outputs (xlsx, parquet).
        force: replace an earlier run folder.
    """

    sources: Sources
    out: Path
    rules_file: Path | None = None
    size: int | None = None
    params: SelectionParams = field(default_factory=SelectionParams)
    formats: tuple[str, ...] = ()
    force: bool = False

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Every file the run reads: no output may be, or hold, one of them."""
        return _inputs(self.sources, self.rules_file)


def _inputs(sources: Sources, rules_file: Path | None) -> tuple[Path, ...]:
    return (*sources.paths, *((rules_file,) if rules_file else ()))


@dataclass(frozen=True)
class SelectResult:
    """A finished run: the validated caseload, the solution and where it was written."""

    caseload: Caseload
    solution: Solution
    out: Path


@dataclass(frozen=True)
class ReplaceRequest:
    """Families declined: replace them in cohort 1 of a run folder, into a new run folder.

    `caseload` and `contacts` say where the run's files are now, when they moved or the run was
    made on the web page; they are accepted only when their SHA-256 is the one the run recorded.
    """

    run_dir: Path
    declined: tuple[str, ...]
    out: Path | None = None
    force: bool = False
    caseload: Path | None = None
    contacts: Path | None = None


@dataclass(frozen=True)
class ReplaceResult:
    """A replacement run: who came in, and the new run folder."""

    caseload: Caseload
    solution: Solution
    out: Path
    declined: tuple[str, ...]
    newcomers: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    """What a caseload offers: counts per value of each dimension, and each hard rule's room."""

    caseload: Caseload
    rules: Rules
    counts: dict[str, pd.Series]
    rooms: list[RuleRoom]


# ---------------------------------------------------------------- load, validate, profile

def load(sources: Sources) -> Caseload:
    """Read and validate a caseload (contract columns, or the Annex A lists) and its contacts.

    Raises:
        InputError: a file cannot be read.
        CaseloadValidationError: the data break the contract (every failure in `.failures`).
    """
    table = read_caseload_table(sources.caseload, sources.sheet, sources.annex)
    contacts = read_table(sources.contacts) if sources.contacts is not None else None
    caseload = validate(table.raw, contacts, allow_missing_contact=sources.allow_missing_contact,
                        keep_columns=sources.keep_columns)
    return replace(with_warnings(caseload, table.warnings), as_of=table.as_of)


def describe(caseload: Caseload) -> str:
    """One line: rows read, eligible, excluded, without a contact."""
    frame = caseload.frame
    excluded = int(frame["exclude"].sum())
    no_contact = int((frame["ineligible_reason"] == "no practitioner contact").sum())
    return (f"{caseload.source}: {len(frame)} rows read, {int(frame['eligible'].sum())} eligible "
            f"({excluded} excluded, {no_contact} without a contact)")


def read_rules(rules_file: Path | None = None, size: int | None = None, caseload: Caseload | None = None) -> Rules:
    """The rules a run asks for: a file's, or the defaults, with any size override. Given the
    caseload, every column a rule names is checked against it, with the file's other problems."""
    if rules_file is None:
        rules = DEFAULT_RULES
    elif caseload is None:
        rules = load_rules(rules_file)
    else:
        frame = caseload.frame
        rules = load_rules(rules_file, tuple(frame.columns),
                           lambda column: {v for held in column_values(frame[column], column) for v in held})
    return rules.with_size(size) if size is not None else rules


def default_rules_toml() -> str:
    """The default rules written out as a commented TOML file."""
    return rules_to_toml(DEFAULT_RULES)


def profile_of(caseload: Caseload, rules: Rules) -> Profile:
    """What the eligible children offer on each dimension, and the room for each hard rule."""
    return Profile(caseload, rules, dimension_counts(caseload.frame, rules), rule_room(caseload.frame, rules))


def profile(sources: Sources, rules_file: Path | None = None) -> Profile:
    """Load a caseload and profile it under the rules."""
    caseload = load(sources)
    return profile_of(caseload, read_rules(rules_file, caseload=caseload))


def write_profile_page(result: Profile, path: Path, force: bool, sources: Sources | None = None) -> None:
    """The profile as a self-contained HTML page (over an existing file only with `force`, never
    over an input)."""
    page = profile_html(result.caseload.frame, result.rules, result.caseload.source).encode()
    write_file(path, page, sources.paths if sources else (), replaceable=force)


def write_failures(path: Path, failures: pd.DataFrame, sources: Sources | None = None) -> None:
    """The full failures table as CSV for a spreadsheet: never over an input, and over an existing
    file only when it is an earlier failures table."""
    write_file(path, frame_to_csv_bytes(failures), sources.paths if sources else (),
               replaceable=is_failures_table(path))


# ---------------------------------------------------------------- select

def choose(caseload: Caseload, rules: Rules, params: SelectionParams, progress: Progress | None = None) -> Solution:
    """Ranked cohorts and reserves for a validated caseload (nothing written).

    Raises:
        InfeasibleSelectionError: too few children can be chosen (and why), or the rules cannot be met.
    """
    eligible = int(caseload.frame["eligible"].sum())
    if eligible < rules.size:
        no_contacts = "no contact file" in caseload.held_back
        raise InfeasibleSelectionError(
            f"a cohort of {rules.size} cannot be chosen: only {eligible} {'child' if eligible == 1 else 'children'} "
            "can be chosen "
            f"({caseload.held_back or 'the caseload is that small'}).", ("cohort size",),
            code="no_contacts" if no_contacts else "too_few_candidates",
            fix="Give the practitioners' contacts file." if no_contacts
            else "Choose a smaller cohort, or check the exclude and contact columns.")
    return solve(_problem(caseload, rules, progress), params, progress=progress)


def select(request: SelectRequest, progress: Progress | None = None) -> SelectResult:
    """Load, validate, choose and write one run folder.

    Raises:
        SelectorError: bad input (2), impossible rules (3) or no answer in time (1).
    """
    with output_lock(request.out):
        check_output_folder(request.out, request.force, request.inputs)
        caseload = load(request.sources)
        rules = read_rules(request.rules_file, request.size, caseload)
        solution = choose(caseload, rules, request.params, progress)
        write_run(request.out, caseload, solution, request.sources, request.formats, request.force, None,
                  request.inputs)
    return SelectResult(caseload, solution, request.out)


def write_run(out: Path, caseload: Caseload, solution: Solution, sources: Sources | None,
              formats: tuple[str, ...] = (), force: bool = False, replaced: Replacement | None = None,
              inputs: tuple[Path, ...] = (), consent: tuple[ConsentEvent, ...] = (),
              replacements: tuple[ReplacementEvent, ...] = ()) -> None:
    """Write a run folder all at once: the tables, reports and the run record (never over an input)."""
    record = replace(make_record(caseload, sources, solution, formats, replaced), consent=consent,
                     replacements=replacements)
    files = run_files(caseload.frame, caseload.all_contacts, solution, record, formats)
    write_folder(out, files, force, (*inputs, *(sources.paths if sources else ())))


def _problem(caseload: Caseload, rules: Rules, progress: Progress | None) -> Problem:
    if progress is not None:
        progress("reading the rules and candidates")
    return build_problem(caseload.frame, rules)


def input_record(caseload: Caseload, sources: Sources | None, formats: tuple[str, ...] = (),
                 declined: Iterable[str] = ()) -> InputRecord:
    """What was read, for the run record (paths only when read from files, not uploads)."""
    frame = caseload.frame
    annex = None
    if sources is not None and (sources.uses_annex_options or caseload.as_of is not None):
        annex = AnnexRecord(
            list1=_full_path(sources.list1), list2=_full_path(sources.list2), mapping=_full_path(sources.mapping),
            ap_urns=_full_path(sources.ap_urns), establishments=_full_path(sources.establishments),
            sen2=_full_path(sources.sen2),
            # The date the ages were taken at, so that a replacement days later reads them alike.
            as_of=caseload.as_of.isoformat() if caseload.as_of else None)
    gone = set(declined)
    eligible = int((frame["eligible"] & ~frame["child_id"].isin(gone)).sum())
    return InputRecord(
        caseload=caseload.source,
        caseload_path=_full_path(sources.caseload) or "" if sources else "",
        caseload_sha256=caseload.source_sha256,
        contacts=caseload.contacts_source,
        contacts_path=(_full_path(sources.contacts) or "") if sources else "",
        contacts_sha256=caseload.contacts_sha256,
        rows=len(frame), eligible=eligible,
        sheet=sources.sheet if sources else None,
        allow_missing_contact=sources.allow_missing_contact if sources else False,
        formats=formats, annex_a=annex,
    )


def make_record(caseload: Caseload, sources: Sources | None, solution: Solution, formats: tuple[str, ...] = (),
                replaced: Replacement | None = None) -> RunRecord:
    """The run record of a solution."""
    p = solution.params
    return RunRecord(
        version=solution.version,
        input=input_record(caseload, sources, formats, replaced.all_declined if replaced else ()),
        rules=solution.rules.to_dict(),
        dropped_rules=tuple(solution.dropped),
        seed=p.seed,
        params={"sets": p.sets, "max_overlap": p.max_overlap, "time_limit_s": p.time_limit_s,
                "workers": p.workers, "reserves": p.reserves, "relax": p.relax, "slack": p.slack,
                "lottery_work": p.lottery_work},
        solver=dict(solution.solver),
        lottery=lottery_record(solution),
        notes=tuple(solution.notes),
        as_of=caseload.as_of.isoformat() if caseload.as_of else None,
        candidates=solution.candidates,
        cohorts=tuple(
            CohortRecord(rank=c.rank, score=c.score, status=c.status, bound=c.bound, seconds=c.seconds,
                         members=c.members,
                         reserves={m: tuple(solution.reserves.get(m, ())) for m in c.members} if c.rank == 1 else {})
            for c in solution.cohorts),
        replaced=replaced,
    )


def lottery_record(solution: Solution) -> dict[str, object]:
    """How cohort 1 was drawn, for the run record (the chances themselves are in chances.csv)."""
    lottery = solution.lottery
    if lottery is None:
        return {}
    return {"proved": lottery.proved, "complete": lottery.complete, "reproducible": lottery.reproducible,
            "levels": lottery.levels, "columns": lottery.columns, "optimum": lottery.optimum,
            "threshold": lottery.threshold, "slack_percent": lottery.slack_percent,
            "drawn_score": lottery.drawn_score, "possible": lottery.possible, "smallest": lottery.smallest,
            "largest": lottery.largest, "largest_without_slack": lottery.largest_without_slack,
            "work": solution.params.lottery_work, "seconds": lottery.seconds}


def _full_path(path: Path | None) -> str | None:
    return str(Path(path).resolve()) if path else None


# ---------------------------------------------------------------- declines and replacements

def decline(caseload: Caseload, solution: Solution, declined: Iterable[str],
            already_declined: Iterable[str] = (), from_run: str = "", progress: Progress | None = None,
            ) -> tuple[Solution, Replacement]:
    """Families declined (one or several at once): the rest of cohort 1 keeps its slots and the
    freed slots are re-optimised under every rule; alternatives and reserves are refreshed.

    Args:
        caseload: the validated caseload of the run.
        solution: the run's solution (cohort 1 is where the declines are).
        declined: members of cohort 1 whose families declined or could not be reached.
        already_declined: children declined earlier (they stay out).
        from_run: the run this replaces, for the record.

    Raises:
        InputError: a declined child is not in cohort 1.
        InfeasibleSelectionError: no child can take a freed slot with every rule met.
    """
    first = solution.cohorts[0].members
    wanted = _match_ids(tuple(declined), first)
    earlier = tuple(dict.fromkeys(already_declined))
    problem = _problem(caseload, solution.rules, progress)
    if earlier:
        problem = excluding(problem, set(earlier))
    # One family at a time: the slot's reserves, in their order, are offered first.
    preferred = solution.reserves.get(wanted[0], ()) if len(wanted) == 1 else ()
    replaced = solve_replacement(problem, solution.params, first, wanted, progress=progress, preferred=preferred)
    record = Replacement(from_run=from_run, declined=wanted, reason=DECLINE_REASON,
                         kept=tuple(c for c in first if c not in wanted),
                         all_declined=tuple(sorted(set(earlier) | set(wanted))))
    return replace(replaced, dropped=solution.dropped), record


def _match_ids(asked: tuple[str, ...], cohort: tuple[str, ...], run: str = "", *,
               reserves: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The children asked for among cohort 1 (and, when given, its reserves), matched after
    trimming and ignoring case.

    Raises:
        InputError: a child asked for is not among them.
    """
    by_key = {c.strip().casefold(): c for c in (*cohort, *reserves)}
    found = []
    for child in asked:
        member = by_key.get(child.strip().casefold())
        if member is None:
            of_run = f" of {run}" if run else ""
            among = " or its reserves" if reserves else ""
            raise InputError(f"{child} is not in cohort 1{among}{of_run}; cohort 1 is {', '.join(cohort)}.",
                             "not_in_cohort")
        found.append(member)
    return tuple(dict.fromkeys(found))


# ---------------------------------------------------------------- consent

@dataclass(frozen=True)
class ConsentRequest:
    """A family's answer (or the attempt to reach them) for a child of a run's cohort 1 or reserves.

    Attributes:
        state: to ask, asked, agreed, declined or unreachable ("to-ask", "TO_ASK" read alike).
        at: when, as ISO text in UTC; now when not given.
    """

    run_dir: Path
    child_id: str
    state: str
    note: str = ""
    at: str | None = None


@dataclass(frozen=True)
class ConsentResult:
    """The change recorded, where the child stands, and, after a decline, the reserves offered."""

    event: ConsentEvent
    role: str
    offered: tuple[str, ...]
    states: tuple[tuple[int, str, str], ...]


def consent_state(text: str) -> str:
    """A consent state as written by a person, in the record's words.

    >>> consent_state("TO_ASK"), consent_state(" unreachable ")
    ('to ask', 'unreachable')
    """
    state = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    if state not in CONSENT_STATES:
        raise InputError(f"{text!r} is not a consent state; the states are {', '.join(CONSENT_STATES)}.",
                         "bad_consent_state")
    return state


def record_consent(request: ConsentRequest) -> ConsentResult:
    """Record a consent change in a run folder: appended to the record's history (nothing is
    overwritten), shown in contacts.csv; after a decline or no answer, the slot's reserves are
    offered, best first, leaving out families who already said no or could not be reached.

    Raises:
        InputError: an unknown state, or a child who is neither in cohort 1 nor a reserve.
    """
    state = consent_state(request.state)
    with output_lock(request.run_dir):
        record = read_run_record(request.run_dir)
        first = record.cohorts[0]
        roles = {c: f"cohort 1, slot {i}" for i, c in enumerate(first.members, start=1)}
        for slot, member in enumerate(first.members, start=1):
            for rank, reserve in enumerate(first.reserves.get(member, ()), start=1):
                roles.setdefault(reserve, f"reserve {rank} for slot {slot}")
        (child,) = _match_ids((request.child_id,), first.members, str(request.run_dir),
                              reserves=tuple(c for c in roles if c not in first.members))
        at = request.at or now_utc()
        event = ConsentEvent(child, state, at, request.note.strip())
        updated = replace(record, consent=(*record.consent, event))
        _write_consent(request.run_dir, updated)
    said_no = {c for c in roles if (e := updated.consent_state(c)) and e.state in ("declined", "unreachable")}
    offered: tuple[str, ...] = ()
    if state in ("declined", "unreachable") and child in first.members:
        offered = tuple(r for r in first.reserves.get(child, ()) if r not in said_no and r not in first.members)
    states = tuple((slot, member, (updated.consent_state(member) or ConsentEvent(member, "to ask", "")).state)
                   for slot, member in enumerate(first.members, start=1))
    return ConsentResult(event, roles[child], offered, states)


def _write_consent(run_dir: Path, record: RunRecord) -> None:
    """contacts.csv's consent column and run.json, each written whole (run.json last, with the
    new hash of contacts.csv)."""
    path = run_dir / "contacts.csv"
    files = dict(record.files)
    if path.is_file():
        contacts = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        if "child_id" in contacts.columns:
            contacts["consent"] = [(record.consent_state(c) or ConsentEvent(c, "to ask", "")).state
                                   for c in contacts["child_id"]]
            content = frame_to_csv_bytes(contacts)
            write_file(path, content, replaceable=True)
            files["contacts.csv"] = hashlib.sha256(content).hexdigest()
    write_file(run_dir / "run.json", replace(record, files=files).to_json_bytes(), replaceable=True)


def replace_in_run(request: ReplaceRequest) -> ReplaceResult:
    """A replacement written as a new run folder beside the old one (which is kept).

    Raises:
        RunRecordError: the run folder's record is missing or damaged.
        InputError: a child is not in cohort 1, or the caseload changed since the run.
    """
    record = read_run_record(request.run_dir)
    declined = _match_ids(request.declined, record.cohorts[0].members, str(request.run_dir))
    out = request.out or next_replacement_folder(request.run_dir)
    sources = _sources_of(record, request.caseload, request.contacts)
    inputs = (request.run_dir / "run.json", *sources.paths)
    with output_lock(out):
        check_output_folder(out, request.force, inputs)
        return _replace(request, record, declined, sources, out)


def _replace(request: ReplaceRequest, record: RunRecord, declined: tuple[str, ...], sources: Sources,
             out: Path) -> ReplaceResult:
    _same_files_as_recorded(record, sources, request.run_dir)
    caseload = load(sources)
    if (caseload.source_sha256 != record.input.caseload_sha256
            or caseload.contacts_sha256 != record.input.contacts_sha256):
        raise InputError(
            f"{record.input.caseload}: the caseload or contacts changed since {request.run_dir} was made. "
            "Choose again on the new data.", "input_changed")
    rules = rules_from_dict(record.rules, source=f"{request.run_dir}/run.json")
    p = record.params
    try:
        params = SelectionParams(seed=record.seed, time_limit_s=p["time_limit_s"], workers=p["workers"],
                                 sets=p["sets"], max_overlap=p["max_overlap"], reserves=p["reserves"],
                                 relax=p["relax"])
    except (KeyError, TypeError) as exc:
        raise InputError(f"{request.run_dir}/run.json: the search parameters are incomplete ({exc}).",
                         "bad_run") from exc
    earlier = record.replaced.all_declined if record.replaced else ()
    previous = _solution_of(record, rules, params)
    solution, replacement = decline(caseload, previous, declined, earlier, from_run=request.run_dir.name)
    newcomers = tuple(c for c in solution.cohorts[0].members if c not in previous.cohorts[0].members)
    event = replacement_event(previous, solution, replacement, newcomers, "replaced")
    write_run(out, caseload, solution, sources, record.input.formats, request.force, replacement,
              (request.run_dir / "run.json",), consent=record.consent,  # the whole history goes on
              replacements=(*record.replacements, event))
    return ReplaceResult(caseload, solution, out, replacement.declined, newcomers)


def now_utc() -> str:
    """Now, as the record writes times: UTC to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replacement_event(before: Solution, after: Solution, replacement: Replacement, newcomers: tuple[str, ...],
                      action: str, at: str | None = None) -> ReplacementEvent:
    """A replacement (or its undoing) as the record's history keeps it."""
    rules = ("every rule still met" if not after.dropped
             else "every rule met except those dropped to make a cohort possible: " + "; ".join(after.dropped))
    return ReplacementEvent(at=at or now_utc(), action=action, declined=replacement.declined,
                            newcomers=newcomers, reason=replacement.reason,
                            score_before=before.cohorts[0].score, score_after=after.cohorts[0].score, rules=rules)


def next_replacement_folder(run_dir: Path) -> Path:
    """The next free `RUN-replace-N` beside a run (a replacement of a replacement counts on)."""
    base = re.sub(r"-replace-\d+$", "", run_dir.name)
    number = 1
    while (candidate := run_dir.parent / f"{base}-replace-{number}").exists():
        number += 1
    return candidate


def _same_files_as_recorded(record: RunRecord, sources: Sources, run_dir: Path) -> None:
    """The files a run record names must be, byte for byte, the files the run read: a record edited
    to point at another file (another area's list, anything else on the disk) is refused before
    that file is read as a caseload.

    Raises:
        InputError: a file is missing, not an ordinary file, or differs from the recorded one.
    """
    recorded = [(sources.caseload, record.input.caseload_sha256, "caseload")]
    if sources.contacts is not None:
        recorded.append((sources.contacts, record.input.contacts_sha256, "contacts"))
    for path, sha256, role in recorded:
        if path is None or sources.uses_annex_options:
            continue  # Annex A lists are hashed together; `replace` compares them after reading
        if not path.is_file():
            raise InputError(f"{path}: the {role} file {run_dir}/run.json names is missing or not an ordinary "
                             "file.", "input_missing",
                             fix="Put the file back where it was, or say where it is now, or choose again.")
        if file_sha256(path) != sha256:
            raise InputError(
                f"{path}: is not the {role} file {run_dir} was chosen from (its contents differ: another "
                "area's file, or a changed list). Choose again on this file.", "input_changed")


def _sources_of(record: RunRecord, caseload: Path | None = None, contacts: Path | None = None) -> Sources:
    """The sources a run was read from, as its record gives them, or where they are now."""
    source = record.input
    annex = source.annex_a or AnnexRecord()

    def path(text: str | None) -> Path | None:
        return Path(text) if text else None

    if caseload is None and not source.caseload_path and not (annex.list1 or annex.list2 or annex.sen2):
        raise InputError(f"{source.caseload}: the run record names no caseload file to read again (a run made "
                         "from an upload on the web page).", "caseload_not_recorded",
                         fix="Give the caseload file the run was made from (and its contacts file).")
    if contacts is None and source.contacts and not source.contacts_path:
        contacts_hint = "its contacts file was uploaded too"
        if caseload is not None:
            raise InputError(f"{source.contacts}: {contacts_hint}; give it as well.", "caseload_not_recorded",
                             fix="Give the contacts file the run was made from.")
    return Sources(
        caseload=caseload or path(source.caseload_path), contacts=contacts or path(source.contacts_path),
        sheet=source.sheet,
        list1=path(annex.list1), list2=path(annex.list2),
        as_of=dt.date.fromisoformat(annex.as_of) if annex.as_of else None,
        mapping=path(annex.mapping), ap_urns=path(annex.ap_urns), establishments=path(annex.establishments),
        sen2=path(annex.sen2),
        allow_missing_contact=source.allow_missing_contact)


def _solution_of(record: RunRecord, rules: Rules, params: SelectionParams) -> Solution:
    """The recorded solution, enough to continue from (cohorts and reserves)."""
    cohorts = tuple(Cohort(c.rank, c.members, c.score, c.status, c.bound, c.seconds) for c in record.cohorts)
    return Solution(cohorts=cohorts, reserves=dict(record.cohorts[0].reserves), rules=rules,
                    dropped=record.dropped_rules, params=params, candidates=record.candidates)


# ---------------------------------------------------------------- audit

@dataclass(frozen=True)
class AuditRequest:
    """An audit of the lottery: N draws tested against the computed chances, and a shuffle.

    Attributes:
        sources: the caseload and how to read it.
        out: the folder to write (audit.md, audit.html, audit.csv, chances.csv, the charts).
        rules_file: a rules TOML, or None for the defaults.
        params: seed (the first draw's), slack, lottery work and time limit.
        draws: how many lotteries to draw.
        force: replace an earlier audit folder.
    """

    sources: Sources
    out: Path
    rules_file: Path | None = None
    params: SelectionParams = field(default_factory=SelectionParams)
    draws: int = 1000
    force: bool = False

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Every file the audit reads: no output may be, or hold, one of them."""
        return _inputs(self.sources, self.rules_file)


@dataclass(frozen=True)
class AuditResult:
    """The audit: the lottery, what the draws showed, and the largest change in any chance when
    the rows were shuffled."""

    caseload: Caseload
    lottery: Chances
    audit: Audit
    shuffle_difference: float
    off_cohorts: int  # distinct cohorts drawn that break a rule or fall short of the lottery's score
    folder: Path

    @property
    def deviates(self) -> bool:
        """The draws or the shuffle show the lottery is not what it says."""
        return (self.audit.overall_p < SIGNIFICANCE or self.audit.smallest_p_adjusted < SIGNIFICANCE
                or self.shuffle_difference > 0 or self.off_cohorts > 0)


def audit(request: AuditRequest, progress: Progress | None = None) -> AuditResult:
    """Compute the lottery, draw it N times, test the counts against the chances, compute it again
    on the rows shuffled, and write the audit folder.

    Raises:
        SelectorError: bad input (2), impossible rules (3).
    """
    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    params, inputs = request.params, request.inputs
    with output_lock(request.out):
        check_output_folder(request.out, request.force, inputs)
        caseload = load(request.sources)
        rules = read_rules(request.rules_file, None, caseload)
        problem = _problem(caseload, rules, progress)
        step("the best score")
        optimum = solve_cohort(problem, replace(params, sets=1)).score
        step("the lottery")
        lottery = fair_lottery(problem, params, optimum, params.slack, params.lottery_work, params.time_limit_s)
        step(f"{request.draws} draws")
        counts, cohorts = draw_many(lottery, request.draws, params.seed)
        result = audit_draws(lottery, counts, request.draws, params.seed)
        step("each cohort drawn, by the independent checker")
        frame, ids = caseload.frame, problem.child_ids.astype(str)
        off = sum(1 for cohort in {tuple(c) for c in cohorts}
                  if check.violations(frame, [ids[i] for i in cohort], rules)
                  or check.score(frame, [ids[i] for i in cohort], rules) < lottery.threshold)
        step("the lottery again, on the rows shuffled")
        shuffle = np.random.default_rng([params.seed, 17]).permutation(problem.n)
        again = fair_lottery(subset(problem, shuffle), params, optimum, params.slack, params.lottery_work,
                             params.time_limit_s)
        difference = float(np.abs(again.chances - lottery.chances[shuffle]).max()) if problem.n else 0.0
        chances = chances_of(problem, lottery, optimum, params, draw(lottery, params.seed))
        drawn = pd.Series(counts, index=ids)
        sections = audit_sections(caseload.frame, chances, result, drawn, difference, rules.size, off)
        title = f"Audit of the lottery for {request.sources.caseload.name if request.sources.caseload else 'the lists'}"
        files = {
            "audit.md": render_markdown(title, sections).encode(),
            "audit.html": render_html(title, sections).encode(),
            "audit.csv": frame_to_csv_bytes(audit_frame(result)),
            "chances.csv": frame_to_csv_bytes(chances_frame(chances)),
            **{chart.name: chart.svg.encode() for section in sections for chart in section.charts},
        }
        write_folder(request.out, files, request.force, inputs)
    return AuditResult(caseload, chances, result, difference, off, request.out)


# ---------------------------------------------------------------- the week of consent calls

@dataclass(frozen=True)
class Week:
    """Where the consent calls stand for a chosen cohort: the current cohort and reserves, and the
    whole history (every consent change, every replacement made or taken back), oldest first.

    A front end holds it between requests and passes it back; every change returns a new Week, so
    an earlier one is an undo point. The run folder's record carries the same history.
    """

    caseload: Caseload
    solution: Solution
    replaced: Replacement | None = None
    consent: tuple[ConsentEvent, ...] = ()
    replacements: tuple[ReplacementEvent, ...] = ()

    def state_of(self, child_id: str) -> str:
        """A child's latest consent state ("to ask" until someone records a call)."""
        return next((e.state for e in reversed(self.consent) if e.child_id == child_id), "to ask")

    def said_no(self) -> tuple[str, ...]:
        """Children whose families declined or could not be reached (latest state), sorted."""
        asked = {e.child_id for e in self.consent}
        return tuple(sorted(c for c in asked if self.state_of(c) in ("declined", "unreachable")))


@dataclass(frozen=True)
class Call:
    """One family to call, as a page shows it: who the child is, in words, and who knows them."""

    order: int
    child_id: str
    role: str
    slot: int
    in_cohort: bool
    state: str
    case: tuple[tuple[str, str], ...]  # (what, in words), e.g. ("need", "autistic spectrum disorder")
    practitioner: tuple[str, ...]  # name, role and organisation, e-mail, phone (what is known)
    why: str
    reserves: tuple[str, ...]


@dataclass(frozen=True)
class Offer:
    """The best child for the slot a declined family leaves, and the Week if it is accepted."""

    declined: str
    slot: int
    newcomers: tuple[str, ...]
    week: Week


def start_week(caseload: Caseload, solution: Solution) -> Week:
    """A freshly chosen cohort: nobody called yet."""
    return Week(caseload, solution)


def calls(week: Week) -> list[Call]:
    """Cohort 1 then every reserve, in call order, with consent state, case in words and contact."""
    solution = week.solution
    frame = week.caseload.frame
    involved = [child for child, _, _ in call_order(solution)]
    rows = frame.loc[frame["child_id"].isin(involved)].set_index("child_id", drop=False)
    why = reasons(rows, solution.cohorts[0].members, solution.rules)
    out = []
    for order, (child, role, slot) in enumerate(call_order(solution), start=1):
        row = rows.loc[child]
        case = tuple((what, in_words(column, row.get(column, ""))) for what, column in CASE_WORDS
                     if column in rows.columns)
        person = tuple(str(part) for part in (
            row.get("contact_name", ""),
            ", ".join(str(x) for x in (row.get("contact_role", ""), row.get("contact_organisation", "")) if x),
            row.get("contact_email", ""), row.get("contact_phone", "")) if part)
        in_cohort = role.startswith("cohort 1")
        out.append(Call(order, child, role, slot, in_cohort, week.state_of(child), case, person,
                        why.get(child) or "a reserve: can take the slot with every rule met",
                        tuple(solution.reserves.get(child, ())) if in_cohort else ()))
    return out


CASE_WORDS = (("age band", "age_band"), ("need", "primary_need"), ("plan", "plan_status"),
              ("setting", "setting_type"), ("social care", "social_care"))


def record_call(week: Week, child_id: str, state: str, note: str = "", at: str | None = None) -> Week:
    """A family's answer (or an attempt to reach them), for a child of cohort 1 or a reserve.

    Raises:
        InputError: an unknown state, or a child who is neither in cohort 1 nor a reserve.
    """
    known = tuple(child for child, _, _ in call_order(week.solution))
    (child,) = _match_ids((child_id,), week.solution.cohorts[0].members, reserves=known)
    event = ConsentEvent(child, consent_state(state), at or now_utc(), note.strip())
    return replace(week, consent=(*week.consent, event))


def offer(week: Week, child_id: str, from_run: str = "", progress: Progress | None = None) -> Offer:
    """The best child for a declined member's slot, every rule still met, leaving out every family
    that said no or could not be reached; not applied until accepted (`Offer.week`).

    Raises:
        InputError: the child is not in cohort 1.
        InfeasibleSelectionError: no child can take the slot with every rule met.
    """
    before = week.solution
    (child,) = _match_ids((child_id,), before.cohorts[0].members)
    earlier = set(week.replaced.all_declined if week.replaced else ()) | set(week.said_no())
    after, replacement = decline(week.caseload, before, [child], sorted(earlier - {child}), from_run, progress)
    newcomers = tuple(c for c in after.cohorts[0].members if c not in before.cohorts[0].members)
    event = replacement_event(before, after, replacement, newcomers, "replaced")
    slot = before.cohorts[0].members.index(child) + 1
    return Offer(child, slot, newcomers,
                 replace(week, solution=after, replaced=replacement, replacements=(*week.replacements, event)))


def undo(current: Week, previous: Week, at: str | None = None) -> Week:
    """Go back to an earlier Week's cohort and consent states without losing the record: the
    history keeps what was done and gains what was taken back."""
    when = at or now_utc()
    restored = tuple(ConsentEvent(child, previous.state_of(child), when, "undone")
                     for child in dict.fromkeys(e.child_id for e in current.consent)
                     if previous.state_of(child) != current.state_of(child))
    taken_back: tuple[ReplacementEvent, ...] = ()
    if current.solution is not previous.solution and len(current.replacements) > len(previous.replacements):
        last = current.replacements[-1]
        taken_back = (replace(last, at=when, action="undone", score_before=last.score_after,
                              score_after=last.score_before),)
    return replace(current, solution=previous.solution, replaced=previous.replaced,
                   consent=(*current.consent, *restored), replacements=(*current.replacements, *taken_back))


def rules_in_words(profile: Profile) -> list[tuple[str, str, bool]]:
    """Each hard rule in words, with what the caseload has for it and whether it can be met."""
    rooms = {room.name: room for room in profile.rooms}
    return [(rule_in_words(rule), rooms[rule.name].detail, rooms[rule.name].can_meet)
            for rule in profile.rules.hard_rules]


def score_sentence(solution: Solution) -> str:
    """Cohort 1's score said for people: what it means, not a fraction of a maximum."""
    first = solution.cohorts[0]
    if first.status == "OPTIMAL":
        return f"Cohort 1 scores {first.score}: no cohort under these rules scores higher (proved)."
    return (f"Cohort 1 scores {first.score}, the best found before the time limit; no cohort under these rules "
            f"can score more than {first.bound}.")


def history(week: Week) -> list[str]:
    """Every call and change, oldest first, in words."""
    lines: list[tuple[str, int, str]] = []
    for e in week.consent:
        note = f" ({e.note})" if e.note else ""
        lines.append((e.at, 0, f"{e.at}: {e.child_id}: {e.state}{note}."))
    for r in week.replacements:
        who = ", ".join(r.newcomers) or "nobody"
        if r.action == "replaced":
            text = f"{who} took the place of {', '.join(r.declined)} ({r.reason})"
        else:
            text = f"undone: {who} gave the place back to {', '.join(r.declined)}"
        lines.append((r.at, 1, f"{r.at}: {text}; score {r.score_before} -> {r.score_after}; {r.rules}."))
    return [text for _, _, text in sorted(lines, key=lambda line: (line[0], line[1]))]


def week_zip(week: Week, folder: str = "selector-run") -> bytes:
    """The run folder of a Week as a zip built in memory (the web page's download): the current
    cohort in every table and report, the whole history in run.json; nothing touches the disk."""
    record = replace(make_record(week.caseload, None, week.solution, ("xlsx",), week.replaced),
                     consent=week.consent, replacements=week.replacements)
    files = run_files(week.caseload.frame, week.caseload.all_contacts, week.solution, record, ("xlsx",))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", content)
    return buffer.getvalue()


# ---------------------------------------------------------------- synthetic data

def write_sample(rows: int, seed: int, out: Path, contacts_out: Path | None, area: str, force: bool) -> tuple[int, int]:
    """A synthetic caseload (and contacts) written to files; returns (children, practitioners)."""
    _refuse_existing([p for p in (out, contacts_out) if p is not None], force)
    caseload, contacts = generate(rows, seed, area=area)
    if contacts_out is None:
        caseload = inline_contacts(caseload, contacts)
    write_table(caseload, out)
    if contacts_out is not None:
        write_table(contacts, contacts_out)
    return len(caseload), len(contacts)


def write_annex_sample(rows: int, seed: int, area: str, folder: Path, force: bool) -> tuple[int, int]:
    """Synthetic Annex A lists (CSV each, and one workbook); returns (List 1 rows, List 2 rows)."""
    names = ["list1.csv", "list2.csv", "contacts.csv", "annex_a.xlsx", "establishments.csv"]
    _refuse_existing([folder / n for n in names], force)
    list1, list2, contacts = annex_a_lists(rows, seed, area)
    # The settings' URNs in the Get Information About Schools format (Windows-1252, as GIAS writes).
    folder.mkdir(parents=True, exist_ok=True)
    establishments_extract(rows, seed, area).to_csv(folder / "establishments.csv", index=False, encoding="cp1252")
    write_table(list1, folder / "list1.csv")
    write_table(list2, folder / "list2.csv")
    write_table(contacts, folder / "contacts.csv")
    with pd.ExcelWriter(folder / "annex_a.xlsx") as writer:
        list1.astype(str).to_excel(writer, sheet_name="List_1", index=False)
        list2.astype(str).to_excel(writer, sheet_name="List_2", index=False)
    return len(list1), len(list2)


def _refuse_existing(paths: list[Path], force: bool) -> None:
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]}: already exists. Choose another name, or allow overwriting.", "exists")


# ---------------------------------------------------------------- batch

CASELOAD_SUFFIXES = {".csv", ".xlsx", ".parquet"}
SUMMARY_COLUMNS = ["area", "caseload", "rules", "seed", "rows", "eligible", "status", "score", "bound",
                   "seconds", "exit_code", "error", "run_folder"]


@dataclass(frozen=True)
class BatchItem:
    """One run of a batch: an area (or scenario) name and its request."""

    name: str
    request: SelectRequest
    manifest: Path | None = None
    audit_draws: int = 0  # above 0: audit the area's lottery with this many draws instead of selecting
    caseload_as_given: str = ""  # the caseload as the user named it, for summary.csv (the request's is absolute)


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text.strip()).strip("._")
    return name or "area"


def plan_batch(manifest: Path, out: Path, params: SelectionParams, *, rules_variants: tuple[Path, ...] = (),
               seeds: tuple[int, ...] = (), formats: tuple[str, ...] = (),
               allow_missing_contact: bool = False, audit_draws: int = 0) -> list[BatchItem]:
    """The batch's runs from a manifest CSV (area, caseload and optional contacts, rules, seed;
    paths relative to it) or a folder of caseloads (contacts from NAME_contacts.* beside each).
    Scenario mode runs every area once per extra rules file and/or seed. With `audit_draws`,
    each area's lottery is audited (that many draws) instead of a cohort being chosen.

    Raises:
        InputError: the manifest is missing, malformed, or names an area twice.
    """
    manifest = Path(manifest)
    if not manifest.exists():
        raise InputError(f"{manifest}: not found. Give a manifest CSV or a folder of caseloads.", "missing_file")
    rows, base = _manifest_rows(manifest)

    def path_of(text: str | None) -> Path | None:
        """A path the manifest (or folder) names, resolved once against where it comes from and made
        absolute, so that a process or a cluster worker with another working folder reads the same file."""
        if not text or not str(text).strip():
            return None
        return Path(os.path.abspath(base / Path(str(text).strip())))

    def as_given(text: str) -> str:
        # A folder's caseloads as the user would name them from where they ran the command; a
        # manifest's as the manifest writes them.
        return str(base / text) if manifest.is_dir() else text.strip()

    items: list[BatchItem] = []
    for record in rows:
        area = record.get("area", "").strip() or Path(record["caseload"]).stem
        seed_text = str(record.get("seed", "")).strip()
        row_params = replace(params, seed=int(seed_text)) if seed_text else params
        variants: list[tuple[str, Path | None]] = [("", path_of(record.get("rules")))]
        if rules_variants:
            variants = [(f"__{_safe_name(r.stem)}", Path(os.path.abspath(r))) for r in rules_variants]
        for suffix, rules_file in variants:
            for seed in seeds or (row_params.seed,):
                name = _safe_name(area) + suffix + (f"__seed{seed}" if seeds else "")
                sources = Sources(caseload=path_of(record["caseload"]) or Path(),
                                  contacts=path_of(record.get("contacts")),
                                  allow_missing_contact=allow_missing_contact)
                items.append(BatchItem(name, SelectRequest(sources=sources, out=out / name, rules_file=rules_file,
                                                           params=replace(row_params, seed=seed), formats=formats),
                                       manifest, audit_draws, as_given(record["caseload"])))
    names = [t.name for t in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{manifest.name}: area {repeated[0]!r} appears more than once; give each row its "
                         "own area name.", "bad_manifest")
    return items


def _manifest_rows(manifest: Path) -> tuple[list[dict[str, str]], Path]:
    rows: list[dict[str, str]] = []
    if manifest.is_dir():
        for path in sorted(manifest.iterdir()):
            if path.suffix.lower() not in CASELOAD_SUFFIXES or path.stem.endswith("_contacts"):
                continue
            contacts = next((c.name for c in sorted(manifest.glob(f"{glob.escape(path.stem)}_contacts.*"))
                             if c.suffix.lower() in CASELOAD_SUFFIXES), "")
            rows.append({"area": path.stem, "caseload": path.name, "contacts": contacts})
        if not rows:
            raise InputError(f"{manifest}: no caseload files (.csv, .xlsx, .parquet) in this folder.", "empty_batch")
        return rows, manifest
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
    return rows, manifest.parent


def run_batch_item(item: BatchItem) -> dict[str, object]:
    """Run one area and describe the outcome as a summary row; never raises for a bad area."""
    started = time.perf_counter()
    request = item.request
    row: dict[str, object] = {
        "area": item.name, "caseload": item.caseload_as_given or str(request.sources.caseload),
        "rules": str(request.rules_file or "default"), "seed": request.params.seed,
        "rows": "", "eligible": "", "status": "", "score": "", "bound": "", "exit_code": 0, "error": "",
        "run_folder": item.name,
    }
    caseload_name = request.sources.caseload.name if request.sources.caseload else ""
    failures: list[dict[str, object]] = []  # every error of the area, for failures.csv
    try:
        if item.audit_draws:
            audited = audit(AuditRequest(sources=request.sources, out=request.out, rules_file=request.rules_file,
                                         params=request.params, draws=item.audit_draws))
        else:
            result = select(request)
    except CaseloadValidationError as error:
        errors = error.failures[error.failures["severity"] == "error"]
        first = f" First: {failure_line(errors.iloc[0])}" if len(errors) else ""
        row.update(status="INVALID_INPUT", exit_code=2, error=error.message + first, run_folder="")
        failures = errors.astype(object).to_dict("records")
    except SelectorError as error:
        row.update(status={2: "INVALID_INPUT", 3: "INFEASIBLE"}.get(error.exit_code, "ERROR"),
                   exit_code=error.exit_code, error=error.message.replace("\n", " "), run_folder="")
        failures = [_failure_row(error.where or caseload_name, error.message, error.fix)]
    except Exception as error:  # one broken area must not stop the others
        row.update(status="ERROR", exit_code=1, error=f"{type(error).__name__}: {error}", run_folder="")
        failures = [_failure_row(caseload_name, f"{type(error).__name__}: {error}", "")]
    else:
        if item.audit_draws:
            frame = audited.caseload.frame
            row.update(rows=len(frame), eligible=int(frame["eligible"].sum()),
                       status="DEVIATION" if audited.deviates else "NO_DEVIATION", score=audited.lottery.optimum)
        else:
            first = result.solution.cohorts[0]
            frame = result.caseload.frame
            row.update(rows=len(frame), eligible=int(frame["eligible"].sum()), status=first.status,
                       score=first.score, bound=first.bound)
    row["seconds"] = round(time.perf_counter() - started, 3)
    row["failures"] = [{"area": item.name, **f} for f in failures]
    return row


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
        rows.sort(key=lambda r: order[str(r["area"])])
        failures = pd.DataFrame([f for r in rows for f in r.pop("failures", [])],  # type: ignore[attr-defined]
                                columns=["area", *FAILURE_COLUMNS])
        summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
        (staging / "summary.csv").write_bytes(frame_to_csv_bytes(summary))
        # Every error of every area (the summary shows only the first), for a spreadsheet.
        (staging / "failures.csv").write_bytes(frame_to_csv_bytes(failures))
    return summary


def version() -> str:
    return __version__
