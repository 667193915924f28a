"""The options several commands share: how to read a caseload (handed to a command as one
`sources` request), the search's options, the output formats."""

from __future__ import annotations

import datetime as dt
import functools
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import app
from ..contract.dates import DATE_WRITTEN, written_date
from ..contract.defaults import LOTTERY_WORK
from ..contract.seeds import SEED_LIMIT

F = TypeVar("F", bound=Callable[..., Any])


existing_file = click.Path(exists=False, dir_okay=False, path_type=Path)


class SelectorCommand(click.Command):
    """A command that says what a word typed too many most likely meant: a second file after
    the caseload is most often the contacts (click said only "Got unexpected extra argument")."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        allowed, ctx.allow_extra_args = ctx.allow_extra_args, True
        rest = super().parse_args(ctx, args)
        ctx.allow_extra_args = allowed
        if ctx.args and not allowed and not ctx.resilient_parsing:
            ctx.fail(_extra_words(self, ctx.args, ctx.params))
        return rest


class SelectorGroup(click.Group):
    command_class = SelectorCommand


def _extra_words(command: click.Command, extra: list[str], given: dict[str, Any]) -> str:
    """What to say of words no parameter takes."""
    said = f"Got unexpected extra argument{'s' if len(extra) > 1 else ''} ({' '.join(extra)})"
    names = {param.name for param in command.params}
    if "contacts" in names and Path(extra[0]).is_file():
        return (f"{said}: one caseload is read. Give the practitioners' contacts with --contacts {extra[0]}, or "
                "Annex A's two lists with --list1 and --list2.")
    if "declined" in names:
        # `selector replace runs/demo C004431`, or `--decline C004431 C001794`: a child typed as a
        # word of its own.
        declines = " ".join(f"--decline {word}" for word in (*given.get("declined", ()), *extra))
        return (f"{said}: give each child whose family declined with --decline: selector {command.name} "
                f"{shlex.quote(str(given.get('run_dir', 'RUN_DIR')))} {declines}")
    return said


class DateOption(click.ParamType):
    """A date as an analyst in England writes it: 2026-12-01, 01/12/2026 (day first) or
    1 December 2026 (a datetime, as click's DateTime gives)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        day = written_date(str(value))
        if day is None:
            self.fail(f"{value!r} is not a date: give it as {DATE_WRITTEN}.", param, ctx)
        return dt.datetime.combine(day, dt.time())


date_option = DateOption()


class SeedRange(click.IntRange):
    """A seed, 0 to 2**31 - 1; words given as a seed (`--seed "blue whale"`) are said to be a
    phrase, given with --seed-phrase where the command takes one (click said "not a valid integer
    range")."""

    def __init__(self, phrase: bool) -> None:
        super().__init__(0, SEED_LIMIT - 1)
        self.phrase = phrase

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            int(str(value).strip())
        except ValueError:
            hint = f" To make the seed from words, give them with --seed-phrase {shlex.quote(str(value))}." \
                if self.phrase else ""
            self.fail(f"{value!r} is not a seed: a seed is a whole number from 0 to {SEED_LIMIT - 1}.{hint}",
                      param, ctx)
        return int(super().convert(value, param, ctx))


SOURCE_OPTIONS = ("caseload", "contacts", "sheet", "allow_missing_contact", "list1", "list2", "as_of", "mapping",
                  "ap_urns", "keep_column", "establishments", "sen2")


def caseload_options(command: F, optional: bool = False) -> F:
    """The options every command that reads a caseload takes (the contract's columns, or the
    Annex A lists), handed to the command as one `sources` request (None when `optional` and
    none of them is given)."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in SOURCE_OPTIONS}
        _not_a_folder(given["caseload"], command.__name__)
        sources = None if optional and not any(given.values()) else sources_of(**given)
        return command(*args, sources=sources, **kwargs)

    for decorator in reversed([
        click.argument("caseload", type=click.Path(path_type=Path), required=False),
        click.option("--contacts", type=existing_file, default=None, metavar="FILE",
                     help="Practitioner contacts (CSV, XLSX or Parquet)."),
        click.option("--sheet", default=None, metavar="NAME",
                     help="The CASELOAD workbook's sheet to read (default: the first visible one)."),
        click.option("--allow-missing-contact", is_flag=True,
                     help="Keep children with no practitioner contact eligible."),
        click.option("--list1", type=existing_file, default=None, metavar="FILE", help="Annex A List 1 (EHC plans)."),
        click.option("--list2", type=existing_file, default=None, metavar="FILE",
                     help="Annex A List 2 (SEN support)."),
        click.option("--as-of", type=date_option, default=None, metavar="DATE",
                     help="Annex A and SEN2: the date ages are taken at, as 2026-09-01, 01/09/2026 or "
                          "1 September 2026 (default today)."),
        click.option("--mapping", type=existing_file, default=None, metavar="FILE.toml",
                     help="Annex A: an edited mapping (see `selector annex-a-mapping`)."),
        click.option("--ap-urns", type=existing_file, default=None, metavar="FILE",
                     help="Annex A: a file listing AP settings' URNs (column urn, or the first)."),
        click.option("--establishments", type=existing_file, default=None, metavar="FILE",
                     help="A Get Information About Schools extract: setting type from each child's URN."),
        click.option("--sen2", type=click.Path(path_type=Path), default=None, metavar="FILE.xml|DIR",
                     help="A SEN2 return as the caseload: the XML, or one CSV per module in a folder or a .zip."),
        click.option("--keep-column", multiple=True, metavar="HEADER",
                     help="Carry a column outside the data contract into the outputs (repeatable). Every "
                          "other such column is left out as the file is read; validate lists them."),
    ]):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def _not_a_folder(caseload: Path | None, command: str) -> None:
    """A folder given as the caseload, most often a run folder (`selector audit runs/demo`): what
    to give instead, not click's "is a directory"."""
    if caseload is None or not caseload.is_dir():
        return
    if (caseload / "run.json").is_file():
        instead = (f"To audit the lottery it kept: selector audit --lottery-from {caseload} --out DIR"
                   if command == "audit" else "Give the caseload file it was made from (its run.json names it).")
        raise click.UsageError(f"{caseload} is a run folder, not a caseload. {instead}")
    raise click.UsageError(f"{caseload} is a folder: give the caseload file (a SEN2 return's folder of CSV files "
                           "goes with --sen2).")


def optional_caseload_options(command: F) -> F:
    """`caseload_options` for a command that can read the caseload from elsewhere (a run record)."""
    return caseload_options(command, optional=True)


HASHED_OPTIONS = ("list1", "list2", "sen2")  # read to the SHA-256 the run record keeps


def moved_options(command: F) -> F:
    """Where the files a run read through options are now (they moved, or the run was made on the
    web page from two list files, which records no paths), handed to the command as `moved`."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in app.READ_OPTION_FILES}
        return command(*args, moved=app.ReadOptions(**given), **kwargs)

    for name, role in reversed(app.READ_OPTION_FILES.items()):
        flag = "--" + name.replace("_", "-")
        kind = click.Path(path_type=Path) if name == "sen2" else existing_file
        # The lists and a SEN2 return are hashed in the run record; the other files are not (a
        # different one shows as a different run when verified).
        check = "its SHA-256 must match the run's" if name in HASHED_OPTIONS else "not hashed by the run"
        wrapper = click.option(flag, name, type=kind, default=None, metavar="FILE.xml|DIR" if name == "sen2" else "FILE",
                               help=f"The run's {role} where it is now ({check}).")(wrapper)
    return wrapper  # type: ignore[return-value]


def sources_of(caseload: Path | None, contacts: Path | None, sheet: str | None, allow_missing_contact: bool,
               list1: Path | None, list2: Path | None, as_of: Any, mapping: Path | None,
               ap_urns: Path | None, keep_column: tuple[str, ...] = (), establishments: Path | None = None,
               sen2: Path | None = None) -> app.Sources:
    """The caseload options as the application's request."""
    if caseload is None and not (list1 or list2 or sen2):
        raise click.UsageError("give a CASELOAD file, the Annex A lists with --list1 and/or --list2, or a SEN2 "
                               "return with --sen2.")
    options = app.ReadOptions(list1=list1, list2=list2, mapping=mapping, ap_urns=ap_urns,
                              as_of=as_of.date() if as_of else None, establishments=establishments, sen2=sen2)
    return app.Sources(caseload=caseload, contacts=contacts, sheet=sheet, options=options,
                       allow_missing_contact=allow_missing_contact, keep_columns=tuple(keep_column))


def output_formats(value: str) -> tuple[str, ...]:
    """The formats asked for, separated by commas or spaces (`xlsx,parquet`, `xlsx parquet`).

    >>> output_formats("XLSX parquet")
    ('xlsx', 'parquet')
    """
    formats = tuple(f.lower() for f in value.replace(",", " ").split())
    unknown = [f for f in formats if f not in ("csv", "xlsx", "parquet")]
    if unknown:
        # An Excel workbook asked for by another name is the xlsx one.
        meant = " (did you mean xlsx?)" if unknown[0] in ("excel", "xls", "workbook", "xlsm") else ""
        raise click.BadParameter(f"unknown format {unknown[0]!r}{meant}; use csv, xlsx, parquet (comma-separated).",
                                 param_hint="--format")
    return formats


def seed_source(seed: int | None, seed_phrase: str | None) -> str:
    """How the seed is made from the options: "given", "phrase" or "random" (the secure source).

    Raises:
        click.UsageError: both given; click.BadParameter: an empty phrase.
    """
    if seed is not None and seed_phrase is not None:
        raise click.UsageError("give --seed or --seed-phrase, not both.")
    if seed_phrase is not None and not seed_phrase.strip():
        raise click.BadParameter("the phrase is empty, so anyone could work out the draw in advance. Give the words "
                                 "or numbers agreed after the list was sent.", param_hint="--seed-phrase")
    return "given" if seed is not None else "phrase" if seed_phrase is not None else "random"


def search_options(command: F) -> F:
    """Options that shape the search, shared by select."""
    for decorator in reversed([
        click.option("--rules", "rules_file", type=existing_file, default=None, metavar="FILE.toml",
                     help="Rules file (default: the usual rules; see `selector default-rules`)."),
        click.option("--size", type=click.IntRange(min=1), default=None, help="Cohort size (default 6)."),
        click.option("--sets", type=click.IntRange(min=1), default=5, show_default=True,
                     help="Ranked cohorts to find: cohort 1, then alternatives drawn from the same lottery (found by "
                          "search when no draw shares few enough CYP)."),
        click.option("--max-overlap", type=click.IntRange(min=0), default=3, show_default=True,
                     help="CYP a cohort may share with each better-ranked cohort."),
        click.option("--seed", type=SeedRange(phrase=True), default=None,
                     help="Fix the seed that draws cohort 1 from the fair lottery (same seed, same outputs): to "
                          "repeat a run. Without it the seed comes from this computer's secure random source "
                          "and is recorded; a fixed seed makes the draw predictable."),
        click.option("--seed-phrase", default=None, metavar="TEXT",
                     help="Make the seed from this phrase with the caseload's and rules' SHA-256: a phrase "
                          "given after the list is sent fixes a draw nobody could choose or foresee."),
        click.option("--slack", type=click.FloatRange(min=0, max=100, max_open=True), default=0.0,
                     show_default=True, metavar="P",
                     help="Let cohorts scoring within P% of the best into the lottery: less predictable, "
                          "and cohort 1 may score less."),
        click.option("--lottery-work", type=click.FloatRange(min=0), default=LOTTERY_WORK, show_default=True,
                     metavar="UNITS",
                     help="Work for making the lottery fairest (machine-independent units, about a second "
                          "each); more work gives a fairer lottery (the certificate says how fair), and the "
                          "same work gives the same lottery on any machine."),
        click.option("--time-limit", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                     help="Seconds for the whole search (cohort 1 may use most; alternatives share the rest)."),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Solver threads (1 is deterministic)."),
        click.option("--relax", is_flag=True,
                     help="If the rules cannot all be met, drop the fewest, lowest-priority ones."),
        click.option("--format", "formats", default="csv", show_default=True, metavar="LIST",
                     help="Extra outputs besides CSV: xlsx, parquet (comma-separated)."),
        click.option("--force", is_flag=True, help="Replace a non-empty output folder."),
        click.option("--progress/--no-progress", default=None,
                     help="Say each stage on the terminal as the run reaches it (default: when it is a terminal)."),
    ]):
        command = decorator(command)
    return command
