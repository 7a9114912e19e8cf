"""`ResourceMonitor`: per-core CPU, memory, threads and processes of measured sections, sampled from another process."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ..core import helper_process
from .reading import Reading

#: Between samples, at least: the sampler stretches it where reading the tree would cost more than
#: `sampler.CPU_BUDGET` (2% of one CPU, 1% of a 2-CPU machine); the report gives the measured figure.
DEFAULT_INTERVAL_SECONDS = 0.1
#: Interpreter start-up plus psutil import on a loaded CI machine: this only catches a sampler that never starts.
START_TIMEOUT_SECONDS = 30.0
#: A reply takes milliseconds; this only catches a hung sampler.
REPLY_TIMEOUT_SECONDS = 30.0


class Measurement:
    """An open section of a `ResourceMonitor`; `final()` ends it and returns its `Reading`."""

    def __init__(self, monitor: ResourceMonitor, excluded_pids: tuple[int, ...]):
        self._monitor = monitor
        self._excluded = excluded_pids
        self._reading: Reading | None = None
        self._started = time.perf_counter()

    @property
    def ended(self) -> bool:
        return self._reading is not None

    def final(self) -> Reading:
        """End the section with a synchronous sample of the tree as it is now, and return the reading.

        Call it while pools are still alive, before shutting them down; calling it again (also
        after the ``with`` block) returns the same reading. If nobody calls it, leaving the block does.
        """
        if self._reading is None:
            wall_seconds = time.perf_counter() - self._started
            data = self._monitor._ask({"cmd": "end"})
            self._reading = Reading.from_dict({**data, "wall_seconds": wall_seconds, "excluded_pids": self._excluded})
            self._monitor._section = None
        return self._reading


class ResourceMonitor:
    """Samples the measured process tree every `interval` seconds (a big tree, less often) from a process of its own.

    Start it once (``with ResourceMonitor() as monitor:`` or `start()`/`close()`), then measure
    sections one at a time::

        with monitor.measure(exclude_pids=[server.pid]) as section:
            run_the_work()
            reading = section.final()  # before the pools shut down
    """

    def __init__(self, interval: float = DEFAULT_INTERVAL_SECONDS):
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not interval > 0:
            raise ValueError(f"interval must be a number of seconds above 0, got {interval!r}")
        self.interval = float(interval)
        self.root_pid = os.getpid()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = bytearray()
        self._section: Measurement | None = None

    @property
    def pid(self) -> int | None:
        """The sampler process's pid while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the sampler process (idempotent) and wait until it answers."""
        if self._process is not None:
            return
        self._buffer = bytearray()
        self._stderr = tempfile.TemporaryFile()
        self._process = helper_process.start("concurrency_lab.measure.sampler", stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0)
        try:
            self._read_reply(START_TIMEOUT_SECONDS)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the sampler process (idempotent)."""
        process, self._process = self._process, None
        self._section = None
        if process is not None:
            if process.poll() is None and process.stdin is not None:  # started with a pipe: it has one
                with contextlib.suppress(OSError):
                    process.stdin.write(b'{"cmd": "exit"}\n')
            helper_process.stop(process)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> ResourceMonitor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def measure(self, exclude_pids: Iterable[int] = ()) -> Iterator[Measurement]:
        """Sample from now until `Measurement.final()` or the end of the block, whichever comes first."""
        excluded = tuple(sorted({int(pid) for pid in exclude_pids}))
        if self._section is not None:
            raise RuntimeError("a section is already being measured: sections cannot nest or overlap")
        self._ask({"cmd": "begin", "root": self.root_pid, "skip": [*excluded, self.pid], "interval": self.interval})
        section = self._section = Measurement(self, excluded)
        try:
            yield section
        except BaseException:
            if self._process is not None and not section.ended:
                with contextlib.suppress(Exception):  # the block's exception (an interruption, say) is the news
                    section.final()
            raise
        if self._process is not None and not section.ended:
            section.final()

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        stdin, _ = self._pipes()
        try:
            stdin.write(json.dumps(command).encode() + b"\n")
        except OSError as exc:
            raise self._failure(f"stopped taking commands ({exc})") from exc
        reply = self._read_reply(REPLY_TIMEOUT_SECONDS)
        if "error" in reply:
            raise RuntimeError(f"resource sampler {self.pid} refused {command['cmd']!r}: {reply['error']}")
        return reply

    def _read_reply(self, timeout: float) -> dict[str, Any]:
        _, stdout = self._pipes()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            if not _wait_readable(stdout, deadline - time.monotonic()):
                raise self._failure(f"sent no reply within {timeout:g} s")
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                raise self._failure("exited")
            self._buffer += chunk
        line, _, rest = self._buffer.partition(b"\n")
        self._buffer = bytearray(rest)
        return json.loads(line)

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        """The running sampler's stdin and stdout (`start` pipes both)."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise RuntimeError("the resource monitor is not running: use `with ResourceMonitor() as monitor:` "
                               "or call monitor.start() first")
        return process.stdin, process.stdout

    def _failure(self, problem: str) -> RuntimeError:
        # Only called while the sampler runs: it failed, so it gets no grace before its stderr is read.
        process, stderr = self._process, self._stderr
        if process is None or stderr is None:
            return RuntimeError(f"resource sampler: {problem} (it had already stopped)")
        error = helper_process.failure("resource sampler", process, stderr, problem, grace=0)
        self.close()
        return error


def _wait_readable(stream: Any, timeout: float) -> bool:
    if sys.platform == "win32":  # select() takes no pipes there: os.read blocks, the timeout is lost
        return True
    import select

    return bool(select.select([stream], [], [], max(0.0, timeout))[0])
