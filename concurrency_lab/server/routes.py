"""The lab's HTTP routes: one small handler method per path pattern, all listed in ROUTES."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import NamedTuple
from urllib.parse import SplitResult, parse_qs, urlsplit

from .content import CHUNK_SIZE, body_chunks
from .state import LabState

MAX_BYTES = 2**31  # 2 GiB: far above any lab body (500 MB streams fine), low enough to catch a typo like 5e12
MAX_WAIT_SECONDS = 600.0  # delays and barrier timeouts: any benchmark fits, a typo cannot pin a thread for hours
MAX_REDIRECTS = 1000  # more hops than any client follows (requests stops at 30, urllib at 10)
MAX_BARRIER_PARTIES = 1024  # each waiting request holds a thread; more than this is a typo, not a test
MAX_FLAKY_FAILURES = 1000  # more retries than any client policy makes
MAX_SEED = 2**63 - 1  # any 64-bit seed is accepted; the bound only rejects absurdly long digit strings
DEFAULT_BARRIER_TIMEOUT = 10.0  # generous: 32 clients on a loaded 2-core machine all arrive well within it
DEFAULT_SLOW_RATE = 1024.0  # bytes per second: a 10 KiB slow body takes 10 s, far past any test's deadline
SLOW_TICK_SECONDS = 0.05  # /slow-body writes this often: 20 small writes a second make a smooth trickle
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


class BadRequest(ValueError):
    """A number in the path or query is malformed or out of range: answered with 400."""


class Route(NamedTuple):
    pattern: re.Pattern[str]
    handler: str  # the LabRequestHandler method is "_route_" + handler
    usage: str
    summary: str
    counted: bool = True  # False for /stats: reading the counters must not change them


def _route(regex: str, handler: str, usage: str, summary: str, counted: bool = True) -> Route:
    return Route(re.compile(regex), handler, usage, summary, counted)


# First match wins; numbers are captured as [^/]+ so that a bad one gets 400, not 404.
ROUTES: list[Route] = [
    _route(r"/", "index", "/", "this list"),
    _route(r"/bytes/([^/]+)", "bytes", "/bytes/<n>?delay=<s>&seed=<k>", "n deterministic bytes after s seconds"),
    _route(r"/status/([^/]+)", "status", "/status/<code>", "that status (200-599) with a short body"),
    _route(r"/slow-body/([^/]+)", "slow_body", "/slow-body/<n>?rate=<bytes/s>&seed=<k>",
           f"declares n bytes, trickles them at rate (default {DEFAULT_SLOW_RATE:g})"),
    _route(r"/truncated/([^/]+)", "truncated", "/truncated/<n>?seed=<k>", "declares n bytes, sends half, closes"),
    _route(r"/drop", "drop", "/drop", "closes the connection without answering"),
    _route(r"/redirect-loop|/redirect/loop", "redirect_loop", "/redirect-loop, /redirect/loop",
           "302 to itself, forever"),
    _route(r"/redirect/([^/]+)", "redirect", "/redirect/<k>", "302 to /redirect/<k-1>; /redirect/0 answers 200"),
    _route(r"/flaky/([^/]+)", "flaky", "/flaky/<key>?fail=<k>", "503 for the first k requests for key, then 200"),
    _route(r"/barrier/([^/]+)", "barrier", "/barrier/<n>?key=<key>&timeout=<s>",
           f"200 'released' once n are in flight, or 'timeout' (default {DEFAULT_BARRIER_TIMEOUT:g} s)"),
    _route(r"/stats", "stats", "/stats", "JSON requests, in_flight, peak_in_flight", counted=False),
    _route(r"/stats/reset", "stats_reset", "/stats/reset", "zero the counters, answer the JSON", counted=False),
]

ROUTE_HELP = "routes:\n" + "\n".join(f"  {r.usage:<38} {r.summary}" for r in ROUTES) + "\n"


def match_route(path: str) -> tuple[Route | None, tuple[str, ...]]:
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found:
            return route, found.groups()
    return None, ()


def parse_number(text: str, name: str, kind: type[int] | type[float], low: float, high: float) -> int | float:
    """`kind(text)` if it lies in [low, high], else BadRequest naming the parameter and the range."""
    try:
        value = kind(text)
    except ValueError:
        raise BadRequest(f"{name} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None
    if not low <= value <= high:  # also refuses nan
        raise BadRequest(f"{name} must be between {low} and {high}, got {text!r}")
    return value


def _paced(chunks: Iterable[bytes], pause: float) -> Iterator[bytes]:
    for index, chunk in enumerate(chunks):
        if index:
            time.sleep(pause)
        yield chunk


class LabRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client session reuses one connection, as real clients do
    server_version = "concurrency-lab"

    @property
    def state(self) -> LabState:
        return self.server.state  # type: ignore[attr-defined]  # set by LabHTTPServer

    def _dispatch(self) -> None:
        self._url: SplitResult = urlsplit(self.path)
        self._query = {k: v[-1] for k, v in parse_qs(self._url.query, keep_blank_values=True).items()}
        self._discard_request_body()
        route, args = match_route(self._url.path)
        self._counting = route is None or route.counted
        if self._counting:
            self.state.stats.enter()
        try:
            if route is None:
                self._reply(404, f"no route for {self._url.path}; GET / lists them\n")
            else:
                getattr(self, "_route_" + route.handler)(*args)
        except BadRequest as exc:  # raised before any byte of the answer is written
            self._reply(400, f"{exc}\n")
        except ConnectionError:  # the client went away mid-answer: nobody is left to tell
            self.close_connection = True
        finally:
            self._stop_counting()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

    def _discard_request_body(self) -> None:
        length = self.headers.get("Content-Length", "0")
        if "Transfer-Encoding" in self.headers or not length.isdigit():
            self.close_connection = True  # a body we cannot frame: close after answering, never parse it as a request
            return
        remaining = int(length)
        while remaining > 0:
            data = self.rfile.read(min(remaining, CHUNK_SIZE))
            if not data:
                break
            remaining -= len(data)

    def _stop_counting(self) -> None:
        if self._counting:
            self._counting = False
            self.state.stats.leave()

    def _send(self, status: int, chunks: Iterable[bytes], *, length: int | None,
              content_type: str = TEXT, headers: Iterable[tuple[str, str]] = ()) -> None:
        """Answer with `length` declared and `chunks` as the body (a route that lies passes fewer bytes)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        # The request stops counting as in flight just before its last write, so a client that has
        # the whole answer never sees it in /stats: sequential clients always see peak_in_flight 1.
        if not length:
            self._stop_counting()
        self.end_headers()
        previous = b""
        for chunk in chunks:
            if previous:
                self.wfile.write(previous)
            previous = chunk
        self._stop_counting()
        if previous:
            self.wfile.write(previous)

    def _reply(self, status: int, body: bytes | str, *, content_type: str = TEXT,
               headers: Iterable[tuple[str, str]] = ()) -> None:
        data = body.encode() if isinstance(body, str) else body
        self._send(status, [data], length=len(data), content_type=content_type, headers=headers)

    def _reply_json(self, value: object) -> None:
        self._reply(200, json.dumps(value) + "\n", content_type="application/json")

    def _int(self, text: str, name: str, low: int, high: int) -> int:
        return int(parse_number(text, name, int, low, high))

    def _query_int(self, name: str, default: int, low: int, high: int) -> int:
        return int(parse_number(self._query.get(name, str(default)), name, int, low, high))

    def _query_float(self, name: str, default: float, low: float, high: float) -> float:
        return float(parse_number(self._query.get(name, str(default)), name, float, low, high))

    def _seed(self) -> int:
        return self._query_int("seed", 0, -MAX_SEED, MAX_SEED)

    # One method per route, in the order of ROUTES.

    def _route_index(self) -> None:
        self._reply(200, ROUTE_HELP)

    def _route_bytes(self, n: str) -> None:
        nbytes, seed = self._int(n, "n", 0, MAX_BYTES), self._seed()
        time.sleep(self._query_float("delay", 0, 0, MAX_WAIT_SECONDS))
        self._send(200, body_chunks(nbytes, seed), length=nbytes, content_type=BINARY)

    def _route_status(self, code: str) -> None:
        status = self._int(code, "code", 200, 599)
        if status in (204, 304):  # these must not carry a body, nor a Content-Length
            self._send(status, [], length=None)
        else:
            self._reply(status, f"status {status}\n")

    def _route_slow_body(self, n: str) -> None:
        nbytes, seed = self._int(n, "n", 0, MAX_BYTES), self._seed()
        rate = self._query_float("rate", DEFAULT_SLOW_RATE, 1, MAX_BYTES)
        piece = max(1, int(rate * SLOW_TICK_SECONDS))
        paced = _paced(body_chunks(nbytes, seed, piece), piece / rate)
        self._send(200, paced, length=nbytes, content_type=BINARY)

    def _route_truncated(self, n: str) -> None:
        nbytes, seed = self._int(n, "n", 0, MAX_BYTES), self._seed()
        self.close_connection = True  # the declared length was a lie: the connection cannot carry another answer
        self._send(200, body_chunks(nbytes // 2, seed), length=nbytes, content_type=BINARY)

    def _route_drop(self) -> None:
        self.close_connection = True

    def _route_redirect_loop(self) -> None:
        self._reply(302, f"redirecting to {self._url.path}\n", headers=[("Location", self._url.path)])

    def _route_redirect(self, k: str) -> None:
        hops = self._int(k, "k", 0, MAX_REDIRECTS)
        if hops == 0:
            self._reply(200, "redirects done\n")
        else:
            target = f"/redirect/{hops - 1}"
            self._reply(302, f"redirecting to {target}\n", headers=[("Location", target)])

    def _route_flaky(self, key: str) -> None:
        failures = self._query_int("fail", 1, 0, MAX_FLAKY_FAILURES)
        attempt = self.state.flaky.attempt(key)
        headers = [("X-Attempt", str(attempt))]
        if attempt <= failures:
            self._reply(503, f"attempt {attempt} of {failures} failing\n", headers=headers)
        else:
            self._reply(200, "ok\n", headers=headers)

    def _route_barrier(self, n: str) -> None:
        parties = self._int(n, "n", 1, MAX_BARRIER_PARTIES)
        timeout = self._query_float("timeout", DEFAULT_BARRIER_TIMEOUT, 0, MAX_WAIT_SECONDS)
        released = self.state.barriers.wait(self._query.get("key", ""), parties, timeout)
        self._reply(200, "released\n" if released else "timeout\n")  # never 5xx: clients retry those

    def _route_stats(self) -> None:
        self._reply_json(self.state.stats.snapshot())

    def _route_stats_reset(self) -> None:
        self._reply_json(self.state.stats.reset())

    # Logging: one line per request would drown the output of a benchmark; errors still reach stderr.

    def log_message(self, format: str, *args: object) -> None:
        pass

    def log_error(self, format: str, *args: object) -> None:
        sys.stderr.write(f"lab server: {self.address_string()}: {format % args}\n")
