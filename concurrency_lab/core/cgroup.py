"""The CPU quota a Linux cgroup puts on this process (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), in CPUs."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path, PurePosixPath

#: Where cgroup v2 is mounted: alone, or beside v1 in hybrid mode.
V2_MOUNTS = ("/sys/fs/cgroup", "/sys/fs/cgroup/unified")
#: Where the v1 cpu controller is mounted, by distribution habit.
V1_CPU_MOUNTS = ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpuacct,cpu")


def parse_proc_cgroup(text: str) -> list[tuple[list[str], str]]:
    """``/proc/self/cgroup`` lines ``id:controllers:path`` as (controllers, path); v2 has no controllers."""
    entries = []
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) == 3:
            entries.append(([c for c in parts[1].split(",") if c], parts[2]))
    return entries


def parse_cpu_max(text: str) -> float | None:
    """v2 ``cpu.max`` (``"200000 100000"`` -> 2.0; ``"max 100000"`` -> None: no quota)."""
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = int(fields[1]) if len(fields) > 1 else 100_000  # the kernel's default period
    return int(fields[0]) / period if period > 0 else None


def parse_cfs(quota_text: str, period_text: str) -> float | None:
    """v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; a quota of -1 means none."""
    quota, period = int(quota_text.strip()), int(period_text.strip())
    return quota / period if quota > 0 and period > 0 else None


def ancestors(mount: str, path: str) -> list[Path]:
    """The cgroup's folder under `mount` and every parent folder up to the mount (limits nest)."""
    relative = PurePosixPath(path)
    chain = [relative, *relative.parents]
    return [Path(mount, *p.parts[1:]) if p.is_absolute() else Path(mount, p) for p in chain]


def tightest(quotas: list[float | None]) -> float | None:
    found = [q for q in quotas if q is not None]
    return min(found) if found else None


def cpu_quota(
    proc_cgroup: str = "/proc/self/cgroup",
    v2_mounts: tuple[str, ...] = V2_MOUNTS,
    v1_cpu_mounts: tuple[str, ...] = V1_CPU_MOUNTS,
) -> float | None:
    """The tightest CPU quota over this process's cgroup and its parents, in CPUs; None when none is set."""
    try:
        entries = parse_proc_cgroup(Path(proc_cgroup).read_text())
    except OSError:  # not Linux, or no /proc
        return None
    quotas: list[float | None] = []
    for controllers, path in entries:
        if not controllers:
            quotas += [_read(folder, parse_cpu_max, "cpu.max")
                       for mount in v2_mounts for folder in ancestors(mount, path)]
        elif "cpu" in controllers:
            quotas += [_read(folder, parse_cfs, "cpu.cfs_quota_us", "cpu.cfs_period_us")
                       for mount in v1_cpu_mounts for folder in ancestors(mount, path)]
    return tightest(quotas)


def _read(folder: Path, parse: Callable[..., float | None], *names: str) -> float | None:
    try:
        return parse(*((folder / name).read_text() for name in names))
    except (OSError, ValueError):  # not there (not mounted, or the path is outside our namespace)
        return None


def usable_from(affinity_cpus: int, quota: float | None) -> int:
    """Whole CPUs the process can keep busy: the fewer of affinity and quota, rounded down, at least 1."""
    limit = affinity_cpus if quota is None else min(affinity_cpus, quota)
    return max(1, math.floor(limit))
