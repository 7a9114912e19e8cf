"""write_reports: three files, written atomically; a failed render leaves the previous ones intact."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2")
pytest.importorskip("matplotlib", reason="the HTML report draws its charts with matplotlib")

from concurrency_lab.core import atomic_files
from concurrency_lab.report import load_results, write_reports, writer

DATA = Path(__file__).parent / "data"
NAMES = ["summary.json", "summary.md", "index.html"]


@pytest.fixture(scope="module")
def summary():
    return load_results([DATA / "run_hostile.json", DATA / "run_empty.json"])  # small: one chart pair


def test_writes_three_reports_into_a_new_directory(summary, tmp_path):
    out = tmp_path / "reports" / "latest"
    paths = write_reports(summary, out)
    assert [p.name for p in paths] == NAMES and all(p.parent == out for p in paths)
    assert sorted(os.listdir(out)) == sorted(NAMES)  # no temporary file left behind
    document = json.loads((out / "summary.json").read_text())
    assert list(document) == ["schema", "generated", "runs", "results", "warnings", "advice", "claims", "verdicts"]
    assert document["verdicts"][0]["rule"] == "winner"
    assert (out / "summary.md").read_text().startswith("# Concurrency lab report")
    assert (out / "index.html").read_text().rstrip().endswith("</html>")
    assert all((p.stat().st_mode & 0o777) == atomic_files.REPORT_MODE for p in paths)


def test_failed_render_leaves_previous_reports_intact(summary, tmp_path, monkeypatch):
    write_reports(summary, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in NAMES}

    def half_a_page(*args, **kwargs):
        yield "<!doctype html><html><body><h1>partial"
        raise RuntimeError("renderer died mid-page")

    monkeypatch.setattr(writer, "render_html_chunks", half_a_page)
    with pytest.raises(RuntimeError, match="mid-page"):
        write_reports(summary, tmp_path)
    assert {name: (tmp_path / name).read_bytes() for name in NAMES} == before  # json and md not replaced either
    assert sorted(os.listdir(tmp_path)) == sorted(NAMES)


def test_failed_first_render_writes_nothing(summary, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("no markdown today")

    monkeypatch.setattr(writer, "render_markdown", broken)
    with pytest.raises(ValueError):
        write_reports(summary, tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


def test_staged_file_is_complete_and_synced_before_replace(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic_files.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    staged = atomic_files.stage(tmp_path, "report.txt", lambda: ["a", "b", "c"])
    assert staged.parent == tmp_path and staged.name.startswith(".report.txt.")
    assert staged.read_text() == "abc" and synced
