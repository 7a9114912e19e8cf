"""A task's exit, and work or results that cannot make the trip to a worker process and back, fail the
same way on every variant (handoff.py): TaskExit, NotPicklable, TaskError; never a hang, never the
caller ending, and the pool stays usable.

Each case used to hang or end the caller somewhere, so each runs in a fresh interpreter in a session of
its own, with a short limit: a regression costs a minute at most, and the whole session is killed then.
The case bodies are the `case_*` functions below, called in that interpreter.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from lab_params import make_variant, task_for, variant_params, variant_start_method_params
from lab_tasks import (
    DoubleThatExitsWhenPickled,
    DoubleThatExitsWhenUnpickled,
    DoubleThatRaisesWhenUnpickled,
    ExitsWhenPickled,
    ExitsWhenUnpickled,
    RaisesWhenUnpickled,
    SegfaultsWhenUnpickled,
    exit_three_on_five,
    fail_holding_a_lock,
    fail_unpicklably,
    interrupt_on_five,
    keyword_echo,
    refuse_seven,
    return_a_lock,
    return_exits_when_unpickled,
    return_raises_when_unpickled,
    return_worker_only_class,
    sleep_then_double,
    unrebuildable_then_long,
    unrebuildable_then_worker_dies,
    worker_pid,
)

from concurrency_lab.core import errors
from concurrency_lab.variants import variant_class
from concurrency_lab.variants.base import RemoteTraceback, TaskError
from concurrency_lab.variants.handoff import HandedOffFuture

TESTS = Path(__file__).resolve().parent
CHILD_LIMIT_S = 60  # a case takes a few seconds (a Dask cluster starts in about 2); a hang is caught here
WAIT_S = 30  # what a case waits for one future, well under CHILD_LIMIT_S

EVERY_VARIANT = variant_start_method_params()
#: Variants whose tasks, items and results are serialized to other processes (a cluster's included).
PROCESS_VARIANTS = [p for p in EVERY_VARIANT if variant_class(p.values[0]).serializer is not None]
WITH_FUTURES = [p for p in EVERY_VARIANT if variant_class(p.values[0]).traits().futures]
#: Of those, the ones whose running work a failed call stops (worker interpreters' threads cannot be stopped).
STOPPABLE = [p for p in PROCESS_VARIANTS if variant_class(p.values[0]).stops_running_work]


def _crash_spares_caller(variant) -> bool:
    """A task that crashes its worker leaves the caller alive: its workers are processes of their own."""
    return bool(variant.uses_processes) or not variant.kind.crash_takes_caller


def in_child(case: str, name: str, start_method: str | None) -> None:
    """Run `case(name, start_method)` of this module in a new interpreter and session; fail with its output
    when it fails or outlives CHILD_LIMIT_S (its whole session, pool workers included, is killed then)."""
    path = os.pathsep.join([str(TESTS.parent), str(TESTS), str(TESTS / "support"), *filter(None, [os.environ.get("PYTHONPATH")])])
    code = f"import test_handoff\ntest_handoff.{case}({name!r}, {start_method!r})\nprint('case passed')"
    child = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": path}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = child.communicate(timeout=CHILD_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        output, _ = child.communicate()
        pytest.fail(f"{case} did not finish within {CHILD_LIMIT_S} s (a hang); its output:\n{output}")
    assert child.returncode == 0 and "case passed" in output, \
        f"{case} ended with status {child.returncode}; its output:\n{textwrap.indent(output, '  ')}"


def _expect(error_type: type[BaseException], call, *args, match: str | None = None, **kwargs) -> BaseException:
    """The `error_type` that `call(*args, **kwargs)` raises (pytest.raises, usable outside a test)."""
    with pytest.raises(error_type, match=match) as raised:
        call(*args, **kwargs)
    return raised.value


def _alive(pids) -> bool:
    return all(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


# -- a task's SystemExit and KeyboardInterrupt: TaskExit ---------------------------------------------------

def case_a_task_that_exits(name: str, start_method: str | None) -> None:
    with make_variant(name, start_method, workers=2, chunksize=2) as variant:
        error = _expect(errors.TaskExit, variant.map, task_for(variant, exit_three_on_five), range(8),
                        match=rf"^{name}: the task raised SystemExit\(3\) on item 5")
        assert (error.code, error.exit_type) == (3, "SystemExit")
        if variant.serializer is not None:  # its workers are other processes
            assert isinstance(error.__cause__, RemoteTraceback) and "exit_three_on_five" in str(error.__cause__)
            assert _alive(variant.last_run.worker_pids), "the worker that ran sys.exit died"
        else:
            assert isinstance(error.__cause__, SystemExit)
        ran_exit = variant.last_run.worker_pids

        interrupt = task_for(variant, interrupt_on_five)
        if not variant.concurrent or variant.runs_coroutines:  # the task runs in the caller's main thread
            _expect(KeyboardInterrupt, variant.map, interrupt, range(8))  # a Ctrl-C, as far as anyone can tell
        else:
            error = _expect(errors.TaskExit, variant.map, interrupt, range(8),
                            match=rf"^{name}: the task raised KeyboardInterrupt\(\) on item 5")
            assert (error.code, error.exit_type) == (None, "KeyboardInterrupt")
        assert variant.map(task_for(variant, refuse_seven), [1, 2, 3]) == [10, 20, 30]  # the same pool, warm
        if variant.serializer is not None:  # its workers are other processes
            assert _alive(ran_exit)


@pytest.mark.parametrize(("name", "start_method"), EVERY_VARIANT)
def test_a_task_that_exits_gives_task_exit_and_the_pool_survives(name, start_method):
    in_child("case_a_task_that_exits", name, start_method)


# -- work that cannot be pickled here or rebuilt in a worker: NotPicklable ---------------------------------

def case_work_that_cannot_make_the_trip(name: str, start_method: str | None) -> None:
    with make_variant(name, start_method, workers=2, chunksize=1) as variant:
        variant.map(worker_pid, range(4))
        workers = variant.last_run.worker_pids
        _expect(errors.NotPicklable, variant.map, refuse_seven, [1, 2, ExitsWhenPickled(), 4],
                match=r"item 2 \(ExitsWhenPickled .*SystemExit")
        _expect(errors.NotPicklable, variant.map, DoubleThatExitsWhenPickled(), [1, 2], match="SystemExit")
        in_worker = f"could not be rebuilt in {variant.worker_noun}"
        for item in (RaisesWhenUnpickled(), ExitsWhenUnpickled()):
            _expect(errors.NotPicklable, variant.map, refuse_seven, [1, item, 3], match=rf"^{name}: .*{in_worker}")
        for task in (DoubleThatRaisesWhenUnpickled(), DoubleThatExitsWhenUnpickled()):
            _expect(errors.NotPicklable, variant.map, task, [1, 2], match=rf"^{name}: .*{in_worker}")
        assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]
        assert _alive(workers), "a worker died of what it could not rebuild"
        if not _crash_spares_caller(variant):  # worker interpreters of this process: a crash ends it (test_interpreters)
            return
        # A crash while rebuilding is a worker's death: BrokenPool, here, and the caller lives on.
        _expect(errors.BrokenPool, variant.map, refuse_seven, [1, SegfaultsWhenUnpickled()],
                match=rf"^{name}: .*worker process died")
        assert variant.map(refuse_seven, [1, 2]) == [10, 20]  # replaced


@pytest.mark.parametrize(("name", "start_method"), PROCESS_VARIANTS)
def test_work_that_cannot_be_pickled_or_rebuilt_in_a_worker_is_not_picklable(name, start_method):
    in_child("case_work_that_cannot_make_the_trip", name, start_method)


# -- results and exceptions that cannot come back: NotPicklable, TaskError ----------------------------------

def case_results_that_cannot_come_back(name: str, start_method: str | None) -> None:
    here = "could not be rebuilt in the calling process"
    with make_variant(name, start_method, workers=2, chunksize=1) as variant:
        variant.map(worker_pid, range(4))
        workers = variant.last_run.worker_pids
        for task in (return_worker_only_class, return_raises_when_unpickled, return_exits_when_unpickled):
            _expect(errors.NotPicklable, variant.map, task, [1, 2], match=rf"^{name}: a result of items 0 to 0 .*{here}")
        _expect(errors.NotPicklable, variant.map, return_a_lock, [1, 2],
                match=rf"^{name}: a result could not be sent back from {variant.worker_noun} \(item 0, ")
        error = _expect(TaskError, variant.map, fail_unpicklably, range(5),
                        match=r"^lab_tasks\.NeedsTwoArguments: refused \(2\)$")
        assert isinstance(error.__cause__, RemoteTraceback) and "fail_unpicklably" in str(error.__cause__)
        _expect(TaskError, variant.map, fail_holding_a_lock, range(5), match=r"^lab_tasks\.HoldsALock: refused 2 with a lock$")
        assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]
        assert _alive(workers), "a worker died, though nothing but a result failed"


@pytest.mark.parametrize(("name", "start_method"), PROCESS_VARIANTS)
def test_results_and_exceptions_that_cannot_come_back_are_named_and_the_pool_survives(name, start_method):
    in_child("case_results_that_cannot_come_back", name, start_method)


def case_a_result_that_cannot_come_back_beside_other_work(name: str, start_method: str | None) -> None:
    # Cold: the call is over at NotPicklable, so its other chunks are stopped, not waited for (30 s here).
    _expect(errors.NotPicklable, make_variant(name, start_method, workers=2).map, unrebuildable_then_long, [0, 1],
            chunksize=1, timeout=WAIT_S)
    # Warm: the pool is kept, and a chunk whose worker died after the NotPicklable does not hang close().
    with make_variant(name, start_method, workers=2) as variant:
        _expect(errors.NotPicklable, variant.map, unrebuildable_then_worker_dies, [0, 1], chunksize=1)
        time.sleep(1)  # the second chunk's worker has died by now


@pytest.mark.parametrize(("name", "start_method"), STOPPABLE)
def test_a_result_that_cannot_come_back_ends_the_call_without_waiting_for_its_other_chunks(name, start_method):
    """A second reader's finding: a cold map waited (without its deadline) for the chunks still running after
    a NotPicklable, and a warm mp_pool's close() waited for ever for a chunk whose worker had died."""
    in_child("case_a_result_that_cannot_come_back_beside_other_work", name, start_method)


# -- submit -------------------------------------------------------------------------------------------------

def case_submit(name: str, start_method: str | None) -> None:
    with make_variant(name, start_method, workers=2) as variant:
        assert variant.submit(keyword_echo, 1, self=2, fn=3).result(timeout=WAIT_S) == (1, 2, 3)
        error = variant.submit(exit_three_on_five, 5).exception(timeout=WAIT_S)
        assert isinstance(error, errors.TaskExit) and (error.code, error.exit_type) == (3, "SystemExit"), repr(error)
        assert str(error).startswith(f"{name}: the task raised SystemExit(3) in a submitted call"), str(error)
        error = variant.submit(interrupt_on_five, 5).exception(timeout=WAIT_S)
        assert isinstance(error, errors.TaskExit) and error.exit_type == "KeyboardInterrupt", repr(error)
        error = variant.submit(refuse_seven, 7).exception(timeout=WAIT_S)
        assert isinstance(error, ValueError) and str(error) == "refused 7"
        if variant.serializer is not None:  # its workers are other processes
            assert isinstance(error.__cause__, RemoteTraceback)
            for task in (return_a_lock, return_worker_only_class, return_raises_when_unpickled,
                         return_exits_when_unpickled):
                error = variant.submit(task, 1).exception(timeout=WAIT_S)  # it resolves
                assert isinstance(error, errors.NotPicklable) and str(error).startswith(f"{name}: "), repr(error)
            error = variant.submit(keyword_echo, ExitsWhenUnpickled()).exception(timeout=WAIT_S)
            assert isinstance(error, errors.NotPicklable) and f"rebuilt in {variant.worker_noun}" in str(error), repr(error)
            _expect(errors.NotPicklable, variant.submit, keyword_echo, ExitsWhenPickled(), match=f"^{name}: ")
        assert variant.submit(refuse_seven, 4).result(timeout=WAIT_S) == 40


@pytest.mark.parametrize(("name", "start_method"), WITH_FUTURES)
def test_submit_passes_every_keyword_and_its_futures_fail_as_map_does(name, start_method):
    in_child("case_submit", name, start_method)


@pytest.mark.parametrize(("name", "start_method"), WITH_FUTURES)
def test_a_queued_submit_future_can_still_be_cancelled(name, start_method):
    with make_variant(name, start_method, workers=1) as variant:
        futures = [variant.submit(sleep_then_double, i) for i in range(6)]  # 0.3 s each, one at a time
        assert futures[-1].cancel() and futures[-1].cancelled()
        assert [f.result(timeout=WAIT_S) for f in futures[:2]] == [0, 2]


def test_a_handed_off_future_whose_pool_cancels_it_is_done_for_wait_and_as_completed():
    """A pool that stops cancels its queued futures (Dask's executor shutdown, a map timeout on a warm pool):
    the future `submit` returned must then count as done, as one an executor cancelled does
    (CANCELLED_AND_NOTIFIED), or `wait` and `as_completed` wait for it for ever."""
    inner = concurrent.futures.Future()
    outer = HandedOffFuture(inner, rebuild=lambda handback: None, stopped=lambda error: error)
    assert inner.cancel()
    assert outer.cancelled() and concurrent.futures.wait([outer], timeout=0).done == {outer}
    assert list(concurrent.futures.as_completed([outer], timeout=0)) == [outer]


def test_the_cases_cover_every_variant_that_sends_work_to_other_processes():
    names = {p.values[0] for p in PROCESS_VARIANTS}
    assert names >= {p.values[0] for p in variant_params(processes=True)}
    assert names >= {p.values[0] for p in variant_params() if not variant_class(p.values[0]).kind.in_process}


def test_a_handed_off_future_cancelled_by_its_caller_and_its_pool_at_once_is_done_for_wait():
    """The race a second reader found: the pool cancels the inner future and has not yet run its callbacks
    when the caller cancels the outer one; whichever gets there first, the outer ends CANCELLED_AND_NOTIFIED."""
    inner = concurrent.futures.Future()
    outer = HandedOffFuture(inner, rebuild=lambda handback: None, stopped=lambda error: error)
    with inner._condition:  # the pool's cancel, stopped before its callbacks run
        inner._state = concurrent.futures._base.CANCELLED
    assert outer.cancel()
    inner._invoke_callbacks()  # the pool's cancel, resumed
    assert concurrent.futures.wait([outer], timeout=0).done == {outer}
