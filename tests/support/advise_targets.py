"""Functions `advise` is tested on: one of each class of work (the lab's own, `concurrency_lab.lesson.work_classes`,
which experiments/advise_classes.py uses too), and the safety cases below; module level, so process variants can
import them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from concurrency_lab.lesson.work_classes import (
    LINE_DELAY_S,
    SERVER_ADDRESS,
    add_one,
    async_read_from_server,
    async_sleep_20ms,
    collatz_steps,
    line_server,
    make_locked_sleeper,
    read_from_server,
    sha256_of_buffer,
    sleep_20ms,
    sum_of_squares,
    tiny_tuple,
    wait_on_event,
    zlib_crc_of_buffer,
)

__all__ = ["LINE_DELAY_S", "SERVER_ADDRESS", "add_one", "async_read_from_server", "async_sleep_20ms", "collatz_steps",
           "line_server", "make_locked_sleeper", "read_from_server", "sha256_of_buffer", "sleep_20ms", "sum_of_squares",
           "tiny_tuple", "wait_on_event", "zlib_crc_of_buffer"]

# --- safety cases --------------------------------------------------------------------------------

class Refused(Exception):
    pass


def raises_on_three(item: int) -> int:
    if item == 3:
        raise Refused(f"item {item} refused")
    return item


def hangs_on_two(item: int) -> int:
    time.sleep(3600 if item == 2 else 0.001)
    return item


def hangs_always(item: int) -> int:
    time.sleep(3600)
    return item


def exits_on_one(item: int) -> int:
    if item == 1:
        os._exit(3)
    time.sleep(0.001)
    return item


def leaks_a_process(item: int) -> int:
    if item == 0:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.001)
    return item


def differs_in_threads(item: int) -> tuple[int, bool]:
    """Returns whether it ran in a main thread: threads disagree with sequential (and processes do not)."""
    time.sleep(0.005)
    return item, threading.current_thread() is threading.main_thread()


#: Every call of `counts_its_calls` in this process so far (advise's child process and each worker have their own).
CALLS_SO_FAR: list[int] = []


def counts_its_calls(item: int) -> int:
    """Appends to a module-level list and returns its length: not deterministic, its result depends on the
    calls made before it in the same process."""
    CALLS_SO_FAR.append(item)
    return len(CALLS_SO_FAR)


def returns_nan(item: int) -> float:
    """The same result every call, which == never finds equal to itself."""
    return float("nan")


def returns_an_object(item: int) -> object:
    """A fresh object() each call: a class without __eq__, each result equal only to itself."""
    return object()


def returns_a_lock(item: int) -> object:
    time.sleep(0.005)
    return threading.Lock()


def one_microsecond(item: int) -> int:
    """About 1 µs per call: for advise's own wall time on work far cheaper than a hand-off."""
    return (item * 2654435761) % 4294967291 + sum((item, 1, 2)) + max(item, 7) - min(item, 3)


def about_half_a_second(item: int) -> int:
    """Pure-Python CPU, about 0.5 s per item on one core here: for advise's own wall time on slow items
    (tests/test_advise_speed.py)."""
    return sum(i * i for i in range(item % 3, 8_500_000))
