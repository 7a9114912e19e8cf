"""`interpreter_pool`: `concurrent.futures.InterpreterPoolExecutor` (Python 3.14; on 3.13 the PEP 734 backport, the
`interpreters` extra): threads of this process, each running an interpreter of its own with its own GIL.

Pure-Python work runs on every core without a process per worker; what crosses between interpreters is pickled,
as for processes, and each worker imports the task's modules afresh. What the lab does about the executor's traps:

- **Functions a worker cannot import.** The executor pickles the callable it is given and unpickles it in the
  worker outside any error handling: a function from ``__main__`` (each interpreter has a ``__main__`` of its own)
  leaves its future RUNNING for ever, and the process unable to exit. So `check_task` refuses such a function
  before anything is submitted, and a chunk is submitted as the builtin `eval` (a builtin always unpickles) of an
  expression that imports the lab's `run_packed`: an import that fails there comes back as that ImportError,
  and `run_packed` rebuilds the task and its items inside its own try, so what cannot be rebuilt in a worker (an
  extension module without subinterpreter support among the task's imports) is named by NotPicklable.
- **sys.path.** A worker interpreter starts with the path the interpreter's configuration gives (PYTHONPATH, site
  packages), not with the caller's additions: the initializer sets the caller's, as `exec` of one assignment.
- **Nothing stops a running task.** It is a thread of this process: a timeout leaves it running (MapTimeout says
  so), and a task that calls ``os._exit`` or crashes its interpreter ends the calling process.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any, ClassVar

from ..core.engines import INTERPRETERS
from ..core.errors import BrokenPool, NotPicklable
from ..core.traits import Kind
from .base import ExecutorVariant
from .checks import check_callable

#: Where the standard library has it, and from which Python (the backport serves 3.13 only: on 3.12 its
#: companion package ended the process with a segmentation fault on import, here).
STDLIB_FROM = (3, 14)
BACKPORT_ON = (3, 13)
#: What a worker runs for each submitted call: the lab's entry point (run_packed, call_packed), imported by name.
_CALL_BY_NAME = "getattr(__import__(module, fromlist=[name]), name)(*args)"
_SET_PATH = "import sys; sys.path[:] = path"
#: How long a module may take to import in a fresh worker interpreter when availability is checked (a workload's, or
#: the function advise is given): a start and a few imports take a fraction of a second.
IMPORT_CHECK_S = 60.0


def executor_class() -> type[ThreadPoolExecutor]:
    """InterpreterPoolExecutor (a ThreadPoolExecutor whose workers each run an interpreter): the standard library's on
    3.14+, the backport's on 3.13. Check `InterpreterPool.unavailable_reason` first: never import the backport elsewhere."""
    if sys.version_info >= STDLIB_FROM:
        from concurrent.futures import InterpreterPoolExecutor  # type: ignore[attr-defined,unused-ignore]  # 3.14+
    else:
        from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    return InterpreterPoolExecutor  # type: ignore[no-any-return,unused-ignore]


class InterpreterPool(ExecutorVariant):
    """Warm: the executor kept between calls, its interpreters made on their first task; cold: made for the call."""

    name = "interpreter_pool"
    summary = ("concurrent.futures.InterpreterPoolExecutor (3.14; the interpreters-pep-734 backport on 3.13): "
               "one interpreter and GIL per worker thread, list slices submitted as tasks, pickled")
    kind = Kind.INTERPRETERS
    api_family = "concurrent.futures"
    api = "InterpreterPoolExecutor.map"
    serializer = "pickle"  # every hand-off between interpreters pickles (the executor's own way too)
    chunks_per_worker: ClassVar[int | None] = 4  # as the process variants: a hand-off costs a pickling each way
    worker_noun = "a worker interpreter"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        found = sys.version_info[:2]
        if found >= STDLIB_FROM:
            if importlib.util.find_spec("_interpreters") is None:
                return "this Python was built without subinterpreters (no _interpreters module)"
            return None
        if found == BACKPORT_ON:
            return INTERPRETERS.missing_reason()
        return (f"interpreters with a GIL each run Python code from 3.13 (the interpreters-pep-734 backport) and 3.14 "
                f"(the standard library); this is Python {found[0]}.{found[1]}")

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        # InterpreterPoolExecutor.map ignores a chunk size, as ThreadPoolExecutor's does: advise makes the chunks.
        where = ("from concurrent.futures import InterpreterPoolExecutor" if sys.version_info >= STDLIB_FROM else
                 "from interpreters_backport.concurrent.futures import InterpreterPoolExecutor  # 3.13: "
                 "pip install interpreters-pep-734")
        return (f"{where}\n"
                "# each worker interpreter imports the function from its module: one defined in this script hangs\n"
                'if __name__ == "__main__":\n'
                f"    with InterpreterPoolExecutor(max_workers={workers}) as pool:\n"
                f"        results = list(pool.map({func}, items))")

    def check_task(self, task: object) -> None:
        """As every pickling variant's, and a task its worker interpreters could not import is refused here: one from
        ``__main__``, or from a module no entry of sys.path holds (the executor would leave it running for ever)."""
        check_callable(task)
        problem = unimportable(task)  # first: the process variants' check of an interactive __main__ says "fork"
        if problem is None:
            super().check_task(task)
        else:
            raise NotPicklable(f"{self.name}: {task!r} {problem}, so its worker interpreters cannot import it (each "
                               "imports the task by its module's name); move it into a module and import it from there")

    def _unsendable_task(self, task: object, exc: BaseException) -> str:
        return (f"variant {self.name!r} pickles the task for its worker interpreters, and {task!r} does not pickle "
                f"({type(exc).__name__}: {exc}): make it a module-level function of an importable module (not a lambda, "
                "a closure or a bound method of a local object), or use a thread variant, which shares memory")

    @classmethod
    def task_unavailable_reason(cls, task: Callable[..., Any]) -> str | None:
        module = getattr(getattr(task, "func", task), "__module__", None)
        if not isinstance(module, str) or cls.unavailable_reason() is not None:
            return None
        failure = _import_failure(module, tuple(sys.path))
        if failure is None:
            return None
        return f"variant {cls.name!r}: module {module!r} does not import in a subinterpreter ({failure})"

    def _open(self) -> _ByName:
        return _ByName(executor_class()(max_workers=self.workers, thread_name_prefix="lab-interpreter-pool",
                                        initializer=exec, initargs=(_SET_PATH, {"path": list(sys.path)})))

    def _close(self, pool: _ByName) -> None:
        pool.executor.shutdown(wait=True)

    def _abort(self, pool: _ByName) -> None:
        # Queued chunks are cancelled. A running one cannot be stopped: under a map timeout it ends at its next item
        # (run_chunk checks the deadline), else it runs to its end (a chunk is ceil(n / (4 x workers)) items).
        pool.executor.shutdown(wait=False, cancel_futures=True)

    def _broken(self, pool: _ByName) -> bool:
        return bool(getattr(pool.executor, "_broken", False))  # ThreadPoolExecutor's: a worker's initializer failed

    def _pool_broke(self, error: Exception, index: int, items: range) -> BaseException | None:
        if isinstance(error, ImportError):  # the lab's own module, in a worker (its task's come back in run_packed)
            return BrokenPool(f"{self.name}: a worker interpreter could not import the lab to run chunk {index} (items "
                              f"{items.start} to {items.stop - 1}): {type(error).__name__}: {error}")
        if isinstance(error, BrokenExecutor):  # BrokenInterpreterPool: a worker's initializer failed
            return BrokenPool(f"{self.name}: a worker interpreter could not start ({error}), so the pool is broken")
        return None


class _ByName:
    """The executor, handed the lab's worker entry points by name (see the module's docstring): `submit(entry,
    *args)` runs ``entry(*args)`` in a worker interpreter, submitted as the builtin `eval` that imports it there."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self.executor = executor

    def submit(self, entry: Callable[..., Any], /, *args: Any) -> Future:
        names = {"module": entry.__module__, "name": entry.__qualname__, "args": args}
        return self.executor.submit(eval, _CALL_BY_NAME, names)


def unimportable(task: object) -> str | None:
    """Why a worker interpreter could not import `task` by its module's name (None: it can, as far as sys.path says)."""
    func = getattr(task, "func", task)  # functools.partial
    module = getattr(func, "__module__", None) or type(func).__module__
    if module == "__main__":
        return "is defined in __main__"
    top = module.partition(".")[0]
    if _findable(top, tuple(sys.path)):
        return None
    return f"comes from module {module!r}, which no import finder knows (not on sys.path)"


@functools.lru_cache(maxsize=256)
def _findable(top: str, path: tuple[str, ...]) -> bool:
    """Whether a finder of sys.meta_path finds package or module `top` (sys.modules aside, which a worker interpreter
    does not share): a built-in, a frozen one, one on sys.path, or one an editable install's finder serves. `path`
    (sys.path now) is not read: it keys the cache, so that a path changed since is searched again."""
    return any(finder.find_spec(top, None) is not None
               for finder in sys.meta_path if hasattr(finder, "find_spec"))


@functools.lru_cache(maxsize=64)
def _import_failure(module: str, path: tuple[str, ...]) -> str | None:
    """Why `module` does not import in a fresh worker interpreter ("ImportError: ..."), None when it does: tried once
    per module (an interpreter's start and the module's imports: a fraction of a second), in a one-worker pool."""
    executor = executor_class()(max_workers=1, initializer=exec, initargs=(_SET_PATH, {"path": list(path)}))
    try:
        executor.submit(eval, "__import__(module) and None", {"module": module}).result(timeout=IMPORT_CHECK_S)
    except FuturesTimeout:
        executor.shutdown(wait=False, cancel_futures=True)  # the import goes on in its thread: not waited for
        return f"its import did not finish within {IMPORT_CHECK_S:g} s"
    except Exception as exc:  # noqa: BLE001 - what the import raised there is the answer
        executor.shutdown(wait=True)
        return f"{type(exc).__name__}: {exc}"
    executor.shutdown(wait=True)
    return None
