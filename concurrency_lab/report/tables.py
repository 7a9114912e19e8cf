"""The variant table of one workload in one run, as text cells: shared by markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.traits import Kind, Role, VariantTraits
from ..numerics.formatting import format_cores, format_mib, format_percent, format_seconds, format_times
from ..numerics.stats import NOISY_CV
from ..records.summary import Result
from .choice import choose
from .facts import GroupFacts

COLUMNS = (
    "variant", "workers", "mode", "start method", "rounds", "median", "speedup", "efficiency",
    "cores used", "peak RSS MiB", "identical", "CV",
)
IDEAL_COLUMN = "of ideal"  # ideal_s / median: only in tables of workloads that record an ideal time
NUMERIC_COLUMNS = frozenset(COLUMNS[4:11]) | {"workers", "CV", IDEAL_COLUMN}

MODE_ORDER = ("warm", "cold")
# Within a kind: the baseline, then the lesson's before, then its after, then the rest.
ROLE_ORDER = (Role.BASELINE, Role.BEFORE, Role.AFTER, None)


@dataclass(frozen=True)
class TableRow:
    cells: tuple[str, ...]
    result: Result
    winner: bool  # the row the Winner line names (`choice.choose`)

    @property
    def flags(self) -> tuple[str, ...]:
        """What a reader must notice about the row, as CSS-class-like words."""
        r = self.result
        candidates = {
            "winner": self.winner, "noisy": r.noisy, "trap": r.trap is not None,
            "mismatch": r.identical is False, "oversubscribed": r.oversubscribed is True,
        }
        return tuple(flag for flag, present in candidates.items() if present)


def variant_rank(traits: VariantTraits | None, variant: str) -> tuple:
    """Table and legend order, by traits: the baseline, then one process (threads, then an event loop),
    then many processes, then a cluster: the order the lesson builds them in. Unknown traits last."""
    if traits is None:
        return (len(Kind), 0, variant)
    return (list(Kind).index(traits.kind), ROLE_ORDER.index(traits.role), variant)


def _order(result: Result) -> tuple:
    mode_rank = MODE_ORDER.index(result.mode) if result.mode in MODE_ORDER else len(MODE_ORDER)
    return (variant_rank(result.traits, result.variant), result.trap is not None, result.workers, mode_rank,
            result.start_method or "")


def columns_for(facts: GroupFacts) -> tuple[str, ...]:
    """COLUMNS, with "of ideal" after "efficiency" when a row of the group has an ideal time."""
    if not any(r.efficiency_vs_ideal is not None for r in facts.results):
        return COLUMNS
    at = COLUMNS.index("efficiency") + 1
    return COLUMNS[:at] + (IDEAL_COLUMN,) + COLUMNS[at:]


def variant_rows(facts: GroupFacts) -> list[TableRow]:
    choice = choose(facts)
    chosen = choice.chosen if choice else None
    columns = columns_for(facts)
    return [TableRow(_cells(r, facts, columns), r, r is chosen) for r in sorted(facts.results, key=_order)]


def _cells(r: Result, facts: GroupFacts, columns: tuple[str, ...]) -> tuple[str, ...]:
    trap = ""
    if r.trap:
        other_items = r.items_or_size is not None and r.items_or_size != facts.size
        trap = f" (trap: {r.trap}" + (f", {r.items_or_size} items" if other_items else "") + ")"
    cells = {
        "variant": r.variant + trap,
        "workers": f"{r.workers}*" if r.oversubscribed else str(r.workers),
        "mode": r.mode or "–",
        "start method": r.start_method or "–",
        "rounds": "–" if r.rounds is None else str(r.rounds),
        "median": format_seconds(r.median_s),
        "speedup": format_times(r.speedup),
        "efficiency": format_percent(r.efficiency),
        IDEAL_COLUMN: "–" if r.efficiency_vs_ideal is None else f"{r.efficiency_vs_ideal:.2f}",
        "cores used": format_cores(r.cores_used),
        "peak RSS MiB": format_mib(r.peak_rss_bytes),
        "identical": {True: "yes", False: "NO", None: "–"}[r.identical],
        "CV": format_percent(r.cv, 1) + (" noisy" if r.noisy else ""),
    }
    return tuple(cells[column] for column in columns)


def table_notes(facts: GroupFacts) -> list[str]:
    """Footnotes the table needs: what `*` and "noisy" mean, when they occur."""
    notes = []
    if any(r.oversubscribed for r in facts.results):
        notes.append(f"* more workers than the {facts.run.usable_cpus} usable CPUs (oversubscribed)")
    if any(r.noisy for r in facts.results):
        notes.append(f"noisy: CV of the rounds at or above {format_percent(NOISY_CV)}; ratios built on that row are not reliable")
    if any(r.trap and r.items_or_size != facts.size for r in facts.results):
        notes.append(f"trap rows run on fewer items than the group's {facts.size}: their median is not comparable "
                     "with the others, so they have no speedup and are compared per task in their own verdict")
    if any(r.identical is False for r in facts.results):
        notes.append("NO: the output did not match the workload's reference; the row is left out of every verdict")
    return notes
