"""What a worker runs for one chunk, what it sends back, and how map raises the first failure."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.errors import TaskExit


@dataclass(frozen=True)
class ChunkOutcome:
    """What one worker sends back for one chunk: results in order, who computed them, at what CPU cost."""

    results: list[Any]
    pid: int
    cpu_seconds: float  # CPU time of the thread that ran the chunk, measured in that thread
    #: What the task raised for the item after the last result: an Exception, or a SystemExit or
    #: KeyboardInterrupt of the task's own, which map raises as TaskExit.
    error: BaseException | None = None
    error_traceback: str | None = None  # formatted where it happened (tracebacks do not pickle)
    timed_out: bool = False  # the deadline passed before the chunk's last item was started
    #: The interpreter that ran it, in process `pid` (`current_interpreter`): 0 for a process's main interpreter,
    #: another id for interpreter_pool's workers, which all share the caller's pid.
    interpreter: int = 0

    @property
    def worker(self) -> tuple[int, int]:
        """Who computed it: (pid, interpreter id)."""
        return self.pid, self.interpreter


_INTERPRETER: int | None = None


def current_interpreter() -> int:
    """The id of the interpreter running this code: 0 in a process's main interpreter (the only one before
    Python 3.13 could start others for Python code), another in a subinterpreter. Read once per interpreter:
    each imports this module afresh."""
    global _INTERPRETER
    if _INTERPRETER is None:
        _INTERPRETER = 0
        if sys.version_info >= (3, 13):  # before, an `_interpreters` can only be a third-party build (3.12's backport
            try:                          # companion crashed the process on import): never imported there
                import _interpreters  # CPython 3.13+, built in
            except ImportError:
                pass
            else:
                _INTERPRETER = int(_interpreters.get_current()[0])
    return _INTERPRETER


def here(outcome: ChunkOutcome) -> bool:
    """Whether `outcome` was computed in this interpreter of this process (so its exception's traceback is intact)."""
    return outcome.worker == (os.getpid(), current_interpreter())


class TaskError(Exception):
    """Stands in for a task's exception that could not be sent back from a worker process, or rebuilt
    in the calling process: it carries "module.QualName: text" of the original."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process, shown as its cause."""

    def __str__(self) -> str:
        return str(self.args[0])


def run_chunk(task: Callable[[Any], Any], chunk: Sequence[Any], deadline: float | None = None, *,
              in_worker: bool = False) -> ChunkOutcome:
    """Run `task` over one chunk. Module-level, so process pools can pickle it.

    Each worker reports its own CPU time: a sampler cannot see the last CPU of a worker
    that exits between samples, and forkserver workers are not our children. A task's
    exception travels back as a value, so `map` can raise the first one in input order
    whichever worker met it first; so do its SystemExit and its own KeyboardInterrupt, which
    `map` raises as TaskExit (a worker process survives them). Only a KeyboardInterrupt in the
    calling process's main thread (`in_worker` False) is raised at once: a Ctrl-C arrives that way.
    Past `deadline` (a `time.monotonic()` reading: one clock for every process of the machine) no
    further item is started: a thread that cannot be stopped still ends soon after a timeout.
    """
    results: list[Any] = []
    pid, interpreter = os.getpid(), current_interpreter()
    started = time.thread_time()
    append, monotonic = results.append, time.monotonic  # bound once: the loop is the baseline's cost per item
    try:
        if deadline is None:
            for item in chunk:
                append(task(item))
        else:
            for item in chunk:
                if monotonic() > deadline:
                    return ChunkOutcome(results, pid, time.thread_time() - started, timed_out=True, interpreter=interpreter)
                append(task(item))
    except Exception as exc:  # noqa: BLE001 - raised again by Variant.map, in input order
        return ChunkOutcome(results, pid, time.thread_time() - started, exc, traceback.format_exc(),
                            interpreter=interpreter)
    except (SystemExit, KeyboardInterrupt) as exc:
        if not in_worker and is_callers_interrupt(exc):
            raise
        return ChunkOutcome(results, pid, time.thread_time() - started, exc, traceback.format_exc(),
                            interpreter=interpreter)
    return ChunkOutcome(results, pid, time.thread_time() - started, interpreter=interpreter)


#: What may fail while pickling or unpickling user objects: any exception, and SystemExit (a __reduce__
#: or __setstate__ may call sys.exit). A KeyboardInterrupt too, but in the caller's main thread
#: (`is_callers_interrupt`), where it is taken for a Ctrl-C.
PICKLING_FAILURES = (Exception, SystemExit, KeyboardInterrupt)


def is_callers_interrupt(exc: BaseException) -> bool:
    """Whether `exc`, met in the calling process, must propagate unchanged: a KeyboardInterrupt in its
    main thread, where Ctrl-C arrives (the lab cannot tell it from one a task raised there itself)."""
    return isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread()


def task_exit(variant: str, exc: BaseException, where: str) -> TaskExit:
    """The TaskExit that stands for a task's SystemExit or KeyboardInterrupt `exc`, met `where` ("on item 5")."""
    own = " (its own: not a Ctrl-C of the calling process)" if isinstance(exc, KeyboardInterrupt) else ""
    return TaskExit(
        f"{variant}: the task raised {exc!r} {where}{own}; a task's exit ends neither the caller nor a worker, so "
        "map raises TaskExit in its place: to fail an item, raise an exception",
        code=_exit_code(exc), exit_type=type(exc).__name__)


def _exit_code(exc: BaseException) -> object:
    """SystemExit's code, read from its args as SystemExit sets it: they survive any pickling (tblib's,
    installed by distributed, rebuilds an exception without calling __init__, so `.code` comes back None)."""
    if not isinstance(exc, SystemExit) or not exc.args:
        return None
    return exc.args[0] if len(exc.args) == 1 else exc.args


def raise_first_error(variant: str, chunks: Sequence[Sequence[Any]], outcomes: Sequence[ChunkOutcome | None]) -> None:
    """Raise the first error a task raised, in input order: an exception as it is (a worker process's
    traceback as its cause), a SystemExit or a task's own KeyboardInterrupt as TaskExit naming the item."""
    start = 0
    for chunk, outcome in zip(chunks, outcomes, strict=True):  # one outcome slot per chunk
        if outcome is not None and outcome.error is not None:
            error, local = outcome.error, here(outcome)
            cause = error if local else RemoteTraceback(f"\n\"\"\"\n{outcome.error_traceback}\"\"\"")
            if isinstance(error, (SystemExit, KeyboardInterrupt)):
                raise task_exit(variant, error, f"on item {start + len(outcome.results)}") from cause
            if local:
                raise error  # its own traceback is intact
            raise error from cause
        start += len(chunk)


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def salvaged(chunks: Sequence[Sequence[Any]], outcomes: Sequence[ChunkOutcome | None]) -> dict[int, Any]:
    """Input index -> result, for every item that finished, from the chunks that came back."""
    found: dict[int, Any] = {}
    start = 0
    for chunk, outcome in zip(chunks, outcomes, strict=True):  # one outcome slot per chunk
        if outcome is not None:
            found.update(enumerate(outcome.results, start))
        start += len(chunk)
    return found
