"""What threads bought on a workload: the workload's recorded `bound` gives the reason, the numbers the claim.

"Threads gain nothing" is written only when the speedup says so, whatever the bound; a
free-threaded run gets its own wording; files without `bound` get the number-driven wording.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.traits import Bound, Kind
from ..numerics.formatting import code, format_cores, format_seconds, format_times
from ..records.summary import Result
from .facts import MEANINGFUL_SPEEDUP, PARALLEL_CORES, GroupFacts, Verdict, serial_gain

# Below this many cores, threads that gained were mostly waiting: a CPU-bound thread keeps one busy.
WAITING_CORES = 0.5


def threads_and_the_gil(facts: GroupFacts) -> list[Verdict]:
    """The best warm row of a thread variant against the baseline, worded for the workload's bound and the run's GIL."""
    threads = [(r, speedup) for r in facts.of_kind(*Kind.about("threads"))
               if r.workers > 1 and (speedup := r.speedup) is not None]
    if not threads:
        return []
    warm = [(r, s) for r, s in threads if r.mode in ("warm", None)] or threads  # a cold row adds thread start-up
    best, speedup = max(warm, key=lambda pair: pair[1])
    wording = BY_BOUND.get(facts.bound) or (io_wording if facts.io_bound else by_numbers)  # io_bound: ideal_s recorded
    return [facts.verdict("threads_and_the_gil", wording(facts, best, speedup), best)]


def _figures(facts: GroupFacts, r: Result) -> str:
    return f"{facts.describe(r)} {format_times(r.speedup)}, {format_cores(r.cores_used)} cores"


def _no_gain(speedup: float) -> str:
    """ "gain nothing" near 1.0x; "lose" when clearly slower than sequential."""
    return "lose" if speedup < 1 / MEANINGFUL_SPEEDUP else "gain nothing"


def io_wording(facts: GroupFacts, best: Result, speedup: float) -> str:
    workload = code(facts.workload)
    if speedup >= MEANINGFUL_SPEEDUP:
        return f"threads overlap the waiting on {workload}: {_figures(facts, best)}"
    return f"threads {_no_gain(speedup)} on {workload} although it waits on I/O: best is {_figures(facts, best)}"


def releases_gil_wording(facts: GroupFacts, best: Result, speedup: float) -> str:
    workload = code(facts.workload)
    if speedup >= MEANINGFUL_SPEEDUP:
        return f"threads scale on {workload}: its work releases the GIL: {_figures(facts, best)}"
    return f"threads {_no_gain(speedup)} on {workload} although its work releases the GIL: best is {_figures(facts, best)}"


def holds_gil_wording(facts: GroupFacts, best: Result, speedup: float) -> str:
    workload, gil = code(facts.workload), facts.run.gil_enabled
    if speedup < MEANINGFUL_SPEEDUP:
        if facts.run.gil_reenabled:
            return (f"threads {_no_gain(speedup)} on {workload}: an import re-enabled the GIL on this "
                    f"free-threaded build: best is {_figures(facts, best)}")
        if gil is False:
            return (f"UNEXPECTED: threads {_no_gain(speedup)} on {workload} although this free-threaded build "
                    f"runs without the GIL, where they should scale: best is {_figures(facts, best)}")
        context = " with the GIL" if gil else ""
        return f"threads {_no_gain(speedup)} on {workload}{context}: best is {_figures(facts, best)}"
    if gil is False:
        return f"threads scale on {workload}: no GIL on this free-threaded build: {_figures(facts, best)}"
    if gil and (why := serial_gain(best)):
        return f"not judged: threads on {workload} with the GIL, {facts.describe(best)}: {why}"
    return f"threads scale on {workload} although its work holds the GIL: {_figures(facts, best)}"


def dispatch_wording(facts: GroupFacts, best: Result, speedup: float) -> str:
    workload = code(facts.workload)
    baseline = facts.baseline()
    per_task = ""
    if best.per_task_s is not None and baseline is not None and baseline.per_task_s is not None:
        per_task = f" ({format_seconds(best.per_task_s)} per task vs {format_seconds(baseline.per_task_s)} {baseline.variant})"
    if speedup >= MEANINGFUL_SPEEDUP:
        return f"threads gain on {workload} despite the hand-off cost: {_figures(facts, best)}{per_task}"
    if speedup < 1 / MEANINGFUL_SPEEDUP:
        return f"threads lose to the hand-off cost on {workload}: best is {_figures(facts, best)}{per_task}"
    return (f"threads gain nothing on {workload}: the hand-off cost eats the parallel work: "
            f"best is {_figures(facts, best)}{per_task}")


def by_numbers(facts: GroupFacts, best: Result, speedup: float) -> str:
    """Without a recorded bound (older files): the reason is read from speedup and cores used."""
    workload, gil = code(facts.workload), facts.run.gil_enabled
    if speedup < 1 / MEANINGFUL_SPEEDUP:
        return f"threads are slower than sequential on {workload}: best is {_figures(facts, best)}"
    if speedup < MEANINGFUL_SPEEDUP:
        context = "" if gil is None else " with the GIL" if gil else " even without the GIL (free-threaded build)"
        return f"threads gain nothing on {workload}{context}: best is {_figures(facts, best)}"
    if best.cores_used is not None and best.cores_used >= PARALLEL_CORES:
        reason = "no GIL on this free-threaded build" if gil is False else "its work releases the GIL"
        return f"threads scale on {workload}: {reason}: {_figures(facts, best)}"
    if best.cores_used is not None and best.cores_used < WAITING_CORES:
        return f"threads overlap the waiting on {workload}: {_figures(facts, best)}"
    return f"threads gain on {workload} without a second core busy: {_figures(facts, best)}"


#: The wording for a bound: given the group, its best thread row and that row's speedup.
BY_BOUND: dict[Bound | None, Callable[[GroupFacts, Result, float], str]] = {
    Bound.IO_WAIT: io_wording,
    Bound.CPU_RELEASES_GIL: releases_gil_wording,
    Bound.CPU_HOLDS_GIL: holds_gil_wording,
    Bound.DISPATCH: dispatch_wording,
}
