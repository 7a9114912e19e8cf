"""The advise page for `--out`: one self-contained HTML file (no scripts, no network), from an `Advice`."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

from .answer import render
from .model import Advice

_STYLE = ("body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
          "table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f4f4f4;padding:.8rem;overflow:auto}"
          ".bad{color:#a00}")


def advise_html(advice: Advice) -> str:
    e = html.escape
    base = advice.trials[0].median_seconds if advice.trials and advice.trials[0].ok else None
    rows = []
    for trial in advice.trials:
        if trial.ok and base:
            rows.append(f"<tr><td>{e(trial.config.label)}</td><td class=n>{base / trial.median_seconds:.2f}x</td>"
                        f"<td class=n>{trial.median_cores:.2f}</td><td class=n>{len(trial.round_seconds)}</td>"
                        f"<td class=n>{'' if trial.peak_uss_bytes is None else f'{trial.peak_uss_bytes / 2**20:.0f} MiB'}"
                        "</td><td></td></tr>")
        else:
            rows.append(f"<tr><td>{e(trial.config.label)}</td><td colspan=4></td>"
                        f"<td class=bad>not recommended: {e(trial.problem or 'no rounds')}</td></tr>")
    if advice.recommended is not None:
        head = (f"Use <b>{e(advice.recommended.label)}</b>: {advice.speedup:.2f}x sequential "
                f"({advice.speedup_low:.2f}-{advice.speedup_high:.2f}x)")
    else:
        head = f"<span class=bad>No advice: {e(advice.problem or '')}</span>"

    def listing(title: str, entries: dict[str, str]) -> str:
        if not entries:
            return ""
        items = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in entries.items())
        return f"<h2>{e(title)}</h2><ul>{items}</ul>"

    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>advise {e(advice.function)}</title>"
            f"<style>{_STYLE}</style><h1 id=advise>advise <code>{e(advice.function)}</code></h1><p>{head}</p>"
            f"<h2>Why</h2><ul>{''.join(f'<li>{e(r)}</li>' for r in advice.reasons)}</ul>"
            "<h2>Measured</h2><table><tr><th>configuration</th><th>speedup</th><th>cores used</th><th>rounds</th>"
            f"<th>peak USS</th><th></th></tr>{''.join(rows)}</table>"
            f"{listing('Ruled out', advice.ruled_out)}{listing('Not tried', advice.not_tried)}"
            f"<h2>Code</h2><pre>{e(advice.snippet)}</pre>"
            f"<h2>As printed</h2><pre>{e(render(advice))}</pre></html>\n")


def write_advice(advice: Advice, folder: Path) -> list[Path]:
    """advise.html and advise.json in `folder` (made if missing), each written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("advise.html", advise_html(advice)),
                       ("advise.json", json.dumps(advice.to_dict(), indent=2) + "\n")):
        path = folder / name
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
        written.append(path)
    return written
