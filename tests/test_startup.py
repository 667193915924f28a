"""Start-up: the command line answers `--help` without importing the libraries of the work, and
a command imports only what it needs (the figures are in benchmarks/startup.py, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EIGHT, caseload_frame, write_csv

HEAVY_FOR_HELP = ("pandas", "numpy", "ortools", "scipy", "jinja2", "openpyxl", "python_calamine", "pyarrow", "distributed", "dask",
                  "flask", "multiprocessing", "concurrent.futures.process")
NOT_FOR_SELECT = ("scipy", "distributed", "dask", "flask", "multiprocessing", "concurrent.futures.process")


def loaded_after(code: str) -> set[str]:
    """The modules a fresh process holds after running `code`."""
    done = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_command_line_loads_none_of_the_work() -> None:
    loaded = loaded_after("import selector.cli")
    assert [m for m in HEAVY_FOR_HELP if m in loaded] == []


def test_help_loads_none_of_the_work() -> None:
    code = ("import sys\nfrom selector.cli import main\nsys.argv = ['selector', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    loaded = loaded_after(code)
    assert [m for m in HEAVY_FOR_HELP if m in loaded] == []


def test_select_loads_no_audit_batch_or_web_machinery(tmp_path: Path) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    code = ("import sys\nfrom selector.launch import entry\n"
            f"sys.argv = ['selector', 'select', {str(caseload)!r}, '--out', {str(tmp_path / 'run')!r}, '--sets', '1']\n"
            "try:\n    entry()\nexcept SystemExit as done:\n    assert done.code == 0, done.code")
    loaded = loaded_after(code)
    assert (tmp_path / "run" / "cohorts.csv").exists()  # the run happened
    assert "ortools" in loaded and "pandas" in loaded
    assert [m for m in NOT_FOR_SELECT if m in loaded] == []


def test_help_shows_the_default_the_search_uses() -> None:
    """One source for the default lottery work: what the help shows is what a run uses."""
    from click.testing import CliRunner

    from selector.cli import main
    from selector.solve.settings import SelectionParams

    shown = CliRunner().invoke(main, ["select", "--help"]).output
    assert f"[default: {SelectionParams().lottery_work}; x>=0]" in " ".join(shown.split())


def test_the_installed_command_runs_through_a_link_to_it(tmp_path: Path) -> None:
    # The command is a shell launcher that finds its Python beside it; installed by pipx (or
    # linked by hand) it is called through a link elsewhere, and must find it all the same.
    command = Path(sys.executable).with_name("selector")
    link = tmp_path / "bin" / "selector"
    link.parent.mkdir()
    link.symlink_to(command)
    done = subprocess.run([str(link), "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("selector, version "), done.stderr
