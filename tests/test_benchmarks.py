"""The benchmark matrix, collected here so that `pytest --benchmark-only` (and --benchmark-compare) run it.

Correctness runs skip it with --benchmark-skip; `concurrency-lab run` runs the same module directly.
"""

from concurrency_lab.bench.test_matrix import test_benchmark

__all__ = ["test_benchmark"]
