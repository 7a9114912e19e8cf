"""Report fixtures made from the checked-in runs by changing a few figures, shared by the report tests."""

from __future__ import annotations

import json
from pathlib import Path

from concurrency_lab.records.summary import Summary
from concurrency_lab.report import load_results

NEWCOMER = Path(__file__).parent.parent / "data" / "run_newcomer.json"


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
