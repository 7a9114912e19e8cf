"""The report's opening answer: what to use for what on each Python that ran, drawn from the measured rows.

One line per kind of work, as the workloads declare it (their `bound` trait: I/O, CPU holding the GIL, CPU
releasing the GIL, dispatch overhead), naming the configuration the Winner rule chose (`choice.choose`:
least cost within noise of the fastest) with the figures that decided it, and where the details are.
Rendered as a table by the markdown and HTML reports, and as plain text at the end of `concurrency-lab run`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from ..core.traits import Bound
from ..numerics.formatting import format_cores, format_percent, format_seconds, format_times
from ..numerics.stats import is_noisy
from ..records.summary import Result, Run, Summary, gil_of
from .choice import BARRED_WORDS, Choice, choose, format_memory, processes_of
from .claims import section_anchor
from .evidence import difference
from .facts import GroupFacts, group_facts

COLUMNS = ("work", "use", "speedup", "memory", "cores", "why")

@dataclass(frozen=True)
class GuideLine:
    """One kind of work on one run: what to use, the deciding figures, and where they come from."""

    bound: Bound
    workload: str
    use: str  # "threads: `threading` with 16 workers", or "not judged"
    speedup: str
    memory: str
    cores: str
    why: str  # what decided it, or what prevented a judgement and how to get one
    anchor: str  # the workload's section in index.html
    run_anchor: str  # the workload's section for this run in summary.md

    @property
    def cells(self) -> tuple[str, ...]:
        return (f"{self.bound.label} (`{self.workload}`)", self.use, self.speedup, self.memory, self.cores, self.why)


@dataclass(frozen=True)
class Guide:
    run: Run
    title: str
    lines: tuple[GuideLine, ...]


def guides(summary: Summary) -> list[Guide]:
    """One guide per run that has workloads with a declared bound, in run order."""
    found = []
    for run in summary.runs:
        groups = [f for f in group_facts(summary) if f.run.index == run.index and f.bound is not None]
        lines = tuple(line for bound in Bound if (line := _line(bound, [g for g in groups if g.bound is bound])))
        if lines:
            facts = [f"GIL {gil_of(run)}"] if "GIL" not in run.label else []
            facts += [f"{run.usable_cpus} usable CPUs"] if run.usable_cpus else []
            found.append(Guide(run, f"What to use for what on {run.label}" + (f" ({', '.join(facts)})" if facts else ""), lines))
    return found


def _line(bound: Bound, groups: list[GroupFacts]) -> GuideLine | None:
    """The line for one kind of work, from its group with the most trusted rows (the fullest comparison)."""
    facts = max(groups, key=lambda g: len(g.trusted), default=None)
    choice = choose(facts) if facts else None
    if facts is None or choice is None:
        return None
    anchor = section_anchor(facts.workload, facts.size_label)
    line = partial(GuideLine, bound=bound, workload=facts.workload, anchor=anchor, run_anchor=f"{anchor}-run{facts.run.index}")
    best = choice.chosen
    if best is None:  # not judged
        return line(use="not judged", speedup="–", memory="–", cores="–", why=choice.why_not_judged or "")
    kind = best.kind.label if best.kind else ""  # what its kind is called, as the kind declares it
    use = (f"{kind}: " if kind else "") + f"`{best.variant}`" + ("" if best.workers == 1 else f" with {best.workers} workers")
    speedup = "baseline" if best.is_baseline else format_times(best.speedup)
    return line(use=use, speedup=speedup, memory=format_memory(best.peak_rss_bytes),
                cores=format_cores(best.cores_used), why=_why(facts, choice, best))


def _why(facts: GroupFacts, choice: Choice, best: Result) -> str:
    """What decided the line (`best`, the row chosen): the faster row it was preferred to and why, or that it was the fastest."""
    fastest = choice.fastest
    if choice.decided_by is not None:
        cost = {"memory": f"at {format_memory(fastest.peak_rss_bytes)}", "processes": f"with {processes_of(fastest)} processes",
                "simplicity": f"with {fastest.workers} workers" + (f", {fastest.kind.label}" if fastest.kind else "")}
        return (f"`{fastest.variant}` x{fastest.workers} was {format_seconds(best.median_s - fastest.median_s)} faster, "
                f"{difference(best, fastest).closeness}, {cost[choice.decided_by]}: {_COST_WORDS[choice.decided_by]}")
    others = [r for r in facts.trusted if r is not best and all(r is not b for b in choice.barred)]
    runner_up = min(others, key=lambda r: r.median_s, default=None)
    if best.is_baseline:
        text = "nothing beat one item after another" + (
            f" (next: `{runner_up.variant}` x{runner_up.workers} {format_times(runner_up.speedup)})"
            if runner_up is not None and runner_up.speedup is not None else "")
    else:
        text = f"fastest, {format_seconds(best.median_s)}"
        if len(choice.contenders) > 1:
            text += f"; {len(choice.contenders) - 1} more too close to call, none cheaper"
        if is_noisy(best.cv):
            text += f"; its rounds spread (CV {format_percent(best.cv)}): a rough figure"
    if choice.barred:
        text += f"; {BARRED_WORDS}"
    return text


_COST_WORDS = {"memory": "least memory wins", "processes": "fewest processes win", "simplicity": "the simpler wins"}


def render_text(found: list[Guide]) -> str:
    """The guides as plain text for a terminal: aligned columns, code spans without backticks."""
    blocks = []
    for guide in found:
        rows = [COLUMNS] + [tuple(cell.replace("`", "") for cell in line.cells) for line in guide.lines]
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
        lines = [guide.title]
        for row in rows:
            # widths has no entry for the last column, which is not padded: zip stops before it
            lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
        blocks.append("\n".join(line.rstrip() for line in lines))
    return "\n\n".join(blocks)
