"""A local web page for inspectors: upload, check, choose, decline and replace, download.

A front end like the command line: each route parses the form, calls one use case of `app`,
and renders a template. Served by Flask on this machine only. Uploads live in a private
temporary folder that is removed when the server stops; the run folder is built in memory and
downloaded as a zip.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import webbrowser
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, redirect, render_template, request, send_file, url_for
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import make_server

from .. import app
from ..contract.errors import (
    PROBLEM_LINE,
    CaseloadValidationError,
    InfeasibleSelectionError,
    InputError,
    Interrupted,
    SelectorError,
)
from ..contract.failures import (
    ERRORS_HEADING,
    REPEATED_HEADING,
    WARNINGS_HEADING,
    errors_by_kind,
    errors_shown,
    failure_line,
    remedies_in,
    repeated_errors,
    warnings_by_kind,
    warnings_shown,
)
from ..contract.rules import DEFAULT_RULES, Rules
from .form import (
    FormError,
    field_labels,
    form_defaults,
    rules_from_form,
    rules_named,
    typed_form,
    unmet_on_form,
)

if TYPE_CHECKING:
    import pandas as pd

MESSAGE_LINES = 100  # failures shown on a page (message.html shows this many)
WARNINGS_SHOWN = 50
MAX_UPLOAD_BYTES = 100 * 2**20  # the largest English area's list is well under this
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
# How to give what a fix asks for (contract.failures.REMEDIES), here: the page reads the
# caseload, contacts, Annex A lists, the files that help read them and a rules file, and takes
# ages on today's date.
MORE_FILES = "“Annex A as two files, the files that help read it, or a rules file”"
REMEDY_ON_PAGE = {
    "mapping": f"Correct these cells in the list, or upload with it a mapping file that says which code each "
               f"value means (under {MORE_FILES}).",
    "establishments": f"Upload with the list the establishments extract from Get Information About Schools, "
                      f"which gives each setting's type from its URN (under {MORE_FILES}), or give each child's "
                      "setting type in the list.",
    "as_of": "This page takes ages on today's date.",
    "keep_column": "This page keeps no column outside the data contract: none reaches its outputs or a rule "
                   "(the command line can keep one).",
    "sheet": "Give the name of the sheet that holds the list in \u201cSheet to read\u201d, under the caseload, and "
             "upload again.",
    "contacts": "Upload the practitioners' contacts file with the list, under \u201cPractitioners' contacts\u201d.",
}
# The fixes of "too few children can be chosen", as this page does them.
TOO_FEW_ON_PAGE = {
    "Give the contacts file (or the practitioner_* columns).":
        "Start again and upload the practitioners' contacts with the caseload.",
    "Check the exclude and contact columns.":
        "Check the list's exclude and contact columns, then start again with it.",
}
# The files read through options that the forms take (a SEN2 return is uploaded as the caseload,
# and ages are taken on today's date), and of them the ones that help read the lists.
OPTION_FILES_ON_PAGE = ("list1", "list2", "mapping", "ap_urns", "establishments")
HELPER_FILES = OPTION_FILES_ON_PAGE[2:]
WEB_STYLESHEET = (Path(__file__).parent / "templates" / "web.css").read_text(encoding="utf-8")


class Cancelled(Exception):
    """The user pressed Cancel; the run stops before its next step."""


@dataclass
class Job:
    """A selection running in the background."""

    step: str = "starting"
    cancel: threading.Event = field(default_factory=threading.Event)
    done: bool = False
    error: str = ""
    conflicts: tuple[str, ...] = ()  # the rules that cannot all be met together, by name
    solution: app.Solution | None = None


@dataclass
class Carrying:
    """A download being checked in the background before its calls are carried on."""

    folder: Path
    step: str = "redoing the run from its files, to check it against the download"
    done: bool = False
    error: str = ""
    fix: str = ""
    session: Session | None = None  # the calls carried on, once the download is checked


@dataclass
class Session:
    """One user's upload and what has been done with it."""

    folder: Path
    caseload: app.Caseload
    sources: app.Sources | None  # the files uploaded (the download's record names them, never where they are kept)
    rules: Rules = DEFAULT_RULES
    params: app.SelectionParams = field(default_factory=lambda: app.SelectionParams(seed_source="random"))
    job: Job | None = None
    week: app.Week | None = None  # the consent calls, once a cohort is chosen
    undo: list[tuple[app.Week, str]] = field(default_factory=list)  # earlier weeks and what changed them
    last_change: str = ""
    pending: app.Offer | None = None  # a replacement offered, not yet accepted
    downloaded: int = 0  # how many calls and changes the latest download held (the page keeps nothing)


def create_app(workdir: Path | None = None, host: str = "127.0.0.1") -> Flask:
    """The web app. Uploads go into `workdir` (a new private temporary folder if not given).

    Requests must name this machine (or `host`) in Host, and every form carries a token that
    only pages served here know: another site, or a DNS name rebound to 127.0.0.1, can neither
    read the pages nor post to them.
    """
    web = Flask(__name__)
    web.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    web.config["CSRF_TOKEN"] = secrets.token_urlsafe(32)
    allowed_hosts = LOOPBACK_NAMES | {host.strip("[]")}
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="selector-web-"))
    sessions: dict[str, Session] = {}
    carrying: dict[str, Carrying] = {}  # downloads being checked, to carry the calls on
    web.config["SELECTOR_WORKDIR"] = root
    web.config["SELECTOR_SESSIONS"] = sessions

    @web.before_request
    def same_machine_only() -> Response | None:
        if _host_name(request.host) not in allowed_hosts:
            return Response("This page answers only on this computer's own address.", status=421)
        origin = request.headers.get("Origin")
        if origin and _host_name(origin.split("://", 1)[-1]) not in allowed_hosts:
            return Response("Requests from other sites are refused.", status=403)
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            if not secrets.compare_digest(sent, web.config["CSRF_TOKEN"]):
                return Response("This form is out of date or did not come from this page. Reload the page and "
                                "try again.", status=403)
        return None

    @web.context_processor
    def csrf_field() -> dict[str, Any]:
        token = web.config["CSRF_TOKEN"]
        return {"csrf_field": Markup(f'<input type="hidden" name="csrf_token" value="{token}">'),
                "version": app.version()}

    def page(template: str, http_status: int = 200, **context: Any) -> Response:
        html = render_template(template, web_stylesheet=WEB_STYLESHEET, **context)
        return Response(html, status=http_status)

    def message(title: str, text: str, back: str, http_status: int = 400, **extra: Any) -> Response:
        # A file's several problems ("2 problems in the mapping:" and one a line) as a list, not one run-on line.
        text, *problems = text.split(PROBLEM_LINE)
        return page("message.html", http_status, title=title, message=text, problems=problems, back=back,
                    error_title=True,
                    back_text=extra.pop("back_text", "Start again"), detail=extra.get("detail", ""),
                    lines=extra.get("lines", []), step=extra.get("step"), remedies=extra.get("remedies", []),
                    more=extra.get("more", 0), repeated=extra.get("repeated", []), repeated_heading=REPEATED_HEADING,
                    kinds=extra.get("kinds", []), kinds_heading=ERRORS_HEADING, action=extra.get("action"))

    def get(sid: str) -> Session:
        session = sessions.get(sid)
        if session is None:
            abort(404)
        return session

    def week_of(session: Session) -> app.Week:
        if session.week is None:
            abort(404)
        return session.week

    def change(session: Session, week: app.Week, what: str) -> None:
        """A new state of the calls; the one before it becomes the undo point."""
        assert session.week is not None
        session.undo.append((session.week, what))
        session.week, session.last_change, session.pending = week, what, None

    @web.errorhandler(RequestEntityTooLarge)
    def too_large(_: Exception) -> Response:
        return message("File too large", f"The upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB. Check you "
                       "chose the caseload file.", url_for("index"), 413)

    @web.errorhandler(404)
    def not_found(_: Exception) -> Response:
        return message("Not found", "This page or upload no longer exists (the server may have restarted).",
                       url_for("index"), 404)

    @web.get("/")
    def index() -> Response:
        return page("upload.html", title="Upload the caseload", problem="", step=1)

    @web.post("/upload")
    def upload() -> Response:
        sid = secrets.token_urlsafe(16)
        folder = root / sid
        folder.mkdir(parents=True)
        saved = {name: _save(request.files.get(name), folder, name)
                 for name in ("caseload", "contacts", "rules", *OPTION_FILES_ON_PAGE)}
        try:
            session = _open_session(folder, saved, request.form.get("sheet", "").strip() or None)
        except SelectorError as error:
            shutil.rmtree(folder, ignore_errors=True)
            return _upload_problem(error)
        sessions[sid] = session
        return redirect(url_for("overview", sid=sid), code=303)

    @web.post("/carry-on")
    def carry_on() -> Response:
        """The calls carried on from a download (the page was closed, the computer restarted): the
        run redone from the files it was made from and checked against the download first."""
        sid = secrets.token_urlsafe(16)
        folder = root / sid
        folder.mkdir(parents=True)
        saved = {name: _save(request.files.get(f"carry_{name}"), folder, name)
                 for name in ("run", "caseload", "contacts", *OPTION_FILES_ON_PAGE)}
        if saved["run"] is None:
            shutil.rmtree(folder, ignore_errors=True)
            return page("upload.html", 400, title="Upload the caseload", step=1, error_title=True,
                        carry_problem="Choose the run folder's zip (the page's Download gave it, named "
                                      "selector-run with the day and time it was downloaded).")
        # Redoing the run takes seconds on a small area, longer on a large one: in the background,
        # with a page that says so, as choosing does.
        carrying[sid] = job = Carrying(folder)
        threading.Thread(target=_carry_on_job, args=(job, saved), daemon=True).start()
        return redirect(url_for("carrying_on", sid=sid), code=303)

    @web.get("/carry-on/<sid>")
    def carrying_on(sid: str) -> Response:
        job = carrying.get(sid)
        if job is None:
            return done_carrying(sid)
        if not job.done:
            return page("job.html", title="Checking the download", step=1, step_text=job.step,
                        here=url_for("carrying_on", sid=sid))
        if carrying.pop(sid, None) is None:  # another request (a second tab) took it first
            return done_carrying(sid)
        if job.session is None:  # refused (its files are removed already)
            return message("The calls cannot be carried on", job.error, url_for("index"), step=1, detail=job.fix)
        sessions[sid] = job.session
        return redirect(url_for("result", sid=sid), code=303)

    def done_carrying(sid: str) -> Response:
        """A download already checked (this page reloaded, or open in another tab): its calls."""
        if sid not in sessions:
            abort(404)
        return redirect(url_for("result", sid=sid), code=303)

    def _upload_problem(error: SelectorError) -> Response:
        if error.code == "no_caseload":
            return page("upload.html", 400, title="Upload the caseload", step=1, error_title=True,
                        problem="Choose a caseload file, or the Annex A lists.")
        if isinstance(error, CaseloadValidationError):
            errors = error.failures[error.failures["severity"] == "error"]
            first = errors_shown(errors, MESSAGE_LINES)
            grouped = len(errors) > len(first)
            return message("The caseload needs fixing", error.message, url_for("index"), step=1,
                           lines=[failure_line(r) for _, r in first.iterrows()], more=len(errors) - len(first),
                           repeated=repeated_errors(errors) if grouped else [],
                           kinds=errors_by_kind(errors) if grouped else [],
                           remedies=[REMEDY_ON_PAGE[r] for r in remedies_in(first["fix"])])
        return message("The file cannot be used", error.message, url_for("index"), step=1, detail=error.fix,
                       remedies=[REMEDY_ON_PAGE[r] for r in remedies_in([error.fix])])

    @web.get("/s/<sid>")
    def overview(sid: str) -> Response:
        session = get(sid)
        return overview_page(sid, session, session.rules, session.params)

    def overview_page(sid: str, session: Session, rules: Rules, params: app.SelectionParams,
                      leave_error: bool = False, typed: Any = None, problems: FormError | None = None
                      ) -> Response:
        profile = app.profile_of(session.caseload, rules)
        frame = session.caseload.frame
        all_warnings = session.caseload.warnings
        first = warnings_shown(all_warnings, WARNINGS_SHOWN)  # (of thousands, maybe)
        warnings = [failure_line(r) for _, r in first.iterrows()]
        more = len(all_warnings) - len(first)
        remedies = [REMEDY_ON_PAGE[r] for r in remedies_in(first["fix"])]
        rules_said = app.rules_in_words(profile)
        counts = [(app.dimension_name(d.column), [(app.in_words(d.column, v), n)
                                                  for v, n in profile.counts[d.column].items()])
                  for d in rules.dimensions]
        form = form_defaults(rules, params)
        if typed is not None:
            form = typed_form(form, typed)
        return page("overview.html", 400 if leave_error or problems else 200, title="Check the caseload, then choose",
                    step=2, rules_size=rules.size, labels=field_labels(rules),
                    field_errors=problems.fields if problems else {},
                    form_problems=problems.said if problems else [],
                    sid=sid, source_name=session.caseload.source, read_with=_read_with(session.sources),
                    rows=len(frame), eligible=int(frame["eligible"].sum()),
                    warnings=warnings, more=more, kinds=warnings_by_kind(all_warnings) if more else [],
                    kinds_heading=WARNINGS_HEADING, counts=counts,
                    remedies=remedies, rules=rules_said, too_few=_too_few(frame, all_warnings, rules),
                    cannot=[] if problems else [words for words, _, can_meet, _ in rules_said if not can_meet],
                    form=form, recorded=_recorded(session), leave_error=leave_error,
                    error_title=leave_error or problems is not None)

    def _too_few(frame: pd.DataFrame, warnings: pd.DataFrame, rules: Rules) -> str:
        """Why fewer children can be chosen than the cohort needs, and what to do on this page
        ('' when enough can be): every rule then fails for that one reason, and changing the
        rules is not the fix."""
        said = warnings[warnings["column"] == "eligible"]
        if int(frame["eligible"].sum()) >= rules.size or said.empty:
            return ""
        problem, fix = str(said.iloc[0]["problem"]), str(said.iloc[0]["fix"])
        do = TOO_FEW_ON_PAGE.get(fix, fix)
        return f"{problem[:1].upper()}{problem[1:]}. {do}"

    @web.post("/s/<sid>/choose")
    def choose(sid: str) -> Response:
        session = get(sid)
        try:
            rules, params = rules_from_form(request.form, session.rules)
        except FormError as error:  # said on the form itself, every change typed kept
            return overview_page(sid, session, session.rules, session.params, typed=request.form, problems=error)
        except SelectorError as error:
            return message("Check the rules", error.message, url_for("overview", sid=sid), back_text="Back", step=2)
        if not params.relax and (unmet := unmet_on_form(rules, app.profile_of(session.caseload, rules))):
            # Said on the form, by the fields that set them, as a number it does not take is: on a
            # page of its own, in column codes, its Back lost every change typed.
            return overview_page(sid, session, rules, params, typed=request.form, problems=unmet)
        if _recorded(session) and not request.form.get("leave_calls"):
            # Calls recorded over days would go with one click, and a new cohort drawn in place
            # of the one the families were asked about: only when the inspector says so.
            return overview_page(sid, session, rules, params, leave_error=True)
        session.rules, session.params = rules, params
        session.job, session.week, session.undo, session.last_change, session.pending = Job(), None, [], "", None
        threading.Thread(target=_run_job, args=(session,), daemon=True).start()
        return redirect(url_for("job", sid=sid), code=303)

    @web.get("/s/<sid>/job")
    def job(sid: str) -> Response:
        session = get(sid)
        current = session.job
        if current is None:
            return redirect(url_for("overview", sid=sid), code=303)
        if not current.done:
            return page("job.html", title="Choosing the cohort", step=3, step_text=current.step,
                        url=url_for("cancel", sid=sid), here=url_for("job", sid=sid))
        if current.error and (conflicting := rules_named(session.rules, current.conflicts)):
            # Rules each met alone that no cohort meets together (counting children per rule did
            # not show it before the choice): said in the form's words, not in column codes.
            said = "The cohort could not be chosen: these rules cannot all be met together."
            return message("No cohort", PROBLEM_LINE.join([said, *conflicting]), url_for("overview", sid=sid), 200,
                           back_text="Back to the rules", step=3,
                           remedies=['Change one of them, or tick "drop the fewest", and choose again.'])
        if current.error:
            return message("No cohort", "The cohort could not be chosen.", url_for("overview", sid=sid), 200,
                           detail=current.error, back_text="Back to the rules", step=3)
        if session.week is None and current.solution is not None:
            session.week = app.start_week(session.caseload, current.solution, session.sources)
        return redirect(url_for("result", sid=sid), code=303)

    @web.post("/s/<sid>/cancel")
    def cancel(sid: str) -> Response:
        session = get(sid)
        if session.job is not None:
            session.job.cancel.set()
        return redirect(url_for("job", sid=sid), code=303)

    @web.get("/s/<sid>/result")
    def result(sid: str) -> Response:
        session = get(sid)
        week = week_of(session)
        solution = week.solution
        everyone = app.calls(week)
        history = app.history(week)
        cohort = [c for c in everyone if c.in_cohort]
        # Every family agreed: the calls are done, and reserves called meanwhile wait to hear.
        complete = app.cohort_complete([c.state for c in cohort])
        return page("result.html", title="Consent calls", step=4, wide=True, sid=sid, solution=solution,
                    score_text=app.score_sentence(solution), cohort=cohort, complete=complete,
                    dropped=[app.dropped_in_words(name) for name in solution.dropped],
                    reserves_called=[c for c in everyone if not c.in_cohort and c.state in app.WAITING]
                    if complete else [],
                    seed_text=app.seed_sentence(solution.params.seed, solution.params.seed_source,
                                                solution.params.seed_phrase, on_page=True,
                                                replacing=bool(solution.lottery and solution.lottery.kept)),
                    foreseen_text=(app.foreseen_sentence(solution.lottery, solution.rules.size, on_page=True)
                                   if solution.lottery is not None else ""),
                    lottery_text=(app.lottery_sentence(solution.lottery, bool(solution.dropped))
                                  if solution.lottery is not None else ""),
                    reserves=[c for c in everyone if not c.in_cohort], calls=everyone,
                    released=app.released_calls(week),
                    last_change=session.last_change, can_undo=bool(session.undo), changes=len(session.undo),
                    history=history, not_downloaded=max(0, len(history) - session.downloaded),
                    chase_after=app.CHASE_AFTER_DAYS)

    @web.post("/s/<sid>/consent")
    def consent(sid: str) -> Response:
        session = get(sid)
        week = week_of(session)
        child, state = request.form.get("child_id", ""), request.form.get("state", "")
        try:
            updated = app.record_call(week, child, state, request.form.get("note", ""))
        except SelectorError as error:
            return message("Check the call", error.message, url_for("result", sid=sid), back_text="Back", step=4)
        event = updated.consent[-1]
        change(session, updated, f"{event.child_id}: {event.state}.")
        if event.state in app.SAID_NO and event.child_id in week.solution.cohorts[0].members:
            return offer_page(session, sid, event.child_id)  # offer the best reserve at once
        return redirect(url_for("result", sid=sid), code=303)

    def offer_page(session: Session, sid: str, child: str, relax: bool = False) -> Response:
        week = week_of(session)
        try:
            offered = app.offer(week, child, relax=relax)
        except SelectorError as error:
            if error.exit_code == 2:
                return message("Not in the cohort", error.message, url_for("result", sid=sid), back_text="Back",
                               step=4)
            conflicting = rules_named(week.solution.rules,
                                      error.conflicts if isinstance(error, InfeasibleSelectionError) else ())
            if conflicting:  # said in the form's words, with what the page can do about it
                said = ("No child can take this slot: with the other members kept and the families who said no "
                        "left out, these rules cannot all be met.")
                # (Choosing a new cohort with "drop the fewest" ticked would not do: the declined child
                # is still in the list, so the rule it kept can be kept, and it is chosen again.)
                relaxing = not relax and not week.solution.params.relax
                remedy = ("The cohort was chosen with every rule kept, so a replacement keeps them too unless you "
                          "ask: the button below fills the slot dropping the fewest of the lowest-priority rules "
                          "that stand in the way, and the other members keep their slots."
                          if relaxing else
                          "Another child can come in only if a rule changes: under \u201cBack to the rules\u201d, "
                          "change it and choose a new cohort (download the run folder first: it keeps every call).")
                action = ({"url": url_for("offer", sid=sid), "fields": {"child_id": child, "relax": "1"},
                           "label": "Find a replacement, dropping the fewest rules"} if relaxing else None)
                return message("No replacement", PROBLEM_LINE.join([said, *conflicting]), url_for("result", sid=sid),
                               200, back_text="Back", step=4, remedies=[remedy], action=action)
            return message("No replacement", "No child can take this slot with every rule met.",
                           url_for("result", sid=sid), 200, detail=error.explained(), back_text="Back", step=4)
        session.pending = offered
        newcomers = [c for c in app.calls(offered.week) if c.child_id in offered.newcomers]
        already = {c.child_id for c in app.released_calls(week)}
        releases = [c for c in app.released_calls(offered.week) if c.child_id not in already]
        dropped_now = [rule for rule in offered.week.solution.dropped if rule not in week.solution.dropped]
        return page("offer.html", title=f"Replace {offered.declined}?", step=4, sid=sid, offer=offered,
                    dropped=[app.dropped_in_words(name) for name in dropped_now],
                    said=("declined" if week.state_of(child) == "declined" else "could not be reached"),
                    newcomers=newcomers, releases=releases, before=week.solution.cohorts[0].score,
                    drawn=app.draw_sentence(lottery) if (lottery := offered.week.solution.lottery) else "",
                    after=offered.week.solution.cohorts[0].score,
                    proved=offered.week.solution.cohorts[0].status == "OPTIMAL")

    @web.post("/s/<sid>/offer")
    def offer(sid: str) -> Response:
        return offer_page(get(sid), sid, request.form.get("child_id", ""), relax=request.form.get("relax") == "1")

    @web.post("/s/<sid>/accept")
    def accept(sid: str) -> Response:
        session = get(sid)
        offered = session.pending
        if offered is None:
            return redirect(url_for("result", sid=sid), code=303)
        declined, newcomers = request.form.get("declined", ""), request.form.get("newcomers", "")
        if (declined, newcomers) != (offered.declined, " ".join(offered.newcomers)):
            # A page of an earlier offer (another tab, or Back): what it showed is not what
            # would be accepted, so its slot is offered afresh to be looked at again.
            return offer_page(session, sid, declined)
        change(session, offered.week, f"{', '.join(offered.newcomers)} now in slot {offered.slot} in place of "
                                      f"{offered.declined}; the other members kept their slots.")
        return redirect(url_for("result", sid=sid), code=303)

    @web.post("/s/<sid>/undo")
    def undo(sid: str) -> Response:
        """Take back the last change: the cohort and consent states as they were, the history kept."""
        session = get(sid)
        if not session.undo or session.week is None:
            return redirect(url_for("result", sid=sid), code=303)
        if request.form.get("changes") != str(len(session.undo)):
            # A page from before the latest change (another tab, or Back): its Undo meant an
            # earlier change, and would take back one it did not show.
            return message("Nothing undone", f"That page was out of date: the last change is now “{session.undo[-1][1]}” "
                           "Undo it from the calls page if that is what you meant.", url_for("result", sid=sid), 409,
                           back_text="Back to the calls", step=4)
        previous, what = session.undo.pop()
        session.week = app.undo(session.week, previous)
        session.last_change, session.pending = f"Undone: {what}", None
        return redirect(url_for("result", sid=sid), code=303)

    @web.get("/s/<sid>/download")
    def download(sid: str) -> Response:
        session = get(sid)
        week = week_of(session)
        archive = app.week_zip(week)
        session.downloaded = len(app.history(week))
        return send_file(io.BytesIO(archive), mimetype="application/zip", as_attachment=True,
                         download_name=download_name(dt.datetime.now(dt.UTC)))

    return web


def _recorded(session: Session) -> int:
    """How many calls and changes are recorded for the cohort chosen (choosing again leaves them)."""
    return len(app.history(session.week)) if session.week is not None else 0


def _host_name(host: str) -> str:
    """The name part of a Host header or origin: `127.0.0.1:8765` -> 127.0.0.1, `[::1]:80` -> ::1."""
    host = host.split("/", 1)[0]
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _carry_on_job(job: Carrying, saved: dict[str, Path | None]) -> None:
    """Check a download against the files it was made from, and make the session carrying its calls on."""
    run = saved["run"]
    assert run is not None
    unpacked = job.folder / "unpacked"
    try:
        run_dir = app.unpack_run_zip(run, unpacked, shown=run.name)
        week = app.carry_on(app.VerifyRequest(run_dir, saved["caseload"], saved["contacts"], _options(saved)),
                            only_given=True)  # never a file at a path the uploaded run.json names
        solution = week.solution
        job.session = Session(job.folder, week.caseload, week.sources, solution.rules, solution.params, week=week,
                              downloaded=len(app.history(week)),  # all of it came from the download
                              last_change=f"Carried on from {run.name}: the run was redone from its files and "
                                          "matches it; every call recorded so far is below.")
    except SelectorError as error:
        # Each file named as uploaded, not by where this page keeps it.
        stored = [(str(path), path.name) for path in saved.values() if path is not None]
        text = error.message
        for where, name in [*stored, (str(unpacked) + os.sep, "")]:
            text = text.replace(where, name)
        job.error, job.fix = text, error.fix
    except Exception as error:  # shown on the page, never as a stack trace
        job.error = f"Something went wrong: {type(error).__name__}: {error}"
    finally:
        if job.session is None:  # refused: nothing of it is kept, even before the page shows why
            shutil.rmtree(job.folder, ignore_errors=True)
        job.done = True


def _run_job(session: Session) -> None:
    """Choose in the background; Cancel stops it before its next step."""
    job = session.job
    assert job is not None

    def progress(step: str) -> None:
        if job.cancel.is_set():
            raise Cancelled()
        job.step = step

    try:
        job.solution = app.choose(session.caseload, session.rules, session.params, progress)
    except Cancelled:
        job.error = "Cancelled. Change the rules and choose again when ready."
    except InfeasibleSelectionError as error:
        job.error, job.conflicts = error.explained(), error.conflicts
    except SelectorError as error:
        job.error = error.explained()
    except Exception as error:  # shown on the page, never as a stack trace
        job.error = f"Something went wrong: {type(error).__name__}: {error}"
    finally:
        job.done = True


def _options(saved: dict[str, Path | None]) -> app.ReadOptions:
    """The files read through options that were uploaded."""
    return app.ReadOptions(**{name: saved[name] for name in OPTION_FILES_ON_PAGE})


def _read_with(sources: app.Sources | None) -> list[str]:
    """The files that helped read the caseload, as uploaded ("village.toml, the Annex A mapping file")."""
    if sources is None:
        return []
    options = sources.options
    return [f"{path.name}, the {app.READ_OPTION_FILES[name]}" for name in HELPER_FILES
            if (path := getattr(options, name)) is not None]


def _open_session(folder: Path, saved: dict[str, Path | None], sheet: str | None = None) -> Session:
    sources = app.Sources(caseload=saved["caseload"], contacts=saved["contacts"], sheet=sheet, options=_options(saved),
                          uploaded=True)
    caseload = app.load(sources)
    rules = app.read_rules(saved["rules"], caseload=caseload) if saved["rules"] else DEFAULT_RULES
    return Session(folder, caseload, sources, rules)


def _save(upload: Any, folder: Path, role: str) -> Path | None:
    if upload is None or not upload.filename:
        return None
    name = uploaded_name(upload.filename) or role
    (folder / role).mkdir()  # one folder per upload, so messages name the file as it was uploaded
    path = folder / role / name
    upload.save(path)
    return path


def uploaded_name(filename: str) -> str:
    r"""The name of an uploaded file as the inspector knows it, to keep it under and name it by:
    its spaces, accents and dashes kept (werkzeug's secure_filename made `Caseload Nov 2026.xlsx`
    `Caseload_Nov_2026.xlsx`, a name the run record and messages then gave, of no file the
    inspector has), without any folder or character a file name cannot hold ('' if none is left).

    >>> uploaded_name("C:\\Users\\me\\Année 2026 – liste.csv"), uploaded_name("../.."), uploaded_name("a:b?.csv")
    ('Année 2026 – liste.csv', '', 'a_b_.csv')
    >>> uploaded_name("con.csv"), uploaded_name("Console.csv"), uploaded_name("0 ."), uploaded_name("list. . ")
    ('_con.csv', 'Console.csv', '0', 'list')
    """
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if character in '<>:"|?*' else character for character in name if character.isprintable())
    name = name.strip().rstrip(". ")  # Windows drops a name's trailing dots and spaces
    if not name.strip("."):
        return ""
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    while len(name.encode()) > NAME_BYTES and stem:  # file systems hold 255 bytes a name
        stem = stem[:-1]
        name = f"{stem}.{suffix}" if suffix else stem.rstrip(". ")
    if len(name.encode()) > NAME_BYTES:  # an extension of itself too long to keep
        return ""
    if name.split(".")[0].strip().upper() in WINDOWS_DEVICES:  # `CON.csv` on Windows is the console
        name = f"_{name}"
    return name


def download_name(now: dt.datetime) -> str:
    """The zip's name, with when it was downloaded as England's clocks show it: a week's
    downloads are told apart when the calls are carried on another day (a browser named the
    second `selector-run (1).zip`, and either could be given back as the latest).

    >>> download_name(dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.timezone.utc))
    'selector-run 2026-07-01 14.05.zip'
    """
    return f"selector-run {now.astimezone(zoneinfo.ZoneInfo(app.SHOWN_ZONE)):%Y-%m-%d %H.%M}.zip"


NAME_BYTES = 200
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                             *(f"LPT{i}" for i in range(1, 10))})



def serve(host: str, port: int, open_browser: bool) -> None:
    """Run the app until stopped (Ctrl+C, SIGTERM or SIGHUP: the process's stop handlers raise
    in here); the upload folder is removed on the way out.

    Raises:
        InputError: nothing can listen at that address and port (in use, or not this computer's);
            nothing is made.
    """
    listening = _listen(host, port)
    workdir = Path(tempfile.mkdtemp(prefix="selector-web-"))
    try:
        bound = listening.getsockname()[1]  # the port chosen when 0 was asked for
        page = create_app(workdir, host)
        server = make_server(host, bound, page, threaded=True, fd=listening.fileno())
        listening.close()  # the server holds its own copy
        url = f"http://{host}:{bound}/"
        print(f"selector is serving {url} (Ctrl+C stops it and removes the uploads)", flush=True)
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(url,)).start()
        try:
            server.serve_forever()
        except Interrupted as stop:
            # The page keeps nothing: calls recorded since the last download go with it. Said at
            # the stop, where the user is, so that they are recorded again rather than missed.
            if note := lost_calls_note(calls_not_downloaded(page.config["SELECTOR_SESSIONS"])):
                print(note, file=sys.stderr, flush=True)
            stop.said = SERVER_STOPPED
            raise
        finally:
            server.server_close()
    finally:
        listening.close()
        shutil.rmtree(workdir, ignore_errors=True)


# A stop is how the page ends: said as that, not as a run cut short ("nothing was written").
SERVER_STOPPED = "Stopped: the page is closed and its uploads were removed."


def calls_not_downloaded(sessions: dict[str, Session]) -> int:
    """How many calls and changes, over every upload, are in no download yet."""
    return sum(max(0, len(app.history(s.week)) - s.downloaded) for s in sessions.values() if s.week is not None)


def lost_calls_note(count: int) -> str:
    """What a stop says of calls in no download yet ('' for none)."""
    if not count:
        return ""
    what = "1 call or change" if count == 1 else f"{count} calls and changes"
    return (f"Note: {what} recorded on the page {'was' if count == 1 else 'were'} in no download yet and went "
            "with it (the page keeps nothing once it stops). Record them again: upload the last download on the "
            "page to carry the calls on, or use selector consent on that run folder.")


def _listen(host: str, port: int) -> socket.socket:
    """A socket listening at the address, bound here so that a port in use or an address that is
    not this computer's is said in selector's words (the server library prints and exits)."""
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise InputError(f"{host}: no such address ({error.strerror}).", "bad_host") from None
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server library does
    try:
        listening.bind(address)
        listening.listen(128)
    except OSError as error:
        listening.close()
        if error.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} on {host} is in use by another program (if it is selector, its page is "
                             f"http://{host}:{port}/).", "port_in_use") from None
        raise InputError(f"cannot listen on {host}, port {port}: {error.strerror}.", "bad_host") from None
    return listening
