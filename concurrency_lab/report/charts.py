"""Charts as SVG text for inline embedding, drawn with matplotlib's object API (no pyplot, no GUI).

matplotlib is imported on first use: the JSON and markdown reports do not need it.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.traits import VariantTraits
from ..records.summary import Summary
from .facts import GroupFacts
from .tables import variant_rank

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# Given out in table order, so with the lab's variants: the baseline grey, hand-made threads orange,
# the thread pool red, the event loop purple, multiprocessing.Pool blue, the process pool green.
PALETTE = ("#7f7f7f", "#ff7f0e", "#d62728", "#9467bd", "#1f77b4", "#2ca02c", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22")
PER_CORE_COLUMNS = 5
CPU_LINES_MAX = 8  # beyond this many CPUs, per-core lines are unreadable: draw the mean and the min-max band
FEW_SAMPLES = 3  # a run this short (in sampling intervals) gets markers: its line alone would be invisible
_SVG_RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # real <text>: small, selectable, escaped by matplotlib's XML writer
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.titley": 1.0,  # a fixed title position: automatic placement re-measures every axis, the slowest step
    "axes.titlepad": 4,
    "legend.frameon": False,
}


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("the HTML report draws its charts with matplotlib: pip install matplotlib") from error
    return Figure


def variant_colors(summary: Summary) -> dict[str, str]:
    """One colour per variant, the same in every chart of the report: the palette in table order."""
    traits: dict[str, VariantTraits | None] = {}
    for result in summary.results:
        traits.setdefault(result.variant, result.traits)
    ordered = sorted(traits, key=lambda variant: variant_rank(traits[variant], variant))
    return {variant: PALETTE[number % len(PALETTE)] for number, variant in enumerate(ordered)}


def label(text: str) -> str:
    """Data text safe for matplotlib: `$` would start mathtext, a leading `_` hides a legend entry."""
    text = text.replace("$", r"\$")
    return " " + text if text.startswith("_") else text


def _margins(figure, *, left: float, right: float, top: float, bottom: float, **spacing: float) -> None:
    """Fixed margins in inches: cheaper than bbox_inches="tight", which draws the figure twice."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, **spacing)


def to_svg(figure, chart_id: str) -> str:
    """The figure as an <svg> element: no XML prolog, DOCTYPE or metadata; ids unique per chart."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"concurrency-lab-{chart_id}"}):  # clip-path/marker ids differ between charts
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    tags = re.findall(r"<[A-Za-z][^>]*>", svg)  # text from the data is escaped: it never forms a tag
    if any(re.match(r"<(script|foreignObject)\b", tag, flags=re.I) or re.search(r"\son\w+\s*=", tag) for tag in tags):
        raise ValueError(f"chart {chart_id}: matplotlib's SVG unexpectedly contains active content")
    return svg


def speedup_curves(facts: GroupFacts) -> dict[str, list[tuple[int, float]]]:
    """Per variant, (workers, speedup) of its representative row at each worker count."""
    curves = {}
    for variant in facts.variants():
        if (traits := facts.traits_of(variant)) is not None and traits.is_baseline:
            continue
        points = []
        for workers in sorted({r.workers for r in facts.rows(variant)}):
            row = facts.representative(variant, workers)
            if row is not None and row.speedup is not None:
                points.append((workers, row.speedup))
        if points:
            curves[variant] = points
    return curves


def speedup_chart(panels: list[GroupFacts], chart_id: str, colors: Mapping[str, str]) -> str | None:
    """Speedup against workers, one panel per run, same axes in every panel so they compare."""
    drawn = [(facts, speedup_curves(facts)) for facts in panels]
    drawn = [(facts, curves) for facts, curves in drawn if curves]
    if not drawn:
        return None
    import matplotlib

    workers = sorted({w for _, curves in drawn for points in curves.values() for w, _ in points} | {1})
    with matplotlib.rc_context(_SVG_RC):
        figure = _figure_class()(figsize=(4.2 * len(drawn) + 0.5, 3.0))
        axes = figure.subplots(1, len(drawn), sharex=True, sharey=True, squeeze=False)[0]
        _margins(figure, left=0.6, right=0.15, top=0.3, bottom=0.45, wspace=0.08)
        for ax, (facts, curves) in zip(axes, drawn, strict=True):  # one panel per drawn run
            usable = facts.run.usable_cpus
            baseline = facts.baseline()
            ax.axhline(1.0, color="0.55", lw=0.8, ls=":", label=label(baseline.variant if baseline else "baseline"))
            if usable:
                ax.plot(workers, [min(w, usable) for w in workers], color="0.7", lw=1, ls="--", label=f"ideal on {usable} CPUs")
            for variant, points in curves.items():
                ax.plot([w for w, _ in points], [s for _, s in points], marker="o", ms=3.5, lw=1.5,
                        color=colors.get(variant), label=label(variant))
            ax.set_title(label(facts.run.label))
            ax.set_xlabel("workers")
            ax.grid(alpha=0.25, lw=0.5)
            ax.legend(fontsize=7, loc="upper left")
        if workers[-1] / workers[0] >= 8:
            axes[0].set_xscale("log", base=2)
        axes[0].set_xticks(workers, [str(w) for w in workers])
        axes[0].minorticks_off()
        top = max(s for _, curves in drawn for points in curves.values() for _, s in points)
        axes[0].set_ylim(0, max(top, max(f.run.usable_cpus or 1 for f, _ in drawn)) * 1.12)
        axes[0].set_ylabel("speedup over sequential (×)")
        return to_svg(figure, chart_id)


def per_core_chart(facts: GroupFacts, chart_id: str, colors: Mapping[str, str]) -> str | None:
    """Small multiples: busy % per CPU over time, for the representative row of each variant."""
    rows = [row for variant in facts.variants() if (row := facts.representative(variant)) and row.per_core]
    if not rows:
        return None
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    columns = min(len(rows), PER_CORE_COLUMNS)
    lines = math.ceil(len(rows) / columns)
    with matplotlib.rc_context(_SVG_RC):
        figure = _figure_class()(figsize=(2.5 * columns + 0.6, 1.7 * lines + 0.8))
        axes = figure.subplots(lines, columns, sharex=True, sharey=True, squeeze=False).ravel()
        _margins(figure, left=0.6, right=0.1, top=0.5, bottom=0.5, wspace=0.08, hspace=0.4)
        for ax, row in zip(axes, rows, strict=False):  # the grid may have spare axes: hidden below
            _draw_per_core(ax, row, colors.get(row.variant))
        for ax in axes[len(rows):]:
            ax.set_visible(False)
        axes[0].set_ylim(0, 105)
        axes[0].set_yticks([0, 50, 100])
        axes[0].xaxis.set_major_locator(MaxNLocator(nbins=4))  # shared x: fewer labels, so neighbours' do not touch
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="upper right", ncols=min(len(labels), 8), fontsize=7)
        figure.supxlabel("seconds since sampling started", fontsize=8)
        figure.supylabel("busy % per CPU", fontsize=8)
        return to_svg(figure, chart_id)


def _draw_per_core(ax, row, color: str | None) -> None:
    trace = row.per_core
    marker = "o" if len(trace.times_s) <= FEW_SAMPLES else None  # a one-sample line would draw nothing
    if len(trace.cpus) <= CPU_LINES_MAX:
        for position, cpu in enumerate(trace.cpus):
            ax.plot(trace.times_s, [p[position] for p in trace.percents], lw=1, marker=marker, ms=3, label=f"CPU {cpu}")
    else:
        ax.fill_between(trace.times_s, [min(p) for p in trace.percents], [max(p) for p in trace.percents],
                        color="0.8", label="min–max of CPUs")
        ax.plot(trace.times_s, [sum(p) / len(p) for p in trace.percents], color="C0", lw=1, marker=marker, ms=3,
                label="mean of CPUs")
    details = [q for q in (row.mode, row.start_method) if q]
    if row.cores_used is not None:
        details.append(f"· {row.cores_used:.2f} cores")
    ax.set_title(label(" ".join([f"{row.variant} ×{row.workers}", *details])), color=color)
    ax.grid(alpha=0.25, lw=0.5)
