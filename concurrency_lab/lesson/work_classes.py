"""One function of each class of work `advise` tells apart, several per class so that the classification is
not tuned to one: pure-Python CPU, waiting (a sleep, an event, a socket read from a server on 127.0.0.1, the
same as coroutines), C code that releases the GIL, work far cheaper than a hand-off, and a closure no pickle
carries. Module level, so that process variants can import them. The tests classify them
(tests/test_advise_classes.py); experiments/advise_classes.py prints advise's screen for each."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Iterator

# --- pure-Python CPU, tens of ms per item (experiments/advise_classes.py prints advise's figures) -----

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


#: (host, port) of the loopback line server; set by `line_server` before advise forks its child.
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
    host, port = server.server_address[:2]
    SERVER_ADDRESS = address = (str(host), port)
    try:
        yield address
    finally:
        SERVER_ADDRESS = None
        server.shutdown()
        server.server_close()
        thread.join()


def _server_address() -> tuple[str, int]:
    if SERVER_ADDRESS is None:
        raise RuntimeError("no line server is running: call this inside `with line_server():`")
    return SERVER_ADDRESS


def read_from_server(item: int) -> bytes:
    """Ask `line_server` (127.0.0.1) for a line; it answers 25 ms later."""
    with socket.create_connection(_server_address(), timeout=10) as connection:
        connection.sendall(f"{item}\n".encode())
        return connection.makefile("rb").readline()


async def async_sleep_20ms(item: int) -> int:
    await asyncio.sleep(0.02)
    return item * 2


async def async_read_from_server(item: int) -> bytes:
    reader, writer = await asyncio.open_connection(*_server_address())
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
