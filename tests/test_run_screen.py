"""What `concurrency-lab run` shows: its opening line and estimate, the ETA, the closing counts, and a
Ctrl-C that prints the lab's one line and leaves no empty folder behind. The arithmetic is tested with
made-up figures; the screen with real (small) runs, their lines asserted, never their times."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from concurrency_lab.bench import run as bench_run
from concurrency_lab.bench.estimate import (
    GUESSED_CASE_SECONDS,
    TIMING_KEY,
    Timing,
    duration_text,
    estimate_run,
    previous_timing,
    remaining_seconds,
)
from concurrency_lab.bench.run import Outcomes, RunPlan, missing_folders, remove_if_empty
from concurrency_lab.variants import variant_class

RUN = [sys.executable, "-m", "concurrency_lab", "run", "--profile", "smoke"]


def _timing(profile: str, cases: dict[str, float], session: float, when: str = "2026-01-02T03:04:05") -> dict:
    return {"datetime": when, "benchmarks": [], TIMING_KEY: {"profile": profile, "case_seconds": cases,
                                                             "session_seconds": session}}


# The time left and the estimate: pure arithmetic.

def test_the_time_left_is_the_mean_so_far_for_each_remaining_case_without_an_earlier_run():
    assert remaining_seconds(10.0, ["a", "b"], ["c", "d", "e"]) == 15.0
    assert remaining_seconds(0.0, [], ["a"]) is None  # nothing to go by yet


def test_the_time_left_weighs_each_case_by_an_earlier_run_scaled_by_this_runs_pace():
    earlier = {"fast": 1.0, "slow": 9.0, "other": 2.0}
    # "fast" took twice as long as before: the slow case still to come is expected to, too.
    assert remaining_seconds(2.0, ["fast"], ["slow"], earlier) == 18.0
    # A case the earlier run did not have counts as its median case.
    assert remaining_seconds(1.0, ["fast"], ["new"], earlier) == 2.0


def test_the_estimate_comes_from_this_folders_previous_run_of_the_same_profile(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "20260101T000000-cpython3.11.7.json").write_text(json.dumps(_timing("smoke", {"a": 1.0, "b": 3.0}, 10.0)))
    (results / "20260102T000000-cpython3.11.7.json").write_text(json.dumps(_timing("standard", {"a": 50.0}, 60.0)))
    (results / "20260103T000000-cpython3.11.7.json").write_text("not json")
    path, timing = previous_timing(results, "smoke")
    assert path.name.startswith("20260101") and timing.case_seconds == {"a": 1.0, "b": 3.0}
    estimate = estimate_run(["a", "b", "c"], "smoke", timing)
    # a and b as they took, c as their median (2 s), plus the 6 s outside the cases and the start and reports
    assert estimate.seconds == pytest.approx(1 + 3 + 2 + 6 + 2)
    assert estimate.source == "from this folder's previous smoke run, 2026-01-02 03:04"
    assert previous_timing(results, "full") is None and previous_timing(tmp_path / "none", "smoke") is None


def test_without_an_earlier_run_the_estimate_says_it_is_a_guess():
    estimate = estimate_run(["a"] * 10, "standard", None)
    assert estimate.seconds > 10 * GUESSED_CASE_SECONDS["standard"]
    assert estimate.source.startswith("a guess of 6.6 s a case")


def test_a_results_file_without_the_labs_timing_gives_none():
    assert Timing.from_document({"benchmarks": []}) is None
    assert Timing.from_document({TIMING_KEY: {"profile": "smoke", "case_seconds": [], "session_seconds": 1}}) is None


@pytest.mark.parametrize(("seconds", "text"), [(4.4, "4 s"), (125, "2 min 05 s"), (1500, "25 min"), (3900, "1 h 05 min")])
def test_durations_read_as_roughly_as_they_are_known(seconds, text):
    assert duration_text(seconds) == text


# The opening and closing lines.

def test_the_opening_counts_the_cases_that_can_run_and_names_what_is_left_out(monkeypatch, tmp_path):
    monkeypatch.setattr(variant_class("thread_pool"), "unavailable_reason", classmethod(lambda cls: "not on this build"))
    plan = RunPlan.make("smoke", ["sequential", "thread_pool"], ["processor"], None)
    assert [case.variant for case in plan.runnable] == ["sequential"]
    left_out = sum(plan.unavailable.values())
    assert left_out > 0 and set(plan.unavailable) == {"thread_pool: not on this build"}
    text = plan.opening(estimate_run(plan.case_ids, "smoke", None), tmp_path / "results", tmp_path)
    first, second = text.splitlines()
    assert first.startswith("concurrency-lab run: 1 benchmark case on ") and "profile smoke: 1 variant x 1 workload" in first
    assert first.endswith(f"left out, as they cannot run here: thread_pool: not on this build x{left_out}")
    assert second.startswith("about ") and "(a guess of 1.5 s a case" in second and f"reports to {tmp_path}/" in second


def _report(when: str, outcome: str, longrepr=None, case: str = "c") -> SimpleNamespace:
    return SimpleNamespace(when=when, nodeid=f"test_matrix.py::test_benchmark[{case}]", longrepr=longrepr,
                           passed=outcome == "passed", failed=outcome == "failed", skipped=outcome == "skipped")


def test_the_closing_line_counts_the_outcomes_and_groups_the_skips_by_reason():
    outcomes = Outcomes()
    for _ in range(3):
        outcomes.pytest_runtest_logreport(_report("setup", "passed"))
        outcomes.pytest_runtest_logreport(_report("call", "passed"))
    for _ in range(2):
        outcomes.pytest_runtest_logreport(_report("setup", "skipped", ("f.py", 1, "Skipped: dask: not installed")))
    outcomes.pytest_runtest_logreport(_report("setup", "skipped", ("f.py", 1, "Skipped: loky: not installed")))
    message = "AssertionError: mp_pool returned results that differ\nassert False"
    crash = SimpleNamespace(reprcrash=SimpleNamespace(message=message))
    outcomes.pytest_runtest_logreport(_report("call", "failed", crash, case="processor-smoke-mp_pool-w2-warm"))
    assert outcomes.closing(verbose=False).splitlines() == [
        "benchmarks: 3 passed, 1 failed; skipped 3: dask: not installed x2, loky: not installed x1 "
        "(run -v for pytest's report of each)",
        "  failed: processor-smoke-mp_pool-w2-warm (call): AssertionError: mp_pool returned results that differ",
    ]


def test_only_the_empty_folders_a_run_made_are_removed(tmp_path):
    (tmp_path / "mine").mkdir()
    made = missing_folders(tmp_path / "mine" / "out" / "results")
    assert made == [tmp_path / "mine" / "out" / "results", tmp_path / "mine" / "out"]
    (tmp_path / "mine" / "out" / "results").mkdir(parents=True)
    remove_if_empty(made)
    assert (tmp_path / "mine").is_dir() and not (tmp_path / "mine" / "out").exists()
    (tmp_path / "mine" / "out" / "results").mkdir(parents=True)
    (tmp_path / "mine" / "out" / "notes.txt").write_text("a user's file")
    remove_if_empty(made)
    assert (tmp_path / "mine" / "out" / "notes.txt").read_text() == "a user's file"
    assert not (tmp_path / "mine" / "out" / "results").exists()


def test_verdicts_are_printed_only_when_verbose(monkeypatch, tmp_path, capsys):
    data = Path(__file__).with_name("data") / "run_py311.json"
    assert bench_run.write_run_reports([data], tmp_path) == 0
    quiet = capsys.readouterr().out
    assert bench_run.write_run_reports([data], tmp_path, verbose=True) == 0
    loud = capsys.readouterr().out
    assert "wrote" in quiet and "  - " not in quiet
    assert "  - " in loud


# The real screen, and Ctrl-C.

def test_run_says_what_it_will_do_and_ends_with_counts_not_pytests_summary(tmp_path, run_command):
    done = run_command([*RUN, "--variants", "sequential", "--workloads", "tiny_tasks", "--no-failures",
                        "--out", str(tmp_path / "new")])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("concurrency-lab run: 1 benchmark case on ") and "profile smoke" in lines[0]
    assert lines[1].startswith("about ") and "(a guess of" in lines[1]
    assert any(line.startswith("[1/1] [") and " done " in line for line in lines)
    assert "benchmarks: 1 passed" in lines
    assert not any(marker in done.stdout for marker in ("passed in", "Name (time in", "Wrote benchmark data", "  - "))
    again = run_command([*RUN, "--variants", "sequential", "--workloads", "tiny_tasks", "--no-failures",
                         "--out", str(tmp_path / "new"), "-v"])
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "(from this folder's previous smoke run, " in again.stdout.splitlines()[1]
    assert "Name (time in" in again.stdout and "passed" in again.stdout  # pytest's own, and the verdicts
    assert any(line.startswith("  - ") for line in again.stdout.splitlines())


@pytest.fixture
def run_command():
    import os
    import subprocess

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        # Not an xdist worker itself: pytest-benchmark disables itself when it sees this variable.
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env)

    return run


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and process groups")
@pytest.mark.parametrize("existing", [False, True], ids=["out-made-by-run", "out-of-the-user"])
def test_ctrl_c_prints_one_line_and_leaves_no_empty_folder_it_made(tmp_path, existing):
    from test_signals import Command

    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("the user's")
    run = Command([*RUN, "--variants", "sequential,process_pool", "--workloads", "processor", "--out", str(out)])
    try:
        run.read_until(b"[1/")  # a case finished: mid-run, results/ made
        assert (out / "results").is_dir()
        run.signal(signal.SIGINT, group=True)  # as Ctrl-C at a terminal
        rest, err_bytes = run.process.communicate(timeout=120)
    finally:
        run.kill_everything()
    out_text, err, code = (run.out + rest).decode(errors="replace"), err_bytes.decode(errors="replace"), run.process.returncode
    assert code == 128 + signal.SIGINT, err
    assert err.splitlines() == [
        "concurrency-lab run: interrupted by SIGINT during the benchmarks; no reports or results written, "
        "earlier ones left as they were"], err
    assert not any(marker in out_text for marker in ("!!!", "KeyboardInterrupt", "Traceback", "Name (time in", "benchmarks:"))
    if existing:
        assert [p.name for p in out.iterdir()] == ["notes.txt"]
    else:
        assert not out.exists() and tmp_path.is_dir()
