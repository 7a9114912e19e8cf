"""Writing summary.json, summary.md and index.html so that a killed run never leaves half a file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..core.atomic_files import write_files
from ..records.summary import Summary
from .claims import check_claims
from .facts import Verdict
from .html import render_html_chunks
from .markdown import render_markdown
from .verdicts import verdicts as all_verdicts


def summary_document(summary: Summary, verdicts: list[Verdict]) -> dict[str, Any]:
    """summary.json: the model (see `records.versions.SUMMARY`) and the verdicts drawn from it."""
    claims = [{"claim": claim.key, "text": claim.text, "runs": [dataclasses.asdict(c) for c in checks]}
              for claim, checks in check_claims(summary)]
    return {**summary.to_dict(), "claims": claims, "verdicts": [dataclasses.asdict(v) for v in verdicts]}


def write_reports(model: Summary, out_dir: str | Path, verdicts: list[Verdict] | None = None) -> list[Path]:
    """Write the three reports into `out_dir` (created if missing), all or none (`core.atomic_files.write_files`);
    returns their paths."""
    verdicts = all_verdicts(model) if verdicts is None else verdicts
    renderers: dict[str, Callable[[], Iterable[str]]] = {
        "summary.json": lambda: [json.dumps(summary_document(model, verdicts), indent=2, ensure_ascii=False), "\n"],
        "summary.md": lambda: [render_markdown(model, verdicts)],
        "index.html": lambda: render_html_chunks(model, verdicts),
    }
    return write_files(out_dir, renderers)
