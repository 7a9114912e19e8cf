"""How each figure was obtained: the notes both reports open with, and the runs they describe."""

from __future__ import annotations

import statistics

from ..numerics.formatting import code, format_percent
from ..numerics.stats import NOISY_CV, SIGNIFICANCE_LEVEL, smallest_p_value
from ..records.summary import Run, Summary
from .evidence import format_small_p, smallest_testable_rounds


def _span(values: set[int]) -> str:
    return "–" if not values else str(min(values)) if len(values) == 1 else f"{min(values)}–{max(values)}"


def rounds_of(summary: Summary, run: Run) -> str:
    return _span({r.rounds for r in summary.results_of(run) if r.rounds is not None})


def clusters_of(summary: Summary, run: Run) -> list[str]:
    """ "`dask`: an embedded cluster at tcp://127.0.0.1:40123, 2 workers, 2 threads", once per variant and
    cluster its rows recorded (the cold rows start one each round, gone before it could be read)."""
    seen: dict[tuple[str | None, tuple], None] = {}
    for r in summary.results_of(run):
        if r.cluster:
            seen[(r.variant, tuple(sorted(r.cluster.items())))] = None
    lines = []
    for variant, items in seen:
        info = dict(items)
        where = "an embedded cluster" if info.get("embedded") else "an existing cluster"
        counts = ", ".join(f"{info[k]} {k}" for k in ("workers", "threads") if info.get(k) is not None)
        lines.append(f"{code(variant or '?')}: {where} at {info.get('address') or 'an unknown address'}"
                     + (f", {counts}" if counts else ""))
    return lines


def warmup_rounds_of(summary: Summary, run: Run) -> str:
    recorded = {r.warmup_rounds for r in summary.results_of(run) if r.warmup_rounds is not None}
    return _span(recorded) if recorded else "not recorded"


def _baselines(summary: Summary) -> str:
    """The baseline variants' names, as these results recorded them."""
    return ", ".join(code(v) for v in dict.fromkeys(r.variant for r in summary.results if r.is_baseline)) or "none recorded"


def method_notes(summary: Summary) -> list[tuple[str, str]]:
    """(figure, how it was obtained), in the order the tables show them."""
    rounds = ", ".join(f"{rounds_of(summary, run)} on {run.label}" for run in summary.runs) or "–"
    warmups = ", ".join(f"{warmup_rounds_of(summary, run)} on {run.label}" for run in summary.runs) or "–"
    notes = [
        ("median", f"the median of the measured rounds of `benchmark.pedantic` (rounds: {rounds}), each benchmark "
                   f"after its unmeasured warm-up rounds (warm-up rounds: {warmups}). A warm row reuses a pool "
                   "started before timing; a cold row starts and stops the pool inside every round."),
        ("workers", "each row's worker count, as measured. Some rows use a count of their own on purpose: the "
                    "baseline always runs with 1 worker; cold-pool rows (start-up cost) and trap rows run at one "
                    "count per workload: the usable CPUs when that count is measured, else the smallest."),
        ("speedup", f"median of the baseline variant ({_baselines(summary)}) with 1 worker / median of the row, "
                    "within one run (one Python, one file), same workload and size; never across runs. "
                    "Efficiency = speedup / workers. "
                    "Trap rows (a deliberately bad setting, possibly on fewer items) get none: they are compared "
                    "per task (median / items)."),
    ]
    if any(r.ideal_s is not None for r in summary.results):
        notes.append(("of ideal", "the best time the waiting allows / the median. For `downloader` the ideal is "
                                  "ceil(items / workers) x the server's latency: every request waits, none works."))
    notes += [
        ("cores used", "CPU seconds / wall seconds of the measurement, where CPU = (CPU of this process, every "
                       "thread) + max(CPU the workers report for their chunks, CPU of worker processes reaped "
                       "during the measurement). A cold pool's workers are reaped inside the timing, so their "
                       "start-up CPU counts; `forkserver` workers are not our children, so their own reports are "
                       "used. The max, never the sum: both count the same work. Workers that are threads of this "
                       "process (threads; interpreters, a GIL each) are in its own CPU already: their reports are "
                       "not added."),
        ("per-core utilisation", "system-wide busy percent per CPU, sampled while the benchmark ran: other "
                                 "processes on the machine count too."),
        ("CV", f"standard deviation / mean of the rounds. At {format_percent(NOISY_CV)} or more (pyperf's "
               "threshold) the row is marked noisy and verdicts built on it say so."),
        ("significance", "Mann-Whitney U on the per-round times when the file has them (saved with "
                         f"`--benchmark-save-data` or `--benchmark-json`); p < {SIGNIFICANCE_LEVEL} counts as a "
                         f"difference. That needs at least {smallest_testable_rounds()} rounds a side"
                         + _untestable_runs(summary) + "."),
        ("serial fraction", "Karp-Flatt e = (1/S − 1/p) / (1 − 1/p), from the row with workers = usable CPUs; "
                            "not fitted beyond the usable CPUs, nor for work that waits rather than computes."),
        ("peak RSS", "the highest resident set size the benchmark recorded (`peak_rss_bytes`), in MiB, over this "
                     "process and its descendants. On a cluster the lab connected to (not one it started) the "
                     "workers are elsewhere: memory and per-core use are not measured there (shown as –), while "
                     "CPU is, as each worker reports its own for every chunk. Peak USS (memory no other process "
                     "shares), summed over the tree, compares one process holding its workers with a pool of "
                     "processes; a `fork` pool's USS leaves out the pages its workers still share with the caller "
                     "copy-on-write."),
    ]
    overheads = [r.monitor_overhead for r in summary.results if r.monitor_overhead is not None]
    if overheads:
        notes.append(("monitor overhead", "the sampler process's own CPU / (wall x usable CPUs), counted rather than "
                                          f"timed: at most {format_percent(max(overheads), 1)}, median "
                                          f"{format_percent(statistics.median(overheads), 1)} over these benchmarks."))
    return notes


def _untestable_runs(summary: Summary) -> str:
    """ ": with 3 rounds (CPython 3.11.7) the smallest possible p is 0.10, so ..." for runs too short to test."""
    short = []
    for run in summary.runs:
        counts = {r.rounds for r in summary.results_of(run) if r.rounds is not None and r.rounds >= 2}
        if counts and smallest_p_value(max(counts), max(counts)) >= SIGNIFICANCE_LEVEL:
            short.append(f"with {_span(counts)} rounds on {run.label} the smallest possible p is "
                         f"{format_small_p(smallest_p_value(max(counts), max(counts)))}")
    if not short:
        return ""
    return ": " + "; ".join(short) + ", so no comparison there can be significant: verdicts give the ratio and " \
           "whether every round of one was slower than every round of the other"
