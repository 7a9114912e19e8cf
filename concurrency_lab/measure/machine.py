"""Facts about this machine and interpreter that a measurement depends on, as plain JSON values."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
from typing import Any

import psutil

from ..cpus import cpu_limits, default_start_method, logical_cpus


def gil_enabled() -> bool:
    """Whether the GIL is on *now*: on a free-threaded build, importing a C extension that does not
    declare support turns it back on, so ask after the imports, not at start-up."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return bool(is_enabled()) if is_enabled is not None else True


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):  # Windows, or the OS would not say
        return None


def machine_info() -> dict[str, Any]:
    """Everything a report or pytest-benchmark's ``machine_info`` needs to know about where it ran.

    Read at call time: ``gil_enabled`` and ``load_average`` change while the process runs. The CPU
    limits are read once, so ``usable_cpus`` (`concurrency_lab.cpus.usable_cpus`, what every default
    worker count uses) agrees with the limits reported beside it.
    """
    return {
        **cpu_limits(),  # usable_cpus, affinity_cpus, cgroup_cpu_quota
        "logical_cpus": logical_cpus(),
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
