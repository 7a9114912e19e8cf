"""Several Pythons side by side: the best variant per Python, the same rows across Pythons, and what a
free-threaded build costs one thread against a GIL build of the same release.

Every figure is still from one run; across runs only ratios of medians are shown, labelled as taken
in separate runs, and a pair of builds made differently (another release, other configure flags) is
named as such: it compares the builds as much as the GIL.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..core.traits import Bound, Kind, VariantTraits
from ..numerics.formatting import code, format_cores, format_seconds, format_times
from ..records.summary import Run, Summary, gil_of
from .facts import GroupFacts, best_warm, gil_each_in_process, group_facts
from .tables import variant_rank

#: configure arguments that only say where a build lives, or that it is the free-threaded one.
_PLACE_FLAGS = ("--prefix=", "--libdir=", "--exec-prefix=")


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


def _by_workload(summary: Summary) -> dict[tuple[str, str | None], dict[int, GroupFacts]]:
    found: dict[tuple[str, str | None], dict[int, GroupFacts]] = {}
    for facts in group_facts(summary):
        found.setdefault((facts.workload, facts.size_label), {})[facts.run.index] = facts
    return found


def best_per_python(summary: Summary) -> Table:
    """Per workload (rows), per Python (columns): the fastest variant, its median and speedup."""
    rows = []
    for (workload, size), per_run in _by_workload(summary).items():
        cells = []
        for run in summary.runs:
            facts = per_run.get(run.index)
            best = facts.fastest() if facts else None
            cells.append("–" if facts is None or best is None else f"{facts.describe(best)} {format_seconds(best.median_s)}"
                         + (f" ({format_times(best.speedup)})" if best.speedup is not None else ""))
        rows.append((f"{code(workload)} {size or ''}".strip(), *cells))
    return Table("The fastest variant on each Python", ("workload", *(r.label for r in summary.runs)), tuple(rows))


def same_rows(summary: Summary) -> list[Table]:
    """Per workload, each variant's representative row (workers = usable CPUs, warm) on every Python:
    its speedup over that Python's own baseline, and the cores it used."""
    tables = []
    for (workload, size), per_run in _by_workload(summary).items():
        variants: dict[str, VariantTraits | None] = {}
        for group in per_run.values():
            for variant in group.variants():
                variants.setdefault(variant, group.traits_of(variant))
        rows = []
        for variant in sorted(variants, key=lambda v: variant_rank(variants[v], v)):
            cells = []
            for run in summary.runs:
                facts = per_run.get(run.index)
                row = facts.representative(variant) if facts else None
                if row is None or row.is_baseline:
                    cells.append("–" if row is None else format_seconds(row.median_s))
                    continue
                cells.append(f"{format_times(row.speedup)} on {row.cores_used:.2f} cores, {row.workers}w"
                             if row.speedup is not None and row.cores_used is not None else format_seconds(row.median_s))
            if sum(c != "–" for c in cells) >= 2:
                rows.append((code(variant), *cells))
        if rows:
            tables.append(Table(f"{code(workload)} {size or ''}: the same rows on each Python".strip(),
                                ("variant", *(r.label for r in summary.runs)), tuple(rows),
                                ("speedup over each Python's own baseline in its own run; the baseline row shows its median",)))
    return tables


def every_core(summary: Summary) -> list[Table]:
    """Per workload whose Python holds the GIL, on each Python (rows): the best warm row of each kind that can have
    several workers (columns: threads, interpreters with a GIL each, processes, ...), beside the build's GIL state:
    the ways to run Python on every core side by side. Only where a kind with a GIL per worker in this process ran:
    elsewhere `same_rows` says it all."""
    tables = []
    for (workload, size), per_run in _by_workload(summary).items():
        groups = list(per_run.values())
        if not any(g.bound is Bound.CPU_HOLDS_GIL for g in groups):
            continue
        kinds = [kind for kind in Kind if not kind.one_thread and any(g.of_kind(kind) for g in groups)]
        if not set(kinds) & set(gil_each_in_process()):
            continue
        rows = []
        for run in summary.runs:
            facts = per_run.get(run.index)
            if facts is not None:
                rows.append((run.label, gil_of(run), *(_reached(facts, kind) for kind in kinds)))
        tables.append(Table(f"Python on every core: {code(workload)} {size or ''}".strip() + ", each way on each Python",
                            ("Python", "GIL", *(kind.label for kind in kinds)), tuple(rows), _EVERY_CORE_NOTES))
    return tables


_EVERY_CORE_NOTES = (
    "each cell: the kind's best warm row with more than one worker: its variant, its speedup over that Python's own "
    "baseline in its own run, the cores it used and its workers (2w); –: no such row on that Python (not selected, "
    "or unavailable there)",
    "threads share the caller's GIL where the build has one; interpreters are threads of the caller's process with a "
    "GIL each; processes have a process, and so a GIL, each",
)


def _reached(facts: GroupFacts, kind: Kind) -> str:
    best = best_warm(facts.of_kind(kind))
    if best is None:
        return "–"
    cores = f" on {format_cores(best.cores_used)} cores" if best.cores_used is not None else ""
    cold = ", cold" if best.mode == "cold" else ""  # no warm row: its figure includes starting the pool
    return f"{code(best.variant)} {format_times(best.speedup)}{cores}, {best.workers}w{cold}"  # as `same_rows`, short


def comparable_flags(run: Run) -> tuple[str, ...]:
    """The run's configure arguments without where it lives or whether it is free-threaded."""
    try:
        args = shlex.split(run.config_args or "")
    except ValueError:
        args = (run.config_args or "").split()
    prefix = next((a.split("=", 1)[1] for a in args if a.startswith("--prefix=")), None)
    kept = [a for a in args if not a.startswith(_PLACE_FLAGS) and a != "--disable-gil"]
    return tuple(sorted(a.replace(prefix, "PREFIX") if prefix else a for a in kept))


def _minor(run: Run) -> str | None:
    return ".".join((run.python_version or "").split(".")[:2]) or None


def single_thread_cost(summary: Summary) -> Table | None:
    """Each free-threaded run against a GIL run of the same minor version: the baseline's median on
    the free-threaded build / on the GIL build, per workload; a pair built differently is flagged."""
    rows, notes = [], []
    by_workload = _by_workload(summary)
    for free in summary.runs:
        if not free.free_threaded_build:
            continue
        twins = [r for r in summary.runs if not r.free_threaded_build and _minor(r) == _minor(free)]
        if not twins:
            continue
        fair = [r for r in twins if r.python_version == free.python_version and comparable_flags(r) == comparable_flags(free)]
        gil = (fair or sorted(twins, key=lambda r: r.python_version != free.python_version))[0]
        pair = f"{free.label} / {gil.label}"
        if not fair:
            differs = []
            if gil.python_version != free.python_version:
                differs.append(f"another release ({gil.python_version} against {free.python_version})")
            if comparable_flags(gil) != comparable_flags(free):
                differs.append("other configure flags")
            notes.append(f"{pair} is not a fair pair: {' and '.join(differs) or 'unknown builds'}; it compares "
                         "the builds as much as the GIL. A GIL build of the same source with the same flags is fair.")
        else:
            notes.append(f"{pair}: the same release and configure flags but --disable-gil.")
        for (workload, size), per_run in by_workload.items():
            a, b = per_run.get(free.index), per_run.get(gil.index)
            base_free, base_gil = (a.baseline() if a else None), (b.baseline() if b else None)
            if base_free is None or base_gil is None:
                continue
            ratio = base_free.median_s / base_gil.median_s
            rows.append((pair, f"{code(workload)} {size or ''}".strip(), format_seconds(base_free.median_s),
                         format_seconds(base_gil.median_s), f"{ratio:.2f}x"))
    if not rows:
        return None
    notes.append("measured in separate runs of one invocation (one tox run), one after the other: each median is "
                 "from its own run, so the machine's state may differ between them")
    return Table("Single-thread cost of the free-threaded build (the baseline's median, free-threaded / GIL)",
                 ("builds", "workload", "free-threaded", "GIL", "ratio"), tuple(rows), tuple(notes))


def across_pythons(summary: Summary) -> list[Table]:
    """The side-by-side tables, when more than one Python ran."""
    if len(summary.runs) < 2:
        return []
    tables = [best_per_python(summary), *same_rows(summary), *every_core(summary)]
    cost = single_thread_cost(summary)
    return tables + ([cost] if cost else [])
