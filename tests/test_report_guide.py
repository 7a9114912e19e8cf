"""The report opens with the answer: a what-to-use-for-what table per Python, one line per kind of work (by the
workloads' declared bound), with the deciding figures and a link; then the claims, the results, the method last."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from report_fixtures import processor_with_a_slowed_baseline

from concurrency_lab.core.traits import Bound
from concurrency_lab.report import load_results
from concurrency_lab.report.guide import guides, render_text
from concurrency_lab.report.markdown import render_markdown

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def newcomer():
    return load_results([DATA / "run_newcomer.json"])


def test_one_line_per_kind_of_work_with_the_cheapest_within_noise(newcomer):
    (guide,) = guides(newcomer)
    assert guide.title == "What to use for what on CPython 3.11.9 (GIL enabled, 2 usable CPUs)"
    assert [line.bound for line in guide.lines] == list(Bound)
    io = guide.lines[0]
    assert (io.workload, io.use, io.speedup, io.memory, io.cores) == (
        "downloader", "threads: `threading` with 16 workers", "10.9x", "58 MiB", "0.30")
    assert io.why == "`process_pool` x32 was 1.00 ms faster, within noise, at 1.5 GiB: least memory wins"
    dispatch = guide.lines[-1]
    assert dispatch.use == "one at a time: `sequential`" and dispatch.speedup == "baseline"


def test_lines_follow_the_declared_bound_not_the_workload_name(newcomer):
    """The hashing workload declared as I/O-bound instead: its line moves to I/O (nothing keys on names)."""
    swapped = dataclasses.replace(newcomer, results=[
        dataclasses.replace(r, bound={"downloader": Bound.CPU_RELEASES_GIL, "hashing": Bound.IO_WAIT}.get(r.workload, r.bound))
        for r in newcomer.results])
    (guide,) = guides(swapped)
    assert {line.bound: line.workload for line in guide.lines}[Bound.IO_WAIT] == "hashing"


def test_noise_that_could_change_the_answer_gives_not_judged_with_the_figure(newcomer):
    noisy = dataclasses.replace(newcomer, results=[
        dataclasses.replace(r, cv=0.31, noisy=True) if (r.workload, r.workers) == ("downloader", 32) else r
        for r in newcomer.results])
    (guide,) = guides(noisy)
    io = guide.lines[0]
    assert io.use == "not judged" and io.speedup == "–"
    assert "CV up to 31%" in io.why and "quieter machine" in io.why


def test_plain_text_is_aligned_and_without_backticks(newcomer):
    text = render_text(guides(newcomer))
    lines = text.splitlines()
    assert lines[0].startswith("What to use for what on CPython 3.11.9")
    assert "`" not in text
    header = lines[1]
    io = next(line for line in lines if line.lstrip().startswith("I/O (downloader)"))
    assert io.index("threads: threading with 16 workers") == header.index("use")
    assert io.index("58 MiB") == header.index("memory")


def test_markdown_answers_first_then_claims_then_results_method_last(newcomer):
    text = render_markdown(newcomer)
    order = [text.index(heading) for heading in (
        "## What to use for what", "## The lesson's claims, checked", "### `downloader`", "### `tiny_tasks`",
        "### Failure modes", "## How each figure was obtained", "## Runs")]
    assert order == sorted(order)
    (link,) = re.findall(r"\[downloader\]\(#([^)]+)\)", text.split("## The lesson's claims")[0])
    assert f'<a id="{link}"></a>' in text


def test_html_answers_first_and_keeps_the_method_for_last(newcomer):
    pytest.importorskip("jinja2")
    pytest.importorskip("matplotlib")
    from concurrency_lab.report.html import render_html_chunks

    page = "".join(render_html_chunks(newcomer))
    order = [page.index(marker) for marker in (
        '<h2 id="guide">', '<h2 id="claims">', 'id="workload-downloader-standard"', 'id="failure-modes"', '<h2 id="method">')]
    assert order == sorted(order)
    guide = page[page.index('<table class="guide">'):page.index('<h2 id="claims">')]
    assert '<a href="#workload-downloader-standard">downloader</a>' in guide and "58 MiB" in guide



def test_threads_beating_the_gil_on_one_core_are_not_the_answer(tmp_path):
    """On the GIL build, threads 'fastest' on GIL-holding work at 1.00 cores, because other load slowed the
    sequential baseline (and no process rows ran): the line is not judged, never 'use threads'."""
    (guide,) = guides(processor_with_a_slowed_baseline(tmp_path, 1.6))
    (cpu,) = [line for line in guide.lines if line.bound is Bound.CPU_HOLDS_GIL]
    assert cpu.use == "not judged"
    assert "cannot come from threads running Python in parallel under the GIL" in cpu.why
