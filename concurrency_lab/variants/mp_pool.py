"""`mp_pool`: `multiprocessing.Pool`, the lesson's "before" for CPU-bound work."""

from __future__ import annotations

from functools import partial

from ..traits import Role
from .base import ProcessVariant, run_chunk


class MultiprocessingPool(ProcessVariant):
    name = "mp_pool"
    summary = "multiprocessing.Pool.map, chunks of ceil(n / (4 * workers)) items"
    api_family = "multiprocessing"
    api = "multiprocessing.Pool.map"
    role, lesson_pair = Role.BEFORE, "processes"

    def _open(self):
        return self.mp_context().Pool(processes=self.workers)

    def _close(self, pool):
        pool.close()
        pool.join()

    def _map_chunks(self, task, chunks):
        # Our chunks are already the tasks: chunksize=1 here means one chunk per hand-off.
        return self._pool.map(partial(run_chunk, task), chunks, chunksize=1)
