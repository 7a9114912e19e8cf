"""The benchmark record: what one benchmark measured, defined once.

The benchmark engine writes `BenchRecord.to_dict()` into pytest-benchmark's ``extra_info``; the
report reads it back with `BenchRecord.from_dict`. Version 1 is what the lab wrote before the
record had a schema (no ``schema`` key, the workload's bound as a label, no variant traits):
such records still load, their traits taken from this lab's registry where it knows the variant,
and `Loaded.missing` says what they lacked. A record of a newer schema is refused (`SchemaError`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.traits import Bound, VariantTraits
from .versions import BENCHMARK_RECORD

SCHEMA_VERSION = BENCHMARK_RECORD.newest
LEGACY_VERSION = BENCHMARK_RECORD.oldest  # records without a "schema" key
#: What a version-1 record never carried, so its absence is no news: said once per file, not per field.
_INTRODUCED_IN_2 = ("traits", "cluster")


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _read(reader: Callable[[Any], Any], default: Any = None) -> Any:
    """A record field read from JSON by `reader` (None or `default` when absent or of the wrong type)."""
    return field(default=default, metadata={"read": reader})


@dataclass(frozen=True)
class PerCoreTrace:
    """System-wide busy percent per CPU over time, sampled while one benchmark ran."""

    scope: str | None
    cpus: tuple[int, ...]
    times_s: tuple[float, ...]  # seconds since the first sample
    percents: tuple[tuple[float, ...], ...]  # one tuple per sample, one value per CPU

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "cpus": list(self.cpus),
                "samples": [[t, list(p)] for t, p in zip(self.times_s, self.percents, strict=False)]}

    @classmethod
    def from_dict(cls, data: Any) -> PerCoreTrace | None:
        """The trace in `data`; None when absent, or when CPUs appear mid-run (nothing to draw reliably)."""
        data = as_mapping(data)
        samples = list(_samples(data.get("samples")))
        if not samples or len({len(percents) for _, percents in samples}) != 1:
            return None
        width = len(samples[0][1])
        cpus = data.get("cpus")
        cpu_ids = tuple(c for c in cpus if as_int(c) is not None) if isinstance(cpus, list) else ()
        start = samples[0][0]
        return cls(
            scope=as_str(data.get("scope")),
            cpus=cpu_ids if len(cpu_ids) == width else tuple(range(width)),
            times_s=tuple(moment - start for moment, _ in samples),
            percents=tuple(percents for _, percents in samples),
        )


def _samples(samples: Any) -> Iterator[tuple[float, tuple[float, ...]]]:
    if not isinstance(samples, list):
        return
    for sample in samples:
        if not (isinstance(sample, list) and len(sample) == 2 and isinstance(sample[1], list)):
            continue
        moment, percents = as_float(sample[0]), tuple(as_float(p) for p in sample[1])
        if moment is not None and all(p is not None for p in percents):
            yield moment, percents  # type: ignore[misc]


def _traits(value: Any) -> VariantTraits | None:
    return VariantTraits.from_dict(value) if isinstance(value, Mapping) else None


def _cluster(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    return {"address": as_str(value.get("address")), "workers": as_int(value.get("workers")),
            "threads": as_int(value.get("threads")), "embedded": as_bool(value.get("embedded"))}


def _params(value: Any) -> dict[str, Any]:
    return dict(as_mapping(value))


@dataclass(frozen=True, kw_only=True)
class BenchRecord:
    """One benchmark's settings and measurements. Every field may be None in records from older
    versions; the engine fills all of them."""

    # What ran
    workload: str | None = _read(as_str)
    bound: Bound | None = _read(Bound.parse)
    variant: str | None = _read(as_str)
    traits: VariantTraits | None = _read(_traits)
    workers: int | None = _read(as_int)
    mode: str | None = _read(as_str)  # "warm": pool started before timing; "cold": every round starts it
    start_method: str | None = _read(as_str)
    chunksize: int | None = _read(as_int)
    trap: str | None = _read(as_str)  # a deliberately bad setting shown as its own row
    size: int | None = _read(as_int)
    size_label: str | None = _read(as_str)
    items: int | None = _read(as_int)
    params: dict[str, Any] = _read(_params, default=None)  # the workload's tuning constants
    seed: int | None = _read(as_int)
    rounds: int | None = _read(as_int)
    warmup_rounds: int | None = _read(as_int)
    # Whether it was right
    identical: bool | None = _read(as_bool)
    # What it cost: CPU (see measure/cpu_time.py), memory and processes (see measure/monitor.py)
    cpu_seconds: float | None = _read(as_float)
    wall_seconds: float | None = _read(as_float)
    cores_used: float | None = _read(as_float)
    self_cpu_seconds: float | None = _read(as_float)
    worker_cpu_seconds: float | None = _read(as_float)
    reaped_children_cpu_seconds: float | None = _read(as_float)
    peak_rss_bytes: int | None = _read(as_int)
    peak_uss_bytes: int | None = _read(as_int)
    peak_threads: int | None = _read(as_int)
    peak_processes: int | None = _read(as_int)
    sampler_cpu_seconds: float | None = _read(as_float)
    interval_s: float | None = _read(as_float)
    per_core: PerCoreTrace | None = _read(PerCoreTrace.from_dict)
    ideal_s: float | None = _read(as_float)  # the best time waiting allows (workloads that wait)
    #: Where a cluster variant's warm rows ran: {"address", "workers", "threads", "embedded"}; None elsewhere.
    #: Added within schema 2 (older readers ignore it, and older records are not reported as lacking it).
    cluster: dict[str, Any] | None = _read(_cluster)

    def __post_init__(self) -> None:
        if self.params is None:
            object.__setattr__(self, "params", {})

    def to_dict(self) -> dict[str, Any]:
        """JSON values, with the schema version: what goes into ``extra_info``."""
        values: dict[str, Any] = {"schema": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            values[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        return values

    def fields(self) -> dict[str, Any]:
        """Field name -> value, for building a richer object from a record."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, gil_enabled: bool | None = None) -> Loaded:
        """Read a record; SchemaError for a newer schema. `gil_enabled` (the run's) completes the
        traits of a version-1 record, which are taken from this lab's registry."""
        version = record_version(data)
        values: dict[str, Any] = {}
        missing = []
        for f in dataclasses.fields(cls):
            value = f.metadata["read"](data.get(f.name))
            if f.name not in data and f.name not in _INTRODUCED_IN_2:
                missing.append(f.name)
            values[f.name] = value
        if version == LEGACY_VERSION and values["traits"] is None and values["variant"]:
            values["traits"] = registered_traits(values["variant"], gil_enabled)
        return Loaded(cls(**values), version, tuple(missing))


@dataclass(frozen=True)
class Loaded:
    record: BenchRecord
    version: int
    missing: tuple[str, ...]  # fields the record did not carry


def record_version(data: Mapping[str, Any]) -> int:
    """The record's schema version; SchemaError when it is not one this lab reads."""
    return BENCHMARK_RECORD.check(data.get("schema", LEGACY_VERSION))


def registered_traits(variant: str, gil_enabled: bool | None) -> VariantTraits | None:
    """The traits this lab's registry declares for `variant` (None when it does not know it)."""
    from ..variants import VARIANT_NAMES, variant_class  # the registry, asked only for old records

    return variant_class(variant).traits(gil_enabled) if variant in VARIANT_NAMES else None
