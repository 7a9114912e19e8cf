"""`process_pool`: `concurrent.futures.ProcessPoolExecutor`, the lesson's "after" for CPU-bound work."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..core.process_tree import stop_processes
from ..core.traits import Role
from .base import ExecutorVariant
from .processes import STOP_GRACE_SECONDS, ProcessVariant, worker_started


class ProcessPool(ProcessVariant, ExecutorVariant):
    name = "process_pool"
    summary = "concurrent.futures.ProcessPoolExecutor, list slices submitted as tasks (never chunksize=1 by accident)"
    api_family = "concurrent.futures"
    api = "ProcessPoolExecutor.map"
    role, lesson_pair = Role.AFTER, "processes"
    api_default_chunksize = 1  # ProcessPoolExecutor.map's default: one pickled call per item
    api_chunks = True

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        chunk = chunksize if chunksize and chunksize > 1 else 1  # said even when 1: the default users miss
        return ("from concurrent.futures import ProcessPoolExecutor\n"
                'if __name__ == "__main__":\n'
                f"    with ProcessPoolExecutor(max_workers={workers}) as pool:\n"
                f"        results = list(pool.map({func}, items, chunksize={chunk}))")

    def _open(self):
        # Every worker watches this process, not its parent: a forkserver worker's parent is the forkserver.
        return _WatchedExecutor(max_workers=self.workers, mp_context=self.mp_context(), initializer=worker_started,
                                   initargs=(os.getpid(),))

    def _broken(self, pool):
        return bool(pool._broken)  # set by the executor's own thread when a worker died, before it fails the futures

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _abort(self, pool):
        if hasattr(pool, "terminate_workers"):  # 3.14
            pool.terminate_workers()
        else:
            stop_processes(list((pool._processes or {}).values()), STOP_GRACE_SECONDS)  # the executor's own table of its workers
        _let_the_manager_finish(pool)
        pool.shutdown(wait=True, cancel_futures=True)

    # Chunks go as list slices submitted as tasks (ExecutorVariant's loop): submitting slices costs per task about
    # what Pool.map does (the tiny_tasks rows of `concurrency-lab run`), while ProcessPoolExecutor.map(chunksize=k)
    # cost two to four times more: it pickles one iterator per chunk.

    def _pool_broke(self, error, index, items):
        if not isinstance(error, BrokenProcessPool):
            return None
        # The executor's own thread stops and reaps every worker: wait for it rather than reap them
        # too (two readers of a forkserver worker's status pipe leave one with exit code 255).
        _let_the_manager_finish(self._pool)
        return self.broken({**self._pool.started, **(self._pool._processes or {})}.values())


class _WatchedExecutor(ProcessPoolExecutor):
    """A ProcessPoolExecutor that keeps every worker process it started, to say how one died: a broken
    pool's own table of them is emptied by its thread as it stops them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.started: dict[int, Any] = {}

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)  # which starts the workers it needs
        self.started.update(self._processes or {})  # the executor's own table
        return future


def _let_the_manager_finish(pool: ProcessPoolExecutor) -> None:
    """Give the executor's own thread, which stops and reaps the workers of a broken pool, time to finish.

    On Python 3.10 it can wait for ever: a worker that died while the call queue's feeder thread wrote it a
    large item leaves that write blocked on a pipe nobody reads, and the thread waits for the feeder
    (CPython gh-94777; 3.10.13 hung on the adapted test_crash_big_data, fork and forkserver). Still alive
    after the grace, with every worker gone, it is stuck there: this process's read end of that pipe is
    closed then, so the write fails and the feeder moves on. 3.11 and later close it themselves."""
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is None:
        return
    manager.join(STOP_GRACE_SECONDS)
    if manager.is_alive() and sys.version_info < (3, 11):
        reader = getattr(getattr(pool, "_call_queue", None), "_reader", None)
        fd = getattr(reader, "_handle", None)
        if reader is not None and fd is not None:
            # The handle is taken first: the feeder closes the same Connection once unblocked, and must find it
            # closed (Connection.close from two threads closes the descriptor twice, maybe another file's by then).
            reader._handle = None
            os.close(fd)
        manager.join(STOP_GRACE_SECONDS)
