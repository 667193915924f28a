"""Consent: where each family's answer stands, recorded in a run folder's history (nothing is
overwritten), and the reserves offered after a decline."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from ..contract.errors import InputError
from ..contract.identifiers import EMAIL_ADDRESS, POSTCODE_IN_TEXT
from ..contract.stops import held
from ..io.folders import output_lock, write_file
from ..io.run_record import CONSENT_STATES, ConsentEvent, RunRecord, read_run_record
from ..io.tables import frame_to_csv_bytes, read_table
from ..report.xlsx import with_consent
from .replace import (
    NO_LONGER_A_RESERVE,
    SAID_NO,
    WAITING,
    match_ids,
    not_replaced_already,
    now_utc,
    released,
    replacements_made,
    roles_of,
)

# Seconds a consent call waits for another writing the same run folder (two people recording
# calls at the same moment): writing one takes well under a second.
CONSENT_WAIT = 10.0


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
    # The slots this change leaves to fill, as ConsentStatus.offered: a member's whose family said
    # no; for a reserve whose family said no, each slot it stands for whose family said no.
    offered: tuple[tuple[int, str, tuple[str, ...]], ...]
    states: tuple[tuple[int, str, str], ...]
    replaced_by: tuple[str, ...] = ()
    waiting: tuple[tuple[str, str, int], ...] = ()  # as ConsentStatus.waiting, as of this change
    # A reserve whose every slot's family has agreed: those slots and members (the reserve is
    # needed only if one of them changes its mind); empty otherwise.
    slots_agreed: tuple[tuple[int, str], ...] = ()
    reserves_called: tuple[tuple[str, str], ...] = ()  # as `reserves_called`, as of this change
    no_child_can: tuple[tuple[str, tuple[str, ...]], ...] = ()  # as ConsentStatus.no_child_can, as of this change

    @property
    def complete(self) -> bool:
        """Every family of cohort 1 agreed, as of this change."""
        return cohort_complete([state for _slot, _member, state in self.states])


@dataclass(frozen=True)
class ConsentStatus:
    """Where every family of a run's cohort 1 stands, read from its record (nothing written).

    Attributes:
        states: each slot of cohort 1: its number, the member and the latest state.
        offered: each slot whose family declined or could not be reached: its number, the member
            and the reserves still to offer, best first.
        reserves: each reserve with a state recorded: the child, where it stands in the run
            ("reserve 1 for slot 2") and the state.
        changes: how many changes the history holds.
        last: when the latest was recorded (UTC), None when none was.
        replaced_by: the folders `replace` made from this run beside it (calls recorded here
            after one was made are not in it).
        released: families asked, or who agreed, whose child is no longer in cohort 1 or a
            reserve (a replacement changed the reserves): the child and the state.
        waiting: families of cohort 1 and the reserves asked and not yet answered: the child,
            when they were asked (UTC, as recorded) and whole days since then.
        no_child_can: each member whose family said no and whose slot no child can take with
            every rule kept, with the slot's reserves (every child who could; all said no).
    """

    states: tuple[tuple[int, str, str], ...]
    offered: tuple[tuple[int, str, tuple[str, ...]], ...]
    reserves: tuple[tuple[str, str, str], ...]
    changes: int
    last: str | None
    replaced_by: tuple[str, ...] = ()
    released: tuple[tuple[str, str], ...] = ()
    waiting: tuple[tuple[str, str, int], ...] = ()
    reserves_called: tuple[tuple[str, str], ...] = ()  # see `reserves_called`
    no_child_can: tuple[tuple[str, tuple[str, ...]], ...] = ()  # see `_stuck`

    @property
    def complete(self) -> bool:
        """Every family of cohort 1 agreed."""
        return cohort_complete([state for _slot, _member, state in self.states])


def cohort_complete(states: Sequence[str]) -> bool:
    """Whether every slot's family agreed (`states`: each slot's latest state).

    >>> cohort_complete(["agreed", "agreed"]), cohort_complete(["agreed", "asked"])
    (True, False)
    """
    return bool(states) and all(state == "agreed" for state in states)


def reserves_called(record: RunRecord) -> tuple[tuple[str, str], ...]:
    """The reserves of cohort 1 whose family was asked, or agreed, with that state, in call order:
    once every member's family agreed they are needed only if one of those changes its mind, and
    their families wait to hear until someone tells them."""
    first = record.cohorts[0]
    called = []
    for child in dict.fromkeys(c for slot in first.reserves.values() for c in slot):
        event = record.consent_state(child)
        if child not in first.members and event is not None and event.state in WAITING:
            called.append((child, event.state))
    return tuple(called)


# Consent is asked for within about two days of the choice: a family asked this long ago with no
# answer is one to chase, or to record as unreachable so that the reserves are offered.
CHASE_AFTER_DAYS = 2


def consent_state(text: str) -> str:
    """A consent state as written by a person, in the record's words.

    >>> consent_state("TO_ASK"), consent_state(" unreachable ")
    ('to ask', 'unreachable')
    """
    state = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    if state not in CONSENT_STATES:
        meant = _STATE_WORDS.get(state.strip(".!"), "")
        hint = f" Did you mean {meant}?" if meant else ""
        raise InputError(f"{text!r} is not a consent state; the states are {', '.join(CONSENT_STATES)}.{hint}",
                         "bad_consent_state")
    return state


# How a family's answer is often written, for the state it most likely means (suggested, never
# recorded on a guess: the record is what the reserves and replacements follow).
_STATE_WORDS = {
    **dict.fromkeys(("no", "said no", "refused", "declined consent", "decline", "withdrew", "withdrawn",
                     "not consented", "no consent", "rejected"), "declined"),
    **dict.fromkeys(("yes", "said yes", "consented", "consent given", "agree", "accepted", "ok"), "agreed"),
    # ("no answer" is left out: a family asked and not answering yet is still asked.)
    **dict.fromkeys(("not reachable", "cannot reach", "can't reach", "not contactable", "uncontactable"),
                    "unreachable"),
    **dict.fromkeys(("ask", "called", "contacted", "phoned", "emailed", "waiting"), "asked"),
    **dict.fromkeys(("not asked", "not yet asked", "new", "todo", "to do"), "to-ask"),
}


# Capitalised words a call's note puts after 'mum' that name nobody: days, months, languages
# ('mum English not first language'), and words said at the start of a clause ('Dad Agreed').
_NOT_NAMES = (
    "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    "August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|"
    "English|Welsh|Polish|Urdu|Punjabi|Bengali|Arabic|Romanian|Somali|Portuguese|Spanish|French|Lithuanian|"
    "Turkish|Gujarati|Tamil|Chinese|Mandarin|Cantonese|Ukrainian|Russian|Pashto|Farsi|Dari|Kurdish|Tigrinya|"
    "Italian|German|Hindi|Slovak|Czech|Bulgarian|Albanian|Latvian|Hungarian|Yoruba|Igbo|Twi|Swahili|Amharic|"
    "Agreed|Declined|Said|Says|Asked|Called|Phoned|Emailed|Happy|Keen|Unsure|Wants|Will|Would|Can|Cannot|"
    "Could|Has|Had|Is|Was|Not|No|Yes|And|Or|But|Via|To|On|At|By|In|For|With|Also|Only|Both|Too|Please|"
    "Unavailable|Busy|Away|Working|Out|Back|Interpreter|Translator|"
    "Surgery|Practice|Office|Team|School|College|Centre|Service"  # places people work in
)
_RELATIVES = (  # the words a note names a family member by
    "mum|mummy|mother|dad|daddy|father|parent|carer|foster carer|guardian|grandma|grandmother|nan|nana|gran|granny|"
    "grandad|grandpa|grandfather|aunt|auntie|uncle|sister|brother|step-?mum|step-?dad|stepmother|stepfather"
)
# A family member's word, then a capitalised word that is none of those and no family member's word
# ('called dad, Mum answered'): 'mum Sarah', 'dad, John'.
_RELATIVE_NAMED = rf"\b(?i:{_RELATIVES})\b,?\s+(?!(?:{_NOT_NAMES})\b|(?i:{_RELATIVES})\b)[A-Z][a-z'-]+"
# The same after a professional's role ('SW Jane Smith', 'social worker Jane'): in a small area a
# family's social worker or teacher names the family.
_ROLES = ("social worker|SW|teacher|class teacher|tutor|SENCO|key worker|keyworker|caseworker|case worker|nurse|"
          "health visitor|doctor|GP|therapist|practitioner|head teacher|headteacher")
_ROLE_NAMED = rf"\b(?:{_ROLES})\b,?\s+(?!(?:{_NOT_NAMES})\b|(?i:{_RELATIVES})\b)[A-Z][a-z'-]+"
# A house number and a street ('12 Acacia Avenue'), and a date of birth ('DOB 12/03/2012', 'born 12.3.12').
_STREET = (r"\b\d+[A-Za-z]?,?\s+(?:[A-Z][a-z'-]+\s+){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Way|"
           r"Crescent|Court|Place|Gardens|Grove|Terrace|Walk|Row|Square|Hill|Park|View|Mews|Rise)\b")
_BIRTH = r"\b(?i:dob|d\.o\.b\.?|date of birth|born)\W*\d"
# The most a note holds, as the page's field takes it: a call's outcome in a line.
NOTE_LENGTH = 200
# What a note must not hold: the history is kept for good (nothing is overwritten), so a name,
# an e-mail address, a phone number, an address or a date of birth written in one could never be
# taken out again.
_NAMED = (
    (re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+[A-Z][A-Za-z'-]+"), "a name (a title such as Mrs, then a name)"),
    (re.compile(_RELATIVE_NAMED), "a name (a family member's, as 'mum Sarah')"),
    (re.compile(_ROLE_NAMED), "a name (a professional's, as 'social worker Ann')"),
    (re.compile(EMAIL_ADDRESS), "an e-mail address"),
    (re.compile(r"\+?\d(?:[\s-]?\d){9,}"), "a phone, NHS or pupil number (ten digits or more)"),
    (re.compile(POSTCODE_IN_TEXT), "a postcode (an address)"),
    (re.compile(_STREET), "an address (a house number and a street)"),
    (re.compile(_BIRTH), "a date of birth"),
)


def note_without_names(note: str) -> str:
    r"""A note as kept (one line: trimmed, its line breaks and runs of spaces one space each, as the
    page's one-line field keeps it), refused when it looks like it names or reaches a person.

    >>> note_without_names("  by phone, 24 Nov "), note_without_names("voicemail\nretry Tuesday")
    ('by phone, 24 Nov', 'voicemail retry Tuesday')

    Raises:
        InputError: the note holds what looks like a name (a title and a surname), an e-mail
            address or a phone number.
    """
    note = " ".join(note.split())
    if len(note) > NOTE_LENGTH:  # the page's field takes no more; the record keeps every note for good
        raise InputError(f"the note is {len(note)} characters; a note is kept in the run record for good, so "
                         f"it takes at most {NOTE_LENGTH}, and nothing was recorded.", "long_note",
                         fix="Say it in a line, e.g. 'left a message, will call back Tuesday'.")
    for pattern, what in _NAMED:
        if pattern.search(note) is not None:  # what was found is not shown again: it is what must not spread
            raise InputError(f"the note looks like it holds {what}; notes are kept in the run record for good, so "
                             "nothing was recorded.", "named_in_note",
                             fix="Say it without naming or reaching anyone, e.g. 'spoke to the parent by phone'.")
    return note


def record_consent(request: ConsentRequest) -> ConsentResult:
    """Record a consent change in a run folder: appended to the record's history (nothing is
    overwritten), shown in contacts.csv; after a decline or no answer, the slot's reserves are
    offered, best first, leaving out families who already said no or could not be reached.

    Raises:
        InputError: an unknown state, or a child who is neither in cohort 1 nor a reserve.
    """
    state = consent_state(request.state)
    with output_lock(request.run_dir, wait=CONSENT_WAIT):
        record = read_run_record(request.run_dir)
        first = record.cohorts[0]
        # A family a replacement took off the reserves can be recorded too (told, then "to ask").
        roles = roles_of(record) | {child: NO_LONGER_A_RESERVE for child, _ in _released(record)}
        not_replaced_already((request.child_id,), record, request.run_dir)
        (child,) = match_ids((request.child_id,), first.members, str(request.run_dir),
                              reserves=tuple(c for c in roles if c not in first.members))
        at = request.at or now_utc()
        event = ConsentEvent(child, state, at, note_without_names(request.note))
        updated = replace(record, consent=(*record.consent, event))
        write_consent(request.run_dir, updated)
    states = _states(updated)
    offered: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    if state in SAID_NO:
        offered = tuple((slot, member, _offered(updated, member)) for slot, member, now in states
                        if member == child or (now in SAID_NO and child in first.reserves.get(member, ())))
    return ConsentResult(event, roles[child], offered, states, replaced_by(request.run_dir),
                         _waiting(updated, tuple(roles), max(at, now_utc())), _slots_agreed(updated, child, states),
                         reserves_called(updated), _stuck(updated, states))


def _slots_agreed(record: RunRecord, child: str, states: tuple[tuple[int, str, str], ...]
                  ) -> tuple[tuple[int, str], ...]:
    """The slots a reserve stands for, with their members, when every one of their families has
    agreed (asking the reserve's family then is most likely early, or a slip); empty otherwise."""
    first = record.cohorts[0]
    served = [(slot, member) for slot, member, _ in states if child in first.reserves.get(member, ())]
    agreed = {slot for slot, _, state in states if state == "agreed"}
    return tuple(served) if served and all(slot in agreed for slot, _ in served) else ()


def consent_status(run_dir: Path, now: str | None = None) -> ConsentStatus:
    """Where every family of the run's cohort 1 stands, the reserves to offer for each slot whose
    family said no, the reserves asked, and how long each family asked has waited (until `now`,
    UTC ISO text; the clock's now when not given); read only (another person may be recording a
    call).

    Raises:
        InputError: no run folder there, or its record cannot be read.
    """
    record = read_run_record(run_dir)
    roles = roles_of(record)
    states = _states(record)
    offered = tuple((slot, member, _offered(record, member)) for slot, member, state in states if state in SAID_NO)
    reserves = tuple((child, role, event.state) for child, role in roles.items()
                     if not role.startswith("cohort 1") and (event := record.consent_state(child)) is not None)
    return ConsentStatus(states, offered, reserves, len(record.consent),
                         record.consent[-1].at if record.consent else None, replaced_by(run_dir), _released(record),
                         _waiting(record, tuple(roles), now or now_utc()), reserves_called(record),
                         _stuck(record, states))


def _waiting(record: RunRecord, children: tuple[str, ...], now: str) -> tuple[tuple[str, str, int], ...]:
    """The children whose family's latest state is "asked": when, and whole days until `now`."""
    waiting = []
    for child in children:
        event = record.consent_state(child)
        if event is not None and event.state == "asked":
            waiting.append((child, event.at, days_since(event.at, now)))
    return tuple(waiting)


def days_since(at: str, now: str) -> int:
    """Whole days from one recorded time to another (UTC ISO text), never below 0.

    >>> now = "2026-12-06T09:00:00Z"
    >>> days_since("2026-12-04T09:00:00Z", now), days_since("2026-12-04T09:00:01Z", now)
    (2, 1)
    """
    return max((pd.Timestamp(now) - pd.Timestamp(at)).days, 0)


def _released(record: RunRecord) -> tuple[tuple[str, str], ...]:
    """The families called as reserves that a replacement took off the reserves (`released`)."""
    first = record.cohorts[0]
    return released(record.consent, first.members, first.reserves, record.replaced)


def replaced_by(run_dir: Path) -> tuple[str, ...]:
    """The run folders beside this one that `replace` made from it, by name: after one was
    made, the week goes on there."""
    return tuple(name for name, _declined in replacements_made(run_dir))


def _states(record: RunRecord) -> tuple[tuple[int, str, str], ...]:
    """Each slot of cohort 1, its member and the member's latest state."""
    return tuple((slot, member, (record.consent_state(member) or ConsentEvent(member, "to ask", "")).state)
                 for slot, member in enumerate(record.cohorts[0].members, start=1))


def _stuck(record: RunRecord, states: tuple[tuple[int, str, str], ...]
           ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The members whose family said no and whose slot no child can take with every rule kept and
    the other members staying, each with its reserves (whose families all said no too): the run
    drew fewer reserves for it than it asked for (so they are every child who can) and kept every
    rule (a run that relaxed them replaces relaxing). Filling such a slot alone needs the rules
    relaxed (`replace --relax`)."""
    asked = record.params.get("reserves")
    if not asked or record.params.get("relax"):
        return ()
    reserves = record.cohorts[0].reserves
    return tuple((member, tuple(reserves.get(member, ()))) for _slot, member, state in states
                 if state in SAID_NO and len(reserves.get(member, ())) < asked and not _offered(record, member))


def _offered(record: RunRecord, member: str) -> tuple[str, ...]:
    """The member's reserves still to offer, best first: not in cohort 1, and not a family who
    already said no."""
    first = record.cohorts[0]
    return tuple(r for r in first.reserves.get(member, ())
                 if r not in first.members and not ((e := record.consent_state(r)) and e.state in SAID_NO))


def write_consent(run_dir: Path, record: RunRecord) -> None:
    """contacts.csv's consent column, the workbook's (when there is one) and run.json, with the new
    hashes: worked out first, then written together. A stop waits for the three writes, and a write
    that fails puts back the files written before it, so the folder never holds a call in one file
    and not in another (verify would call that a difference, and the week would be two weeks)."""
    path = run_dir / "contacts.csv"
    files = dict(record.files)
    states: dict[str, str] = {}
    writes: dict[Path, bytes] = {}
    if path.is_file():
        # Read as any list is: the file is for the calls, and opened and saved in Excel it may come
        # back in Windows-1252, with semicolons or with a column of the caller's notes (kept).
        table = read_table(path)
        contacts = table.frame.rename(columns=table.header)  # the caller's own headers, as they wrote them
        if "child_id" in contacts.columns:
            contacts["consent"] = [(record.consent_state(c) or ConsentEvent(c, "to ask", "")).state
                                   for c in contacts["child_id"]]
            states = dict(zip(contacts["child_id"], contacts["consent"], strict=True))
            writes[path] = frame_to_csv_bytes(contacts)
            files["contacts.csv"] = hashlib.sha256(writes[path]).hexdigest()
    workbook = run_dir / "cohorts.xlsx"
    if workbook.is_file():
        writes[workbook] = with_consent(workbook.read_bytes(), states, record.to_dict(with_files=False)["consent"])
        files["cohorts.xlsx"] = hashlib.sha256(writes[workbook]).hexdigest()
    writes[run_dir / "run.json"] = replace(record, files=files).to_json_bytes()  # last: it names the others' hashes
    _write_together(writes)


def _write_together(writes: dict[Path, bytes]) -> None:
    """Write each file whole, in order; a failure puts back the ones written before it."""
    before = {file: file.read_bytes() for file in writes}
    written: list[Path] = []
    with held():
        try:
            for file, content in writes.items():
                write_file(file, content, replaceable=True)
                written.append(file)
        except InputError:
            for file in written:
                write_file(file, before[file], replaceable=True)
            raise
