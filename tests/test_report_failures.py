"""The failure-modes table in the reports: read from a results file's ``lab_failures``, shown per run
beside the speed tables, "not measured" for files without it, and a variant registered at run time
gets its rows with no edit of the table code.

`data/lab_failures.json` is a table measured on the lab's 2-CPU machine (``measure_failures()``,
CPython 3.11); the tests put it into a copy of a saved results file.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from concurrency_lab import variants
from concurrency_lab.failures import JSON_KEY, SCHEMA_VERSION, FailureTable, tasks
from concurrency_lab.failures.runner import measure_failures
from concurrency_lab.records.failure_outcomes import CALLER_ENDS
from concurrency_lab.report import load_results, write_reports
from concurrency_lab.report.failure_table import DOES_NOT_APPLY, NOT_MEASURED, failure_view
from concurrency_lab.report.html import render_html_chunks
from concurrency_lab.report.markdown import render_markdown
from concurrency_lab.report.tables import variant_rank
from concurrency_lab.variants.thread_pool import ThreadPool

DATA = Path(__file__).with_name("data")
TABLE = json.loads((DATA / "lab_failures.json").read_text())


def _results_file(tmp_path: Path, table: dict | None, name: str = "with_failures.json") -> Path:
    document = json.loads((DATA / "run_py311.json").read_text())
    if table is not None:
        document[JSON_KEY] = table
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def summary(tmp_path):
    return load_results([_results_file(tmp_path, TABLE), DATA / "run_py313.json"])


def test_the_table_loads_into_its_run_and_old_files_have_none(summary):
    measured, old = summary.runs
    assert measured.failures == FailureTable.from_dict(TABLE) and old.failures is None
    assert not [w for w in summary.warnings if "failure" in w.message]


def test_rows_follow_the_variant_order_of_the_speed_tables_and_columns_the_recorded_cases(summary):
    table = summary.runs[0].failures
    view = failure_view(table)
    assert view.columns == ("variant", *(case["title"] for case in TABLE["cases"]), "workers left")
    traits = {o.variant: o.traits for o in table.outcomes}
    assert [row.variant for row in view.rows] == sorted(traits, key=lambda name: variant_rank(traits[name], name))
    assert not any(row.undocumented for row in view.rows)  # as measured: every variant failed as documented


def test_cells_say_the_error_and_the_case_that_does_not_apply(summary):
    table = summary.runs[0].failures
    rows = {row.variant: dict(zip(failure_view(table).columns, row.cells, strict=True)) for row in failure_view(table).rows}
    for outcome in table.outcomes:
        title = next(case.title for case in table.cases if case.name == outcome.case)
        expected = "returned, " if outcome.error is None else outcome.error.rsplit(".", 1)[-1] + ", "
        assert rows[outcome.variant][title].startswith(expected)
    process_rows = {o.variant for o in table.outcomes if o.case == "worker_exits"}
    assert process_rows and all(rows[v]["worker exits"].startswith("BrokenPool, ") for v in process_rows)
    assert all(rows[v]["worker exits"] == DOES_NOT_APPLY for v in set(rows) - process_rows)
    threads = {o.variant for o in table.outcomes if o.stopped is False and o.threads_left}
    assert threads and all("not stopped" in rows[v]["timeout"] and "timeout: 2 threads, ended" in rows[v]["workers left"]
                           for v in threads)


def test_markdown_shows_it_per_run_and_says_when_it_was_not_measured(summary):
    text = render_markdown(summary)
    measured, old = text.split("\n## CPython 3.13.1")
    section = measured[measured.index("### Failure modes"):]
    assert "| variant | task raises | worker exits |" in section and "| workers left |" in section
    assert "a running thread cannot be stopped" in section and "pool start-up and shutdown included" in section
    assert text.count("### Failure modes") == 2 and NOT_MEASURED in old


def test_html_shows_it_with_each_message_on_hover(summary):
    html = "".join(render_html_chunks(summary))
    section = html[html.index('id="failure-modes"'):]
    assert '<a href="#failure-modes">failure modes</a>' in html
    assert "<th>worker crashes</th>" in section and 'title="probe task refused item 1"' in section
    assert "&lt;locals&gt;" in section and "<locals>" not in section  # messages are escaped
    assert NOT_MEASURED in section


def test_summary_json_carries_the_table_per_run(summary, tmp_path):
    write_reports(summary, tmp_path / "out")
    runs = json.loads((tmp_path / "out" / "summary.json").read_text())["runs"]
    assert FailureTable.from_dict(runs[0]["failure_modes"]) == summary.runs[0].failures
    assert runs[1]["failure_modes"] is None


def test_a_hang_and_an_undocumented_error_are_shown_as_such(tmp_path):
    table = copy.deepcopy(TABLE)
    hung, wrong = (o for o in table["outcomes"] if o["case"] == "worker_exits")
    hung.update(returned=False, error=None, documented=False, note="hung: no error within 30 s", processes_left=2,
                threads_left=None, left_running_s=None)
    wrong.update(error="builtins.RuntimeError", documented=False)
    summary = load_results([_results_file(tmp_path, table)])
    view = failure_view(summary.runs[0].failures)
    rows = {row.variant: row for row in view.rows}
    cells = {name: dict(zip(view.columns, row.cells, strict=True)) for name, row in rows.items()}
    assert cells[hung["variant"]]["worker exits"] == "hung: no error within 30 s"
    assert "worker exits: 2 processes, killed by the watchdog" in cells[hung["variant"]]["workers left"]
    assert cells[wrong["variant"]]["worker exits"].endswith("(documented: BrokenPool)")
    assert rows[hung["variant"]].undocumented and rows[wrong["variant"]].undocumented
    assert any("did not fail the way the lab documents" in note for note in view.notes)
    assert 'class="undocumented"' in "".join(render_html_chunks(summary))


def test_a_call_that_ended_the_calling_process_shows_it_and_how_in_place_of_an_empty_cell(tmp_path):
    """A row with no worker-death outcome (its tasks run in the caller) gets one that says the caller ended, with
    the signal; where BrokenPool is documented, the same words name it; the notes say what such a cell means."""
    table = copy.deepcopy(TABLE)
    process = next(o for o in table["outcomes"] if o["case"] == "worker_crashes")
    in_caller = next(o for o in table["outcomes"] if o["variant"] not in {p["variant"] for p in table["outcomes"]
                                                                          if p["case"] == "worker_crashes"})
    ended = dict(in_caller, case="worker_crashes", expected=CALLER_ENDS, error=None, message=None, cause=None,
                 stopped=None, unfinished=None, seconds=None, returned=False, documented=True, processes_left=None,
                 threads_left=None, left_running_s=None, said=None, note=f"{CALLER_ENDS}: SIGSEGV", exit_status=-11)
    process.update(returned=False, documented=False, error=None, exit_status=-11, note="the probe process died")
    table["outcomes"].append(ended)
    view = failure_view(load_results([_results_file(tmp_path, table)]).runs[0].failures)
    rows = {row.variant: row for row in view.rows}
    cells = {name: dict(zip(view.columns, row.cells, strict=True)) for name, row in rows.items()}
    assert cells[ended["variant"]]["worker crashes"] == f"{CALLER_ENDS}, SIGSEGV"
    assert cells[process["variant"]]["worker crashes"] == f"{CALLER_ENDS}, SIGSEGV (documented: BrokenPool)"
    assert not rows[ended["variant"]].undocumented and rows[process["variant"]].undocumented
    (note,) = [note for note in view.notes if note.startswith(f"{CALLER_ENDS} (")]
    assert f"`{ended['variant']}`" in note and "no error can be raised" in note


def test_a_case_that_returns_words_shows_them_and_a_cell_that_differs_says_what_is_documented(tmp_path):
    """A case whose run says what happened ("earlier future stopped") shows those words; a cell whose
    outcome differs from the documented one names the documented one, words, "returned" or an error."""
    table = copy.deepcopy(TABLE)
    table["cases"].append({"name": "beside", "title": "beside", "does": "a warm timeout beside a future",
                           "applies_to": "variants that offer submit()"})
    first, second, third = [o for o in table["outcomes"] if o["case"] == "task_raises"][:3]
    as_said = dict(first, case="beside", expected="earlier future stopped", error=None, message=None, cause=None,
                   documented=True, said="earlier future stopped")
    differs = dict(second, case="beside", expected="earlier future stopped", error=None, message=None, cause=None,
                   documented=False, said="earlier future finished")
    raised = dict(third, case="beside", expected="results", error="concurrency_lab.core.errors.NotPicklable",
                  message="could not be sent back", cause=None, documented=False)
    escaped = dict(third, case="task_raises", expected="concurrency_lab.core.errors.TaskExit", error="builtins.SystemExit",
                   message="3", documented=False)
    table["outcomes"] = [o for o in table["outcomes"] if o is not third] + [as_said, differs, raised, escaped]
    view = failure_view(load_results([_results_file(tmp_path, table)]).runs[0].failures)
    cells = {row.variant: dict(zip(view.columns, row.cells, strict=True)) for row in view.rows}
    assert cells[first["variant"]]["beside"].startswith("earlier future stopped, ")
    assert "documented" not in cells[first["variant"]]["beside"]
    assert cells[second["variant"]]["beside"].startswith("earlier future finished, ")
    assert cells[second["variant"]]["beside"].endswith("(documented: earlier future stopped)")
    assert cells[third["variant"]]["beside"].endswith("(documented: returned)")
    assert cells[third["variant"]]["task raises"].startswith("SystemExit, ")
    assert cells[third["variant"]]["task raises"].endswith("(documented: TaskExit)")
    assert any("differs from the documented one" in note for note in view.notes)


def test_a_newer_table_is_left_out_in_one_line_and_the_benchmarks_still_load(tmp_path):
    path = _results_file(tmp_path, {**TABLE, "schema": SCHEMA_VERSION + 1})
    summary = load_results([path])
    assert summary.results and summary.runs[0].failures is None
    (warning,) = [w for w in summary.warnings if "failure modes" in w.message]
    assert f"schema {SCHEMA_VERSION + 1} is newer" in warning.message and "\n" not in warning.message


TOY = "toy_failure_threads"


class ToyThreads(ThreadPool):
    """A thread pool under another name and API: the table must take it by registration alone."""

    name = TOY
    summary = "a thread pool registered by a test"
    api_family, api = "tests", "ToyThreads.map"
    role = lesson_pair = None


@pytest.fixture
def toy_registered():
    variants.register(ToyThreads)
    try:
        yield TOY
    finally:
        variants.unregister(TOY)


def test_a_registered_variant_gets_its_rows_with_no_edit_of_the_table_code(toy_registered, tmp_path):
    table = measure_failures([toy_registered])
    assert {o.case for o in table.outcomes} == {  # by its traits: in-process, offers submit, threads
        "task_raises", "timeout", "unpicklable_task", "future_unasked", "task_exits", "result_not_rebuilt",
        "error_not_rebuilt", "item_exits_pickled", "timeout_beside_submit", "close_waits",
        "worker_exits", "worker_killed", "worker_crashes"}  # these three end the calling process
    assert [(o.case, o.error, o.note) for o in table.outcomes if o.problem() is not None] == []
    path = _results_file(tmp_path, table.to_dict())
    write_reports(load_results([path]), tmp_path / "out")
    markdown = (tmp_path / "out" / "summary.md").read_text()
    assert f"| {TOY} | ProbeFailure, " in markdown and f"`{TOY}`" in markdown  # its row, and the not-stopped note
    assert f"| {CALLER_ENDS}, exit code {tasks.HARD_EXIT_CODE} |" in markdown  # worker exits: its cell
    assert f'<td class="variant">{TOY}</td>' in (tmp_path / "out" / "index.html").read_text()
    runs = json.loads((tmp_path / "out" / "summary.json").read_text())["runs"]
    assert {o["variant"] for o in runs[0]["failure_modes"]["outcomes"]} == {TOY}
