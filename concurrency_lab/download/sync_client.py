"""Downloads with `requests`: one Session per worker thread, streamed, hashed, capped and timed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

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

# One Session per worker needs only a pool of 1-2 connections per host; a Session shared by
# several threads would need pool_maxsize >= workers, or urllib3 churns connections.
POOL_MAXSIZE = 2


class DeadlineExceeded(Exception):
    """The per-URL deadline passed while the body was still arriving."""


def new_session(options: FetchOptions) -> requests.Session:
    """A Session with the lab's retry policy, redirect limit and pool size."""
    retry = Retry(
        total=options.retries,
        connect=options.retries,
        read=options.retries,
        status=options.retries,
        redirect=False,  # requests follows redirects itself, up to max_redirects
        status_forcelist=RETRY_STATUSES,
        backoff_factor=options.backoff_factor,
        raise_on_status=False,  # after the last retry, the 5xx answer becomes an http_status record
        respect_retry_after_header=False,  # a server must not make the lab sleep for minutes
    )
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: 127.0.0.1 must stay on this machine
    session.max_redirects = options.max_redirects
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=POOL_MAXSIZE, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _SessionCache(threading.local):
    """Each thread (in each process) keeps its own Sessions: requests.Session is not thread-safe."""

    def __init__(self) -> None:
        self.sessions: dict[FetchOptions, requests.Session] = {}


_factory: Callable[[FetchOptions], requests.Session] = new_session
_cache = _SessionCache()
_generation = 0  # bumped by session_factory(): every thread's cached Sessions become stale


def _forget_inherited_sessions() -> None:
    # A forked worker inherits the parent's Sessions and their sockets: two processes reading one
    # keep-alive connection get each other's bodies. The child starts afresh; the parent keeps its own.
    global _cache
    _cache = _SessionCache()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_sessions)


def _session(options: FetchOptions) -> requests.Session:
    cache = _cache
    if getattr(cache, "generation", None) != _generation:
        for stale in cache.sessions.values():
            stale.close()
        cache.sessions, cache.generation = {}, _generation
    session = cache.sessions.get(options)
    if session is None:
        session = cache.sessions[options] = _factory(options)
    return session


@contextlib.contextmanager
def session_factory(factory: Callable[[FetchOptions], requests.Session]) -> Iterator[None]:
    """Make `fetch` build its Sessions with `factory` (e.g. to mount a requests-mock Adapter)."""
    global _factory, _generation
    previous = _factory
    _factory, _generation = factory, _generation + 1
    try:
        yield
    finally:
        _factory, _generation = previous, _generation + 1


def fetch(url: str, options: FetchOptions = DEFAULT_OPTIONS) -> DownloadRecord:
    """Fetch one URL and return its record; every failure becomes an error record."""
    reason = invalid_url_reason(url)
    if reason is not None:
        return error_record(str(url), ErrorKind.INVALID_URL, None, reason)
    deadline = time.monotonic() + options.deadline
    try:
        response = _session(options).get(url, stream=True, timeout=(
            min(options.connect_timeout, options.deadline), min(options.read_timeout, options.deadline)))
        _check_deadline(deadline, options)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is raised
        return error_record(url, *_classify(exc, options))
    with response:
        return _read_body(url, response, options, deadline)


def _check_deadline(deadline: float, options: FetchOptions) -> None:
    if time.monotonic() > deadline:
        raise DeadlineExceeded(f"no complete response within the {options.deadline:g} s deadline")


def _read_body(url: str, response: requests.Response, options: FetchOptions, deadline: float) -> DownloadRecord:
    status = response.status_code
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > options.max_bytes:
        return too_large_record(url, status, options)
    digest, nbytes = hashlib.sha256(), 0
    try:
        while piece := response.raw.read1(options.chunk_bytes):  # returns what arrived: the deadline is checked often
            nbytes += len(piece)
            if nbytes > options.max_bytes:
                return too_large_record(url, status, options)
            digest.update(piece)
            _check_deadline(deadline, options)
        _check_deadline(deadline, options)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, none is raised
        kind, cause, message = _classify(exc, options)
        return error_record(url, kind, cause, message, status=status if kind is ErrorKind.TRUNCATED else None)
    return body_record(url, status, response.reason, nbytes, digest.hexdigest())


def _reason(exc: Exception) -> Exception:
    """What urllib3 gave up on: requests wraps a read timeout after retries as a ConnectionError
    around a MaxRetryError whose `reason` is the ReadTimeoutError."""
    wrapped = exc.args[0] if exc.args else None
    if isinstance(wrapped, urllib3.exceptions.MaxRetryError) and wrapped.reason is not None:
        return wrapped.reason
    return exc


def _classify(exc: Exception, options: FetchOptions) -> tuple[ErrorKind, Exception, str]:
    """The lab's error kind for a requests/urllib3 exception, the exception, and a message."""
    if isinstance(_reason(exc), urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass, for history's sake
        return ErrorKind.CONNECTION, exc, f"connection failed: {exc}"
    if isinstance(exc, (DeadlineExceeded, requests.Timeout)) or isinstance(_reason(exc), urllib3.exceptions.TimeoutError):
        return ErrorKind.TIMEOUT, exc, f"timed out: {exc}"
    if isinstance(exc, requests.TooManyRedirects):
        return ErrorKind.REDIRECTS, exc, f"more than {options.max_redirects} redirects"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return ErrorKind.INVALID_URL, exc, f"invalid URL: {exc}"
    if isinstance(exc, (urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError)):
        return ErrorKind.TRUNCATED, exc, f"the body ended early: {exc}"
    if isinstance(exc, requests.ConnectionError):
        return ErrorKind.CONNECTION, exc, f"connection failed: {exc}"
    return ErrorKind.UNEXPECTED, exc, f"{type(exc).__name__}: {exc}"
