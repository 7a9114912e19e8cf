"""One failure probe, run in a process of its own by the runner: a JSON spec on stdin, one
`FailureOutcome` as JSON on stdout. Whatever the case does to this process and its workers, the
run that started it only ever waits for it a bounded time.

    python -m concurrency_lab.failures.probe < '{"module": ..., "qualname": ..., "case": ..., "sys_path": [...]}'
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterable

import psutil

from ..core.helper_process import exit_with_parent
from ..measure.machine import gil_enabled
from ..measure.tree import WORK, role_of
from .cases import CASES_BY_NAME, PROBE_WORKERS, FailureCase, first_line, qualified_name
from ..records.failure_outcomes import FailureOutcome

LINGER_S = 0.1  # the moment after the call before counting what it left running
LEFT_RUNNING_BOUND_S = 5.0  # how long what it left may go on by itself before processes are killed
_POLL_S = 0.01


def worker_processes(root: psutil.Process) -> list[psutil.Process]:
    """Every live descendant of `root` but multiprocessing's service processes (children of `root`
    whose command line `measure.tree.role_of` knows as a forkserver or resource tracker: multiprocessing's and
    loky's, started once and not workers; their own children, forkserver workers, still count)."""
    try:
        descendants = root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [p for p in descendants if _alive(p) and not _is_service(p, root.pid)]


def _is_service(process: psutil.Process, root_pid: int) -> bool:
    try:
        return process.ppid() == root_pid and role_of(process.cmdline()) != WORK
    except psutil.Error:
        return False


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill(processes: Iterable[psutil.Process]) -> None:
    """SIGKILL each and wait until it has exited (a zombie has: reaping it is its parent's job, or init's)."""
    processes = list(processes)
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            pass
    give_up = time.perf_counter() + LEFT_RUNNING_BOUND_S
    while any(_alive(p) for p in processes) and time.perf_counter() < give_up:
        time.sleep(_POLL_S)


def measure(cls: type, case: FailureCase) -> FailureOutcome:
    """Call `map` once, cold, as the case says; time it and count what it left behind. Processes it
    left are killed afterwards; threads it left that never end are the caller's to outlive (exit)."""
    expected = case.expect(cls)
    variant = cls(workers=PROBE_WORKERS)
    me = psutil.Process()
    threads_before = set(threading.enumerate())
    error, results = None, None
    started = time.perf_counter()
    try:
        results = case.call(variant)
    except BaseException as exc:  # noqa: BLE001 - what map raises is the measurement, a SystemExit that escapes it too
        error = exc
    seconds = time.perf_counter() - started
    time.sleep(LINGER_S)
    processes = worker_processes(me)
    # A daemon thread cannot keep the caller alive: it is a library's idle process-wide helper (Dask's offload
    # thread), as multiprocessing's forkserver is among processes. Non-daemon threads are what a timeout leaves.
    threads = [t for t in threading.enumerate() if t not in threads_before and t.is_alive() and not t.daemon]
    left_running_s = _wait_until_gone(processes, threads, started + seconds) if processes or threads else None
    kill(p for p in processes if _alive(p))
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
    while any(_alive(p) for p in processes) or any(t.is_alive() for t in threads):
        if time.perf_counter() > give_up:
            return None
        time.sleep(_POLL_S)
    return time.perf_counter() - since


def import_class(module: str, qualname: str) -> type:
    target = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target  # type: ignore[return-value]


def main() -> None:
    exit_with_parent()  # a run that was killed leaves no probe behind
    spec = json.loads(sys.stdin.read())
    sys.path[:] = list(dict.fromkeys([*spec["sys_path"], *sys.path]))  # import what the run imports
    outcome = measure(import_class(spec["module"], spec["qualname"]), CASES_BY_NAME[spec["case"]])
    sys.stdout.write(json.dumps(outcome.to_dict()) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # a thread the case left that never ends must not keep the probe alive


if __name__ == "__main__":
    main()
