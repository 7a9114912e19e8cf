"""The end of `concurrency-lab run` (and `report`): the what-to-use table and where the report is; the verdicts
stay in the files and reach the screen only with `verbose` (the CLI's -v)."""

from __future__ import annotations

from pathlib import Path

from concurrency_lab.bench.run import write_run_reports
from concurrency_lab.report import load_results, verdicts
from concurrency_lab.report.guide import guides, render_text

NEWCOMER = Path(__file__).parent / "data" / "run_newcomer.json"


def test_the_screen_ends_with_the_answer_and_the_path_not_every_verdict(tmp_path, capsys):
    assert write_run_reports([NEWCOMER], tmp_path) == 0
    out = capsys.readouterr().out
    summary = load_results([NEWCOMER])
    assert render_text(guides(summary)) in out
    drawn = verdicts(summary)
    assert not [v for v in drawn if v.text in out]  # no verdict on the screen
    last = out.rstrip("\n").splitlines()[-1]
    assert last == (f"wrote the report: {tmp_path / 'index.html'} (beside it summary.json, summary.md; "
                    f"{len(drawn)} verdicts in them: `concurrency-lab run -v` prints them here)")
    assert len(out.splitlines()) < 12  # one screen, not ~50 verdict lines
    assert (tmp_path / "index.html").exists() and (tmp_path / "summary.md").exists()


def test_verbose_prints_every_verdict_before_the_answer(tmp_path, capsys):
    assert write_run_reports([NEWCOMER], tmp_path, verbose=True) == 0
    out = capsys.readouterr().out
    drawn = verdicts(load_results([NEWCOMER]))
    assert all(f"  - {v.text}\n" in out for v in drawn)
    assert out.index(drawn[-1].text) < out.index("What to use for what")
    last_line = out.rstrip("\n").splitlines()[-1]
    assert last_line == f"wrote the report: {tmp_path / 'index.html'} (beside it summary.json, summary.md)"
