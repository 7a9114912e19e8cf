"""The benchmark session's options: declared once here, added by `concurrency-lab run` (``--profile``) and
by the pytest plugin (``--lab-profile``), and handed to the session as one `RunOptions` value.

Adding an option to `run`: an `Option` in `RUN_OPTIONS`, its field in `RunOptions`, and the code in the
session that reads it. The command adds every option of `RUN_OPTIONS` and builds `RunOptions` by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..core.cpus import MAX_WORKERS, usable_cpus
from ..core.options import Option, parse_name, parse_names, parse_worker_counts
from ..variants.options import DASK_ADDRESS, TIMEOUT, VARIANTS
from ..workloads import WORKLOAD_NAMES
from .cases import PROFILES, Profile


def _profile_worker_counts() -> str:
    def counts(profile: Profile) -> str:
        cpu = ", ".join(map(str, profile.cpu_worker_counts))
        return f"{cpu + ' and ' if cpu else ''}the usable CPUs, I/O {', '.join(map(str, profile.io_worker_counts))}"
    return "; ".join(f"{name}: {counts(profile)}" for name, profile in PROFILES.items())


PROFILE = Option("--profile", lambda text: parse_name(text, tuple(PROFILES), "profile"), "NAME",
                 f"sizes, rounds and worker counts: {', '.join(PROFILES)} (default: {{default}})", "standard")
WORKLOADS = Option("--workloads", lambda text: parse_names(text, WORKLOAD_NAMES, "workload"), "A,B",
                   f"comma-separated, of {', '.join(WORKLOAD_NAMES)} (default: all)", list(WORKLOAD_NAMES))
#: ``--workers`` of the benchmark matrix: a comma list (a single run's ``--workers`` is `core.options.WORKERS`).
WORKER_COUNTS = Option(
    "--workers", parse_worker_counts, "N,M",
    f"comma-separated worker counts, each 1 to {MAX_WORKERS} (default: the profile's, with {usable_cpus()} usable "
    f"CPUs here: {_profile_worker_counts()}). "
    "Some rows keep a count of their own: the sequential baseline always runs with 1 worker, and the "
    "cold-pool rows and the chunksize trap row run at one count per workload: the usable CPUs when "
    "that count is among those given, else the smallest given.")

#: In the order the command's --help and the plugin list them; each one's dest names a `RunOptions` field.
RUN_OPTIONS = (PROFILE, VARIANTS, WORKLOADS, WORKER_COUNTS, TIMEOUT, DASK_ADDRESS)


@dataclass(frozen=True)
class RunOptions:
    """What a benchmark session runs and how: the values `RUN_OPTIONS` parsed, and the session's switches."""

    profile: str
    variants: Sequence[str]
    workloads: Sequence[str]
    workers: Sequence[int] | None = None  # None: the profile's counts
    timeout: float | None = None  # of each map call
    dask_address: str | None = None
    failures: bool = True  # measure the failure table after the benchmarks
    failures_documented: bool = False  # fail the session when the table breaks docs/failures.md
    progress: bool = False  # a line per finished benchmark, with the time left
    eta_from: Path | None = None  # an earlier run's JSON, to weigh the time left by

    @classmethod
    def from_values(cls, values: Mapping[str, Any], prefix: str = "") -> RunOptions:
        """From parsed options by name: argparse's ``vars(args)``, or pytest's with ``prefix="lab_"``; a field
        absent from `values` keeps its default."""
        return cls(**{field.name: values[prefix + field.name] for field in fields(cls) if prefix + field.name in values})
