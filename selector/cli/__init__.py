"""The command line: each command parses its options, calls one use case of `app`, and shows
the result (show.py). Errors are caught once (`reports_errors`) and shown with the flag that
fixes them; the options shared by several commands are in options.py.

Importing this package costs only click: `app` loads each use case when a command first uses
it, and pandas, the solver, the batch runner and the web page come with the use cases that need
them (`selector --help` answers at once). The program starts in `launch.py`, which handles stops
before anything is imported.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__, app
from ..contract.defaults import LOTTERY_WORK
from ..contract.errors import CaseloadValidationError, InputError
from ..contract.seeds import SEED_LIMIT
from .options import (
    SeedRange,
    SelectorGroup,
    caseload_options,
    date_option,
    existing_file,
    moved_options,
    optional_caseload_options,
    output_formats,
    search_options,
    seed_source,
)
from .show import (
    FLAG_HINTS,
    SelectorClickError,
    certificate_line,
    chances_range,
    children,
    echo_batch_remedies,
    echo_failures,
    echo_profile,
    echo_result,
    echo_warnings,
    progress_bar,
    reports_errors,
    stage_line,
    write_failures,
)


@click.group(cls=SelectorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="selector")
def main() -> None:
    """Choose the children and young people for the tracking meetings of an area SEND inspection.

    \b
    Start with the sample data:
      selector validate data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector select data/sample/caseload.csv --contacts data/sample/contacts.csv --out runs/demo
    """


@main.command(no_args_is_help=True)
@caseload_options
@click.option("--failures", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="OUT.csv|OUT.xlsx", help="Write the full table of problems here (a workbook when it ends .xlsx).")
@reports_errors
def validate(sources: app.Sources, failures: Path | None) -> None:
    """Check a caseload (and contacts) against the data contract.

    Prints a summary and the first problems; exits 0 when the data can be used, 2 when not.

    \b
    Example:
      selector validate data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector validate caseload.xlsx --sheet "List" --failures problems.csv
      selector validate --list1 list1.csv --list2 list2.csv --contacts contacts.csv
    """
    try:
        caseload = app.load(sources)
    except CaseloadValidationError as error:
        echo_failures(error.failures)
        if failures is not None:
            write_failures(failures, error.failures, sources)
        raise SelectorClickError(error) from None
    if failures is not None:
        write_failures(failures, caseload.warnings, sources)
    click.echo(app.describe(caseload))
    click.echo(f"0 errors, {len(caseload.warnings)} warning(s)")
    echo_warnings(caseload.warnings)
    if int(caseload.frame["eligible"].sum()) < app.DEFAULT_RULES.size:
        click.echo(f"OK: the caseload meets the contract, but too few children can be chosen: "
                   f"{caseload.held_back or 'the list is that short'}.")
    else:
        click.echo("OK: the caseload meets the contract.")


@main.command(no_args_is_help=True)
@caseload_options
@click.option("--rules", "rules_file", type=existing_file, default=None, metavar="FILE.toml",
              help="Rules to check the caseload against (default: the usual rules).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Also write the profile, with charts, as a self-contained HTML page.")
@click.option("--force", is_flag=True, help="Overwrite an existing --html file.")
@reports_errors
def profile(sources: app.Sources, rules_file: Path | None, html_out: Path | None, force: bool) -> None:
    """Show what the caseload offers on each dimension, and the room for each hard rule.

    \b
    Example:
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv --html profile.html
    """
    if html_out is not None and html_out.exists() and not force:
        raise InputError(f"{html_out}: already exists. Choose another name, or add --force.", "exists")
    result = app.profile(sources, rules_file)
    click.echo(app.describe(result.caseload))
    if len(result.caseload.warnings):  # what a warning says changes what the counts below mean
        click.echo(f"{len(result.caseload.warnings)} warning(s) (see `selector validate`)")
    short = app.too_few(result.caseload, result.rules)
    if short is not None:  # every rule below fails for this one reason
        hint = FLAG_HINTS.get(short.code, short.fix)
        click.echo(f"Note: {short.message}\n  how: {hint[:1].lower()}{hint[1:]}")
    echo_profile(result)
    if html_out is not None:
        app.write_profile_page(result, html_out, force, sources)
        click.echo(f"Profile with charts: {html_out}")


@main.command()
@click.option("--rows", type=click.IntRange(min=1), required=True, help="Children in the caseload.")
@click.option("--annex-a", "annex_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="OUTDIR", help="Write Annex A lists instead: list1.csv, list2.csv, contacts.csv and "
              "annex_a.xlsx (both lists as sheets) in OUTDIR.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same caseload.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Caseload file to write (.csv, .xlsx or .parquet).")
@click.option("--contacts-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Write contacts here (keyed by practitioner_id); without it "
              "the contacts go into the caseload's practitioner_* columns.")
@click.option("--area", default="Northshire", show_default=True, help="Name of the imaginary area.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@reports_errors
def sample(rows: int, annex_dir: Path | None, seed: int, out: Path | None, contacts_out: Path | None, area: str,
           force: bool) -> None:
    """Write a synthetic caseload that looks like a real English local area.

    \b
    Example:
      selector sample --rows 3000 --seed 1 --out data/sample/caseload.csv \\
          --contacts-out data/sample/contacts.csv
      selector sample --rows 400 --seed 1 --annex-a data/sample/annex_a
    """
    if annex_dir is not None:
        list1, list2 = app.write_annex_sample(rows, seed, area, annex_dir, force)
        click.echo(f"Wrote List 1 ({list1} EHC plans), List 2 ({list2} at SEN support), contacts and "
                   f"a workbook of both lists to {annex_dir}/")
        return
    if out is None:
        raise click.UsageError("give --out FILE (or --annex-a OUTDIR).")
    written, practitioners = app.write_sample(rows, seed, out, contacts_out, area, force)
    click.echo(f"Wrote {children(written)} to {out}")
    if contacts_out is not None:
        click.echo(f"Wrote {practitioners} practitioner{'' if practitioners == 1 else 's'} to {contacts_out}")


@main.command("annex-a-mapping")
def annex_a_mapping() -> None:
    """Print the Annex A mapping tables as TOML, to edit and pass with --mapping.

    \b
    Example:
      selector annex-a-mapping > mapping.toml
    """
    click.echo(app.DEFAULT_MAPPING_TOML, nl=False)


@main.command("default-rules")
def default_rules() -> None:
    """Print the default rules as a TOML file to edit and pass with --rules.

    \b
    Example:
      selector default-rules > my-rules.toml
    """
    click.echo(app.default_rules_toml(), nl=False)


@main.command(no_args_is_help=True)
@caseload_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Run folder to write (must be new or empty, unless --force).")
@search_options
@reports_errors
def select(sources: app.Sources, out: Path, rules_file: Path | None, size: int | None, sets: int, max_overlap: int,
           seed: int | None, seed_phrase: str | None, slack: float, lottery_work: float, time_limit: float,
           workers: int, relax: bool, formats: str, force: bool, progress: bool | None) -> None:
    """Choose the tracking cohort, ranked alternatives and reserves; write a run folder.

    \b
    Example:
      selector select data/sample/caseload.csv --contacts data/sample/contacts.csv --out runs/demo
      selector select caseload.xlsx --rules my-rules.toml --seed 7 --format xlsx --out runs/area
      selector select caseload.csv --contacts contacts.csv --slack 5 --out runs/less-predictable
      selector select caseload.csv --contacts contacts.csv --seed-phrase "07 19 23 41 44" --out runs/week2
      selector select --list1 list1.csv --list2 list2.csv --contacts contacts.csv --out runs/annex
    """
    params = app.SelectionParams(seed=seed or 0, seed_source=seed_source(seed, seed_phrase),
                                 seed_phrase=seed_phrase or "", time_limit_s=time_limit, workers=workers, sets=sets,
                                 max_overlap=max_overlap, relax=relax, slack=slack, lottery_work=lottery_work)
    result = app.select(app.SelectRequest(sources=sources, out=out, rules_file=rules_file, size=size, params=params,
                                          formats=output_formats(formats), force=force),
                        progress=stage_line if (sys.stderr.isatty() if progress is None else progress) else None)
    click.echo(app.describe(result.caseload), err=True)
    if len(result.caseload.warnings):
        click.echo(f"{len(result.caseload.warnings)} warning(s) (see `selector validate`)", err=True)
    # Of the file's rules as written: a rule of its own that --relax dropped still said its column's value.
    left_out = app.defaults_left_out_said(rules_file, app.read_rules(rules_file)) if rules_file else ""
    if left_out:
        click.echo(left_out, err=True)
    echo_result(result.solution, result.caseload, out)


@main.command(no_args_is_help=True)
@optional_caseload_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Audit folder to write (must be new or empty, unless --force).")
@click.option("--rules", "rules_file", type=existing_file, default=None, metavar="FILE.toml",
              help="Rules file (default: the usual rules).")
@click.option("--draws", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Lotteries to draw (seeds --seed onwards).")
@click.option("--seed", type=SeedRange(phrase=False), default=0, show_default=True,
              help="The first draw's seed.")
@click.option("--slack", type=click.FloatRange(min=0, max=100, max_open=True), default=0.0, show_default=True,
              metavar="P", help="Audit the lottery that --slack P gives select.")
@click.option("--lottery-work", type=click.FloatRange(min=0), default=LOTTERY_WORK, show_default=True,
              metavar="UNITS", help="Work for making the lottery fairest (as select's).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=600.0, show_default=True,
              help="Seconds each lottery may take at most.")
@click.option("--lottery-from", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              metavar="RUN_DIR", help="Audit the lottery a select run kept (its lottery.json) instead of working it "
                                      "out again. Alone, the caseload, contacts, rules, slack and work are the run's "
                                      "(read where its run.json names them); with a CASELOAD, give the run's.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the audit on a Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT); a worker "
                   "writes --out, which must be a folder it shares. Needs pip install 'selector[cluster]'.")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@reports_errors
def audit(sources: app.Sources | None, out: Path, rules_file: Path | None, draws: int, seed: int, slack: float,
          lottery_work: float, time_limit: float, lottery_from: Path | None, scheduler: str | None,
          force: bool) -> None:
    """Test the lottery that select draws cohort 1 from: draw it many times and compare how often
    each type of child is drawn with its computed chance; shuffle the rows and check that no chance
    changes. Writes audit.md, audit.html, audit.csv (per type), chances.csv and charts.

    \b
    Example:
      selector audit data/sample/caseload.csv --contacts data/sample/contacts.csv --out runs/audit
      selector audit caseload.csv --contacts contacts.csv --draws 5000 --slack 5 --out runs/audit-slack
      selector audit --lottery-from runs/demo --out runs/audit-demo
      selector audit /shared/caseload.csv --out /shared/audit --scheduler tcp://10.0.0.5:8786
    """
    if sources is None:
        if lottery_from is None:
            raise click.UsageError("give a CASELOAD file, the Annex A lists with --list1 and/or --list2, a SEN2 "
                                   "return with --sen2, or a run folder with --lottery-from RUN_DIR.")
        context = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" for name in ("rules", "slack", "lottery_work")
                 if context.get_parameter_source("rules_file" if name == "rules" else name)
                 is click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"{', '.join(given)}: with --lottery-from alone the run's own are audited; leave "
                                   f"{'it' if len(given) == 1 else 'them'} out, or give the run's caseload too.")
        request = app.audit_of_run(lottery_from, out, draws=draws, seed=seed, time_limit_s=time_limit, force=force)
    else:
        params = app.SelectionParams(seed=seed, time_limit_s=time_limit, slack=slack, lottery_work=lottery_work)
        request = app.AuditRequest(sources=sources, out=out, rules_file=rules_file, params=params, draws=draws,
                                   force=force, lottery_from=lottery_from)
    if scheduler:
        from ..batch import audit_on_cluster  # Dask only when a cluster is named

        result = audit_on_cluster(request, scheduler)
    else:
        result = app.audit(request)
    click.echo(app.describe(result.caseload), err=True)
    left_out = app.defaults_left_out_said(rules_file, app.read_rules(rules_file)) if sources and rules_file else ""
    if left_out:  # (the audit read the file already: it is read again for its rules)
        click.echo(left_out, err=True)
    if result.lottery_from is not None:
        click.echo(f"The lottery audited: the one {result.lottery_from} kept (lottery.json), not worked out again")
    verdict = "DEVIATION FOUND" if result.deviates else "no deviation found"
    click.echo(f"{draws} draws against the computed chances: {verdict} (overall p = {result.audit.overall_p:.3g}; "
               f"smallest per-type p x {len(result.audit.types)} types = {result.audit.smallest_p_adjusted:.3g})")
    click.echo(f"Shuffled rows: largest change in any chance {result.shuffle_difference:.3g}")
    click.echo(f"Cohorts drawn that break a rule or fall short of {result.lottery.threshold}: {result.off_cohorts}")
    lottery = result.lottery
    click.echo(f"Lottery: {children(lottery.possible)} could be drawn; {chances_range(lottery)}")
    click.echo(certificate_line(lottery))
    click.echo(f"Results in {out}/ (audit.html, audit.md, audit.csv, chances.csv)")


@main.command(no_args_is_help=True)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--decline", "declined", multiple=True, metavar="CHILD_ID",
              help="A cohort 1 member whose family declined or cannot be reached (repeatable; required).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="New run folder (default: RUN_DIR-replace-N beside it).")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--relax", is_flag=True,
              help="When no child can fill the freed slot(s) with every rule kept, drop the fewest "
                   "lowest-priority rules that stand in the way (a run chosen with --relax always does).")
@click.option("--caseload", "caseload_file", type=existing_file, default=None, metavar="FILE",
              help="The run's caseload where it is now (moved, or a run made on the web page); its SHA-256 "
                   "must match the run's.")
@click.option("--contacts", "contacts_file", type=existing_file, default=None, metavar="FILE",
              help="The run's contacts file where it is now (checked the same way).")
@moved_options
@reports_errors
def replace(run_dir: Path, declined: tuple[str, ...], out: Path | None, force: bool, relax: bool,
            caseload_file: Path | None, contacts_file: Path | None, moved: app.ReadOptions) -> None:
    """A family declined: keep the rest of cohort 1, draw who fills the freed slot(s).

    Reads the run folder's run.json, re-reads the same caseload (it must be unchanged), proves
    the best score the freed slots can reach, and draws the newcomers by the run's seed from the
    fairest lottery over every way to fill them that reaches it (with one slot, the first of its
    reserves who still can; families who said no never come in). Writes a new run folder that
    records what was replaced and why, with every child's chance; the old folder is kept.

    \b
    Example:
      selector replace runs/demo --decline C004431
      selector replace runs/demo --decline C004431 --decline C001794 --out runs/demo-2
      selector replace runs/demo --decline C004431 --relax
      selector replace downloaded-run --decline C004431 --caseload caseload.csv --contacts contacts.csv
      selector replace downloaded-run --decline A1234 --list1 list1.csv --list2 list2.csv --contacts contacts.csv
    """
    if not declined:  # (not required by click, so that a child typed without it is said: options.py)
        raise click.MissingParameter(param_type="option", param_hint="'--decline'")
    result = app.replace_in_run(app.ReplaceRequest(run_dir, declined, out, force, caseload_file, contacts_file,
                                                   moved, relax))
    click.echo(f"Replaced {', '.join(result.declined)} with {', '.join(result.newcomers)}; "
               "the other members kept their slots.")
    echo_result(result.solution, result.caseload, result.out, before=result.score_before)
    if result.agreed:
        # Replacing a family that said yes is most likely a slip of the id: say so (nothing is lost).
        families = ", ".join(result.agreed)
        click.echo(f"Note: the latest call {run_dir} records for the family of {families} is that they agreed; the "
                   f"replacement was made as asked. If the id was a slip, {run_dir} is unchanged: go on there.")
    _released_line(result.released, "the replacement", result.out, run_dir)
    if result.still_said_no:
        # Most often the other decline of the week, or a slip of the id: the slot stays to fill.
        said = ", ".join(f"{child} (slot {slot}) {state}" for slot, child, state in result.still_said_no)
        one = len(result.still_said_no) == 1
        click.echo(f"Note: {run_dir} records that the family of {said}, and "
                   f"{'that child is' if one else 'those children are'} still in cohort 1. To fill "
                   f"{'that slot' if one else 'those slots'} too: selector replace {result.out} "
                   + " ".join(f"--decline {child}" for _, child, _ in result.still_said_no))
    if result.earlier:
        # Replacing from a run already replaced starts again from it: what was declined in the
        # newer folder and not here is not declined here, and a family that said no could be
        # called again; the calls recorded there are not carried either.
        newest = run_dir.parent / result.earlier[-1][0]
        made = ", ".join(f"{n} (declined there: {', '.join(d)})" for n, d in result.earlier)
        missing = result.brought_back
        more = " ".join(f"--decline {c}" for c in result.beyond_newest)
        so = (f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not declined in {result.out}" if missing
              else f"the calls recorded in {newest} are not in {result.out}")
        then = (f"To go on from the newest instead: selector replace {newest} {more}" if more else
                f"Every family declined here is declined in {newest} already: carry the week on there.")
        click.echo(f"Note: `replace` had made {made} from {run_dir} before; this replacement starts again from "
                   f"{run_dir}, so {so}. {then}")


@main.command(no_args_is_help=True)
@click.argument("run_dir", metavar="RUN_DIR", type=click.Path(path_type=Path))
@click.option("--caseload", "caseload_file", type=existing_file, default=None, metavar="FILE",
              help="The caseload the run was made from, if it is not where run.json says (its SHA-256 must match).")
@click.option("--contacts", "contacts_file", type=existing_file, default=None, metavar="FILE",
              help="The contacts file the run was made from, if it is not where run.json says.")
@moved_options
@reports_errors
def verify(run_dir: Path, caseload_file: Path | None, contacts_file: Path | None, moved: app.ReadOptions) -> None:
    """Check a run folder: its files are those its run.json hashed, and redoing the run from
    run.json and the inputs (the same SHA-256) gives the same lottery, chances, cohorts,
    reserves and consent record, byte for byte.

    Prints VERIFIED, or NOT VERIFIED and each difference; exits 0 when verified, 1 when not, 2
    when an input is missing or differs. RUN_DIR may also be the zip the web page's Download
    gave, as it was sent.

    \b
    Example:
      selector verify runs/demo
      selector verify selector-run --caseload caseload.csv --contacts contacts.csv
      selector verify "selector-run 2026-12-07 14.02.zip" --caseload caseload.csv --contacts contacts.csv
      selector verify selector-run --list1 list1.csv --list2 list2.csv --contacts contacts.csv
    """
    result = app.verify_run(app.VerifyRequest(run_dir, caseload_file, contacts_file, moved))
    for limit in result.limits:
        click.echo(f"Note: {limit}.")
    if result.verified and result.redone:
        click.echo(f"VERIFIED: {run_dir}: the run was redone from its inputs, rules and seed and every file "
                   f"matches ({result.compared} files).")
        return
    if result.verified:
        click.echo(f"HASHES MATCH: {run_dir}: every file matches the SHA-256 run.json records "
                   f"({result.compared} files); the run itself was not redone.")
        return
    click.echo(f"NOT VERIFIED: {run_dir}: {len(result.differences)} difference(s):")
    for difference in result.differences:
        click.echo(f"  {difference}")
    if result.redone and result.matching:
        # A workbook opened and saved in Excel differs alone: the rest of the run still stands.
        click.echo(f"The other {result.matching} file(s) match the record and the redone run, byte for byte.")
    raise SystemExit(1)


@main.command(no_args_is_help=True)
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("child_id", required=False)
@click.argument("state_words", metavar="[STATE]", nargs=-1)
@click.option("--note", default="", metavar="TEXT", help="A short note kept with the change (no names).")
@reports_errors
def consent(run_dir: Path, child_id: str | None, state_words: tuple[str, ...], note: str) -> None:
    """Record where a family's consent stands: to-ask, asked, agreed, declined or unreachable.
    With the run folder alone, show where every family of cohort 1 stands (nothing is written).

    The change is added to the run record's history (nothing is overwritten) and shown in
    contacts.csv. After a decline, or a family that cannot be reached, the slot's reserves are
    offered, best first; `selector replace` then fills the slot.

    \b
    Example:
      selector consent runs/demo C004431 asked
      selector consent runs/demo C004431 declined --note "by phone, 24 Nov"
      selector consent runs/demo
    """
    if child_id is None:
        if note:
            raise click.UsageError("--note goes with a change: give the child and the state too.")
        _show_consent(run_dir, app.consent_status(run_dir))
        return
    if not state_words:
        raise click.UsageError(f"give the state for {child_id}: to-ask, asked, agreed, declined or unreachable.")
    state = _state_typed(run_dir, child_id, state_words)
    result = app.record_consent(app.ConsentRequest(run_dir, child_id, state, note))
    event = result.event
    click.echo(f"{event.child_id} ({result.role}): {event.state}" + (f" ({event.note})" if event.note else "") + ".")
    # A member's slot, or those of a reserve who said no; another slot freed before is filled with
    # it (one replace for both, not this alone).
    _to_fill(run_dir, result.offered, result.states, result.no_child_can)
    if result.slots_agreed and event.state in ("asked", "agreed"):
        slots = ", ".join(f"slot {slot} ({member})" for slot, member in result.slots_agreed)
        click.echo(f"Note: the family of {slots} agreed already, so {event.child_id} is needed only if "
                   f"{'that' if len(result.slots_agreed) == 1 else 'one of them'} changes; check the id if the "
                   "call was meant for another child.")
    _slot_lines(result.states, result.waiting)
    _chase_line(result.waiting)
    if result.complete:
        _complete_lines(run_dir, len(result.states), result.reserves_called)
    _newer_runs(run_dir, result.replaced_by)


def _state_typed(run_dir: Path, child_id: str, words: tuple[str, ...]) -> str:
    """The state as typed without quotes: `to ask` and `said yes` are read (or suggested) as one
    state; a state followed by more words is a note typed without --note."""
    state = " ".join(words)
    if len(words) == 1 and _is_state(child_id) and not _is_state(state):
        # `consent runs/demo declined C004431`: the call said in the order one says it aloud.
        raise click.UsageError(f"the child goes before the state: selector consent {shlex.quote(str(run_dir))} "
                               f"{state} {child_id}")
    if len(words) > 1:
        try:
            app.consent_state(state)
        except app.InputError as together:
            try:
                app.consent_state(words[0])
            except app.InputError:
                raise together from None  # the words together, with the state they most likely mean
            note = " ".join(words[1:])
            raise click.UsageError(f"the state is {words[0]!r}, and a note goes with --note, in quotes: selector "
                                   f'consent {run_dir} {child_id} {words[0]} --note "{note}"') from None
    return state


def _is_state(word: str) -> bool:
    """Whether a word is a consent state as `consent` takes it (`declined`, `to ask`)."""
    try:
        app.consent_state(word)
    except app.InputError:
        return False
    return True


def _complete_lines(run_dir: Path, size: int, reserves_called: tuple[tuple[str, str], ...]) -> None:
    """Every family of cohort 1 agreed: the week's calls are done, and the reserves' families
    called meanwhile wait to hear until someone tells them (recorded as "to ask" once told, they
    leave this note)."""
    click.echo(f"All {size} families of cohort 1 agreed: the cohort is complete.")
    if reserves_called:
        one = len(reserves_called) == 1
        who = ", ".join(f"{child} (family {state})" for child, state in reserves_called)
        click.echo(f"Note: reserve{'' if one else 's'} {who} {'is' if one else 'are'} needed only if one of the "
                   f"{size} families changes its mind. {_tell_families(reserves_called, run_dir, ' (in contacts.csv)')}")


def _newer_runs(run_dir: Path, replaced_by: tuple[str, ...]) -> None:
    """Where the week went on, when `replace` made a run folder from this one."""
    if replaced_by:
        where = ", ".join(str(run_dir.parent / name) for name in replaced_by)
        there = ("there (calls recorded here are not carried into it)" if len(replaced_by) == 1 else
                 "in the one in use (calls recorded here are not carried into them)")
        click.echo(f"Note: `replace` made {where} from this run: record the calls {there}.")


def _released_line(released: tuple[tuple[str, str], ...], by: str, run_dir: Path, listed_in: Path | None = None
                   ) -> None:
    """Families called as reserves whose child a replacement took off the reserves: they wait to
    hear until someone tells them; recorded as "to ask" once told, they leave this note.
    `listed_in`: the run folder whose contacts.csv still lists their practitioners."""
    if released:
        who = ", ".join(f"{child} (family {state})" for child, state in released)
        one = len(released) == 1
        its = "is no longer a reserve" if one else "are no longer reserves"
        where = f" (in {listed_in / 'contacts.csv'})" if listed_in is not None else ""
        click.echo(f"Note: {who} {its}: {by} drew every slot's reserves again. "
                   f"{_tell_families(released, run_dir, where)}")


def _tell_families(families: tuple[tuple[str, str], ...], run_dir: Path, where: str) -> str:
    """How families waiting to hear (called as reserves, and no longer needed) are told, and that
    telling them is recorded ("to ask"), so that they leave the note that names them."""
    if len(families) == 1:
        return (f"Ask the practitioner{where} to let the family know, then record it: selector consent {run_dir} "
                f"{families[0][0]} to-ask")
    return (f"Ask their practitioners{where} to let the families know, then record each: selector consent {run_dir} "
            "CHILD_ID to-ask")


def _slot_lines(states: tuple[tuple[int, str, str], ...], waiting: tuple[tuple[str, str, int], ...]) -> None:
    """Each slot of cohort 1: its member and where the family stands (when asked, if waiting)."""
    asked = {child: at for child, at, _days in waiting}
    numbered = len(str(len(states)))  # right-aligned, so a cohort of 10 or more stays in columns
    for slot, member, now in states:
        click.echo(f"  {slot:>{numbered}}. {member}  {now}" + _since(asked.get(member)))


def _since(at: str | None) -> str:
    """When a family not yet answering was asked, as a person reads a time."""
    return f" ({app.time_shown(at)})" if at else ""


def _chase_line(waiting: tuple[tuple[str, str, int], ...]) -> None:
    """Families asked long enough ago to chase: consent is asked for within about two days."""
    late = [(child, days) for child, _at, days in waiting if days >= app.CHASE_AFTER_DAYS]
    if late:
        who = ", ".join(f"{child} ({days} days)" for child, days in late)
        click.echo(f"No answer yet after {app.CHASE_AFTER_DAYS} days or more: {who}. Ask the practitioner to try "
                   "again, or record the family as unreachable so that the reserves are offered.")


def _offer_line(slot: str, offered: tuple[str, ...], no_child_can: tuple[str, ...] | None = None) -> None:
    """The reserves to offer for a slot whose family said no, best first. `no_child_can`: when no
    child can take the slot with every rule kept, the reserves the run found for it (every child
    who could; their families said no, or could not be reached)."""
    if offered:
        rest = f"; then {', '.join(offered[1:])}" if len(offered) > 1 else ""
        click.echo(f"Offered for {slot}: {offered[0]}{rest}.")
    elif no_child_can is not None:
        one = len(no_child_can) == 1
        why = (f"the only {'child' if one else 'children'} who could, {app.listed(list(no_child_can), 'and')}: "
               f"{'its family' if one else 'their families'} declined or could not be reached" if no_child_can
               else "the run found no reserve for it")
        click.echo(f"No child can take {slot} with every rule kept and the other members staying ({why}).")
    else:
        click.echo("No reserve is left for this slot; replace draws from the whole caseload.")


def _show_consent(run_dir: Path, status: app.ConsentStatus) -> None:
    """Where each family stands, what to offer, and the command that fills the freed slots."""
    if status.last is None:
        click.echo(f"Consent for cohort 1 of {run_dir}: nothing recorded yet.")
    else:
        changes = f"{status.changes} change{'s' if status.changes != 1 else ''}"
        click.echo(f"Consent for cohort 1 of {run_dir} ({changes} recorded, the latest at "
                   f"{app.time_shown(status.last)}):")
    _slot_lines(status.states, status.waiting)
    asked = {child: at for child, at, _days in status.waiting}
    for child, role, now in status.reserves:
        click.echo(f"Reserve {child} ({role}): {now}{_since(asked.get(child))}.")
    _released_line(status.released, "a replacement", run_dir)
    _chase_line(status.waiting)
    if status.complete:
        _complete_lines(run_dir, len(status.states), status.reserves_called)
    _to_fill(run_dir, status.offered, status.states, status.no_child_can)
    _newer_runs(run_dir, status.replaced_by)


def _to_fill(run_dir: Path, offered: tuple[tuple[int, str, tuple[str, ...]], ...],
             states: tuple[tuple[int, str, str], ...], no_child_can: tuple[tuple[str, tuple[str, ...]], ...]) -> None:
    """The reserves to offer for each slot of `offered` (or that no child can take it), then the
    replace that fills every slot whose family said no (none when nothing is offered)."""
    stuck = dict(no_child_can)
    for slot, member, reserves in offered:
        _offer_line(f"slot {slot}", reserves, stuck.get(member))
    if offered:
        _fill_lines(run_dir, [member for _slot, member, now in states if now in app.SAID_NO], tuple(stuck))


def _fill_lines(run_dir: Path, freed: list[str], no_child_can: tuple[str, ...] = ()) -> None:
    """The `replace` that fills the slots of `freed` (members whose families said no), in slot
    order (one slot that no child can take with every rule kept: with the rules relaxed)."""
    if len(freed) == 1 and freed[0] in no_child_can:
        click.echo(f"To fill it, dropping the fewest lowest-priority rules in the way: selector replace {run_dir} "
                   f"--decline {freed[0]} --relax")
    elif len(freed) == 1:
        click.echo(f"To fill the slot: selector replace {run_dir} --decline {freed[0]}")
    elif freed:
        # Each slot's reserves were drawn for that slot alone, with the other members kept; one
        # replace for several slots draws from every best way to fill them all, which may bring in
        # others (and can score more than filling them in turn).
        declines = " ".join(f"--decline {member}" for member in freed)
        click.echo(f"To fill the slots together: selector replace {run_dir} {declines}")
        click.echo(f"Note: filled together, the {len(freed)} slots' newcomers are drawn from every best way to fill "
                   "them all, so they may not be the reserves offered. To bring in a reserve as offered, fill one "
                   f"slot at a time: selector replace {run_dir} --decline {freed[0]} (then the next slot from the "
                   "folder it makes, where its reserves are offered again).")


@main.command(no_args_is_help=True)
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Folder for the runs (one folder per area) and summary.csv.")
@click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="Areas run at once, each in its own process.")
@click.option("--scenario-rules", "scenario_rules", type=existing_file, multiple=True, metavar="FILE.toml",
              help="Scenario mode: run every area under each of these rules files (repeatable).")
@click.option("--seeds", default="", metavar="LIST", help="Scenario mode: run every area with each seed, e.g. 1,2,3.")
@click.option("--sets", type=click.IntRange(min=1), default=5, show_default=True, help="Ranked cohorts per area.")
@click.option("--max-overlap", type=click.IntRange(min=0), default=3, show_default=True,
              help="CYP a cohort may share with each better-ranked cohort of its area.")
@click.option("--seed", type=SeedRange(phrase=True), default=None,
              help="Seed for rows without one (default: each area's run draws a secure random seed, recorded in "
                   "summary.csv and its run.json).")
@click.option("--seed-phrase", default=None, metavar="TEXT",
              help="For rows without a seed: each area's seed made from this phrase with its caseload's and "
                   "rules' SHA-256 (as select's), so a phrase agreed after the lists were sent fixes every draw.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds for each area's search (as select's).")
@click.option("--relax", is_flag=True, help="Relax impossible rules in every area.")
@click.option("--allow-missing-contact", is_flag=True,
              help="Keep children with no practitioner contact eligible in every area.")
@click.option("--format", "formats", default="csv", show_default=True, metavar="LIST",
              help="Extra outputs besides CSV for every area: xlsx, parquet (comma-separated).")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run the areas on a Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT) instead of "
                   "--jobs local processes. Needs pip install 'selector[cluster]'; --out must be a folder "
                   "every worker can write.")
@click.option("--audit", "audit_draws", type=click.IntRange(min=1), default=None, metavar="N",
              help="A national audit: audit each area's lottery with N draws (as `selector audit`) instead of "
                   "choosing a cohort; each area's folder gets the audit's files.")
@click.option("--establishments", type=existing_file, default=None, metavar="FILE",
              help="The Get Information About Schools extract, for every area: setting type from the URN "
                   "(a SEN2 return's placements, Annex A's URNs, a setting_id).")
@click.option("--mapping", type=existing_file, default=None, metavar="FILE.toml",
              help="An edited Annex A mapping (see `selector annex-a-mapping`), for every area.")
@click.option("--as-of", type=date_option, default=None, metavar="DATE",
              help="Annex A and SEN2: the date ages are taken at, for every area, as 2026-09-01, 01/09/2026 or "
                   "1 September 2026 (default today).")
@click.option("--keep-column", "keep_column", multiple=True, metavar="HEADER",
              help="Carry a column outside the data contract into every area's outputs (repeatable).")
@click.option("--slack", type=click.FloatRange(min=0, max=100, max_open=True), default=0.0, show_default=True,
              metavar="P", help="Let cohorts scoring within P% of each area's best into its lottery.")
@click.option("--lottery-work", type=click.FloatRange(min=0), default=LOTTERY_WORK, show_default=True,
              metavar="UNITS", help="Work for making each area's lottery fairest (as select's).")
@reports_errors
def batch(manifest: Path, out: Path, jobs: int, scenario_rules: tuple[Path, ...], seeds: str, sets: int,
          max_overlap: int, seed: int | None, seed_phrase: str | None, time_limit: float, relax: bool,
          allow_missing_contact: bool, formats: str, force: bool, scheduler: str | None, audit_draws: int | None,
          establishments: Path | None, mapping: Path | None, as_of: dt.datetime | None,
          keep_column: tuple[str, ...], slack: float, lottery_work: float) -> None:
    """Run many areas (or scenarios) in parallel, with progress and a summary.csv.

    MANIFEST is a CSV with columns area, caseload (or list1 and/or list2: Annex A as two
    files; or sen2: a SEN2 return) and optional contacts, rules, seed, establishments,
    mapping, ap_urns, as_of, sheet (paths relative to it; a cell given wins over the option of
    the same name; sheet: the workbook's sheet that holds the list), or a folder of caseloads (contacts from NAME_contacts.csv beside each). A
    caseload is read as `select` reads it: selector's columns, an Annex A workbook, or a SEN2
    return (its XML, or one CSV per module in a folder or a .zip). An area that fails is reported in
    summary.csv and the others carry on. Exit 0 when every area succeeded, 1 when any failed.

    \b
    Example:
      selector batch areas.csv --out runs/national --jobs 2
      selector batch sen2-returns --out runs/sen2 --establishments edubasealldata.csv
      selector batch areas.csv --out runs/what-if --scenario-rules strict.toml \\
          --scenario-rules relaxed.toml --seeds 1,2,3
      selector batch areas.csv --out /shared/runs/national --scheduler tcp://10.0.0.5:8786
      selector batch areas.csv --out runs/national-audit --audit 1000
    """
    seed_list = tuple(s.strip() for s in seeds.split(",") if s.strip())
    if not all(s.isdigit() and int(s) < SEED_LIMIT for s in seed_list):
        raise click.BadParameter(f"{seeds!r} is not a comma-separated list of whole numbers from 0 to "
                                 f"{SEED_LIMIT - 1}.", param_hint="--seeds")
    if len(set(map(int, seed_list))) < len(seed_list):
        raise click.BadParameter(f"{seeds!r} names a seed twice; each seed is one run of every area.",
                                 param_hint="--seeds")
    if seed_phrase is not None and audit_draws:
        raise click.UsageError("an audit's draws are numbered from --seed; a phrase makes no draw to audit.")
    if seed_phrase is not None and seed_list:
        raise click.UsageError("give --seeds or --seed-phrase, not both: each seed of --seeds is a run of every area.")
    params = app.SelectionParams(seed=seed or 0, time_limit_s=time_limit, sets=sets, max_overlap=max_overlap,
                                 relax=relax, seed_source=seed_source(seed, seed_phrase),
                                 seed_phrase=seed_phrase or "", slack=slack, lottery_work=lottery_work)
    items = app.plan_batch(manifest, out, params, rules_variants=scenario_rules, seeds=tuple(map(int, seed_list)),
                           formats=output_formats(formats), allow_missing_contact=allow_missing_contact,
                           audit_draws=audit_draws or 0,
                           read_options=app.ReadOptions(establishments=establishments, mapping=mapping,
                                                        as_of=as_of.date() if as_of else None),
                           keep_columns=keep_column)
    for line in [*app.kept_columns_said(keep_column), *app.rules_files_said(items)]:
        click.echo(line, err=True)
    from ..batch import dask_cluster, process_pool  # processes or a cluster only for a batch

    run_many = dask_cluster(scheduler, progress_bar) if scheduler else process_pool(jobs, progress_bar)
    summary = app.run_batch(items, out, force, run_many)
    ok = summary[summary["exit_code"] == 0]

    def run_named(row: Any) -> str:  # a summary row
        """An area as the manifest names it; in scenario mode with the rules and seed of the run."""
        scenario = [str(row["rules"])] * bool(scenario_rules) + [f"seed {row['seed']}"] * bool(seed_list)
        return f"{row['area']}" + (f" ({', '.join(scenario)})" if scenario else "")

    click.echo(f"{len(ok)} of {len(summary)} runs succeeded; summary in {out / 'summary.csv'}")
    if audit_draws:
        deviating = [run_named(row) for _, row in summary[summary["status"] == "DEVIATION"].iterrows()]
        click.echo(f"Lotteries whose draws deviate from their chances: {len(deviating)}"
                   + (f" ({', '.join(map(str, deviating))})" if deviating else ""))
    failed = summary[summary["exit_code"] != 0]
    for _, row in failed.iterrows():
        click.echo(f"  {run_named(row)}: {row['status']}: {row['error']}", err=True)
    echo_batch_remedies(failed["error"])
    if len(ok) < len(summary):
        raise SystemExit(1)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default=None, metavar="ADDRESS",
              help="Listen on this address instead of 127.0.0.1. Anyone who can reach it can see the data.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@reports_errors
def serve(port: int, host: str | None, open_browser: bool) -> None:
    """A local web page for inspectors: upload, check, choose, decline and replace, download.

    It listens on this computer only (127.0.0.1) unless --host says otherwise. Uploads are
    kept in a private temporary folder that is removed when the server stops. Needs the web
    extra: pip install "selector[web]".

    \b
    Example:
      selector serve --open
    """
    try:
        from ..web import serve as run_server  # Flask is an optional extra
    except ImportError:
        raise click.ClickException('the web page needs Flask: pip install "selector[web]"') from None
    if host is None:
        host = "127.0.0.1"
    elif host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines that can reach it can upload and see "
                   "children's data.", err=True)
    run_server(host, port, open_browser)
