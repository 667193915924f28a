"""Replacing: a family declined or cannot be reached, so cohort 1's freed slots are filled again
(the other members keep theirs), in memory or as a new run folder beside the old one."""

from __future__ import annotations

import datetime as dt
import glob
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..contract.defaults import LOTTERY_WORK
from ..contract.errors import InputError
from ..contract.rules import Rules, rules_from_dict
from ..io.caseload import takes_a_sheet
from ..io.folders import check_output_folder, output_lock
from ..io.options import READ_OPTION_FILES, ReadOptions
from ..io.run_record import ConsentEvent, Replacement, ReplacementEvent, RunRecord, read_run_record
from ..io.tables import file_sha256
from ..report.content import dropped_in_words
from ..solve import Cohort, SelectionParams, Solution, solve_replacement
from ..solve.problem import excluding
from ..validate import Caseload
from .loading import Progress, Sources, load
from .selection import problem_of, write_run


@dataclass(frozen=True)
class ReplaceRequest:
    """Families declined: replace them in cohort 1 of a run folder, into a new run folder.

    `caseload` and `contacts` say where the run's files are now, when they moved or the run was
    made on the web page; they are accepted only when their SHA-256 is the one the run recorded.
    `moved` says the same of the files read through options (the Annex A lists, a mapping, ...).
    """

    run_dir: Path
    declined: tuple[str, ...]
    out: Path | None = None
    force: bool = False
    caseload: Path | None = None
    contacts: Path | None = None
    moved: ReadOptions = field(default_factory=ReadOptions)
    # Drop the fewest lowest-priority rules that no child can keep in the freed slots (a run chosen
    # with every rule kept replaces with every rule kept unless this says otherwise).
    relax: bool = False


@dataclass(frozen=True)
class ReplaceResult:
    """A replacement run: who came in, and the new run folder."""

    caseload: Caseload
    solution: Solution
    out: Path
    declined: tuple[str, ...]
    newcomers: tuple[str, ...]
    earlier: tuple[tuple[str, tuple[str, ...]], ...] = ()  # replacements made from the same run before
    released: tuple[tuple[str, str], ...] = ()  # families called who are no longer needed (see `released`)
    agreed: tuple[str, ...] = ()  # children declined here whose family the record has as agreed
    # Members still in cohort 1 whose family the record has as declined or unreachable (slot,
    # child, state): not declined in this replacement, so their slots are still to fill.
    still_said_no: tuple[tuple[int, str, str], ...] = ()
    score_before: int | None = None  # cohort 1's score in the run replaced

    @property
    def brought_back(self) -> tuple[str, ...]:
        """Declined in the newest folder `replace` made from the same run before, not here: a
        family that said no, back in this cohort."""
        return tuple(c for c in self.earlier[-1][1] if c not in self.declined) if self.earlier else ()

    @property
    def beyond_newest(self) -> tuple[str, ...]:
        """Declined here and not in that newest folder: what going on from it would decline."""
        return tuple(c for c in self.declined if c not in self.earlier[-1][1]) if self.earlier else ()


DECLINE_REASON = "family declined or could not be reached"  # (no call recorded says which)
MADE_ON_THE_PAGE = "web page"  # what a replacement accepted on the web page records as the run it replaced
SAID_NO = ("declined", "unreachable")  # the states that free a slot
WAITING = ("asked", "agreed")  # families called who have not said no: they wait to hear
NO_LONGER_A_RESERVE = "no longer a reserve"  # the role of such a family's child after a replacement


def decline_reason(states: Sequence[str | None]) -> str:
    """Why the slots were freed, as the calls recorded for the children replaced say it (each
    child's latest state; None where no call is recorded).

    >>> decline_reason(["declined"]), decline_reason(["unreachable", "unreachable"]), decline_reason([None])
    ('family declined', 'families could not be reached', 'family declined or could not be reached')
    """
    one = len(states) == 1
    if set(states) == {"declined"}:
        return "family declined" if one else "families declined"
    if set(states) == {"unreachable"}:
        return "family could not be reached" if one else "families could not be reached"
    return DECLINE_REASON if one else "families declined or could not be reached"


def released(consent: Sequence[ConsentEvent], members: Sequence[str], reserves: Mapping[str, Sequence[str]],
             replaced: Replacement | None = None) -> tuple[tuple[str, str], ...]:
    """Families who were asked, or agreed, and whose child is now neither in cohort 1 nor a
    reserve, with that state, in the order they were first recorded.

    A replacement redraws every slot's reserves around the new member, so a reserve whose family
    was already called can drop out; nobody is needed from that family now, and unless their
    practitioner tells them they wait to hear. Children declined by the replacement (`replaced`)
    or one before it are not among them (they were replaced because their family said no).

    >>> events = [ConsentEvent("R1", "agreed", ""), ConsentEvent("R2", "asked", ""), ConsentEvent("R3", "asked", ""),
    ...           ConsentEvent("R3", "declined", ""), ConsentEvent("M1", "agreed", "")]
    >>> released(events, ["M1", "M2"], {"M1": ["R2"], "M2": []})
    (('R1', 'agreed'),)
    """
    latest: dict[str, str] = {}
    for event in consent:
        latest[event.child_id] = event.state
    declined = replaced.all_declined if replaced is not None else ()
    needed = set(members) | {child for slot in reserves.values() for child in slot} | set(declined)
    return tuple((child, state) for child, state in latest.items() if state in WAITING and child not in needed)


def decline(caseload: Caseload, solution: Solution, declined: Iterable[str],
            already_declined: Iterable[str] = (), from_run: str = "", progress: Progress | None = None,
            states: Mapping[str, str] | None = None, relax: bool = False) -> tuple[Solution, Replacement]:
    """Families declined (one or several at once): the rest of cohort 1 keeps its slots and the
    freed slots are filled by a draw from the fairest lottery over the best ways to fill them
    under every rule (solve_replacement); alternatives and reserves are refreshed.

    Args:
        caseload: the validated caseload of the run.
        solution: the run's solution (cohort 1 is where the declines are).
        declined: members of cohort 1 whose families declined or could not be reached.
        already_declined: children declined earlier (they stay out).
        from_run: the run this replaces, for the record.
        states: each child's latest consent state, as recorded: why its slot was freed.
        relax: drop the fewest lowest-priority rules no child can keep in the freed slots, though
            the run kept every rule (a run chosen relaxing replaces relaxing).

    Raises:
        InputError: a declined child is not in cohort 1.
        InfeasibleSelectionError: no child can take a freed slot with every rule met.
    """
    first = solution.cohorts[0].members
    wanted = match_ids(tuple(declined), first)
    # Those who said no never come in; one still in cohort 1 keeps its slot until its own
    # replacement (it is a member who stays, not a candidate).
    earlier = tuple(c for c in dict.fromkeys(already_declined) if c not in first)
    problem = problem_of(caseload, solution.rules, progress)
    if earlier:
        problem = excluding(problem, set(earlier))
    # One family at a time: the slot's reserves, in their order, are offered first.
    preferred = solution.reserves.get(wanted[0], ()) if len(wanted) == 1 else ()
    params = replace(solution.params, relax=True) if relax else solution.params
    replaced = solve_replacement(problem, params, first, wanted, progress=progress, preferred=preferred,
                                 left_out=earlier)
    reason = decline_reason([(states or {}).get(child) for child in wanted])
    record = Replacement(from_run=from_run, declined=wanted, reason=reason,
                         kept=tuple(c for c in first if c not in wanted),
                         all_declined=tuple(sorted(set(earlier) | set(wanted))), offered=tuple(preferred))
    return replaced, record


def id_key(child: str) -> str:
    """A child's id as typed or recorded, for matching: case and surrounding spaces ignored.

    >>> id_key(" c002831 ") == id_key("C002831")
    True
    """
    return child.strip().casefold()


def match_ids(asked: tuple[str, ...], cohort: tuple[str, ...], run: str = "", *,
               reserves: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The children asked for among cohort 1 (and, when given, its reserves), matched after
    trimming and ignoring case.

    Raises:
        InputError: a child asked for is not among them.
    """
    by_key = {id_key(c): c for c in (*cohort, *reserves)}
    found = []
    for child in asked:
        member = by_key.get(id_key(child))
        if member is None:
            of_run = f" of {run}" if run else ""
            among = " or its reserves" if reserves else ""
            raise InputError(f"{child} is not in cohort 1{among}{of_run}; cohort 1 is {', '.join(cohort)}."
                             + _near_ids(child, by_key), "not_in_cohort")
        found.append(member)
    return tuple(dict.fromkeys(found))


def _near_ids(typed: str, by_key: Mapping[str, str]) -> str:
    """The ids a typed one most likely meant (a full stop after it, digits missing or swapped),
    as a question: a slip is never taken for the child it resembles.

    >>> _near_ids("C002831.", {"c002831": "C002831", "c001719": "C001719"})
    ' Did you mean C002831?'
    >>> _near_ids("X9", {"c002831": "C002831"})
    ''
    """
    import difflib

    key = re.sub(r"[\W_]+", "", typed.casefold())
    plain = {re.sub(r"[\W_]+", "", k): child for k, child in by_key.items()}
    near = difflib.get_close_matches(key, list(plain), n=2, cutoff=0.8)
    return f" Did you mean {' or '.join(plain[k] for k in near)}?" if near else ""


def replace_in_run(request: ReplaceRequest) -> ReplaceResult:
    """A replacement written as a new run folder beside the old one (which is kept).

    Raises:
        RunRecordError: the run folder's record is missing or damaged.
        InputError: a child is not in cohort 1, or the caseload changed since the run.
    """
    record = read_run_record(request.run_dir)
    not_replaced_already(request.declined, record, request.run_dir)
    not_a_reserve(request.declined, record, request.run_dir)
    declined = match_ids(request.declined, record.cohorts[0].members, str(request.run_dir))
    out = request.out or next_replacement_folder(request.run_dir)
    sources = recorded_sources(record, request.caseload, request.contacts, request.moved, request.run_dir)
    inputs = (request.run_dir / "run.json", *sources.paths)
    earlier = tuple((name, gone) for name, gone in replacements_made(request.run_dir) if name != out.name)
    with output_lock(out):
        check_output_folder(out, request.force, inputs)
        return replace(_replace(request, record, declined, sources, out), earlier=earlier)


def not_replaced_already(asked: tuple[str, ...], record: RunRecord, run_dir: Path) -> None:
    """A child this replacement run took out of cohort 1 is said to be so, rather than only "not
    in cohort 1" (typing the same `replace`, or a late answer from a family already replaced, on
    the new folder is the usual way here).

    Raises:
        InputError: a child asked for was declined here or in a run before it.
    """
    if record.replaced is None:
        return
    gone = {id_key(child): child for child in record.replaced.all_declined}
    members = record.cohorts[0].members
    for text in asked:
        child = gone.get(id_key(text))
        if child is not None and child not in members:
            raise InputError(f"{child} was replaced already (families declined up to {run_dir}: "
                             f"{', '.join(record.replaced.all_declined)}); cohort 1 of {run_dir} is now "
                             f"{', '.join(members)}.", "not_in_cohort")


def roles_of(record: RunRecord) -> dict[str, str]:
    """Each child of cohort 1 and its reserves, and where it stands ("cohort 1, slot 2",
    "reserve 1 for slot 2": a reserve of two slots is named by the first)."""
    first = record.cohorts[0]
    roles = {c: f"cohort 1, slot {i}" for i, c in enumerate(first.members, start=1)}
    for slot, member in enumerate(first.members, start=1):
        for rank, reserve in enumerate(first.reserves.get(member, ()), start=1):
            roles.setdefault(reserve, f"reserve {rank} for slot {slot}")
    return roles


def not_a_reserve(asked: tuple[str, ...], record: RunRecord, run_dir: Path) -> None:
    """A reserve whose family said no is recorded with `consent` (it is then not offered), not
    replaced: said so, rather than only "not in cohort 1".

    Raises:
        InputError: a child asked for is a reserve of cohort 1, not a member.
    """
    reserves = {id_key(child): (child, role) for child, role in roles_of(record).items()
                if not role.startswith("cohort 1")}
    for text in asked:
        if (found := reserves.get(id_key(text))) is not None:
            reserve, role = found
            raise InputError(
                f"{reserve} is a reserve {role.split(' ', 2)[2]} of {run_dir}, not in cohort 1: "  # "for slot 3"
                "only a member's slot is replaced.", "reserve_not_member", where=reserve,
                fix=f"If {reserve}'s family said no, record it with consent, as declined: the reserve is "
                    "then not offered.")


def _replace(request: ReplaceRequest, record: RunRecord, declined: tuple[str, ...], sources: Sources,
             out: Path) -> ReplaceResult:
    check_same_inputs(record, sources, request.run_dir)
    caseload = load(sources)
    if (caseload.source_sha256 != record.input.caseload_sha256
            or caseload.contacts_sha256 != record.input.contacts_sha256):
        raise InputError(
            f"{record.input.caseload}: the caseload or contacts changed since {request.run_dir} was made.",
            "input_changed", fix=_NOT_THE_RUNS_FILE)
    previous, solution, replacement = replacement_of(record, request.run_dir, caseload, declined, request.relax)
    newcomers = tuple(c for c in solution.cohorts[0].members if c not in previous.cohorts[0].members)
    event = replacement_event(previous, solution, replacement, newcomers, "replaced")
    write_run(out, caseload, solution, sources, record.input.formats, request.force, replacement,
              (request.run_dir / "run.json",), consent=record.consent,  # the whole history goes on
              replacements=(*record.replacements, event))
    first = solution.cohorts[0]
    agreed = tuple(c for c in replacement.declined if (e := record.consent_state(c)) is not None and e.state == "agreed")
    still_said_no = tuple((slot, child, e.state) for slot, child in enumerate(first.members, 1)
                          if (e := record.consent_state(child)) is not None and e.state in SAID_NO)
    return ReplaceResult(caseload, solution, out, replacement.declined, newcomers,
                         released=released(record.consent, first.members, solution.reserves, replacement),
                         agreed=agreed, still_said_no=still_said_no, score_before=previous.cohorts[0].score)


def replacement_of(record: RunRecord, run_dir: Path, caseload: Caseload, declined: tuple[str, ...],
                   relax: bool = False) -> tuple[Solution, Solution, Replacement]:
    """The run a record holds (as a solution), and its replacement when these children declined
    (what `replace` writes, and what `verify` redoes), relaxing rules when asked (`decline`).

    Raises:
        InputError: the record's search parameters are incomplete, or a child is not in cohort 1.
    """
    rules = rules_from_dict(record.rules, source=f"{run_dir}/run.json")
    # A replacement's lottery is over the best ways to fill the freed slots (no slack), with the
    # default work: its record has always given the slack and the work those values.
    params = replace(recorded_params(record, run_dir), slack=0.0, lottery_work=LOTTERY_WORK)
    # Nobody whose family said no comes in: earlier declines, and reserves who declined when asked.
    said_no = {e.child_id for e in record.consent if record.consent_state(e.child_id) is e
               and e.state in SAID_NO}
    earlier = sorted((set(record.replaced.all_declined if record.replaced else ()) | said_no) - set(declined))
    previous = _solution_of(record, rules, params)
    states = {child: event.state for child in declined if (event := record.consent_state(child)) is not None}
    solution, replacement = decline(caseload, previous, declined, earlier, from_run=run_dir.name, states=states,
                                    relax=relax)
    return previous, solution, replacement


def replacement_redone(record: RunRecord, run_dir: Path, caseload: Caseload) -> Solution:
    """A replacement redone from its own record, without the run it replaced: cohort 1 before
    is this one's with the declined children back in the freed slots (which declined child
    held which freed slot changes nothing), the families left out and the reserves offered are
    as recorded (`verify` of the earlier run checks those).

    Raises:
        InputError: the record is not a replacement's, or its parameters are incomplete.
    """
    done = record.replaced
    if done is None:
        raise InputError(f"{run_dir}/run.json: not a replacement run.", "bad_run")
    rules = rules_from_dict(record.rules, source=f"{run_dir}/run.json")
    params = replace(recorded_params(record, run_dir), slack=0.0, lottery_work=LOTTERY_WORK)
    back = iter(done.declined)
    before = tuple(c if c in set(done.kept) else next(back, c) for c in record.cohorts[0].members)
    first = record.cohorts[0]
    previous = Solution(cohorts=(Cohort(1, before, first.score, first.status, first.bound, first.seconds),),
                        reserves={done.declined[0]: done.offered} if len(done.declined) == 1 else {},
                        rules=rules, dropped=record.dropped_rules, params=params, candidates=record.candidates)
    earlier = sorted(set(done.all_declined) - set(done.declined))
    return decline(caseload, previous, done.declined, earlier, from_run=done.from_run)[0]


# Each recorded search parameter: the type it must have, and its least value (as the options allow).
NUMBER = (int, float)
RECORDED_PARAMS: dict[str, tuple[type | tuple[type, ...], float | None]] = {
    "time_limit_s": (NUMBER, 0.1), "workers": (int, 1), "sets": (int, 1), "max_overlap": (int, 0),
    "reserves": (int, 0), "relax": (bool, None), "slack": (NUMBER, 0), "lottery_work": (NUMBER, 0),
    "seed_source": (str, None), "seed_phrase": (str, None)}


def _fits(value: object, kinds: type | tuple[type, ...], least: float | None) -> bool:
    if isinstance(value, bool) is not (kinds is bool) or not isinstance(value, kinds):
        return False  # (True is an int to Python, not a number of sets to a run record)
    return least is None or value >= least  # type: ignore[operator]


def recorded_params(record: RunRecord, run_dir: Path) -> SelectionParams:
    """The search parameters a run record holds (the seed as recorded).

    Raises:
        InputError: a parameter is missing or of the wrong type.
    """
    p = record.params
    wrong = [f"{name} ({p[name]!r})" for name, (kinds, least) in RECORDED_PARAMS.items()
             if name in p and not _fits(p[name], kinds, least)]
    if wrong:
        raise InputError(f"{run_dir}/run.json: the search parameter{'s' if len(wrong) > 1 else ''} "
                         f"{', '.join(wrong)} {'are' if len(wrong) > 1 else 'is'} not what a run records. The record "
                         "was edited: use the run folder as selector wrote it.", "bad_run")
    try:
        return SelectionParams(seed=record.seed, time_limit_s=p["time_limit_s"], workers=p["workers"], sets=p["sets"],
                               max_overlap=p["max_overlap"], reserves=p["reserves"], relax=p["relax"],
                               slack=p.get("slack", 0.0), lottery_work=p.get("lottery_work", LOTTERY_WORK),
                               seed_source=p.get("seed_source", "given"), seed_phrase=p.get("seed_phrase", ""))
    except (KeyError, TypeError) as exc:
        raise InputError(f"{run_dir}/run.json: the search parameters are incomplete ({exc}).", "bad_run") from exc


def now_utc() -> str:
    """Now, as the record writes times: UTC to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def replacement_event(before: Solution, after: Solution, replacement: Replacement, newcomers: tuple[str, ...],
                      action: str, at: str | None = None) -> ReplacementEvent:
    """A replacement (or its undoing) as the record's history keeps it."""
    rules = ("every rule still met" if not after.dropped
             else "every rule met except those dropped to make a cohort possible: "
             + "; ".join(map(dropped_in_words, after.dropped)))
    return ReplacementEvent(at=at or now_utc(), action=action, declined=replacement.declined,
                            newcomers=newcomers, reason=replacement.reason,
                            score_before=before.cohorts[0].score, score_after=after.cohorts[0].score, rules=rules)


def replacements_made(run_dir: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The run folders beside this one that `replace` made from it (`RUN-replace-N`, recording
    this run as the one replaced), by name, each with the children declined there."""
    base = re.sub(r"-replace-\d+$", "", run_dir.name)
    made = []
    for folder in sorted(run_dir.parent.glob(f"{glob.escape(base)}-replace-*"),
                         key=lambda f: (len(f.name), f.name)):  # -replace-2 before -replace-10
        if folder.name == run_dir.name or not re.fullmatch(rf"{re.escape(base)}-replace-\d+", folder.name):
            continue
        try:
            replaced = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("replaced") or {}
        except (OSError, ValueError, AttributeError):
            continue  # not a run folder, or one that cannot be read: nothing to point to
        if isinstance(replaced, dict) and replaced.get("from_run") == run_dir.name:
            made.append((folder.name, tuple(str(c) for c in replaced.get("declined") or ())))
    return tuple(made)


def next_replacement_folder(run_dir: Path) -> Path:
    """The next free `RUN-replace-N` beside a run (a replacement of a replacement counts on)."""
    base = re.sub(r"-replace-\d+$", "", run_dir.name)
    number = 1
    while (candidate := run_dir.parent / f"{base}-replace-{number}").exists():
        number += 1
    return candidate




# A run goes on only from the files it was chosen from. Choosing again on a corrected list is a
# new draw: the families already called would be for a cohort 1 that is no longer the one.
_NOT_THE_RUNS_FILE = ("Give the files as they were when the run was chosen (kept elsewhere, or the analyst's copy). "
                      "Choosing again on the changed list draws a new cohort 1: the calls recorded so far stay with "
                      "this run.")


def check_same_inputs(record: RunRecord, sources: Sources, run_dir: Path) -> None:
    """The files a run record names must be, byte for byte, the files the run read: a record edited
    to point at another file (another area's list, anything else on the disk) is refused before
    that file is read as a caseload.

    Raises:
        InputError: a file is missing, not an ordinary file, or differs from the recorded one.
    """
    for name, role in READ_OPTION_FILES.items():
        # Read where the run read them, unless the user said where they are now: one missing is named.
        where = getattr(sources.options, name)
        if where is not None and not Path(where).exists():
            raise InputError(f"{where}: the {role} {run_dir}/run.json names is missing.", "option_file_missing",
                             fix="Put it back where it was, or say where it is now, or choose again.")
    recorded = [(sources.caseload, record.input.caseload_sha256, "caseload")]
    if sources.contacts is not None:
        recorded.append((sources.contacts, record.input.contacts_sha256, "contacts"))
    for path, sha256, role in recorded:
        if path is None or sources.options.given:
            continue  # Annex A lists are hashed together; `replace` compares them after reading
        if not path.is_file():
            raise InputError(f"{path}: the {role} file {run_dir}/run.json names is missing or not an ordinary "
                             "file.", "input_missing",
                             fix="Put the file back where it was, or say where it is now, or choose again.")
        if file_sha256(path) != sha256:
            raise InputError(
                f"{path}: is not the {role} file {run_dir} was chosen from (its contents differ: another "
                "area's file, or a changed list).", "input_changed", fix=_NOT_THE_RUNS_FILE)


def _uploads_given(recorded: ReadOptions, given: ReadOptions, run_dir: Path | str) -> None:
    """Every file a run made from uploads read through its options is given (its record names
    them without a folder: there is nowhere to read them from).

    Raises:
        InputError: naming every one not given.
    """
    missing = [(role, str(read)) for name, role in READ_OPTION_FILES.items()
               if (read := getattr(recorded, name)) is not None and getattr(given, name) is None]
    if missing:
        names = ", ".join(name for _, name in missing)
        files = " and the ".join(f"{role} {name}" for role, name in missing)
        raise InputError(f"{names}: {run_dir} was made from the {files}, uploaded to the web page; give "
                         f"{'it' if len(missing) == 1 else 'them'} as well.", "option_not_given",
                         fix="Give every file the run was made from.")


def recorded_sources(record: RunRecord, caseload: Path | None = None, contacts: Path | None = None,
                     moved: ReadOptions | None = None, run_dir: Path | str = "the run") -> Sources:
    """The sources a run was read from, as its record gives them, or where they are now
    (`caseload`, `contacts`, and the option files in `moved`).

    Raises:
        InputError: the record names no caseload and none was given, an uploaded contacts file
            was not given with the caseload, or `moved` names a file the run did not read.
    """
    source = record.input
    moved = moved or ReadOptions()
    options = ReadOptions.from_record(source.annex_a or {})
    uploaded = record.input.made_from_uploads  # the files by the names they were uploaded under, no paths
    if uploaded:
        _uploads_given(options, moved, run_dir)
    for name, role in READ_OPTION_FILES.items():
        now = getattr(moved, name)
        if now is None:
            continue
        # Lists where a run made from an upload read them (the page records no paths), or any file
        # the run read, moved; never one the run did not read (it would change what is chosen).
        if getattr(options, name) is None and not (uploaded and name in ("list1", "list2")):
            raise InputError(f"{now}: {run_dir} read no {role}.", "option_not_read",
                             fix="Give only the files the run read, where they are now.")
        if not Path(now).exists():
            raise InputError(f"{now}: the {role} given is not there.", "option_given_missing",
                             fix="Check the path.")
        options = replace(options, **{name: now})
    lists_given = moved.list1 is not None or moved.list2 is not None

    def path(text: str | None) -> Path | None:
        return Path(text) if text else None

    if caseload is None and not source.caseload_path and not (options.list1 or options.list2 or options.sen2):
        raise InputError(f"{source.caseload}: the run record names no caseload file to read again (a run made "
                         "from an upload on the web page).", "caseload_not_recorded",
                         fix="Give the caseload file the run was made from (and its contacts file).")
    if contacts is None and source.contacts and not source.contacts_path:
        contacts_hint = "its contacts file was uploaded too"
        if caseload is not None or lists_given:
            raise InputError(f"{source.contacts}: {contacts_hint}; give it as well.", "contacts_not_recorded",
                             fix="Give the contacts file the run was made from.")
    caseload_file = caseload or path(source.caseload_path)
    return Sources(
        caseload=caseload_file, contacts=contacts or path(source.contacts_path),
        # The sheet the run read: runs made before a sheet named for a file without sheets was refused
        # (0.5.1) recorded it, passed over; read again with it, they would now be refused.
        sheet=source.sheet if takes_a_sheet(caseload_file, options) else None, options=options,
        allow_missing_contact=source.allow_missing_contact, keep_columns=source.keep_columns)


def _solution_of(record: RunRecord, rules: Rules, params: SelectionParams) -> Solution:
    """The recorded solution, enough to continue from (cohorts and reserves)."""
    cohorts = tuple(Cohort(c.rank, c.members, c.score, c.status, c.bound, c.seconds) for c in record.cohorts)
    return Solution(cohorts=cohorts, reserves=dict(record.cohorts[0].reserves), rules=rules,
                    dropped=record.dropped_rules, params=params, candidates=record.candidates)
