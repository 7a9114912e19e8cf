"""The failure-modes probes: every registered variant fails each case the documented way, and a
variant that hangs, kills its caller or cannot be imported becomes a row, never a hang of the run.

Tests assert outcomes; the times the probes measure go into the table, not into assertions.
"""

from __future__ import annotations

from types import SimpleNamespace

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest

from concurrency_lab import cli, failures
from concurrency_lab.bench import run as bench_run
from concurrency_lab.bench.run import run_benchmarks
from concurrency_lab.errors import BrokenPool, MapTimeout, NotPicklable
from concurrency_lab.failures import CASES, CASES_BY_NAME, JSON_KEY, Expected, FailureTable
from concurrency_lab.failures import runner
from concurrency_lab.failures.tasks import ProbeFailure, refusal
from concurrency_lab.traits import Kind
from concurrency_lab.variants import VARIANT_NAMES, variant_class
from concurrency_lab.variants.base import RemoteTraceback, Variant

PID_FILE = "LAB_TEST_PID_FILE"  # where HangingVariant writes the pid of the process it started
SHORT_BOUND_S = 5.0  # the watchdog's bound in these tests: a probe that works starts in well under a second


def _probe_params() -> list:
    params = []
    for name in VARIANT_NAMES:
        cls = variant_class(name)
        for case in CASES:
            if not case.applies(cls):
                continue
            reason = cls.unavailable_reason() or case.unavailable
            marks = [pytest.mark.skip(reason=f"{name} {case.name}: {reason}")] if reason else []
            params.append(pytest.param(name, case.name, id=f"{name}-{case.name}", marks=marks))
    return params


@pytest.mark.parametrize(("variant_name", "case_name"), _probe_params())
def test_every_variant_fails_each_case_the_documented_way(variant_name, case_name):
    cls, case = variant_class(variant_name), CASES_BY_NAME[case_name]
    outcome = runner.probe(cls, case)
    assert outcome.returned, outcome.note
    assert outcome.documented, f"raised {outcome.error} ({outcome.message!r}, cause {outcome.cause}, " \
                               f"stopped {outcome.stopped}); documented: {outcome.expected}"
    assert outcome.processes_left == 0, "a worker process outlived the call"
    if outcome.threads_left:  # only threads that cannot be stopped, and they end by themselves
        assert outcome.stopped is False and outcome.left_running_s is not None
    if outcome.stopped is False and cls.kind is Kind.THREADS:
        assert outcome.threads_left, "the timed-out items should still be running in the background"


def test_the_cases_apply_by_traits_not_by_name():
    class SomeProcesses:
        uses_processes, runs_coroutines, kind, serializer = True, False, Kind.CLUSTER, "pickle"
        traits = classmethod(lambda cls: SimpleNamespace(futures=True))

    class SomeThreads:
        uses_processes, runs_coroutines, kind, serializer = False, True, Kind.THREADS, None
        traits = classmethod(lambda cls: SimpleNamespace(futures=False))

    applies = {cls: {case.name for case in CASES if case.applies(cls)} for cls in (SomeProcesses, SomeThreads)}
    assert applies[SomeProcesses] == set(CASES_BY_NAME)
    assert applies[SomeThreads] == {"task_raises", "timeout", "unpicklable_task"}
    assert CASES_BY_NAME["timeout"].expect(SomeProcesses) == Expected(MapTimeout, stopped=True)
    assert CASES_BY_NAME["timeout"].expect(SomeThreads) == Expected(MapTimeout, stopped=False)
    assert CASES_BY_NAME["unpicklable_task"].expect(SomeProcesses).error is NotPicklable
    assert CASES_BY_NAME["unpicklable_task"].expect(SomeThreads).error is None
    assert CASES_BY_NAME["task_raises"].task_for(SomeThreads) is CASES_BY_NAME["task_raises"].async_task


def test_an_outcome_is_documented_only_with_all_it_must_carry():
    expected = CASES_BY_NAME["task_raises"].expect(variant_class("process_pool"))
    remote = ProbeFailure(refusal(1))
    remote.__cause__ = RemoteTraceback("traceback")
    assert expected.met_by(remote, None)
    assert not expected.met_by(ProbeFailure(refusal(1)), None)  # no worker traceback as its cause
    assert not expected.met_by(ProbeFailure("another message"), None)
    assert not expected.met_by(None, [0, 1, 2, 3])
    timeout = Expected(MapTimeout, stopped=False)
    assert timeout.met_by(MapTimeout("late", timeout=1, unfinished=2, stopped=False), None)
    assert not timeout.met_by(MapTimeout("late", timeout=1, unfinished=2, stopped=True), None)
    assert Expected(BrokenPool).name == "concurrency_lab.errors.BrokenPool"
    assert Expected(None, results=(1, 2)).met_by(None, [1, 2]) and not Expected(None, results=(1, 2)).met_by(None, [2, 1])


class HangingVariant(Variant):
    """Starts a process, then never returns: what the watchdog must end, process included."""

    name, summary = "test_hanging", "a variant whose map never returns (a test's toy)"
    kind, api_family, api = Kind.PROCESSES, "tests", "HangingVariant.map"
    uses_processes = True

    def map(self, task, items, *, chunksize=None, timeout=None):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path(os.environ[PID_FILE]).write_text(str(child.pid))
        threading.Event().wait()

    def _map_chunks(self, task, chunks, deadline, outcomes):
        raise NotImplementedError


class CallerKillingVariant(HangingVariant):
    name = "test_caller_killing"

    def map(self, task, items, *, chunksize=None, timeout=None):
        os._exit(3)


def test_a_hang_becomes_a_row_and_what_it_started_is_killed(tmp_path, monkeypatch):
    monkeypatch.setenv(PID_FILE, str(tmp_path / "pid"))
    outcome = runner.probe(HangingVariant, CASES_BY_NAME["task_raises"], bound_s=SHORT_BOUND_S)
    assert not outcome.returned and outcome.note == f"hung: no error within {SHORT_BOUND_S:g} s"
    assert outcome.processes_left == 1 and outcome.error is None and not outcome.documented
    assert not _running(int((tmp_path / "pid").read_text()))


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_variant_that_kills_the_probe_becomes_a_row():
    outcome = runner.probe(CallerKillingVariant, CASES_BY_NAME["task_raises"], bound_s=SHORT_BOUND_S)
    assert not outcome.returned and outcome.note.startswith("the probe process died (exit code 3)")


def test_a_variant_a_fresh_process_cannot_import_is_not_run():
    class Local(HangingVariant):
        name = "test_local"

    outcome = runner.probe(Local, CASES_BY_NAME["task_raises"])
    assert not outcome.returned and "cannot be imported by a fresh process" in outcome.note


def test_the_table_has_each_available_variant_under_each_case_it_applies_to(monkeypatch):
    class Tomorrow(HangingVariant):
        name = "test_tomorrow"

        @classmethod
        def unavailable_reason(cls):
            return "needs Python 3.99"

    probed = []
    monkeypatch.setattr(runner, "probe", lambda cls, case, bound_s: probed.append((cls.name, case.name)) or
                        runner.FailureOutcome(cls.name, case.name, cls.traits(), case.expect(cls).name, returned=True))
    monkeypatch.setattr(runner, "variant_class", lambda name: Tomorrow if name == Tomorrow.name else variant_class(name))
    table = runner.measure_failures([*VARIANT_NAMES, Tomorrow.name])
    available = [name for name in VARIANT_NAMES if variant_class(name).unavailable_reason() is None]
    assert probed == [(name, case.name) for name in available for case in CASES if case.applies(variant_class(name))]
    assert table.unavailable == {Tomorrow.name: "needs Python 3.99",
                                 **{n: variant_class(n).unavailable_reason() for n in VARIANT_NAMES if n not in available}}
    assert [c.name for c in table.cases] == [c.name for c in CASES] and table.settings["workers"] == 2
    assert FailureTable.from_dict(json.loads(json.dumps(table.to_dict()))) == table


def _benchmark_json(tmp_path, monkeypatch, *extra: str) -> dict:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark turns itself off inside xdist workers
    code, results = run_benchmarks(profile="smoke", variants=["sequential"], workloads=["tiny_tasks"], workers=[1],
                                   out_dir=tmp_path, extra_pytest_args=extra)
    assert code == 0 and results.exists()
    return json.loads(results.read_text())


def test_the_benchmark_json_carries_the_table_of_the_run_variants(tmp_path, monkeypatch):
    table = FailureTable.from_dict(_benchmark_json(tmp_path, monkeypatch)[JSON_KEY])
    assert table.variants == ["sequential"]
    assert {o.case for o in table.outcomes} == {c.name for c in CASES if c.applies(variant_class("sequential"))}
    assert all(o.returned and o.documented for o in table.outcomes)


def test_no_lab_failures_leaves_the_table_out(tmp_path, monkeypatch):
    assert JSON_KEY not in _benchmark_json(tmp_path, monkeypatch, "--no-lab-failures")


def test_the_benchmarks_are_saved_when_the_failure_probes_fail(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(failures, "measure_failures", broken)
    document = _benchmark_json(tmp_path, monkeypatch)
    assert document["benchmarks"] and JSON_KEY not in document
    assert "failure modes not measured: OSError: no more processes" in capsys.readouterr().out


def test_run_no_failures_asks_pytest_to_leave_the_table_out(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(bench_run, "run_benchmarks", lambda **options: asked.append(options) or (0, tmp_path / "none"))
    cli.main(["run", "--no-failures", "--out", str(tmp_path)])
    cli.main(["run", "--out", str(tmp_path)])
    assert [options["extra_pytest_args"] for options in asked] == [("--no-lab-failures",), ()]
