"""Preloaded by the tests' real Dask cluster (`--preload` of the scheduler, `--preload-nanny` of each worker):
each process ends when the test process that started it dies, however it died (see `follow_parent`)."""

from __future__ import annotations

from concurrency_lab.core.helper_process import follow_parent


def dask_setup(service: object) -> None:
    follow_parent()
