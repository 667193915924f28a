"""The seed: unpredictable by default (the operating system's secure random source, recorded),
fixed only when asked, or made from a phrase with the caseload's and rules' hashes so that
anyone can check it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import EIGHT, caseload_frame, run, write_csv


def select(caseload: Path, out: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    code, _, stderr = run("select", str(caseload), "--out", str(out), "--sets", "1", *extra)
    assert code == 0, stderr
    return json.loads((out / "run.json").read_text())


def test_without_a_seed_each_run_draws_its_own_and_records_it(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    first, second = select(caseload, tmp_path / "a"), select(caseload, tmp_path / "b")
    assert first["params"]["seed_source"] == second["params"]["seed_source"] == "random"
    assert first["seed"] != second["seed"]
    # Each is reproducible with the seed it recorded: the same cohort and chances, byte for byte.
    for record, folder in ((first, "a"), (second, "b")):
        again = select(caseload, tmp_path / f"{folder}-again", "--seed", str(record["seed"]))
        assert again["seed"] == record["seed"] and again["params"]["seed_source"] == "given"
        for name in ("cohorts.csv", "chances.csv"):
            assert (tmp_path / f"{folder}-again" / name).read_bytes() == (tmp_path / folder / name).read_bytes()


def test_the_run_says_how_its_seed_was_made_and_what_that_means(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "r"), "--sets", "1")
    assert code == 0, stderr
    seed = json.loads((tmp_path / "r" / "run.json").read_text())["seed"]
    assert f"Seed {seed}, drawn from this computer's secure random source" in stderr
    assert "nobody could know it in advance" in (tmp_path / "r" / "report.md").read_text()
    # A replacement draws with the first run's seed: it says so (it said "when the run started", as
    # though the replacement had drawn a seed of its own).
    member = json.loads((tmp_path / "r" / "run.json").read_text())["cohorts"][0]["members"][0]
    code, _, stderr = run("replace", str(tmp_path / "r"), "--decline", member)
    assert code == 0, stderr
    said = (f"Seed {seed}, the first run's, drawn from this computer's secure random source when that run started: "
            "nobody could know it in advance. The replacement is drawn with it too.")
    assert said in stderr.splitlines() and said in (tmp_path / "r-replace-1" / "report.md").read_text()
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "f"), "--sets", "1", "--seed", "7")
    assert code == 0, stderr
    assert "Seed 7, fixed for this run: anyone with this list, these rules and this seed can work out" in stderr
    report = (tmp_path / "f" / "report.md").read_text()
    assert "Because the seed was fixed, anyone with the list, the rules and the seed can work out who is drawn" in report
    assert "Nobody could tell in advance" not in report


def test_a_phrase_fixes_a_seed_anyone_can_work_out_from_the_files(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    phrase = "07 19 23 41 44 (draw of 2026-12-04)"
    one = select(caseload, tmp_path / "one", "--seed-phrase", phrase)
    two = select(caseload, tmp_path / "two", "--seed-phrase", phrase)
    other = select(caseload, tmp_path / "other", "--seed-phrase", phrase + ".")
    assert one["params"]["seed_source"] == "phrase" and one["params"]["seed_phrase"] == phrase
    assert one["seed"] == two["seed"] != other["seed"]
    assert (tmp_path / "one" / "cohorts.csv").read_bytes() == (tmp_path / "two" / "cohorts.csv").read_bytes()
    # Worked out by hand from what the README says: SHA-256 of the phrase, the caseload's SHA-256
    # and the rules' SHA-256 (as compact JSON, keys sorted), one per line; first 8 bytes; mod 2^31.
    caseload_hash = hashlib.sha256(caseload.read_bytes()).hexdigest()
    rules_hash = hashlib.sha256(json.dumps(one["rules"], sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    digest = hashlib.sha256(f"{phrase}\n{caseload_hash}\n{rules_hash}".encode()).digest()
    assert one["seed"] == int.from_bytes(digest[:8], "big") % 2**31
    assert phrase in (tmp_path / "one" / "report.md").read_text()


def test_a_seed_and_a_phrase_together_are_refused(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "r"), "--seed", "1", "--seed-phrase", "x")
    assert code == 2 and "give --seed or --seed-phrase, not both" in stderr
    assert not (tmp_path / "r").exists()


def test_words_given_as_a_seed_are_said_to_be_a_phrase(tmp_path: Path) -> None:
    # `--seed "blue whale"` said "'blue whale' is not a valid integer range": the words agreed for the
    # draw are a phrase, which select and batch take with --seed-phrase (audit's seed numbers its draws).
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    seed_is = "is not a seed: a seed is a whole number from 0 to 2147483647."
    for command, *more in (("select", str(caseload), "--out", str(tmp_path / "r")), ("batch", str(tmp_path),
                                                                                    "--out", str(tmp_path / "b"))):
        code, _, stderr = run(command, *more, "--seed", "blue whale")
        assert code == 2 and stderr.splitlines()[-1] == (
            f"Error: Invalid value for '--seed': 'blue whale' {seed_is} To make the seed from words, give them with "
            "--seed-phrase 'blue whale'."), command
    code, _, stderr = run("audit", str(caseload), "--out", str(tmp_path / "a"), "--seed", "abc")
    assert code == 2 and stderr.splitlines()[-1] == f"Error: Invalid value for '--seed': 'abc' {seed_is}"
    assert not any((tmp_path / name).exists() for name in ("r", "b", "a"))


@pytest.mark.parametrize("phrase", ["", "   "])
def test_an_empty_phrase_is_refused(tmp_path: Path, phrase: str) -> None:
    # An empty phrase gives a seed anyone with the list could work out in advance, while the record would say
    # "made from the phrase": refused.
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    code, _, stderr = run("select", str(caseload), "--out", str(tmp_path / "r"), "--seed-phrase", phrase)
    assert code == 2
    assert stderr.splitlines()[-1] == ("Error: Invalid value for --seed-phrase: the phrase is empty, so anyone could "
                                       "work out the draw in advance. Give the words or numbers agreed after the "
                                       "list was sent.")
    assert not (tmp_path / "r").exists()


def test_a_replacement_keeps_the_seed_and_says_how_it_was_made(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    record = select(caseload, tmp_path / "r")
    code, _, stderr = run("replace", str(tmp_path / "r"), "--decline", record["cohorts"][0]["members"][0],
                          "--out", str(tmp_path / "r2"))
    assert code == 0, stderr
    again = json.loads((tmp_path / "r2" / "run.json").read_text())
    assert again["seed"] == record["seed"] and again["params"]["seed_source"] == "random"
