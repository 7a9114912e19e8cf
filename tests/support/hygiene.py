"""Test hygiene: what a test leaves behind. Every child process and non-daemon thread a test starts
must be gone when it ends, and those kept for the session must be gone when the session ends.

`tests/conftest.py` wires these into fixtures. Under pytest-xdist each worker checks its own
descendants (the controller runs no tests).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psutil
import pytest

from concurrency_lab.core import process_tree

#: How long leftovers may take to exit before a test fails: a pool's workers exit a few hundred ms
#: after shutdown, a forkserver's a little later; a loaded 2-core CI machine can take seconds.
GRACE_SECONDS = 5.0
FIRST_POLL_SECONDS = 0.01  # most leftovers are gone at once; the interval then doubles, up to:
LAST_POLL_SECONDS = 0.2
#: Then, after SIGTERM, how long leftovers get before SIGKILL.
STOP_GRACE_SECONDS = 1.0
#: pytest-timeout's thread method times each test with a (non-daemon) timer thread named so.
TIMEOUT_TIMER_PREFIX = "pytest_timeout "
_SHOWN_CMDLINE_CHARS = 200


def descendants() -> list[psutil.Process]:
    """Every running process below this one."""
    return process_tree.descendants(os.getpid())


def is_multiprocessing_helper(process: psutil.Process) -> bool:
    """A forkserver or resource tracker this process started (multiprocessing's or loky's, see
    `process_tree.is_service`): they serve every later pool of the process and end with it, so they may
    outlive a test and the session; the pool workers a forkserver forks share its command line, and are
    checked like any child."""
    return process_tree.is_service(process, os.getpid())


def describe_process(process: psutil.Process) -> str:
    try:
        cmdline = " ".join(process.cmdline()) or f"[{process.name()}]"
    except psutil.Error:
        cmdline = "(exited while being described)"
    if len(cmdline) > _SHOWN_CMDLINE_CHARS:
        cmdline = cmdline[:_SHOWN_CMDLINE_CHARS] + "..."
    return f"pid {process.pid}: {cmdline}"


def stray_threads(known: Iterable[threading.Thread] = ()) -> list[threading.Thread]:
    """Non-daemon threads still running, other than the main thread, pytest-timeout's timers and `known` ones."""
    known = {*known, threading.main_thread()}
    return [thread for thread in threading.enumerate() if not thread.daemon and thread.is_alive() and thread not in known
            and not thread.name.startswith(TIMEOUT_TIMER_PREFIX)]


def pids_held_by(value: Any) -> set[int]:
    """The processes a fixture's value stands for: its own ``pid``, or, for a mapping (the workload
    environments, started lazily on first use), each value's ``pid``."""
    values = list(value.values()) if isinstance(value, dict) else [value]
    return {pid for item in values if isinstance(pid := getattr(item, "pid", None), int)}


@dataclass
class LongLived:
    """Processes allowed to outlive a test: pids registered outright, and sources asked when a test
    ends (a session fixture whose helpers start on first use)."""

    pids: set[int] = field(default_factory=set)
    sources: list[Callable[[], Iterable[int]]] = field(default_factory=list)

    def allow(self, pid: int) -> None:
        self.pids.add(pid)

    def allow_from(self, source: Callable[[], Iterable[int]]) -> None:
        self.sources.append(source)

    def current(self) -> set[int]:
        return self.pids.union(*(source() for source in self.sources))


class HeldByFixtures:
    """A pytest plugin: the processes a session or module fixture's value holds (see `pids_held_by`) may
    outlive the test that started them, until the fixture is torn down.

    A plugin, not a conftest hook: pytest asks a session fixture's hooks of the root folder's conftest only.
    """

    def __init__(self, long_lived: LongLived) -> None:
        self.long_lived = long_lived

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
        value = yield
        if fixturedef.scope != "function" and (isinstance(value, dict) or hasattr(value, "pid")):
            source = lambda: pids_held_by(value)  # noqa: E731 - asked at each check: a dict fills on first use
            self.long_lived.allow_from(source)
            request.addfinalizer(lambda: self.long_lived.sources.remove(source))
        return value


@dataclass(frozen=True)
class Leftovers:
    processes: list[psutil.Process]
    threads: list[threading.Thread]
    grace: float  # seconds they were given to exit

    def __bool__(self) -> bool:
        return bool(self.processes or self.threads)

    def describe(self, when: str) -> str:
        """Which of them were running `when`, one line each (call it before stopping them)."""
        processes, threads = len(self.processes), len(self.threads)
        lines = [f"{when}, {processes} child process{'' if processes == 1 else 'es'} and {threads} non-daemon "
                 f"thread{'' if threads == 1 else 's'} were still running after a grace of {self.grace:g} s:"]
        lines += [f"  process {describe_process(process)}" for process in self.processes]
        lines += [f"  thread {thread.name!r}" for thread in self.threads]
        return "\n".join(lines)


def _new_processes(before: set[int], allowed: set[int]) -> list[psutil.Process]:
    everything = descendants()
    known = before.union(*(_subtree(process) for process in everything if process.pid in allowed))
    return [process for process in everything if process.pid not in known and not is_multiprocessing_helper(process)]


def _subtree(process: psutil.Process) -> set[int]:
    """`process` and whatever runs below it (a helper kept for the session, with its own workers)."""
    try:
        return {process.pid, *(child.pid for child in process.children(recursive=True))}
    except psutil.Error:
        return {process.pid}


def wait_for_leftovers(before_pids: set[int], before_threads: set[threading.Thread],
                       allowed: Callable[[], set[int]], grace: float | None = None) -> Leftovers:
    """What is still running, and was not before, after up to `grace` seconds (default `GRACE_SECONDS`),
    polled, not slept."""
    grace = GRACE_SECONDS if grace is None else grace
    deadline, interval = time.monotonic() + grace, FIRST_POLL_SECONDS
    while True:
        found = Leftovers(_new_processes(before_pids, allowed()), stray_threads(before_threads), grace)
        if not found or time.monotonic() >= deadline:
            return found
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(2 * interval, LAST_POLL_SECONDS)


def stop_processes(processes: Iterable[psutil.Process]) -> None:
    """SIGTERM, then SIGKILL what is left after `STOP_GRACE_SECONDS`: a leak fails its own test, not the next ones."""
    process_tree.stop_processes(processes, STOP_GRACE_SECONDS)
