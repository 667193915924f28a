"""The run record of a solution: what was read and how, the rules, the search, the lottery and
the cohorts, as run.json keeps them (io/run_record.py writes and reads it)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import pandas as pd

from ..io.options import ReadOptions
from ..io.run_record import CohortRecord, InputRecord, Replacement, RunRecord
from ..solve import Solution
from ..validate import Caseload


class ReadFrom(Protocol):
    """Where a run's caseload was read from (the application's `Sources`)."""

    @property
    def caseload(self) -> Path | None: ...
    @property
    def contacts(self) -> Path | None: ...
    @property
    def sheet(self) -> str | None: ...
    @property
    def options(self) -> ReadOptions: ...
    @property
    def allow_missing_contact(self) -> bool: ...
    @property
    def uploaded(self) -> bool: ...


def input_record(caseload: Caseload, sources: ReadFrom | None, formats: tuple[str, ...] = (),
                 declined: Iterable[str] = ()) -> InputRecord:
    """What was read, for the run record (paths only when read from files; files uploaded to the
    web page by the names they were uploaded under, never where the page kept them)."""
    frame = caseload.frame
    annex = None
    options = sources.options if sources is not None else ReadOptions()
    paths = sources is not None and not sources.uploaded
    if options.given or caseload.as_of is not None:
        # The date the ages were taken at, so that a replacement or a verification days later reads them alike.
        annex = {**options.recorded(names_only=not paths), "as_of": caseload.as_of.isoformat() if caseload.as_of else None}
    gone = set(declined)
    eligible = int((frame["eligible"] & ~frame["child_id"].isin(gone)).sum())
    return InputRecord(
        caseload=caseload.source,
        caseload_path=(_full_path(sources.caseload) or "") if sources and paths else "",
        caseload_sha256=caseload.source_sha256,
        contacts=caseload.contacts_source,
        contacts_path=(_full_path(sources.contacts) or "") if sources and paths else "",
        contacts_sha256=caseload.contacts_sha256,
        rows=len(frame), eligible=eligible,
        sheet=sources.sheet if sources else None,
        allow_missing_contact=sources.allow_missing_contact if sources else False,
        formats=formats, annex_a=annex, keep_columns=caseload.kept_columns,
        warnings=warnings_where(caseload.warnings),
    )


def warnings_where(warnings: pd.DataFrame) -> tuple[str, ...]:
    """What the list was read with warnings about: each file and column with its rows, and what
    the first says (its value, of a contract column, as `validate` quotes it).

    >>> warnings_where(pd.DataFrame({"file": ["c.csv", "c.csv", "c.csv"], "row": [1, 4, 9],
    ...     "column": ["", "services", "services"], "value": ["", "EP, OT", "SALT, EP"],
    ...     "problem": ["the row above the column headers (row 2) was left out", "is read as one", "is read as one"]}))
    ('c.csv, row 1: the row above the column headers (row 2) was left out', "c.csv, column 'services', 2 rows, the first 'EP, OT' is read as one")
    """
    said = []
    for (file, column), group in warnings.groupby(["file", "column"], sort=False):
        first = group.iloc[0]
        value = f"'{first['value']}' " if str(first["value"]) else ""
        if len(group) > 1:
            said.append(f"{file}, column '{column}', {len(group):,} rows, the first {value}{first['problem']}")
        else:
            where = f"{file}, row {first['row']}" + (f", column '{column}'" if column else "")
            said.append(f"{where}: {value}{first['problem']}")
    return tuple(said)


def make_record(caseload: Caseload, sources: ReadFrom | None, solution: Solution, formats: tuple[str, ...] = (),
                replaced: Replacement | None = None) -> RunRecord:
    """The run record of a solution."""
    p = solution.params
    return RunRecord(
        version=solution.version,
        input=input_record(caseload, sources, formats, replaced.all_declined if replaced else ()),
        rules=solution.rules.to_dict(),
        dropped_rules=tuple(solution.dropped),
        seed=p.seed,
        params={"sets": p.sets, "max_overlap": p.max_overlap, "time_limit_s": p.time_limit_s,
                "workers": p.workers, "reserves": p.reserves, "relax": p.relax, "slack": p.slack,
                "lottery_work": p.lottery_work, "seed_source": p.seed_source, "seed_phrase": p.seed_phrase},
        solver=dict(solution.solver),
        lottery=lottery_record(solution),
        notes=tuple(solution.notes),
        as_of=caseload.as_of.isoformat() if caseload.as_of else None,
        candidates=solution.candidates,
        cohorts=tuple(
            CohortRecord(rank=c.rank, score=c.score, status=c.status, bound=c.bound, seconds=c.seconds,
                         members=c.members,
                         reserves={m: tuple(solution.reserves.get(m, ())) for m in c.members} if c.rank == 1 else {})
            for c in solution.cohorts),
        replaced=replaced,
    )


def lottery_record(solution: Solution) -> dict[str, object]:
    """How cohort 1 was drawn, for the run record (the chances themselves are in chances.csv)."""
    lottery = solution.lottery
    if lottery is None:
        return {}
    return {"proved": lottery.proved, "complete": lottery.complete, "reproducible": lottery.reproducible,
            "levels": lottery.levels, "columns": lottery.columns, "optimum": lottery.optimum,
            "threshold": lottery.threshold, "slack_percent": lottery.slack_percent,
            "drawn_score": lottery.drawn_score, "possible": lottery.possible, "smallest": lottery.smallest,
            "largest": lottery.largest, "largest_without_slack": lottery.largest_without_slack,
            "bound": lottery.bound, "certified": lottery.certified, "first_level": lottery.first_level_reached,
            "work": solution.params.lottery_work, "seconds": lottery.seconds,
            **({"key": lottery.stored.key} if lottery.stored is not None else {})}


def _full_path(path: Path | None) -> str | None:
    return str(Path(path).resolve()) if path else None
