"""Which configuration a workload's Winner line names: the lesson's rule, as pure data.

The fastest median is not the answer by itself: a configuration within noise of it that costs less
(memory first, then processes, then simplicity) serves a user better, and the line says why. When the
noise of the row it would name, or of the faster row preferred against, could change the answer: not judged.
Costs are read from what each row measured and from its variant's declared traits, never its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.traits import Bound, Kind
from ..numerics.formatting import MIB, format_percent
from ..numerics.stats import NOISY_CV, is_noisy
from ..records.summary import Result
from .evidence import difference
from .facts import GroupFacts, serial_gain

# Peak memory within this share of the least is "the same memory": RSS moves by a few MiB between
# runs (allocator, page cache), and 58 against 62 MiB should not outweigh fewer processes or threads.
SAME_MEMORY = 0.25


@dataclass(frozen=True)
class Choice:
    """The fastest row, the rows within noise of it, and the one the rule picks among them."""

    fastest: Result
    contenders: tuple[Result, ...]  # the fastest and every row within noise of it, fastest first
    chosen: Result | None  # None: not judged (see `noisy`)
    decided_by: str | None  # "memory", "processes", "simplicity"; None when the fastest is chosen as the cheapest
    noisy: tuple[Result, ...] = ()  # contenders whose rounds spread too much to choose among them
    barred: tuple[Result, ...] = ()  # rows the build rules out (threads on GIL-holding work with a GIL), not candidates
    suspect: str | None = None  # why the baseline itself cannot be trusted (then not judged), naming the row that showed it

    @property
    def judged(self) -> bool:
        return self.chosen is not None

    @property
    def why_not_judged(self) -> str | None:
        """What prevented a judgement and how to get one, or None when judged."""
        if self.judged:
            return None
        if self.suspect is not None:
            return self.suspect
        worst = max(self.noisy, key=lambda r: r.cv or 0.0)
        return (f"{len(self.contenders)} results within noise of the fastest, CV up to {format_percent(worst.cv)}: "
                f"{NOISE_ADVICE}")


def processes_of(result: Result) -> int | None:
    """Processes the configuration ran: as sampled, else as its kind implies (in-process: one)."""
    if result.peak_processes is not None:
        return result.peak_processes
    if result.kind is None:
        return None
    return 1 if result.kind.in_process else 1 + result.workers


def simplicity(result: Result) -> tuple:
    """Simpler first: the kind's place in the lesson (one thread, threads, processes, a cluster), then fewer
    workers, then a pool kept warm (a cold row also starts one per call). Unknown kinds last."""
    kinds = list(Kind)
    kind_rank = kinds.index(result.kind) if result.kind is not None else len(kinds)
    return (kind_rank, result.workers, result.mode not in ("warm", None))


def barred_by_the_build(facts: GroupFacts) -> list[Result]:
    """Rows that cannot be the answer whatever they measured: threads on work that holds the GIL, on a build
    with one (they cannot run its Python in parallel; a row of them ahead of sequential is noise)."""
    if facts.run.gil_enabled and facts.bound is Bound.CPU_HOLDS_GIL:
        return facts.of_kind(*Kind.about("threads"))
    return []


def choose(facts: GroupFacts) -> Choice | None:
    """The lesson's rule over the trusted rows of one group; None when the group has none. Rows the build
    rules out are no candidates; one of them well ahead of sequential on one core means the baseline was
    slowed by other load, and then nothing is judged."""
    barred = barred_by_the_build(facts)
    candidates = [r for r in facts.trusted if all(r is not b for b in barred)]
    fastest = min(candidates, key=lambda r: r.median_s, default=None)
    if fastest is None:
        return None
    ties = sorted((r for r in candidates if r is not fastest and difference(r, fastest).tie), key=lambda r: r.median_s)
    contenders = (fastest, *ties)
    suspect = next((f"{facts.describe(r)}: {why}" for r in barred if (why := serial_gain(r))), None)
    if suspect is not None:
        return Choice(fastest, contenders, None, None, barred=tuple(barred), suspect=suspect)
    chosen, decided_by = _cheapest(list(contenders))
    # Noise matters where it could change the answer: in the row named, or in the faster row it is preferred
    # to (were that row's rounds tighter, it might be faster beyond noise, and the winner).
    named = (chosen,) if chosen is fastest else (chosen, fastest)
    noisy = tuple(r for r in named if is_noisy(r.cv)) if len(contenders) > 1 else ()
    if noisy:
        return Choice(fastest, contenders, None, None, noisy, tuple(barred))
    return Choice(fastest, contenders, chosen, None if chosen is fastest else decided_by, barred=tuple(barred))

def _cheapest(rows: list[Result]) -> tuple[Result, str | None]:
    """Narrow by memory, then processes, then simplicity, then speed; the step that dropped the fastest
    (rows[0]) is what decided against it (None: the fastest costs least too)."""
    fastest, decided_by = rows[0], None
    steps: tuple[tuple[str, Callable[[list[Result]], list[Result]]], ...] = (
        ("memory", _least_memory), ("processes", _fewest_processes), ("simplicity", _simplest),
    )
    for name, narrow in steps:
        rows = narrow(rows)
        if decided_by is None and fastest not in rows:
            decided_by = name
    return min(rows, key=lambda r: r.median_s), decided_by


def _least_memory(rows: list[Result]) -> list[Result]:
    """Rows within SAME_MEMORY of the least peak RSS; all rows when one has no measurement (cannot compare)."""
    measured = [(r, peak) for r in rows if (peak := r.peak_rss_bytes) is not None]
    if len(measured) < len(rows):
        return rows
    least = min(peak for _, peak in measured)
    return [r for r, peak in measured if peak <= least * (1 + SAME_MEMORY)]


def _fewest_processes(rows: list[Result]) -> list[Result]:
    counted = [(r, count) for r in rows if (count := processes_of(r)) is not None]
    if len(counted) < len(rows):  # one has no count (cannot compare)
        return rows
    fewest = min(count for _, count in counted)
    return [r for r, count in counted if count == fewest]


def _simplest(rows: list[Result]) -> list[Result]:
    simplest = min(simplicity(r) for r in rows)
    return [r for r in rows if simplicity(r) == simplest]


def format_memory(size_bytes: int | None) -> str:
    """ "58 MiB", "1.5 GiB": as a reader compares them, whole MiB below a GiB."""
    if size_bytes is None:
        return "memory not measured"
    mib = size_bytes / MIB
    return f"{mib:.0f} MiB" if mib < 1024 else f"{mib / 1024:.1f} GiB"


#: Said wherever a choice left out the rows `barred_by_the_build` rules out.
BARRED_WORDS = "threads are no candidate here: the GIL runs this work's Python on one core at a time"

NOISE_ADVICE = f"rounds spread at or above CV {NOISY_CV:.0%}; re-run on a quieter machine, or with more rounds"
