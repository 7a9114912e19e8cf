"""A pool's life: replaced whichever call broke it, its workers ended with the process that called the lab,
`close()` waiting for submitted futures, and what a map timeout does to futures submitted before it.
Variants are taken from the registry by their traits; every case that could hang or outlive its caller runs
in a child process with its own limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from lab_params import make_variant, variant_params, variant_start_method_params
from lab_tasks import exit_on_five, refuse_seven, sleep_a_little, sleep_long, sleep_then_double

from concurrency_lab.core.errors import BrokenPool, MapTimeout
from concurrency_lab.variants import variant_class

TESTS = Path(__file__).resolve().parent
#: Bounds that only prove nothing hung or stayed: a loaded 2-core machine starts a pool in seconds.
CHILD_LIMIT_S = 60.0
GONE_WITHIN_S = 15.0


def _traits(params: list, **wanted: bool) -> list:
    """`params` whose variant offers futures / keeps a pool / runs work outside the caller, as `wanted` says."""
    def has(name: str, trait: str) -> bool:
        cls = variant_class(name)
        return {"futures": cls.traits().futures, "pool": cls.has_pool(), "elsewhere": not cls.kind.in_process}[trait]
    return [p for p in params if all(has(p.values[0], trait) == value for trait, value in wanted.items())]


def _child_env() -> dict[str, str]:
    path = os.pathsep.join([str(TESTS.parent), str(TESTS / "support"), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# -- a pool broken by any call is replaced -------------------------------------------------------------

@pytest.mark.parametrize(("name", "start_method"), _traits(variant_start_method_params(), futures=True, elsewhere=True))
def test_a_pool_broken_under_submit_is_replaced_on_the_next_map_and_submit(name, start_method):
    """The future of the task that killed its worker fails with BrokenPool in the variant's words, whatever the
    engine said; the pool it broke is not the next call's problem, whichever API the next call is."""
    with make_variant(name, start_method, workers=2) as variant:
        for _ in range(2):
            error = variant.submit(exit_on_five, 5).exception(timeout=CHILD_LIMIT_S)
            assert isinstance(error, BrokenPool) and str(error).startswith(f"{name}: "), repr(error)
            assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]
        assert variant.submit(refuse_seven, 2).result(timeout=CHILD_LIMIT_S) == 20


# -- close() waits for submitted futures ---------------------------------------------------------------

@pytest.mark.parametrize("name", _traits(variant_params(), futures=True))
def test_close_waits_for_the_futures_submit_returned(name):
    """As Executor.shutdown(wait=True): every future submitted before close() has its result when it returns."""
    variant = make_variant(name, workers=2)
    futures = [variant.submit(sleep_then_double, x) for x in range(5)]  # more than the workers: some queued
    variant.close()
    assert all(future.done() and not future.cancelled() for future in futures)
    assert [future.result(timeout=0) for future in futures] == [0, 2, 4, 6, 8]


# -- a warm pool's map timeout and the futures submitted before it -------------------------------------

@pytest.mark.parametrize("name", _traits(variant_params(), futures=True))
def test_a_map_timeout_stops_earlier_futures_exactly_where_it_stops_running_work(name):
    """Contract 7: stopping a runaway map stops the pool's workers, so a future submitted earlier and still
    running fails (BrokenPool, or cancelled) where the variant `stops_running_work`; a thread pool cannot stop
    a thread, and the future keeps its result. Either way the pool is usable afterwards."""
    with make_variant(name, workers=2) as variant:
        earlier = variant.submit(sleep_then_double, 21)
        runaway = sleep_long if variant.stops_running_work else sleep_a_little  # a thread is never stopped
        with pytest.raises(MapTimeout):
            variant.map(runaway, list(range(4)), chunksize=1, timeout=0.1)
        if variant.stops_running_work:
            # Whatever the engine says (loky: ShutdownExecutorError, Dask: KilledWorker), the lab's one error.
            assert earlier.cancelled() or isinstance(earlier.exception(timeout=CHILD_LIMIT_S), BrokenPool)
        else:
            assert earlier.result(timeout=CHILD_LIMIT_S) == 42
        assert variant.submit(sleep_then_double, 1).result(timeout=CHILD_LIMIT_S) == 2


# -- workers end with the process that called the lab --------------------------------------------------

#: A caller that starts a warm pool, runs a map on every worker, and (busy) leaves one running whose tasks
#: announce themselves; then it waits to be killed.
CALLER = """
import sys, threading, time
from lab_params import make_variant
from lab_tasks import announce_then_sleep, worker_pid

name, method, mode, folder = sys.argv[1:5]
variant = make_variant(name, method or None, workers=2)
variant.start()
variant.map(worker_pid, range(8), chunksize=1)
if mode == "busy":
    work = [(folder, x) for x in range(2)]
    threading.Thread(target=variant.map, args=(announce_then_sleep, work), kwargs={"chunksize": 1}, daemon=True).start()
print("ready", flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("mode", ["idle", "busy"])
@pytest.mark.parametrize(("name", "start_method"), _traits(variant_start_method_params(processes=True), pool=True))
def test_every_process_the_pool_started_ends_when_its_caller_is_killed(name, start_method, mode, tmp_path):
    """SIGKILL leaves no clean-up to the caller: its workers (a forkserver's included, whose parent is the
    forkserver), the forkserver and the resource tracker must each notice and end by themselves."""
    caller = subprocess.Popen([sys.executable, "-c", CALLER, name, start_method or "", mode, str(tmp_path)],
                              stdout=subprocess.PIPE, env=_child_env(), cwd=tmp_path)
    try:
        assert caller.stdout is not None and caller.stdout.readline() == b"ready\n"
        if mode == "busy":
            end = time.monotonic() + CHILD_LIMIT_S
            while len(list(tmp_path.glob("*.started"))) < 2 and time.monotonic() < end:
                time.sleep(0.05)
            assert len(list(tmp_path.glob("*.started"))) == 2, "the caller's map never started"
        started = {child.pid for child in psutil.Process(caller.pid).children(recursive=True)}
        assert started, "the caller started no process"
    finally:
        caller.kill()
        caller.wait(CHILD_LIMIT_S)
        caller.stdout.close()
    end = time.monotonic() + GONE_WITHIN_S
    while any(_running(pid) for pid in started) and time.monotonic() < end:
        time.sleep(0.1)
    left = {pid: " ".join(psutil.Process(pid).cmdline())[:120] for pid in started if _running(pid)}
    for pid in left:  # so that the tests after this one start clean
        os.kill(pid, signal.SIGKILL)
    assert not left, f"alive {GONE_WITHIN_S:g} s after their caller was killed: {left}"


# -- a dead worker never hangs the pool's stop ---------------------------------------------------------

#: Each map must raise BrokenPool; a hang is ended by faulthandler, which prints every thread's stack.
DYING_CALLER = """
import faulthandler, sys
from concurrency_lab.core.errors import BrokenPool
from lab_params import make_variant
from lab_tasks import die_holding_queue_locks_on_five, segfault_on_big_five

name, method, runs = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
faulthandler.dump_traceback_later(float(sys.argv[4]), exit=True)
big = [bytes([x]) * (4 << 20) for x in range(12)]
for task, items in [(die_holding_queue_locks_on_five, list(range(12)))] + [(segfault_on_big_five, big)] * runs:
    try:
        make_variant(name, method, workers=2).map(task, items, chunksize=1)
    except BrokenPool:
        print("broken", flush=True)
"""


#: The process variants that take the lab's start methods: the standard library's pools (multiprocessing.Pool
#: hung here; ProcessPoolExecutor watches its workers' sentinels and never did).
POOL_OF_THE_STANDARD_LIBRARY = [p for p in variant_start_method_params(processes=True)
                                if variant_class(p.values[0]).start_methods]


@pytest.mark.parametrize(("name", "start_method"), POOL_OF_THE_STANDARD_LIBRARY)
def test_a_worker_that_dies_holding_the_queue_locks_or_amid_large_items_never_hangs_the_pool(name, start_method):
    """Stopping a broken pool must not wait on a lock a dead worker holds, nor on the pool's thread writing a
    4 MiB item into a pipe nobody reads (multiprocessing.Pool hung so, about 1 run in 80 here)."""
    runs, limit = 3, CHILD_LIMIT_S
    done = subprocess.run([sys.executable, "-c", DYING_CALLER, name, start_method or "", str(runs), str(limit)],
                          env=_child_env(), capture_output=True, text=True, timeout=limit + 30, check=False)
    assert done.returncode == 0 and done.stdout.split() == ["broken"] * (runs + 1), (done.stdout, done.stderr[-3000:])
