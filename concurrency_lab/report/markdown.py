"""summary.md: per run, per workload, the variant table, the winner and the verdicts; then the advice."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..records.advice_view import TABLE_COLUMNS as ADVICE_COLUMNS
from ..records.advice_view import AdviceView, advice_view
from ..records.summary import GIL_REENABLED, Run, Summary, gil_difference, gil_of
from .across import across_pythons
from .claims import check_claims, section_anchor
from .facts import GroupFacts, Verdict, group_facts
from .failure_table import NOT_MEASURED, failure_view
from .guide import COLUMNS as GUIDE_COLUMNS
from .guide import guides
from .method import clusters_of, method_notes, rounds_of, warmup_rounds_of
from .tables import NUMERIC_COLUMNS, columns_for, table_notes, variant_rows
from .verdicts import verdicts as all_verdicts

_CODE_SPAN = re.compile(r"(`[^`]*`)")


def cell(text: object) -> str:
    """Text from the data, safe in a table cell: no column breaks, no raw HTML."""
    return escape_html(str(text)).replace("|", "\\|").replace("\n", " ")


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def prose(text: str) -> str:
    """Verdict text: code spans kept as they are (literal in markdown), the rest HTML-escaped."""
    return "".join(part if _CODE_SPAN.fullmatch(part) else escape_html(part) for part in _CODE_SPAN.split(text))


def table(
    header: tuple[str, ...], rows: Sequence[tuple[str, ...]], numeric: frozenset[str] = frozenset(),
    bold: frozenset[int] = frozenset(),
) -> list[str]:
    """A pipe table; the first cell of the rows numbered in `bold` is set in bold."""
    align = ["---:" if column in numeric else "---" for column in header]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for number, row in enumerate(rows):
        cells = [cell(c) for c in row]
        if number in bold:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def heading(facts: GroupFacts) -> str:
    size = ", ".join(s for s in (facts.size_label, None if facts.size is None else f"size {facts.size}") if s)
    return f"### `{facts.workload.replace('`', chr(39))}`" + (f" — {cell(size)}" if size else "")


def render_markdown(summary: Summary, verdicts: list[Verdict] | None = None) -> str:
    verdicts = all_verdicts(summary) if verdicts is None else verdicts
    advised = f" and {len(summary.advice)} advise result(s)" if summary.advice else ""
    lines = [
        "# Concurrency lab report", "",
        f"Generated {summary.generated} from {len(summary.runs)} run(s) of the same benchmarks{advised}.", "",
    ]
    if summary.runs:
        lines += _benchmark_lines(summary, verdicts)
    elif summary.warnings:
        lines += _warning_lines(summary)
    for view in map(advice_view, summary.advice):
        lines += _advice_lines(view)
    if summary.runs:
        lines += _method_lines(summary)
    return "\n".join(lines) + "\n"


def _method_lines(summary: Summary) -> list[str]:
    """Last, after every answer: how each figure was obtained, and what each run was."""
    lines = ["", "## How each figure was obtained", ""]
    lines += [f"- **{term}**: {prose(text)}" for term, text in method_notes(summary)]
    lines += ["", "## Runs", ""]
    lines += table(
        ("run", "Python", "GIL", "usable CPUs", "default start method", "rounds", "warm-up rounds", "machine", "file", "commit"),
        [(str(run.index), run.label, gil_of(run), "–" if run.usable_cpus is None else str(run.usable_cpus),
          run.default_start_method or "–", rounds_of(summary, run), warmup_rounds_of(summary, run), run.machine,
          run.source, run.commit or "–") for run in summary.runs],
    )
    lines += [f"\nOptional engines in run {run.index}: {cell(run.engines)}." for run in summary.runs if run.engines]
    lines += [f"\nClusters in run {run.index} (warm rows): {'; '.join(found)}." for run in summary.runs
              if (found := clusters_of(summary, run))]
    return lines


def _guide_lines(summary: Summary) -> list[str]:
    """The answer first: per run, what to use for each kind of work, with the deciding figures and a link."""
    found = guides(summary)
    if not found:
        return []
    lines = ["## What to use for what", ""]
    for guide in found:
        rows = [(*line.cells, f"[{line.workload}](#{line.run_anchor})") for line in guide.lines]
        lines += [f"**{cell(guide.title)}**", ""]
        lines += ["| " + " | ".join((*GUIDE_COLUMNS, "details")) + " |",
                  "| " + " | ".join("---" for _ in range(len(GUIDE_COLUMNS) + 1)) + " |"]
        lines += ["| " + " | ".join(prose(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
        lines += [""]
    return lines


def _warning_lines(summary: Summary) -> list[str]:
    lines = ["", "## Warnings", ""]
    return lines + [f"- {cell(w.source)}" + (f", benchmark {cell(w.benchmark)}" if w.benchmark else "") + f": {cell(w.message)}"
                    for w in summary.warnings]


def _benchmark_lines(summary: Summary, verdicts: list[Verdict]) -> list[str]:
    lines = []
    if (difference := gil_difference(summary.runs)) is not None:
        lines += [f"**Note:** {prose(difference)}.", ""]
    lines += _guide_lines(summary)
    lines += _claim_lines(summary)
    lines += _across_lines(summary)
    if summary.warnings:
        lines += _warning_lines(summary)
    current_run = None
    for facts in group_facts(summary):
        if facts.run is not current_run:
            if current_run is not None:
                lines += _failure_lines(current_run)
            current_run = facts.run
            lines += ["", f"## {cell(facts.run.label)}", "", f"{cell(facts.run.machine)} — `{facts.run.source}`"]
            if facts.run.gil_reenabled:
                lines += ["", f"**GIL re-enabled:** {cell(GIL_REENABLED)}"]
        lines += ["", f'<a id="{section_anchor(facts.workload, facts.size_label)}-run{facts.run.index}"></a>',
                  "", heading(facts), ""]
        lines += _group_lines(facts, [v for v in verdicts if (v.run, v.workload, v.size_label, v.size)
                                      == (facts.run.index, facts.workload, facts.size_label, facts.size)])
    if current_run is not None:
        lines += _failure_lines(current_run)
    return lines


def _advice_lines(view: AdviceView) -> list[str]:
    """One advise result, shortly: the answer, why, the measured table, and the code (the rest is in index.html)."""
    lines = ["", f"## Advice: `{view.function.replace('`', chr(39))}`", "",
             f"{cell(view.build)}; measured {cell(view.measured)}.", ""]
    if view.warning:
        lines += [f"**Warning:** {prose(view.warning)}", ""]
    lines += [f"**Use** {prose(view.recommendation)}" if view.recommendation
              else f"**{view.problem_label}:** {prose(view.problem or '')}"]
    if view.within_noise:
        lines += ["", f"Within noise: {prose(view.within_noise)}."]
    lines += [""] + [f"- {prose(reason)}" for reason in view.reasons]
    if view.rows:
        rows = [(r.configuration, r.speedup, r.cores_used, r.startup, r.rounds, r.peak_uss, r.problem) for r in view.rows]
        numeric = frozenset(ADVICE_COLUMNS[1:-1])
        lines += [""] + table(ADVICE_COLUMNS, rows, numeric, frozenset(i for i, r in enumerate(view.rows) if r.recommended))
    for title, entries in (("Ruled out", view.ruled_out), ("Not tried", view.not_tried)):
        if entries:
            lines += ["", f"{title}:", ""] + [f"- `{name}`: {prose(why)}" for name, why in entries]
    if view.snippet:
        lines += ["", "```python", view.snippet, "```"]
    return lines


def _across_lines(summary: Summary) -> list[str]:
    """Several Pythons side by side (nothing when one ran)."""
    tables = across_pythons(summary)
    if not tables:
        return []
    lines = ["## Across Pythons", ""]
    for t in tables:
        lines += [f"**{prose(t.title)}**", ""]
        lines += ["| " + " | ".join(cell(h) for h in t.header) + " |", "| " + " | ".join("---" for _ in t.header) + " |"]
        lines += ["| " + " | ".join(prose(c).replace("|", "\\|") for c in row) + " |" for row in t.rows]
        lines += [""] + [f"- {prose(note)}" for note in t.notes] + ([""] if t.notes else [])
    return lines


def _claim_lines(summary: Summary) -> list[str]:
    """The lesson's claims, one row each, a verdict per run with its deciding numbers and where they come from."""
    lines = ["## The lesson's claims, checked", ""]
    header = ("claim", *(run.label for run in summary.runs))
    rows = []
    for claim, checks in check_claims(summary):
        cells = []
        for run, check in zip(summary.runs, checks, strict=True):
            targets = [(f"{workload}{f' {size}' if size else ''}", f"{section_anchor(workload, size)}-run{run.index}")
                       for workload, size in check.sections]
            if check.from_failure_table:
                targets.append(("failure modes", f"failure-modes-run{run.index}"))
            links = ", ".join(f"[{text}](#{anchor})" for text, anchor in targets)
            cells.append(f"**{check.status}**: {prose(check.numbers)}" + (f" (rows: {links})" if links else ""))
        rows.append((claim.text, *cells))
    align = ["---"] * len(header)
    lines += ["| " + " | ".join(cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + cell(row[0]) + " | " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row[1:]) + " |"
              for row in rows]
    return lines + [""]


def _failure_lines(run: Run) -> list[str]:
    """The run's failure-modes table, beside its speed tables, or that it was not measured."""
    lines = ["", f'<a id="failure-modes-run{run.index}"></a>', "", "### Failure modes", ""]
    if run.failures is None:
        return lines + [cell(NOT_MEASURED)]
    view = failure_view(run.failures)
    lines += table(view.columns, [row.cells for row in view.rows])
    return lines + [""] + [f"- {prose(note)}" for note in view.notes]


def _group_lines(facts: GroupFacts, verdicts: list[Verdict]) -> list[str]:
    lines = [f"**Winner:** {prose(v.text)}" for v in verdicts if v.rule == "winner"]
    rows = variant_rows(facts)
    winner = frozenset(number for number, row in enumerate(rows) if row.winner)
    lines += [""] + table(columns_for(facts), [row.cells for row in rows], NUMERIC_COLUMNS, winner)
    for note in table_notes(facts):
        lines += ["", cell(note).replace("*", "\\*")]
    others = [v for v in verdicts if v.rule != "winner"]
    if others:
        lines += [""] + [f"- {prose(v.text)}" for v in others]
    return lines
