"""Deterministic response bodies: the same (nbytes, seed) always gives the same bytes, on both sides."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator

BLOCK_SIZE = 4096  # one page: cheap to derive per seed, and repeating it keeps any body's cost at one block
CHUNK_SIZE = 64 * 1024  # one socket write: big enough for throughput, small enough that 500 MB never sits in memory


@functools.lru_cache(maxsize=64)  # a run uses a handful of seeds; the cap bounds memory if a client sweeps them
def _block(seed: int) -> bytes:
    return hashlib.shake_256(f"concurrency-lab body, seed {seed}".encode()).digest(BLOCK_SIZE)


def body_chunks(nbytes: int, seed: int = 0, chunk: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield `nbytes` of deterministic content in pieces of at most `chunk` bytes, never building it whole.

    The content is a 4 KiB block derived from `seed`, repeated and cut: the same for every `chunk`.
    """
    if nbytes < 0:
        raise ValueError(f"nbytes must be at least 0, got {nbytes}")
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 byte, got {chunk}")
    return _chunks(nbytes, _block(seed), chunk)


def _chunks(nbytes: int, block: bytes, chunk: int) -> Iterator[bytes]:
    run = block * (chunk // BLOCK_SIZE + 2)  # long enough to cut a whole chunk starting anywhere in a block
    for offset in range(0, nbytes, chunk):
        start = offset % BLOCK_SIZE
        yield run[start : start + min(chunk, nbytes - offset)]


@functools.lru_cache(maxsize=256)  # clients check the same few (size, seed) bodies over and over
def body_sha256(nbytes: int, seed: int = 0) -> str:
    """Hex SHA-256 of the body `body_chunks(nbytes, seed)` yields, computed chunk by chunk."""
    digest = hashlib.sha256()
    for piece in body_chunks(nbytes, seed):
        digest.update(piece)
    return digest.hexdigest()
