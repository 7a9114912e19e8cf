"""Fixtures shared by the suite: workload environments (the loopback server) started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from concurrency_lab.workloads import environments as workload_environments


@pytest.fixture(scope="session")
def environments() -> Iterator[dict[str, Any]]:
    with workload_environments() as started:
        yield started


@pytest.fixture(scope="session")
def lab_server(environments: dict[str, Any]) -> Any:
    """The lab's loopback HTTP server, in its own process (it is the downloader's environment)."""
    return environments["downloader"]
