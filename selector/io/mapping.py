"""The editable mapping from the text of Annex A, SEN2 and the establishments extract to the
contract's codes (`selector annex-a-mapping` prints it; `--mapping FILE` reads an edited copy)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..contract.columns import NEED_CODES, SETTING_CODES, SOCIAL_CARE_CODES
from ..contract.errors import InputError
from .establishments import ESTABLISHMENT_TYPES, type_key
from .headers import annex_key
from .sen2 import SEN_SETTINGS

DEFAULT_MAPPING_TOML = """\
# How selector reads the text of the Annex A lists. Keys are matched ignoring case, spaces,
# hyphens, dashes and punctuation. Edit and pass with --mapping FILE. A value that maps to
# nothing is reported by `selector validate` with its rows; it is never guessed.

# SEN primary need: the SEN2 codes themselves are always accepted; these are the long names.
[primary_need]
"Specific learning difficulty" = "SPLD"
"Moderate learning difficulty" = "MLD"
"Severe learning difficulty" = "SLD"
"Profound and multiple learning difficulty" = "PMLD"
"Social, emotional and mental health" = "SEMH"
"Speech, language and communication needs" = "SLCN"
"Hearing impairment" = "HI"
"Visual impairment" = "VI"
"Multi-sensory impairment" = "MSI"
"Physical disability" = "PD"
"Autistic spectrum disorder" = "ASD"
"Autism" = "ASD"
"Other difficulty/disability" = "OTH"
"Other difficulty or disability" = "OTH"
"SEN support but no specialist assessment of type of need" = "NSA"
"No specialist assessment" = "NSA"

# Main (and subsidiary) education establishment phase -> setting_type.
[setting_type]
"Nursery" = "EARLY_YEARS"
"Early years" = "EARLY_YEARS"
"Private, voluntary or independent early years" = "EARLY_YEARS"
"Primary" = "MAINSTREAM"
"Middle deemed primary" = "MAINSTREAM"
"Middle deemed secondary" = "MAINSTREAM"
"Secondary" = "MAINSTREAM"
"All-through" = "MAINSTREAM"
"Sixth form" = "MAINSTREAM"
"Resourced provision" = "RESOURCED"
"SEN unit" = "RESOURCED"
"Special" = "SPECIAL"
"Special school" = "SPECIAL"
"Independent" = "INDEPENDENT"
"Independent special school" = "INDEPENDENT"
"Non-maintained special school" = "INDEPENDENT"
"Pupil referral unit" = "AP"
"PRU" = "AP"
"Alternative provision" = "AP"
"AP academy" = "AP"
"16 plus" = "FE"
"Post-16" = "FE"
"Further education" = "FE"
"FE college" = "FE"
"Sixth form college" = "FE"
"Apprenticeship" = "TRAINING"
"Traineeship" = "TRAINING"
"Supported internship" = "TRAINING"
"Elective home education" = "EHE"
"Not in education" = "NOT_IN_EDUCATION"
"NEET" = "NOT_IN_EDUCATION"
"Not applicable" = "NOT_IN_EDUCATION"
"Custody" = "CUSTODY"
"Youth custody" = "CUSTODY"
"Secure setting" = "CUSTODY"
"Other" = "OTHER"

# Which children's social care team? -> social_care. Empty means NONE when the child is
# not known to children's social care.
[social_care]
"None" = "NONE"
"Not known to social care" = "NONE"
"Early help" = "EARLY_HELP"
"Children in need" = "CIN"
"Child in need" = "CIN"
"CIN" = "CIN"
"Child protection" = "CP"
"CP" = "CP"
"Looked after children" = "CLA"
"Looked after child" = "CLA"
"Children looked after" = "CLA"
"CLA" = "CLA"
"LAC" = "CLA"
"Leaving care" = "CARE_LEAVER"
"Care leavers" = "CARE_LEAVER"
"Care leaver" = "CARE_LEAVER"
"Disabled children" = "CIN"
"Children with disabilities" = "CIN"
"""
DEFAULT_MAPPING_TOML += (
    "\n# SEN2 returns: the SEN setting code of a placement without a URN -> setting_type.\n"
    "[sen_setting]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in SEN_SETTINGS.items()))
DEFAULT_MAPPING_TOML += (
    "\n# Get Information About Schools: type of establishment (or type group) -> setting_type,\n"
    "# used with --establishments FILE to find a child's setting type from the URN.\n"
    "[establishment_type]\n" + "".join(f'"{k}" = "{v}"\n' for k, v in ESTABLISHMENT_TYPES.items()))


@dataclass(frozen=True)
class Mapping:
    """The mapping tables: normalised text -> contract code, per target column."""

    primary_need: dict[str, str]
    setting_type: dict[str, str]
    social_care: dict[str, str]
    establishment_type: dict[str, str]
    sen_setting: dict[str, str]


def load_mapping(path: Path | str | None = None) -> Mapping:
    """The default mapping, or an edited one (every code checked).

    Raises:
        InputError: the file is missing, not TOML, or maps to a code the contract lacks.
    """
    source = "default mapping"
    text = DEFAULT_MAPPING_TOML
    if path is not None:
        path = Path(path)
        source = path.name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"{path.name}: mapping file cannot be read ({exc.strerror}).", "missing_file") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}.", "bad_mapping") from exc
    allowed = {"primary_need": NEED_CODES, "setting_type": SETTING_CODES, "social_care": SOCIAL_CARE_CODES,
               "establishment_type": SETTING_CODES, "sen_setting": SETTING_CODES}
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(f"{source}: unknown table [{unknown[0]}]; the tables are "
                         f"{', '.join(allowed)}.", "bad_mapping")
    tables: dict[str, dict[str, str]] = {}
    for name, codes in allowed.items():
        table = {annex_key(code): code for code in codes}  # the codes themselves always map
        if name == "establishment_type":  # GIAS's names, matched their own way; defaults kept under edits
            table = {type_key(k): v for k, v in ESTABLISHMENT_TYPES.items()}
        if name == "sen_setting":  # SEN2's setting codes of a placement without a URN
            table = {annex_key(k): v for k, v in SEN_SETTINGS.items()}
        edits = data.get(name, {})
        if not isinstance(edits, dict):
            raise InputError(f"{source}: {name} = {edits!r} is not a table: write [{name}] on its own line, then one "
                             'line per text, as "Autism" = "ASD" (selector annex-a-mapping prints the tables).',
                             "bad_mapping")
        for key, value in edits.items():
            code = str(value).strip().upper()
            if code not in codes:
                raise InputError(f"{source}: [{name}] {key!r} = {value!r} is not one of {' '.join(codes)}.",
                                 "bad_mapping")
            table[type_key(key) if name == "establishment_type" else annex_key(key)] = code
        tables[name] = table
    return Mapping(**tables)
