"""The benchmark matrix: every case timed by pytest-benchmark, with exact CPU and a resource monitor.

Run by `concurrency-lab run`, and by `pytest --benchmark-only` (tests/test_benchmarks.py imports it).
Each benchmark writes one `BenchRecord` into its ``extra_info``: the report reads nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from ..measure import CpuClock, CpuReading, Reading
from ..measure.machine import gil_enabled
from ..records.benchmark import BenchRecord, PerCoreTrace
from ..variants import RunRecord, Variant, variant_class
from ..workloads import Workload, get_workload
from .cases import BenchCase, Profile

SEED = 12  # the same inputs in every run, so runs compare


def test_benchmark(benchmark, bench_case, bench_profile, bench_environments, resource_monitor, bench_progress,
                   bench_timeout):
    case = bench_case
    variant = variant_for(case)
    workload = get_workload(case.workload)
    env = bench_environments[case.workload]
    inputs = workload.make_inputs(case.items or workload.size(case.size_label), SEED, env=env)
    benchmark.group = case.group
    measured = time_rounds(benchmark, variant, workload.task_for(variant), inputs, case, bench_profile,
                           resource_monitor, exclude_pids=[env.pid] if hasattr(env, "pid") else [], timeout=bench_timeout)
    record = bench_record(case, workload, variant, inputs, measured, bench_profile)
    benchmark.extra_info.update(record.to_dict())
    median = benchmark.stats.stats.median if benchmark.stats else float("nan")
    bench_progress(f"{case.id}: median {median:.4f} s, {record.cores_used:.2f} cores"
                   f"{'' if record.identical else ', RESULTS DIFFER'}")
    assert record.identical, f"{case.variant} returned results that differ from the {case.workload} reference"


def variant_for(case: BenchCase) -> Variant:
    """The case's variant, configured as the case says; skipped, with the reason, where it cannot run."""
    cls = variant_class(case.variant)
    reason = cls.unavailable_reason()
    if reason:
        pytest.skip(f"{case.variant}: {reason}")
    options: dict[str, Any] = {"workers": case.workers, "chunksize": case.chunksize}
    if cls.uses_processes:
        options["start_method"] = case.start_method
    return cls(**options)


def _last_run(variant: Variant) -> RunRecord:
    """The record of the map call that just returned (every call that returns leaves one)."""
    if variant.last_run is None:
        raise RuntimeError(f"{variant.name} returned from map without a record of the run")
    return variant.last_run


@dataclass(frozen=True)
class Measured:
    outputs: list[list[Any]]  # every round's results, warm-up rounds included
    cpu: CpuReading
    reading: Reading
    cluster: dict[str, Any] | None = None  # where a cluster variant ran (read while its warm pool was open)


def time_rounds(benchmark, variant: Variant, task: Callable[[Any], Any], inputs: Sequence[Any], case: BenchCase,
                profile: Profile, monitor, *, exclude_pids: Sequence[int], timeout: float | None = None) -> Measured:
    """Time the rounds with pytest-benchmark, counting CPU exactly and sampling memory around them.
    A warm case starts the pool before the timing and stops it after the final reading."""
    outputs: list[list[Any]] = []
    worker_cpu = 0.0

    def one_round() -> None:
        nonlocal worker_cpu
        outputs.append(variant.map(task, inputs, timeout=timeout))
        if variant.cpu_spent_elsewhere():  # thread workers' CPU is already this process's
            worker_cpu += _last_run(variant).worker_cpu_seconds

    with contextlib.ExitStack() as stack:
        if case.mode == "warm":
            stack.enter_context(variant)
        with monitor.measure(exclude_pids=exclude_pids) as section:
            clock = CpuClock().start()
            benchmark.pedantic(one_round, rounds=profile.rounds, warmup_rounds=profile.warmup_rounds, iterations=1)
            cpu = clock.stop(worker_cpu)
            reading = section.final()  # while a warm pool's workers are still alive
        cluster = variant.cluster_info() if hasattr(variant, "cluster_info") else None
    return Measured(outputs, cpu, reading, cluster)


def bench_record(case: BenchCase, workload: Workload, variant: Variant, inputs: Sequence[Any], measured: Measured,
                 profile: Profile) -> BenchRecord:
    """What the benchmark measured, checked against the workload's reference."""
    expected = workload.reference(inputs)
    workers = variant.workers if variant.concurrent else 1
    cpu, reading = measured.cpu, measured.reading
    # Workers outside this process tree (a cluster the lab connected to): the sampler saw only this client,
    # so memory, process counts and per-core use are not measured rather than understated. CPU stays:
    # every worker reports its own for each chunk.
    local = variant.workers_in_process_tree()
    return BenchRecord(
        workload=case.workload, bound=workload.bound, params=dict(workload.params), seed=SEED,
        variant=case.variant, traits=variant.traits(gil_enabled()), workers=workers, mode=case.mode,
        start_method=variant.effective_start_method if variant.uses_processes else None,
        chunksize=_last_run(variant).chunksize, trap=case.trap, size=len(inputs), size_label=case.size_label,
        items=len(inputs), rounds=profile.rounds, warmup_rounds=profile.warmup_rounds,
        identical=all(output == expected for output in measured.outputs),
        cpu_seconds=cpu.cpu_seconds, wall_seconds=cpu.wall_seconds, cores_used=cpu.cores_used,
        self_cpu_seconds=cpu.self_cpu_seconds, worker_cpu_seconds=cpu.worker_cpu_seconds,
        reaped_children_cpu_seconds=cpu.reaped_children_cpu_seconds,
        peak_rss_bytes=reading.peak_rss_bytes if local else None,
        peak_uss_bytes=reading.peak_uss_bytes if local else None,
        peak_threads=reading.peak_threads if local else None,
        peak_processes=reading.peak_processes if local else None,
        sampler_cpu_seconds=reading.sampler_cpu_seconds, interval_s=reading.interval_s,
        per_core=PerCoreTrace.from_dict({"scope": reading.per_core_scope, "cpus": list(reading.cpu_ids),
                                         "samples": [[t, list(p)] for t, p in reading.per_core]}) if local else None,
        ideal_s=workload.ideal_seconds(len(inputs), workers) if workload.ideal_seconds else None,
        cluster=measured.cluster,
    )
