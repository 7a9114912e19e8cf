"""What a variant is and what bounds a workload, declared as data, so that consumers (the report's
rules, its tables and charts, later the failure table and `advise`) select rows by traits, never
by a variant's name or a free-text label."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """What runs the items. Declaration order is the order tables list variants in: the baseline,
    then one process with many threads, then many processes, then a cluster."""

    SEQUENTIAL = "sequential"  # one item after another in the calling thread
    THREADS = "threads"  # threads of this process: one interpreter, one GIL where the build has one
    EVENT_LOOP = "event_loop"  # coroutines on one event loop: one thread
    PROCESSES = "processes"  # worker processes on this machine, each its own interpreter
    CLUSTER = "cluster"  # workers a scheduler places, on this machine or others

    @property
    def in_process(self) -> bool:
        """The work runs in the caller's interpreter, so it shares the caller's GIL."""
        return self in (Kind.SEQUENTIAL, Kind.THREADS, Kind.EVENT_LOOP)

    @property
    def one_thread(self) -> bool:
        """At most one thread computes, GIL or not: at most one core of work."""
        return self in (Kind.SEQUENTIAL, Kind.EVENT_LOOP)


class Bound(str, Enum):
    """What limits a workload."""

    IO_WAIT = "io_wait"  # waiting on another party (a server's latency): overlapping waits pays
    CPU_HOLDS_GIL = "cpu_holds_gil"  # pure-Python computation: threads share one GIL
    CPU_RELEASES_GIL = "cpu_releases_gil"  # C code that drops the GIL (hashlib, zlib): threads scale
    DISPATCH = "dispatch"  # each task is far cheaper than handing it to a worker

    @property
    def label(self) -> str:
        return _BOUND_LABELS[self]

    @property
    def computes(self) -> bool:
        """The work keeps a CPU busy (as opposed to waiting, or being too small to matter)."""
        return self in (Bound.CPU_HOLDS_GIL, Bound.CPU_RELEASES_GIL)

    @classmethod
    def parse(cls, text: object) -> Bound | None:
        """A recorded bound: its value, or the label results written before the schema carried (None if neither)."""
        if not isinstance(text, str):
            return None
        try:
            return cls(text)
        except ValueError:
            return _BY_LABEL.get(text)


_BOUND_LABELS = {
    Bound.IO_WAIT: "I/O",
    Bound.CPU_HOLDS_GIL: "CPU, holds the GIL",
    Bound.CPU_RELEASES_GIL: "CPU, releases the GIL",
    Bound.DISPATCH: "dispatch overhead",
}
_BY_LABEL = {label: bound for bound, label in _BOUND_LABELS.items()}


class Role(str, Enum):
    """The part a variant plays in the lesson."""

    BASELINE = "baseline"  # what every speedup divides: one item after another
    BEFORE = "before"  # the older, hand-made or lower-level way the lesson starts from
    AFTER = "after"  # the `concurrent.futures` way the lesson refactors it onto


@dataclass(frozen=True)
class VariantTraits:
    """A variant as the report sees it. `lesson_pair` names the pair a BEFORE and an AFTER variant
    form (the lesson compares `multiprocessing.Pool` with `ProcessPoolExecutor` within "processes")."""

    kind: Kind
    api_family: str  # the library that provides it: "concurrent.futures", "multiprocessing", ...
    api: str  # the call a user writes: "ProcessPoolExecutor.map"
    role: Role | None = None
    lesson_pair: str | None = None
    runs_coroutines: bool = False
    has_pool: bool = False  # keeps workers between calls, so it can be measured warm or cold
    futures: bool = False  # offers `submit`, returning a concurrent.futures.Future (the lesson's API)
    subject_to_gil: bool | None = None  # its workers share one GIL on the build that ran it (None: not known)

    @property
    def is_baseline(self) -> bool:
        return self.role is Role.BASELINE

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantTraits | None:
        """The traits in `data`; None when their kind is missing or unknown (written by another version)."""
        try:
            kind = Kind(data.get("kind"))
        except ValueError:
            return None
        role = data.get("role")
        return cls(
            kind=kind,
            api_family=_text(data.get("api_family")) or "",
            api=_text(data.get("api")) or "",
            role=Role(role) if role in {r.value for r in Role} else None,
            lesson_pair=_text(data.get("lesson_pair")),
            runs_coroutines=data.get("runs_coroutines") is True,
            has_pool=data.get("has_pool") is True,
            futures=data.get("futures") is True,
            subject_to_gil=data.get("subject_to_gil") if isinstance(data.get("subject_to_gil"), bool) else None,
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
