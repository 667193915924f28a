"""The data contract as constants: columns, codes, age bands, identifiers."""

from __future__ import annotations

from .identifiers import header_words

NEED_CODES: tuple[str, ...] = (
    "SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "NSA",
)
PLAN_CODES: tuple[str, ...] = ("EHCP", "SEN_SUPPORT", "ASSESSMENT")
SETTING_CODES: tuple[str, ...] = (
    "EARLY_YEARS", "MAINSTREAM", "RESOURCED", "SPECIAL", "INDEPENDENT", "AP", "FE",
    "TRAINING", "EHE", "NOT_IN_EDUCATION", "CUSTODY", "OTHER",
)
SOCIAL_CARE_CODES: tuple[str, ...] = ("NONE", "EARLY_HELP", "CIN", "CP", "CLA", "CARE_LEAVER")

REQUIRED_COLUMNS: tuple[str, ...] = ("child_id", "age", "primary_need", "plan_status", "setting_type")

# Columns whose values must come from a fixed code list (empty allowed where optional).
CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "primary_need": NEED_CODES,
    "plan_status": PLAN_CODES,
    "setting_type": SETTING_CODES,
    "social_care": SOCIAL_CARE_CODES,
    "secondary_need": NEED_CODES,
}
BOOLEAN_COLUMNS: tuple[str, ...] = ("out_of_area", "exclude")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "services", "social_care", "locality", "setting_id", "secondary_need", "out_of_area", "exclude",
    "exclude_reason", "lead_practitioner_id",
)
# Every column the contract defines (age_band is derived from age), whether or not a file has it.
CONTRACT_COLUMNS = frozenset((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, "age_band"))
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", ""})

MIN_AGE, MAX_AGE = 0, 25
# SEN2 age bands: (label, lowest age, highest age).
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-4", 0, 4), ("5-10", 5, 10), ("11-15", 11, 15), ("16-19", 16, 19), ("20-25", 20, 25),
)

CONTACT_FIELDS: tuple[str, ...] = ("name", "role", "organisation", "email", "phone")
INLINE_CONTACT_COLUMNS: dict[str, str] = {f"practitioner_{f}": f for f in CONTACT_FIELDS}
# The columns a contacts file is read by, and every header a caseload or contacts file is read by.
CONTACTS_FILE_COLUMNS = frozenset((*CONTACT_FIELDS, "practitioner_id", "child_id"))
READ_HEADERS = CONTRACT_COLUMNS | frozenset(INLINE_CONTACT_COLUMNS) | CONTACTS_FILE_COLUMNS
# The validated caseload carries the lead contact in these columns.
CONTACT_COLUMNS: tuple[str, ...] = tuple(f"contact_{f}" for f in CONTACT_FIELDS)
# The names selector gives columns of its own, in the validated caseload and in cohorts.csv: a
# column kept from the file under one of them would be overwritten or lost.
OWN_COLUMNS = frozenset(("row", "eligible", "ineligible_reason", "practitioner_key", *CONTACT_COLUMNS,
                         "cohort", "slot", "score", "why_chosen", "rules_dropped"))


def age_band(age: int) -> str:
    """The SEN2 age band of a whole age in years.

    >>> age_band(4), age_band(5), age_band(19), age_band(25)
    ('0-4', '5-10', '16-19', '20-25')
    """
    for label, low, high in AGE_BANDS:
        if low <= age <= high:
            return label
    raise ValueError(f"age {age} is outside {MIN_AGE}-{MAX_AGE}")


def normalise_column(name: object) -> str:
    """A column header as the contract matches it: trimmed, lower case, spaces and hyphens as `_`.

    >>> normalise_column("  Primary Need ")
    'primary_need'
    >>> normalise_column("Lead-Practitioner ID")
    'lead_practitioner_id'

    A header written with the words of a column the contract reads, run together as school and
    council systems export them or with other punctuation, is that column; any other header keeps
    its plain form (a kept column's name in the outputs does not change):

    >>> normalise_column("PrimaryNeed"), normalise_column("LeadPractitionerID"), normalise_column("Child ID.")
    ('primary_need', 'lead_practitioner_id', 'child_id')
    >>> normalise_column("FavColour")
    'favcolour'
    """
    text = str(name).strip().lower()
    for ch in (" ", "-", "\u2013", "\u2014"):
        text = text.replace(ch, "_")
    while "__" in text:
        text = text.replace("__", "_")
    if text in READ_HEADERS:
        return text
    words = header_words(name).replace(" ", "_")
    return words if words in READ_HEADERS else text


# Services are free vocabulary, but these are well-known services' names (as read: upper case,
# words joined by `_`) written out or shortened otherwise. Two names of one service in one file
# count as two services, so validation warns when it sees them side by side; it merges nothing.
SERVICE_NAMES: dict[str, tuple[str, ...]] = {
    "SALT": ("SPEECH_AND_LANGUAGE_THERAPY", "SPEECH_AND_LANGUAGE_THERAPIST", "SPEECH_AND_LANGUAGE", "SLT",
             "SPEECH_THERAPY"),
    "OT": ("OCCUPATIONAL_THERAPY", "OCCUPATIONAL_THERAPIST"),
    "EP": ("EDUCATIONAL_PSYCHOLOGY", "EDUCATIONAL_PSYCHOLOGIST", "ED_PSYCH"),
    "PHYSIO": ("PHYSIOTHERAPY", "PHYSIOTHERAPIST"),
    "CAMHS": ("CHILD_AND_ADOLESCENT_MENTAL_HEALTH_SERVICES", "CHILD_AND_ADOLESCENT_MENTAL_HEALTH_SERVICE", "CYPMHS"),
    "YOT": ("YOUTH_OFFENDING_TEAM", "YOUTH_OFFENDING_SERVICE", "YOUTH_JUSTICE", "YOUTH_JUSTICE_SERVICE"),
    "COMMUNITY_PAEDS": ("COMMUNITY_PAEDIATRICS", "COMMUNITY_PAEDIATRICIAN", "COMMUNITY_PAEDIATRIC"),
    "SOCIAL_CARE": ("CHILDRENS_SOCIAL_CARE", "SOCIAL_WORKER", "SOCIAL_WORK"),
    "SHORT_BREAKS": ("SHORT_BREAK", "RESPITE", "RESPITE_CARE"),
}
