"""The failure cases as data: what each probe does, which variants it applies to (by traits), and
the outcome the lab documents for it. Running them is `runner.py`'s job."""

from __future__ import annotations

import concurrent.futures
import signal
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ..core.errors import BrokenPool, MapTimeout, NotPicklable, TaskExit
from ..records.failure_outcomes import CALLER_ENDS
from ..variants.base import RemoteTraceback, TaskError, Variant
from . import tasks

PROBE_WORKERS = 2  # one worker fails while another is busy: what a pool must survive and report
ITEMS = (0, 1, 2, 3)  # `tasks.FAILING_ITEM` among them, with items on either side
#: The `timeout=` of every probe that is not about timeouts: a map still silent after this long is
#: as good as hung (far past a cold pool's start-up: the cold rows of `concurrency-lab run`).
GUARD_TIMEOUT_S = 10.0
TIMEOUT_S = 0.2  # the timeout case's `timeout=`
#: How long the timeout case's tasks sleep: well past TIMEOUT_S, yet short enough that a thread,
#: which cannot be stopped, ends by itself soon after and outlives no probe.
SLEEP_S = 1.0


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class Expected:
    """The documented outcome of a case for one variant: an exception (with what it must carry); results: the
    values map returns, or the words a case's own `run` returns to say what happened; or the calling process
    ending with a given status (`ends_with`), which only the process that ran the probe can see."""

    error: type[BaseException] | None  # None: map returns `results`
    message: str | None = None  # the first line of the error's message, where every variant must agree
    says: str | None = None  # words the message must contain, where each variant words the rest its own way
    cause: type[BaseException] | None = None  # what `__cause__` must be
    stopped: bool | None = None  # MapTimeout.stopped, where the variant's kind decides it
    carries: tuple[tuple[str, Any], ...] = ()  # (attribute, value) pairs the error must hold: TaskExit.code
    results: tuple[Any, ...] | str | None = None
    #: The calling process ends during the call, with this status as subprocess reports it (-N: signal N).
    ends_with: int | None = None

    @property
    def name(self) -> str:
        """A qualified exception name; what a case's `run` must say; "results"; or CALLER_ENDS."""
        if self.error is not None:
            return qualified_name(self.error)
        if self.ends_with is not None:
            return CALLER_ENDS
        return self.results if isinstance(self.results, str) else "results"

    def ended_as(self, status: int | None) -> bool:
        """Whether a probe process that ended during the call with `status` (None: it did not) did as documented."""
        return self.ends_with is not None and status == self.ends_with

    def met_by(self, error: BaseException | None, results: Any) -> bool:
        """Whether a call that raised `error` or returned `results` did as documented (never, where it should
        have ended the calling process)."""
        if self.ends_with is not None:
            return False
        if self.error is None:
            return error is None and results is not None and _compared(results) == self.results
        if not isinstance(error, self.error):
            return False
        return ((self.message is None or first_line(error) == self.message)
                and (self.says is None or self.says in str(error))
                and (self.cause is None or isinstance(error.__cause__, self.cause))
                and (self.stopped is None or getattr(error, "stopped", None) is self.stopped)
                and all(getattr(error, name, _MISSING) == value for name, value in self.carries))


_MISSING = object()


def _compared(results: Any) -> Any:
    """What a call returned, as `Expected.results` holds it: words as they are, values as a tuple."""
    return results if isinstance(results, str) else tuple(results)


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
    expect: Callable[[type[Variant]], Expected]  # the variant class -> its documented outcome
    applies: Callable[[type[Variant]], bool] = lambda cls: True  # by the variant's traits (default: every variant)
    timeout_s: float = GUARD_TIMEOUT_S
    unavailable: str | None = None  # why it cannot run on this platform
    run: Callable[[FailureCase, Any], Any] | None = None  # (case, variant) -> results, instead of map

    def task_for(self, cls: type[Variant]) -> Callable[[Any], Any]:
        return self.async_task if cls.runs_coroutines else self.task

    def call(self, variant: Any) -> Any:
        """What the probe calls: `map`, unless the case says otherwise (`run`)."""
        if self.run is not None:
            return self.run(self, variant)
        return variant.map(self.task_for(type(variant)), self.items, timeout=self.timeout_s)


def _another_interpreter(cls: type[Variant]) -> bool:
    """Its workers run tasks in another interpreter than the caller's (other processes, or interpreters of this
    one): what reaches them and comes back is serialized, and a task's traceback comes back as text, the
    exception's cause (`chunks.here` tells them apart by pid and interpreter id). Workers that share the
    caller's memory declare no serializer."""
    return cls.serializer is not None


def _crash_spares_caller(cls: type[Variant]) -> bool:
    """A task that ends or crashes its worker's interpreter does not take the calling process with it."""
    return bool(cls.uses_processes) or not cls.kind.crash_takes_caller


def _killed_by(name: str) -> int | None:
    """The status subprocess reports for a process that signal `name` ended (None: this platform has no such signal)."""
    number = getattr(signal, name, None)
    return None if number is None else -int(number)


def _broken_pool_or_caller_ends(status: int | None) -> Callable[[type[Variant]], Expected]:
    """BrokenPool where the dying worker is a process of its own; where the task runs in the calling process (its
    threads, its loop, its interpreters: the kind's `crash_takes_caller`), that process ends with `status`."""
    def expect(cls: type[Variant]) -> Expected:
        return Expected(BrokenPool) if _crash_spares_caller(cls) else Expected(None, ends_with=status)
    return expect


def _task_error(cls: type[Variant]) -> Expected:
    return Expected(tasks.ProbeFailure, message=tasks.refusal(tasks.FAILING_ITEM),
                    cause=RemoteTraceback if _another_interpreter(cls) else None)


def _map_timeout(cls: type[Variant]) -> Expected:
    """Worker processes are stopped; a running thread cannot be; other kinds say for themselves."""
    stopped = True if cls.uses_processes else cls.kind.timeout_stops_work
    return Expected(MapTimeout, stopped=stopped)


def _refused_or_run(cls: type[Variant]) -> Expected:
    """Variants that pickle tasks refuse a local function at the call; cloudpickle carries it, and
    in-process variants need not send it at all."""
    if cls.serializer == "pickle":
        return Expected(NotPicklable)
    return Expected(None, results=tuple(tasks.add_one(item) for item in ITEMS))


def _offers_futures(cls: type[Variant]) -> bool:
    return bool(cls.traits().futures)


def _submit_and_never_ask(case: FailureCase, variant: Any) -> tuple[Any, ...]:
    """The lesson's warning: submit a failing task, wait until it is done, and do not ask. Nothing
    raises; only afterwards is the future looked at, to show the exception was stored in it."""
    with variant:
        future = variant.submit(case.task, tasks.FAILING_ITEM)
        concurrent.futures.wait([future], timeout=case.timeout_s)
        return (future.done(), type(future.exception(timeout=0)).__name__)


def _stored_silently(cls: type[Variant]) -> Expected:
    return Expected(None, results=(True, tasks.ProbeFailure.__name__))


def _task_exit(cls: type[Variant]) -> Expected:
    """A task's SystemExit is a task's failure, never the caller's exit: TaskExit from every variant,
    naming the item, with the worker's traceback (or, in the caller's interpreter, the SystemExit itself) as its cause."""
    return Expected(TaskExit, says=f"SystemExit({tasks.EXIT_CODE}) on item {tasks.FAILING_ITEM}",
                    cause=RemoteTraceback if _another_interpreter(cls) else SystemExit,
                    carries=(("code", tasks.EXIT_CODE), ("exit_type", "SystemExit")))


def _not_picklable_or(results: tuple[Any, ...], says: str | None = None) -> Callable[[type[Variant]], Expected]:
    """NotPicklable where the object must cross to or from another interpreter; variants whose workers share the
    caller's memory, which send nothing, return `results`."""
    def expect(cls: type[Variant]) -> Expected:
        return Expected(NotPicklable, says=says) if _another_interpreter(cls) else Expected(None, results=results)
    return expect


def _error_text_or_error(cls: type[Variant]) -> Expected:
    """A task's exception the caller cannot rebuild arrives as a TaskError carrying its class and text;
    in the caller's interpreter there is nothing to rebuild, so it is raised itself; workers that pickle exceptions by
    their attributes (tblib, with Dask) rebuild it whole, the worker's traceback as its cause."""
    text = tasks.refusal(tasks.FAILING_ITEM)
    if _another_interpreter(cls) and cls.exceptions_by_attributes:
        return Expected(tasks.UnrebuildableError, message=text, cause=RemoteTraceback)
    if _another_interpreter(cls):
        return Expected(TaskError, says=f"{qualified_name(tasks.UnrebuildableError)}: {text}", cause=RemoteTraceback)
    return Expected(tasks.UnrebuildableError, message=text)


def _not_picklable(cls: type[Variant]) -> Expected:
    return Expected(NotPicklable)


def _added_one(cls: type[Variant]) -> Expected:
    return Expected(None, results=tuple(tasks.add_one(item) for item in ITEMS))


def fate(future: concurrent.futures.Future, timeout: float) -> str:
    """What became of a future, in a word: "finished" (a result), "stopped" (cancelled, or its pool
    broke under it), "still running" (not done within `timeout`), or the name of what it raised."""
    concurrent.futures.wait([future], timeout=timeout)
    if future.cancelled():
        return "stopped"
    if not future.done():
        return "still running"
    error = future.exception(timeout=0)
    if error is None:
        return "finished"
    return "stopped" if isinstance(error, (BrokenProcessPool, concurrent.futures.CancelledError)) else type(error).__name__


def _break_under_submit_then_map(case: FailureCase, variant: Any) -> tuple[Any, ...]:
    """A worker dies under `submit`; the next `map` on the same warm pool must run on a new pool."""
    with variant:
        fate(variant.submit(tasks.exit_on_item, tasks.FAILING_ITEM), case.timeout_s)
        return tuple(variant.map(case.task, case.items, timeout=case.timeout_s))


def _warm_timeout_beside_a_future(case: FailureCase, variant: Any) -> str:
    """A future from `submit` is running when a `map` on the same warm pool times out: what becomes of it."""
    with variant:
        earlier = variant.submit(tasks.sleep_for, SLEEP_S)
        try:
            variant.map(case.task, case.items, timeout=TIMEOUT_S)
        except MapTimeout:
            return f"earlier future {fate(earlier, case.timeout_s)}"
        return f"no timeout; earlier future {fate(earlier, case.timeout_s)}"


def _warm_timeout_fate(cls: type[Variant]) -> Expected:
    """Stopping a timed-out map's running work stops the pool's other running work too: a process
    pool's workers are stopped whole. Threads cannot be stopped, so the earlier future finishes."""
    return Expected(None, results="earlier future " + ("stopped" if cls.stops_running_work else "finished"))


def _close_while_a_future_runs(case: FailureCase, variant: Any) -> str:
    """`close()` with a submitted future still running: as `Executor.shutdown(wait=True)`, it waits for it."""
    with variant:
        future = variant.submit(case.task, case.items[0])
    return f"future {fate(future, 0)}"


def _close_waited(cls: type[Variant]) -> Expected:
    return Expected(None, results="future finished")


_ALL, _SENDS = "every variant", "variants whose workers run in another interpreter (tasks are pickled)"
_SUBMIT = "variants that offer submit()"
_DIES = f"every variant: BrokenPool where the worker is a process of its own, else {CALLER_ENDS}"
_ON = f"on item {tasks.FAILING_ITEM}"
#: ITEMS with the failing one an object whose pickling calls sys.exit
_ITEMS_ONE_EXITS = tuple(tasks.ExitsWhenPickled(item) if item == tasks.FAILING_ITEM else item for item in ITEMS)

CASES: tuple[FailureCase, ...] = (
    FailureCase("task_raises", "task raises", f"the task raises ProbeFailure {_ON}", _ALL,
                tasks.raise_on_item, tasks.raise_on_item_async, ITEMS, _task_error),
    FailureCase("worker_exits", "worker exits", f"the task calls os._exit({tasks.HARD_EXIT_CODE}) {_ON}", _DIES,
                tasks.exit_on_item, tasks.exit_on_item_async, ITEMS, _broken_pool_or_caller_ends(tasks.HARD_EXIT_CODE)),
    FailureCase("worker_killed", "worker killed", f"the task sends SIGKILL to its own process {_ON}", _DIES,
                tasks.kill_self_on_item, tasks.kill_self_on_item_async, ITEMS, _broken_pool_or_caller_ends(
                    _killed_by("SIGKILL")), unavailable=None if hasattr(signal, "SIGKILL") else "this platform has no SIGKILL"),
    FailureCase("worker_crashes", "worker crashes", f"the task reads address 0 through ctypes (a segfault) {_ON}",
                _DIES, tasks.crash_on_item, tasks.crash_on_item_async, ITEMS, _broken_pool_or_caller_ends(
                    _killed_by("SIGSEGV"))),
    FailureCase("timeout", "timeout", f"{PROBE_WORKERS} tasks each sleep {SLEEP_S:g} s; map(timeout={TIMEOUT_S:g})",
                _ALL, tasks.sleep_for, tasks.sleep_for_async, (SLEEP_S,) * PROBE_WORKERS, _map_timeout,
                timeout_s=TIMEOUT_S),
    FailureCase("unpicklable_task", "unpicklable task", "the task is a function defined inside another one", _ALL,
                tasks.UNPICKLABLE, tasks.UNPICKLABLE_ASYNC, ITEMS, _refused_or_run),
    FailureCase("future_unasked", "future nobody asks", f"submit() a task that raises {_ON}, wait, never ask",
                _SUBMIT, tasks.raise_on_item, tasks.raise_on_item_async, (tasks.FAILING_ITEM,),
                _stored_silently, _offers_futures, run=_submit_and_never_ask),
    FailureCase("task_exits", "task exits", f"the task calls sys.exit({tasks.EXIT_CODE}) {_ON}", _ALL,
                tasks.sys_exit_on_item, tasks.sys_exit_on_item_async, ITEMS, _task_exit),
    FailureCase("result_not_rebuilt", "result not rebuilt",
                f"the task returns, {_ON}, an object whose unpickling raises", _ALL,
                tasks.return_unrebuildable_on_item, tasks.return_unrebuildable_on_item_async, ITEMS,
                _not_picklable_or(tuple(tasks.return_unrebuildable_on_item(item) for item in ITEMS))),
    FailureCase("error_not_rebuilt", "error not rebuilt",
                f"the task raises, {_ON}, an exception that pickles but cannot be unpickled", _ALL,
                tasks.raise_unrebuildable_on_item, tasks.raise_unrebuildable_on_item_async, ITEMS, _error_text_or_error),
    FailureCase("item_exits_pickled", "item exits when pickled", f"pickling item {tasks.FAILING_ITEM} calls "
                f"sys.exit({tasks.EXIT_CODE})", _ALL, tasks.identity, tasks.identity_async, _ITEMS_ONE_EXITS,
                _not_picklable_or(_ITEMS_ONE_EXITS, says=f"item {tasks.FAILING_ITEM}")),
    FailureCase("task_not_rebuilt", "task not rebuilt", "the task pickles, but its unpickling in a worker raises",
                _SENDS, tasks.UNREBUILDABLE_TASK, tasks.UNREBUILDABLE_TASK, ITEMS, _not_picklable,
                _another_interpreter),
    FailureCase("broken_by_submit", "broken by submit", f"submit() a task that calls os._exit({tasks.HARD_EXIT_CODE}), "
                "then map on the same warm pool", "variants that offer submit() and whose workers are processes of "
                "their own (elsewhere the exit ends the caller)", tasks.add_one, tasks.add_one_async, ITEMS, _added_one,
                lambda cls: _offers_futures(cls) and _crash_spares_caller(cls), run=_break_under_submit_then_map),
    FailureCase("timeout_beside_submit", "timeout beside submit", f"submit() a task that sleeps {SLEEP_S:g} s, then "
                f"map on the same warm pool times out (timeout={TIMEOUT_S:g})", _SUBMIT, tasks.sleep_for,
                tasks.sleep_for_async, (SLEEP_S,) * PROBE_WORKERS, _warm_timeout_fate, _offers_futures,
                run=_warm_timeout_beside_a_future),
    FailureCase("close_waits", "close waits", f"submit() a task that sleeps {SLEEP_S:g} s, then close() at once",
                _SUBMIT, tasks.sleep_for, tasks.sleep_for_async, (SLEEP_S,), _close_waited, _offers_futures,
                run=_close_while_a_future_runs),
)
CASES_BY_NAME = {case.name: case for case in CASES}
