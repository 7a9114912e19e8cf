"""Writing summary.json, summary.md and index.html so that a killed run never leaves half a file."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .claims import check_claims
from .facts import Verdict
from .html import render_html_chunks
from .markdown import render_markdown
from .model import Summary
from .verdicts import verdicts as all_verdicts

REPORT_MODE = 0o644  # mkstemp creates 0600; reports are meant to be read (and served) by others


def summary_document(summary: Summary, verdicts: list[Verdict]) -> dict[str, Any]:
    """summary.json: the model (see `model.SCHEMA_VERSION`) and the verdicts drawn from it."""
    claims = [{"claim": claim.key, "text": claim.text, "runs": [dataclasses.asdict(c) for c in checks]}
              for claim, checks in check_claims(summary)]
    return {**summary.to_dict(), "claims": claims, "verdicts": [dataclasses.asdict(v) for v in verdicts]}


def write_reports(model: Summary, out_dir: str | Path, verdicts: list[Verdict] | None = None) -> list[Path]:
    """Write the three reports into `out_dir` (created if missing); returns their paths.

    Every document is rendered into a temporary file next to its destination and fsynced first;
    only when all three rendered do they replace the previous files, each by an atomic
    `os.replace`. A failure while rendering leaves every previous file as it was.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    verdicts = all_verdicts(model) if verdicts is None else verdicts
    renderers: dict[str, Callable[[], Iterable[str]]] = {
        "summary.json": lambda: [json.dumps(summary_document(model, verdicts), indent=2, ensure_ascii=False), "\n"],
        "summary.md": lambda: [render_markdown(model, verdicts)],
        "index.html": lambda: render_html_chunks(model, verdicts),
    }
    staged: list[tuple[Path, Path]] = []
    try:
        for name, render in renderers.items():
            staged.append((stage(out, name, render), out / name))
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)  # nothing left behind after a failure; no-op once replaced
    _fsync_directory(out)
    return [final for _, final in staged]


def stage(directory: Path, name: str, render: Callable[[], Iterable[str]]) -> Path:
    """Render into a hidden temporary file in `directory`, flushed to disk; removed on failure."""
    descriptor, temporary_name = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            for chunk in render():
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, REPORT_MODE)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _fsync_directory(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
