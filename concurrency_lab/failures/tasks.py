"""The probe tasks: module-level, so process pools pickle them by reference; each fails one way."""

from __future__ import annotations

import asyncio
import ctypes
import faulthandler
import os
import signal
import time

FAILING_ITEM = 1  # the item each failing task fails on: the others succeed around it


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
        os._exit(1)
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
    """
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


async def raise_on_item_async(item: int) -> int:
    return raise_on_item(item)


async def exit_on_item_async(item: int) -> int:
    return exit_on_item(item)


async def kill_self_on_item_async(item: int) -> int:
    return kill_self_on_item(item)


async def crash_on_item_async(item: int) -> int:
    return crash_on_item(item)


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
