"""Choosing: the ranked cohorts and reserves of a validated caseload, and the run folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..contract.rules import Rules
from ..contract.seeds import random_seed, rules_sha256, seed_from_phrase
from ..io.folders import check_output_folder, output_lock, write_folder
from ..io.run_record import ConsentEvent, Replacement, ReplacementEvent
from ..report.files import run_files
from ..report.record import make_record
from ..solve import Problem, SelectionParams, Solution, build_problem, solve
from ..solve.lottery import StoredLottery
from ..validate import Caseload
from .loading import Progress, Sources, inputs_of, load, read_rules, too_few


@dataclass(frozen=True)
class SelectRequest:
    """One selection run into a run folder.

    Attributes:
        sources: the caseload and how to read it.
        out: the run folder to write.
        rules_file: a rules TOML, or None for the defaults; size overrides the rules' size.
        params: the search parameters.
        formats: extra outputs (xlsx, parquet).
        force: replace an earlier run folder.
    """

    sources: Sources
    out: Path
    rules_file: Path | None = None
    size: int | None = None
    params: SelectionParams = field(default_factory=SelectionParams)
    formats: tuple[str, ...] = ()
    force: bool = False

    @property
    def inputs(self) -> tuple[Path, ...]:
        """Every file the run reads: no output may be, or hold, one of them."""
        return inputs_of(self.sources, self.rules_file)


@dataclass(frozen=True)
class SelectResult:
    """A finished run: the validated caseload, the solution and where it was written."""

    caseload: Caseload
    solution: Solution
    out: Path


# Lotteries worked out in this process, by key (`lottery_key`): the scenarios of a batch and the
# page's runs on the same candidates, rules and work draw from one lottery, worked out once.
KNOWN_LOTTERIES: dict[str, StoredLottery] = {}
KNOWN_MOST = 4  # lotteries kept (one at 60,000 children is a few megabytes)


def remember(lottery: StoredLottery | None) -> None:
    """Keep a lottery for this process's later runs (the oldest goes first)."""
    if lottery is None:
        return
    KNOWN_LOTTERIES.pop(lottery.key, None)
    KNOWN_LOTTERIES[lottery.key] = lottery
    while len(KNOWN_LOTTERIES) > KNOWN_MOST:
        KNOWN_LOTTERIES.pop(next(iter(KNOWN_LOTTERIES)))


def choose(caseload: Caseload, rules: Rules, params: SelectionParams, progress: Progress | None = None,
           reuse: bool = True) -> Solution:
    """Ranked cohorts and reserves for a validated caseload (nothing written); the seed is made
    as the parameters ask (`settled_seed`), and the solution's parameters hold it. With `reuse`,
    a lottery this process worked out before for the same candidates, rules and work is drawn
    from again (the outputs are the same); `verify` works everything out anew.

    Raises:
        InfeasibleSelectionError: too few children can be chosen (and why), or the rules cannot be met.
    """
    short = too_few(caseload, rules)
    if short is not None:
        raise short
    solution = solve(problem_of(caseload, rules, progress), settled_seed(params, caseload, rules), progress=progress,
                     known=KNOWN_LOTTERIES if reuse else None)
    if reuse and solution.lottery is not None:
        remember(solution.lottery.stored)
    return solution


def select(request: SelectRequest, progress: Progress | None = None,
           on_loaded: Callable[[Caseload], None] | None = None) -> SelectResult:
    """Load, validate, choose and write one run folder. `on_loaded` is told the caseload once it
    is read and valid (a batch's summary counts its rows even when no cohort can be chosen).

    Raises:
        SelectorError: bad input (2), impossible rules (3) or no answer in time (1).
    """
    with output_lock(request.out):
        check_output_folder(request.out, request.force, request.inputs)
        if progress is not None:
            progress("reading the caseload")
        caseload = load(request.sources)
        if on_loaded is not None:
            on_loaded(caseload)
        rules = read_rules(request.rules_file, request.size, caseload)
        solution = choose(caseload, rules, request.params, progress)
        if progress is not None:
            progress("writing the run folder")
        write_run(request.out, caseload, solution, request.sources, request.formats, request.force, None,
                  request.inputs)
    return SelectResult(caseload, solution, request.out)


def settled_seed(params: SelectionParams, caseload: Caseload, rules: Rules) -> SelectionParams:
    """The parameters with the seed made as they ask: drawn from the operating system's secure
    random source, or from the phrase with the caseload's and the rules' SHA-256, or as given."""
    if params.seed_source == "random":
        return replace(params, seed=random_seed())
    if params.seed_source == "phrase":
        return replace(params, seed=seed_from_phrase(params.seed_phrase, caseload.source_sha256,
                                                     rules_sha256(rules.to_dict())))
    return params


def write_run(out: Path, caseload: Caseload, solution: Solution, sources: Sources | None,
              formats: tuple[str, ...] = (), force: bool = False, replaced: Replacement | None = None,
              inputs: tuple[Path, ...] = (), consent: tuple[ConsentEvent, ...] = (),
              replacements: tuple[ReplacementEvent, ...] = ()) -> None:
    """Write a run folder all at once: the tables, reports and the run record (never over an input)."""
    record = replace(make_record(caseload, sources, solution, formats, replaced), consent=consent,
                     replacements=replacements)
    files = run_files(caseload.frame, caseload.all_contacts, solution, record, formats, caseload.kept_headers)
    write_folder(out, files, force, (*inputs, *(sources.paths if sources else ())))


def problem_of(caseload: Caseload, rules: Rules, progress: Progress | None) -> Problem:
    if progress is not None:
        progress("reading the rules and candidates")
    return build_problem(caseload.frame, rules)
