"""Workers that share this process but not its GIL (interpreters, a GIL each) in the report: beside the threads' GIL
claim on every Python, side by side with free-threaded threads across Pythons, buying cores, their one process's
memory against worker processes' tree, and their start-up per worker. Rows are found by kind, never by name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from report_fixtures import MIB, gil_each_variant, with_gil_each_rows

from concurrency_lab.core.traits import Kind, Role
from concurrency_lab.numerics.formatting import format_cores, format_seconds, format_times
from concurrency_lab.records.summary import Result, Summary
from concurrency_lab.report import load_results, write_reports
from concurrency_lab.report.across import across_pythons
from concurrency_lab.report.claims import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, check_claims
from concurrency_lab.report.verdicts import verdicts

DATA = Path(__file__).parent / "data"
PY311, PY313T = DATA / "run_py311.json", DATA / "run_py313.json"  # a GIL build; a free-threaded one
FACTOR = 0.95  # the gil-each rows' medians against the process executor's: a little faster (no process to pickle to)


@pytest.fixture(scope="module")
def gil_each() -> str:
    return gil_each_variant()


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> Summary:
    folder = tmp_path_factory.mktemp("gil_each")
    return load_results([with_gil_each_rows(PY311, folder, FACTOR), with_gil_each_rows(PY313T, folder, FACTOR)])


def _row(summary: Summary, run: int, variant: str, workers: int, mode: str = "warm") -> Result:
    """The `processor` row of `variant` at the run's default start method (the fixtures' `fork`), or none."""
    (found,) = [r for r in summary.results if (r.run, r.workload, r.variant, r.workers, r.mode, r.trap)
                == (run, "processor", variant, workers, mode, None) and r.start_method in (None, "fork")]
    return found


def _best(summary: Summary, run: int, variant: str) -> Result:
    """Its warm `processor` row with more than one worker and the highest speedup: what a kind reaches."""
    return max((r for r in summary.results if (r.run, r.workload, r.variant, r.mode, r.trap)
                == (run, "processor", variant, "warm", None) and r.workers > 1), key=lambda r: r.speedup or 0.0)


def _threads_claim(summary: Summary) -> list:
    return next(checks for claim, checks in check_claims(summary) if claim.key == "threads_no_cpu_speedup")


def _texts(summary: Summary, rule: str, run: int = 0) -> list[str]:
    return [v.text for v in verdicts(summary) if (v.rule, v.run, v.workload) == (rule, run, "processor")]


def _variant_of(kind: Kind, role: Role | None = None) -> str:
    from concurrency_lab.variants import VARIANT_NAMES, variant_class

    return next(n for n in VARIANT_NAMES if variant_class(n).kind is kind and (role is None or variant_class(n).role is role))


def test_the_gil_claim_shows_what_interpreters_reach_on_each_python(summary, gil_each):
    gil, free_threaded = _threads_claim(summary)
    assert (gil.status, free_threaded.status) == (HOLDS, DOES_NOT_HOLD)  # the threads decide it, as before
    for run, check in enumerate((gil, free_threaded)):
        best = _best(summary, run, gil_each)
        assert best.speedup is not None and best.speedup > 1.5
        assert (f"beside them, interpreters (one process, a GIL each) on `processor`: `{gil_each}` with "
                f"{best.workers} workers (warm) {format_times(best.speedup)}, {format_cores(best.cores_used)} cores"
                ) in check.numbers
        assert check.sections == (("processor", "standard"),)


def test_interpreters_are_shown_where_no_thread_row_is(tmp_path, gil_each):
    document = with_gil_each_rows(PY311, tmp_path, FACTOR)
    summary = load_results([document])
    threads = set(Kind.about("threads"))
    without_threads = Summary(summary.runs, [r for r in summary.results if r.kind not in threads], summary.warnings)
    (check,) = _threads_claim(without_threads)
    assert check.status == NOT_MEASURED and "no thread rows" in check.numbers
    assert f"`{gil_each}` with {_best(summary, 0, gil_each).workers} workers" in check.numbers
    assert check.sections == (("processor", "standard"),)


def test_interpreters_buy_cores_and_threads_keep_their_own_verdict(summary, gil_each):
    texts = _texts(summary, "cores_for_speedup")
    best = _row(summary, 0, gil_each, 2)  # the representative row: workers = the 2 usable CPUs
    assert any(t.startswith(f"`{gil_each}` uses {format_cores(best.cores_used)} cores for a "
                            f"{format_times(best.speedup)} speedup on `processor`") for t in texts)
    sharing = {r.variant for r in summary.results if r.kind is not None and r.kind.shares_gil}  # baseline, threads
    assert len(sharing) >= 3 and not [t for t in texts if any(t.startswith(f"`{name}` ") for name in sharing)]


def test_memory_of_one_process_against_the_process_tree_at_the_same_workers(summary, gil_each):
    executor = _variant_of(Kind.PROCESSES, Role.AFTER)
    texts = [t for t in _texts(summary, "tree_memory") if " at 2 workers, warm " in t]
    (text,) = texts
    mine = _row(summary, 0, gil_each, 2)
    theirs = _row(summary, 0, executor, 2)
    assert mine.peak_uss_bytes == 70 * MIB and theirs.peak_processes == 3
    assert f"`{gil_each}` 70.0 MiB in 1 process vs " in text
    assert f"`{executor}` (`fork`) {theirs.peak_uss_bytes / MIB:.1f} MiB in 3 processes" in text
    assert "copy-on-write" in text  # a fork pool's USS understates its tree, and the line says so
    baseline = next(r for r in summary.results if r.run == 0 and r.workload == "processor" and r.is_baseline)
    assert f"the caller alone (`{baseline.variant}`): {baseline.peak_uss_bytes / MIB:.1f} MiB" in text


def test_start_up_is_given_per_worker(summary, gil_each):
    cold, warm = _row(summary, 0, gil_each, 2, "cold"), _row(summary, 0, gil_each, 2)
    (text,) = [t for t in _texts(summary, "pool_start_cost") if f"`{gil_each}`" in t]
    assert text.startswith(f"starting `{gil_each}` with 2 workers on `processor` costs "
                           f"{format_seconds(cold.median_s - warm.median_s)} "
                           f"({format_seconds((cold.median_s - warm.median_s) / 2)} a worker, ")


def test_across_pythons_sets_interpreters_beside_free_threaded_threads(summary, gil_each):
    (table,) = [t for t in across_pythons(summary) if t.title.startswith("Python on every core: `processor`")]
    assert table.header == ("Python", "GIL", "threads", "interpreters", "processes")
    gil_row, free_row = table.rows
    assert gil_row[:2] == ("CPython 3.11.9", "enabled")
    assert free_row[:2] == ("CPython 3.13.1 free-threaded, GIL disabled", "disabled")
    threads = _row(summary, 1, _variant_of(Kind.THREADS, Role.AFTER), 2)
    assert "1.90x" in free_row[2] and format_times(threads.speedup) in free_row[2]
    mine = _best(summary, 1, gil_each)
    assert free_row[3] == (f"`{gil_each}` {format_times(mine.speedup)} on {format_cores(mine.cores_used)} cores, "
                           f"{mine.workers}w")
    assert gil_row[3].startswith(f"`{gil_each}` ") and gil_row[3].endswith(f"{_best(summary, 0, gil_each).workers}w")


def test_a_python_without_interpreters_shows_a_dash_and_says_so(tmp_path):
    summary = load_results([PY311, with_gil_each_rows(PY313T, tmp_path, FACTOR)])
    (table,) = [t for t in across_pythons(summary) if t.title.startswith("Python on every core")]
    gil_row, free_row = table.rows
    assert gil_row[3] == "–" and free_row[3] != "–"
    without, with_them = _threads_claim(summary)
    assert "no interpreters on this Python (not selected, or unavailable here)" in without.numbers
    assert "no interpreters" not in with_them.numbers and "beside them, interpreters" in with_them.numbers


def test_without_interpreters_there_is_no_every_core_table():
    assert not [t for t in across_pythons(load_results([PY311, PY313T])) if t.title.startswith("Python on every core")]


def test_both_reports_show_the_every_core_table(summary, tmp_path, gil_each):
    write_reports(summary, tmp_path)
    markdown = (tmp_path / "summary.md").read_text()
    assert "**Python on every core: `processor` standard, each way on each Python**" in markdown
    assert "| Python | GIL | threads | interpreters | processes |" in markdown
    html = (tmp_path / "index.html").read_text()
    assert "<th>interpreters</th>" in html and f"<td><code>{gil_each}</code> " in html


def test_the_every_core_table_in_chromium(summary, tmp_path, gil_each):
    """As a reader sees it: the table's header names the three ways, each Python's row shows the interpreters' figure
    beside the threads', and the table fits the window (no horizontal scroll)."""
    browser = pytest.importorskip("browser")
    browser.chromium_or_skip()
    write_reports(summary, tmp_path)
    with browser.headless_chromium(tmp_path / "chromium-profile") as driver:
        from selenium.webdriver.common.by import By

        browser.leave_the_start_page(driver)
        driver.get((tmp_path / "index.html").as_uri())
        heading = next(h for h in driver.find_elements(By.CSS_SELECTOR, "h3")
                       if h.text.startswith("Python on every core: processor"))
        table = heading.find_element(By.XPATH, "following-sibling::table[1]")
        header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "th")]
        rows = [[td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")]
                for tr in table.find_elements(By.CSS_SELECTOR, "tr")[1:]]
        shown, box = table.is_displayed(), table.rect
        window = driver.execute_script("return document.documentElement.clientWidth")
    assert header == ["Python", "GIL", "threads", "interpreters", "processes"]
    assert [row[1] for row in rows] == ["enabled", "disabled"]
    assert all(row[3].startswith(f"{gil_each} ") and row[2] != "–" for row in rows)
    assert shown and box["width"] > 0 and box["x"] + box["width"] <= window


def test_a_noisy_interpreters_figure_beside_the_claim_says_so(summary, gil_each):
    best = _best(summary, 0, gil_each)
    noisy = Summary(summary.runs, [dataclasses.replace(r, cv=0.26, noisy=True) if r is best else r
                                   for r in summary.results], summary.warnings)
    quiet_check, noisy_check = _threads_claim(summary)[0], _threads_claim(noisy)[0]
    assert "a rough figure" not in quiet_check.numbers
    assert noisy_check.numbers.endswith(f"{format_cores(best.cores_used)} cores (rounds spread CV 26%: a rough figure)")
    assert noisy_check.status == quiet_check.status  # it decides nothing
