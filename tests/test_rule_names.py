"""A rule the run dropped is recorded by its name alone: the name reads back as the rule, so
that the report and the page can say it in words as they say the rules kept."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from selector.contract.rules import CountRule, SpreadRule, rule_named, rules_from_dict
from selector.report.content import dropped_in_words, rule_in_words

COLUMNS = st.sampled_from(["setting_type", "plan_status", "primary_need", "locality", "services", "social_care",
                           "age_band", "my_column"])
VALUES = st.lists(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ_-0123456789 abc", min_size=1, max_size=12)
                  .map(str.strip).filter(lambda v: v and " or " not in f" {v} "), min_size=1, max_size=3, unique=True)
MANY = st.integers(0, 100)


@st.composite
def count_rules(draw: st.DrawFn) -> CountRule:
    low, high = draw(st.one_of(st.tuples(MANY, st.none()), st.tuples(st.none(), MANY),
                               st.tuples(MANY, MANY).map(sorted).map(tuple)))
    return CountRule(draw(COLUMNS), tuple(draw(VALUES)), min=low, max=high, priority=draw(MANY))


@given(st.one_of(count_rules(), st.builds(SpreadRule, st.sampled_from(["setting_id", "lead_practitioner", "x_y"]),
                                          st.integers(1, 9), MANY)))
def test_a_rules_name_reads_back_as_the_rule_and_is_said_in_the_same_words(rule: CountRule | SpreadRule) -> None:
    named = rule_named(rule.name)
    assert named is not None and named.name == rule.name
    assert dropped_in_words(rule.name) == rule_in_words(rule)


def test_a_rules_own_label_is_said_as_it_is() -> None:
    labelled = CountRule("setting_type", ("AP",), min=1, label="someone in a pupil referral unit")
    assert dropped_in_words(labelled.name) == "someone in a pupil referral unit"
    # Worked out: the default AP rule, as the report's rules table says it when it is kept.
    assert dropped_in_words("at least 1 with setting_type AP") == (
        "at least 1 whose setting is: alternative provision (e.g. a pupil referral unit)")
    assert dropped_in_words("at most 1 per lead practitioner") == "no two with the same lead practitioner"


def test_a_value_that_is_not_a_code_is_kept_as_written_and_said_so() -> None:
    # A locality is said as the data spells it: the rule read 'Oakham Vale' as OAKHAM VALE, and
    # the report said "at least 1 whose locality is: OAKHAM VALE". Codes are read in capitals.
    rules = rules_from_dict({"count": [{"column": "locality", "value": " Oakham Vale ", "min": 1},
                                       {"column": "setting_type", "value": "ap", "min": 1},
                                       {"column": "services", "values": ["camhs"], "min": 1}]})
    assert [rule.values for rule in rules.counts] == [("Oakham Vale",), ("AP",), ("CAMHS",)]
    assert rule_in_words(rules.counts[0]) == "at least 1 whose locality is: Oakham Vale"
    assert rule_named(rules.counts[0].name) == rules.counts[0]
