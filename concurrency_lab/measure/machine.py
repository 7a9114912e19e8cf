"""Facts about this machine and interpreter that a measurement depends on, as plain JSON values."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
from typing import Any

import psutil

from ..core.cpus import cpu_limits, default_start_method, logical_cpus
from ..core.engines import engine_versions


def gil_enabled() -> bool:
    """Whether the GIL is on *now*: on a free-threaded build, importing a C extension that does not
    declare support turns it back on, so ask after the imports, not at start-up."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return bool(is_enabled()) if is_enabled is not None else True


def gil_facts() -> dict[str, Any]:
    """The build and its GIL now: `gil_reenabled` is a free-threaded build whose GIL an import turned back on
    (the RuntimeWarning the suite lets through), as opposed to one asked for it with PYTHON_GIL=1."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    enabled = gil_enabled()
    asked = os.environ.get("PYTHON_GIL")
    return {
        "gil_enabled": enabled,
        "free_threaded_build": free_threaded,
        "python_gil_env": asked,
        "abiflags": getattr(sys, "abiflags", ""),
        "config_args": sysconfig.get_config_var("CONFIG_ARGS") or "",  # how it was built: fair pairs share these
        "gil_reenabled": free_threaded and enabled and asked != "1",
    }


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):  # Windows, or the OS would not say
        return None


def machine_info() -> dict[str, Any]:
    """Everything a report or pytest-benchmark's ``machine_info`` needs to know about where it ran.

    Read at call time: ``gil_enabled`` and ``load_average`` change while the process runs. The CPU
    limits are read once, so ``usable_cpus`` (`concurrency_lab.core.cpus.usable_cpus`, what every default
    worker count uses) agrees with the limits reported beside it.
    """
    return {
        **cpu_limits(),  # usable_cpus, affinity_cpus, cgroup_cpu_quota
        "logical_cpus": logical_cpus(),
        "physical_cpus": psutil.cpu_count(logical=False),
        **gil_facts(),
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_build": list(platform.python_build()),
        "python_compiler": platform.python_compiler(),
        "default_start_method": default_start_method(),
        "start_methods": multiprocessing.get_all_start_methods(),
        "platform": platform.platform(),
        "total_memory_bytes": psutil.virtual_memory().total,
        "load_average": load_average(),
        "engines": engine_versions(),  # the optional engines' versions (None: not installed)
    }
