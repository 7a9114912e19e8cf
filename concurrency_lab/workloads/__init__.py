"""The registry of workloads: every job the lab runs with every variant."""

from __future__ import annotations

import importlib

from .base import SIZE_LABELS, Workload

# The manifest: workload name -> module defining `WORKLOAD`, imported on first use.
_MODULES = {
    "downloader": "downloader",
    "processor": "processor",
    "hashing": "hashing",
    "tiny_tasks": "tiny_tasks",
}

WORKLOAD_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_workload(name: str) -> Workload:
    """The workload registered under `name`; ValueError listing the known names otherwise."""
    if name not in _MODULES:
        raise ValueError(f"unknown workload {name!r}; available: {', '.join(WORKLOAD_NAMES)}")
    return importlib.import_module(f"{__name__}.{_MODULES[name]}").WORKLOAD


__all__ = ["SIZE_LABELS", "WORKLOAD_NAMES", "Workload", "get_workload"]
