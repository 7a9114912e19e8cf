"""The schema version of every record the lab writes, and the one check a reader makes of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SchemaError(ValueError):
    """A record this version of the lab cannot read (a newer schema, or no record at all)."""


@dataclass(frozen=True)
class Schema:
    """One kind of record: its name in messages and the versions this lab reads (`newest` is what it writes)."""

    name: str
    newest: int
    oldest: int = 1

    def check(self, version: Any) -> int:
        """`version` when this lab reads it; SchemaError (one line, saying what to do) otherwise."""
        if isinstance(version, bool) or not isinstance(version, int) or version < self.oldest:
            raise SchemaError(f"{self.name} schema {version!r} is not a version concurrency-lab knows")
        if version > self.newest:
            raise SchemaError(f"{self.name} schema {version} is newer than this concurrency-lab reads "
                              f"(up to {self.newest}): upgrade concurrency-lab to read it")
        return version


#: 2: the workload's bound is an enum value and the variant's traits are recorded; 1: before the record had a
#: schema (no "schema" key). Read by `benchmark.BenchRecord.from_dict`.
BENCHMARK_RECORD = Schema("benchmark record", 2)
#: The failure-modes table a run carries (`failure_outcomes.FailureTable`). Each outcome's exit_status (the calling
#: process ended, and how) came later: an added key, no new version, since a lab that does not know it still reads
#: the outcome right (not returned, documented, its `note` saying how the process ended) and shows that note.
FAILURE_TABLE = Schema("failure-modes table", 1)
#: advise.json (`advice.Advice`), under the key "schema_version".
ADVICE = Schema("advice", 1)
#: summary.json (`summary.Summary`); 2: each result carries its variant's traits, and bound is an enum value.
#: Each run's failure_modes (a `FailureTable`, or null where not measured) came later: an added key, no new
#: version; so did "advice" (each an `Advice.to_dict()`, of its own schema_version).
SUMMARY = Schema("summary", 2)
