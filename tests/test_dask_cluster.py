"""The dask variant on a real cluster, reached by address as `--dask-address` points the lab at one (a scheduler
and two worker processes on 127.0.0.1), and on its own embedded LocalCluster: the workload references, a worker
lost mid-map survived, a task that kills its worker named, and nothing left running, not even past a killed parent.

The registry's suites cover the embedded cluster like every variant; these are what only a cluster has.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from dask_cluster import RealCluster, real_cluster
from lab_tasks import exit_on_five, mark_when_done, refuse_seven, return_a_lock, sleep_a_little, sleep_long

from concurrency_lab.core import helper_process
from concurrency_lab.core.engines import DASK
from concurrency_lab.core.errors import BrokenPool, MapTimeout, NotPicklable
from concurrency_lab.variants import get_variant
from concurrency_lab.variants.dask_cluster import ADDRESS_VARIABLE, use_scheduler_address
from concurrency_lab.variants.options import DASK_ADDRESS
from concurrency_lab.workloads import WORKLOAD_NAMES, get_workload

pytestmark = pytest.mark.skipif(DASK.missing_reason() is not None, reason=f"dask: {DASK.missing_reason()}")

SEED = 20261201
LONG_TASK_S = 30  # sleep_long: a call that returns well before this did not wait for its tasks
WAIT_S = 30.0  # the most any hook below waits for what it polls: only a hang takes this long


@pytest.fixture(scope="module")
def cluster(allow_long_lived) -> RealCluster:
    with real_cluster(workers=2) as started:
        for pid in started.pids:  # a worker a nanny restarts runs below it: allowed with it
            allow_long_lived(pid)
        yield started


@pytest.fixture(scope="module")
def remote(cluster):
    """One warm dask variant for the module, pointed at the cluster the way `--dask-address` does it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ADDRESS_VARIABLE, "")  # so that the context restores it: no other test sees the address
        use_scheduler_address(DASK_ADDRESS.parse(cluster.address))
        variant = get_variant("dask", workers=2)
    with variant:
        yield variant


@pytest.fixture(scope="module")
def embedded(allow_long_lived):
    """One warm embedded cluster for the tests that leave it intact: starting one takes about a second."""
    with get_variant("dask", workers=2) as variant:
        for child in psutil.Process().children():
            allow_long_lived(child.pid)
        yield variant


# -- through an address ----------------------------------------------------------------------------------

@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
def test_every_workload_matches_its_reference_on_a_real_cluster(remote, cluster, workload_name, environments):
    workload = get_workload(workload_name)
    inputs = workload.make_inputs(workload.size("test"), SEED, env=environments[workload_name])
    assert remote.map(workload.task_for(remote), inputs) == workload.reference(inputs)
    assert remote.last_run.worker_pids <= cluster.worker_pids() and os.getpid() not in remote.last_run.worker_pids
    assert remote.cluster_info() == {"address": cluster.address, "workers": 2, "threads": 2, "embedded": False}


def test_a_worker_killed_after_the_first_chunk_costs_a_retry_not_the_results(remote, cluster, tmp_path):
    items = [(str(tmp_path), x) for x in range(12)]
    killed: list[int] = []

    def kill_the_first_to_finish() -> None:  # the hook: item 0's marker, written once its chunk finished
        deadline = time.monotonic() + WAIT_S
        while not (marker := tmp_path / "0.done").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        pid = int(marker.read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_the_first_to_finish, daemon=True)
    killer.start()
    results = remote.map(mark_when_done, items, chunksize=1)
    killer.join(WAIT_S)
    assert results == [10 * x for x in range(12)]
    assert killed, "item 0 never finished"
    assert killed[0] not in cluster.worker_pids()
    cluster.wait_for_workers()  # its nanny starts another


def test_a_task_that_kills_its_worker_is_named_at_once(remote, cluster):
    # Dask counts a death against every task its worker held, so the chunk it names (KilledWorker's) may be
    # one that shared the worker with the killer: the message names a chunk and its items, not the culprit.
    with pytest.raises(BrokenPool, match=r"^dask: a worker process died while running chunk (\d) \(items \1 to \1\), "
                                         r"2 times in a row"):
        remote.map(exit_on_five, range(8), chunksize=1)
    cluster.wait_for_workers()
    assert remote.map(refuse_seven, [1, 2]) == [10, 20]  # a new client on the same cluster


def test_a_timeout_on_a_real_cluster_says_its_running_tasks_go_on(remote, cluster):
    with pytest.raises(MapTimeout, match="tasks running on the cluster finish there") as raised:
        remote.map(sleep_a_little, range(8), timeout=0.1)
    assert raised.value.stopped is False
    assert remote.map(refuse_seven, [3]) == [30]


def test_a_bad_address_is_one_line_at_the_boundary(monkeypatch):
    with pytest.raises(ValueError, match=r"^expected a scheduler address like tcp://127.0.0.1:8786 .*got 'localhost'$"):
        get_variant("dask", address="localhost")
    monkeypatch.setenv(ADDRESS_VARIABLE, "tcp://127.0.0.1:99999")
    with pytest.raises(ValueError, match="port 1 to 65535"):
        get_variant("dask")


# -- the embedded cluster --------------------------------------------------------------------------------

def test_the_embedded_cluster_is_one_single_threaded_worker_process_per_worker(embedded):
    info = embedded.cluster_info()
    assert info["embedded"] and info["address"].startswith("tcp://127.0.0.1:")
    assert (info["workers"], info["threads"]) == (2, 2)


def test_cloudpickle_carries_lambdas_and_what_cannot_be_pickled_is_named(embedded):
    offset = 5
    assert embedded.map(lambda x: x + offset, [1, 2]) == [6, 7]
    with pytest.raises(NotPicklable, match=r"item 3 \(lock .*plain data"):
        embedded.map(refuse_seven, [1, 2, 3, threading.Lock()], chunksize=1)
    with pytest.raises(NotPicklable, match=r"a result could not be sent back"):
        embedded.map(return_a_lock, [1])
    assert embedded.map(refuse_seven, [1, 2]) == [10, 20]  # the cluster is still the same
    assert embedded.submit(refuse_seven, 4).result(timeout=WAIT_S) == 40


def test_a_timeout_stops_the_embedded_clusters_workers():
    started = time.monotonic()
    with pytest.raises(MapTimeout, match="its running work was stopped") as raised:
        get_variant("dask", workers=2).map(sleep_long, range(4), timeout=0.5)
    assert time.monotonic() - started < LONG_TASK_S / 2, "map waited for its tasks instead of stopping them"
    assert raised.value.stopped  # and the autouse leak check finds no worker left


_PARENT = """
import os, sys, time
from concurrency_lab.variants import get_variant
sys.path.insert(0, sys.argv[1])
from lab_tasks import worker_pid
with get_variant("dask", workers=2) as variant:
    print(*set(variant.map(worker_pid, range(8), chunksize=1)), flush=True)
    time.sleep(600)
"""


def test_an_embedded_clusters_workers_end_when_its_parent_is_killed():
    """distributed's worker processes watch a pipe from their parent: nothing more is needed, and this shows it."""
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, str(Path(__file__).parent / "support")], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env=helper_process.child_env())
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        descendants = psutil.Process(parent.pid).children(recursive=True)
        assert {int(pid) for pid in line.split()} <= {child.pid for child in descendants}, line
        parent.kill()
        parent.wait()
        _, alive = psutil.wait_procs(descendants, timeout=WAIT_S)
        assert not alive, f"left running after their parent was killed: {alive}"
    finally:
        helper_process.stop(parent, grace=0)


def test_a_benchmark_run_through_the_address_records_the_cluster_and_not_its_memory(cluster, tmp_path):
    """`concurrency-lab run --dask-address` as a user runs it: identical results, the cluster named, and what
    the lab's sampler cannot see on a cluster it did not start (memory, per-core use) left unmeasured."""
    import json

    out = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "concurrency_lab", "run", "--profile", "smoke", "--variants", "dask",
                           "--workloads", "processor", "--dask-address", cluster.address, "--no-failures",
                           "--out", str(out)], capture_output=True, text=True, timeout=600, check=False,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
                               ADDRESS_VARIABLE: ""})  # pytest-benchmark turns itself off in what looks like an xdist worker
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = [r for r in json.loads((out / "summary.json").read_text())["results"] if r["variant"] == "dask"]
    assert {r["mode"] for r in rows} == {"warm", "cold"} and all(r["identical"] for r in rows)
    (warm,) = [r for r in rows if r["mode"] == "warm"]
    assert warm["cluster"] == {"address": cluster.address, "workers": 2, "threads": 2, "embedded": False}
    assert all(r["peak_rss_bytes"] is None and r["peak_processes"] is None for r in rows)
    assert all(r["cores_used"] and r["cores_used"] > 0 for r in rows)  # each worker reports its CPU
    assert f"an existing cluster at {cluster.address}, 2 workers, 2 threads" in (out / "summary.md").read_text()


def test_an_error_of_dasks_own_while_a_chunk_runs_is_a_broken_pool_naming_it():
    """Seen once in CI: with a task ending its worker, Client's future raised ValueError ("too many values to
    unpack"). Task errors come back inside the outcome, so anything the future raises is the cluster's."""
    import concurrent.futures

    closed = []

    class Closes:
        status = "running"  # a client that is still connected: the pool is not replaced before the call

        def __init__(self, name):
            self.name = name

        def shutdown(self, wait):
            closed.append(self.name)

        def close(self):
            closed.append(self.name)

    class FailingPool:  # a _Connection whose futures fail as Dask's did
        on_this_machine = True
        executor, client, cluster = Closes("executor"), Closes("client"), Closes("cluster")

        def submit(self, *args, **kwargs):
            future = concurrent.futures.Future()
            future.set_exception(ValueError("too many values to unpack (expected 3)"))
            return future

    variant = get_variant("dask", workers=2)
    variant._pool, variant._running = FailingPool(), True
    with pytest.raises(BrokenPool, match=r"the cluster failed while running chunk 0 \(items 0 to 1\) with "
                                         r"ValueError: too many values to unpack .*Dask's own error"):
        variant.map(abs, [1, 2, 3, 4], chunksize=2)
    assert closed == ["executor", "client", "cluster"]  # a broken pool is stopped, as after a dead worker
    variant._running = False
