"""The editable mapping from the text of Annex A, SEN2 and the establishments extract to the
contract's codes (`selector annex-a-mapping` prints it; `--mapping FILE` reads an edited copy)."""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..contract.columns import CODE_COLUMNS, NEED_CODES, SETTING_CODES, SOCIAL_CARE_CODES
from ..contract.errors import InputError, problems_said
from .establishments import ESTABLISHMENT_TYPES, type_key
from .headers import annex_key, without_note
from .sen2 import SEN_SETTINGS
from .text import read_text

DEFAULT_MAPPING_TOML = """\
# How selector reads the text of the Annex A lists. Keys are matched ignoring case, spaces,
# hyphens, dashes and punctuation, with '&' as 'and'. Edit and pass with --mapping FILE. A value that maps to
# nothing is reported by `selector validate` with its rows; it is never guessed.

# SEN primary need: the SEN2 codes themselves are always accepted; these are the long names. A
# value with a note in brackets after it, "Specific learning difficulty (dyslexia)", is also
# matched without the note.
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
"Autism spectrum disorder" = "ASD"
"Autistic spectrum condition" = "ASD"
"Autism spectrum condition" = "ASD"
"ASC" = "ASD"
"Autism" = "ASD"
"Specific learning difficulties" = "SPLD"
"Moderate learning difficulties" = "MLD"
"Severe learning difficulties" = "SLD"
"Profound and multiple learning difficulties" = "PMLD"
"Social, emotional and mental health difficulties" = "SEMH"
"Speech, language and communication" = "SLCN"
"Other difficulty/disability" = "OTH"
"Other difficulty or disability" = "OTH"
"SEN support but no specialist assessment of type of need" = "NSA"
"No specialist assessment" = "NSA"

# Main (and subsidiary) education establishment phase -> setting_type.
[setting_type]
"Nursery" = "EARLY_YEARS"
"Nursery school" = "EARLY_YEARS"
"Early years" = "EARLY_YEARS"
"Early years setting" = "EARLY_YEARS"
"Private, voluntary or independent early years" = "EARLY_YEARS"
"PVI" = "EARLY_YEARS"
"Private nursery" = "EARLY_YEARS"
"Pre-school" = "EARLY_YEARS"
"Childminder" = "EARLY_YEARS"
"Primary" = "MAINSTREAM"
"Primary school" = "MAINSTREAM"
"Infant" = "MAINSTREAM"
"Infant school" = "MAINSTREAM"
"Junior" = "MAINSTREAM"
"Junior school" = "MAINSTREAM"
"First" = "MAINSTREAM"
"First school" = "MAINSTREAM"
"Middle" = "MAINSTREAM"
"Middle school" = "MAINSTREAM"
"Middle deemed primary" = "MAINSTREAM"
"Middle deemed secondary" = "MAINSTREAM"
"Secondary" = "MAINSTREAM"
"Secondary school" = "MAINSTREAM"
"Upper" = "MAINSTREAM"
"Upper school" = "MAINSTREAM"
"All-through" = "MAINSTREAM"
"All-through school" = "MAINSTREAM"
"Sixth form" = "MAINSTREAM"
"Resourced provision" = "RESOURCED"
"SEN unit" = "RESOURCED"
"Special" = "SPECIAL"
"Special school" = "SPECIAL"
"Independent" = "INDEPENDENT"
"Independent school" = "INDEPENDENT"
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
"Further education college" = "FE"
"College" = "FE"
"Sixth form college" = "FE"
"Apprenticeship" = "TRAINING"
"Traineeship" = "TRAINING"
"Supported internship" = "TRAINING"
"Training provider" = "TRAINING"
"Elective home education" = "EHE"
"Home education" = "EHE"
"Home educated" = "EHE"
"Not in education" = "NOT_IN_EDUCATION"
"Not in education, employment or training" = "NOT_IN_EDUCATION"
"NEET" = "NOT_IN_EDUCATION"
"Not applicable" = "NOT_IN_EDUCATION"
"Custody" = "CUSTODY"
"Youth custody" = "CUSTODY"
"Secure setting" = "CUSTODY"
"Secure children's home" = "CUSTODY"
"Young offender institution" = "CUSTODY"
"Other" = "OTHER"

# Which children's social care team? -> social_care. Empty means NONE when the child is
# not known to children's social care.
[social_care]
"None" = "NONE"
"Not known to social care" = "NONE"
"Not known" = "NONE"
"N/A" = "NONE"
"Not applicable" = "NONE"
"Early help" = "EARLY_HELP"
"Children in need" = "CIN"
"Child in need" = "CIN"
"CIN" = "CIN"
"Child in need plan" = "CIN"
"Child protection" = "CP"
"Child protection plan" = "CP"
"CP plan" = "CP"
"CP" = "CP"
"Looked after children" = "CLA"
"Looked after child" = "CLA"
"Looked after" = "CLA"
"Children looked after" = "CLA"
"Children in care" = "CLA"
"Child in care" = "CLA"
"CLA" = "CLA"
"LAC" = "CLA"
"Leaving care" = "CARE_LEAVER"
"Leaving care team" = "CARE_LEAVER"
"Care leavers" = "CARE_LEAVER"
"Care leaver" = "CARE_LEAVER"
"Disabled children" = "CIN"
"Disabled children's team" = "CIN"
"Children with disabilities" = "CIN"
"Children with disabilities team" = "CIN"
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


def code_for(table: dict[str, str], text: str) -> str:
    """The code a mapping table gives a text ('' for none): the text itself, or without a note in
    brackets after it (`Specific learning difficulty (dyslexia)`).

    >>> code_for(load_mapping().primary_need, "Moderate Learning Difficulties (MLD)")
    'MLD'
    """
    return table.get(annex_key(text)) or table.get(annex_key(without_note(text)), "")


def _mapping_lines(text: str) -> Callable[..., int | None]:
    """The line (from 1) of a table's header, or of one of its keys (None when it cannot be found)."""
    lines = text.splitlines()

    def line_of(table: str, key: str | None = None) -> int | None:
        header = re.compile(rf"^\s*\[\s*\"?{re.escape(table)}\"?\s*\]")
        start = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if key is None:  # the table's header, or a key where the table belongs (`primary_need = "SPLD"`)
            plain = re.compile(rf"^\s*\"?{re.escape(table)}\"?\s*=")
            found = start if start is not None else next((i for i, line in enumerate(lines) if plain.match(line)), None)
            return found + 1 if found is not None else None
        if start is None:
            return None
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(start + 1, len(lines)):
            if lines[i].lstrip().startswith("["):
                break
            if pattern.match(lines[i]):
                return i + 1
        return None

    return line_of


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
            text = read_text(path)
        except OSError as exc:
            raise InputError(f"{path.name}: mapping file cannot be read ({exc.strerror}).", "missing_file") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{path.name}: the mapping file cannot be read as text ({exc.reason}). Save it as UTF-8 "
                             "text.", "bad_mapping") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}.", "bad_mapping") from exc
    allowed = {"primary_need": NEED_CODES, "setting_type": SETTING_CODES, "social_care": SOCIAL_CARE_CODES,
               "establishment_type": SETTING_CODES, "sen_setting": SETTING_CODES}
    # Every problem of the file at once, each with its line (one a run made an edit-and-retry loop).
    problems: list[tuple[int | None, str]] = []  # (line, what is wrong)
    line_of = _mapping_lines(text)
    for unknown in sorted(set(data) - set(allowed)):
        near = difflib.get_close_matches(unknown, list(allowed), n=1)
        problems.append((line_of(unknown), f"unknown table [{unknown}]" + (
            f"; did you mean [{near[0]}]?" if near else f"; the tables are {', '.join(allowed)}.")))
    tables: dict[str, dict[str, str]] = {}
    for name, codes in allowed.items():
        table = {annex_key(code): code for code in codes}  # the codes themselves always map
        if name == "establishment_type":  # GIAS's names, matched their own way; defaults kept under edits
            table = {type_key(k): v for k, v in ESTABLISHMENT_TYPES.items()}
        if name == "sen_setting":  # SEN2's setting codes of a placement without a URN
            table = {annex_key(k): v for k, v in SEN_SETTINGS.items()}
        edits = data.get(name, {})
        if not isinstance(edits, dict):
            problems.append((line_of(name), (f"{name} = {edits!r} is not a table: write [{name}] on its own line, "
                                             'then one line per text, as "Autism" = "ASD" (selector annex-a-mapping '
                                             "prints the tables).")))
            edits = {}
        for key, value in edits.items():
            code = str(value).strip().upper()
            if code not in codes:
                # The code its text most likely means (`AUTISM`: ASD, `PRU`: AP), else the nearest spelling.
                meant = likely_code(name if name in CODE_COLUMNS else "setting_type", str(value)) or next(
                    iter(difflib.get_close_matches(code, list(codes), n=1, cutoff=0.5)), "")
                problems.append((line_of(name, key), f"[{name}] {key!r} = {value!r} is not one of {' '.join(codes)}"
                                 + (f"; did you mean '{meant}'?" if meant else ".")))
                continue
            table[type_key(key) if name == "establishment_type" else annex_key(key)] = code
        tables[name] = table
    said = [f"line {line}: {what}" if line else what
            for line, what in sorted(problems, key=lambda problem: problem[0] or 1 << 30)]
    if said:
        raise InputError(problems_said(source, "the mapping", said), "bad_mapping",
                         fix=f"Correct the mapping file at the line{'' if len(said) == 1 else 's'} named.")
    return Mapping(**tables)


# Texts for a plan status that areas write instead of the code (the school census writes E and K).
PLAN_WORDS = {"e": "EHCP", "ehc plan": "EHCP", "ehc": "EHCP", "education health and care plan": "EHCP",
              "statement": "EHCP", "k": "SEN_SUPPORT", "sen support": "SEN_SUPPORT", "sen": "SEN_SUPPORT",
              "support": "SEN_SUPPORT", "ehc needs assessment": "ASSESSMENT", "needs assessment": "ASSESSMENT",
              "in assessment": "ASSESSMENT", "assessment": "ASSESSMENT", "ehcna": "ASSESSMENT"}


def likely_code(column: str, text: str) -> str:
    """The contract's code a text most likely means ('' for none): the code written another way
    (`SEN Support`), a long name the Annex A mapping knows (`Autism`), or a plan status's usual
    words (`K`, `EHC plan`).

    >>> likely_code("plan_status", "SEN Support"), likely_code("primary_need", "Autism")
    ('SEN_SUPPORT', 'ASD')
    >>> likely_code("plan_status", "K"), likely_code("setting_type", "Pupil referral unit")
    ('SEN_SUPPORT', 'AP')
    >>> likely_code("setting_type", "Mainstream school"), likely_code("primary_need", "something else")
    ('MAINSTREAM', '')

    Last, a text that holds one code among other words (`SEMH needs`, `ASD (autism)`, `SEN
    support only`); none when it holds two (`mainstream with resourced provision`):

    >>> likely_code("primary_need", "SEMH needs"), likely_code("plan_status", "SEN support only")
    ('SEMH', 'SEN_SUPPORT')
    >>> likely_code("setting_type", "mainstream with resourced provision")
    ''

    A code written with a full stop after each letter (`E.H.C.P`, `S.E.N. Support`) is read
    without them:

    >>> likely_code("plan_status", "E.H.C.P"), likely_code("plan_status", "S.E.N. support")
    ('EHCP', 'SEN_SUPPORT')
    """
    key = annex_key(text)
    codes = CODE_COLUMNS.get(column, ())
    written = {annex_key(code): code for code in codes}
    if key in written:
        return written[key]
    found = _named_code(column, key) or _named_code(column, annex_key(without_note(text)))
    if found:
        return found
    # One code among other words (a code of two words, SEN_SUPPORT, as its words), and no other
    # code: most likely that one.
    held = {code for words, code in written.items() if f" {words} " in f" {key} "}
    if len(held) == 1:
        return held.pop()
    collapsed = _DOTTED_LETTERS.sub(lambda letters: re.sub(r"[.\s]", "", letters.group(0)), text)
    return likely_code(column, collapsed) if collapsed != text else ""


# Letters each followed by a full stop (E.H.C.P, S.E.N.), as some lists write the codes.
_DOTTED_LETTERS = re.compile(r"(?<![A-Za-z])(?:[A-Za-z]\.\s?){2,}[A-Za-z]?(?![A-Za-z])")


def _named_code(column: str, key: str) -> str:
    """The code a whole text names in words (a plan status's usual words, a long name the Annex A
    mapping knows), '' for none."""
    if column == "plan_status":
        return PLAN_WORDS.get(key, "")
    table = "primary_need" if column == "secondary_need" else column
    if table not in ("primary_need", "setting_type", "social_care"):
        return ""
    names = getattr(_default_mapping(), table)
    if key in names:
        return str(names[key])
    if column == "setting_type" and key.endswith(" school"):  # `Mainstream school`, `AP school`
        return likely_code(column, key.removesuffix(" school"))
    return ""


@functools.cache
def _default_mapping() -> Mapping:
    return load_mapping()
