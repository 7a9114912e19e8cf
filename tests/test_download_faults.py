"""Every fault the loopback server can produce becomes the same lab-defined record, for every variant."""

from __future__ import annotations

import socket
import uuid

import pytest
from lab_params import make_variant, variant_params

from concurrency_lab.commands.download import download_task
from concurrency_lab.download import DownloadRecord, ErrorKind, FetchOptions
from concurrency_lab.server import body_sha256

# Generous where an answer is expected (a loaded CI machine must not turn a page into a timeout);
# short only for the URLs that must time out.
OPTIONS = FetchOptions(retries=2, backoff_factor=0.01, max_bytes=64 * 1024)
IMPATIENT = FetchOptions(read_timeout=0.5, deadline=1.5, retries=2, backoff_factor=0.01, max_bytes=64 * 1024)
NO_RETRIES = FetchOptions(retries=0)
TIMEOUT_FAULTS = {"read_timeout", "trickling_body_deadline"}


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connecting is refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# id -> (path or absolute URL, expected status, expected kind). "{key}" makes flaky counters per run.
FAULTS = {
    "ok": ("/bytes/1000?seed=3", 200, None),
    "at_the_cap": ("/bytes/65536?seed=1", 200, None),
    "over_the_cap": ("/bytes/65537?seed=1", 200, ErrorKind.TOO_LARGE),
    "not_found": ("/status/404", 404, ErrorKind.HTTP_STATUS),
    "server_error_after_retries": ("/flaky/{key}-a?fail=99", 503, ErrorKind.HTTP_STATUS),
    "flaky_then_ok": ("/flaky/{key}-b?fail=2", 200, None),
    "read_timeout": ("/bytes/10?delay=5", None, ErrorKind.TIMEOUT),
    "trickling_body_deadline": ("/slow-body/60000?rate=5000", None, ErrorKind.TIMEOUT),
    "truncated": ("/truncated/4000", 200, ErrorKind.TRUNCATED),
    "dropped": ("/drop", None, ErrorKind.CONNECTION),
    "refused": ("http://127.0.0.1:{closed_port}/bytes/10", None, ErrorKind.CONNECTION),
    "redirects_within_limit": ("/redirect/10", 200, None),
    "too_many_redirects": ("/redirect/11", None, ErrorKind.REDIRECTS),
    "redirect_loop": ("/redirect-loop", None, ErrorKind.REDIRECTS),
    "unsupported_scheme": ("ftp://127.0.0.1/file", None, ErrorKind.INVALID_URL),
    "no_host": ("http:///path", None, ErrorKind.INVALID_URL),
    "bad_port": ("http://127.0.0.1:99999/", None, ErrorKind.INVALID_URL),
    "not_a_url": ("just some words", None, ErrorKind.INVALID_URL),
    "space_in_host": ("http://127.0.0 .1/", None, ErrorKind.INVALID_URL),
}


def _url(server, template: str, key: str, closed_port: int) -> str:
    text = template.format(key=key, closed_port=closed_port)
    return server.url(text) if text.startswith("/") else text


@pytest.fixture(scope="module", params=variant_params())
def fault_records(request, lab_server) -> dict[str, DownloadRecord]:
    """One run per variant over every fault URL at once (so each process variant starts one pool)."""
    variant = make_variant(request.param, workers=6)
    key, closed_port = uuid.uuid4().hex, _closed_port()
    records = {}
    for options, faults in ((OPTIONS, [f for f in FAULTS if f not in TIMEOUT_FAULTS]), (IMPATIENT, sorted(TIMEOUT_FAULTS))):
        urls = [_url(lab_server, FAULTS[fault][0], key, closed_port) for fault in faults]
        outcome = variant.map(download_task(variant, options), urls)
        assert [r.url for r in outcome] == urls  # one record per URL, in input order
        records.update(zip(faults, outcome, strict=True))
    return records


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_becomes_its_record(fault_records, fault):
    record = fault_records[fault]
    _, status, kind = FAULTS[fault]
    assert (record.status, record.error_kind) == (status, kind), record.error
    if kind is None:
        assert record.ok and record.error is None and record.nbytes is not None
    else:
        assert not record.ok and record.error  # a message for a person
        if kind is not ErrorKind.INVALID_URL and kind is not ErrorKind.TOO_LARGE and kind is not ErrorKind.HTTP_STATUS:
            assert record.error_type  # and the exception underneath


def test_successful_records_carry_the_body_hash(fault_records):
    assert fault_records["ok"].nbytes == 1000
    assert fault_records["ok"].sha256 == body_sha256(1000, 3)
    assert fault_records["at_the_cap"].sha256 == body_sha256(65536, 1)


@pytest.mark.parametrize("variant_name", variant_params())
def test_retries_off(variant_name, lab_server):
    variant = make_variant(variant_name, workers=2)
    url = lab_server.url(f"/flaky/{uuid.uuid4().hex}?fail=1")
    (record,) = variant.map(download_task(variant, NO_RETRIES), [url])
    assert (record.status, record.error_kind) == (503, ErrorKind.HTTP_STATUS)


@pytest.mark.parametrize("variant_name", variant_params())
def test_duplicates_are_each_fetched_and_empty_gives_empty(variant_name, lab_server):
    variant = make_variant(variant_name, workers=3)
    before = lab_server.stats()["requests"]
    urls = [lab_server.url("/bytes/100?seed=1")] * 3 + [lab_server.url("/bytes/200?seed=2")]
    records = variant.map(download_task(variant, OPTIONS), urls)
    assert [r.nbytes for r in records] == [100, 100, 100, 200]
    assert lab_server.stats()["requests"] - before == 4
    assert variant.map(download_task(variant, OPTIONS), []) == []


@pytest.mark.parametrize("variant_name", variant_params(processes=False))
def test_name_resolution_failure_is_a_connection_record(variant_name, monkeypatch):
    """DNS failure, simulated: every lookup fails (mocks do not reach worker processes). The name is
    `localhost`, so that even a resolver the mock missed would answer from this machine, and the
    message proves the mocked failure is what the record reports."""

    def no_such_name(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (simulated)")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    variant = make_variant(variant_name, workers=2)
    (record,) = variant.map(download_task(variant, NO_RETRIES), ["http://localhost:9/page"])
    assert record.error_kind is ErrorKind.CONNECTION and record.status is None
    assert "Name or service not known (simulated)" in record.error


def test_options_are_checked_at_the_boundary():
    with pytest.raises(ValueError, match="deadline must be a positive number of seconds"):
        FetchOptions(deadline=0)
    with pytest.raises(ValueError, match="retries must be an int of at least 0"):
        FetchOptions(retries=-1)
