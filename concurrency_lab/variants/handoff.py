"""How process variants hand work to a worker and take its outcome back: as bytes, pickled and unpickled
only where every failure is caught.

The caller pickles each chunk (the task and its items) in its own thread, so an item that cannot be
pickled, even one whose pickling calls sys.exit, is named at once instead of killing a pool's feeder
thread. The worker unpickles it inside `run_packed`, so one that cannot be rebuilt there leaves the
worker alive, and pickles the results and the task's exception itself. What crosses back is a `Handback`
of bytes and text, which any pool can always send. `map` unpickles those bytes in the caller's own thread;
for `submit` they are unpickled by the callback that settles the future, in the thread that completed the
pool's future (the executor's manager thread, Dask's client thread), inside a try that catches every
failure. Either way a result whose class exists only in the worker, or whose unpickling raises or exits,
gives NotPicklable instead of killing a pool's result thread, and Dask's scheduler never unpickles a
user's object.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from concurrent.futures._base import CANCELLED_AND_NOTIFIED
from dataclasses import dataclass
from typing import Any

from ..core.errors import BrokenPool, NotPicklable
from .chunks import (
    PICKLING_FAILURES,
    ChunkOutcome,
    RemoteTraceback,
    TaskError,
    current_interpreter,
    is_callers_interrupt,
    run_chunk,
    task_exit,
)
from .serializers import PLAIN_DATA, serializer_dumps, unsendable_item


@dataclass(frozen=True)
class Handback:
    """What a worker sends back for one chunk: bytes, text and numbers only, so that the pool can always
    send it and the caller can always receive it. The caller rebuilds a ChunkOutcome from it (`Handoff.unpack`)."""

    pid: int
    cpu_seconds: float = 0.0
    results: bytes | None = None  # the chunk's results, pickled in the worker
    error: bytes | None = None  # the task's exception (or SystemExit), pickled in the worker; None: none, or it would not pickle
    error_text: str | None = None  # "module.QualName: text" of that exception: what TaskError carries when it does not rebuild
    error_traceback: str | None = None
    timed_out: bool = False
    unreadable: str | None = None  # why the worker could not rebuild the task or an item ("TypeError: ...")
    unsent: str | None = None  # why a result could not be pickled in the worker
    unsent_item: int | None = None  # that result's index in the chunk, when one alone fails
    interpreter: int = 0  # the worker's interpreter in process `pid` (chunks.current_interpreter)


def run_packed(payload: bytes, deadline: float | None, serializer: str | None) -> Handback:
    """A worker's entry point for one chunk: rebuild the (task, chunk) the caller pickled, run it, and hand
    back its outcome as bytes. Module-level, so every pool can send it by reference."""
    try:
        task, chunk = pickle.loads(payload)  # the caller's own bytes
    except PICKLING_FAILURES as exc:  # in a worker: never a Ctrl-C (worker_started ignores SIGINT)
        return Handback(os.getpid(), unreadable=_describe(exc), interpreter=current_interpreter())
    return _hand_back(run_chunk(task, chunk, deadline, in_worker=True), serializer)


def call_packed(payload: bytes, serializer: str | None) -> Handback:
    """A worker's entry point for one `submit`ted call: as `run_packed`, for ``fn(*args, **kwargs)``."""
    try:
        fn, args, kwargs = pickle.loads(payload)  # the caller's own bytes
    except PICKLING_FAILURES as exc:
        return Handback(os.getpid(), unreadable=_describe(exc), interpreter=current_interpreter())
    return _hand_back(run_chunk(_Call(fn, args, kwargs), (None,), in_worker=True), serializer)


@dataclass(frozen=True)
class _Call:
    """``fn(*args, **kwargs)`` as a task of one (ignored) item, so that `run_chunk` runs a submitted call."""

    fn: Callable[..., Any]
    args: tuple
    kwargs: dict

    def __call__(self, _: object) -> Any:
        return self.fn(*self.args, **self.kwargs)


def _hand_back(outcome: ChunkOutcome, serializer: str | None) -> Handback:
    """`outcome` with its results and exception pickled here, in the worker, where a failure is only text."""
    handback = Handback(outcome.pid, outcome.cpu_seconds, timed_out=outcome.timed_out, interpreter=outcome.interpreter)
    try:
        results = _dumps_result(outcome.results, serializer)
    except PICKLING_FAILURES as exc:
        return dataclasses.replace(handback, unsent=_describe(exc), unsent_item=_first_unpicklable(outcome.results, serializer))
    handback = dataclasses.replace(handback, results=results)
    if outcome.error is None:
        return handback
    error = outcome.error
    text, error_bytes = f"{type(error).__module__}.{type(error).__qualname__}: {_text(error)}", None
    try:
        error_bytes = _dumps_result(error, serializer)
    except PICKLING_FAILURES:  # sent as text: the caller raises TaskError carrying it
        pass
    return dataclasses.replace(handback, error=error_bytes, error_text=text, error_traceback=outcome.error_traceback)


def _dumps_result(value: Any, serializer: str | None) -> bytes:
    """`pickle` first, as it is fastest; cloudpickle for a cloudpickle variant's lambdas and local classes."""
    try:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except PICKLING_FAILURES:
        if serializer != "cloudpickle":
            raise
    return serializer_dumps(serializer)(value)


def _first_unpicklable(results: Sequence[Any], serializer: str | None) -> int | None:
    for index, result in enumerate(results):
        try:
            _dumps_result(result, serializer)
        except PICKLING_FAILURES:
            return index
    return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_text(exc)}" if _text(exc) else type(exc).__name__


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except PICKLING_FAILURES:  # a __str__ that fails: the type says enough
        return f"<{type(exc).__name__} whose str() failed>"


@dataclass(frozen=True)
class Handoff:
    """The caller's side of the hand-off, for one variant: its name (first in every message) and serializer."""

    variant: str
    serializer: str | None
    worker: str = "a worker process"  # what its workers are, as its messages say it

    def pack(self, task: Callable[[Any], Any], chunks: Sequence[Sequence[Any]]) -> Iterator[bytes]:
        """Each chunk as the bytes `run_packed` takes, pickled here, one at a time as they are taken:
        NotPicklable naming the first item (by input index) that cannot be pickled, in any way, sys.exit included."""
        dumps, first = serializer_dumps(self.serializer), 0
        for chunk in chunks:
            try:
                payload = dumps((task, chunk))
            except PICKLING_FAILURES as exc:
                if is_callers_interrupt(exc):
                    raise
                raise self._not_packed(task, chunk, first, exc) from None
            yield payload
            first += len(chunk)

    def submit_all(self, submit: Callable[[bytes], Any], task: Callable[[Any], Any],
                   chunks: Sequence[Sequence[Any]]) -> list[Any]:
        """``submit(payload)`` for every chunk, each pickled just before it is submitted, so the first chunks
        run while later ones are pickled (as a pool's feeder thread overlaps them; pickling every chunk first
        made 50 items of 1 MiB 1.7x slower on process_pool). On NotPicklable, what was submitted is cancelled."""
        submitted: list[Any] = []
        try:
            for payload in self.pack(task, chunks):
                submitted.append(submit(payload))
        except NotPicklable:
            for pending in submitted:
                if hasattr(pending, "cancel"):  # multiprocessing's AsyncResult cannot be cancelled
                    pending.cancel()
            raise
        return submitted

    def _not_packed(self, task: object, chunk: Sequence[Any], first: int, exc: BaseException) -> NotPicklable:
        found = unsendable_item(self.variant, self.serializer, [chunk], first)
        if found is not None:
            return found
        return NotPicklable(
            f"{self.variant}: the task {task!r} with items {first} to {first + len(chunk) - 1} cannot be pickled "
            f"({_describe(exc)}); pass plain data ({PLAIN_DATA}), or use a thread variant, which shares memory")

    def unpack(self, handback: Handback, first: int | None = None, size: int = 1) -> ChunkOutcome:
        """The ChunkOutcome a worker sent as `handback`, for the chunk of `size` items from input index `first`
        (None: a submitted call), rebuilt here: NotPicklable when the work or a result could not make the trip;
        a task's exception that does not rebuild here becomes TaskError carrying its text."""
        where = "the submitted call" if first is None else f"items {first} to {first + size - 1}"
        if handback.unreadable is not None:
            raise NotPicklable(
                f"{self.variant}: the task or one of {where} could not be rebuilt in {self.worker} "
                f"({handback.unreadable}); pass plain data ({PLAIN_DATA}) whose unpickling needs nothing "
                "the worker lacks, or use a thread variant, which shares memory")
        if handback.unsent is not None:
            which = "" if handback.unsent_item is None or first is None else f"item {first + handback.unsent_item}, "
            raise NotPicklable(
                f"{self.variant}: a result could not be sent back from {self.worker} ({which}{handback.unsent}); "
                f"have the task return plain data ({PLAIN_DATA}), or use a thread variant, which shares memory")
        try:  # a handback that is neither unreadable nor unsent carries results
            results = pickle.loads(handback.results or b"")  # pickled by our worker
        except PICKLING_FAILURES as exc:
            if is_callers_interrupt(exc):
                raise
            raise NotPicklable(
                f"{self.variant}: a result of {where} was sent back from {self.worker} but could not be rebuilt "
                f"in the calling process ({_describe(exc)}): its class may exist only in the worker, or its "
                f"unpickling fail; have the task return plain data ({PLAIN_DATA})") from None
        error = None
        if handback.error_text is not None:
            error = self._rebuilt_error(handback)
        return ChunkOutcome(results, handback.pid, handback.cpu_seconds, error, handback.error_traceback,
                            handback.timed_out, handback.interpreter)

    @staticmethod
    def _rebuilt_error(handback: Handback) -> BaseException:
        if handback.error is not None:
            try:
                return pickle.loads(handback.error)  # pickled by our worker
            except PICKLING_FAILURES as exc:
                if is_callers_interrupt(exc):
                    raise
        return TaskError(handback.error_text)

    def submit(self, pool: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Future:
        """``pool.submit`` of ``fn(*args, **kwargs)``, handed off as bytes: every keyword reaches `fn`
        (``fn=`` and ``self=`` included), and the Future always resolves (see `HandedOffFuture`)."""
        try:
            payload = serializer_dumps(self.serializer)((fn, args, kwargs))
        except PICKLING_FAILURES as exc:
            if is_callers_interrupt(exc):
                raise
            raise NotPicklable(
                f"{self.variant}: the submitted call ({fn!r} with its arguments) cannot be pickled ({_describe(exc)}); "
                f"pass plain data ({PLAIN_DATA}), or use a thread variant, which shares memory") from None
        return HandedOffFuture(pool.submit(call_packed, payload, self.serializer), self._call_result, self._stopped)

    def _stopped(self, error: BaseException) -> BaseException:
        """What a submitted call's future raises when its pool failed it (a worker died, or the pool was stopped:
        loky's ShutdownExecutorError, Dask's KilledWorker): BrokenPool in the variant's words, whatever the engine."""
        if isinstance(error, BrokenPool):
            return error
        stopped = BrokenPool(
            f"{self.variant}: the pool's workers died or were stopped while this call ran "
            f"({type(error).__name__}: {_text(error)}), so it has no result; a warm pool is stopped whole when "
            "a map on it times out or breaks, and replaced on its next call")
        stopped.__cause__ = error
        return stopped

    def _call_result(self, handback: Handback) -> Any:
        """What a submitted call returned, or raise what stands for its failure (TaskExit for its exit)."""
        outcome = self.unpack(handback)
        if outcome.error is None:
            return outcome.results[0]
        cause = RemoteTraceback(f"\n\"\"\"\n{outcome.error_traceback}\"\"\"")
        if isinstance(outcome.error, (SystemExit, KeyboardInterrupt)):
            raise task_exit(self.variant, outcome.error, "in a submitted call") from cause
        raise outcome.error from cause


class HandedOffFuture(Future):
    """The Future `submit` returns for a call handed to worker processes: it settles when the pool's own
    future does, with the call's result rebuilt by `rebuild` (or the error that stands for it). Cancelling
    it cancels the pool's future; one the pool cancels (a pool shut down) is cancelled too."""

    def __init__(self, inner: Future, rebuild: Callable[[Handback], Any],
                 stopped: Callable[[BaseException], BaseException]) -> None:
        super().__init__()
        self._inner, self._rebuild, self._stopped = inner, rebuild, stopped
        inner.add_done_callback(self._settle)

    def cancel(self) -> bool:
        if not self._inner.cancel():
            return False
        self._cancel_and_notify()  # _settle does too, unless the pool cancelled the inner one just before
        return True

    def _cancel_and_notify(self) -> None:
        """Cancelled, and counted done by `wait` and `as_completed` (CANCELLED_AND_NOTIFIED, as an executor
        leaves the futures it cancels: they never count a future that is only CANCELLED), whichever of
        `cancel` and `_settle` gets here first."""
        if not super().cancel():  # settled with a result or an error first (a no-op once cancelled)
            return
        with self._condition:
            if self._state != CANCELLED_AND_NOTIFIED:
                self.set_running_or_notify_cancel()

    def running(self) -> bool:
        return super().running() or (not self.done() and self._inner.running())

    def _settle(self, inner: Future) -> None:
        if inner.cancelled():
            self._cancel_and_notify()
            return
        if self.done():
            return
        error = inner.exception()
        if error is not None:  # the pool's own: the call's come back inside the Handback
            self.set_exception(self._stopped(error))
            return
        try:
            value = self._rebuild(inner.result())
        except BaseException as exc:  # settled with whatever stands for the failure
            self.set_exception(exc)
            if is_callers_interrupt(exc):  # a Ctrl-C while rebuilding in the caller's main thread
                raise
        else:
            self.set_result(value)


__all__ = ["Handback", "HandedOffFuture", "Handoff", "call_packed", "run_packed"]
