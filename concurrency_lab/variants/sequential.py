"""`sequential`: one item after another in the calling thread, the baseline of every speedup."""

from __future__ import annotations

from ..core.traits import Kind, Role
from .base import Variant
from .chunks import run_chunk


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

    @classmethod
    def usage(cls, func: str, workers: int, chunksize: int | None) -> str:
        return f"results = [{func}(item) for item in items]"

    def chunksize_for(self, n_items: int) -> int:
        return self.chunksize or max(1, n_items)  # one chunk: no hand-off to pay for

    def _map_chunks(self, task, chunks, deadline, outcomes):
        # In the calling thread: a timeout is noticed between items, after the one running finished.
        for index, chunk in enumerate(chunks):
            outcomes[index] = run_chunk(task, chunk, deadline)
