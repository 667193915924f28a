"""The synthetic caseload: deterministic, valid, and in national proportions."""

from __future__ import annotations

from pathlib import Path

from selector.io.sample import EHCP_NEEDS, generate
from selector.io.tables import RawTable
from selector.validate import validate
from tests.conftest import run


def test_same_seed_same_caseload_different_seed_different() -> None:
    a, ka = generate(500, seed=3)
    b, kb = generate(500, seed=3)
    c, _ = generate(500, seed=4)
    assert a.equals(b) and ka.equals(kb)
    assert not a.equals(c)


def test_proportions_look_like_an_english_area() -> None:
    caseload, contacts = generate(20000, seed=11)
    plan = caseload["plan_status"].value_counts(normalize=True)
    assert 0.30 < plan["EHCP"] < 0.37 and 0.60 < plan["SEN_SUPPORT"] < 0.70
    ehcp = caseload[caseload["plan_status"] == "EHCP"]["primary_need"].value_counts(normalize=True)
    for need in ("ASD", "SLCN", "SEMH", "MLD"):
        assert abs(ehcp[need] - EHCP_NEEDS[need] / 100) < 0.02, need
    support = caseload[caseload["plan_status"] == "SEN_SUPPORT"]["primary_need"].value_counts(normalize=True)
    assert support.index[0] == "SLCN" and support.index[1] == "SEMH" and "NSA" in support.index
    assert support["MLD"] > ehcp["MLD"] and support["SPLD"] > ehcp["SPLD"]
    ages = caseload["age"]
    assert ages.between(0, 25).all() and ages.between(5, 15).mean() > 0.7
    assert caseload[caseload["plan_status"] == "SEN_SUPPORT"]["age"].between(4, 16).mean() > 0.85
    assert 0.01 <= (caseload["setting_type"] == "AP").mean() <= 0.03
    care = caseload["social_care"].value_counts()
    assert {"CLA", "CIN", "CP"} <= set(care.index)
    assert caseload["locality"].nunique() >= 5
    per_setting = caseload.loc[caseload["setting_id"] != "", "setting_id"].value_counts()
    assert per_setting.median() >= 5  # settings are shared by many children
    per_practitioner = caseload["lead_practitioner_id"].value_counts()
    assert per_practitioner.median() >= 3 and len(contacts) == per_practitioner.size
    assert 0 < (caseload["exclude"] == "true").sum() < 0.02 * len(caseload)


def test_generated_caseload_passes_validation() -> None:
    caseload, contacts = generate(2000, seed=5)
    raw = RawTable("c.csv", caseload.astype(str), caseload.index.to_numpy() + 2, "", {})
    cts = RawTable("k.csv", contacts.astype(str), contacts.index.to_numpy() + 2, "", {})
    loaded = validate(raw, cts)
    assert len(loaded.warnings) == 0
    assert loaded.frame["eligible"].sum() == (caseload["exclude"] == "false").sum()


def test_the_command_counts_in_words(tmp_path: Path) -> None:
    code, stdout, _ = run("sample", "--rows", "1", "--seed", "1", "--out", str(tmp_path / "one.csv"),
                          "--contacts-out", str(tmp_path / "c.csv"))
    assert code == 0
    assert stdout.splitlines() == [f"Wrote 1 child to {tmp_path / 'one.csv'}",
                                   f"Wrote 1 practitioner to {tmp_path / 'c.csv'}"]
