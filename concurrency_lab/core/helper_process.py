"""The lab's helper processes (loopback server, resource sampler): started, stopped and diagnosed one way."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from .process_tree import stop_processes

#: After SIGTERM, how long a helper may take to exit before SIGKILL: both helpers exit in milliseconds.
STOP_GRACE_SECONDS = 5.0
#: Set by `start` in a helper's environment: the pid of the process that started it (see `follow_parent`).
PARENT_PID_VARIABLE = "CONCURRENCY_LAB_PARENT_PID"


def child_env() -> dict[str, str]:
    """This environment, with the folder holding this package first on PYTHONPATH.

    A helper runs ``python -m concurrency_lab...``: it must import this same package, installed or not.
    """
    package_parent = str(Path(__file__).resolve().parents[2])
    inherited = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, inherited]))}


def start(module: str, *args: str, stderr: IO[bytes], extra_env: Mapping[str, str] | None = None,
          **popen: Any) -> subprocess.Popen[bytes]:
    """Run ``python -m module *args`` as a helper, with `extra_env` added to `child_env()`; `popen` holds the
    other `subprocess.Popen` arguments.

    `stderr` should be a file, not a pipe: nobody reads it until something fails (see `failure`).
    Every helper starts here and ends in `stop`, so what each must share with its parent lives in these two;
    the helper calls `follow_parent` first thing, so that it never outlives this process.
    """
    env = {**child_env(), **(extra_env or {}), PARENT_PID_VARIABLE: str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", module, *args], stderr=stderr, env=env, **popen)


def stop(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM, up to `grace` seconds to exit, then SIGKILL; reaped and its pipes closed when this returns.

    Idempotent: a helper that has already exited is only reaped. ``grace=0`` is for one that has
    failed, so that its stderr is complete at once.
    """
    stop_processes([process], grace)
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):  # a broken pipe to a dead helper has nothing left to flush
                pipe.close()


def failure(role: str, process: subprocess.Popen[bytes], stderr: IO[bytes], problem: str, *,
            grace: float = STOP_GRACE_SECONDS) -> RuntimeError:
    """Stop a helper that went wrong and describe it: `role`, pid, `problem`, exit code, and all it wrote to `stderr`."""
    stop(process, grace)
    stderr.seek(0)
    text = stderr.read().decode(errors="replace").strip() or "(nothing)"
    return RuntimeError(f"{role} process {process.pid} {problem} (exit code {process.returncode}); its stderr:\n{text}")


#: How often a helper or pool worker checks that the process that started it is still there.
PARENT_POLL_SECONDS = 0.5


def exit_with_parent(poll_seconds: float = PARENT_POLL_SECONDS, parent: int | None = None) -> None:
    """In a child: exit when the process that started it dies, however it died (SIGKILL included).

    A daemon thread watches that process and ends this one at once with `os._exit` when it is gone.
    Portable to every POSIX system, and unlike PR_SET_PDEATHSIG it does not fire when only the thread
    that started the child ends. Called by pool workers' initializers and by the lab's helper processes.
    `parent` (default: the parent now) is the pid to outlive: the process that called the lab, for a
    child whose parent may be gone already, or is not that process (a forkserver's children).
    """
    parent = os.getppid() if parent is None else parent
    threading.Thread(target=_exit_when_gone, args=(parent, poll_seconds), name="lab-exit-with-parent",
                     daemon=True).start()


def _exit_when_gone(pid: int, poll_seconds: float) -> None:
    """Return never: `os._exit(1)` once process `pid` has ended (no cleanup: whoever would have waited is gone).

    The parent is watched through os.getppid(), which changes when the child is handed to another parent
    (init, a subreaper) and cannot be fooled by a new process given the same pid. Any other process (a
    forkserver worker watching the caller) through a pidfd where Linux has them, which is readable once
    that process has ended, whatever pid is reused later; elsewhere by asking every `poll_seconds` whether
    the pid exists (a reused pid would keep the child alive until that process ends)."""
    if pid == os.getppid():
        while os.getppid() == pid:
            time.sleep(poll_seconds)
        os._exit(1)
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:  # gone before it could be watched
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd_open (not Linux, Linux before 5.3, Python before 3.9): poll
        while _exists(pid):
            time.sleep(poll_seconds)
        os._exit(1)
    watcher = select.poll()  # not select.select: it refuses a descriptor numbered 1024 or more
    watcher.register(pidfd, select.POLLIN)
    watcher.poll()  # returns once that process has ended: a pidfd names it, not a later owner of its pid
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        return True
    return True


def follow_parent() -> None:
    """First thing in a helper's main: live and die with the process that started it (`start`).

    Ctrl-C at a terminal signals the whole process group, but the parent stops its helpers itself,
    in order (a sampler killed first would fail the measurement that is being unwound), so SIGINT is
    ignored here; and the helper exits within `PARENT_POLL_SECONDS` of its parent's death, however
    it died. A no-op when the module was not started by `start` (a person running the server).
    """
    parent = os.environ.pop(PARENT_PID_VARIABLE, None)
    if parent is None:
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent=int(parent))
