"""What a verdict rule sees: the results of one workload and size in one run, and how to cite them."""

from __future__ import annotations

from dataclasses import dataclass

from .formatting import code, format_percent, plural
from .model import Result, Run, Summary
from .stats import SIGNIFICANCE_LEVEL, is_noisy, mann_whitney_u

# Below this speedup a variant "gains nothing": rounds of a GIL-bound pool land within a few
# percent of sequential either way, so 1.10x is the first figure that is clearly a gain.
MEANINGFUL_SPEEDUP = 1.10

# At or above this many cores the work really ran on more than one CPU at once; a GIL-bound
# pool shows 1.0 plus sampling slack, an I/O-bound one far less.
PARALLEL_CORES = 1.3

# Two medians closer than this are a tie whatever the test says: a re-run moves them that much.
TIE_TOLERANCE = 0.02


@dataclass(frozen=True)
class Verdict:
    """One line of conclusion, with the rule that drew it and whether noise undermines it."""

    run: int
    workload: str
    size_label: str | None
    size: int | None
    rule: str
    text: str
    noisy: bool = False


@dataclass(frozen=True)
class GroupFacts:
    """The results of one (workload, size) in one run."""

    run: Run
    workload: str
    size_label: str | None
    size: int | None
    results: tuple[Result, ...]

    @property
    def trusted(self) -> list[Result]:
        """Results whose output matched the reference (or was not checked): the comparable ones."""
        return [r for r in self.results if r.identical is not False]

    def rows(self, variant: str, workers: int | None = None, *, traps: bool = False) -> list[Result]:
        return [
            r for r in self.trusted
            if r.variant == variant and (workers is None or r.workers == workers) and (traps or r.trap is None)
        ]

    def representative(self, variant: str, workers: int | None = None) -> Result | None:
        """The row that stands for a variant: workers == usable CPUs (else closest), warm, default start method."""
        usable = self.run.usable_cpus
        return min(
            self.rows(variant, workers),
            key=lambda r: (
                abs(r.workers - usable) if usable is not None else -r.workers,
                r.mode != "warm",
                r.start_method not in (None, self.run.default_start_method),
                r.median_s,
            ),
            default=None,
        )

    def fastest(self) -> Result | None:
        """The lowest median among results that matched the reference."""
        return min(self.trusted, key=lambda r: r.median_s, default=None)

    def variants(self) -> list[str]:
        return list(dict.fromkeys(r.variant for r in self.trusted))

    def describe(self, result: Result) -> str:
        """`process_pool` with 2 workers, plus mode and start method where this group has several."""
        text = f"{code(result.variant)} with {plural(result.workers, 'worker')}"
        same_variant = [r for r in self.results if r.variant == result.variant]
        qualifiers = []
        if len({r.mode for r in same_variant}) > 1 and result.mode:
            qualifiers.append(result.mode)
        if len({r.start_method for r in same_variant}) > 1 and result.start_method:
            qualifiers.append(code(result.start_method))
        return text + (f" ({', '.join(qualifiers)})" if qualifiers else "")

    def verdict(self, rule: str, text: str, *compared: Result) -> Verdict:
        """A verdict whose text warns when the figures it compares are too noisy to trust."""
        worst = max((r.cv for r in compared if r.cv is not None), default=None)
        noisy = is_noisy(worst)
        if noisy:
            text += f" — the machine was too noisy to trust this ratio: CV {format_percent(worst)}"
        return Verdict(self.run.index, self.workload, self.size_label, self.size, rule, text, noisy)


def group_facts(summary: Summary) -> list[GroupFacts]:
    facts = []
    for run in summary.runs:
        results = summary.results_of(run)
        for workload, size_label, size in summary.group_keys(run):
            members = tuple(r for r in results if r.group_key == (workload, size_label, size))
            facts.append(GroupFacts(run, workload, size_label, size, members))
    return facts


def p_value(a: Result, b: Result) -> float | None:
    """Mann-Whitney p that `a` and `b` differ, from their per-round times; None without them."""
    if len(a.round_times_s) < 2 or len(b.round_times_s) < 2:
        return None
    return mann_whitney_u(a.round_times_s, b.round_times_s)


def relative_difference(a: Result, b: Result) -> float:
    """|a - b| / the faster of the two medians."""
    return abs(a.median_s - b.median_s) / min(a.median_s, b.median_s)


def indistinguishable(a: Result, b: Result) -> bool:
    """Closer than TIE_TOLERANCE, or not significantly different (p >= 0.05) by their rounds."""
    p = p_value(a, b)
    return relative_difference(a, b) < TIE_TOLERANCE or (p is not None and p >= SIGNIFICANCE_LEVEL)
