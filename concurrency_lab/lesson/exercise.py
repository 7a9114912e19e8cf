"""The lesson's exercise, `parallel_sum_with_executor`, done so that processes pay for themselves."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..variants import get_variant
from ..variants.base import chunked


def sum_of_squares_of(numbers: list[int]) -> int:
    """The task: one slice of the numbers per worker, so each hand-off carries real work."""
    return sum(x * x for x in numbers)


def parallel_sum_with_executor(numbers: Iterable[int], *, workers: int | None = None) -> int:
    """Sum of squares of `numbers` on a ProcessPoolExecutor.

    The lesson maps `square` over every number: one pickled call per number costs far more
    than the multiplication. Here each worker gets one slice and sends back one partial sum.
    """
    numbers = list(numbers)
    if not numbers:
        return 0  # no pool is started for nothing
    pool = get_variant("process_pool", workers=workers)
    slices = chunked(numbers, math.ceil(len(numbers) / pool.workers))
    return sum(pool.map(sum_of_squares_of, slices))
