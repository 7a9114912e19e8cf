"""One-line verdicts per workload: one small rule each, every figure taken from the model.

A rule sees one workload and size in one run (`GroupFacts`) and returns its verdicts, or none
when the rows it needs are absent. No outcome is assumed: "threads gain nothing" is written
only when the numbers say so, and a free-threaded run gets its own wording.
"""

from __future__ import annotations

from collections.abc import Callable

from .facts import (
    MEANINGFUL_SPEEDUP, PARALLEL_CORES, GroupFacts, Verdict, group_facts, indistinguishable, p_value,
    relative_difference,
)
from .formatting import code, format_cores, format_p_value, format_percent, format_seconds, format_times, plural
from .model import BASELINE_VARIANT, Summary
from .stats import SIGNIFICANCE_LEVEL, format_ratio

THREAD_VARIANTS = ("threading", "thread_pool")
# Variants compared head to head: the executor API against the older pool it wraps the same way.
HEAD_TO_HEAD = (("process_pool", "mp_pool"), ("thread_pool", "threading"))
WITHIN = 0.05  # "within X%" below this difference; beyond it the ratio is stated
LIBRARY_CALLS = {
    "process_pool": "ProcessPoolExecutor.map",
    "mp_pool": "multiprocessing.Pool.map",
    "thread_pool": "ThreadPoolExecutor.map",
}

Rule = Callable[[GroupFacts], list[Verdict]]


def winner(facts: GroupFacts) -> list[Verdict]:
    """The fastest median among results that matched the reference; ties named."""
    best = facts.fastest()
    if best is None:
        return []
    ranked = sorted(facts.trusted, key=lambda r: r.median_s)
    text = f"{facts.describe(best)} is the fastest on {code(facts.workload)}: {format_seconds(best.median_s)}"
    if best.speedup is not None and best.variant != BASELINE_VARIANT:
        text += f" ({format_times(best.speedup)} sequential)"
    ties = [r for r in ranked if r is not best and indistinguishable(best, r)]
    if ties:
        named = [f"{facts.describe(r)} at {format_seconds(r.median_s)} ({_difference(best, r)})" for r in ties[:3]]
        more = f" and {len(ties) - 3} more" if len(ties) > 3 else ""
        text += "; not distinguishable from " + ", ".join(named) + more
    return [facts.verdict("winner", text, best, *ties)]


def _difference(fast, slow) -> str:
    p = p_value(fast, slow)
    return f"+{format_percent(relative_difference(fast, slow), 1)}" + (f", {format_p_value(p)}" if p is not None else "")


def mismatched_outputs(facts: GroupFacts) -> list[Verdict]:
    return [
        facts.verdict(
            "mismatched_outputs",
            f"{facts.describe(r)} did NOT reproduce the reference output of {code(facts.workload)}: "
            "its figures are left out of the winner and every comparison",
        )
        for r in facts.results if r.identical is False
    ]


def missing_baseline(facts: GroupFacts) -> list[Verdict]:
    if any(r.speedup is not None for r in facts.results):
        return []
    return [facts.verdict(
        "missing_baseline",
        f"no {code(BASELINE_VARIANT)} run with 1 worker for {code(facts.workload)} in this run: "
        "speedup, efficiency and serial fraction are not computed",
    )]


def threads_and_the_gil(facts: GroupFacts) -> list[Verdict]:
    """What threads bought, read from speedup and cores used; worded for the run's GIL."""
    threads = [r for v in THREAD_VARIANTS for r in facts.rows(v) if r.workers > 1 and r.speedup is not None]
    if not threads:
        return []
    best = max(threads, key=lambda r: r.speedup)
    figures = f"{facts.describe(best)} {format_times(best.speedup)}, {format_cores(best.cores_used)} cores"
    workload, gil = code(facts.workload), facts.run.gil_enabled
    if best.speedup < MEANINGFUL_SPEEDUP:
        context = {True: " with the GIL", False: " even without the GIL (free-threaded build)"}.get(gil, "")
        text = f"threads gain nothing on {workload}{context}: best is {figures}"
    elif best.cores_used is not None and best.cores_used >= PARALLEL_CORES:
        reason = "no GIL on this free-threaded build" if gil is False else f"{_work_of(best)} releases the GIL"
        text = f"{workload}: {facts.describe(best)} is {format_times(best.speedup)} faster on " \
               f"{format_cores(best.cores_used)} cores: {reason}"
    else:
        text = f"threads overlap the waiting on {workload}: {figures}"
    return [facts.verdict("threads_and_the_gil", text, best)]


def _work_of(result) -> str:
    algorithm = result.params.get("algorithm")
    return code(algorithm) if isinstance(algorithm, str) else "the work"


def cores_for_speedup(facts: GroupFacts) -> list[Verdict]:
    """Cores bought against speed gained, for every variant other than threads and the baseline."""
    verdicts = []
    for variant in facts.variants():
        if variant in THREAD_VARIANTS or variant == BASELINE_VARIANT:
            continue
        r = facts.representative(variant)
        if r is None or r.workers < 2 or r.speedup is None or r.cores_used is None:
            continue
        verdicts.append(facts.verdict(
            "cores_for_speedup",
            f"{code(variant)} uses {format_cores(r.cores_used)} cores for a {format_times(r.speedup)} speedup "
            f"on {code(facts.workload)} ({plural(r.workers, 'worker')}, efficiency {format_percent(r.efficiency)})",
            r,
        ))
    return verdicts


def executor_vs_pool(facts: GroupFacts) -> list[Verdict]:
    verdicts = []
    for newer, older in HEAD_TO_HEAD:
        a = facts.representative(newer)
        if a is None:
            continue
        b = next((r for r in facts.rows(older, a.workers) if (r.mode, r.start_method) == (a.mode, a.start_method)), None)
        if b is None:
            continue
        p = p_value(a, b)
        figures = f"{format_seconds(a.median_s)} vs {format_seconds(b.median_s)}, {plural(a.workers, 'worker')}"
        figures += f", {format_p_value(p)}" if p is not None else ""
        difference = relative_difference(a, b)
        if difference < WITHIN:
            within = format_percent(difference, 0 if difference >= 0.01 else 1)
            text = f"{code(newer)} is within {within} of {code(older)} on {code(facts.workload)} ({figures})"
        elif p is not None and p >= SIGNIFICANCE_LEVEL:
            text = f"no significant difference between {code(newer)} and {code(older)} on {code(facts.workload)} " \
                   f"({figures}, {format_percent(difference)} apart)"
        else:
            text = f"{code(newer)} is {format_ratio(b.median_s, a.median_s, p)} than {code(older)} on {code(facts.workload)} ({figures})"
        verdicts.append(facts.verdict("executor_vs_pool", text, a, b))
    return verdicts


def chunksize_trap(facts: GroupFacts) -> list[Verdict]:
    """The deliberate per-item dispatch row against the chunked row of the same variant, per task."""
    verdicts = []
    for trap in (r for r in facts.trusted if r.trap is not None):
        chunked = facts.representative(trap.variant, trap.workers) or facts.representative(trap.variant)
        if chunked is None or not trap.items_or_size or not chunked.items_or_size:
            continue
        per_task_trap, per_task_chunked = trap.median_s / trap.items_or_size, chunked.median_s / chunked.items_or_size
        call = LIBRARY_CALLS.get(trap.variant, trap.variant)
        verdicts.append(facts.verdict(
            "chunksize_trap",
            f"{code(f'{call}({trap.trap})')} is {format_times(per_task_trap / per_task_chunked)} slower per task than "
            f"chunked {code(trap.variant)} on {code(facts.workload)} ({format_seconds(per_task_trap)} vs "
            f"{format_seconds(per_task_chunked)} per task, chunksize {trap.chunksize} vs {chunked.chunksize})",
            trap, chunked,
        ))
    return verdicts


def pool_start_cost(facts: GroupFacts) -> list[Verdict]:
    """Cold minus warm median: what creating the pool (and its workers) adds to one call."""
    verdicts = []
    for variant in facts.variants():
        colds = [r for r in facts.rows(variant) if r.mode == "cold"]
        for workers in sorted({r.workers for r in colds}):
            costs, compared = [], []
            for cold in sorted((r for r in colds if r.workers == workers), key=lambda r: r.median_s):
                warm = next((r for r in facts.rows(variant, workers) if r.mode == "warm" and r.start_method == cold.start_method), None)
                if warm is not None:
                    method = f" with {code(cold.start_method)}" if cold.start_method else ""
                    costs.append(f"{format_seconds(max(cold.median_s - warm.median_s, 0.0))}{method}")
                    compared += [cold, warm]
            if costs:
                verdicts.append(facts.verdict(
                    "pool_start_cost",
                    f"starting {code(variant)} with {plural(workers, 'worker')} costs {', '.join(costs)} "
                    f"on {code(facts.workload)} (cold minus warm median)",
                    *compared,
                ))
    return verdicts


def start_method_cost(facts: GroupFacts) -> list[Verdict]:
    """Between start methods, cold medians: the same work, only the way workers start differs."""
    verdicts = []
    for variant in facts.variants():
        colds = [r for r in facts.rows(variant) if r.mode == "cold" and r.start_method]
        reference = next((r for r in colds if r.start_method == "fork"), None) or min(colds, key=lambda r: r.median_s, default=None)
        for other in colds:
            if reference is None or other is reference or other.workers != reference.workers:
                continue
            extra = other.median_s - reference.median_s
            direction = "more" if extra >= 0 else "less"
            verdicts.append(facts.verdict(
                "start_method_cost",
                f"starting a {code(other.start_method)} pool costs {format_seconds(abs(extra))} {direction} than "
                f"{code(reference.start_method)} ({code(variant)}, {plural(other.workers, 'worker')}, cold "
                f"{format_seconds(other.median_s)} vs {format_seconds(reference.median_s)})",
                other, reference,
            ))
    return verdicts


def serial_fraction(facts: GroupFacts) -> list[Verdict]:
    """Karp-Flatt from the one point where workers == usable CPUs, one figure per variant."""
    usable = facts.run.usable_cpus
    if usable is None or usable < 2:
        return []
    rows = [r for v in facts.variants() if (r := facts.representative(v, usable)) and r.serial_fraction is not None]
    if not rows:
        return []
    fitted = [f"{code(r.variant)} {r.serial_fraction:.2f}" for r in rows if 0 <= r.serial_fraction < 1]
    none = [f"{code(r.variant)} {format_times(r.speedup)}" for r in rows if r.serial_fraction >= 1]
    superlinear = [f"{code(r.variant)} {format_times(r.speedup)}" for r in rows if r.serial_fraction < 0]
    parts = [", ".join(fitted)] if fitted else []
    if none:
        parts.append(f"no parallel gain at all (e ≥ 1): {', '.join(none)}")
    if superlinear:
        parts.append(f"superlinear, the work waits rather than computes (e < 0): {', '.join(superlinear)}")
    return [facts.verdict(
        "serial_fraction",
        f"Karp-Flatt serial fraction at {plural(usable, 'worker')} on {usable} usable CPUs: " + "; ".join(parts),
        *rows,
    )]


def oversubscription(facts: GroupFacts) -> list[Verdict]:
    usable = facts.run.usable_cpus
    beyond = [r for r in facts.trusted if r.oversubscribed]
    if usable is None or not beyond:
        return []
    workers_by_variant: dict[str, set[int]] = {}
    for r in beyond:
        workers_by_variant.setdefault(r.variant, set()).add(r.workers)
    rows = ", ".join(f"{code(v)} ×{', ×'.join(map(str, sorted(w)))}" for v, w in workers_by_variant.items())
    text = f"beyond {usable} workers on {usable} usable CPUs is oversubscription ({rows}); no serial-fraction curve is fitted"
    busiest = max((r.cores_used for r in beyond if r.cores_used is not None), default=None)
    if busiest is not None and busiest < usable / 2:
        text += f"; these workers mostly wait (at most {format_cores(busiest)} cores used), so extra workers can still pay off"
    return [facts.verdict("oversubscription", text)]


RULES: tuple[Rule, ...] = (
    winner, mismatched_outputs, missing_baseline, threads_and_the_gil, cores_for_speedup, executor_vs_pool,
    chunksize_trap, pool_start_cost, start_method_cost, serial_fraction, oversubscription,
)


def verdicts(summary: Summary, rules: tuple[Rule, ...] = RULES) -> list[Verdict]:
    """Every rule over every (run, workload, size), in rule order within each group."""
    return [verdict for facts in group_facts(summary) for rule in rules for verdict in rule(facts)]
