"""What the dask variant costs next to a warm process pool: paired rounds, medians, start-up and close.

    python experiments/dask_overhead.py [--rounds 7] [--size smoke]

Each round times warm `process_pool` and warm `dask` (2 workers each) on the same inputs, in alternating
order, and keeps dask / process_pool for that round; the medians of those ratios are printed, for an
embedded LocalCluster and for an external 2-worker cluster on 127.0.0.1 (`variants/dask_loopback.py` starts it).
Every result is checked against the workload's reference. Not a test: it only prints figures.

Figures on a 2-core machine that the dask variant's settings rest on: a cold embedded cluster starts in about 1 s;
one Dask task costs ~1.6 ms (hence chunks_per_worker); gathering 50,000 small results as a list, which Dask
serialises item by item, took 1.3 s (hence chunks travel as bytes, variants/handoff.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from concurrency_lab.variants import get_variant
from concurrency_lab.variants.dask_loopback import real_cluster
from concurrency_lab.workloads import get_workload

WORKERS = 2
WORKLOADS = ("processor", "tiny_tasks")
SEED = 1


def _timed(variant, task, inputs, expected) -> float:
    started = time.perf_counter()
    results = variant.map(task, inputs)
    seconds = time.perf_counter() - started
    assert results == expected, f"{variant.name} returned results that differ from the reference"
    return seconds


def paired(dask, rounds: int, size: str) -> None:
    """Warm process_pool vs warm `dask`, round by round, for each workload."""
    with get_variant("process_pool", workers=WORKERS) as pool, dask:
        for name in WORKLOADS:
            workload = get_workload(name)
            inputs = workload.make_inputs(workload.size(size), SEED)
            expected = workload.reference(inputs)
            _timed(pool, workload.task, inputs, expected)  # warm-up round of each
            _timed(dask, workload.task, inputs, expected)
            pool_s, dask_s, ratios = [], [], []
            for round_ in range(rounds):
                order = (pool, dask) if round_ % 2 == 0 else (dask, pool)
                seconds = {v.name: _timed(v, workload.task, inputs, expected) for v in order}
                pool_s.append(seconds["process_pool"])
                dask_s.append(seconds["dask"])
                ratios.append(seconds["dask"] / seconds["process_pool"])
            print(f"  {name:<10} {len(inputs):>6} items: process_pool {statistics.median(pool_s) * 1000:8.1f} ms, "
                  f"dask {statistics.median(dask_s) * 1000:8.1f} ms, dask/process_pool median {statistics.median(ratios):.2f}x "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
        print(f"  cluster: {dask.cluster_info()}")


def start_and_close(rounds: int) -> None:
    starts, closes = [], []
    for _ in range(rounds):
        variant = get_variant("dask", workers=WORKERS)
        started = time.perf_counter()
        variant.start()
        starts.append(time.perf_counter() - started)
        started = time.perf_counter()
        variant.close()
        closes.append(time.perf_counter() - started)
    print(f"  embedded {WORKERS}-worker LocalCluster: start median {statistics.median(starts):.2f} s "
          f"(min {min(starts):.2f}), close median {statistics.median(closes):.2f} s (min {min(closes):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--size", default="smoke", choices=("test", "smoke", "standard", "full"))
    args = parser.parse_args()

    print(f"Python {sys.version.split()[0]}, {WORKERS} workers, size {args.size!r}, {args.rounds} paired rounds")
    print("embedded:")
    start_and_close(args.rounds)
    paired(get_variant("dask", workers=WORKERS), args.rounds, args.size)
    print(f"external ({WORKERS} `dask worker` processes on 127.0.0.1):")
    with real_cluster(workers=WORKERS) as cluster:
        paired(get_variant("dask", workers=WORKERS, address=cluster.address), args.rounds, args.size)


if __name__ == "__main__":
    main()
