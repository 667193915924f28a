"""Run folders: checked before any work, built beside their place and moved in at once."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..contract.errors import InputError


def check_output_folder(folder: Path, force: bool) -> None:
    """Refuse a non-empty output folder unless `force`, before any work is done."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder. Choose another --out.", "out_not_dir")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(
            f"{folder}: the folder is not empty. Choose a new --out, or add --force to replace it.",
            "out_not_empty",
        )


@contextmanager
def staged_folder(folder: Path, force: bool) -> Iterator[Path]:
    """A temporary folder beside `folder`, moved into its place when the block ends well.

    A failure part-way leaves the old folder (if any) as it was and nothing half-written.
    """
    folder = Path(folder)
    check_output_folder(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        yield staging
        if folder.exists():
            backup = folder.parent / f".{folder.name}.old-{os.getpid()}"
            os.replace(folder, backup)
            os.replace(staging, folder)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_folder(folder: Path, files: dict[str, bytes], force: bool) -> None:
    """Write `files` into `folder` all at once (see `staged_folder`)."""
    with staged_folder(folder, force) as staging:
        for name, content in files.items():
            (staging / name).write_bytes(content)
