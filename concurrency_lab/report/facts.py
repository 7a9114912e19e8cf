"""What a verdict rule sees: the results of one workload and size in one run, and how to cite them."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.traits import Bound, Kind, Role, VariantTraits
from ..numerics.formatting import code, format_cores, format_percent, format_times, plural
from ..numerics.stats import is_noisy
from ..records.summary import Result, Run, Summary

# Below this speedup a variant "gains nothing": rounds of a GIL-bound pool land within a few
# percent of sequential either way, so 1.10x is the first figure that is clearly a gain.
MEANINGFUL_SPEEDUP = 1.10

# At or above this many cores the work really ran on more than one CPU at once; a GIL-bound
# pool shows 1.0 plus sampling slack, an I/O-bound one far less.
PARALLEL_CORES = 1.3


def gil_each_in_process() -> tuple[Kind, ...]:
    """Kinds whose workers share this process but not its GIL (interpreters, one GIL each): one process, as threads,
    yet Python runs on every core, as in processes. Read wherever a rule sets them beside threads or processes."""
    return tuple(kind for kind in Kind if kind.in_process and not kind.shares_gil and not kind.one_thread)


def best_warm(rows: list[Result]) -> Result | None:
    """The row with the highest speedup among those with more than one worker, warm where there is one (a cold
    row adds start-up): what a kind reaches on a workload."""
    rows = [r for r in rows if r.speedup is not None and r.workers > 1]
    warm = [r for r in rows if r.mode in ("warm", None)] or rows
    return max(warm, key=lambda r: r.speedup or 0.0, default=None)


def serial_gain(r: Result) -> str | None:
    """Why a thread row's speedup on GIL-holding work, on a build with a GIL, cannot be read as parallelism:
    it ran on fewer than PARALLEL_CORES cores, so its gain is the sequential baseline's noise (other load
    slowed that run), not threads running Python in parallel, which the GIL makes impossible."""
    if r.speedup is None or r.speedup < MEANINGFUL_SPEEDUP or (r.cores_used or 0) >= PARALLEL_CORES:
        return None
    return (f"{format_times(r.speedup)} on {format_cores(r.cores_used)} cores cannot come from threads running "
            f"Python in parallel under the GIL: the sequential baseline was slowed (other load); re-run on a "
            f"quieter machine for a judgement")



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
        """Results that matched the reference (or were not checked) and are not traps: the comparable ones."""
        return [r for r in self.results if r.identical is not False and r.trap is None]

    @property
    def traps(self) -> list[Result]:
        """Deliberately bad settings that matched the reference: compared per task, by their own verdict only."""
        return [r for r in self.results if r.identical is not False and r.trap is not None]

    @property
    def bound(self) -> Bound | None:
        """What limits the workload, as its rows recorded it."""
        return next((r.bound for r in self.results if r.bound), None)

    @property
    def io_bound(self) -> bool:
        """Waiting-bound: recorded as such, or (files without a bound) rows carrying an ideal waiting time."""
        return self.bound is Bound.IO_WAIT if self.bound else any(r.ideal_s is not None for r in self.results)

    def baseline(self) -> Result | None:
        """The row every speedup in this group divides: the baseline variant's, with 1 worker."""
        return min((r for r in self.trusted if r.is_baseline and r.workers == 1),
                   key=lambda r: (r.mode != "warm", r.median_s), default=None)

    def of_kind(self, *kinds: Kind) -> list[Result]:
        """Trusted rows of variants of these kinds."""
        return [r for r in self.trusted if r.kind in kinds]

    def traits_of(self, variant: str) -> VariantTraits | None:
        return next((r.traits for r in self.results if r.variant == variant and r.traits), None)

    def lesson_pairs(self) -> list[tuple[str, str]]:
        """(after, before) variant names, per lesson pair both of whose variants this group has."""
        by_role: dict[tuple[str, Role], str] = {}
        for variant in self.variants():
            traits = self.traits_of(variant)
            if traits and traits.lesson_pair and traits.role in (Role.BEFORE, Role.AFTER):
                by_role.setdefault((traits.lesson_pair, traits.role), variant)
        pairs = dict.fromkeys(pair for pair, _ in by_role)
        return [(by_role[p, Role.AFTER], by_role[p, Role.BEFORE]) for p in pairs
                if (p, Role.AFTER) in by_role and (p, Role.BEFORE) in by_role]

    def lesson_partner(self, variant: str, role: Role) -> str | None:
        """The variant of `role` in the same lesson pair as `variant`, when this group has it."""
        traits = self.traits_of(variant)
        if traits is None or traits.lesson_pair is None:
            return None
        return next((v for v in self.variants() if v != variant and (t := self.traits_of(v))
                     and t.lesson_pair == traits.lesson_pair and t.role is role), None)

    def rows(self, variant: str, workers: int | None = None) -> list[Result]:
        return [r for r in self.trusted if r.variant == variant and (workers is None or r.workers == workers)]

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
    """One per (run, workload, size label, size); trap rows sit in their workload's group."""
    return [
        GroupFacts(run, workload, size_label, size, tuple(members))
        for run in summary.runs
        for (workload, size_label, size), members in summary.groups(run).items()
    ]
