"""The one call shape every variant shares; validation, chunking, ordering, time limits and failures live here once."""

from __future__ import annotations

import functools
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.cpus import usable_cpus
from ..core.errors import MapTimeout, NotPicklable
from ..core.traits import Kind, Role, VariantTraits
from .checks import (
    as_list,
    check_callable,
    check_chunksize,
    check_start_method,
    check_timeout,
    check_workers,
    defined_in_unimportable_main,
)
from .chunks import (
    PICKLING_FAILURES,
    ChunkOutcome,
    RemoteTraceback,
    TaskError,
    chunked,
    is_callers_interrupt,
    raise_first_error,
    run_chunk,
    salvaged,
    task_exit,
)
from .handoff import Handoff, run_packed
from .serializers import serializer_dumps


class VariantUnavailable(RuntimeError):
    """The variant cannot run here (this Python, this platform, a missing package, this workload)."""


class TimedOut(Exception):
    """Raised by a variant's `_map_chunks` when the deadline passed; `Variant.map` turns it into MapTimeout."""


class _ClassOrInstance:
    """A method that takes the class when called on it and the instance when called on one, as `traits`
    does: the class's declared traits, or those of one instance that set its own (joblib at one worker)."""

    def __init__(self, func: Callable[..., VariantTraits]):
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]  # its docstring, for help()

    def __get__(self, instance: object, owner: type) -> Callable[..., VariantTraits]:
        return functools.partial(self.func, owner if instance is None else instance)


@dataclass(frozen=True)
class RunRecord:
    """Structural facts about the last `map` call, for tests and measurements."""

    items: int
    chunks: int
    chunksize: int
    worker_pids: frozenset[int]
    worker_cpu_seconds: float  # CPU spent running tasks, summed over chunks, whatever process ran them
    #: Who computed the chunks: (pid, interpreter id), the id 0 for a process's main interpreter. interpreter_pool's
    #: workers share the caller's pid, and differ here.
    workers: frozenset[tuple[int, int]] = frozenset()
    #: When map raised: input index -> result of every item that did finish. Chunks that were
    #: running in a worker that died or was stopped are lost; see README, "How variants fail".
    salvaged: Mapping[int, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_outcomes(cls, items: int, chunksize: int, outcomes: Sequence[ChunkOutcome],
                      salvaged: Mapping[int, Any] | None = None) -> RunRecord:
        return cls(
            items=items,
            chunks=len(outcomes),
            chunksize=chunksize,
            worker_pids=frozenset(o.pid for o in outcomes),
            worker_cpu_seconds=sum(o.cpu_seconds for o in outcomes),
            workers=frozenset(o.worker for o in outcomes),
            salvaged={} if salvaged is None else dict(salvaged),
        )


class Variant(ABC):
    """Run a task over items with some kind of concurrency, returning results in input order.

    Use it cold, ``Variant(workers=4).map(task, items)``, which starts and stops its pool
    around the call, or warm, ``with Variant(workers=4) as v: v.map(...); v.map(...)``,
    which keeps one pool for every call. The first exception a task raises (in input order)
    is raised by ``map``: no failure is left unasked in a future. ``timeout=`` bounds a call:
    MapTimeout when it passes. A warm pool that broke or timed out is replaced on the next call.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    # Traits: what the report, and everything else that consumes variants, reads instead of names.
    kind: ClassVar[Kind]
    api_family: ClassVar[str]  # the library that provides it
    api: ClassVar[str]  # the call a user of that library writes
    role: ClassVar[Role | None] = None  # baseline, or the lesson's before / after
    lesson_pair: ClassVar[str | None] = None  # the before and after of one pair share it
    #: The chunk size the library's own map uses when none is given, where that is a fixed number
    #: that hurts many small tasks (ProcessPoolExecutor.map: 1). Benchmarks show it as a trap row.
    api_default_chunksize: ClassVar[int | None] = None
    #: Whether the library's own call takes a chunk size (``chunksize=``, ``batch_size=``), so that `usage`
    #: writes it; for the others a measured chunk size is written as chunks the user's code makes itself.
    api_chunks: ClassVar[bool] = False
    uses_processes: bool = False  # its workers are other processes: tasks, items and results are serialized
    #: The lab's start methods (cpus.START_METHODS) it can be given; () when it takes none: in-process
    #: variants, and engines that start their worker processes their own way (loky: fork+exec).
    start_methods: ClassVar[tuple[str, ...]] = ()
    #: How tasks, items and results reach its workers: None (shared memory), "pickle" (the standard
    #: library's process pools: module-level functions only), "cloudpickle" (loky, joblib, Dask:
    #: lambdas and closures too).
    serializer: ClassVar[str | None] = None
    #: Whether its workers pickle a task's exception by its attributes (tblib's pickling, which importing
    #: distributed installs), so that one whose __init__ cannot be called again from its args still
    #: rebuilds in the caller, instead of arriving as a TaskError carrying its text.
    exceptions_by_attributes: ClassVar[bool] = False
    #: What its workers are, as messages about what could not reach them or come back say it.
    worker_noun: ClassVar[str] = "a worker process"
    concurrent: bool = True  # set from `kind`: False for one item at a time, whatever `workers` says
    runs_coroutines: ClassVar[bool] = False  # True: tasks are coroutine functions (an event loop runs them)
    #: Whether a timeout stops the work that is running (processes are killed, coroutines cancelled).
    #: A thread cannot be stopped from outside: it finishes its item, then takes no other.
    stops_running_work: bool = False
    #: Tasks per worker when no chunk size is given, as multiprocessing.Pool.map does
    #: (ceil(n / (4 * workers))). None sends one item per task: for threads a hand-off
    #: costs microseconds and one-item tasks balance I/O waits best.
    chunks_per_worker: ClassVar[int | None] = None

    def __init__(self, workers: int | None = None, *, chunksize: int | None = None, start_method: str | None = None):
        self.workers = self.default_workers() if workers is None else check_workers(workers)
        self.chunksize = check_chunksize(chunksize)
        if start_method is not None and not self.start_methods:
            how = f"starts its worker processes {self.own_way()}" if self.uses_processes else "starts no processes"
            raise ValueError(f"variant {self.name!r} {how}, so it takes no start method")
        self.start_method = check_start_method(start_method, self.start_methods)
        self.last_run: RunRecord | None = None
        self._pool: Any = None
        self._running = False

    @property
    def effective_start_method(self) -> str | None:
        """The start method its worker processes get (None: it starts none, or the engine does not say)."""
        return None

    def own_way(self) -> str:
        """For a process variant that takes no start method: how it starts its workers, as messages say it."""
        return f"its own way ({self.effective_start_method})" if self.effective_start_method else "its own way"

    def __repr__(self) -> str:
        extra = f", start_method={self.start_method!r}" if self.uses_processes else ""
        return f"{type(self).__name__}(workers={self.workers}, chunksize={self.chunksize}{extra})"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in vars(cls) and "concurrent" not in vars(cls):  # unless the class says so itself
            cls.concurrent = cls.kind is not Kind.SEQUENTIAL

    @classmethod
    def has_pool(cls) -> bool:
        """Whether it keeps workers between calls (so warm and cold differ)."""
        return cls._open is not Variant._open

    @_ClassOrInstance
    def traits(self: Variant | type[Variant], gil_enabled: bool | None = None) -> VariantTraits:
        """Its traits (an instance's as it was set); `gil_enabled` is the build's GIL state, which decides whether
        workers that share the caller's GIL share one."""
        return VariantTraits(
            kind=self.kind, api_family=self.api_family, api=self.api, role=self.role, lesson_pair=self.lesson_pair,
            runs_coroutines=self.runs_coroutines, has_pool=self.has_pool(), futures=hasattr(self, "submit"),
            subject_to_gil=None if gil_enabled is None else self.kind.shares_gil and gil_enabled,
            uses_processes=self.uses_processes, stops_running_work=self.stops_running_work,
        )

    def handoff(self) -> Handoff:
        """How this variant's `serializer` hands work to its workers and takes their outcomes back."""
        return Handoff(self.name, self.serializer, self.worker_noun)

    def cpu_spent_elsewhere(self) -> bool:
        """Whether its workers' CPU is spent outside this process, so that the CPU each chunk reports must
        be added to this process's own (for threads and the caller's own loop it is already in it)."""
        return not self.kind.cpu_in_caller

    def workers_in_process_tree(self) -> bool:
        """Whether its workers are this process or its descendants, so that the benchmarks' sampler sees
        their memory and this machine's cores carry them (False: a cluster it connects to, not started)."""
        return True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this variant cannot run on this Python or platform, or None when it can."""
        return None

    @classmethod
    def task_unavailable_reason(cls, task: Callable[..., Any]) -> str | None:
        """Why this variant cannot run `task` at all, known before any item is given (None: it can): a workload's
        task whose module does not import where its workers run it. Checked once per workload, not per call."""
        return None

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        """The code a user writes to run `func` over `items` this way, in the variant's own API: its imports
        first, then the statements that set `results` (`advise` prints it; the function's own import is added
        after these imports). Here: through the lab, for variants that give no code of their own."""
        chunk = f", chunksize={chunksize}" if chunksize and chunksize > 1 else ""
        return (f"from concurrency_lab.variants import get_variant\n"
                f"results = get_variant({cls.name!r}, workers={workers}).map({func}, items{chunk})")

    @classmethod
    def default_workers(cls) -> int:
        return usable_cpus()

    def chunksize_for(self, n_items: int) -> int:
        if self.chunksize is not None:
            return self.chunksize
        if self.chunks_per_worker is None:
            return 1
        return max(1, math.ceil(n_items / (self.chunks_per_worker * self.workers)))

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the pool now (idempotent), so later `map` calls measure warm work; a running pool that
        broke (under `map`, `submit` or between calls) is replaced."""
        if not self._running:
            self._pool = self._open()
            self._running = True
        else:
            self._replace_broken()

    def _replace_broken(self) -> None:
        """Open the pool of a running variant when it has none (it broke on an earlier call, which stopped it)
        or when `_broken` says it can take no more work: stopped then, and a new one opened."""
        if not self.has_pool():
            return
        if self._pool is not None and self._broken(self._pool):
            pool, self._pool = self._pool, None
            self._abort(pool)
        if self._pool is None:
            self._pool = self._open()

    def close(self) -> None:
        """Stop the pool and wait for its workers (idempotent)."""
        if self._running:
            pool, self._pool, self._running = self._pool, None, False
            if pool is not None:
                try:
                    self._close(pool)
                except BaseException:  # interrupted while waiting for its workers: stop them now
                    self._abort(pool)
                    raise

    def _stop(self) -> None:
        """Stop the pool now, its running work with it (`close` waits for that work)."""
        if self._running:
            pool, self._pool, self._running = self._pool, None, False
            if pool is not None:
                self._abort(pool)

    def __enter__(self) -> Variant:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def map(self, task: Callable[[Any], Any], items: Iterable[Any], *, chunksize: int | None = None,
            timeout: float | None = None) -> list[Any]:
        """Return ``[task(item) for item in items]``, computed by this variant's workers.

        Raises the first exception a task raised, in input order (a worker process's traceback
        as its cause); BrokenPool when a worker process died; MapTimeout when `timeout` seconds
        passed first; NotPicklable when a process variant cannot send what it must.
        """
        self.check_task(task)
        items = as_list(items)
        size = check_chunksize(chunksize) or self.chunksize_for(len(items))
        limit = check_timeout(timeout)
        if not items:  # nothing to do: no pool is started for it
            self.last_run = RunRecord.from_outcomes(0, size, [])
            return []
        chunks = chunked(items, size)
        deadline = None if limit is None else time.monotonic() + limit
        outcomes: list[ChunkOutcome | None] = [None] * len(chunks)
        try:
            if self.running:
                self._run(task, chunks, deadline, outcomes)
            else:
                with self:
                    try:
                        self._run(task, chunks, deadline, outcomes)
                    except NotPicklable:  # the call is over: its other chunks are stopped, not waited for
                        self._stop()
                        raise
        except TimedOut:
            record = self._record(items, size, chunks, outcomes)
            raise self._timeout_error(limit, len(items) - len(record.salvaged)) from None
        except BaseException:
            self._record(items, size, chunks, outcomes)
            raise
        done = [o for o in outcomes if o is not None]
        if any(o.error is not None or o.timed_out for o in done):  # only then is what finished salvaged
            record = self._record(items, size, chunks, outcomes)
            raise_first_error(self.name, chunks, outcomes)
            # stopped between items: the sequential and thread variants
            raise self._timeout_error(limit, len(items) - len(record.salvaged))
        self.last_run = RunRecord.from_outcomes(len(items), size, done)
        return [result for outcome in done for result in outcome.results]

    def _run(self, task: Callable[[Any], Any], chunks: list[Sequence[Any]], deadline: float | None,
             outcomes: list[ChunkOutcome | None]) -> None:
        """One call on the pool, reopened first if it broke last time. Anything but a task's own
        exception or an unpicklable item means the pool can no longer be trusted: it is stopped now
        (its running work with it) and, when warm, replaced on the next call."""
        self._replace_broken()
        try:
            self._map_chunks(task, chunks, deadline, outcomes)
        except NotPicklable:
            raise  # nothing reached a worker, or the worker sent back an error: the pool is fine
        except BaseException:
            pool, self._pool = self._pool, None
            if pool is not None:
                self._abort(pool)
            raise

    def _record(self, items: list[Any], size: int, chunks: list[Sequence[Any]],
                outcomes: list[ChunkOutcome | None]) -> RunRecord:
        """Set `last_run` from the chunks that came back (with what they salvaged); return it."""
        done = [o for o in outcomes if o is not None]
        self.last_run = RunRecord.from_outcomes(len(items), size, done, salvaged(chunks, outcomes))
        return self.last_run

    def _timeout_error(self, limit: float | None, unfinished: int) -> MapTimeout:
        if self.stops_running_work:
            what = "its running work was stopped"
        elif self.concurrent:
            what = ("a running thread cannot be stopped: the items running now finish in the background, "
                    "and no further item is started; this process cannot exit before they end")
        else:
            what = "it runs in the calling thread, so the limit is checked between items: the item running then finished first"
        items = "item has" if unfinished == 1 else "items have"
        return MapTimeout(f"{self.name}: map did not finish within {limit:g} s: {unfinished} {items} no result; "
                          f"{what}", timeout=limit or 0.0, unfinished=unfinished, stopped=self.stops_running_work)

    def check_task(self, task: object) -> None:
        """TypeError for what cannot be called; NotPicklable for a task its declared `serializer` cannot send."""
        check_callable(task)
        if self.serializer is None:  # its workers share this process's memory: nothing is sent
            return
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

    def _open(self) -> Any:
        """Start and return the pool (None for variants without one)."""
        return None

    def _close(self, pool: Any) -> None:  # noqa: B027 - a variant without a pool has nothing to stop
        """Stop the pool `_open` returned and wait for its workers."""

    def _abort(self, pool: Any) -> None:
        """Stop the pool now, running work and all, without waiting for that work (default: `_close`)."""
        self._close(pool)

    def _broken(self, pool: Any) -> bool:
        """Whether the pool `_open` returned can take no more work (a worker of it died, whichever call was
        running then), so that the next `map` or `submit` replaces it instead of failing (default: never)."""
        return False

    @abstractmethod
    def _map_chunks(self, task: Callable[[Any], Any], chunks: list[Sequence[Any]], deadline: float | None,
                    outcomes: list[ChunkOutcome | None]) -> None:
        """Run `run_chunk(task, chunk, deadline)` for every chunk on `self._pool`, storing each outcome at
        its chunk's index as it arrives; raise TimedOut when `deadline` (time.monotonic()) passes first."""


class ExecutorVariant(Variant):
    """A variant whose pool is a `concurrent.futures.Executor`: it also offers the lesson's `submit`, and its
    `map` is one loop here, chunks submitted and their futures collected in order. A subclass supplies the pool
    (`_open`, `_close`, `_abort`) and says what a broken pool looks like (`_pool_broke`)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        """Schedule ``fn(*args, **kwargs)`` on the pool (started if it is not) and return its Future at once.
        The pool stays up until `close()`. Every keyword reaches `fn` (``fn=`` and ``self=`` too). The Future
        fails as `map` does: TaskExit for the call's SystemExit or its own KeyboardInterrupt; on process
        variants NotPicklable for a call or a result that cannot make the trip, and it always resolves."""
        self.check_task(fn)
        self.start()  # which replaces a pool that broke
        if self.serializer is None:  # the pool's workers share this process's memory
            return self._pool.submit(call_as_task, self.name, fn, args, kwargs)
        return self.handoff().submit(self._pool, fn, args, kwargs)

    def _executor(self) -> Any:
        """What chunks are submitted to (default: the pool `_open` returned)."""
        return self._pool

    def _worker_deadline(self, deadline: float | None) -> float | None:
        """The deadline the workers check between items (None where their clock is not this one's)."""
        return deadline

    def _pool_broke(self, error: Exception, index: int, items: range) -> BaseException | None:
        """The error `map` raises when chunk `index` (input `items`) failed with `error`, which is not the task's
        own (run_chunk returns those): a dead worker's BrokenPool. None: `error` is raised as it is."""
        return None

    def _map_chunks(self, task: Callable[[Any], Any], chunks: list[Sequence[Any]], deadline: float | None,
                    outcomes: list[ChunkOutcome | None]) -> None:
        pool, worker_deadline = self._executor(), self._worker_deadline(deadline)
        if self.serializer is None:  # shared memory: the chunk and its outcome are passed as they are
            futures = [pool.submit(run_chunk, task, chunk, worker_deadline) for chunk in chunks]
        else:  # pickled here, in this thread: a pool's feeder thread, which dies on a SystemExit, meets no failure
            handoff = self.handoff()
            futures = handoff.submit_all(lambda payload: pool.submit(run_packed, payload, worker_deadline,
                                                                     self.serializer), task, chunks)
        start = 0
        for index, future in enumerate(futures):
            items = range(start, start + len(chunks[index]))
            try:
                handback = future.result(timeout=remaining(deadline))
            except FuturesTimeout:  # not the builtin TimeoutError before 3.11
                raise TimedOut from None
            except Exception as exc:
                error = self._pool_broke(exc, index, items)
                if error is None:
                    raise
                for pending in futures[index:]:
                    pending.cancel()
                raise error from exc
            try:
                outcomes[index] = handback if self.serializer is None else handoff.unpack(handback, start, len(items))
            except NotPicklable:
                for pending in futures[index + 1:]:
                    pending.cancel()
                raise
            start = items.stop


def call_as_task(variant: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """``fn(*args, **kwargs)`` in a pool's thread, its SystemExit or KeyboardInterrupt raised as TaskExit
    (in a worker thread either is the call's own: a Ctrl-C reaches only the main thread)."""
    try:
        return fn(*args, **kwargs)
    except (SystemExit, KeyboardInterrupt) as exc:
        raise task_exit(variant, exc, "in a submitted call") from exc


def remaining(deadline: float | None) -> float | None:
    """Seconds left before `deadline` (never below 0), or None for no deadline."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


__all__ = [
    "ChunkOutcome", "ExecutorVariant", "RemoteTraceback", "RunRecord", "TaskError", "TimedOut", "Variant",
    "VariantUnavailable", "check_start_method", "remaining", "run_chunk", "usable_cpus",
]
