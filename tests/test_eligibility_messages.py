"""Messages that help: too few children to choose from, and why; a cohort too small for the
rules' minimums, said as such."""

from __future__ import annotations

from pathlib import Path

from selector.contract.rules import CountRule
from selector.solve.explain import _members_needed
from tests.conftest import SAMPLE, run

NO_CONTACTS = ("no contact file was given and the caseload has no practitioner contact columns, so no child has a "
               "contact; 15 are also excluded")


def test_validate_says_first_that_the_contacts_file_was_forgotten() -> None:
    code, stdout, stderr = run("validate", str(SAMPLE / "caseload.csv"))
    assert code == 0
    assert stderr.splitlines()[0] == (
        f"  warning: caseload.csv: row 1, column 'eligible': only 0 children can be chosen, and a cohort needs 6: "
        f"{NO_CONTACTS}. Give the contacts file (or the practitioner_* columns).")
    assert stdout.splitlines()[-1] == (
        f"OK: the caseload meets the contract, but too few children can be chosen: {NO_CONTACTS}.")


def test_no_contacts_at_all_is_one_warning_not_one_per_child() -> None:
    # 2,985 children without an excluded flag and no contact anywhere: before, each had its own
    # "no practitioner contact" warning, and an error in the list sank beneath them.
    code, stdout, stderr = run("validate", str(SAMPLE / "caseload.csv"))
    assert (code, stdout.splitlines()[1], len(stderr.splitlines())) == (0, "0 errors, 1 warning(s)", 1)
    code, stdout, stderr = run("validate", str(SAMPLE / "caseload.csv"), "--allow-missing-contact")
    # The summary says the children without a contact were allowed (it said "0 without a contact").
    assert stdout.splitlines()[:2] == [
        "caseload.csv: 3000 rows read, 2985 eligible (15 excluded; 2985 without a contact, allowed)",
        "0 errors, 1 warning(s)"]
    assert code == 0
    assert stderr.splitlines() == [(
        "  warning: caseload.csv: row 1, column 'contact': no contact file was given and the caseload has no "
        "practitioner contact columns, so none of the 2985 children has a practitioner contact. They stay "
        "eligible (children without a contact are allowed); give the contacts file for the practitioners to call.")]


def test_select_says_to_give_the_contacts_not_to_lower_the_size(tmp_path: Path) -> None:
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--out", str(tmp_path / "o"))
    assert code == 3
    assert stderr.splitlines() == [
        f"Error: a cohort of 6 cannot be chosen: only 0 children can be chosen ({NO_CONTACTS}).",
        "Give the contacts file with --contacts FILE (or --allow-missing-contact to choose without)."]


def test_a_cohort_too_small_for_the_minimums_says_so(tmp_path: Path) -> None:
    code, _, stderr = run("select", str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv"),
                          "--size", "3", "--out", str(tmp_path / "o"))
    assert code == 3
    assert "  - together these rules need at least 4 members, and the cohort has 3" in stderr.splitlines()


def test_members_needed_adds_minimums_only_where_one_child_cannot_count_twice() -> None:
    ap = CountRule("setting_type", ("AP",), min=1)
    ehcp = CountRule("plan_status", ("EHCP",), min=2)
    sen = CountRule("plan_status", ("SEN_SUPPORT",), min=2)
    assert _members_needed([ehcp, sen]) == 4   # one plan each: 2 + 2
    assert _members_needed([ap, ehcp]) == 2    # an AP child can have a plan: the larger minimum
    assert _members_needed([ap, ehcp, sen]) == 4
    services = [CountRule("services", ("OT",), min=2), CountRule("services", ("SALT",), min=2)]
    assert _members_needed(services) == 0      # one child can have both services


def test_a_list_shorter_than_a_cohort_says_so_not_an_empty_reason(tmp_path: Path) -> None:
    # Four children, none excluded, every one with a contact: nothing holds them back, the list is
    # short (it said "... a cohort needs 6: ." with nothing after the colon).
    caseload = tmp_path / "four.csv"
    caseload.write_text("child_id,age,primary_need,plan_status,setting_type,practitioner_name,practitioner_email\n"
                        + "".join(f"K{i},{i + 5},ASD,EHCP,MAINSTREAM,Pat Lee,p{i}@example.org\n" for i in range(4)))
    code, stdout, stderr = run("validate", str(caseload))
    assert code == 0
    assert stderr.splitlines() == [("  warning: four.csv: row 1, column 'eligible': the list has only 4 children, and a "
                                   "cohort needs 6. Check that the list is the whole caseload, or choose a smaller "
                                   "cohort.")]
    assert stdout.splitlines()[-1] == ("OK: the caseload meets the contract, but too few children can be chosen: the "
                                       "list is that short.")
