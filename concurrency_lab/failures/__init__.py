"""How each variant fails on this Python: the error raised when a task raises or exits, a worker dies,
a timeout passes, or what it must send cannot be pickled or rebuilt; what becomes of submitted futures;
how long it takes to raise; what it leaves running.

    table = measure_failures()           # every registered variant that can run here, about a minute
    output_json[JSON_KEY] = table.to_dict()

The cases are data (`cases.py`), each probe runs in a process of its own (`probe.py`) under a
watchdog (`runner.py`), and the record (`record.py`) is what the report reads.
"""

from __future__ import annotations

from .cases import CASES, CASES_BY_NAME, Expected, FailureCase
from ..records.failure_outcomes import JSON_KEY, SCHEMA_VERSION, CaseInfo, FailureOutcome, FailureTable

#: What the table holds, for the help of the options that turn it off (the pytest plugin, `concurrency-lab run`).
SUMMARY = ("each variant's error when a task raises or exits, a worker dies, a timeout passes or what it sends "
           "cannot be pickled or rebuilt, and what it leaves running; about a minute, each probe bounded")


def measure_failures(*args, **kwargs) -> FailureTable:
    """See `runner.measure_failures` (imported on use: reading a table needs no process machinery)."""
    from .runner import measure_failures as measure

    return measure(*args, **kwargs)


__all__ = [
    "CASES", "CASES_BY_NAME", "JSON_KEY", "SCHEMA_VERSION", "SUMMARY", "CaseInfo", "Expected", "FailureCase",
    "FailureOutcome", "FailureTable", "measure_failures",
]
