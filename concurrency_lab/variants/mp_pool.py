"""`mp_pool`: `multiprocessing.Pool`, the lesson's "before" for CPU-bound work."""

from __future__ import annotations

import atexit
import multiprocessing.connection
import multiprocessing.pool
import time
import weakref

from ..traits import Role
from .base import TimedOut
from .handoff import Handoff, run_packed
from .processes import ProcessVariant, worker_started

#: How often map looks at its workers while it waits. Pool replaces a worker that died and never
#: finishes that worker's task, so waiting without looking would wait forever. A ready result
#: wakes the wait at once: this adds no latency, only a look at the workers 20 times a second.
WATCH_SECONDS = 0.05


def ended(workers: list[multiprocessing.process.BaseProcess]) -> bool:
    """Whether one of `workers` has ended, without reading its exit code: Pool's own thread reads
    those, and two readers of a forkserver worker's status pipe can leave one blocked for ever."""
    sentinels = []
    for process in workers:
        try:
            sentinels.append(process.sentinel)
        except ValueError:  # made, not started yet: the pool's thread is starting it
            continue
    return bool(multiprocessing.connection.wait(sentinels, timeout=0))


_LIVE: weakref.WeakSet = weakref.WeakSet()


@atexit.register  # after multiprocessing's own exit hook is registered, so it runs before that one
def _stop_live_pools() -> None:
    """Stop every pool still open at exit (an interrupted run): otherwise multiprocessing's exit hook
    kills their workers while Pool's thread still runs, and it tries to fork replacements at shutdown."""
    for pool in list(_LIVE):
        try:
            pool.terminate()
        except Exception:  # noqa: BLE001 - half-built, or already stopped: nothing more to stop
            pass


class WatchedPool(multiprocessing.pool.Pool):
    """`multiprocessing.Pool` that remembers every worker it starts, replacements included: a worker
    can die and be replaced between two looks at the pool's list of live workers."""

    def __init__(self, *args, **kwargs) -> None:
        self.started_workers: list[multiprocessing.process.BaseProcess] = []
        _LIVE.add(self)
        try:
            super().__init__(*args, **kwargs)
        except BaseException:  # interrupted half-built: Pool's threads may run, with no terminate() to stop them
            for name in ("_worker_handler", "_task_handler", "_result_handler"):
                if (thread := getattr(self, name, None)) is not None:
                    thread._state = multiprocessing.pool.TERMINATE  # each loop ends on its next look
            for process in self.started_workers:
                if process.pid is not None:
                    process.terminate()
            raise

    def Process(self, ctx, *args, **kwargs):  # noqa: N802 - the name Pool calls to make each worker
        process = ctx.Process(*args, **kwargs)
        self.started_workers.append(process)
        return process


class MultiprocessingPool(ProcessVariant):
    name = "mp_pool"
    summary = "multiprocessing.Pool.map, chunks of ceil(n / (4 * workers)) items"
    api_family = "multiprocessing"
    api = "multiprocessing.Pool.map"
    role, lesson_pair = Role.BEFORE, "processes"
    api_chunks = True

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        chunk = f", chunksize={chunksize}" if chunksize and chunksize > 1 else ""
        return ("import multiprocessing\n"
                'if __name__ == "__main__":\n'
                f"    with multiprocessing.Pool({workers}) as pool:\n"
                f"        results = pool.map({func}, items{chunk})")

    def _open(self):
        return WatchedPool(processes=self.workers, initializer=worker_started, context=self.mp_context())

    def _close(self, pool):
        pool.close()
        pool.join()

    def _abort(self, pool):
        pool.terminate()  # SIGTERM to every worker, then joined
        pool.join()

    def _map_chunks(self, task, chunks, deadline, outcomes):
        # One apply_async per chunk (our chunks are already the tasks), so each chunk's outcome
        # arrives on its own and what finished before a failure is kept. Chunks go and come back as
        # bytes (handoff.py): Pool's task and result threads, which die on a pickling failure, never meet one.
        handoff = Handoff(self.name, self.serializer)
        pending = handoff.submit_all(lambda payload: self._pool.apply_async(run_packed, (payload, deadline, self.serializer)),
                                     task, chunks)
        start = 0
        for index, result in enumerate(pending):
            while not result.ready():
                result.wait(WATCH_SECONDS)
                workers = list(self._pool.started_workers)  # appended to by the pool's own thread
                if ended(workers):  # an open pool's workers never exit
                    self._pool.terminate()  # its threads stop: from here only this one reads the exit codes
                    raise self.broken(workers)
                if deadline is not None and time.monotonic() > deadline:
                    raise TimedOut
            outcomes[index] = handoff.unpack(result.get(), start, len(chunks[index]))
            start += len(chunks[index])
