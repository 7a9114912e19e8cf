"""Argument checks at the boundary of every variant: one message each, naming the value and the fix."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

from ..core.cpus import available_start_methods, worker_count_problem

#: The longest `timeout=` map accepts: a week is past any run the lab makes, and far below the
#: ~292 years (threading.TIMEOUT_MAX) beyond which waiting on a lock raises OverflowError.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600.0


def check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"workers must be an int of at least 1, not {type(workers).__name__} {workers!r}")
    problem = worker_count_problem(workers)
    if problem is not None:
        raise ValueError(f"workers {problem}")
    return workers


def check_chunksize(chunksize: object) -> int | None:
    if chunksize is None:
        return None
    if isinstance(chunksize, bool) or not isinstance(chunksize, int):
        raise TypeError(f"chunksize must be an int of at least 1 or None, not {type(chunksize).__name__}")
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1 (or None for the variant's default), got {chunksize}")
    return chunksize


def check_timeout(timeout: object) -> float | None:
    """None (no limit), or a number of seconds above 0 and at most MAX_TIMEOUT_SECONDS."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise ValueError(f"timeout must be above 0 and at most {MAX_TIMEOUT_SECONDS:g} seconds, got {timeout!r}")
    return float(timeout)


def check_start_method(start_method: object, known: tuple[str, ...] | None = None) -> str | None:
    """None, or one of the `known` start methods (default: all the lab's) that this platform has."""
    if start_method is None:
        return None
    methods = tuple(m for m in available_start_methods() if known is None or m in known)
    if start_method not in methods:
        raise ValueError(f"start method {start_method!r} is not available here; choose one of {', '.join(methods)}")
    return str(start_method)


def check_callable(task: object) -> None:
    if not callable(task):
        raise TypeError(f"task must be callable, not {type(task).__name__}")


def as_list(items: object) -> list[Any]:
    if isinstance(items, (str, bytes)):
        raise TypeError(f"items must be an iterable of items, not a single {type(items).__name__}; wrap it: [{items!r}]")
    try:
        return list(items)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"items must be iterable, not {type(items).__name__}") from None


def defined_in_unimportable_main(task: object) -> bool:
    """Whether `task` lives in a __main__ that spawn or forkserver workers cannot import (a REPL, `python -c`)."""
    func = getattr(task, "func", task)  # functools.partial
    main = sys.modules.get("__main__")
    return getattr(func, "__module__", None) == "__main__" and not getattr(main, "__file__", None)


#: A scheduler address as Dask writes one: tcp://HOST:PORT, HOST an IP (IPv6 in brackets) or a DNS name.
_SCHEDULER_ADDRESS = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?):([0-9]{1,5})")


def check_scheduler_address(address: object) -> str:
    """`address` when it is a Dask scheduler's ``tcp://HOST:PORT`` with a port from 1 to 65535; else ValueError."""
    if not isinstance(address, str):
        raise TypeError(f"a scheduler address must be a str like tcp://127.0.0.1:8786, not {type(address).__name__}")
    found = _SCHEDULER_ADDRESS.fullmatch(address.strip())
    if not found or not 1 <= int(found.group(3)) <= 65535:
        shown = repr(address) if len(address) <= 60 else f"{address[:60]!r}... ({len(address)} characters)"
        raise ValueError(f"expected a scheduler address like tcp://127.0.0.1:8786 (port 1 to 65535), got {shown}")
    return address.strip()
