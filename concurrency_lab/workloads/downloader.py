"""`downloader`: fetch URLs from the lab's loopback server (the lesson's threaded downloader)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from ..core.traits import Bound
from ..download import DownloadRecord, fetch
from ..download.async_client import afetch
from ..server import body_sha256, running_server
from .base import Workload

LATENCY_S = 0.05  # server-side delay per URL: waiting, not work, is what threads overlap
MIN_BYTES, MAX_BYTES = 1024, 64 * 1024  # per page: small pages, so latency dominates


def _url(base_url: str, nbytes: int, seed: int, latency_s: float) -> str:
    return f"{base_url}/bytes/{nbytes}?seed={seed}&delay={latency_s:g}"


def make_inputs(size: int, seed: int = 0, *, env: object = None, latency_s: float = LATENCY_S) -> list[str]:
    """`size` URLs of pages of random length on the server `env` (a running lab server or its base URL)."""
    if env is None:
        raise ValueError("the downloader needs a server: use `with WORKLOAD.environment() as env:` and pass env=env")
    base_url = str(getattr(env, "base_url", env))  # what the f-string made of it anyway
    rng = random.Random(seed)
    return [_url(base_url, rng.randint(MIN_BYTES, MAX_BYTES), rng.randrange(1_000), latency_s) for _ in range(size)]


def expected_record(url: str) -> DownloadRecord:
    """What fetching a /bytes/ URL must give, from the server's content rules, not from any client."""
    path, _, query = url.partition("?")
    nbytes = int(path.rsplit("/", 1)[1])
    seed = int(dict(p.split("=") for p in query.split("&")).get("seed", 0))
    return DownloadRecord(url, 200, nbytes, body_sha256(nbytes, seed))


def ideal_seconds(items: int, workers: int) -> float:
    """With `workers` requests in flight and nothing but the server's latency: ceil(n / workers) waits."""
    return math.ceil(items / workers) * LATENCY_S


def reference(inputs: Sequence[str]) -> list[DownloadRecord]:
    return [expected_record(url) for url in inputs]


WORKLOAD = Workload(
    name="downloader",
    bound=Bound.IO_WAIT,
    summary=f"fetch pages from a loopback HTTP server answering after {LATENCY_S * 1000:g} ms (the lesson's downloader)",
    task=fetch,
    make_inputs=make_inputs,
    reference=reference,
    sizes={"test": 8, "smoke": 16, "standard": 40, "full": 200},
    params={"latency_s": LATENCY_S, "min_bytes": MIN_BYTES, "max_bytes": MAX_BYTES},
    async_task=afetch,
    ideal_seconds=ideal_seconds,
    environment=running_server,
)
