"""`process_pool`: `concurrent.futures.ProcessPoolExecutor`, the lesson's "after" for CPU-bound work."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from ..traits import Role
from .base import ProcessVariant, run_chunk


class ProcessPool(ProcessVariant):
    name = "process_pool"
    summary = "concurrent.futures.ProcessPoolExecutor, list slices submitted as tasks (never chunksize=1 by accident)"
    api_family = "concurrent.futures"
    api = "ProcessPoolExecutor.map"
    role, lesson_pair = Role.AFTER, "processes"
    api_default_chunksize = 1  # ProcessPoolExecutor.map's default: one pickled call per item

    def _open(self):
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.mp_context())

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _map_chunks(self, task, chunks):
        # Submitting slices measured 0.7-0.9x the per-task time of Pool.map here, while
        # ProcessPoolExecutor.map(chunksize=k) took 1.8-3.6x: it pickles one iterator per chunk.
        futures = [self._pool.submit(run_chunk, task, chunk) for chunk in chunks]
        return [future.result() for future in futures]
