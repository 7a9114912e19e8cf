"""Fixtures shared by the suite: workload environments (the loopback server) started once per session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from concurrency_lab.workloads import get_workload


class _Environments(dict):
    """workload name -> what its `environment()` yields, entered on first use, left at session end."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        super().__init__()
        self._stack = stack

    def __missing__(self, name: str) -> Any:
        self[name] = self._stack.enter_context(get_workload(name).environment())
        return self[name]


@pytest.fixture(scope="session")
def environments() -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        yield _Environments(stack)


@pytest.fixture(scope="session")
def lab_server(environments: dict[str, Any]) -> Any:
    """The lab's loopback HTTP server, in its own process (it is the downloader's environment)."""
    return environments["downloader"]
