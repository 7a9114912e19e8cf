"""Measure the asyncio HTTP clients the lab could use, against its loopback server (one-off, not a test).

    python experiments/async_clients.py [--rounds 7]      # needs: pip install httpx

When download/async_client.py chose aiohttp (40 URLs, 50 ms server latency, loopback, 2 cores): aiohttp
reached 93% of the ideal time at 8 concurrent and 81% at 32; httpx.AsyncClient 72% and 40%.

Efficiency = ideal time (ceil(urls / concurrency) x server latency) / measured median. This is
what chose aiohttp for the `asyncio` variant.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

from concurrency_lab.download.async_client import afetch
from concurrency_lab.server import running_server
from concurrency_lab.variants import get_variant

URLS, LATENCY_S = 40, 0.05


async def _httpx_run(urls: list[str], concurrency: int) -> None:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
        slots = asyncio.Semaphore(concurrency)

        async def one(url: str) -> None:
            async with slots:
                (await client.get(url)).read()

        await asyncio.gather(*(one(u) for u in urls))


def median_seconds(run, rounds: int) -> float:
    times = []
    for _ in range(rounds + 1):  # the first is a warm-up
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with running_server() as server:
        urls = [server.url(f"/bytes/{1024 * (i % 8 + 1)}?seed={i}&delay={LATENCY_S}") for i in range(URLS)]
        for concurrency in (8, 32):
            ideal = math.ceil(URLS / concurrency) * LATENCY_S
            aiohttp_s = median_seconds(lambda n=concurrency: get_variant("asyncio", workers=n).map(afetch, urls), args.rounds)
            httpx_s = median_seconds(lambda n=concurrency: asyncio.run(_httpx_run(urls, n)), args.rounds)
            print(f"{URLS} URLs x {LATENCY_S * 1000:g} ms, {concurrency} concurrent, ideal {ideal * 1000:.0f} ms: "
                  f"aiohttp {aiohttp_s * 1000:.0f} ms ({ideal / aiohttp_s:.0%} of ideal), "
                  f"httpx {httpx_s * 1000:.0f} ms ({ideal / httpx_s:.0%} of ideal)")


if __name__ == "__main__":
    main()
