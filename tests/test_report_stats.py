"""The report's pure statistics against known values (p-values computed once with scipy 1.17)."""

from __future__ import annotations

import pytest

from concurrency_lab.numerics.stats import (
    NOISY_CV,
    coefficient_of_variation,
    efficiency,
    efficiency_vs_ideal,
    format_ratio,
    is_noisy,
    karp_flatt,
    mann_whitney_u,
    smallest_p_value,
    speedup,
)

# scipy.stats.mannwhitneyu(x, y) with its defaults (two-sided, method="auto", continuity
# correction), run once offline with scipy 1.17.1; the sample sizes pick each of its methods.
SCIPY_MANN_WHITNEY = {
    "exact, 5 vs 5, fully separated": (
        [1.01, 1.03, 0.99, 1.02, 1.00], [1.10, 1.08, 1.12, 1.09, 1.11], 0.007936507936507936),
    "exact, 3 vs 10": (
        [2.0, 2.1, 1.9], [2.05, 2.2, 2.3, 2.15, 2.25, 2.35, 2.4, 1.95, 2.5, 2.6], 0.04895104895104895),
    "exact, 7 vs 25": (
        [1.032383, 1.015085, 1.065093, 1.007244, 1.053588, 1.036569, 1.0058],
        [1.080744, 1.03375, 1.073365, 1.036986, 1.039071, 1.072452, 1.112685, 1.04238, 1.052324, 1.092743,
         1.124771, 1.08771, 1.069668, 1.127626, 1.034658, 1.115847, 1.058961, 1.044426, 1.041779, 1.060848,
         1.111613, 1.048073, 1.08816, 1.093891, 1.06724],
        0.001663172756053735),
    "normal, small with ties": (
        [1.0, 1.0, 1.1, 1.2, 1.3], [1.1, 1.2, 1.2, 1.4, 1.5], 0.16660739402832658),
    "normal, one tie across samples": (
        [0.50, 0.52, 0.49, 0.55, 0.51, 0.53], [0.54, 0.56, 0.50, 0.58, 0.57], 0.09957553389386736),
    "normal, 12 vs 15 with ties": (
        [0.1 + 0.003 * ((i * 7) % 11) for i in range(12)], [0.108 + 0.003 * ((i * 5) % 13) for i in range(15)],
        0.03801083795491617),
    "normal, 10 vs 12 without ties": (
        [2.109549, 2.012558, 2.01192, 2.041192, 2.13608, 2.085518, 2.062829, 2.117112, 2.090637, 2.059953],
        [2.238876, 2.219799, 2.128819, 2.194885, 2.185039, 2.255027, 2.225889, 2.137588, 2.276035, 2.103613,
         2.163625, 2.231428],
        0.0002526470798258161),
    "identical samples": ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 1.0),
}


@pytest.mark.parametrize(("x", "y", "expected"), SCIPY_MANN_WHITNEY.values(), ids=SCIPY_MANN_WHITNEY.keys())
def test_mann_whitney_matches_scipy(x, y, expected):
    assert mann_whitney_u(x, y) == pytest.approx(expected, rel=1e-9)
    assert mann_whitney_u(y, x) == pytest.approx(expected, rel=1e-9)  # two-sided: symmetric


def test_mann_whitney_all_values_equal_is_no_evidence():
    assert mann_whitney_u([1.0, 1.0, 1.0], [1.0, 1.0]) == 1.0


def test_mann_whitney_needs_values_on_both_sides():
    with pytest.raises(ValueError, match="at least one value"):
        mann_whitney_u([], [1.0])


def test_speedup_is_baseline_over_time():
    assert speedup(1.2, 0.6) == pytest.approx(2.0)
    assert speedup(1.0, 1.25) == pytest.approx(0.8)
    assert speedup(None, 1.0) is None
    assert speedup(1.0, 0.0) is None


def test_efficiency_is_speedup_per_worker():
    assert efficiency(1.8, 2) == pytest.approx(0.9)
    assert efficiency(None, 2) is None


@pytest.mark.parametrize(
    ("speedup_value", "workers", "serial_fraction"),
    [
        (2.0, 2, 0.0),  # perfect scaling: nothing serial
        (1.0, 4, 1.0),  # no gain at all: as if everything were serial
        (1.6, 2, 0.25),  # (1/1.6 - 1/2) / (1 - 1/2)
        (3.0, 4, 1 / 9),  # (1/3 - 1/4) / (3/4)
    ],
)
def test_karp_flatt(speedup_value, workers, serial_fraction):
    assert karp_flatt(speedup_value, workers) == pytest.approx(serial_fraction)


def test_karp_flatt_is_undefined_for_one_worker():
    assert karp_flatt(1.0, 1) is None
    assert karp_flatt(None, 2) is None


def test_coefficient_of_variation_uses_the_sample_stdev():
    assert coefficient_of_variation([1.0, 2.0, 3.0]) == pytest.approx(0.5)  # stdev 1, mean 2
    assert coefficient_of_variation([1.0]) is None


def test_noisy_from_the_pyperf_threshold_up():
    assert NOISY_CV == 0.10
    assert is_noisy(0.10) and is_noisy(0.23)
    assert not is_noisy(0.099) and not is_noisy(None)


@pytest.mark.parametrize(
    ("reference", "changed", "p_value", "text"),
    [
        (1.23, 1.0, None, "1.23x faster"),
        (1.0, 1.1, None, "1.10x slower"),
        (1.0, 1.1, 0.01, "1.10x slower"),
        (1.0, 1.1, 0.30, "no significant change"),
        (1.0, 1.0, None, "no change"),
    ],
)
def test_format_ratio(reference, changed, p_value, text):
    assert format_ratio(reference, changed, p_value) == text


@pytest.mark.parametrize(
    ("n1", "n2", "smallest"),
    [
        (3, 3, 0.10),  # 2 / C(6, 3): with 3 rounds a side p < 0.05 is impossible
        (3, 4, 2 / 35),
        (4, 4, 2 / 70),
        (5, 5, 0.007936507936507936),  # the fully separated 5 vs 5 case above
        (2, 2, 1 / 3),
    ],
)
def test_smallest_possible_p_value_from_the_sample_sizes(n1, n2, smallest):
    assert smallest_p_value(n1, n2) == pytest.approx(smallest)
    assert smallest_p_value(n2, n1) == pytest.approx(smallest)


def test_smallest_p_value_is_what_fully_separated_rounds_give():
    assert smallest_p_value(3, 3) == mann_whitney_u([1.0, 1.1, 1.2], [2.0, 2.1, 2.2])
    assert smallest_p_value(9, 12) < 0.001  # beyond the exact method: the normal approximation, as the test uses


def test_efficiency_vs_ideal_is_ideal_over_measured():
    assert efficiency_vs_ideal(0.25, 0.268) == pytest.approx(0.25 / 0.268)
    assert efficiency_vs_ideal(None, 0.268) is None
    assert efficiency_vs_ideal(0.25, 0.0) is None
