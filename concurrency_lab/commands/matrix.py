"""Run every variant over every workload once and print results and times (the lab's quick tour)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

from ..core.errors import BrokenPool, MapTimeout, NotPicklable
from ..core.traits import Role
from ..variants import VariantUnavailable, get_variant, variant_class
from ..workloads import get_workload


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
    header = f"{'workload':<11} {'variant':<13} {'workers':>7} {'items':>7} {'wall s':>8} {'speedup':>8} {'procs':>5}  identical"
    print(header, file=out)
    print("-" * len(header), file=out)
    baseline: dict[str, float] = {}
    all_identical = True
    for row in rows:
        if row.wall_s is None:
            print(f"{row.workload:<11} {row.variant:<13} {'':>7} {row.size:>7} {row.note}", file=out, flush=True)
            all_identical &= row.identical is not False  # a failed call counts against the run; a skip does not
            continue
        if variant_class(row.variant).role is Role.BASELINE:
            baseline[row.workload] = row.wall_s
        base = baseline.get(row.workload)
        speedup = f"{base / row.wall_s:7.2f}x" if base and row.wall_s > 0 else f"{'-':>8}"
        all_identical &= bool(row.identical)
        print(
            f"{row.workload:<11} {row.variant:<13} {row.workers:>7} {row.size:>7} {row.wall_s:8.3f} {speedup} "
            f"{row.worker_processes:>5}  {'yes' if row.identical else 'NO: differs from the reference'}"
            + (f"  ({row.note})" if row.note else ""),
            file=out, flush=True,
        )
    return all_identical
