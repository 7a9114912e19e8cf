"""Parametrization drawn from the registries: a new variant or workload needs no test edits."""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import pytest

from concurrency_lab.core.cpus import START_METHODS
from concurrency_lab.variants import VARIANT_NAMES, Variant, variant_class
from concurrency_lab.workloads import WORKLOAD_NAMES


def serial_only(what: str, command: str) -> list[pytest.MarkDecorator]:
    """The marks of a module that measures on every core (`what`): `advise_serial`, and skipped under xdist,
    where another worker takes a core, with the `command` that runs it serially."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    return [pytest.mark.advise_serial,
            pytest.mark.skipif(workers > 1, reason=f"measures {what} on every core: run serially, {command}")]


def _skip_unless_available(name: str) -> list[pytest.MarkDecorator]:
    reason = variant_class(name).unavailable_reason()
    return [pytest.mark.skip(reason=f"{name}: {reason}")] if reason else []


def _skip_unless_start_method(method: str | None) -> list[pytest.MarkDecorator]:
    if method is None or method in multiprocessing.get_all_start_methods():
        return []
    return [pytest.mark.skip(reason=f"start method {method!r} is not available on this platform")]


def _selected(name: str, processes: bool | None) -> bool:
    """processes=True: variants whose workers are processes of a start method; False: those whose work runs
    in the caller's interpreter, sharing its memory (a cluster's workers are neither: it has tests of its own;
    nor are worker interpreters of the caller's process, which share no module with it); None: all."""
    cls = variant_class(name)
    return processes is None or (cls.uses_processes if processes else cls.kind.in_process and cls.serializer is None)


def variant_params(*, processes: bool | None = None) -> list[Any]:
    """One param per registered variant (optionally only process or only in-process ones), id = its name."""
    return [
        pytest.param(name, id=name, marks=_skip_unless_available(name))
        for name in VARIANT_NAMES
        if _selected(name, processes)
    ]


def variant_start_method_params(*, processes: bool | None = None) -> list[Any]:
    """Every variant (optionally only process or only in-process ones), and each one that takes start methods
    once per start method it takes: ids like `mp_pool[spawn]`."""
    params = []
    for name in VARIANT_NAMES:
        if not _selected(name, processes):
            continue
        methods = variant_class(name).start_methods or (None,)  # the lab's that it takes, else its own way
        for method in methods:
            params.append(pytest.param(name, method, id=name if method is None else f"{name}[{method}]",
                                       marks=_skip_unless_available(name) + _skip_unless_start_method(method)))
    return params


def selected(params: list[Any], **traits: Any) -> list[Any]:
    """The `params` (from the functions above) whose variant class declares each of `traits`:
    ``selected(variant_params(processes=True), serializer="cloudpickle")``."""
    return [p for p in params if all(getattr(variant_class(p.values[0]), k) == v for k, v in traits.items())]


def make_variant(name: str, start_method: str | None = None, **options: Any) -> Variant:
    if start_method is not None:
        options["start_method"] = start_method
    return variant_class(name)(**options)


async def _call(function: Callable[[Any], Any], item: Any) -> Any:
    return function(item)


def task_for(variant: Variant, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`function` as `variant` runs tasks: a coroutine function for event-loop variants."""
    return functools.partial(_call, function) if variant.runs_coroutines else function


__all__ = [
    "START_METHODS", "WORKLOAD_NAMES", "make_variant", "selected", "task_for", "variant_params", "variant_start_method_params",
]
