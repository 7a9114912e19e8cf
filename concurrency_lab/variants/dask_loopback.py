"""A real Dask cluster on this machine: a `dask scheduler` and single-threaded `dask worker` processes on 127.0.0.1
(free ports, no dashboard), started and stopped by pid as the lab's helper processes are, ready once every worker
joined; what `--dask-address` points the lab at, for the tests and experiments/dask_overhead.py."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

from ..core import helper_process
from .dask_cluster import ALLOWED_FAILURES, WORKER_TTL

#: Interpreter start-up and Dask's imports on a loaded 2-core CI machine, far past a start experiments/dask_overhead.py times.
START_TIMEOUT_S = 60.0
POLL_S = 0.05
#: Preloaded by the scheduler and each nanny: every process of the cluster ends with the one that started it.
PRELOAD = "concurrency_lab.variants.dask_preload"
#: Without a dashboard, each still serves HTTP (health, metrics): on 0.0.0.0:8787 unless told otherwise.
_ANY_LOOPBACK_PORT = "127.0.0.1:0"


def cluster_env(pythonpath: Sequence[str] = ()) -> dict[str, str]:
    """The lab's scheduler settings, given as an operator gives them to a cluster of their own, and `pythonpath`
    first on the workers' path, as a project is installed on a cluster's workers, so that they import its tasks."""
    return {
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(ALLOWED_FAILURES),
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": WORKER_TTL,
        "PYTHONPATH": os.pathsep.join([*pythonpath, helper_process.child_env()["PYTHONPATH"]]),
    }


@dataclass(frozen=True)
class RealCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    nannies: tuple[subprocess.Popen[bytes], ...]  # `dask worker`: each a nanny that runs (and restarts) one worker

    @property
    def pids(self) -> list[int]:
        return [self.scheduler.pid, *(nanny.pid for nanny in self.nannies)]

    def worker_pids(self) -> set[int]:
        """The processes that run tasks now: the nannies' children."""
        found = set()
        for nanny in self.nannies:
            with contextlib.suppress(psutil.Error):
                found |= {child.pid for child in psutil.Process(nanny.pid).children()}
        return found

    def wait_for_workers(self, count: int | None = None) -> None:
        """Until `count` workers (default: one per nanny) are connected, asked of the scheduler."""
        from distributed import Client

        with Client(self.address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(count or len(self.nannies), timeout=START_TIMEOUT_S)


@contextlib.contextmanager
def real_cluster(workers: int = 2, *, pythonpath: Sequence[str] = ()) -> Iterator[RealCluster]:
    """Start the scheduler, then `workers` worker processes (`pythonpath` first on their path); stop every one
    of them by pid on the way out."""
    env = cluster_env(pythonpath)
    started: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as stderr:
        try:
            scheduler_file = Path(folder) / "scheduler.json"
            started.append(_start(stderr, env, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--dashboard-address", _ANY_LOOPBACK_PORT,
                                  "--scheduler-file", str(scheduler_file), "--preload", PRELOAD))
            address = _address_in(scheduler_file, started[0], stderr)
            for _ in range(workers):
                started.append(_start(stderr, env, "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                                      "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                      "--dashboard-address", _ANY_LOOPBACK_PORT, "--death-timeout", "30",
                                      "--preload-nanny", PRELOAD))
            cluster = RealCluster(address, started[0], tuple(started[1:]))
            cluster.wait_for_workers()
            yield cluster
        finally:
            for process in reversed(started):  # the workers first: a scheduler gone first leaves them retrying
                helper_process.stop(process)


def _start(stderr: IO[bytes], env: dict[str, str], module: str, *args: str) -> subprocess.Popen[bytes]:
    return helper_process.start(module, *args, stderr=stderr, extra_env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def _address_in(scheduler_file: Path, scheduler: subprocess.Popen[bytes], stderr: IO[bytes]) -> str:
    """The address the scheduler wrote once it listens (a port it chose)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(OSError, ValueError, KeyError):  # not there yet, or half written
            return json.loads(scheduler_file.read_text())["address"]
        if scheduler.poll() is not None or time.monotonic() > deadline:
            raise helper_process.failure("dask scheduler", scheduler, stderr,
                                         f"wrote no address to {scheduler_file} within {START_TIMEOUT_S:g} s")
        time.sleep(POLL_S)
