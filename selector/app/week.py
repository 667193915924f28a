"""The week of consent calls, as a front end holds it between requests: the current cohort and
reserves, every call recorded, a replacement offered and accepted or undone, the download."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace

import pandas as pd

from .. import __version__
from ..contract.errors import InputError
from ..io.options import READ_OPTION_FILES, ReadOptions
from ..io.run_record import ConsentEvent, Replacement, ReplacementEvent, RunRecord, read_run_record
from ..report import words
from ..report.content import call_order, every_rule, in_words, reasons
from ..report.files import run_files
from ..report.record import make_record
from ..solve import Solution
from ..validate import Caseload
from .consent import consent_state, days_since, note_without_names
from .loading import Profile, Progress, Sources
from .replace import (
    MADE_ON_THE_PAGE,
    NO_LONGER_A_RESERVE,
    SAID_NO,
    decline,
    match_ids,
    now_utc,
    recorded_sources,
    released,
    replacement_event,
)
from .verify import ONLY_ITS_OWN, VerifyRequest, verify_run


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
    sources: Sources | None = None  # the files uploaded (the download's record names them)

    def latest(self, child_id: str) -> ConsentEvent | None:
        """A child's latest consent change (None until someone records a call)."""
        return next((e for e in reversed(self.consent) if e.child_id == child_id), None)

    def state_of(self, child_id: str) -> str:
        """A child's latest consent state ("to ask" until someone records a call)."""
        event = self.latest(child_id)
        return event.state if event is not None else "to ask"

    def asked_at(self, child_id: str) -> str:
        """When the child's family was asked, while they have not answered ("" otherwise)."""
        event = self.latest(child_id)
        return event.at if event is not None and event.state == "asked" else ""

    def said_no(self) -> tuple[str, ...]:
        """Children whose families declined or could not be reached (latest state), sorted."""
        asked = {e.child_id for e in self.consent}
        return tuple(sorted(c for c in asked if self.state_of(c) in SAID_NO))


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
    asked_at: str = ""  # when the family was asked, while they have not answered (UTC)
    waiting_days: int = 0  # whole days since then

    @property
    def asked_shown(self) -> str:
        """When the family was asked, as a person reads a time ("" while not waiting)."""
        return words.time_shown(self.asked_at) if self.asked_at else ""


@dataclass(frozen=True)
class Offer:
    """The best child for the slot a declined family leaves, and the Week if it is accepted."""

    declined: str
    slot: int
    newcomers: tuple[str, ...]
    week: Week


def start_week(caseload: Caseload, solution: Solution, sources: Sources | None = None) -> Week:
    """A freshly chosen cohort: nobody called yet (`sources`: the files uploaded)."""
    return Week(caseload, solution, sources=sources)


def carry_on(request: VerifyRequest, only_given: bool = False) -> Week:
    """The week of a run folder (the page's download, or any run folder), to carry the calls on
    from where it stands: the run is redone from its inputs and must verify byte for byte first,
    so a folder changed by hand, or other inputs, are refused; then its cohort, reserves and
    whole history (calls, replacements made or taken back) are as the folder records them.

    With `only_given` (a page that reads only what was uploaded), no file is read from a path the
    run record names: each must be given.

    Raises:
        RunRecordError: run.json is missing or damaged.
        InputError: an input is missing or differs, or the folder is not the run its inputs give.
    """
    record = read_run_record(request.run_dir)
    if only_given:
        _all_given(record, request)
    checked = verify_run(request)
    if not checked.verified and checked.redo_cut_short:
        raise InputError(f"{request.run_dir.name}: the check of the download ran out of time on this machine (the "
                         "run finished within its time limit, its redo here did not).", "not_verified",
                         fix="Try again when the machine is less busy.")
    if not checked.verified or checked.caseload is None or checked.solution is None:
        first = checked.differences[0] if checked.differences else "it could not be redone"
        # A week begun before selector was updated: another version may word its files otherwise,
        # so a folder that differs is not then shown to be changed by hand.
        other = (f" It was made by selector {record.version}, and this is selector {__version__}: {ONLY_ITS_OWN}, "
                 "so the difference may come from what changed between them."
                 if record.version != __version__ and not checked.changed_after else "")
        raise InputError(f"{request.run_dir.name}: the run folder is not the run its inputs give ({first}).{other}",
                         "not_verified", fix=(f"Carry on with selector {record.version}, which made it, or from "
                                              if other else "Carry on from ")
                         + "the folder as it was downloaded, with the files the run was made from.")
    # The files as given, by the names they were given under (the page's download names no folder).
    sources = replace(recorded_sources(record, request.caseload, request.contacts, request.moved, request.run_dir),
                      uploaded=True)
    return Week(checked.caseload, checked.solution, record.replaced, record.consent, record.replacements, sources)


def _all_given(record: RunRecord, request: VerifyRequest) -> None:
    """Every file the run record names is given (none is read from a path in the record).

    Raises:
        InputError: naming the first that is not.
    """
    source = record.input
    options = ReadOptions.from_record(source.annex_a or {})
    named = [("caseload", source.caseload, bool(source.caseload_path), request.caseload),
             ("contacts", source.contacts, bool(source.contacts_path), request.contacts)]
    named += [(READ_OPTION_FILES[name], str(getattr(options, name).name), True, getattr(request.moved, name))
              for name in READ_OPTION_FILES if getattr(options, name) is not None]
    for role, name, recorded, given in named:
        if recorded and given is None:
            raise InputError(f"{name}: the run was read from the {role} {name}; give it as well.", "not_given",
                             fix="Give every file the run was made from.")


def calls(week: Week, now: str | None = None) -> list[Call]:
    """Cohort 1 then every reserve, in call order, with consent state (and, for a family asked
    and not yet answering, when, and whole days until `now`: the clock's when not given), case in
    words and contact."""
    solution = week.solution
    order = call_order(solution)
    rows = _rows(week, [child for child, _, _ in order])
    why = reasons(rows, solution.cohorts[0].members, solution.rules)
    now = now or now_utc()
    out = []
    for number, (child, role, slot) in enumerate(order, start=1):
        in_cohort = role.startswith("cohort 1")
        call = _call(rows, child, number, role, slot, in_cohort, week.state_of(child),
                     why.get(child) or f"a reserve: can take the slot with {every_rule(bool(solution.dropped))} met",
                     tuple(solution.reserves.get(child, ())) if in_cohort else ())
        if asked_at := week.asked_at(child):
            call = replace(call, asked_at=asked_at, waiting_days=days_since(asked_at, now))
        out.append(call)
    return out


def released_calls(week: Week) -> list[Call]:
    """Families called as reserves whom a replacement took off the reserves (`released`): whom
    to tell, with the practitioner who knows the child."""
    gone = _released(week)
    rows = _rows(week, [child for child, _ in gone])
    return [_call(rows, child, number, NO_LONGER_A_RESERVE, 0, False, state,
                  "a replacement drew every slot's reserves again", ())
            for number, (child, state) in enumerate(gone, start=1)]


def _released(week: Week) -> tuple[tuple[str, str], ...]:
    first = week.solution.cohorts[0]
    return released(week.consent, first.members, week.solution.reserves, week.replaced)


def _rows(week: Week, children: list[str]) -> pd.DataFrame:
    frame = week.caseload.frame
    return frame.loc[frame["child_id"].isin(children)].set_index("child_id", drop=False)


def _call(rows: pd.DataFrame, child: str, order: int, role: str, slot: int, in_cohort: bool, state: str, why: str,
          reserves: tuple[str, ...]) -> Call:
    """One family to call: the child's case in words and the practitioner who knows them."""
    row = rows.loc[child]
    case = tuple((what, in_words(column, row.get(column, ""))) for what, column in CASE_WORDS if column in row.index)
    person = tuple(str(part) for part in (
        row.get("contact_name", ""),
        ", ".join(str(x) for x in (row.get("contact_role", ""), row.get("contact_organisation", "")) if x),
        row.get("contact_email", ""), row.get("contact_phone", "")) if part)
    return Call(order, child, role, slot, in_cohort, state, case, person, why, reserves)


CASE_WORDS = (("age band", "age_band"), ("need", "primary_need"), ("plan", "plan_status"),
              ("setting", "setting_type"), ("social care", "social_care"))


def record_call(week: Week, child_id: str, state: str, note: str = "", at: str | None = None) -> Week:
    """A family's answer (or an attempt to reach them), for a child of cohort 1 or a reserve (or
    a family a replacement took off the reserves: told, they go back to "to ask").

    Raises:
        InputError: an unknown state, or a child who is neither in cohort 1 nor a reserve.
    """
    known = tuple(child for child, _, _ in call_order(week.solution)) + tuple(child for child, _ in _released(week))
    (child,) = match_ids((child_id,), week.solution.cohorts[0].members, reserves=known)
    event = ConsentEvent(child, consent_state(state), at or now_utc(), note_without_names(note))
    return replace(week, consent=(*week.consent, event))


def offer(week: Week, child_id: str, from_run: str = MADE_ON_THE_PAGE, progress: Progress | None = None,
          relax: bool = False) -> Offer:
    """The best child for a declined member's slot, every rule still met (unless `relax`: then
    the fewest lowest-priority rules no child can keep are dropped), leaving out every family
    that said no or could not be reached; not applied until accepted (`Offer.week`).

    Raises:
        InputError: the child is not in cohort 1.
        InfeasibleSelectionError: no child can take the slot with every rule met.
    """
    before = week.solution
    (child,) = match_ids((child_id,), before.cohorts[0].members)
    earlier = set(week.replaced.all_declined if week.replaced else ()) | set(week.said_no())
    after, replacement = decline(week.caseload, before, [child], sorted(earlier - {child}), from_run, progress,
                                 states={child: week.state_of(child)}, relax=relax)
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


def week_zip(week: Week, folder: str = "selector-run") -> bytes:
    """The run folder of a Week as a zip built in memory (the web page's download): the current
    cohort in every table and report, the whole history in run.json; nothing touches the disk."""
    record = replace(make_record(week.caseload, week.sources, week.solution, ("xlsx",), week.replaced),
                     consent=week.consent, replacements=week.replacements)
    files = run_files(week.caseload.frame, week.caseload.all_contacts, week.solution, record, ("xlsx",),
                      week.caseload.kept_headers)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            archive.writestr(f"{folder}/{name}", content)
    return buffer.getvalue()



def rules_in_words(profile: Profile) -> list[tuple[str, str, bool, str]]:
    """Each hard rule in words, with what the caseload has for it, whether it can be met, and
    what meeting it only just means ("" when it has room)."""
    return words.rules_in_words(profile.rules, profile.rooms)


def score_sentence(solution: Solution) -> str:
    """Cohort 1's score said for people: what it means, not a fraction of a maximum."""
    return words.score_sentence(solution)


def history(week: Week) -> list[str]:
    """Every call and change, oldest first, in words."""
    return words.history(week.consent, week.replacements)
