"""Shared fixtures: small caseloads written as files, and helpers to build them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from selector.contract.rules import Rules
from selector.io.tables import RawTable
from selector.solve import SelectionParams, Solution, build_problem, solve
from selector.validate import Caseload, validate


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: the cores this process may run on (a container's share, not the host's count,
    which psutil would give), at most four: each worker holds pandas, OR-Tools and a solved
    caseload, and with one file per worker more than four shorten the run little."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(usable, 4))


HEADER = ["child_id", "age", "primary_need", "plan_status", "setting_type", "services",
          "social_care", "locality", "setting_id", "lead_practitioner_id"]


def run(*args: str) -> tuple[int, str, str]:
    """The `selector` command line in this process: exit code, stdout, stderr (never a traceback
    passed over: an exception other than the exit fails the test)."""
    from click.testing import CliRunner

    from selector.cli import main

    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder this process's temporary files go to, for this test alone: what a
    test says is left behind there is its own (the suite's other workers use the system's)."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def caseload_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A caseload with every contract column, defaults filled in for what a row leaves out."""
    defaults = {"child_id": "", "age": 10, "primary_need": "ASD", "plan_status": "EHCP",
                "setting_type": "MAINSTREAM", "services": "", "social_care": "", "locality": "",
                "setting_id": "", "lead_practitioner_id": "",
                "practitioner_name": "Pat Lee", "practitioner_email": "pat@example.org"}
    records = []
    for i, row in enumerate(rows):
        record = {**defaults, **row}
        record["child_id"] = record["child_id"] or f"K{i + 1}"
        # Everyone has a different practitioner unless the row says otherwise.
        if "practitioner_email" not in row:
            record["practitioner_email"] = f"p{i + 1}@example.org"
        records.append(record)
    return pd.DataFrame(records)


def validated(rows: list[dict[str, object]], allow_missing_contact: bool = False,
              keep_columns: tuple[str, ...] = ()) -> Caseload:
    """Validate an in-memory caseload built by `caseload_frame` (columns outside the contract are
    left out unless kept)."""
    frame = caseload_frame(rows).fillna("").astype(str)
    raw = RawTable("test.csv", frame, pd.RangeIndex(2, len(frame) + 2).to_numpy(), "0" * 64,
                   {c: c for c in frame.columns})
    return validate(raw, allow_missing_contact=allow_missing_contact, keep_columns=keep_columns)


def write_csv(path: Path, frame: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> Path:
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding))
    return path


# Eight children who meet the default rules (one AP, two EHCP, two SEN support).
EIGHT = [
    {"primary_need": "ASD", "age": 4, "plan_status": "EHCP", "setting_type": "EARLY_YEARS"},
    {"primary_need": "SLCN", "age": 7, "plan_status": "SEN_SUPPORT"},
    {"primary_need": "SEMH", "age": 13, "plan_status": "SEN_SUPPORT", "setting_type": "AP"},
    {"primary_need": "MLD", "age": 12, "plan_status": "EHCP", "setting_type": "SPECIAL"},
    {"primary_need": "PD", "age": 17, "plan_status": "EHCP", "setting_type": "FE"},
    {"primary_need": "HI", "age": 22, "plan_status": "SEN_SUPPORT", "setting_type": "TRAINING"},
    {"primary_need": "VI", "age": 9, "plan_status": "ASSESSMENT"},
    {"primary_need": "SPLD", "age": 14, "plan_status": "SEN_SUPPORT"},
]


@pytest.fixture
def small_caseload_csv(tmp_path: Path) -> Path:
    """Eight valid children with inline contacts."""
    return write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))


SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
SAMPLE_ARGS = [str(SAMPLE / "caseload.csv"), "--contacts", str(SAMPLE / "contacts.csv")]


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's `select` as the README runs it, with every format and the seed fixed at 0 (so
    that a test can run it again alike), once for the whole session. Read it, never change it:
    `sample_run_copy` gives a folder to continue (consent, replace)."""
    out = tmp_path_factory.mktemp("sample") / "demo"
    code, stdout, stderr = run("select", *SAMPLE_ARGS, "--out", str(out), "--format", "xlsx,parquet", "--seed", "0")
    assert code == 0, stdout + stderr
    return out


@pytest.fixture
def sample_run_copy(sample_run: Path, tmp_path: Path) -> Path:
    """A copy of the session's sample run, named `week2`, for a test to continue."""
    copy = tmp_path / "week2"
    shutil.copytree(sample_run, copy)
    return copy


def write_slow_caseload(folder: Path) -> tuple[Path, Path]:
    """A caseload and rules whose proof takes minutes with two CP-SAT workers (one worker proves
    it at once): 800 generated children, caps so high that the objective bound is weak. Written
    to `folder` as slow.csv and slow.toml (no contacts: select it with --allow-missing-contact)."""
    import re

    from selector.io.sample import generate

    caseload, _ = generate(800, 5)
    caseload.to_csv(folder / "slow.csv", index=False)
    defaults = run("default-rules")[1]
    (folder / "slow.toml").write_text(re.sub(r"(?m)^cap = .*$", "cap = 100", defaults))
    return folder / "slow.csv", folder / "slow.toml"


def load_caseload(caseload: Path | None, contacts: Path | None = None, *, annex: object = None,
                  sheet: str | None = None, allow_missing_contact: bool = False,
                  keep_columns: tuple[str, ...] = ()) -> Caseload:
    """Read and validate files as the application does (`app.load`)."""
    from selector import app

    options = annex if annex is not None else app.ReadOptions()
    return app.load(app.Sources(caseload=caseload, contacts=contacts, sheet=sheet, options=options,  # type: ignore[arg-type]
                                allow_missing_contact=allow_missing_contact, keep_columns=keep_columns))


def solve_frame(caseload: pd.DataFrame, rules: Rules, params: SelectionParams, fixed_ids: tuple[str, ...] = ()
                ) -> Solution:
    """Solve a validated caseload frame under rules (building the problem first)."""
    return solve(build_problem(caseload, rules), params, fixed_ids=fixed_ids)


def count_calls(monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> list[int]:
    """Wrap `module.name` so each call is counted (1 appended to the list returned), the work
    still done: to show a step was reused rather than worked out again."""
    calls: list[int] = []
    original = getattr(module, name)

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls
