"""The week of consent calls as a use case (what the web page drives): calls in call order with the
case in words, a call recorded for a member or a reserve, the best child offered for a declined
slot (leaving out every family that said no), undo that keeps the history, and the download's
record. Checked against the independent checker, not the model."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from selector import app, check
from selector.contract.errors import InputError
from tests.conftest import SAMPLE, load_caseload


@pytest.fixture(scope="module")
def week() -> app.Week:
    caseload = load_caseload(SAMPLE / "caseload.csv", SAMPLE / "contacts.csv")
    solution = app.choose(caseload, app.read_rules(), app.SelectionParams(sets=1))
    return app.start_week(caseload, solution)


def members(week: app.Week) -> tuple[str, ...]:
    return week.solution.cohorts[0].members


def test_calls_list_the_cohort_then_reserves_with_words_and_contacts(week: app.Week) -> None:
    calls = app.calls(week)
    assert [c.child_id for c in calls[:6]] == list(members(week))
    assert all(c.in_cohort for c in calls[:6]) and not any(c.in_cohort for c in calls[6:])
    assert [c.order for c in calls] == list(range(1, len(calls) + 1))
    assert all(c.state == "to ask" for c in calls)
    ap = next(c for c in calls[:6] if ("setting", "alternative provision (e.g. a pupil referral unit)") in c.case)
    assert "AP" not in dict(ap.case).values()  # the code is said in words
    assert all("@" in " ".join(c.practitioner) for c in calls)


def test_a_call_for_a_member_or_a_reserve_is_recorded_and_others_refused(week: app.Week) -> None:
    first, reserve = members(week)[0], week.solution.reserves[members(week)[0]][0]
    after = app.record_call(week, f"  {first.lower()} ", "Agreed", "by phone", at="2026-11-24T09:00:00Z")
    after = app.record_call(after, reserve, "asked", at="2026-11-24T09:05:00Z")
    assert (after.state_of(first), after.state_of(reserve), week.state_of(first)) == ("agreed", "asked", "to ask")
    # Shown as England's clocks show the times (GMT in November); the record keeps UTC.
    assert app.history(after) == ["2026-11-24 09:00 GMT: " + first + ": agreed (by phone).",
                                  "2026-11-24 09:05 GMT: " + reserve + ": asked."]
    with pytest.raises(InputError, match="is not in cohort 1 or its reserves"):
        app.record_call(week, "NOBODY", "asked")
    with pytest.raises(InputError, match="is not a consent state"):
        app.record_call(week, first, "maybe")


def test_the_offer_leaves_out_families_who_said_no_and_keeps_every_rule(week: app.Week) -> None:
    slot2 = members(week)[1]
    best_reserve = week.solution.reserves[slot2][0]
    # The slot's best reserve was asked first (as a reserve) and declined; then the member declined.
    after = app.record_call(week, best_reserve, "declined")
    after = app.record_call(after, slot2, "declined")
    offered = app.offer(after, slot2)
    assert offered.slot == 2 and len(offered.newcomers) == 1
    assert offered.newcomers[0] not in (best_reserve, slot2)
    new = offered.week.solution.cohorts[0]
    assert new.members == (members(week)[0], offered.newcomers[0], *members(week)[2:])  # others kept
    frame = week.caseload.frame
    assert check.violations(frame, new.members, week.solution.rules) == []
    assert check.score(frame, new.members, week.solution.rules) == new.score
    assert after.solution is week.solution  # nothing changes until the offer is accepted
    # Without the reserve's decline, that reserve is the one offered.
    assert app.offer(app.record_call(week, slot2, "declined"), slot2).newcomers == (best_reserve,)


def test_with_two_members_declined_the_offer_for_one_keeps_the_other_in_its_slot(week: app.Week) -> None:
    first, fourth = members(week)[0], members(week)[3]
    after = app.record_call(app.record_call(week, first, "declined"), fourth, "unreachable")
    offered = app.offer(after, fourth)
    new = offered.week.solution.cohorts[0].members
    # The first member's own offer comes next: until then it keeps slot 1 (a member who stays).
    assert new[0] == first and new[3] == offered.newcomers[0] and offered.newcomers[0] not in (first, fourth)
    assert check.violations(week.caseload.frame, new, week.solution.rules) == []
    second = app.offer(offered.week, first)
    assert not {first, fourth} & set(second.week.solution.cohorts[0].members)


def test_undo_goes_back_and_the_record_keeps_everything(week: app.Week) -> None:
    slot3 = members(week)[2]
    declined = app.record_call(week, slot3, "unreachable", at="2026-11-24T10:00:00Z")
    accepted = app.offer(declined, slot3).week
    newcomer = accepted.solution.cohorts[0].members[2]
    undone = app.undo(accepted, declined, at="2026-11-24T10:05:00Z")
    assert undone.solution is week.solution and undone.state_of(slot3) == "unreachable"
    assert [(r.action, r.declined, r.newcomers) for r in undone.replacements] == [
        ("replaced", (slot3,), (newcomer,)), ("undone", (slot3,), (newcomer,))]
    # Undoing the call itself: the state goes back, by a new event, not by deleting the old one.
    back = app.undo(undone, week, at="2026-11-24T10:06:00Z")
    assert back.state_of(slot3) == "to ask"
    assert [(e.state, e.note) for e in back.consent] == [("unreachable", ""), ("to ask", "undone")]
    record = json.loads(zipfile.ZipFile(io.BytesIO(app.week_zip(back))).read("selector-run/run.json"))
    assert record["cohorts"][0]["members"] == list(members(week))
    assert [e["state"] for e in record["consent"]] == ["unreachable", "to ask"]
    assert [e["action"] for e in record["replacements"]] == ["replaced", "undone"]
    assert record["replacements"][0]["rules"] == "every rule still met"
