"""The first sequential calls, made in the session's child process: time per item, CPU per item, and
whether a result can travel back from a worker with each serializer. The parent bounds it by the budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..measure.cpu_time import read_mark
from ..records.advice_trials import Probe
from .safety import result_problems

#: The probe stops calling once it has spent this long (or has called every item, or `PROBE_MAX_ITEMS`):
#: enough to time one item of a slow function, or thousands of a fast one.
PROBE_TARGET_SECONDS = 0.2
PROBE_MAX_ITEMS = 10_000


def call_one(func: Callable[[Any], Any], item: Any, is_coroutine: bool) -> Any:
    """``func(item)``; for a coroutine function, run to completion on an event loop of its own."""
    return asyncio.run(func(item)) if is_coroutine else func(item)


def probe_items(func: Callable[[Any], Any], items: Sequence[Any], *, is_coroutine: bool,
                serializers: Sequence[str], target_s: float = PROBE_TARGET_SECONDS) -> Probe:
    """Call `func` on the first items, one at a time, until `target_s` is spent."""
    seconds: list[float] = []
    start = read_mark()
    first_result: Any = None
    for index, item in enumerate(items[:PROBE_MAX_ITEMS]):
        began = time.perf_counter()
        try:
            result = call_one(func, item, is_coroutine)
        except Exception as exc:  # noqa: BLE001 - the user's function: what it raised is the finding
            text = " ".join(str(exc).split())[:200]
            return Probe(tuple(seconds), 0.0, {}, f"the function raised {type(exc).__name__} on item {index}"
                                                   + (f": {text}" if text else ""))
        seconds.append(time.perf_counter() - began)
        if index == 0:
            first_result = result
        if sum(seconds) >= target_s:
            break
    end = read_mark()
    cpu = max(0.0, end.self_cpu - start.self_cpu) + max(0.0, end.children_cpu - start.children_cpu)
    return Probe(tuple(seconds), cpu, result_problems(first_result, serializers))
