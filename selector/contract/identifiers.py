"""Direct identifiers of a child or family, recognised by meaning however the header is spelled.

A header is normalised (Unicode compatibility forms, case, apostrophes, quotes, brackets, dots,
hyphens, underscores, every kind of space, case changes and digits) into words, and is an identifier when its words
name a person's name, a date of birth, an address or postcode, a national identifier (UPN,
ULN, NHS number), or a phone number or e-mail that is not the practitioner's. When unsure, the
column is dropped: the cost of losing a harmless column is a warning, the cost of keeping a
name is a child identified.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# The practitioner's own contact columns are not the child's identifiers: they are what the
# consent call needs. A header whose first words say whose contact it is stays.
PROFESSIONAL_OWNERS = ("practitioner", "lead practitioner", "key worker", "keyworker", "case worker",
                       "caseworker", "case officer", "senco", "sendco", "social worker", "professional")
# Columns of the contract whose words would otherwise look like an identifier.
CONTRACT_NAMES = {"child id", "setting id", "lead practitioner id", "practitioner id"}

_NAME_WORDS = {"name", "names", "forename", "forenames", "surname", "surnames", "firstname", "lastname",
               "givenname", "familyname", "fullname", "middlename", "middlenames", "nickname", "initials",
               "childname", "pupilname", "preferredname", "legalname", "knownas"}
_BIRTH = re.compile(r"\b(dob|d o b|birth ?date|birthday|born|date of birth|day of birth|birth)\b")
_ADDRESS = re.compile(r"\b(address|addresses|addr|postcode|post code|postal code|zip|zip code|zipcode|street|"
                      r"house number|flat|uprn)\b")
_NATIONAL = re.compile(r"\b(upn|uln|nhs|nhs no|nhs number|chi number|unique pupil|unique learner|pupil number|"
                       r"learner number|national insurance|ni number|nino|passport)\b")
_CONTACT = re.compile(r"\b(phone|phones|telephone|tel|mobile|email|e mail|emails|contact number|"
                      r"landline|whatsapp)\b")


def header_words(header: object) -> str:
    """A header as plain lower-case words: punctuation, brackets, apostrophes and any spacing gone.

    >>> header_words("Child's  Name"), header_words("D.O.B"), header_words("Forename(s)")
    ('childs name', 'd o b', 'forename s')
    >>> header_words("Post\\u00a0Code"), header_words("NHS_No."), header_words("E-mail")
    ('post code', 'nhs no', 'e mail')

    Words run together are split where the case changes or digits begin, as school and council
    systems export them:

    >>> header_words("DateOfBirth"), header_words("NHSNumber"), header_words("PupilUPN"), header_words("UPN1")
    ('date of birth', 'nhs number', 'pupil upn', 'upn 1')
    """
    text = unicodedata.normalize("NFKC", str(header))
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # DateOfBirth -> Date Of Birth
    text = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", " ", text)  # NHSNumber -> NHS Number
    text = re.sub(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])", " ", text)  # AddressLine1
    text = text.casefold()
    text = re.sub(r"['\u2018\u2019\u02bc`\u00b4]", "", text)  # child's -> childs
    text = re.sub(r"[^0-9a-z]+", " ", text)
    return " ".join(text.split())


def _joined(words: str) -> set[str]:
    """Each word, and each pair of neighbouring words written together (first name -> firstname)."""
    parts = words.split()
    return set(parts) | {a + b for a, b in itertools.pairwise(parts)}


def is_professional(words: str) -> bool:
    return any(words == owner or words.startswith(owner + " ") for owner in PROFESSIONAL_OWNERS)


def identifier_kind(header: object) -> str | None:
    """What kind of direct identifier a header names, or None.

    >>> [identifier_kind(h) for h in ("Post Code", "NHS No", "D.O.B", "Child's Name", "Forename(s)")]
    ['address', 'national id', 'date of birth', 'name', 'name']
    >>> [identifier_kind(h) for h in ("Pupil Name", "Unique Pupil Number", "Home Address", "parent email")]
    ['name', 'national id', 'address', 'phone or e-mail']
    >>> [identifier_kind(h) for h in ("practitioner_email", "primary_need", "locality", "child_id")]
    [None, None, None, None]
    >>> [identifier_kind(h) for h in ("Locality Name", "Setting Name", "Parent Name")]
    [None, 'name', 'name']
    """
    words = header_words(header)
    if not words or words in CONTRACT_NAMES:
        return None
    if is_professional(words):
        return None
    tokens = _joined(words)
    if _BIRTH.search(words):
        return "date of birth"
    if _NATIONAL.search(words):
        return "national id"
    if _ADDRESS.search(words):
        return "address"
    if _CONTACT.search(words):
        return "phone or e-mail"
    if _PLACE_NAME.fullmatch(words):  # `Locality Name`: a place's, not a person's
        return None
    if tokens & _NAME_WORDS or words.endswith(" name") or words.endswith(" names"):
        return "name"
    return None


# The name of a part of the area, which names no child (and may be the locality). Other "names
# of something" (`Setting Name`) stay look-alikes: dropped with the identifiers, kept with a warning.
_PLACE_NAME = re.compile(r"(locality|area|district|ward|region|neighbourhood|patch) names?")


# ---------------------------------------------------------------- ids that are identifiers

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # a UPN's check letter, and a temporary UPN's last character
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")
_NHS = re.compile(r"^\d{3} ?\d{3} ?\d{4}$")
# An e-mail address, as found in a cell or inside a note (`app.consent` looks for it there).
EMAIL_ADDRESS = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_EMAIL = re.compile(f"^{EMAIL_ADDRESS}$")
_PERSON_NAME = re.compile(r"^[A-Za-z][A-Za-z'\-]*(?:,? [A-Za-z][A-Za-z'\-]*)+$")
# A full UK postcode (`NE1 4XY`, `SW1A 1AA`): a few homes. Its district alone (`NE1`) is an area.
FULL_POSTCODE = r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$"
# The same inside a note (`app.consent` looks for it there), written as postcodes are: capitals, and
# the last two letters never C, I, K, M, O or V, so a time ('Y11 5PM') is not one.
POSTCODE_IN_TEXT = r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b"
# A check digit or letter passes by chance for 1 in 11 or 23 ids: such ids are said to be UPNs or
# NHS numbers only when nearly all of those written that way pass.
CHECKED_SHARE = 0.9


def upn_checks(text: str) -> bool:
    """Whether `text` is a unique pupil number with a right check letter (the DfE's rule: the
    other 12 characters weighted 2 to 13, modulo 23).

    >>> upn_checks("A801200100001"), upn_checks("B801200100001"), upn_checks("C000154")
    (False, False, False)
    >>> upn_checks(next(c + "801200100001" for c in _UPN_LETTERS if upn_checks(c + "801200100001")))
    True
    """
    text = text.strip().upper()
    if not _UPN.match(text):
        return False
    values = [int(c) if c.isdigit() else _UPN_LETTERS.index(c) if c in _UPN_LETTERS else -99 for c in text[1:]]
    if min(values) < 0:
        return False
    return _UPN_LETTERS[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23] == text[0]


def nhs_checks(text: str) -> bool:
    """Whether `text` is an NHS number (10 digits, spaced 3 3 4 or not) with a right check digit.

    >>> nhs_checks("943 476 5919"), nhs_checks("9434765918"), nhs_checks("1000154")
    (True, False, False)
    """
    text = text.strip()
    if not _NHS.match(text):
        return False
    digits = [int(c) for c in text if c.isdigit()]
    check = 11 - sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return (0 if check == 11 else check) == digits[9]


def identifying_ids(ids: pd.Series) -> np.ndarray:
    """For each id, the identifier it is ('' for none): an e-mail address, a person's name (words
    of letters only), or, when nearly all ids written that way pass the check, a UPN or an NHS
    number. A pseudonymous id is none of these. (Matched column-wise: 60,000 ids in milliseconds.)

    >>> import pandas as pd
    >>> identifying_ids(pd.Series(["C000154", "sam.roe@school.example", "Amelia Jones", "Jones, Amelia", "Child 7"])
    ...                 ).tolist()
    ['', 'an e-mail address', "a person's name", "a person's name", '']
    >>> [identifying_ids(pd.Series(ids)).tolist() for ids in (["943 476 5919", "4010232137"], ["9434765918", "1"])]
    [['an NHS number', 'an NHS number'], ['', '']]
    """
    import numpy as np  # (here: the command line reads this module before pandas is needed)

    text = ids.astype(str).str.strip()
    kinds = np.full(len(text), "", dtype=object)
    kinds[text.str.match(_PERSON_NAME.pattern).to_numpy(dtype=bool)] = "a person's name"
    kinds[text.str.match(_EMAIL.pattern).to_numpy(dtype=bool)] = "an e-mail address"
    upper = text.str.upper()
    for pattern, checks, kind in ((_UPN, upn_checks, "a UPN"), (_NHS, nhs_checks, "an NHS number")):
        shaped = np.flatnonzero(upper.str.match(pattern.pattern).to_numpy(dtype=bool))
        passing = [k for k in shaped if checks(text.iloc[k])]
        if passing and len(passing) >= CHECKED_SHARE * len(shaped):
            kinds[passing] = kind
    return kinds
