"""Functions `advise` is tested on, one group per class of work; module level, so process variants can
import them. Each class has more than one function, so the classification is not tuned to one."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator

# --- pure-Python CPU, ~20 ms per item on one core here ---------------------------------------------

def sum_of_squares(seed: int) -> int:
    return sum(i * i for i in range(seed % 7, 250_000))


def collatz_steps(seed: int) -> int:
    steps = 0
    for start in range(1 + seed * 1000, 1 + seed * 1000 + 2500):
        n = start
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
    return steps


# --- waiting -----------------------------------------------------------------------------------------

def sleep_20ms(item: int) -> int:
    time.sleep(0.02)
    return item * 2


def wait_on_event(item: int) -> int:
    threading.Event().wait(0.03)
    return -item


#: (host, port) of the test's loopback server; set by `line_server` before advise forks its child.
SERVER_ADDRESS: tuple[str, int] | None = None
LINE_DELAY_S = 0.025


class _SlowLineServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops connects beyond it for a second: more than advise measures


class _Answer(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        time.sleep(LINE_DELAY_S)
        self.wfile.write(b"echo " + line)


@contextlib.contextmanager
def line_server() -> Iterator[tuple[str, int]]:
    """A server on 127.0.0.1 that answers each line 25 ms later, its address in SERVER_ADDRESS meanwhile."""
    global SERVER_ADDRESS
    server = _SlowLineServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, name="advise-line-server", kwargs={"poll_interval": 0.05})
    thread.start()
    SERVER_ADDRESS = server.server_address[:2]
    try:
        yield SERVER_ADDRESS
    finally:
        SERVER_ADDRESS = None
        server.shutdown()
        server.server_close()
        thread.join()


def read_from_server(item: int) -> bytes:
    """Ask the test's 127.0.0.1 server for a line; it answers 25 ms later."""
    with socket.create_connection(SERVER_ADDRESS, timeout=10) as connection:
        connection.sendall(f"{item}\n".encode())
        return connection.makefile("rb").readline()


async def async_sleep_20ms(item: int) -> int:
    await asyncio.sleep(0.02)
    return item * 2


async def async_read_from_server(item: int) -> bytes:
    reader, writer = await asyncio.open_connection(*SERVER_ADDRESS)
    writer.write(f"{item}\n".encode())
    line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return line


# --- C code that releases the GIL: multi-megabyte buffers ------------------------------------------

def sha256_of_buffer(seed: int) -> str:
    data = bytes([seed % 256]) * (16 * 2**20)
    return hashlib.sha256(data).hexdigest()


def zlib_crc_of_buffer(seed: int) -> int:
    data = bytes([seed % 256, 7]) * (6 * 2**20)
    return zlib.crc32(data) ^ zlib.adler32(data)


# --- far cheaper than a hand-off -------------------------------------------------------------------

def add_one(item: int) -> int:
    return item + 1


def tiny_tuple(item: int) -> tuple[int, int]:
    return (item, item * 3 % 7)


# --- closures that do I/O: no pickle (a lock inside), not even cloudpickle --------------------------

def make_locked_sleeper(delay: float = 0.02):
    lock = threading.Lock()

    def sleeper(item: int) -> int:
        with lock:
            pass
        time.sleep(delay)
        return item + 100
    return sleeper


# --- safety cases --------------------------------------------------------------------------------

class Refused(Exception):
    pass


def raises_on_three(item: int) -> int:
    if item == 3:
        raise Refused(f"item {item} refused")
    return item


def hangs_on_two(item: int) -> int:
    time.sleep(3600 if item == 2 else 0.001)
    return item


def hangs_always(item: int) -> int:
    time.sleep(3600)
    return item


def exits_on_one(item: int) -> int:
    if item == 1:
        os._exit(3)
    time.sleep(0.001)
    return item


def leaks_a_process(item: int) -> int:
    if item == 0:
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    time.sleep(0.001)
    return item


def differs_in_threads(item: int) -> tuple[int, bool]:
    """Returns whether it ran in a main thread: threads disagree with sequential (and processes do not)."""
    time.sleep(0.005)
    return item, threading.current_thread() is threading.main_thread()


#: Every call of `counts_its_calls` in this process so far (advise's child process and each worker have their own).
CALLS_SO_FAR: list[int] = []


def counts_its_calls(item: int) -> int:
    """Appends to a module-level list and returns its length: not deterministic, its result depends on the
    calls made before it in the same process."""
    CALLS_SO_FAR.append(item)
    return len(CALLS_SO_FAR)


def returns_nan(item: int) -> float:
    """The same result every call, which == never finds equal to itself."""
    return float("nan")


def returns_an_object(item: int) -> object:
    """A fresh object() each call: a class without __eq__, each result equal only to itself."""
    return object()


def returns_a_lock(item: int) -> object:
    time.sleep(0.005)
    return threading.Lock()


def one_microsecond(item: int) -> int:
    """About 1 µs per call: for advise's own wall time on work far cheaper than a hand-off."""
    return (item * 2654435761) % 4294967291 + sum((item, 1, 2)) + max(item, 7) - min(item, 3)


def about_half_a_second(item: int) -> int:
    """Pure-Python CPU, about 0.5 s per item on one core here: for advise's own wall time on slow items
    (tests/test_advise_speed.py)."""
    return sum(i * i for i in range(item % 3, 8_500_000))
