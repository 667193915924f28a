"""The audit: the lottery select draws cohort 1 from, drawn many times and tested against its
computed chances, computed again on the rows shuffled, each cohort drawn checked independently."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .. import __version__, check
from ..contract.errors import InputError, RunRecordError
from ..contract.rules import Rules, rules_from_dict
from ..io.folders import check_output_folder, output_lock, write_folder
from ..io.run_record import LOTTERY_FILE, RUN_RECORD_NAME, read_recorded_json, read_run_record
from ..io.tables import frame_to_csv_bytes
from ..report.audit import SIGNIFICANCE, audit_frame, audit_sections
from ..report.chances import chances_frame
from ..report.render import render_html, render_markdown
from ..solve import SelectionParams
from ..solve.audit import Audit, audit_lottery
from ..solve.lottery import Chances, Lottery, StoredLottery, chances_of, draw, lottery_key
from ..solve.lottery.stored import restored
from ..solve.problem import Problem
from ..solve.search import solve_cohort
from ..validate import Caseload
from .loading import Progress, Sources, inputs_of, load, read_rules
from .replace import check_same_inputs, recorded_params, recorded_sources
from .selection import problem_of


@dataclass(frozen=True)
class AuditRequest:
    """An audit of the lottery: N draws tested against the computed chances, and a shuffle.

    Attributes:
        sources: the caseload and how to read it.
        out: the folder to write (audit.md, audit.html, audit.csv, chances.csv, the charts).
        rules_file: a rules TOML, or None for the defaults (or `rules`).
        params: seed (the first draw's), slack, lottery work and time limit.
        draws: how many lotteries to draw.
        force: replace an earlier audit folder.
        lottery_from: a run folder whose lottery (lottery.json) is audited instead of working it
            out anew; it must have been worked out from these candidates, rules, slack and work.
    """

    sources: Sources
    out: Path
    rules_file: Path | None = None
    params: SelectionParams = field(default_factory=SelectionParams)
    draws: int = 1000
    force: bool = False
    lottery_from: Path | None = None
    rules: Rules | None = None  # the rules as data (a run record's), in place of a file

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Every file the audit reads: no output may be, or hold, one of them."""
        kept = (self.lottery_from / RUN_RECORD_NAME, self.lottery_from / LOTTERY_FILE) if self.lottery_from else ()
        return (*inputs_of(self.sources, self.rules_file), *kept)


@dataclass(frozen=True)
class AuditResult:
    """The audit: the lottery, what the draws showed, and the largest change in any chance when
    the rows were shuffled."""

    caseload: Caseload
    lottery: Chances
    audit: Audit
    shuffle_difference: float
    off_cohorts: int  # distinct cohorts drawn that break a rule or fall short of the lottery's score
    folder: Path
    lottery_from: Path | None = None  # the run folder whose kept lottery was audited

    @property
    def deviates(self) -> bool:
        """The draws or the shuffle show the lottery is not what it says."""
        return (self.audit.overall_p < SIGNIFICANCE or self.audit.smallest_p_adjusted < SIGNIFICANCE
                or self.shuffle_difference > 0 or self.off_cohorts > 0)


def audit(request: AuditRequest, progress: Progress | None = None,
          on_loaded: Callable[[Caseload], None] | None = None) -> AuditResult:
    """Compute the lottery, draw it N times, test the counts against the chances, compute it again
    on the rows shuffled, and write the audit folder. `on_loaded` is told the caseload once it is
    read and valid, as `select`'s.

    Raises:
        SelectorError: bad input (2), impossible rules (3).
    """
    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    params, inputs = request.params, request.inputs
    with output_lock(request.out):
        check_output_folder(request.out, request.force, inputs)
        caseload = load(request.sources)
        if on_loaded is not None:
            on_loaded(caseload)
        rules = request.rules if request.rules is not None else read_rules(request.rules_file, None, caseload)
        problem = problem_of(caseload, rules, progress)
        step("the best score")
        optimum = solve_cohort(problem, replace(params, sets=1)).score
        kept = kept_lottery(request.lottery_from, problem, params, optimum) if request.lottery_from else None
        if kept is not None:
            step(f"the lottery: as {request.lottery_from} kept it ({LOTTERY_FILE}), not worked out again")
        audited = audit_lottery(problem, params, optimum, request.draws, progress, kept=kept)
        lottery, result, difference = audited.lottery, audited.audit, audited.shuffle_difference
        step("each cohort drawn, by the independent checker")
        ids = problem.child_ids.astype(str)
        children = check.children_of(caseload.frame)  # read once for every cohort drawn
        off = sum(1 for cohort in set(audited.cohorts)
                  if check.violations(children, [ids[i] for i in cohort], rules)
                  or check.score(children, [ids[i] for i in cohort], rules) < lottery.threshold)
        chances = chances_of(problem, lottery, optimum, params, draw(lottery, params.seed))
        drawn = pd.Series(result.counts, index=ids)
        sections = audit_sections(caseload.frame, chances, result, drawn, difference, rules.size, off)
        title = f"Audit of the lottery for {request.sources.caseload.name if request.sources.caseload else 'the lists'}"
        files = {
            "audit.md": render_markdown(title, sections).encode(),
            "audit.html": render_html(title, sections).encode(),
            "audit.csv": frame_to_csv_bytes(audit_frame(result)),
            "chances.csv": frame_to_csv_bytes(chances_frame(chances)),
            **{chart.name: chart.svg.encode() for section in sections for chart in section.charts},
        }
        write_folder(request.out, files, request.force, inputs)
    return AuditResult(caseload, chances, result, difference, off, request.out, request.lottery_from)


def audit_of_run(run_dir: Path, out: Path, *, draws: int = 1000, seed: int = 0, time_limit_s: float = 600.0,
                 force: bool = False) -> AuditRequest:
    """An audit of the lottery a run folder kept, from what the run was made from: the caseload
    and contacts where its record names them (byte for byte those it read), its rules, slack and
    lottery work. `seed` is the first draw's.

    Raises:
        RunRecordError: no run folder, or its record is damaged.
        InputError: a file the run read is missing or changed, or the run was made on the web
            page (whose record keeps no paths).
    """
    record = read_run_record(run_dir)
    if record.replaced is not None:
        # A replacement draws its newcomers from the lottery over ways to fill the freed slots,
        # kept nowhere; the lottery cohort 1 came from is the first run's.
        raise InputError(f"{run_dir}: a replacement run (made from {record.replaced.from_run}) keeps no lottery of "
                         "its own; the lottery cohort 1 was drawn from is kept by the run the week started from.",
                         "replacement_no_lottery", fix="Audit the lottery of the run the week started from.")
    if record.input.made_from_uploads:
        raise InputError(f"{run_dir}: made on the web page, whose record keeps the names of the files uploaded, not "
                         "where they are.", "audit_needs_files",
                         fix="Give the caseload and contacts the run was made from, with the run folder.")
    sources = recorded_sources(record, run_dir=run_dir)
    check_same_inputs(record, sources, run_dir)
    recorded = recorded_params(record, run_dir)
    params = SelectionParams(seed=seed, time_limit_s=time_limit_s, slack=recorded.slack,
                             lottery_work=recorded.lottery_work)
    return AuditRequest(sources=sources, out=out, params=params, draws=draws, force=force, lottery_from=run_dir,
                        rules=rules_from_dict(record.rules, source=f"{run_dir}/{RUN_RECORD_NAME}"))


def kept_lottery(run_dir: Path, problem: Problem, params: SelectionParams, optimum: int) -> Lottery:
    """The lottery a run folder kept, on this problem's rows.

    Raises:
        RunRecordError: the folder has no kept lottery, or it changed since the run.
        InputError: it was worked out from other candidates, rules, slack or lottery work.
    """
    record = read_run_record(run_dir)
    try:
        stored = StoredLottery.from_dict(read_recorded_json(run_dir, LOTTERY_FILE, record))
    except ValueError as exc:
        raise RunRecordError(f"{run_dir}/{LOTTERY_FILE}: {exc}.", "bad_run", where=str(run_dir)) from exc
    same_inputs = stored.key == lottery_key(problem, params, optimum)
    lottery = restored(problem, stored) if same_inputs else None
    if same_inputs and lottery is None:
        raise RunRecordError(f"{run_dir}/{LOTTERY_FILE}: not a lottery selector wrote for these inputs, though its "
                             "key is theirs: it was edited. Leave --lottery-from out to work the lottery out again.",
                             "bad_run", where=str(run_dir))
    if lottery is None and record.version != __version__:
        # The key holds the version too: a lottery is taken again only by the version that made it.
        raise InputError(
            f"{run_dir}/{LOTTERY_FILE} was worked out by selector {record.version}, and this is selector "
            f"{__version__}: a kept lottery is used only by the version that worked it out.", "lottery_mismatch",
            where=str(run_dir),
            fix=f"Leave --lottery-from out (the audit works the lottery out again), or audit with selector "
                f"{record.version}.")
    if lottery is None:
        raise InputError(
            f"{run_dir}/{LOTTERY_FILE} was worked out from other candidates, rules, slack or lottery work than "
            "this audit's.", "lottery_mismatch", where=str(run_dir),
            fix="Give the run's caseload and contacts, and its --rules, --slack and --lottery-work (run.json lists "
                "them), or leave --lottery-from out.")
    return lottery
