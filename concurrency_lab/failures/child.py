"""The failure child's entry point: one failure probe, run in a process of its own by the runner, a JSON
spec on stdin, one `FailureOutcome` as JSON on stdout. Whatever the case does to this process and its workers, the
run that started it only ever waits for it a bounded time.

    python -m concurrency_lab.failures.child < '{"module": ..., "qualname": ..., "case": ..., "sys_path": [...]}'
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

from ..core.helper_process import exit_with_parent
from ..core.process_tree import descendants, running, stop_processes
from ..measure.machine import gil_enabled
from ..records.failure_outcomes import FailureOutcome
from ..variants.base import Variant
from .cases import CASES_BY_NAME, PROBE_WORKERS, FailureCase, first_line, qualified_name

LINGER_S = 0.1  # the moment after the call before counting what it left running
LEFT_RUNNING_BOUND_S = 5.0  # how long what it left may go on by itself before processes are killed
#: The line written to stdout just before the call: a probe process that ends after it and before its outcome
#: line ended during the call (the task's os._exit or signal), not while starting or reporting.
CALLING = "calling"
_POLL_S = 0.01


def measure(cls: type[Variant], case: FailureCase, calling: Callable[[], None] = lambda: None) -> FailureOutcome:
    """Call `map` once, cold, as the case says (`calling` just before); time it and count what it left behind.
    Processes it left are killed afterwards; threads it left that never end are the caller's to outlive (exit)."""
    expected = case.expect(cls)
    variant = cls(workers=PROBE_WORKERS)
    me = psutil.Process()
    threads_before = set(threading.enumerate())
    error, results = None, None
    calling()
    started = time.perf_counter()
    try:
        results = case.call(variant)
    except BaseException as exc:  # noqa: BLE001 - what map raises is the measurement, a SystemExit that escapes it too
        error = exc
    seconds = time.perf_counter() - started
    time.sleep(LINGER_S)
    processes = descendants(me.pid, services=False)  # multiprocessing's forkserver and trackers are not left work
    # A daemon thread cannot keep the caller alive: it is a library's idle process-wide helper (Dask's offload
    # thread), as multiprocessing's forkserver is among processes. Non-daemon threads are what a timeout leaves.
    threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive() and not t.daemon]
    left_running_s = _wait_until_gone(processes, threads, started + seconds) if processes or threads else None
    stop_processes(processes, grace=0)
    stopped = getattr(error, "stopped", None)
    unfinished = getattr(error, "unfinished", None)
    return FailureOutcome(
        variant=cls.name, case=case.name, traits=cls.traits(gil_enabled()), expected=expected.name,
        error=None if error is None else qualified_name(type(error)), documented=expected.met_by(error, results),
        message=None if error is None else first_line(error),
        cause=None if error is None or error.__cause__ is None else qualified_name(type(error.__cause__)),
        stopped=stopped if isinstance(stopped, bool) else None,
        unfinished=unfinished if isinstance(unfinished, int) else None,
        seconds=seconds, returned=True, processes_left=len(processes), threads_left=len(threads),
        left_running_s=left_running_s, said=results if isinstance(results, str) else None,
    )


def _wait_until_gone(processes: list[psutil.Process], threads: list[threading.Thread], since: float) -> float | None:
    """Seconds from `since` (perf_counter) until every one has ended; None if some outlive the bound."""
    give_up = time.perf_counter() + LEFT_RUNNING_BOUND_S
    while any(running(p) for p in processes) or any(t.is_alive() for t in threads):
        if time.perf_counter() > give_up:
            return None
        time.sleep(_POLL_S)
    return time.perf_counter() - since


def import_class(module: str, qualname: str) -> type[Variant]:
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def main() -> None:
    exit_with_parent()  # a run that was killed leaves no probe behind
    spec = json.loads(sys.stdin.read())
    sys.path[:] = list(dict.fromkeys([*spec["sys_path"], *sys.path]))  # import what the run imports
    outcome = measure(import_class(spec["module"], spec["qualname"]), CASES_BY_NAME[spec["case"]], _say_calling)
    sys.stdout.write(json.dumps(outcome.to_dict()) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # a thread the case left that never ends must not keep the probe alive


def _say_calling() -> None:
    sys.stdout.write(CALLING + "\n")
    sys.stdout.flush()  # before the call: a task may end this process without flushing anything


if __name__ == "__main__":
    main()
