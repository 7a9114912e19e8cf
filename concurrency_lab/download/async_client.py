"""Downloads with aiohttp for the `asyncio` variant: the same records, limits and retries as `fetch`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator

import aiohttp

from ..variants.asyncio_loop import run_resource
from .results import (
    DEFAULT_OPTIONS,
    RETRY_STATUSES,
    DownloadRecord,
    ErrorKind,
    FetchOptions,
    body_record,
    error_record,
    invalid_url_reason,
    too_large_record,
)

# Chosen by measurement: aiohttp came closer to the ideal time than httpx.AsyncClient, at 8 and 32 concurrent
# (`python experiments/async_clients.py` prints both; its docstring keeps the figures the choice was made on).
_RETRYABLE_ERRORS = (aiohttp.ClientConnectionError, asyncio.TimeoutError)  # as urllib3: connect and read errors


class _Retry(Exception):
    """This attempt failed in a way worth another try."""

    def __init__(self, record: DownloadRecord) -> None:
        self.record = record


def _new_session(options: FetchOptions) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        # The variant's semaphore bounds requests in flight; the connector's own default cap of
        # 100 connections must not quietly lower it.
        connector=aiohttp.TCPConnector(limit=0),
        trust_env=False,  # no proxy from the environment: 127.0.0.1 must stay on this machine
        auto_decompress=False,  # hash the bytes on the wire, as the requests client does
        timeout=aiohttp.ClientTimeout(total=None, connect=options.connect_timeout, sock_read=options.read_timeout),
    )


@contextlib.asynccontextmanager
async def _session(options: FetchOptions) -> AsyncIterator[aiohttp.ClientSession]:
    shared = run_resource(f"aiohttp-session:{options!r}", lambda: _new_session(options))
    if shared is not None:
        yield shared
        return
    async with _new_session(options) as own:  # called outside the asyncio variant
        yield own


async def afetch(url: str, options: FetchOptions = DEFAULT_OPTIONS) -> DownloadRecord:
    """Fetch one URL and return its record; every failure becomes an error record."""
    reason = invalid_url_reason(url)
    if reason is not None:
        return error_record(str(url), ErrorKind.INVALID_URL, None, reason)
    try:
        async with _session(options) as session:
            attempts = asyncio.ensure_future(_attempts(session, url, options))
            done, _ = await asyncio.wait([attempts], timeout=options.deadline)
            if not done:
                attempts.cancel()
                await asyncio.wait([attempts])  # let it close its connection before the session goes
                return error_record(url, ErrorKind.TIMEOUT, asyncio.TimeoutError(),
                                    f"timed out: no complete response within the {options.deadline:g} s deadline")
            return attempts.result()
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is raised
        return error_record(url, *_classify(exc, options))


async def _attempts(session: aiohttp.ClientSession, url: str, options: FetchOptions) -> DownloadRecord:
    for retry_number in range(options.retries + 1):
        if retry_number:
            await asyncio.sleep(options.backoff_seconds(retry_number))
        try:
            return await _attempt(session, url, options, last=retry_number == options.retries)
        except _Retry as retry:
            if retry_number == options.retries:
                return retry.record
        except _RETRYABLE_ERRORS:
            if retry_number == options.retries:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _attempt(session: aiohttp.ClientSession, url: str, options: FetchOptions, *, last: bool) -> DownloadRecord:
    # aiohttp raises on the max_redirects-th redirect answer, requests only when one more would be
    # followed: +1 makes both follow exactly options.max_redirects hops.
    async with session.get(url, max_redirects=options.max_redirects + 1) as response:
        status = response.status
        if status in RETRY_STATUSES and not last:
            raise _Retry(DownloadRecord(url, status, None, None, ErrorKind.HTTP_STATUS))
        if response.content_length is not None and response.content_length > options.max_bytes:
            return too_large_record(url, status, options)
        digest, nbytes = hashlib.sha256(), 0
        try:  # a failure once the body has started is final, as with urllib3: nothing is retried
            async for piece in response.content.iter_chunked(options.chunk_bytes):
                nbytes += len(piece)
                if nbytes > options.max_bytes:
                    return too_large_record(url, status, options)
                digest.update(piece)
        except asyncio.TimeoutError as exc:
            return error_record(url, ErrorKind.TIMEOUT, exc, f"timed out: no data for {options.read_timeout:g} s")
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            return error_record(url, ErrorKind.TRUNCATED, exc, f"the body ended early: {exc}", status=status)
        return body_record(url, status, response.reason, nbytes, digest.hexdigest())


def _classify(exc: Exception, options: FetchOptions) -> tuple[ErrorKind, Exception, str]:
    """The lab's error kind for an aiohttp exception, the exception, and a message."""
    if isinstance(exc, aiohttp.TooManyRedirects):
        return ErrorKind.REDIRECTS, exc, f"more than {options.max_redirects} redirects"
    if isinstance(exc, aiohttp.InvalidURL):
        return ErrorKind.INVALID_URL, exc, f"invalid URL: {exc}"
    if isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return ErrorKind.TIMEOUT, exc, f"timed out: {exc}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ErrorKind.TRUNCATED, exc, f"the body ended early: {exc}"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return ErrorKind.CONNECTION, exc, f"connection failed: {exc}"
    return ErrorKind.UNEXPECTED, exc, f"{type(exc).__name__}: {exc}"
