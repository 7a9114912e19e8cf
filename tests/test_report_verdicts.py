"""Verdicts: each rule's text carries the numbers of the model, and follows them, not expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concurrency_lab.report import load_results, verdicts
from concurrency_lab.report.formatting import format_seconds, format_times

DATA = Path(__file__).parent / "data"
PY311, PY313 = DATA / "run_py311.json", DATA / "run_py313.json"


@pytest.fixture(scope="module")
def summary():
    return load_results([PY311, PY313])


@pytest.fixture(scope="module")
def all_verdicts(summary):
    return verdicts(summary)


def texts(all_verdicts, run: int, workload: str, rule: str) -> list[str]:
    return [v.text for v in all_verdicts if (v.run, v.workload, v.rule) == (run, workload, rule)]


def row(summary, run, workload, variant, workers, mode="warm", start_method=None, trap=None):
    (result,) = [r for r in summary.results if (r.run, r.workload, r.variant, r.workers, r.mode, r.trap) ==
                 (run, workload, variant, workers, mode, trap) and (start_method is None or r.start_method == start_method)]
    return result


def test_threads_gain_nothing_with_the_gil(summary, all_verdicts):
    (text,) = texts(all_verdicts, 0, "processor", "threads_and_the_gil")
    best = max((r for r in summary.results if r.run == 0 and r.workload == "processor"
                and r.variant in ("threading", "thread_pool") and r.workers > 1), key=lambda r: r.speedup)
    assert text.startswith("threads gain nothing on `processor` with the GIL")
    assert f"{best.speedup:.2f}x" in text and f"{best.cores_used:.2f} cores" in text


def test_free_threaded_run_says_threads_run_in_parallel(summary, all_verdicts):
    (text,) = texts(all_verdicts, 1, "processor", "threads_and_the_gil")
    thread_pool = row(summary, 1, "processor", "thread_pool", 2)
    assert "gain nothing" not in text
    assert "no GIL on this free-threaded build" in text
    assert f"{thread_pool.speedup:.2f}x" in text and f"{thread_pool.cores_used:.2f} cores" in text


def test_gil_releasing_work_is_named(summary, all_verdicts):
    (text,) = texts(all_verdicts, 0, "hashing", "threads_and_the_gil")
    assert "`sha256` releases the GIL" in text
    best = max((r for r in summary.results if r.run == 0 and r.workload == "hashing" and r.variant == "thread_pool"),
               key=lambda r: r.speedup)
    assert f"is {best.speedup:.2f}x faster" in text


def test_io_threads_overlap_waiting(all_verdicts):
    (text,) = texts(all_verdicts, 0, "downloader", "threads_and_the_gil")
    assert text.startswith("threads overlap the waiting on `downloader`")


def test_thread_verdict_follows_the_numbers_not_the_workload_name(tmp_path):
    document = json.loads(PY311.read_text())
    for benchmark in document["benchmarks"]:  # pretend pure Python threads did scale on 3.11
        info = benchmark["extra_info"]
        if info["workload"] == "processor" and info["variant"] == "thread_pool" and info["workers"] == 2:
            benchmark["stats"]["median"] = 0.6
            info["cores_used"] = 1.95
    path = tmp_path / "scaled.json"
    path.write_text(json.dumps(document))
    (text,) = texts(verdicts(load_results([path])), 0, "processor", "threads_and_the_gil")
    assert "gain nothing" not in text and "is 2.00x faster on 1.95 cores" in text


def test_process_pool_cores_for_speedup(summary, all_verdicts):
    pool = row(summary, 0, "processor", "process_pool", 2, start_method="fork")
    expected = f"`process_pool` uses {pool.cores_used:.2f} cores for a {pool.speedup:.2f}x speedup on `processor`"
    assert any(t.startswith(expected) for t in texts(all_verdicts, 0, "processor", "cores_for_speedup"))


def test_process_pool_within_percent_of_mp_pool(summary, all_verdicts):
    pool, mp_pool = row(summary, 0, "processor", "process_pool", 2, start_method="fork"), row(summary, 0, "processor", "mp_pool", 2)
    percent = round(abs(pool.median_s - mp_pool.median_s) / min(pool.median_s, mp_pool.median_s) * 100)
    (text,) = [t for t in texts(all_verdicts, 0, "processor", "executor_vs_pool") if t.startswith("`process_pool`")]
    assert text.startswith(f"`process_pool` is within {percent}% of `mp_pool` on `processor`")
    assert format_seconds(pool.median_s) in text and format_seconds(mp_pool.median_s) in text and "p=" in text


def test_chunksize_trap_per_task(summary, all_verdicts):
    trap = row(summary, 0, "tiny_tasks", "process_pool", 2, start_method="fork", trap="chunksize=1")
    chunked = row(summary, 0, "tiny_tasks", "process_pool", 2, start_method="fork")
    ratio = (trap.median_s / trap.items) / (chunked.median_s / chunked.items)
    (text,) = texts(all_verdicts, 0, "tiny_tasks", "chunksize_trap")
    assert text.startswith(f"`ProcessPoolExecutor.map(chunksize=1)` is {format_times(ratio)} slower per task than chunked "
                           "`process_pool` on `tiny_tasks`")


def test_spawn_costs_more_than_fork(summary, all_verdicts):
    spawn = row(summary, 0, "processor", "process_pool", 2, "cold", "spawn")
    fork = row(summary, 0, "processor", "process_pool", 2, "cold", "fork")
    assert any(t.startswith(f"starting a `spawn` pool costs {format_seconds(spawn.median_s - fork.median_s)} more than `fork`")
               for t in texts(all_verdicts, 0, "processor", "start_method_cost"))
    warm_spawn = row(summary, 0, "processor", "process_pool", 2, "warm", "spawn")
    (cost,) = [t for t in texts(all_verdicts, 0, "processor", "pool_start_cost") if "`process_pool`" in t]
    assert f"{format_seconds(spawn.median_s - warm_spawn.median_s)} with `spawn`" in cost


def test_winner_is_the_fastest_identical_result(summary, all_verdicts):
    mismatch = row(summary, 1, "processor", "threading", 4)
    assert mismatch.identical is False
    assert mismatch.median_s == min(r.median_s for r in summary.results if r.run == 1 and r.workload == "processor")
    (text,) = texts(all_verdicts, 1, "processor", "winner")
    assert text.startswith("`thread_pool` with 2 workers is the fastest on `processor`")
    assert "`threading` with 4 workers" not in text
    (warning,) = texts(all_verdicts, 1, "processor", "mismatched_outputs")
    assert "`threading` with 4 workers did NOT reproduce the reference output" in warning


def test_ties_are_noted(all_verdicts):
    (text,) = texts(all_verdicts, 0, "hashing", "winner")
    assert "not distinguishable from `thread_pool` with 2 workers" in text


def test_noise_warning_names_the_cv(summary, all_verdicts):
    mp_pool = row(summary, 1, "processor", "mp_pool", 2)
    assert mp_pool.noisy
    noisy = [v for v in all_verdicts if v.run == 1 and v.workload == "processor" and v.rule == "executor_vs_pool" and v.noisy]
    assert noisy and all(f"too noisy to trust this ratio: CV {mp_pool.cv * 100:.0f}%" in v.text for v in noisy)
    quiet = texts(all_verdicts, 0, "processor", "executor_vs_pool")
    assert quiet and not any("noisy" in t for t in quiet)


def test_oversubscription_note(all_verdicts):
    (text,) = texts(all_verdicts, 0, "processor", "oversubscription")
    assert text.startswith("beyond 2 workers on 2 usable CPUs is oversubscription")
    assert "no serial-fraction curve is fitted" in text and "`process_pool` ×4" in text
    (io_text,) = texts(all_verdicts, 0, "downloader", "oversubscription")
    assert "mostly wait" in io_text


def test_serial_fraction_from_workers_equal_to_usable_cpus(summary, all_verdicts):
    pool = row(summary, 0, "processor", "process_pool", 2, start_method="fork")
    (text,) = texts(all_verdicts, 0, "processor", "serial_fraction")
    assert f"`process_pool` {pool.serial_fraction:.2f}" in text
    assert "no parallel gain at all (e ≥ 1): `threading`" in text


def test_rules_skip_themselves_without_their_data(tmp_path):
    document = json.loads(PY311.read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if b["extra_info"]["variant"] == "sequential"]
    path = tmp_path / "sequential_only.json"
    path.write_text(json.dumps(document))
    assert {v.rule for v in verdicts(load_results([path]))} == {"winner"}


def test_missing_baseline_is_said(tmp_path):
    document = json.loads(PY311.read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if b["extra_info"]["variant"] != "sequential"]
    path = tmp_path / "no_baseline.json"
    path.write_text(json.dumps(document))
    (missing,) = texts(verdicts(load_results([path])), 0, "processor", "missing_baseline")
    assert "speedup, efficiency and serial fraction are not computed" in missing


def test_old_file_gets_the_verdicts_its_fields_allow():
    found = verdicts(load_results([DATA / "run_old_minimal.json"]))
    assert [v.rule for v in found] == ["winner"]  # no usable CPUs, cores or modes recorded: the other rules skip
    assert "3.00x sequential" in found[0].text
