"""Read the measured tree and the per-core CPU with psutil (the I/O the sampler process does)."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

import psutil

from ..core.cpus import logical_cpus
from .reading import TreeSample, select_cpus
from .tree import descendants, measured_pids

#: Forget the remembered parents this often, so a recycled pid is misread for at most this long.
#: Linux hands out pids in turn up to pid_max, so reuse within seconds needs a fork storm; a full
#: rescan costs ~5 ms of sampler CPU for 70 processes, so 0.1% at this period.
RESCAN_EVERY_SECONDS = 5.0
# A process can exit, turn zombie or refuse us between any two reads: it is then left out.
_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


def usable_cpu_ids(pid: int) -> tuple[int, ...]:
    """CPU ids process `pid` may run on: its affinity where psutil has one (Linux, Windows), else all.

    Ids, not a count: a cgroup quota limits CPU time, not which CPUs, so `concurrency_lab.core.cpus.usable_cpus`
    can be fewer than these; per-core use is read on every CPU the work may land on.
    """
    try:
        return tuple(sorted(psutil.Process(pid).cpu_affinity()))
    except (AttributeError, *_GONE):  # no cpu_affinity on macOS
        return tuple(range(logical_cpus()))


def per_core_percent(cpu_ids: Collection[int]) -> tuple[float, ...]:
    """Busy % of each CPU in `cpu_ids` since the previous call (system-wide; call once first to prime)."""
    return select_cpus(psutil.cpu_percent(percpu=True), sorted(cpu_ids))


@dataclass
class _Facts:
    ppid: int
    cmdline: list[str]
    rss: int
    threads: int


class TreeReader:
    """Reads the measured tree; keep one per sampler, since it remembers the machine's processes.

    Finding our descendants needs every process's parent. Reading them all each sample cost
    about 1.7 ms for 70 processes, most of the sampler's budget (2% of one CPU, `sampler.CPU_BUDGET`:
    2 ms a sample at the default 100 ms interval; a dearer sample stretches the interval), so a
    process's parent is read once, when its pid first shows up, and forgotten when the pid goes
    (or, in case the pid was recycled, after `RESCAN_EVERY_SECONDS`). The tree's own processes are
    read afresh every time.
    """

    def __init__(self) -> None:
        self._parents: dict[int, int] = {}
        self._processes: dict[int, psutil.Process] = {}
        self._scanned_at = float("-inf")

    def read(self, root: int, *, skip: Collection[int] = (), with_uss: bool = False,
             t_seconds: float = 0.0) -> TreeSample:
        """Sum RSS (and USS when asked), threads and processes over the measured tree of `root`.

        `skip` pids are left out with their descendants. USS reads /proc/<pid>/smaps(_rollup):
        slow on big processes, so the sampler asks for it at most once a second.
        """
        self._refresh()
        facts: dict[int, _Facts] = {}
        for pid in descendants(root, self._parents) if root in self._parents else ():
            found = self._facts(pid, root)
            if found is not None:
                facts[pid] = found
        parents = {pid: f.ppid for pid, f in facts.items()}
        cmdlines = {pid: f.cmdline for pid, f in facts.items()}
        counted = [pid for pid in measured_pids(root, parents, cmdlines, skip) if pid in facts]  # root may be gone
        uss: int | None = 0 if with_uss else None
        for pid in counted:
            if uss is not None:
                uss = _add_uss(uss, self._processes[pid])
        return TreeSample(t_seconds, sum(facts[pid].rss for pid in counted), uss,
                          sum(facts[pid].threads for pid in counted), len(counted), tuple(counted))

    def _refresh(self) -> None:
        if time.monotonic() - self._scanned_at >= RESCAN_EVERY_SECONDS:
            self._parents.clear()
            self._processes.clear()
            self._scanned_at = time.monotonic()
        alive = psutil.pids()
        for gone in self._parents.keys() - set(alive):
            del self._parents[gone]
            self._processes.pop(gone, None)
        for pid in alive:
            if pid not in self._parents:
                try:
                    process = psutil.Process(pid)
                    self._parents[pid] = process.ppid()
                    self._processes[pid] = process
                except _GONE:
                    continue

    def _facts(self, pid: int, root: int) -> _Facts | None:
        process = self._processes[pid]
        try:
            with process.oneshot():
                if process.status() == psutil.STATUS_ZOMBIE:  # exited, not yet reaped: no memory, no work
                    return None
                return _Facts(
                    ppid=process.ppid(),
                    cmdline=[] if pid == root else process.cmdline(),  # may change at exec: read every time
                    rss=process.memory_info().rss,
                    threads=process.num_threads(),
                )
        except _GONE:
            return None


def read_tree(root: int, *, skip: Collection[int] = (), with_uss: bool = False) -> TreeSample:
    """One reading of `root`'s tree with a fresh `TreeReader`."""
    return TreeReader().read(root, skip=skip, with_uss=with_uss)


def _add_uss(total: int, process: psutil.Process) -> int | None:
    try:
        return total + process.memory_full_info().uss
    except psutil.AccessDenied:
        return None  # a partial sum would look like a real figure
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return total  # it left between reads: it holds no memory now
    except AttributeError:  # no USS on this platform
        return None
