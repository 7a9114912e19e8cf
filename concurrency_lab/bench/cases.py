"""Which benchmarks a profile runs: pure data, so pytest ids and groups stay stable across runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..variants import Variant, variant_class
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
                     start_methods=("fork", "forkserver", "spawn")),
    # I/O at one worker is `sequential` plus a hand-off, and costs 2 s a round: full runs it.
    "standard": Profile("standard", "standard", rounds=7, warmup_rounds=1, io_worker_counts=(2, 8, 32),
                        cpu_worker_counts=(1, 2), start_methods=("fork", "forkserver", "spawn")),
    "full": Profile("full", "full", rounds=11, warmup_rounds=2, io_worker_counts=(1, 2, 4, 8, 16, 32, 64),
                    cpu_worker_counts=(1, 2, 4), start_methods=("fork", "forkserver", "spawn")),
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


def has_pool(cls: type[Variant]) -> bool:
    """Whether the variant keeps workers between calls (so warm and cold differ)."""
    return cls._open is not Variant._open


def cases(profile: Profile, *, variants: Sequence[str], workloads: Sequence[str], usable_cpus: int,
          workers: Sequence[int] | None = None) -> list[BenchCase]:
    out: list[BenchCase] = []
    for workload_name in workloads:
        workload = get_workload(workload_name)
        io = workload.bound == "I/O"
        if workers:
            counts = sorted(set(workers))
        else:
            counts = sorted(set(profile.io_worker_counts) if io else {usable_cpus, *profile.cpu_worker_counts})
        for name in variants:
            cls = variant_class(name)
            if cls.runs_coroutines and workload.async_task is None:
                continue  # it cannot run this workload: `concurrency-lab list` says why
            if not cls.concurrent:
                out.append(BenchCase(workload_name, profile.size_label, name, 1, "warm"))
                continue
            out += [BenchCase(workload_name, profile.size_label, name, n, "warm") for n in counts]
            if has_pool(cls):
                # Start-up cost per start method is measured on the CPU workloads; I/O gets one cold
                # row (the platform's start method) at the smallest worker count.
                methods = profile.start_methods if cls.uses_processes and not io else (None,)
                cold_workers = counts[0] if io else usable_cpus
                out += [BenchCase(workload_name, profile.size_label, name, cold_workers, "cold", m) for m in methods]
        if workload_name == "tiny_tasks" and "process_pool" in variants:  # ProcessPoolExecutor.map's default
            out.append(BenchCase(workload_name, profile.size_label, "process_pool", usable_cpus, "warm",
                                 chunksize=1, trap="chunksize=1", items=TRAP_ITEMS))
    return out
