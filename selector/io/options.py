"""How to read a caseload beyond the file itself, declared once: the application's request, the
run record and the readers all take their fields from `ReadOptions`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class ReadOptions:
    """How to read a caseload beyond the file itself (all optional).

    Attributes:
        list1: Annex A List 1 (EHC plans), a CSV or a sheet of a workbook.
        list2: Annex A List 2 (SEN support).
        mapping: an edited Annex A mapping TOML (need names, phases, social-care teams, GIAS types).
        ap_urns: a file of AP settings' URNs (the lists carry no AP flag).
        as_of: the date ages are taken at from dates of birth (default today).
        establishments: a Get Information About Schools extract: setting type from the URN.
        sen2: a SEN2 return (.xml, or one CSV per module in a folder or a .zip).
    """

    list1: Path | None = None
    list2: Path | None = None
    mapping: Path | None = None
    ap_urns: Path | None = None
    as_of: dt.date | None = None
    establishments: Path | None = None
    sen2: Path | None = None

    @property
    def given(self) -> bool:
        """Whether any option is set (the run record then keeps them all)."""
        return any(getattr(self, name) is not None for name in READ_OPTIONS)

    @property
    def files(self) -> tuple[Path, ...]:
        """The files the options name."""
        return tuple(value for name in READ_OPTIONS if isinstance(value := getattr(self, name), Path))

    def recorded(self, names_only: bool = False) -> dict[str, str | None]:
        """The options as the run record keeps them: full paths (or, for files uploaded to the web
        page, `names_only`: the names they were uploaded under, never where the page kept them)
        and the ISO date."""
        def text(value: object) -> str | None:
            if value is None:
                return None
            if isinstance(value, dt.date):
                return value.isoformat()
            return Path(str(value)).name if names_only else str(Path(str(value)).resolve())
        return {name: text(getattr(self, name)) for name in READ_OPTIONS}

    @property
    def by_name_only(self) -> bool:
        """Whether the files are named without a folder, as a run made from an upload records
        them (a run made from files records full paths)."""
        return not any(path.is_absolute() for path in self.files)

    @classmethod
    def from_record(cls, recorded: dict[str, str | None]) -> ReadOptions:
        """The options a run record kept (see `recorded`)."""
        values: dict[str, object] = {}
        for name in READ_OPTIONS:
            text = recorded.get(name)
            if text:
                values[name] = dt.date.fromisoformat(text) if name == "as_of" else Path(text)
        return cls(**values)  # type: ignore[arg-type]


READ_OPTIONS = tuple(f.name for f in fields(ReadOptions))

# The files read through options (every option but the date), as messages and front ends name them.
READ_OPTION_FILES = {"list1": "Annex A List 1", "list2": "Annex A List 2", "mapping": "Annex A mapping file",
                     "ap_urns": "file of AP settings' URNs", "establishments": "establishments extract",
                     "sen2": "SEN2 return"}
