"""`loky`: loky's reusable executor, list slices submitted as tasks, sent with cloudpickle."""

from __future__ import annotations

import os
import re
from concurrent.futures.process import BrokenProcessPool

from ..core.engines import LOKY
from ..core.errors import BrokenPool
from .base import ExecutorVariant
from .processes import STOP_GRACE_SECONDS, ProcessVariant, worker_started

#: loky's own start method: fork+exec on POSIX, so each worker is a fresh interpreter (spawn-like), and
#: the only one its reusable executor takes besides spawn and forkserver (it refuses fork).
LOKY_START_METHOD = "loky"
#: How loky's TerminatedWorkerError lists the dead workers: "... exit codes of the workers are {SIGKILL(-9)}".
_EXIT_CODES = re.compile(r"exit codes of the workers are \{([^}]*)\}")


class LokyWorkers(ProcessVariant):
    """Base for variants whose workers loky starts (loky itself, joblib's default backend): fork+exec
    workers, cloudpickle for tasks, items and results, and TerminatedWorkerError when one dies."""

    serializer = "cloudpickle"
    #: None of the lab's: the variant runs as its users call it, with loky's own start method (and
    #: loky's reusable executor refuses fork, the lab's default on Linux before 3.14).
    start_methods = ()

    @property
    def effective_start_method(self) -> str:
        return LOKY_START_METHOD

    def terminated(self, error: BaseException) -> BrokenPool:
        """BrokenPool for loky's TerminatedWorkerError, with the exit codes loky read before it stopped the
        other workers (their SIGKILL is loky's clean-up, not news)."""
        found = _EXIT_CODES.search(str(error))
        codes = [int(code) for code in re.findall(r"\((-?\d+)\)", found.group(1))] if found else []
        return self.broken(exitcodes=codes)


class LokyExecutor(LokyWorkers, ExecutorVariant):
    """Warm: the reusable executor kept between calls, as loky's users keep it; cold: started for the
    call and shut down after it, so every worker is a new interpreter. `close()` shuts the executor down:
    loky's reusable executor is one per process (a module global), so a variant's close also ends it for
    whatever else in the process used it, and two loky variants with different worker counts resize one
    executor between them."""

    name = "loky"
    summary = "loky.get_reusable_executor(max_workers=n), list slices submitted as tasks; fork+exec workers, cloudpickle"
    api_family = "loky"
    api = "loky.get_reusable_executor"
    api_chunks = True

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return LOKY.missing_reason()

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        chunk = f", chunksize={chunksize}" if chunksize and chunksize > 1 else ""
        return ("from loky import get_reusable_executor\n"
                f"results = list(get_reusable_executor(max_workers={workers}).map({func}, items{chunk}))")

    def _open(self):
        from loky import get_reusable_executor

        # loky's default idle timeout (10 s) is kept: a warm executor left idle longer respawns its workers.
        return get_reusable_executor(max_workers=self.workers, initializer=worker_started, initargs=(os.getpid(),))

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _abort(self, pool):
        pool.shutdown(wait=True, kill_workers=True)  # SIGKILL to every worker (and what it started)

    def _broken(self, pool):
        # Broken, or shut down by another user of loky's singleton (which replaced it): either way a new one.
        # get_reusable_executor is not called on every submit: from a done-callback, each call made a new
        # executor (about 10 leaked in CPython's chain-of-callbacks test).
        return pool._flags.broken is not None or pool._flags.shutdown

    def _executor(self):
        self._pool = self._open()  # as in submit: get_reusable_executor returns the live one, or a new one
        return self._pool

    def _pool_broke(self, error, index, items):
        from loky.process_executor import TerminatedWorkerError

        if isinstance(error, TerminatedWorkerError):
            manager = getattr(self._pool, "_executor_manager_thread", None)
            if manager is not None:  # it stops and reaps the other workers: let it finish
                manager.join(STOP_GRACE_SECONDS)
            return self.terminated(error)
        if isinstance(error, BrokenProcessPool):  # broken another way (a worker that could not start)
            return self.broken()
        return None
