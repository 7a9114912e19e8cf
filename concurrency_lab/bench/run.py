"""`concurrency-lab run`: the pytest benchmark matrix on this Python, then the reports."""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import interrupt
from . import test_matrix

if TYPE_CHECKING:
    from ..report.model import ReportWarning


def raw_results_path(out_dir: Path) -> Path:
    """Where this run's pytest-benchmark JSON is kept: one file per run and Python, never overwritten."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    build = "t" if "free-threading" in sys.version else ""
    return out_dir / "results" / f"{stamp}-{platform.python_implementation().lower()}{platform.python_version()}{build}.json"


def run_benchmarks(*, profile: str, variants: Sequence[str], workloads: Sequence[str], workers: Sequence[int] | None,
                   out_dir: Path, timeout: float | None = None, extra_pytest_args: Sequence[str] = ()) -> tuple[int, Path]:
    """Run the benchmark module under pytest (the same engine as `pytest --benchmark-only`) and keep its JSON."""
    import pytest

    final = raw_results_path(out_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_suffix(".json.partial")  # a killed run leaves no half file under the final name
    args = [
        test_matrix.__file__, "-p", "concurrency_lab.bench.plugin", "-p", "no:cacheprovider",
        # The same run wherever the package is installed: no project config or conftest found above it.
        "-c", os.devnull, "--rootdir", str(Path(test_matrix.__file__).parent), "--noconftest",
        "-p", "no:hypothesispytest",  # installed for the tests; imported at the end of every session (0.3 s)
        # It would take sys.unraisablehook, through which an interruption swallowed where Python cannot
        # raise (a fork hook, a finalizer) is raised again (see interrupt.py).
        "-p", "no:unraisableexception",
        "--benchmark-only", "--benchmark-json", str(partial), "--benchmark-columns", "median,iqr,rounds",
        "--lab-profile", profile, "--lab-variants", ",".join(variants), "--lab-workloads", ",".join(workloads),
        "--lab-progress", "-q", "--no-header", *extra_pytest_args,
    ]
    if workers:
        args += ["--lab-workers", ",".join(map(str, workers))]
    if timeout is not None:
        args += ["--lab-timeout", repr(timeout)]
    with interrupt.during("during the benchmarks; no reports or results written, earlier ones left as they were"):
        code = int(pytest.main(args))
        interrupt.reraise()  # pytest catches KeyboardInterrupt itself and returns INTERRUPTED
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and partial.exists():
        os.replace(partial, final)  # complete (a failed benchmark is a result too: its output differed)
    return code, final


def write_run_reports(results: Sequence[Path], out_dir: Path, warnings: Sequence[ReportWarning] = ()) -> int:
    """Build the reports from saved results, print what was written and the verdicts; 1 when nothing could be reported.

    `warnings` (ReportWarning) come first among the report's own: what the caller knows beyond the files
    (the tox envs that failed or were skipped)."""
    from ..report import load_results, verdicts, write_reports

    summary = load_results(results)
    summary.warnings[:0] = warnings
    for warning in summary.warnings:
        where = f" [{warning.benchmark}]" if warning.benchmark else ""
        print(f"warning: {warning.source}{where}: {warning.message}", file=sys.stderr)
    if not summary.results and not summary.advice:
        print("no benchmark results or advice to report in: " + ", ".join(map(str, results)), file=sys.stderr)
        return 1
    drawn = verdicts(summary)
    with interrupt.during("while writing the reports; each report is whole, the previous one or the new one"):
        written = write_reports(summary, out_dir, drawn)
    for path in written:
        print(f"wrote {path}")
    for verdict in drawn:
        print(f"  - {verdict.text}")
    return 0
