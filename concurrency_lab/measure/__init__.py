"""Measure what a run cost: exact CPU seconds, a resource monitor in its own process, machine facts."""

from __future__ import annotations

from .cpu_time import CpuClock, CpuReading
from .machine import machine_info
from .monitor import DEFAULT_INTERVAL_SECONDS, Measurement, ResourceMonitor
from .reading import PER_CORE_SCOPE, Reading, TreeSample

__all__ = ["DEFAULT_INTERVAL_SECONDS", "PER_CORE_SCOPE", "CpuClock", "CpuReading", "Measurement", "Reading",
           "ResourceMonitor", "TreeSample", "machine_info"]
