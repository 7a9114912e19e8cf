"""Every variant fails the same clear way: a task's exception, a dead worker, a timeout, unpicklable work.

Process cases run under every start method. Tests assert outcomes and wait only up to generous
bounds; how long each failure takes to surface is measured in the failure table, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from lab_params import make_variant, selected, variant_params, variant_start_method_params
from lab_tasks import (
    exit_on_five,
    refuse_seven,
    refuse_seven_async,
    return_a_lock,
    segfault_on_five,
    sigkill_on_five,
    sleep_a_little,
    sleep_long,
    sleep_long_async,
)

from concurrency_lab.core.cpus import available_start_methods
from concurrency_lab.core.errors import BrokenPool, MapTimeout, NotPicklable
from concurrency_lab.variants import variant_class
from concurrency_lab.variants.base import RemoteTraceback

ITEMS = list(range(12))
LONG_TASK_S = 30  # sleep_long: a call that returns well before this did not wait for its tasks


def _process_children() -> set[int]:
    """Child processes of this one, but multiprocessing's long-lived helpers (forkserver, resource tracker)."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            cmdline = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "forkserver" not in cmdline and "resource_tracker" not in cmdline:
            found.add(child.pid)
    return found


def _wait_until_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    """Which of `pids` are still alive (not zombies) after up to `seconds`."""
    end = time.monotonic() + seconds
    while True:
        alive = {pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE}
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.05)


@pytest.fixture
def no_new_children():
    """Fails the test when a child process it started is still alive a few seconds after it."""
    before = _process_children()
    yield
    left = _wait_until_gone(_process_children() - before)
    assert not left, f"child processes left behind: {sorted(left)}"


def _lab_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("lab-thread-pool", "lab-worker"))]


def _wait_for_threads(seconds: float = 10.0) -> list[str]:
    end = time.monotonic() + seconds
    while _lab_threads() and time.monotonic() < end:
        time.sleep(0.05)
    return [t.name for t in _lab_threads()]


# -- the same failure, the same error --------------------------------------------------------------

@pytest.mark.parametrize(("name", "start_method"), variant_start_method_params())
def test_a_task_that_raises_gives_the_same_error_from_every_variant(name, start_method, no_new_children):
    variant = make_variant(name, start_method, workers=2, chunksize=2)
    task = refuse_seven_async if variant.runs_coroutines else refuse_seven
    with pytest.raises(ValueError, match=r"^refused 7$") as raised:
        variant.map(task, ITEMS)
    if variant.uses_processes:
        assert isinstance(raised.value.__cause__, RemoteTraceback) and "refuse_seven" in str(raised.value.__cause__)
    salvaged = variant.last_run.salvaged
    assert 7 not in salvaged and {6} <= set(salvaged)  # item 6 shares item 7's chunk and finished before it
    assert all(salvaged[i] == i * 10 for i in salvaged)


# -- worker death ------------------------------------------------------------------------------------

@pytest.mark.parametrize("killer", [exit_on_five, sigkill_on_five, segfault_on_five], ids=["os._exit", "SIGKILL", "segfault"])
@pytest.mark.parametrize(("name", "start_method"), variant_start_method_params(processes=True))
def test_a_task_that_kills_its_worker_breaks_the_pool_clearly(name, start_method, killer, no_new_children):
    variant = make_variant(name, start_method, workers=2, chunksize=1)
    with pytest.raises(BrokenPool, match=rf"^{name}: a worker process died") as raised:
        variant.map(killer, ITEMS)
    if killer is not exit_on_five:
        expected = "SIGKILL" if killer is sigkill_on_five else "SIGSEGV"
        assert expected in str(raised.value)
    assert all(variant.last_run.salvaged[i] == i for i in variant.last_run.salvaged)


#: A pool whose task segfaults its worker, in an interpreter with faulthandler on, as pytest and
#: ``-X faulthandler`` turn it on: the worker inherits it (forked, or through the flags a spawned one is given).
CRASH_SCRIPT = """
import sys
from concurrency_lab.core.errors import BrokenPool
from concurrency_lab.variants import get_variant
from {module} import {task} as task

try:
    get_variant("process_pool", workers=2, start_method=sys.argv[1]).map(task, range(8), chunksize=1)
except BrokenPool as exc:
    print("broken:", exc)
"""
TESTS = Path(__file__).resolve().parent


@pytest.mark.parametrize("start_method", available_start_methods())
@pytest.mark.parametrize(("module", "task"), [("concurrency_lab.failures.tasks", "crash_on_item"),
                                              ("lab_tasks", "segfault_on_five")], ids=["failure-probe", "test-task"])
def test_a_deliberate_crash_prints_no_fatal_error_dump(module, task, start_method):
    """The crash is the point of these tasks: no "Fatal Python error: Segmentation fault" reaches a log."""
    path = os.pathsep.join([str(TESTS.parent), str(TESTS / "support"), *filter(None, [os.environ.get("PYTHONPATH")])])
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", CRASH_SCRIPT.format(module=module, task=task),
                           start_method], env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and "broken:" in done.stdout and "SIGSEGV" in done.stdout, (done.stdout, done.stderr)
    assert "Fatal Python error" not in done.stderr, done.stderr


@pytest.mark.parametrize(("name", "start_method"), variant_start_method_params(processes=True))
def test_a_warm_pool_that_broke_is_replaced_on_the_next_call(name, start_method, no_new_children):
    with make_variant(name, start_method, workers=2, chunksize=1) as variant:
        with pytest.raises(BrokenPool):
            variant.map(exit_on_five, ITEMS)
        assert variant.running
        assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]


# -- time limits ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "start_method"), variant_start_method_params(processes=True))
def test_a_timeout_stops_worker_processes(name, start_method, no_new_children):
    variant = make_variant(name, start_method, workers=2)
    started = time.monotonic()
    with pytest.raises(MapTimeout, match="its running work was stopped") as raised:
        variant.map(sleep_long, ITEMS, timeout=0.5)
    assert time.monotonic() - started < LONG_TASK_S / 2, "map waited for its tasks instead of stopping them"
    assert raised.value.stopped and raised.value.unfinished == len(ITEMS) and isinstance(raised.value, TimeoutError)


@pytest.mark.parametrize("name", [p for p in variant_params(processes=False)])
def test_a_timeout_returns_from_in_process_variants_and_says_what_it_could_not_stop(name):
    variant = make_variant(name, workers=2)
    if variant.runs_coroutines:  # coroutines are cancelled
        with pytest.raises(MapTimeout, match="its running work was stopped") as raised:
            variant.map(sleep_long_async, ITEMS, timeout=0.3)
        assert raised.value.stopped
        return
    says = "a running thread cannot be stopped" if variant.concurrent else "the limit is checked between items"
    with pytest.raises(MapTimeout, match=says) as raised:
        variant.map(sleep_a_little, ITEMS, timeout=0.1)
    assert not raised.value.stopped and 0 < raised.value.unfinished <= len(ITEMS)
    assert not _wait_for_threads(), "a thread outlived its items"


def test_a_warm_thread_pool_that_timed_out_is_replaced(no_new_children):
    with make_variant("thread_pool", workers=2) as variant:
        with pytest.raises(MapTimeout):
            variant.map(sleep_a_little, ITEMS, timeout=0.1)
        assert variant.map(refuse_seven, [1, 2]) == [10, 20]
    assert not _wait_for_threads()


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 1e12, "1", True])
def test_a_timeout_must_be_a_sensible_number_of_seconds(timeout):
    with pytest.raises((ValueError, TypeError), match="timeout"):
        make_variant("sequential").map(refuse_seven, [1], timeout=timeout)


# -- pickling ------------------------------------------------------------------------------------------

def _local_function(x):
    return x


@pytest.mark.parametrize("task", [lambda x: x, (lambda: (lambda x: x))()], ids=["lambda", "closure"])
@pytest.mark.parametrize(("name", "start_method"), selected(variant_start_method_params(processes=True), serializer="pickle"))
def test_an_unpicklable_task_is_refused_at_the_call_with_the_fix(name, start_method, task):
    variant = make_variant(name, start_method, workers=2)
    with pytest.raises(NotPicklable, match="module-level function.*thread variant"):
        variant.map(task, ITEMS)
    assert variant.last_run is None  # refused before anything started


@pytest.mark.parametrize("name", variant_params(processes=False))
def test_thread_variants_take_lambdas_and_locks(name):
    variant = make_variant(name, workers=2)
    if variant.runs_coroutines:
        pytest.skip("the event loop runs coroutine functions, not lambdas")
    lock = threading.Lock()
    assert variant.map(lambda pair: pair[0] * 2, [(1, lock), (2, lock)]) == [2, 4]


@pytest.mark.parametrize(("name", "start_method"), variant_start_method_params(processes=True))
def test_an_unpicklable_item_or_result_is_named_and_the_pool_stays_usable(name, start_method, no_new_children):
    items = [1, 2, 3, threading.Lock(), 5]
    with make_variant(name, start_method, workers=2, chunksize=1) as variant:
        with pytest.raises(NotPicklable, match=r"item 3 \(lock .*plain data.*thread variant"):
            variant.map(refuse_seven, items)
        with pytest.raises(NotPicklable, match=r"a result could not be sent back.*plain data"):
            variant.map(return_a_lock, [1, 2])
        assert variant.map(refuse_seven, [1, 2]) == [10, 20]


def test_the_failure_cases_cover_every_variant_by_its_traits():
    """A variant registered later gets these tests by registration: process cases follow `uses_processes`."""
    processes = {p.values[0] for p in variant_start_method_params(processes=True)}
    assert processes == {name for name, _ in (p.values for p in variant_start_method_params())
                         if variant_class(name).uses_processes}


def test_the_matrix_gives_a_timed_out_pair_a_row_of_its_own(no_new_children):
    import io

    from concurrency_lab.commands.matrix import print_matrix, run_matrix

    rows = list(run_matrix(["processor"], ["sequential", "process_pool"], workers=2, size_label="test", timeout=0.001))
    assert [(r.variant, r.wall_s, r.identical) for r in rows] == [("sequential", None, False), ("process_pool", None, False)]
    assert all(r.note.startswith("FAILED: MapTimeout: ") for r in rows)
    out = io.StringIO()
    assert print_matrix(rows, out) is False and out.getvalue().count("FAILED: MapTimeout") == 2


def test_a_lesson_processor_past_its_timeout_says_so_in_one_line(no_new_children):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "concurrency_lab.lesson.executor_processor", "--tasks", "40", "--timeout", "0.001"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert "process_pool: map did not finish within 0.001 s" in first and "stopped" in first, done.stderr
    assert "Traceback (most recent call last)" not in done.stderr.split("\n", 1)[0], done.stderr
