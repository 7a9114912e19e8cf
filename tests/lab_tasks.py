"""Module-level tasks for tests: process pools pickle tasks by reference, so they cannot live in test bodies."""

from __future__ import annotations

import os


class TaskFailed(Exception):
    pass


def fail_on_three(x: int) -> int:
    if x == 3:
        raise TaskFailed(f"task refused {x}")
    return x


def worker_pid(_: object) -> int:
    return os.getpid()


def fail_on_even(x: int) -> int:
    if x % 2 == 0:
        raise TaskFailed(f"task refused {x}")
    return x
