"""The selection model: a problem in, ranked cohorts out, with CP-SAT. Pure: no files, no printing.

One boolean per candidate child; one small function per hard rule and per objective term.
Each cohort is found in two steps: the best score is proved first, then, with the score held
at that optimum, a seeded random weight picks among the equally good cohorts, so that no child
is favoured and the same seed always gives the same cohort.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from . import __version__
from .errors import InfeasibleSelectionError, RulesError, SolverError
from .rules import CountRule, Dimension, Rules, SpreadRule

OPTIMAL, FEASIBLE = "OPTIMAL", "FEASIBLE"
# Work allowed to the seeded tie-break among equally good cohorts, in CP-SAT's deterministic
# time units, so that the same seed gives the same cohort on any machine.
TIE_BREAK_DETERMINISTIC_TIME = 0.2
RANDOM_WEIGHT_RANGE = 1000
# Above this many candidates, a seeded random pool is solved first (see solve_cohort):
# POOL_RANDOM children at random plus POOL_PER_VALUE holders of every value.
POOL_THRESHOLD = 800
POOL_RANDOM = 200
POOL_PER_VALUE = 5


@dataclass(frozen=True)
class SelectionParams:
    """How to search.

    Attributes:
        seed: picks among equally good cohorts (same seed, same cohorts).
        time_limit_s: wall-time limit for proving each cohort; the best found is kept.
        workers: CP-SAT search workers; 1 is deterministic and measured fastest here.
        sets: number of ranked cohorts.
        max_overlap: members a cohort may share with each better-ranked cohort.
        reserves: reserves listed per slot of cohort 1.
        relax: when the rules cannot all hold, drop the fewest, lowest-priority ones.
        pool_threshold: above this many candidates, try a random pool first (exact either way).
    """

    seed: int = 0
    time_limit_s: float = 60.0
    workers: int = 1
    sets: int = 5
    max_overlap: int = 3
    reserves: int = 3
    relax: bool = False
    pool_threshold: int = POOL_THRESHOLD

    def __post_init__(self) -> None:
        if self.sets < 1:
            raise ValueError("sets must be at least 1")
        if self.max_overlap < 0:
            raise ValueError("max_overlap must be at least 0")
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")


@dataclass(frozen=True)
class RuleStats:
    """How many children could satisfy a rule: eligible ones, and ineligible ones besides."""

    eligible: int
    ineligible: int


@dataclass(frozen=True)
class Problem:
    """The candidates and rules as the model reads them (indices are candidate positions).

    Attributes:
        child_ids: candidate children's ids, in caseload order.
        rules: the rules in force.
        count_members: for each count rule, the candidates having one of its values.
        spread_groups: for each spread rule, groups of candidates sharing a value, only the
            groups larger than the rule's max (smaller ones cannot break it).
        spread_keys: for each spread rule, each candidate's value ("" = unknown).
        coverage: for each dimension, (value, candidates having it) pairs.
        rule_stats: for each hard rule name, the counts available, for messages.
        ineligible_count: children left out (excluded or without a contact).
    """

    child_ids: np.ndarray
    rules: Rules
    count_members: tuple[np.ndarray, ...]
    spread_groups: tuple[tuple[np.ndarray, ...], ...]
    spread_keys: tuple[np.ndarray, ...]
    coverage: tuple[tuple[tuple[str, np.ndarray], ...], ...]
    rule_stats: dict[str, RuleStats] = field(default_factory=dict)
    ineligible_count: int = 0

    @property
    def n(self) -> int:
        return len(self.child_ids)


@dataclass(frozen=True)
class Cohort:
    """One ranked cohort.

    Attributes:
        rank: 1 is the best.
        members: child ids, in slot order.
        score: objective value.
        status: OPTIMAL (proved) or FEASIBLE (time limit; `bound` is the best possible).
        bound: the proven upper bound on the score.
        seconds: wall time to find and prove it, model building included.
    """

    rank: int
    members: tuple[str, ...]
    score: int
    status: str
    bound: int
    seconds: float


@dataclass(frozen=True)
class Solution:
    """The result of a selection run.

    Attributes:
        cohorts: ranked cohorts (fewer than asked when no more exist under the overlap limit).
        reserves: for each member of cohort 1, up to N reserve child ids, best first.
        rules: the rules the cohorts meet (after any --relax).
        dropped: names of rules --relax dropped.
        params: the parameters used.
        candidates: eligible children considered.
        version: selector's version.
        solver: CP-SAT parameters that matter, for the record.
    """

    cohorts: tuple[Cohort, ...]
    reserves: dict[str, tuple[str, ...]]
    rules: Rules
    dropped: tuple[str, ...]
    params: SelectionParams
    candidates: int
    version: str = __version__
    solver: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------- building the problem

def cell_values(series: pd.Series, column: str) -> list[list[str]] | np.ndarray:
    """The values each cell holds, upper-cased; `services` cells as lists."""
    if series.dtype == bool:
        return np.where(series.to_numpy(), "TRUE", "FALSE").astype(object)
    if column == "services":
        # Few distinct service lists exist, so split each distinct one once.
        codes, uniques = pd.factorize(series.astype(str), sort=False)
        split = [[p.strip().upper() for p in str(u).split(";") if p.strip()] for u in uniques]
        return [split[c] if c >= 0 else [] for c in codes]
    return series.astype(str).str.strip().str.upper().to_numpy(dtype=object)


def _spread_column(rule: SpreadRule) -> str:
    return "practitioner_key" if rule.is_practitioner else rule.column


def build_problem(caseload: pd.DataFrame, rules: Rules) -> Problem:
    """The model's view of a validated caseload under `rules`.

    Args:
        caseload: the validated caseload frame (every child, with `eligible`).
        rules: the rules in force.

    Raises:
        RulesError: a count rule or objective names a column the caseload does not have.
    """
    for rule in rules.counts:
        if rule.column not in caseload.columns:
            raise RulesError(
                f"rule '{rule.name}': the caseload has no column '{rule.column}'. "
                "Correct the column in the rules file or add it to the caseload.",
                "unknown_column",
            )
    eligible_mask = caseload["eligible"].to_numpy(dtype=bool)
    candidates = caseload.loc[eligible_mask]
    ineligible = caseload.loc[~eligible_mask]
    stats: dict[str, RuleStats] = {}

    count_members = []
    for rule in rules.counts:
        members = np.flatnonzero(_matches(candidates[rule.column], rule))
        count_members.append(members)
        stats[rule.name] = RuleStats(len(members), int(_matches(ineligible[rule.column], rule).sum()))

    spread_groups, spread_keys = [], []
    for rule in rules.spreads:
        column = _spread_column(rule)
        if column not in candidates.columns:
            keys = np.full(len(candidates), "", dtype=object)
        else:
            keys = candidates[column].astype(str).str.strip().to_numpy(dtype=object)
        spread_keys.append(keys)
        spread_groups.append(_groups_over(keys, rule.max))
        known = int((keys != "").sum())
        stats[rule.name] = RuleStats(len(np.unique(keys[keys != ""])) if known else 0, 0)

    coverage = []
    for dim in rules.dimensions:
        coverage.append(_dimension_values(candidates, dim))

    return Problem(
        child_ids=candidates["child_id"].to_numpy(dtype=object),
        rules=rules,
        count_members=tuple(count_members),
        spread_groups=tuple(spread_groups),
        spread_keys=tuple(spread_keys),
        coverage=tuple(coverage),
        rule_stats=stats,
        ineligible_count=int((~eligible_mask).sum()),
    )


def _matches(series: pd.Series, rule: CountRule) -> np.ndarray:
    values = cell_values(series, rule.column)
    wanted = set(rule.values)
    if rule.column == "services":
        return np.array([bool(wanted.intersection(v)) for v in values], dtype=bool)
    return np.isin(np.asarray(values, dtype=object), list(wanted))


def _groups_over(keys: np.ndarray, limit: int) -> tuple[np.ndarray, ...]:
    """Groups of positions sharing a known key, only those with more than `limit` members."""
    known = np.flatnonzero(keys != "")
    if len(known) == 0:
        return ()
    _codes, inverse, counts = np.unique(keys[known], return_inverse=True, return_counts=True)
    big = np.flatnonzero(counts > limit)
    if len(big) == 0:
        return ()
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)))
    return tuple(known[order[starts[g]:starts[g + 1]]] for g in big)


def _dimension_values(candidates: pd.DataFrame, dim: Dimension) -> tuple[tuple[str, np.ndarray], ...]:
    if dim.column not in candidates.columns or dim.weight == 0 or dim.cap == 0:
        return ()
    values = cell_values(candidates[dim.column], dim.column)
    if dim.multi_valued:
        pos = np.repeat(np.arange(len(values)), [len(v) for v in values])
        flat = np.array([x for v in values for x in v], dtype=object)
    else:
        flat = np.asarray(values, dtype=object)
        pos = np.arange(len(flat))
        keep = flat != ""
        flat, pos = flat[keep], pos[keep]
    if len(flat) == 0:
        return ()
    # Hash-based factorize (sorted values, so the model is the same for the same data).
    inverse, uniques = pd.factorize(pd.Series(flat, dtype=object), sort=True)
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=len(uniques))
    starts = np.concatenate(([0], np.cumsum(counts)))
    return tuple((str(u), pos[order[starts[i]:starts[i + 1]]]) for i, u in enumerate(uniques))


# ---------------------------------------------------------------- the CP-SAT model

class _Model:
    """A CP-SAT model of one cohort choice; each hard rule is guarded by a literal so that
    infeasibility can be explained and rules relaxed."""

    def __init__(self, problem: Problem, guarded: bool = False, *, earlier: Sequence[Sequence[int]] = (),
                 fixed: Sequence[int] = (), max_overlap: int = 0) -> None:
        self.problem = problem
        self.guarded = guarded
        self.model = cp_model.CpModel()
        self.x = [self.model.new_bool_var(f"x{i}") for i in range(problem.n)]
        self.guards: dict[str, cp_model.IntVar] = {}
        add_size(self)
        for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
            add_count_rule(self, rule, members)
        for rule, groups in zip(problem.rules.spreads, problem.spread_groups, strict=True):
            add_spread_rule(self, rule, groups)
        self.score = sum(
            (add_coverage_term(self, dim, values)
             for dim, values in zip(problem.rules.dimensions, problem.coverage, strict=True)),
            start=cp_model.LinearExpr.constant(0) if hasattr(cp_model.LinearExpr, "constant") else 0,
        )
        add_overlap_limit(self, earlier, max_overlap)
        for i in fixed:
            self.model.add(self.x[i] == 1)

    def guard(self, name: str) -> list[cp_model.IntVar]:
        """The enforcement literals for a rule: none in a plain model (guards would stop
        CP-SAT's presolve), one when explaining or relaxing infeasibility."""
        if not self.guarded:
            return []
        literal = self.model.new_bool_var(f"rule:{name}")
        self.guards[name] = literal
        return [literal]


def add_size(m: _Model) -> None:
    """Exactly `size` children."""
    m.model.add(sum(m.x) == m.problem.rules.size)


def add_overlap_limit(m: _Model, earlier: Sequence[Sequence[int]], max_overlap: int) -> None:
    """At most `max_overlap` members shared with each better-ranked cohort."""
    for cohort in earlier:
        if cohort:
            m.model.add(sum(m.x[i] for i in cohort) <= max_overlap)


def add_count_rule(m: _Model, rule: CountRule, members: np.ndarray) -> None:
    """At least `min` / at most `max` of the children having the rule's values."""
    guard = m.guard(rule.name)
    chosen = sum(m.x[i] for i in members)
    if rule.min is not None:
        m.model.add(chosen >= rule.min).only_enforce_if(*guard)
    if rule.max is not None:
        m.model.add(chosen <= rule.max).only_enforce_if(*guard)


def add_spread_rule(m: _Model, rule: SpreadRule, groups: Sequence[np.ndarray]) -> None:
    """At most `max` children from each group sharing a setting or practitioner."""
    guard = m.guard(rule.name)
    for group in groups:
        if rule.max == 1:
            m.model.add_at_most_one(m.x[i] for i in group).only_enforce_if(*guard)
        else:
            m.model.add(sum(m.x[i] for i in group) <= rule.max).only_enforce_if(*guard)


def add_coverage_term(m: _Model, dim: Dimension, values: Sequence[tuple[str, np.ndarray]]) -> cp_model.LinearExpr:
    """weight x (values covered, up to cap): a value counts only if a chosen child has it."""
    covered = []
    for value, members in values:
        y = m.model.new_bool_var(f"cov:{dim.column}={value}")
        m.model.add_bool_or([m.x[i] for i in members]).only_enforce_if(y)
        covered.append(y)
    if len(covered) > dim.cap:
        m.model.add(sum(covered) <= dim.cap)
    return dim.weight * sum(covered)


# ---------------------------------------------------------------- solving

def _solver(params: SelectionParams, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    if params.workers == 1:
        # Measured (MEASURED.md, and benchmarks/): one worker with the full linear relaxation
        # proves these models as fast as several workers with the defaults.
        solver.parameters.linearization_level = 2
    return solver


def solver_record(params: SelectionParams) -> dict[str, object]:
    """The solver settings recorded in run.json."""
    return {
        "engine": "OR-Tools CP-SAT",
        "ortools": _ortools_version(),
        "num_workers": params.workers,
        "random_seed": params.seed,
        "max_time_in_seconds": params.time_limit_s,
        "linearization_level": 2 if params.workers == 1 else 1,
        "tie_break_max_deterministic_time": TIE_BREAK_DETERMINISTIC_TIME,
    }


def _ortools_version() -> str:
    import ortools

    return str(ortools.__version__)


def upper_bound(problem: Problem) -> int:
    """A score no cohort can beat: each dimension's weight x the fewest of its cap, the values
    the candidates offer, and (one value per child) the cohort size.

    A cohort reaching it is optimal for the whole caseload, however it was found.
    """
    total = 0
    for dim, values in zip(problem.rules.dimensions, problem.coverage, strict=True):
        reachable = min(dim.cap, len(values))
        if not dim.multi_valued:
            reachable = min(reachable, problem.rules.size)
        total += dim.weight * reachable
    return total


def pool_positions(problem: Problem, params: SelectionParams, rank: int,
                   fixed: Sequence[int] = ()) -> np.ndarray:
    """A seeded random pool of candidates that very likely holds a best cohort: a random
    sample, plus a few random holders of every value and members of every count rule (so
    rare values are always there), plus the children who must stay."""
    rng = np.random.default_rng([params.seed, rank, problem.n, 7])
    chosen = np.zeros(problem.n, dtype=bool)
    chosen[rng.choice(problem.n, size=min(POOL_RANDOM, problem.n), replace=False)] = True
    for values in problem.coverage:
        for _value, holders in values:
            chosen[rng.permutation(holders)[:POOL_PER_VALUE]] = True
    for rule, members in zip(problem.rules.counts, problem.count_members, strict=True):
        chosen[rng.permutation(members)[:POOL_PER_VALUE + (rule.min or 0)]] = True
    chosen[list(fixed)] = True
    return np.flatnonzero(chosen)


def subset(problem: Problem, positions: np.ndarray) -> Problem:
    """The problem restricted to some candidates (positions in increasing order)."""
    new = np.full(problem.n, -1)
    new[positions] = np.arange(len(positions))

    def inside(members: np.ndarray) -> np.ndarray:
        mapped = new[members]
        return mapped[mapped >= 0]

    keys = tuple(k[positions] for k in problem.spread_keys)
    return replace(
        problem,
        child_ids=problem.child_ids[positions],
        count_members=tuple(inside(m) for m in problem.count_members),
        spread_keys=keys,
        spread_groups=tuple(_groups_over(k, r.max) for k, r in zip(keys, problem.rules.spreads, strict=True)),
        coverage=tuple(tuple((v, inside(h)) for v, h in values if len(inside(h))) for values in problem.coverage),
    )


@dataclass(frozen=True)
class _Found:
    chosen: tuple[int, ...]
    score: int
    bound: int
    proved: bool


def solve_cohort(
    problem: Problem,
    params: SelectionParams,
    *,
    rank: int = 1,
    earlier: Sequence[Sequence[int]] = (),
    fixed: Sequence[int] = (),
) -> Cohort:
    """The best cohort, proved optimal within the time limit.

    Large caseloads are first solved on a seeded random pool of candidates; when the pool's
    best reaches `upper_bound` of the whole caseload it is proved optimal for the whole. If
    not, the whole caseload is solved, starting from the pool's cohort.

    Args:
        problem: candidates and rules.
        params: seed, time limit, workers, overlap limit.
        rank: the rank recorded on the cohort.
        earlier: better-ranked cohorts (candidate positions); at most `max_overlap` shared with each.
        fixed: candidate positions that must be in the cohort (replacement keeps them).

    Raises:
        InfeasibleSelectionError: no cohort meets the rules (with the conflicting rules named).
        SolverError: the time limit came before any cohort was found.
    """
    started = time.perf_counter()
    _check_enough_candidates(problem, fixed)
    bound = upper_bound(problem)
    if problem.n > params.pool_threshold:
        positions = pool_positions(problem, params, rank, fixed)
        where = {int(p): i for i, p in enumerate(positions)}
        reached = _reach_bound(
            subset(problem, positions), params, rank, bound,
            earlier=[[where[i] for i in c if i in where] for c in earlier],
            fixed=[where[i] for i in fixed],
        )
        if reached is not None:
            return _cohort(problem, rank, [int(positions[i]) for i in reached], bound, bound, True, started)
    remaining = params.time_limit_s - (time.perf_counter() - started)
    found = _optimise(problem, params, rank, earlier=earlier, fixed=fixed,
                      time_limit=max(remaining, 0.5))
    if found is None:
        if earlier:
            raise _NoMoreCohorts()
        raise _explain_infeasible(problem, params, fixed)
    return _cohort(problem, rank, found.chosen, found.score, found.bound, found.proved, started)


def _reach_bound(pool: Problem, params: SelectionParams, rank: int, bound: int, *,
                 earlier: Sequence[Sequence[int]], fixed: Sequence[int]) -> tuple[int, ...] | None:
    """A cohort of the pool scoring `bound`, chosen by seeded random weights among all such
    cohorts of the pool (one solve: the score is known, only the choice is left); None when
    the pool has none within the tie-break's work limit."""
    m = _Model(pool, earlier=earlier, fixed=fixed, max_overlap=params.max_overlap)
    m.model.add(m.score >= bound)
    weights = np.random.default_rng([params.seed, rank, pool.n]).integers(1, RANDOM_WEIGHT_RANGE, size=pool.n)
    m.model.maximize(sum(int(w) * x for w, x in zip(weights, m.x, strict=True)))
    solver = _solver(params, params.time_limit_s)
    solver.parameters.max_deterministic_time = TIE_BREAK_DETERMINISTIC_TIME
    if solver.solve(m.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return tuple(i for i in range(pool.n) if solver.boolean_value(m.x[i]))
    return None


def _cohort(problem: Problem, rank: int, chosen: Sequence[int], score: int, bound: int,
            proved: bool, started: float) -> Cohort:
    return Cohort(
        rank=rank,
        members=tuple(str(problem.child_ids[i]) for i in sorted(chosen)),
        score=score,
        status=OPTIMAL if proved else FEASIBLE,
        bound=score if proved else bound,
        seconds=round(time.perf_counter() - started, 3),
    )


def _optimise(problem: Problem, params: SelectionParams, rank: int, *, earlier: Sequence[Sequence[int]],
              fixed: Sequence[int], time_limit: float) -> _Found | None:
    """Best score, then a seeded tie-break among the cohorts reaching it; None if infeasible.

    Raises:
        SolverError: the time limit came before any cohort was found.
    """
    m = _Model(problem, earlier=earlier, fixed=fixed, max_overlap=params.max_overlap)
    m.model.maximize(m.score)

    started = time.perf_counter()
    solver = _solver(params, time_limit)
    status = solver.solve(m.model)
    if status == cp_model.INFEASIBLE:
        return None
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolverError(
            f"no cohort found within the time limit of {params.time_limit_s:g} s "
            f"(solver status {solver.status_name(status)}). Raise --time-limit.",
            "no_solution",
        )
    best = round(solver.objective_value)
    bound = round(solver.best_objective_bound)
    chosen = [i for i in range(problem.n) if solver.boolean_value(m.x[i])]

    # Tie-break: hold the score at its optimum and let seeded random weights choose among
    # the equally good cohorts. The cohort from the first step is a valid start.
    m.model.add(m.score >= best)
    weights = np.random.default_rng([params.seed, rank, problem.n]).integers(
        1, RANDOM_WEIGHT_RANGE, size=problem.n)
    m.model.maximize(sum(int(w) * x for w, x in zip(weights, m.x, strict=True)))
    _hint(m, chosen)
    tie = _solver(params, max(time_limit - (time.perf_counter() - started), 0.1))
    tie.parameters.max_deterministic_time = TIE_BREAK_DETERMINISTIC_TIME
    tie_status = tie.solve(m.model)
    if tie_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [i for i in range(problem.n) if tie.boolean_value(m.x[i])]
    return _Found(tuple(chosen), best, bound, status == cp_model.OPTIMAL)


def _hint(m: _Model, chosen: Sequence[int]) -> None:
    m.model.clear_hints()
    selected = np.zeros(m.problem.n, dtype=bool)
    selected[list(chosen)] = True
    for x, value in zip(m.x, selected.tolist(), strict=True):
        m.model.add_hint(x, value)


class _NoMoreCohorts(Exception):
    """No further cohort exists under the overlap limit (not an error for ranked sets)."""


def _check_enough_candidates(problem: Problem, fixed: Sequence[int]) -> None:
    if problem.n < problem.rules.size:
        raise InfeasibleSelectionError(
            f"cohort size {problem.rules.size}: only {problem.n} eligible CYP "
            f"({problem.ineligible_count} more are excluded or have no contact). "
            "Lower --size, or check the exclude and contact columns.",
            ("cohort size",),
        )


def _explain_infeasible(problem: Problem, params: SelectionParams,
                        fixed: Sequence[int]) -> InfeasibleSelectionError:
    """Name a smallest set of rules that cannot hold together, with the counts available."""
    m = _Model(problem, guarded=True, fixed=fixed)
    m.model.add_assumptions(list(m.guards.values()))
    solver = _solver(params, params.time_limit_s)
    solver.solve(m.model)
    by_index = {lit.index: name for name, lit in m.guards.items()}
    core = [by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
    if not core:
        core = list(m.guards)
    # Shrink the core: a rule that can go while the rest still conflict is not part of it.
    for name in list(core):
        trial = [n for n in core if n != name]
        if _infeasible_with(problem, params, trial, fixed):
            core = trial
    lines = [describe_rule_conflict(problem, name) for name in core]
    hint = "Run with --relax to drop the lowest-priority rule(s), or change the rules file."
    if not core:
        lines = [f"the cohort of {problem.rules.size} cannot be formed with the members kept"]
    message = "the rules cannot all be met:\n  - " + "\n  - ".join(lines) + "\n" + hint
    return InfeasibleSelectionError(message, tuple(core))


def describe_rule_conflict(problem: Problem, name: str) -> str:
    """A rule with the children available to meet it, e.g. '... 0 eligible CYP have ...'."""
    rules = {r.name: r for r in problem.rules.hard_rules}
    rule = rules[name]
    stats = problem.rule_stats.get(name, RuleStats(0, 0))
    if isinstance(rule, CountRule):
        what = f"{rule.column} {' or '.join(rule.values)}"
        text = f"{name}: {stats.eligible} eligible CYP have {what}"
        if stats.ineligible:
            text += f"; {stats.ineligible} more are excluded or have no contact"
        return text
    return f"{name}: the eligible CYP are spread over {stats.eligible} known {rule.column.replace('_', ' ')} values"


def _infeasible_with(problem: Problem, params: SelectionParams, names: Sequence[str],
                     fixed: Sequence[int]) -> bool:
    m = _Model(problem, guarded=True, fixed=fixed)
    for name, literal in m.guards.items():
        m.model.add(literal == (1 if name in names else 0))
    solver = _solver(params, params.time_limit_s)
    return solver.solve(m.model) == cp_model.INFEASIBLE


def rules_to_relax(problem: Problem, params: SelectionParams, fixed: Sequence[int] = ()) -> tuple[str, ...]:
    """The fewest hard rules to drop, preferring the lowest priorities, so a cohort exists.

    Raises:
        InfeasibleSelectionError: not even dropping every rule helps (too few candidates).
    """
    _check_enough_candidates(problem, fixed)
    m = _Model(problem, guarded=True, fixed=fixed)
    rules = {r.name: r for r in problem.rules.hard_rules}
    # Dropping one more rule always costs more than any choice of priorities among fewer.
    big = 1 + sum(r.priority + 1 for r in rules.values())
    m.model.minimize(sum((big + rules[n].priority + 1) * (1 - lit) for n, lit in m.guards.items()))
    solver = _solver(params, params.time_limit_s)
    status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleSelectionError(
            f"no cohort of {problem.rules.size} exists even with every rule dropped.", ()
        )
    return tuple(sorted(n for n, lit in m.guards.items() if not solver.boolean_value(lit)))


def solve(caseload: pd.DataFrame, rules: Rules, params: SelectionParams,
          fixed_ids: Sequence[str] = (), progress: Callable[[str], None] | None = None) -> Solution:
    """Ranked cohorts and cohort 1's reserves for a validated caseload.

    Args:
        caseload: the validated caseload frame.
        rules: the rules in force.
        params: search parameters.
        fixed_ids: children who must stay in cohort 1 (used by replace).
        progress: called with a short description before each step; it may raise to stop
            the run between steps (the web page's Cancel does so).

    Raises:
        InfeasibleSelectionError: the rules cannot be met (and `relax` is off, or cannot help).
        SolverError: no cohort found within the time limit.
    """
    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    step("reading the rules and candidates")
    problem = build_problem(caseload, rules)
    position = {cid: i for i, cid in enumerate(problem.child_ids)}
    fixed = [position[c] for c in fixed_ids]
    dropped: tuple[str, ...] = ()
    step(f"cohort 1 of {params.sets}")
    try:
        first = solve_cohort(problem, params, rank=1, fixed=fixed)
    except InfeasibleSelectionError:
        if not params.relax:
            raise
        dropped = rules_to_relax(problem, params, fixed)
        rules = rules.without(set(dropped))
        problem = build_problem(caseload, rules)
        first = solve_cohort(problem, params, rank=1, fixed=fixed)

    cohorts = [first]
    earlier = [[position[c] for c in first.members]]
    for rank in range(2, params.sets + 1):
        step(f"cohort {rank} of {params.sets}")
        try:
            cohort = solve_cohort(problem, params, rank=rank, earlier=earlier)
        except (_NoMoreCohorts, InfeasibleSelectionError):
            break
        cohorts.append(cohort)
        earlier.append([position[c] for c in cohort.members])

    step("reserves")
    reserves = find_reserves(problem, first.members, params)
    return Solution(
        cohorts=tuple(cohorts),
        reserves=reserves,
        rules=rules,
        dropped=dropped,
        params=params,
        candidates=problem.n,
        solver=solver_record(params),
    )


def solve_replacement(caseload: pd.DataFrame, rules: Rules, params: SelectionParams,
                      cohort: Sequence[str], declined: Sequence[str]) -> Solution:
    """Cohort 1 with the declined children replaced: the others stay in their slots and the
    freed slots are re-optimised under every rule; alternatives and reserves are refreshed.

    Args:
        caseload: the validated caseload frame (the declined are made ineligible here).
        rules: the rules of the original run.
        params: the original run's parameters.
        cohort: the original cohort 1, in slot order.
        declined: members of `cohort` whose families declined or could not be reached.
    """
    gone = set(declined)
    frame = caseload.copy()
    frame.loc[frame["child_id"].isin(gone), "eligible"] = False
    frame.loc[frame["child_id"].isin(gone), "ineligible_reason"] = "declined"
    kept = [c for c in cohort if c not in gone]
    solution = solve(frame, rules, params, fixed_ids=kept)
    first = solution.cohorts[0]
    newcomers = iter(c for c in first.members if c not in set(kept))
    # Each newcomer takes a freed slot, so that kept children keep their slot numbers.
    ordered = tuple(c if c not in gone else next(newcomers) for c in cohort)
    reserves = {c: solution.reserves[c] for c in ordered}
    return replace(solution, cohorts=(replace(first, members=ordered), *solution.cohorts[1:]),
                   reserves=reserves)


# ---------------------------------------------------------------- reserves

def find_reserves(problem: Problem, members: Sequence[str], params: SelectionParams) -> dict[str, tuple[str, ...]]:
    """For each member, up to `params.reserves` children who can take that slot with every
    hard rule still met, best score after the swap first (equal scores in seeded random order).
    """
    position = {cid: i for i, cid in enumerate(problem.child_ids)}
    cohort = np.array([position[c] for c in members])
    n = problem.n
    rules = problem.rules
    tie = np.random.default_rng([params.seed, 0, n]).random(n)
    in_cohort = np.zeros(n, dtype=bool)
    in_cohort[cohort] = True

    membership = [np.zeros(n, dtype=bool) for _ in rules.counts]
    for flags, idx in zip(membership, problem.count_members, strict=True):
        flags[idx] = True

    reserves: dict[str, tuple[str, ...]] = {}
    for slot, leaving in enumerate(cohort):
        others = np.delete(cohort, slot)
        ok = ~in_cohort.copy()
        for rule, flags in zip(rules.counts, membership, strict=True):
            after = flags[others].sum() + flags.astype(int)
            if rule.min is not None:
                ok &= after >= rule.min
            if rule.max is not None:
                ok &= after <= rule.max
        for rule, keys in zip(rules.spreads, problem.spread_keys, strict=True):
            counts = pd.Series(keys[others]).value_counts()
            counts = counts[counts.index != ""]
            full = counts[counts >= rule.max].index
            ok &= ~np.isin(keys, list(full)) | (keys == "")
        swap_score = np.zeros(n, dtype=np.int64)
        for dim, values in zip(rules.dimensions, problem.coverage, strict=True):
            if not values:
                continue
            covered_by_others = 0
            gain = np.zeros(n, dtype=np.int64)
            for _value, holders in values:
                if np.isin(holders, others).any():
                    covered_by_others += 1
                else:
                    gain[holders] += 1
            swap_score += dim.weight * np.minimum(dim.cap, covered_by_others + gain)
        candidates = np.flatnonzero(ok)
        order = np.lexsort((tie[candidates], -swap_score[candidates]))
        best = candidates[order[: params.reserves]]
        reserves[str(problem.child_ids[leaving])] = tuple(str(problem.child_ids[i]) for i in best)
    return reserves
