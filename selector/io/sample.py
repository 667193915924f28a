"""A synthetic caseload that looks like a real English local area (for demos, tests, benchmarks).

Proportions follow the national SEN statistics (January 2025): primary needs of EHC plans and
of SEN support, a third of the list with plans, ages 0-25 with most at school age, rare AP, a
few looked-after, CIN and CP children. Everything is drawn from one seeded generator, so a seed
always gives the same caseload.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Share of each primary need among EHC plans (January 2025: ASD 31.5%, SLCN 21.3%, SEMH
# 20.7%, MLD 10.6%; the remaining 15.9% spread over the rarer needs).
EHCP_NEEDS = {
    "ASD": 31.5, "SLCN": 21.3, "SEMH": 20.7, "MLD": 10.6, "SLD": 4.2, "PD": 3.2,
    "SPLD": 2.6, "OTH": 2.1, "HI": 1.6, "PMLD": 1.1, "VI": 0.8, "MSI": 0.3,
}
# SEN support: SLCN and SEMH most common, more MLD and SPLD, NSA (no specialist assessment).
SEN_SUPPORT_NEEDS = {
    "SLCN": 25.0, "SEMH": 20.5, "MLD": 18.5, "SPLD": 13.5, "ASD": 8.4, "NSA": 5.0,
    "OTH": 3.5, "PD": 2.2, "HI": 1.5, "VI": 0.8, "SLD": 0.8, "MSI": 0.2, "PMLD": 0.1,
}
PLAN_SHARES = {"EHCP": 0.33, "SEN_SUPPORT": 0.65, "ASSESSMENT": 0.02}
# Age-band shares by plan: plans run 0-25, SEN support is mostly school age.
AGE_BAND_SHARES = {
    "EHCP": [0.06, 0.33, 0.34, 0.20, 0.07],
    "SEN_SUPPORT": [0.04, 0.49, 0.41, 0.06, 0.0],
    "ASSESSMENT": [0.20, 0.45, 0.30, 0.05, 0.0],
}
BANDS = [(0, 4), (5, 10), (11, 15), (16, 19), (20, 25)]

# Setting type shares by (plan group, age band index). AP is rare (about 2% overall).
_SCHOOL_EHCP = {"MAINSTREAM": 0.44, "SPECIAL": 0.36, "RESOURCED": 0.06, "INDEPENDENT": 0.05,
                "AP": 0.045, "EHE": 0.02, "NOT_IN_EDUCATION": 0.015, "OTHER": 0.01}
_SCHOOL_SUPPORT = {"MAINSTREAM": 0.94, "AP": 0.02, "RESOURCED": 0.01, "EHE": 0.015,
                   "INDEPENDENT": 0.01, "NOT_IN_EDUCATION": 0.005}
SETTING_SHARES = {
    ("EHCP", 0): {"EARLY_YEARS": 0.85, "SPECIAL": 0.1, "NOT_IN_EDUCATION": 0.05},
    ("EHCP", 1): _SCHOOL_EHCP,
    ("EHCP", 2): _SCHOOL_EHCP,
    ("EHCP", 3): {"FE": 0.38, "SPECIAL": 0.25, "MAINSTREAM": 0.12, "TRAINING": 0.08,
                  "INDEPENDENT": 0.05, "AP": 0.03, "NOT_IN_EDUCATION": 0.07, "CUSTODY": 0.01,
                  "OTHER": 0.01},
    ("EHCP", 4): {"FE": 0.45, "TRAINING": 0.2, "NOT_IN_EDUCATION": 0.2, "SPECIAL": 0.05,
                  "OTHER": 0.1},
    ("SUPPORT", 0): {"EARLY_YEARS": 0.97, "NOT_IN_EDUCATION": 0.03},
    ("SUPPORT", 1): _SCHOOL_SUPPORT,
    ("SUPPORT", 2): _SCHOOL_SUPPORT,
    ("SUPPORT", 3): {"FE": 0.6, "MAINSTREAM": 0.25, "TRAINING": 0.08, "AP": 0.03,
                     "NOT_IN_EDUCATION": 0.04},
    ("SUPPORT", 4): {"FE": 0.7, "TRAINING": 0.2, "NOT_IN_EDUCATION": 0.1},
}
NO_SETTING = {"EHE", "NOT_IN_EDUCATION"}
# Children per setting, roughly: settings are shared by many children.
CHILDREN_PER_SETTING = {"MAINSTREAM": 25, "EARLY_YEARS": 8, "SPECIAL": 60, "RESOURCED": 12,
                        "INDEPENDENT": 10, "AP": 6, "FE": 80, "TRAINING": 15, "CUSTODY": 3,
                        "OTHER": 5}
SOCIAL_CARE_SHARES = {"NONE": 0.86, "EARLY_HELP": 0.05, "CIN": 0.045, "CP": 0.012, "CLA": 0.03}
LOCALITIES = ["Northgate", "Southfield", "Eastbrook", "Westmoor", "Riverside", "Hillcrest",
              "Oakham Vale"]
# Services a child of each need commonly receives (besides those of every child).
NEED_SERVICES = {
    "ASD": ["SALT", "CAMHS", "EP", "COMMUNITY_PAEDS"], "SLCN": ["SALT", "EP"],
    "SEMH": ["CAMHS", "EP"], "MLD": ["EP"], "SLD": ["SALT", "OT", "SHORT_BREAKS"],
    "PMLD": ["PHYSIO", "OT", "SHORT_BREAKS", "COMMUNITY_PAEDS"], "SPLD": ["EP"],
    "PD": ["PHYSIO", "OT", "COMMUNITY_PAEDS"], "HI": ["SENSORY_SUPPORT", "AUDIOLOGY"],
    "VI": ["SENSORY_SUPPORT", "HABILITATION"], "MSI": ["SENSORY_SUPPORT", "OT"],
    "OTH": ["COMMUNITY_PAEDS", "SCHOOL_NURSING"], "NSA": ["EP"],
}
FIRST_NAMES = ["Amira", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Hamza", "Isla", "Jack",
               "Kiran", "Leah", "Mo", "Nadia", "Owen", "Priya", "Rhys", "Sara", "Tom", "Zara"]
SURNAMES = ["Ahmed", "Baker", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hussain", "Iqbal",
            "Jones", "Khan", "Lewis", "Morgan", "Nolan", "Patel", "Quinn", "Roberts", "Shah",
            "Turner", "Walsh"]
ROLES_BY_SETTING = {"MAINSTREAM": "SENCO", "EARLY_YEARS": "Early years SENCO",
                    "SPECIAL": "Class teacher", "RESOURCED": "SENCO", "INDEPENDENT": "SENCO",
                    "AP": "AP key worker", "FE": "Learning support lead", "TRAINING": "Key worker",
                    "EHE": "EHE adviser", "NOT_IN_EDUCATION": "SEND case officer",
                    "CUSTODY": "YOT case manager", "OTHER": "SEND case officer"}
EXCLUDE_REASONS = ["consent declined", "tracked at the last inspection", "safeguarding advice"]


def _draw(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def generate(rows: int, seed: int, area: str = "Northshire") -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic caseload of `rows` children and its practitioners' contacts.

    Returns:
        (caseload, contacts): the caseload in the contract's columns, with
        `lead_practitioner_id`; the contacts keyed by `practitioner_id`.

    >>> caseload, contacts = generate(200, seed=1)
    >>> len(caseload), caseload["child_id"].is_unique
    (200, True)
    """
    if rows < 1:
        raise ValueError("rows must be at least 1")
    rng = np.random.default_rng(seed)
    n = rows

    plan, band, need, age = _plans_bands_needs_ages(rng, n)
    setting_type = np.empty(n, dtype=object)
    group = np.where(plan == "EHCP", "EHCP", "SUPPORT")
    for (g, b), shares in SETTING_SHARES.items():
        mask = (group == g) & (band == b)
        setting_type[mask] = _draw(rng, shares, int(mask.sum()))
    locality_weights = rng.dirichlet(np.full(len(LOCALITIES), 4.0))
    locality = np.array(LOCALITIES, dtype=object)[rng.choice(len(LOCALITIES), size=n, p=locality_weights)]
    setting_id, setting_names = _settings(rng, setting_type, locality)
    social = _social_care(rng, plan, need, age)
    social_text = np.where(social == "NONE", "", social)

    services = _services(rng, need, plan, social, age)

    secondary = np.full(n, "", dtype=object)
    has_secondary = rng.random(n) < 0.2
    secondary[has_secondary] = _draw(rng, EHCP_NEEDS, int(has_secondary.sum()))
    secondary[secondary == need] = ""

    out_of_area = np.where((plan == "EHCP") & (rng.random(n) < 0.05), "true", "false")
    excluded = rng.random(n) < 0.006
    exclude_reason = np.where(excluded, np.array(EXCLUDE_REASONS, dtype=object)[
        rng.integers(0, len(EXCLUDE_REASONS), n)], "")

    practitioner, contacts = _practitioners(rng, setting_type, setting_id, locality, setting_names, area)

    ids = rng.permutation(np.arange(1, max(n * 3, 1000)))[:n]
    caseload = pd.DataFrame({
        "child_id": [f"C{i:06d}" for i in ids],
        "age": age,
        "primary_need": need,
        "secondary_need": secondary,
        "plan_status": plan,
        "setting_type": setting_type,
        "setting_id": setting_id,
        "services": services,
        "social_care": social_text,
        "locality": locality,
        "out_of_area": out_of_area,
        "exclude": np.where(excluded, "true", "false"),
        "exclude_reason": exclude_reason,
        "lead_practitioner_id": practitioner,
    })
    return caseload, contacts


def _plans_bands_needs_ages(rng: np.random.Generator, n: int
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each child's plan status, age band, primary need (by plan) and age (within the band)."""
    plan = _draw(rng, PLAN_SHARES, n)
    band = np.zeros(n, dtype=int)
    need = np.empty(n, dtype=object)
    for status in PLAN_SHARES:
        mask = plan == status
        k = int(mask.sum())
        band[mask] = rng.choice(5, size=k, p=AGE_BAND_SHARES[status])
        need[mask] = _draw(rng, EHCP_NEEDS if status == "EHCP" else SEN_SUPPORT_NEEDS, k)
    low = np.array([b[0] for b in BANDS])[band]
    high = np.array([b[1] for b in BANDS])[band]
    age = low + (rng.random(n) * (high - low + 1)).astype(int)
    return plan, band, need, age


def _settings(rng: np.random.Generator, setting_type: np.ndarray, locality: np.ndarray
              ) -> tuple[np.ndarray, dict[str, str]]:
    """Each child's setting (URN) among the settings of its type in its locality, a few large and
    many small; and each setting's name."""
    setting_id = np.full(len(setting_type), "", dtype=object)
    setting_names: dict[str, str] = {}
    next_urn = 100000 + int(rng.integers(0, 800000))
    for stype, per in CHILDREN_PER_SETTING.items():
        for loc in LOCALITIES:
            mask = (setting_type == stype) & (locality == loc)
            k = int(mask.sum())
            if k == 0:
                continue
            count = max(1, round(k / per))
            urns = [f"{next_urn + i}" for i in range(count)]
            next_urn += count + 7
            # Uneven sizes: a few large settings and many small ones.
            sizes = rng.dirichlet(np.full(count, 1.5))
            setting_id[mask] = np.array(urns, dtype=object)[rng.choice(count, size=k, p=sizes)]
            for urn in urns:
                setting_names[urn] = f"{loc} {stype.replace('_', ' ').title()} {urn[-3:]}"
    return setting_id, setting_names


def _social_care(rng: np.random.Generator, plan: np.ndarray, need: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Each child's social care code (NONE for most)."""
    n = len(plan)
    social = _draw(rng, SOCIAL_CARE_SHARES, n)
    # Social care involvement is more common with plans and with SEMH.
    boost = ((plan == "EHCP") | (need == "SEMH")) & (social == "NONE") & (rng.random(n) < 0.06)
    social[boost] = _draw(rng, {"CIN": 0.5, "CP": 0.15, "CLA": 0.35}, int(boost.sum()))
    leaver = (age >= 18) & (rng.random(n) < 0.06)
    social[leaver] = "CARE_LEAVER"
    social[(age < 18) & (social == "CARE_LEAVER")] = "NONE"
    return social


def _services(rng: np.random.Generator, need: np.ndarray, plan: np.ndarray, social: np.ndarray,
              age: np.ndarray) -> np.ndarray:
    n = len(need)
    chosen: list[set[str]] = [set() for _ in range(n)]
    take = rng.random((n, 4))
    for i in range(n):
        options = NEED_SERVICES[need[i]]
        rate = 0.55 if plan[i] == "EHCP" else 0.25
        for j, service in enumerate(options[:4]):
            if take[i, j] < rate:
                chosen[i].add(service)
    for i in np.flatnonzero(social != "NONE"):
        chosen[i].add("SOCIAL_CARE")
    short_breaks = (plan == "EHCP") & (rng.random(n) < 0.06)
    for i in np.flatnonzero(short_breaks):
        chosen[i].add("SHORT_BREAKS")
    # Youth offending teams work with 10-17 year olds (a few stay on to 19).
    yot_rate = np.where(need == "SEMH", 0.06, 0.01)
    yot = (age >= 10) & (age <= 19) & (rng.random(n) < yot_rate)
    for i in np.flatnonzero(yot):
        chosen[i].add("YOT")
    return np.array([";".join(sorted(s)) for s in chosen], dtype=object)


def _practitioners(rng: np.random.Generator, setting_type: np.ndarray, setting_id: np.ndarray,
                   locality: np.ndarray, setting_names: dict[str, str],
                   area: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Each child's lead practitioner: a setting's staff know several of its children; children
    without a setting have a local authority case officer, each knowing several children."""
    n = len(setting_type)
    key = np.where(setting_id != "", setting_id, "LA-" + locality.astype(str) + "-" + setting_type.astype(str))
    practitioner = np.empty(n, dtype=object)
    records = []
    pid = 0
    order = pd.Series(np.arange(n)).groupby(key, sort=True)
    for group_key, members in order:
        idx = members.to_numpy()
        count = max(1, round(len(idx) / 7))
        ids = [f"P{pid + j + 1:05d}" for j in range(count)]
        pid += count
        practitioner[idx] = np.array(ids, dtype=object)[rng.integers(0, count, len(idx))]
        stype = setting_type[idx[0]]
        organisation = setting_names.get(group_key, f"{area} Council SEND team")
        for pract_id in ids:
            first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
            last = SURNAMES[int(rng.integers(len(SURNAMES)))]
            number = int(pract_id[1:])
            records.append({
                "practitioner_id": pract_id,
                "name": f"{first} {last}",
                "role": ROLES_BY_SETTING[stype],
                "organisation": organisation,
                "email": f"{first.lower()}.{last.lower()}.{number}@{area.lower()}.example",
                "phone": f"01632 {960000 + number % 1000:06d}",
            })
    contacts = pd.DataFrame(records).sort_values("practitioner_id", kind="stable").reset_index(drop=True)
    return practitioner, contacts


def inline_contacts(caseload: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """The caseload with each child's practitioner written into the inline contact columns."""
    by_id = contacts.set_index("practitioner_id")
    out = caseload.copy()
    for field_name in ("name", "role", "organisation", "email", "phone"):
        out[f"practitioner_{field_name}"] = out["lead_practitioner_id"].map(by_id[field_name])
    return out


# ---------------------------------------------------------------- Annex A shape

NEED_NAMES = {
    "SPLD": "Specific learning difficulty", "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty", "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health", "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment", "VI": "Visual impairment", "MSI": "Multi-sensory impairment",
    "PD": "Physical disability", "ASD": "Autistic spectrum disorder", "OTH": "Other difficulty/disability",
    "NSA": "SEN support but no specialist assessment of type of need",
}
PHASES = {"EARLY_YEARS": "Nursery", "RESOURCED": "Resourced provision", "SPECIAL": "Special",
          "INDEPENDENT": "Independent", "AP": "Pupil referral unit", "FE": "16 plus",
          "TRAINING": "Apprenticeship", "NOT_IN_EDUCATION": "Not in education", "CUSTODY": "Custody",
          "OTHER": "Other", "EHE": "Not applicable"}
TEAMS = {"": "", "EARLY_HELP": "Early help", "CIN": "Children in need", "CP": "Child protection",
         "CLA": "Looked after children", "CARE_LEAVER": "Leaving care"}
# Annex A samples give ages 0-23 on this date, so that they stay within 0-25 for two years.
ANNEX_A_ANCHOR = "2026-09-01"


def annex_a_lists(rows: int, seed: int, area: str = "Northshire") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A synthetic List 1 (EHC plans), List 2 (SEN support) and contacts keyed by child_id.

    Headers as local areas write them; needs as long names or codes; dates of birth as text.
    """
    caseload, contacts = generate(rows, seed, area)
    rng = np.random.default_rng([seed, 1])
    caseload = caseload[caseload["plan_status"] != "ASSESSMENT"].reset_index(drop=True)
    n = len(caseload)
    anchor = pd.Timestamp(ANNEX_A_ANCHOR)
    age = np.minimum(caseload["age"].to_numpy(), 23)
    # The sector's validator queries a child of school age (5 to 15) with no establishment
    # (rules 108a/208a): in the sample, those not in education are young people past 16, and
    # those educated at home have just turned 16.
    no_school = np.isin(caseload["setting_type"].to_numpy(), ["NOT_IN_EDUCATION", "EHE"])
    school_age = (age >= 5) & (age <= 15)
    age = np.where(no_school & school_age,
                   np.where(caseload["setting_type"].to_numpy() == "EHE", 16, rng.integers(16, 20, n)), age)
    born = anchor - pd.to_timedelta(age * 365.25 + rng.integers(1, 360, n), unit="D")
    # A plan is issued after birth and before its last review, which is before the list's date
    # (rules 105b-d, 106a-b).
    lived = (anchor - born).days.to_numpy()
    reviewed = anchor - pd.to_timedelta(np.minimum(rng.integers(10, 400, n), lived // 2), unit="D")
    issued = born + pd.to_timedelta(((reviewed - born).days.to_numpy() * rng.uniform(0.05, 0.95, n)).astype(int),
                                    unit="D")
    dob = np.where(rng.random(n) < 0.5, born.strftime("%d/%m/%Y"), born.strftime("%Y-%m-%d"))
    setting = caseload["setting_type"].to_numpy()
    phase = np.array([PHASES.get(s, "") for s in setting], dtype=object)
    school = setting == "MAINSTREAM"
    phase[school] = np.where(age[school] <= 10, "Primary", "Secondary")
    need = caseload["primary_need"].to_numpy()
    need_text = np.where(rng.random(n) < 0.7, [NEED_NAMES[x] for x in need], need)
    care = caseload["social_care"].fillna("").to_numpy()
    frame = pd.DataFrame({
        "Unique ID": caseload["child_id"],
        "UPN": [f"H{int(x):012d}" for x in rng.integers(10**11, 10**12, n)],
        "ULN": [f"{int(x):010d}" for x in rng.integers(10**9, 10**10 - 1, n)],
        "Date of birth": dob,
        "Gender": rng.choice(["Female", "Male"], n, p=[0.3, 0.7]),
        "Ethnicity": rng.choice(["WBRI", "WOTH", "ABAN", "APKN", "BAFR", "BCRB", "MWBC", "CHNE", "OOTH"], n),
        "Date initial EHC plan issued": issued.strftime("%Y-%m-%d"),
        "Date updated EHC plan issued": "",
        "Date EHC plan last reviewed": reviewed.strftime("%d/%m/%Y"),
        "SEN primary need": need_text,
        "Main education establishment – URN": caseload["setting_id"],
        "Main education establishment – phase": phase,
        "Subsidiary education establishment – phase (dual registration)": "",
        "Elective home education": np.where(setting == "EHE", "Yes", "No"),
        "Suspensions": rng.poisson(0.3, n),
        "Permanent exclusions": (rng.random(n) < 0.005).astype(int),
        "Absence": np.round(rng.beta(2, 18, n) * 100, 1),
        "Pupil Premium": np.where(rng.random(n) < 0.4, "Yes", "No"),
        "Known to children's social care?": np.where(care != "", "Yes", "No"),
        "Which children's social care team?": [TEAMS.get(c, c) for c in care],
        "Does the child or young person have a disability?": np.where(rng.random(n) < 0.3, "Yes", "No"),
    })
    ehcp = (caseload["plan_status"] == "EHCP").to_numpy()
    list1 = frame.loc[ehcp].reset_index(drop=True)
    list2 = frame.loc[~ehcp].drop(columns=["Date initial EHC plan issued", "Date updated EHC plan issued",
                                           "Date EHC plan last reviewed", "Elective home education"])
    list2 = list2.reset_index(drop=True)
    # SEN support children educated at home: the phase says so (List 2 has no EHE column).
    list2.loc[list2["Main education establishment – phase"] == "Not applicable",
              "Main education establishment – phase"] = "Elective home education"
    by_id = contacts.set_index("practitioner_id")
    child_contacts = pd.DataFrame({"child_id": caseload["child_id"]})
    for column in ("name", "role", "organisation", "email", "phone"):
        child_contacts[column] = caseload["lead_practitioner_id"].map(by_id[column]).to_numpy()
    return list1, list2, child_contacts


# What kind of establishment each setting type is, as Get Information About Schools names it:
# (type of establishment, type group, phase of education).
GIAS_TYPES = {
    "MAINSTREAM": ("Academy converter", "Academies", "Primary"),
    "RESOURCED": ("Community school", "Local authority maintained schools", "Secondary"),
    "SPECIAL": ("Community special school", "Special schools", "Not applicable"),
    "INDEPENDENT": ("Other independent special school", "Independent schools", "Not applicable"),
    "AP": ("Pupil referral unit", "Local authority maintained schools", "Not applicable"),
    "FE": ("Further education", "Colleges", "16 plus"),
    "EARLY_YEARS": ("Local authority nursery school", "Local authority maintained schools", "Nursery"),
    "CUSTODY": ("Secure units", "Other types", "Not applicable"),
}
GIAS_COLUMNS = ["URN", "LA (name)", "EstablishmentName", "TypeOfEstablishment (name)",
                "EstablishmentTypeGroup (name)", "EstablishmentStatus (name)", "PhaseOfEducation (name)"]


def establishments_extract(rows: int, seed: int, area: str = "Northshire") -> pd.DataFrame:
    """A small extract in the Get Information About Schools format, one row per setting of the
    synthetic caseload (`generate` with the same arguments), its type matching the setting type."""
    caseload, _ = generate(rows, seed, area)
    settings = (caseload.loc[caseload["setting_id"] != "", ["setting_id", "setting_type", "locality"]]
                .drop_duplicates("setting_id").sort_values("setting_id"))
    settings = settings[settings["setting_type"].isin(list(GIAS_TYPES))]
    kinds = [GIAS_TYPES[t] for t in settings["setting_type"]]
    return pd.DataFrame({
        "URN": settings["setting_id"].to_numpy(),
        "LA (name)": area,
        "EstablishmentName": [f"{loc} {k[0]} {urn[-3:]}" for loc, k, urn in
                              zip(settings["locality"], kinds, settings["setting_id"], strict=True)],
        "TypeOfEstablishment (name)": [k[0] for k in kinds],
        "EstablishmentTypeGroup (name)": [k[1] for k in kinds],
        "EstablishmentStatus (name)": "Open",
        "PhaseOfEducation (name)": [k[2] for k in kinds],
    }, columns=GIAS_COLUMNS)
