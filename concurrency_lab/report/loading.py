"""From pytest-benchmark JSON files (and advise.json files) to the report model, tolerating what older files lack."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..measure.reading import monitor_overhead
from ..numerics.stats import coefficient_of_variation, efficiency_vs_ideal, is_noisy
from ..records.advice import UnreadableAdvice, advice_from_document, is_advice_document
from ..records.benchmark import LEGACY_VERSION, BenchRecord
from ..records.failure_outcomes import JSON_KEY as FAILURES_KEY
from ..records.failure_outcomes import FailureTable
from ..records.summary import ReportWarning, Result, Run, Summary, with_speedups
from ..records.versions import SchemaError
from .pytest_benchmark_json import (
    UnreadableResults,
    as_float,
    as_int,
    as_mapping,
    as_str,
    benchmarks_in,
    expand_paths,
    read_results_file,
    round_times,
    run_fields,
)


def load_results(paths: Iterable[str | Path]) -> Summary:
    """The model of every pytest-benchmark JSON file in `paths` (a directory means its *.json), and of
    every advise.json among them (what `concurrency-lab advise --out` wrote)."""
    runs: list[Run] = []
    results: list[Result] = []
    warnings: list[ReportWarning] = []
    advice = []
    for path in expand_paths(paths):
        try:
            document = read_results_file(path)
        except UnreadableResults as error:
            warnings.append(ReportWarning(str(path), None, f"skipped: {error}"))
            continue
        if is_advice_document(document):
            try:
                advice.append(advice_from_document(document, str(path)))
            except UnreadableAdvice as error:
                warnings.append(ReportWarning(str(path), None, f"skipped: {error}"))
            continue
        run = _run_from(document, len(runs), str(path), [r.label for r in runs])
        run, note = _with_failures(run, document)
        if note:
            warnings.append(ReportWarning(str(path), None, note))
        try:
            run_results, notes = _results_of(document, run, str(path))
        except SchemaError as error:
            warnings.append(ReportWarning(str(path), None, f"skipped: {error}"))
            continue
        warnings += notes
        if not run_results:
            why = "no usable benchmarks" if benchmarks_in(document) else "no benchmarks (all skipped, or the run failed)"
            warnings.append(ReportWarning(str(path), None, f"skipped: {why} in this file"))
            continue
        runs.append(run)
        results.extend(with_speedups(run_results))
    return Summary(runs, results, warnings, advice=advice)


def _results_of(document: Mapping[str, Any], run: Run, source: str) -> tuple[list[Result], list[ReportWarning]]:
    """The file's results, and its warnings: one per benchmark left out, one for what its records lacked."""
    results, warnings = [], []
    legacy, missing = 0, Counter[str]()
    for benchmark in benchmarks_in(document):
        outcome = _result_from(benchmark, run)
        if isinstance(outcome, str):
            warnings.append(ReportWarning(source, as_str(benchmark.get("name")), outcome))
            continue
        result, version, lacked = outcome
        results.append(result)
        legacy += version == LEGACY_VERSION
        missing.update(lacked)
    if legacy:
        unknown = sorted({r.variant for r in results if r.traits is None})
        traits = "variant traits taken from this concurrency-lab's registry" + (
            f" (unknown here, so left out of every rule that needs them: {', '.join(unknown)})" if unknown else "")
        warnings.append(ReportWarning(source, None, f"written before the benchmark record had a schema "
                                                    f"({legacy} of {len(results)} records): {traits}"))
    if missing:
        fields = ", ".join(f"{name} ({count})" for name, count in sorted(missing.items()))
        warnings.append(ReportWarning(source, None, f"records lack these fields, shown as '–': {fields}"))
    return results, warnings


def python_label(fields: Mapping[str, Any]) -> str:
    label = f"{fields['python_implementation'] or 'Python'} {fields['python_version'] or '(version unknown)'}"
    if fields["free_threaded_build"]:
        gil = {False: ", GIL disabled", True: ", GIL re-enabled"}.get(fields["gil_enabled"], "")
        label += f" free-threaded{gil}"
    return label


def _run_from(document: Mapping[str, Any], index: int, source: str, taken: list[str]) -> Run:
    fields = run_fields(document)
    label = python_label(fields)
    if label in taken:
        label += f" [{Path(source).name}]"
    return Run(index=index, label=label, source=source, **fields)


def _with_failures(run: Run, document: Mapping[str, Any]) -> tuple[Run, str | None]:
    """The run with the file's failure-modes table, and why it was left out when it could not be read."""
    if FAILURES_KEY not in document:
        return run, None
    try:
        return dataclasses.replace(run, failures=FailureTable.from_dict(document[FAILURES_KEY])), None
    except SchemaError as error:
        return run, f"failure modes left out: {error}"


def _result_from(benchmark: Mapping[str, Any], run: Run) -> tuple[Result, int, tuple[str, ...]] | str:
    """The result with its record's version and missing fields, or why it cannot be placed in the report.
    SchemaError (for the whole file) when a record is of a schema this lab cannot read."""
    extra = benchmark.get("extra_info")
    stats = as_mapping(benchmark.get("stats"))
    median = as_float(stats.get("median"))
    if not isinstance(extra, Mapping) or not extra:
        return "skipped: no extra_info (not a concurrency_lab benchmark, or written by an older version)"
    loaded = BenchRecord.from_dict(extra, gil_enabled=run.gil_enabled)
    record = loaded.record
    if record.workload is None or record.variant is None or record.workers is None:
        return "skipped: extra_info lacks workload, variant or workers"
    if median is None or median <= 0:
        return "skipped: no median time in stats"
    times = round_times(stats)
    mean, stddev = as_float(stats.get("mean")), as_float(stats.get("stddev"))
    cv = coefficient_of_variation(times) if times else (stddev / mean if stddev is not None and mean else None)
    name = as_str(benchmark.get("name")) or f"{record.workload}-{record.variant}-{record.workers}"
    result = Result(
        **{**record.fields(), "rounds": as_int(stats.get("rounds")) or record.rounds},
        run=run.index,
        python=run.label,
        name=name,
        fullname=as_str(benchmark.get("fullname")) or name,
        group=as_str(benchmark.get("group")),
        median_s=median,
        mean_s=mean,
        stddev_s=stddev,
        min_s=as_float(stats.get("min")),
        cv=cv,
        noisy=is_noisy(cv),
        monitor_overhead=monitor_overhead(record.sampler_cpu_seconds, record.wall_seconds, run.usable_cpus),
        efficiency_vs_ideal=efficiency_vs_ideal(record.ideal_s, median),
        oversubscribed=None if run.usable_cpus is None else record.workers > run.usable_cpus,
        has_round_data=bool(times),
        round_times_s=times,
    )
    return result, loaded.version, loaded.missing
