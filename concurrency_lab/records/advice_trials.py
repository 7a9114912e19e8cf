"""What `advise` measured, part by part: the configurations, their trials, the first calls (parts of an `Advice`)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """`data`'s keys that `cls` has: a key added within this schema version by a newer writer is left out."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass(frozen=True)
class Config:
    """One way to run the function: a variant, its worker count, and a chunk size (None: the variant's default)."""

    variant: str
    workers: int
    chunksize: int | None = None

    @property
    def label(self) -> str:
        chunks = "" if self.chunksize is None else f", chunks of {self.chunksize}"
        return f"{self.variant} x{self.workers}{chunks}"


@dataclass
class Trial:
    """One configuration measured: its rounds' wall times and cores used, start-up, memory, and what went wrong."""

    config: Config
    kind: str  # the variant's Kind value
    round_seconds: list[float] = field(default_factory=list)
    cores_used: list[float] = field(default_factory=list)
    #: Per round: the cores other processes on the machine used meanwhile (a loaded machine's share).
    other_cores: list[float | None] = field(default_factory=list)  # None: not known for that round
    startup_seconds: float | None = None  # opening its pool, once per run (None: no pool)
    chunksize_used: int | None = None  # what the variant chose when config.chunksize is None
    peak_rss_bytes: int | None = None
    peak_uss_bytes: int | None = None
    items: int = 0  # items per round
    calls: int = 0  # calls of the function this trial made, warm-up included
    problem: str | None = None  # why it must not be recommended: raised, timed out, died, leaked, differed
    #: {"index", "expected", "got"}: the first item that differed; with "uncomparable": True when == cannot check
    #: such results (NaN, arrays, objects without __eq__).
    mismatch: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.round_seconds)

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.round_seconds) if self.round_seconds else None

    @property
    def seconds(self) -> float:
        """The median round of a trial that has rounds (every `ok` one): what speedups divide by. ValueError
        for a trial without rounds, which has no time to compare."""
        if not self.round_seconds:
            raise ValueError(f"{self.config.label} has no rounds to compare")
        return statistics.median(self.round_seconds)

    @property
    def median_cores(self) -> float | None:
        return statistics.median(self.cores_used) if self.cores_used else None

    def merge(self, later: Trial) -> None:
        """Add a later run of the same configuration (more rounds) to this one."""
        self.round_seconds += later.round_seconds
        self.cores_used += later.cores_used
        self.other_cores += later.other_cores
        self.calls += later.calls
        self.problem = self.problem or later.problem
        self.mismatch = self.mismatch or later.mismatch
        for name in ("peak_rss_bytes", "peak_uss_bytes"):
            values = [v for v in (getattr(self, name), getattr(later, name)) if v is not None]
            setattr(self, name, max(values) if values else None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trial:
        return cls(**{**known(cls, data), "config": Config(**known(Config, data["config"]))})


@dataclass(frozen=True)
class Probe:
    """The first sequential calls, in a child process: how long an item takes and what it costs."""

    item_seconds: tuple[float, ...] = ()
    cpu_seconds: float = 0.0
    unsendable: Mapping[str, str] = field(default_factory=dict)  # serializer -> why the first result cannot go
    problem: str | None = None  # raised, hung, ended its process

    @property
    def seconds_per_item(self) -> float | None:
        return statistics.median(self.item_seconds) if self.item_seconds else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "item_seconds": list(self.item_seconds), "unsendable": dict(self.unsendable)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Probe:
        return cls(**{**known(cls, data), "item_seconds": tuple(data.get("item_seconds", ()))})
