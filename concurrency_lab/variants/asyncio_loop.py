"""`asyncio`: one event loop with at most `workers` coroutines in flight, bounded by a semaphore."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import os
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from ..core.cpus import default_thread_workers
from ..core.traits import Kind
from .base import TimedOut, Variant, remaining
from .chunks import ChunkOutcome, is_callers_interrupt

_RUN_RESOURCES: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("concurrency_lab_run_resources")


def run_resource(key: str, factory: Callable[[], Any]) -> Any | None:
    """A resource shared by every task of the current `asyncio` variant run (e.g. one HTTP client
    session), made by `factory` on first use and closed (`await obj.close()`) when the run ends.
    None outside such a run: the caller then makes and closes its own."""
    resources = _RUN_RESOURCES.get(None)
    if resources is None:
        return None
    if key not in resources:  # no await between the check and the store: no other task can interleave
        resources[key] = factory()
    return resources[key]


class AsyncioLoop(Variant):
    name = "asyncio"
    summary = "one asyncio event loop, at most `workers` coroutines in flight (aiohttp for HTTP)"
    kind = Kind.EVENT_LOOP
    api_family = "asyncio"
    api = "asyncio.gather + Semaphore"
    runs_coroutines = True
    stops_running_work = True  # on a timeout every coroutine is cancelled

    @classmethod
    def default_workers(cls) -> int:
        return default_thread_workers()  # as the thread variants, so the two compare like for like

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        return ("import asyncio\n"
                "async def run_all(items):\n"
                f"    slots = asyncio.Semaphore({workers})\n"
                "    async def one(item):\n"
                "        async with slots:\n"
                f"            return await {func}(item)\n"
                "    return await asyncio.gather(*(one(item) for item in items))\n\n"
                "results = asyncio.run(run_all(items))")

    def check_task(self, task: object) -> None:
        super().check_task(task)
        if not inspect.iscoroutinefunction(task):
            raise TypeError(
                f"variant 'asyncio' runs coroutine functions (async def), and {task!r} is not one; "
                "a blocking function would stall the event loop: use thread_pool for it"
            )

    def _map_chunks(self, task, chunks, deadline, outcomes):
        started = time.thread_time()
        try:
            asyncio.run(self._gather(task, chunks, deadline, outcomes))
        finally:
            # Coroutines interleave in one thread, so CPU cannot be split per chunk: the loop's total
            # CPU is reported once, on the first outcome, and sums stay exact.
            total, first = time.thread_time() - started, True
            for index, outcome in enumerate(outcomes):
                if outcome is not None:
                    outcomes[index] = dataclasses.replace(outcome, cpu_seconds=total if first else 0.0)
                    first = False

    async def _gather(self, task: Callable[[Any], Awaitable[Any]], chunks, deadline: float | None,
                      outcomes: list[ChunkOutcome | None]) -> None:
        slots = asyncio.Semaphore(self.workers)
        resources: dict[str, Any] = {}
        _RUN_RESOURCES.set(resources)

        async def run_chunk(index: int, chunk) -> None:
            results = []
            async with slots:
                try:
                    for item in chunk:
                        results.append(await task(item))
                except (Exception, SystemExit, KeyboardInterrupt) as exc:  # raised again by Variant.map,
                    if is_callers_interrupt(exc):  # in input order (SystemExit as TaskExit); but a Ctrl-C at once
                        raise
                    outcomes[index] = ChunkOutcome(results, os.getpid(), 0.0, exc, traceback.format_exc())
                    return
            outcomes[index] = ChunkOutcome(results, os.getpid(), 0.0)

        try:
            await asyncio.wait_for(asyncio.gather(*(run_chunk(i, chunk) for i, chunk in enumerate(chunks))),
                                   remaining(deadline))  # None: no limit; on timeout every coroutine is cancelled
        except asyncio.TimeoutError:  # the builtin TimeoutError from 3.11
            raise TimedOut from None
        finally:
            for resource in resources.values():
                await resource.close()
