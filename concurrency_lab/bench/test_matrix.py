"""The benchmark matrix: every case timed by pytest-benchmark, with exact CPU and a resource monitor.

Run by `concurrency-lab run`, and by `pytest --benchmark-only` (tests/test_benchmarks.py imports it).
"""

from __future__ import annotations

import contextlib

import pytest

from ..measure import CpuClock
from ..variants import variant_class
from ..workloads import get_workload

SEED = 12  # the same inputs in every run, so runs compare


def test_benchmark(benchmark, bench_case, bench_profile, bench_environments, resource_monitor, bench_progress):
    case = bench_case
    cls = variant_class(case.variant)
    reason = cls.unavailable_reason()
    if reason:
        pytest.skip(f"{case.variant}: {reason}")
    workload = get_workload(case.workload)
    env = bench_environments[case.workload]
    inputs = workload.make_inputs(case.items or workload.size(case.size_label), SEED, env=env)
    options = {"workers": case.workers, "chunksize": case.chunksize}
    if cls.uses_processes:
        options["start_method"] = case.start_method
    variant = cls(**options)
    task = workload.task_for(variant)
    outputs, worker_cpu = [], [0.0]

    def one_round():
        outputs.append(variant.map(task, inputs))
        if variant.uses_processes:  # thread workers' CPU is already this process's
            worker_cpu[0] += variant.last_run.worker_cpu_seconds

    benchmark.group = case.group
    with contextlib.ExitStack() as stack:
        if case.mode == "warm":
            stack.enter_context(variant)  # the pool starts before timing, and stops after the final reading
        with resource_monitor.measure(exclude_pids=[env.pid] if hasattr(env, "pid") else []) as section:
            clock = CpuClock().start()
            benchmark.pedantic(one_round, rounds=bench_profile.rounds, warmup_rounds=bench_profile.warmup_rounds, iterations=1)
            cpu = clock.stop(worker_cpu[0])
            reading = section.final()  # while a warm pool's workers are still alive

    # CPU of the work: this process (every thread) plus the workers' CPU. Workers report the CPU of
    # their chunks; a cold pool's workers are also reaped inside the timing, and then the OS's
    # figure is the larger (it includes their start-up). max(), never the sum: that would count twice.
    cpu_seconds = cpu.self_cpu_seconds + max(cpu.worker_cpu_seconds, cpu.reaped_children_cpu_seconds)
    expected = workload.reference(inputs)
    identical = all(output == expected for output in outputs)
    ideal = workload.ideal_seconds(len(inputs), case.workers if cls.concurrent else 1) if workload.ideal_seconds else None
    benchmark.extra_info.update({
        "workload": case.workload, "size": len(inputs), "size_label": case.size_label, "items": len(inputs),
        "variant": case.variant, "workers": variant.workers if cls.concurrent else 1, "mode": case.mode,
        "start_method": variant.effective_start_method if cls.uses_processes else None,
        "chunksize": variant.last_run.chunksize, "trap": case.trap, "identical": identical,
        "rounds": bench_profile.rounds, "warmup_rounds": bench_profile.warmup_rounds,
        "cpu_seconds": cpu_seconds, "wall_seconds": cpu.wall_seconds, "cores_used": cpu_seconds / cpu.wall_seconds,
        "self_cpu_seconds": cpu.self_cpu_seconds, "worker_cpu_seconds": cpu.worker_cpu_seconds,
        "reaped_children_cpu_seconds": cpu.reaped_children_cpu_seconds, "bound": workload.bound,
        "peak_rss_bytes": reading.peak_rss_bytes, "peak_uss_bytes": reading.peak_uss_bytes,
        "peak_threads": reading.peak_threads, "peak_processes": reading.peak_processes,
        "sampler_cpu_seconds": reading.sampler_cpu_seconds, "interval_s": reading.interval_s,
        "per_core": {"scope": reading.per_core_scope, "cpus": list(reading.cpu_ids),
                     "samples": [[t, list(pcts)] for t, pcts in reading.per_core]},
        "ideal_s": ideal, "params": dict(workload.params), "seed": SEED,
    })
    median = benchmark.stats.stats.median if benchmark.stats else float("nan")
    bench_progress(f"{case.id}: median {median:.4f} s, {cpu_seconds / cpu.wall_seconds:.2f} cores{'' if identical else ', RESULTS DIFFER'}")
    assert identical, f"{case.variant} returned results that differ from the {case.workload} reference"
