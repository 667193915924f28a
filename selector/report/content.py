"""The report's content as data: tables of the cohorts and contacts, why each child was chosen,
coverage, and the sections that the templates render to Markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import check
from ..contract.cells import MULTI_VALUED_COLUMNS, holds_any, match_key, value_of, value_order
from ..contract.columns import CONTACT_FIELDS
from ..contract.failures import listed
from ..contract.rules import CountRule, Rules, SpreadRule, rule_named
from ..io.run_record import RunRecord
from ..solve import Solution
from .charts import compare_shares

LABELS = {"primary_need": "need", "age_band": "age band", "setting_type": "setting",
          "plan_status": "plan", "social_care": "social care", "services": "services",
          "locality": "locality"}
ATTRIBUTE_COLUMNS = ["age", "age_band", "primary_need", "secondary_need", "plan_status",
                     "setting_type", "setting_id", "social_care", "services", "locality",
                     "out_of_area", "lead_practitioner_id"]
INTERNAL_COLUMNS = {"row", "eligible", "ineligible_reason", "practitioner_key", "exclude",
                    "exclude_reason", "child_id"}


def label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def reasons(caseload: pd.DataFrame, members: tuple[str, ...], rules: Rules) -> dict[str, str]:
    """Why each member was chosen: the values only it brings, and the rules it helps meet."""
    out = {}
    # The members' rows read once (looking each up in the whole caseload cost a national batch
    # 0.1 s an area). Each member's own values once; "the others" are the union of the rest,
    # compared as the one cell reader matches values.
    children = check.children_of(caseload[caseload["child_id"].isin(list(members))])
    own = {child: check.coverage(children, [child], rules) for child in dict.fromkeys(members)}
    for child in members:
        mine = own[child]
        theirs = {d.column: {match_key(v) for m in members if m != child for v in own[m][d.column]}
                  for d in rules.dimensions}
        # A dimension's values said together: "services OT and SALT", not "services OT, services SALT".
        own_values = {d.column: [in_words(d.column, v) for v in sorted(
            (v for v in mine[d.column] if match_key(v) not in theirs[d.column]), key=value_order(d.column))]
            for d in rules.dimensions if d.weight > 0}
        unique = [f"{label(column)} {listed(values, 'and')}" for column, values in own_values.items() if values]
        row = children.by_id[child]
        rules_met = [rule_in_words(r) for r in rules.counts if r.min and holds_any(row, r.column, set(r.values))]
        parts = []
        if unique:
            parts.append("only member with " + ", ".join(unique))
        else:
            parts.append("adds breadth without a value of its own")
        if rules_met:
            parts.append("counts toward " + "; ".join(rules_met))
        out[child] = "; ".join(parts)
    return out


def cohorts_frame(caseload: pd.DataFrame, solution: Solution) -> pd.DataFrame:
    """cohorts.csv: a row per member of every cohort; cohort, slot, child_id, score first."""
    by_id = caseload.set_index("child_id", drop=False)
    extra = [c for c in caseload.columns
             if c not in INTERNAL_COLUMNS and c not in ATTRIBUTE_COLUMNS and not c.startswith("contact_")]
    attributes = [c for c in ATTRIBUTE_COLUMNS if c in caseload.columns] + extra
    rows = []
    for cohort in solution.cohorts:
        why = reasons(caseload, cohort.members, solution.rules)
        for slot, child in enumerate(cohort.members, start=1):
            member = by_id.loc[child]
            record = {"cohort": cohort.rank, "slot": slot, "child_id": child, "score": cohort.score}
            record.update({c: member[c] for c in attributes})
            record.update({f"practitioner_{f}": member[f"contact_{f}"] for f in CONTACT_FIELDS})
            record["why_chosen"] = why[child]
            rows.append(record)
    return pd.DataFrame(rows)


CASE_COLUMNS = ("age", "age_band", "primary_need", "setting_type", "plan_status")
CONTACTS_COLUMNS = ["call", "for", "slot", "child_id", *CASE_COLUMNS, "lead", *CONTACT_FIELDS, "why_chosen",
                    "consent"]


def _practitioner(member: pd.Series) -> str:
    """The practitioner as the cohort's table names them: "Ella Evans (SEND case officer, Northshire
    Council)", the parts a contacts file leaves empty left out."""
    if not member["contact_name"]:
        return "no contact"
    about = ", ".join(str(part) for part in (member.get("contact_role", ""), member.get("contact_organisation", ""))
                      if part)
    return f"{member['contact_name']} ({about})" if about else str(member["contact_name"])


def call_order(solution: Solution) -> list[tuple[str, str, int]]:
    """Whom to ask, in order: cohort 1's families (slot order), then the reserves, first choices
    of every slot before second choices. Each child once: (child_id, who they are, slot).

    A reserve listed for several slots appears once, at its first call, naming every slot.
    """
    first = solution.cohorts[0]
    calls = [(child, f"cohort 1, slot {slot}", slot) for slot, child in enumerate(first.members, start=1)]
    slots_of: dict[str, list[int]] = {}
    rank_of: dict[str, int] = {}
    depth = max((len(r) for r in solution.reserves.values()), default=0)
    for rank in range(depth):
        for slot, member in enumerate(first.members, start=1):
            reserves = solution.reserves.get(member, ())
            if rank < len(reserves) and reserves[rank] not in first.members:
                child = reserves[rank]
                slots_of.setdefault(child, []).append(slot)
                rank_of.setdefault(child, rank + 1)
    for child, slots in slots_of.items():
        which = ", ".join(str(s) for s in slots)
        calls.append((child, f"reserve {rank_of[child]} for slot{'s' if len(slots) > 1 else ''} {which}", slots[0]))
    return calls


def contacts_frame(caseload: pd.DataFrame, solution: Solution, all_contacts: pd.DataFrame,
                   consent: dict[str, str] | None = None, why: dict[str, str] | None = None) -> pd.DataFrame:
    """contacts.csv: the practitioners to call, in call order (cohort 1, then the reserves), each
    case with what a practitioner needs to recognise it; lead contact first for each child; and
    where each family's consent stands (`consent`: child -> state; "to ask" when not given)."""
    consent = consent or {}
    by_id = caseload.set_index("child_id", drop=False)
    why = why if why is not None else reasons(caseload, solution.cohorts[0].members, solution.rules)
    rows = []
    for call, (child, role, slot) in enumerate(call_order(solution), start=1):
        case = {c: by_id.loc[child, c] if c in by_id.columns else "" for c in CASE_COLUMNS}
        people = all_contacts.loc[all_contacts["child_id"] == child]
        contacts = [(bool(p["lead"]), {f: p[f] for f in CONTACT_FIELDS}) for _, p in people.iterrows()]
        for lead, person in contacts or [(False, dict.fromkeys(CONTACT_FIELDS, ""))]:  # no contact: still listed
            reason = why.get(child) or (f"a reserve: can take the place in {role.split(' for ')[1]} with "
                                        f"{every_rule(bool(solution.dropped))} met")
            rows.append({"call": call, "for": role, "slot": slot, "child_id": child, **case, "lead": lead,
                         **person, "why_chosen": reason, "consent": consent.get(child, "to ask")})
    return pd.DataFrame(rows, columns=CONTACTS_COLUMNS)


# ---------------------------------------------------------------- the reader's report

@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Chart:
    """A chart: its SVG (inlined in HTML), a file name (linked from Markdown) and a text summary."""

    name: str
    title: str
    svg: str
    summary: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    folded: bool = False  # long detail, folded away on the page (the reader opens it)


# The codes of the data contract in words, for the report's glossary.
GLOSSARY: dict[str, dict[str, str]] = {
    "Need (SEN2 primary need)": {
        "SPLD": "specific learning difficulty", "MLD": "moderate learning difficulty",
        "SLD": "severe learning difficulty", "PMLD": "profound and multiple learning difficulty",
        "SEMH": "social, emotional and mental health", "SLCN": "speech, language and communication needs",
        "HI": "hearing impairment", "VI": "visual impairment", "MSI": "multi-sensory impairment",
        "PD": "physical disability", "ASD": "autistic spectrum disorder", "OTH": "other difficulty or disability",
        "NSA": "SEN support without a specialist assessment of the type of need"},
    "Plan": {"EHCP": "education, health and care plan", "SEN_SUPPORT": "SEN support (no plan)",
             "ASSESSMENT": "being assessed for a plan"},
    "Setting": {
        "EARLY_YEARS": "early years provider", "MAINSTREAM": "mainstream school",
        "RESOURCED": "resourced provision or SEN unit in a mainstream school", "SPECIAL": "special school",
        "INDEPENDENT": "independent school", "AP": "alternative provision (e.g. a pupil referral unit)",
        "FE": "further education college", "TRAINING": "apprenticeship or training",
        "EHE": "elective home education", "NOT_IN_EDUCATION": "not in education, employment or training",
        "CUSTODY": "youth custody", "OTHER": "other arrangements"},
    "Social care": {"NONE": "not known to children's social care", "EARLY_HELP": "early help",
                    "CIN": "child in need", "CP": "child protection plan", "CLA": "looked-after child",
                    "CARE_LEAVER": "care leaver"},
}


WORDS_BY_COLUMN = {"primary_need": GLOSSARY["Need (SEN2 primary need)"], "plan_status": GLOSSARY["Plan"],
                   "setting_type": GLOSSARY["Setting"], "social_care": GLOSSARY["Social care"]}


def in_words(column: str, value: object) -> str:
    """A contract code as a reader would say it (the code itself when it has no words).

    >>> in_words("primary_need", "ASD"), in_words("age_band", "5-10")
    ('autistic spectrum disorder', '5-10')
    """
    text = "" if value is None else str(value)
    return WORDS_BY_COLUMN.get(column, {}).get(text, text)


def dropped_in_words(name: str) -> str:
    """A rule the run dropped, which the run records by name alone, in words as `rule_in_words`
    says it (a rule's own label as it is).

    >>> dropped_in_words("at least 1 with setting_type AP"), dropped_in_words("no two from one school")
    ('at least 1 whose setting is: alternative provision (e.g. a pupil referral unit)', 'no two from one school')
    """
    rule = rule_named(name)
    return rule_in_words(rule) if rule is not None else name


def rule_in_words(rule: CountRule | SpreadRule) -> str:
    """A hard rule as a reader would say it (a rule's own label wins).

    >>> rule_in_words(CountRule("plan_status", ("EHCP",), min=2))
    'at least 2 whose plan is: education, health and care plan'
    >>> rule_in_words(SpreadRule("setting_id", 1))
    'no two from the same setting'
    >>> rule_in_words(CountRule("services", ("CAMHS", "SALT"), min=2))
    'at least 2 whose services include: CAMHS or SALT'
    """
    if rule.label:
        return rule.label
    if isinstance(rule, SpreadRule):
        what = "lead practitioner" if rule.is_practitioner else label(rule.column).replace(" id", "")
        many = "no two" if rule.max == 1 else f"no more than {rule.max}"
        return f"{many} {'with' if rule.is_practitioner else 'from'} the same {what}"
    words = " or ".join(in_words(rule.column, v) for v in rule.values)
    if rule.min is not None and rule.max is not None:
        many = f"between {rule.min} and {rule.max}"
    else:
        many = f"at least {rule.min}" if rule.min is not None else f"at most {rule.max}"
    verb = "include" if rule.column in MULTI_VALUED_COLUMNS else "is"  # a child may have several services
    return f"{many} whose {label(rule.column)} {verb}: {words}"


CHART_DIMENSIONS = {"primary_need": "Primary need", "age_band": "Age band", "setting_type": "Setting type"}


def comparison_charts(caseload: pd.DataFrame, members: tuple[str, ...],
                      caseload_counts: dict[str, pd.Series]) -> list[Chart]:
    """Caseload against cohort 1, on need, age band and setting."""
    chosen = caseload.loc[caseload["child_id"].isin(members)]
    charts = []
    for column, counts in caseload_counts.items():
        cohort = chosen[column].astype(str).value_counts()
        summary = "; ".join(f"{v}: caseload {n / max(counts.sum(), 1):.0%}, cohort {cohort.get(v, 0)} of "
                            f"{len(members)}" for v, n in counts.items())
        charts.append(Chart(f"chart_{column}.svg", f"{CHART_DIMENSIONS[column]}: caseload and cohort 1",
                            compare_shares(CHART_DIMENSIONS[column], counts, cohort), summary))
    return charts


def coverage_matrix(caseload: pd.DataFrame, members: tuple[str, ...], rules: Rules,
                    offered: dict[str, set[str]]) -> Table:
    """Dimension x value rows, a column per member: which member covers each value, and the
    values the caseload offers that the cohort leaves out."""
    per_member = {m: check.coverage(caseload, [m], rules) for m in members}
    rows = []
    for dim in rules.dimensions:
        if dim.weight == 0:
            continue
        values = sorted(offered.get(dim.column, set()) | {v for m in members for v in per_member[m][dim.column]},
                        key=value_order(dim.column))
        for value in values:
            holders = [m for m in members if value in per_member[m][dim.column]]
            rows.append([label(dim.column), value, *["covers" if m in holders else "" for m in members],
                         "covered" if holders else "not covered"])
    return Table(["dimension", "value", *members, "cohort 1"], rows)


def max_score(rules: Rules) -> int:
    return sum(d.weight * d.cap for d in rules.dimensions)


def report_sections(caseload: pd.DataFrame, solution: Solution, record: RunRecord,
                    offered: dict[str, set[str]], caseload_counts: dict[str, pd.Series] | None = None,
                    why: dict[str, str] | None = None, lottery: Section | None = None) -> list[Section]:
    """The report's content, rendered to Markdown and HTML alike.

    Args:
        caseload: the validated caseload (at least the chosen children).
        solution: the run's result.
        record: what was run (the run record; its cohorts are not read here).
        offered: the values the eligible caseload offers per dimension (`offered_values`).
        caseload_counts: counts per value of the charted dimensions (`distributions`); no
            charts without them.
        why: why each member of cohort 1 was chosen (`reasons`), when already worked out.
        lottery: how cohort 1 was drawn (`lottery_section`, worked out on the whole caseload).
    """
    first = solution.cohorts[0]
    why = why if why is not None else reasons(caseload, first.members, solution.rules)
    charts = Section("Caseload and cohort 1 compared", [
        ("Share of each value among the eligible CYP and in cohort 1. The cohort is chosen for "
        "breadth, so rare values are over-represented on purpose.")],
        charts=comparison_charts(caseload, first.members, caseload_counts) if caseload_counts else [])
    # The cohort and whom to call first: the rest is detail for whoever wants it.
    drawn = [lottery] if lottery is not None else []
    return [_cohort_section(caseload, solution, why), _run_section(caseload, solution, record),
            _coverage_section(caseload, solution, offered), *drawn, charts,
            _reserves_section(solution, record.input.made_from_uploads),
            _alternatives_section(caseload, solution), _matrix_section(caseload, solution, offered),
            _glossary_section()]


def _run_section(caseload: pd.DataFrame, solution: Solution, record: RunRecord) -> Section:
    """What was run: the files, the version and seed, the time, a replacement, each hard rule."""
    rules = solution.rules
    first = solution.cohorts[0]
    source = record.input
    run = Section("What was run", [
        f"Caseload `{source.caseload}` (SHA-256 {source.caseload_sha256[:12]}...): {source.rows} rows, "
        f"{source.eligible} eligible CYP." + (f" Contacts `{source.contacts}`." if source.contacts else ""),
        (f"selector {solution.version}, seed {solution.params.seed}, {len(solution.cohorts)} ranked "
        f"cohort(s), at most {solution.params.max_overlap} shared between any two."),
    ])
    if source.warnings:  # what the list's reading said, which may change what the cohort covers
        listed_by = "the page listed each under the rules" if source.made_from_uploads else (
            "`selector validate` lists each, with what to do")
        run.paragraphs.append(f"The list was read with warnings, which did not stop the choice ({listed_by}): "
                              + "; ".join(source.warnings) + ".")
    run.paragraphs += [f"Note: {note}." for note in solution.notes]  # what the time or the work cut short
    if record.replaced is not None:
        run.paragraphs.append(
            f"This run replaces {', '.join(record.replaced.declined)} ({record.replaced.reason}) "
            f"in cohort 1 of run `{record.replaced.from_run}`; the other members were kept.")
    rule_rows = [[f"exactly {rules.size} CYP", "met"]]
    for rule in rules.hard_rules:
        broken = [v for v in check.violations(caseload, first.members, Rules(
            size=len(first.members), counts=(rule,) if isinstance(rule, CountRule) else (),
            spreads=() if isinstance(rule, CountRule) else (rule,)))]
        rule_rows.append([rule_in_words(rule), "met" if not broken else "NOT met: " + "; ".join(broken)])
    # Said as the run was asked: the page's box (or, for a replacement, its button), or the option.
    relaxed = ("dropped: it could not be met with the others, and \"drop the fewest, least important\" was "
               "ticked" if record.input.made_from_uploads and record.replaced is None else
               "dropped: no child left could keep it with the others, and dropping the fewest rules was asked for"
               if record.input.made_from_uploads else "dropped by --relax (could not be met with the others)")
    for name in solution.dropped:
        rule_rows.append([dropped_in_words(name), relaxed])
    run.tables.append(Table(["rule", "cohort 1"], rule_rows))
    return run


def kept_claim(solution: Solution) -> str:
    """For a replacement (members kept in their slots), what its score was proved to be: the most
    the freed slots can reach with the others kept (or, cut short, at most its bound), never
    against every cohort (one that scores more may exist: the kept members hold it down). "" for
    a run.

    >>> from types import SimpleNamespace as Of
    >>> first = Of(members=("A", "B", "C", "D", "E", "F"), status="OPTIMAL", bound=78)
    >>> kept_claim(Of(lottery=Of(kept=("A", "B", "D", "E")), cohorts=(first,)))
    'with the other 4 members kept, the 2 freed slots can reach no more'
    >>> kept_claim(Of(lottery=Of(kept=()), cohorts=(first,)))
    ''
    """
    kept = len(solution.lottery.kept) if solution.lottery is not None else 0
    if not kept:
        return ""
    first = solution.cohorts[0]
    freed = len(first.members) - kept
    slots = "the freed slot" if freed == 1 else f"the {freed} freed slots"
    most = "no more" if first.status == "OPTIMAL" else f"at most {first.bound}"
    return f"with the other {kept} member{'' if kept == 1 else 's'} kept, {slots} can reach {most}"


def slack_claim(solution: Solution) -> str:
    """For a run whose slack let the lottery draw a cohort 1 below the best score: what was proved
    (it is FEASIBLE, but no time limit cut its search short). "" otherwise."""
    lottery = solution.lottery
    if lottery is None or not solution.below_best_by_slack:
        return ""
    return f"drawn within the {lottery.slack_percent:g}% slack; the best score, {lottery.optimum}, is proved"


def _cohort_section(caseload: pd.DataFrame, solution: Solution, why: dict[str, str]) -> Section:
    """Cohort 1, a row per member with the practitioner to call and why the child was chosen."""
    first = solution.cohorts[0]
    by_id = caseload.set_index("child_id", drop=False)
    cohort_rows = []
    for slot, child in enumerate(first.members, start=1):
        m = by_id.loc[child]
        cohort_rows.append([str(slot), child, str(m.get("age", "")), m.get("age_band", ""),
                            *(in_words(c, m.get(c, "")) for c in ("primary_need", "plan_status", "setting_type",
                                                                  "social_care")),
                            str(m.get("services", "")).replace(";", ", "), str(m.get("locality", "")),
                            _practitioner(m), why[child]])
    if claim := kept_claim(solution):
        title = (f"Cohort 1: score {first.score} ({claim}, proved)" if first.status == "OPTIMAL" else
                 f"Cohort 1: score {first.score}, the best found before the time limit ({claim})")
    elif first.status == "OPTIMAL":
        title = f"Cohort 1: score {first.score}, the highest any cohort can reach under these rules (proved)"
    elif claim := slack_claim(solution):
        title = f"Cohort 1: score {first.score}, {claim}"
    else:
        title = (f"Cohort 1: score {first.score}, the best found before the time limit (no cohort can score "
                 f"more than {first.bound})")
    return Section(
        title,
        [(f"The score adds, for each dimension, its weight for every distinct value the cohort covers, up to "
          f"the dimension's cap: {max_score(solution.rules)} if a caseload offered every value up to every cap. "
          "Practitioners' e-mail and phone are in contacts.csv, for the consent calls.")],
        [Table(["slot", "child", "age", "age band", "need", "plan", "setting", "social care",
                "services", "locality", "practitioner", "why chosen"], cohort_rows)],
    )


def _coverage_section(caseload: pd.DataFrame, solution: Solution, offered: dict[str, set[str]]) -> Section:
    """Per dimension, what cohort 1 covers of what the caseload offers."""
    rules = solution.rules
    covered = check.coverage(caseload, solution.cohorts[0].members, rules)
    coverage_rows = []
    for dim in rules.dimensions:
        have = covered[dim.column]
        missing = sorted(offered[dim.column] - have, key=value_order(dim.column))
        coverage_rows.append([
            label(dim.column),
            (f"covers {len(have)} of the {len(offered[dim.column] | have)} in this caseload; counts up to "
            f"{dim.cap} (weight {dim.weight})"),
            ", ".join(sorted(have, key=value_order(dim.column))) or "none", ", ".join(missing) or "none",
        ])
    return Section("Coverage of cohort 1", [
        ("Each dimension counts the distinct values covered, up to its cap; past the cap the "
        "choice is left to chance so that the cohort still looks like the caseload.")],
        [Table(["dimension", "covered", "values covered", "offered by the caseload, not covered"],
               coverage_rows)])


def _matrix_section(caseload: pd.DataFrame, solution: Solution, offered: dict[str, set[str]]) -> Section:
    """Which member covers which value (folded until opened)."""
    return Section("Coverage matrix", [
        ("Which member of cohort 1 covers each value the caseload offers (\"covers\"), and the "
        "values no member covers (\"not covered\").")],
        [coverage_matrix(caseload, solution.cohorts[0].members, solution.rules, offered)], folded=True)


def every_rule(dropped: bool) -> str:
    """The rules a run's cohorts meet, said so that a run that dropped some is not said to meet
    every rule (the rules dropped are named beside it).

    >>> every_rule(False), every_rule(True)
    ('every rule', 'every rule not dropped')
    """
    return "every rule not dropped" if dropped else "every rule"


def _reserves_section(solution: Solution, on_page: bool = False) -> Section:
    """Each slot's first three reserves, and how a slot is filled where the run was made (the web
    page, or the command line)."""
    reserve_rows = [[str(slot), child, *list(solution.reserves.get(child, ())) + [""] * 3][:5]
                    for slot, child in enumerate(solution.cohorts[0].members, start=1)]
    return Section("Reserves", [
        (f"If a family declines, each slot's reserves can take it with {every_rule(bool(solution.dropped))} "
         "still met, best score first (those equally good in the order of a draw by the run's seed). "
         + ("On the page, record the call as \"Family declined\" (or \"Could not reach the family\") and "
            "choose \"Find a replacement\": the first reserve who still can comes in." if on_page else
            "`selector replace RUN_DIR --decline CHILD_ID` fills the slot: the first reserve who still can "
            "comes in."))],
        [Table(["slot", "child", "reserve 1", "reserve 2", "reserve 3"], reserve_rows)])


def cohort_span(first: int, last: int) -> str:
    """Cohorts first to last, in words ("Cohort 2", "Cohorts 2 and 3", "Cohorts 2 to 5")."""
    if first == last:
        return f"Cohort {first}"
    return f"Cohorts {first} and {last}" if last == first + 1 else f"Cohorts {first} to {last}"


def _alternatives_section(caseload: pd.DataFrame, solution: Solution) -> Section:
    """The ranked cohorts, each compared with cohort 1 value by value."""
    rules = solution.rules
    first = solution.cohorts[0]
    status = {"OPTIMAL": "proved optimal", "FEASIBLE": "best found when the time limit came"}
    alt_rows = []
    base = set(first.members)
    base_cover = check.coverage(caseload, first.members, rules)
    for c in solution.cohorts:
        other = check.coverage(caseload, c.members, rules)
        gains = [f"+{label(d.column)} {v}" for d in rules.dimensions if d.weight
                 for v in sorted(other[d.column] - base_cover[d.column], key=value_order(d.column))]
        losses = [f"-{label(d.column)} {v}" for d in rules.dimensions if d.weight
                  for v in sorted(base_cover[d.column] - other[d.column], key=value_order(d.column))]
        differs = "same as cohort 1" if c.rank == 1 else "; ".join(gains + losses) or "covers the same values"
        said = status[c.status]
        if c.rank == 1 and (claim := kept_claim(solution)):  # a replacement's: proved for its freed slots
            said = f"{'proved' if c.status == 'OPTIMAL' else 'best found'}: {claim}"
        elif c.rank == 1 and (claim := slack_claim(solution)):  # below the best by the slack, not the clock
            said = claim
        alt_rows.append([str(c.rank), str(c.score), said, ", ".join(c.members),
                         str(len(base & set(c.members))), differs])
    drawn = len(solution.lottery.alternatives) if solution.lottery is not None else 0
    was, reach = ("was", "reaches") if drawn == 1 else ("were", "reach")
    how = (f"{cohort_span(2, drawn + 1)} {was} drawn from the same lottery as cohort 1 (a draw sharing more was "
           f"drawn again) and {reach} its proven best score. ") if drawn else ""
    return Section("Ranked cohorts", [
        (f"Each cohort shares at most {solution.params.max_overlap} CYP with every better-ranked one. {how}"
         "'+' marks values a cohort covers that cohort 1 does not; '-' the reverse.")],
        [Table(["rank", "score", "status", "members", "shared with cohort 1", "compared with cohort 1"],
               alt_rows)])


def _glossary_section() -> Section:
    """The codes used in the tables, in words (folded until opened)."""
    return Section("Words used", [
        "The codes in the tables above, as the data contract defines them."],
        [Table(["code", "meaning", "kind"], [[code, words, kind] for kind, codes in GLOSSARY.items()
                                             for code, words in codes.items()])], folded=True)


def offered_values(caseload: pd.DataFrame, rules: Rules) -> dict[str, set[str]]:
    """For each dimension, the distinct values among eligible CYP (read as the checker reads them)."""
    eligible = caseload.loc[caseload["eligible"]]
    out: dict[str, set[str]] = {}
    for dim in rules.dimensions:
        if dim.column not in eligible.columns:
            out[dim.column] = set()
            continue
        # Each distinct cell once: fast at 60,000 rows.
        cells = eligible[dim.column].drop_duplicates()
        out[dim.column] = set(check.distinct([v for cell in cells for v in value_of({dim.column: cell}, dim.column)]))
    return out
