"""`concurrency-lab matrix`: every variant over every workload once, results and times printed (the lab's quick tour)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from ..bench.options import WORKLOADS
from ..core import interrupt
from ..core.errors import BrokenPool, MapTimeout, NotPicklable
from ..core.options import START_METHOD, WORKERS, Commands, Option, add_options, parse_name, parse_whole_number
from ..core.traits import Role
from ..core.version import __version__
from ..variants import VARIANT_NAMES, VariantUnavailable, get_variant, variant_class
from ..variants.dask_cluster import use_scheduler_address
from ..variants.options import DASK_ADDRESS, TIMEOUT, VARIANTS
from ..workloads import SIZE_LABELS, get_workload

#: Inputs are the same for the same seed; random.Random takes abs(seed), so negative seeds would repeat
#: positive ones. 32 bits, the range every random-number tool replays.
MAX_SEED = 2**32 - 1
SIZE = Option("--size", lambda text: parse_name(text, SIZE_LABELS, "size"), "NAME",
              f"input size: {', '.join(SIZE_LABELS)} (default: {{default}})", "smoke")
SEED = Option("--seed", lambda text: parse_whole_number(text, 0, MAX_SEED), "N",
              f"seed for the inputs, 0 to {MAX_SEED} (default: {{default}})", 0)


def add_command(commands: Commands) -> None:
    """The `matrix` sub-command."""
    matrix = commands.add_parser("matrix", help="run every variant over every workload once, printing results and times",
                                 description="Run each workload with each variant once (cold pools), print the wall time, "
                                             "the speedup over sequential and whether the results equal the reference. "
                                             "Exit status 1 if any result differs.")
    add_options(matrix.add_argument, (VARIANTS, WORKLOADS, WORKERS, START_METHOD, SIZE, SEED, TIMEOUT, DASK_ADDRESS))
    matrix.set_defaults(handler=matrix_command)


def matrix_command(args: argparse.Namespace) -> int:
    use_scheduler_address(args.dask_address)
    rows = run_matrix(args.workloads, args.variants, workers=args.workers, size_label=args.size, seed=args.seed,
                      start_method=args.start_method, timeout=args.timeout)
    print(f"concurrency-lab {__version__} on Python {sys.version.split()[0]}: size {args.size!r}, cold pools "
          "(start-up included), one run each; see `concurrency-lab run` for measured benchmarks", flush=True)
    with interrupt.during("during the matrix; the rows printed are complete"):
        return 0 if print_matrix(rows, sys.stdout) else 1


@dataclass(frozen=True)
class MatrixRow:
    workload: str
    variant: str
    workers: int
    size: int
    wall_s: float | None  # None when the variant could not run
    identical: bool | None
    worker_processes: int  # distinct PIDs that ran chunks
    note: str = ""


def run_matrix(
    workloads: Iterable[str], variants: Iterable[str], *, workers: int | None, size_label: str, seed: int = 0,
    start_method: str | None = None, timeout: float | None = None,
) -> Iterator[MatrixRow]:
    """Run each workload with each variant (cold: pool start-up included), checking the reference.
    A call that fails (a timeout, a broken pool) is a row that says so: every pair gets one."""
    variants = list(variants)
    for workload_name in workloads:
        workload = get_workload(workload_name)
        with workload.environment() as env:
            inputs = workload.make_inputs(workload.size(size_label), seed, env=env)
            expected = workload.reference(inputs)
            for name in variants:
                options = {"start_method": start_method} if start_method in variant_class(name).start_methods else {}
                try:
                    variant = get_variant(name, workers=workers, **options)
                    task = workload.task_for(variant)
                except VariantUnavailable as exc:
                    yield MatrixRow(workload.name, name, workers or 0, len(inputs), None, None, 0, f"skipped: {exc}")
                    continue
                started = time.perf_counter()
                try:
                    results = variant.map(task, inputs, timeout=timeout)
                except (MapTimeout, BrokenPool, NotPicklable) as exc:
                    yield MatrixRow(workload.name, name, variant.workers, len(inputs), None, False, 0,
                                    f"FAILED: {type(exc).__name__}: {exc}")
                    continue
                wall = time.perf_counter() - started
                own_way = variant.uses_processes and start_method is not None and not options
                yield MatrixRow(
                    workload.name, name, variant.workers, len(inputs), wall, results == expected,
                    len(variant.last_run.worker_pids) if variant.last_run else 0,
                    f"started its workers {variant.own_way()}, "
                    f"not with {start_method}" if own_way else "",
                )


def print_matrix(rows: Iterable[MatrixRow], out: TextIO) -> bool:
    """Print rows as they come, with the speedup over the baseline; True when every result was identical."""
    width = max(map(len, VARIANT_NAMES))  # the variant column fits every registered name
    header = (f"{'workload':<11} {'variant':<{width}} {'workers':>7} {'items':>7} {'wall s':>8} {'speedup':>8} "
              f"{'procs':>5}  identical")
    print(header, file=out)
    print("-" * len(header), file=out)
    baseline: dict[str, float] = {}
    all_identical = True
    for row in rows:
        if row.wall_s is None:
            print(f"{row.workload:<11} {row.variant:<{width}} {'':>7} {row.size:>7} {row.note}", file=out, flush=True)
            all_identical &= row.identical is not False  # a failed call counts against the run; a skip does not
            continue
        if variant_class(row.variant).role is Role.BASELINE:
            baseline[row.workload] = row.wall_s
        base = baseline.get(row.workload)
        speedup = f"{base / row.wall_s:7.2f}x" if base and row.wall_s > 0 else f"{'-':>8}"
        all_identical &= bool(row.identical)
        print(
            f"{row.workload:<11} {row.variant:<{width}} {row.workers:>7} {row.size:>7} {row.wall_s:8.3f} {speedup} "
            f"{row.worker_processes:>5}  {'yes' if row.identical else 'NO: differs from the reference'}"
            + (f"  ({row.note})" if row.note else ""),
            file=out, flush=True,
        )
    return all_identical
