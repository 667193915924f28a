"""The command line: thin commands that chain load, validate, solve, write and echo."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd

from . import __version__
from .errors import CaseloadValidationError, SelectorError
from .validate import Caseload, failure_line, load_caseload

F = TypeVar("F", bound=Callable[..., Any])
FAILURES_SHOWN = 20


class SelectorClickError(click.ClickException):
    """A SelectorError shown as `Error: ...` with the contract's exit code."""

    def __init__(self, error: SelectorError) -> None:
        super().__init__(error.message)
        self.exit_code = error.exit_code


def reports_errors(command: F) -> F:
    """Catch every SelectorError once and turn it into a clean message and exit code."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except CaseloadValidationError as error:
            _echo_failures(error.failures)
            raise SelectorClickError(error) from None
        except SelectorError as error:
            raise SelectorClickError(error) from None
    return wrapper  # type: ignore[return-value]


def _echo_failures(failures: pd.DataFrame, limit: int = FAILURES_SHOWN) -> None:
    errors = failures[failures["severity"] == "error"]
    warnings = failures[failures["severity"] == "warning"]
    click.echo(f"{len(errors)} error(s), {len(warnings)} warning(s)", err=True)
    for _, row in errors.head(limit).iterrows():
        click.echo(f"  error: {failure_line(row)}", err=True)
    if len(errors) > limit:
        click.echo(f"  ... and {len(errors) - limit} more errors (write them all with --failures FILE)", err=True)
    _echo_warnings(warnings, limit=max(0, limit - len(errors)) or 3)


def _echo_warnings(warnings: pd.DataFrame, limit: int = 5) -> None:
    for _, row in warnings.head(limit).iterrows():
        click.echo(f"  warning: {failure_line(row)}", err=True)
    if len(warnings) > limit:
        click.echo(f"  ... and {len(warnings) - limit} more warnings", err=True)


# ---------------------------------------------------------------- shared options

existing_file = click.Path(exists=False, dir_okay=False, path_type=Path)


def caseload_options(command: F) -> F:
    """The options every command that reads a caseload takes (the contract's columns, or the
    Annex A lists)."""
    command = click.option("--ap-urns", type=existing_file, default=None, metavar="FILE",
                           help="Annex A: a file listing AP settings' URNs (column urn, or the first).")(command)
    command = click.option("--mapping", type=existing_file, default=None, metavar="FILE.toml",
                           help="Annex A: an edited mapping (see `selector annex-a-mapping`).")(command)
    command = click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                           metavar="YYYY-MM-DD", help="Annex A: the date ages are taken at (default today).")(command)
    command = click.option("--list2", type=existing_file, default=None, metavar="FILE",
                           help="Annex A List 2 (SEN support).")(command)
    command = click.option("--list1", type=existing_file, default=None, metavar="FILE",
                           help="Annex A List 1 (EHC plans).")(command)
    command = click.option("--allow-missing-contact", is_flag=True,
                           help="Keep children with no practitioner contact eligible.")(command)
    command = click.option("--sheet", default=None, metavar="NAME",
                           help="XLSX sheet to read (default: the first).")(command)
    command = click.option("--contacts", type=existing_file, default=None, metavar="FILE",
                           help="Practitioner contacts (CSV, XLSX or Parquet).")(command)
    command = click.argument("caseload", type=existing_file, required=False)(command)
    return command


def annex_options(list1: Path | None, list2: Path | None, as_of: Any, mapping: Path | None,
                  ap_urns: Path | None) -> Any:
    from .annex_a import AnnexOptions

    return AnnexOptions(list1=list1, list2=list2, as_of=as_of.date() if as_of else None,
                        mapping=mapping, ap_urns=ap_urns)


def _need_input(caseload: Path | None, annex: Any) -> None:
    if caseload is None and not (annex.list1 or annex.list2):
        raise click.UsageError("give a CASELOAD file, or the Annex A lists with --list1 and/or --list2.")


def _load(caseload: Path | None, contacts: Path | None, sheet: str | None, allow_missing_contact: bool,
          annex: Any = None) -> Caseload:
    return load_caseload(caseload, contacts, sheet=sheet, allow_missing_contact=allow_missing_contact,
                         annex=annex)


def _summary(loaded: Caseload) -> str:
    frame = loaded.frame
    excluded = int(frame["exclude"].sum())
    no_contact = int((frame["ineligible_reason"] == "no practitioner contact").sum())
    return (f"{loaded.source}: {len(frame)} rows read, {int(frame['eligible'].sum())} eligible "
            f"({excluded} excluded, {no_contact} without a contact)")


# ---------------------------------------------------------------- commands

@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="selector")
def main() -> None:
    """Choose the children and young people for the tracking meetings of an area SEND inspection.

    \b
    Start with the sample data:
      selector validate data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector select data/sample/caseload.csv --contacts data/sample/contacts.csv --out runs/demo
    """


@main.command()
@caseload_options
@click.option("--failures", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="OUT.csv", help="Write the full table of problems here.")
@reports_errors
def validate(caseload: Path | None, contacts: Path | None, sheet: str | None, allow_missing_contact: bool,
             list1: Path | None, list2: Path | None, as_of: Any, mapping: Path | None, ap_urns: Path | None,
             failures: Path | None) -> None:
    """Check a caseload (and contacts) against the data contract.

    Prints a summary and the first problems; exits 0 when the data can be used, 2 when not.

    \b
    Example:
      selector validate data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector validate caseload.xlsx --sheet "List" --failures problems.csv
      selector validate --list1 list1.csv --list2 list2.csv --contacts contacts.csv
    """
    annex = annex_options(list1, list2, as_of, mapping, ap_urns)
    _need_input(caseload, annex)
    try:
        loaded = _load(caseload, contacts, sheet, allow_missing_contact, annex)
    except CaseloadValidationError as error:
        _echo_failures(error.failures)
        if failures is not None:
            _write_failures(failures, error.failures)
        raise SelectorClickError(error) from None
    if failures is not None:
        _write_failures(failures, loaded.warnings)
    click.echo(_summary(loaded))
    click.echo(f"0 errors, {len(loaded.warnings)} warning(s)")
    _echo_warnings(loaded.warnings)
    click.echo("OK: the caseload meets the contract.")


def _write_failures(path: Path, table: pd.DataFrame) -> None:
    from .io import frame_to_csv_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frame_to_csv_bytes(table))
    click.echo(f"Full table of {len(table)} problem(s): {path}", err=True)


@main.command()
@caseload_options
@click.option("--rules", "rules_file", type=existing_file, default=None, metavar="FILE.toml",
              help="Rules to check the caseload against (default: the SPEC's).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Also write the profile, with charts, as a self-contained HTML page.")
@click.option("--force", is_flag=True, help="Overwrite an existing --html file.")
@reports_errors
def profile(caseload: Path | None, contacts: Path | None, sheet: str | None, allow_missing_contact: bool,
            list1: Path | None, list2: Path | None, as_of: Any, mapping: Path | None, ap_urns: Path | None,
            rules_file: Path | None, html_out: Path | None, force: bool) -> None:
    """Show what the caseload offers on each dimension, and the room for each hard rule.

    \b
    Example:
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv
      selector profile data/sample/caseload.csv --contacts data/sample/contacts.csv --html profile.html
    """
    from .errors import InputError
    from .profile import dimension_counts, rule_room
    from .rules import DEFAULT_RULES, load_rules

    annex = annex_options(list1, list2, as_of, mapping, ap_urns)
    _need_input(caseload, annex)
    if html_out is not None and html_out.exists() and not force:
        raise InputError(f"{html_out}: already exists. Choose another name, or add --force.", "exists")
    rules = load_rules(rules_file) if rules_file else DEFAULT_RULES
    loaded = _load(caseload, contacts, sheet, allow_missing_contact, annex)
    click.echo(_summary(loaded))
    click.echo("")
    click.echo("What the eligible CYP offer (count per value):")
    for dim in rules.dimensions:
        counts = dimension_counts(loaded.frame, rules)[dim.column]
        click.echo(f"  {dim.column} (weight {dim.weight}, counted up to {dim.cap}): "
                   f"{len(counts)} value(s)")
        if len(counts) == 0:
            click.echo("    (none)")
        width = max((len(str(v)) for v in counts.index), default=0)
        for value, count in counts.items():
            click.echo(f"    {value!s:<{width}}  {count:>6}")
    click.echo("")
    click.echo("Hard rules:")
    for room in rule_room(loaded.frame, rules):
        mark = "can be met" if room.can_meet else "CANNOT be met"
        extra = f"; {room.ineligible} more excluded or without a contact" if room.ineligible else ""
        click.echo(f"  {room.name}: {room.detail}{extra} - {mark}")
    if html_out is not None:
        from .profile import profile_html

        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(profile_html(loaded.frame, rules, loaded.source), encoding="utf-8")
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
    from .errors import InputError
    from .sample import generate, inline_contacts

    if annex_dir is not None:
        _write_annex_sample(rows, seed, area, annex_dir, force)
        return
    if out is None:
        raise click.UsageError("give --out FILE (or --annex-a OUTDIR).")

    for path in (out, contacts_out):
        if path is not None and path.exists() and not force:
            raise InputError(f"{path}: already exists. Choose another name, or add --force.", "exists")
    caseload, contacts = generate(rows, seed, area=area)
    if contacts_out is None:
        caseload = inline_contacts(caseload, contacts)
    _write_table(caseload, out)
    click.echo(f"Wrote {len(caseload)} children to {out}")
    if contacts_out is not None:
        _write_table(contacts, contacts_out)
        click.echo(f"Wrote {len(contacts)} practitioners to {contacts_out}")


def _write_annex_sample(rows: int, seed: int, area: str, folder: Path, force: bool) -> None:
    from .errors import InputError
    from .sample import annex_a_lists

    names = ["list1.csv", "list2.csv", "contacts.csv", "annex_a.xlsx"]
    existing = [n for n in names if (folder / n).exists()]
    if existing and not force:
        raise InputError(f"{folder / existing[0]}: already exists. Choose another folder, or add --force.", "exists")
    list1, list2, contacts = annex_a_lists(rows, seed, area)
    folder.mkdir(parents=True, exist_ok=True)
    _write_table(list1, folder / "list1.csv")
    _write_table(list2, folder / "list2.csv")
    _write_table(contacts, folder / "contacts.csv")
    with pd.ExcelWriter(folder / "annex_a.xlsx") as writer:
        list1.astype(str).to_excel(writer, sheet_name="List_1", index=False)
        list2.astype(str).to_excel(writer, sheet_name="List_2", index=False)
    click.echo(f"Wrote List 1 ({len(list1)} EHC plans), List 2 ({len(list2)} at SEN support), contacts and "
               f"a workbook of both lists to {folder}/")


@main.command("annex-a-mapping")
def annex_a_mapping() -> None:
    """Print the Annex A mapping tables as TOML, to edit and pass with --mapping.

    \b
    Example:
      selector annex-a-mapping > mapping.toml
    """
    from .annex_a import DEFAULT_MAPPING_TOML

    click.echo(DEFAULT_MAPPING_TOML, nl=False)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    from .errors import InputError
    from .io import frame_to_csv_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".xlsx":
        frame.astype(str).to_excel(path, index=False)
    elif suffix in (".csv", ".txt"):
        path.write_bytes(frame_to_csv_bytes(frame))
    else:
        raise InputError(f"{path.name}: write .csv, .xlsx or .parquet.", "bad_suffix")


@main.command("default-rules")
def default_rules() -> None:
    """Print the default rules as a TOML file to edit and pass with --rules.

    \b
    Example:
      selector default-rules > my-rules.toml
    """
    from .rules import DEFAULT_RULES, rules_to_toml

    click.echo(rules_to_toml(DEFAULT_RULES), nl=False)


def _formats(value: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    unknown = [f for f in formats if f not in ("csv", "xlsx", "parquet")]
    if unknown:
        raise click.BadParameter(f"unknown format {unknown[0]!r}; use csv, xlsx, parquet (comma-separated).",
                                 param_hint="--format")
    return formats


def search_options(command: F) -> F:
    """Options that shape the search, shared by select."""
    for decorator in reversed([
        click.option("--rules", "rules_file", type=existing_file, default=None, metavar="FILE.toml",
                     help="Rules file (default: the SPEC's rules; see `selector default-rules`)."),
        click.option("--size", type=click.IntRange(min=1), default=None, help="Cohort size (default 6)."),
        click.option("--sets", type=click.IntRange(min=1), default=5, show_default=True,
                     help="Ranked cohorts to find."),
        click.option("--max-overlap", type=click.IntRange(min=0), default=3, show_default=True,
                     help="CYP a cohort may share with each better-ranked cohort."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Chooses among equally good cohorts; same seed, same outputs."),
        click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                     help="Seconds allowed to prove each cohort optimal."),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Solver threads (1 is deterministic)."),
        click.option("--relax", is_flag=True,
                     help="If the rules cannot all be met, drop the fewest, lowest-priority ones."),
        click.option("--format", "formats", default="csv", show_default=True, metavar="LIST",
                     help="Extra outputs besides CSV: xlsx, parquet (comma-separated)."),
        click.option("--force", is_flag=True, help="Replace a non-empty output folder."),
    ]):
        command = decorator(command)
    return command


def _echo_result(solution: Any, caseload: pd.DataFrame, out: Path) -> None:
    first = solution.cohorts[0]
    status = "proved optimal" if first.status == "OPTIMAL" else f"best found, bound {first.bound}"
    click.echo(f"Cohort 1: score {first.score} ({status}) in {first.seconds:.2f} s")
    by_id = caseload.set_index("child_id")
    for slot, child in enumerate(first.members, start=1):
        m = by_id.loc[child]
        click.echo(f"  {slot}. {child}  {m['age_band']:>5}  {m['primary_need']:<5} {m['plan_status']:<11} "
                   f"{m['setting_type']:<12} {m['social_care']}")
    if solution.dropped:
        click.echo("Rules dropped by --relax: " + "; ".join(solution.dropped))
    others = ", ".join(f"{c.rank}: {c.score}" for c in solution.cohorts[1:])
    if others:
        click.echo(f"Ranked alternatives (rank: score): {others}")
    click.echo(f"Results in {out}/ (report.html, report.md, cohorts.csv, contacts.csv, run.json)")


@main.command()
@caseload_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Run folder to write (must be new or empty, unless --force).")
@search_options
@reports_errors
def select(caseload: Path | None, contacts: Path | None, sheet: str | None, allow_missing_contact: bool,
           list1: Path | None, list2: Path | None, as_of: Any, mapping: Path | None, ap_urns: Path | None,
           out: Path, rules_file: Path | None, size: int | None, sets: int, max_overlap: int, seed: int,
           time_limit: float, workers: int, relax: bool, formats: str, force: bool) -> None:
    """Choose the tracking cohort, ranked alternatives and reserves; write a run folder.

    \b
    Example:
      selector select data/sample/caseload.csv --contacts data/sample/contacts.csv --out runs/demo
      selector select caseload.xlsx --rules my-rules.toml --seed 7 --format xlsx --out runs/area
      selector select --list1 list1.csv --list2 list2.csv --contacts contacts.csv --out runs/annex
    """
    from .model import SelectionParams
    from .pipeline import RunRequest, run_selection

    annex = annex_options(list1, list2, as_of, mapping, ap_urns)
    _need_input(caseload, annex)
    params = SelectionParams(seed=seed, time_limit_s=time_limit, workers=workers, sets=sets,
                             max_overlap=max_overlap, relax=relax)
    request = RunRequest(caseload=caseload, out=out, contacts=contacts, rules_file=rules_file, size=size,
                         params=params, sheet=sheet, allow_missing_contact=allow_missing_contact,
                         formats=_formats(formats), force=force, annex=annex)
    loaded, solution = run_selection(request)
    click.echo(_summary(loaded), err=True)
    if len(loaded.warnings):
        click.echo(f"{len(loaded.warnings)} warning(s) (see `selector validate`)", err=True)
    _echo_result(solution, loaded.frame, out)


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--decline", "declined", multiple=True, required=True, metavar="CHILD_ID",
              help="A cohort 1 member whose family declined or cannot be reached (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="New run folder (default: RUN_DIR-replace-N beside it).")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@reports_errors
def replace(run_dir: Path, declined: tuple[str, ...], out: Path | None, force: bool) -> None:
    """A family declined: keep the rest of cohort 1, re-optimise the freed slot(s).

    Reads the run folder's run.json, re-reads the same caseload (it must be unchanged), and
    writes a new run folder that records what was replaced and why. The old folder is kept.

    \b
    Example:
      selector replace runs/demo --decline C004431
      selector replace runs/demo --decline C004431 --decline C001794 --out runs/demo-2
    """
    from .errors import InputError
    from .io import check_output_folder, read_run_record, write_folder
    from .model import SelectionParams, solve_replacement
    from .report import RunInfo, run_files
    from .rules import rules_from_dict

    record = read_run_record(run_dir)
    first = record["cohorts"][0]["members"]
    unknown = [c for c in declined if c not in first]
    if unknown:
        raise InputError(
            f"{unknown[0]} is not in cohort 1 of {run_dir}; cohort 1 is {', '.join(first)}.",
            "not_in_cohort",
        )
    out = out or _next_free(run_dir)
    check_output_folder(out, force)
    source = record["input"]
    options = source.get("options", {})
    annex = None
    if options.get("annex_a"):
        import datetime as dt

        from .annex_a import AnnexOptions

        given = options["annex_a"]
        annex = AnnexOptions(
            list1=Path(given["list1"]) if given.get("list1") else None,
            list2=Path(given["list2"]) if given.get("list2") else None,
            as_of=dt.date.fromisoformat(given["as_of"]) if given.get("as_of") else None,
            mapping=Path(given["mapping"]) if given.get("mapping") else None,
            ap_urns=Path(given["ap_urns"]) if given.get("ap_urns") else None,
        )
    loaded = _load(Path(source["caseload_path"]) if source.get("caseload_path") else None,
                   Path(source["contacts_path"]) if source.get("contacts_path") else None,
                   options.get("sheet"), bool(options.get("allow_missing_contact")), annex)
    if loaded.source_sha256 != source["caseload_sha256"] or loaded.contacts_sha256 != source.get("contacts_sha256", ""):
        raise InputError(
            f"{source['caseload']}: the caseload or contacts changed since {run_dir} was made. "
            "Run `selector select` again on the new data.",
            "input_changed",
        )
    rules = rules_from_dict(record["rules"], source=f"{run_dir}/run.json")
    p = record["params"]
    params = SelectionParams(seed=record["seed"], time_limit_s=p["time_limit_s"], workers=p["workers"],
                             sets=p["sets"], max_overlap=p["max_overlap"], reserves=p["reserves"],
                             relax=p["relax"])
    earlier_declined = record.get("replaced", {}).get("all_declined", [])
    all_declined = sorted(set(earlier_declined) | set(declined))
    frame = loaded.frame.copy()
    frame.loc[frame["child_id"].isin(earlier_declined), "eligible"] = False
    solution = solve_replacement(frame, rules, params, first, declined)
    info = RunInfo(
        caseload=loaded.source, caseload_path=source["caseload_path"], caseload_sha256=loaded.source_sha256,
        rows=len(frame), eligible=int(frame["eligible"].sum()) - len(declined),
        contacts=loaded.contacts_source, contacts_path=source.get("contacts_path", ""),
        contacts_sha256=loaded.contacts_sha256, options=options,
        replaced={"from_run": run_dir.name, "declined": list(declined),
                  "reason": "family declined or could not be reached",
                  "kept": [c for c in first if c not in declined], "all_declined": all_declined},
    )
    write_folder(out, run_files(frame, loaded.all_contacts, solution, info, tuple(options.get("formats", ()))), force)
    new = [c for c in solution.cohorts[0].members if c not in first]
    click.echo(f"Replaced {', '.join(declined)} with {', '.join(new)}; the other members kept their slots.")
    _echo_result(solution, frame, out)


def _next_free(run_dir: Path) -> Path:
    number = 1
    while (candidate := run_dir.parent / f"{run_dir.name}-replace-{number}").exists():
        number += 1
    return candidate


@main.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, metavar="DIR",
              help="Folder for the runs (one folder per area) and summary.csv.")
@click.option("--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="cores",
              help="Areas run at once, each in its own process.")
@click.option("--scenario-rules", "scenario_rules", type=existing_file, multiple=True, metavar="FILE.toml",
              help="Scenario mode: run every area under each of these rules files (repeatable).")
@click.option("--seeds", default="", metavar="LIST", help="Scenario mode: run every area with each seed, e.g. 1,2,3.")
@click.option("--sets", type=click.IntRange(min=1), default=5, show_default=True, help="Ranked cohorts per area.")
@click.option("--max-overlap", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for rows without one.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True)
@click.option("--relax", is_flag=True, help="Relax impossible rules in every area.")
@click.option("--allow-missing-contact", is_flag=True)
@click.option("--format", "formats", default="csv", show_default=True, metavar="LIST")
@click.option("--force", is_flag=True, help="Replace a non-empty output folder.")
@reports_errors
def batch(manifest: Path, out: Path, jobs: int, scenario_rules: tuple[Path, ...], seeds: str, sets: int,
          max_overlap: int, seed: int, time_limit: float, relax: bool, allow_missing_contact: bool,
          formats: str, force: bool) -> None:
    """Run many areas (or scenarios) in parallel, with progress and a summary.csv.

    MANIFEST is a CSV with columns area, caseload and optional contacts, rules, seed (paths
    relative to it), or a folder of caseloads (contacts from NAME_contacts.csv beside each).
    An area that fails is reported in summary.csv and the others carry on. Exit 0 when every
    area succeeded, 1 when any failed.

    \b
    Example:
      selector batch areas.csv --out runs/national --jobs 2
      selector batch areas.csv --out runs/what-if --scenario-rules strict.toml \\
          --scenario-rules relaxed.toml --seeds 1,2,3
    """
    from .batch import read_manifest, run_batch
    from .errors import InputError
    from .model import SelectionParams

    try:
        seed_list = tuple(int(s) for s in seeds.split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(f"{seeds!r} is not a comma-separated list of whole numbers.",
                                 param_hint="--seeds") from None
    if not manifest.exists():
        raise InputError(f"{manifest}: not found. Give a manifest CSV or a folder of caseloads.", "missing_file")
    params = SelectionParams(seed=seed, time_limit_s=time_limit, sets=sets, max_overlap=max_overlap, relax=relax)
    tasks = read_manifest(manifest, out, params, rules_variants=scenario_rules, seeds=seed_list,
                          formats=_formats(formats), allow_missing_contact=allow_missing_contact)
    failures = 0

    def progress(stream: Any, total: int) -> Any:
        nonlocal failures
        with click.progressbar(length=total, label=f"{total} runs", file=sys.stderr,
                               show_eta=True, show_pos=True,
                               item_show_func=lambda r: f"{r['area']}: {r['status']}" if r else None) as bar:
            for row in stream:
                failures += row["exit_code"] != 0
                bar.label = f"{total} runs, {failures} failed"
                bar.update(1, row)
                yield row

    summary = run_batch(tasks, out, jobs, force, progress=progress)
    ok = summary[summary["exit_code"] == 0]
    click.echo(f"{len(ok)} of {len(summary)} runs succeeded; summary in {out / 'summary.csv'}")
    for _, row in summary[summary["exit_code"] != 0].iterrows():
        click.echo(f"  {row['area']}: {row['status']}: {row['error']}", err=True)
    if len(ok) < len(summary):
        raise SystemExit(1)


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default=None, metavar="ADDRESS",
              help="Listen on this address instead of 127.0.0.1. Anyone who can reach it can see the data.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
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
        from .web import serve as run_server
    except ImportError:
        raise click.ClickException('the web page needs Flask: pip install "selector[web]"') from None
    if host is None:
        host = "127.0.0.1"
    elif host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: other machines that can reach it can upload and see "
                   "children's data.", err=True)
    run_server(host, port, open_browser)
