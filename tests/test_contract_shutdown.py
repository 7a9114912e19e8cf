"""CPython's `test_concurrent_futures/test_shutdown.py` (and the shutdown and broken-pool cases of
`test_deadlock.py`, `test_process_pool.py` and loky's `_test_process_executor.py`) rewritten against the
lab's `close()`, the context manager and `submit`, on every variant that offers `submit` (traits().futures),
once per start method it takes.

`close()` is `shutdown(wait=True)`: it waits for submitted futures. The lab has no `wait=False` or
`cancel_futures=`, so CPython's cases of those are not adapted. Every case that can crash a worker, or hang
on a trap, runs in a child process with its own limit (contract_child.run_in_child).
"""

from __future__ import annotations

import concurrent.futures as futures
import time
from typing import Any

import contract_tasks as tasks
import psutil
import pytest
from contract_child import Outcome, describe_error, error_outcome, run_in_child
from lab_params import make_variant, variant_start_method_params

from concurrency_lab.variants import variant_class

EXECUTORS = [p for p in variant_start_method_params() if variant_class(p.values[0]).traits().futures]
#: Executors whose workers are other processes: those a worker's death or a pickling trap can reach.
PROCESS_EXECUTORS = [p for p in EXECUTORS if not variant_class(p.values[0]).kind.in_process]
WORKERS = 2
LIMIT = 60  # seconds any one future may take here: a liveness bound, never a timing assertion


def _gone(pids: set[int], patience: float = 10.0) -> set[int]:
    """The `pids` still running after `patience` seconds (zombies count as gone)."""
    deadline = time.monotonic() + patience
    while True:
        alive = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_close_waits_for_submitted_futures(name, start_method):
    """CPython test_shutdown.py / loky test_hang_issue12364: many short futures, then shutdown(wait=True):
    every one has its result, none is cancelled (the contract: close() waits, on every variant)."""
    variant = make_variant(name, start_method, workers=WORKERS)
    try:
        submitted = [variant.submit(tasks.sleep_and_return, 0.05, i) for i in range(10)]
    finally:
        variant.close()
    assert [f.cancelled() for f in submitted] == [False] * 10
    assert [f.result(timeout=0) for f in submitted] == list(range(10))


@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_the_context_manager_ends_the_workers(name, start_method):
    """CPython test_shutdown.py test_context_manager_shutdown and executor.py test_shutdown_race_issue12456
    (map over workers + 1 items, then shut down): the results are right and, once the block is left, every
    worker process that computed them has ended."""
    with make_variant(name, start_method, workers=WORKERS) as variant:
        assert variant.map(abs, range(-5, 5)) == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]
        assert variant.map(str, [2] * (WORKERS + 1)) == ["2"] * (WORKERS + 1)
        pids = {variant.submit(tasks.pid_of_worker).result(timeout=LIMIT), *variant.last_run.worker_pids}
    if not variant_class(name).kind.in_process:
        assert _gone(pids) == set()


@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_submit_after_close_starts_a_new_pool(name, start_method):
    """CPython test_shutdown.py / loky test_run_after_shutdown, a documented difference: after shutdown,
    CPython's submit raises RuntimeError; the lab's variant is reusable, so `submit` after `close` starts a
    new pool (as `map` does on a cold variant), and the next `close` ends it."""
    variant = make_variant(name, start_method, workers=WORKERS)
    variant.start()
    variant.close()
    try:
        assert variant.submit(pow, 2, 5).result(timeout=LIMIT) == 32
        assert variant.running
    finally:
        variant.close()
    assert not variant.running


@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_a_map_timeout_on_a_warm_pool_and_the_futures_submitted_before(name, start_method, tmp_path):
    """The contract's documented price (no CPython counterpart: its map timeout stops nothing): a warm
    variant whose `map` times out stops its workers when it can stop running work, so a future submitted
    earlier that was still running fails (BrokenPool or CancelledError); thread variants, which cannot stop
    a running thread, leave it to finish with its result."""
    flag = tmp_path / "flag"
    with make_variant(name, start_method, workers=WORKERS) as variant:
        earlier = variant.submit(tasks.wait_for_flag, str(flag))
        with pytest.raises(TimeoutError):
            variant.map(tasks.sleep_and_return_item, [5, 5], chunksize=1, timeout=0.5)
        flag.touch()
        if variant.stops_running_work:
            assert earlier in futures.wait([earlier], timeout=LIMIT).done, f"never resolved: {earlier!r}"
            assert earlier.cancelled() or isinstance(earlier.exception(timeout=0), futures.BrokenExecutor), \
                f"the earlier future: {earlier!r}, {earlier.exception(timeout=0)!r}"
        else:
            assert earlier.result(timeout=LIMIT) == str(flag)
        assert variant.map(tasks.double, [1, 2]) == [2, 4]  # the pool was replaced


# --- in a child: the cases that crash a worker or set a trap ---

def submit_then_use_again(name: str, start_method: str | None, case: str) -> dict[str, Any]:
    """In the child: submit the case's call on a warm variant, read its outcome, then `submit` and `map`
    again on the same variant (each reported separately), and close."""
    fn, args = SUBMIT_CASES[case]
    with make_variant(name, start_method, workers=WORKERS) as variant:
        future = variant.submit(fn, *args)
        try:
            first = {"result": repr(future.result(timeout=LIMIT))}
        except BaseException as exc:  # noqa: BLE001 - a SystemExit out of result() is one of the findings
            first = describe_error(exc)
        report: dict[str, Any] = {"first": first}
        for again, call in (("submit", lambda: variant.submit(tasks.mul, 6, 7).result(timeout=LIMIT)),
                            ("map", lambda: variant.map(tasks.double, [1, 2, 3]))):
            try:
                report[again] = call()
            except BaseException as exc:  # noqa: BLE001
                report[again] = describe_error(exc)
    return report


SUBMIT_CASES = {
    "sys_exit": (tasks.exit_with, (3,)),
    "worker_segfault": (tasks.crash_after, (0,)),
    "item_exit_at_unpickle": (tasks.identity, (tasks.ExitAtUnpickle(),)),
    "item_crash_at_unpickle": (tasks.identity, (tasks.CrashAtUnpickle(),)),
    "result_exit_at_unpickle": (tasks.return_instance, (tasks.ExitAtUnpickle,)),
}


def _check_used_again(outcome: Outcome) -> None:
    assert outcome.status == "returned", f"the caller did not come back: {outcome}"
    assert outcome.value["submit"] == 42, f"submit on the same variant afterwards: {outcome.value['submit']}"
    assert outcome.value["map"] == [2, 4, 6], f"map on the same variant afterwards: {outcome.value['map']}"
    assert outcome.leftovers == [], f"left running after close: {outcome.leftovers}"


@pytest.mark.parametrize(("name", "start_method"), EXECUTORS)
def test_a_submitted_task_calling_sys_exit_gives_task_exit(name, start_method):
    """CPython test_deadlock.py test_exit_during_func_exec_on_worker (through submit, as there), a documented
    difference: CPython's future raises SystemExit; the lab's carries TaskExit, and the worker survives."""
    outcome = run_in_child(submit_then_use_again, name, start_method, "sys_exit")
    _check_used_again(outcome)
    first = error_outcome(outcome.value["first"])
    assert first.is_error("TaskExit") and first.attributes.get("code") == 3, str(first)


@pytest.mark.parametrize(("name", "start_method"), PROCESS_EXECUTORS)
def test_a_pool_broken_under_submit_is_replaced(name, start_method):
    """CPython test_process_pool.py test_killed_child and loky test_exited_child, a documented difference:
    there, submitting after a worker died raises BrokenProcessPool; the lab's broken pool is replaced on the
    next `submit` or `map`, whichever API broke it (the contract, 3)."""
    outcome = run_in_child(submit_then_use_again, name, start_method, "worker_segfault")
    first = error_outcome(outcome.value["first"]) if outcome.status == "returned" else None
    assert first is not None and first.is_error("BrokenProcessPool"), str(first or outcome)
    _check_used_again(outcome)


@pytest.mark.parametrize("case", ["item_exit_at_unpickle", "item_crash_at_unpickle", "result_exit_at_unpickle"])
@pytest.mark.parametrize(("name", "start_method"), PROCESS_EXECUTORS)
def test_a_submitted_trap_resolves_its_future_and_spares_the_caller(name, start_method, case):
    """CPython test_deadlock.py test_exit_at_task_unpickle, test_crash_at_task_unpickle and
    test_exit_during_result_unpickle_in_result_handler (the error-raising variants are the map cases),
    through submit as there: the future resolves with an Exception (BrokenProcessPool where a worker died:
    the segfault; otherwise whatever the engine's future carries, as CPython's does), never a SystemExit, and
    the caller lives on to use the variant again (replaced if the engine called it broken)."""
    outcome = run_in_child(submit_then_use_again, name, start_method, case)
    assert outcome.status == "returned", f"the caller did not come back: {outcome}"
    first = error_outcome(outcome.value["first"])
    assert first is not None and "Exception" in first.bases, f"the future did not fail with an Exception: {first}"
    if case == "item_crash_at_unpickle":  # a worker died; elsewhere the executor's own error is passed on
        assert first.is_error("BrokenProcessPool"), str(first)
    _check_used_again(outcome)


def close_with_a_crash_or_trap_pending(name: str, start_method: str | None, case: str) -> dict[str, Any]:
    """In the child: submit, close at once (the crash or the pickling failure happens after close began),
    then read the future."""
    fn, args = {"crash_after_close": (tasks.crash_after, (0.1,)),
                "error_at_pickle": (tasks.identity, (tasks.ErrorAtPickle(),)),
                "exit_at_pickle": (tasks.identity, (tasks.ExitAtPickle(),))}[case]
    variant = make_variant(name, start_method, workers=WORKERS)
    variant.submit(tasks.mul, 2, 21).result(timeout=LIMIT)  # started, as CPython's test does first
    try:
        future = variant.submit(fn, *args)
    except BaseException as exc:  # noqa: BLE001 - refusing at once is fine, if it is an Exception
        variant.close()
        return {"close": None, "future": describe_error(exc)}
    try:
        variant.close()
    except BaseException as exc:  # noqa: BLE001
        return {"close": describe_error(exc)}
    try:
        return {"close": None, "future": repr(future.result(timeout=0))}
    except BaseException as exc:  # noqa: BLE001
        return {"close": None, "future": describe_error(exc)}


@pytest.mark.parametrize("case", ["crash_after_close", "error_at_pickle", "exit_at_pickle"])
@pytest.mark.parametrize(("name", "start_method"), PROCESS_EXECUTORS)
def test_close_does_not_deadlock_on_a_crash_or_a_pickling_trap(name, start_method, case):
    """CPython test_deadlock.py test_shutdown_deadlock (a worker crashes after shutdown began) and
    test_shutdown_deadlock_pickle (bpo-39104), loky test_shutdown_with_pickle_error and
    test_shutdown_with_sys_exit_at_pickle: close() returns, nothing escapes it, and the future holds an
    Exception (BrokenProcessPool for the crash), never a SystemExit; an engine that pickles at `submit`
    may refuse the trap there instead, with an Exception."""
    outcome = run_in_child(close_with_a_crash_or_trap_pending, name, start_method, case)
    assert outcome.status == "returned", f"close did not come back: {outcome}"
    assert outcome.value["close"] is None, f"close raised {error_outcome(outcome.value['close'])}"
    error = error_outcome(outcome.value["future"]) if isinstance(outcome.value["future"], dict) else None
    assert error is not None and "Exception" in error.bases, f"the future: {outcome.value['future']}"
    if case == "crash_after_close":
        assert error.is_error("BrokenProcessPool"), str(error)
    assert outcome.leftovers == [], f"left running after close: {outcome.leftovers}"
