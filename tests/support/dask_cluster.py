"""The tests' real Dask cluster: the lab's loopback cluster with this folder on the workers' path, so that they
import the tests' tasks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from concurrency_lab.variants.dask_loopback import RealCluster
from concurrency_lab.variants.dask_loopback import real_cluster as loopback_cluster

SUPPORT = Path(__file__).resolve().parent


@contextlib.contextmanager
def real_cluster(workers: int = 2) -> Iterator[RealCluster]:
    with loopback_cluster(workers, pythonpath=[str(SUPPORT)]) as cluster:
        yield cluster


__all__ = ["RealCluster", "real_cluster"]
