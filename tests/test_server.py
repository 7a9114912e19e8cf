"""The loopback test server: deterministic bodies, every route, stats, and both ways of running it."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from concurrency_lab.core.helper_process import child_env
from concurrency_lab.server import (
    LabHTTPServer,
    ServerProcess,
    body_chunks,
    body_sha256,
    loopback_address,
    main,
    running_server,
)
from concurrency_lab.server.routes import ROUTES, LabRequestHandler
from concurrency_lab.server.state import BarrierBoard, RequestStats

TIMEOUT = 30.0  # only proves nothing hung; loopback answers in milliseconds
BARRIER_CLIENTS = 32  # the concurrency the lab's I/O benchmarks use; also exercises the listen backlog
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # an http_proxy must not see loopback traffic
REFUSED_HOSTS = ["0.0.0.0", "", "::", "192.168.1.10", "127.0.0.2", "example.com"]

Server = ServerProcess | LabHTTPServer


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running_server() as srv:
        yield srv


@pytest.fixture(scope="module")
def stats_server() -> Iterator[ServerProcess]:
    """A server only the stats tests use, so no other test's requests are ever in its counts."""
    with running_server() as srv:
        yield srv


@contextlib.contextmanager
def in_this_process(host: str = "127.0.0.1") -> Iterator[LabHTTPServer]:
    """The lab server on a thread of the test process, for what only its own objects show."""
    httpd = LabHTTPServer(host, 0)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="lab-server under test", daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        thread.join(TIMEOUT)
        httpd.server_close()


def lab_body(nbytes: int, seed: int = 0) -> bytes:
    """The whole body the server sends for /bytes/<nbytes>?seed=<seed>."""
    return b"".join(body_chunks(nbytes, seed))


def reset_stats(srv: ServerProcess) -> dict[str, int]:
    return json.loads(fetch(srv, "/stats/reset")[2])


def connect(srv: Server) -> http.client.HTTPConnection:
    url = urlsplit(srv.base_url)
    assert url.hostname in ("127.0.0.1", "::1")
    return http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT)


def fetch(srv: Server, path: str, method: str = "GET") -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a fresh connection: status, headers, body."""
    connection = connect(srv)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def wait_until_idle(srv: ServerProcess) -> None:
    deadline = time.monotonic() + TIMEOUT
    while srv.stats()["in_flight"]:
        assert time.monotonic() < deadline, "requests stayed in flight"
        time.sleep(0.01)


def concurrently(srv: Server, paths: list[str]) -> list[bytes]:
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        return [body for status, _, body in pool.map(lambda path: fetch(srv, path), paths) if status == 200]


def unique_key() -> str:
    return uuid.uuid4().hex  # tests of one worker share a server, and xdist workers may run any test


# Deterministic content, no server involved.


@pytest.mark.parametrize("nbytes", [0, 1, 4095, 4096, 4097, 100_000])
def test_a_body_has_the_requested_length_and_is_deterministic(nbytes: int) -> None:
    assert len(lab_body(nbytes, seed=3)) == nbytes
    assert lab_body(nbytes, seed=3) == lab_body(nbytes, seed=3)


def test_a_body_depends_on_the_seed() -> None:
    assert lab_body(10_000, seed=1) != lab_body(10_000, seed=2)
    assert lab_body(10_000) == lab_body(10_000, seed=0)
    assert lab_body(5000, seed=1) == lab_body(10_000, seed=1)[:5000]


@pytest.mark.parametrize(("nbytes", "chunk"), [(0, 7), (1, 1), (10_000, 7), (10_000, 4096), (100_000, 5000),
                                               (200_000, 64 * 1024), (9000, 100_000)])
def test_the_body_is_the_same_whatever_the_chunk_size(nbytes: int, chunk: int) -> None:
    pieces = list(body_chunks(nbytes, seed=5, chunk=chunk))
    assert b"".join(pieces) == lab_body(nbytes, seed=5)
    assert all(0 < len(piece) <= chunk for piece in pieces)


def test_body_sha256_is_the_hash_of_the_body() -> None:
    assert body_sha256(123_456, seed=9) == hashlib.sha256(lab_body(123_456, seed=9)).hexdigest()


@pytest.mark.parametrize(("nbytes", "chunk"), [(-1, 10), (10, 0)])
def test_body_chunks_refuses_bad_sizes(nbytes: int, chunk: int) -> None:
    with pytest.raises(ValueError, match="must be at least"):
        body_chunks(nbytes, chunk=chunk)


# State, no server involved.


def test_request_stats_track_peak_and_reset_keeps_in_flight() -> None:
    stats = RequestStats()
    stats.enter()
    stats.enter()
    stats.leave()
    assert stats.snapshot() == {"requests": 2, "in_flight": 1, "peak_in_flight": 2}
    assert stats.reset() == {"requests": 0, "in_flight": 1, "peak_in_flight": 1}


def test_barrier_board_times_out_then_meets_again() -> None:
    board = BarrierBoard()
    assert board.wait("k", 1, timeout=0)
    assert not board.wait("k", 2, timeout=0)  # a lone caller times out and stops counting
    results: list[bool] = []
    other = threading.Thread(target=lambda: results.append(board.wait("k", 2, timeout=TIMEOUT)))
    other.start()
    assert board.wait("k", 2, timeout=TIMEOUT)
    other.join(TIMEOUT)
    assert results == [True]


# Routes.


def test_every_route_has_its_handler_method() -> None:
    assert [route.handler for route in ROUTES if not hasattr(LabRequestHandler, "_route_" + route.handler)] == []


def test_index_lists_the_routes(server: ServerProcess) -> None:
    status, _, body = fetch(server, "/")
    assert status == 200
    assert b"/barrier/<n>" in body and b"/stats/reset" in body


@pytest.mark.parametrize("seed", [0, 1, 42, -7])
def test_bytes_serves_body(server: ServerProcess, seed: int) -> None:
    status, headers, body = fetch(server, f"/bytes/10000?seed={seed}")
    assert status == 200
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Length"] == "10000"
    assert body == lab_body(10_000, seed)


def test_bytes_hash_is_deterministic_and_seed_dependent(server: ServerProcess) -> None:
    digests = {seed: hashlib.sha256(fetch(server, f"/bytes/300000?seed={seed}")[2]).hexdigest() for seed in (1, 2)}
    assert digests == {1: body_sha256(300_000, 1), 2: body_sha256(300_000, 2)}
    assert digests[1] != digests[2]
    assert hashlib.sha256(fetch(server, "/bytes/300000?seed=1")[2]).hexdigest() == digests[1]


def test_bytes_accepts_a_delay(server: ServerProcess) -> None:
    status, _, body = fetch(server, "/bytes/100?delay=0.05&seed=4")
    assert (status, body) == (200, lab_body(100, 4))


def test_a_huge_body_starts_streaming_at_once(server: ServerProcess) -> None:
    connection = connect(server)
    try:
        connection.request("GET", "/bytes/500000000")
        response = connection.getresponse()
        assert response.headers["Content-Length"] == "500000000"
        assert response.read(100_000) == lab_body(100_000)
    finally:
        connection.close()


@pytest.mark.parametrize("code", [200, 201, 302, 404, 418, 500, 503])
def test_status_answers_that_code(server: ServerProcess, code: int) -> None:
    status, _, body = fetch(server, f"/status/{code}")
    assert (status, body) == (code, f"status {code}\n".encode())


@pytest.mark.parametrize("code", [204, 304])
def test_bodiless_status_keeps_the_connection_usable(server: ServerProcess, code: int) -> None:
    connection = connect(server)
    try:
        connection.request("GET", f"/status/{code}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (code, b"")
        connection.request("GET", "/status/200")
        assert connection.getresponse().read() == b"status 200\n"
    finally:
        connection.close()


@pytest.mark.parametrize("path", [
    "/bytes/abc", "/bytes/-1", "/bytes/1.5", f"/bytes/{2**31 + 1}", "/bytes/10?delay=soon", "/bytes/10?delay=-1",
    "/bytes/10?delay=nan", "/bytes/10?seed=1.5", "/status/abc", "/status/99", "/status/600", "/redirect/x",
    "/barrier/0", "/barrier/2?timeout=inf", "/slow-body/10?rate=0", "/flaky/k?fail=-1", "/truncated/1e3",
])
def test_bad_numbers_get_400(server: ServerProcess, path: str) -> None:
    status, _, body = fetch(server, path)
    assert status == 400
    assert b"must be" in body


@pytest.mark.parametrize("path", ["/nope", "/bytes", "/bytes/1/2", "/stats/nope", "/redirect"])
def test_unknown_paths_get_404(server: ServerProcess, path: str) -> None:
    assert fetch(server, path)[0] == 404


def test_truncated_declares_n_and_sends_about_half(server: ServerProcess) -> None:
    connection = connect(server)
    try:
        connection.request("GET", "/truncated/10000?seed=2")
        response = connection.getresponse()
        assert response.headers["Content-Length"] == "10000"
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
    finally:
        connection.close()
    assert caught.value.partial == lab_body(5000, seed=2)


def test_drop_closes_without_answering(server: ServerProcess) -> None:
    connection = connect(server)
    try:
        connection.request("GET", "/drop")
        with pytest.raises(ConnectionError):  # http.client.RemoteDisconnected
            connection.getresponse()
    finally:
        connection.close()


def test_redirect_chain_ends_in_200(server: ServerProcess) -> None:
    status, headers, _ = fetch(server, "/redirect/3")
    assert (status, headers["Location"]) == (302, "/redirect/2")
    with NO_PROXY.open(server.url("/redirect/5"), timeout=TIMEOUT) as response:  # urllib follows up to 10
        assert (response.status, response.read()) == (200, b"redirects done\n")
        assert response.url == server.url("/redirect/0")


@pytest.mark.parametrize("path", ["/redirect-loop", "/redirect/loop"])
def test_redirect_loop_redirects_to_itself_forever(server: ServerProcess, path: str) -> None:
    connection = connect(server)
    try:
        for _ in range(25):  # one keep-alive connection, as a client following redirects would use
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert (response.status, response.headers["Location"]) == (302, path)
    finally:
        connection.close()
    with pytest.raises(urllib.error.HTTPError, match="infinite loop") as caught:
        NO_PROXY.open(server.url(path), timeout=TIMEOUT)
    caught.value.close()
    assert caught.value.code == 302


def test_flaky_fails_k_times_then_succeeds(server: ServerProcess) -> None:
    path = f"/flaky/{unique_key()}?fail=3"
    answers = [fetch(server, path) for _ in range(5)]
    assert [status for status, _, _ in answers] == [503, 503, 503, 200, 200]
    assert [headers["X-Attempt"] for _, headers, _ in answers] == ["1", "2", "3", "4", "5"]
    assert answers[-1][2] == b"ok\n"


def test_flaky_counts_each_key_separately(server: ServerProcess) -> None:
    first, second = unique_key(), unique_key()
    assert fetch(server, f"/flaky/{first}?fail=1")[0] == 503
    assert fetch(server, f"/flaky/{second}?fail=1")[0] == 503
    assert fetch(server, f"/flaky/{first}?fail=1")[0] == 200


def test_barrier_releases_n_concurrent_requests_in_every_generation(server: ServerProcess) -> None:
    path = f"/barrier/{BARRIER_CLIENTS}?key={unique_key()}&timeout={TIMEOUT}"
    for _generation in range(2):
        assert concurrently(server, [path] * BARRIER_CLIENTS) == [b"released\n"] * BARRIER_CLIENTS


def test_barrier_alone_times_out_with_200_then_meets_again(server: ServerProcess) -> None:
    key = unique_key()
    status, _, body = fetch(server, f"/barrier/2?timeout=0.3&key={key}")
    assert (status, body) == (200, b"timeout\n")
    assert concurrently(server, [f"/barrier/2?key={key}&timeout={TIMEOUT}"] * 2) == [b"released\n"] * 2


def test_slow_body_trickles_the_declared_bytes(server: ServerProcess) -> None:
    status, headers, body = fetch(server, "/slow-body/300?rate=3000&seed=6")
    assert (status, headers["Content-Length"], body) == (200, "300", lab_body(300, 6))


def test_slow_body_stops_quietly_when_the_client_leaves(capsys: pytest.CaptureFixture[str]) -> None:
    with in_this_process() as srv:
        connection = connect(srv)
        connection.request("GET", "/slow-body/100000?rate=2000")  # would take 50 s
        response = connection.getresponse()
        assert response.read(100) == lab_body(100)
        connection.close()
        deadline = time.monotonic() + TIMEOUT
        while srv.state.stats.snapshot()["in_flight"]:
            assert time.monotonic() < deadline, "the server kept writing to a closed connection"
            time.sleep(0.01)
    assert "Traceback" not in capsys.readouterr().err


def test_keep_alive_serves_two_requests_on_one_connection(server: ServerProcess) -> None:
    connection = connect(server)
    try:
        connection.request("GET", "/bytes/10")
        first = connection.getresponse()
        assert first.read() == lab_body(10)
        sock = connection.sock
        connection.request("GET", "/bytes/20?seed=1")
        assert connection.getresponse().read() == lab_body(20, 1)
        assert connection.sock is sock and sock is not None
    finally:
        connection.close()


def test_post_with_a_body_keeps_the_connection_usable(server: ServerProcess) -> None:
    connection = connect(server)
    try:
        connection.request("POST", "/status/201", body=b"x" * 100_000)
        assert connection.getresponse().read() == b"status 201\n"
        connection.request("GET", "/status/200")
        assert connection.getresponse().status == 200
    finally:
        connection.close()


# Stats, on a server of their own.


def test_stats_peak_equals_the_barrier_size(stats_server: ServerProcess) -> None:
    wait_until_idle(stats_server)
    assert reset_stats(stats_server) == {"requests": 0, "in_flight": 0, "peak_in_flight": 0}
    parties = 8
    assert concurrently(stats_server, [f"/barrier/{parties}?key={unique_key()}&timeout={TIMEOUT}"] * parties) \
        == [b"released\n"] * parties
    assert stats_server.stats() == {"requests": parties, "in_flight": 0, "peak_in_flight": parties}


def test_stats_peak_is_one_for_sequential_requests(stats_server: ServerProcess) -> None:
    wait_until_idle(stats_server)
    reset_stats(stats_server)
    for n in range(5):  # a fresh connection each time
        assert fetch(stats_server, f"/bytes/{1000 * n}")[0] == 200
    connection = connect(stats_server)
    try:
        for _ in range(3):  # then one keep-alive connection, still open, but idle, when the stats are read
            connection.request("GET", "/status/200")
            connection.getresponse().read()
        assert stats_server.stats() == {"requests": 8, "in_flight": 0, "peak_in_flight": 1}
    finally:
        connection.close()


def test_stats_requests_are_not_counted(stats_server: ServerProcess) -> None:
    wait_until_idle(stats_server)
    reset_stats(stats_server)
    for _ in range(3):
        stats_server.stats()
    status, headers, body = fetch(stats_server, "/stats/reset", method="POST")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {"requests": 0, "in_flight": 0, "peak_in_flight": 0}


# Binding, sockets and processes.


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        loopback_address(host)
    with pytest.raises(ValueError, match="loopback only"):
        LabHTTPServer(host)
    with pytest.raises(ValueError, match="loopback only"), running_server(host=host):
        pass


def test_localhost_is_mapped_without_a_lookup() -> None:
    with in_this_process("localhost") as srv:
        assert srv.base_url.startswith("http://127.0.0.1:")
        assert fetch(srv, "/status/200")[0] == 200


def ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_works(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback_is_served() -> None:
    with in_this_process("::1") as srv:
        assert srv.base_url.startswith("http://[::1]:")
        assert fetch(srv, "/bytes/50")[2] == lab_body(50)


def test_the_server_counts_in_its_state_and_resets_it() -> None:
    with in_this_process() as srv:
        assert fetch(srv, "/bytes/64?seed=8")[2] == lab_body(64, 8)
        assert srv.state.stats.snapshot()["requests"] == 1
        assert json.loads(fetch(srv, "/stats/reset")[2])["requests"] == 0
        assert srv.state.stats.snapshot()["requests"] == 0


def test_server_urls_take_paths_with_or_without_a_slash(server: ServerProcess) -> None:
    assert server.url("stats") == server.url("/stats") == server.base_url + "/stats"


def test_accepted_sockets_have_tcp_nodelay_and_the_backlog_is_large() -> None:
    httpd = LabHTTPServer()  # not serving: get_request() runs here, on the test's thread
    try:
        assert httpd.request_queue_size >= 128
        with socket.create_connection(httpd.server_address[:2], timeout=TIMEOUT):
            accepted, _ = httpd.get_request()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        httpd.server_close()


def test_running_server_is_another_process_and_is_gone_afterwards() -> None:
    with running_server() as srv:
        assert srv.pid != os.getpid()
        assert srv.process.poll() is None
        assert srv.base_url.startswith("http://127.0.0.1:")
        assert fetch(srv, "/status/200")[0] == 200
    assert srv.process.returncode is not None
    psutil = pytest.importorskip("psutil")
    assert not psutil.pid_exists(srv.pid)


def test_running_server_works_from_an_uninstalled_checkout_anywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.chdir(tmp_path)  # `python -m` puts the working directory on the path: make it one without the package
    with running_server() as srv:
        assert fetch(srv, "/status/200")[0] == 200


def test_running_server_reports_why_it_could_not_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="cannot listen") as caught, running_server(port=port):
            pass
    assert "--port 0" in str(caught.value)


def test_main_help_lists_the_routes_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    assert "/barrier/<n>" in capsys.readouterr().out


def test_main_refuses_a_public_host(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--host", "0.0.0.0", "--port", "0"])
    assert caught.value.code == 2
    assert "loopback only" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, as Ctrl-C does")
def test_main_exits_130_on_ctrl_c_saying_what_it_stopped() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "concurrency_lab.server", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell may ignore SIGINT
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("serving on http://127.0.0.1:")
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT)
        url = line.split()[-1]
        assert process.returncode == 128 + signal.SIGINT
        assert stderr.decode() == f"python -m concurrency_lab.server: interrupted by SIGINT while serving {url}; stopped\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
