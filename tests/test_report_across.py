"""Several Pythons side by side, and the free-threaded build's single-thread cost from a fair pair of builds."""

from __future__ import annotations

import json
from pathlib import Path

from concurrency_lab.report import load_results, write_reports
from concurrency_lab.report.across import across_pythons, single_thread_cost

DATA = Path(__file__).parent / "data"
PY311, PY313T = DATA / "run_py311.json", DATA / "run_py313.json"


def _gil_twin(tmp_path: Path, version: str, config_args: str) -> Path:
    """run_py313.json as if a GIL build had run it (its figures do not matter here, only its build)."""
    document = json.loads(PY313T.read_text())
    info = document["machine_info"]
    info.update(free_threaded_build=False, gil_enabled=True, python_version=version, config_args=config_args)
    for benchmark in document["benchmarks"]:
        if benchmark["extra_info"]["variant"] == "sequential":
            benchmark["stats"]["median"] *= 0.8  # the GIL build runs one thread faster
    path = tmp_path / f"gil-{version}.json"
    path.write_text(json.dumps(document))
    return path


def _free_threaded(tmp_path: Path, config_args: str) -> Path:
    document = json.loads(PY313T.read_text())
    document["machine_info"]["config_args"] = config_args
    path = tmp_path / "free.json"
    path.write_text(json.dumps(document))
    return path


def test_one_python_gets_no_side_by_side():
    assert across_pythons(load_results([PY311])) == []


def test_the_fastest_variant_and_the_same_rows_on_each_python():
    best, *rows = across_pythons(load_results([PY311, PY313T]))
    assert best.header[1:] == ("CPython 3.11.9", "CPython 3.13.1 free-threaded, GIL disabled")
    processor = next(r for r in best.rows if r[0].startswith("`processor`"))
    assert "`mp_pool`" in processor[1] and "`thread_pool`" in processor[2]  # threads win only without the GIL
    (same,) = [t for t in rows if t.title.startswith("`processor`")]
    thread_pool = next(r for r in same.rows if r[0] == "`thread_pool`")
    assert thread_pool[1].startswith("0.98x") and thread_pool[2].startswith("1.90x")


def test_single_thread_cost_from_a_fair_pair(tmp_path):
    flags = "'--prefix=/cache/3.13' '--enable-shared'"
    free = _free_threaded(tmp_path, "'--prefix=/cache/3.13t' '--enable-shared' '--disable-gil'")
    table = single_thread_cost(load_results([free, _gil_twin(tmp_path, "3.13.1", flags)]))
    processor = next(r for r in table.rows if r[1].startswith("`processor`"))
    assert processor[4] == "1.25x"  # 1 / 0.8
    assert any("the same release and configure flags but --disable-gil" in n for n in table.notes)
    assert any("separate runs" in n for n in table.notes)


def test_an_unfair_pair_is_named_as_such(tmp_path):
    free = _free_threaded(tmp_path, "'--prefix=/cache/3.13t' '--disable-gil'")
    table = single_thread_cost(load_results([free, _gil_twin(tmp_path, "3.13.0", "'--prefix=/p' '--enable-optimizations'")]))
    (note,) = [n for n in table.notes if "not a fair pair" in n]
    assert "another release (3.13.0 against 3.13.1)" in note and "other configure flags" in note


def test_both_reports_show_the_side_by_side(tmp_path):
    write_reports(load_results([PY311, PY313T]), tmp_path)
    assert "## Across Pythons" in (tmp_path / "summary.md").read_text()
    assert 'id="across"' in (tmp_path / "index.html").read_text()
