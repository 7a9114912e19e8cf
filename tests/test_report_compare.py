"""compare_runs: benchmarks matched by name, ratio of medians, p-value only from per-round data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concurrency_lab.numerics.stats import mann_whitney_u
from concurrency_lab.report import compare_runs, format_comparison_table
from concurrency_lab.report.compare import NO_ROUND_DATA, geometric_mean_ratio

DATA = Path(__file__).parent / "data"
PY311, PY313 = DATA / "run_py311.json", DATA / "run_py313.json"
THREAD_POOL_2 = "test_processor[thread_pool-2-warm]"


def stats_of(path: Path, name: str) -> dict:
    return next(b["stats"] for b in json.loads(path.read_text())["benchmarks"] if b["name"] == name)


def without_round_data(path: Path, tmp_path: Path) -> Path:
    """The same results as autosave writes them without --benchmark-save-data."""
    document = json.loads(path.read_text())
    for benchmark in document["benchmarks"]:
        del benchmark["stats"]["data"]
    copy = tmp_path / path.name
    copy.write_text(json.dumps(document))
    return copy


@pytest.fixture(scope="module")
def comparisons():
    return {c.key: c for c in compare_runs(PY311, PY313)}


def test_matched_by_name_with_ratio_and_p_value(comparisons):
    a, b = stats_of(PY311, THREAD_POOL_2), stats_of(PY313, THREAD_POOL_2)
    thread_pool = comparisons[THREAD_POOL_2]
    assert (thread_pool.a_median_s, thread_pool.b_median_s) == (a["median"], b["median"])
    assert thread_pool.ratio == pytest.approx(b["median"] / a["median"])
    assert thread_pool.p_value == pytest.approx(mann_whitney_u(a["data"], b["data"]))
    assert thread_pool.change == f"{a['median'] / b['median']:.2f}x faster" and thread_pool.note is None


def test_no_significant_change_when_rounds_overlap(comparisons):
    same = [c for c in comparisons.values() if c.p_value is not None and c.p_value >= 0.05]
    assert same and all(c.change == "no significant change" for c in same)


def test_benchmarks_in_one_file_only(comparisons):
    only_a = comparisons["test_processor[mp_pool-1-warm-fork]"]
    assert (only_a.change, only_a.b_median_s, only_a.ratio) == ("only in A", None, None)
    assert not [c for c in comparisons.values() if c.change == "only in B"]  # 3.13's rows are a subset of 3.11's
    reverse = {c.key: c for c in compare_runs(PY313, PY311)}
    assert reverse[only_a.key].change == "only in B"


def test_noisy_side_is_noted(comparisons):
    mp_pool = comparisons["test_processor[mp_pool-2-warm-fork]"]
    assert mp_pool.note and mp_pool.note.startswith("B is noisy: CV")


def test_without_round_data_there_is_no_p_value(tmp_path):
    found = {c.key: c for c in compare_runs(without_round_data(PY311, tmp_path), PY313)}[THREAD_POOL_2]
    assert found.p_value is None and found.note == NO_ROUND_DATA
    assert found.change.endswith("x faster")  # the ratio as measured, without a significance claim


def test_terminal_table(comparisons):
    table = format_comparison_table(list(comparisons.values()), labels=("py311", "py313"))
    lines = table.splitlines()
    assert lines[0].split() == ["benchmark", "py311", "(A)", "py313", "(B)", "change", "p", "note"]
    assert set(lines[1]) == {"-", " "}
    assert any(line.startswith("test_processor[thread_pool-2-warm]") and "faster" in line and "p=0.008" in line for line in lines)
    mean = geometric_mean_ratio(list(comparisons.values()))
    assert lines[-1] == f"geometric mean of py313 / py311: {max(mean, 1 / mean):.2f}x {'slower' if mean > 1 else 'faster'}"


def test_any_pytest_benchmark_file_compares():
    first = compare_runs(DATA / "run_old_minimal.json", DATA / "run_old_minimal.json")[0]
    assert first.ratio == 1.0 and first.change == "no change" and first.note == NO_ROUND_DATA


def test_compare_says_first_when_the_builds_differ_in_their_gil():
    from concurrency_lab.report import build_note

    note = build_note(DATA / "run_py311.json", DATA / "run_py313.json")
    assert note.startswith("NOTE: A and B differ in their GIL") and "free-threaded, GIL disabled" in note
    assert build_note(DATA / "run_py311.json", DATA / "run_py311.json") is None
    table = format_comparison_table(compare_runs(DATA / "run_py311.json", DATA / "run_py313.json"), note=note)
    assert table.splitlines()[0] == note


def test_the_merged_report_says_its_runs_differ_in_their_gil(tmp_path):
    from concurrency_lab.report import load_results, write_reports

    write_reports(load_results([DATA / "run_py311.json", DATA / "run_py313.json"]), tmp_path)
    markdown = (tmp_path / "summary.md").read_text()
    assert "**Note:** these runs differ in their GIL" in markdown.split("## The lesson's claims")[0]
    assert "these runs differ in their GIL" in (tmp_path / "index.html").read_text()
