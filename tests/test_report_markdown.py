"""summary.md: the method header, per run and workload a table, the winner and the verdicts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from concurrency_lab.report import load_results
from concurrency_lab.report.markdown import render_markdown

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def summary():
    return load_results([DATA / "run_py311.json", DATA / "run_py313.json", DATA / "run_empty.json"])


@pytest.fixture(scope="module")
def text(summary):
    return render_markdown(summary)


def test_header_says_how_figures_were_obtained(text):
    assert "## How each figure was obtained" in text
    assert "the median of the measured rounds of `benchmark.pedantic` (rounds: 3–5 on CPython 3.11.9" in text
    assert "warm-up rounds: 1 on CPython 3.11.9, not recorded on CPython 3.13.1" in text
    assert "exact CPU seconds of the work / its wall seconds" in text
    assert "system-wide" in text


def test_warnings_are_listed(text):
    assert "## Warnings" in text and "run_empty.json: skipped: no benchmarks" in text


def test_one_section_per_run_and_workload(summary, text):
    assert text.count("\n## CPython 3.11.9\n") == 1
    assert text.count("\n## CPython 3.13.1 free-threaded, GIL disabled\n") == 1
    assert text.count("### `processor` — standard, size 4000") == 2
    assert text.count("**Winner:**") == 8


def test_table_rows_carry_the_model_numbers(summary, text):
    header = "| variant | workers | mode | start method | rounds | median | speedup | efficiency | cores used | peak RSS MiB | identical | CV |"
    assert text.count(header) == 8
    assert "| **mp_pool** | 2 | warm | fork | 5 | 652 ms | 1.84x | 92% | 1.96 | 110.0 | yes |" in text
    assert "| process_pool (trap: chunksize=1) | 2 | warm | fork | 3 | 2.45 s |" in text
    assert "| threading | 4* | warm | – | 5 | 702 ms | 1.97x | 49% | 1.97 | 42.0 | NO |" in text
    assert "\\* more workers than the 2 usable CPUs (oversubscribed)" in text


def test_verdicts_are_listed_under_their_table(text):
    section = text.split("### `processor`")[1]
    assert "- threads gain nothing on `processor` with the GIL: best is `thread_pool` with 2 workers 0.98x, 1.00 cores" in section


def test_user_strings_cannot_inject_html_or_break_tables():
    text = render_markdown(load_results([DATA / "run_hostile.json"]))
    outside_code = re.sub(r"`[^`]*`", "", text)
    assert "<script" not in outside_code and "<img" not in outside_code and "<i>" not in outside_code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    for line in text.splitlines():
        if line.startswith("| ") and "&lt;script&gt;" in line:
            assert line.count(" | ") == 11  # 12 columns: no cell split by the data
