"""What every process variant shares: start methods, picklable work, worker processes that end
with their parent, and the errors a dead worker or an unpicklable item gives."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterable
from typing import Any

from ..core.cpus import START_METHODS, default_start_method
from ..core.errors import BrokenPool, NotPicklable
from ..core.helper_process import exit_with_parent
from ..core.traits import Kind
from .base import Variant
from .checks import defined_in_unimportable_main
from .chunks import PICKLING_FAILURES, is_callers_interrupt
from .serializers import PLAIN_DATA, serializer_dumps, unsendable_item

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
    chunks_per_worker = 4

    def mp_context(self) -> multiprocessing.context.BaseContext:
        """The multiprocessing context of `effective_start_method`, leaving the process-wide one unset
        (``multiprocessing.get_context(None)`` would fix it, and a later ``set_start_method`` raise)."""
        return multiprocessing.get_context(self.effective_start_method)

    @property
    def effective_start_method(self) -> str:
        """`start_method`, or the one a pool made without a context would use."""
        return self.start_method or default_start_method()

    def check_task(self, task: object) -> None:
        super().check_task(task)
        try:
            serializer_dumps(self.serializer)(task)
        except PICKLING_FAILURES as exc:  # a __reduce__ may call sys.exit
            if is_callers_interrupt(exc):
                raise
            raise NotPicklable(self._unsendable_task(task, exc)) from exc
        if self.serializer == "pickle" and self.effective_start_method != "fork" and defined_in_unimportable_main(task):
            # Pickling passed (by reference), but a spawn or forkserver worker cannot import
            # __main__ from a REPL or `python -c`: Pool would restart failing workers forever.
            # (cloudpickle sends functions of __main__ by value: nothing to import.)
            raise NotPicklable(
                f"{task!r} is defined in an interactive __main__, which {self.effective_start_method!r} "
                f"workers cannot import; move it into a module, or use start_method='fork'"
            )

    def _unsendable_task(self, task: object, exc: BaseException) -> str:
        problem = f"{task!r} is not ({type(exc).__name__}: {exc})"
        if self.serializer == "cloudpickle":
            return (f"variant {self.name!r} sends the task to other processes with cloudpickle, which carries lambdas "
                    f"and closures but not what cannot leave a process, and {problem}: let the task hold no lock, "
                    "generator or other live object (make it inside the task), or use a thread variant, which shares memory")
        return (f"variant {self.name!r} sends the task to other processes, so it must be picklable, and {problem}: "
                "make it a module-level function (not a lambda, a closure or a bound method of a local object), or "
                "use a thread variant, which shares memory")

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


__all__ = ["PLAIN_DATA", "ProcessVariant", "describe_exit", "serializer_dumps", "unsendable_item", "worker_started"]
