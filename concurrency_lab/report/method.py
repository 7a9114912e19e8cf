"""How each figure was obtained: the notes both reports open with, and the runs they describe."""

from __future__ import annotations

from .formatting import code, format_percent
from .model import BASELINE_VARIANT, Run, Summary
from .stats import NOISY_CV, SIGNIFICANCE_LEVEL


def _span(values: set[int]) -> str:
    return "–" if not values else str(min(values)) if len(values) == 1 else f"{min(values)}–{max(values)}"


def rounds_of(summary: Summary, run: Run) -> str:
    return _span({r.rounds for r in summary.results_of(run) if r.rounds is not None})


def warmup_rounds_of(summary: Summary, run: Run) -> str:
    recorded = {r.warmup_rounds for r in summary.results_of(run) if r.warmup_rounds is not None}
    return _span(recorded) if recorded else "not recorded"


def gil_of(run: Run) -> str:
    return {True: "enabled", False: "disabled"}.get(run.gil_enabled, "unknown")


def method_notes(summary: Summary) -> list[tuple[str, str]]:
    """(figure, how it was obtained), in the order the tables show them."""
    rounds = ", ".join(f"{rounds_of(summary, run)} on {run.label}" for run in summary.runs) or "–"
    warmups = ", ".join(f"{warmup_rounds_of(summary, run)} on {run.label}" for run in summary.runs) or "–"
    return [
        ("median", f"the median of the measured rounds of `benchmark.pedantic` (rounds: {rounds}), each benchmark "
                   f"after its unmeasured warm-up rounds (warm-up rounds: {warmups}). A warm row reuses a pool "
                   "started before timing; a cold row starts and stops the pool inside every round."),
        ("speedup", f"median of {code(BASELINE_VARIANT)} with 1 worker / median of the row, within one run (one "
                    "Python, one file), same workload and size; never across runs. Efficiency = speedup / workers."),
        ("cores used", "exact CPU seconds of the work / its wall seconds. Every worker, thread or process, reports "
                       "its own CPU time, so nothing is lost to sampling or to workers that exit early."),
        ("per-core utilisation", "system-wide busy percent per CPU, sampled while the benchmark ran: other "
                                 "processes on the machine count too."),
        ("CV", f"standard deviation / mean of the rounds. At {format_percent(NOISY_CV)} or more (pyperf's "
               "threshold) the row is marked noisy and verdicts built on it say so."),
        ("significance", "Mann-Whitney U on the per-round times when the file has them (saved with "
                         f"`--benchmark-save-data` or `--benchmark-json`); p < {SIGNIFICANCE_LEVEL} counts as a "
                         "difference."),
        ("serial fraction", "Karp-Flatt e = (1/S − 1/p) / (1 − 1/p), from the row with workers = usable CPUs; "
                            "not fitted beyond the usable CPUs."),
        ("peak RSS", "the highest resident set size the benchmark recorded (`peak_rss_bytes`), in MiB."),
    ]
