"""One-line verdicts per workload: one small rule each, every figure taken from the model.

A rule sees one workload and size in one run (`GroupFacts`) and returns its verdicts, or none
when the rows it needs are absent. No outcome is assumed: "threads gain nothing" is written
only when the numbers say so, and a free-threaded run gets its own wording. The rules live by
theme: speed against `sequential`, threads, waiting-bound work, pools.
"""

from __future__ import annotations

from collections.abc import Callable

from ..records.summary import Summary
from .facts import GroupFacts, Verdict, group_facts
from .io_rules import client_cpu_limit, io_efficiency
from .memory_rules import tree_memory
from .pool_rules import chunksize_trap, executor_vs_pool, pool_start_cost, start_method_cost
from .speed_rules import cores_for_speedup, mismatched_outputs, missing_baseline, oversubscription, serial_fraction, winner
from .thread_rules import threads_and_the_gil

Rule = Callable[[GroupFacts], list[Verdict]]

RULES: tuple[Rule, ...] = (
    winner, mismatched_outputs, missing_baseline, threads_and_the_gil, io_efficiency, client_cpu_limit,
    cores_for_speedup, tree_memory, executor_vs_pool, chunksize_trap, pool_start_cost, start_method_cost,
    serial_fraction, oversubscription,
)


def verdicts(summary: Summary, rules: tuple[Rule, ...] = RULES) -> list[Verdict]:
    """Every rule over every (run, workload, size), in rule order within each group."""
    return [verdict for facts in group_facts(summary) for rule in rules for verdict in rule(facts)]
