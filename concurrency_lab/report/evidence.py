"""Whether two results differ, and what their rounds allow a verdict to claim about it.

Mann-Whitney on the per-round times decides, except when the round counts make p < 0.05
impossible (3 rounds a side: the smallest possible p is 0.10). Then the test cannot say "no
difference" either: the ratio is stated with a note, and rounds that all fall on one side of
the other's are the strongest evidence there is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..numerics.formatting import format_p_value
from ..numerics.stats import SIGNIFICANCE_LEVEL, mann_whitney_u, smallest_p_value
from ..records.summary import Result

# Two medians closer than this are a tie whatever the test says: a re-run moves them that much.
TIE_TOLERANCE = 0.02


@dataclass(frozen=True)
class Difference:
    """`a` against `b`: how far apart their medians are, and what their rounds say."""

    relative: float  # |a - b| / the faster median
    a_slower: bool  # a's median above b's
    p: float | None  # Mann-Whitney p of their rounds; None without per-round data
    rounds: tuple[int, int]
    smallest_p: float | None  # the smallest p these round counts can give

    @property
    def testable(self) -> bool:
        """Whether p < 0.05 was possible at all with these round counts."""
        return self.p is not None and self.smallest_p is not None and self.smallest_p < SIGNIFICANCE_LEVEL

    @property
    def separated(self) -> bool:
        """Every round of one below every round of the other (p at its smallest possible value)."""
        return self.p is not None and self.smallest_p is not None and self.p <= self.smallest_p * (1 + 1e-9)

    @property
    def rounds_differ(self) -> bool:
        """The rounds say the two differ: p below the level, or (untestable) every round on one side."""
        if self.p is None:
            return False
        return self.p < SIGNIFICANCE_LEVEL if self.testable else self.separated

    @property
    def closeness(self) -> str:
        """How near a tie is, in words its p-value never contradicts: "within noise", or (the rounds do
        separate them, by less than TIE_TOLERANCE) "a real difference but under the re-run spread"."""
        return "a real difference but under the re-run spread" if self.rounds_differ else "within noise"

    @property
    def tie(self) -> bool:
        """Too close to call: within TIE_TOLERANCE, not significant, or (untestable) overlapping rounds."""
        if self.relative < TIE_TOLERANCE:
            return True
        if self.p is None:
            return False
        return self.p >= SIGNIFICANCE_LEVEL if self.testable else not self.separated

    def p_text(self) -> str:
        """ "p=0.008" when the test could decide; else what the rounds show ("rounds overlap"); "" without rounds."""
        if self.p is None:
            return ""
        if self.testable:
            return format_p_value(self.p)
        if not self.separated:
            return "rounds overlap"
        return "every round slower" if self.a_slower else "every round faster"

    def untestable_note(self) -> str:
        """The caveat for a stated difference that no test could have confirmed; "" otherwise."""
        if self.p is None or self.testable:
            return ""
        return (f"too few rounds to test significance ({self.rounds[0]} vs {self.rounds[1]}: the smallest possible p "
                f"is {format_small_p(self.smallest_p)})")


def difference(a: Result, b: Result) -> Difference:
    """`a` against `b`: the p-value only from per-round data, at least 2 rounds a side."""
    relative = abs(a.median_s - b.median_s) / min(a.median_s, b.median_s)
    slower = a.median_s > b.median_s
    sizes = (len(a.round_times_s), len(b.round_times_s))
    if min(sizes) < 2:
        return Difference(relative, slower, None, sizes, None)
    p_value = mann_whitney_u(a.round_times_s, b.round_times_s)
    return Difference(relative, slower, p_value, sizes, smallest_p_value(*sizes))


def start_cost(cold: Result, warm: Result) -> float | None:
    """Cold minus warm median, when the rounds show a cold call is slower; None when not measurable (cold no
    slower, or within noise of warm): never a negative cost, never a cost the rounds do not support."""
    d = difference(cold, warm)
    if cold.median_s <= warm.median_s or (d.tie and not d.rounds_differ):
        return None
    return cold.median_s - warm.median_s


def format_small_p(p_value: float | None) -> str:
    """0.10, 0.057: two decimals, or two significant digits below 0.1."""
    if p_value is None:
        return "–"
    return f"{p_value:.2f}" if p_value >= 0.1 else f"{p_value:.2g}"


def smallest_testable_rounds(alpha: float = SIGNIFICANCE_LEVEL) -> int:
    """The fewest rounds per side (equal sides) that let p fall below `alpha`: 4 at 0.05."""
    rounds = 2
    while smallest_p_value(rounds, rounds) >= alpha:
        rounds += 1
    return rounds
