"""What a lottery is, as the rest of selector sees it: the distribution over cohorts with every
candidate's exact chance (`Lottery`), the same for a run's outputs (`Chances`), and a lottery by
child ids as it is kept to be used again (`StoredLottery`: stored.py)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..templates import Column

TOLERANCE = 1e-7  # LP and pricing tolerance on chances
FORMAT = 1  # of a kept lottery (StoredLottery) and of its key
FIRST_LEVEL_SHARE = 0.999  # smallest / bound at which the first leximin level counts as reached
# Why finding every child who can be drawn may stop short: the wall clock, or one CP-SAT search
# (bounded by its own work) that neither found a cohort holding the children left nor proved
# there is none.
INCOMPLETE_WHY = ("the time limit came, or a search for a cohort holding the children left reached its work "
                  "limit without finding one or proving there is none")


@dataclass(frozen=True)
class Lottery:
    """A distribution over cohorts and every candidate's exact chance under it.

    Attributes:
        columns: the columns the distribution gives weight to (each a set of pools of candidate
            positions, a cohort taking one child of each pool; see templates.py).
        weights: each column's probability (they sum to 1).
        type_of: each candidate's type number.
        chances: each candidate's chance of being in the drawn cohort.
        threshold: the lowest score a cohort of the lottery may have.
        levels: how many leximin levels were fixed.
        proved: every level was proved (the fairest lottery); False when the work budget ran
            out first (the chances are exact for the lottery used, which may not be the fairest).
        complete: every child who is in some cohort of the lottery's score was found (so every
            such child has a chance above zero).
        reproducible: the work budget, not the wall clock, decided where the search stopped, so
            the same caseload in any row order gives this lottery on any machine.
        rank: each candidate's place in child-id order (draws pick by it, not by row order).
        spread_floor: when the levels did not finish, the chance every child who can be drawn
            was kept at while the largest chance was made as small as it could be (None otherwise).
        bound: a proved upper bound on the smallest chance any lottery over these cohorts can
            give every child who can be drawn (bound.py; the first level itself when it was
            fixed): the certificate is `smallest / bound`.
        largest_without_slack: with slack, the largest chance of the lottery without it, which
            this one was started from (None without slack, or when that lottery was cut short).
    """

    columns: tuple[Column, ...]
    weights: tuple[float, ...]
    type_of: np.ndarray
    chances: np.ndarray
    threshold: int
    levels: int
    proved: bool = True
    complete: bool = True
    rank: np.ndarray | None = None
    reproducible: bool = True
    spread_floor: float | None = None
    bound: float | None = None
    largest_without_slack: float | None = None

    @property
    def possible_positions(self) -> np.ndarray:
        """The positions of the candidates who can be drawn."""
        return np.flatnonzero(self.chances > TOLERANCE)

    @property
    def smallest(self) -> float:
        """The smallest chance of any child who can be chosen."""
        chosen = self.chances[self.chances > TOLERANCE]
        return float(chosen.min()) if len(chosen) else 0.0


@dataclass(frozen=True)
class Chances:
    """The lottery a run drew cohort 1 from, for its outputs.

    Attributes:
        child_ids: every candidate, in child-id order.
        chances: each one's chance of being in cohort 1.
        types: each one's type number (children of one type are alike for every rule and term).
        optimum: the best score (proven, or the best found when the time limit cut it short).
        threshold: the lowest score a cohort of the lottery may have.
        slack_percent: the slack asked for.
        drawn: the cohort the seed drew (child ids, in row order as every cohort's slots).
        drawn_score: its score.
        proved: the lottery was proved the fairest (leximin).
        complete: every child in some cohort of the lottery's score was found.
        reproducible: the work budget, not the wall clock, ended the search.
        levels: leximin levels fixed.
        columns: columns (groups of cohorts) the lottery gives weight to.
        largest_without_slack: with slack, the largest chance of the lottery without it (None when
            the time limit came before it was worked out).
        seconds: wall time spent.
        bound: no lottery over these cohorts can give every child who can be drawn a chance above
            this (proved; None when it was not worked out).
        kept: for a replacement, the members of the earlier cohort 1 who stay (every cohort of
            the lottery holds them; the chances are those of coming in).
        stored: the lottery drawn from, as kept (the run folder's lottery.json; None when the
            wall clock cut it short).
        reused: the lottery was one kept from before, not worked out anew (the outputs are the
            same either way).
        alternatives: further cohorts drawn from the lottery after cohort 1, each sharing few
            children with those before it (child ids, in row order; `drawing.draw_alternatives`).
    """

    child_ids: tuple[str, ...]
    chances: tuple[float, ...]
    types: tuple[int, ...]
    optimum: int
    threshold: int
    slack_percent: float
    drawn: tuple[str, ...]
    drawn_score: int
    proved: bool
    complete: bool
    reproducible: bool
    levels: int
    columns: int
    largest_without_slack: float | None
    seconds: float
    bound: float | None = None
    kept: tuple[str, ...] = ()
    stored: StoredLottery | None = None
    reused: bool = False
    alternatives: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def open_chances(self) -> tuple[float, ...]:
        """The chances of the children who could be drawn (for a replacement, of coming in:
        the members who stay are left out). Worked out once: the report and the terminal read
        it a score of times, and at 60,000 children each reading is a pass over them."""
        kept = set(self.kept)
        return tuple(c for i, c in zip(self.child_ids, self.chances, strict=True) if c > TOLERANCE and i not in kept)

    @cached_property
    def possible(self) -> int:
        """How many children could have been drawn (for a replacement: could have come in)."""
        return len(self.open_chances)

    @cached_property
    def smallest(self) -> float:
        return min(self.open_chances, default=0.0)

    @cached_property
    def largest(self) -> float:
        return max(self.open_chances, default=0.0)

    @property
    def found_in(self) -> str:
        """What bounded the search for the fairest lottery, as "fairest found in the ... allowed"
        says it: "time" when the time limit ended it, else "work"."""
        return "work" if self.reproducible else "time"

    @property
    def stopped(self) -> str:
        """What ended the search short of the fairest, as the notes and the report say it."""
        return "the lottery's work ran out" if self.reproducible else "the time limit ended the lottery's search"

    @property
    def even(self) -> bool:
        """Every child who could be drawn has the same chance (the linear program's tolerance apart)."""
        return self.largest - self.smallest < 1e-6

    @property
    def certified(self) -> float | None:
        """The smallest chance as a share of the largest any lottery could give every child
        (1: the fairest possible smallest chance, the first leximin level, is reached)."""
        return min(1.0, self.smallest / self.bound) if self.bound else None

    @property
    def first_level_reached(self) -> bool:
        """The smallest chance is, within 0.1%, the largest any lottery can give every child; or
        every level was proved (then the first too: s/U can be under 0.999 only by the linear
        program's tolerance, a ten-millionth of a chance, where chances are a few thousandths).
        Never when not every child in a best cohort was found: the bound then holds for those
        found, and the others, who may be in best cohorts, have no chance in this lottery."""
        return self.complete and self.certified is not None and (self.certified >= FIRST_LEVEL_SHARE or self.proved)

    @property
    def gap_is_tolerance(self) -> bool:
        """Every level proved, and s/U under 0.999 only by the linear program's tolerance."""
        return self.first_level_reached and (self.certified or 0.0) < FIRST_LEVEL_SHARE

    @property
    def certified_percent(self) -> str:
        """`certified` as a percentage rounded down, never up (it is a share the lottery reaches
        at least): whole percents, tenths from 99% (99.88% is "99.8%", not "100%"), hundredths
        from 99.9%."""
        share = self.certified or 0.0
        if share >= 1.0:
            return "100%"
        if share >= 0.999:
            return f"{math.floor(share * 10000) / 100:.2f}%"
        if share >= 0.99:
            return f"{math.floor(share * 1000) / 10:.1f}%"
        return f"{math.floor(share * 100):.0f}%"


@dataclass(frozen=True)
class StoredLottery:
    """A lottery as kept.

    Attributes:
        key: what it was worked out from (`lottery_key`).
        children: the candidates, in child-id order.
        type_of: each one's type.
        columns: each column's pools, each pool as its types.
        weights: each column's probability.
        threshold, levels, proved, complete, bound, spread_floor: as `Lottery`'s.
        largest_without_slack: with slack, the largest chance of the lottery without it.
    """

    key: str
    children: tuple[str, ...]
    type_of: tuple[int, ...]
    columns: tuple[tuple[tuple[int, ...], ...], ...]
    weights: tuple[float, ...]
    threshold: int
    levels: int
    proved: bool
    complete: bool
    bound: float | None
    spread_floor: float | None
    largest_without_slack: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "key": self.key, "threshold": self.threshold, "levels": self.levels,
                "proved": self.proved, "complete": self.complete, "bound": self.bound,
                "spread_floor": self.spread_floor, "largest_without_slack": self.largest_without_slack,
                "children": list(self.children), "type_of": list(self.type_of),
                "columns": [{"weight": w, "pools": [list(p) for p in c]}
                            for c, w in zip(self.columns, self.weights, strict=True)]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredLottery:
        """The lottery a dict holds.

        Raises:
            ValueError: the dict is not a kept lottery of this format.
        """
        try:
            if data["format"] != FORMAT:
                raise ValueError(f"a kept lottery of format {data['format']!r}, not {FORMAT}")
            columns = tuple(tuple(tuple(int(t) for t in pool) for pool in c["pools"]) for c in data["columns"])
            return cls(key=str(data["key"]), children=tuple(str(c) for c in data["children"]),
                       type_of=tuple(int(t) for t in data["type_of"]), columns=columns,
                       weights=tuple(float(c["weight"]) for c in data["columns"]),
                       threshold=int(data["threshold"]), levels=int(data["levels"]), proved=bool(data["proved"]),
                       complete=bool(data["complete"]), bound=_number(data["bound"]),
                       spread_floor=_number(data["spread_floor"]),
                       largest_without_slack=_number(data["largest_without_slack"]))
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a kept lottery ({error!r})") from None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)
