"""The failure cases as data: what each probe does, which variants it applies to (by traits), and
the outcome the lab documents for it. Running them is `runner.py`'s job."""

from __future__ import annotations

import concurrent.futures
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BrokenPool, MapTimeout, NotPicklable
from ..traits import Kind
from ..variants.base import RemoteTraceback
from . import tasks

PROBE_WORKERS = 2  # one worker fails while another is busy: what a pool must survive and report
ITEMS = (0, 1, 2, 3)  # `tasks.FAILING_ITEM` among them, with items on either side
#: The `timeout=` of every probe that is not about timeouts: a map still silent after this long is
#: as good as hung (a cold pool starts in well under a second here).
GUARD_TIMEOUT_S = 10.0
TIMEOUT_S = 0.2  # the timeout case's `timeout=`
#: How long the timeout case's tasks sleep: well past TIMEOUT_S, yet short enough that a thread,
#: which cannot be stopped, ends by itself soon after and outlives no probe.
SLEEP_S = 1.0


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class Expected:
    """The documented outcome of a case for one variant: an exception (with what it must carry), or results."""

    error: type[BaseException] | None  # None: map returns `results`
    message: str | None = None  # the first line of the error's message, where every variant must agree
    cause: type[BaseException] | None = None  # what `__cause__` must be
    stopped: bool | None = None  # MapTimeout.stopped, where the variant's kind decides it
    results: tuple[Any, ...] | None = None

    @property
    def name(self) -> str:
        """A qualified exception name, or "results"."""
        return "results" if self.error is None else qualified_name(self.error)

    def met_by(self, error: BaseException | None, results: Any) -> bool:
        if self.error is None:
            return error is None and results is not None and tuple(results) == self.results
        if not isinstance(error, self.error):
            return False
        return ((self.message is None or first_line(error) == self.message)
                and (self.cause is None or isinstance(error.__cause__, self.cause))
                and (self.stopped is None or getattr(error, "stopped", None) is self.stopped))


def first_line(error: BaseException) -> str:
    text = str(error)
    return text.splitlines()[0] if text else ""


@dataclass(frozen=True)
class FailureCase:
    """One way to fail: what its probe runs, and which outcome the lab documents for each variant it applies to."""

    name: str  # an identifier: "worker_exits"
    title: str  # the table's column: "worker exits"
    does: str  # what the probe does, for the report's notes
    applies_to: str  # which variants it applies to, in words (the report says why a cell is empty)
    task: Callable[[Any], Any]
    async_task: Callable[[Any], Any]  # the same, as a coroutine function: for variants that run coroutines
    items: tuple[Any, ...]
    expect: Callable[[type], Expected]  # the variant class -> its documented outcome
    applies: Callable[[type], bool] = lambda cls: True  # by the variant's traits (default: every variant)
    timeout_s: float = GUARD_TIMEOUT_S
    unavailable: str | None = None  # why it cannot run on this platform
    run: Callable[[FailureCase, Any], Any] | None = None  # (case, variant) -> results, instead of map

    def task_for(self, cls: type) -> Callable[[Any], Any]:
        return self.async_task if cls.runs_coroutines else self.task

    def call(self, variant: Any) -> Any:
        """What the probe calls: `map`, unless the case says otherwise (`run`)."""
        if self.run is not None:
            return self.run(self, variant)
        return variant.map(self.task_for(type(variant)), self.items, timeout=self.timeout_s)


def _workers_are_processes(cls: type) -> bool:
    """A pool's or a cluster's worker processes: what a task can kill, and where its traceback comes from."""
    return bool(cls.uses_processes) or not cls.kind.in_process


def _broken_pool(cls: type) -> Expected:
    return Expected(BrokenPool)


def _task_error(cls: type) -> Expected:
    return Expected(tasks.ProbeFailure, message=tasks.refusal(tasks.FAILING_ITEM),
                    cause=RemoteTraceback if _workers_are_processes(cls) else None)


def _map_timeout(cls: type) -> Expected:
    """Worker processes are stopped; a running thread cannot be; other kinds say for themselves."""
    stopped = True if cls.uses_processes else False if cls.kind is Kind.THREADS else None
    return Expected(MapTimeout, stopped=stopped)


def _refused_or_run(cls: type) -> Expected:
    """Variants that pickle tasks refuse a local function at the call; cloudpickle carries it, and
    in-process variants need not send it at all."""
    if cls.serializer == "pickle":
        return Expected(NotPicklable)
    return Expected(None, results=tuple(tasks.add_one(item) for item in ITEMS))


def _offers_futures(cls: type) -> bool:
    return bool(cls.traits().futures)


def _submit_and_never_ask(case: FailureCase, variant: Any) -> tuple[Any, ...]:
    """The lesson's warning: submit a failing task, wait until it is done, and do not ask. Nothing
    raises; only afterwards is the future looked at, to show the exception was stored in it."""
    with variant:
        future = variant.submit(case.task, tasks.FAILING_ITEM)
        concurrent.futures.wait([future], timeout=case.timeout_s)
        return (future.done(), type(future.exception(timeout=0)).__name__)


def _stored_silently(cls: type) -> Expected:
    return Expected(None, results=(True, tasks.ProbeFailure.__name__))


_ALL, _PROCESSES = "every variant", "variants whose workers are processes"
_ON = f"on item {tasks.FAILING_ITEM}"

CASES: tuple[FailureCase, ...] = (
    FailureCase("task_raises", "task raises", f"the task raises ProbeFailure {_ON}", _ALL,
                tasks.raise_on_item, tasks.raise_on_item_async, ITEMS, _task_error),
    FailureCase("worker_exits", "worker exits", f"the task calls os._exit(1) {_ON}", _PROCESSES,
                tasks.exit_on_item, tasks.exit_on_item_async, ITEMS, _broken_pool, _workers_are_processes),
    FailureCase("worker_killed", "worker killed", f"the task sends SIGKILL to its own worker {_ON}", _PROCESSES,
                tasks.kill_self_on_item, tasks.kill_self_on_item_async, ITEMS, _broken_pool, _workers_are_processes,
                unavailable=None if hasattr(signal, "SIGKILL") else "this platform has no SIGKILL"),
    FailureCase("worker_crashes", "worker crashes", f"the task reads address 0 through ctypes (a segfault) {_ON}",
                _PROCESSES, tasks.crash_on_item, tasks.crash_on_item_async, ITEMS, _broken_pool, _workers_are_processes),
    FailureCase("timeout", "timeout", f"{PROBE_WORKERS} tasks each sleep {SLEEP_S:g} s; map(timeout={TIMEOUT_S:g})",
                _ALL, tasks.sleep_for, tasks.sleep_for_async, (SLEEP_S,) * PROBE_WORKERS, _map_timeout,
                timeout_s=TIMEOUT_S),
    FailureCase("unpicklable_task", "unpicklable task", "the task is a function defined inside another one", _ALL,
                tasks.UNPICKLABLE, tasks.UNPICKLABLE_ASYNC, ITEMS, _refused_or_run),
    FailureCase("future_unasked", "future nobody asks", f"submit() a task that raises {_ON}, wait, never ask",
                "variants that offer submit()", tasks.raise_on_item, tasks.raise_on_item_async, (tasks.FAILING_ITEM,),
                _stored_silently, _offers_futures, run=_submit_and_never_ask),
)
CASES_BY_NAME = {case.name: case for case in CASES}
