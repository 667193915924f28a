"""When the rules cannot all be met: name a smallest set that conflicts, with the children
available for each, or find the fewest, lowest-priority rules to relax."""

from __future__ import annotations

from collections.abc import Sequence

from ortools.sat.python import cp_model

from ..contract.cells import MULTI_VALUED_COLUMNS
from ..contract.errors import InfeasibleSelectionError, cohort_too_large
from ..contract.rules import CountRule, minimums_together
from .constraints import CohortModel
from .problem import Problem, RuleStats
from .settings import SelectionParams, make_solver


def check_enough_candidates(problem: Problem, fixed: Sequence[int]) -> None:
    if problem.n < problem.rules.size:
        declined = f"; {problem.declined_count} declined" if problem.declined_count else ""
        raise cohort_too_large(f"cohort size {problem.rules.size}: only {problem.n} eligible CYP "
                               f"({problem.ineligible_count} more are excluded or have no contact{declined}).",
                               problem.n, bool(problem.ineligible_count or problem.declined_count))


def explain_infeasible(problem: Problem, params: SelectionParams,
                        fixed: Sequence[int]) -> InfeasibleSelectionError:
    """Name a smallest set of rules that cannot hold together, with the counts available."""
    m = CohortModel(problem, guarded=True, fixed=fixed)
    m.model.add_assumptions(list(m.guards.values()))
    solver = make_solver(params, params.time_limit_s)
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
    needed = _members_needed([r for r in problem.rules.counts if r.name in core])
    if needed > problem.rules.size:
        # The children exist; the cohort is too small to hold all the minimums at once.
        lines.append(f"together these rules need at least {needed} members, and the cohort has {problem.rules.size}")
    if not core:
        lines = [f"the cohort of {problem.rules.size} cannot be formed with the members kept"]
    message = "the rules cannot all be met:\n  - " + "\n  - ".join(lines)
    return InfeasibleSelectionError(message, tuple(core),
                                    fix="Relax the rules (drop the lowest-priority ones), or change them.")


def _members_needed(rules: Sequence[CountRule]) -> int:
    """The fewest members the rules' minimums need: on one single-valued column, rules on
    different values need different children, so their minimums add up; across columns one
    child can count for several rules."""
    alone = [rule.min for rule in rules if rule.min and rule.column not in MULTI_VALUED_COLUMNS]
    return max([*alone, *(needed for _rules, needed in minimums_together(rules))], default=0)


def describe_rule_conflict(problem: Problem, name: str) -> str:
    """A rule with the children available to meet it, e.g. '... 0 eligible CYP have ...'."""
    rules = {r.name: r for r in problem.rules.hard_rules}
    rule = rules[name]
    stats = problem.rule_stats.get(name, RuleStats(0, 0))
    if isinstance(rule, CountRule):
        what = f"{rule.column} {' or '.join(rule.values)}"
        text = f"{name}: {stats.eligible} eligible CYP have {what}"
        if stats.declined:  # a replacement: their families said no this week
            text += (f"; {stats.declined} more, whose {'family' if stats.declined == 1 else 'families'} "
                     "declined")
        if stats.ineligible:
            text += f"; {stats.ineligible} more are excluded or have no contact"
        elif not stats.eligible and not stats.declined:
            text += ", and none in the list at all"
            if rule.column == "plan_status":
                # The usual cause: a list that holds one kind of plan only.
                text += next((why for status, why in _ONE_KIND_OF_LIST.items() if status in rule.values), "")
        return text
    return f"{name}: the eligible CYP are spread over {stats.eligible} known {rule.column.replace('_', ' ')} values"


# Why a list may hold no child of a plan status: the lists that hold one kind only.
_ONE_KIND_OF_LIST = {
    "SEN_SUPPORT": (" (a SEN2 return, or Annex A List 1 alone, holds only children with an EHC plan or being "
                    "assessed: give both Annex A lists, or drop this rule)"),
    "EHCP": " (Annex A List 2 alone holds only children at SEN support: give List 1 too, or drop this rule)",
}


def _infeasible_with(problem: Problem, params: SelectionParams, names: Sequence[str],
                     fixed: Sequence[int]) -> bool:
    m = CohortModel(problem, guarded=True, fixed=fixed)
    for name, literal in m.guards.items():
        m.model.add(literal == (1 if name in names else 0))
    solver = make_solver(params, params.time_limit_s)
    return solver.solve(m.model) == cp_model.INFEASIBLE


def rules_to_relax(problem: Problem, params: SelectionParams, fixed: Sequence[int] = ()) -> tuple[str, ...]:
    """The fewest hard rules to drop, preferring the lowest priorities, so a cohort exists.

    Raises:
        InfeasibleSelectionError: not even dropping every rule helps (too few candidates).
    """
    check_enough_candidates(problem, fixed)
    m = CohortModel(problem, guarded=True, fixed=fixed)
    rules = {r.name: r for r in problem.rules.hard_rules}
    # Dropping one more rule always costs more than any choice of priorities among fewer.
    big = 1 + sum(r.priority + 1 for r in rules.values())
    m.model.minimize(sum((big + rules[n].priority + 1) * (1 - lit) for n, lit in m.guards.items()))
    solver = make_solver(params, params.time_limit_s)
    status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleSelectionError(
            f"no cohort of {problem.rules.size} exists even with every rule dropped.", ()
        )
    return tuple(sorted(n for n, lit in m.guards.items() if not solver.boolean_value(lit)))
