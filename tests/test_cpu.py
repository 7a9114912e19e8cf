"""CpuClock: this process's CPU from the OS plus what process workers report (or the OS, if larger), never sampled."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from lab_params import make_variant, task_for, variant_params

from concurrency_lab.measure import CpuClock, CpuReading, cpu_time
from concurrency_lab.measure.cpu_time import CpuMark, read_mark


def _burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_busy_main_thread_shows_as_cpu_seconds():
    clock = CpuClock().start()
    _burn(0.3)
    reading = clock.stop()
    assert reading.self_cpu_seconds > 0 and reading.cpu_seconds == reading.self_cpu_seconds
    assert reading.wall_seconds > 0 and reading.cores_used > 0
    assert reading.worker_cpu_seconds == 0.0


def test_worker_reported_cpu_is_added_exactly():
    clock = CpuClock().start()
    _burn(0.05)
    reading = clock.stop(worker_cpu_seconds=1.25)
    assert reading.worker_cpu_seconds == 1.25
    assert reading.cpu_seconds == reading.self_cpu_seconds + 1.25
    assert reading.cores_used == reading.cpu_seconds / reading.wall_seconds


def test_the_arithmetic_between_two_marks():
    reading = CpuReading.between(CpuMark(10.0, 1.0, 0.5, "getrusage"), CpuMark(12.0, 2.5, 0.75, "getrusage"), 1.25)
    assert reading == CpuReading(wall_seconds=2.0, self_cpu_seconds=1.5, worker_cpu_seconds=1.25, cpu_seconds=2.75,
                                 cores_used=1.375, reaped_children_cpu_seconds=0.25, source="getrusage")


def test_workers_reaped_inside_the_timing_count_with_their_start_up():
    # A cold pool: the OS saw more of the workers' CPU than their chunks report. The larger, never both.
    reading = CpuReading.between(CpuMark(10.0, 1.0, 0.5, "getrusage"), CpuMark(12.0, 2.5, 2.5, "getrusage"), 1.25)
    assert (reading.reaped_children_cpu_seconds, reading.worker_cpu_seconds) == (2.0, 1.25)
    assert (reading.cpu_seconds, reading.cores_used) == (3.5, 1.75)


def test_reaped_children_count_when_no_worker_reported():
    clock = CpuClock().start()
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # interpreter start-up costs CPU
    reading = clock.stop()
    if reading.source != "getrusage":
        pytest.skip("this OS reports no CPU of reaped children")
    assert reading.reaped_children_cpu_seconds > 0
    assert reading.cpu_seconds == reading.self_cpu_seconds + reading.reaped_children_cpu_seconds


@pytest.mark.parametrize("worker_cpu_seconds", [-0.1, float("nan"), True, "1"])
def test_worker_cpu_must_be_seconds(worker_cpu_seconds):
    clock = CpuClock().start()
    with pytest.raises(ValueError, match="worker_cpu_seconds"):
        clock.stop(worker_cpu_seconds)


def test_stop_needs_a_start():
    with pytest.raises(RuntimeError, match="before start"):
        CpuClock().stop()


def test_without_the_resource_module_psutil_reads_the_clocks(monkeypatch):
    monkeypatch.setattr(cpu_time, "resource", None)
    mark = read_mark()
    assert mark.source == "psutil" and mark.self_cpu > 0
    clock = CpuClock().start()
    _burn(0.05)
    assert clock.stop().source == "psutil"


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("variant_name", variant_params())
def test_worker_cpu_is_added_exactly_when_the_chunks_ran_in_another_process(variant_name, workers):
    """The one rule the benchmarks and advise use to add the CPU each chunk reports to this process's own:
    true when the chunks ran elsewhere (else that CPU is already this process's, and would count twice)."""
    import os

    from concurrency_lab.workloads.tiny_tasks import affine

    variant = make_variant(variant_name, workers=workers)
    variant.map(task_for(variant, affine), range(8), chunksize=2)
    ran_elsewhere = variant.last_run.worker_pids != {os.getpid()}
    assert variant.cpu_spent_elsewhere() == ran_elsewhere, variant.last_run.worker_pids
