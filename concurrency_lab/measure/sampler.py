"""The sampler process: `python -m concurrency_lab.measure.sampler`, driven by JSON lines on stdin.

It samples from a process of its own because a sampler thread in the measured process would
compete with the threading variants for the GIL. Commands, one JSON object a line; every one
gets one JSON line back (``{"error": "..."}`` when it failed):

- ``{"cmd": "begin", "root": pid, "skip": [pids], "interval": s}``: start a section.
- ``{"cmd": "end"}``: final synchronous sample (USS included), stop; replies with the section's
  data (`Reading` fields but ``wall_seconds``, which the measured process times itself).
- ``{"cmd": "exit"}`` (or end of input): stop.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
import time
from typing import IO, Any

from ..core.helper_process import follow_parent
from .psutil_reads import TreeReader, per_core_percent, usable_cpu_ids
from .reading import PeakTracker, peaks_fields

#: USS reads smaps and costs milliseconds a process: at most this often, plus once at the end; for a
#: tree of n processes, every n / 2 times this (a 34-process pool read every second cost 8% of 2 CPUs).
USS_EVERY_SECONDS = 1.0
#: Share of one CPU the sampler may spend reading the tree: a big tree stretches the interval to
#: cost / CPU_BUDGET (a 33-process pool costs ~4 ms a sample: 4% of one CPU at 100 ms, 200 ms instead).
CPU_BUDGET = 0.02
#: /proc/stat counts in 10 ms ticks, so a shorter last slice of per-core CPU would be mostly rounding.
MIN_FINAL_CORE_SLICE_SECONDS = 0.05


class Section:
    """One measured section: periodic samples until `end`."""

    def __init__(self, root: int, skip: list[int], interval: float, reader: TreeReader):
        self.root, self.skip, self.interval, self.reader = root, skip, interval, reader
        self.cpu_ids = usable_cpu_ids(root)
        self.peaks = PeakTracker()
        self.per_core: list[tuple[float, tuple[float, ...]]] = []
        self.uss_every = USS_EVERY_SECONDS
        self.cpu_at_start = _own_cpu()
        per_core_percent(self.cpu_ids)  # prime: psutil's first call has nothing to compare with
        self.started = self.last_core = time.monotonic()
        self.last_uss = self.started  # the first USS read comes a period in: a short section reads it only at the end
        self.next_due = self.started + interval

    def seconds_to_next(self) -> float:
        return max(0.0, self.next_due - time.monotonic())

    def sample(self) -> None:
        cost_from = _own_cpu()
        now = time.monotonic()
        self._add_core_slice(now)
        with_uss = now - self.last_uss >= self.uss_every
        sample = self.reader.read(self.root, skip=self.skip, with_uss=with_uss, t_seconds=now - self.started)
        self.peaks.add(sample)
        self.uss_every = USS_EVERY_SECONDS * max(1.0, sample.processes / 2)
        if with_uss:
            self.last_uss = now
        interval = max(self.interval, (_own_cpu() - cost_from) / CPU_BUDGET)
        self.next_due += interval
        if self.next_due < time.monotonic():  # fell behind (a loaded machine): skip, don't burst
            self.next_due = time.monotonic() + interval

    def end(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self.last_core >= MIN_FINAL_CORE_SLICE_SECONDS:  # a 5 ms section has no per-core entry
            self._add_core_slice(now)
        # The sampler's price during the measurement; the final reading below comes after the timing.
        sampling_cpu = max(0.0, _own_cpu() - self.cpu_at_start)
        final = self.reader.read(self.root, skip=self.skip, with_uss=True, t_seconds=now - self.started)
        self.peaks.add(final)
        return {
            "interval_s": self.interval,
            "uss_every_s": USS_EVERY_SECONDS,
            "cpu_ids": list(self.cpu_ids),
            "per_core": [[round(t, 4), list(percents)] for t, percents in self.per_core],
            **peaks_fields(self.peaks),
            "sampler_cpu_seconds": sampling_cpu,
            "final": final.to_dict(),
            "root_pid": self.root,
            "sampler_pid": os.getpid(),
        }

    def _add_core_slice(self, now: float) -> None:
        self.per_core.append((now - self.started, per_core_percent(self.cpu_ids)))
        self.last_core = now


def _own_cpu() -> float:
    return time.process_time()  # user + system of every thread here, in ns steps (psutil's ticks are 10 ms)


def handle(
    command: dict[str, Any], section: Section | None, reader: TreeReader
) -> tuple[dict[str, Any], Section | None]:
    """Answer one command; returns the reply and the section open after it."""
    name = command.get("cmd")
    if name == "begin":
        if section is not None:
            raise ValueError("a section is already open: end it before beginning another")
        skip = [int(p) for p in command.get("skip", [])]
        section = Section(int(command["root"]), skip, float(command["interval"]), reader)
        return {"ok": True, "cpu_ids": list(section.cpu_ids)}, section
    if name == "end":
        if section is None:
            raise ValueError("no section is open: begin one first")
        return section.end(), None
    raise ValueError(f"unknown command {name!r}; known: begin, end, exit")


def serve(commands: IO[bytes], replies: IO[str]) -> None:
    """Sample while a section is open, answer commands between samples, until `exit` or end of input."""
    inbox: queue.Queue[bytes | None] = queue.Queue()

    def read_commands() -> None:  # a thread: waiting on a pipe with a timeout is not portable
        for line in commands:
            inbox.put(line)
        inbox.put(None)

    threading.Thread(target=read_commands, name="sampler-commands", daemon=True).start()
    section: Section | None = None
    reader = TreeReader()
    _reply(replies, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            line = inbox.get(timeout=section.seconds_to_next() if section else None)
        except queue.Empty:
            if section is not None:
                section.sample()
            continue
        if line is None:
            return
        try:
            command = json.loads(line)
            if command.get("cmd") == "exit":
                return
            reply, section = handle(command, section, reader)
        except Exception as exc:  # noqa: BLE001 - the measured process shows it; the sampler keeps serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        _reply(replies, reply)


def _reply(replies: IO[str], message: dict[str, Any]) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


if __name__ == "__main__":
    follow_parent()  # ends with the measured process, however that ends
    serve(sys.stdin.buffer, sys.stdout)
