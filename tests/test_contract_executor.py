"""CPython's `test_concurrent_futures` executor, wait, as_completed and future cases (and their copies in
loky's `_test_process_executor.py`), rewritten against the lab's `submit`/`map` on every variant that offers
`submit` (traits().futures), once per start method it takes. Nothing here crashes a worker: the crash and
pickling cases are in test_contract_deadlock.py, each in a child process.

A cross-process Event is a flag file (`wait_for_flag`): it works for spawn, forkserver and a cluster on
127.0.0.1 alike, where CPython's tests use a Manager's Event.
"""

from __future__ import annotations

import concurrent.futures as futures
import threading
import traceback

import contract_tasks as tasks
import pytest
from lab_params import make_variant, variant_start_method_params

from concurrency_lab.variants import variant_class

EXECUTORS = [p for p in variant_start_method_params() if variant_class(p.values[0]).traits().futures]
WORKERS = 2
LIMIT = 60  # seconds any one future may take here: a liveness bound, never a timing assertion


def _future(*, result=None, exception=None, cancelled=False, notified=False) -> futures.Future:
    """CPython util.create_future, through the public API: a finished, cancelled or cancelled-and-notified Future."""
    future = futures.Future()
    if cancelled:
        future.cancel()
        if notified:
            future.set_running_or_notify_cancel()
    elif exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
    return future


@pytest.fixture(params=[pytest.param(p.values, id=p.id, marks=p.marks) for p in EXECUTORS])
def executor(request):
    with make_variant(*request.param, workers=WORKERS) as variant:
        yield variant


@pytest.fixture
def flag(tmp_path):
    """A flag file's path: tasks waiting for it go on once the test sets it; set at teardown in any case."""
    path = tmp_path / "flag"
    yield str(path)
    path.touch()


def _set(path: str) -> None:
    open(path, "w").close()


# --- executor.py: ExecutorTest ---

def test_submit(executor):
    """CPython executor.py test_submit."""
    assert executor.submit(pow, 2, 8).result(timeout=LIMIT) == 256


def test_submit_keyword(executor):
    """CPython executor.py test_submit_keyword: `submit(fn, /, *args, **kwargs)` passes every keyword on,
    `self=` and `fn=` included; without a positional callable it is a TypeError."""
    assert executor.submit(tasks.mul, 2, y=8).result(timeout=LIMIT) == 16
    assert executor.submit(tasks.capture, 1, self=2, fn=3).result(timeout=LIMIT) == ((1,), {"self": 2, "fn": 3})
    with pytest.raises(TypeError):
        executor.submit(fn=tasks.capture, arg=1)
    with pytest.raises(TypeError):
        executor.submit(arg=1)


def test_map_and_its_chunksize(executor):
    """CPython executor.py test_map and test_process_pool.py test_map_chunksize (one-argument tasks: the lab's
    map takes one iterable): every chunk size gives the same results in input order; -1 is a ValueError."""
    expected = [2 * x for x in range(40)]
    assert executor.map(tasks.double, range(40)) == expected
    for chunksize in (3, 6, 40, 50):
        assert executor.map(tasks.double, range(40), chunksize=chunksize) == expected
    with pytest.raises(ValueError):
        executor.map(tasks.double, range(40), chunksize=-1)


def test_map_raises_the_first_error_at_the_call(executor):
    """CPython executor.py test_map_exception, a documented difference: CPython's map returns an iterator that
    yields (0, 1) twice and raises ZeroDivisionError at the third `next`; the lab's map returns a list, so it
    raises the first error in input order at the call, and keeps what finished in `last_run.salvaged`."""
    with pytest.raises(ZeroDivisionError):
        executor.map(tasks.divide_ten_by, [2, 5, 0, 1], chunksize=1)
    assert executor.last_run.salvaged.get(0) == 5 and executor.last_run.salvaged.get(1) == 2


def test_map_timeout_raises_map_timeout(executor):
    """CPython executor.py test_map_timeout, a documented difference: CPython yields the results before the
    slow item, then raises TimeoutError from the iterator; the lab raises MapTimeout (a TimeoutError) at the
    call, saying how many items have no result, and keeps the finished ones in `last_run.salvaged`."""
    with pytest.raises(TimeoutError) as raised:
        executor.map(tasks.sleep_and_return_item, [0, 0, 2], chunksize=1, timeout=1)
    assert type(raised.value).__name__ == "MapTimeout" and raised.value.unfinished >= 1
    assert executor.name in str(raised.value)


def test_traceback_of_a_task_error_reaches_the_caller(executor):
    """CPython test_process_pool.py / loky test_traceback: the exception keeps its type and args, and the
    line that raised it (from the worker's traceback, as the cause, for workers in other processes) shows."""
    future = executor.submit(tasks.raise_runtime_error)
    error = future.exception(timeout=LIMIT)
    assert type(error) is RuntimeError and error.args == (123,)
    shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert "raise RuntimeError(123)  # some comment" in shown


def test_submit_from_callback(executor):
    """loky _test_process_executor.py test_submit_from_callback: three chains of callbacks, each submitting
    the next task from the done-callback of the last, all complete."""
    collected: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    finished = threading.Event()
    lock = threading.Lock()

    def collect_and_submit_next(future):
        name, count = future.result()
        with lock:
            collected[name].append(count)
            if all(chain and chain[-1] == 0 for chain in collected.values()):
                finished.set()
        if count > 0:
            executor.submit(tasks.capture_pair, name, count - 1).add_done_callback(collect_and_submit_next)

    for name, start in (("a", 10), ("b", 5), ("c", 6)):
        executor.submit(tasks.capture_pair, name, start).add_done_callback(collect_and_submit_next)
    assert finished.wait(LIMIT), f"the callback chains stalled at {collected}"
    assert collected == {"a": list(range(10, -1, -1)), "b": list(range(5, -1, -1)), "c": list(range(6, -1, -1))}


def test_a_queued_future_can_be_cancelled(executor, flag):
    """CPython test_future.py test_cancel (on a future an executor made, not a bare Future): one still queued
    behind busy workers is cancelled, result() raises CancelledError, and the others still finish."""
    busy = [executor.submit(tasks.wait_for_flag, flag) for _ in range(WORKERS + 4)]
    queued = busy.pop()
    assert queued.cancel() and queued.cancelled()
    with pytest.raises(futures.CancelledError):
        queued.result(timeout=0)
    _set(flag)
    assert [f.result(timeout=LIMIT) for f in busy] == [flag] * len(busy)


# --- test_wait.py: WaitTests ---

def test_wait_for_the_same_future_twice(executor):
    """CPython test_wait.py test_20369: a future passed twice is one future."""
    future = executor.submit(tasks.mul, 1, 2)
    done, not_done = futures.wait([future, future], timeout=LIMIT, return_when=futures.ALL_COMPLETED)
    assert done == {future} and not_done == set()


def test_wait_first_completed(executor, flag):
    """CPython test_wait.py test_first_completed and test_first_completed_some_already_completed."""
    cancelled, notified, successful = _future(cancelled=True), _future(cancelled=True, notified=True), _future(result=42)
    quick, blocked = executor.submit(tasks.mul, 21, 2), executor.submit(tasks.wait_for_flag, flag)
    done, not_done = futures.wait([cancelled, quick, blocked], timeout=LIMIT, return_when=futures.FIRST_COMPLETED)
    assert done == {quick} and not_done == {cancelled, blocked}
    done, not_done = futures.wait([notified, successful, blocked], timeout=LIMIT, return_when=futures.FIRST_COMPLETED)
    assert done == {notified, successful} and not_done == {blocked}
    _set(flag)
    assert blocked.result(timeout=LIMIT) == flag


def test_wait_first_exception(executor, flag, tmp_path):
    """CPython test_wait.py test_first_exception, test_first_exception_some_already_complete and
    test_first_exception_one_already_failed: the wait ends at the first failure, not at the first result."""
    raise_flag = str(tmp_path / "raise")
    quick = executor.submit(tasks.mul, 2, 21)
    failing = executor.submit(tasks.wait_for_flag_and_raise, raise_flag)
    blocked = executor.submit(tasks.wait_for_flag, flag)
    quick.add_done_callback(lambda _: _set(raise_flag))  # the failure comes after quick's result
    done, not_done = futures.wait([quick, failing, blocked], timeout=LIMIT, return_when=futures.FIRST_EXCEPTION)
    assert done == {quick, failing} and not_done == {blocked}

    already_failed, successful = _future(exception=OSError()), _future(result=42)
    cancelled, notified = _future(cancelled=True), _future(cancelled=True, notified=True)
    divided = executor.submit(divmod, 21, 0)
    done, not_done = futures.wait([successful, cancelled, notified, divided, blocked], timeout=LIMIT,
                                  return_when=futures.FIRST_EXCEPTION)
    assert done == {successful, notified, divided} and not_done == {cancelled, blocked}
    done, not_done = futures.wait([already_failed, blocked], timeout=LIMIT, return_when=futures.FIRST_EXCEPTION)
    assert done == {already_failed} and not_done == {blocked}
    _set(flag)
    assert blocked.result(timeout=LIMIT) == flag


def test_wait_all_completed_and_timeout(executor, flag):
    """CPython test_wait.py test_all_completed and test_timeout: ALL_COMPLETED waits for failures too; with a
    short timeout the blocked future is the one left pending."""
    failed, successful = _future(exception=OSError()), _future(result=42)
    notified = _future(cancelled=True, notified=True)
    divided, multiplied = executor.submit(divmod, 2, 0), executor.submit(tasks.mul, 2, 21)
    done, not_done = futures.wait([successful, notified, failed, divided, multiplied], timeout=LIMIT,
                                  return_when=futures.ALL_COMPLETED)
    assert done == {successful, notified, failed, divided, multiplied} and not_done == set()
    blocked = executor.submit(tasks.wait_for_flag, flag)
    done, not_done = futures.wait([notified, failed, successful, blocked], timeout=0.05)
    assert done == {notified, failed, successful} and not_done == {blocked}
    _set(flag)
    assert blocked.result(timeout=LIMIT) == flag


# --- test_as_completed.py: AsCompletedTests ---

def test_as_completed_without_timeout_and_with_duplicates(executor):
    """CPython test_as_completed.py test_no_timeout and test_duplicate_futures (issue 20367)."""
    finished = {_future(cancelled=True, notified=True), _future(exception=OSError()), _future(result=42)}
    first, second = executor.submit(tasks.mul, 2, 21), executor.submit(tasks.mul, 7, 6)
    assert set(futures.as_completed(finished | {first, second}, timeout=LIMIT)) == finished | {first, second}
    repeated = executor.submit(tasks.mul, 1, 1)
    assert list(futures.as_completed([repeated] * 3, timeout=LIMIT)) == [repeated]


def test_as_completed_times_out_before_the_blocked_future(executor, flag):
    """CPython test_as_completed.py test_future_times_out (timeouts 0 and 0.1, and loky's test_zero_timeout):
    what had finished is yielded, then TimeoutError; the blocked future was not."""
    finished = {_future(cancelled=True, notified=True), _future(exception=OSError()), _future(result=42)}
    blocked = executor.submit(tasks.wait_for_flag, flag)
    for timeout in (0, 0.1):
        seen = set()
        with pytest.raises(futures.TimeoutError):
            for future in futures.as_completed(finished | {blocked}, timeout=timeout):
                seen.add(future)
        assert seen == finished
    _set(flag)
    assert blocked.result(timeout=LIMIT) == flag


# --- executor.py test_max_workers_negative ---

@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_workers_must_be_positive(name, start_method):
    """CPython executor.py test_max_workers_negative: ValueError at construction, before any pool starts."""
    for workers in (0, -1):
        with pytest.raises(ValueError):
            make_variant(name, start_method, workers=workers)
