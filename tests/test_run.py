"""`concurrency-lab run` end to end on a small slice of the matrix: real measurements, three reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from concurrency_lab.commands.cli import main

DATA = Path(__file__).with_name("data")


def test_run_writes_all_three_reports_from_real_measurements(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "concurrency_lab", "run", "--profile", "smoke", "--variants", "sequential,process_pool",
         "--workloads", "tiny_tasks", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
        # Not an xdist worker itself: pytest-benchmark disables itself when it sees this variable.
        env={k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[1/" in done.stdout  # progress, one line per benchmark
    assert {p.name for p in tmp_path.iterdir()} >= {"summary.json", "summary.md", "index.html", "results"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["schema"] == 2 and len(summary["runs"]) == 1
    rows = summary["results"]
    assert {r["variant"] for r in rows} == {"sequential", "process_pool"}
    for row in rows:
        assert row["identical"] is True
        assert row["median_s"] > 0 and row["cores_used"] > 0 and row["peak_rss_bytes"] > 0
    process_rows = [r for r in rows if r["variant"] == "process_pool" and not r["trap"]]
    assert {r["start_method"] for r in process_rows if r["mode"] == "cold"} == {"fork", "forkserver", "spawn"}
    assert any(r["trap"] == "chunksize=1" for r in rows)
    assert all(r["speedup"] is not None for r in process_rows)
    html = (tmp_path / "index.html").read_text()
    assert "<svg" in html and "<script" not in html
    assert "`process_pool`" in (tmp_path / "summary.md").read_text()


def test_report_merges_what_each_tox_env_saved_and_tolerates_skipped_envs(tmp_path, capsys):
    for env, source in (("3.11", "run_py311.json"), ("3.13", "run_py313.json")):
        (tmp_path / "benchmarks" / env).mkdir(parents=True)
        shutil.copy(DATA / source, tmp_path / "benchmarks" / env / "latest.json")
    (tmp_path / "benchmarks" / "3.14").mkdir()  # skipped: it saved nothing
    assert main(["report", "--latest-in", str(tmp_path / "benchmarks"), "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert len(summary["runs"]) == 2
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["report", "nowhere.json"], ["report"], ["compare", "a.json", "b.json"]])
def test_report_and_compare_say_what_is_missing(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_compare_two_runs(capsys):
    assert main(["compare", str(DATA / "run_py311.json"), str(DATA / "run_py313.json")]) == 0
    out = capsys.readouterr().out
    assert "processor" in out and ("faster" in out or "slower" in out)
