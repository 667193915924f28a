"""Verifying a run folder: its files are the ones its record hashed, and its draw follows from
its inputs, rules and seed. The run is redone from run.json and the inputs (accepted only when
their SHA-256 match the record) into a temporary folder, and every file is compared byte for
byte with the folder's (run.json without its wall times).

A replacement run is redone from the run it replaced (the folder beside it, named in its
record), or, when that folder is not there, from its own record. A run whose search the time limit cut short cannot be redone exactly (wall time
decided it): the verification says so.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..contract.errors import InputError, SelectorError
from ..contract.rules import rules_from_dict
from ..contract.seeds import rules_sha256, seed_from_phrase
from ..io.folders import unpack_run_zip
from ..io.options import ReadOptions
from ..io.run_record import (
    RUN_RECORD_NAME,
    CohortRecord,
    ConsentEvent,
    Replacement,
    RunRecord,
    read_run_record,
)
from ..io.tables import file_sha256
from ..solve import Cohort, Solution, drawn_below_best
from ..validate import Caseload
from .consent import write_consent
from .loading import Sources, load
from .replace import (
    MADE_ON_THE_PAGE,
    check_same_inputs,
    recorded_params,
    recorded_sources,
    replacement_of,
    replacement_redone,
)
from .selection import choose, write_run


@dataclass(frozen=True)
class VerifyRequest:
    """A run folder to verify, and where its inputs are now (default: where run.json says)."""

    run_dir: Path
    caseload: Path | None = None
    contacts: Path | None = None
    moved: ReadOptions = field(default_factory=ReadOptions)  # the files read through options (Annex A lists, ...) where they are now


@dataclass(frozen=True)
class Verification:
    """What the verification found.

    Attributes:
        run_dir: the folder verified.
        differences: each file, field or hash that is not as the record and the redone run say.
        compared: how many files were compared.
        redone: the run was redone and compared (False: only the recorded hashes were checked).
        limits: what could not be checked, in words.
        caseload, solution: the run as redone (what the folder was compared with).
        redo_cut_short: the run finished within its time limit and the redo did not, so a
            difference may be the machine's, not the folder's.
        changed_after: a file differs from the SHA-256 the record holds for it (or is missing,
            or was added): that is no version's doing.
        matching: of the files compared, how many no difference names (as recorded and as redone).
    """

    run_dir: Path
    differences: tuple[str, ...]
    compared: int
    redone: bool
    limits: tuple[str, ...] = ()
    caseload: Caseload | None = None
    solution: Solution | None = None
    redo_cut_short: bool = False
    matching: int = 0
    changed_after: bool = False  # a file is not as the record hashed it: changed after the run, by any version

    @property
    def verified(self) -> bool:
        return not self.differences


# Why a run made by another version may differ from its redo (said by verify and by carrying on).
ONLY_ITS_OWN = "a version gives the same files only for the runs it made itself"


def verify_run(request: VerifyRequest) -> Verification:
    """Check a run folder against its record and against the run redone from its inputs.

    `run_dir` may be the zip of a run folder (the web page's Download): it is verified as
    unpacked into a temporary folder, removed after, and named as the zip.

    Raises:
        RunRecordError: run.json is missing or damaged.
        InputError: an input is missing or differs from the one the run read, or a zip given
            holds no run folder.
    """
    if request.run_dir.is_file():  # a zipped run folder: the web page's Download, as it was sent
        return _verify_zip(request)
    record = read_run_record(request.run_dir)
    differences = _recorded_hashes(request.run_dir, record)
    changed_after = bool(differences)
    previous_dir = request.run_dir.parent / record.replaced.from_run if record.replaced is not None else None
    limits = []
    below_best = bool(record.cohorts) and drawn_below_best(record.cohorts[0].status, record.cohorts[0].bound,
                                                           float(record.lottery.get("slack_percent") or 0),
                                                           record.lottery.get("optimum"))
    cut_short = _searches_cut_short(record.cohorts, below_best) or not record.lottery.get("reproducible", True)
    if cut_short:
        limits.append("the time limit cut the original search short, so the run cannot be redone exactly; "
                      "differences below may come from that")
    sources = recorded_sources(record, request.caseload, request.contacts, request.moved, request.run_dir)
    check_same_inputs(record, sources, request.run_dir)
    caseload = load(sources)
    if (caseload.source_sha256 != record.input.caseload_sha256
            or caseload.contacts_sha256 != record.input.contacts_sha256):
        raise InputError(f"{record.input.caseload}: the caseload or contacts differ from those {request.run_dir} "
                         "was made from.", "input_changed")
    # The same bytes under another name (an upload is stored under its own): named as recorded.
    caseload = replace(caseload, source=record.input.caseload, contacts_source=record.input.contacts)
    params = recorded_params(record, request.run_dir)
    if params.seed_source == "phrase":
        expected = seed_from_phrase(params.seed_phrase, record.input.caseload_sha256, rules_sha256(record.rules))
        if expected != record.seed:
            differences.append(f"seed: {record.seed} is not the seed the phrase gives with these files ({expected})")
    replaced: Replacement | None = None
    # The consent calls the folder was first written with: those recorded since were applied as
    # `consent` writes them (contacts.csv, the workbook and run.json only).
    written_with: list[tuple[ConsentEvent, ...]] = [()]
    if (previous_dir is not None and record.replaced is not None
            and not (previous_dir / RUN_RECORD_NAME).is_file()):
        # Without the run it replaced: redone from its own record (the families left out and the
        # reserves offered as recorded), with every earlier part of the consent history tried.
        solution = replacement_redone(record, request.run_dir, caseload)
        replaced = record.replaced
        written_with = [record.consent[:k] for k in range(len(record.consent), -1, -1)]
        limits.append("a replacement made on the web page: redone from its own record (who was left out and the "
                      "reserves offered as recorded)" if record.replaced.from_run == MADE_ON_THE_PAGE else
                      f"a replacement of {previous_dir.name}, which is not beside it: redone from its own record "
                      "(who was left out and the reserves offered as recorded; verifying that run checks them)")
    elif previous_dir is not None and record.replaced is not None:
        # The replacement redone from the run it replaced, as `replace` made it (with that run's
        # consent calls; those made since are applied as `consent` writes them).
        previous = read_run_record(previous_dir)
        # (relaxing as the replacement did: a run that kept every rule can be replaced relaxing them)
        _before, solution, replaced = replacement_of(previous, previous_dir, caseload, record.replaced.declined,
                                                     relax=params.relax)
        written_with = [previous.consent]
        limits.append(f"a replacement of {previous_dir.name}: redone from that run as it is now "
                      f"(`selector verify {previous_dir}` checks that one)")
    else:
        # The recorded seed, as given: a random one is not drawn again.
        rules = rules_from_dict(record.rules, source=f"{request.run_dir}/{RUN_RECORD_NAME}")
        solution = replace(choose(caseload, rules, replace(params, seed_source="given"), reuse=False), params=params)
    # The redo is stamped with the run's version (run.json, the report, the workbook say which
    # selector made the run): every other byte must still match.
    solution = replace(solution, version=record.version)
    redo_cut_short = not cut_short and _cut_short(solution)
    if redo_cut_short:
        # The run finished within its time limit but the redo did not (a slower or busier
        # machine): without this, a run that is fine reads as tampered with.
        limits.append("the time limit cut the redone search short on this machine (the original finished within "
                      "it), so differences below may come from that; verify again when the machine is less busy")
    as_recorded = _as_recorded(record, sources)
    with tempfile.TemporaryDirectory(prefix="selector-verify-") as folder:
        # The calls recorded since the folder was written, as `consent` writes them (contacts.csv
        # and run.json only) or as the web page's download writes them (the whole folder again).
        ways = list(dict.fromkeys([*written_with, record.consent]))
        found: list[str] = []
        for k, consent in enumerate(ways):
            again = Path(folder) / f"run{k}"
            write_run(again, caseload, solution, as_recorded, record.input.formats, replaced=replaced,
                      consent=consent, replacements=record.replacements)
            if record.consent != consent:
                write_consent(again, replace(read_run_record(again), consent=record.consent))
            apart = _compare_folders(request.run_dir, again)
            found = apart if k == 0 else found  # the command line's way is the one reported
            if not apart:
                found = []
                break
        differences += found
        names = {path.name for path in again.iterdir()}
        compared = len(names)
        # Each difference starts with the file it is in ("cohorts.xlsx: ..."), or with what else it
        # is about ("seed: ...").
        named_apart = {difference.split(": ", 1)[0] for difference in differences} & names
    if record.version != __version__:
        # The same inputs, rules and seed give the same files within one version; a newer one may
        # choose or word things differently, and a run that differs is not then tampered with.
        limits.append(f"this run was made by selector {record.version} and is redone by selector {__version__}"
                      + (", which gives the same files" if not differences else
                         "; a file that is not as run.json hashed it was changed after the run, whichever version "
                         "made it" if changed_after else
                         f"; {ONLY_ITS_OWN}, so the differences below may come from what changed between them "
                         f"(verify with selector {record.version} to be sure)"))
    return Verification(request.run_dir, tuple(differences), compared, True, tuple(limits), caseload, solution,
                        redo_cut_short, matching=compared - len(named_apart), changed_after=changed_after)


def _cut_short(solution: Solution) -> bool:
    """Whether the wall clock, not the work, ended some search of a solution."""
    return (_searches_cut_short(solution.cohorts, solution.below_best_by_slack)
            or (solution.lottery is not None and not solution.lottery.reproducible))


def _searches_cut_short(cohorts: Sequence[Cohort] | Sequence[CohortRecord], below_best: bool) -> bool:
    """Whether some cohort's search was ended by the time limit (`FEASIBLE`), leaving out a cohort
    1 `below_best`: drawn within the slack below a proved best score, which no clock ended."""
    return any(c.status != "OPTIMAL" for c in cohorts[1 if below_best else 0:])


def _as_recorded(record: RunRecord, sources: Sources) -> Sources:
    """The sources as the record names them (the files may have been given from elsewhere; the
    workbook's run sheet shows the recorded paths; uploads by the names they were uploaded under,
    with the sheet read)."""
    given = record.input
    options = ReadOptions.from_record(given.annex_a or {})
    if record.input.made_from_uploads:
        return replace(sources, options=options, uploaded=True, sheet=given.sheet)
    return replace(sources, caseload=Path(given.caseload_path) if given.caseload_path else None,
                   contacts=Path(given.contacts_path) if given.contacts_path else None, options=options,
                   sheet=given.sheet)


def _verify_zip(request: VerifyRequest) -> Verification:
    """A zipped run folder verified as unpacked, every message naming the zip."""
    import zipfile  # only for this

    if not zipfile.is_zipfile(request.run_dir):
        raise InputError(f"{request.run_dir} is a file, not a run folder or the zip of one.", "not_a_run",
                         fix="Give the folder `selector select` wrote, or the zip the web page's Download gave.")
    with tempfile.TemporaryDirectory(prefix="selector-verify-") as into:
        folder = unpack_run_zip(request.run_dir, Path(into))

        def named(text: str) -> str:
            return text.replace(str(folder), str(request.run_dir))

        try:
            found = verify_run(replace(request, run_dir=folder))
        except SelectorError as error:
            error.message = named(error.message)
            raise
    return replace(found, run_dir=request.run_dir, differences=tuple(named(d) for d in found.differences),
                   limits=tuple(named(limit) for limit in found.limits))


def _recorded_hashes(run_dir: Path, record: RunRecord) -> list[str]:
    """Each file of the folder against the SHA-256 the record holds for it."""
    differences = []
    present = {p.name for p in run_dir.iterdir() if p.is_file() and p.name != RUN_RECORD_NAME}
    for name, digest in sorted(record.files.items()):
        path = run_dir / name
        if not path.is_file():
            differences.append(f"{name}: missing (the record lists it)")
        elif file_sha256(path) != digest:
            differences.append(f"{name}: its SHA-256 is not the one run.json records (the file was changed)")
    differences += [f"{name}: not listed in run.json (added to the folder)" for name in sorted(present - set(record.files))]
    return differences


def _compare_folders(run_dir: Path, again: Path) -> list[str]:
    """Each file of the redone run against the folder's (run.json field by field, without wall times)."""
    differences = []
    for path in sorted(again.iterdir()):
        mine = run_dir / path.name
        if not mine.is_file():
            continue  # said by the hash check
        if path.name == RUN_RECORD_NAME:
            ours, theirs = (_without_times(json.loads(p.read_text(encoding="utf-8"))) for p in (path, mine))
            if "key" not in theirs.get("lottery", {"key": ""}):
                # A folder written before runs kept their lottery (lottery.json, lottery.key).
                ours.get("lottery", {}).pop("key", None)
            differences += [f"run.json: {key} is not what the redone run gives"
                            for key in sorted(set(ours) | set(theirs)) if ours.get(key) != theirs.get(key)]
        elif path.read_bytes() != mine.read_bytes():
            differences.append(f"{path.name}: differs from the redone run{_first_line_apart(mine, path)}")
    return differences


def _without_times(value: Any) -> Any:
    """A record without what wall time or the machine decides (seconds, paths, the file hashes,
    which are compared file by file)."""
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items()
                if "seconds" not in k and k not in ("files", "caseload_path", "contacts_path")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _first_line_apart(a: Path, b: Path) -> str:
    """Where a folder's text file (`a`) first differs from the redone run's (`b`), or which has
    lines the other lacks (a file cut short, or added to); nothing for binary files."""
    try:
        left, right = a.read_text(encoding="utf-8-sig").splitlines(), b.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        return ""
    for number, (x, y) in enumerate(zip(left, right, strict=False), start=1):
        if x != y:
            return f" (first at line {number})"
    if len(left) < len(right):
        return f" ({len(right) - len(left)} line(s) fewer than the redone run: cut short?)"
    return f" ({len(left) - len(right)} line(s) more than the redone run)"
