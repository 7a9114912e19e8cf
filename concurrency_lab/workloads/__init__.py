"""The registry of workloads: every job the lab runs with every variant."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

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


class _Environments(dict):
    """workload name -> what its `environment()` yields, entered on first use."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        super().__init__()
        self._stack = stack

    def __missing__(self, name: str) -> Any:
        self[name] = self._stack.enter_context(get_workload(name).environment())
        return self[name]


@contextlib.contextmanager
def environments() -> Iterator[dict[str, Any]]:
    """Each workload's environment (e.g. the downloader's server process), started once on first
    use and stopped when the block ends: for a test session or a benchmark run."""
    with contextlib.ExitStack() as stack:
        yield _Environments(stack)


__all__ = ["SIZE_LABELS", "WORKLOAD_NAMES", "Workload", "environments", "get_workload"]
