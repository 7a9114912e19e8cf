"""`concurrency-lab report` shows what `advise --out` wrote: an Advice section in index.html (the same markup as
advise.html) and a short one in summary.md; an advise.json of a newer schema is refused in one line.

The advice comes from a real `advise(...)` call on test_advise's fake child process and clock (no processes,
no timing): a 10 ms pure-Python function that processes run twice as fast."""

from __future__ import annotations

import json
import re
from pathlib import Path

import advise_targets as targets
import pytest
from markupsafe import escape
from test_advise import FakeClock, FakeRunner

from concurrency_lab.advise import advise
from concurrency_lab.commands.advise import write_advice
from concurrency_lab.commands.cli import main
from concurrency_lab.records.versions import ADVICE
from concurrency_lab.report import load_results

DATA = Path(__file__).parent / "data"
VARIANTS = ["sequential", "thread_pool", "process_pool", "mp_pool"]


@pytest.fixture(scope="module")
def advice():
    clock = FakeClock()
    found = advise(targets.sum_of_squares, range(10_000), budget=60.0, variants=VARIANTS, clock=clock,
                   runner=FakeRunner(clock), name="advise_targets:sum_of_squares")
    assert found.recommended is not None and found.recommended.variant in ("process_pool", "mp_pool"), found.problem
    return found


@pytest.fixture
def advised(tmp_path, advice) -> Path:
    """A folder as `advise --out` leaves it."""
    write_advice(advice, tmp_path / "advised")
    return tmp_path / "advised"


def test_advise_out_files_are_readable_by_others_like_the_report(advised):
    """advise.html and advise.json are pages to open and serve, as the report's are (mkstemp alone made them 0600),
    and no staging file is left beside them."""
    written = sorted(path.name for path in advised.iterdir())
    assert written == ["advise.html", "advise.json"]
    assert {name: (advised / name).stat().st_mode & 0o777 for name in written} == {name: 0o644 for name in written}


def test_a_failed_advise_page_leaves_the_previous_files(advised, advice, monkeypatch):
    """Both files or neither: a page that fails to render replaces neither of the previous ones."""
    before = {path.name: path.read_bytes() for path in advised.iterdir()}

    def broken(_advice):
        raise RuntimeError("no page today")

    monkeypatch.setattr("concurrency_lab.report.html.advice_page", broken)
    with pytest.raises(RuntimeError, match="no page today"):
        write_advice(advice, advised)
    assert {path.name: path.read_bytes() for path in advised.iterdir()} == before


def _report(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _trials_table(page: str) -> str:
    found = re.search(r'<table class="advice-trials">.*?</table>', page, re.S)
    assert found, page
    return found.group(0)


def test_the_report_of_an_advise_folder_has_the_advice_section(advised, advice, tmp_path, capsys):
    code, out, err = _report(capsys, str(advised), "--out", str(tmp_path / "report"))
    assert code == 0, err
    page = (tmp_path / "report" / "index.html").read_text()
    section = page[page.index('<section class="advice" id="advice">'):]
    label = advice.recommended.label
    named = f"{advice.recommended.variant} with 2 workers, chunksize={advice.chunksize_for_all}"
    assert f"<strong>Use</strong> {named}: expected {advice.speedup:.2f}x sequential (" in section
    assert '<a href="#advice">advice</a>' in page
    assert "advise <code>advise_targets:sum_of_squares</code>" in section
    assert str(escape(advice.reasons[0])) in section
    assert re.search(rf'<tr class="recommended"><td>{re.escape(label)}</td><td class="num">{advice.speedup:.2f}x</td>'
                     r'<td class="num">2\.00</td>', section), _trials_table(section)
    assert "<td>thread_pool x2</td>" in section  # a row that was not named
    assert f"<pre><code>{escape(advice.snippet)}</code></pre>" in section
    assert "if __name__ == &#34;__main__&#34;:" in section  # escaped, not raw
    # Only advice given: no benchmark parts around it.
    assert 'id="claims"' not in page and 'id="failure-modes"' not in page
    # The advise page is the same section: one macro renders both.
    own_page = (advised / "advise.html").read_text()
    assert _trials_table(own_page) == _trials_table(section)
    assert f"<pre><code>{escape(advice.snippet)}</code></pre>" in own_page


def test_the_markdown_and_json_reports_carry_the_advice(advised, advice, tmp_path, capsys):
    assert _report(capsys, str(advised / "advise.json"), "--out", str(tmp_path / "report"))[0] == 0
    markdown = (tmp_path / "report" / "summary.md").read_text()
    assert "## Advice: `advise_targets:sum_of_squares`" in markdown
    assert f"**Use** {advice.recommended.variant} with 2 workers, chunksize={advice.chunksize_for_all}: expected " \
           f"{advice.speedup:.2f}x sequential" in markdown
    assert f"| **{advice.recommended.label}** | {advice.speedup:.2f}x | 2.00 |" in markdown
    assert f"```python\n{advice.snippet}\n```" in markdown
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert [a["function"] for a in summary["advice"]] == ["advise_targets:sum_of_squares"]


def test_advice_measured_on_a_loaded_machine_carries_the_warning_everywhere(advice, tmp_path, capsys):
    import copy

    loaded = copy.deepcopy(advice)
    for trial in loaded.trials:
        trial.other_cores = [0.8] * len(trial.round_seconds)
    assert not advice.other_cores  # the fake runner measures no other load
    write_advice(loaded, tmp_path / "loaded")
    assert _report(capsys, str(tmp_path / "loaded"), "--out", str(tmp_path / "report"))[0] == 0
    said = "other processes used 0.80 of the 2 CPUs while this was measured"
    page = (tmp_path / "report" / "index.html").read_text()
    assert f'<p class="warnings"><strong>Warning:</strong> {said}' in page
    assert f"**Warning:** {said}" in (tmp_path / "report" / "summary.md").read_text()
    assert said in (tmp_path / "loaded" / "advise.html").read_text()
    quiet = (tmp_path / "quiet")
    write_advice(advice, quiet)
    assert "other processes used" not in (quiet / "advise.html").read_text()


def test_latest_in_takes_advise_json_beside_the_benchmarks_and_not_the_speed_benchmark(advice, tmp_path, capsys):
    benchmarks = tmp_path / ".benchmarks"
    (benchmarks / "3.11").mkdir(parents=True)
    (benchmarks / "3.11" / "latest.json").write_text((DATA / "run_py311.json").read_text())
    write_advice(advice, benchmarks / "sum_of_squares")
    # What tox's 3.11 env saves of tests/test_advise_speed.py: pytest-benchmark JSON, not the lab's records.
    (benchmarks / "3.11" / "advise_speed.json").write_text(json.dumps({"benchmarks": [{"name": "x", "extra_info": {}}]}))
    code, out, err = _report(capsys, "--latest-in", str(benchmarks), "--out", str(tmp_path / "report"))
    assert code == 0, err
    assert "advise_speed" not in out + err
    page = (tmp_path / "report" / "index.html").read_text()
    assert 'id="claims"' in page and "advise <code>advise_targets:sum_of_squares</code>" in page
    assert "1 run(s) of the same benchmarks and 1 advise result(s)" in page
    assert "advise_speed.json" not in page


def test_an_advice_of_a_newer_schema_is_refused_in_one_line(advised, tmp_path, capsys):
    document = json.loads((advised / "advise.json").read_text())
    document["schema_version"] = ADVICE.newest + 1
    (advised / "advise.json").write_text(json.dumps(document))
    code, out, err = _report(capsys, str(advised), "--out", str(tmp_path / "report"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("concurrency-lab report: error: ")
    assert f"advice schema {ADVICE.newest + 1} is newer than this concurrency-lab reads " \
           f"(up to {ADVICE.newest}): upgrade concurrency-lab" in err
    assert not (tmp_path / "report").exists()
    # The library's loader leaves it out with a warning instead.
    summary = load_results([advised / "advise.json", DATA / "run_py311.json"])
    assert summary.advice == [] and len(summary.runs) == 1
    assert any("newer than this concurrency-lab reads" in w.message for w in summary.warnings)


def test_a_file_that_is_neither_is_still_refused(tmp_path, capsys):
    (tmp_path / "other.json").write_text(json.dumps({"function": "f"}))
    code, _, err = _report(capsys, str(tmp_path / "other.json"), "--out", str(tmp_path / "report"))
    assert code == 2 and "is not pytest-benchmark results" in err and "advise" in err


def test_advice_not_judged_is_labelled_so_everywhere(advice, tmp_path, capsys):
    """An answer the measurements could not decide reads "Not judged", not "No advice", in every view."""
    import copy

    unjudged = copy.deepcopy(advice)
    unjudged.recommended, unjudged.speedup, unjudged.snippet, unjudged.judged = None, None, "", False
    unjudged.problem = "other processes used 1.29 of the 2 CPUs: run it again on a quieter machine"
    write_advice(unjudged, tmp_path / "unjudged")
    assert _report(capsys, str(tmp_path / "unjudged"), "--out", str(tmp_path / "report"))[0] == 0
    page = (tmp_path / "report" / "index.html").read_text()
    assert f"<strong>Not judged:</strong> {unjudged.problem}" in page and "<strong>No advice:</strong>" not in page
    assert f"**Not judged:** {unjudged.problem}" in (tmp_path / "report" / "summary.md").read_text()
    assert f"NOT JUDGED: {unjudged.problem}" in (tmp_path / "unjudged" / "advise.html").read_text()
