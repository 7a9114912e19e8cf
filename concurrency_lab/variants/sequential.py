"""`sequential`: one item after another in the calling thread, the baseline of every speedup."""

from __future__ import annotations

from ..traits import Kind, Role
from .base import Variant, run_chunk


class Sequential(Variant):
    name = "sequential"
    summary = "a plain loop in the calling thread: the baseline every speedup is measured against"
    kind = Kind.SEQUENTIAL
    api_family = "builtins"
    api = "for item in items"
    role = Role.BASELINE

    @classmethod
    def default_workers(cls) -> int:
        return 1

    def chunksize_for(self, n_items: int) -> int:
        return self.chunksize or max(1, n_items)  # one chunk: no hand-off to pay for

    def _map_chunks(self, task, chunks):
        return [run_chunk(task, chunk) for chunk in chunks]
