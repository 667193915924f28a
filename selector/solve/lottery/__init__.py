"""The lottery over the best cohorts: a probability distribution over the cohorts that reach the
proven optimum (or come within a slack of it), as even across children as it can be (leximin:
the smallest chance of any child who is in some such cohort as large as possible, then the next
smallest, ...), and a seeded draw from it.

In parts, each with what it computes:
- kinds.py: children alike for every rule and term are one *type*; the lottery is found over types.
- findings.py: the cohorts and columns found so far (each cohort, and the template around it:
  templates.py), and the rule checks (fit.py) charged to the budget.
- discovery.py: a column for every type that can be drawn, whatever it costs.
- pricing.py: new cohorts worth more than the LP's price under its duals, or a proof of none.
- listing.py: every cohort, listed when few children can be drawn (each level then proved by its LP).
- freeing.py: before the largest chances are spread, columns without the most-drawn children for
  the children found only beside them.
- master.py (beside this package): the master LP over the columns, and its duals.
- leximin.py: the levels, one by one, within the work (budget.py); `fair_lottery`.
- drawing.py: the seeded draw, and the lottery as the outputs give it.
- refill.py: a replacement's draw, over the best ways to fill the freed slots.
- result.py: `Lottery` and `Chances`.
- stored.py: a lottery by child ids, to keep and use again (`StoredLottery`), and its key.

Everything runs on the candidates sorted by child id, so the order of the rows changes nothing,
and the work is counted in machine-independent units, so a lottery cut short is the same on
every machine. At a few thousand children the first level does not finish in the default work
(benchmarks/lottery.md).
"""

from __future__ import annotations

from .drawing import chances_of, draw, draw_first
from .kinds import child_types
from .leximin import fair_lottery
from .pricing import Collector, Pricing
from .refill import draw_refill
from .result import INCOMPLETE_WHY, TOLERANCE, Chances, Lottery, StoredLottery
from .stored import lottery_key

__all__ = ["INCOMPLETE_WHY", "TOLERANCE", "Chances", "Collector", "Lottery", "Pricing", "StoredLottery", "chances_of", "child_types",
           "draw", "draw_first", "draw_refill", "fair_lottery", "lottery_key"]
