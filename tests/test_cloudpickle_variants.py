"""Variants that send work with cloudpickle (taken from the registry by that trait): what they carry that
pickle cannot, what they still refuse, and that their worker processes never outlive them.

The shared suites (identity, failures, futures) cover these variants as they do every process variant;
here is only what is new with them. No test waits on a clock: bounds below are generous ceilings.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

import psutil
import pytest
from lab_params import make_variant, selected, variant_params
from lab_tasks import exit_on_five, refuse_seven, sleep_long, worker_pid

from concurrency_lab.commands import cli
from concurrency_lab.core import engines
from concurrency_lab.core.errors import BrokenPool, MapTimeout, NotPicklable
from concurrency_lab.core.helper_process import child_env
from concurrency_lab.variants import VariantUnavailable, get_variant, variant_class

CLOUDPICKLE = selected(variant_params(processes=True), serializer="cloudpickle")
ITEMS = list(range(12))
GONE_WITHIN_S = 20.0  # a ceiling for processes to exit, not a measurement


def _gone(pids: set[int], within: float = GONE_WITHIN_S) -> set[int]:
    """Which of `pids` are still running (zombies have exited) after up to `within` seconds."""
    end = time.monotonic() + within
    while True:
        alive = set()
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > end:
            return alive
        time.sleep(0.05)


def _workers_of(variant) -> set[int]:
    return set(variant.last_run.worker_pids) - {os.getpid()}


def _helpers() -> set[int]:
    """The resource trackers (multiprocessing's, loky's) this process keeps for its lifetime: not workers."""
    return {p.pid for p in psutil.Process().children() if "resource_tracker" in " ".join(p.cmdline())}


@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_a_lambda_and_a_closure_run_in_worker_processes(name):
    offset = 5
    variant = make_variant(name, workers=2)
    assert variant.map(lambda x: x * 2, ITEMS) == [x * 2 for x in ITEMS]
    assert variant.map(lambda x: x + offset, ITEMS) == [x + offset for x in ITEMS]  # a closure over `offset`
    assert os.getpid() not in variant.last_run.worker_pids


@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_a_task_holding_what_cannot_leave_a_process_is_refused_at_the_call(name, monkeypatch):
    lock = threading.Lock()
    variant = make_variant(name, workers=2)
    monkeypatch.setattr(type(variant), "_open", lambda self: pytest.fail("a pool was started"))
    with pytest.raises(NotPicklable, match=r"with cloudpickle, which carries lambdas and closures.*_thread\.lock.*"
                                           r"no lock, generator or other live object.*thread variant"):
        variant.map(lambda x: (lock, x), ITEMS)
    assert variant.last_run is None


@pytest.mark.parametrize("what", ["lock", "generator"])  # loky passes sockets on (it dups their descriptor)
@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_an_item_cloudpickle_cannot_carry_is_named_and_the_pool_stays_usable(name, what):
    item = {"lock": threading.Lock(), "generator": (x for x in ())}[what]
    with make_variant(name, workers=2, chunksize=1) as variant:
        with pytest.raises(NotPicklable, match=rf"item 3 \({type(item).__name__} .*plain data"):
            variant.map(refuse_seven, [1, 2, 3, item, 5])
        assert variant.map(refuse_seven, [1, 2]) == [10, 20]


@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_a_worker_that_exits_breaks_the_call_and_the_next_call_gets_a_new_pool(name):
    with pytest.raises(BrokenPool, match=rf"^{name}: a worker process died .*\(exit code 1\)"):
        make_variant(name, workers=2, chunksize=1).map(exit_on_five, ITEMS)
    cold = make_variant(name, workers=2)
    assert cold.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]  # a fresh pool, cold
    with make_variant(name, workers=2, chunksize=1) as warm:
        with pytest.raises(BrokenPool):
            warm.map(exit_on_five, ITEMS)
        assert warm.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]  # and warm


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_a_timeout_stops_the_workers_and_leaves_no_process(name, warm):
    variant = make_variant(name, workers=2)
    with contextlib.ExitStack() as stack:
        if warm:
            stack.enter_context(variant)
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        with pytest.raises(MapTimeout, match="its running work was stopped") as raised:
            variant.map(sleep_long, ITEMS[:4], timeout=0.5)
        assert raised.value.stopped and raised.value.unfinished == 4
        started = {p.pid for p in psutil.Process().children(recursive=True)} - before
        assert variant.map(refuse_seven, [1, 2]) == [10, 20]  # the stopped pool is replaced
        started |= _workers_of(variant)
    assert not _gone(started - _helpers()), "a worker outlived the timeout and close()"


@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_warm_keeps_its_workers_between_calls_and_close_ends_them(name):
    with make_variant(name, workers=2, chunksize=1) as variant:
        first = set(variant.map(worker_pid, ITEMS))
        second = set(variant.map(worker_pid, ITEMS))
        assert first and os.getpid() not in first
        assert first & second, "a warm pool started new workers for the second call"
    assert not _gone(first | second), "close() left worker processes running"


@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_cold_runs_leave_no_worker_running(name):
    variant = make_variant(name, workers=2, chunksize=1)
    pids = set(variant.map(worker_pid, ITEMS)) | set(variant.map(worker_pid, ITEMS))
    assert not _gone(pids)


_ORPHAN_SCRIPT = """
import sys, time
from concurrency_lab.variants import get_variant
from lab_tasks import worker_pid
variant = get_variant(sys.argv[1], workers=2, chunksize=1)
variant.start()
print(" ".join(map(str, sorted(set(variant.map(worker_pid, range(8)))))), flush=True)
time.sleep(600)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", CLOUDPICKLE)
def test_workers_end_when_the_process_that_started_them_is_killed(name):
    """Killed as soon as a call returned: a worker may still be starting then, and must end too."""
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(os.path.dirname(__file__), "support"), env["PYTHONPATH"]])
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, name], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = parent.stdout.readline()
        tree = {p.pid for p in psutil.Process(parent.pid).children(recursive=True)}  # workers and loky's helpers
        workers = {int(pid) for pid in line.split()}
        assert workers and workers <= tree, f"worker pids {line!r} are not the parent's children"
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    left = _gone(tree)
    for pid in left:  # so that a failure here leaks nothing into the next tests
        psutil.Process(pid).kill()
    assert not left, f"still running after their parent was killed: {sorted(left)}"


# -- an engine that is not installed -------------------------------------------------------------------

#: Every variant that needs cloudpickle needs an optional engine to bring it (loky, joblib, Dask).
ENGINE_VARIANTS = [pytest.param(p.values[0], id=p.id) for p in selected(variant_params(), serializer="cloudpickle")]


@pytest.mark.parametrize("name", ENGINE_VARIANTS)
def test_a_missing_engine_makes_the_variant_unavailable_with_the_install_hint(name, monkeypatch, capsys):
    monkeypatch.setattr(engines.importlib.util, "find_spec", lambda module, *args: None)
    reason = variant_class(name).unavailable_reason()
    assert reason is not None and 'pip install "concurrency-lab[' in reason and "is not installed" in reason
    with pytest.raises(VariantUnavailable, match=rf"variant {name!r} cannot run here: .*pip install"):
        get_variant(name)
    assert cli.main(["list"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(f"  {name} "))
    assert f"[unavailable: {reason}]" in line


def test_the_variant_modules_import_without_their_engines():
    """Importing a variant module must not import its engine: `concurrency-lab list` runs without them."""
    code = ("import sys\n"
            "class Hide:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('loky', 'joblib', 'cloudpickle', 'dask', 'distributed'):\n"
            "            raise ImportError(f'hidden: {name}')\n"
            "sys.meta_path.insert(0, Hide())\n"
            "from concurrency_lab.variants import VARIANT_NAMES, variant_class\n"
            "for name in VARIANT_NAMES:\n"
            "    variant_class(name)\n"
            "print('imported')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=120,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "imported", done.stderr


@pytest.mark.parametrize("name", selected(CLOUDPICKLE, api_family="joblib"))
def test_joblib_batches_automatically_unless_a_chunk_size_is_given_to_the_variant_or_the_call(name):
    """joblib's `batch_size` is what decides its hand-offs: "auto" only when nobody chose a chunk size."""
    asked = []
    with make_variant(name, workers=2) as variant:
        opened = variant._pool
        variant._pool = lambda **kwargs: (asked.append(kwargs["batch_size"]), opened(**kwargs))[1]
        assert variant.map(abs, ITEMS) == ITEMS
        assert variant.map(abs, ITEMS, chunksize=1) == ITEMS
        assert variant.map(abs, ITEMS, chunksize=3) == ITEMS
    with make_variant(name, workers=2, chunksize=1) as fixed:
        opened = fixed._pool
        fixed._pool = lambda **kwargs: (asked.append(kwargs["batch_size"]), opened(**kwargs))[1]
        assert fixed.map(abs, ITEMS) == ITEMS
    assert asked == ["auto", 1, 1, 1]


_FORKED_JOBLIB = """
import multiprocessing, os, sys
from concurrency_lab.variants import get_variant

def child(name, calls):
    print(os.getpid(), flush=True)
    with get_variant(name, workers=2) as variant:
        for _ in range(calls):
            assert variant.map(abs, range(10)) == list(range(10))
    shm, mine = "/dev/shm", f"joblib_memmapping_folder_{os.getpid()}_"
    left = [f for f in os.listdir(shm) if f.startswith(mine)] if os.path.isdir(shm) else []
    print("left after close:", len(left), flush=True)

process = multiprocessing.get_context("fork").Process(target=child, args=(sys.argv[1], int(sys.argv[2])))
process.start()
process.join()
sys.exit(process.exitcode)
"""

#: The lab's folder check: under the temporary root joblib picks on Linux (other processes' folders carry their pids).
SHM = "/dev/shm"


def joblib_folders_of(pid: str | int) -> list[str]:
    """The memmapping folders that process `pid` made and left in /dev/shm (joblib names them by the maker's pid)."""
    if not os.path.isdir(SHM):
        return []
    return [f for f in os.listdir(SHM) if f.startswith(f"joblib_memmapping_folder_{pid}_")]


@pytest.mark.parametrize("name", selected(CLOUDPICKLE, api_family="joblib"))
@pytest.mark.parametrize("calls", [1, 3], ids=["one call", "warm calls"])
def test_joblib_in_a_forked_child_leaves_no_memmapping_folder(name, calls):
    """A forked child ends with os._exit, so joblib's atexit clean-up never runs there: close() removes the
    folders itself (else loky's resource tracker warns of "leaked folder objects" and removes them late,
    or never when it is killed with the child). Each warm call makes a folder of its own, not the executor's."""
    done = subprocess.run([sys.executable, "-c", _FORKED_JOBLIB, name, str(calls)], capture_output=True, text=True,
                          env=child_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    child = done.stdout.split()[0]
    assert "left after close: 0" in done.stdout  # not only cleaned up later, by the tracker
    assert "leaked folder" not in done.stderr, done.stderr
    assert not joblib_folders_of(child)
