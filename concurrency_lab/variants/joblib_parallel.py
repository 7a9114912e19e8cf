"""`joblib`: ``joblib.Parallel(n_jobs=n)(delayed(f)(x) for x in items)``, its default loky backend batching automatically."""

from __future__ import annotations

import atexit
import functools
import gc
import inspect
import multiprocessing
import os
import types
import warnings
from concurrent.futures.process import BrokenProcessPool

from ..core.engines import JOBLIB
from ..core.errors import NotPicklable
from .base import TimedOut, remaining
from .chunks import run_chunk
from .handoff import run_packed
from .loky_executor import LokyWorkers
from .processes import worker_started


class JoblibParallel(LokyWorkers):
    """Each item is one ``delayed(run_chunk)`` call and joblib batches them as it does for its users
    (``batch_size="auto"``), while `run_chunk` still measures each item's CPU. A chunk size of k makes
    k-item chunks, each one call, with ``batch_size=1``: k items per dispatched task, as
    ``batch_size=k`` would send (given to ``map`` or to the variant; ``map(chunksize=1)`` is one item per task).
    Warm: the executor joblib keeps between calls (one per process, its vendored loky's, shared by every caller);
    cold and `close()`: that executor is shut down, so no worker outlives the variant. At ``workers=1`` joblib runs
    the items in the calling thread, with no worker process: that instance's traits say so."""

    name = "joblib"
    summary = "joblib.Parallel(n_jobs=n)(delayed(task)(item) for item in items): the loky backend, batch_size='auto'"
    api_family = "joblib"
    api = "joblib.Parallel"
    api_chunks = True
    chunks_per_worker = None  # one item per call: joblib's automatic batching groups them

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.workers == 1:  # joblib's n_jobs=1 is its SequentialBackend: a loop in the calling thread
            self.uses_processes = self.concurrent = self.stops_running_work = False

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return JOBLIB.missing_reason()

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        # A chunk size of 1 is how the lab leaves joblib's automatic batching alone: what was measured then.
        batch = f", batch_size={chunksize}" if chunksize and chunksize > 1 else ""
        return ("from joblib import Parallel, delayed\n"
                f"results = Parallel(n_jobs={workers}{batch})(delayed({func})(item) for item in items)")

    def _open(self):
        from joblib import Parallel

        # initializer= (passed on to loky) is the lab's one addition: workers end with their parent.
        return functools.partial(Parallel, n_jobs=self.workers, return_as="generator", initializer=worker_started,
                                 initargs=(os.getpid(),))

    def cpu_spent_elsewhere(self) -> bool:
        return self.uses_processes  # False at one worker: joblib's loop in the calling thread

    def _close(self, pool):
        self._shut_down(kill_workers=False)

    def _abort(self, pool):
        self._shut_down(kill_workers=True)

    @staticmethod
    def _shut_down(kill_workers: bool) -> None:
        """Shut down the executor joblib keeps for the process. Its own `terminate` first, which also removes
        its memmapping folder in /dev/shm (left to an atexit hook otherwise, which a forked child that ends
        with os._exit never runs: loky's resource tracker then warns of "leaked folder objects"). Then
        reuse=False replaces it (waiting for its workers, or killing them) by a new one that has started
        none, which is shut down in turn. Last, the folders its reusing calls made (`_remove_folders_left_to_exit`)."""
        from joblib.externals.loky import get_reusable_executor, reusable_executor

        current = getattr(reusable_executor, "_executor", None)  # joblib's MemmappingExecutor, when it made one
        if current is not None and hasattr(current, "terminate"):
            current.terminate(kill_workers=kill_workers)
        get_reusable_executor(max_workers=1, reuse=False, kill_workers=kill_workers).shutdown(wait=True)
        _remove_folders_left_to_exit()

    def map(self, task, items, *, chunksize=None, timeout=None):
        # A chunk size given here or to the variant is a batch size the caller chose; none leaves joblib's.
        self._auto_batching = chunksize is None and self.chunksize is None
        self._warm_call = self.running  # a cold call's workers are stopped after it anyway
        return super().map(task, items, chunksize=chunksize, timeout=timeout)

    def _map_chunks(self, task, chunks, deadline, outcomes):
        from joblib import delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        batch_size = "auto" if getattr(self, "_auto_batching", self.chunksize is None) else 1
        # joblib's timeout bounds each task's wait, from when the call starts waiting for it: a task
        # that started before the deadline may run past it by up to the rest of that bound.
        timeout = remaining(deadline) if self.uses_processes else None  # its sequential backend takes none
        parallel = self._pool(batch_size=batch_size, timeout=timeout)
        handoff = self.handoff()
        if self.uses_processes:  # chunks go and come back as bytes (handoff.py); at one worker joblib runs them here
            # Every chunk pickled before joblib starts: a NotPicklable raised inside its dispatch would end its workers.
            packed = list(handoff.pack(task, chunks))
            calls = (delayed(run_packed)(payload, deadline, self.serializer) for payload in packed)
        else:
            calls = (delayed(run_chunk)(task, chunk, deadline) for chunk in chunks)
        done = start = 0  # chunks back, and the input index of the first item of the next one
        unpacked: NotPicklable | None = None
        outputs = parallel(calls)
        try:
            for outcome in outputs:
                size = len(chunks[done])
                if not self.uses_processes:
                    outcomes[done] = outcome
                elif unpacked is None:
                    try:
                        outcomes[done] = handoff.unpack(outcome, start, size)
                    except NotPicklable as exc:
                        if not getattr(self, "_warm_call", False):
                            raise  # leaving joblib's generator kills its workers: only a cold call's, done with
                        unpacked = exc  # a warm pool's: raised once every chunk is back, and no worker died
                start += size
                done += 1
        except (TimeoutError, multiprocessing.TimeoutError):  # joblib raises multiprocessing's
            if unpacked is not None:  # the NotPicklable came first
                raise unpacked from None
            raise TimedOut from None
        except (TerminatedWorkerError, BrokenProcessPool) as exc:
            if unpacked is not None:  # the first failure in input order: an earlier chunk's NotPicklable
                raise unpacked from None
            if isinstance(exc, TerminatedWorkerError):
                raise self.terminated(exc) from exc
            raise self.broken() from exc  # broken another way (a worker that could not start)
        finally:
            with warnings.catch_warnings():  # "N tasks which were still being processed ... have been cancelled":
                warnings.simplefilter("ignore", UserWarning)  # what a cold call that failed early means to do
                outputs.close()
        if unpacked is not None:
            raise unpacked


def _remove_folders_left_to_exit() -> None:
    """Run now, and take off atexit, joblib's clean-up hooks for the memmapping folders this process made.

    Every call that reuses the executor makes a TemporaryResourcesManager of its own that the executor
    ignores (joblib issue 1620, open in joblib 1.6): its folder, made at once in /dev/shm and registered
    with loky's resource tracker, is removed only by an atexit hook. A forked child (advise's) ends with
    os._exit, which runs none: the tracker then warns of "leaked folder objects", and when the tracker is
    killed with the child's tree the folder stays in /dev/shm. joblib keeps no other handle on these
    hooks, so they are found by their code object. Hooks inherited from a parent that forked this process
    name the parent's pid and are left to it. Called once joblib's executor is shut down, so no call of
    this process still uses a folder."""
    from joblib._memmapping_reducer import TemporaryResourcesManager

    hook_code = next((const for const in TemporaryResourcesManager.register_folder_finalizer.__code__.co_consts
                      if isinstance(const, types.CodeType)), None)
    if hook_code is None:  # another joblib than the one this was written against: its atexit hooks stay
        return
    ours = f"joblib_memmapping_folder_{os.getpid()}_"
    hooks = [thing for thing in gc.get_objects()
             if isinstance(thing, types.FunctionType) and thing.__code__ is hook_code]
    for hook in hooks:
        folder = inspect.getclosurevars(hook).nonlocals.get("pool_subfolder")
        if isinstance(folder, str) and os.path.basename(folder).startswith(ours):
            atexit.unregister(hook)
            hook()  # deletes the folder, then unregisters it from the resource tracker
