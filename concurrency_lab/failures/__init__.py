"""How each variant fails on this Python: the error raised when a task raises or exits, a worker dies,
a timeout passes, or what it must send cannot be pickled or rebuilt; what becomes of submitted futures;
how long it takes to raise; what it leaves running.

    from concurrency_lab.failures.runner import measure_failures
    table = measure_failures()           # every registered variant that can run here, about a minute
    output_json[JSON_KEY] = table.to_dict()

The cases are data (`cases.py`), each probe runs in a process of its own (`child.py`, its entry point) under a
watchdog (`runner.py`), and the record (`records.failure_outcomes`) is what the report reads. This
package's own namespace holds only the record's names, so that reading a table needs no cases, probes
or process machinery (and no submodule here imports a package that imports it back).
"""

from __future__ import annotations

from ..records.failure_outcomes import JSON_KEY, SCHEMA_VERSION, CaseInfo, FailureOutcome, FailureTable

#: What the table holds, for the help of the options that turn it off (the pytest plugin, `concurrency-lab run`).
SUMMARY = ("each variant's error when a task raises or exits, a worker dies, a timeout passes or what it sends "
           "cannot be pickled or rebuilt, and what it leaves running; about a minute, each probe bounded")


__all__ = [
    "JSON_KEY", "SCHEMA_VERSION", "SUMMARY", "CaseInfo", "FailureOutcome", "FailureTable",
]
