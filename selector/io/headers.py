"""Telling Annex A from other tables by their headers (without reading the lists' machinery)."""

from __future__ import annotations

import re

from .tables import RawTable

# Headers only List 1 has (normalised by `annex_key`).
LIST1_ONLY = ("date initial ehc plan issued", "elective home education")


def annex_key(text: object) -> str:
    """Text as the mapping matches it: lower case, punctuation and dashes as spaces, single
    spaces, '&' as 'and' (`Profound & Multiple Learning Difficulty`, as many systems write it).

    >>> annex_key("Main education establishment – URN ")
    'main education establishment urn'
    >>> annex_key("Known to children's social care?"), annex_key("Speech, Language & Communication")
    ('known to childrens social care', 'speech language and communication')
    """
    lowered = str(text).strip().lower().replace("'", "").replace("\u2019", "").replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", " ", lowered).strip()


def without_note(text: object) -> str:
    """Text without a note in brackets after it: `Specific learning difficulty (dyslexia)`.

    >>> without_note("Specific learning difficulty (dyslexia)"), without_note("PMLD")
    ('Specific learning difficulty', 'PMLD')
    """
    return _HEADER_NOTE.sub("", str(text))


# A note an area adds after a header: "Date of birth (dd/mm/yyyy)", "Unique ID [see note 1]".
_HEADER_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")


def header_keys(header: dict[str, str]) -> dict[str, str]:
    """Each header's `annex_key` -> its column; a header with a note in brackets after it is also
    found without the note, unless another header is that exactly.

    >>> header_keys({"a": "Unique ID (see note 1)", "b": "Date of birth (dd/mm/yyyy)", "c": "UPN"})
    {'unique id see note 1': 'a', 'date of birth dd mm yyyy': 'b', 'upn': 'c', 'unique id': 'a', 'date of birth': 'b'}
    """
    keys = {annex_key(text): column for column, text in header.items()}
    for column, text in header.items():
        bare = annex_key(without_note(text))
        if bare:
            keys.setdefault(bare, column)
    return keys


def is_annex_a(table: RawTable) -> bool:
    """Whether a table has Annex A headers (a Unique ID and a SEN primary need)."""
    keys = header_keys(table.header)
    return "unique id" in keys and "sen primary need" in keys


def is_list1(table: RawTable) -> bool:
    keys = header_keys(table.header)
    return any(k in keys for k in LIST1_ONLY)
