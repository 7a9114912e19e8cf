"""The failure-modes probes: every registered variant fails each case the documented way, and a
variant that hangs, kills its caller or cannot be imported becomes a row, never a hang of the run.

Tests assert outcomes; the times the probes measure go into the table, not into assertions.
"""

from __future__ import annotations

import copyreg
import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from concurrency_lab.bench import run as bench_run
from concurrency_lab.bench.options import RunOptions
from concurrency_lab.bench.run import run_benchmarks
from concurrency_lab.commands import cli
from concurrency_lab.core.errors import BrokenPool, MapTimeout, NotPicklable, TaskExit
from concurrency_lab.core.traits import Kind
from concurrency_lab.failures import JSON_KEY, FailureOutcome, FailureTable, runner, tasks
from concurrency_lab.failures.cases import CALLER_ENDS, CASES, CASES_BY_NAME, Expected, fate
from concurrency_lab.failures.tasks import ProbeFailure, refusal
from concurrency_lab.variants import VARIANT_NAMES, variant_class
from concurrency_lab.variants.base import RemoteTraceback, TaskError, Variant

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


@pytest.mark.failure_probes
@pytest.mark.parametrize(("variant_name", "case_name"), _probe_params())
def test_every_variant_fails_each_case_the_documented_way(variant_name, case_name):
    cls, case = variant_class(variant_name), CASES_BY_NAME[case_name]
    outcome = runner.probe(cls, case)
    assert outcome.problem() is None, outcome.problem()
    if outcome.caller_ended:  # documented: the task took the calling process with it, and nothing was left to count
        assert case.expect(cls).ends_with == outcome.exit_status and not outcome.returned
        return
    assert outcome.processes_left == 0
    if outcome.threads_left:  # only threads that cannot be stopped, and they end by themselves: after a timeout, or
        # a chunk still running when the call raised (NotPicklable from another chunk) on worker interpreters' threads
        assert not cls.stops_running_work and outcome.left_running_s is not None
        assert outcome.stopped is False or (cls.serializer is not None and outcome.error is not None)
    if outcome.stopped is False and cls.kind is Kind.THREADS:
        assert outcome.threads_left, "the timed-out items should still be running in the background"


IN_PROCESS_CASES = {"task_raises", "timeout", "unpicklable_task", "task_exits", "result_not_rebuilt",
                    "error_not_rebuilt", "item_exits_pickled"}
SUBMIT_CASES = {"future_unasked", "timeout_beside_submit", "close_waits"}
WORKER_DEATH_CASES = {"worker_exits", "worker_killed", "worker_crashes"}
#: The calling process's status as the probe's parent sees it, per case, where the task runs in that process.
CALLER_ENDS_WITH = {"worker_exits": tasks.HARD_EXIT_CODE, "worker_killed": -signal.SIGKILL,
                    "worker_crashes": -signal.SIGSEGV}


class SomeProcesses:
    uses_processes, runs_coroutines, kind, serializer, stops_running_work = True, False, Kind.CLUSTER, "pickle", True
    exceptions_by_attributes = False
    traits = classmethod(lambda cls: SimpleNamespace(futures=True))


class SomeThreads:
    uses_processes, runs_coroutines, kind, serializer, stops_running_work = False, True, Kind.THREADS, None, False
    exceptions_by_attributes = False
    traits = classmethod(lambda cls: SimpleNamespace(futures=False))


class SomeThreadsWithFutures(SomeThreads):
    runs_coroutines = False
    traits = classmethod(lambda cls: SimpleNamespace(futures=True))


class SomeInterpreters(SomeThreadsWithFutures):
    """Threads of the caller's process, each with an interpreter of its own: what they send is pickled."""

    kind, serializer = Kind.INTERPRETERS, "pickle"


def test_the_cases_apply_by_traits_not_by_name():
    applies = {cls: {case.name for case in CASES if case.applies(cls)}
               for cls in (SomeProcesses, SomeThreads, SomeThreadsWithFutures, SomeInterpreters)}
    assert applies[SomeProcesses] == set(CASES_BY_NAME)
    assert applies[SomeThreads] == IN_PROCESS_CASES | WORKER_DEATH_CASES
    assert applies[SomeThreadsWithFutures] == IN_PROCESS_CASES | WORKER_DEATH_CASES | SUBMIT_CASES
    # Everything but a worker's death under submit, which ends the caller before the map that should follow it.
    assert applies[SomeInterpreters] == set(CASES_BY_NAME) - {"broken_by_submit"}
    assert CASES_BY_NAME["timeout"].expect(SomeProcesses) == Expected(MapTimeout, stopped=True)
    assert CASES_BY_NAME["timeout"].expect(SomeThreads) == Expected(MapTimeout, stopped=False)
    assert CASES_BY_NAME["unpicklable_task"].expect(SomeProcesses).error is NotPicklable
    assert CASES_BY_NAME["unpicklable_task"].expect(SomeThreads).error is None
    assert CASES_BY_NAME["task_raises"].task_for(SomeThreads) is CASES_BY_NAME["task_raises"].async_task


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_every_case_documents_an_outcome_for_every_registered_variant_it_applies_to(name):
    cls = variant_class(name)
    for case in CASES:
        if case.applies(cls):
            expected = case.expect(cls)
            assert isinstance(expected, Expected) and expected.name, case.name
            # an error, what returns, or the caller's end: exactly one
            assert [expected.error, expected.results, expected.ends_with].count(None) == 2, case.name
            assert callable(case.task_for(cls)) and case.timeout_s > 0, case.name  # every probe has its own limit


def test_the_new_cases_expect_by_traits_what_the_contract_says():
    exits_remote, exits_here = (CASES_BY_NAME["task_exits"].expect(cls) for cls in (SomeProcesses, SomeThreads))
    assert exits_remote.error is exits_here.error is TaskExit
    assert (exits_remote.cause, exits_here.cause) == (RemoteTraceback, SystemExit)
    assert dict(exits_here.carries) == {"code": tasks.EXIT_CODE, "exit_type": "SystemExit"}
    for name in ("result_not_rebuilt", "item_exits_pickled"):
        assert CASES_BY_NAME[name].expect(SomeProcesses).error is NotPicklable
        assert CASES_BY_NAME[name].expect(SomeThreads).error is None  # in-process: nothing is pickled
    assert CASES_BY_NAME["item_exits_pickled"].expect(SomeProcesses).says == f"item {tasks.FAILING_ITEM}"
    error_remote, error_here = (CASES_BY_NAME["error_not_rebuilt"].expect(cls) for cls in (SomeProcesses, SomeThreads))
    assert error_remote.error is TaskError and error_remote.cause is RemoteTraceback
    assert error_remote.says == f"concurrency_lab.failures.tasks.UnrebuildableError: {refusal(tasks.FAILING_ITEM)}"
    assert error_here == Expected(tasks.UnrebuildableError, message=refusal(tasks.FAILING_ITEM))
    tblib = type("SomeProcessesPicklingByAttributes", (SomeProcesses,), {"exceptions_by_attributes": True})
    assert CASES_BY_NAME["error_not_rebuilt"].expect(tblib) == Expected(
        tasks.UnrebuildableError, message=refusal(tasks.FAILING_ITEM), cause=RemoteTraceback)
    assert CASES_BY_NAME["task_not_rebuilt"].expect(SomeProcesses).error is NotPicklable
    assert CASES_BY_NAME["broken_by_submit"].expect(SomeProcesses).results == (1, 2, 3, 4)
    beside = CASES_BY_NAME["timeout_beside_submit"]
    assert beside.expect(SomeProcesses).name == "earlier future stopped"  # stopping running work stops it too
    assert beside.expect(SomeThreadsWithFutures).name == "earlier future finished"  # a thread cannot be stopped
    assert CASES_BY_NAME["close_waits"].expect(SomeThreadsWithFutures).results == "future finished"


def test_where_tasks_run_in_other_interpreters_of_the_caller_they_are_sent_and_a_crash_ends_the_caller():
    """By traits: another interpreter (a serializer) decides the worker's traceback as the cause and what must
    pickle; the kind's crash_takes_caller, without worker processes of its own, decides that a dying worker ends
    the calling process, with the status the case's task gives it."""
    expect = {name: case.expect(SomeInterpreters) for name, case in CASES_BY_NAME.items() if case.applies(SomeInterpreters)}
    assert expect["task_raises"].cause is RemoteTraceback and expect["task_exits"].cause is RemoteTraceback
    assert expect["error_not_rebuilt"].error is TaskError and expect["error_not_rebuilt"].cause is RemoteTraceback
    for name in ("unpicklable_task", "result_not_rebuilt", "item_exits_pickled", "task_not_rebuilt"):
        assert expect[name].error is NotPicklable, name
    assert expect["timeout"] == Expected(MapTimeout, stopped=False)  # a thread of the caller: nothing stops it
    for name, status in CALLER_ENDS_WITH.items():
        ends = Expected(None, ends_with=status)
        assert expect[name] == CASES_BY_NAME[name].expect(SomeThreads) == ends, name
        assert CASES_BY_NAME[name].expect(SomeProcesses) == Expected(BrokenPool), name
        assert ends.name == CALLER_ENDS and ends.ended_as(status) and not ends.ended_as(None) and not ends.ended_as(1)
        assert not ends.met_by(BrokenPool("a worker died"), None) and not ends.met_by(None, [0, 1, 2, 3])
        assert not Expected(BrokenPool).ended_as(status)


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_every_probe_task_can_run_where_each_variant_runs_it(name):
    """The probe tasks' module imports wherever a variant's workers import it (a subinterpreter refuses some
    extension modules, faulthandler among them), so that each probe measures its case, not that import."""
    cls = variant_class(name)
    if cls.unavailable_reason() is not None:
        pytest.skip(f"{name}: {cls.unavailable_reason()}")
    for case in CASES:
        if case.applies(cls):
            assert cls.task_unavailable_reason(case.task_for(cls)) is None, case.name


def _cloudpickle_dumps() -> list:
    """cloudpickle's dumps where an engine brought it (the core install has none)."""
    try:
        import cloudpickle
    except ImportError:
        return []
    return [cloudpickle.dumps]


def test_the_new_probe_tasks_fail_the_way_they_say(monkeypatch):
    # As in a process where distributed was not imported: it installs tblib's pickling of exceptions
    # (copyreg), which rebuilds UnrebuildableError whole, and an earlier test in this worker may import it.
    monkeypatch.delitem(copyreg.dispatch_table, tasks.UnrebuildableError, raising=False)
    assert [tasks.sys_exit_on_item(i) for i in (0, 2)] == [0, 2]
    with pytest.raises(SystemExit) as exited:
        tasks.sys_exit_on_item(tasks.FAILING_ITEM)
    assert exited.value.code == tasks.EXIT_CODE
    for dumps in (pickle.dumps, *_cloudpickle_dumps()):
        unrebuildable = dumps(tasks.return_unrebuildable_on_item(tasks.FAILING_ITEM))
        with pytest.raises(tasks.RebuildRefused):
            pickle.loads(unrebuildable)
        with pytest.raises(tasks.UnrebuildableError) as raised:
            tasks.raise_unrebuildable_on_item(tasks.FAILING_ITEM)
        with pytest.raises(TypeError):  # pickles, but cannot be rebuilt
            pickle.loads(dumps(raised.value))
        with pytest.raises(SystemExit) as exited:
            dumps(tasks.ExitsWhenPickled(tasks.FAILING_ITEM))
        assert exited.value.code == tasks.EXIT_CODE
        with pytest.raises(tasks.RebuildRefused):
            pickle.loads(dumps(tasks.UNREBUILDABLE_TASK))
    assert tasks.UNREBUILDABLE_TASK(1) == 2 and tasks.return_unrebuildable_on_item(0) == 0
    assert tasks.Unrebuildable(1) == tasks.Unrebuildable(1) != tasks.Unrebuildable(2)
    assert tasks.ExitsWhenPickled(1) == tasks.ExitsWhenPickled(1) != 1


@pytest.mark.parametrize("name", ["task_exits", "result_not_rebuilt", "error_not_rebuilt", "item_exits_pickled"])
def test_in_process_the_new_cases_need_no_probe_to_be_read(name):
    """What the in-process expectation says, checked against the tasks themselves: the results, or the error."""
    case, expected = CASES_BY_NAME[name], CASES_BY_NAME[name].expect(SomeThreadsWithFutures)
    try:
        results, error = [case.task(item) for item in case.items], None
    except BaseException as exc:  # noqa: BLE001 - the raw outcome, before any variant turns it into its error
        results, error = None, exc
    if expected.error is None:
        assert expected.met_by(error, results)
    elif expected.error is TaskExit:
        assert isinstance(error, SystemExit) and error.code == dict(expected.carries)["code"]
    else:
        assert expected.met_by(error, results)


def test_fate_says_in_a_word_what_became_of_a_future():
    finished, stopped, broken, failed, pending = (Future() for _ in range(5))
    finished.set_result(1)
    stopped.cancel()
    broken.set_exception(BrokenPool("a worker died"))
    failed.set_exception(ValueError("no"))
    assert [fate(f, 0) for f in (finished, stopped, broken, failed, pending)] == \
        ["finished", "stopped", "stopped", "ValueError", "still running"]


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
    assert Expected(BrokenPool).name == "concurrency_lab.core.errors.BrokenPool"
    assert Expected(None, results=(1, 2)).met_by(None, [1, 2]) and not Expected(None, results=(1, 2)).met_by(None, [2, 1])
    said = Expected(None, results="future finished")
    assert said.name == "future finished" and said.met_by(None, "future finished") and not said.met_by(None, "future stopped")
    exits = CASES_BY_NAME["task_exits"].expect(variant_class("sequential"))
    exited = SystemExit(tasks.EXIT_CODE)
    right = TaskExit(f"sequential: the task raised SystemExit({tasks.EXIT_CODE}) on item {tasks.FAILING_ITEM}",
                     exit_type="SystemExit", code=tasks.EXIT_CODE)
    right.__cause__ = exited
    assert exits.met_by(right, None)
    wrong_code = TaskExit(str(right), exit_type="SystemExit", code=1)
    wrong_code.__cause__ = exited
    assert not exits.met_by(wrong_code, None)
    unnamed = TaskExit("sequential: the task exited", exit_type="SystemExit", code=tasks.EXIT_CODE)
    unnamed.__cause__ = exited
    assert not exits.met_by(unnamed, None)  # the message must name the exit and the item
    assert not exits.met_by(exited, None)  # the raw SystemExit is not the documented outcome


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


class ExitEscapingVariant(HangingVariant):
    """Lets a task's SystemExit out of map, as some variants did: the probe must record it, not die of it."""

    name = "test_exit_escaping"

    def map(self, task, items, *, chunksize=None, timeout=None):
        return [task(item) for item in items]


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
    assert outcome.caller_ended and outcome.exit_status == 3 and not outcome.documented  # ended in the call, undocumented
    assert outcome.problem() == f"test_caller_killing task_raises: {outcome.note}"


class ExitsBeforeTheCall(HangingVariant):
    """Ends its process as it is made, with the status a task's os._exit gives: before the call, so not the case's end."""

    name, kind, uses_processes = "test_exits_before_the_call", Kind.SEQUENTIAL, False

    def __init__(self, *args, **kwargs):
        os._exit(tasks.HARD_EXIT_CODE)


def _runs_in_the_caller() -> type[Variant]:
    """A registered variant, by traits, whose tasks run in the calling process: a crash there takes it."""
    return next(cls for cls in map(variant_class, VARIANT_NAMES)
                if cls.kind.crash_takes_caller and not cls.uses_processes and cls.unavailable_reason() is None)


def test_a_task_that_ends_the_calling_process_is_the_documented_row_of_its_case():
    cls, case = _runs_in_the_caller(), CASES_BY_NAME["worker_exits"]
    outcome = runner.probe(cls, case, bound_s=SHORT_BOUND_S)
    assert outcome.expected == CALLER_ENDS and outcome.exit_status == tasks.HARD_EXIT_CODE
    assert outcome.caller_ended and outcome.documented and not outcome.returned and outcome.problem() is None
    assert outcome.note == f"{CALLER_ENDS}: exit code {tasks.HARD_EXIT_CODE}"


def test_a_probe_process_that_ends_before_the_call_is_not_the_documented_end():
    case = CASES_BY_NAME["worker_exits"]
    assert case.expect(ExitsBeforeTheCall).ends_with == tasks.HARD_EXIT_CODE  # the status it ends with
    outcome = runner.probe(ExitsBeforeTheCall, case, bound_s=SHORT_BOUND_S)
    assert not outcome.caller_ended and not outcome.documented
    assert outcome.note.startswith(f"the probe process died (exit code {tasks.HARD_EXIT_CODE})")
    assert outcome.problem() is not None


def test_a_system_exit_that_escapes_map_is_a_row_not_a_dead_probe():
    outcome = runner.probe(ExitEscapingVariant, CASES_BY_NAME["task_exits"], bound_s=SHORT_BOUND_S)
    assert outcome.returned and outcome.error == "builtins.SystemExit" and outcome.message == str(tasks.EXIT_CODE)
    assert not outcome.documented and outcome.expected == "concurrency_lab.core.errors.TaskExit"


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


def _benchmark_json(tmp_path, monkeypatch, failures: bool = True) -> dict:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark turns itself off inside xdist workers
    options = RunOptions(profile="smoke", variants=["sequential"], workloads=["tiny_tasks"], workers=[1], failures=failures)
    code, results = run_benchmarks(options, out_dir=tmp_path)
    assert code == 0 and results.exists()
    return json.loads(results.read_text())


def test_the_benchmark_json_carries_the_table_of_the_run_variants(tmp_path, monkeypatch):
    table = FailureTable.from_dict(_benchmark_json(tmp_path, monkeypatch)[JSON_KEY])
    assert table.variants == ["sequential"]
    assert {o.case for o in table.outcomes} == {c.name for c in CASES if c.applies(variant_class("sequential"))}
    assert [(o.case, o.error, o.note) for o in table.outcomes if o.problem() is not None] == []


def test_no_lab_failures_leaves_the_table_out(tmp_path, monkeypatch):
    assert JSON_KEY not in _benchmark_json(tmp_path, monkeypatch, failures=False)


def test_the_benchmarks_are_saved_when_the_failure_probes_fail(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(runner, "measure_failures", broken)
    document = _benchmark_json(tmp_path, monkeypatch)
    assert document["benchmarks"] and JSON_KEY not in document
    assert "failure modes not measured: OSError: no more processes" in capsys.readouterr().out


def test_run_no_failures_asks_the_session_to_leave_the_table_out(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(bench_run, "run_benchmarks", lambda options, **kwargs: asked.append(options) or (0, tmp_path / "none"))
    cli.main(["run", "--no-failures", "--out", str(tmp_path)])
    cli.main(["run", "--out", str(tmp_path)])
    assert [options.failures for options in asked] == [False, True]


def test_an_outcome_says_how_the_calling_process_ended_and_older_records_still_read():
    ended = FailureOutcome("thread_pool", "worker_crashes", None, expected=CALLER_ENDS, documented=True,
                           exit_status=-signal.SIGSEGV, note=f"{CALLER_ENDS}: SIGSEGV")
    assert ended.caller_ended and ended.ended_how() == "SIGSEGV" and ended.problem() is None
    assert FailureOutcome.from_dict(json.loads(json.dumps(ended.to_dict()))) == ended
    older = {key: value for key, value in ended.to_dict().items() if key != "exit_status"}  # written before the field
    assert FailureOutcome.from_dict(older) == dataclasses.replace(ended, exit_status=None)
    assert dataclasses.replace(ended, exit_status=tasks.HARD_EXIT_CODE).ended_how() == f"exit code {tasks.HARD_EXIT_CODE}"
    assert dataclasses.replace(ended, documented=False).problem() == f"thread_pool worker_crashes: {CALLER_ENDS}: SIGSEGV"
    table = FailureTable(cases=(), outcomes=(ended,))
    assert table.to_dict()["schema"] == 1 and FailureTable.from_dict(table.to_dict()) == table  # an added key, schema 1


def test_an_outcome_names_what_breaks_the_documented_promise():
    kept = FailureOutcome("mp_pool", "task_exits", None, expected="concurrency_lab.core.errors.TaskExit",
                          error="concurrency_lab.core.errors.TaskExit", documented=True, returned=True, processes_left=0)
    assert kept.problem() is None
    hung = dataclasses.replace(kept, returned=False, documented=False, error=None, note="hung: no error within 30 s")
    assert hung.problem() == "mp_pool task_exits: hung: no error within 30 s"
    other = dataclasses.replace(kept, documented=False, error="concurrent.futures.process.BrokenProcessPool")
    assert other.problem().startswith("mp_pool task_exits: concurrent.futures.process.BrokenProcessPool (")
    assert other.problem().endswith("documented: concurrency_lab.core.errors.TaskExit")
    assert dataclasses.replace(kept, processes_left=2).problem() == "mp_pool task_exits: 2 worker process(es) outlived the call"


def test_the_benchmark_session_fails_on_a_failure_table_that_breaks_the_documentation(capsys):
    """--lab-failures-documented (tox's smoke benchmarks): the failure table measured there is checked as
    `test_every_variant_fails_each_case_the_documented_way` checks it, which tox then deselects."""
    from concurrency_lab.bench import plugin
    from concurrency_lab.bench.options import RunOptions

    def session_with(table):
        config = SimpleNamespace(stash=pytest.Stash(), pluginmanager=SimpleNamespace(get_plugin=lambda name: None))
        config.stash[plugin._OPTIONS] = RunOptions(profile="smoke", variants=[], workloads=[], failures=True,
                                                   failures_documented=True)
        config.stash[plugin._FAILURES] = table
        return SimpleNamespace(config=config, exitstatus=pytest.ExitCode.OK)

    kept = FailureOutcome("mp_pool", "task_exits", None, expected="x.TaskExit", error="x.TaskExit", documented=True,
                          returned=True, processes_left=0)
    table = {"schema": 1, "cases": [], "outcomes": [kept.to_dict()], "unavailable": {}, "settings": {}, "seconds": 1.0}
    session = session_with(table)
    plugin._fail_on_undocumented_failures(session)
    assert session.exitstatus == pytest.ExitCode.OK and capsys.readouterr().out == ""
    table["outcomes"].append(dataclasses.replace(kept, case="item_exits_pickled", returned=False, documented=False,
                                                 note="hung: no error within 30 s").to_dict())
    session = session_with(table)
    plugin._fail_on_undocumented_failures(session)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    assert capsys.readouterr().out.splitlines() == [
        "failure modes: not as documented: mp_pool item_exits_pickled: hung: no error within 30 s"]
    session = session_with(None)  # not measured: nothing was checked, which is a failure too
    plugin._fail_on_undocumented_failures(session)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
