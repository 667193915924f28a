"""Telling Annex A from other tables by their headers (without reading the lists' machinery)."""

from __future__ import annotations

import re

from .tables import RawTable

# Headers only List 1 has (normalised by `annex_key`).
LIST1_ONLY = ("date initial ehc plan issued", "elective home education")


def annex_key(text: object) -> str:
    """Text as the mapping matches it: lower case, punctuation and dashes as spaces, single spaces.

    >>> annex_key("Main education establishment – URN ")
    'main education establishment urn'
    >>> annex_key("Known to children's social care?")
    'known to childrens social care'
    """
    lowered = str(text).strip().lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", " ", lowered).strip()


def is_annex_a(table: RawTable) -> bool:
    """Whether a table has Annex A headers (a Unique ID and a SEN primary need)."""
    keys = {annex_key(h) for h in table.header.values()}
    return "unique id" in keys and "sen primary need" in keys


def is_list1(table: RawTable) -> bool:
    keys = {annex_key(h) for h in table.header.values()}
    return any(k in keys for k in LIST1_ONLY)
