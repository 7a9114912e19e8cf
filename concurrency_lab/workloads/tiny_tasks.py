"""`tiny_tasks`: a trivial function over many items, where dispatch and start-up decide everything."""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..core.traits import Bound
from .base import Workload


def affine(x: int) -> int:
    """The task: far cheaper than handing it to another thread or process."""
    return x + x + 1


def make_inputs(size: int, seed: int = 0, *, env: object = None) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(-(2**31), 2**31) for _ in range(size)]


def reference(inputs: Sequence[int]) -> list[int]:
    return [2 * x + 1 for x in inputs]


WORKLOAD = Workload(
    name="tiny_tasks",
    bound=Bound.DISPATCH,
    summary="x + x + 1 over many integers: measures hand-off, chunking and start-up, not work",
    task=affine,
    make_inputs=make_inputs,
    reference=reference,
    sizes={"test": 300, "smoke": 20_000, "standard": 50_000, "full": 200_000},  # threads pay ~20 us an item
)
