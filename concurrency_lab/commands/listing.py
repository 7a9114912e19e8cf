"""`concurrency-lab list`: the variants and workloads, and whether each can run here."""

from __future__ import annotations

import argparse

from ..core.options import Commands
from ..variants import VARIANT_NAMES, variant_class
from ..workloads import SIZE_LABELS, WORKLOAD_NAMES, get_workload


def add_command(commands: Commands) -> None:
    commands.add_parser("list", help="the variants and workloads, and whether each can run here",
                        description="List variants and workloads.").set_defaults(handler=list_command)


def list_command(args: argparse.Namespace) -> int:
    width = max(map(len, [*VARIANT_NAMES, *WORKLOAD_NAMES]))  # one column, however long a registered name
    print("variants:")
    for name in VARIANT_NAMES:
        cls = variant_class(name)
        reason = cls.unavailable_reason()
        print(f"  {name:<{width}} {cls.summary}" + (f"  [unavailable: {reason}]" if reason else ""))
    print("workloads:")
    for name in WORKLOAD_NAMES:
        workload = get_workload(name)
        sizes = ", ".join(f"{label} {workload.sizes[label]}" for label in SIZE_LABELS)
        print(f"  {name:<{width}} [{workload.bound.label}] {workload.summary} (sizes: {sizes})")
    return 0
