"""Facts about this machine and interpreter that a measurement depends on, as plain JSON values."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
from typing import Any

import psutil

from .cgroup import cpu_quota, usable_from


def affinity_cpus() -> int:
    """CPUs this process may run on (its affinity mask), or all logical CPUs where there is no mask."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    try:
        return len(psutil.Process().cpu_affinity())  # Windows
    except (AttributeError, psutil.Error):
        return os.cpu_count() or 1


def gil_enabled() -> bool:
    """Whether the GIL is on *now*: on a free-threaded build, importing a C extension that does not
    declare support turns it back on, so ask after the imports, not at start-up."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return bool(is_enabled()) if is_enabled is not None else True


def default_start_method() -> str:
    """The start method a pool made without a context would use, without fixing it for the process.

    ``multiprocessing.get_start_method()`` and ``get_context()`` both *set* the global context when
    it is unset, after which ``set_start_method`` raises; ``get_all_start_methods()[0]`` is the
    documented default.
    """
    return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):  # Windows, or the OS would not say
        return None


def machine_info() -> dict[str, Any]:
    """Everything a report or pytest-benchmark's ``machine_info`` needs to know about where it ran.

    Read at call time: ``gil_enabled`` and ``load_average`` change while the process runs.
    """
    affinity = affinity_cpus()
    quota = cpu_quota()
    return {
        "usable_cpus": usable_from(affinity, quota),
        "affinity_cpus": affinity,
        "cgroup_cpu_quota": quota,
        "logical_cpus": os.cpu_count() or 1,
        "physical_cpus": psutil.cpu_count(logical=False),
        "gil_enabled": gil_enabled(),
        "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": list(platform.python_build()),
        "python_compiler": platform.python_compiler(),
        "default_start_method": default_start_method(),
        "start_methods": multiprocessing.get_all_start_methods(),
        "platform": platform.platform(),
        "total_memory_bytes": psutil.virtual_memory().total,
        "load_average": load_average(),
    }
