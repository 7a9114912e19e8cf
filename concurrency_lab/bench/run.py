"""`concurrency-lab run`: the pytest benchmark matrix on this Python, then the reports."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import interrupt
from ..core.cpus import usable_cpus
from ..measure.machine import gil_enabled
from ..variants import variant_class
from . import test_matrix
from .cases import PROFILES, BenchCase, cases
from .estimate import Estimate, duration_text, estimate_run, previous_timing
from .options import RunOptions

if TYPE_CHECKING:
    from ..records.summary import ReportWarning


def raw_results_path(out_dir: Path) -> Path:
    """Where this run's pytest-benchmark JSON is kept: one file per run and Python, never overwritten."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    build = "t" if "free-threading" in sys.version else ""
    return out_dir / "results" / f"{stamp}-{platform.python_implementation().lower()}{platform.python_version()}{build}.json"


def run_benchmarks(options: RunOptions, *, out_dir: Path, verbose: bool = False) -> tuple[int, Path]:
    """Run the benchmark module under pytest (the same engine as `pytest --benchmark-only`) and keep its JSON.
    `options` reach the session as they are, a value (`LabSession`), not as argv to parse again.

    It says first what it will run and for about how long, shows each case as it finishes with the time
    left, and ends with one line counting what passed, failed and was skipped (by reason). pytest's own
    terminal is off unless `verbose`: no test dots, no "N passed", no pytest-benchmark tables (the
    figures are in the JSON and the reports). Folders it made and left empty (stopped before any result)
    are removed; nothing else is.
    """
    import pytest

    from .plugin import LabSession  # pytest with it: `report` imports this module too, and needs neither

    final = raw_results_path(out_dir)
    partial = final.with_suffix(".json.partial")  # a killed run leaves no half file under the final name
    plan = RunPlan.make(options.profile, options.variants, options.workloads, options.workers)
    previous = previous_timing(final.parent, options.profile)
    print(plan.opening(estimate_run(plan.case_ids, options.profile, previous and previous[1]), final.parent, out_dir),
          flush=True)
    session = LabSession(replace(options, progress=True, eta_from=previous[0] if previous is not None else None))
    args = [
        test_matrix.__file__, "-p", "concurrency_lab.bench.plugin", "-p", "no:cacheprovider",
        # The same run wherever the package is installed: no project config or conftest found above it.
        "-c", os.devnull, "--rootdir", str(Path(test_matrix.__file__).parent), "--noconftest",
        "-p", "no:hypothesispytest",  # installed for the tests; imported at the end of every session (0.3 s)
        # It would take sys.unraisablehook, through which an interruption swallowed where Python cannot
        # raise (a fork hook, a finalizer) is raised again (see interrupt.py).
        "-p", "no:unraisableexception",
        "--benchmark-only", "--benchmark-json", str(partial), "--benchmark-columns", "median,iqr,rounds",
        *(("-v",) if verbose else QUIET_PYTEST),
    ]
    outcomes = Outcomes()
    made = missing_folders(final.parent)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        with interrupt.during("during the benchmarks; no reports or results written, earlier ones left as they were"):
            code = int(pytest.main(args, plugins=[outcomes, session]))
            interrupt.reraise()  # pytest catches KeyboardInterrupt itself and returns INTERRUPTED
    finally:
        remove_if_empty(made)
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and partial.exists():
        os.replace(partial, final)  # complete (a failed benchmark is a result too: its output differed)
    print(outcomes.closing(verbose), flush=True)
    return code, final


#: pytest's terminal off (its dots, "N passed", tracebacks, and pytest-benchmark's tables, which it prints
#: through that terminal); pytest-benchmark's own lines ("Wrote benchmark data in") off too. The lab's
#: progress and `Outcomes` say what the user needs; `run -v` shows pytest's usual output instead.
QUIET_PYTEST = ("-p", "no:terminal", "--benchmark-quiet")


@dataclass(frozen=True)
class RunPlan:
    """The cases a run will measure, and those left out because their variant cannot run here."""

    profile: str
    runnable: tuple[BenchCase, ...]
    unavailable: Counter[str]  # "dask: not installed (...)" -> cases left out for it

    @classmethod
    def make(cls, profile: str, variants: Sequence[str], workloads: Sequence[str],
             workers: Sequence[int] | None) -> RunPlan:
        matrix = cases(PROFILES[profile], variants=variants, workloads=workloads, usable_cpus=usable_cpus(),
                       workers=workers)
        reasons = {name: variant_class(name).unavailable_reason() for name in {case.variant for case in matrix}}
        runnable = tuple(case for case in matrix if not reasons[case.variant])
        left_out = Counter(f"{case.variant}: {reasons[case.variant]}" for case in matrix if reasons[case.variant])
        return cls(profile, runnable, left_out)

    @property
    def case_ids(self) -> list[str]:
        return [case.id for case in self.runnable]

    def opening(self, estimate: Estimate, results_dir: Path, out_dir: Path) -> str:
        """Two lines: what will run, on which Python; then for about how long and where it all goes."""
        variants = _counted(len({case.variant for case in self.runnable}), "variant")
        workloads = _counted(len({case.workload for case in self.runnable}), "workload")
        counts = sorted({case.workers for case in self.runnable})
        workers = f"{', '.join(map(str, counts[:-1]))} and {counts[-1]}" if len(counts) > 1 else "".join(map(str, counts))
        extra = [what for what, present in (("cold-pool", any(c.mode == "cold" for c in self.runnable)),
                                            ("trap", any(c.trap for c in self.runnable))) if present]
        extras = f", with {' and '.join(extra)} rows" if extra else ""
        left_out = f"; left out, as they cannot run here: {count_text(self.unavailable)}" if self.unavailable else ""
        return (f"concurrency-lab run: {_counted(len(self.runnable), 'benchmark case')} on {python_build()}, "
                f"profile {self.profile}: {variants} x {workloads} at {workers} workers{extras}{left_out}\n"
                f"about {duration_text(estimate.seconds)} ({estimate.source}); results to {results_dir}{os.sep}, "
                f"reports to {out_dir}{os.sep}")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def python_build() -> str:
    """``CPython 3.13.1 free-threaded (GIL off)``, ``CPython 3.11.7 (GIL build)``: what the figures are about."""
    name = f"{platform.python_implementation()} {platform.python_version()}"
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return f"{name} free-threaded (GIL {'on' if gil_enabled() else 'off'})"
    return f"{name} (GIL build)"


def count_text(counter: Counter[str]) -> str:
    """``dask: not installed (...) x20, loky: ... x18``: most frequent first."""
    return ", ".join(f"{reason} x{count}" for reason, count in counter.most_common())


class Outcomes:
    """A pytest plugin that counts what the benchmarks did, for the run's closing line instead of pytest's."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []  # "case: why", one per failed phase
        self.skipped: Counter[str] = Counter()  # reason -> tests

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.failed.append(f"{_case_name(report.nodeid)} ({report.when}): {_why(report.longrepr)}")
        elif report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self.skipped[reason.removeprefix("Skipped: ")] += 1
        elif report.when == "call":
            self.passed += 1

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.failed.append(f"collecting {report.nodeid or 'the benchmarks'}: {_why(report.longrepr)}")

    def closing(self, verbose: bool) -> str:
        """``benchmarks: 25 passed, 1 failed; skipped 20: dask: ... x20`` and a line per failure."""
        counts = [f"{self.passed} passed"] + ([f"{len(self.failed)} failed"] if self.failed else [])
        skipped = f"; skipped {sum(self.skipped.values())}: {count_text(self.skipped)}" if self.skipped else ""
        hint = "" if verbose or not self.failed else " (run -v for pytest's report of each)"
        return "\n".join([f"benchmarks: {', '.join(counts)}{skipped}{hint}", *(f"  failed: {line}" for line in self.failed)])


def _case_name(nodeid: str) -> str:
    """``processor-smoke-mp_pool-w2-warm`` from ``test_matrix.py::test_benchmark[processor-smoke-mp_pool-w2-warm]``."""
    return nodeid[nodeid.index("[") + 1:-1] if nodeid.endswith("]") and "[" in nodeid else nodeid


def _why(longrepr: Any) -> str:
    """The failure's own message, one line: the crash's first line (the assertion's text), else the report's last."""
    crash = getattr(longrepr, "reprcrash", None)
    lines = (crash.message if crash is not None else str(longrepr)).strip().splitlines()
    return " ".join((lines[0] if crash is not None else lines[-1]).split()) if lines else "no message"


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, deepest first: what making it will create."""
    return [path for path in (folder, *folder.parents) if not path.exists()]


def remove_if_empty(folders: Sequence[Path]) -> None:
    """Remove each of `folders`, deepest first, if it is empty: a stopped run leaves no empty folder it
    made. Only ``rmdir``: a folder holding anything, or one that cannot be removed, stays as it is."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass


def write_run_reports(results: Sequence[Path], out_dir: Path, *, verbose: bool = False,
                      warnings: Sequence[ReportWarning] = ()) -> int:
    """Build the reports from saved results and print the answer: the what-to-use table and where the report
    is (the verdicts are in the files; `verbose` prints them too). 1 when nothing could be reported.

    `warnings` (ReportWarning) come first among the report's own: what the caller knows beyond the files
    (the tox envs that failed or were skipped)."""
    from ..report import load_results, verdicts, write_reports
    from ..report.guide import guides, render_text

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
    if verbose:
        for verdict in drawn:
            print(f"  - {verdict.text}")
        print()
    answer = render_text(guides(summary))
    if answer:
        print(answer, end="\n\n")
    print(_where_written(written, len(drawn), verbose))
    return 0


def _where_written(written: Sequence[Path], verdict_count: int, verbose: bool) -> str:
    """ "wrote the report: .../index.html (beside it summary.json, summary.md; 22 verdicts in them: `run -v` prints them)" """
    page = next((path for path in written if path.suffix == ".html"), written[-1])
    parts = [f"beside it {', '.join(path.name for path in written if path != page)}"] if len(written) > 1 else []
    if verdict_count and not verbose:
        parts.append(f"{verdict_count} verdicts in them: `concurrency-lab run -v` prints them here")
    return f"wrote the report: {page}" + (f" ({'; '.join(parts)})" if parts else "")
