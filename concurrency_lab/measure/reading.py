"""What a measured section left behind: tree samples, their peaks, and the JSON form of both (pure data)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: Per-core CPU % comes from /proc/stat-like counters of the whole machine: other tenants show in it.
PER_CORE_SCOPE = "system-wide"


def monitor_overhead(sampler_cpu_seconds: float | None, wall_seconds: float | None,
                     usable_cpus: int | None) -> float | None:
    """The sampler's CPU as a share of what the usable CPUs could do meanwhile: the price of watching.

    ``sampler_cpu_seconds / (wall_seconds * usable_cpus)``; None when a figure is missing or zero.
    """
    if sampler_cpu_seconds is None or wall_seconds is None or usable_cpus is None or wall_seconds <= 0 or usable_cpus <= 0:
        return None
    return sampler_cpu_seconds / (wall_seconds * usable_cpus)


@dataclass(frozen=True)
class TreeSample:
    """One look at the measured process tree. Sums over its processes, so RSS counts shared pages twice."""

    t_seconds: float  # since the section started (0.0 for a snapshot taken outside a section)
    rss_bytes: int
    uss_bytes: int | None  # None when USS was not read in this sample, or a process denied it
    threads: int
    processes: int
    pids: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pids": list(self.pids)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreeSample:
        return cls(**{**data, "pids": tuple(data["pids"])})


@dataclass
class PeakTracker:
    """Running maxima over the tree samples of one section."""

    samples: int = 0
    rss_bytes: int = 0
    uss_bytes: int | None = None
    threads: int = 0
    processes: int = 0

    def add(self, sample: TreeSample) -> None:
        self.samples += 1
        self.rss_bytes = max(self.rss_bytes, sample.rss_bytes)
        self.threads = max(self.threads, sample.threads)
        self.processes = max(self.processes, sample.processes)
        if sample.uss_bytes is not None:
            self.uss_bytes = sample.uss_bytes if self.uss_bytes is None else max(self.uss_bytes, sample.uss_bytes)


@dataclass(frozen=True)
class Reading:
    """Resources of one measured section, as the sampler process saw them.

    ``per_core`` holds ``(t_seconds, [percent per cpu in cpu_ids])``: each entry covers the time
    since the previous one (the first, since the section started). It is system-wide (see
    ``per_core_scope``). Peaks are over the measured tree: the root process and its descendants,
    forkserver workers included, without the sampler, the forkserver and resource tracker
    processes themselves, or ``excluded_pids`` and their descendants.
    """

    interval_s: float
    uss_every_s: float
    wall_seconds: float
    samples: int  # tree samples, periodic ones plus the final one: at least 1
    cpu_ids: tuple[int, ...]
    per_core: tuple[tuple[float, tuple[float, ...]], ...]
    peak_rss_bytes: int
    peak_uss_bytes: int | None  # None only when no process of the tree let us read its USS
    peak_threads: int
    peak_processes: int
    sampler_cpu_seconds: float  # user + system CPU of the sampler process during the section
    final: TreeSample  # taken synchronously when the section ended, USS included
    root_pid: int
    sampler_pid: int
    excluded_pids: tuple[int, ...] = ()
    per_core_scope: str = field(default=PER_CORE_SCOPE)

    @property
    def sampler_overhead(self) -> float | None:
        """`monitor_overhead` of this section (None for a section that took no time)."""
        return monitor_overhead(self.sampler_cpu_seconds, self.wall_seconds, max(1, len(self.cpu_ids)))

    def mean_per_core(self) -> list[float]:
        """Time-weighted mean busy % of each usable CPU over the section (empty without samples)."""
        if not self.per_core:
            return []
        totals = [0.0] * len(self.cpu_ids)
        previous = 0.0
        for t, percents in self.per_core:
            for i, percent in enumerate(percents):
                totals[i] += percent * (t - previous)
            previous = t
        return [total / previous for total in totals] if previous > 0 else list(self.per_core[-1][1])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only: lists for tuples, None for missing values."""
        data = asdict(self)
        data.update(
            cpu_ids=list(self.cpu_ids),
            per_core=[[t, list(percents)] for t, percents in self.per_core],
            final=self.final.to_dict(),
            excluded_pids=list(self.excluded_pids),
            sampler_overhead=self.sampler_overhead,
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reading:
        fields = {k: v for k, v in data.items() if k != "sampler_overhead"}
        return cls(**{
            **fields,
            "cpu_ids": tuple(data["cpu_ids"]),
            "per_core": tuple((float(t), tuple(percents)) for t, percents in data["per_core"]),
            "final": TreeSample.from_dict(data["final"]),
            "excluded_pids": tuple(data.get("excluded_pids", ())),
        })


def peaks_fields(peaks: PeakTracker) -> dict[str, Any]:
    """The Reading fields a PeakTracker fills."""
    return {
        "samples": peaks.samples,
        "peak_rss_bytes": peaks.rss_bytes,
        "peak_uss_bytes": peaks.uss_bytes,
        "peak_threads": peaks.threads,
        "peak_processes": peaks.processes,
    }


def select_cpus(percents: Sequence[float], cpu_ids: Sequence[int]) -> tuple[float, ...]:
    """The entries of a per-CPU list for the given CPU ids (ids past its end read 0.0: CPU went offline)."""
    return tuple(float(percents[i]) if i < len(percents) else 0.0 for i in cpu_ids)
