"""Module-level tasks for tests: process pools pickle tasks by reference, so they cannot live in test bodies."""

from __future__ import annotations

import os
import pathlib
import signal
import sys
import time

from concurrency_lab.failures.tasks import segfault


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


def refuse_seven(x: int) -> int:
    """Fails on item 7 with a message the caller must see unchanged, whichever variant ran it."""
    if x == 7:
        raise ValueError(f"refused {x}")
    return x * 10


async def refuse_seven_async(x: int) -> int:
    return refuse_seven(x)


def exit_on_five(x: int) -> int:
    if x == 5:
        os._exit(1)
    return x


def sigkill_on_five(x: int) -> int:
    if x == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return x


def segfault_on_five(x: int) -> int:
    if x == 5:
        segfault()  # SIGSEGV, without faulthandler's dump
    return x


def sleep_long(x: int) -> int:
    """Far longer than any test waits: only a stopped worker ends it in time."""
    time.sleep(30)
    return x


async def sleep_long_async(x: int) -> int:
    import asyncio

    await asyncio.sleep(30)
    return x


def sleep_a_little(x: int) -> int:
    """For threads, which cannot be stopped: long enough to outlast a short timeout, short enough to end soon after."""
    time.sleep(0.3)
    return x


def return_a_lock(x: int) -> object:
    import threading

    return threading.Lock()  # cannot be pickled on its way back from a worker process


def sleep_then_double(x: int) -> int:
    time.sleep(0.3)
    return 2 * x


def refuse(x: int) -> int:
    raise ValueError(f"refused {x}")


def mark_when_done(item: tuple[str, int]) -> int:
    """(folder, x) -> 10 * x, a little later; then writes `x.done` there holding the worker's pid: a test's hook
    to act once a given item has finished (the folder is on this machine: the cluster is on 127.0.0.1)."""
    folder, x = item
    time.sleep(0.1)
    (pathlib.Path(folder) / f"{x}.done").write_text(str(os.getpid()))
    return 10 * x


def announce_then_sleep(item: tuple[str, int]) -> int:
    """(folder, x): writes `x.started` there, then sleeps far longer than any test waits: a test's hook to act
    once a worker is busy with it."""
    folder, x = item
    (pathlib.Path(folder) / f"{x}.started").write_text(str(os.getpid()))
    time.sleep(30)
    return x


def die_holding_queue_locks_on_five(x: int) -> int:
    """On item 5: take the locks of the queues this worker's loop reads tasks from and writes results to
    (the locals of the frames below the task), as a worker killed while reading or writing holds them, then
    die: those locks stay taken for ever."""
    if x == 5:
        import sys

        frame = sys._getframe(1)
        while frame is not None:
            for queue in frame.f_locals.values():
                for lock in (getattr(queue, "_rlock", None), getattr(queue, "_wlock", None)):
                    if lock is not None and hasattr(lock, "acquire") and type(queue).__module__ == "multiprocessing.queues":
                        lock.acquire(False)
            frame = frame.f_back
        os._exit(1)
    return x


def segfault_on_big_five(item: bytes) -> int:
    """A large item (4 MiB: far more than a pipe holds); the one filled with 5s segfaults its worker."""
    if item[:1] == b"\x05":
        segfault()
    return len(item)


# -- exits, and objects that fail to pickle or unpickle (tests/test_handoff.py) --------------------------

def exit_three_on_five(x: int) -> int:
    if x == 5:
        sys.exit(3)
    return x


def interrupt_on_five(x: int) -> int:
    """A task's own KeyboardInterrupt (no Ctrl-C involved), as a library that raises it would."""
    if x == 5:
        raise KeyboardInterrupt
    return x


def _refuse_to_rebuild() -> object:
    raise ValueError("this object refuses to be rebuilt")


def _exit_when_rebuilt() -> object:
    sys.exit(4)


def _exit_when_pickled() -> object:
    sys.exit(2)


class ExitsWhenPickled:
    """Pickling it calls sys.exit(2), as a __reduce__ that gives up would."""

    def __reduce__(self):
        _exit_when_pickled()


class RaisesWhenUnpickled:
    """Pickles; unpickling it raises ValueError."""

    def __reduce__(self):
        return _refuse_to_rebuild, ()


class ExitsWhenUnpickled:
    """Pickles; unpickling it calls sys.exit(4)."""

    def __reduce__(self):
        return _exit_when_rebuilt, ()


class DoubleThatRaisesWhenUnpickled(RaisesWhenUnpickled):
    """A task (callable) that pickles but cannot be rebuilt in a worker."""

    def __call__(self, x: int) -> int:
        return 2 * x


class DoubleThatExitsWhenUnpickled(ExitsWhenUnpickled):
    def __call__(self, x: int) -> int:
        return 2 * x


def return_raises_when_unpickled(x: int) -> object:
    return RaisesWhenUnpickled()


def return_exits_when_unpickled(x: int) -> object:
    return ExitsWhenUnpickled()


def return_worker_only_class(x: int) -> object:
    """An instance of a class made here, in the worker, and set on this module: it pickles by reference,
    and the calling process has no such class to rebuild it with."""
    name = f"MadeInWorker{os.getpid()}"
    cls = type(name, (), {"__module__": __name__, "__qualname__": name})
    globals()[name] = cls
    return cls()


class HoldsALock(Exception):
    """An exception that cannot be pickled in the worker: it holds a lock."""

    def __init__(self, message: str) -> None:
        import threading

        super().__init__(message)
        self.lock = threading.Lock()


def fail_holding_a_lock(x: int) -> int:
    if x == 2:
        raise HoldsALock(f"refused {x} with a lock")
    return x


def keyword_echo(x: int, *, self: int = 0, fn: int = 0) -> tuple[int, int, int]:
    """Takes keywords named like the arguments of submit itself."""
    return x, self, fn


class DoubleThatExitsWhenPickled(ExitsWhenPickled):
    """A task (callable) whose pickling calls sys.exit(2)."""

    def __call__(self, x: int) -> int:
        return 2 * x


class SegfaultsWhenUnpickled:
    """Pickles; unpickling it crashes the process that does it (SIGSEGV)."""

    def __reduce__(self):
        return segfault, ()


def unrebuildable_then_long(x: int) -> object:
    """Item 0: a result the caller cannot rebuild; item 1: sleeps 10 minutes, far past any test's limit, so
    a call that waits for it is caught as a hang."""
    if x == 0:
        return RaisesWhenUnpickled()
    time.sleep(600)
    return x


def unrebuildable_then_worker_dies(x: int) -> object:
    """Item 0: a result the caller cannot rebuild; item 1: a moment later, ends its worker (os._exit)."""
    if x == 0:
        return RaisesWhenUnpickled()
    time.sleep(0.5)
    os._exit(1)


def kind_of(item: object) -> str:
    """Defined for any item: test_bad_input's task. Here, not in that module, which imports hypothesis, whose C
    extension does not load in a subinterpreter (a worker interpreter imports the task's module)."""
    return type(item).__name__
