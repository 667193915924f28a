"""The lottery's chances tested by draws: how often each type of child was drawn, against what
the lottery's exact chances make it expect. Pure: no files, no printing.

Per type: a child of a type that a cohort holds at most one of is in a draw or not, so the type's
count over N draws is binomial and is tested exactly; a type a cohort can hold several of is
tested against the normal law with the variance the lottery gives (computed, not estimated).
Overall: the types are grouped into cells of about equal expected count, each draw's counts per
cell form a random vector whose mean and covariance follow exactly from the lottery, and the
observed totals are tested against them (Hotelling's statistic, chi-square with the covariance's
rank as degrees of freedom), which accounts for each draw holding a fixed number of children.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .lottery import Lottery, draw, fair_lottery
from .problem import Problem, subset
from .settings import SelectionParams

CELLS = 40  # cells of the overall test (fewer when there are fewer types)


@dataclass(frozen=True)
class TypeTest:
    """One type's count over the draws against the lottery's chance."""

    type: int
    children: int
    chance: float  # each child's chance
    expected: float  # children of the type drawn, summed over the draws
    observed: int
    p_value: float


@dataclass(frozen=True)
class Audit:
    """What the draws showed.

    Attributes:
        draws: how many lotteries were drawn (seeds `first_seed` onwards).
        first_seed: the first seed.
        counts: how often each candidate was drawn.
        types: one test per type that could be drawn, in type order.
        overall_p: the overall test's p-value.
        overall_statistic: its statistic, with `degrees` degrees of freedom.
        degrees: the degrees of freedom.
        smallest_p_adjusted: the smallest per-type p-value times the number of types (capped at 1),
            so that many types tested at once do not raise false alarms.
    """

    draws: int
    first_seed: int
    counts: np.ndarray
    types: tuple[TypeTest, ...]
    overall_p: float
    overall_statistic: float
    degrees: int
    smallest_p_adjusted: float


@dataclass(frozen=True)
class LotteryAudit:
    """A lottery audited: the lottery, what its draws showed, the cohorts drawn (candidate
    positions), and the largest change in any chance when the rows were shuffled (0 expected)."""

    lottery: Lottery
    audit: Audit
    cohorts: tuple[tuple[int, ...], ...]
    shuffle_difference: float


def audit_lottery(problem: Problem, params: SelectionParams, optimum: int, draws: int,
                  progress: Callable[[str], None] | None = None, kept: Lottery | None = None) -> LotteryAudit:
    """Compute the lottery over the cohorts reaching `optimum` (less the slack), or take the one
    `kept` (a run's), draw it `draws` times (seeds from the run's onwards), test the counts against
    the chances, and compute it again on the rows shuffled (for a kept lottery, that also checks
    it is the one these candidates and rules give)."""
    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    if kept is None:
        step("the lottery")
        lottery = fair_lottery(problem, params, optimum, params.time_limit_s)
    else:
        lottery = kept
    step(f"{draws} draws")
    counts, cohorts = draw_many(lottery, draws, params.seed)
    result = audit(lottery, counts, draws, params.seed)
    step("the lottery again, on the rows shuffled")
    shuffle = np.random.default_rng([params.seed, 17]).permutation(problem.n)
    again = fair_lottery(subset(problem, shuffle), params, optimum, params.time_limit_s)
    difference = float(np.abs(again.chances - lottery.chances[shuffle]).max()) if problem.n else 0.0
    return LotteryAudit(lottery, result, tuple(cohorts), difference)


def draw_many(lottery: Lottery, draws: int, first_seed: int = 0) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """How often each candidate is in cohort 1 over `draws` seeds, and the cohorts drawn."""
    counts = np.zeros(len(lottery.chances), dtype=np.int64)
    cohorts = []
    for seed in range(first_seed, first_seed + draws):
        cohort = draw(lottery, seed)
        counts[list(cohort)] += 1
        cohorts.append(cohort)
    return counts, cohorts


def audit(lottery: Lottery, counts: np.ndarray, draws: int, first_seed: int = 0) -> Audit:
    """Test the draws' counts against the lottery's chances, per type and overall."""
    from scipy import stats  # a second to import: only the audit needs it
    type_of = lottery.type_of
    n_types = int(type_of.max()) + 1 if len(type_of) else 0
    sizes = np.bincount(type_of, minlength=n_types)
    chance_of_type = np.zeros(n_types)
    chance_of_type[type_of] = lottery.chances  # equal within a type
    observed = np.bincount(type_of, weights=counts, minlength=n_types).astype(np.int64)
    picks = _picks(lottery)
    mean, most = _per_draw_mean_and_most(picks, n_types)
    possible = np.flatnonzero(mean > 1e-12)
    cells = _cells(mean, possible)
    cell_mean, cell_cov = _cell_moments(picks, cells, n_types)
    variance = _type_variances(picks, n_types)
    binomial = possible[most[possible] <= 1]  # in a draw or not: binomial, tested exactly, all at once
    exact = dict(zip(binomial.tolist(), two_sided_binomial(observed[binomial], draws,
                                                           np.minimum(mean[binomial], 1.0)).tolist(), strict=True))
    tests = []
    for t in possible:
        expected = draws * mean[t]
        if most[t] <= 1:
            p = exact[int(t)]
        elif variance[t] <= 1e-15:
            p = 1.0 if abs(observed[t] - expected) < 1e-6 else 0.0
        else:
            z = (observed[t] - expected) / np.sqrt(draws * variance[t])
            p = float(2 * stats.norm.sf(abs(z)))
        tests.append(TypeTest(int(t), int(sizes[t]), float(chance_of_type[t]), float(expected), int(observed[t]),
                              float(min(p, 1.0))))
    cell_observed = np.array([observed[cell].sum() for cell in cells], dtype=float)
    difference = cell_observed - draws * cell_mean
    inverse = np.linalg.pinv(draws * cell_cov, rcond=1e-10, hermitian=True)
    statistic = float(difference @ inverse @ difference)
    degrees = int(np.linalg.matrix_rank(cell_cov, tol=1e-10, hermitian=True))
    overall = float(stats.chi2.sf(statistic, degrees)) if degrees else 1.0
    smallest = min((test.p_value for test in tests), default=1.0)
    return Audit(draws, first_seed, counts, tuple(tests), overall, statistic, degrees,
                 min(1.0, smallest * max(len(tests), 1)))


def two_sided_binomial(k: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    """The exact two-sided binomial test's p-value of each count `k` of `n` draws at chance `p`,
    computed as SciPy's `binomtest` computes it (the outcomes no likelier than `k`, to a relative
    1e-7), step for step, for every type at once: one call per type took 13 s of a 60,000-row audit.

    >>> from scipy import stats
    >>> k, p = np.array([0, 3, 9, 5, 1]), np.array([0.002, 0.05, 0.05, 0.5, 0.999])
    >>> bool(np.array_equal(two_sided_binomial(k, 10, p), [stats.binomtest(int(a), 10, b).pvalue for a, b in zip(k, p)]))
    True
    """
    from scipy.stats import binom

    k, p = np.asarray(k, dtype=np.int64), np.asarray(p, dtype=float)
    d = binom.pmf(k, n, p)
    rerr = 1 + 1e-7
    pval = np.ones(len(k))
    below = k < p * n  # the other tail is above the mode, where the mass falls as x grows
    if below.any():
        pb = p[below]
        ix = _search(lambda x, rows: -binom.pmf(x, n, pb[rows]), -d[below] * rerr, np.ceil(pb * n), np.full(len(pb), n))
        y = n - ix + (d[below] * rerr == binom.pmf(ix, n, pb)).astype(np.int64)
        pval[below] = binom.cdf(k[below], n, pb) + binom.sf(n - y, n, pb)
    above = k > p * n
    if above.any():
        pa = p[above]
        ix = _search(lambda x, rows: binom.pmf(x, n, pa[rows]), d[above] * rerr, np.zeros(len(pa)), np.floor(pa * n))
        pval[above] = binom.cdf(ix, n, pa) + binom.sf(k[above] - 1, n, pa)
    return np.minimum(1.0, pval)


def _search(value: Callable[[np.ndarray, np.ndarray], np.ndarray], d: np.ndarray, lo: np.ndarray,
            hi: np.ndarray) -> np.ndarray:
    """SciPy's binary search for the binomial test, on many rows at once: per row, the i in
    [lo, hi] with value(i) <= d < value(i + 1) (values ascending between lo and hi)."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    found = np.full(len(d), -1, dtype=np.int64)
    open_rows = lo < hi
    while open_rows.any():
        rows = np.flatnonzero(open_rows)
        mid = lo[rows] + (hi[rows] - lo[rows]) // 2
        at = value(mid, rows)
        less, more = at < d[rows], at > d[rows]
        lo[rows[less]] = mid[less] + 1
        hi[rows[more]] = mid[more] - 1
        equal = rows[~less & ~more]
        found[equal] = mid[~less & ~more]
        open_rows[equal] = False
        open_rows[rows] &= lo[rows] < hi[rows]
    rest = np.flatnonzero(found < 0)
    found[rest] = np.where(value(lo[rest], rest) <= d[rest], lo[rest], lo[rest] - 1)
    return found


# Per column: its weight, and per distinct pool the types of its children, picks and size.
Picks = list[tuple[float, list[tuple[np.ndarray, int, int]]]]


def _picks(lottery: Lottery) -> Picks:
    """For each column: its weight, and per distinct pool the types of its children, how many
    are drawn from it and its size."""
    out = []
    for column, weight in zip(lottery.columns, lottery.weights, strict=True):
        pools = [(lottery.type_of[list(pool)], k, len(pool)) for pool, k in column.picks()]
        out.append((weight, pools))
    return out


def _per_draw_mean_and_most(picks: Picks, n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """Each type's expected count in one draw, and the most of it one draw can hold."""
    mean = np.zeros(n_types)
    most = np.zeros(n_types, dtype=np.int64)
    for weight, pools in picks:
        held = np.zeros(n_types, dtype=np.int64)
        for types, k, size in pools:
            counted = np.bincount(types, minlength=n_types)
            mean += weight * k * counted / size
            held += np.minimum(counted, k)
        most = np.maximum(most, held)
    return mean, most


def _type_variances(picks: Picks, n_types: int) -> np.ndarray:
    """Each type's variance of its count in one draw (picks from different pools are independent;
    several picks from one pool are without replacement)."""
    second = np.zeros(n_types)  # E[X^2]
    mean = np.zeros(n_types)
    for weight, pools in picks:
        column_mean = np.zeros(n_types)
        column_var = np.zeros(n_types)
        for types, k, size in pools:
            q = np.bincount(types, minlength=n_types) / size
            column_mean += k * q
            shrink = 1.0 if size <= 1 else (size - k) / (size - 1)
            column_var += k * q * (1 - q) * shrink
        second += weight * (column_var + column_mean ** 2)
        mean += weight * column_mean
    return np.maximum(second - mean ** 2, 0.0)


def _cells(mean: np.ndarray, possible: np.ndarray) -> list[np.ndarray]:
    """The possible types grouped into cells of about equal expected count, types of like chance
    together."""
    if len(possible) <= CELLS:
        return [np.array([t]) for t in possible]
    order = possible[np.lexsort((possible, mean[possible]))]
    cumulative = np.cumsum(mean[order])
    edges = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], CELLS + 1)[1:-1])
    return [cell for cell in np.split(order, edges) if len(cell)]


def _cell_moments(picks: Picks, cells: list[np.ndarray], n_types: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean and covariance of one draw's counts per cell."""
    cell_of = np.full(n_types, -1, dtype=np.int64)
    for c, cell in enumerate(cells):
        cell_of[cell] = c
    m = len(cells)
    mean = np.zeros(m)
    second = np.zeros((m, m))
    for weight, pools in picks:
        column_mean = np.zeros(m)
        column_cov = np.zeros((m, m))
        for types, k, size in pools:
            landed = cell_of[types]
            q = np.bincount(landed[landed >= 0], minlength=m) / size
            column_mean += k * q
            shrink = 1.0 if size <= 1 else (size - k) / (size - 1)
            column_cov += k * shrink * (np.diag(q) - np.outer(q, q))
        second += weight * (column_cov + np.outer(column_mean, column_mean))
        mean += weight * column_mean
    return mean, second - np.outer(mean, mean)
