"""summary.md: the method header, per run and workload a table, the winner and the verdicts."""

from __future__ import annotations

import json
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
    assert "CPU = (CPU of this process, every thread) + max(CPU the workers report for their chunks, CPU of worker " \
           "processes reaped during the measurement)" in text
    assert "A cold pool's workers are reaped inside the timing, so their start-up CPU counts; `forkserver` workers " \
           "are not our children, so their own reports are used" in text
    assert "- **of ideal**: the best time the waiting allows / the median" in text
    assert "system-wide" in text
    assert "That needs at least 4 rounds a side." in text  # 5 rounds here: every comparison could be tested


def test_header_says_when_no_comparison_can_be_significant(tmp_path):
    document = json.loads((DATA / "run_py311.json").read_text())
    for benchmark in document["benchmarks"]:
        benchmark["stats"]["data"] = benchmark["stats"]["data"][:3]
        benchmark["stats"]["rounds"] = 3
    path = tmp_path / "smoke.json"
    path.write_text(json.dumps(document))
    assert "with 3 rounds on CPython 3.11.9 the smallest possible p is 0.10, so no comparison there can be " \
           "significant" in render_markdown(load_results([path]))


def test_the_optional_engines_of_each_run_are_named(tmp_path):
    from concurrency_lab.report.html import render_html_chunks

    document = json.loads((DATA / "run_py311.json").read_text())
    document["machine_info"]["engines"] = {"loky": "3.7.0", "joblib": None, "distributed": "2026.8.0"}
    path = tmp_path / "engines.json"
    path.write_text(json.dumps(document))
    summary = load_results([path, DATA / "run_py313.json"])  # the second file records none: nothing said
    assert [run.engines for run in summary.runs] == ["loky 3.7.0, distributed 2026.8.0", None]
    assert "Optional engines in run 0: loky 3.7.0, distributed 2026.8.0." in render_markdown(summary)
    assert "Optional engines in run 1" not in render_markdown(summary)
    assert "Optional engines in run 0: loky 3.7.0, distributed 2026.8.0." in "".join(render_html_chunks(summary))


def test_the_cluster_a_cluster_row_ran_on_is_named(tmp_path):
    from concurrency_lab.report.html import render_html_chunks

    document = json.loads((DATA / "run_py311.json").read_text())
    cluster = {"address": "tcp://127.0.0.1:40123", "workers": 2, "threads": 2, "embedded": True}
    document["benchmarks"][0]["extra_info"]["cluster"] = cluster
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(document))
    summary = load_results([path])
    assert [r.cluster for r in summary.results if r.cluster] == [cluster]
    variant = document["benchmarks"][0]["extra_info"]["variant"]
    line = f"`{variant}`: an embedded cluster at tcp://127.0.0.1:40123, 2 workers, 2 threads"
    assert f"Clusters in run 0 (warm rows): {line}." in render_markdown(summary)
    html = "".join(render_html_chunks(summary))
    assert "Clusters in run 0 (warm rows)" in html and "tcp://127.0.0.1:40123, 2 workers, 2 threads" in html
    assert not any("cluster" in w.message for w in summary.warnings)  # an additive field: nobody lacks it
    assert "Clusters in run" not in render_markdown(load_results([DATA / "run_py311.json"]))


def test_warnings_are_listed(text):
    assert "## Warnings" in text and "run_empty.json: skipped: no benchmarks" in text


def test_one_section_per_run_and_workload(summary, text):
    assert text.count("\n## CPython 3.11.9\n") == 1
    assert text.count("\n## CPython 3.13.1 free-threaded, GIL disabled\n") == 1
    assert text.count("### `processor` — standard, size 4000") == 2
    assert text.count("**Winner:**") == 8


def test_table_rows_carry_the_model_numbers(summary, text):
    header = ("| variant | workers | mode | start method | rounds | median | speedup | efficiency | cores used | peak RSS MiB "
              "| identical | CV |")
    assert text.count(header) == 6
    assert "| **mp_pool** | 2 | warm | fork | 5 | 652 ms | 1.84x | 92% | 1.96 | 110.0 | yes |" in text
    assert "| process_pool (trap: chunksize=1, 2000 items) | 2 | warm | fork | 3 | 245 ms | – | – | 1.60 |" in text
    assert "trap rows run on fewer items than the group's 20000" in text
    assert "| threading | 4* | warm | – | 5 | 702 ms | 1.97x | 49% | 1.97 | 42.0 | NO |" in text
    assert "\\* more workers than the 2 usable CPUs (oversubscribed)" in text


def test_io_tables_have_an_of_ideal_column(summary, text):
    header = "| variant | workers | mode | start method | rounds | median | speedup | efficiency | of ideal | cores used |"
    assert text.count(header) == 2  # the downloader of each run, and no other table
    pool = next(r for r in summary.results if r.run == 0 and r.name == "test_downloader[thread_pool-8-warm]")
    assert f"| thread_pool | 8* | warm | – | 5 | 165 ms | 7.58x | 95% | {pool.efficiency_vs_ideal:.2f} | 0.30 |" in text


def test_verdicts_are_listed_under_their_table(text):
    section = text.split("### `processor`")[1].split("### ")[0]
    assert ("- threads gain nothing on `processor` with the GIL: "
            "best is `thread_pool` with 2 workers (warm) 0.98x, 1.00 cores") in section
    assert "- no measurable start-up cost for `thread_pool` with 2 workers on `processor`: cold 1.21 s vs warm 1.22 s" in section


def test_user_strings_cannot_inject_html_or_break_tables():
    text = render_markdown(load_results([DATA / "run_hostile.json"]))
    outside_code = re.sub(r"`[^`]*`", "", text)
    assert "<script" not in outside_code and "<img" not in outside_code and "<i>" not in outside_code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    for line in text.splitlines():
        if line.startswith("| ") and "&lt;script&gt;" in line:
            assert line.count(" | ") == 11  # 12 columns: no cell split by the data
