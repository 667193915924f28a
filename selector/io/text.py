"""Text as a person saved it: the decoding the tables and the small files a person edits (a rules
file, a mapping) share."""

from __future__ import annotations

import codecs
from pathlib import Path


def is_utf16(data: bytes) -> bool:
    """Whether the bytes start with UTF-16's byte-order mark (its zero bytes are then no sign of a
    binary file)."""
    return data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def decoded(data: bytes, single_byte: str = "cp1252") -> str:
    """Bytes as the text they were saved as: UTF-16 with its byte-order mark (Notepad's
    "Unicode", Excel's "Unicode Text"), UTF-8 with or without its mark, or else the single-byte
    encoding a Windows program writes (Windows-1252; a Mac's "CSV (Macintosh)" is Mac Roman).

    Raises:
        UnicodeDecodeError: the bytes are none of these.
    """
    if is_utf16(data):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode(single_byte)


def read_text(path: Path) -> str:
    """The file's text (see `decoded`): UTF-8, UTF-16 with its mark, or Windows-1252, where a
    word such as 'Café' was not UTF-8.

    Raises:
        OSError: the file cannot be read.
        UnicodeDecodeError: the bytes are none of these, or hold a zero byte (a binary file).
    """
    data = path.read_bytes()
    if b"\x00" in data and not is_utf16(data):
        raise UnicodeDecodeError("utf-8", data, data.index(b"\x00"), data.index(b"\x00") + 1, "a zero byte")
    return decoded(data)
