"""The independent checker on tiny caseloads whose answers are worked out by hand."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from selector import check
from selector.contract.rules import DEFAULT_RULES, CountRule, Dimension, Rules, SpreadRule
from tests.conftest import validated

# Five children (ids K1..K5):
#   K1  age 4  ASD  EHCP         EARLY_YEARS  setting S1  practitioner p1  services SALT
#   K2  age 7  SLCN SEN_SUPPORT  MAINSTREAM   setting S2  practitioner p2  services SALT;EP
#   K3  age 13 SEMH SEN_SUPPORT  AP           setting S3  practitioner p2  social care CLA
#   K4  age 12 ASD  EHCP         SPECIAL      setting S1  practitioner p4
#   K5  age 17 PD   EHCP         FE           (no setting) practitioner p5, locality North
CASELOAD = validated([
    {"age": 4, "primary_need": "ASD", "plan_status": "EHCP", "setting_type": "EARLY_YEARS",
     "setting_id": "S1", "services": "SALT"},
    {"age": 7, "primary_need": "SLCN", "plan_status": "SEN_SUPPORT", "setting_id": "S2",
     "services": "SALT;EP", "practitioner_email": "p2@example.org"},
    {"age": 13, "primary_need": "SEMH", "plan_status": "SEN_SUPPORT", "setting_type": "AP",
     "setting_id": "S3", "social_care": "CLA", "practitioner_email": "p2@example.org"},
    {"age": 12, "primary_need": "ASD", "plan_status": "EHCP", "setting_type": "SPECIAL", "setting_id": "S1"},
    {"age": 17, "primary_need": "PD", "plan_status": "EHCP", "setting_type": "FE", "locality": "North"},
]).frame

# Every check reads the caseload as a frame (a run's report) or read once into records (an
# audit's many draws): the answers are the same.
READ_AS = pytest.mark.parametrize("read", [lambda frame: frame, check.children_of], ids=["frame", "records"])


@READ_AS
def test_score_of_default_objective_worked_by_hand(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    # Cohort K1, K2, K3:
    #   need ASD, SLCN, SEMH = 3 x 4 = 12; age bands 0-4, 5-10, 11-15 = 3 x 4 = 12;
    #   settings EARLY_YEARS, MAINSTREAM, AP = 3 x 3 = 9; plans EHCP, SEN_SUPPORT = 2 x 2 = 4;
    #   social care NONE, CLA = 2 x 2 = 4; services SALT, EP = 2 x 1 = 2; locality none = 0.
    assert check.score(read(CASELOAD), ["K1", "K2", "K3"], DEFAULT_RULES) == 12 + 12 + 9 + 4 + 4 + 2


@READ_AS
def test_caps_limit_each_dimension(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    # Need capped at 1: the three different needs count once (weight 2) -> 2.
    rules = Rules(size=3, dimensions=(Dimension("primary_need", weight=2, cap=1),))
    assert check.score(read(CASELOAD), ["K1", "K2", "K3"], rules) == 2


@READ_AS
def test_missing_values_cover_nothing(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    rules = Rules(size=2, dimensions=(Dimension("locality", weight=5, cap=3),))
    assert check.score(read(CASELOAD), ["K1", "K2"], rules) == 0
    assert check.score(read(CASELOAD), ["K1", "K5"], rules) == 5


@READ_AS
def test_count_rule_violations_say_how_many(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    rules = Rules(size=2, counts=(CountRule("setting_type", ("AP",), min=1),
                                  CountRule("plan_status", ("EHCP",), max=1)))
    assert check.violations(read(CASELOAD), ["K1", "K4"], rules) == [
        "at least 1 with setting_type AP: cohort has 0",
        "at most 1 with plan_status EHCP: cohort has 2",
    ]
    assert check.violations(read(CASELOAD), ["K1", "K3"], rules) == []


@READ_AS
def test_spread_rules_on_setting_and_practitioner(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    rules = Rules(size=2, spreads=(SpreadRule("setting_id"), SpreadRule("lead_practitioner")))
    # K1 and K4 share setting S1; K2 and K3 share practitioner p2.
    assert check.violations(read(CASELOAD), ["K1", "K4"], rules) == ["at most 1 per setting_id: 2 members share S1"]
    assert check.violations(read(CASELOAD), ["K2", "K3"], rules) == [
        "at most 1 per lead practitioner: 2 members share email:p2@example.org"]
    # K5 has no setting: never limited by the setting rule.
    assert check.violations(read(CASELOAD), ["K1", "K5"], rules) == []


@READ_AS
def test_size_repeats_unknown_and_ineligible_are_violations(read: Callable[[pd.DataFrame], pd.DataFrame | check.Children]) -> None:
    frame = CASELOAD.copy()
    frame.loc[frame["child_id"] == "K2", "eligible"] = False
    rules = Rules(size=3)
    assert check.violations(read(frame), ["K1", "K1", "K2", "Z9"], rules) == [
        "size: cohort has 4 members, the rule is exactly 3",
        "repeated members: K1",
        "not in the caseload: Z9",
        "not eligible (excluded or no contact): K2",
    ]
