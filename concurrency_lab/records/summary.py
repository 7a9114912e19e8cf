"""The report's summary (summary.json): runs (one per results file), results (one per benchmark), warnings.

Speedup and everything derived from it compare a result with the baseline variant (the one whose
traits give it the baseline role) of the same run only: two Pythons or two machines never share a baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..core.traits import Kind
from ..numerics.stats import efficiency, karp_flatt, speedup
from .advice import Advice
from .benchmark import BenchRecord
from .failure_outcomes import FailureTable
from .versions import SUMMARY

SCHEMA_VERSION = SUMMARY.newest  # of summary.json: see `versions.SUMMARY`
#: A group of results: (workload, size label, size); a record may lack any of them.
GroupKey = tuple[str, str | None, int | None]  # workload, size label, size


@dataclass(frozen=True)
class Run:
    """One results file: one Python on one machine."""

    index: int
    label: str
    python_version: str | None
    python_implementation: str | None
    gil_enabled: bool | None
    free_threaded_build: bool | None
    gil_reenabled: bool | None  # a free-threaded build whose GIL an import turned back on
    python_gil_env: str | None  # PYTHON_GIL as it was set for the run
    abiflags: str | None  # sys.abiflags: "t" on a free-threaded build
    config_args: str | None  # ./configure's arguments: the same on both sides of a fair comparison of builds
    usable_cpus: int | None
    default_start_method: str | None
    machine: str
    source: str
    datetime: str | None
    commit: str | None
    pytest_benchmark_version: str | None
    failures: FailureTable | None = None  # the failure-modes table the file carried (None: not measured)
    engines: str | None = None  # the optional engines installed, with versions ("loky 3.7.0, ..."); None: not recorded


@dataclass(frozen=True, kw_only=True)
class Result(BenchRecord):
    """One benchmark: the record it wrote (settings, traits, what it cost), its timing, and what
    the report derives from them."""

    # A record without these is left out of the report (loading's `_result_from`), so a result always has them.
    workload: str
    variant: str
    workers: int
    run: int
    python: str
    name: str
    fullname: str
    group: str | None
    median_s: float
    mean_s: float | None
    stddev_s: float | None
    min_s: float | None
    cv: float | None
    noisy: bool
    monitor_overhead: float | None  # the sampler's own CPU / (wall x usable CPUs): the price of watching
    efficiency_vs_ideal: float | None  # ideal_s / median_s
    oversubscribed: bool | None
    has_round_data: bool
    speedup: float | None = None
    efficiency: float | None = None
    serial_fraction: float | None = None
    # Bulk data for charts and significance tests; left out of summary.json (per_core too).
    round_times_s: tuple[float, ...] = field(default=(), repr=False)

    @property
    def kind(self) -> Kind | None:
        return self.traits.kind if self.traits else None

    @property
    def is_baseline(self) -> bool:
        return self.traits is not None and self.traits.is_baseline

    @property
    def group_key(self) -> GroupKey:
        """Its own (workload, size_label, size); `Summary.groups` places trap rows in their workload's group."""
        return (self.workload, self.size_label, self.size)

    @property
    def items_or_size(self) -> int | None:
        return self.items if self.items is not None else self.size

    @property
    def per_task_s(self) -> float | None:
        """Median / items: what compares rows that ran on different numbers of items."""
        items = self.items_or_size
        return self.median_s / items if items else None


_BULK_FIELDS = ("round_times_s", "per_core")


@dataclass(frozen=True)
class ReportWarning:
    source: str
    benchmark: str | None
    message: str


@dataclass
class Summary:
    runs: list[Run]
    results: list[Result]
    warnings: list[ReportWarning]
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    advice: list[Advice] = field(default_factory=list)  # what `advise --out` wrote, found among the inputs

    def results_of(self, run: Run) -> list[Result]:
        return [r for r in self.results if r.run == run.index]

    def groups(self, run: Run) -> dict[GroupKey, list[Result]]:
        """The results of one run by group, in order of first appearance."""
        results = self.results_of(run)
        grouped: dict[GroupKey, list[Result]] = {}
        for result in results:
            grouped.setdefault(group_key_of(result, results), []).append(result)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "generated": self.generated,
            "runs": [_run_dict(run) for run in self.runs],
            "results": [_result_dict(r) for r in self.results],
            "warnings": [dataclasses.asdict(w) for w in self.warnings],
            "advice": [advice.to_dict() for advice in self.advice],
        }


def gil_of(run: Run) -> str:
    """ "enabled", "disabled", "re-enabled by an import" or "unknown" """
    if run.gil_reenabled:
        return "re-enabled by an import (free-threaded build)"
    states: dict[bool | None, str] = {True: "enabled", False: "disabled"}
    return states.get(run.gil_enabled, "unknown")


GIL_REENABLED = ("an import turned the GIL back on in this free-threaded run (an extension module not marked "
                 "free-threading-safe): its threads share one GIL, as on a GIL build")


def gil_difference(runs: Iterable[Run]) -> str | None:
    """One line saying the runs differ in their GIL, when they do: their ratios compare builds, not code."""
    runs = list(runs)
    states = {run.gil_enabled for run in runs if run.gil_enabled is not None}
    if len(states) < 2:
        return None
    sides = "; ".join(f"{run.label}: GIL {gil_of(run)}" for run in runs)
    return f"these runs differ in their GIL ({sides}): a ratio between them compares builds as well as code"


def group_key_of(result: Result, results: Iterable[Result]) -> GroupKey:
    """A trap row belongs to the group of its workload and size label, whatever items it ran on
    (the chunksize=1 row runs on fewer); only without such a group does it stand alone."""
    if result.trap is None:
        return result.group_key
    return next(
        (r.group_key for r in results
         if r.trap is None and (r.run, r.workload, r.size_label) == (result.run, result.workload, result.size_label)),
        result.group_key,
    )


def _run_dict(run: Run) -> dict[str, Any]:
    values = {f.name: getattr(run, f.name) for f in dataclasses.fields(run) if f.name != "failures"}
    values["failure_modes"] = run.failures.to_dict() if run.failures else None
    return values


def _result_dict(result: Result) -> dict[str, Any]:
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name not in _BULK_FIELDS}
    values["params"] = dict(result.params)
    values["traits"] = result.traits.to_dict() if result.traits else None
    values["per_core_samples"] = len(result.per_core.times_s) if result.per_core else 0
    return values


def with_speedups(results: list[Result]) -> list[Result]:
    """Each result with speedup, efficiency and serial fraction against its run's baseline (trap rows: none)."""
    return [_with_speedup(r, baseline_for(r, results)) for r in results]


def baseline_for(result: Result, results: Iterable[Result]) -> Result | None:
    """The baseline variant's 1-worker result of the same run, workload and size (warm preferred)."""
    candidates = [
        r for r in results
        if r.run == result.run and r.is_baseline and r.workers == 1
        and r.workload == result.workload and r.size == result.size and r.size_label == result.size_label
        and r.trap is None
    ]
    candidates.sort(key=lambda r: (r.identical is False, r.mode != "warm"))
    return candidates[0] if candidates else None


def _with_speedup(result: Result, baseline: Result | None) -> Result:
    if baseline is None or result.trap is not None:  # a trap is compared per task, by its own verdict
        return result
    ratio = speedup(baseline.median_s, result.median_s)
    beyond_cpus = result.oversubscribed is True  # p > CPUs: Karp-Flatt's p is no longer the processors
    return dataclasses.replace(
        result,
        speedup=ratio,
        efficiency=efficiency(ratio, result.workers or 0),  # (no worker count: no figure)
        serial_fraction=None if beyond_cpus else karp_flatt(ratio, result.workers or 0),
    )
