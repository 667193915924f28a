"""The local web page: every route (including bad uploads and impossible rules), the loopback
default, and the whole flow in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import io
import json
import re
import shutil
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

flask = pytest.importorskip("flask", reason="the web extra (Flask) is not installed")

from click.testing import CliRunner  # noqa: E402

from selector import web  # noqa: E402
from selector.cli import main  # noqa: E402
from tests.conftest import SAMPLE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = web.create_app(tmp_path / "uploads")
    app.config["TESTING"] = True
    return app.test_client()


def upload(client, caseload: Path | None = SAMPLE / "caseload.csv",  # type: ignore[no-untyped-def]
           contacts: Path | None = SAMPLE / "contacts.csv", **extra: Path):
    data = {}
    for name, path in {"caseload": caseload, "contacts": contacts, **extra}.items():
        if path is not None:
            data[name] = (io.BytesIO(path.read_bytes()), path.name)
    data["csrf_token"] = client.application.config["CSRF_TOKEN"]
    return client.post("/upload", data=data, content_type="multipart/form-data")


def post(client, url: str, data: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A form post as the page sends it (with the page's token)."""
    return client.post(url, data={**(data or {}), "csrf_token": client.application.config["CSRF_TOKEN"]})


def default_form(**changes: str) -> dict[str, str]:
    form = {"size": "6", "ap": "1", "ehcp": "2", "sen": "2", "one_setting": "on", "one_practitioner": "on",
            "sets": "3", "seed": "0"}
    for column, weight, cap in [("primary_need", 4, 6), ("age_band", 4, 5), ("setting_type", 3, 4),
                                ("plan_status", 2, 3), ("social_care", 2, 2), ("services", 1, 8), ("locality", 1, 6)]:
        form[f"weight_{column}"], form[f"cap_{column}"] = str(weight), str(cap)
    form.update(changes)
    return form


def wait_for_result(client, sid: str) -> str:  # type: ignore[no-untyped-def]
    for _ in range(600):
        response = client.get(f"/s/{sid}/job")
        if response.status_code == 303:
            return client.get(response.headers["Location"]).get_data(as_text=True)
        text = response.get_data(as_text=True)
        if "Working on" not in text:
            return text
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_upload_page_has_labelled_fields(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").get_data(as_text=True)
    for field_id in ("caseload", "list1", "list2", "contacts", "rules"):
        assert f'<label for="{field_id}">' in html and f'id="{field_id}"' in html


def test_whole_flow_choose_decline_download(client) -> None:  # type: ignore[no-untyped-def]
    response = upload(client)
    assert response.status_code == 303
    sid = response.headers["Location"].rsplit("/", 1)[1]
    overview = client.get(f"/s/{sid}").get_data(as_text=True)
    assert "caseload.csv: 3000 rows, 2985 eligible" in overview
    assert "at least 1 with setting_type AP" in overview and 'value="6"' in overview
    assert post(client, f"/s/{sid}/choose", default_form()).status_code == 303
    result = wait_for_result(client, sid)
    assert "Cohort 1 scores 80 (proved optimal)" in result
    ids = re.findall(r'name="child_id" value="([^"]+)"', result)
    assert len(ids) == 6
    assert "@northshire.example" in result  # the contact for the consent call
    # A replacement is asked for first, then confirmed.
    asked = post(client, f"/s/{sid}/decline", {"child_id": ids[1]})
    assert asked.status_code == 200 and f"Yes, replace {ids[1]}" in asked.get_data(as_text=True)
    response = post(client, f"/s/{sid}/decline", {"child_id": ids[1], "confirm": "yes"})
    assert response.status_code == 303
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{ids[1]} declined: replaced by " in after
    new_ids = re.findall(r'name="child_id" value="([^"]+)"', after)
    assert ids[1] not in new_ids and [c for i, c in enumerate(new_ids) if i != 1] == [c for i, c in enumerate(ids) if i != 1]
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/s/{sid}/download").data))
    names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert {"cohorts.csv", "contacts.csv", "run.json", "report.html", "report.md", "cohorts.xlsx"} <= names
    cohorts = pd.read_csv(io.BytesIO(archive.read("selector-run/cohorts.csv")), encoding="utf-8-sig")
    assert cohorts[cohorts["cohort"] == 1]["child_id"].tolist() == new_ids
    # Undo takes the replacement back: the first cohort again, and the download says so.
    assert "Undo the last replacement" in after
    undone = client.get(post(client, f"/s/{sid}/undo").headers["Location"]).get_data(as_text=True)
    assert re.findall(r'name="child_id" value="([^"]+)"', undone) == ids
    assert f"Undone: {ids[1]} declined: replaced by " in undone and "Undo the last replacement" not in undone
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/s/{sid}/download").data))
    record = json.loads(archive.read("selector-run/run.json"))
    assert record["cohorts"][0]["members"] == ids and "replaced" not in record


def test_nothing_uploaded(client) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, caseload=None, contacts=None)
    assert response.status_code == 400
    assert "Choose a caseload file, or the Annex A lists." in response.get_data(as_text=True)


def test_wrong_format_is_a_message_not_a_trace(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    response = upload(client, caseload=binary)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "photo.csv: this is not a text (CSV) file." in text and "Traceback" not in text


def test_validation_errors_are_listed_by_row_and_column(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    frame.loc[4, "primary_need"] = "AUT"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    response = upload(client, caseload=bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "bad.csv: row 6, column &#39;primary_need&#39;: &#39;AUT&#39; not one of the primary_need codes." in text


def test_impossible_rules_show_the_reason(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = pd.read_csv(SAMPLE / "caseload.csv", dtype=str, keep_default_na=False)
    no_ap = tmp_path / "no_ap.csv"
    frame[frame["setting_type"] != "AP"].to_csv(no_ap, index=False)
    sid = upload(client, caseload=no_ap).headers["Location"].rsplit("/", 1)[1]
    post(client, f"/s/{sid}/choose", default_form())
    text = wait_for_result(client, sid)
    assert "The cohort could not be chosen." in text
    assert "at least 1 with setting_type AP: 0 eligible CYP have setting_type AP" in text
    relaxed = post(client, f"/s/{sid}/choose", default_form(relax="on"))
    assert relaxed.status_code == 303
    assert "Rules dropped to make a cohort possible:" in wait_for_result(client, sid)


def test_bad_form_values_are_reported(client) -> None:  # type: ignore[no-untyped-def]
    sid = upload(client).headers["Location"].rsplit("/", 1)[1]
    response = post(client, f"/s/{sid}/choose", default_form(ehcp="4", sen="4"))
    assert response.status_code == 400
    assert "rules on plan_status need 8 members but the cohort has 6" in response.get_data(as_text=True)
    response = post(client, f"/s/{sid}/choose", default_form(size="lots"))
    assert response.status_code == 400 and "&#39;size&#39; must be a whole number" in response.get_data(as_text=True)


def test_cancel_stops_the_run(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    def slow_solve(problem, params, progress=None):  # type: ignore[no-untyped-def]
        for _ in range(500):  # a long run that reports progress between steps
            progress("a slow step")
            time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr(web.app, "solve", slow_solve)  # the engine below the application layer
    sid = upload(client).headers["Location"].rsplit("/", 1)[1]
    post(client, f"/s/{sid}/choose", default_form())
    assert "Working on" in client.get(f"/s/{sid}/job").get_data(as_text=True)
    post(client, f"/s/{sid}/cancel")
    assert "Cancelled." in wait_for_result(client, sid)


def test_upload_size_limit(tmp_path: Path) -> None:
    app = web.create_app(tmp_path / "uploads")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(app.test_client())
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)


def test_unknown_session_is_a_clear_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/s/nope/result")
    assert response.status_code == 404 and "no longer exists" in response.get_data(as_text=True)


def test_serve_listens_on_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(web, "serve", lambda host, port, open_browser: calls.append(host))
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0"])
    assert calls == ["127.0.0.1", "0.0.0.0"]
    assert "Warning: listening on 0.0.0.0" in result.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_end_to_end_in_a_real_browser(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, web.create_app(tmp_path / "uploads"), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(url)
            page.get_by_label("Caseload (CSV, XLSX or Parquet)").set_input_files(str(SAMPLE / "caseload.csv"))
            page.get_by_label("Practitioners' contacts (CSV, XLSX or Parquet)").set_input_files(
                str(SAMPLE / "contacts.csv"))
            page.get_by_role("button", name="Upload and check").click()
            page.get_by_text("3000 rows, 2985 eligible").wait_for()
            page.get_by_label("Ranked cohorts").fill("2")
            page.get_by_role("button", name="Choose").click()
            page.get_by_role("heading", name="Tracking cohort").wait_for(timeout=60000)
            assert page.get_by_text("Cohort 1 scores 80 (proved optimal)").is_visible()
            page.screenshot(path=str(artifacts / "web-cohort.png"), full_page=True)
            buttons = page.get_by_role("button", name=re.compile("^Family declined"))
            assert buttons.count() == 6
            declined = buttons.nth(0).get_attribute("aria-label").rsplit(" ", 1)[1]
            buttons.nth(0).click()
            page.get_by_role("button", name=f"Yes, replace {declined}").click()  # confirmed first
            page.get_by_text(f"{declined} declined: replaced by").wait_for()
            with page.expect_download() as caught:
                page.get_by_role("link", name=re.compile("Download the run folder")).click()
            zip_path = tmp_path / "run.zip"
            caught.value.save_as(zip_path)
            browser.close()
    finally:
        server.shutdown()
    names = {n.split("/", 1)[1] for n in zipfile.ZipFile(zip_path).namelist()}
    assert {"cohorts.csv", "contacts.csv", "cohorts.xlsx", "report.html", "run.json"} <= names
    assert (artifacts / "web-cohort.png").stat().st_size > 10000
