"""What every process variant shares: start methods, worker processes that end with their parent, and the
error a dead worker gives. What cannot be sent is checked by the declared `serializer` (base.py, serializers.py)."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterable
from typing import Any, ClassVar

from ..core.cpus import START_METHODS, default_start_method
from ..core.errors import BrokenPool
from ..core.helper_process import exit_with_parent
from ..core.traits import Kind
from .base import Variant

#: After SIGTERM, how long stopped workers get before SIGKILL: a worker in a C call may ignore SIGTERM.
STOP_GRACE_SECONDS = 1.0
def worker_started(parent: int | None = None) -> None:
    """Every pool worker's initializer: it ends by itself when the process that started it dies, and
    leaves Ctrl-C to its parent (which stops the pool) instead of dying mid-task with a traceback.
    `parent` (default: the parent now) is that process's pid: pass it where a worker takes long to
    start (a fresh interpreter), so that one whose parent died before it got here ends too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent(parent=parent)


class ProcessVariant(Variant):
    """Base for variants whose workers are processes: a start method and Pool-like chunking."""

    kind = Kind.PROCESSES
    uses_processes = True
    start_methods = START_METHODS
    serializer = "pickle"
    stops_running_work = True
    chunks_per_worker: ClassVar[int | None] = 4

    def mp_context(self) -> multiprocessing.context.BaseContext:
        """The multiprocessing context of `effective_start_method`, leaving the process-wide one unset
        (``multiprocessing.get_context(None)`` would fix it, and a later ``set_start_method`` raise)."""
        return multiprocessing.get_context(self.effective_start_method)

    @property
    def effective_start_method(self) -> str:
        """`start_method`, or the one a pool made without a context would use."""
        return self.start_method or default_start_method()

    def broken(self, processes: Iterable[Any] = (), *, exitcodes: Iterable[int | None] = ()) -> BrokenPool:
        """The error for a pool one of whose worker `processes` (multiprocessing.Process) died, or whose
        dead workers' `exitcodes` the pool reported."""
        codes = [*(p.exitcode for p in processes), *exitcodes]
        deaths = [describe_exit(code) for code in codes if code not in (None, -signal.SIGTERM)]
        how = f" ({', '.join(deaths)})" if deaths else ""
        return BrokenPool(
            f"{self.name}: a worker process died while the pool ran tasks{how}, so the pool is broken and the "
            "results of the chunks it was running are lost; a task may call os._exit, crash, or be "
            "killed (the OOM killer sends SIGKILL)"
        )


def describe_exit(exitcode: int) -> str:
    """ "exit code 1", "killed by SIGKILL" """
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


__all__ = ["ProcessVariant", "describe_exit", "worker_started"]
