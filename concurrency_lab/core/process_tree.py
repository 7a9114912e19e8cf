"""Stopping processes one way: find a process's tree, signal it, give it a grace, SIGKILL what is left, reap.

Used by the process variants (a pool's workers), the helper processes, the failure probes, advise's child
and the tests' leak check, so that each states only its grace.

psutil is imported by the functions that read a tree, not here: every pool worker imports the variants,
which stop processes by their handles only (tests/test_cpus.py keeps it so).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    import psutil

# multiprocessing starts its helpers with `python -c "<this>; main(...)"`; we know them by that text.
FORKSERVER_MARK = "multiprocessing.forkserver import main"
RESOURCE_TRACKER_MARK = "multiprocessing.resource_tracker import main"
#: loky's own resource tracker, started the same way, once per process that uses loky (joblib's copy of
#: loky runs it as `joblib.externals.loky.backend...`): a service like multiprocessing's, not work.
LOKY_RESOURCE_TRACKER_MARK = "loky.backend.resource_tracker import main"
RESOURCE_TRACKER_MARKS = (RESOURCE_TRACKER_MARK, LOKY_RESOURCE_TRACKER_MARK)

WORK = "work"
FORKSERVER = "forkserver"
RESOURCE_TRACKER = "resource_tracker"

#: After SIGKILL, how long a process found in a tree may take to exit before it is left as it is: SIGKILL
#: cannot be ignored, so only one stuck in the kernel (an uninterruptible read) outlives this.
KILL_WAIT_S = 5.0
#: Waiting polls, from this interval (most processes exit at once) doubling up to the last.
_FIRST_POLL_S = 0.001
_LAST_POLL_S = 0.02

#: What `stop_processes` takes: a process found in a tree, or a handle the caller started it with.
Stoppable: TypeAlias = "psutil.Process | subprocess.Popen[Any] | BaseProcess"


def role_of(cmdline: Sequence[str]) -> str:
    """`FORKSERVER`, `RESOURCE_TRACKER` or `WORK`, from a process's command line."""
    text = " ".join(cmdline)
    if FORKSERVER_MARK in text:
        return FORKSERVER
    if any(mark in text for mark in RESOURCE_TRACKER_MARKS):
        return RESOURCE_TRACKER
    return WORK


def running(process: psutil.Process) -> bool:
    """Still running: a zombie has exited (it holds no CPU, memory or port, only a pid until reaped)."""
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def is_service(process: psutil.Process, root: int) -> bool:
    """A forkserver or resource tracker that process `root` started (multiprocessing's or loky's): started
    once, serving every later pool of that process, and ending with it. Not the workers a forkserver forks,
    though they share its command line: they are its children, not `root`'s."""
    import psutil

    try:
        return process.ppid() == root and role_of(process.cmdline()) != WORK
    except psutil.Error:
        return False


def descendants(root: int, *, services: bool = True) -> list[psutil.Process]:
    """Every running process below process `root`; without its service processes (`is_service`) when
    `services` is False: what a pool or a task left, not what multiprocessing keeps for the process."""
    import psutil

    try:
        below = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return []
    return [p for p in below if running(p) and (services or not is_service(p, root))]


def stop_tree(root: Stoppable, grace: float) -> None:
    """`stop_processes` on `root` and every process below it.

    The tree is found before anything is signalled: once `root` has exited, its children belong to init
    and are no longer found below it.
    """
    if root.pid is None:  # a multiprocessing.Process never started
        return
    stop_processes([root, *descendants(root.pid)], grace)


def stop_processes(processes: Iterable[Stoppable], grace: float) -> None:
    """SIGTERM each of `processes` still running, up to `grace` seconds for them all to exit, then SIGKILL
    what is left; ``grace=0`` sends SIGKILL at once (a tree being torn down: nothing is wanted from it).

    Reaped through the handle where the caller passes one (`subprocess.Popen`, `multiprocessing.Process`),
    waited for without bound after SIGKILL, as the handle's own ``wait``/``join`` would. A process found in a
    tree (`psutil.Process`) is waited for until it has exited (a zombie has), at most `KILL_WAIT_S` after
    SIGKILL, and left for its parent to reap: reaping another's child here would take the exit status its
    handle reports (and a multiprocessing handle that never sees it would signal the pid once reused).
    """
    members = [p for p in processes if p.pid is not None]
    if grace > 0:
        _signal(members, signal.SIGTERM)
        members = _wait(members, grace)
    _signal(members, signal.SIGKILL)
    left = _wait(members, KILL_WAIT_S)
    for process in left:
        if isinstance(process, BaseProcess):
            process.join()
        elif isinstance(process, subprocess.Popen):
            process.wait()


def _signal(processes: Iterable[Stoppable], signum: signal.Signals) -> None:
    for process in processes:
        if _exited(process):
            continue
        try:
            if isinstance(process, BaseProcess):  # it signals only a child it has not reaped yet
                process.kill() if signum == signal.SIGKILL else process.terminate()
            else:
                process.send_signal(signum)
        except ProcessLookupError:  # exited meanwhile
            pass
        except Exception as exc:  # psutil.NoSuchProcess for a process found in a tree: exited meanwhile
            if not _is_psutil_error(exc):
                raise


def _is_psutil_error(exc: BaseException) -> bool:
    psutil = sys.modules.get("psutil")  # imported already if a psutil.Process was passed
    return psutil is not None and isinstance(exc, psutil.Error)


def _wait(processes: list[Stoppable], seconds: float) -> list[Stoppable]:
    """Those of `processes` still running after up to `seconds`, polled."""
    deadline, interval = time.monotonic() + seconds, _FIRST_POLL_S
    while True:
        left = [p for p in processes if not _exited(p)]
        remaining = deadline - time.monotonic()
        if not left or remaining <= 0:
            return left
        time.sleep(min(interval, remaining))
        interval = min(2 * interval, _LAST_POLL_S)
        processes = left


def _exited(process: Stoppable) -> bool:
    """Whether it has exited; a handle's own poll, which reaps it."""
    if isinstance(process, BaseProcess):
        return process.exitcode is not None
    if isinstance(process, subprocess.Popen):
        return process.poll() is not None
    return not running(process)


__all__ = ["FORKSERVER", "FORKSERVER_MARK", "KILL_WAIT_S", "LOKY_RESOURCE_TRACKER_MARK", "RESOURCE_TRACKER",
           "RESOURCE_TRACKER_MARK", "RESOURCE_TRACKER_MARKS", "WORK", "Stoppable", "descendants", "is_service",
           "role_of", "running", "stop_processes", "stop_tree"]
