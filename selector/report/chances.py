"""The report's words about the lottery: how cohort 1 (or a replacement's newcomers) was drawn,
how the seed was made, the certificate, each child's chance (chances.csv) and each value's share
of the chances against its share of the caseload."""

from __future__ import annotations

import pandas as pd

from ..contract.cells import value_order
from ..solve import SelectionParams, Solution
from ..solve.lottery import INCOMPLETE_WHY, Chances
from .content import Section, Table, cohort_span, every_rule, in_words, label

SHARE_COLUMNS = ("primary_need", "age_band", "setting_type", "locality")


def chances_frame(lottery: Chances) -> pd.DataFrame:
    """chances.csv: every eligible child's exact chance of being in cohort 1, most likely first,
    with the child's type (children of one type are alike for every rule and dimension) and how
    many children share it."""
    frame = pd.DataFrame({"child_id": list(lottery.child_ids), "type": list(lottery.types),
                          "chance": list(lottery.chances)})
    frame["children_of_type"] = frame.groupby("type")["child_id"].transform("size")
    frame = frame.sort_values(["chance", "child_id"], ascending=[False, True], kind="stable")
    frame["chance"] = [f"{c:.10f}" for c in frame["chance"]]  # the same text on every machine
    return frame[["child_id", "chance", "type", "children_of_type"]].reset_index(drop=True)


def values_by_child(eligible: pd.DataFrame, child_ids: pd.Index) -> pd.DataFrame:
    """The share columns' values as text, in the order of `child_ids` ("" for a child not in
    `eligible`, which is indexed by child id): lined up once for every column (at 60,000
    children, lining each column up on its own cost a tenth of a second)."""
    columns = [c for c in SHARE_COLUMNS if c in eligible.columns]
    return eligible[columns].astype(str).reindex(child_ids).fillna("")


def places_by_value(values: pd.Series, per_child: pd.Series, size: int) -> pd.Series:
    """Each value of a column's share of cohort 1's places, from each child's expected count
    (its chance, or how often the draws chose it): `values` the column's, in `per_child`'s order."""
    return per_child.groupby(values.to_numpy()).sum() / size


def certified_share(lottery: Chances) -> str:
    """What the certificate proves of the smallest chance s against the fairest possible t: the
    bound U is at least t, so s/U is a floor on s/t, not its value."""
    if lottery.gap_is_tolerance:
        return (f"{lottery.certified_percent} of it: every level of the fairest lottery was proved, and the rest "
                "is the linear program's tolerance.")
    if lottery.first_level_reached:
        return "within 0.1% of the fairest possible: the first level of the fairest lottery is reached."
    if not lottery.complete:
        return (f"at least {lottery.certified_percent} of the most any lottery could give every child found; but not "
                "every child who could be in a best cohort was found, and those not found have no chance, so it is "
                "not proved the fairest possible.")
    return f"at least {lottery.certified_percent} of the fairest possible."


def bound_proof(lottery: Chances) -> str:
    """What proves the certificate's bound: the first level itself once it was fixed (only a
    proof that no cohort raises a level fixes it), else the linear relaxation."""
    if lottery.levels and lottery.complete:
        return "the first level of the fairest lottery, proved: no cohort could raise it"
    return "a linear relaxation of the best cohorts proves it"


def percent(value: float) -> str:
    """A chance or share as a percentage, two significant figures below 1%."""
    return f"{100 * value:.2g}%" if value < 0.01 else f"{100 * value:.1f}%"


def seed_sentence(seed: int, source: str, phrase: str = "", on_page: bool = False, replacing: bool = False) -> str:
    """How the run's seed was made, and what that means for who could foresee the draw (`on_page`:
    said for the web page, whose seed field left empty draws one and which takes no phrase;
    `replacing`: said for a replacement, which draws with the seed of the week's first run)."""
    if source == "random" and replacing:
        return (f"Seed {seed}, the first run's, drawn from this computer's secure random source when that run "
                "started: nobody could know it in advance. The replacement is drawn with it too.")
    if source == "random":
        return (f"Seed {seed}, drawn from this computer's secure random source when the run started: nobody could "
                "know it in advance. Giving this seed again repeats the run exactly.")
    if source == "phrase":
        return (f"Seed {seed}, made from the phrase \u201c{phrase}\u201d with the SHA-256 of the caseload and of the "
                "rules (the first 8 bytes of SHA-256 of the phrase, the caseload's hash and the rules' hash, one "
                "per line, modulo 2^31): a phrase chosen after the list was sent fixes a draw that nobody could "
                "choose or foresee, and anyone with the same files and phrase can check it.")
    unpredictable = ("Leave the seed empty (a seed nobody can know is drawn and shown) when the draw must be "
                     "unpredictable." if on_page else "Leave the seed out (a random one is drawn and recorded) or "
                     "give a seed phrase when the draw must be unpredictable.")
    return (f"Seed {seed}, fixed for this run: anyone with this list, these rules and this seed can work out the "
            f"draw in advance. {unpredictable}")


CERTAIN = 1 - 1e-6  # a chance this close to 1 is 1 (the LP's tolerance)


def certain_children(lottery: Chances) -> int:
    """How many children the lottery over the best cohorts draws whatever the seed (every cohort
    it can draw holds them); a replacement's members who stay are not counted."""
    return 0 if lottery.kept else sum(c >= CERTAIN for c in lottery.chances)


def nothing_drawn(lottery: Chances) -> bool:
    """Found whole, the lottery holds one cohort (or, for a replacement, one filling): every child
    who could be drawn is, so nothing was left to the seed."""
    return lottery.complete and lottery.smallest >= CERTAIN


def only_filling(lottery: Chances) -> bool:
    """A replacement that one filling alone could make (`nothing_drawn`)."""
    return bool(lottery.kept) and nothing_drawn(lottery)


def only_cohort(lottery: Chances) -> bool:
    """One cohort alone reaches the score, for a lottery of cohort 1 (`nothing_drawn`)."""
    return not lottery.kept and nothing_drawn(lottery)


def _chances_said(lottery: Chances) -> str:
    """The chances of those who could be drawn: one, when the lottery is even (its values the
    linear program's tolerance apart), else their range."""
    if lottery.even:
        return f"each with a chance of {percent(lottery.smallest)}"
    return f"with chances from {percent(lottery.smallest)} to {percent(lottery.largest)}"


def freed_word(lottery: Chances) -> str:
    """'slot' or 'slots': how a replacement's freed places are named."""
    return "slot" if len(lottery.drawn) - len(lottery.kept) == 1 else "slots"


def foreseen_sentence(lottery: Chances, size: int, on_page: bool = False) -> str:
    """What anyone can foresee whatever the seed: the children in every cohort the lottery can
    draw (all of cohort 1 when one cohort alone reaches the score), and how to let more cohorts
    in; "" when there are none."""
    certain = certain_children(lottery)
    if not certain:
        return ""
    members = "child is" if size == 1 else f"{size} children are"
    if not lottery.kept and len(lottery.child_ids) <= size:
        # No lottery could leave anyone out, and no slack either: only a longer list or a smaller
        # cohort leaves a choice.
        return (f"The list has {len(lottery.child_ids)} {'child' if len(lottery.child_ids) == 1 else 'children'} who "
                f"can be chosen, and the cohort holds {size}: every one is chosen whatever the seed. Only a list with "
                "more children who can be chosen (check the exclude and contact columns) or a smaller cohort leaves a "
                "choice.")
    if not lottery.complete:  # cut short: other best cohorts may exist, so say only what was found
        if certain >= size:
            return (f"Only one cohort was found for this lottery (the search for others was cut short): its {members} "
                    "chosen whatever the seed.")
        return (f"{certain} {'child is' if certain == 1 else 'children are'} in every cohort found for this lottery "
                f"(the search for others was cut short), so chosen whatever the seed.")
    reaches = (f"scores at least {lottery.threshold}" if lottery.slack_percent else
               f"reaches the best score, {lottery.optimum}")
    if certain >= size:
        said = (f"Only one cohort {reaches}: its {members} chosen whatever the seed, so anyone who works out the "
                f"best cohorts from the list can foresee {'it' if size == 1 else 'all of them'}.")
    else:
        said = (f"{certain} {'child is' if certain == 1 else 'children are'} in every cohort that {reaches} (a "
                f"chance of 100%): {'it is' if certain == 1 else 'they are'} chosen whatever the seed, so anyone who "
                f"works out the best cohorts from the list can foresee {'it' if certain == 1 else 'them'}.")
    more = "A larger slack" if lottery.slack_percent else "A slack"
    if on_page:  # the page's field, not the command line's flag
        return (f"{said} {more} (\"Slack\", under \"Change the rules\") lets cohorts a few per cent below the best "
                "score into the lottery, so that fewer children are certain (cohort 1 may then score less).")
    return (f"{said} {more} (`--slack P`) lets cohorts within P% of the best score into the lottery, so that fewer "
            "children are certain (cohort 1 may then score less).")


def draw_sentence(lottery: Chances) -> str:
    """Who could have come in after a decline, and with what chance, in one sentence."""
    if only_filling(lottery):
        one = lottery.possible == 1
        return (f"{'The only child' if one else f'The only {lottery.possible} children'} who could fill the freed "
                f"{freed_word(lottery)} with the best score came in whatever the seed: whoever makes the calls cannot "
                "choose who comes in.")
    return (f"Drawn by the run's seed from the {lottery.possible} children who could fill the freed "
            f"{freed_word(lottery)} with the best score, {_chances_said(lottery)}: "
            "whoever makes the calls cannot choose who comes in.")


def lottery_sentence(lottery: Chances, dropped: bool = False) -> str:
    """How cohort 1 (or, after a replacement, its newcomers) was drawn, with the certificate, in a
    few sentences for the page; "" when nothing was left to a draw (one cohort alone: the
    foreseeable sentence says so). `dropped`: the run dropped rules."""
    if lottery.kept:
        return draw_sentence(lottery)
    if only_cohort(lottery):
        return ""
    scope = (f"every cohort scoring at least {lottery.threshold}" if lottery.slack_percent else
             f"every cohort reaching the best score, {lottery.optimum}")
    said = (f"Cohort 1 was drawn by the seed from a lottery over {scope}, under {every_rule(dropped)}: "
            f"{lottery.possible} "
            f"children could have been drawn, {_chances_said(lottery)}.")
    if lottery.bound is not None and lottery.certified is not None:
        said += (f" Certificate: no lottery over these cohorts could give every one of them more than "
                 f"{percent(lottery.bound)}, so the smallest chance is {certified_share(lottery)}")
    return said  # (a lottery not proved the fairest is said by the run's notes, above it on the page)


def refill_section(lottery: Chances, params: SelectionParams, on_page: bool = False, dropped: bool = False
                   ) -> Section:
    """How a replacement's newcomers were chosen: drawn from the lottery over the best ways to
    fill the freed slots, with each candidate's chance of coming in (`dropped`: the run, or this
    replacement, dropped rules)."""
    newcomers = [c for c in lottery.drawn if c not in set(lottery.kept)]
    one = len(newcomers) == 1
    best_fillings = (f"that keeps the other members, meets {every_rule(dropped)} and reaches the best score such "
                     f"a filling can, {lottery.optimum}")
    listed_chances = ("chances.csv lists every child's chance of being in cohort 1 now: 100% for the members who "
                      "stay, 0 for families who declined")
    if only_filling(lottery):
        # Nothing was drawn: a lottery of one filling, and its chances of 100%, said as that.
        alone = lottery.possible == 1
        paragraphs = [
            (f"The freed {'slot was' if one else 'slots were'} filled by the only "
             f"{'child' if alone else f'{lottery.possible} children'} who can fill {'it' if one else 'them'} in a "
             f"way {best_fillings}: {'it' if alone else 'they'} came in whatever the seed ({listed_chances}, and "
             f"100% for the {'newcomer' if alone else 'newcomers'}). Who made the calls could not choose who comes "
             "in."),
            seed_sentence(params.seed, params.seed_source, params.seed_phrase, on_page, replacing=True),
            "Certificate: every child who can come in has a chance of 100%, the most any lottery could give."]
        return Section(f"How the freed {'slot was' if one else 'slots were'} filled", paragraphs)
    paragraphs = [
        (f"The freed {'slot was' if one else 'slots were'} filled by seed {params.seed} (the run's) "
        f"from a lottery over every way to fill {'it' if one else 'them'} {best_fillings}. "
        f"{lottery.possible} children are in at least one such filling, so any of them could have come in, "
        f"{_chances_said(lottery)} ({listed_chances}). Who made "
        "the calls could not choose who comes in. With one slot freed, every child who fills it equally well has "
        "the same chance, and the slot's reserves were drawn from them by the same seed: the first reserve who "
        "can still take the slot is the one who comes in."),
        seed_sentence(params.seed, params.seed_source, params.seed_phrase, on_page, replacing=True)]
    if lottery.bound is not None and lottery.certified is not None:
        paragraphs.append(
            f"Certificate: every child who can come in has a chance of at least {percent(lottery.smallest)}; no "
            f"lottery over these fillings could give every one of them more than {percent(lottery.bound)}, so the "
            f"smallest chance is {certified_share(lottery)}")
    paragraphs.append("This lottery was proved the fairest possible." if lottery.proved else
                      f"{lottery.stopped.capitalize()} before it was proved the fairest possible; the newcomers were "
                      "drawn from the fairest lottery found, and every chance shown is exact for it.")
    return Section(f"How the freed {'slot was' if one else 'slots were'} filled", paragraphs)


def lottery_section(caseload: pd.DataFrame, solution: Solution, on_page: bool = False) -> Section | None:
    """How cohort 1 was chosen: the lottery, how predictable it was, and each need, age band,
    setting and locality's share of the chances beside its share of the caseload (the whole
    eligible caseload is needed here, not only the children chosen). `on_page`: the run was made
    on the web page, which has no setting for the lottery's work (the command line has)."""
    lottery = solution.lottery
    if lottery is None:
        return None
    if lottery.kept:
        return refill_section(lottery, solution.params, on_page, bool(solution.dropped))
    size, params = solution.rules.size, solution.params
    alternatives = _alternatives_sentence(lottery, len(solution.cohorts), params.max_overlap, params.sets,
                                          dropped=bool(solution.dropped), no_more=solution.no_more_cohorts)
    if only_cohort(lottery):  # no draw: what a lottery's paragraphs say of chances would say nothing here
        return Section("How cohort 1 was chosen: no draw was needed", [
            foreseen_sentence(lottery, size, on_page),
            f"Certificate: {'its child has' if size == 1 else f'each of its {size} children has'} a chance of 100%, "
            "the most any lottery could give"
            + ("; every other child has none (chances.csv)." if len(lottery.chances) > lottery.possible else "."),
            f"{alternatives} The reserves are the best stand-ins for cohort 1's children, slot by slot."])
    eligible = caseload.loc[caseload["eligible"]].set_index("child_id", drop=False)
    chances = pd.Series(lottery.chances, index=list(lottery.child_ids))
    possible = chances[chances > 1e-9]
    paragraphs = []
    if lottery.slack_percent:
        scope = (f"every cohort scoring at least {lottery.threshold}, within {lottery.slack_percent:g}% of the "
                 f"best score {lottery.optimum}")
    else:
        scope = f"every cohort reaching the best score, {lottery.optimum}"
    foreseeable = params.seed_source == "given"
    certain = certain_children(lottery)
    paragraphs.append(
        f"Cohort 1 was drawn by seed {params.seed} from a lottery over {scope}, under "
        f"{every_rule(bool(solution.dropped))}. "
        f"{len(possible)} of the {len(chances)} children who can be chosen are in at least one such cohort, "
        "so each of them could have been drawn. The lottery aims to be as even as it can be (the smallest "
        "chance any of them has as large as possible, then the next smallest, and so on); children "
        "alike for every rule and dimension have exactly the same chance. "
        + ("Because the seed was fixed, anyone with the list, the rules and the seed can work out who is drawn; "
           "without it, only these chances could be known in advance"
           if foreseeable else
           "Beyond the children every such cohort holds (below), nobody could tell in advance who would be drawn; "
           "only these chances could be known" if certain else
           "Nobody could tell in advance who would be drawn; only these chances could be known")
        + ", and chances.csv lists them for every child.")
    paragraphs.append(seed_sentence(params.seed, params.seed_source, params.seed_phrase, on_page))
    if certain:
        paragraphs.append(foreseen_sentence(lottery, size, on_page))
    if lottery.bound is not None and lottery.certified is not None:
        paragraphs.append(
            f"Certificate: every child who can be drawn has a chance of at least {percent(lottery.smallest)}; no "
            f"lottery over these cohorts could give every one of them more than {percent(lottery.bound)} "
            f"({bound_proof(lottery)}), so the smallest chance is {certified_share(lottery)}")
    if lottery.proved:
        paragraphs.append("This lottery was proved the fairest possible.")
    else:
        # More of what stopped it: the work, or the time (more work changes nothing while the clock stops it).
        if on_page:
            given = "the lottery the usual amount of work" if lottery.reproducible else "the search the usual time"
            more = f"(The page gives {given}; `selector select` on the command line can give it more.)"
        else:
            more = "(`--lottery-work` allows more work.)" if lottery.reproducible else "(`--time-limit` allows more time.)"
        again = "" if lottery.reproducible else " Another run may give other chances."
        paragraphs.append(f"{lottery.stopped.capitalize()} before it was proved the fairest possible; cohort 1 was "
                          f"drawn from the fairest lottery found, and every chance shown is exact for it.{again} {more}")
    if not lottery.complete:
        paragraphs.append(f"Not every child who could be in a best cohort was found ({INCOMPLETE_WHY}); those not "
                          "found have no chance in this lottery.")
    top = str(possible.idxmax()) if len(possible) else ""
    if top:
        paragraphs.append(
            f"The largest chance is {percent(float(possible.max()))} ({_rarest(eligible, possible.index, top)}); "
            f"the smallest is {percent(float(possible.min()))}. Were every one of the {len(possible)} "
            f"equally likely, each would have {percent(size / len(possible))}: children whose values are rare "
            "are more likely to be drawn, because the best cohorts need those values.")
    if lottery.slack_percent:
        given_up = lottery.optimum - lottery.drawn_score
        paragraphs.append(
            f"The slack of {lottery.slack_percent:g}% let cohorts scoring down to {lottery.threshold} in: cohort 1 "
            f"scores {lottery.drawn_score}, {given_up} below the best. "
            + (f"The largest chance of any child was {percent(lottery.largest_without_slack)} without the slack "
               f"and is {percent(lottery.largest)} with it." if lottery.largest_without_slack is not None else
               f"The largest chance of any child is {percent(lottery.largest)} with it; the time limit came "
               "before the lottery without the slack was worked out, so it cannot be compared (allow more "
               "time with --time-limit)."))
    paragraphs.append(f"{alternatives} The reserves are "
                      "the best stand-ins for cohort 1's children, slot by slot.")
    rows = []
    values = values_by_child(eligible, chances.index)
    for column in values.columns:
        counts = eligible[column].astype(str).value_counts()
        share = places_by_value(values[column], chances, size)
        for value in sorted(counts.index, key=value_order(column)):
            rows.append([label(column), in_words(column, value) or "(none)", percent(counts[value] / len(eligible)),
                         percent(float(share.get(value, 0.0)))])
    return Section("How cohort 1 was chosen: a fair lottery", paragraphs,
                   [Table(["dimension", "value", "share of the caseload", "share of the chances"], rows)])


def _alternatives_sentence(lottery: Chances, cohorts: int, max_overlap: int, asked: int = 1, *,
                           dropped: bool = False, no_more: bool = False) -> str:
    """How the ranked cohorts after cohort 1 were chosen: drawn from the lottery, searched for,
    or some of each; and, when fewer than asked, why (none other exists, or the time ran out)."""
    rule = f"sharing at most {max_overlap} children with cohort 1 and with every cohort before it"
    fewer = ""
    if cohorts < asked:
        exist = (f"cohort 1 is the only one of the {asked} asked for" if cohorts == 1 else
                 f"{cohorts} of the {asked} cohorts asked for exist")
        fewer = (f"No other cohort meets {every_rule(dropped)} {rule}: {exist}." if no_more else
                 f"Only {cohorts} of the {asked} cohorts asked for were found in the time allowed.")
    if cohorts <= 1:
        return fewer or "No other cohort was asked for."
    return f"{_how_drawn(lottery, cohorts, rule)} {fewer}".rstrip()


def _how_drawn(lottery: Chances, cohorts: int, rule: str) -> str:
    """How the ranked cohorts 2 onwards were chosen: drawn from the lottery, searched for, or some of each."""
    drawn, searched = len(lottery.alternatives), cohorts - 1 - len(lottery.alternatives)
    if not drawn:
        return f"The ranked cohorts 2 onwards were not drawn: each is the best cohort {rule}, found by search."
    which = f"{cohort_span(2, drawn + 1)} {'was' if drawn == 1 else 'were'}"
    said = (f"{which} drawn from this lottery too, one after another, each {rule} (a draw sharing more was "
            "drawn again), and each reaches the best score.")
    if not searched:
        return said
    others = f"{cohort_span(drawn + 2, cohorts)} {'is' if searched == 1 else 'are each'}"
    return f"{said} {others} the best cohort {rule}, found by search: no draw shared few enough."


def _rarest(eligible: pd.DataFrame, possible: pd.Index, child: str) -> str:
    """Why a child's chance is large: the value it holds that the fewest children who could be
    drawn share."""
    among = eligible.loc[eligible.index.intersection(possible)]
    best: tuple[int, str] | None = None
    for column in ("setting_type", "plan_status", "age_band", "primary_need", "social_care", "locality"):
        if column not in among.columns:
            continue
        value = str(eligible.at[child, column])
        if not value:
            continue
        shared = int((among[column].astype(str) == value).sum())
        if best is None or shared < best[0]:
            best = (shared, f"{label(column)} {in_words(column, value)}")
    if best is None:
        return f"child {child}"
    if best[0] == 1:
        return f"child {child}, the only one who could be drawn with {best[1]}"
    return f"child {child}, one of {best[0]} who could be drawn with {best[1]}"
