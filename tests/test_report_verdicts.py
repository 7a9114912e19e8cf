"""Verdicts: each rule's text carries the numbers of the model, and follows them, not expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concurrency_lab.numerics.formatting import format_seconds, format_times
from concurrency_lab.report import load_results, verdicts

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
    best = max((r for r in summary.results if r.run == 0 and r.workload == "processor" and r.mode == "warm"
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
    best = max((r for r in summary.results if r.run == 0 and r.workload == "hashing" and r.variant == "thread_pool"),
               key=lambda r: r.speedup)
    assert text == f"threads scale on `hashing`: its work releases the GIL: `thread_pool` with {best.workers} workers " \
                   f"{best.speedup:.2f}x, {best.cores_used:.2f} cores"


def test_io_threads_overlap_waiting(all_verdicts):
    (text,) = texts(all_verdicts, 0, "downloader", "threads_and_the_gil")
    assert text.startswith("threads overlap the waiting on `downloader`")


def test_dispatch_bound_threads_lose_to_the_hand_off(summary, all_verdicts):
    (text,) = texts(all_verdicts, 0, "tiny_tasks", "threads_and_the_gil")
    threading, sequential = row(summary, 0, "tiny_tasks", "threading", 2), row(summary, 0, "tiny_tasks", "sequential", 1)
    assert text.startswith(f"threads lose to the hand-off cost on `tiny_tasks`: best is `threading` with 2 workers "
                           f"{threading.speedup:.2f}x")
    per_task, sequential_per_task = format_seconds(threading.median_s / 20000), format_seconds(sequential.median_s / 20000)
    assert f"({per_task} per task vs {sequential_per_task} sequential)" in text


def without_bound(path: Path, tmp_path: Path) -> Path:
    """The same results as a file written before the benchmarks recorded `bound`."""
    document = json.loads(path.read_text())
    for benchmark in document["benchmarks"]:
        del benchmark["extra_info"]["bound"]
    copy = tmp_path / f"no_bound_{path.name}"
    copy.write_text(json.dumps(document))
    return copy


def test_without_bound_the_wording_comes_from_the_numbers(tmp_path):
    found = verdicts(load_results([without_bound(PY311, tmp_path)]))
    (hashing,) = texts(found, 0, "hashing", "threads_and_the_gil")
    assert hashing.startswith("threads scale on `hashing`: its work releases the GIL")  # read from 1.93 cores
    (downloader,) = texts(found, 0, "downloader", "threads_and_the_gil")
    assert downloader.startswith("threads overlap the waiting on `downloader`")
    (processor,) = texts(found, 0, "processor", "threads_and_the_gil")
    assert processor.startswith("threads gain nothing on `processor` with the GIL")
    (tiny,) = texts(found, 0, "tiny_tasks", "threads_and_the_gil")
    assert tiny.startswith("threads are slower than sequential on `tiny_tasks`") and "hand-off" not in tiny


def test_bound_gives_the_reason_the_numbers_the_claim(tmp_path):
    document = json.loads(PY311.read_text())
    for benchmark in document["benchmarks"]:  # sha256 that did not scale: the bound may not claim it did
        info = benchmark["extra_info"]
        if info["workload"] == "hashing" and info["variant"] in ("threading", "thread_pool"):
            benchmark["stats"]["median"] = 0.425
            info["cores_used"] = 1.0
    path = tmp_path / "hashing_flat.json"
    path.write_text(json.dumps(document))
    (text,) = texts(verdicts(load_results([path])), 0, "hashing", "threads_and_the_gil")
    assert text.startswith("threads gain nothing on `hashing` although its work releases the GIL: best is")


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
    assert "gain nothing" not in text
    assert text == ("threads scale on `processor` although its work holds the GIL: "
                    "`thread_pool` with 2 workers (warm) 2.00x, 1.95 cores")


def test_process_pool_cores_for_speedup(summary, all_verdicts):
    pool = row(summary, 0, "processor", "process_pool", 2, start_method="fork")
    expected = f"`process_pool` uses {pool.cores_used:.2f} cores for a {pool.speedup:.2f}x speedup on `processor`"
    assert any(t.startswith(expected) for t in texts(all_verdicts, 0, "processor", "cores_for_speedup"))


def test_process_pool_within_percent_of_mp_pool(summary, all_verdicts):
    pool = row(summary, 0, "processor", "process_pool", 2, start_method="fork")
    mp_pool = row(summary, 0, "processor", "mp_pool", 2)
    percent = round(abs(pool.median_s - mp_pool.median_s) / min(pool.median_s, mp_pool.median_s) * 100)
    (text,) = [t for t in texts(all_verdicts, 0, "processor", "executor_vs_pool") if t.startswith("`process_pool`")]
    assert text.startswith(f"`process_pool` is within {percent}% of `mp_pool` on `processor`")
    assert format_seconds(pool.median_s) in text and format_seconds(mp_pool.median_s) in text and "p=" in text


def test_chunksize_trap_per_task(summary, all_verdicts):
    trap = row(summary, 0, "tiny_tasks", "process_pool", 2, start_method="fork", trap="chunksize=1")
    chunked = row(summary, 0, "tiny_tasks", "process_pool", 2, start_method="fork")
    mp_pool = row(summary, 0, "tiny_tasks", "mp_pool", 2)
    assert (trap.items, chunked.items) == (2000, 20000)  # per task is the only fair comparison
    ratio = (trap.median_s / trap.items) / (chunked.median_s / chunked.items)
    (text,) = texts(all_verdicts, 0, "tiny_tasks", "chunksize_trap")
    assert text.startswith(f"`ProcessPoolExecutor.map(chunksize=1)` is {format_times(ratio)} slower per task than chunked "
                           "`process_pool` on `tiny_tasks`")
    assert "2000 vs 20000 items" in text
    pool_ratio = (trap.median_s / trap.items) / (mp_pool.median_s / mp_pool.items)
    assert text.endswith(f"and {format_times(pool_ratio)} slower per task than `multiprocessing.Pool.map` "
                         f"({format_seconds(mp_pool.median_s / mp_pool.items)} per task, chunksize {mp_pool.chunksize})")
    (without_mp_pool,) = texts(all_verdicts, 1, "tiny_tasks", "chunksize_trap")  # 3.13 has no mp_pool row here
    assert "Pool.map" not in without_mp_pool


def test_trap_is_in_its_workloads_group_and_in_no_other_rule(all_verdicts):
    tiny = [v for v in all_verdicts if v.workload == "tiny_tasks"]
    assert {(v.size_label, v.size) for v in tiny} == {("standard", 20000)}  # no group of its own at 2000 items
    assert not [v for v in tiny if v.rule == "missing_baseline"]
    for v in tiny:
        if v.rule != "chunksize_trap":
            assert "chunksize=1" not in v.text and "2.45" not in v.text
    (winner,) = [v.text for v in tiny if v.run == 0 and v.rule == "winner"]
    assert winner.startswith("`sequential` with 1 worker is the fastest")


def test_no_start_up_cost_is_said_honestly(summary, all_verdicts):
    cold, warm = row(summary, 0, "processor", "thread_pool", 2, "cold"), row(summary, 0, "processor", "thread_pool", 2)
    assert cold.median_s < warm.median_s
    (text,) = [t for t in texts(all_verdicts, 0, "processor", "pool_start_cost") if "`thread_pool`" in t]
    assert text == f"no measurable start-up cost for `thread_pool` with 2 workers on `processor`: " \
                   f"cold {format_seconds(cold.median_s)} vs warm {format_seconds(warm.median_s)}"
    assert not [v for v in all_verdicts if " 0.00 ns" in v.text]


def three_rounds(path: Path, tmp_path: Path, rounds: int = 3) -> Path:
    """The same results as a smoke run keeps them: only the first `rounds` rounds of each benchmark."""
    document = json.loads(path.read_text())
    for benchmark in document["benchmarks"]:
        benchmark["stats"]["data"] = benchmark["stats"]["data"][:rounds]
        benchmark["stats"]["rounds"] = min(rounds, benchmark["stats"]["rounds"])
    copy = tmp_path / f"rounds{rounds}_{path.name}"
    copy.write_text(json.dumps(document))
    return copy


def test_too_few_rounds_to_test_significance_is_said_with_the_ratio(tmp_path):
    summary = load_results([three_rounds(PY311, tmp_path)])
    found = verdicts(summary)
    note = "too few rounds to test significance (3 vs 3: the smallest possible p is 0.10)"
    pool = row(summary, 0, "tiny_tasks", "process_pool", 2, start_method="fork")
    mp_pool = row(summary, 0, "tiny_tasks", "mp_pool", 2)
    (text,) = [t for t in texts(found, 0, "tiny_tasks", "executor_vs_pool") if t.startswith("`process_pool`")]
    assert text.startswith(f"`process_pool` is {pool.median_s / mp_pool.median_s:.2f}x slower than `mp_pool` on `tiny_tasks`")
    assert text.endswith(note) and "no significant difference" not in text
    assert not [v for v in found if "no significant" in v.text or "p=0.100" in v.text]
    spawn = [t for t in texts(found, 0, "processor", "start_method_cost") if "`spawn`" in t]
    assert spawn and all(t.endswith(note) or t.startswith("no measurable") for t in spawn)


def test_smallest_possible_p_is_computed_from_the_round_counts(tmp_path):
    summary = load_results([three_rounds(PY311, tmp_path, 4), three_rounds(PY311, tmp_path, 3)])
    assert not [v for v in verdicts(summary) if v.run == 0 and "too few rounds" in v.text]  # 4 vs 4: p can reach 0.029
    document = json.loads(PY311.read_text())
    for benchmark in document["benchmarks"]:  # 3 rounds for process_pool, 4 for mp_pool
        keep = 3 if benchmark["extra_info"]["variant"] == "process_pool" else 4
        benchmark["stats"]["data"] = benchmark["stats"]["data"][:keep]
    path = tmp_path / "uneven.json"
    path.write_text(json.dumps(document))
    found = texts(verdicts(load_results([path])), 0, "tiny_tasks", "executor_vs_pool")
    (text,) = [t for t in found if t.startswith("`process_pool`")]
    assert "(3 vs 4: the smallest possible p is 0.057)" in text


def test_io_efficiency_against_the_ideal(summary, all_verdicts):
    found = texts(all_verdicts, 0, "downloader", "io_efficiency")
    eight = row(summary, 0, "downloader", "thread_pool", 8)
    assert eight.ideal_s == pytest.approx(0.150) and eight.efficiency_vs_ideal == pytest.approx(0.150 / eight.median_s)

    def of_ideal(workers: int) -> float | None:
        return row(summary, 0, "downloader", "thread_pool", workers).efficiency_vs_ideal

    assert found[0] == (
        f"`thread_pool` with 8 workers reaches {eight.efficiency_vs_ideal:.2f} of the ideal on `downloader` (ideal 150 ms "
        f"= ceil(48/8) x 25 ms, measured {format_seconds(eight.median_s)}, {eight.cores_used:.2f} cores); with 2 workers "
        + ", ".join(f"{of_ideal(w):.2f}" if w == 2 else f"{w} workers {of_ideal(w):.2f}" for w in (2, 4, 16, 32))
    )
    assert [t.split(" ")[0] for t in found] == ["`thread_pool`", "`threading`", "`mp_pool`", "`process_pool`", "`sequential`"]
    assert not texts(all_verdicts, 0, "processor", "io_efficiency")  # no ideal: no verdict


def test_where_the_clients_cpu_becomes_the_limit(all_verdicts):
    (limited,) = texts(all_verdicts, 0, "downloader", "client_cpu_limit")
    assert limited.startswith("the client's own CPU becomes the limit on `downloader`: `thread_pool` at 32 workers "
                              "uses 0.85 of its 1 core (one GIL)")
    (free,) = texts(all_verdicts, 1, "downloader", "client_cpu_limit")  # free-threaded: its threads may use both CPUs
    assert free.startswith("the client's own CPU is not the limit on `downloader`") and "of its 2 usable CPUs" in free


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


def test_ties_are_noted_and_the_simpler_of_them_wins(summary, all_verdicts):
    (text,) = texts(all_verdicts, 0, "hashing", "winner")
    four, two = row(summary, 0, "hashing", "thread_pool", 4), row(summary, 0, "hashing", "thread_pool", 2)
    assert four.median_s < two.median_s  # fastest, but within noise, and with more workers
    assert text.startswith(f"`thread_pool` with 2 workers wins on `hashing`: {format_seconds(two.median_s)}")
    assert f"`thread_pool` with 4 workers was {format_seconds(two.median_s - four.median_s)} faster, within noise" in text
    assert "the simplest among results too close to call wins" in text
    assert "also too close to call: `threading` with 2 workers" in text


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
    # Waiting work is meant to have more workers than CPUs: client_cpu_limit says how far that goes.
    assert not texts(all_verdicts, 0, "downloader", "oversubscription")
    assert not texts(all_verdicts, 0, "downloader", "serial_fraction")


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
    assert {v.rule for v in verdicts(load_results([path]))} == {"winner", "io_efficiency"}  # sequential against its ideal


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


def _without_thread_gains(tmp_path, **machine):
    """run_py313.json (free-threaded, GIL disabled) with its thread rows on processor made no faster than sequential."""
    document = json.loads(PY313.read_text())
    document["machine_info"].update(machine)
    sequential = next(b for b in document["benchmarks"] if b["extra_info"]["workload"] == "processor"
                      and b["extra_info"]["variant"] == "sequential")
    for benchmark in document["benchmarks"]:
        extra = benchmark["extra_info"]
        if extra["workload"] == "processor" and extra["variant"] in ("threading", "thread_pool"):
            benchmark["stats"].update(median=sequential["stats"]["median"], data=sequential["stats"].get("data"))
    path = tmp_path / "flat.json"
    path.write_text(json.dumps(document))
    return [v.text for v in verdicts(load_results([path])) if v.rule == "threads_and_the_gil" and v.workload == "processor"]


def test_threads_that_fail_to_scale_without_a_gil_are_flagged(tmp_path):
    (text,) = _without_thread_gains(tmp_path)
    assert text.startswith("UNEXPECTED: threads gain nothing on `processor` "
                           "although this free-threaded build runs without the GIL")


def test_a_gil_an_import_turned_back_on_is_the_reason_given(tmp_path):
    (text,) = _without_thread_gains(tmp_path, gil_enabled=True, gil_reenabled=True)
    assert "an import re-enabled the GIL on this free-threaded build" in text and not text.startswith("UNEXPECTED")


def _gil_threads_sped_up_by_noise(tmp_path):
    """A 3.11 run where `threading` on pure Python reads 1.60x on 0.89 cores: the baseline was slowed by other load."""
    document = json.loads(PY311.read_text())
    for benchmark in document["benchmarks"]:
        info = benchmark["extra_info"]
        if info["workload"] == "processor" and info["variant"] == "threading" and info["workers"] == 2:
            benchmark["stats"]["median"] = 1.2 / 1.6
            info["cores_used"] = 0.89
        elif info["workload"] == "processor" and info["variant"] == "sequential":
            benchmark["stats"]["median"] = 1.2
    path = tmp_path / "noisy_baseline.json"
    path.write_text(json.dumps(document))
    return load_results([path])


def test_threads_beating_the_gil_on_one_core_is_not_judged(tmp_path):
    (text,) = texts(verdicts(_gil_threads_sped_up_by_noise(tmp_path)), 0, "processor", "threads_and_the_gil")
    assert text.startswith("not judged: threads on `processor` with the GIL, `threading` with 2 workers: 1.60x on "
                           "0.89 cores cannot come from")
    assert "scale" not in text
