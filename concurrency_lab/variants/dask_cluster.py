"""`dask`: Dask's distributed scheduler through `Client.get_executor(pure=False)`, on an embedded LocalCluster or the
cluster at `scheduler-address`."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import logging
import os
from dataclasses import dataclass
from typing import Any

from ..core.engines import DASK
from ..core.errors import BrokenPool, MapTimeout
from ..core.traits import Kind
from .base import ExecutorVariant
from .checks import check_scheduler_address

#: Dask's own way to name a scheduler (its config key `scheduler-address`); `--dask-address` sets it.
ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
#: Deaths a task may see before Dask gives up on it (KilledWorker); Dask's default is 3. One: a worker lost
#: mid-map (killed, OOM) costs a retry, while a task that kills its worker fails after two deaths.
ALLOWED_FAILURES = 1
#: A worker silent this long is dropped and its tasks placed elsewhere. Dask's default, 5 minutes, is how
#: long one stopped (SIGSTOP'd) worker stalls a map; heartbeats come every second or so.
WORKER_TTL = "15s"
#: What the lab's own clusters (the embedded one, the tests' real one) run with.
LAB_CLUSTER_CONFIG = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                      "distributed.scheduler.worker-ttl": WORKER_TTL}
#: How long to wait for a scheduler to answer and for its first worker: far past a cold start (experiments/dask_overhead.py).
CONNECT_TIMEOUT_S = 30.0


def configured_address() -> str | None:
    """The scheduler the lab is pointed at (dask's `scheduler-address`: DASK_SCHEDULER_ADDRESS or
    `--dask-address`), or None for an embedded cluster."""
    text = os.environ.get(ADDRESS_VARIABLE)
    if text is None and DASK.missing_reason() is None:
        import dask.config

        text = dask.config.get("scheduler-address", None)
    return None if not text else check_scheduler_address(text)


def use_scheduler_address(address: str | None) -> None:
    """Point every dask variant made from now on, here and in the processes this one starts (the failure
    probes), at the scheduler at `address` (a `--dask-address`); None leaves the configuration as it is."""
    if address is not None:
        os.environ[ADDRESS_VARIABLE] = check_scheduler_address(address)


def _loopback(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Connection:
    """A client, its executor and, when the lab started it, the LocalCluster behind them."""

    client: Any
    executor: Any
    cluster: Any | None
    on_this_machine: bool  # every worker shares our time.monotonic(), so run_chunk can check a deadline

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        return self.executor.submit(fn, *args, **kwargs)

    def info(self) -> dict[str, Any]:
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return {"address": self.client.scheduler.address, "workers": len(workers),
                "threads": sum(worker["nthreads"] for worker in workers.values()), "embedded": self.cluster is not None}


#: How long each worker of the embedded cluster gets to end its running task when a map is stopped: the
#: nanny's default (5 s, 4 of them waiting for the task) made map(timeout=2) return after 5.2 s.
ABORT_WORKER_S = 0.5


def _stop_workers(cluster: Any) -> None:
    """Close the nanny of every worker of `cluster`, each killing its worker process after ABORT_WORKER_S:
    closing the cluster then has no running task to wait for."""
    import asyncio

    async def close_all(nannies: list[Any]) -> None:
        await asyncio.gather(*(nanny.close(timeout=ABORT_WORKER_S, reason="lab-map-stopped") for nanny in nannies),
                             return_exceptions=True)  # one that failed to close is closed again with the cluster

    cluster.sync(close_all, list(cluster.workers.values()))


class DaskCluster(ExecutorVariant):
    name = "dask"
    summary = ("dask.distributed: one task per list slice through Client.get_executor(pure=False); an embedded "
               "LocalCluster of single-threaded worker processes, or the cluster at --dask-address")
    kind = Kind.CLUSTER
    api_family = "dask.distributed"
    api = "Client.get_executor(pure=False)"
    serializer = "cloudpickle"
    exceptions_by_attributes = True  # distributed installs tblib's pickling of exceptions in every process
    chunks_per_worker = 4  # as the process variants: a task costs milliseconds (experiments/dask_overhead.py): batched
    #: The embedded cluster's workers are stopped with it; see __init__ for one at an address.
    stops_running_work = True

    def __init__(self, workers: int | None = None, *, chunksize: int | None = None, start_method: str | None = None,
                 address: str | None = None):
        """`address`: a scheduler's ``tcp://HOST:PORT`` (default: `configured_address()`); without one, `workers`
        single-threaded worker processes on 127.0.0.1. With one, `workers` only sets the chunking (`cluster_info()`
        says what the cluster has), and a timeout cannot stop its running tasks: other clients' work shares them."""
        super().__init__(workers, chunksize=chunksize, start_method=start_method)
        self.address = configured_address() if address is None else check_scheduler_address(address)
        self.stops_running_work = self.address is None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers}, chunksize={self.chunksize}, address={self.address!r})"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return DASK.missing_reason()

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        # One task per item: the lab's batching (one pickled list per chunk) is its own addition.
        return ("from dask.distributed import Client, LocalCluster\n"
                'if __name__ == "__main__":\n'
                f"    with LocalCluster(n_workers={workers}, threads_per_worker=1) as cluster, Client(cluster) as client:\n"
                f"        results = client.gather(client.map({func}, items, pure=False))")

    def workers_in_process_tree(self) -> bool:
        return self.address is None  # an embedded cluster's workers are our descendants

    def cluster_info(self) -> dict[str, Any] | None:
        """{address, workers, threads, embedded} of the cluster it is connected to now; None while closed."""
        return None if self._pool is None else self._pool.info()

    def _open(self) -> _Connection:
        import dask.config
        from distributed import Client, LocalCluster

        if self.address is not None:  # its scheduler has its operator's settings, not the lab's
            return self._connect(Client)
        with dask.config.set(LAB_CLUSTER_CONFIG):  # its scheduler runs here; its workers inherit the config
            # distributed's worker processes end when their parent dies (a pipe they watch): nothing to add.
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=logging.CRITICAL,
                                   # Without a dashboard its HTTP server (health, metrics) still takes 8787, or
                                   # warns and takes another when that port is in use: any free one, quietly.
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            try:
                client = Client(cluster, set_as_default=False)
            except BaseException:
                cluster.close()
                raise
            return _Connection(client, client.get_executor(pure=False), cluster, True)

    def _connect(self, Client: Any) -> _Connection:  # distributed's class, imported by the caller
        try:
            client = Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except OSError as exc:
            raise OSError(f"{self.name}: no Dask scheduler answered at {self.address} within {CONNECT_TIMEOUT_S:g} s "
                          f"({exc}); start one (`dask scheduler`), or point --dask-address or {ADDRESS_VARIABLE} at "
                          "one that runs") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except BaseException as exc:
            client.close()
            if isinstance(exc, Exception):
                raise OSError(f"{self.name}: the Dask scheduler at {self.address} has had no worker for "
                              f"{CONNECT_TIMEOUT_S:g} s; start one with `dask worker {self.address}`") from None
            raise
        workers = client.scheduler_info(n_workers=-1)["workers"]
        local = _loopback(str(self.address)) and all(_loopback(address) for address in workers)
        return _Connection(client, client.get_executor(pure=False), None, local)

    def _close(self, pool: _Connection) -> None:
        """Wait for every future `submit` returned (Executor.shutdown(wait=True)), then close the client and
        the embedded cluster."""
        try:
            pool.executor.shutdown(wait=True)
        finally:
            self._disconnect(pool)

    def _disconnect(self, pool: _Connection) -> None:
        try:
            pool.client.close()
        finally:
            if pool.cluster is not None:
                pool.cluster.close()

    def _abort(self, pool: _Connection) -> None:
        """Cancel what is queued; the embedded cluster's workers are stopped, running tasks and all, then it is
        closed. A cluster at an address is left running: its running tasks finish there."""
        try:
            pool.executor.shutdown(wait=False)  # cancels every future it made
            if pool.cluster is not None:
                try:
                    _stop_workers(pool.cluster)
                except Exception:  # noqa: BLE001 - closing the cluster below stops them too, only slower
                    pass
        finally:
            self._disconnect(pool)

    def _broken(self, pool: _Connection) -> bool:
        return pool.client.status in ("closing", "closed")  # its scheduler went away: a new client is needed

    def _timeout_error(self, limit, unfinished):
        if self.stops_running_work:
            return super()._timeout_error(limit, unfinished)
        items = "item has" if unfinished == 1 else "items have"
        return MapTimeout(f"{self.name}: map did not finish within {limit:g} s: {unfinished} {items} no result; its "
                          f"queued tasks were cancelled, and the tasks running on the cluster finish there (the lab "
                          f"does not stop the workers of a cluster it did not start)",
                          timeout=limit or 0.0, unfinished=unfinished, stopped=False)

    def _worker_deadline(self, deadline):
        return deadline if self._pool.on_this_machine else None  # another machine's monotonic clock differs

    # Chunks go as bytes and come back as bytes (handoff.py, through ExecutorVariant's loop): Dask serialises one
    # opaque object each way (a returned list it serialises item by item, seconds for many small results:
    # `python experiments/dask_overhead.py` measures it), and neither the client nor the scheduler unpickles a
    # user's object, which could end or crash them.

    def _pool_broke(self, error, index, items):
        from distributed import KilledWorker

        where = f"chunk {index} (items {items.start} to {items.stop - 1})"
        if isinstance(error, KilledWorker):
            return BrokenPool(
                f"{self.name}: a worker process died while running {where}, {ALLOWED_FAILURES + 1} times in a row "
                "for the lab's clusters (Dask's KilledWorker), so the results of the chunks still running are lost; "
                "a task may call os._exit, crash, or be killed (the OOM killer sends SIGKILL)")
        return BrokenPool(  # not the task's: run_packed returns those with the results. Dask's own.
            f"{self.name}: the cluster failed while running {where} with {type(error).__name__}: "
            f"{' '.join(str(error).split())[:200]}; this is Dask's own error, not the task's (seen once when a task "
            "ended its worker process)")
