"""Run the lab server in a process of its own, so it never competes for the measured process's GIL."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from ..core import helper_process
from .listener import loopback_address

START_TIMEOUT_SECONDS = 30.0  # interpreter start-up and imports on a loaded CI machine; usually well under 1 s
HTTP_TIMEOUT_SECONDS = 10.0  # loopback answers /stats in milliseconds; this only catches a hung server
READY_POLL_SECONDS = 0.05  # between readiness probes: short, since start-up is usually done by the first
# An http_proxy in the environment must never carry loopback requests anywhere else.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_SERVING_LINE = re.compile(rb"serving on (http://\S+)\s*")


@dataclass(frozen=True)
class ServerProcess:
    """A lab server running in a child process."""

    base_url: str
    pid: int
    process: subprocess.Popen[bytes] = field(repr=False, compare=False)

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def stats(self) -> dict[str, int]:
        return _get_json(self.url("/stats"))


def _get_json(url: str) -> dict[str, int]:
    with _NO_PROXY.open(url, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.load(response)


@contextlib.contextmanager
def running_server(*, port: int = 0, host: str = "127.0.0.1") -> Iterator[ServerProcess]:
    """Start `python -m concurrency_lab.server` in a child process, wait until it answers, stop it on exit."""
    loopback_address(host)  # refuse a non-loopback host before starting anything
    with tempfile.TemporaryFile() as stderr:
        process = helper_process.start("concurrency_lab.server", "--host", host, "--port", str(port),
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        try:
            server = ServerProcess(_read_base_url(process, stderr), process.pid, process)
            _wait_until_answering(server, stderr)
            yield server
        finally:
            helper_process.stop(process)


def _read_base_url(process: subprocess.Popen[bytes], stderr: IO[bytes]) -> str:
    stdout = process.stdout
    assert stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()  # readline has no timeout
    try:
        line = lines.get(timeout=START_TIMEOUT_SECONDS)
    except queue.Empty:
        raise _start_failure(process, stderr, f"printed no URL within {START_TIMEOUT_SECONDS:g} s") from None
    found = _SERVING_LINE.fullmatch(line)
    if not found:
        raise _start_failure(process, stderr, f"printed {line!r} instead of 'serving on http://...'")
    return found.group(1).decode()


def _wait_until_answering(server: ServerProcess, stderr: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            server.stats()
            return
        except OSError as exc:  # urllib's URLError is an OSError
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise _start_failure(server.process, stderr, f"did not answer {server.url('/stats')}: {exc}") from exc
        time.sleep(READY_POLL_SECONDS)


def _start_failure(process: subprocess.Popen[bytes], stderr: IO[bytes], problem: str) -> RuntimeError:
    return helper_process.failure("lab server", process, stderr, problem)
