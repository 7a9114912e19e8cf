"""Module-level tasks for tests: process pools pickle tasks by reference, so they cannot live in test bodies."""

from __future__ import annotations

import os
import time


class TaskFailed(Exception):
    pass


def fail_on_three(x: int) -> int:
    if x == 3:
        raise TaskFailed(f"task refused {x}")
    return x


def worker_pid(_: object) -> int:
    return os.getpid()


class NeedsTwoArguments(Exception):
    """Pickles, but cannot be unpickled: unpickling calls NeedsTwoArguments(message) with one argument."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(f"{message} ({code})")


def fail_unpicklably(x: int) -> int:
    if x == 2:
        raise NeedsTwoArguments("refused", x)
    return x


def fail_on_four_last(x: int) -> int:
    """Item 4 fails after the others have failed: only input order, not arrival, makes it the one raised."""
    if x == 4:
        time.sleep(0.3)
        raise TaskFailed("task refused 4")
    if x % 2 == 0:
        raise TaskFailed(f"task refused {x}")
    return x
