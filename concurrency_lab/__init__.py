"""concurrency_lab: the same jobs run with every Python concurrency variant, proved identical and measured."""

from __future__ import annotations

from .exercise import parallel_sum_with_executor

__version__ = "0.1.0"
__all__ = ["__version__", "parallel_sum_with_executor"]
