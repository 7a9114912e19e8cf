"""Verdicts on waiting-bound work: how close each variant came to the ideal wait, and where the client's CPU limits.

`ideal_s` is recorded by the benchmark (for `downloader`: ceil(items / workers) x server latency);
efficiency_vs_ideal = ideal_s / median_s.
"""

from __future__ import annotations

import math

from ..numerics.formatting import code, format_cores, format_seconds, plural
from ..records.summary import Result
from .facts import GroupFacts, Verdict

# At this share of the CPU a variant's client side can use (one core for threads under the GIL
# or an event loop), that side is busy most of the time: more workers stop helping on this machine.
CLIENT_BUSY = 0.8


def _ideal_rows(facts: GroupFacts, variant: str) -> list[Result]:
    """One row per worker count (warm, default start method), those with an ideal time."""
    rows = [facts.representative(variant, workers) for workers in sorted({r.workers for r in facts.rows(variant)})]
    return [r for r in rows if r is not None and r.efficiency_vs_ideal is not None]


def _efficiency_vs_ideal(r: Result) -> float:
    """The row's efficiency against the ideal, which every row `_ideal_rows` keeps has."""
    if r.efficiency_vs_ideal is None:
        raise ValueError(f"{r.name} has no ideal time")
    return r.efficiency_vs_ideal


def _ideal_formula(r: Result) -> str:
    """ "ceil(40/8) x 50 ms" when the recorded latency reproduces the recorded ideal; else nothing."""
    latency, items = r.params.get("latency_s"), r.items_or_size
    if not isinstance(latency, (int, float)) or isinstance(latency, bool) or not items or r.ideal_s is None:
        return ""
    waits = math.ceil(items / r.workers)
    if not math.isclose(waits * latency, r.ideal_s, rel_tol=1e-6):
        return ""
    waits_text = f"{items}" if r.workers == 1 else f"ceil({items}/{r.workers})"
    return f" = {waits_text} x {_compact(format_seconds(latency))}"


def _compact(seconds_text: str) -> str:
    """ "50 ms" rather than "50.0 ms": a setting, not a measurement."""
    number, unit = seconds_text.split(" ")
    return f"{number.rstrip('0').rstrip('.') if '.' in number else number} {unit}"


def io_efficiency(facts: GroupFacts) -> list[Verdict]:
    """Per variant, best first: its efficiency at the most workers every variant ran with, then at its other counts.

    At few workers every variant is close to the ideal; as the ideal shrinks with more workers,
    each variant's per-request overhead shows. Comparing at a shared worker count keeps a variant
    measured up to 32 workers from ranking below one measured only up to 8. The baseline comes
    last, as the reference.
    """
    by_variant = {v: rows for v in facts.variants() if (rows := _ideal_rows(facts, v))}
    concurrent = [{r.workers for r in rows} for rows in by_variant.values() if not rows[0].is_baseline]
    shared = set.intersection(*concurrent) if concurrent else set()
    leads = {v: next((r for r in rows if r.workers == max(shared, default=None)), rows[-1]) for v, rows in by_variant.items()}
    ranked = sorted(by_variant, key=lambda v: (leads[v].is_baseline, -_efficiency_vs_ideal(leads[v])))
    verdicts = []
    for variant in ranked:
        lead = leads[variant]
        text = (f"{facts.describe(lead)} reaches {lead.efficiency_vs_ideal:.2f} of the ideal on {code(facts.workload)} "
                f"(ideal {format_seconds(lead.ideal_s)}{_ideal_formula(lead)}, measured {format_seconds(lead.median_s)}, "
                f"{format_cores(lead.cores_used)} cores)")
        others = [f"{plural(r.workers, 'worker')} {r.efficiency_vs_ideal:.2f}" for r in by_variant[variant] if r is not lead]
        if others:
            text += "; with " + ", ".join(others)
        verdicts.append(facts.verdict("io_efficiency", text, lead))
    return verdicts


def _client_capacity(facts: GroupFacts, r: Result) -> tuple[float, str] | None:
    """How many cores the variant's client side can use at most, and why."""
    if r.traits is None or r.kind is None:  # the kind comes with the traits
        return None
    if r.kind.one_thread:
        return 1.0, "1 core (one event loop)" if r.traits.runs_coroutines else "1 core (one thread)"
    shares_gil = r.traits.subject_to_gil
    if shares_gil is None:  # the build's GIL state was not recorded: assume a GIL, as most builds have
        shares_gil = r.kind.shares_gil and facts.run.gil_enabled is not False
    if shares_gil:
        return 1.0, "1 core (one GIL)"
    usable = facts.run.usable_cpus
    return (float(usable), f"{usable} usable CPUs") if usable else None


def client_cpu_limit(facts: GroupFacts) -> list[Verdict]:
    """Per concurrent variant, the fewest workers at which its client side is busy CLIENT_BUSY of its capacity."""
    if not facts.io_bound:
        return []
    limited, busiest = [], None  # busiest: (share of capacity, row, capacity text)
    for variant in facts.variants():
        if (traits := facts.traits_of(variant)) is not None and traits.is_baseline:
            continue
        rows = [r for r in (facts.representative(variant, w) for w in sorted({r.workers for r in facts.rows(variant)}))
                if r is not None]
        for r in rows:
            capacity = _client_capacity(facts, r)
            if capacity is None or r.cores_used is None:
                continue
            share = r.cores_used / capacity[0]
            if busiest is None or share > busiest[0]:
                busiest = (share, r, capacity[1])
            if share >= CLIENT_BUSY:
                limited.append(f"{code(variant)} at {plural(r.workers, 'worker')} uses {format_cores(r.cores_used)} "
                               f"of its {capacity[1]}")
                break
    workload = code(facts.workload)
    if limited:
        return [facts.verdict(
            "client_cpu_limit",
            f"the client's own CPU becomes the limit on {workload}: {', '.join(limited)}; busy most of the time, "
            "so more workers stop helping on this machine",
        )]
    if busiest is None:
        return []
    share, r, capacity_text = busiest
    return [facts.verdict(
        "client_cpu_limit",
        f"the client's own CPU is not the limit on {workload} at these worker counts: the busiest, {facts.describe(r)}, "
        f"uses {format_cores(r.cores_used)} of its {capacity_text}, so more workers can still overlap more waiting",
    )]
