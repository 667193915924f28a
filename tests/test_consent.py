"""The consent calls as state: `selector consent` records each family's answer in the run's
history (nothing overwritten), contacts.csv shows it, a decline offers the slot's reserves, and
`replace` carries the history into the new run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE_ARGS, run


def consent_column(folder: Path) -> dict[str, str]:
    contacts = pd.read_csv(folder / "contacts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return dict(zip(contacts["child_id"], contacts["consent"], strict=False))


def test_an_inspectors_week_on_the_command_line(sample_run_copy: Path) -> None:
    record = json.loads((sample_run_copy / "run.json").read_text())
    members = record["cohorts"][0]["members"]
    reserves = record["cohorts"][0]["reserves"]
    assert set(consent_column(sample_run_copy).values()) == {"to ask"}  # a new run: nobody asked yet

    assert run("consent", str(sample_run_copy), members[0], "agreed")[0] == 0
    assert run("consent", str(sample_run_copy), members[2], "AGREED")[0] == 0  # states read in any case
    code, stdout, _ = run("consent", str(sample_run_copy), members[1].lower(), "declined", "--note", "by phone")
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0] == f"{members[1]} (cohort 1, slot 2): declined (by phone)."
    first, *then = reserves[members[1]]
    assert lines[1] == f"Offered for slot 2: {first}; then {', '.join(then)}."
    assert lines[2] == f"To fill the slot: selector replace {sample_run_copy} --decline {members[1]}"
    assert lines[3:] == [f"  {i}. {m}  {s}" for i, (m, s) in enumerate(
        zip(members, ["agreed", "declined", "agreed", "to ask", "to ask", "to ask"], strict=True), start=1)]

    history = json.loads((sample_run_copy / "run.json").read_text())["consent"]
    assert [(e["child_id"], e["state"], e["note"]) for e in history] == [
        (members[0], "agreed", ""), (members[2], "agreed", ""), (members[1], "declined", "by phone")]
    assert consent_column(sample_run_copy)[members[1]] == "declined"

    # A change of mind is a new event; the old one stays in the history.
    assert run("consent", str(sample_run_copy), members[0], "asked", "--note", "wants to think")[0] == 0
    history = json.loads((sample_run_copy / "run.json").read_text())["consent"]
    assert [e["state"] for e in history if e["child_id"] == members[0]] == ["agreed", "asked"]

    code, stdout, stderr = run("replace", str(sample_run_copy), "--decline", members[1])
    assert code == 0, stderr
    assert stdout.startswith(f"Replaced {members[1]} with {first};")  # the offered reserve takes the slot
    new = sample_run_copy.parent / "week2-replace-1"
    carried = json.loads((new / "run.json").read_text())
    assert carried["consent"] == history and carried["replaced"]["declined"] == [members[1]]
    states = consent_column(new)
    assert states[members[0]] == "asked" and states[members[2]] == "agreed" and states[first] == "to ask"
    # Who replaced whom, why, the scores and whether every rule still holds: in the record, and
    # a replacement of the replacement carries the whole history on.
    (made,) = carried["replacements"]
    assert (made["action"], made["declined"], made["newcomers"], made["rules"]) == (
        "replaced", [members[1]], [first], "every rule still met")
    # Why, as the call recorded it (it said "family declined or could not be reached" whatever was recorded).
    assert made["reason"] == "family declined" and made["at"].endswith("Z")
    assert f"This run replaces {members[1]} (family declined) in cohort 1" in (new / "report.md").read_text()
    assert run("consent", str(new), first, "unreachable")[0] == 0
    assert run("replace", str(new), "--decline", first)[0] == 0
    again = json.loads((sample_run_copy.parent / "week2-replace-2" / "run.json").read_text())
    assert [r["declined"] for r in again["replacements"]] == [[members[1]], [first]]
    assert [r["reason"] for r in again["replacements"]] == ["family declined", "family could not be reached"]
    assert run("verify", str(sample_run_copy.parent / "week2-replace-2"))[0] == 0
    assert [e["state"] for e in again["consent"]][-1] == "unreachable"


def test_a_second_slot_freed_is_filled_together_with_the_first(sample_run_copy: Path) -> None:
    # Slot 2 declined, then slot 5 unreachable: recording the second said to replace slot 5
    # alone, and slot 2's family, who said no first, would stay in the cohort that made.
    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert run("consent", folder, members[1], "declined")[0] == 0
    code, stdout, _ = run("consent", folder, members[4], "unreachable")
    assert code == 0
    assert stdout.splitlines()[2:4] == [
        f"To fill the slots together: selector replace {folder} --decline {members[1]} --decline {members[4]}",
        ("Note: filled together, the 2 slots' newcomers are drawn from every best way to fill them all, so they "
         "may not be the reserves offered. To bring in a reserve as offered, fill one slot at a time: selector "
         f"replace {folder} --decline {members[1]} (then the next slot from the folder it makes, where its "
         "reserves are offered again).")]


def test_a_reserve_can_be_asked_too(sample_run_copy: Path) -> None:
    record = json.loads((sample_run_copy / "run.json").read_text())
    member = record["cohorts"][0]["members"][3]
    reserve = record["cohorts"][0]["reserves"][member][0]
    code, stdout, _ = run("consent", str(sample_run_copy), reserve, "asked")
    assert code == 0 and stdout.splitlines()[0] == f"{reserve} (reserve 1 for slot 4): asked."


def test_a_reserve_that_declines_offers_the_slots_next_reserve(sample_run_copy: Path) -> None:
    # Slot 2's family said no and its first reserve's family too: that said nothing of the slot;
    # now the next reserves are offered and the replace is given, as after the first decline.
    # A reserve of a slot whose family has not said no offers nothing.
    folder = str(sample_run_copy)
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    first, second, third = reserves[members[1]]
    code, stdout, _ = run("consent", folder, reserves[members[3]][0], "declined")
    assert code == 0 and stdout.splitlines()[1] == f"  1. {members[0]}  to ask"
    assert run("consent", folder, members[1], "declined")[0] == 0
    code, stdout, _ = run("consent", folder, first, "unreachable")
    assert code == 0 and stdout.splitlines()[1:3] == [
        f"Offered for slot 2: {second}; then {third}.", f"To fill the slot: selector replace {folder} --decline {members[1]}"]


def test_asking_a_reserve_of_a_slot_whose_family_agreed_says_it_is_needed_only_if_that_changes(
        sample_run_copy: Path) -> None:
    # Slot 4's family agreed; its first reserve's family is then asked: recorded, with a note
    # (most likely early, or a slip of the id). Slot 5's reserve, whose family has not answered
    # for slot 5, gets no note.
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    folder = str(sample_run_copy)
    assert run("consent", folder, members[3], "agreed")[0] == 0
    code, stdout, _ = run("consent", folder, reserves[members[3]][0], "asked")
    assert code == 0 and stdout.splitlines()[:2] == [
        f"{reserves[members[3]][0]} (reserve 1 for slot 4): asked.",
        (f"Note: the family of slot 4 ({members[3]}) agreed already, so {reserves[members[3]][0]} is needed only "
         "if that changes; check the id if the call was meant for another child.")]
    other = next(r for r in reserves[members[4]] if r not in reserves[members[3]])
    code, stdout, _ = run("consent", folder, other, "asked")
    assert code == 0 and "Note:" not in stdout


def test_once_every_family_agreed_the_cohort_is_complete_and_reserves_called_are_to_be_told(
        sample_run_copy: Path) -> None:
    # Slot 2's first reserve was asked while slot 2's family thought it over; then all six
    # families agreed. The call that completes the cohort, and the view, say it is complete (they
    # said nothing of it), and name the reserve's family, still waiting to hear, to be told; once
    # recorded as told ("to ask") it leaves the note. Five agreed and one asked is not complete.
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    folder, reserve = str(sample_run_copy), reserves[members[1]][0]
    assert run("consent", folder, reserve, "asked")[0] == 0
    for member in members[:5]:
        assert "complete" not in run("consent", folder, member, "agreed")[1]
    assert "complete" not in run("consent", folder, members[5], "asked")[1]
    complete = ["All 6 families of cohort 1 agreed: the cohort is complete.",
                (f"Note: reserve {reserve} (family asked) is needed only if one of the 6 families changes its mind. "
                 f"Ask the practitioner (in contacts.csv) to let the family know, then record it: selector consent "
                 f"{folder} {reserve} to-ask")]
    code, stdout, _ = run("consent", folder, members[5], "agreed")
    assert code == 0 and stdout.splitlines()[-2:] == complete
    assert run("consent", folder)[1].splitlines()[-2:] == complete
    assert run("consent", folder, reserve, "to-ask")[1].splitlines()[-1] == complete[0]


def test_the_run_folder_alone_shows_where_every_family_stands_and_writes_nothing(sample_run_copy: Path) -> None:
    # Mid-week: slot 2 declined, slot 5 unreachable, slot 1 agreed, and slot 2's first reserve
    # asked. The view lists every slot, the reserve asked, what to offer for the two freed slots
    # (slot 2's first reserve, asked, is still offered; a reserve who said no would not be), one
    # replace command for both, and how to bring in the reserves as offered (one slot at a time).
    folder = str(sample_run_copy)
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    code, stdout, _ = run("consent", folder)
    assert code == 0 and stdout.splitlines() == [f"Consent for cohort 1 of {folder}: nothing recorded yet.",
                                                 *(f"  {i}. {m}  to ask" for i, m in enumerate(members, start=1))]
    for child, state in ((members[0], "agreed"), (members[1], "declined"), (reserves[members[1]][0], "asked"),
                         (members[4], "unreachable"), (reserves[members[4]][0], "declined")):
        assert run("consent", folder, child, state)[0] == 0
    before = {p.name: p.read_bytes() for p in sample_run_copy.iterdir()}
    code, stdout, _ = run("consent", folder)
    assert code == 0
    lines = stdout.splitlines()
    # Times as England's clocks show them (GMT, or BST in summer); the record keeps UTC.
    consent = json.loads((sample_run_copy / "run.json").read_text())["consent"]
    latest = pd.Timestamp(consent[-1]["at"]).tz_convert("Europe/London")
    assert lines[0] == (f"Consent for cohort 1 of {folder} (5 changes recorded, the latest at "
                        f"{latest:%Y-%m-%d %H:%M} {latest.tzname()}):")
    two, five = reserves[members[1]], reserves[members[4]]
    asked = pd.Timestamp(consent[2]["at"]).tz_convert("Europe/London")  # 2026-12-06T17:21:38Z: 17:21 GMT
    assert lines[1:] == [
        *(f"  {i}. {m}  {s}" for i, (m, s) in enumerate(
            zip(members, ["agreed", "declined", "to ask", "to ask", "unreachable", "to ask"], strict=True), start=1)),
        f"Reserve {two[0]} (reserve 1 for slot 2): asked ({asked:%Y-%m-%d %H:%M} {asked.tzname()}).",
        f"Reserve {five[0]} (reserve 1 for slot 5): declined.",
        f"Offered for slot 2: {two[0]}; then {', '.join(two[1:])}.",
        f"Offered for slot 5: {five[1]}; then {five[2]}.",
        f"To fill the slots together: selector replace {folder} --decline {members[1]} --decline {members[4]}",
        ("Note: filled together, the 2 slots' newcomers are drawn from every best way to fill them all, so they "
         "may not be the reserves offered. To bring in a reserve as offered, fill one slot at a time: selector "
         f"replace {folder} --decline {members[1]} (then the next slot from the folder it makes, where its "
         "reserves are offered again)."),
    ]
    assert {p.name: p.read_bytes() for p in sample_run_copy.iterdir()} == before
    # What the note promises: one slot at a time brings in the reserve offered for it.
    assert run("replace", folder, "--decline", members[1])[0] == 0
    after = json.loads((sample_run_copy.parent / f"{sample_run_copy.name}-replace-1" / "run.json").read_text())
    assert after["cohorts"][0]["members"][1] == two[0]
    code, _, stderr = run("consent", folder, members[2])
    assert code == 2 and stderr.splitlines()[-1] == (
        f"Error: give the state for {members[2]}: to-ask, asked, agreed, declined or unreachable.")

def test_families_asked_two_days_ago_with_no_answer_are_named_to_chase(sample_run_copy: Path) -> None:
    # Slot 1's family was asked 3 days and an hour ago, slot 2's a day ago, slot 3's 3 days ago
    # but they have since agreed. Consent is asked for within about two days: only slot 1 is to
    # chase. Each family still waiting shows when it was asked.
    from selector import app

    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    now = pd.Timestamp.now(tz="UTC")
    when = {days: (now - pd.Timedelta(days=days, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ") for days in (1, 3)}
    for child, state, at in ((members[0], "asked", when[3]), (members[1], "asked", when[1]),
                             (members[2], "asked", when[3]), (members[2], "agreed", when[1])):
        app.record_consent(app.ConsentRequest(sample_run_copy, child, state, at=at))
    code, stdout, _ = run("consent", folder)
    assert code == 0
    local = {days: pd.Timestamp(at).tz_convert("Europe/London") for days, at in when.items()}  # GMT or BST
    shown = {days: f"{t:%Y-%m-%d %H:%M} {t.tzname()}" for days, t in local.items()}
    assert stdout.splitlines()[1:] == [
        f"  1. {members[0]}  asked ({shown[3]})",
        f"  2. {members[1]}  asked ({shown[1]})",
        f"  3. {members[2]}  agreed",
        *(f"  {i}. {m}  to ask" for i, m in enumerate(members[3:], start=4)),
        (f"No answer yet after 2 days or more: {members[0]} (3 days). Ask the practitioner to try again, or record "
        "the family as unreachable so that the reserves are offered."),
    ]
    # Recording another family's answer lists the slots the same way, the chase line too.
    code, stdout, _ = run("consent", folder, members[3], "agreed")
    assert code == 0 and stdout.splitlines()[1:3] == [f"  1. {members[0]}  asked ({shown[3]})",
                                                       f"  2. {members[1]}  asked ({shown[1]})"]
    assert stdout.splitlines()[4:] == [
        f"  4. {members[3]}  agreed", *(f"  {i}. {m}  to ask" for i, m in enumerate(members[4:], start=5)),
        (f"No answer yet after 2 days or more: {members[0]} (3 days). Ask the practitioner to try again, or record "
         "the family as unreachable so that the reserves are offered.")]
    # Whole days, counted to the second: two days to the second is two, a second less is one.
    status = app.consent_status(sample_run_copy, now=pd.Timestamp(when[1]).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert status.waiting == ((members[0], when[3], 2), (members[1], when[1], 0))
    a_second_less = (pd.Timestamp(when[1]) - pd.Timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert app.consent_status(sample_run_copy, now=a_second_less).waiting[0][2] == 1


def test_an_unknown_state_or_child_is_refused_and_nothing_changes(sample_run_copy: Path) -> None:
    before = (sample_run_copy / "run.json").read_bytes()
    code, _, stderr = run("consent", str(sample_run_copy), "C000001", "maybe")
    assert code == 2 and stderr.splitlines() == [
        "Error: 'maybe' is not a consent state; the states are to ask, asked, agreed, declined, unreachable.",
        "Use one of: to-ask, asked, agreed, declined, unreachable."]
    # A family's answer in everyday words: the state it most likely means is suggested, not recorded.
    code, _, stderr = run("consent", str(sample_run_copy), "C000001", "Said no")
    assert code == 2 and stderr.splitlines()[0] == (
        "Error: 'Said no' is not a consent state; the states are to ask, asked, agreed, declined, unreachable. Did "
        "you mean declined?")
    code, _, stderr = run("consent", str(sample_run_copy), "NOBODY", "asked")
    assert code == 2 and stderr.startswith(f"Error: NOBODY is not in cohort 1 or its reserves of {sample_run_copy}; cohort 1 is ")
    assert "Did you mean" not in stderr
    # An id typed with a full stop after it, or its zeros left out: the member it most likely
    # means is suggested, never recorded on a guess.
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    for typed in (f"{members[2]}.", members[2].replace("00", "", 1)):
        code, _, stderr = run("consent", str(sample_run_copy), typed, "asked")
        assert code == 2 and stderr.splitlines()[0] == (
            f"Error: {typed} is not in cohort 1 or its reserves of {sample_run_copy}; cohort 1 is {', '.join(members)}. "
            f"Did you mean {members[2]}?")
    assert (sample_run_copy / "run.json").read_bytes() == before


def test_a_state_typed_without_quotes_is_read_as_one_and_a_note_without_note_is_said(sample_run_copy: Path) -> None:
    # `consent RUN C1 said yes` ended in "Got unexpected extra argument (yes)", and `to ask`
    # (as the page and the view write it) the same: the words are one state, read or suggested as
    # quoted; a state followed by words is a note typed without --note, said with the command.
    folder = str(sample_run_copy)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    before = (sample_run_copy / "run.json").read_bytes()
    code, _, stderr = run("consent", folder, member, "said", "yes")
    assert code == 2 and stderr.splitlines()[0] == (
        "Error: 'said yes' is not a consent state; the states are to ask, asked, agreed, declined, unreachable. Did "
        "you mean agreed?")
    code, _, stderr = run("consent", folder, member, "declined", "by", "phone")
    assert code == 2 and stderr.splitlines()[-1] == (
        f'Error: the state is \'declined\', and a note goes with --note, in quotes: selector consent {folder} {member} '
        'declined --note "by phone"')
    assert (sample_run_copy / "run.json").read_bytes() == before
    code, stdout, _ = run("consent", folder, member, "to", "ask")
    assert code == 0 and stdout.splitlines()[0] == f"{member} (cohort 1, slot 1): to ask."


def test_a_hand_edited_consent_state_is_refused(sample_run_copy: Path) -> None:
    record = json.loads((sample_run_copy / "run.json").read_text())
    record["consent"] = [{"child_id": "C1", "state": "probably", "at": "2026-11-24T09:00:00Z", "note": ""}]
    (sample_run_copy / "run.json").write_text(json.dumps(record))
    code, _, stderr = run("consent", str(sample_run_copy), record["cohorts"][0]["members"][0], "asked")
    assert code == 2
    assert "  - consent[0].state: 'probably' is not one of to ask, asked, agreed, declined, unreachable" in stderr


def test_the_workbook_shows_the_calls_as_contacts_csv_does(sample_run_copy: Path) -> None:
    import openpyxl

    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert run("consent", str(sample_run_copy), members[0], "agreed", "--note", "by phone")[0] == 0
    book = openpyxl.load_workbook(sample_run_copy / "cohorts.xlsx", read_only=True)
    rows = list(book["Contacts"].iter_rows(values_only=True))
    states = {row[rows[0].index("child_id")]: row[rows[0].index("consent")] for row in rows[1:]}
    assert states == consent_column(sample_run_copy)
    assert states[members[0]] == "agreed"
    history = next(row[1] for row in book["Run"].iter_rows(values_only=True) if row[0] == "consent")
    assert json.loads(history) == json.loads((sample_run_copy / "run.json").read_text())["consent"]
    book.close()
    # The folder still verifies: the workbook's hash was recorded with the call.
    assert run("verify", str(sample_run_copy))[0] == 0


def test_contacts_csv_saved_by_excel_with_the_callers_notes_takes_the_next_call(sample_run_copy: Path) -> None:
    # contacts.csv is for the calls: opened in Excel, a note typed beside a family and saved as
    # "CSV", it comes back in Windows-1252 with semicolons (a European locale's list separator).
    # The next call was a traceback (the file read as UTF-8); now it is recorded and the note kept.
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    contacts = pd.read_csv(sample_run_copy / "contacts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    contacts["Caller's notes"] = ["voicemail \u2013 try Tuesday" if c == members[1] else "" for c in contacts["child_id"]]
    (sample_run_copy / "contacts.csv").write_bytes(contacts.to_csv(index=False, sep=";", lineterminator="\r\n")
                                                   .encode("cp1252"))
    code, _, stderr = run("consent", str(sample_run_copy), members[1], "asked")
    assert code == 0 and "Traceback" not in stderr, stderr
    assert consent_column(sample_run_copy)[members[1]] == "asked"
    kept = pd.read_csv(sample_run_copy / "contacts.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert dict(zip(kept["child_id"], kept["Caller's notes"], strict=True))[members[1]] == "voicemail \u2013 try Tuesday"


def test_calls_recorded_in_a_run_that_was_replaced_point_to_the_new_folder(sample_run_copy: Path) -> None:
    # After `replace` wrote week2-replace-1, a call typed against week2 would be kept where the
    # week no longer goes on: each consent command there says where to record it. The new folder,
    # and a folder of another name, say nothing of the kind.
    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert not [line for line in run("consent", folder)[1].splitlines() if line.startswith("Note:")]
    assert run("replace", folder, "--decline", members[0])[0] == 0
    (sample_run_copy.parent / "week2-replace-x").mkdir()  # not a replacement's name
    (sample_run_copy.parent / "other-replace-1").mkdir()
    note = (f"Note: `replace` made {sample_run_copy.parent / 'week2-replace-1'} from this run: record the calls "
            "there (calls recorded here are not carried into it).")
    code, stdout, _ = run("consent", folder, members[1], "asked")
    assert code == 0 and stdout.splitlines()[-1] == note
    assert run("consent", folder)[1].splitlines()[-1] == note
    newer = str(sample_run_copy.parent / "week2-replace-1")
    assert not [line for line in run("consent", newer)[1].splitlines() if line.startswith("Note:")]


def replace_from_the_first_folder_twice(sample_run: Path, second: int) -> tuple[str, list[str], Path, Path, str]:
    """Slot 1 replaced (week2-replace-1), then `replace` typed again on the first folder for slot
    `second` + 1: the folder, cohort 1, both new folders and what the second replace printed."""
    folder = str(sample_run)
    members = json.loads((sample_run / "run.json").read_text())["cohorts"][0]["members"]
    assert run("replace", folder, "--decline", members[0])[0] == 0
    code, stdout, stderr = run("replace", folder, "--decline", members[second])
    assert code == 0, stderr
    first, then = (sample_run.parent / f"week2-replace-{n}" for n in (1, 2))
    return folder, members, first, then, stdout


def starts_again(folder: str, slot_1: str) -> str:
    """How the note of a replace typed again on the first folder begins."""
    return (f"Note: `replace` had made week2-replace-1 (declined there: {slot_1}) from {folder} before; this "
            f"replacement starts again from {folder}, so ")


def test_a_second_replace_from_the_same_run_warns_that_the_first_is_not_carried(sample_run_copy: Path) -> None:
    # The inspector replaced slot 1 (week2-replace-1), then typed the first folder again to replace
    # slot 2: the new run starts from week2, so slot 1's family, who said no, is back in cohort 1.
    # The run is made (it may be what was meant) and says so, with the command that goes on.
    folder, members, first, second, stdout = replace_from_the_first_folder_twice(sample_run_copy, 1)
    assert stdout.splitlines()[-1] == starts_again(folder, members[0]) + (
        f"{members[0]} is not declined in {second}. To go on from the newest instead: selector replace {first} "
        f"--decline {members[1]}")
    assert members[0] in json.loads((second / "run.json").read_text())["cohorts"][0]["members"]
    # Replacing from the newest says nothing of the kind.
    code, stdout, _ = run("replace", str(first), "--decline", members[1])
    assert code == 0 and "Note: `replace` had made" not in stdout


def test_the_same_replace_typed_twice_says_where_the_week_goes_on(sample_run_copy: Path) -> None:
    # The same command again (slot 1's family declined, typed a second time on the first
    # folder): nothing is brought back, so the note says only that the calls recorded in the
    # first replacement are not in the second, and where to carry on; not a command that would
    # decline slot 1's child again in a folder where it is no longer a member. Typing it on the
    # replacement's folder instead says the child was replaced already (exit 2), as does a late
    # answer recorded there for that child.
    folder, members, first, second, stdout = replace_from_the_first_folder_twice(sample_run_copy, 0)
    assert stdout.splitlines()[-1] == starts_again(folder, members[0]) + (
        f"the calls recorded in {first} are not in {second}. Every family declined here is declined in {first} "
        "already: carry the week on there.")
    now = json.loads((first / "run.json").read_text())["cohorts"][0]["members"]
    for command in (("replace", str(first), "--decline", members[0].lower()),
                    ("consent", str(first), members[0], "agreed")):
        code, stdout, stderr = run(*command)
        assert code == 2 and stderr.splitlines()[0] == (
            f"Error: {members[0]} was replaced already (families declined up to {first}: {members[0]}); cohort 1 of "
            f"{first} is now {', '.join(now)}.")


def test_families_called_as_reserves_are_named_when_a_replacement_takes_them_off(sample_run_copy: Path) -> None:
    # Every slot's first reserve is called (asked, or agreed for slot 3), then slot 1's family
    # declines. The replacement draws every slot's reserves again around the newcomer, so some of
    # those families are no longer needed and would wait for a call that never comes: `replace`
    # and the week's view name exactly those no longer in cohort 1 or its reserves, and no other.
    folder = str(sample_run_copy)
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    called = {}
    for slot, member in enumerate(members[1:], start=2):
        child = reserves[member][0]
        called.setdefault(child, "agreed" if slot == 3 else "asked")
    for child, state in called.items():
        assert run("consent", folder, child, state)[0] == 0
    assert run("consent", folder, members[0], "declined")[0] == 0
    code, stdout, stderr = run("replace", folder, "--decline", members[0])
    assert code == 0, stderr
    new = json.loads((sample_run_copy.parent / "week2-replace-1" / "run.json").read_text())["cohorts"][0]
    still = set(new["members"]) | {c for slot in new["reserves"].values() for c in slot}
    gone = [child for child in called if child not in still]
    assert gone and len(gone) < len(called)  # on the sample some stay reserves and some do not
    assert len(gone) >= 2  # as on the sample, so that the wording for several is what is checked
    new_folder = str(sample_run_copy.parent / "week2-replace-1")
    who = ", ".join(f"{child} (family {called[child]})" for child in gone)
    tell = (f"to let the families know, then record each: selector consent {new_folder} CHILD_ID to-ask")
    assert stdout.splitlines()[-1] == (f"Note: {who} are no longer reserves: the replacement drew every slot's "
                                       f"reserves again. Ask their practitioners (in {folder}/contacts.csv) {tell}")
    code, stdout, _ = run("consent", new_folder)
    assert code == 0 and stdout.splitlines()[-1] == (
        f"Note: {who} are no longer reserves: a replacement drew every slot's reserves again. Ask their "
        f"practitioners {tell}")
    # Told, each goes back to "to ask" and leaves the note; the last is named alone, then none.
    *told, last = gone
    for child in told:
        code, stdout, _ = run("consent", new_folder, child, "to-ask", "--note", "told")
        assert code == 0 and stdout.splitlines()[0] == f"{child} (no longer a reserve): to ask (told)."
    code, stdout, _ = run("consent", new_folder)
    assert stdout.splitlines()[-1] == (
        f"Note: {last} (family {called[last]}) is no longer a reserve: a replacement drew every slot's "
        f"reserves again. Ask the practitioner to let the family know, then record it: selector consent "
        f"{new_folder} {last} to-ask")
    assert run("consent", new_folder, last, "to-ask")[0] == 0
    assert "Note:" not in run("consent", new_folder)[1]


def test_a_zipped_run_folder_is_asked_to_be_unzipped(sample_run_copy: Path, tmp_path: Path) -> None:
    # The page's Download is a zip; consent and replace record into a folder, so they say to
    # unzip it (before: "Invalid value for 'RUN_DIR': Directory ... is a file").
    import shutil

    zipped = Path(shutil.make_archive(str(tmp_path / "selector-run"), "zip", sample_run_copy))
    for command in (("consent", str(zipped)), ("consent", str(zipped), "C1", "agreed"),
                    ("replace", str(zipped), "--decline", "C1")):
        code, _, stderr = run(*command)
        assert code == 2 and stderr.splitlines()[0] == (
            f"Error: {zipped} is a file: give the run folder (a zip, such as the web page's Download, unzipped "
            "first).")


def test_a_forced_run_into_a_folder_holding_the_weeks_calls_is_refused(sample_run_copy: Path) -> None:
    # `select --force` into the run folder where two days of calls are recorded erased them (and,
    # with no seed, drew other children); now refused, exit 2, and the folder is as it was. A run
    # folder with no call recorded is still replaced with --force.
    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert run("consent", folder, members[0], "agreed")[0] == 0
    before = {p.name: p.read_bytes() for p in sample_run_copy.iterdir()}
    code, _, stderr = run("select", *SAMPLE_ARGS, "--out", folder, "--force", "--sets", "1")
    assert code == 2 and stderr.splitlines() == [
        (f"Error: {folder}: holds the consent calls and changes recorded for its run (1), which replacing it would "
        "erase."), "Choose a new --out (the calls stay where they are)."]
    assert {p.name: p.read_bytes() for p in sample_run_copy.iterdir()} == before
    fresh = sample_run_copy.parent / "fresh"
    assert run("select", *SAMPLE_ARGS, "--out", str(fresh), "--sets", "1", "--seed", "1")[0] == 0
    assert run("select", *SAMPLE_ARGS, "--out", str(fresh), "--sets", "1", "--seed", "2", "--force")[0] == 0


def test_replacing_a_member_whose_family_agreed_says_so(sample_run_copy: Path) -> None:
    # `replace --decline` is for a family that said no; a family the record has as agreed is most
    # likely a slip of the id. The replacement is made (the earlier folder is kept) and says so.
    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert run("consent", folder, members[1], "agreed")[0] == 0
    code, stdout, stderr = run("replace", folder, "--decline", members[1])
    assert code == 0, stderr
    assert (f"Note: the latest call {folder} records for the family of {members[1]} is that they agreed; the "
            f"replacement was made as asked. If the id was a slip, {folder} is unchanged: go on there.") in stdout
    assert run("consent", folder, members[2], "declined")[0] == 0
    assert "is that they agreed" not in run("replace", folder, "--decline", members[2], "--out",
                                            str(sample_run_copy.parent / "other"))[1]


def test_replacing_one_member_names_another_whose_family_said_no_and_is_still_in(sample_run_copy: Path) -> None:
    # Slot 3's family declined, slot 2's is still to ask, and `replace --decline` names slot 2 (a
    # slip, or the other decline of the week typed first): the replacement is made, and its
    # output says slot 3 is still to fill and how, from the new folder (where the history went).
    folder = str(sample_run_copy)
    members = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"]
    assert run("consent", folder, members[2], "declined")[0] == 0
    assert run("consent", folder, members[3], "unreachable")[0] == 0
    code, stdout, stderr = run("replace", folder, "--decline", members[1])
    assert code == 0, stderr
    assert stdout.splitlines()[-1] == (
        f"Note: {folder} records that the family of {members[2]} (slot 3) declined, {members[3]} (slot 4) "
        f"unreachable, and those children are still in cohort 1. To fill those slots too: selector replace "
        f"{folder}-replace-1 --decline {members[2]} --decline {members[3]}")
    code, stdout, _ = run("replace", folder, "--decline", members[2], "--decline", members[3])
    assert code == 0 and "still in cohort 1" not in stdout


def test_a_replacements_score_is_said_as_proved_for_the_freed_slot_with_the_others_kept(
        sample_run_copy: Path) -> None:
    # Slot 3's family and those of its three reserves declined: the slot's best filling may
    # score less than cohort 1 did, while other cohorts still reach 80. The terminal, the report
    # and the page said "proved optimal" / "the highest any cohort can reach", which the
    # replacement never proved; they now say what it proved, and the terminal the score before.
    record = json.loads((sample_run_copy / "run.json").read_text())
    members, reserves = record["cohorts"][0]["members"], record["cohorts"][0]["reserves"]
    folder = str(sample_run_copy)
    for child in (*reserves[members[2]], members[2]):
        assert run("consent", folder, child, "declined")[0] == 0
    code, stdout, stderr = run("replace", folder, "--decline", members[2])
    assert code == 0, stderr
    line = next(line for line in stdout.splitlines() if line.startswith("Cohort 1:"))
    assert re.fullmatch(r"Cohort 1: score (\d+) \(proved: with the other 5 members kept, the freed slot can reach no "
                        r"more; 80 before\) in [\d.]+ s", line), line
    report = (sample_run_copy.parent / "week2-replace-1" / "report.md").read_text()
    assert re.search(r"^## Cohort 1: score \d+ \(with the other 5 members kept, the freed slot can reach no more, "
                     r"proved\)$", report, re.MULTILINE)
    assert "the highest any cohort can reach" not in report
    assert re.search(r"^\| 1 \| \d+ \| proved: with the other 5 members kept, the freed slot can reach no more \|",
                     report, re.MULTILINE)


def test_a_state_said_before_the_child_gives_the_call_meant(sample_run_copy: Path) -> None:
    # `consent RUN declined C004431`, the order the call is said aloud in, was refused as
    # "'C004431' is not a consent state"; nothing is recorded either way.
    folder = str(sample_run_copy)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    before = (sample_run_copy / "run.json").read_bytes()
    code, stdout, stderr = run("consent", folder, "declined", member)
    assert (code, stdout, stderr.splitlines()[-1]) == (
        2, "", f"Error: the child goes before the state: selector consent {folder} {member} declined")
    assert (sample_run_copy / "run.json").read_bytes() == before


def test_a_note_that_names_or_reaches_someone_is_refused_and_nothing_is_recorded(sample_run_copy: Path) -> None:
    # Notes stay in the run record for good (the history is never rewritten), so a name, an
    # e-mail address, a phone number, a postcode, an address or a date of birth written in one could
    # never be taken out: refused, exit 2,
    # the record unchanged, and what was typed not shown again. Everyday notes pass.
    folder = str(sample_run_copy)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    before = (sample_run_copy / "run.json").read_bytes()
    for note, what in (("spoke to Mrs Okafor", "a name (a title such as Mrs, then a name)"),
                       ("call back on 07700 900123", "a phone, NHS or pupil number (ten digits or more)"),
                       ("reply to parent.carer@mail.example", "an e-mail address"),
                       ("spoke to mum, Adeyemi", "a name (a family member's, as 'mum Sarah')"),
                       ("home visit booked, NW1 4RY", "a postcode (an address)"),
                       ("spoke to SW Jane Okoro", "a name (a professional's, as 'social worker Ann')"),
                       ("home visit at 12 Acacia Avenue", "an address (a house number and a street)"),
                       ("checked DOB 12/03/2012", "a date of birth")):
        code, stdout, stderr = run("consent", folder, member, "asked", "--note", note)
        assert code == 2 and stderr.splitlines()[0] == (
            f"Error: the note looks like it holds {what}; notes are kept in the run record for good, so nothing "
            "was recorded.")
        assert note.split()[-1] not in stdout + stderr
    assert (sample_run_copy / "run.json").read_bytes() == before
    for note in ("by phone, 24 Nov", "Dad agreed at 3pm", "after the Dr's appointment", "ring mum Friday",
                 "Y11 tutor 5PM", "mum Polish speaker, interpreter booked", "Dad Agreed by text",
                 "year 12 St Mary's", "spoke to GP Surgery", "by phone 24/11/2026"):
        assert run("consent", folder, member, "asked", "--note", note)[0] == 0


def test_a_note_longer_than_the_pages_field_takes_is_refused_and_nothing_is_recorded(sample_run_copy: Path) -> None:
    # The page's field takes 200 characters; the command line took a note of any length into the
    # record, which keeps every note for good (a pasted e-mail thread, say).
    folder = str(sample_run_copy)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    before = (sample_run_copy / "run.json").read_bytes()
    code, _, stderr = run("consent", folder, member, "asked", "--note", "word " * 50)
    assert code == 2 and stderr.splitlines()[0] == (
        "Error: the note is 249 characters; a note is kept in the run record for good, so it takes at most 200, and "
        "nothing was recorded.")
    assert (sample_run_copy / "run.json").read_bytes() == before
    assert run("consent", folder, member, "asked", "--note", "x" * 200)[0] == 0


def test_a_note_typed_over_several_lines_is_kept_as_one(sample_run_copy: Path) -> None:
    # A note is a line (the page's field holds one): one typed in a shell over two lines went into
    # the record, the history and the terminal with its line break.
    folder = str(sample_run_copy)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    code, stdout, _ = run("consent", folder, member, "asked", "--note", "left a message\n  will call back Tuesday")
    assert code == 0 and stdout.splitlines()[0].endswith("asked (left a message will call back Tuesday).")
    assert json.loads((sample_run_copy / "run.json").read_text())["consent"][-1]["note"] == (
        "left a message will call back Tuesday")


def test_a_stop_while_a_call_is_written_waits_until_every_file_holds_it(sample_run_copy: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # contacts.csv, the workbook and run.json (with their hashes) are written one after another:
    # a Ctrl+C after the first left a call in contacts.csv that run.json did not record, and a
    # folder that no longer verified. The stop now waits for the three, then ends the run.
    from selector.app import consent as consent_module
    from selector.app.consent import ConsentRequest, record_consent
    from selector.contract import stops
    from selector.contract.errors import Interrupted

    monkeypatch.setattr(stops, "_requested", None)  # the stop below must not outlive this test
    writing = consent_module.write_file

    def stopped_after_the_first(path, content, *args, **kwargs):  # type: ignore[no-untyped-def]
        writing(path, content, *args, **kwargs)
        if Path(path).name == "contacts.csv":
            stops.stop(2)  # as the signal handler would, with contacts.csv just written

    monkeypatch.setattr(consent_module, "write_file", stopped_after_the_first)
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    with pytest.raises(Interrupted):
        record_consent(ConsentRequest(sample_run_copy, member, "asked"))
    assert consent_column(sample_run_copy)[member] == "asked"
    assert [e["state"] for e in json.loads((sample_run_copy / "run.json").read_text())["consent"]] == ["asked"]
    monkeypatch.setattr(consent_module, "write_file", writing)
    monkeypatch.setattr(stops, "_requested", None)
    assert run("verify", str(sample_run_copy))[0] == 0


def test_a_call_that_cannot_be_written_whole_is_not_written_at_all(sample_run_copy: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # The workbook cannot be written (open in Excel on Windows): contacts.csv, written just before,
    # is put back, run.json is unchanged, and the error says why (exit 2).
    from selector.app import consent as consent_module
    from selector.contract.errors import InputError

    writing = consent_module.write_file

    def workbook_locked(path, content, *args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(path).name == "cohorts.xlsx":
            raise InputError(f"{path}: cannot be written (permission denied).", "cannot_write")
        writing(path, content, *args, **kwargs)

    monkeypatch.setattr(consent_module, "write_file", workbook_locked)
    before = {name: (sample_run_copy / name).read_bytes() for name in ("contacts.csv", "cohorts.xlsx", "run.json")}
    member = json.loads((sample_run_copy / "run.json").read_text())["cohorts"][0]["members"][0]
    code, _, stderr = run("consent", str(sample_run_copy), member, "asked")
    assert code == 2 and "cohorts.xlsx: cannot be written (permission denied)." in stderr
    assert {name: (sample_run_copy / name).read_bytes() for name in before} == before
