"""Nothing is lost or overwritten: an output never is or holds an input, --force replaces only an
earlier output, one run writes a folder at a time, and a failed write leaves nothing behind."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from selector.app import consent
from selector.contract.errors import InputError
from selector.io import folders
from selector.io.folders import output_lock
from selector.io.sample import generate
from tests.conftest import EIGHT, caseload_frame, run, write_csv, write_slow_caseload


@pytest.fixture
def area(tmp_path: Path) -> Path:
    """An area's folder holding its caseload (and a note the user keeps there)."""
    folder = tmp_path / "area"
    folder.mkdir()
    write_csv(folder / "caseload.csv", caseload_frame(EIGHT))
    (folder / "notes.txt").write_text("the analyst's notes")
    return folder


def untouched(folder: Path) -> bool:
    return (folder / "notes.txt").read_text() == "the analyst's notes" and (folder / "caseload.csv").is_file()


@pytest.mark.parametrize("where", ["the input's folder", "a folder above it"])
def test_an_out_that_holds_the_input_is_refused_even_with_force(area: Path, where: str) -> None:
    out = area if where == "the input's folder" else area.parent
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out), "--force")
    assert code == 2
    assert stderr.strip() == (f"Error: {out}: the output folder would hold the input caseload.csv; nothing was "
                              "written. Choose an output outside the input's folder.")
    assert untouched(area)


def test_the_rules_file_and_contacts_are_inputs_too(area: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules" / "r.toml"
    rules.parent.mkdir()
    rules.write_text("size = 6\n")
    code, _, stderr = run("select", str(area / "caseload.csv"), "--rules", str(rules), "--out", str(rules.parent),
                          "--force")
    assert code == 2 and "would hold the input r.toml" in stderr and rules.read_text() == "size = 6\n"


def test_out_dot_in_the_input_folder_is_refused(area: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(area)
    code, _, stderr = run("select", "caseload.csv", "--out", ".", "--force")
    assert code == 2 and "would hold the input caseload.csv" in stderr
    assert untouched(area)


def test_out_dot_elsewhere_with_force_is_refused_unless_it_is_a_run_folder(area: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "report for the director.docx").write_bytes(b"mine")
    monkeypatch.chdir(work)
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", ".", "--force")
    assert code == 2 and "is not a run folder written by selector, so it is never replaced" in stderr
    assert (work / "report for the director.docx").read_bytes() == b"mine"


def test_batch_out_that_holds_the_manifest_is_refused(tmp_path: Path) -> None:
    caseload, contacts = generate(200, 1, area="Northshire")
    caseload.to_csv(tmp_path / "north.csv", index=False)
    contacts.to_csv(tmp_path / "north_contacts.csv", index=False)
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"area": ["Northshire"], "caseload": ["north.csv"],
                  "contacts": ["north_contacts.csv"]}).to_csv(manifest, index=False)
    before = manifest.read_bytes()
    code, _, stderr = run("batch", str(manifest), "--out", str(tmp_path), "--force", "--jobs", "1")
    assert code == 2 and "would hold the input" in stderr
    assert manifest.read_bytes() == before and (tmp_path / "north.csv").is_file()


def test_failures_file_is_never_written_over_an_input_or_a_stranger(area: Path, tmp_path: Path) -> None:
    caseload = area / "caseload.csv"
    before = caseload.read_bytes()
    code, _, stderr = run("validate", str(caseload), "--failures", str(caseload))
    assert code == 2 and "would be the input caseload.csv" in stderr
    assert caseload.read_bytes() == before
    code, _, stderr = run("validate", str(caseload), "--failures", str(area / "notes.txt"))
    assert code == 2 and "already exists and was not written by selector" in stderr
    assert untouched(area)
    # An earlier failures table may be written over: that is what re-checking a list does.
    failures = tmp_path / "failures.csv"
    assert run("validate", str(caseload), "--failures", str(failures))[0] == 0
    assert run("validate", str(caseload), "--failures", str(failures))[0] == 0
    assert failures.read_text(encoding="utf-8-sig").startswith("severity,file,row,column,value,problem,fix")


def test_profile_html_is_never_written_over_an_input(area: Path) -> None:
    caseload = area / "caseload.csv"
    before = caseload.read_bytes()
    code, _, stderr = run("profile", str(caseload), "--html", str(caseload), "--force")
    assert code == 2 and "would be the input caseload.csv" in stderr and caseload.read_bytes() == before


def test_a_second_run_into_a_folder_being_written_fails_at_once(area: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    with output_lock(out):  # as a first run holds it while it solves
        code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out))
    assert code == 2
    assert stderr.strip().splitlines() == [f"Error: {out}: another selector run is writing this folder now.",
                                           "Wait for it to finish, or choose another --out."]
    assert not out.exists()
    assert run("select", str(area / "caseload.csv"), "--out", str(out))[0] == 0  # the lock went with the run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area", "run"]


def test_a_consent_call_waits_for_another_writing_the_run_then_is_recorded(
        area: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two people record calls at the same moment: the second waits for the first's write
    # instead of being refused, and both calls are kept.
    out = tmp_path / "run"
    assert run("select", str(area / "caseload.csv"), "--out", str(out), "--sets", "1")[0] == 0
    member = json.loads((out / "run.json").read_text())["cohorts"][0]["members"][0]
    first = FileLock(str(tmp_path / ".run.selector-lock"), thread_local=False)
    first.acquire()
    threading.Timer(0.5, first.release).start()  # the other write ends half a second later
    code, _, stderr = run("consent", str(out), member, "asked")
    assert code == 0, stderr
    assert [e["state"] for e in json.loads((out / "run.json").read_text())["consent"]] == ["asked"]
    # Held longer than the wait: refused, nothing recorded.
    monkeypatch.setattr(consent, "CONSENT_WAIT", 0.3)
    with output_lock(out):
        code, _, stderr = run("consent", str(out), member, "agreed")
    assert code == 2
    assert stderr.strip().splitlines() == [f"Error: {out}: another selector run is writing this folder now.",
                                           "It did not finish within 0.3 s: try again in a moment."]
    assert [e["state"] for e in json.loads((out / "run.json").read_text())["consent"]] == ["asked"]


def test_two_real_processes_into_one_folder(tmp_path: Path) -> None:
    """Two `selector select` processes at once: the second is refused while the first works."""
    write_slow_caseload(tmp_path)  # a proof that takes minutes with two workers
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "selector", "select", str(tmp_path / "slow.csv"), "--out",
                              str(out), "--rules", str(tmp_path / "slow.toml"), "--time-limit", "60", "--sets", "1",
                              "--workers", "2", "--allow-missing-contact"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        lock = tmp_path / ".run.selector-lock"
        for _ in range(300):
            if lock.exists():
                break
            time.sleep(0.05)
        assert lock.exists(), "the first run never took the lock"
        second = subprocess.run([sys.executable, "-m", "selector", "select", str(tmp_path / "slow.csv"), "--out",
                                 str(out), "--sets", "1", "--allow-missing-contact"], capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 2
        assert "another selector run is writing this folder now" in second.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "the disk is full"),
                                              (errno.EROFS, "Read-only file system"),
                                              (errno.EACCES, "Permission denied")])
def test_a_full_disk_or_read_only_folder_is_a_clear_error_with_nothing_half_written(
        area: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str) -> None:
    out = tmp_path / "run"
    written: list[Path] = []
    original = Path.write_bytes

    def fail_after_two(self: Path, content: bytes) -> int:
        if len(written) == 2:
            raise OSError(code, os.strerror(code))
        written.append(self)
        return original(self, content)

    monkeypatch.setattr(Path, "write_bytes", fail_after_two)
    exit_code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out))
    assert exit_code == 2
    assert stderr.strip().splitlines() == [f"Error: {out}: cannot be written ({reason}); nothing was written.",
                                           ("Check that the folder is writable and the disk has room, or write "
                                           "somewhere else.")]
    assert len(written) == 2  # it failed part-way through the folder ...
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area"]  # ... and left nothing behind


def test_a_folder_that_cannot_be_created_is_a_clear_error(area: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(folders.tempfile, "mkdtemp", refuse)
    out = tmp_path / "run"
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out))
    assert code == 2 and "cannot be written (Permission denied); nothing was written" in stderr
    assert not out.exists()


def test_a_folder_where_no_lock_can_be_made_is_said_unwritable_not_busy(area: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # filelock says a lock file it cannot create as a timeout (as under /proc): the run said
    # "another selector run is writing this folder now" and to wait for it.
    def timeout(self: folders.FileLock, *_: object, **__: object) -> None:
        raise folders.Timeout(self.lock_file)

    def refuse(*_: object, **__: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(folders.FileLock, "acquire", timeout)
    monkeypatch.setattr(Path, "touch", refuse)
    out = tmp_path / "run"
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out))
    assert code == 2 and stderr.splitlines()[0] == f"Error: {out}: cannot be written (Permission denied); nothing was written."
    assert not out.exists()


def test_an_output_folder_inside_a_file_says_which_file(area: Path) -> None:
    # The OS said "File exists" (or "Not a directory"), which reads as if the folder were there.
    out = area / "caseload.csv" / "run"
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out))
    assert code == 2 and stderr.splitlines()[0] == (
        f"Error: {out}: cannot be written ({area / 'caseload.csv'} is a file, not a folder); nothing was written.")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_a_really_read_only_folder(area: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(locked / "run"))
        assert code == 2 and "cannot be written" in stderr and "Traceback" not in stderr
    finally:
        locked.chmod(0o700)


def test_a_failed_force_keeps_the_earlier_run(area: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "run"
    assert run("select", str(area / "caseload.csv"), "--out", str(out), "--sets", "1")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(self: Path, content: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    code, _, stderr = run("select", str(area / "caseload.csv"), "--out", str(out), "--sets", "2", "--force")
    assert code == 2 and "the disk is full" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area", "run"]


def test_a_stop_while_the_lock_is_taken_leaves_no_lock_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stop signal can land while the lock file is being created (another thread may take the
    # signal, so masking it does not help): the stop waits for the lock to be taken and then
    # unwinds through the step that removes it.
    import filelock

    from selector.contract import stops
    from selector.contract.errors import Interrupted
    from selector.io.folders import output_lock

    monkeypatch.setattr(stops, "_requested", None)  # the stop below must not outlive this test
    taking = filelock.FileLock.acquire

    def stopped_while_taking(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        taken = taking(self, *args, **kwargs)
        stops.stop(15)  # as the signal handler would, with the lock file just made
        return taken

    monkeypatch.setattr(filelock.FileLock, "acquire", stopped_while_taking)
    with pytest.raises(Interrupted), output_lock(tmp_path / "run"):
        pytest.fail("the run went on after the stop")
    assert list(tmp_path.iterdir()) == []


def test_a_second_stop_during_the_clean_up_of_the_first_leaves_nothing(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl+C pressed twice, the second while the first unwinds (a solve can take a moment to hand
    # back control, and the user presses again): the second lands inside the clean-up itself. It
    # must not cut that short: the lock and the staging folder go, and the first stop is the one
    # raised. Two presses 5 ms apart left the lock file behind 1 time in 4.
    import shutil

    from selector.contract import stops
    from selector.contract.errors import Interrupted

    monkeypatch.setattr(stops, "_requested", None)  # the stops below must not outlive this test
    removing = shutil.rmtree

    def pressed_again_while_removing(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        stops.stop(2)  # as the signal handler would, the clean-up just begun
        return removing(path, *args, **kwargs)

    monkeypatch.setattr(folders.shutil, "rmtree", pressed_again_while_removing)
    with pytest.raises(Interrupted) as stopped, output_lock(tmp_path / "run"), \
            folders.staged_folder(tmp_path / "run", force=False) as staging:
        (staging / "cohorts.csv").write_text("half written")
        stops.stop(15)  # the first stop, as the solve hands back control
    assert list(tmp_path.iterdir()) == []
    assert stopped.value.signum == 15


def test_an_area_finishing_after_its_batch_was_stopped_leaves_nothing(tmp_path: Path) -> None:
    # A batch on a Dask cluster, stopped: it removes its staging folder, but an area already under
    # way on a worker goes on (Dask cannot stop a running task) and writes its folder later, into
    # the batch's staging folder. Made again, that folder stayed behind, hidden, with a child list
    # in it. The area's write is refused instead.
    from selector.contract.errors import Interrupted, SelectorError

    with pytest.raises(Interrupted), folders.staged_folder(tmp_path / "national", force=False) as staging:
        raise Interrupted(2)  # the batch stopped; its staging folder is removed on the way out
    with pytest.raises(SelectorError, match="the run it belongs to was stopped"):
        folders.write_folder(staging / "north", {"cohorts.csv": b"child_id\nC1\n"}, force=False)
    assert list(tmp_path.iterdir()) == []
    # A folder of the user's that does not exist yet is made as before.
    folders.write_folder(tmp_path / "runs" / "national.staging" / "north", {"cohorts.csv": b"x\n"}, force=False)
    assert (tmp_path / "runs" / "national.staging" / "north" / "cohorts.csv").exists()


def test_force_never_replaces_a_batch_whose_area_folder_holds_calls(tmp_path: Path) -> None:
    # A national batch, then an inspector records a call in one area's folder: `batch --force`
    # into the batch folder would erase it. An area folder with no call is no reason to refuse.
    batch = tmp_path / "national"
    (batch / "North").mkdir(parents=True)
    (batch / "South").mkdir()
    (batch / "summary.csv").write_text(folders.BATCH_SUMMARY_HEADER + "rows\n")
    (batch / "North" / "run.json").write_text(json.dumps({"consent": [], "replacements": []}))
    (batch / "South" / "run.json").write_text(json.dumps({"consent": [], "replacements": []}))
    folders.check_output_folder(batch, force=True)  # nothing recorded: replaced as before
    (batch / "South" / "run.json").write_text(json.dumps({"consent": [{"child_id": "C1", "state": "agreed"}]}))
    with pytest.raises(InputError) as refused:
        folders.check_output_folder(batch, force=True)
    assert refused.value.code == "out_has_calls" and refused.value.message == (
        f"{batch}: holds the consent calls and changes recorded for runs in its folders (1), which replacing it "
        "would erase.")
