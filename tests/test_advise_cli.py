"""`concurrency-lab advise` on the command line: bad input is one line and exit status 2 before anything
runs; a good run prints the screen or JSON, writes the page with --out, and stops on SIGTERM in one line."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from concurrency_lab.commands import cli
from concurrency_lab.core.helper_process import child_env

TESTS = Path(__file__).parent / "support"
PROG = "concurrency-lab advise"


def _run_in_process(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(["advise", *argv])
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def _bad_inputs(tmp: Path) -> list[tuple[list[str], str]]:
    (tmp / "broken_advise_module.py").write_text("import no_such_dependency_here\n")
    (tmp / "not.json").write_text("{this is not json\n")
    (tmp / "empty.json").write_text("[]\n")
    return [
        (["no_such_module_xyz:f", "--range", "3"], "no module named 'no_such_module_xyz'"),
        (["advise_targets:nope", "--range", "3"], "has no attribute 'nope'"),
        ([f"{tmp}/broken_advise_module.py:f", "--range", "3"], "importing 'broken_advise_module' failed: ModuleNotFoundError"),
        (["advise_targets:SERVER_ADDRESS", "--range", "3"], "is a NoneType, not a function"),
        (["advise_targets:add_one", "--inputs", str(tmp / "not.json")], "neither a JSON array nor JSON lines"),
        (["advise_targets:add_one", "--inputs", str(tmp / "missing.json")], "cannot read"),
        (["advise_targets:add_one", "--inputs", str(tmp / "empty.json")], "gave no items"),
        (["advise_targets:add_one", "--expr", "1/0"], "--expr raised ZeroDivisionError: division by zero"),
        (["advise_targets:add_one", "--expr", "len"], "not iterable"),
        (["advise_targets:add_one", "--expr", "[]"], "gave no items"),
        (["advise_targets:add_one", "--range", "0"], "--range: must be at least 1, got 0"),
        (["advise_targets:add_one", "--range", "3", "--budget", "0"], "--budget: must be above 0"),
        (["advise_targets:add_one", "--range", "3", "--budget", "-5"], "--budget: must be above 0"),
        (["advise_targets:add_one", "--range", "3", "--budget", "nan"], "--budget: expected a number of seconds"),
        (["advise_targets:add_one"], "one of the arguments --range --inputs --expr is required"),
        (["advise_targets:add_one", "--range", "3", "--expr", "[1]"], "not allowed with argument"),
        (["advise_targets", "--range", "3"], "expected MODULE:FUNCTION"),
        # The test sets DASK_SCHEDULER_ADDRESS to a malformed address; only --include-cluster reads it.
        (["advise_targets:add_one", "--range", "3", "--include-cluster"],
         "--include-cluster: DASK_SCHEDULER_ADDRESS or dask's scheduler-address: expected a scheduler address"),
    ]


def test_bad_input_is_one_line_and_status_2(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://no-port-here")
    import concurrency_lab.advise as advise_package

    def must_not_run(*args, **kwargs):
        raise AssertionError("advise ran on bad input")
    monkeypatch.setattr(advise_package, "advise", must_not_run)  # what the command calls (restored after)
    for argv, says in _bad_inputs(tmp_path):
        status, out, err = _run_in_process(argv)
        assert status == 2, (argv, err)
        assert err.count("\n") == 1 and err.startswith(f"{PROG}: error: "), (argv, err)
        assert says in err, (argv, err)
        assert "Traceback" not in err and out == ""


def _command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "concurrency_lab", "advise", *argv]


def _env() -> dict[str, str]:
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env["PYTHONPATH"]])
    return env


def test_a_module_that_hangs_at_import_ends_advise_in_one_line_within_its_budget(tmp_path):
    (tmp_path / "hangs_at_import.py").write_text("import time\ntime.sleep(3600)\ndef f(x):\n    return x\n")
    done = subprocess.run(_command(f"{tmp_path / 'hangs_at_import.py'}:f", "--range", "3", "--budget", "1"),
                          capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{PROG}: error: loading {tmp_path / 'hangs_at_import.py'}:f and its items took "
                                  "longer than the budget (1 s): importing the module or making the items hangs"), done.stderr


def judged(done: subprocess.CompletedProcess) -> bool:
    """Whether advise judged (status 0); otherwise it must have said why, in one line on stderr naming what
    would decide it: on a busy machine a budget may run out, and that is an answer too, never a silent 1."""
    shown = f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    if done.returncode == 0:
        return True
    assert done.returncode == 1, shown
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("advise: NOT JUDGED: ") or (last.startswith("advise: NO ADVICE: ") and "--budget" in last), shown
    assert "Traceback" not in done.stderr, shown
    return False


def test_a_run_prints_json_and_writes_the_page(tmp_path):
    done = subprocess.run(_command("advise_targets:sleep_20ms", "--range", "16", "--budget", "4", "--json",
                                   "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, env=_env(), timeout=120)
    advice = json.loads(done.stdout)
    assert (advice["recommended"] is not None) == judged(done)
    assert advice["function"] == "advise_targets:sleep_20ms"
    assert advice["items_total"] == 16 and advice["schema_version"] == 1
    assert advice["budget_seconds"] == 4.0  # as given, though loading the function was paid from it
    assert "advise: probe:" in done.stderr  # progress goes to stderr
    page = (tmp_path / "out" / "advise.html").read_text()
    assert page.startswith("<!doctype html>") and 'id=advise' in page and "<script" not in page and "http" not in page
    assert json.loads((tmp_path / "out" / "advise.json").read_text())["function"] == advice["function"]


def test_a_function_by_file_path_on_the_screen(tmp_path):
    done = subprocess.run(_command(f"{TESTS / 'advise_targets.py'}:wait_on_event", "--expr", "range(12)",
                                   "--budget", "4"), capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.stdout.startswith(f"advise {TESTS / 'advise_targets.py'}:wait_on_event: Python "), done.stdout
    if judged(done):
        assert "\nUSE " in done.stdout and "\ncode:\n" in done.stdout, done.stdout
        assert "from advise_targets import wait_on_event" in done.stdout
    else:
        assert "\nUSE " not in done.stdout and "\ncode:\n" not in done.stdout, done.stdout


def test_an_answer_that_is_not_judged_says_why_on_stderr_too(monkeypatch, tmp_path):
    """Exit status 1 always comes with a line saying why (here a budget that ran out), also beside --json, and
    as stderr's last line with --out too (after the files written: it is the last thing a user should read)."""
    monkeypatch.syspath_prepend(str(TESTS))
    import concurrency_lab.advise as advise_package
    from concurrency_lab.records.advice import Advice
    from concurrency_lab.records.advice_trials import Probe

    def budget_ran_out(func, items, **kwargs):
        return Advice(function="advise_targets:add_one", items_total=3, items_sampled=3, budget_seconds=4.0,
                      elapsed_seconds=4.0, calls=9, build={"python": "3", "gil_enabled": True, "usable_cpus": 2},
                      probe=Probe(), bound=None, reasons=[], trials=[], hand_off_seconds={}, ruled_out={},
                      not_tried={}, judged=False,
                      problem="the budget (4 s) was spent before any concurrent variant was measured: raise --budget")
    monkeypatch.setattr(advise_package, "advise", budget_ran_out)
    for flags in ([], ["--json"], ["--out", str(tmp_path / "out")], ["--json", "--out", str(tmp_path / "out2")]):
        status, out, err = _run_in_process(["advise_targets:add_one", "--range", "3", "--budget", "4", *flags])
        assert status == 1, err
        assert err.splitlines()[-1] == ("advise: NOT JUDGED: the budget (4 s) was spent before any concurrent variant "
                                        "was measured: raise --budget"), (flags, err)
        if "--out" in flags:
            assert f"advise: wrote {Path(flags[-1]) / 'advise.json'}" in err.splitlines(), err


def test_sigterm_stops_it_in_one_line(tmp_path):
    process = subprocess.Popen(_command("advise_targets:sleep_20ms", "--range", "400", "--budget", "60"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            lines.append(line)
            if line.startswith("advise: sequential x1"):
                break
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, (lines, err)
    assert err.strip().splitlines()[-1] == "concurrency-lab advise: interrupted by SIGTERM during advise; nothing written"
    assert "Traceback" not in err
