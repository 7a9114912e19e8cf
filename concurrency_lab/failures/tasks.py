"""The probe tasks: module-level, so process pools pickle them by reference; each fails one way. The module
imports in a subinterpreter too (interpreter_pool's workers import it by name): nothing at its top level is an
extension that refuses subinterpreters (faulthandler is one: `segfault` imports it where it runs)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import time
from typing import Any

FAILING_ITEM = 1  # the item each failing task fails on: the others succeed around it
EXIT_CODE = 3  # what `sys.exit` is given by the tasks and objects that call it: not 0 or 1, so it shows
#: What `os._exit` is given: where it ends the calling process, the probe's exit status says it was the task's
#: (1 is what an uncaught exception and `exit_with_parent` exit with; EXIT_CODE is sys.exit's).
HARD_EXIT_CODE = 4


class ProbeFailure(Exception):
    """What `raise_on_item` raises: a plain exception any process can pickle and rebuild."""


def refusal(item: object) -> str:
    """The message every variant must raise unchanged."""
    return f"probe task refused item {item!r}"


def raise_on_item(item: int) -> int:
    if item == FAILING_ITEM:
        raise ProbeFailure(refusal(item))
    return item


def exit_on_item(item: int) -> int:
    """Ends its worker process at once, as `os._exit` in a C extension or a library would: no cleanup."""
    if item == FAILING_ITEM:
        os._exit(HARD_EXIT_CODE)
    return item


def kill_self_on_item(item: int) -> int:
    """SIGKILL to its own worker: what the OOM killer or `kill -9` does."""
    if item == FAILING_ITEM:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def segfault() -> None:
    """End this process with SIGSEGV by reading address 0 through ctypes, as a broken C extension would.

    faulthandler is turned off first: pytest enables it in its process (and ``-X faulthandler`` or
    PYTHONFAULTHANDLER in every interpreter), a forked or spawned worker inherits it, and its "Fatal
    Python error: Segmentation fault" dump would reach the log of a crash that is the point of the test.
    In a subinterpreter faulthandler does not import (it loads only in a process's main interpreter, whose
    setting then holds for the crash): the segfault is the same, a dump on stderr at most.
    """
    try:
        import faulthandler
    except ImportError:  # a worker interpreter: see above
        pass
    else:
        faulthandler.disable()
    ctypes.string_at(0)


def crash_on_item(item: int) -> int:
    """A segmentation fault in its worker (`segfault`)."""
    if item == FAILING_ITEM:
        segfault()
    return item


def sleep_for(seconds: float) -> float:
    """Blocks for `seconds`, then ends by itself: a thread that cannot be stopped is gone soon after."""
    time.sleep(seconds)
    return seconds


def add_one(item: int) -> int:
    return item + 1


def identity(item: Any) -> Any:
    return item


def sys_exit_on_item(item: int) -> int:
    """Raises SystemExit, as a script's ``sys.exit()`` or ``exit()`` reused as a task does: an
    exception, not a dying process, so the worker can survive it and report it."""
    if item == FAILING_ITEM:
        sys.exit(EXIT_CODE)
    return item


class RebuildRefused(Exception):
    """What unpickling an `Unrebuildable` or an `UnrebuildableTask` raises."""


def refuse_to_rebuild(value: object) -> object:
    """The reconstructor pickle calls for `Unrebuildable` and `UnrebuildableTask`: it always raises."""
    raise RebuildRefused(f"the probe refuses to rebuild {value!r}")


class Unrebuildable:
    """A value that pickles but whose unpickling raises: a result the caller cannot rebuild, as
    an object whose class exists only in the worker, or whose `__setstate__` fails, would be."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return refuse_to_rebuild, (self.value,)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.value == self.value

    def __hash__(self) -> int:
        return hash((type(self), self.value))

    def __repr__(self) -> str:
        return f"Unrebuildable({self.value!r})"


def return_unrebuildable_on_item(item: int) -> Any:
    if item == FAILING_ITEM:
        return Unrebuildable(item)
    return item


class UnrebuildableError(Exception):
    """An exception that pickles but cannot be unpickled: its `__init__` takes two arguments and
    passes one to Exception, so rebuilding it from `args` raises TypeError (a common mistake)."""

    def __init__(self, message: str, item: object) -> None:
        super().__init__(message)
        self.item = item


def raise_unrebuildable_on_item(item: int) -> int:
    if item == FAILING_ITEM:
        raise UnrebuildableError(refusal(item), item)
    return item


class ExitsWhenPickled:
    """An item whose pickling calls sys.exit (a `__reduce__` gone wrong): for an in-process variant an
    ordinary value, for a process variant an item it cannot send."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        sys.exit(EXIT_CODE)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.value == self.value

    def __hash__(self) -> int:
        return hash((type(self), self.value))

    def __repr__(self) -> str:
        return f"ExitsWhenPickled({self.value!r})"


class UnrebuildableTask:
    """A task that pickles in the caller but cannot be unpickled in a worker (`refuse_to_rebuild`)."""

    def __call__(self, item: int) -> int:
        return item + 1

    def __reduce__(self) -> tuple[Any, ...]:
        return refuse_to_rebuild, ("the task",)

    def __repr__(self) -> str:
        return "UnrebuildableTask()"


async def raise_on_item_async(item: int) -> int:
    return raise_on_item(item)


async def exit_on_item_async(item: int) -> int:
    return exit_on_item(item)


async def kill_self_on_item_async(item: int) -> int:
    return kill_self_on_item(item)


async def crash_on_item_async(item: int) -> int:
    return crash_on_item(item)


async def identity_async(item: Any) -> Any:
    return item


async def sys_exit_on_item_async(item: int) -> int:
    return sys_exit_on_item(item)


async def return_unrebuildable_on_item_async(item: int) -> Any:
    return return_unrebuildable_on_item(item)


async def raise_unrebuildable_on_item_async(item: int) -> int:
    return raise_unrebuildable_on_item(item)


async def add_one_async(item: int) -> int:
    return add_one(item)


async def sleep_for_async(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


def _local_tasks():
    """An ordinary task that pickle cannot send: defined inside a function, as a closure or lambda is."""

    def add_one_locally(item: int) -> int:
        return item + 1

    async def add_one_locally_async(item: int) -> int:
        return item + 1

    return add_one_locally, add_one_locally_async


UNPICKLABLE, UNPICKLABLE_ASYNC = _local_tasks()
UNREBUILDABLE_TASK = UnrebuildableTask()
