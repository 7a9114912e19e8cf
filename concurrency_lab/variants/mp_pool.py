"""`mp_pool`: `multiprocessing.Pool`, the lesson's "before" for CPU-bound work."""

from __future__ import annotations

import atexit
import multiprocessing.connection
import multiprocessing.pool
import os
import threading
import time
import weakref

from ..core.process_tree import stop_processes
from ..core.traits import Role
from .base import TimedOut
from .handoff import run_packed
from .processes import STOP_GRACE_SECONDS, ProcessVariant, worker_started

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

    def Process(self, ctx, *args, **kwargs):  # type: ignore[override]  # Pool's staticmethod, here a method: it keeps each worker
        process = ctx.Process(*args, **kwargs)
        self.started_workers.append(process)
        return process

    @classmethod
    def _terminate_pool(cls, taskqueue, inqueue, outqueue, pool, change_notifier, worker_handler, task_handler,
                        result_handler, cache):
        """What `terminate()` runs (once), reordered so that it cannot hang. Pool's own takes the task queue's
        read lock and drains the queue only while it is not empty, then stops the workers and waits for its
        task thread. That thread may be pickling a large item at that moment: it then writes it into a pipe
        nobody may read any more and blocks for ever (seen with 4 MiB items, about 1 run in 80); and a worker
        killed while reading a task or writing a result holds that queue's lock for ever (and leaves half a
        message in the pipe). Here the workers are stopped first, then this process, the only one left at
        either end of the queues, drains the task pipe's bytes and wakes the result thread without their
        locks; every wait is bounded."""
        TERMINATE = multiprocessing.pool.TERMINATE  # Pool's constant
        for thread in (worker_handler, task_handler, result_handler):
            thread._state = TERMINATE
        change_notifier.put(None)  # wakes the worker thread: it ends, starting no worker, and ends the task thread
        _join(worker_handler)
        stop_processes([process for process in pool if process.pid is not None], STOP_GRACE_SECONDS)
        stop_at = time.monotonic() + STOP_GRACE_SECONDS
        while task_handler.is_alive() and time.monotonic() < stop_at:  # it may be blocked writing a task
            if inqueue._reader.poll(0.05):  # raw bytes: a worker killed mid-read left half a message there
                os.read(inqueue._reader.fileno(), 1 << 20)
        if result_handler.is_alive():
            outqueue._writer.send(None)  # its wake-up: any message, once its state is TERMINATE
        _join(task_handler)
        _join(result_handler)


def _join(thread: threading.Thread) -> None:
    """Join one of Pool's threads, unless it is the calling one, waiting no longer than STOP_GRACE_SECONDS:
    one still blocked then is a daemon thread, and is left behind rather than hang the caller."""
    if thread is not threading.current_thread():
        thread.join(STOP_GRACE_SECONDS)


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
        return WatchedPool(processes=self.workers, initializer=worker_started, initargs=(os.getpid(),),
                           context=self.mp_context())

    def _close(self, pool):
        pool.close()
        # Pool.join waits for every task it was given, and a task whose worker died never finishes: a warm
        # map that raised NotPicklable may have left one running. So look at the workers while waiting.
        while pool._cache:
            if ended(list(pool.started_workers)):
                pool.terminate()
                return
            time.sleep(WATCH_SECONDS)
        pool.join()

    def _abort(self, pool):
        pool.terminate()  # SIGTERM to every worker, then SIGKILL; every thread of the pool joined, for a bounded time

    def _broken(self, pool):
        return ended(list(pool.started_workers))  # Pool replaced it, but a task it was running never finishes

    def _map_chunks(self, task, chunks, deadline, outcomes):
        # One apply_async per chunk (our chunks are already the tasks), so each chunk's outcome
        # arrives on its own and what finished before a failure is kept. Chunks go and come back as
        # bytes (handoff.py): Pool's task and result threads, which die on a pickling failure, never meet one.
        handoff = self.handoff()
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
