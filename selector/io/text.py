"""Small text files a person edits and saves (a rules file, a mapping), read as they were saved."""

from __future__ import annotations

import codecs
from pathlib import Path


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without its byte-order mark), UTF-16 with its mark
    (Notepad's "Unicode"), or else Windows-1252 (Notepad's "ANSI", where a word such as
    'Café' was not UTF-8).

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: the bytes are none of these (a binary file).
    """
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\x00" in data:  # no text file of these holds a zero byte
        raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1, "a zero byte")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")
