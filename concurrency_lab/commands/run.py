"""`concurrency-lab run`: the benchmark matrix on this Python, then the reports."""

from __future__ import annotations

import argparse
import sys

from ..bench.options import RUN_OPTIONS, RunOptions
from ..core.options import Commands, add_options
from ..core.out_path import OUT
from ..failures import SUMMARY as FAILURES_SUMMARY
from ..variants.dask_cluster import use_scheduler_address


def add_command(commands: Commands) -> None:
    """The `run` sub-command: the session's own options (`RUN_OPTIONS`), then where and how loudly."""
    run = commands.add_parser("run", help="benchmark the variant x workload x workers matrix on this Python and write reports",
                              description="Benchmark every variant x workload x workers case under pytest-benchmark "
                                          "(median of several rounds after warm-up; exact CPU seconds; memory and per-core "
                                          "use sampled from a separate process), then write summary.json, summary.md and "
                                          "index.html. It says first what it will run and about how long it will take.")
    add_options(run.add_argument, (*RUN_OPTIONS, OUT))
    run.add_argument("--no-failures", dest="failures", action="store_false",
                     help=f"leave out the failure-modes table ({FAILURES_SUMMARY})")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="pytest's own output (each test, its summary and pytest-benchmark's tables) and every "
                          "verdict; without it, the progress, one line of counts and the reports' paths")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the benchmarks with the options as parsed (one `RunOptions` value), then write the reports from them."""
    from ..bench.run import run_benchmarks, write_run_reports

    options = RunOptions.from_values(vars(args))
    use_scheduler_address(options.dask_address)
    code, raw = run_benchmarks(options, out_dir=args.out, verbose=args.verbose)
    if not raw.exists():
        partial = raw.with_suffix(".json.partial")
        kept = f"; whatever was measured is in {partial}" if partial.exists() else ""
        print(f"the benchmarks did not finish (pytest exit status {code}): no reports written{kept}", file=sys.stderr)
        return code or 1
    print(f"results: {raw}")
    return write_run_reports([raw], args.out, verbose=args.verbose) or (1 if code else 0)
