"""Exact CPU seconds of measured work: this process from the OS, worker processes from their own reports.

Why not a sampler, or ``RUSAGE_CHILDREN`` alone: a 100 ms sampler cannot see the CPU a worker spent
after its last sample before exiting; it lost 14% of a 0.65 s run, and 70% with
``max_tasks_per_child=1``. ``RUSAGE_CHILDREN`` counts only *reaped direct* children: forkserver
workers are the forkserver's children, not ours, and pool workers still alive (or not yet
waited for) are not in it at all. So each worker times its own chunks with
``time.thread_time()`` and sends the figure back with the results (`RunRecord.worker_cpu_seconds`),
and `CpuReading.cpu_seconds` adds the larger of that and the reaped children's CPU to the
``RUSAGE_SELF`` delta, which holds every thread of this process.

What it can leave out: a worker's CPU outside its chunks (start-up, unpickling tasks, pickling
results), unless the worker was reaped inside the measurement. This process's side of that
traffic is in ``RUSAGE_SELF``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


@dataclass(frozen=True)
class CpuMark:
    """Clocks read at one instant."""

    wall: float  # time.perf_counter()
    self_cpu: float  # user + system of this process, all its threads
    children_cpu: float  # user + system of reaped children (0.0 where the OS does not say)
    source: str  # "getrusage" or "psutil"


def read_mark() -> CpuMark:
    if resource is not None:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return CpuMark(time.perf_counter(), me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime,
                       "getrusage")
    import psutil

    times = psutil.Process().cpu_times()
    children_cpu = getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
    return CpuMark(time.perf_counter(), times.user + times.system, children_cpu, "psutil")


@dataclass(frozen=True)
class CpuReading:
    """CPU bought by a measured section: the one definition of the CPU of the work.

    ``cpu_seconds = self_cpu_seconds + max(worker_cpu_seconds, reaped_children_cpu_seconds)``.
    Workers report the CPU of their chunks; a cold pool's workers are also reaped inside the
    timing, and then the OS's figure is the larger, since it includes their start-up. The max,
    never the sum: both count the same work.
    """

    wall_seconds: float
    self_cpu_seconds: float  # this process, every thread (so thread workers are in here)
    worker_cpu_seconds: float  # reported by workers in other processes, as passed to `CpuClock.stop`
    cpu_seconds: float  # self_cpu_seconds + max(worker_cpu_seconds, reaped_children_cpu_seconds)
    cores_used: float  # cpu_seconds / wall_seconds
    reaped_children_cpu_seconds: float  # children of this process waited for during the section (0.0 if unknown)
    source: str

    @classmethod
    def between(cls, start: CpuMark, end: CpuMark, worker_cpu_seconds: float = 0.0) -> CpuReading:
        if isinstance(worker_cpu_seconds, bool) or not isinstance(worker_cpu_seconds, (int, float)) \
                or not worker_cpu_seconds >= 0:
            raise ValueError(f"worker_cpu_seconds must be a number of seconds, 0 or more, got {worker_cpu_seconds!r}")
        wall = end.wall - start.wall
        self_cpu = max(0.0, end.self_cpu - start.self_cpu)
        reaped = max(0.0, end.children_cpu - start.children_cpu)
        cpu = self_cpu + max(float(worker_cpu_seconds), reaped)
        return cls(
            wall_seconds=wall,
            self_cpu_seconds=self_cpu,
            worker_cpu_seconds=float(worker_cpu_seconds),
            cpu_seconds=cpu,
            cores_used=cpu / wall if wall > 0 else 0.0,
            reaped_children_cpu_seconds=reaped,
            source=end.source,
        )


class CpuClock:
    """Start before the work, stop after it with what process workers reported::

        clock = CpuClock().start()
        outputs = variant.map(task, items)
        record = variant.last_run
        cpu = clock.stop(record.worker_cpu_seconds if variant.cpu_spent_elsewhere() else 0.0)

    Pass nothing for in-process variants: their workers' CPU is already in this process's.
    """

    def __init__(self) -> None:
        self._start: CpuMark | None = None

    def start(self) -> CpuClock:
        self._start = read_mark()
        return self

    def stop(self, worker_cpu_seconds: float = 0.0) -> CpuReading:
        end = read_mark()
        if self._start is None:
            raise RuntimeError("CpuClock.stop() called before start()")
        return CpuReading.between(self._start, end, worker_cpu_seconds)


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds `root` (default: this process), its live descendants and its reaped children have spent:
    everything a section started from here costs, its workers' start-up and pickling and the resource
    monitor's sampler included (a descendant that exited unreaped is missed)."""
    import psutil

    try:
        process = psutil.Process(root)
        times = process.cpu_times()
        total = times.user + times.system + getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
        descendants = process.children(recursive=True)
    except psutil.Error:
        return 0.0
    for child in descendants:
        try:
            times = child.cpu_times()
        except psutil.Error:  # gone meanwhile
            continue
        total += times.user + times.system
    return total


def machine_busy_seconds() -> float | None:
    """CPU seconds every process on the machine has spent so far (user, nice, system, interrupts, steal:
    all but idle and I/O wait; guest time is already in user), or None where psutil cannot say. The
    difference over a section, less the section's own `CpuReading.cpu_seconds`, is what other processes
    took from the cores meanwhile (`tree_cpu_seconds` gives the section's own, all of it)."""
    import psutil

    try:
        times = psutil.cpu_times()
    except (OSError, RuntimeError):  # a platform without system-wide CPU times
        return None
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))
