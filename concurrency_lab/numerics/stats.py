"""Pure comparison statistics: speedup, efficiency, serial fraction, noise, significance, ratio text."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# pyperf's `check` warns when the standard deviation is 10% of the mean or more: beyond that a
# re-run moves the mean by more than most of the differences a report would want to claim.
NOISY_CV = 0.10

# The usual 5% level. With the 5 to 20 rounds a concurrency benchmark can afford, a smaller
# level would almost never be reached even by real differences.
SIGNIFICANCE_LEVEL = 0.05

# scipy.stats.mannwhitneyu's choice (method="auto"): the exact distribution when there are no
# ties and one sample has at most 8 values, else the normal approximation. Same choice, same p.
_EXACT_MAX_SIZE = 8


def speedup(baseline_s: float | None, s: float | None) -> float | None:
    """How many times faster than the baseline: baseline time / time; None without both times."""
    if baseline_s is None or s is None or s <= 0 or baseline_s <= 0:
        return None
    return baseline_s / s


def efficiency(speedup: float | None, workers: int) -> float | None:
    """Speedup per worker: 1.0 means every worker pulled its full weight."""
    if speedup is None or workers < 1:
        return None
    return speedup / workers


def karp_flatt(speedup: float | None, workers: int) -> float | None:
    """The experimentally determined serial fraction e = (1/S - 1/p) / (1 - 1/p).

    Karp and Flatt (1990). e stays flat as p grows when the loss is serial work, and grows with p
    when it is overhead (start-up, pickling, locks). Undefined for one worker: None.
    """
    if speedup is None or speedup <= 0 or workers <= 1:
        return None
    return (1 / speedup - 1 / workers) / (1 - 1 / workers)


def coefficient_of_variation(times: Sequence[float]) -> float | None:
    """Sample standard deviation / mean (pytest-benchmark's `stddev` is the sample one too)."""
    if len(times) < 2:
        return None
    mean = statistics.fmean(times)
    if mean <= 0:
        return None
    return statistics.stdev(times) / mean


def is_noisy(cv: float | None, threshold: float = NOISY_CV) -> bool:
    """True when the spread is too large to trust small differences (pyperf: stdev >= 10% of mean)."""
    return cv is not None and cv >= threshold


def mann_whitney_u(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test that `x` and `y` come from one distribution.

    Rank-based, so one slow outlier round (a page-cache miss, a noisy neighbour) does not decide
    it, unlike a t-test on means. Matches scipy.stats.mannwhitneyu(x, y) with its defaults.
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("mann_whitney_u needs at least one value in each sample")
    ranks, tie_sizes = _average_ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    has_ties = any(size > 1 for size in tie_sizes)
    if not has_ties and min(n1, n2) <= _EXACT_MAX_SIZE:
        p = 2 * _exact_u_survival(round(u), n1, n2)
    else:
        p = _normal_u_p_value(u, n1, n2, tie_sizes)
    return min(p, 1.0)


def smallest_p_value(n1: int, n2: int) -> float:
    """The smallest two-sided p `mann_whitney_u` can give for samples of these sizes (no ties).

    Reached when every value of one sample is below every value of the other. With 3 rounds a
    side it is 2 / C(6, 3) = 0.10: no such comparison can ever reach p < 0.05.
    """
    return mann_whitney_u([float(i) for i in range(n1)], [float(n1 + i) for i in range(n2)])


def efficiency_vs_ideal(ideal_s: float | None, median_s: float | None) -> float | None:
    """The best time the work allows / the time it took: 1.0 means nothing but the ideal wait."""
    if ideal_s is None or median_s is None or ideal_s <= 0 or median_s <= 0:
        return None
    return ideal_s / median_s


def _average_ranks(values: list[float]) -> tuple[list[float], list[int]]:
    """1-based ranks, ties sharing their average rank; and the size of every tie group."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    tie_sizes = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        tie_sizes.append(end - start + 1)
        start = end + 1
    return ranks, tie_sizes


def _exact_u_survival(u: int, n1: int, n2: int) -> float:
    """P(U >= u) under the null hypothesis, without ties.

    The number of orderings giving each U is a coefficient of the Gaussian binomial
    [n1 + n2 choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), with m <= n: integer arithmetic.
    """
    m, n = sorted((n1, n2))
    counts = [1] + [0] * (m * n + m * (m + 1) // 2)
    for i in range(1, m + 1):
        for power in range(len(counts) - 1, n + i - 1, -1):  # multiply by (1 - q^(n+i))
            counts[power] -= counts[power - n - i]
        for power in range(i, len(counts)):  # divide by (1 - q^i): exact, the product is a polynomial
            counts[power] += counts[power - i]
    counts = counts[: m * n + 1]
    return sum(counts[u:]) / sum(counts)


def _normal_u_p_value(u: float, n1: int, n2: int, tie_sizes: list[int]) -> float:
    """Normal approximation with tie correction and continuity correction (as scipy)."""
    n = n1 + n2
    tie_term = sum(t**3 - t for t in tie_sizes)
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:  # every value equal: no evidence of any difference
        return 1.0
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))  # 2 * P(Z >= z)


def format_ratio(
    reference_s: float,
    changed_s: float,
    p_value: float | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
) -> str:
    """pyperf-style text for `changed` against `reference`: "1.23x faster", "1.10x slower".

    With a p-value at or above `alpha` the difference is "no significant change"; without a
    p-value (no per-round data) the ratio is given as measured.
    """
    if p_value is not None and p_value >= alpha:
        return "no significant change"
    if changed_s <= 0 or reference_s <= 0:
        raise ValueError(f"times must be positive, got {reference_s!r} and {changed_s!r}")
    if changed_s < reference_s:
        return f"{reference_s / changed_s:.2f}x faster"
    if changed_s > reference_s:
        return f"{changed_s / reference_s:.2f}x slower"
    return "no change"
