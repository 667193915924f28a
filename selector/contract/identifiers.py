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
    if tokens & _NAME_WORDS or words.endswith(" name") or words.endswith(" names"):
        return "name"
    return None
