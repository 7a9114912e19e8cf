"""Measure what a run cost: exact CPU seconds, a resource monitor in its own process, machine facts."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cpu import CpuClock, CpuReading
    from .machine import machine_info
    from .monitor import DEFAULT_INTERVAL_SECONDS, Measurement, ResourceMonitor
    from .reading import PER_CORE_SCOPE, Reading, TreeSample

# Public name -> the submodule defining it, imported on first use: `concurrency_lab.cpus` (which
# every worker process imports, through the variants) needs `.cgroup` only, not psutil and the monitor.
_HOMES = {
    "CpuClock": "cpu", "CpuReading": "cpu",
    "machine_info": "machine",
    "DEFAULT_INTERVAL_SECONDS": "monitor", "Measurement": "monitor", "ResourceMonitor": "monitor",
    "PER_CORE_SCOPE": "reading", "Reading": "reading", "TreeSample": "reading",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = sorted(_HOMES)
