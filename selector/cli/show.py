"""What the command line shows: errors with the flag that fixes them, failures, a profile, a
run's result, a batch's progress."""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import app
from ..contract.errors import CaseloadValidationError, SelectorError

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable[..., Any])
FAILURES_SHOWN = 20


# What to do about an error, in this front end's words (the layers below never name flags).
FLAG_HINTS = {
    "bad_consent_state": "Use one of: to-ask, asked, agreed, declined, unreachable.",
    "no_contacts": "Give the contacts file with --contacts FILE (or --allow-missing-contact to choose without).",
    "caseload_not_recorded": "Give the caseload the run was made from with --caseload FILE, or its Annex A lists "
                             "with --list1 FILE and --list2 FILE (and --contacts FILE).",
    "contacts_not_recorded": "Give the contacts file the run was made from with --contacts FILE.",
    "option_not_given": "Give each with its option: --list1, --list2, --mapping, --ap-urns, --establishments or --sen2.",
    "option_file_missing": "Give it where it is now (--list1, --list2, --mapping, --ap-urns, --establishments or "
                           "--sen2), or choose again.",
    "input_missing": "If the file moved, give it with --caseload FILE (or --contacts FILE); or choose again.",
    "too_few_candidates": "Use --size for a smaller cohort, or --allow-missing-contact if contacts are missing.",
    "caseload_too_small": "Check that the list is the whole caseload, or use --size for a smaller cohort.",
    "infeasible": "Run with --relax to drop the lowest-priority rule(s), or change the rules file.",
    "no_solution": "Raise --time-limit.",
    "no_lists": "Give --list1 and/or --list2.",
    "sheet_without_caseload": "Leave out --sheet, or give the CASELOAD workbook the sheet is in.",
    "audit_needs_files": "Give them as for a new audit, with the folder: selector audit CASELOAD --contacts FILE "
                         "--lottery-from RUN_DIR --out DIR.",
    "replacement_no_lottery": "Give that run's folder to --lottery-from (the folder without -replace-N).",
    "out_not_dir": "Choose another --out.",
    "out_not_empty": "Choose a new --out, or add --force to replace it.",
    "out_not_a_run": "Choose a new --out.",
    "out_busy": "Wait for it to finish, or choose another --out.",
    "out_has_calls": "Choose a new --out (the calls stay where they are).",
    "port_in_use": "Start it with another --port, or --port 0 for any free one.",
    "bad_host": "Give --host an address of this computer, or leave it out (127.0.0.1, this computer only).",
    "sample_exists": "Choose another name, or add --force to overwrite it.",
}


# How to give what a fix asks for (contract.failures.REMEDIES), on the command line.
REMEDY_FLAGS = {
    "mapping": "give a mapping file with --mapping FILE (`selector annex-a-mapping` writes one to edit).",
    "establishments": "give the establishments extract (Get Information About Schools) with --establishments FILE.",
    "as_of": "the date ages are taken at is today unless --as-of DATE says another.",
    "keep_column": "name a column to keep with --keep-column HEADER.",
    "sheet": "name the sheet to read with --sheet NAME.",
    "contacts": "give the contacts file with --contacts FILE (or --allow-missing-contact to choose without).",
}
# The same in a batch, where what is not one flag for every area is a column of the manifest.
BATCH_REMEDIES = {
    "sheet": "name an area's sheet in the manifest's `sheet` column (a folder of caseloads has none: list the "
             "areas in a manifest).",
    "as_of": "the date ages are taken at is today unless --as-of DATE, or an area's `as_of` in the "
             "manifest, says another.",
    "contacts": "give an area's contacts file in the manifest's `contacts` column, or as NAME_contacts.csv beside "
                "its caseload in a folder (or --allow-missing-contact to choose without).",
}


# One command's own hints: `replace` keeps the run's rules, relaxed or not, and a reserve's
# answer is recorded with `consent`, not replaced.
COMMAND_HINTS = {
    "replace": {"reserve_not_member": "If that family said no, record it: selector consent {run_dir} {where} declined "
                                      "(the reserve is then not offered).",
                # (Choosing again with --relax would not do: the declined child is still in the list,
                # so the rule it kept can be kept, and it is chosen again.)
                "infeasible": "The run was chosen without --relax, so its replacements keep every rule. To fill the "
                              "{slots} all the same, dropping the fewest lowest-priority rules no child can keep (the "
                              "other members keep their slots): selector replace {run_dir} {declined} --relax"},
}


class SelectorClickError(click.ClickException):
    """A SelectorError shown as `Error: ...` with the contract's exit code (and the flag to use)."""

    def __init__(self, error: SelectorError, command: str = "") -> None:
        hint = COMMAND_HINTS.get(command, {}).get(error.code) or FLAG_HINTS.get(error.code)
        if command == "replace" and error.code == "infeasible" and _given("relax"):
            hint = None  # it relaxed what it could: the conflicts listed are what is left
        if hint is not None:
            hint = _filled(hint, error)
        if hint is None and error.fix:
            # A fix in the domain's words ("a column to keep"), then how to give that here.
            from ..contract.failures import remedies_in

            hint = "\n".join([error.fix, *(f"how: {REMEDY_FLAGS[r]}" for r in remedies_in([error.fix]))])
        super().__init__(error.explained(hint))
        self.exit_code = error.exit_code


def _given(name: str) -> Any:
    """What the command being run was given for one of its parameters (None outside a command)."""
    context = click.get_current_context(silent=True)
    return context.params.get(name) if context is not None else None


def _filled(hint: str, error: SelectorError) -> str:
    """A command's hint with the run folder and the children it is about, so it can be typed as
    given (it said `selector consent RUN_DIR CHILD_ID declined`)."""
    run_dir = _given("run_dir")
    hint = (hint.replace("{run_dir}", shlex.quote(str(run_dir)) if run_dir else "RUN_DIR")
            .replace("{where}", error.where or "CHILD_ID"))
    if "{declined}" not in hint:  # (only replace's hint names them: no other command loads its matching)
        return hint
    # A child typed twice (`--decline C1 --decline c1`) is one slot, as `replace` matches ids.
    once: dict[str, str] = {}
    for child in _given("declined") or ("CHILD_ID",):
        once.setdefault(app.id_key(child), child)
    declined = " ".join(f"--decline {shlex.quote(child)}" for child in once.values())
    return hint.replace("{declined}", declined).replace("{slots}", "slot" if len(once) == 1 else "slots")


def reports_errors(command: F) -> F:
    """Catch every SelectorError once and turn it into a clean message and exit code."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CaseloadValidationError as error:
            echo_failures(error.failures)
            raise SelectorClickError(error, command.__name__) from None
        except SelectorError as error:
            raise SelectorClickError(error, command.__name__) from None
    return wrapper  # type: ignore[return-value]


def echo_failures(failures: pd.DataFrame, limit: int = FAILURES_SHOWN) -> None:
    from ..contract.failures import (
        ERRORS_HEADING,
        REPEATED_HEADING,
        errors_by_kind,
        errors_shown,
        failure_line,
        repeated_errors,
    )

    errors = failures[failures["severity"] == "error"]
    warnings = failures[failures["severity"] == "warning"]
    click.echo(f"{len(errors)} error(s), {len(warnings)} warning(s)", err=True)
    first = errors_shown(errors, limit)
    for _, row in first.iterrows():
        click.echo(f"  error: {failure_line(row)}", err=True)
    if len(errors) > len(first):
        click.echo(f"  ... and {len(errors) - len(first)} more errors (write them all with --failures FILE)", err=True)
        for heading, lines in ((REPEATED_HEADING, repeated_errors(errors)), (ERRORS_HEADING, errors_by_kind(errors))):
            if lines:
                click.echo(f"  {heading}", err=True)
                for line in lines:
                    click.echo(f"    {line}", err=True)
    # A warning on a row with an error often says why (a URN the extract lacks): those come first.
    shown = set(zip(first["file"], first["row"], strict=True))
    where = list(zip(warnings["file"], warnings["row"], strict=True))
    before = sorted(range(len(where)), key=lambda i: where[i] not in shown)  # stable: file order otherwise
    echo_warnings(warnings.iloc[before], limit=max(0, limit - len(first)) or 3,
                  fixes_above=first["fix"].tolist())


def echo_warnings(warnings: pd.DataFrame, limit: int = 5, fixes_above: list[object] | None = None) -> None:
    """The first warnings, then how to give what the fixes shown (these and `fixes_above`) ask for."""
    from ..contract.failures import (
        WARNINGS_HEADING,
        failure_line,
        remedies_in,
        warnings_by_kind,
        warnings_shown,
    )

    first = warnings_shown(warnings, limit)
    for _, row in first.iterrows():
        click.echo(f"  warning: {failure_line(row)}", err=True)
    if len(warnings) > len(first):
        click.echo(f"  ... and {len(warnings) - len(first)} more warnings", err=True)
        kinds = warnings_by_kind(warnings)
        if kinds:
            click.echo(f"  {WARNINGS_HEADING}", err=True)
            for line in kinds:
                click.echo(f"    {line}", err=True)
    for remedy in remedies_in([*(fixes_above or []), *first["fix"]]):
        click.echo(f"  how: {REMEDY_FLAGS[remedy]}", err=True)


def echo_batch_remedies(errors: pd.Series) -> None:
    """How to give what the failed areas' errors ask for, in a batch's terms."""
    from ..contract.failures import remedies_in

    for remedy in remedies_in(errors):
        click.echo(f"  how: {BATCH_REMEDIES.get(remedy, REMEDY_FLAGS[remedy])}", err=True)


def write_failures(path: Path, table: pd.DataFrame, sources: app.Sources) -> None:
    app.write_failures(path, table, sources)
    click.echo(f"Full table of {len(table)} problem(s): {path}", err=True)


def echo_profile(result: app.Profile) -> None:
    click.echo("")
    click.echo("What the eligible CYP offer (count per value):")
    for dim in result.rules.dimensions:
        counts = result.counts[dim.column]
        click.echo(f"  {dim.column} (weight {dim.weight}, counted up to {dim.cap}): {len(counts)} value(s)")
        if len(counts) == 0:
            click.echo("    (none)")
        width = max((len(str(v)) for v in counts.index), default=0)
        for value, count in counts.items():
            click.echo(f"    {value!s:<{width}}  {count:>6}")
    click.echo("")
    click.echo("Hard rules:")
    for room in result.rooms:
        mark = ("CANNOT be met" if not room.can_meet else
                f"can be met, only just: {room.only_just}" if room.only_just else "can be met")
        extra = f"; {room.ineligible} more excluded or without a contact" if room.ineligible else ""
        click.echo(f"  {room.name}: {room.detail}{extra} - {mark}")


def children(count: int) -> str:
    """ "1 child", "18 children"."""
    return "1 child" if count == 1 else f"{count} children"


def chances_range(lottery: app.Chances) -> str:
    state = "proved fairest" if lottery.proved else f"fairest found in the {lottery.found_in} allowed"
    if lottery.even:
        return f"each with a chance of {lottery.smallest:.4%} ({state})"
    return f"chances from {lottery.smallest:.4%} to {lottery.largest:.2%} ({state})"


def certificate_line(lottery: app.Chances) -> str:
    """The lottery's certificate in one line: the smallest chance against the proved bound."""
    if lottery.bound is None or lottery.certified is None:
        return "Certificate: not worked out."
    who, over = ("can come in", "fillings") if lottery.kept else ("can be drawn", "cohorts")
    if app.nothing_drawn(lottery):  # one cohort (or filling): nothing to compare
        return f"Certificate: every child who {who} has a chance of 100%, the most any lottery could give."
    # U only bounds the fairest smallest chance from above: s/U below 1 proves s is at least that
    # share of the fairest, not that a fairer lottery exists.
    reached = ("every level of the fairest lottery proved; the rest is the linear program's tolerance"
               if lottery.gap_is_tolerance
               else "within 0.1% of the fairest possible, the first level reached" if lottery.first_level_reached
               else "for the children found only, as not every child who could be in a best cohort was found; "
                    "not proved the fairest" if not lottery.complete
               else "the smallest chance is at least that share of the fairest possible; not proved the fairest")
    return (f"Certificate: every child who {who} has at least {lottery.smallest:.4%}; no lottery over these "
            f"{over} could give every one more than {lottery.bound:.4%} ({lottery.certified_percent} of it: {reached}).")


def echo_result(solution: app.Solution, caseload: app.Caseload, out: Path, before: int | None = None) -> None:
    """What a run chose, as the terminal shows it (`before`: for a replacement, cohort 1's score
    before it)."""
    first = solution.cohorts[0]
    p = solution.params
    click.echo(app.seed_sentence(p.seed, p.seed_source, p.seed_phrase, replacing=before is not None), err=True)
    if claim := app.kept_claim(solution):  # proved for the freed slots, not against every cohort
        was = f"; {before} before" if before is not None else ""
        status = f"{'proved' if first.status == 'OPTIMAL' else 'best found'}: {claim}{was}"
    elif claim := app.slack_claim(solution):  # below the best by the slack, not cut short by the clock
        status = claim
    else:
        status = "proved optimal" if first.status == "OPTIMAL" else f"best found, bound {first.bound}"
    click.echo(f"Cohort 1: score {first.score} ({status}) in {first.seconds:.2f} s")
    by_id = caseload.frame.set_index("child_id")
    rows = [(child, *(str(by_id.loc[child, c]) for c in ("age_band", "primary_need", "plan_status", "setting_type",
                                                         "social_care"))) for child in first.members]
    # Each column as wide as its widest value here (NOT_IN_EDUCATION is 16 letters), so the columns align.
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    numbered = len(str(len(rows)))  # slot numbers right-aligned, so a cohort of 10 or more stays in columns
    for slot, (child, band, need, plan, setting, care) in enumerate(rows, start=1):
        click.echo(f"  {slot:>{numbered}}. {child:<{width[0]}}  {band:>{max(width[1], 5)}}  {need:<{max(width[2], 5)}} "
                   f"{plan:<{max(width[3], 11)}} {setting:<{max(width[4], 12)}} {care}")
    if solution.dropped:
        click.echo("Rules dropped by --relax: " + "; ".join(solution.dropped))
    for note in solution.notes:
        click.echo(f"Note: {note}.")
    others = ", ".join(f"{c.rank}: {c.score}" for c in solution.cohorts[1:])
    found, asked = len(solution.cohorts), solution.params.sets
    if found < asked and solution.no_more_cohorts:  # (a time limit that cut them short has its own note)
        more = f"{others}; no" if others else "none: no"
        click.echo(f"Ranked alternatives (rank: score): {more} other cohort meets "
                   f"{app.every_rule(bool(solution.dropped))} sharing at most "
                   f"{solution.params.max_overlap} children with each better-ranked one ({asked - 1} asked for)")
    elif others:
        click.echo(f"Ranked alternatives (rank: score): {others}")
    if solution.lottery is not None:
        lottery = solution.lottery
        if lottery.kept:
            slots = app.freed_word(lottery)
            if app.only_filling(lottery):
                newcomers = [c for c in lottery.drawn if c not in set(lottery.kept)]
                click.echo(f"No draw: only {children(lottery.possible)} could fill the freed {slots} with the best "
                           f"score ({', '.join(newcomers)}).")
                click.echo(certificate_line(lottery))
                return _results_line(out)
            click.echo(f"Drawn from the lottery over the best ways to fill the freed {slots}: "
                       f"{children(lottery.possible)} could have come in; {chances_range(lottery)}")
        elif app.only_cohort(lottery):
            foreseen = app.foreseen_sentence(lottery, solution.rules.size)
            click.echo(f"No draw: {foreseen[0].lower()}{foreseen[1:]}")
            click.echo(certificate_line(lottery))
            return _results_line(out)
        else:
            click.echo(f"Drawn from a lottery: {children(lottery.possible)} could have been drawn; "
                       f"{chances_range(lottery)}")
            if foreseen := app.foreseen_sentence(lottery, solution.rules.size):
                click.echo(f"Note: {foreseen[0].lower()}{foreseen[1:]}")
        click.echo(certificate_line(lottery))
    _results_line(out)


def _results_line(out: Path) -> None:
    # The run folder is written whole (replacing an earlier one), so what is in it is this run's.
    extra = "".join(f", {name}" for name in ("cohorts.xlsx", "cohorts.parquet") if (out / name).is_file())
    click.echo(f"Results in {out}/ (report.html, report.md, cohorts.csv{extra}, contacts.csv, chances.csv, run.json)")


def stage_line(stage: str) -> None:
    """A run's stage, as it starts, on the terminal (the work can take a minute at 60,000 rows)."""
    click.echo(f"... {stage}", err=True)


def progress_bar(stream: Any, total: int) -> Any:
    failures = 0
    with click.progressbar(length=total, label=f"{total} runs", file=sys.stderr, show_eta=True, show_pos=True,
                           item_show_func=lambda r: f"{r['area']}: {r['status']}" if r else None) as bar:
        for row in stream:
            failures += row["exit_code"] != 0
            bar.label = f"{total} runs, {failures} failed"
            bar.update(1, row)
            yield row
