"""`thread_pool`: `concurrent.futures.ThreadPoolExecutor`, the lesson's "after" for I/O."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ..core.cpus import default_thread_workers
from ..core.traits import Kind, Role
from .base import ExecutorVariant


class ThreadPool(ExecutorVariant):
    name = "thread_pool"
    summary = "concurrent.futures.ThreadPoolExecutor.map"
    kind = Kind.THREADS
    api_family = "concurrent.futures"
    api = "ThreadPoolExecutor.map"
    role, lesson_pair = Role.AFTER, "threads"

    @classmethod
    def default_workers(cls) -> int:
        return default_thread_workers()  # ThreadPoolExecutor's own default

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        # ThreadPoolExecutor.map ignores chunksize: threads get one item per task.
        return ("from concurrent.futures import ThreadPoolExecutor\n"
                f"with ThreadPoolExecutor(max_workers={workers}) as pool:\n"
                f"    results = list(pool.map({func}, items))")

    def _open(self):
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="lab-thread-pool")

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _abort(self, pool):
        # Queued chunks are cancelled; a running one ends at its next item (run_chunk's deadline).
        pool.shutdown(wait=False, cancel_futures=True)
