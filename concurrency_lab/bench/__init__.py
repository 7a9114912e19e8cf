"""Benchmarks: the variant x workload x workers matrix, measured under pytest-benchmark."""
