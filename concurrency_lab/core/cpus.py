"""How many CPUs the lab may use, and the worker counts and start methods that follow: each defined once."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

#: Worker counts above this are refused (by the variants and every command) before anything starts:
#: it is the usual open-file limit (``ulimit -n``), and every worker holds a pipe or a socket; a
#: typo like 10000 would otherwise start 10,000 processes. The lab's largest profile uses 64.
MAX_WORKERS = 1024
#: The start methods the lab knows, in the order it shows and benchmarks them.
START_METHODS: tuple[str, ...] = ("fork", "forkserver", "spawn")


def logical_cpus() -> int:
    """Every logical CPU of the machine, whatever this process may use."""
    return os.cpu_count() or 1


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask, or all logical CPUs where the OS has no mask for us."""
    if hasattr(os, "sched_getaffinity"):  # Linux and some BSDs
        return len(os.sched_getaffinity(0))
    try:  # Windows; imported here, not above, so that the variants (every worker imports them) stay light
        import psutil
    except ImportError:
        return logical_cpus()
    try:
        return len(psutil.Process().cpu_affinity())
    except (AttributeError, psutil.Error):  # macOS: no affinity at all
        return logical_cpus()


def interpreter_cpu_count() -> int | None:
    """What this interpreter says it may use: ``os.process_cpu_count()`` on 3.13+ (which honours
    PYTHON_CPU_COUNT and ``-X cpu_count``); None before 3.13."""
    count = getattr(os, "process_cpu_count", None)
    return None if count is None else count()


def cgroup_cpu_quota() -> float | None:
    """The cgroup's CPU quota in CPUs, None when none is set (read by `concurrency_lab.core.cgroup`)."""
    from .cgroup import cpu_quota  # here, not above: every worker process imports this module

    return cpu_quota()


def cpu_limits() -> dict[str, Any]:
    """The limits read once, under the names `machine_info` reports them by: ``usable_cpus`` (see
    `usable_cpus`), ``affinity_cpus`` and ``cgroup_cpu_quota`` (in CPUs; None: no quota)."""
    from .cgroup import usable_from

    affinity, quota, interpreter = affinity_cpus(), cgroup_cpu_quota(), interpreter_cpu_count()
    tightest = affinity if interpreter is None else min(affinity, interpreter)
    return {"usable_cpus": usable_from(tightest, quota), "affinity_cpus": affinity, "cgroup_cpu_quota": quota}


def usable_cpus() -> int:
    """CPUs the lab's workers can keep busy: the least of the affinity mask, the cgroup CPU quota
    (rounded down: 2.5 CPUs of quota keep 2 busy) and, on 3.13+, ``os.process_cpu_count()``; at least 1.

    Every default worker count and the benchmark matrix use it. PYTHON_CPU_COUNT can lower it,
    never raise it above what the machine allows.
    """
    return cpu_limits()["usable_cpus"]


def default_thread_workers() -> int:
    """Threads for I/O-bound work: ThreadPoolExecutor's own default, ``min(32, CPUs + 4)``, on the
    usable CPUs (ThreadPoolExecutor itself ignores a cgroup quota)."""
    return min(32, usable_cpus() + 4)


def available_start_methods() -> tuple[str, ...]:
    """The lab's start methods this platform has, in the lab's order."""
    here = multiprocessing.get_all_start_methods()
    return tuple(method for method in START_METHODS if method in here)


def default_start_method() -> str:
    """The start method a pool made without a context would use, without fixing it for the process.

    ``multiprocessing.get_start_method()`` and ``get_context()`` both *set* the global context when
    it is unset, after which ``set_start_method`` raises; ``get_all_start_methods()[0]`` is the
    documented default.
    """
    return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]


def worker_count_problem(count: int) -> str | None:
    """What is wrong with `count` as a number of workers (``"must be at least 1, got 0"``), or None."""
    if count < 1:
        return f"must be at least 1, got {count}"
    if count > MAX_WORKERS:
        return f"must be at most {MAX_WORKERS}, got {count}"
    return None
