"""`threading`: hand-made `threading.Thread` workers fed from a `queue.Queue` (the lesson's "before")."""

from __future__ import annotations

import queue
import threading

from ..core.cpus import default_thread_workers
from ..core.traits import Kind, Role
from .base import TimedOut, Variant, remaining
from .chunks import run_chunk

_STOP = None  # one per worker, after the work: the queue is FIFO, so every chunk is taken first


class ThreadingWorkers(Variant):
    name = "threading"
    summary = "hand-made threading.Thread workers fed from a queue.Queue (the lesson's 'before')"
    kind = Kind.THREADS
    api_family = "threading"
    api = "threading.Thread + queue.Queue"
    role, lesson_pair = Role.BEFORE, "threads"

    @classmethod
    def default_workers(cls) -> int:
        return default_thread_workers()  # as ThreadPoolExecutor: I/O-bound by default

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        # The lesson's "before", as a user writes it; an exception in a worker is kept, not lost in the thread.
        return ("import queue\n"
                "import threading\n"
                "todo, results, errors = queue.Queue(), [None] * len(items), []\n"
                "for job in enumerate(items):\n"
                "    todo.put(job)\n\n"
                "def work():\n"
                "    while True:\n"
                "        try:\n"
                "            index, item = todo.get_nowait()\n"
                "        except queue.Empty:\n"
                "            return\n"
                "        try:\n"
                f"            results[index] = {func}(item)\n"
                "        except Exception as exc:\n"
                "            errors.append(exc)\n\n"
                f"threads = [threading.Thread(target=work) for _ in range({workers})]\n"
                "for thread in threads:\n"
                "    thread.start()\n"
                "for thread in threads:\n"
                "    thread.join()\n"
                "if errors:\n"
                "    raise errors[0]")

    def _map_chunks(self, task, chunks, deadline, outcomes):
        todo: queue.Queue[tuple[int, list] | None] = queue.Queue()
        raised: list[BaseException] = []

        def work() -> None:
            while (job := todo.get()) is not _STOP:
                index, chunk = job
                try:
                    outcomes[index] = run_chunk(task, chunk, deadline)
                except BaseException as exc:  # noqa: BLE001 - kept, and raised by map: never lost in a thread
                    raised.append(exc)

        for job in enumerate(chunks):
            todo.put(job)
        threads = [threading.Thread(target=work, name=f"lab-worker-{i}") for i in range(min(self.workers, len(chunks)))]
        for thread in threads:
            todo.put(_STOP)
            thread.start()
        for thread in threads:
            thread.join(remaining(deadline))
            if thread.is_alive():  # past the deadline: it ends after its item, and takes no other
                raise TimedOut
        if raised:
            raise raised[0]
