"""What a download produces, what it may be told, and the lab's own names for what goes wrong."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ErrorKind(str, enum.Enum):
    """Lab-defined error kinds: the same failure gets the same kind whatever HTTP client met it."""

    INVALID_URL = "invalid_url"  # malformed, no host, or not http/https: nothing was sent
    CONNECTION = "connection"  # refused, reset, dropped before an answer, name not resolved
    TIMEOUT = "timeout"  # connect or read timeout, or the per-URL deadline passed
    HTTP_STATUS = "http_status"  # an answer with status 400 or more (after any retries)
    TOO_LARGE = "too_large"  # the body is larger than FetchOptions.max_bytes
    TRUNCATED = "truncated"  # the body ended before its Content-Length
    REDIRECTS = "redirects"  # more than FetchOptions.max_redirects hops (or a loop)
    UNEXPECTED = "unexpected"  # anything else: still a record, never an exception through map

    def __str__(self) -> str:
        return self.value


# Statuses worth another try: overload and server-side failures (as urllib3's Retry defaults).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchOptions:
    """How patient and how trusting a download is. Frozen and picklable: it travels to workers."""

    connect_timeout: float = 5.0  # seconds to open a TCP connection; loopback takes microseconds
    read_timeout: float = 10.0  # seconds any single read may wait for the next bytes
    deadline: float = 60.0  # seconds for a whole URL: a body trickling a byte a second never ends on read timeouts alone
    retries: int = 2  # extra tries after a connection error, 429 or 5xx; 0 turns retrying off
    backoff_factor: float = 0.1  # urllib3's: sleep factor * 2 ** (n - 1) before the n-th retry, none before the first
    max_redirects: int = 10  # one limit for every client (requests allows 30, httpx 20, aiohttp 10)
    max_bytes: int = 256 * 1024 * 1024  # body cap: large, but memory stays bounded whatever a server sends
    chunk_bytes: int = 64 * 1024  # one read from the socket, hashed and dropped

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {getattr(self, name)!r}")
        for name, least in (("retries", 0), ("max_redirects", 0), ("max_bytes", 0), ("chunk_bytes", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an int of at least {least}, got {value!r}")
        if self.backoff_factor < 0:
            raise ValueError(f"backoff_factor must be at least 0, got {self.backoff_factor!r}")

    def backoff_seconds(self, retry_number: int) -> float:
        """Sleep before the `retry_number`-th retry (1-based), as urllib3's Retry computes it."""
        return 0.0 if retry_number <= 1 else self.backoff_factor * 2 ** (retry_number - 1)


DEFAULT_OPTIONS = FetchOptions()


@dataclass(frozen=True)
class DownloadRecord:
    """The outcome for one URL. Records compare equal when the outcome is the same, whatever client
    produced it: the exception type and message are kept for people, not compared."""

    url: str
    status: int | None  # the final HTTP status, when an answer was judged (success, http_status, too_large, truncated)
    nbytes: int | None  # body length, when the whole body was read
    sha256: str | None  # hex digest of the body, when the whole body was read
    error_kind: ErrorKind | None = None
    error_type: str | None = field(default=None, compare=False)  # e.g. "requests.exceptions.ConnectTimeout"
    error: str | None = field(default=None, compare=False)  # a sentence for a person

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "status": self.status,
            "nbytes": self.nbytes,
            "sha256": self.sha256,
            "error_kind": None if self.error_kind is None else self.error_kind.value,
            "error_type": self.error_type,
            "error": self.error,
        }


def invalid_url_reason(url: object) -> str | None:
    """Why `url` cannot be fetched at all, or None. Checked before any client sees it."""
    if not isinstance(url, str):
        return f"a URL must be a str, not {type(url).__name__}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"malformed URL: {exc}"
    if parts.scheme not in ("http", "https"):
        if not parts.scheme:
            return "no scheme: write http://host/path"
        return f"unsupported scheme {parts.scheme!r}: only http and https URLs are fetched"
    if not parts.hostname:
        return "no host in the URL"
    if any(c.isspace() or c in "<>\"{}|\\^`" for c in parts.hostname):
        return f"invalid host {parts.hostname!r}"
    return None


def error_record(url: str, kind: ErrorKind, exc: BaseException | None, message: str, *,
                 status: int | None = None) -> DownloadRecord:
    error_type = None if exc is None else f"{type(exc).__module__}.{type(exc).__qualname__}"
    return DownloadRecord(url, status, None, None, kind, error_type, message)


def too_large_record(url: str, status: int, options: FetchOptions) -> DownloadRecord:
    """A body over `options.max_bytes`, whether its Content-Length said so or the bytes counted so far."""
    return error_record(url, ErrorKind.TOO_LARGE, None, f"body larger than the {options.max_bytes} byte cap", status=status)


def body_record(url: str, status: int, reason: str | None, nbytes: int, sha256: str) -> DownloadRecord:
    """An answer whose whole body was read: a success, or an http_status error from status 400 on."""
    if status >= 400:
        return DownloadRecord(url, status, nbytes, sha256, ErrorKind.HTTP_STATUS, None, f"HTTP {status} {reason}")
    return DownloadRecord(url, status, nbytes, sha256)
