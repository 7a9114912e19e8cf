"""Loading pytest-benchmark JSON into the report model: speedups within a run, tolerance of old files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from concurrency_lab.records.summary import SCHEMA_VERSION
from concurrency_lab.report import load_results

DATA = Path(__file__).parent / "data"
PY311, PY313 = DATA / "run_py311.json", DATA / "run_py313.json"


def raw_benchmarks(path: Path) -> list[dict]:
    return json.loads(path.read_text())["benchmarks"]


def raw_median(path: Path, workload: str, variant: str, workers: int, **extra) -> float:
    (benchmark,) = [
        b for b in raw_benchmarks(path)
        if (b["extra_info"]["workload"], b["extra_info"]["variant"], b["extra_info"]["workers"]) == (workload, variant, workers)
        and all(b["extra_info"].get(k) == v for k, v in extra.items())
    ]
    return benchmark["stats"]["median"]


@pytest.fixture(scope="module")
def summary():
    return load_results([PY311, PY313])


def test_one_run_per_file_with_its_python(summary):
    assert [run.python_version for run in summary.runs] == ["3.11.9", "3.13.1"]
    assert [run.gil_enabled for run in summary.runs] == [True, False]
    assert summary.runs[1].label == "CPython 3.13.1 free-threaded, GIL disabled"
    assert summary.runs[0].usable_cpus == 2
    assert "Intel(R) Xeon(R) Platinum 8370C" in summary.runs[0].machine
    assert summary.runs[0].source == str(PY311)
    assert len(summary.results) == len(raw_benchmarks(PY311)) + len(raw_benchmarks(PY313))


@pytest.mark.parametrize("path", [PY311, PY313], ids=["py311", "py313"])
def test_speedup_is_the_median_ratio_to_sequential_of_the_same_file(summary, path):
    run = next(r for r in summary.runs if r.source == str(path))
    for result in summary.results_of(run):
        baseline = raw_median(path, result.workload, "sequential", 1)
        assert result.median_s == raw_median(path, result.workload, result.variant, result.workers,
                                             mode=result.mode, start_method=result.start_method, trap=result.trap)
        if result.trap:  # on fewer items than the baseline: compared per task by its verdict, never by speedup
            assert result.speedup is None and result.efficiency is None and result.serial_fraction is None
            continue
        assert result.speedup == pytest.approx(baseline / result.median_s)
        assert result.efficiency == pytest.approx(baseline / result.median_s / result.workers)


def test_speedups_never_mix_runs(summary):
    alone = load_results([PY313])
    together = [r for r in summary.results if r.run == 1]
    assert [r.speedup for r in together] == [r.speedup for r in alone.results]


def test_derived_fields(summary):
    result = next(r for r in summary.results if r.run == 0 and r.workload == "processor" and r.variant == "process_pool"
                  and r.workers == 2 and r.mode == "warm" and r.start_method == "fork")
    assert result.serial_fraction == pytest.approx((1 / result.speedup - 1 / 2) / (1 - 1 / 2))
    assert result.cores_used == 1.93 and result.identical is True and result.oversubscribed is False
    assert result.has_round_data and len(result.round_times_s) == result.rounds == 5
    assert result.cv == pytest.approx(result.stddev_s / result.mean_s)
    assert result.warmup_rounds == 1
    assert result.per_core is not None and result.per_core.cpus == (0, 1) and result.per_core.times_s[0] == 0.0
    oversubscribed = next(r for r in summary.results if r.run == 0 and r.workload == "processor" and r.workers == 4)
    assert oversubscribed.oversubscribed is True and oversubscribed.serial_fraction is None


def test_trap_and_mismatch_are_carried(summary):
    (trap,) = [r for r in summary.results if r.run == 0 and r.trap]
    assert (trap.trap, trap.chunksize, trap.workload) == ("chunksize=1", 1, "tiny_tasks")
    assert (trap.size, trap.items, trap.size_label) == (2000, 2000, "standard")  # fewer items than its workload's rows
    assert trap.per_task_s == pytest.approx(trap.median_s / 2000)
    (mismatch,) = [r for r in summary.results if r.identical is False]
    assert (mismatch.run, mismatch.variant, mismatch.workers) == (1, "threading", 4)


def test_summary_json_shape(summary):
    document = json.loads(json.dumps(summary.to_dict()))  # JSON-serialisable as it is
    assert set(document) == {"schema", "generated", "runs", "results", "warnings", "advice"}
    assert document["advice"] == []  # what advise --out wrote, when it was among the inputs
    assert document["schema"] == SCHEMA_VERSION
    result = document["results"][0]
    for key in ("workload", "variant", "workers", "size", "size_label", "start_method", "mode", "chunksize", "median_s",
                "mean_s", "stddev_s", "rounds", "cv", "noisy", "speedup", "efficiency", "serial_fraction", "cores_used",
                "cpu_seconds", "peak_rss_bytes", "peak_uss_bytes", "peak_threads", "peak_processes", "identical", "trap",
                "oversubscribed", "run", "python", "name", "bound", "ideal_s", "efficiency_vs_ideal", "self_cpu_seconds",
                "worker_cpu_seconds", "reaped_children_cpu_seconds", "seed", "warmup_rounds"):
        assert key in result
    assert "round_times_s" not in result and "per_core" not in result  # bulk data stays in the source files
    assert document["runs"][1]["gil_enabled"] is False


def test_trap_rows_join_their_workloads_group(summary):
    """The chunksize=1 row runs on 2,000 items, the rest of tiny_tasks on 20,000: still one group."""
    run = summary.runs[0]
    assert [key for key in summary.groups(run) if key[0] == "tiny_tasks"] == [("tiny_tasks", "standard", 20000)]
    members = summary.groups(run)[("tiny_tasks", "standard", 20000)]
    assert any(r.trap for r in members) and any(r.variant == "sequential" for r in members)


def test_a_trap_without_its_group_stands_alone(tmp_path):
    document = json.loads(PY311.read_text())
    document["benchmarks"] = [b for b in document["benchmarks"]
                              if b["extra_info"]["trap"] or b["extra_info"]["workload"] != "tiny_tasks"]
    path = tmp_path / "trap_only.json"
    path.write_text(json.dumps(document))
    summary = load_results([path])
    assert ("tiny_tasks", "standard", 2000) in summary.groups(summary.runs[0])


def test_io_rows_carry_their_ideal_and_cpu_parts(summary):
    document = json.loads(json.dumps(summary.to_dict()))
    by_name = {(r["run"], r["name"]): r for r in document["results"]}
    pool = by_name[(0, "test_downloader[thread_pool-8-warm]")]
    assert pool["bound"] == "io_wait" and pool["seed"] == 12
    assert pool["traits"]["kind"] == "threads" and pool["traits"]["api"] == "ThreadPoolExecutor.map"
    assert pool["ideal_s"] == pytest.approx(math.ceil(48 / 8) * 0.025)
    assert pool["efficiency_vs_ideal"] == pytest.approx(pool["ideal_s"] / pool["median_s"])
    processor = by_name[(0, "test_processor[process_pool-2-cold-spawn]")]
    assert processor["ideal_s"] is None and processor["efficiency_vs_ideal"] is None
    assert processor["cpu_seconds"] == pytest.approx(
        processor["self_cpu_seconds"] + max(processor["worker_cpu_seconds"], processor["reaped_children_cpu_seconds"]), abs=1e-3)
    assert processor["reaped_children_cpu_seconds"] > processor["worker_cpu_seconds"]  # the workers' start-up counts


def test_old_file_without_optional_fields_loads():
    summary = load_results([DATA / "run_old_minimal.json"])
    (run,) = summary.runs
    assert run.label == "CPython 3.10.12" and run.usable_cpus is None and run.gil_enabled is None
    pool = next(r for r in summary.results if r.variant == "process_pool")
    assert pool.speedup == pytest.approx(3.0)
    assert pool.cores_used is None and pool.identical is None and pool.oversubscribed is None and not pool.has_round_data
    assert pool.bound is None and pool.ideal_s is None and pool.efficiency_vs_ideal is None and pool.self_cpu_seconds is None
    assert pool.cv == pytest.approx(0.02 / 1.01)  # from stats stddev / mean when there is no per-round data
    unrelated, legacy, lacking = summary.warnings
    assert unrelated.benchmark == "test_unrelated" and "no extra_info" in unrelated.message
    assert "before the benchmark record had a schema" in legacy.message and "registry" in legacy.message
    assert pool.traits is not None and pool.traits.kind.value == "processes"  # from this lab's registry
    assert "records lack these fields" in lacking.message and "cores_used" in lacking.message


def test_empty_and_broken_files_are_warnings_not_crashes(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    listing = tmp_path / "list.json"
    listing.write_text("[]")
    summary = load_results([DATA / "run_empty.json", broken, listing, PY311])
    assert [run.source for run in summary.runs] == [str(PY311)]
    assert summary.runs[0].index == 0 and all(r.run == 0 for r in summary.results)
    messages = {Path(w.source).name: w.message for w in summary.warnings}
    assert "no benchmarks" in messages["run_empty.json"]
    assert "not JSON" in messages["broken.json"]
    assert "expected a pytest-benchmark JSON object" in messages["list.json"]


def test_run_without_baseline_has_no_speedups(tmp_path):
    document = json.loads(PY311.read_text())
    document["benchmarks"] = [b for b in document["benchmarks"] if b["extra_info"]["variant"] != "sequential"]
    path = tmp_path / "no_baseline.json"
    path.write_text(json.dumps(document))
    summary = load_results([PY311, path])  # 3.11's baseline sits in another run: it must not be borrowed
    orphans = [r for r in summary.results if r.run == 1]
    assert orphans and all(r.speedup is None and r.efficiency is None and r.serial_fraction is None for r in orphans)


def test_directory_means_its_json_files(tmp_path):
    storage = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    storage.mkdir(parents=True)
    (storage / "0001_abc.json").write_text(PY311.read_text())
    (storage / "0002_def.json").write_text(PY313.read_text())
    summary = load_results([tmp_path / ".benchmarks"])
    assert [run.python_version for run in summary.runs] == ["3.11.9", "3.13.1"]


def test_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        load_results([tmp_path / "nowhere.json"])


def test_same_python_twice_gets_distinct_labels(tmp_path):
    copy = tmp_path / "again.json"
    copy.write_text(PY311.read_text())
    summary = load_results([PY311, copy])
    assert summary.runs[0].label != summary.runs[1].label
    assert summary.runs[1].label.endswith("[again.json]")


def test_monitor_overhead_is_counted_per_benchmark_and_summarised():
    from concurrency_lab.report.method import method_notes

    summary = load_results([DATA / "run_py311.json"])
    with_overhead = [r for r in summary.results if r.monitor_overhead is not None]
    assert with_overhead
    for result in with_overhead:
        raw = next(b for b in json.loads((DATA / "run_py311.json").read_text())["benchmarks"] if b["name"] == result.name)
        expected = raw["extra_info"]["sampler_cpu_seconds"] / (raw["extra_info"]["wall_seconds"] * summary.runs[0].usable_cpus)
        assert result.monitor_overhead == pytest.approx(expected)
    (note,) = [text for figure, text in method_notes(summary) if figure == "monitor overhead"]
    assert f"at most {max(r.monitor_overhead for r in with_overhead) * 100:.1f}%" in note
