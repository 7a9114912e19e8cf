"""Comparing two results files benchmark by benchmark: ratio of medians, and whether it is real.

Works on any pytest-benchmark JSON (extra_info is not needed): benchmarks are matched by `name`
(`test_benchmark[processor-standard-mp_pool-w2-warm]`), the same whichever file ran them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..numerics.formatting import format_p_value, format_percent, format_seconds, format_times
from ..numerics.stats import coefficient_of_variation, format_ratio, is_noisy, mann_whitney_u
from .pytest_benchmark_json import as_float, as_mapping, as_str, benchmarks_in, read_results_file, round_times, run_fields

NO_ROUND_DATA = "no per-round data: run with --benchmark-save-data"


@dataclass(frozen=True)
class Comparison:
    """One benchmark in A and B. `ratio` is B / A: above 1 means B is slower."""

    key: str
    name: str
    group: str | None
    a_median_s: float | None
    b_median_s: float | None
    ratio: float | None
    p_value: float | None
    change: str
    note: str | None


@dataclass(frozen=True)
class _Timing:
    name: str
    group: str | None
    median_s: float
    round_times_s: tuple[float, ...]


def _timings(path: str | Path) -> dict[str, _Timing]:
    document = read_results_file(Path(path))
    timings = {}
    for benchmark in benchmarks_in(document):
        stats: Mapping[str, Any] = as_mapping(benchmark.get("stats"))
        median = as_float(stats.get("median"))
        name = as_str(benchmark.get("name"))
        if median is None or median <= 0 or name is None:
            continue
        key = name  # not `fullname`: it holds the test file's path, which differs between `run`, tox and installs
        timings[key] = _Timing(name, as_str(benchmark.get("group")), median, round_times(stats))
    return timings


def build_note(a_path: str | Path, b_path: str | Path) -> str | None:
    """One line when A and B ran on builds whose GIL differs (a free-threaded build against a GIL one):
    their ratios then compare builds as well as code. None when they agree or do not say."""
    sides = []
    for side, path in (("A", a_path), ("B", b_path)):
        fields = run_fields(read_results_file(Path(path)))
        gil = {True: "GIL enabled", False: "GIL disabled"}.get(fields["gil_enabled"])
        build = "free-threaded" if fields["free_threaded_build"] else "GIL build"
        sides.append((side, fields["gil_enabled"], f"{side} is {fields['python_version'] or 'Python ?'} ({build}, {gil})"))
    if None in (sides[0][1], sides[1][1]) or sides[0][1] == sides[1][1]:
        return None
    return f"NOTE: A and B differ in their GIL: {sides[0][2]}, {sides[1][2]}; the ratios compare builds, not only code"


def compare_runs(a_path: str | Path, b_path: str | Path) -> list[Comparison]:
    """Every benchmark of A, then those only in B, each with B's change relative to A."""
    a, b = _timings(a_path), _timings(b_path)
    comparisons = [_compare(key, a[key], b.get(key)) for key in a]
    comparisons += [_only_in("B", key, timing) for key, timing in b.items() if key not in a]
    return comparisons


def _compare(key: str, a: _Timing, b: _Timing | None) -> Comparison:
    if b is None:
        return _only_in("A", key, a)
    notes = []
    if len(a.round_times_s) >= 2 and len(b.round_times_s) >= 2:
        p_value = mann_whitney_u(a.round_times_s, b.round_times_s)
    else:
        p_value = None
        notes.append(NO_ROUND_DATA)
    for side, timing in (("A", a), ("B", b)):
        cv = coefficient_of_variation(timing.round_times_s)
        if is_noisy(cv):
            notes.append(f"{side} is noisy: CV {format_percent(cv)}")
    return Comparison(
        key=key, name=a.name, group=a.group, a_median_s=a.median_s, b_median_s=b.median_s,
        ratio=b.median_s / a.median_s, p_value=p_value,
        change=format_ratio(a.median_s, b.median_s, p_value), note="; ".join(notes) or None,
    )


def _only_in(side: str, key: str, timing: _Timing) -> Comparison:
    a_median, b_median = (timing.median_s, None) if side == "A" else (None, timing.median_s)
    return Comparison(key, timing.name, timing.group, a_median, b_median, None, None, f"only in {side}", None)


def geometric_mean_ratio(comparisons: Sequence[Comparison]) -> float | None:
    """pyperf's summary line: the geometric mean of B / A over the benchmarks in both."""
    ratios = [c.ratio for c in comparisons if c.ratio]
    return math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else None


def format_comparison_table(comparisons: Sequence[Comparison], labels: tuple[str, str] = ("A", "B"),
                            note: str | None = None) -> str:
    """A plain-text table for a terminal, with the geometric mean as the last line and `note` as the first."""
    sides = ("A", "B")
    # the notes say A and B
    named = tuple(label if label == side else f"{label} ({side})" for label, side in zip(labels, sides, strict=True))
    header = ("benchmark", *named, "change", "p", "note")
    rows = [
        (c.name, format_seconds(c.a_median_s), format_seconds(c.b_median_s), c.change, format_p_value(c.p_value), c.note or "")
        for c in comparisons
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    right_aligned = {1, 2, 4}

    def line(cells: Sequence[str]) -> str:
        padded = (cell.rjust(w) if i in right_aligned else cell.ljust(w)
                  for i, (cell, w) in enumerate(zip(cells, widths, strict=True)))
        return "  ".join(padded).rstrip()

    lines = ([note] if note else []) + [line(header), "  ".join("-" * w for w in widths)] + [line(row) for row in rows]
    mean = geometric_mean_ratio(comparisons)
    if mean is not None:
        direction = "slower" if mean > 1 else "faster"
        lines.append(f"\ngeometric mean of {labels[1]} / {labels[0]}: {format_times(max(mean, 1 / mean))} {direction}")
    return "\n".join(lines)
