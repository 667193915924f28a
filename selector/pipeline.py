"""One selection run end to end (load, validate, solve, write), shared by `select` and `batch`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .annex_a import AnnexOptions
from .io import check_output_folder, write_folder
from .model import SelectionParams, Solution, solve
from .report import RunInfo, run_files
from .rules import DEFAULT_RULES, Rules, load_rules
from .validate import Caseload, load_caseload


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, as plain data (so it can be sent to a worker process).

    Attributes:
        caseload: the caseload file; contacts: the contacts file or None.
        out: the run folder to write.
        rules_file: a rules TOML, or None for the defaults; size overrides the rules' size.
        params: search parameters.
        sheet, allow_missing_contact: reading options.
        formats: extra output formats (xlsx, parquet).
        force: replace a non-empty run folder.
    """

    caseload: Path | None
    out: Path
    contacts: Path | None = None
    rules_file: Path | None = None
    size: int | None = None
    params: SelectionParams = field(default_factory=SelectionParams)
    sheet: str | None = None
    allow_missing_contact: bool = False
    formats: tuple[str, ...] = ()
    force: bool = False
    annex: AnnexOptions | None = None


def request_rules(request: RunRequest) -> Rules:
    """The rules a request asks for (file or defaults, with any size override)."""
    rules = load_rules(request.rules_file) if request.rules_file else DEFAULT_RULES
    return rules.with_size(request.size) if request.size is not None else rules


def run_selection(request: RunRequest) -> tuple[Caseload, Solution]:
    """Load, validate, solve and write one run folder.

    Raises:
        SelectorError: bad input (2), impossible rules (3) or no answer in time (1).
    """
    check_output_folder(request.out, request.force)
    rules = request_rules(request)
    loaded = load_caseload(request.caseload, request.contacts, sheet=request.sheet,
                           allow_missing_contact=request.allow_missing_contact, annex=request.annex)
    solution = solve(loaded.frame, rules, request.params)
    info = RunInfo(
        caseload=loaded.source, caseload_path=str(Path(request.caseload).resolve()) if request.caseload else "",
        caseload_sha256=loaded.source_sha256, rows=len(loaded.frame),
        eligible=int(loaded.frame["eligible"].sum()), contacts=loaded.contacts_source,
        contacts_path=str(Path(request.contacts).resolve()) if request.contacts else "",
        contacts_sha256=loaded.contacts_sha256,
        options={"sheet": request.sheet, "allow_missing_contact": request.allow_missing_contact,
                 "formats": list(request.formats), **_annex_record(request.annex)},
    )
    write_folder(request.out, run_files(loaded.frame, loaded.all_contacts, solution, info, request.formats),
                 request.force)
    return loaded, solution


def _annex_record(annex: AnnexOptions | None) -> dict[str, object]:
    """The Annex A options as run.json keeps them (so that `replace` can read the lists again)."""
    if annex is None or not (annex.list1 or annex.list2 or annex.mapping or annex.ap_urns or annex.as_of):
        return {}

    def path(p: Path | None) -> str | None:
        return str(Path(p).resolve()) if p else None

    return {"annex_a": {"list1": path(annex.list1), "list2": path(annex.list2), "mapping": path(annex.mapping),
                        "ap_urns": path(annex.ap_urns),
                        # The date ages were taken at, so that `replace` reads the lists alike.
                        "as_of": (annex.as_of or dt.date.today()).isoformat()}}
