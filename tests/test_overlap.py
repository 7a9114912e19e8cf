"""Proof of overlap, not of speed: a server-side barrier releases k requests only if k are in flight at once."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from lab_params import make_variant, variant_params

from concurrency_lab.commands.download import download_task
from concurrency_lab.download import FetchOptions, fetch
from concurrency_lab.server import running_server

K = 6  # requests held at once: more than the 2 cores, so it is concurrency, not parallel CPUs
RELEASED = "released\n"
OPTIONS = FetchOptions(read_timeout=30.0, deadline=60.0, retries=0)  # the barrier's own timeout answers first


@pytest.fixture(scope="module")
def quiet_server():
    """A server of this module's own: requests other tests left behind (a client that gave up on a
    slow page) would still count as in flight on the shared one."""
    with running_server() as server:
        yield server


@pytest.mark.parametrize("variant_name", variant_params())
def test_k_requests_in_flight_at_once(variant_name, quiet_server):
    variant = make_variant(variant_name, workers=K)
    assert fetch(quiet_server.url("/stats/reset")).ok  # peak_in_flight counts from here
    if not variant.concurrent:
        urls = [quiet_server.url(f"/bytes/100?seed={i}") for i in range(K)]
        assert all(r.ok for r in variant.map(download_task(variant, OPTIONS), urls))
        assert quiet_server.stats()["peak_in_flight"] == 1
        return
    # K URLs with K workers: K chunks of one URL each, dispatched at once, processes included.
    url = quiet_server.url(f"/barrier/{K}?timeout=20&key={uuid.uuid4().hex}")
    records = variant.map(download_task(variant, OPTIONS), [url] * K)
    assert [r.sha256 for r in records] == [body_sha256_of(RELEASED)] * K, "a request was answered by the barrier's timeout"
    assert quiet_server.stats()["peak_in_flight"] == K


def body_sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_barrier_really_times_out_when_k_never_arrive(quiet_server):
    """The check above could not fail if the barrier released everyone: here it must not."""
    variant = make_variant("sequential")
    url = quiet_server.url(f"/barrier/2?timeout=0.3&key={uuid.uuid4().hex}")
    (record,) = variant.map(download_task(variant, OPTIONS), [url])
    assert record.sha256 == body_sha256_of("timeout\n")
