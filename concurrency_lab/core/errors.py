"""The errors every variant raises the same way, whatever library runs its workers."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool


class BrokenPool(BrokenProcessPool):
    """A worker process died (os._exit, a signal, a crash, the OOM killer) while the pool ran tasks.

    A `BrokenProcessPool`, as `ProcessPoolExecutor` raises, from every process variant; the results
    of the chunks that were running are lost. A warm variant replaces the pool on its next call.
    """


class MapTimeout(TimeoutError):
    """`map(..., timeout=)` ran out of time. `stopped` says whether the running work was stopped
    (worker processes are; a running thread cannot be, and goes on in the background)."""

    def __init__(self, message: str, *, timeout: float, unfinished: int, stopped: bool) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.unfinished = unfinished  # items without a result when the time ran out
        self.stopped = stopped


class NotPicklable(TypeError):
    """Something a process variant must send to or from its workers cannot be pickled."""


class TaskExit(Exception):
    """A task raised SystemExit (``sys.exit()``, ``exit()``) or its own KeyboardInterrupt.

    An `Exception`, so that a task's exit never ends the caller as if the caller itself were exiting
    (a SystemExit that escapes ``map`` ends a program that does not catch it). A worker process that
    ran the task survives it. Only a KeyboardInterrupt raised in the main thread of the calling process
    propagates unchanged: a Ctrl-C arrives that way, and the lab cannot tell it from a task's own.
    """

    def __init__(self, message: str, *, code: object = None, exit_type: str = "SystemExit") -> None:
        super().__init__(message)
        self.code = code  # SystemExit's code (None for KeyboardInterrupt, and for a bare sys.exit())
        self.exit_type = exit_type  # "SystemExit" or "KeyboardInterrupt"

    def __reduce__(self) -> tuple:
        return _rebuild_task_exit, (str(self), self.code, self.exit_type)


def _rebuild_task_exit(message: str, code: object, exit_type: str) -> TaskExit:
    return TaskExit(message, code=code, exit_type=exit_type)
