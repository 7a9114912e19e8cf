"""Module-level tasks and trap objects for the contract tests adapted from CPython's
`test_concurrent_futures` and loky's executor tests: process pools pickle them by reference.

The trap classes mirror CPython's `test_deadlock.py` (ErrorAtPickle, ExitAtUnpickle, CrashAtUnpickle, ...):
each fails at one moment of the trip to a worker and back. Used as an item they fail on the way there;
returned by `return_instance` they fail on the way back.
"""

from __future__ import annotations

import os
import pathlib
import pickle
import sys
import time

from concurrency_lab.failures.tasks import segfault

#: The input index every failing task fails on: others come before and after it.
FAILING_INDEX = 5
ITEMS = list(range(8))
#: How long a task waiting for a flag file waits at most: the test sets the flag far sooner.
FLAG_PATIENCE_SECONDS = 20.0


class TaskRefused(Exception):
    """A plain exception every process can pickle and rebuild."""


# --- tasks: the CPython/loky helpers (`mul`, `capture`, `_exit`, `_crash`, `_raise_error`, ...) ---

def mul(x: int, y: int) -> int:
    return x * y


def capture(*args: object, **kwargs: object) -> tuple[tuple[object, ...], dict[str, object]]:
    """CPython's `capture`: what submit passed on, positional and keyword."""
    return args, kwargs


def double(x: int) -> int:
    return 2 * x


def divide_ten_by(x: int) -> float:
    return 10 / x


def sleep_and_return(seconds: float, value: object) -> object:
    time.sleep(seconds)
    return value


def raise_runtime_error() -> None:
    raise RuntimeError(123)  # some comment


def wait_for_flag(path: str) -> str:
    """Blocks until the file `path` exists (the test's cross-process Event), for at most FLAG_PATIENCE_SECONDS."""
    deadline = time.monotonic() + FLAG_PATIENCE_SECONDS
    while not pathlib.Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody created {path}")
        time.sleep(0.01)
    return path


def wait_for_flag_and_raise(path: str) -> None:
    wait_for_flag(path)
    raise TaskRefused("this is an exception")


def exit_with(code: int) -> None:
    """CPython's `_exit`, with a code of the test's choice."""
    sys.exit(code)


def exit_on_failing_index(x: int) -> int:
    if x == FAILING_INDEX:
        sys.exit(3)
    return x


def interrupt_on_failing_index(x: int) -> int:
    """The task's own KeyboardInterrupt (not a Ctrl-C): raised in a worker, or a pool thread."""
    if x == FAILING_INDEX:
        raise KeyboardInterrupt
    return x


def refuse_failing_index(x: int) -> int:
    if x == FAILING_INDEX:
        raise RuntimeError(f"refused {x}")
    return x


def crash_on_failing_index(x: int) -> int:
    if x == FAILING_INDEX:
        segfault()
    return x


def os_exit_on_failing_index(x: int) -> int:
    if x == FAILING_INDEX:
        os._exit(42)
    return x


def crash_with_data(data: object) -> None:
    """CPython's `_crash_with_data`: a segfault while big items are still being written to the worker."""
    segfault()


def crash_after(seconds: float) -> None:
    """CPython's `_crash(delay)`."""
    time.sleep(seconds)
    segfault()


def identity(x: object) -> object:
    return x


def return_instance(cls: type) -> object:
    """CPython's `_return_instance`: the result is the trap."""
    return cls()


def trap_on_failing_index(item: tuple[int, type]) -> object:
    """(x, cls) -> x, but cls() for the failing index: the trap is a result, among good ones."""
    x, cls = item
    return cls() if x == FAILING_INDEX else x


def pid_of_worker(_: object = None) -> int:
    return os.getpid()


# --- traps on the way to the worker or back (CPython's test_deadlock.py) ---

def _raise_unpickling_error() -> None:
    """What ErrorAtUnpickle's reduce calls where it is rebuilt."""
    raise pickle.UnpicklingError("Error in unpickle")


def _exit_one() -> None:
    sys.exit(1)


def _crash() -> None:
    segfault()


class ErrorAtPickle:
    """Raises PicklingError when pickled."""

    def __reduce__(self):
        raise pickle.PicklingError("Error in pickle")


class ExitAtPickle:
    """Calls sys.exit when pickled."""

    def __reduce__(self):
        sys.exit(1)


class CrashAtPickle:
    """Segfaults the process that pickles it."""

    def __reduce__(self):
        segfault()


class ErrorAtUnpickle:
    """Pickles; raises UnpicklingError where it is rebuilt."""

    def __reduce__(self):
        return _raise_unpickling_error, ()


class ExitAtUnpickle:
    """Pickles; calls sys.exit where it is rebuilt."""

    def __reduce__(self):
        return _exit_one, ()


class CrashAtUnpickle:
    """Pickles; segfaults the process that rebuilds it."""

    def __reduce__(self):
        return _crash, ()


class NeedsTwoArguments(Exception):
    """Pickles, but cannot be rebuilt: unpickling calls NeedsTwoArguments(message) with one argument."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(f"{message} ({code})")


def raise_unrebuildable(x: int) -> int:
    """loky's `raise_error` with an error class that cannot be rebuilt where the result arrives."""
    if x == FAILING_INDEX:
        raise NeedsTwoArguments("refused", x)
    return x


# --- classes that exist only in the worker (the caller never has them) ---

_WORKER_ONLY_MODULE = "contract_worker_only"


def _worker_only_module():
    """A module made in the worker and registered there only: pickle finds its classes by reference in the
    worker, and the caller, which never made it, cannot import it to rebuild them."""
    import types

    module = sys.modules.get(_WORKER_ONLY_MODULE)
    if module is None:
        module = types.ModuleType(_WORKER_ONLY_MODULE)
        exec("class WorkerOnly:\n    pass\n\nclass WorkerOnlyError(Exception):\n    pass\n", module.__dict__)
        sys.modules[_WORKER_ONLY_MODULE] = module
    return module


def return_worker_only_on_failing_index(x: int) -> object:
    if x == FAILING_INDEX:
        return _worker_only_module().WorkerOnly()
    return x


def raise_worker_only_on_failing_index(x: int) -> int:
    if x == FAILING_INDEX:
        raise _worker_only_module().WorkerOnlyError(f"refused {x}")
    return x


def sleep_and_return_item(seconds: float) -> float:
    """CPython's `map(time.sleep, [0, 0, 6])` with one argument: sleeps `seconds`, returns them."""
    time.sleep(seconds)
    return seconds


def capture_pair(name: str, count: int) -> tuple[str, int]:
    """loky's `return_inputs` for the callback chains."""
    return name, count
