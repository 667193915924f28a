"""selector audit: the lottery drawn many times and tested against its computed chances, and
the rows shuffled; the tests themselves must see a lottery that is not what it says."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selector.contract.rules import Dimension, Rules
from selector.io.sample import generate
from selector.solve import SelectionParams, build_problem
from selector.solve.audit import audit, draw_many
from selector.solve.lottery import fair_lottery
from tests.conftest import run, validated, write_csv

NEED_CAP_2 = (Dimension("primary_need", 1, 2),)


def test_audit_of_a_generated_caseload_finds_no_deviation(tmp_path: Path) -> None:
    caseload, contacts = generate(300, seed=2)
    paths = write_csv(tmp_path / "c.csv", caseload), write_csv(tmp_path / "p.csv", contacts)
    out = tmp_path / "audit"
    code, stdout, stderr = run("audit", str(paths[0]), "--contacts", str(paths[1]), "--draws", "400",
                               "--out", str(out))
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0].startswith("400 draws against the computed chances: no deviation found (overall p = ")
    assert lines[1] == "Shuffled rows: largest change in any chance 0"
    assert lines[2].startswith("Cohorts drawn that break a rule or fall short of ") and lines[2].endswith(": 0")
    # The certificate, as `select` prints it: the smallest chance against the proved bound.
    assert re.fullmatch(r"Certificate: every child who can be drawn has at least \d+\.\d{4}%; no lottery over these "
                        r"cohorts could give every one more than \d+\.\d{4}% \(\d+(\.\d+)?% of it: .*\)\.", lines[4])
    assert lines[5] == f"Results in {out}/ (audit.html, audit.md, audit.csv, chances.csv)"
    table = pd.read_csv(out / "audit.csv", encoding="utf-8-sig")
    # Six places a draw: the counts expected and observed both add up to 6 x 400.
    assert table["observed"].sum() == 2400 and abs(table["expected"].sum() - 2400) < 0.01
    assert (table["p_value"] > 0).all()
    chances = pd.read_csv(out / "chances.csv", encoding="utf-8-sig")
    assert abs(chances["chance"].sum() - 6) < 1e-6
    report = (out / "audit.md").read_text()
    assert "No deviation from the computed chances was found" in report
    assert "(none: the order of the rows changes nothing)" in report
    assert "each meets every rule and scores at least" in report
    assert (out / "audit_primary_need.svg").exists() and (out / "audit.html").exists()
    from selector.io.folders import is_earlier_output

    assert is_earlier_output(out)  # so that --force may replace it, and only it


def test_an_audit_from_a_rules_file_that_left_a_default_rule_out_says_so(tmp_path: Path) -> None:
    # As select says it: the file's own [[count]] replaced the defaults whole, AP among them.
    caseload, contacts = generate(200, seed=2)
    paths = write_csv(tmp_path / "c.csv", caseload), write_csv(tmp_path / "p.csv", contacts)
    rules = tmp_path / "ehcp.toml"
    rules.write_text('[[count]]\ncolumn = "plan_status"\nvalue = "EHCP"\nmin = 2\n'
                     '[[count]]\ncolumn = "plan_status"\nvalue = "SEN_SUPPORT"\nmin = 2\n')
    code, _, stderr = run("audit", str(paths[0]), "--contacts", str(paths[1]), "--rules", str(rules), "--draws", "20",
                          "--out", str(tmp_path / "audit"))
    assert code == 0, stderr
    assert ("Note: ehcp.toml gives its own rules in place of the defaults, and none for these, which were not "
            "applied: at least 1 with setting_type AP (`selector default-rules` prints the defaults, to copy those "
            "to keep).") in stderr.splitlines()


def test_the_audit_sees_draws_that_do_not_follow_the_chances() -> None:
    # ASD, three MLD and SEMH, pairs of two needs. The fairest lottery gives ASD and SEMH 1/2 and
    # each MLD child 1/3. Drawing instead every optimal pair equally often (7 pairs: ASD in 4)
    # gives ASD 4/7: over 2,000 draws about 1,143 against the 1,000 expected, which the audit
    # must call a deviation.
    rows = [{"primary_need": n} for n in ("ASD", "MLD", "MLD", "MLD", "SEMH")]
    frame = validated(rows).frame
    problem = build_problem(frame, Rules(size=2, dimensions=NEED_CAP_2))
    lottery = fair_lottery(problem, SelectionParams(), 2)
    needs = frame["primary_need"].tolist()
    pairs = [p for p in itertools.combinations(range(5), 2) if needs[p[0]] != needs[p[1]]]
    rng = np.random.default_rng(1)
    wrong = np.zeros(5, dtype=np.int64)
    for k in rng.integers(0, len(pairs), size=2000):
        wrong[list(pairs[k])] += 1
    assert audit(lottery, wrong, 2000).overall_p < 0.001
    right = draw_many(lottery, 2000)[0]
    assert audit(lottery, right, 2000).overall_p > 0.001  # the lottery's own draws pass


def test_a_negative_first_seed_is_refused_as_bad_usage(tmp_path: Path) -> None:
    # Draws take seeds --seed onwards; a negative one reached numpy and ended in its traceback.
    code, _, err = run("audit", str(tmp_path / "any.csv"), "--out", str(tmp_path / "out"), "--seed", "-3")
    assert code == 2
    assert err.splitlines()[-1] == "Error: Invalid value for '--seed': -3 is not in the range 0<=x<=2147483647."


@pytest.mark.parametrize("draws", [1, 7, 1000, 20000])
def test_the_exact_binomial_test_for_every_type_at_once_is_scipys(draws: int) -> None:
    # The audit tests every type's count at once (one SciPy call per type took 13 s of a
    # 60,000-row audit): the p-values are SciPy's own, bit for bit, at small, rare and certain chances.
    from scipy import stats

    from selector.solve.audit import two_sided_binomial

    rng = np.random.default_rng(draws)
    chances = np.concatenate([rng.uniform(0, 1, 150), 10.0 ** rng.uniform(-6, -1, 100), [1.0, 0.5, 1e-9, 1 - 1e-9]])
    counts = np.concatenate([rng.binomial(draws, chances[:125]), rng.integers(0, draws + 1, len(chances) - 125)])
    expected = [stats.binomtest(int(k), draws, float(p)).pvalue for k, p in zip(counts, chances, strict=True)]
    assert two_sided_binomial(counts, draws, chances).tolist() == expected
