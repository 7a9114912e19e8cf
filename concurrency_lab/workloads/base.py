"""What a workload is: deterministic inputs, a picklable task, and a reference computed without any variant."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.traits import Bound
from ..variants import Variant, VariantUnavailable

SIZE_LABELS = ("test", "smoke", "standard", "full")  # correctness tests, CI benchmarks, the report, a long run


@contextlib.contextmanager
def no_environment() -> Iterator[None]:
    yield None


@dataclass(frozen=True)
class Workload:
    """One job every variant runs. `make_inputs(size, seed, env=...)` must be deterministic, and
    `reference(inputs)` must not use any variant (nor `task`, where an independent way exists)."""

    name: str
    bound: Bound  # what limits it: the report's rules read this, never the workload's name
    summary: str
    task: Callable[[Any], Any]  # module-level, so process pools can pickle it
    make_inputs: Callable[..., list[Any]]  # (size: int, seed: int = 0, *, env=None) -> inputs
    reference: Callable[[Sequence[Any]], list[Any]]
    sizes: Mapping[str, int]  # SIZE_LABELS -> size (the meaning of a size is the workload's)
    params: Mapping[str, Any] = field(default_factory=dict)  # tuning constants, recorded with every result
    async_task: Callable[[Any], Any] | None = None  # a coroutine function, for event-loop variants
    environment: Callable[[], contextlib.AbstractContextManager[Any]] = no_environment  # e.g. a server to talk to
    ideal_seconds: Callable[[int, int], float] | None = None  # (items, workers) -> the best time waiting allows

    def __post_init__(self) -> None:
        missing = set(SIZE_LABELS) - set(self.sizes)
        if missing:
            raise ValueError(f"workload {self.name!r} has no size for {sorted(missing)}")

    def size(self, label: str) -> int:
        try:
            return self.sizes[label]
        except KeyError:
            raise ValueError(f"unknown size {label!r}; choose one of {', '.join(SIZE_LABELS)}") from None

    def unavailable_reason(self, variant: Variant | type[Variant]) -> str | None:
        """Why `variant` cannot run this workload (an event loop needs a coroutine function; a worker interpreter
        cannot import the task's module), or None."""
        if variant.runs_coroutines and self.async_task is None:
            return f"variant {variant.name!r} runs coroutines and workload {self.name!r} has none"
        return variant.task_unavailable_reason(self.async_task if variant.runs_coroutines and self.async_task else self.task)

    def task_for(self, variant: Variant | type[Variant]) -> Callable[[Any], Any]:
        """The task `variant` runs: the coroutine function for event-loop variants, else `task`.
        The one place that chooses; VariantUnavailable when there is none for it."""
        reason = self.unavailable_reason(variant)
        if reason is not None:
            raise VariantUnavailable(reason)
        # unavailable_reason has made sure an event-loop variant has a coroutine function
        return self.async_task if variant.runs_coroutines and self.async_task is not None else self.task
