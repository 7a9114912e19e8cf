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

from ..cpus import default_thread_workers
from ..traits import Kind
from .base import ChunkOutcome, Variant

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

    @classmethod
    def default_workers(cls) -> int:
        return default_thread_workers()  # as the thread variants, so the two compare like for like

    def check_task(self, task: object) -> None:
        super().check_task(task)
        if not inspect.iscoroutinefunction(task):
            raise TypeError(
                f"variant 'asyncio' runs coroutine functions (async def), and {task!r} is not one; "
                "a blocking function would stall the event loop: use thread_pool for it"
            )

    def _map_chunks(self, task, chunks):
        started = time.thread_time()
        outcomes = asyncio.run(self._run(task, chunks))
        # Coroutines interleave in one thread, so CPU cannot be split per chunk: the loop's total
        # CPU is reported once, on the first outcome, and sums stay exact.
        total = time.thread_time() - started
        return [dataclasses.replace(o, cpu_seconds=total if i == 0 else 0.0) for i, o in enumerate(outcomes)]

    async def _run(self, task: Callable[[Any], Awaitable[Any]], chunks) -> list[ChunkOutcome]:
        slots = asyncio.Semaphore(self.workers)
        resources: dict[str, Any] = {}
        _RUN_RESOURCES.set(resources)

        async def run_chunk(chunk) -> ChunkOutcome:
            results = []
            async with slots:
                try:
                    for item in chunk:
                        results.append(await task(item))
                except Exception as exc:  # noqa: BLE001 - raised again by Variant.map, in input order
                    return ChunkOutcome(results, os.getpid(), 0.0, exc, traceback.format_exc())
            return ChunkOutcome(results, os.getpid(), 0.0)

        try:
            return await asyncio.gather(*(run_chunk(chunk) for chunk in chunks))
        finally:
            for resource in resources.values():
                await resource.close()
