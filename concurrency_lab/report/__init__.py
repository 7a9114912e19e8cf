"""Reports from pytest-benchmark JSON files: summary.json, summary.md and a self-contained index.html.

    summary = load_results([".benchmarks/"])          # or files saved with --benchmark-json
    write_reports(summary, "reports/latest")
    print(format_comparison_table(compare_runs("run_py311.json", "run_py313.json")))
"""

from __future__ import annotations

from ..records.summary import Result, Run, Summary
from .compare import Comparison, build_note, compare_runs, format_comparison_table
from .facts import Verdict
from .loading import load_results
from .verdicts import verdicts
from .writer import write_reports

__all__ = [
    "Comparison",
    "Result",
    "Run",
    "Summary",
    "Verdict",
    "build_note",
    "compare_runs",
    "format_comparison_table",
    "load_results",
    "verdicts",
    "write_reports",
]
