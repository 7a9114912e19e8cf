"""What `advise` measured and concluded, as plain data with one schema (`to_dict`/`from_dict`, versioned)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Bumped when a field changes meaning or goes away; `Advice.from_dict` refuses a newer one.
ADVICE_SCHEMA_VERSION = 1
#: The other processes' load is a figure only over rounds lasting this long in all: the OS counts CPU time in
#: 10 ms ticks, so one tick over a 64 µs round reads as 156 cores (seen on a function of 100 ns per item).
OTHER_LOAD_MIN_WALL_S = 1.0


def _known(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
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
        return cls(**{**_known(cls, data), "config": Config(**_known(Config, data["config"]))})


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
        return cls(**{**_known(cls, data), "item_seconds": tuple(data.get("item_seconds", ()))})


@dataclass(repr=False)
class Advice:
    """The answer: what to use and why, with every figure it rests on. ``print(advice)`` shows the screen
    `concurrency-lab advise` prints (`answer.render`); its repr is one short line."""

    function: str
    items_total: int
    items_sampled: int
    budget_seconds: float
    elapsed_seconds: float
    calls: int
    build: dict[str, Any]  # python, gil_enabled, free_threaded_build, usable_cpus
    probe: Probe
    bound: str | None  # a traits.Bound value, None when it could not be told
    reasons: list[str]  # the classification, in plain words from the figures
    trials: list[Trial]
    hand_off_seconds: dict[str, float]  # kind -> measured cost of handing one item to a worker of that kind
    ruled_out: dict[str, str]  # variant -> why it was not run
    not_tried: dict[str, str]  # configuration label or variant -> why it was not measured (budget, unavailable)
    excluded: dict[str, str] = field(default_factory=dict)  # label -> why one round was enough (far behind the best)
    recommended: Config | None = None
    speedup: float | None = None
    speedup_low: float | None = None
    speedup_high: float | None = None
    as_fast: list[str] = field(default_factory=list)  # labels of the configurations within noise of it
    chunksize_for_all: int | None = None  # the chunk size for the whole input, from the measured policy
    problem: str | None = None  # why there is no recommendation
    #: False when the measurements could not decide (`problem` then names the figure and what would decide it):
    #: not a finding about the function, unlike a problem with `judged` True.
    judged: bool = True
    #: Two sequential runs of the same items differed: {"index", "expected" (the first run's), "got"}.
    nondeterministic: dict[str, Any] | None = None
    snippet: str = ""
    schema_version: int = ADVICE_SCHEMA_VERSION

    def trial(self, config: Config) -> Trial | None:
        return next((t for t in self.trials if t.config == config), None)

    def __str__(self) -> str:
        from .answer import render

        return render(self)

    def __repr__(self) -> str:
        if self.recommended is not None and self.speedup is not None:
            answer = f"use {self.recommended.label}, {self.speedup:.2f}x"
        else:
            answer = "not judged" if not self.judged else "no advice"
        return f"<Advice for {self.function}: {answer}; print() it for the screen>"

    def _other_load(self) -> tuple[float, float]:
        """Other processes' CPU seconds and the rounds' wall seconds, over every round with a figure."""
        pairs = [(cores * seconds, seconds) for trial in self.trials
                 for cores, seconds in zip(trial.other_cores, trial.round_seconds) if cores is not None]
        return sum(cpu for cpu, _ in pairs), sum(seconds for _, seconds in pairs)

    @property
    def machine_cpus(self) -> int | None:
        """The most cores other processes can use: every CPU of the machine (usable CPUs, for older advice)."""
        return self.build.get("machine_cpus") or self.build.get("usable_cpus")

    @property
    def other_cores(self) -> float | None:
        """The cores other processes used while the rounds ran, over all of them: their CPU seconds over the
        rounds' wall seconds (the OS counts system-wide CPU in 10 ms ticks, too coarse for one short round).
        None (not measured) when the rounds lasted less than OTHER_LOAD_MIN_WALL_S in all; never more than
        the machine's CPUs nor less than 0 (`other_cores_note` says when it was clamped)."""
        cpu, wall = self._other_load()
        if wall < OTHER_LOAD_MIN_WALL_S:
            return None
        return min(max(0.0, cpu / wall), self.machine_cpus or math.inf)

    @property
    def other_cores_note(self) -> str | None:
        """Why the other processes' load is not measured, or was clamped; None when the figure stands as measured."""
        cpu, wall = self._other_load()
        if wall <= 0:
            return None
        if wall < OTHER_LOAD_MIN_WALL_S:
            return (f"other processes' load not measured: the rounds lasted {wall * 1e3:.3g} ms in all, too short for the "
                    f"OS's 10 ms CPU ticks (at least {OTHER_LOAD_MIN_WALL_S:g} s is needed)")
        cpus = self.machine_cpus
        if cpus and cpu / wall > cpus:
            return (f"other processes' load measured more than the machine's {cpus} CPUs (the OS's CPU ticks are "
                    f"coarse): shown as {cpus}")
        return None

    @property
    def recommended_kind(self) -> str | None:
        found = self.trial(self.recommended) if self.recommended else None
        return found.kind if found else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["probe"] = self.probe.to_dict()
        data["trials"] = [t.to_dict() for t in self.trials]
        data["recommended_kind"] = self.recommended_kind
        data["other_cores"] = self.other_cores
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Advice:
        version = data.get("schema_version")
        if not isinstance(version, int) or version > ADVICE_SCHEMA_VERSION:
            raise ValueError(f"advice of schema {version!r}: this version reads up to {ADVICE_SCHEMA_VERSION}")
        data = _known(cls, data)  # recommended_kind and other_cores are derived, and rebuilt from the rest
        return cls(**{**data, "probe": Probe.from_dict(data["probe"]),
                      "trials": [Trial.from_dict(t) for t in data["trials"]],
                      "recommended": Config(**_known(Config, data["recommended"])) if data.get("recommended") else None})
