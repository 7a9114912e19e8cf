"""Write the report test fixtures: pytest-benchmark 5.x JSON as `--benchmark-json` saves it.

Run from the repository root with the venv's Python (stats come from pytest-benchmark's own
`Stats`, so every median, quartile and stddev is what the plugin would write):

    PYTHONPATH=. /work/venv/bin/python tests/data/make_report_fixtures.py

The numbers are invented but plausible for a 2-CPU Linux VM; seeded, so re-running
reproduces the files byte for byte (apart from nothing: no clocks are read).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

from pytest_benchmark.stats import Stats

DATA = Path(__file__).parent
MIB = 1024 * 1024
INTERVAL_S = 0.05
SEED = 12
LATENCY_S = 0.025  # the downloader's server latency: its ideal is ceil(items / workers) x this
TRAP_ITEMS = 2000  # the chunksize=1 row runs on fewer items than its group, as the real matrix does

WORKLOADS = {  # workload -> (size, params, bound)
    "downloader": (48, {"latency_s": LATENCY_S, "min_bytes": 1024, "max_bytes": 65536}, "I/O"),
    "processor": (4000, {"task": "count_primes", "limit": 20000}, "CPU, holds the GIL"),
    "hashing": (64, {"block_bytes": MIB, "repeat": 4}, "CPU, releases the GIL"),
    "tiny_tasks": (20000, {"task": "square"}, "dispatch overhead"),
}

# (workload, variant, workers, mode, start_method, median_s, cv, cores_used, rss_mib) [+ overrides]
PY311_ROWS = [
    ("downloader", "sequential", 1, "warm", None, 1.25, 0.02, 0.06, 42),
    ("downloader", "threading", 8, "warm", None, 0.168, 0.04, 0.31, 44),
    ("downloader", "thread_pool", 2, "warm", None, 0.630, 0.03, 0.10, 43),
    ("downloader", "thread_pool", 4, "warm", None, 0.318, 0.03, 0.17, 43),
    ("downloader", "thread_pool", 8, "warm", None, 0.165, 0.04, 0.30, 44),
    ("downloader", "thread_pool", 16, "warm", None, 0.086, 0.05, 0.62, 46),
    ("downloader", "thread_pool", 32, "warm", None, 0.061, 0.06, 0.85, 49),  # the client's one GIL is busy
    ("downloader", "mp_pool", 2, "warm", "fork", 0.640, 0.03, 0.12, 118),
    ("downloader", "mp_pool", 8, "warm", "fork", 0.175, 0.05, 0.40, 322),
    ("downloader", "process_pool", 2, "warm", "fork", 0.645, 0.03, 0.12, 120),
    ("downloader", "process_pool", 8, "warm", "fork", 0.178, 0.05, 0.42, 330),
    ("processor", "sequential", 1, "warm", None, 1.200, 0.01, 1.00, 38),
    ("processor", "threading", 2, "warm", None, 1.228, 0.02, 1.00, 38),
    ("processor", "threading", 4, "warm", None, 1.235, 0.02, 1.00, 39),
    ("processor", "thread_pool", 1, "warm", None, 1.212, 0.01, 1.00, 38),
    ("processor", "thread_pool", 2, "warm", None, 1.224, 0.02, 1.00, 38),
    ("processor", "thread_pool", 4, "warm", None, 1.231, 0.02, 1.00, 39),
    ("processor", "thread_pool", 2, "cold", None, 1.210, 0.02, 1.00, 38),  # no slower than warm: no start-up cost
    ("processor", "mp_pool", 1, "warm", "fork", 1.214, 0.01, 1.00, 74),
    ("processor", "mp_pool", 2, "warm", "fork", 0.652, 0.02, 1.96, 110),
    ("processor", "mp_pool", 4, "warm", "fork", 0.661, 0.03, 1.98, 182),
    ("processor", "mp_pool", 2, "cold", "fork", 0.683, 0.04, 1.95, 110),
    ("processor", "process_pool", 1, "warm", "fork", 1.218, 0.01, 1.00, 75),
    ("processor", "process_pool", 2, "warm", "fork", 0.674, 0.02, 1.93, 112),
    ("processor", "process_pool", 4, "warm", "fork", 0.669, 0.03, 1.97, 186),
    ("processor", "process_pool", 2, "warm", "spawn", 0.676, 0.02, 1.93, 131),
    ("processor", "process_pool", 2, "warm", "forkserver", 0.675, 0.02, 1.93, 126),
    ("processor", "process_pool", 2, "cold", "fork", 0.702, 0.03, 1.90, 112),
    ("processor", "process_pool", 2, "cold", "forkserver", 0.781, 0.04, 1.78, 126),
    ("processor", "process_pool", 2, "cold", "spawn", 0.893, 0.05, 1.62, 131),
    ("hashing", "sequential", 1, "warm", None, 0.420, 0.02, 1.00, 80),
    ("hashing", "threading", 2, "warm", None, 0.247, 0.03, 1.88, 85),
    ("hashing", "thread_pool", 2, "warm", None, 0.246, 0.03, 1.90, 85),
    ("hashing", "thread_pool", 4, "warm", None, 0.243, 0.03, 1.93, 88),
    ("hashing", "mp_pool", 2, "warm", "fork", 0.301, 0.04, 1.82, 228),
    ("hashing", "process_pool", 2, "warm", "fork", 0.309, 0.04, 1.80, 230),
    ("tiny_tasks", "sequential", 1, "warm", None, 0.0042, 0.04, 1.00, 36),
    ("tiny_tasks", "threading", 2, "warm", None, 0.0121, 0.06, 1.10, 36),
    ("tiny_tasks", "thread_pool", 2, "warm", None, 0.0135, 0.05, 1.20, 36),
    ("tiny_tasks", "mp_pool", 2, "warm", "fork", 0.0091, 0.06, 1.50, 70),
    ("tiny_tasks", "process_pool", 2, "warm", "fork", 0.0098, 0.06, 1.40, 71),
    ("tiny_tasks", "process_pool", 2, "warm", "fork", 0.245, 0.03, 1.60, 72,
     {"trap": "chunksize=1", "chunksize": 1, "rounds": 3, "items": TRAP_ITEMS}),
]

PY313T_ROWS = [
    ("downloader", "sequential", 1, "warm", None, 1.26, 0.02, 0.07, 45),
    ("downloader", "threading", 8, "warm", None, 0.170, 0.04, 0.33, 47),
    ("downloader", "thread_pool", 2, "warm", None, 0.632, 0.03, 0.11, 46),
    ("downloader", "thread_pool", 4, "warm", None, 0.320, 0.03, 0.18, 46),
    ("downloader", "thread_pool", 8, "warm", None, 0.166, 0.04, 0.31, 47),
    ("downloader", "thread_pool", 16, "warm", None, 0.088, 0.05, 0.48, 49),
    ("downloader", "thread_pool", 32, "warm", None, 0.064, 0.15, 0.66, 53),
    ("downloader", "process_pool", 2, "warm", "fork", 0.648, 0.03, 0.13, 126),
    ("downloader", "process_pool", 8, "warm", "fork", 0.181, 0.05, 0.44, 342),
    ("processor", "sequential", 1, "warm", None, 1.380, 0.01, 1.00, 41),
    ("processor", "threading", 2, "warm", None, 0.735, 0.03, 1.94, 41),
    ("processor", "threading", 4, "warm", None, 0.702, 0.04, 1.97, 42, {"identical": False}),
    ("processor", "thread_pool", 1, "warm", None, 1.391, 0.01, 1.00, 41),
    ("processor", "thread_pool", 2, "warm", None, 0.728, 0.02, 1.95, 41),
    ("processor", "thread_pool", 4, "warm", None, 0.741, 0.03, 1.97, 42),
    ("processor", "mp_pool", 2, "warm", "fork", 0.740, 0.23, 1.94, 118),
    ("processor", "process_pool", 1, "warm", "fork", 1.397, 0.01, 1.00, 80),
    ("processor", "process_pool", 2, "warm", "fork", 0.752, 0.03, 1.92, 120),
    ("processor", "process_pool", 4, "warm", "fork", 0.748, 0.03, 1.96, 196),
    ("processor", "process_pool", 2, "cold", "fork", 0.790, 0.04, 1.88, 120),
    ("processor", "process_pool", 2, "cold", "spawn", 1.020, 0.05, 1.55, 142),
    ("hashing", "sequential", 1, "warm", None, 0.410, 0.02, 1.00, 84),
    ("hashing", "thread_pool", 2, "warm", None, 0.236, 0.03, 1.92, 89),
    ("hashing", "process_pool", 2, "warm", "fork", 0.305, 0.04, 1.81, 240),
    ("tiny_tasks", "sequential", 1, "warm", None, 0.0051, 0.05, 1.00, 39),
    ("tiny_tasks", "thread_pool", 2, "warm", None, 0.0094, 0.07, 1.60, 39),
    ("tiny_tasks", "process_pool", 2, "warm", "fork", 0.0104, 0.06, 1.40, 76),
    ("tiny_tasks", "process_pool", 2, "warm", "fork", 0.231, 0.03, 1.62, 77,
     {"trap": "chunksize=1", "chunksize": 1, "rounds": 3, "items": TRAP_ITEMS}),
]

# What the newcomer of issue 16 saw on a loaded 2-CPU machine: process_pool x32 1 ms faster than threading at
# 27x its memory; a thread pool started cold 2.07 ms faster than warm; a pool start-up 1% of the call yet
# significant (many tight rounds).
NEWCOMER_ROWS = [
    ("downloader", "sequential", 1, "warm", None, 1.25, 0.02, 0.06, 42),
    ("downloader", "threading", 16, "warm", None, 0.115, 0.03, 0.30, 58),
    ("downloader", "thread_pool", 8, "warm", None, 0.170, 0.03, 0.30, 57),
    ("downloader", "thread_pool", 8, "cold", None, 0.16793, 0.03, 0.30, 57),
    ("downloader", "process_pool", 8, "warm", "fork", 0.180, 0.03, 0.42, 330),
    ("downloader", "process_pool", 8, "cold", "fork", 0.260, 0.03, 0.60, 330),
    ("downloader", "process_pool", 32, "warm", "fork", 0.114, 0.03, 0.90, 1585.7),
    ("processor", "sequential", 1, "warm", None, 2.00, 0.01, 1.00, 38),
    ("processor", "thread_pool", 2, "warm", None, 2.02, 0.01, 1.00, 39),
    ("processor", "process_pool", 2, "warm", "fork", 1.05, 0.002, 1.95, 112, {"rounds": 10}),
    ("processor", "process_pool", 2, "cold", "fork", 1.06, 0.002, 1.93, 112, {"rounds": 10}),
    ("hashing", "sequential", 1, "warm", None, 0.420, 0.02, 1.00, 80),
    ("hashing", "thread_pool", 2, "warm", None, 0.246, 0.03, 1.90, 85),
    ("hashing", "process_pool", 2, "warm", "fork", 0.309, 0.04, 1.80, 230),
    ("tiny_tasks", "sequential", 1, "warm", None, 0.0042, 0.04, 1.00, 36),
    ("tiny_tasks", "thread_pool", 2, "warm", None, 0.0135, 0.05, 1.20, 36),
    ("tiny_tasks", "process_pool", 2, "warm", "fork", 0.0098, 0.06, 1.40, 71),
]


def machine_info(version: str, *, free_threaded: bool, build: list[str]) -> dict:
    return {
        "node": "bench-vm-2cpu",
        "processor": "",
        "machine": "x86_64",
        "python_compiler": "GCC 12.2.0",
        "python_implementation": "CPython",
        "python_implementation_version": version,
        "python_version": version,
        "python_build": build,
        "release": "6.1.0-28-cloud-amd64",
        "system": "Linux",
        "cpu": {
            "python_version": f"{version}.final.0 (64 bit)",
            "cpuinfo_version": [9, 0, 0],
            "cpuinfo_version_string": "9.0.0",
            "arch": "X86_64",
            "bits": 64,
            "count": 2,
            "arch_string_raw": "x86_64",
            "vendor_id_raw": "GenuineIntel",
            "brand_raw": "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz",
            "hz_advertised_friendly": "2.8000 GHz",
            "hz_actual_friendly": "2.7933 GHz",
            "l2_cache_size": 2621440,
            "flags": ["avx", "avx2", "sse4_2"],
        },
        "usable_cpus": 2,
        "gil_enabled": not free_threaded,
        "free_threaded_build": free_threaded,
        "default_start_method": "fork",
    }


def round_times(rng: random.Random, median: float, cv: float, rounds: int) -> list[float]:
    """Rounds around `median` with a right tail (a benchmark is never faster than its floor)."""
    times = [median * (1 + abs(rng.gauss(0, cv)) * (1 if rng.random() < 0.6 else -0.5)) for _ in range(rounds)]
    shift = median - sorted(times)[rounds // 2]
    return [max(t + shift, median * 0.5) for t in times]


def per_core_samples(rng: random.Random, duration: float, cores: float) -> list:
    samples, count = [], max(3, min(40, math.ceil(duration / INTERVAL_S)))
    for index in range(count):
        total = min(200.0, cores * 100 + rng.uniform(1, 5))
        share = rng.uniform(0.25, 0.75) if cores < 1.3 else 0.5 + rng.uniform(-0.03, 0.03)
        first = min(100.0, total * share)
        samples.append([round(index * INTERVAL_S, 3), [round(first, 1), round(min(100.0, total - first), 1)]])
    return samples


def cpu_split(variant: str, mode: str, start_method: str | None, cpu: float, median: float) -> dict:
    """How the benchmark splits `cpu` (= self + max(worker, reaped)): threads are this process's own CPU;
    process workers report their chunks; a cold fork/spawn pool's workers are also reaped inside the
    timing, with their start-up on top; forkserver workers are not our children, so nothing is reaped."""
    if start_method is None:
        return {"self_cpu_seconds": round(cpu, 4), "worker_cpu_seconds": 0.0, "reaped_children_cpu_seconds": 0.0}
    own = 0.02 * median
    if mode == "cold" and start_method != "forkserver":
        reaped = cpu - own
        return {"self_cpu_seconds": round(own, 4), "worker_cpu_seconds": round(reaped - 0.03 * median, 4),
                "reaped_children_cpu_seconds": round(reaped, 4)}
    return {"self_cpu_seconds": round(own, 4), "worker_cpu_seconds": round(cpu - own, 4), "reaped_children_cpu_seconds": 0.0}


def benchmark(rng: random.Random, row: tuple, *, warmup_rounds: int | None, uss: bool) -> dict:
    workload, variant, workers, mode, start_method, median, cv, cores, rss_mib, *rest = row
    overrides = rest[0] if rest else {}
    size, params, bound = WORKLOADS[workload]
    size = overrides.get("items", size)
    rounds = overrides.get("rounds", 5)
    chunksize = overrides.get("chunksize", size if variant == "sequential" else math.ceil(size / (workers * 4)))
    ideal = math.ceil(size / workers) * LATENCY_S if bound == "I/O" else None
    trap = overrides.get("trap")
    stats = Stats()
    for duration in round_times(rng, median, cv, rounds):
        stats.update(duration)
    processes = 1 + (workers if start_method else 0) + (start_method == "forkserver")
    parts = [variant, str(workers), mode] + ([start_method] if start_method else []) + ([f"chunksize{chunksize}"] if trap else [])
    name = f"test_{workload}[{'-'.join(parts)}]"
    extra_info = {
        "workload": workload, "size": size, "size_label": "standard",
        "variant": variant, "workers": workers, "start_method": start_method, "chunksize": chunksize, "mode": mode,
        "identical": overrides.get("identical", True), "bound": bound, "rounds": rounds,
        "cpu_seconds": round(cores * median, 4), "wall_seconds": round(median, 4), "cores_used": cores,
        **cpu_split(variant, mode, start_method, cores * median, median),
        "peak_rss_bytes": int(rss_mib * MIB), "peak_uss_bytes": int(rss_mib * 0.8 * MIB) if uss else None,
        "peak_threads": 2 + (workers if start_method is None and variant != "sequential" else 1),
        "peak_processes": processes,
        "sampler_cpu_seconds": round(0.0004 * max(3, median / INTERVAL_S), 4), "interval_s": INTERVAL_S,
        "per_core": {"scope": "system-wide", "cpus": [0, 1], "samples": per_core_samples(rng, median, cores)},
        "items": size, "params": params, "trap": trap, "ideal_s": ideal, "seed": SEED,
    }
    if warmup_rounds is not None:
        extra_info["warmup_rounds"] = warmup_rounds
    stats_dict = stats.as_dict()
    stats_dict["data"] = stats.data
    stats_dict["iterations"] = 1
    return {
        "group": f"{workload}-standard",
        "name": name,
        "fullname": f"tests/benchmarks/test_{workload}.py::{name}",
        "params": {"variant": variant, "workers": workers, "mode": mode, "start_method": start_method},
        "param": "-".join(parts),
        "extra_info": extra_info,
        "options": {
            "disable_gc": False, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0,
            "min_time": 5e-06, "precision": None, "confidence": None, "warmup": False,
        },
        "stats": stats_dict,
    }


def document(rows, *, seed, version, free_threaded, build, when, warmup_rounds, uss) -> dict:
    rng = random.Random(seed)
    return {
        "machine_info": machine_info(version, free_threaded=free_threaded, build=build),
        "commit_info": {
            "id": "5f3c2a1e9b7d4c6a8e0f1b2d3c4a5e6f7a8b9c0d", "time": "2025-11-20T10:12:00+00:00",
            "author_time": "2025-11-20T10:12:00+00:00", "dirty": False, "project": "concurrency-lab", "branch": "main",
        },
        "benchmarks": [benchmark(rng, row, warmup_rounds=warmup_rounds, uss=uss) for row in rows],
        "datetime": when,
        "version": "5.3.1",
    }


def minimal_document() -> dict:
    """An older or partial file: a sequential and a pool row with only the core extra_info, and
    one benchmark with no extra_info at all (someone's unrelated benchmark)."""
    def row(name, variant, workers, median, extra=True):
        return {
            "group": None, "name": name, "fullname": f"tests/test_old.py::{name}", "params": None, "param": None,
            "extra_info": {"workload": "processor", "variant": variant, "workers": workers, "size": 1000} if extra else {},
            "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0, "min_time": 5e-06,
                        "warmup": False},
            "stats": {"min": median * 0.98, "max": median * 1.05, "mean": median * 1.01, "stddev": median * 0.02, "rounds": 5,
                      "median": median, "iqr": median * 0.03, "q1": median * 0.99, "q3": median * 1.02, "iqr_outliers": 0,
                      "stddev_outliers": 1, "outliers": "1;0", "ld15iqr": median * 0.98, "hd15iqr": median * 1.05,
                      "ops": 1 / median, "total": median * 5.05, "iterations": 1},
        }
    return {
        "machine_info": {"node": "old-laptop", "processor": "x86_64", "machine": "x86_64", "python_implementation": "CPython",
                         "python_version": "3.10.12", "system": "Linux"},
        "commit_info": {"id": "unversioned", "dirty": False, "project": "concurrency-lab", "branch": "(unknown)"},
        "benchmarks": [
            row("test_processor_sequential", "sequential", 1, 0.300),
            row("test_processor_pool", "process_pool", 4, 0.100),
            row("test_unrelated", None, None, 0.001, extra=False),
        ],
        "datetime": "2024-03-01T09:00:00+00:00",
        "version": "4.0.0",
    }


def empty_document() -> dict:
    """A run where every benchmark was skipped (e.g. no free-threaded Python on that machine)."""
    return {"machine_info": machine_info("3.14.0", free_threaded=True, build=["main", "Oct  7 2025 00:00:00"]),
            "commit_info": {"id": "unversioned", "dirty": False}, "benchmarks": [],
            "datetime": "2025-11-20T12:00:00+00:00", "version": "5.3.1"}


def hostile_document() -> dict:
    """User-controlled strings that must come out escaped in every report."""
    evil = "<script>alert(1)</script>"
    rows = [("processor", "sequential", 1, "warm", None, 1.0, 0.01, 1.0, 40),
            ("processor", evil, 2, "warm", "fork", 0.6, 0.02, 1.9, 90),
            ("processor", evil, 2, "warm", "fork", 0.9, 0.02, 1.9, 90, {"trap": '"><img src=x onerror=alert(2)>'})]
    doc = document(rows, seed=666, version="3.12.0", free_threaded=False, build=["main", "x"],
                   when="2025-11-20T13:00:00+00:00", warmup_rounds=1, uss=True)
    doc["machine_info"]["python_version"] = "3.12.0<img src=x onerror=alert(3)>"
    doc["machine_info"]["cpu"]["brand_raw"] = "<b>Evil CPU</b> & co"
    doc["benchmarks"][1]["name"] = "test_processor[<script>alert(4)</script>]"
    doc["benchmarks"][1]["extra_info"]["start_method"] = "<i>fork</i>"
    for bench in doc["benchmarks"]:
        bench["extra_info"]["size_label"] = "std<u>&amp;</u>"
    return doc


def main() -> None:
    files = {
        "run_old_minimal.json": minimal_document(),
        "run_empty.json": empty_document(),
        "run_hostile.json": hostile_document(),
        "run_py311.json": document(
            PY311_ROWS, seed=311, version="3.11.9", free_threaded=False, build=["main", "Apr  2 2024 08:25:04"],
            when="2025-11-20T10:30:12.402113+00:00", warmup_rounds=1, uss=True),
        "run_py313.json": document(
            PY313T_ROWS, seed=313, version="3.13.1", free_threaded=True, build=["main", "Dec  4 2024 08:54:41"],
            when="2025-11-20T11:02:47.118305+00:00", warmup_rounds=None, uss=False),
        "run_newcomer.json": document(
            NEWCOMER_ROWS, seed=16, version="3.11.9", free_threaded=False, build=["main", "Apr  2 2024 08:25:04"],
            when="2026-12-01T09:00:00+00:00", warmup_rounds=1, uss=True),
    }
    for name, content in files.items():
        (DATA / name).write_text(json.dumps(content, indent=4) + "\n", encoding="utf-8")
        print(f"wrote {DATA / name}")


if __name__ == "__main__":
    main()
