"""`hashing`: sha256 over megabyte buffers; hashlib releases the GIL, so threads scale here."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from ..core.traits import Bound
from .base import Workload

BUFFER_BYTES = 2 * 1024 * 1024  # per task: at 64 KiB, hashing takes ~40 us and thread hand-offs win
BLOCK_BYTES = 4096  # the small block a buffer repeats; deriving it costs microseconds
PIECE_BLOCKS = 64  # hash 256 KiB pieces: each update releases the GIL, and building a piece is ~2% of hashing it


def _block(seed: int) -> bytes:
    return hashlib.shake_256(seed.to_bytes(8, "little")).digest(BLOCK_BYTES)


def sha256_of_buffer(job: tuple[int, int]) -> str:
    """The task: sha256 of `nbytes` made by repeating the seed's block. Only (seed, nbytes) travel."""
    seed, nbytes = job
    block = _block(seed)
    piece = block * PIECE_BLOCKS
    digest = hashlib.sha256()
    whole, rest = divmod(nbytes, len(piece))
    for _ in range(whole):
        digest.update(piece)
    digest.update(piece[:rest])
    return digest.hexdigest()


def make_inputs(size: int, seed: int = 0, *, env: object = None) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(rng.getrandbits(63), BUFFER_BYTES + rng.randrange(BLOCK_BYTES)) for _ in range(size)]


def reference(inputs: Sequence[tuple[int, int]]) -> list[str]:
    out = []
    for seed, nbytes in inputs:  # builds the whole buffer at once: a different path from the task's
        reps = -(-nbytes // BLOCK_BYTES)
        out.append(hashlib.sha256((_block(seed) * reps)[:nbytes]).hexdigest())
    return out


WORKLOAD = Workload(
    name="hashing",
    bound=Bound.CPU_RELEASES_GIL,
    summary="sha256 of 2 MiB buffers built inside the task from (seed, size); hashlib drops the GIL",
    task=sha256_of_buffer,
    make_inputs=make_inputs,
    reference=reference,
    sizes={"test": 4, "smoke": 48, "standard": 400, "full": 1_000},
    params={"buffer_bytes": BUFFER_BYTES, "block_bytes": BLOCK_BYTES, "piece_blocks": PIECE_BLOCKS},
)
