"""The one call shape every variant shares; validation, chunking and ordering live here once."""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..cpus import available_start_methods, default_start_method, usable_cpus, worker_count_problem
from ..traits import Kind, Role, VariantTraits


class VariantUnavailable(RuntimeError):
    """The variant cannot run here (this Python, this platform, a missing package, this workload)."""


@dataclass(frozen=True)
class ChunkOutcome:
    """What one worker sends back for one chunk: results in order, who computed them, at what CPU cost."""

    results: list[Any]
    pid: int
    cpu_seconds: float  # CPU time of the thread that ran the chunk, measured in that thread
    error: Exception | None = None  # what the task raised for the item after the last result
    error_traceback: str | None = None  # formatted where it happened (tracebacks do not pickle)


class TaskError(Exception):
    """Stands in for a task's exception that could not be sent back from a worker process."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in another process, shown as its cause."""

    def __str__(self) -> str:
        return str(self.args[0])


def run_chunk(task: Callable[[Any], Any], chunk: Sequence[Any]) -> ChunkOutcome:
    """Run `task` over one chunk. Module-level, so process pools can pickle it.

    Each worker reports its own CPU time: a sampler cannot see the last CPU of a worker
    that exits between samples, and forkserver workers are not our children. A task's
    exception travels back as a value, so `map` can raise the first one in input order
    whichever worker met it first.
    """
    started, results = time.thread_time(), []
    try:
        for item in chunk:
            results.append(task(item))
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


@dataclass(frozen=True)
class RunRecord:
    """Structural facts about the last `map` call, for tests and measurements."""

    items: int
    chunks: int
    chunksize: int
    worker_pids: frozenset[int]
    worker_cpu_seconds: float  # CPU spent running tasks, summed over chunks, whatever process ran them

    @classmethod
    def from_outcomes(cls, items: int, chunksize: int, outcomes: Sequence[ChunkOutcome]) -> RunRecord:
        return cls(
            items=items,
            chunks=len(outcomes),
            chunksize=chunksize,
            worker_pids=frozenset(o.pid for o in outcomes),
            worker_cpu_seconds=sum(o.cpu_seconds for o in outcomes),
        )


def check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be an int of at least 1, not {type(workers).__name__} {workers!r}")
    problem = worker_count_problem(workers)
    if problem is not None:
        raise ValueError(f"workers {problem}")
    return workers


def check_chunksize(chunksize: object) -> int | None:
    if chunksize is None:
        return None
    if isinstance(chunksize, bool) or not isinstance(chunksize, int):
        raise TypeError(f"chunksize must be an int of at least 1 or None, not {type(chunksize).__name__}")
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1 (or None for the variant's default), got {chunksize}")
    return chunksize


def check_start_method(start_method: object) -> str | None:
    if start_method is None:
        return None
    methods = available_start_methods()
    if start_method not in methods:
        raise ValueError(f"start method {start_method!r} is not available here; choose one of {', '.join(methods)}")
    return str(start_method)


def _defined_in_unimportable_main(task: object) -> bool:
    func = getattr(task, "func", task)  # functools.partial
    main = sys.modules.get("__main__")
    return getattr(func, "__module__", None) == "__main__" and not getattr(main, "__file__", None)


def as_list(items: object) -> list[Any]:
    if isinstance(items, (str, bytes)):
        raise TypeError(f"items must be an iterable of items, not a single {type(items).__name__}; wrap it: [{items!r}]")
    try:
        return list(items)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"items must be iterable, not {type(items).__name__}") from None


def chunked(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Variant(ABC):
    """Run a task over items with some kind of concurrency, returning results in input order.

    Use it cold, ``Variant(workers=4).map(task, items)``, which starts and stops its pool
    around the call, or warm, ``with Variant(workers=4) as v: v.map(...); v.map(...)``,
    which keeps one pool for every call. The first exception a task raises (in input order)
    is raised by ``map``: no failure is left unasked in a future.
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
    uses_processes: ClassVar[bool] = False  # tasks are pickled to worker processes made with a start method
    concurrent: ClassVar[bool] = True  # set from `kind`: False for one item at a time, whatever `workers` says
    runs_coroutines: ClassVar[bool] = False  # True: tasks are coroutine functions (an event loop runs them)
    #: Tasks per worker when no chunk size is given, as multiprocessing.Pool.map does
    #: (ceil(n / (4 * workers))). None sends one item per task: for threads a hand-off
    #: costs microseconds and one-item tasks balance I/O waits best.
    chunks_per_worker: ClassVar[int | None] = None

    def __init__(self, workers: int | None = None, *, chunksize: int | None = None, start_method: str | None = None):
        self.workers = self.default_workers() if workers is None else check_workers(workers)
        self.chunksize = check_chunksize(chunksize)
        if start_method is not None and not self.uses_processes:
            raise ValueError(f"variant {self.name!r} starts no processes, so it takes no start method")
        self.start_method = check_start_method(start_method)
        self.last_run: RunRecord | None = None
        self._pool: Any = None
        self._running = False

    def __repr__(self) -> str:
        extra = f", start_method={self.start_method!r}" if self.uses_processes else ""
        return f"{type(self).__name__}(workers={self.workers}, chunksize={self.chunksize}{extra})"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in vars(cls):
            cls.concurrent = cls.kind is not Kind.SEQUENTIAL

    @classmethod
    def has_pool(cls) -> bool:
        """Whether it keeps workers between calls (so warm and cold differ)."""
        return cls._open is not Variant._open

    @classmethod
    def traits(cls, gil_enabled: bool | None = None) -> VariantTraits:
        """Its traits; `gil_enabled` is the build's GIL state, which decides whether in-process workers share one."""
        return VariantTraits(
            kind=cls.kind, api_family=cls.api_family, api=cls.api, role=cls.role, lesson_pair=cls.lesson_pair,
            runs_coroutines=cls.runs_coroutines, has_pool=cls.has_pool(),
            subject_to_gil=None if gil_enabled is None else cls.kind.in_process and gil_enabled,
        )

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this variant cannot run on this Python or platform, or None when it can."""
        return None

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
        """Start the pool now (idempotent), so later `map` calls measure warm work."""
        if not self._running:
            self._pool = self._open()
            self._running = True

    def close(self) -> None:
        """Stop the pool and wait for its workers (idempotent)."""
        if self._running:
            pool, self._pool, self._running = self._pool, None, False
            self._close(pool)

    def __enter__(self) -> Variant:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def map(self, task: Callable[[Any], Any], items: Iterable[Any], *, chunksize: int | None = None) -> list[Any]:
        """Return ``[task(item) for item in items]``, computed by this variant's workers."""
        self.check_task(task)
        items = as_list(items)
        size = check_chunksize(chunksize) or self.chunksize_for(len(items))
        if not items:  # nothing to do: no pool is started for it
            self.last_run = RunRecord.from_outcomes(0, size, [])
            return []
        chunks = chunked(items, size)
        if self.running:
            outcomes = self._map_chunks(task, chunks)
        else:
            with self:
                outcomes = self._map_chunks(task, chunks)
        self.last_run = RunRecord.from_outcomes(len(items), size, outcomes)
        raise_first_error(outcomes)
        return [result for outcome in outcomes for result in outcome.results]

    def check_task(self, task: object) -> None:
        if not callable(task):
            raise TypeError(f"task must be callable, not {type(task).__name__}")

    def _open(self) -> Any:
        """Start and return the pool (None for variants without one)."""
        return None

    def _close(self, pool: Any) -> None:
        """Stop the pool `_open` returned and wait for its workers."""

    @abstractmethod
    def _map_chunks(self, task: Callable[[Any], Any], chunks: list[Sequence[Any]]) -> list[ChunkOutcome]:
        """Run `run_chunk(task, chunk)` for every chunk on `self._pool`; outcomes in chunk order."""


class ProcessVariant(Variant):
    """Base for variants whose workers are processes: a start method and Pool-like chunking."""

    kind = Kind.PROCESSES
    uses_processes = True
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
            pickle.dumps(task)
        except Exception as exc:
            raise TypeError(
                f"variant {self.name!r} sends the task to other processes, so it must be picklable: "
                f"use a module-level function (not a lambda, closure or bound method of a local object); "
                f"pickling {task!r} failed with {type(exc).__name__}: {exc}"
            ) from exc
        if self.effective_start_method != "fork" and _defined_in_unimportable_main(task):
            # Pickling passed (by reference), but a spawn or forkserver worker cannot import
            # __main__ from a REPL or `python -c`: Pool would restart failing workers forever.
            raise TypeError(
                f"{task!r} is defined in an interactive __main__, which {self.effective_start_method!r} "
                f"workers cannot import; move it into a module, or use start_method='fork'"
            )
