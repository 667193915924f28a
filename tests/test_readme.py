"""The README's two set-up commands, read from the README itself: the main job runs on the sample
as written, and the test command is the one CI runs (`.ci/run`)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE_ARGS, run

ROOT = Path(__file__).resolve().parent.parent


def readme_command(heading: str) -> list[str]:
    """The steps (`&&`-joined) of the first bash block after the line that starts with `heading`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    after = text[text.index("\n" + heading):]
    block = re.search(r"```bash\n(.*?)\n```", after, re.DOTALL)
    assert block is not None, f"no command after {heading!r}"
    return [step.strip() for step in block.group(1).split("&&")]


def test_the_main_job_command_runs_on_the_sample_as_written(tmp_path: Path) -> None:
    steps = readme_command("Install and run the main job")
    assert steps[:2] == ["python3 -m venv .venv", ".venv/bin/pip install -e ."]
    program, *arguments = shlex.split(steps[2])
    assert program == ".venv/bin/selector" and arguments[0] == "select"
    # Run from a folder of its own that holds the project's data, as a newcomer's clone does.
    (tmp_path / "data").symlink_to(ROOT / "data")
    done = subprocess.run([sys.executable, "-m", "selector", *arguments], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Cohort 1: score 80 (proved optimal)" in done.stdout
    out = tmp_path / arguments[arguments.index("--out") + 1]
    assert (out / "report.html").exists() and (out / "contacts.csv").exists()
    # Its seed came from the secure random source and is recorded: with it, the tests' own sample
    # run gives the same cohorts.
    record = json.loads((out / "run.json").read_text())
    assert record["params"]["seed_source"] == "random"
    again = tmp_path / "again"
    assert run("select", *SAMPLE_ARGS, "--out", str(again), "--seed", str(record["seed"]))[0] == 0
    members = [c["members"] for c in json.loads((again / "run.json").read_text())["cohorts"]]
    assert members == [c["members"] for c in record["cohorts"]]


def test_the_test_command_is_what_ci_runs() -> None:
    steps = readme_command("Install and run the tests")
    ci = []
    for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines():
        command = line.split("#", 1)[0].replace(" --quiet", "").strip()
        if command.startswith(("python3 -m venv", ".venv/bin/")) and "--upgrade pip" not in command:
            ci.append(command)
    assert steps == ci


def test_each_commands_row_names_every_option_its_help_has() -> None:
    """The README stands on its own: each command's row in the commands table names every option
    `--help` lists (batch's --sets, --relax, --format and others taken from `select` were in no
    row); the options of every command that reads a caseload (--list1, --sheet, ...) are said once
    for all, so they need only be in the README somewhere."""
    import click

    from selector.cli import main
    from selector.cli.options import SOURCE_OPTIONS

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = {}
    for name, command in main.commands.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `selector {name}")), "")
        assert row, f"no row for `selector {name}` in the README's commands table"
        flags = [flag for param in command.params if isinstance(param, click.Option) and param.name != "help"
                 for flag in param.opts if flag.startswith("--")]
        shared = {f"--{source.replace('_', '-')}" for source in SOURCE_OPTIONS}
        unsaid = [flag for flag in flags if flag not in row and (flag not in shared or flag not in text)]
        if unsaid:
            missing[name] = unsaid
    assert not missing, missing
