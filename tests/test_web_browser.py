"""The inspector's week on the web page, in a real browser (Playwright driving Debian's Chromium):
upload, check, choose, record calls, accept the offered reserve, undo, download; axe-core checks
every state of the page on the way, and the layout is measured at a 1280 px window."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flask", reason="the web extra (Flask) is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright",
                                     reason="axe-playwright-python is not installed")

from selector import web  # noqa: E402
from tests.conftest import SAMPLE, run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = {"width": 1280, "height": 800}
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Chromium is not installed (.ci/run installs Debian's chromium)")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The page served on a free loopback port; choosing takes at least 1.5 s so that the
    'choosing' state can be seen and checked too."""
    real_choose = web.app.choose

    def patient_choose(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)
        return real_choose(*args, **kwargs)

    monkeypatch.setattr(web.app, "choose", patient_choose)
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, web.create_app(tmp_path / "uploads"), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


@pytest.fixture
def tab() -> Iterator[Any]:
    """A tab of Chromium with nothing open."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser.new_page(viewport=WINDOW, accept_downloads=True)
        browser.close()


@pytest.fixture
def page(site: str, tab: Any) -> Any:
    tab.goto(site)
    return tab


AXE = axe_playwright.Axe()


def no_axe_violations(page: Any, state: str) -> None:
    """axe-core on the page as it stands: no violation of any impact."""
    results = AXE.run(page)
    found = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
             for v in results.response["violations"]]
    assert not found, f"axe found violations in state '{state}':\n" + "\n".join(found)


def open_all_details(page: Any) -> None:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def cohort_ids(page: Any) -> list[str]:
    table = page.locator("table", has=page.get_by_text("Cohort 1: call these families first"))
    return [t.strip() for t in table.locator("tbody tr td:nth-child(2) strong").all_inner_texts()]


def record_call(page: Any, child: str, state_label: str) -> None:
    page.get_by_label("Child or young person").select_option(child)
    page.get_by_label(state_label).check()
    page.get_by_role("button", name="Record the call").click()


def test_an_inspectors_week_in_the_browser(page: Any, tmp_path: Path) -> None:
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    no_axe_violations(page, "upload")
    page.get_by_role("button", name="Upload and check").click()  # nothing chosen yet
    page.get_by_text("There is a problem").wait_for()
    no_axe_violations(page, "upload with a problem")

    bad = tmp_path / "bad.csv"  # a code no contract knows, in one row
    bad.write_text((SAMPLE / "caseload.csv").read_text().replace(",ASD,", ",AUT,", 1))
    page.get_by_label("Caseload (CSV, XLSX, Parquet or a SEN2 return)").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_text("The caseload needs fixing").wait_for()
    no_axe_violations(page, "the caseload needs fixing")
    page.get_by_role("link", name="Start again").click()

    page.get_by_label("Caseload (CSV, XLSX, Parquet or a SEN2 return)").set_input_files(str(SAMPLE / "caseload.csv"))
    page.get_by_label("Practitioners' contacts (CSV, XLSX or Parquet)").set_input_files(str(SAMPLE / "contacts.csv"))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_text("3000 rows, 2985 eligible").wait_for()
    no_axe_violations(page, "check")
    # After a clean check the Choose button is within the first screen (no scrolling at all).
    choose = page.get_by_role("button", name="Choose the cohort")
    box = choose.bounding_box()
    assert box is not None and box["y"] + box["height"] <= WINDOW["height"], box
    page.get_by_text("Change the rules").click()
    page.get_by_label("Ranked cohorts").fill("2")
    open_all_details(page)
    no_axe_violations(page, "check, every fold open")
    page.get_by_label("Cohort size").fill("six")  # said on the form, the other change kept
    choose.click()
    page.get_by_role("link", name="Cohort size: a whole number from 1 to 50 is needed (got 'six')").wait_for()
    no_axe_violations(page, "a number the form does not take")
    assert page.get_by_label("Ranked cohorts").input_value() == "2"
    page.get_by_label("Cohort size").fill("6")
    page.get_by_role("button", name="Choose the cohort").click()

    page.get_by_text("Working on").wait_for()
    no_axe_violations(page, "choosing")
    page.get_by_role("heading", name="Consent calls").wait_for(timeout=60000)
    assert page.get_by_text("Cohort 1 scores 80: no cohort under these rules scores higher (proved).").is_visible()
    no_axe_violations(page, "calls")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WINDOW["width"], f"the calls page is {width} px wide in a {WINDOW['width']} px window"
    page.screenshot(path=str(artifacts / "web-cohort.png"), full_page=True)
    ids = cohort_ids(page)
    assert len(ids) == 6

    record_call(page, ids[0], "Family agreed")
    page.get_by_text(f"{ids[0]}: agreed.", exact=True).wait_for()
    no_axe_violations(page, "calls, after a call")
    record_call(page, ids[1], "Family agreed")
    page.get_by_text(f"{ids[1]}: agreed.", exact=True).wait_for()
    page.get_by_label("Note (optional, no names)").fill("moving out of the area")
    record_call(page, ids[2], "Family declined")
    page.get_by_role("heading", name=f"Replace {ids[2]}?").wait_for()
    no_axe_violations(page, "offer")
    accept = page.get_by_role("button", name=re.compile(r"^Accept .* for slot 3$"))
    newcomer = accept.inner_text().split()[1]
    accept.click()
    page.get_by_text(f"{newcomer} now in slot 3 in place of {ids[2]}").wait_for()
    assert cohort_ids(page) == [*ids[:2], newcomer, *ids[3:]]
    open_all_details(page)
    no_axe_violations(page, "calls, after a replacement, every fold open")
    page.screenshot(path=str(artifacts / "web-calls.png"), full_page=True)

    page.get_by_role("button", name="Undo this").click()  # the replacement taken back
    page.locator(".govuk-notification-banner__heading", has_text="Undone:").wait_for()
    assert cohort_ids(page) == ids
    no_axe_violations(page, "calls, after an undo")
    page.get_by_role("button", name=f"Find a replacement for {ids[2]}").click()  # accepted again
    page.get_by_role("button", name=re.compile(r"^Accept .* for slot 3$")).click()
    page.get_by_text(f"in place of {ids[2]}").wait_for()

    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the run folder").click()
    zip_path = tmp_path / "run.zip"
    caught.value.save_as(zip_path)
    # Back to the rules with calls recorded: the warning, then choosing again without the box.
    page.get_by_role("link", name="Back to the rules (choosing again starts the calls afresh)").click()
    page.get_by_text("calls and changes are recorded for the cohort already chosen").wait_for()
    no_axe_violations(page, "rules, with calls recorded")
    page.get_by_role("button", name="Choose a new cohort").click()
    page.get_by_text("There is a problem").wait_for()
    no_axe_violations(page, "rules, choosing again without the box ticked")
    page.get_by_role("link", name="Back to the calls", exact=True).click()
    page.get_by_role("heading", name="Consent calls").wait_for()
    assert cohort_ids(page) == [*ids[:2], newcomer, *ids[3:]]  # the calls untouched
    page.goto(page.url.rsplit("/s/", 1)[0] + "/s/gone/result")
    no_axe_violations(page, "not found")

    archive = zipfile.ZipFile(zip_path)
    record = json.loads(archive.read("selector-run/run.json"))
    assert record["cohorts"][0]["members"] == [*ids[:2], newcomer, *ids[3:]]
    assert [(e["child_id"], e["state"], e["note"]) for e in record["consent"]] == [
        (ids[0], "agreed", ""), (ids[1], "agreed", ""), (ids[2], "declined", "moving out of the area")]
    assert [(e["action"], e["declined"], e["newcomers"]) for e in record["replacements"]] == [
        ("replaced", [ids[2]], [newcomer]), ("undone", [ids[2]], [newcomer]), ("replaced", [ids[2]], [newcomer])]
    contacts = archive.read("selector-run/contacts.csv").decode("utf-8-sig")
    assert f"{ids[0]}," in contacts and ",agreed" in contacts


def test_the_report_and_the_audit_pass_axe_when_opened_from_the_run_folder(tab: Any, sample_run: Path,
                                                                            tmp_path: Path) -> None:
    """An inspector opens report.html (and an analyst audit.html or a profile) in a browser:
    every part of it, folded sections open, inside one main landmark, with no axe violation."""
    audit, profile = tmp_path / "audit", tmp_path / "profile.html"
    code, _, stderr = run("audit", "--lottery-from", str(sample_run), "--draws", "20", "--out", str(audit))
    assert code == 0, stderr
    code, _, stderr = run("profile", str(SAMPLE / "caseload.csv"), "--html", str(profile))
    assert code == 0, stderr
    for document in (sample_run / "report.html", audit / "audit.html", profile):
        tab.goto(document.as_uri())
        open_all_details(tab)
        assert tab.locator("main").count() == 1
        no_axe_violations(tab, document.name)


def test_a_slot_no_child_can_take_with_every_rule_is_filled_from_its_page_in_the_browser(
        page: Any, tmp_path: Path) -> None:
    # The sample with one child left in AP: the check says so before choosing; that child's family
    # declines; the page names the rule in the way and its button fills the slot without it.
    text = (SAMPLE / "caseload.csv").read_text()
    header, *rows = text.splitlines()
    column = header.split(",").index("setting_type")
    kept_one = False
    for number, row in enumerate(rows):
        cells = row.split(",")
        if len(cells) > column and cells[column] == "AP":
            if kept_one:
                cells[column] = "MAINSTREAM"
                rows[number] = ",".join(cells)
            kept_one = True
    one_ap = tmp_path / "one_ap.csv"
    one_ap.write_text("\n".join([header, *rows]) + "\n")
    page.get_by_label("Caseload (CSV, XLSX, Parquet or a SEN2 return)").set_input_files(str(one_ap))
    page.get_by_label("Practitioners' contacts (CSV, XLSX or Parquet)").set_input_files(str(SAMPLE / "contacts.csv"))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_text("can be met, only just: that child is in every cohort").wait_for()
    page.get_by_role("button", name="Choose the cohort").click()
    page.get_by_role("heading", name="Consent calls").wait_for(timeout=60000)
    in_ap = next(c for c in cohort_ids(page) if f"{c}," in text and
                 next(r for r in rows if r.startswith(f"{c},")).split(",")[column] == "AP")
    record_call(page, in_ap, "Family declined")
    page.get_by_role("heading", name="No replacement").wait_for()
    no_axe_violations(page, "no replacement with every rule")
    page.get_by_role("button", name="Find a replacement, dropping the fewest rules").click()
    page.get_by_role("heading", name=f"Replace {in_ap}?").wait_for()
    assert page.get_by_text("without this rule, which no child left could keep with the others: at least 1 whose "
                            "setting is: alternative provision").is_visible()
    no_axe_violations(page, "offer, a rule dropped")
    page.get_by_role("button", name=re.compile(r"^Accept .* for slot \d+$")).click()
    page.get_by_text("Rules dropped to make a cohort possible:").wait_for()
    assert in_ap not in cohort_ids(page)
