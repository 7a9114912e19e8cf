"""Report fixtures made from the checked-in runs by changing a few figures, shared by the report tests."""

from __future__ import annotations

import json
from pathlib import Path

from concurrency_lab.core.traits import Kind, Role
from concurrency_lab.records.summary import Summary
from concurrency_lab.report import load_results
from concurrency_lab.report.facts import gil_each_in_process
from concurrency_lab.variants import VARIANT_NAMES, variant_class

NEWCOMER = Path(__file__).parent.parent / "data" / "run_newcomer.json"
MIB = 1024 * 1024


def processor_with_a_slowed_baseline(tmp_path: Path, factor: float) -> Summary:
    """The newcomer's run with no process rows on `processor` and its sequential rounds `factor` times slower:
    threads, on the GIL build, then measure faster than sequential on GIL-holding Python."""
    document = json.loads(NEWCOMER.read_text())
    kept = []
    for benchmark in document["benchmarks"]:
        info, stats = benchmark["extra_info"], benchmark["stats"]
        if info["workload"] == "processor" and info["variant"] not in ("sequential", "threading", "thread_pool"):
            continue
        if info["workload"] == "processor" and info["variant"] == "sequential":
            for key in ("min", "max", "mean", "median"):
                stats[key] *= factor
            stats["data"] = [seconds * factor for seconds in stats.get("data", [])]
        kept.append(benchmark)
    document["benchmarks"] = kept
    path = tmp_path / f"slowed_{factor}.json"
    path.write_text(json.dumps(document))
    return load_results([path])


def gil_each_variant() -> str:
    """The registered variant whose workers share this process but not its GIL (interpreters), found by its kind."""
    return next(name for name in VARIANT_NAMES if variant_class(name).kind in gil_each_in_process())


def _process_executor() -> str:
    """The lesson's process executor (the processes kind's AFTER variant), whose rows the gil-each rows copy."""
    return next(name for name in VARIANT_NAMES
                if variant_class(name).kind is Kind.PROCESSES and variant_class(name).role is Role.AFTER)


def with_gil_each_rows(source: Path, tmp_path: Path, factor: float, uss_mib: float = 70.0,
                       process_uss_mib: float = 40.0) -> Path:
    """`source` (a run file) with a row of `gil_each_variant` beside each row of the process executor at its
    default start method: the same workers and mode, its median `factor` times that row's and its cores as that
    row's, one process with `uss_mib` MiB of USS. The process rows get `process_uss_mib` MiB of USS a process where
    they had none (as the sampler records it: summed over the tree)."""
    document = json.loads(source.read_text())
    template, name = _process_executor(), gil_each_variant()
    default = document["machine_info"].get("default_start_method")
    added = []
    for benchmark in document["benchmarks"]:
        info = benchmark["extra_info"]
        if info["variant"] != template:
            continue
        if info.get("peak_uss_bytes") is None:
            info["peak_uss_bytes"] = int(process_uss_mib * MIB * (info.get("peak_processes") or 1))
        if info.get("start_method") not in (None, default) or info.get("trap"):
            continue
        copy = json.loads(json.dumps(benchmark).replace(template, name))
        copy["params"]["start_method"] = copy["extra_info"]["start_method"] = None
        copy["name"] = copy["name"].replace(f"-{default}]", "]")
        copy["fullname"] = copy["fullname"].replace(f"-{default}]", "]")
        copy["extra_info"].update(peak_processes=1, peak_uss_bytes=int(uss_mib * MIB), peak_rss_bytes=int(uss_mib * MIB))
        stats = copy["stats"]
        for key in ("min", "max", "mean", "median", "q1", "q3", "stddev", "iqr"):
            if isinstance(stats.get(key), (int, float)):
                stats[key] *= factor
        stats["data"] = [seconds * factor for seconds in stats.get("data", [])]
        added.append(copy)
    document["benchmarks"] += added
    path = tmp_path / f"gil_each_{source.stem}_{factor}.json"
    path.write_text(json.dumps(document))
    return path
