"""Preloaded by the loopback Dask cluster (`dask_loopback.py`: `--preload` of the scheduler, `--preload-nanny` of
each worker): each process ends when the process that started it dies, however it died (see `follow_parent`)."""

from __future__ import annotations

from ..core.helper_process import follow_parent


def dask_setup(service: object) -> None:
    follow_parent()
