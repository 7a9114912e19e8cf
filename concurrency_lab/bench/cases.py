"""Which benchmarks a profile runs: pure data, so pytest ids and groups stay stable across runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core.cpus import START_METHODS
from ..core.traits import Bound
from ..variants import variant_class
from ..workloads import get_workload

TRAP_ITEMS = 2_000  # the chunksize=1 row: one future per item costs ~0.1 ms each, so keep it short


@dataclass(frozen=True)
class Profile:
    name: str
    size_label: str
    rounds: int  # measured rounds per benchmark; the median is reported
    warmup_rounds: int  # unmeasured rounds first: imports, caches, a warm pool's first tasks
    io_worker_counts: tuple[int, ...]  # for I/O workloads
    cpu_worker_counts: tuple[int, ...]  # for the others, on top of the usable CPUs
    start_methods: tuple[str, ...]  # cold process pools are started with each


PROFILES = {
    "smoke": Profile("smoke", "smoke", rounds=3, warmup_rounds=1, io_worker_counts=(8,), cpu_worker_counts=(),
                     start_methods=START_METHODS),
    # I/O at one worker is `sequential` plus a hand-off, and costs 2 s a round: full runs it.
    "standard": Profile("standard", "standard", rounds=7, warmup_rounds=1, io_worker_counts=(2, 8, 32),
                        cpu_worker_counts=(1, 2), start_methods=START_METHODS),
    "full": Profile("full", "full", rounds=11, warmup_rounds=2, io_worker_counts=(1, 2, 4, 8, 16, 32, 64),
                    cpu_worker_counts=(1, 2, 4), start_methods=START_METHODS),
}


@dataclass(frozen=True)
class BenchCase:
    workload: str
    size_label: str
    variant: str
    workers: int
    mode: str  # "warm": the pool is started before timing; "cold": every round starts and stops it
    start_method: str | None = None
    chunksize: int | None = None
    trap: str | None = None  # a deliberately bad setting shown as its own row
    items: int | None = None  # overrides the profile's size (the trap row)

    @property
    def group(self) -> str:
        return f"{self.workload}-{self.size_label}"

    @property
    def id(self) -> str:
        parts = [self.workload, self.size_label, self.variant, f"w{self.workers}", self.mode]
        parts += [p for p in (self.start_method, self.trap and f"trap-{self.trap}") if p]
        return "-".join(parts)


def cases(profile: Profile, *, variants: Sequence[str], workloads: Sequence[str], usable_cpus: int,
          workers: Sequence[int] | None = None) -> list[BenchCase]:
    """The profile's cases, in a stable order. `workers`, when given, replaces the profile's counts for
    every row but those that use another on purpose: the baseline runs with 1 worker, and cold-pool
    and trap rows run at one count per workload (`single_count`)."""
    out: list[BenchCase] = []
    for workload_name in workloads:
        workload = get_workload(workload_name)
        io = workload.bound is Bound.IO_WAIT
        if workers:
            counts = sorted(set(workers))
        else:
            counts = sorted(set(profile.io_worker_counts) if io else {usable_cpus, *profile.cpu_worker_counts})
        single = single_count(counts, usable_cpus)
        traps: list[BenchCase] = []
        for name in variants:
            cls = variant_class(name)
            if workload.unavailable_reason(cls):
                continue  # it cannot run this workload: `concurrency-lab list` says why
            if not cls.concurrent:
                out.append(BenchCase(workload_name, profile.size_label, name, 1, "warm"))
                continue
            out += [BenchCase(workload_name, profile.size_label, name, n, "warm") for n in counts]
            # A cluster's start-up is measured on the CPU workloads: on I/O, at 8-64 workers, a cold row
            # would start that many worker processes every round (seconds each: a cold CPU row shows one start-up).
            if cls.has_pool() and not (io and cls.kind.starts_cluster):
                # Start-up cost per start method is measured on the CPU workloads; I/O gets one cold
                # row (the platform's start method).
                # A variant that starts its workers its own way (loky's) takes none: one cold row.
                methods = tuple(m for m in profile.start_methods if m in cls.start_methods and not io) or (None,)
                out += [BenchCase(workload_name, profile.size_label, name, single, "cold", m) for m in methods]
            if cls.api_default_chunksize is not None and workload.bound is Bound.DISPATCH:
                size = cls.api_default_chunksize  # the library's own default, where many small tasks pay for it
                traps.append(BenchCase(workload_name, profile.size_label, name, single, "warm", chunksize=size,
                                       trap=f"chunksize={size}", items=TRAP_ITEMS))
        out += traps
    return out


def single_count(counts: Sequence[int], usable_cpus: int) -> int:
    """The one worker count of rows measured at a single count: the usable CPUs when measured, else the fewest."""
    return usable_cpus if usable_cpus in counts else min(counts)
