"""A local web page for inspectors: upload, check, choose, decline and replace, download.

The same engine and outputs as the command line, served by Flask on this machine only.
Uploads live in a private temporary folder that is removed when the server stops; nothing
else is written: the run folder is built in memory and downloaded as a zip.
"""

from __future__ import annotations

import io
import secrets
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, redirect, render_template_string, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename

from .annex_a import AnnexOptions
from .errors import CaseloadValidationError, SelectorError
from .model import SelectionParams, Solution, solve, solve_replacement
from .profile import dimension_counts, rule_room
from .report import RunInfo, reasons, run_files
from .rules import DEFAULT_RULES, CountRule, Rules, SpreadRule, load_rules
from .validate import Caseload, failure_line, load_caseload

MAX_UPLOAD_BYTES = 100 * 2**20  # the largest English area's list is well under this


class Cancelled(Exception):
    """The user pressed Cancel; the run stops before its next step."""


@dataclass
class Job:
    """A selection running in the background."""

    step: str = "starting"
    cancel: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    error: str = ""
    solution: Solution | None = None


@dataclass
class Session:
    """One user's upload and what has been done with it."""

    folder: Path
    caseload: Path | None
    contacts: Path | None
    annex: AnnexOptions
    loaded: Caseload
    rules: Rules = DEFAULT_RULES
    params: SelectionParams = field(default_factory=SelectionParams)
    job: Job | None = None
    changes: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} - selector</title>
{% if refresh %}<meta http-equiv="refresh" content="1">{% endif %}
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;color:#111;margin:1.5rem;max-width:75rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:1.8rem;border-bottom:2px solid #333}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #555;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#e8e8e8}
label{display:block;margin:.4rem 0 .1rem;font-weight:600}input,button{font-size:1rem}
button{padding:.35rem .8rem;border:2px solid #111;background:#fff;cursor:pointer}
button:focus,input:focus,a:focus{outline:3px solid #1d4ed8;outline-offset:2px}
.error{border:2px solid #b00020;padding:.5rem 1rem;background:#fff5f5}
.error strong::before{content:"Problem: "}.note{border:2px solid #555;padding:.5rem 1rem}
fieldset{border:1px solid #777;margin:.8rem 0;padding:.5rem 1rem}
</style></head><body>
<h1>{{ title }}</h1>
{{ body|safe }}
</body></html>"""


def create_app(workdir: Path | None = None) -> Flask:
    """The web app. Uploads go into `workdir` (a new private temporary folder if not given)."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="selector-web-"))
    sessions: dict[str, Session] = {}
    app.config["SELECTOR_WORKDIR"] = root
    app.config["SELECTOR_SESSIONS"] = sessions

    def page(title: str, body: str, status: int = 200, refresh: bool = False) -> Response:
        return Response(render_template_string(PAGE, title=title, body=body, refresh=refresh), status=status)

    def get(sid: str) -> Session:
        session = sessions.get(sid)
        if session is None:
            abort(404)
        return session

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: Exception) -> Response:
        return page("File too large", render_template_string(
            '<p class="error"><strong>The upload is larger than {{ mb }} MB.</strong> '
            'Check you chose the caseload file.</p><p><a href="{{ url }}">Start again</a></p>',
            mb=MAX_UPLOAD_BYTES // 2**20, url=url_for("index")), status=413)

    @app.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return page("Not found", render_template_string(
            '<p class="error"><strong>This page or upload no longer exists</strong> (the server may have '
            'restarted).</p><p><a href="{{ url }}">Start again</a></p>', url=url_for("index")), status=404)

    @app.get("/")
    def index() -> Response:
        return page("Choose the tracking cohort", render_template_string(UPLOAD_FORM))

    @app.post("/upload")
    def upload() -> Response:
        sid = secrets.token_urlsafe(16)
        folder = root / sid
        folder.mkdir(parents=True)
        saved = {name: _save(request.files.get(name), folder, name)
                 for name in ("caseload", "list1", "list2", "contacts", "rules")}
        if not (saved["caseload"] or saved["list1"] or saved["list2"]):
            shutil.rmtree(folder, ignore_errors=True)
            return page("Nothing uploaded", render_template_string(
                '<p class="error"><strong>Choose a caseload file, or the Annex A lists.</strong></p>'
                + UPLOAD_FORM), status=400)
        annex = AnnexOptions(list1=saved["list1"], list2=saved["list2"])
        try:
            loaded = load_caseload(saved["caseload"], saved["contacts"], annex=annex)
            rules = load_rules(saved["rules"]) if saved["rules"] else DEFAULT_RULES
        except CaseloadValidationError as error:
            shutil.rmtree(folder, ignore_errors=True)
            errors = error.failures[error.failures["severity"] == "error"]
            return page("The caseload needs fixing", render_template_string(
                VALIDATION_ERRORS, message=error.message, lines=[failure_line(r) for _, r in errors.iterrows()],
                url=url_for("index")), status=400)
        except SelectorError as error:
            shutil.rmtree(folder, ignore_errors=True)
            return page("The file cannot be used", render_template_string(
                '<p class="error"><strong>{{ message }}</strong></p><p><a href="{{ url }}">Start again</a></p>',
                message=error.message, url=url_for("index")), status=400)
        sessions[sid] = Session(folder, saved["caseload"], saved["contacts"], annex, loaded, rules)
        return redirect(url_for("overview", sid=sid), code=303)

    @app.get("/s/<sid>")
    def overview(sid: str) -> Response:
        session = get(sid)
        frame = session.loaded.frame
        warnings = [failure_line(r) for _, r in session.loaded.warnings.iterrows()]
        counts = dimension_counts(frame, session.rules)
        return page("Check the caseload, then choose", render_template_string(
            OVERVIEW, sid=sid, source_name=session.loaded.source, rows=len(frame),
            eligible=int(frame["eligible"].sum()), warnings=warnings[:50], more=max(0, len(warnings) - 50),
            counts={d.column: list(counts[d.column].items()) for d in session.rules.dimensions},
            rooms=rule_room(frame, session.rules), form=_form_defaults(session.rules, session.params)))

    @app.post("/s/<sid>/choose")
    def choose(sid: str) -> Response:
        session = get(sid)
        try:
            session.rules, session.params = _rules_from_form(request.form, session.rules)
        except (ValueError, SelectorError) as error:
            message = error.message if isinstance(error, SelectorError) else str(error)
            return page("Check the rules", render_template_string(
                '<p class="error"><strong>{{ m }}</strong></p><p><a href="{{ u }}">Back</a></p>',
                m=message, u=url_for("overview", sid=sid)), status=400)
        job = Job()
        session.job, session.changes, session.declined = job, [], []
        frame = session.loaded.frame

        def run() -> None:
            def progress(step: str) -> None:
                if job.cancel.is_set():
                    raise Cancelled()
                job.step = step

            try:
                job.solution = solve(frame, session.rules, session.params, progress=progress)
            except Cancelled:
                job.error = "Cancelled. Change the rules and choose again when ready."
            except SelectorError as error:
                job.error = error.message
            except Exception as error:  # shown on the page, never as a stack trace
                job.error = f"Something went wrong: {type(error).__name__}: {error}"
            finally:
                job.done = True

        threading.Thread(target=run, daemon=True).start()
        return redirect(url_for("job", sid=sid), code=303)

    @app.get("/s/<sid>/job")
    def job(sid: str) -> Response:
        session = get(sid)
        current = session.job
        if current is None:
            return redirect(url_for("overview", sid=sid), code=303)
        if not current.done:
            return page("Choosing...", render_template_string(
                '<p role="status">Working on: {{ step }}. This page updates itself.</p>'
                '<form method="post" action="{{ url }}"><button type="submit">Cancel</button></form>',
                step=current.step, url=url_for("cancel", sid=sid)), refresh=True)
        if current.error:
            return page("No cohort", render_template_string(
                '<div class="error"><strong>The cohort could not be chosen.</strong>'
                '<pre style="white-space:pre-wrap">{{ error }}</pre></div>'
                '<p><a href="{{ url }}">Back to the rules</a></p>', error=current.error,
                url=url_for("overview", sid=sid)), status=200)
        return redirect(url_for("result", sid=sid), code=303)

    @app.post("/s/<sid>/cancel")
    def cancel(sid: str) -> Response:
        session = get(sid)
        if session.job is not None:
            session.job.cancel.set()
        return redirect(url_for("job", sid=sid), code=303)

    @app.get("/s/<sid>/result")
    def result(sid: str) -> Response:
        session = get(sid)
        solution = _solution(session)
        frame = session.loaded.frame
        first = solution.cohorts[0]
        by_id = frame.set_index("child_id", drop=False)
        why = reasons(frame.loc[frame["child_id"].isin(first.members)], first.members, solution.rules)
        members = [{"slot": i, "id": c, "row": by_id.loc[c], "why": why[c],
                    "reserves": ", ".join(solution.reserves.get(c, ())) or "none"}
                   for i, c in enumerate(first.members, start=1)]
        return page("Tracking cohort", render_template_string(
            RESULT, sid=sid, first=first, members=members, solution=solution, changes=session.changes,
            status="proved optimal" if first.status == "OPTIMAL" else f"best found (bound {first.bound})"))

    @app.post("/s/<sid>/decline")
    def decline(sid: str) -> Response:
        session = get(sid)
        solution = _solution(session)
        child = request.form.get("child_id", "")
        first = solution.cohorts[0].members
        if child not in first:
            return page("Not in the cohort", render_template_string(
                '<p class="error"><strong>{{ c }} is not in cohort 1.</strong></p><p><a href="{{ u }}">Back</a></p>',
                c=child, u=url_for("result", sid=sid)), status=400)
        frame = session.loaded.frame.copy()
        frame.loc[frame["child_id"].isin(session.declined), "eligible"] = False
        try:
            replaced = solve_replacement(frame, solution.rules, session.params, first, [child])
        except SelectorError as error:
            return page("No replacement", render_template_string(
                '<div class="error"><strong>No child can take this slot with every rule met.</strong>'
                '<pre style="white-space:pre-wrap">{{ e }}</pre></div><p><a href="{{ u }}">Back</a></p>',
                e=error.message, u=url_for("result", sid=sid)), status=200)
        new = [c for c in replaced.cohorts[0].members if c not in first]
        session.declined.append(child)
        session.changes.append(f"{child} declined: replaced by {', '.join(new)}; the other members kept their "
                               f"slots (score {solution.cohorts[0].score} -> {replaced.cohorts[0].score}).")
        assert session.job is not None
        session.job.solution = replaced
        return redirect(url_for("result", sid=sid), code=303)

    @app.get("/s/<sid>/download")
    def download(sid: str) -> Response:
        session = get(sid)
        solution = _solution(session)
        loaded = session.loaded
        info = RunInfo(
            caseload=loaded.source, caseload_path="", caseload_sha256=loaded.source_sha256,
            rows=len(loaded.frame), eligible=int(loaded.frame["eligible"].sum()),
            contacts=loaded.contacts_source, contacts_sha256=loaded.contacts_sha256,
            replaced={"from_run": "web page", "declined": session.declined,
                      "reason": "family declined or could not be reached",
                      "kept": [], "all_declined": session.declined} if session.declined else {},
        )
        files = run_files(loaded.frame, loaded.all_contacts, solution, info, ("xlsx",))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in sorted(files.items()):
                archive.writestr(f"selector-run/{name}", content)
        buffer.seek(0)
        return send_file(buffer, mimetype="application/zip", as_attachment=True,
                         download_name="selector-run.zip")

    def _solution(session: Session) -> Solution:
        if session.job is None or session.job.solution is None:
            abort(404)
        return session.job.solution

    return app


def _save(upload: Any, folder: Path, role: str) -> Path | None:
    if upload is None or not upload.filename:
        return None
    name = secure_filename(upload.filename) or role
    path = folder / f"{role}-{name}"
    upload.save(path)
    return path


def _form_defaults(rules: Rules, params: SelectionParams) -> dict[str, object]:
    def minimum(column: str, value: str) -> int:
        return next((r.min or 0 for r in rules.counts if r.column == column and r.values == (value,)), 0)

    spreads = {s.column for s in rules.spreads}
    return {"size": rules.size, "ap": minimum("setting_type", "AP"), "ehcp": minimum("plan_status", "EHCP"),
            "sen": minimum("plan_status", "SEN_SUPPORT"), "one_setting": "setting_id" in spreads,
            "one_practitioner": bool(spreads & {"lead_practitioner", "lead_practitioner_id"}),
            "sets": params.sets, "seed": params.seed, "relax": params.relax,
            "caps": [(d.column, d.weight, d.cap) for d in rules.dimensions]}


def _whole(form: Any, name: str, low: int, high: int) -> int:
    text = str(form.get(name, "")).strip()
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise ValueError(f"'{name}' must be a whole number from {low} to {high} (got {text!r}).")
    return int(text)


def _rules_from_form(form: Any, base: Rules) -> tuple[Rules, SelectionParams]:
    """Rules and parameters from the page's form: the three usual minimums, the two spread
    rules, and the weight and cap of each dimension; other rules of an uploaded file are kept."""
    size = _whole(form, "size", 1, 50)
    mins = {("setting_type", "AP"): _whole(form, "ap", 0, size), ("plan_status", "EHCP"): _whole(form, "ehcp", 0, size),
            ("plan_status", "SEN_SUPPORT"): _whole(form, "sen", 0, size)}
    priority = {("setting_type", "AP"): 10, ("plan_status", "EHCP"): 40, ("plan_status", "SEN_SUPPORT"): 40}
    kept = tuple(r for r in base.counts if (r.column, r.values) not in {(c, (v,)) for c, v in mins})
    counts = kept + tuple(CountRule(c, (v,), min=n, priority=priority[(c, v)]) for (c, v), n in mins.items() if n)
    spreads = []
    if form.get("one_setting"):
        spreads.append(SpreadRule("setting_id", 1, priority=20))
    if form.get("one_practitioner"):
        spreads.append(SpreadRule("lead_practitioner", 1, priority=30))
    from .rules import Dimension, rules_from_dict

    dimensions = tuple(Dimension(d.column, _whole(form, f"weight_{d.column}", 0, 100),
                                 _whole(form, f"cap_{d.column}", 0, 100)) for d in base.dimensions)
    rules = Rules(size=size, counts=counts, spreads=tuple(spreads), dimensions=dimensions)
    rules = rules_from_dict(rules.to_dict(), source="the form")  # the file's checks apply to the form too
    params = SelectionParams(seed=_whole(form, "seed", 0, 2**31 - 1), sets=_whole(form, "sets", 1, 10),
                             relax=bool(form.get("relax")))
    return rules, params


UPLOAD_FORM = """
<p>Everything stays on this computer. Upload the caseload and the practitioners' contacts,
check them, set the rules, and choose.</p>
<form method="post" action="/upload" enctype="multipart/form-data">
<fieldset><legend>The caseload: one file in the selector format, or an Annex A workbook</legend>
<label for="caseload">Caseload (CSV, XLSX or Parquet)</label>
<input id="caseload" name="caseload" type="file" accept=".csv,.xlsx,.parquet">
</fieldset>
<fieldset><legend>Or the Annex A lists as separate files</legend>
<label for="list1">List 1: EHC plans</label><input id="list1" name="list1" type="file" accept=".csv,.xlsx">
<label for="list2">List 2: SEN support</label><input id="list2" name="list2" type="file" accept=".csv,.xlsx">
</fieldset>
<fieldset><legend>Contacts and rules</legend>
<label for="contacts">Practitioners' contacts (CSV, XLSX or Parquet)</label>
<input id="contacts" name="contacts" type="file" accept=".csv,.xlsx,.parquet">
<label for="rules">Rules file (optional, TOML)</label><input id="rules" name="rules" type="file" accept=".toml">
</fieldset>
<p><button type="submit">Upload and check</button></p>
</form>"""

VALIDATION_ERRORS = """
<div class="error"><strong>{{ message }}</strong>
<ul>{% for line in lines[:100] %}<li>{{ line }}</li>{% endfor %}</ul>
{% if lines|length > 100 %}<p>... and {{ lines|length - 100 }} more.</p>{% endif %}</div>
<p>Fix these in the file (the row numbers are as the spreadsheet shows them) and upload again.
<a href="{{ url }}">Start again</a></p>"""

OVERVIEW = """
<h2>1. What was read</h2>
<p>{{ source_name }}: {{ rows }} rows, {{ eligible }} eligible children and young people.</p>
{% if warnings %}<div class="note"><p><strong>Warnings</strong> (these do not stop the choice):</p>
<ul>{% for w in warnings %}<li>{{ w }}</li>{% endfor %}</ul>{% if more %}<p>... and {{ more }} more.</p>{% endif %}
</div>{% endif %}
<h2>2. What the caseload offers</h2>
{% for column, values in counts.items() %}
<table><caption>{{ column }}</caption><thead><tr><th scope="col">value</th><th scope="col">eligible</th></tr></thead>
<tbody>{% for v, n in values %}<tr><td>{{ v }}</td><td>{{ n }}</td></tr>{% endfor %}</tbody></table>
{% endfor %}
<table><caption>Hard rules</caption><thead><tr><th scope="col">rule</th><th scope="col">available</th>
<th scope="col">can be met</th></tr></thead><tbody>
{% for r in rooms %}<tr><td>{{ r.name }}</td><td>{{ r.detail }}</td><td>{{ "yes" if r.can_meet else "NO" }}</td></tr>{% endfor %}
</tbody></table>
<h2>3. Rules</h2>
<form method="post" action="/s/{{ sid }}/choose">
<label for="size">Cohort size</label><input id="size" name="size" type="number" min="1" value="{{ form.size }}">
<label for="ap">At least this many in alternative provision (AP)</label>
<input id="ap" name="ap" type="number" min="0" value="{{ form.ap }}">
<label for="ehcp">At least this many with an EHC plan</label>
<input id="ehcp" name="ehcp" type="number" min="0" value="{{ form.ehcp }}">
<label for="sen">At least this many at SEN support</label>
<input id="sen" name="sen" type="number" min="0" value="{{ form.sen }}">
<p><input id="one_setting" name="one_setting" type="checkbox" {{ "checked" if form.one_setting }}>
<label for="one_setting" style="display:inline">No two from the same setting</label></p>
<p><input id="one_practitioner" name="one_practitioner" type="checkbox" {{ "checked" if form.one_practitioner }}>
<label for="one_practitioner" style="display:inline">No two with the same lead practitioner</label></p>
<fieldset><legend>How much each dimension counts (weight) and up to how many values (cap)</legend>
{% for column, weight, cap in form.caps %}
<label for="weight_{{ column }}">{{ column }}: weight</label>
<input id="weight_{{ column }}" name="weight_{{ column }}" type="number" min="0" value="{{ weight }}">
<label for="cap_{{ column }}">{{ column }}: cap</label>
<input id="cap_{{ column }}" name="cap_{{ column }}" type="number" min="0" value="{{ cap }}">
{% endfor %}</fieldset>
<label for="sets">Ranked cohorts</label><input id="sets" name="sets" type="number" min="1" max="10" value="{{ form.sets }}">
<label for="seed">Seed (same seed, same choice)</label><input id="seed" name="seed" type="number" min="0" value="{{ form.seed }}">
<p><input id="relax" name="relax" type="checkbox" {{ "checked" if form.relax }}>
<label for="relax" style="display:inline">If the rules cannot all be met, drop the fewest, least important</label></p>
<p><button type="submit">Choose</button></p>
</form>"""

RESULT = """
{% for change in changes %}<p class="note" role="status">{{ change }}</p>{% endfor %}
<p>Cohort 1 scores {{ first.score }} ({{ status }}).
{% if solution.dropped %}<strong>Rules dropped to make a cohort possible:</strong> {{ solution.dropped|join("; ") }}.{% endif %}</p>
<h2>Cohort 1</h2>
<table><thead><tr>{% for h in ["slot", "child", "age band", "need", "plan", "setting", "social care",
"practitioner and contact", "why chosen", "reserves", ""] %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for m in members %}<tr><td>{{ m.slot }}</td><td>{{ m.id }}</td><td>{{ m.row.age_band }}</td>
<td>{{ m.row.primary_need }}</td><td>{{ m.row.plan_status }}</td><td>{{ m.row.setting_type }}</td>
<td>{{ m.row.social_care }}</td>
<td>{{ m.row.contact_name }}<br>{{ m.row.contact_role }}, {{ m.row.contact_organisation }}<br>
{{ m.row.contact_email }}<br>{{ m.row.contact_phone }}</td><td>{{ m.why }}</td><td>{{ m.reserves }}</td>
<td><form method="post" action="/s/{{ sid }}/decline"><input type="hidden" name="child_id" value="{{ m.id }}">
<button type="submit" aria-label="Family declined: replace {{ m.id }}">Family declined</button></form></td></tr>{% endfor %}
</tbody></table>
<h2>Ranked alternatives</h2>
<table><thead><tr><th scope="col">rank</th><th scope="col">score</th><th scope="col">status</th>
<th scope="col">members</th></tr></thead><tbody>
{% for c in solution.cohorts %}<tr><td>{{ c.rank }}</td><td>{{ c.score }}</td><td>{{ c.status }}</td>
<td>{{ c.members|join(", ") }}</td></tr>{% endfor %}</tbody></table>
<p><a href="/s/{{ sid }}/download">Download the run folder (zip: CSV, XLSX, HTML report, run.json)</a></p>
<p><a href="/s/{{ sid }}">Back to the rules</a></p>"""


def serve(host: str, port: int, open_browser: bool) -> None:
    """Run the app until interrupted; the upload folder is removed on the way out."""
    import signal
    import webbrowser

    from werkzeug.serving import make_server

    def stop(*_: object) -> None:
        raise KeyboardInterrupt  # a polite kill cleans up like Ctrl+C

    signal.signal(signal.SIGTERM, stop)

    workdir = Path(tempfile.mkdtemp(prefix="selector-web-"))
    app = create_app(workdir)
    server = make_server(host, port, app, threaded=True)
    url = f"http://{host}:{server.server_port}/"
    print(f"selector is serving {url} (Ctrl+C stops it and removes the uploads)", flush=True)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        shutil.rmtree(workdir, ignore_errors=True)
