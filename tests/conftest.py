"""Fixtures shared by the suite: workload environments (the loopback server) started once per session,
and the hygiene every test is held to: no child process or non-daemon thread outlives it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The suite's helpers (tests/support/) import as top-level modules, here and in every child process the
# tests start with this folder on its path.
sys.path.insert(0, str(Path(__file__).parent / "support"))

import hygiene  # found through the line above

from concurrency_lab.workloads import environments as workload_environments

_LONG_LIVED = pytest.StashKey[hygiene.LongLived]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_LONG_LIVED] = long_lived = hygiene.LongLived()
    config.pluginmanager.register(hygiene.HeldByFixtures(long_lived), "lab-held-by-fixtures")


@pytest.fixture(scope="session")
def allow_long_lived(pytestconfig: pytest.Config) -> Callable[[int], None]:
    """``allow_long_lived(pid)``: that process (and what it runs) may outlive the test that started it;
    it must still be gone when the session ends. Processes held by a session or module fixture's value
    (its ``pid``, or each of a dict's values' ``pid``) and multiprocessing's forkserver and resource
    tracker are allowed without it."""
    return pytestconfig.stash[_LONG_LIVED].allow


@pytest.fixture(autouse=True, scope="session")
def _nothing_left_when_the_session_ends(pytestconfig: pytest.Config) -> Iterator[None]:
    """Set up first, so torn down last: after every session fixture has stopped its helpers."""
    threads_before = set(threading.enumerate())
    yield
    left = hygiene.wait_for_leftovers(set(), threads_before, allowed=set)
    if left:
        message = left.describe("When the session ended")
        hygiene.stop_processes(left.processes)
        pytest.fail(message, pytrace=False)


@pytest.fixture(autouse=True)
def _nothing_left_by_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Torn down after the test's own function fixtures: what they stop is not a leak."""
    pids_before = {process.pid for process in hygiene.descendants()}
    threads_before = set(threading.enumerate())
    yield
    long_lived = request.config.stash[_LONG_LIVED]
    left = hygiene.wait_for_leftovers(pids_before, threads_before, allowed=long_lived.current)
    if left:
        message = left.describe(f"{request.node.nodeid} leaked: when it ended")
        hygiene.stop_processes(left.processes)  # so that the tests after it start clean
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def environments() -> Iterator[dict[str, Any]]:
    with workload_environments() as started:
        yield started


@pytest.fixture(scope="session")
def lab_server(environments: dict[str, Any]) -> Any:
    """The lab's loopback HTTP server, in its own process (it is the downloader's environment)."""
    return environments["downloader"]
