"""`processor`: the lesson's sum of squares, pure Python, so it holds the GIL the whole time."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..core.traits import Bound
from .base import Workload

NUMBERS_PER_TASK = 200_000  # ~10 ms of pure Python per task on 3.11: real work, so dispatch is noise
JITTER = 0.1  # task lengths vary by +-10% with the seed, so chunk boundaries are not all alike


def sum_of_squares(bounds: tuple[int, int]) -> int:
    """The task: sum(x * x) for x in range(start, stop), one number at a time."""
    start, stop = bounds
    return sum(x * x for x in range(start, stop))


def make_inputs(size: int, seed: int = 0, *, env: object = None) -> list[tuple[int, int]]:
    """`size` consecutive (start, stop) ranges of about NUMBERS_PER_TASK numbers each."""
    rng = random.Random(seed)
    start, bounds = rng.randrange(1_000), []
    for _ in range(size):
        stop = start + int(NUMBERS_PER_TASK * rng.uniform(1 - JITTER, 1 + JITTER))
        bounds.append((start, stop))
        start = stop
    return bounds


def _squares_below(n: int) -> int:
    return (n - 1) * n * (2 * n - 1) // 6  # closed form of sum(x * x for x in range(n))


def reference(inputs: Sequence[tuple[int, int]]) -> list[int]:
    return [_squares_below(stop) - _squares_below(start) for start, stop in inputs]


WORKLOAD = Workload(
    name="processor",
    bound=Bound.CPU_HOLDS_GIL,
    summary="sum of squares over ranges of numbers in pure Python (the lesson's parallel processor)",
    task=sum_of_squares,
    make_inputs=make_inputs,
    reference=reference,
    sizes={"test": 6, "smoke": 40, "standard": 200, "full": 400},  # standard: seconds sequential (`concurrency-lab run`)
    params={"numbers_per_task": NUMBERS_PER_TASK, "jitter": JITTER},
)
