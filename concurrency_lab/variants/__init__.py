"""The registry of variants: every way the lab knows to run a task over many items."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from .base import ProcessVariant, RunRecord, Variant, VariantUnavailable, usable_cpus

# The manifest: variant name -> module defining it. Modules are imported on first use, so a
# variant whose optional package is missing costs nothing until asked for, and then says why.
_MODULES = {
    "sequential": "sequential",
    "threading": "threading_workers",
    "thread_pool": "thread_pool",
    "mp_pool": "mp_pool",
    "process_pool": "process_pool",
    "asyncio": "asyncio_loop",
}

VARIANT_NAMES: tuple[str, ...] = tuple(_MODULES)


def variant_class(name: str) -> type[Variant]:
    """The class registered under `name`; ValueError listing the known names otherwise."""
    if name not in _MODULES:
        raise ValueError(f"unknown variant {name!r}; available: {', '.join(VARIANT_NAMES)}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    (cls,) = (obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, Variant) and getattr(obj, "name", None) == name)
    return cls


def get_variant(name: str, **options: Any) -> Variant:
    """A ready `Variant`; VariantUnavailable (with the reason) when it cannot run here."""
    cls = variant_class(name)
    reason = cls.unavailable_reason()
    if reason is not None:
        raise VariantUnavailable(f"variant {name!r} cannot run here: {reason}")
    return cls(**options)


def map(task: Callable[[Any], Any], items: Iterable[Any], *, variant: str = "sequential", **options: Any) -> list[Any]:
    """``[task(item) for item in items]`` computed by the named variant (cold: its pool lives for this call)."""
    return get_variant(variant, **options).map(task, items)


__all__ = [
    "VARIANT_NAMES",
    "ProcessVariant",
    "RunRecord",
    "Variant",
    "VariantUnavailable",
    "get_variant",
    "map",
    "usable_cpus",
    "variant_class",
]
