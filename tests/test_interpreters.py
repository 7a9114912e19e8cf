"""Variants whose workers are interpreters of this process, each with its own GIL (Kind.INTERPRETERS's facts: in
the caller's process, not sharing its GIL): their traps turned into clear behaviour. Selected by those traits.

Each trap used to hang or end the caller, so the cases that could run in a child interpreter with a short limit:
a regression costs seconds, never an xdist worker.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from lab_params import variant_params
from lab_tasks import HoldsALock, fail_holding_a_lock, refuse_seven, return_a_lock, sleep_a_little, worker_pid

from concurrency_lab.core.errors import MapTimeout, NotPicklable
from concurrency_lab.variants import VARIANT_NAMES, VariantUnavailable, get_variant, variant_class
from concurrency_lab.variants.base import RemoteTraceback, TaskError
from concurrency_lab.variants.chunks import current_interpreter
from concurrency_lab.workloads import WORKLOAD_NAMES, get_workload

TESTS = Path(__file__).resolve().parent
CHILD_LIMIT_S = 30  # a case takes about a second; the naive wrapper's hang is caught here


def _own_interpreters(name: str) -> bool:
    kind = variant_class(name).kind
    return kind.in_process and not kind.shares_gil


INTERPRETERS = [p for p in variant_params() if _own_interpreters(p.values[0])]
#: The same, whether or not they can run here.
ANY = [name for name in VARIANT_NAMES if _own_interpreters(name)]


def run_child(code: str, *, cwd: Path, as_script: bool = True) -> subprocess.CompletedProcess[str]:
    """`code` as a script of its own in `cwd` (so that its functions live in its __main__), or as ``python -c`` (an
    interactive __main__, without a file), in a session of its own, killed whole after CHILD_LIMIT_S: a hang fails
    the test then with the child's output."""
    path = os.pathsep.join([str(TESTS.parent), str(TESTS / "support"), *filter(None, [os.environ.get("PYTHONPATH")])])
    script = cwd / "child_script.py"
    script.write_text(textwrap.dedent(code))
    argv = [sys.executable, str(script)] if as_script else [sys.executable, "-c", textwrap.dedent(code)]
    child = subprocess.Popen(argv, cwd=cwd, env={**os.environ, "PYTHONPATH": path}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = child.communicate(timeout=CHILD_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        output, _ = child.communicate()
        pytest.fail(f"the child did not finish within {CHILD_LIMIT_S} s (a hang); its output:\n{output}")
    return subprocess.CompletedProcess(child.args, child.returncode, output, "")


@pytest.mark.parametrize("as_script", [True, False], ids=["script", "python-c"])
@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_function_from_main_is_refused_before_anything_is_submitted(name, as_script, tmp_path):
    child = run_child(f"""
        from concurrency_lab.variants import get_variant
        from concurrency_lab.core.errors import NotPicklable

        def square(x):
            return x * x

        variant = get_variant({name!r}, workers=2)
        for call in (lambda: variant.map(square, [1, 2, 3]), lambda: variant.submit(square, 3)):
            try:
                call()
            except NotPicklable as exc:
                print("refused:", exc)
        variant.close()
        """, cwd=tmp_path, as_script=as_script)
    assert child.returncode == 0, child.stdout
    lines = [line for line in child.stdout.splitlines() if line.startswith("refused:")]
    assert len(lines) == 2, child.stdout  # map and submit, each in one line
    assert all("is defined in __main__" in line and "move it into a module" in line for line in lines), lines


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_function_no_finder_knows_is_refused(name, tmp_path, monkeypatch):
    """Loaded from a file, as pytest's importlib mode loads tests: it pickles here (by reference), but no worker finds it."""
    import importlib.util

    source = tmp_path / "off_path_module.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    spec = importlib.util.spec_from_file_location("off_path_module", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "off_path_module", module)
    with pytest.raises(NotPicklable, match=rf"^{name}: .*'off_path_module', which no import finder knows"):
        get_variant(name, workers=1).map(module.double, [1, 2])


@pytest.mark.parametrize("name", INTERPRETERS)
def test_workers_get_the_callers_sys_path(name, tmp_path, monkeypatch):
    (tmp_path / "added_at_run_time.py").write_text("def triple(x):\n    return 3 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import added_at_run_time

    assert get_variant(name, workers=2).map(added_at_run_time.triple, range(5)) == [0, 3, 6, 9, 12]


@pytest.mark.parametrize("name", INTERPRETERS)
def test_an_extension_that_refuses_subinterpreters_is_named_not_a_hang(name, tmp_path, monkeypatch):
    """psutil's C extension (a dependency of the lab) declares no subinterpreter support: importing it there fails."""
    (tmp_path / "uses_psutil.py").write_text("import psutil\n\ndef cores(x):\n    return psutil.cpu_count() + x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import uses_psutil

    with pytest.raises(NotPicklable, match=r"could not be rebuilt in a worker interpreter \(ImportError: .*_psutil"):
        get_variant(name, workers=1).map(uses_psutil.cores, [1], timeout=CHILD_LIMIT_S)
    reason = variant_class(name).task_unavailable_reason(uses_psutil.cores)
    assert reason is not None and "'uses_psutil'" in reason and "_psutil" in reason


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_workload_whose_task_does_not_import_there_is_unavailable_with_the_reason(name, tmp_path, monkeypatch):
    (tmp_path / "psutil_workload.py").write_text("import psutil\n\ndef task(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import psutil_workload

    workload = dataclasses.replace(get_workload("tiny_tasks"), name="needs_psutil", task=psutil_workload.task)
    reason = workload.unavailable_reason(variant_class(name))
    assert reason is not None and "'psutil_workload' does not import in a subinterpreter" in reason
    with pytest.raises(VariantUnavailable, match="psutil_workload"):
        workload.task_for(get_variant(name, workers=1))


@pytest.mark.parametrize("name", INTERPRETERS)
@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
def test_each_workload_is_runnable_or_says_why(name, workload_name):
    """The lab's own modules import in a worker interpreter (each worker imports them to run chunks); a workload
    whose task does not is unavailable for the variant with the module's name, never a failure at run time."""
    workload, cls = get_workload(workload_name), variant_class(name)
    reason = workload.unavailable_reason(cls)
    assert reason is None or workload.task.__module__ in reason
    assert cls.task_unavailable_reason(get_variant) is None  # the lab itself: concurrency_lab.variants


@pytest.mark.parametrize("name", INTERPRETERS)
def test_chunks_run_in_other_interpreters_of_this_process(name):
    with get_variant(name, workers=2, chunksize=1) as variant:
        assert variant.map(worker_pid, range(6)) == [os.getpid()] * 6
        workers = variant.last_run.workers
    assert {pid for pid, _ in workers} == {os.getpid()}
    assert current_interpreter() not in {interpreter for _, interpreter in workers}
    assert 1 <= len(workers) <= 2


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_tasks_exception_comes_back_with_the_workers_traceback(name):
    with pytest.raises(ValueError, match=r"^refused 7$") as raised:
        get_variant(name, workers=2).map(refuse_seven, range(10))
    assert isinstance(raised.value.__cause__, RemoteTraceback) and "refuse_seven" in str(raised.value.__cause__)


@pytest.mark.parametrize("name", INTERPRETERS)
def test_what_cannot_come_back_is_named(name):
    with pytest.raises(TaskError, match=HoldsALock.__name__):  # an exception that does not pickle: its text
        get_variant(name, workers=2).map(fail_holding_a_lock, range(4))
    with pytest.raises(NotPicklable, match=r"a result could not be sent back from a worker interpreter \(item 0, "):
        get_variant(name, workers=1, chunksize=4).map(return_a_lock, range(4))
    import threading

    with pytest.raises(NotPicklable, match=r"item 2 \(lock"):
        get_variant(name, workers=1).map(refuse_seven, [1, 2, threading.Lock()])


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_timeout_returns_in_time_and_says_the_process_waits_for_running_tasks(name):
    variant = get_variant(name, workers=2, chunksize=1)
    started = time.monotonic()
    with pytest.raises(MapTimeout, match="this process cannot exit before they end") as raised:
        variant.map(sleep_a_little, [1, 2], timeout=0.1)
    assert raised.value.stopped is False
    assert time.monotonic() - started < CHILD_LIMIT_S  # returned, not waited for the tasks (no hang; not a timing claim)


@pytest.mark.parametrize(("task", "status"), [("exit_on_five", 1), ("segfault_on_five", -signal.SIGSEGV)])
@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_task_that_ends_its_interpreter_ends_the_calling_process(name, task, status, tmp_path):
    child = run_child(f"""
        import lab_tasks
        from concurrency_lab.variants import get_variant
        get_variant({name!r}, workers=2).map(lab_tasks.{task}, range(8))
        print("the caller survived")
        """, cwd=tmp_path)
    assert "the caller survived" not in child.stdout and "Traceback" not in child.stdout, child.stdout
    assert child.returncode == status, child.stdout  # the task's os._exit(1), or its SIGSEGV: the whole process


@pytest.mark.parametrize("name", ANY)
def test_where_unavailable_the_backport_is_not_imported(name):
    """On a Python where the variant cannot run (3.12's backport crashes the process on import), asking must import
    nothing of it; where it can run, it is listed without a reason."""
    code = (f"import sys; from concurrency_lab.variants import variant_class, map; "
            f"r = variant_class({name!r}).unavailable_reason(); assert map(abs, [-1, 2]) == [1, 2]; print(repr(r)); "
            "print(sorted(m for m in sys.modules if m.startswith(('interpreters_', '_interp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=CHILD_LIMIT_S, check=True)
    reason, imported = out.stdout.splitlines()
    # Below 3.13 neither the backport nor an `_interpreters` (3.12's companion package's) is imported by a map either.
    assert imported == "[]" or (sys.version_info >= (3, 13) and "interpreters_backport" not in imported), imported
    if sys.version_info < (3, 13):
        assert "3.13" in reason and "3.14" in reason
