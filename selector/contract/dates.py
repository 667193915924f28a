"""Dates a person gives (the date ages are taken at), on the command line or in a batch
manifest: read as ISO, or as an analyst in England writes them, day first. No heavy import, so
the command line's options can use it."""

from __future__ import annotations

import datetime as dt

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y")
DATE_WRITTEN = "2026-12-01 (or 01/12/2026, or 1 December 2026)"


def written_date(text: str) -> dt.date | None:
    """The date a person wrote (None when it is none of `DATE_FORMATS`, or no real day).

    >>> written_date("01/12/2026"), written_date("1 Dec 2026"), written_date("2026-12-01"), written_date("31/11/2026")
    (datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), datetime.date(2026, 12, 1), None)
    """
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), form).date()
        except ValueError:
            continue
    return None
