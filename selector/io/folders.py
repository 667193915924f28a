"""Output files and folders, written safely: never over an input, never over a folder that is
not an earlier output, one writer at a time, all at once or not at all."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from ..contract.errors import InputError
from ..contract.failures import FAILURE_COLUMNS
from ..contract.stops import held

RUN_RECORD = "run.json"
BATCH_SUMMARY = "summary.csv"
BATCH_SUMMARY_HEADER = "area,caseload,rules,seed,"
AUDIT_TABLE = "audit.csv"
AUDIT_TABLE_HEADER = "type,children,chance_each,"


def refuse_inputs(target: Path, inputs: Iterable[Path | None], what: str = "output") -> None:
    """An output may not be an input, nor a folder that holds one (replacing it would delete it).

    Raises:
        InputError: `target` is, or contains, one of `inputs`.
    """
    here = Path(target).resolve()
    for given in inputs:
        if given is None:
            continue
        source = Path(given).resolve()
        if source == here or here in source.parents:
            raise InputError(
                f"{target}: the {what} would {'be' if source == here else 'hold'} the input {Path(given).name}; "
                "nothing was written. Choose an output outside the input's folder.", "output_is_input")


def is_earlier_output(folder: Path) -> bool:
    """A folder this tool wrote before: a run folder (its run record), a batch (its summary) or an
    audit (its table)."""
    record = folder / RUN_RECORD
    if record.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return record.read_text(encoding="utf-8").lstrip().startswith("{")
    summary = folder / BATCH_SUMMARY
    if summary.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return summary.read_text(encoding="utf-8-sig").startswith(BATCH_SUMMARY_HEADER)
    table = folder / AUDIT_TABLE
    if table.is_file():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return table.read_text(encoding="utf-8-sig").startswith(AUDIT_TABLE_HEADER)
    return False


def check_output_folder(folder: Path, force: bool, inputs: Iterable[Path | None] = ()) -> None:
    """Refuse, before any work is done, an output folder that holds an input, that is a file, or
    that has content: with `force`, only an earlier output of this tool (or an empty folder) is
    replaced, never a folder of other files.

    Raises:
        InputError: with what to do instead.
    """
    folder = Path(folder)
    refuse_inputs(folder, inputs, "output folder")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder.", "out_not_dir", fix="Choose another output folder.")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not force:
        raise InputError(f"{folder}: the folder is not empty.", "out_not_empty",
                         fix="Choose a new output folder, or say that this one is to be replaced.")
    if not is_earlier_output(folder) or folder.resolve() in (Path.cwd().resolve(), Path.home().resolve()):
        raise InputError(
            f"{folder}: is not a run folder written by selector, so it is never replaced (that would delete "
            "what it holds).", "out_not_a_run", fix="Choose a new output folder.")
    # The week's record of calls lives only in its run folder (or a batch's area folder): never
    # lost to a forced re-run into it.
    calls = calls_recorded(folder)
    in_areas = sum(calls_recorded(area) for area in folder.iterdir() if area.is_dir())
    if calls or in_areas:
        whose = "its run" if calls else "runs in its folders"
        raise InputError(
            f"{folder}: holds the consent calls and changes recorded for {whose} ({calls or in_areas}), which "
            "replacing it would erase.", "out_has_calls",
            fix="Choose a new output folder (the calls stay where they are).")


def calls_recorded(folder: Path) -> int:
    """How many consent calls and replacements a run folder's record holds (0 when it is not a
    run folder or its record cannot be read)."""
    with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
        record = json.loads((folder / RUN_RECORD).read_text(encoding="utf-8"))
        if isinstance(record, dict):
            return sum(len(record.get(part) or ()) for part in ("consent", "replacements")
                       if isinstance(record.get(part) or (), list))
    return 0


# How often a wait for another run's lock looks again (seconds).
LOCK_POLL = 0.05


@contextmanager
def output_lock(folder: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the right to write `folder`: a second run into the same folder fails at once, or,
    with `wait` (a small change made in place, such as a consent call), once it has waited
    that many seconds for the other to finish.

    Raises:
        InputError: another run holds it.
    """
    folder = Path(folder)
    parent = _existing_parent(folder)
    lock_path = parent / f".{folder.name or 'out'}.selector-lock"
    lock = FileLock(str(lock_path))
    acquired = False
    deadline = time.monotonic() + wait
    try:
        while not acquired:
            # A stop waits while the lock is taken and comes inside this `try`, whose `finally`
            # removes the lock file: never a lock left behind by a stop at the wrong moment.
            with held():
                try:
                    lock.acquire(timeout=0)
                    acquired = True
                except Timeout:
                    if not lock_path.exists():
                        # Nobody holds it: the lock file could not be made here (filelock says
                        # so as a timeout), which is a folder that cannot be written, not a busy one.
                        try:
                            lock_path.touch()
                        except OSError as exc:
                            raise _cannot_write(folder, exc) from None
                    elif time.monotonic() >= deadline:
                        raise InputError(f"{folder}: another selector run is writing this folder now.",
                                         "out_busy" if not wait else "run_busy",
                                         fix=f"It did not finish within {wait:g} s: try again in a moment." if wait
                                         else "Wait for it to finish, or choose another output folder.") from None
                except OSError as exc:
                    raise _cannot_write(folder, exc) from exc
            if not acquired:
                time.sleep(LOCK_POLL)  # outside the held step: a stop ends the wait at once
        yield
    finally:
        if acquired:
            lock.release()
            with contextlib.suppress(OSError):
                lock_path.unlink()


# The end of a staging folder's name (hidden, beside its final place: `.run.x1y2z3ab.staging`).
STAGING_SUFFIX = ".staging"


def _existing_parent(folder: Path) -> Path:
    parent = folder.resolve().parent
    gone = next((p for p in (parent, *parent.parents)
                 if p.name.startswith(".") and p.name.endswith(STAGING_SUFFIX) and not p.exists()), None)
    if gone is not None:
        # Another run's staging folder, removed because that run was stopped: a batch's area still
        # running on a cluster worker (Dask cannot stop a task under way). Made again, it would be
        # left behind with the area's files in it, unseen.
        raise InputError(f"{folder}: not written: the run it belongs to was stopped and removed {gone.name}.",
                         "run_stopped", fix="Run it again.")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(folder, exc) from exc
    return parent


def _cannot_write(target: Path, exc: OSError) -> InputError:
    reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or type(exc).__name__)
    # A file where a folder of the path should be: the OS says "File exists" or "Not a directory".
    if (file := next((p for p in Path(target).absolute().parents if p.exists() and not p.is_dir()), None)):
        reason = f"{file} is a file, not a folder"
    return InputError(f"{target}: cannot be written ({reason}); nothing was written.", "cannot_write",
                      fix="Check that the folder is writable and the disk has room, or write somewhere else.")


@contextmanager
def staged_folder(folder: Path, force: bool, inputs: Iterable[Path | None] = ()) -> Iterator[Path]:
    """A temporary folder beside `folder`, moved into its place when the block ends well.

    A failure or an interruption part-way leaves the old folder (if any) as it was and nothing
    half-written.
    """
    folder = Path(folder)
    inputs = list(inputs)
    check_output_folder(folder, force, inputs)
    parent = _existing_parent(folder)
    staging: Path | None = None
    try:
        with held():  # as in output_lock: the staging folder is made under the `except` that removes it
            try:
                staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=STAGING_SUFFIX, dir=parent))
            except OSError as exc:
                raise _cannot_write(folder, exc) from exc
        yield staging
        _move_into_place(staging, folder)
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise _cannot_write(folder, exc) from exc
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _move_into_place(staging: Path, folder: Path) -> None:
    """Swap the finished folder in; a stop signal waits until the swap is done (not half-swapped)."""
    with held():
        if folder.exists():
            backup = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, backup)
            os.replace(staging, folder)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, folder)


def write_folder(folder: Path, files: dict[str, bytes], force: bool, inputs: Iterable[Path | None] = ()) -> None:
    """Write `files` into `folder` all at once (see `staged_folder`)."""
    with staged_folder(folder, force, inputs) as staging:
        for name, content in files.items():
            (staging / name).write_bytes(content)


def is_failures_table(path: Path) -> bool:
    """A file this tool wrote as a failures table (its header, in CSV or on a workbook's first
    sheet), which may be written over."""
    if Path(path).suffix.lower() == ".xlsx":
        from .workbooks import read_sheet

        with contextlib.suppress(OSError, InputError):
            rows = read_sheet(Path(path), Path(path).read_bytes(), None)[2]
            return bool(rows) and rows[0] == list(FAILURE_COLUMNS)
        return False
    with contextlib.suppress(OSError, UnicodeDecodeError), open(path, encoding="utf-8-sig") as handle:
        return handle.readline().strip() == ",".join(FAILURE_COLUMNS)
    return False


def write_file(path: Path, content: bytes, inputs: Iterable[Path | None] = (), *, replaceable: bool = False) -> None:
    """Write one file all at once (a temporary file beside it, then renamed), never over an input,
    and over an existing file only when `replaceable` says it is an earlier output.

    Raises:
        InputError: the path is an input, exists and is not replaceable, or cannot be written.
    """
    path = Path(path)
    refuse_inputs(path, inputs, "file")
    if path.exists() and (path.is_dir() or not replaceable):
        raise InputError(f"{path}: already exists and was not written by selector; nothing was written. "
                         "Choose another name.", "exists")
    parent = _existing_parent(path)
    temporary = None
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
        temporary = Path(name)
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    finally:
        if temporary is not None and temporary.exists():
            temporary.unlink()


# A run folder's download holds a few dozen files of a few MB: more than this is not one.
RUN_ZIP_MAX_FILES = 200
RUN_ZIP_MAX_BYTES = 500 * 2**20


def unpack_run_zip(archive: Path, into: Path, shown: str | None = None) -> Path:
    """The run folder inside a zip (the web page's download, or any zipped run folder) unpacked
    into the folder `into` (which must not exist), and its path. Only the run folder's own files
    are taken (the folder holding run.json, at the top or one level down), never a path outside it.

    Raises:
        InputError: not a zip, no run.json in it (or more than one), or larger than a run folder.
    """
    name = shown or Path(archive).name
    import zipfile  # only for this

    try:
        with zipfile.ZipFile(archive) as book:
            entries = [e for e in book.infolist() if not e.is_dir()]
            if len(entries) > RUN_ZIP_MAX_FILES or sum(e.file_size for e in entries) > RUN_ZIP_MAX_BYTES:
                raise InputError(f"{name}: too large to be a run folder.", "bad_run_zip",
                                 fix="Give the zip of one run folder (the page's Download).")
            records = [e.filename for e in entries if e.filename.replace("\\", "/").split("/")[-1] == "run.json"
                       and e.filename.count("/") <= 1]
            if len(records) != 1:
                raise InputError(f"{name}: " + ("holds no run.json: it is not a run folder's zip." if not records
                                                else "holds more than one run folder."), "bad_run_zip",
                                 fix="Give the zip of one run folder (the page's Download).")
            top = records[0][: -len("run.json")]
            inner = top.strip("/")
            # Named as in the zip when that is a plain folder name (never "..": nothing outside `into`).
            folder = into / (inner if inner and inner not in (".", "..") and "\\" not in inner else "run")
            folder.mkdir(parents=True)
            for entry in entries:
                inside = entry.filename[len(top):] if entry.filename.startswith(top) else ""
                if not inside or "/" in inside or "\\" in inside or inside in (".", ".."):
                    continue  # only the run folder's own files
                (folder / inside).write_bytes(book.read(entry))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise InputError(f"{name}: not a zip file that can be read ({error}).", "bad_run_zip",
                         fix="Give the zip the page's Download gave, as it was.") from None
    return folder
