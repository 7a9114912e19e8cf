"""The advise page for `--out`: one self-contained HTML file (no scripts, no network), from an `Advice`.

advise.html is the lab report's Advice section on a page of its own (one template macro renders both), and
advise.json is what `concurrency-lab report` reads to put that section into its report."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ..report.advice import ADVICE_FILE, advice_page
from .model import Advice


def write_advice(advice: Advice, folder: Path) -> list[Path]:
    """advise.html and advise.json in `folder` (made if missing), each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("advise.html", advice_page(advice)),
                       (ADVICE_FILE, json.dumps(advice.to_dict(), indent=2) + "\n")):
        path = folder / name
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
        written.append(path)
    return written
