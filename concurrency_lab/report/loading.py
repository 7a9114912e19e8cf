"""From pytest-benchmark JSON files to the report model, tolerating what older files lack."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import pytest_benchmark_json as raw
from .model import PerCoreTrace, ReportWarning, Result, Run, Summary, with_speedups
from .pytest_benchmark_json import as_bool, as_float, as_int, as_mapping, as_str
from .stats import coefficient_of_variation, efficiency_vs_ideal, is_noisy


def load_results(paths: Iterable[str | Path]) -> Summary:
    """The model of every pytest-benchmark JSON file in `paths` (a directory means its *.json)."""
    runs: list[Run] = []
    results: list[Result] = []
    warnings: list[ReportWarning] = []
    for path in raw.expand_paths(paths):
        try:
            document = raw.read_results_file(path)
        except raw.UnreadableResults as error:
            warnings.append(ReportWarning(str(path), None, f"skipped: {error}"))
            continue
        run = _run_from(document, len(runs), str(path), [r.label for r in runs])
        run_results = []
        for benchmark in raw.benchmarks_in(document):
            outcome = _result_from(benchmark, run)
            if isinstance(outcome, str):
                warnings.append(ReportWarning(str(path), as_str(benchmark.get("name")), outcome))
            else:
                run_results.append(outcome)
        if not run_results:
            why = "no usable benchmarks" if raw.benchmarks_in(document) else "no benchmarks (all skipped, or the run failed)"
            warnings.append(ReportWarning(str(path), None, f"skipped: {why} in this file"))
            continue
        runs.append(run)
        results.extend(with_speedups(run_results))
    return Summary(runs, results, warnings)


def python_label(fields: Mapping[str, Any]) -> str:
    label = f"{fields['python_implementation'] or 'Python'} {fields['python_version'] or '(version unknown)'}"
    if fields["free_threaded_build"]:
        gil = {False: ", GIL disabled", True: ", GIL re-enabled"}.get(fields["gil_enabled"], "")
        label += f" free-threaded{gil}"
    return label


def _run_from(document: Mapping[str, Any], index: int, source: str, taken: list[str]) -> Run:
    fields = raw.run_fields(document)
    label = python_label(fields)
    if label in taken:
        label += f" [{Path(source).name}]"
    return Run(index=index, label=label, source=source, **fields)


def _result_from(benchmark: Mapping[str, Any], run: Run) -> Result | str:
    """The result, or why this benchmark cannot be placed in the report."""
    extra = benchmark.get("extra_info")
    stats = as_mapping(benchmark.get("stats"))
    median = as_float(stats.get("median"))
    if not isinstance(extra, Mapping) or not extra:
        return "skipped: no extra_info (not a concurrency_lab benchmark, or written by an older version)"
    workload, variant, workers = as_str(extra.get("workload")), as_str(extra.get("variant")), as_int(extra.get("workers"))
    if workload is None or variant is None or workers is None:
        return "skipped: extra_info lacks workload, variant or workers"
    if median is None or median <= 0:
        return "skipped: no median time in stats"
    times = raw.round_times(stats)
    mean, stddev = as_float(stats.get("mean")), as_float(stats.get("stddev"))
    cv = coefficient_of_variation(times) if times else (stddev / mean if stddev is not None and mean else None)
    name = as_str(benchmark.get("name")) or f"{workload}-{variant}-{workers}"
    ideal = as_float(extra.get("ideal_s"))
    return Result(
        run=run.index,
        python=run.label,
        name=name,
        fullname=as_str(benchmark.get("fullname")) or name,
        group=as_str(benchmark.get("group")),
        workload=workload,
        variant=variant,
        workers=workers,
        size=as_int(extra.get("size")),
        size_label=as_str(extra.get("size_label")),
        start_method=as_str(extra.get("start_method")),
        mode=as_str(extra.get("mode")),
        chunksize=as_int(extra.get("chunksize")),
        trap=as_str(extra.get("trap")),
        items=as_int(extra.get("items")),
        bound=as_str(extra.get("bound")),
        median_s=median,
        mean_s=mean,
        stddev_s=stddev,
        min_s=as_float(stats.get("min")),
        rounds=as_int(stats.get("rounds")) or as_int(extra.get("rounds")),
        warmup_rounds=as_int(extra.get("warmup_rounds")),
        cv=cv,
        noisy=is_noisy(cv),
        cores_used=as_float(extra.get("cores_used")),
        cpu_seconds=as_float(extra.get("cpu_seconds")),
        self_cpu_seconds=as_float(extra.get("self_cpu_seconds")),
        worker_cpu_seconds=as_float(extra.get("worker_cpu_seconds")),
        reaped_children_cpu_seconds=as_float(extra.get("reaped_children_cpu_seconds")),
        wall_seconds=as_float(extra.get("wall_seconds")),
        monitor_overhead=_monitor_overhead(extra, run),
        ideal_s=ideal,
        efficiency_vs_ideal=efficiency_vs_ideal(ideal, median),
        peak_rss_bytes=as_int(extra.get("peak_rss_bytes")),
        peak_uss_bytes=as_int(extra.get("peak_uss_bytes")),
        peak_threads=as_int(extra.get("peak_threads")),
        peak_processes=as_int(extra.get("peak_processes")),
        identical=as_bool(extra.get("identical")),
        oversubscribed=None if run.usable_cpus is None else workers > run.usable_cpus,
        params=dict(as_mapping(extra.get("params"))),
        seed=as_int(extra.get("seed")),
        has_round_data=bool(times),
        round_times_s=times,
        per_core=_per_core_from(extra),
    )


def _monitor_overhead(extra: Mapping[str, Any], run: Run) -> float | None:
    sampler, wall = as_float(extra.get("sampler_cpu_seconds")), as_float(extra.get("wall_seconds"))
    if sampler is None or not wall or not run.usable_cpus:
        return None
    return sampler / (wall * run.usable_cpus)


def _per_core_from(extra: Mapping[str, Any]) -> PerCoreTrace | None:
    samples = list(raw.per_core_samples(extra))
    if not samples or len({len(percents) for _, percents in samples}) != 1:
        return None  # absent, or CPUs appearing mid-run: nothing to draw reliably
    width = len(samples[0][1])
    per_core = as_mapping(extra.get("per_core"))
    cpus = per_core.get("cpus")
    cpu_ids = tuple(c for c in cpus if as_int(c) is not None) if isinstance(cpus, list) else ()
    return PerCoreTrace(
        scope=as_str(per_core.get("scope")),
        cpus=cpu_ids if len(cpu_ids) == width else tuple(range(width)),
        interval_s=as_float(extra.get("interval_s")),
        times_s=tuple(moment for moment, _ in samples),
        percents=tuple(percents for _, percents in samples),
    )
