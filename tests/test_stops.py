"""Ctrl+C, SIGTERM or SIGHUP at any point (loading, solving, writing, serving): the process stops
within about a second, leaves no staging folder, lock or upload behind, and exits 128 + the
signal with one line saying nothing was written. The signal tests run the real command in a
subprocess and send the signal."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from selector.cli import main
from selector.contract.errors import Interrupted
from tests.conftest import EIGHT, SAMPLE, caseload_frame, write_csv, write_slow_caseload

STOPPED = "Interrupted: stopped before finishing; nothing was written and temporary files were removed."
SERVER_STOPPED = "Stopped: the page is closed and its uploads were removed."
SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]


@pytest.fixture(autouse=True)
def ctrl_c_reaches_the_commands_started() -> Iterator[None]:
    """A test run started in the background by a script (`pytest &`, as a CI runner may) ignores
    Ctrl+C, and every command it starts inherits that: the SIGINT these tests send would never
    arrive. The commands are started as from a terminal instead (a handled signal is reset to its
    default in a new program; an ignored one stays ignored)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A caseload and rules whose proof takes far longer than the tests wait (800 children, caps
    so high that the objective bound is weak)."""
    return write_slow_caseload(tmp_path_factory.mktemp("slow"))


def start_select(slow: tuple[Path, Path], out: Path, ignoring: int | None = None) -> subprocess.Popen[str]:
    """`select` on the slow caseload; `ignoring` a signal, as `nohup` (SIGHUP) or a script's `&`
    (SIGINT) start a command."""
    return subprocess.Popen(
        [sys.executable, "-m", "selector", "select", str(slow[0]), "--rules", str(slow[1]), "--out", str(out),
         "--time-limit", "120", "--sets", "1", "--workers", "2", "--allow-missing-contact"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=None if ignoring is None else lambda: signal.signal(ignoring, signal.SIG_IGN))


def wait_for(path: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize(("signum", "exit_code"), SIGNALS, ids=["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("moment", ["while loading", "while solving"])
def test_a_stop_signal_ends_select_cleanly(slow: tuple[Path, Path], tmp_path: Path, signum: int, exit_code: int,
                                           moment: str) -> None:
    out = tmp_path / "run"
    process = start_select(slow, out)
    wait_for(tmp_path / ".run.selector-lock")  # the run has begun (it takes the lock first)
    if moment == "while solving":
        time.sleep(2.5)  # loading 800 children takes well under a second; the proof takes minutes
    sent = time.monotonic()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    took = time.monotonic() - sent
    assert process.returncode == exit_code, stderr
    assert stderr.strip().splitlines()[-1] == STOPPED
    assert "Traceback" not in stderr
    assert took < 10, f"took {took:.1f} s to stop"  # a second on a quiet machine; the limit was 120 s
    assert list(tmp_path.iterdir()) == []  # no run folder, no staging folder, no lock


@pytest.mark.parametrize("ignored", [signal.SIGHUP, signal.SIGINT], ids=["nohup", "a script's &"])
def test_a_signal_ignored_when_select_starts_stays_ignored(slow: tuple[Path, Path], tmp_path: Path,
                                                           ignored: int) -> None:
    """`nohup selector batch ...` ignores SIGHUP so that a national run outlives the terminal it
    was started from; a script's `selector ... &` ignores the Ctrl+C meant for the script. The run
    goes on through them; SIGTERM still stops it."""
    process = start_select(slow, tmp_path / "run", ignoring=ignored)
    wait_for(tmp_path / ".run.selector-lock")
    process.send_signal(ignored)
    time.sleep(1.5)  # a stop that is heard ends the run in about a second, with its own exit code
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr  # stopped by SIGTERM, not by the ignored signal (129, 130)
    assert stderr.strip().splitlines()[-1] == STOPPED
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("signum", "exit_code"), SIGNALS, ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_sent_to_a_whole_batch_ends_it_with_the_one_line(tmp_path: Path, signum: int,
                                                                exit_code: int) -> None:
    """Ctrl+C at a terminal (or a service manager's SIGTERM) reaches every process of the job: the
    batch and each of its workers. The workers end their areas and remove their staging folders,
    the batch removes its own, and only the batch speaks: the one line, no worker's traceback,
    nothing left beside the input."""
    areas = tmp_path / "areas"
    areas.mkdir()
    for name in ("north", "south", "east", "west"):
        shutil.copy(SAMPLE / "caseload.csv", areas / f"{name}.csv")
        shutil.copy(SAMPLE / "contacts.csv", areas / f"{name}_contacts.csv")
    process = subprocess.Popen(
        [sys.executable, "-m", "selector", "batch", str(areas), "--out", str(tmp_path / "national"), "--jobs", "2",
         "--lottery-work", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while not any(path.name.startswith(".national.") for path in tmp_path.iterdir()):  # the batch's staging
        assert process.poll() is None and time.monotonic() < deadline, "the batch never began"
        time.sleep(0.02)
    time.sleep(3)  # both workers are in an area by now: its lottery alone takes half a minute at this work
    os.killpg(process.pid, signum)  # as a terminal does: to every process of the job
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == exit_code, stderr
    assert stderr.strip().splitlines()[-1] == STOPPED
    assert "Traceback" not in stderr
    assert [path.name for path in tmp_path.iterdir()] == ["areas"]


def test_a_stop_while_writing_leaves_nothing_and_keeps_an_earlier_run(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    out = tmp_path / "run"
    runner = CliRunner()
    assert runner.invoke(main, ["select", str(caseload), "--out", str(out), "--sets", "1"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    original = Path.write_bytes
    written: list[Path] = []

    def stopped_part_way(self: Path, content: bytes) -> int:
        if len(written) == 3:
            raise Interrupted(signal.SIGTERM)  # what the SIGTERM handler raises, mid-folder
        written.append(self)
        return original(self, content)

    monkeypatch.setattr(Path, "write_bytes", stopped_part_way)
    with pytest.raises(Interrupted) as stopped:  # a BaseException: it passes every `except Exception`
        runner.invoke(main, ["select", str(caseload), "--out", str(out), "--sets", "2", "--force"])
    assert stopped.value.exit_code == 143
    assert len(written) == 3
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caseload.csv", "run"]


@contextlib.contextmanager
def page_server(env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str, Callable[..., str]]]:
    """`selector serve` on a free port: the process, its address, and a form poster that adds the
    page's token and returns the address it ends at (redirects followed)."""
    server = subprocess.Popen([sys.executable, "-m", "selector", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        url = re.search(r"http://\S+/", server.stdout.readline()).group()  # type: ignore[union-attr]
        page = urllib.request.urlopen(url, timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

        def post(path: str, fields: dict[str, str], files: dict[str, Path] | None = None) -> str:
            body, boundary = _multipart({**fields, "csrf_token": token}, files or {})
            request = urllib.request.Request(url + path.lstrip("/"), data=body, method="POST",
                                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            with urllib.request.urlopen(request, timeout=30) as response:  # an error status raises
                return response.geturl()

        yield server, url, post
    finally:
        if server.poll() is None:
            server.kill()


def test_the_web_page_removes_its_uploads_when_stopped(tmp_path: Path) -> None:
    pytest.importorskip("flask")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    with page_server({**os.environ, "TMPDIR": str(temporary)}) as (server, _, post):
        post("upload", {}, {"caseload": caseload})
        uploads = list(temporary.glob("selector-web-*/*/caseload/caseload.csv"))
        assert len(uploads) == 1  # the upload is held while the page runs
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 143, stderr
    # A stop is how the page ends: said as that (it was "stopped before finishing; nothing was
    # written", the line of a run cut short).
    assert stderr.strip().splitlines()[-1] == SERVER_STOPPED
    assert list(temporary.iterdir()) == []  # uploads and their folder are gone


def test_the_web_page_stopped_says_how_many_calls_were_in_no_download(tmp_path: Path) -> None:
    # A cohort chosen on the page, two families recorded as asked, no download, then a stop: the
    # page keeps nothing, so the terminal says the two went with it, before the one line.
    pytest.importorskip("flask")
    from tests.test_web import default_form, ids_in

    caseload = write_csv(tmp_path / "caseload.csv", caseload_frame(EIGHT))
    with page_server() as (server, url, post):
        sid = post("upload", {}, {"caseload": caseload}).rstrip("/").rsplit("/", 1)[1]
        post(f"/s/{sid}/choose", default_form(sets="1"))
        for _ in range(600):
            calls = urllib.request.urlopen(f"{url}s/{sid}/job", timeout=30).read().decode()
            if "Working on" not in calls:
                break
            time.sleep(0.05)
        for child in ids_in(calls)[:2]:
            post(f"/s/{sid}/consent", {"child_id": child, "state": "asked"})
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 143, stderr
    assert stderr.strip().splitlines()[-2:] == [
        ("Note: 2 calls and changes recorded on the page were in no download yet and went with it (the page keeps "
         "nothing once it stops). Record them again: upload the last download on the page to carry the calls on, "
         "or use selector consent on that run folder."), SERVER_STOPPED]


def _multipart(fields: dict[str, str], files: dict[str, Path]) -> tuple[bytes, str]:
    boundary = "selector-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, path in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{path.name}"\r\n'
                     "Content-Type: text/csv\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), boundary


def handlers_installed(pid: int) -> bool:
    """Whether a process catches SIGTERM and SIGHUP yet (Python itself catches only SIGINT), read
    from the kernel's record of its signal handlers."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)  # type: ignore[union-attr]
    return all(caught >> (signum - 1) & 1 for signum in (signal.SIGTERM, signal.SIGHUP))


# From the first instant the program runs its own code (imports under way) to well into the work.
INSTANTS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.4, 2.0]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the handlers from /proc (Linux)")
def test_a_stop_at_any_instant_ends_with_the_one_line(tmp_path: Path) -> None:
    """The sample's select, stopped at a spread of instants from when the program's handlers are
    in place (before any library is imported): every time the one line, 128 + the signal, no
    traceback, nothing left. (Before the handlers, the interpreter's own start: the test
    below.)"""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    for i, delay in enumerate(INSTANTS):
        signum, exit_code = SIGNALS[i % len(SIGNALS)]
        folder = tmp_path / f"at-{delay}"
        folder.mkdir()
        # More lottery work than the default keeps the run going well past the last instant (on
        # a fast machine the default run on the sample ends before it).
        process = subprocess.Popen(
            [sys.executable, "-m", "selector", "select", str(sample / "caseload.csv"), "--contacts",
             str(sample / "contacts.csv"), "--out", str(folder / "run"), "--lottery-work", "8"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not handlers_installed(process.pid):
            assert process.poll() is None and time.monotonic() < deadline, "the handlers were never installed"
            time.sleep(0.001)
        if i == 0:  # the handlers come before the libraries: neither is loaded yet
            libraries = Path(f"/proc/{process.pid}/maps").read_text()
            assert "pandas" not in libraries and "ortools" not in libraries and "numpy" not in libraries
        time.sleep(delay)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        where = f"{signal.Signals(signum).name} at {delay} s"
        assert process.returncode == exit_code, f"{where}: {stderr}"
        assert "Traceback" not in stderr, where
        assert stderr.strip().splitlines()[-1] == STOPPED, where
        assert list(folder.iterdir()) == [], where  # no run folder, no staging folder, no lock


# A stop whose handler Python runs inside a weak reference's callback (the import machinery's
# module locks have one): the signal is sent there, and the callback runs on until the handler has.
IN_A_FINALISER = """
import os, signal, sys, weakref
from selector import stopping
from selector.contract import stops
from selector.contract.errors import Interrupted

def hang_up(_ref):
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(10**7):  # the handler runs between two of these steps, inside this callback
        pass

stopping.install()
class Thing: pass
thing = Thing()
ref = weakref.ref(thing, hang_up)
del thing
try:
    stops.check()
except Interrupted as stop:
    sys.exit(stop.exit_code)
sys.exit(0)
"""


def test_a_stop_that_lands_in_a_finaliser_is_raised_again_without_a_traceback() -> None:
    """Python prints an exception raised in a finaliser ("Exception ignored in ...", a traceback)
    and goes on. A stop raised there is remembered and raised again at the run's next check, so
    nothing is printed for it. (The test above once met this: SIGHUP 0.2 s into `select`, inside
    an import.)"""
    done = subprocess.run([sys.executable, "-c", IN_A_FINALISER], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (129, "")


# A stop that comes while the application's face imports a module (pandas, NumPy and OR-Tools with
# it): the import finishes, then the stop is raised.
DURING_AN_IMPORT = """
import importlib, os, signal, sys
from selector import app, stopping
from selector.contract.errors import Interrupted

finished = []

def import_module(name, package=None):
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(10**6):  # the handler runs between two of these steps, mid-import
        pass
    module = importlib.import_module(name, package)
    finished.append(name)
    return module

stopping.install()
app.importlib = type("Importlib", (), {"import_module": staticmethod(import_module)})
try:
    app.load
except Interrupted as stop:
    print(finished)
    sys.exit(stop.exit_code)
sys.exit(0)
"""


def test_a_stop_while_a_library_is_imported_waits_for_the_import_to_finish() -> None:
    """Raised inside an import, a stop could cut a library's C extension off half made: the
    sample's select, sent SIGHUP 0.2 s in, ended by SIGSEGV with no line (once, under load).
    The application's imports now finish first, then the stop is raised: 143, the import done."""
    done = subprocess.run([sys.executable, "-c", DURING_AN_IMPORT], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (143, "['.loading']", "")


COMMAND = Path(sys.executable).with_name("selector")  # the installed command (bin/selector)
HOLDS_SIGNALS = subprocess.run(["env", "--block-signal=INT", "true"], capture_output=True).returncode == 0


def running_python(pid: int) -> bool:
    """Whether the process is Python yet (it starts as the launcher's shell, then env)."""
    try:
        return os.path.realpath(f"/proc/{pid}/exe") == os.path.realpath(sys.executable)
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/exe").exists() or not HOLDS_SIGNALS,
                    reason="reads the process from /proc (Linux); needs env --block-signal (GNU coreutils 8.31+)")
def test_a_stop_while_python_itself_starts_ends_with_the_one_line(tmp_path: Path) -> None:
    """The installed command starts Python with the stop signals held, so a stop from the instant
    Python runs, through the interpreter's own start (before any of selector's code: its site,
    encodings and entry script), waits for selector's handlers: the one line, 128 + the signal,
    never Python's own traceback. (A generated entry script, as `[project.scripts]` wrote one,
    gives a traceback for Ctrl+C in the first hundredths of a second.)"""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    for i, delay in enumerate([0.0, 0.0, 0.001, 0.002, 0.004, 0.006, 0.008, 0.012, 0.016, 0.025]):
        signum, exit_code = SIGNALS[i % len(SIGNALS)] if i else SIGNALS[0]
        folder = tmp_path / f"at-{i}"
        folder.mkdir()
        process = subprocess.Popen(
            [str(COMMAND), "select", str(sample / "caseload.csv"), "--contacts", str(sample / "contacts.csv"),
             "--out", str(folder / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not running_python(process.pid):
            assert process.poll() is None and time.monotonic() < deadline, "Python never started"
        time.sleep(delay)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        where = f"{signal.Signals(signum).name} {delay * 1000:g} ms after Python started"
        assert "Traceback" not in stderr, where
        assert process.returncode == exit_code, f"{where}: {stderr}"
        assert stderr.strip().splitlines()[-1] == STOPPED, where
        assert list(folder.iterdir()) == [], where


@pytest.mark.skipif(not COMMAND.exists() or COMMAND.read_bytes()[:9] != b"#!/bin/sh",
                    reason="the installed command is the POSIX shell launcher (bin/selector) only where pip installs it")
def test_a_stop_while_the_launcher_itself_runs_is_never_lost(tmp_path: Path) -> None:
    """Before Python starts, the installed command is a shell (it finds Python and checks that
    `env` can hold signals). A stop then ends it by the signal itself: no line, but the run never
    goes on as if nobody had asked it to stop (a shell trap would run only between commands, and
    the shell could start Python first). An `env` that takes a second to answer keeps the shell
    there, so the stop lands in it for certain."""
    slow_env = tmp_path / "path" / "env"
    slow_env.parent.mkdir()
    slow_env.write_text('#!/bin/sh\ntouch "$LAUNCHER_WAITING"; sleep 1; exit 1\n')
    slow_env.chmod(0o755)
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    for signum, _ in SIGNALS:
        folder = tmp_path / signal.Signals(signum).name
        folder.mkdir()
        waiting = tmp_path / f"{folder.name}-waiting"
        process = subprocess.Popen(
            [str(COMMAND), "select", str(sample / "caseload.csv"), "--contacts", str(sample / "contacts.csv"),
             "--out", str(folder / "run")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PATH": f"{slow_env.parent}{os.pathsep}{os.environ['PATH']}",
                 "LAUNCHER_WAITING": str(waiting)})
        wait_for(waiting)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
        where = signal.Signals(signum).name
        assert process.returncode == -signum, f"{where}: {stderr}"
        assert list(folder.iterdir()) == [], where
