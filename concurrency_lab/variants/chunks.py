"""What a worker runs for one chunk, what it sends back, and how map raises the first failure."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChunkOutcome:
    """What one worker sends back for one chunk: results in order, who computed them, at what CPU cost."""

    results: list[Any]
    pid: int
    cpu_seconds: float  # CPU time of the thread that ran the chunk, measured in that thread
    error: Exception | None = None  # what the task raised for the item after the last result
    error_traceback: str | None = None  # formatted where it happened (tracebacks do not pickle)
    timed_out: bool = False  # the deadline passed before the chunk's last item was started


class TaskError(Exception):
    """Stands in for a task's exception that could not be sent back from a worker process."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process, shown as its cause."""

    def __str__(self) -> str:
        return str(self.args[0])


def run_chunk(task: Callable[[Any], Any], chunk: Sequence[Any], deadline: float | None = None) -> ChunkOutcome:
    """Run `task` over one chunk. Module-level, so process pools can pickle it.

    Each worker reports its own CPU time: a sampler cannot see the last CPU of a worker
    that exits between samples, and forkserver workers are not our children. A task's
    exception travels back as a value, so `map` can raise the first one in input order
    whichever worker met it first. Past `deadline` (a `time.monotonic()` reading: one clock
    for every process of the machine) no further item is started: a thread that cannot be
    stopped still ends soon after a timeout.
    """
    started, results = time.thread_time(), []
    append, monotonic = results.append, time.monotonic  # bound once: the loop is the baseline's cost per item
    try:
        if deadline is None:
            for item in chunk:
                append(task(item))
        else:
            for item in chunk:
                if monotonic() > deadline:
                    return ChunkOutcome(results, os.getpid(), time.thread_time() - started, timed_out=True)
                append(task(item))
    except Exception as exc:  # noqa: BLE001 - raised again by Variant.map, in input order
        return ChunkOutcome(results, os.getpid(), time.thread_time() - started, _sendable(exc), traceback.format_exc())
    return ChunkOutcome(results, os.getpid(), time.thread_time() - started)


def _sendable(exc: Exception) -> Exception:
    """`exc`, or a TaskError naming it when it cannot make the trip back from a worker process: an
    exception that pickles but does not unpickle kills Pool's result thread, and map would hang."""
    if multiprocessing.parent_process() is None:
        return exc  # in the caller's process: nothing to send
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001
        return TaskError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    return exc


def raise_first_error(outcomes: Sequence[ChunkOutcome]) -> None:
    for outcome in outcomes:
        if outcome.error is None:
            continue
        if outcome.pid == os.getpid():
            raise outcome.error  # its own traceback is intact
        raise outcome.error from RemoteTraceback(f"\n\"\"\"\n{outcome.error_traceback}\"\"\"")


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def salvaged(chunks: Sequence[Sequence[Any]], outcomes: Sequence[ChunkOutcome | None]) -> dict[int, Any]:
    """Input index -> result, for every item that finished, from the chunks that came back."""
    found, start = {}, 0
    for chunk, outcome in zip(chunks, outcomes):
        if outcome is not None:
            found.update(enumerate(outcome.results, start))
        start += len(chunk)
    return found
