"""index.html: one self-contained page (inline CSS and SVG, nothing fetched), rendered by Jinja2.

Autoescaping is on for every value. The only markup that bypasses it is the SVG matplotlib wrote
(its text is XML-escaped by matplotlib) and <code> spans made after escaping verdict text. The Advice
section is a macro (templates/_advice.html.j2) that advise.html renders too (`advice_page`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..records.advice import Advice
from ..records.advice_view import TABLE_COLUMNS as ADVICE_COLUMNS
from ..records.advice_view import advice_view
from ..records.summary import GIL_REENABLED, Summary, gil_difference, gil_of
from .across import across_pythons
from .charts import per_core_chart, speedup_chart, variant_colors
from .claims import check_claims, section_anchor
from .facts import Verdict, group_facts
from .failure_table import NOT_MEASURED, failure_view
from .guide import COLUMNS as GUIDE_COLUMNS
from .guide import guides
from .method import clusters_of, method_notes, rounds_of, warmup_rounds_of
from .tables import NUMERIC_COLUMNS, columns_for, table_notes, variant_rows
from .verdicts import verdicts as all_verdicts

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "index.html.j2"


def _environment():
    try:
        import jinja2
    except ImportError as error:
        raise ImportError("the HTML report is rendered with Jinja2: pip install jinja2") from error
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["with_code"] = with_code_spans
    environment.globals["zip"] = zip
    environment.globals["advice_columns"] = ADVICE_COLUMNS
    return environment


def with_code_spans(text: str):
    """Escape `text`, then turn its `code spans` into <code>: the spans' content is escaped too."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]*)`", r"<code>\1</code>", str(escape(text))))


def render_html_chunks(summary: Summary, verdicts: list[Verdict] | None = None) -> Iterator[str]:
    """The page in pieces as Jinja2 produces them (the writer streams them to a temporary file)."""
    return render_template(TEMPLATE, **page_context(summary, all_verdicts(summary) if verdicts is None else verdicts))


def render_template(name: str, **context: Any) -> Iterator[str]:
    return _environment().get_template(name).generate(**context)


def page_context(summary: Summary, verdicts: list[Verdict]) -> dict[str, Any]:
    from markupsafe import Markup

    facts_by_group: dict[tuple, list] = {}
    for facts in group_facts(summary):
        facts_by_group.setdefault((facts.workload, facts.size_label, facts.size), []).append(facts)
    sections = []
    colors = variant_colors(summary)
    for number, (key, panels) in enumerate(facts_by_group.items()):
        speedup_svg = speedup_chart(panels, f"speedup-{number}", colors)
        runs = []
        for facts in panels:
            own = [v for v in verdicts if (v.run, v.workload, v.size_label, v.size) == (facts.run.index, *key)]
            per_core_svg = per_core_chart(facts, f"per-core-{number}-{facts.run.index}", colors)
            runs.append({
                "run": facts.run,
                "winner": next((v for v in own if v.rule == "winner"), None),
                "verdicts": [v for v in own if v.rule != "winner"],
                "columns": columns_for(facts),
                "rows": variant_rows(facts),
                "notes": table_notes(facts),
                "per_core_svg": None if per_core_svg is None else Markup(per_core_svg),  # matplotlib output only
            })
        sections.append({
            "anchor": section_anchor(key[0], key[1]),
            "workload": key[0],
            "size": ", ".join(s for s in (key[1], None if key[2] is None else f"size {key[2]}") if s),
            "speedup_svg": None if speedup_svg is None else Markup(speedup_svg),  # matplotlib output only
            "runs": runs,
        })
    return {
        "guides": guides(summary),
        "guide_columns": GUIDE_COLUMNS,
        "claims": claim_rows(summary),
        "across": across_pythons(summary),
        "gil_difference": gil_difference(summary.runs),
        "gil_reenabled": GIL_REENABLED,
        "generated": summary.generated,
        "runs": [{"run": run, "gil": gil_of(run), "rounds": rounds_of(summary, run), "clusters": clusters_of(summary, run),
                  "warmups": warmup_rounds_of(summary, run)} for run in summary.runs],
        "method": method_notes(summary),
        "warnings": summary.warnings,
        "sections": sections,
        "numeric": NUMERIC_COLUMNS,
        "failures": [{"run": run, "view": None if run.failures is None else failure_view(run.failures)}
                     for run in summary.runs],
        "not_measured": NOT_MEASURED,
        "advice": [advice_view(advice) for advice in summary.advice],
    }


def claim_rows(summary: Summary) -> list[dict[str, Any]]:
    """The claims table: per claim, per run, the verdict, its numbers and links to the rows it read."""
    rows = []
    for claim, checks in check_claims(summary):
        cells = []
        for check in checks:
            links = [(f"{workload}{f' {size}' if size else ''}", section_anchor(workload, size))
                     for workload, size in check.sections]
            if check.from_failure_table:
                links.append(("failure modes", "failure-modes"))
            cells.append({"status": check.status, "numbers": check.numbers, "links": links})
        rows.append({"text": claim.text, "cells": cells})
    return rows


def advice_page(advice: Advice) -> str:
    """advise.html: the report's Advice section alone, on a self-contained page with the report's style."""
    return "".join(render_template("advise.html.j2", views=[advice_view(advice)]))
