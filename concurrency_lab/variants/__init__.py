"""The registry of variants: every way the lab knows to run a task over many items."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..core.traits import Kind
from .base import ExecutorVariant, RunRecord, Variant, VariantUnavailable, usable_cpus
from .processes import ProcessVariant

# The manifest: variant name -> module defining it, or a class `register` added. Modules are
# imported on first use: `concurrency-lab list` and the CLI's choices need only the names.
_MODULES: dict[str, str | type[Variant]] = {
    "sequential": "sequential",
    "threading": "threading_workers",
    "thread_pool": "thread_pool",
    "mp_pool": "mp_pool",
    "process_pool": "process_pool",
    "asyncio": "asyncio_loop",
    "interpreter_pool": "interpreter_pool",
    "loky": "loky_executor",
    "joblib": "joblib_parallel",
    "dask": "dask_cluster",
}


class _RegisteredNames(Sequence[str]):
    """The registered names, in registration order, as they are now (a variant registered later shows up)."""

    def __getitem__(self, index):
        return tuple(_MODULES)[index]

    def __len__(self) -> int:
        return len(_MODULES)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(_MODULES))

    def __contains__(self, name: object) -> bool:
        return name in _MODULES

    def __repr__(self) -> str:
        return repr(tuple(_MODULES))


VARIANT_NAMES: Sequence[str] = _RegisteredNames()


def register(cls: type[Variant]) -> type[Variant]:
    """Add a variant class to the registry (usable as a decorator): from then on every test, benchmark
    and report takes it by its traits. ValueError when its name is taken or it declares no kind."""
    if not (isinstance(cls, type) and issubclass(cls, Variant)) or not isinstance(getattr(cls, "name", None), str):
        raise TypeError(f"register takes a Variant subclass with a `name`, not {cls!r}")
    if cls.name in _MODULES:
        raise ValueError(f"a variant named {cls.name!r} is already registered")
    if not isinstance(getattr(cls, "kind", None), Kind):
        raise ValueError(f"variant {cls.name!r} declares no `kind` (one of {', '.join(k.value for k in Kind)})")
    _MODULES[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Take a variant that `register` added out of the registry again (the built-in ones stay)."""
    if not isinstance(_MODULES.get(name), type):
        raise ValueError(f"{name!r} is not a variant added with register()")
    del _MODULES[name]


def variant_class(name: str) -> type[Variant]:
    """The class registered under `name`; ValueError listing the known names otherwise."""
    if name not in _MODULES:
        raise ValueError(f"unknown variant {name!r}; available: {', '.join(VARIANT_NAMES)}")
    entry = _MODULES[name]
    if isinstance(entry, type):
        return entry
    module = importlib.import_module(f"{__name__}.{entry}")
    (cls,) = (obj for obj in vars(module).values()
              if isinstance(obj, type) and issubclass(obj, Variant) and getattr(obj, "name", None) == name)
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
    "ExecutorVariant",
    "ProcessVariant",
    "RunRecord",
    "Variant",
    "VariantUnavailable",
    "get_variant",
    "map",
    "register",
    "unregister",
    "usable_cpus",
    "variant_class",
]
