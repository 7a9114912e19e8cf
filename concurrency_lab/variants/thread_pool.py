"""`thread_pool`: `concurrent.futures.ThreadPoolExecutor`, the lesson's "after" for I/O."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..cpus import default_thread_workers
from ..traits import Kind, Role
from .base import Variant, run_chunk


class ThreadPool(Variant):
    name = "thread_pool"
    summary = "concurrent.futures.ThreadPoolExecutor.map"
    kind = Kind.THREADS
    api_family = "concurrent.futures"
    api = "ThreadPoolExecutor.map"
    role, lesson_pair = Role.AFTER, "threads"

    @classmethod
    def default_workers(cls) -> int:
        return default_thread_workers()

    def _open(self):
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="lab-thread-pool")

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _map_chunks(self, task, chunks):
        return list(self._pool.map(run_chunk, [task] * len(chunks), chunks))
