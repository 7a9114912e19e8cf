"""Thread-safe server state: request counters, barriers, and attempt counts of flaky keys."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


class RequestStats:
    """Requests handled since the last reset, how many are in flight now, and the most at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._in_flight = 0
        self._peak_in_flight = 0

    def enter(self) -> None:
        with self._lock:
            self._requests += 1
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return self._snapshot()

    def reset(self) -> dict[str, int]:
        """Zero the counters and return them; requests still in flight stay counted as in flight."""
        with self._lock:
            self._requests = 0
            self._peak_in_flight = self._in_flight
            return self._snapshot()

    def _snapshot(self) -> dict[str, int]:
        return {"requests": self._requests, "in_flight": self._in_flight, "peak_in_flight": self._peak_in_flight}


@dataclass
class _Group:
    waiting: int = 0
    released: bool = False


class BarrierBoard:
    """Named barriers: `wait` returns True once `parties` callers with the same (key, parties) wait at once.

    Each release starts a new generation, so the next group of `parties` callers meets afresh.
    A caller that times out returns False and no longer counts toward its group.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._groups: dict[tuple[str, int], _Group] = {}

    def wait(self, key: str, parties: int, timeout: float) -> bool:
        name = (key, parties)
        with self._changed:
            group = self._groups.setdefault(name, _Group())
            group.waiting += 1
            if group.waiting >= parties:
                group.released = True
                del self._groups[name]  # the next caller with this name starts the next generation
                self._changed.notify_all()
                return True
            if self._changed.wait_for(lambda: group.released, timeout):
                return True
            group.waiting -= 1
            if group.waiting == 0:
                del self._groups[name]
            return False


class FlakyCounter:
    """How many times each key has been asked for, counting from 1."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()

    def attempt(self, key: str) -> int:
        with self._lock:
            self._attempts[key] += 1
            return self._attempts[key]


@dataclass
class LabState:
    """Everything the routes share across requests and connections of one server."""

    stats: RequestStats = field(default_factory=RequestStats)
    barriers: BarrierBoard = field(default_factory=BarrierBoard)
    flaky: FlakyCounter = field(default_factory=FlakyCounter)
