"""Run options are defined once: a bad value gets one line on stderr and exit status 2 from every
command, and the same text, as a UsageError, from the pytest plugin."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_options import OPTIONS

from concurrency_lab.bench import plugin
from concurrency_lab.bench.options import RUN_OPTIONS, WORKER_COUNTS, RunOptions
from concurrency_lab.commands import cli
from concurrency_lab.core.cpus import MAX_WORKERS
from concurrency_lab.core.options import ArgumentParser, OptionError, add_options, option_message
from concurrency_lab.variants import VARIANT_NAMES
from concurrency_lab.workloads import WORKLOAD_NAMES

LESSON_MODULES = ("parallel_processor", "executor_processor", "threaded_downloader", "executor_downloader")
#: Each command, how to call its main in-process, and the option keys it takes.
COMMANDS = {
    "run": (lambda argv: cli.main(["run", *argv]), "concurrency-lab run",
            ("profile", "variants", "workloads", "worker_counts")),
    "matrix": (lambda argv: cli.main(["matrix", *argv]), "concurrency-lab matrix",
               ("variants", "workloads", "workers", "start_method")),
    "download": (lambda argv: cli.main(["download", *argv]), "concurrency-lab download", ("variant", "workers", "start_method")),
    **{name: (lambda argv, name=name: importlib.import_module(f"concurrency_lab.lesson.{name}").main(argv),
              f"python -m concurrency_lab.lesson.{name}", ("variant", "workers", "start_method")) for name in LESSON_MODULES},
}
#: Bad values per option key, and the problem each must be reported with.
BAD = {
    "workers": [("0", "must be at least 1, got 0"), ("-1", "must be at least 1, got -1"),
                (str(MAX_WORKERS + 1), f"must be at most {MAX_WORKERS}, got {MAX_WORKERS + 1}"),
                ("abc", f"expected a whole number from 1 to {MAX_WORKERS}, got 'abc'"),
                ("", f"expected a whole number from 1 to {MAX_WORKERS}, got ''")],
    "worker_counts": [("0", "must be at least 1, got 0"), ("2,-1", "must be at least 1, got -1"),
                      (f"1,{MAX_WORKERS + 1}", f"must be at most {MAX_WORKERS}, got {MAX_WORKERS + 1}"),
                      ("1,two", f"expected a whole number from 1 to {MAX_WORKERS}, got 'two'"),
                      (",", "expected comma-separated worker counts like 1,2,8, got ','")],
    "variants": [("threads", f"unknown variant 'threads'; choose from {', '.join(VARIANT_NAMES)}"),
                 ("", f"expected one or more comma-separated variants from {', '.join(VARIANT_NAMES)}; got ''")],
    "variant": [("threads", f"unknown variant 'threads'; choose from {', '.join(VARIANT_NAMES)}")],
    "workloads": [("sequential,nope", "unknown workloads 'sequential', 'nope'; choose from " + ", ".join(WORKLOAD_NAMES))],
    "profile": [("huge", "unknown profile 'huge'; choose from smoke, standard, full")],
    "start_method": [("bogus", "unknown start method 'bogus'; choose from fork, forkserver, spawn")],
}
CASES = [pytest.param(command, key, value, problem, id=f"{command}-{OPTIONS[key].flag}={value}")
         for command, (_, _, keys) in COMMANDS.items() for key in keys for value, problem in BAD[key]]
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def one_error_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, f"expected one line on stderr, got {err!r}"
    assert "Traceback" not in err
    return err.rstrip("\n")


@pytest.mark.parametrize(("command", "key", "value", "problem"), CASES)
def test_each_bad_value_is_one_line_and_exit_status_2(command, key, value, problem, capsys):
    main, prog, _ = COMMANDS[command]
    with pytest.raises(SystemExit) as exit_info:
        main([f"{OPTIONS[key].flag}={value}"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert one_error_line(captured.err) == f"{prog}: error: {OPTIONS[key].flag}: {problem}"


@pytest.mark.parametrize("command", ["run", "matrix", "download", "executor_processor"])
def test_argparse_errors_read_the_same(command, capsys):
    main, prog, _ = COMMANDS[command]
    with pytest.raises(SystemExit) as exit_info:
        main(["--workers"])  # no value: argparse's own message, in the lab's one line
    assert exit_info.value.code == 2
    assert one_error_line(capsys.readouterr().err) == f"{prog}: error: --workers: expected one argument"


def test_checks_after_parsing_use_the_same_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        COMMANDS["download"][0](["--variant", "thread_pool", "--start-method", "spawn"])
    assert exit_info.value.code == 2
    assert one_error_line(capsys.readouterr().err) == (
        "concurrency-lab download: error: variant 'thread_pool' starts no processes, so it takes no start method")


class _PytestParser:
    """Stands in for pytest's parser: records what the plugin registers."""

    def __init__(self) -> None:
        self.options: dict[str, dict] = {}

    def getgroup(self, *args: object, **kwargs: object) -> _PytestParser:
        return self

    def addoption(self, flag: str, **kwargs: object) -> None:
        self.options[flag] = kwargs


@pytest.mark.parametrize(("key", "value", "problem"), [
    pytest.param(key, value, problem, id=f"{key}={value}")
    for key in ("profile", "variants", "workloads", "worker_counts") for value, problem in BAD[key]])
def test_the_plugin_says_the_same_as_the_command(key, value, problem, capsys):
    parser = _PytestParser()
    plugin.pytest_addoption(parser)
    flag = "--lab-" + OPTIONS[key].flag.removeprefix("--")
    with pytest.raises(pytest.UsageError) as error:
        parser.options[flag]["type"](value)
    with pytest.raises(SystemExit):
        cli.main(["run", f"{OPTIONS[key].flag}={value}"])
    from_cli = one_error_line(capsys.readouterr().err).removeprefix("concurrency-lab run: error: ")
    assert str(error.value) == from_cli.replace(OPTIONS[key].flag, flag, 1) == f"{flag}: {problem}"


def test_the_plugin_keeps_its_option_names_and_defaults():
    parser = _PytestParser()
    plugin.pytest_addoption(parser)
    assert list(parser.options) == ["--lab-profile", "--lab-variants", "--lab-workloads", "--lab-workers", "--lab-timeout",
                                    "--lab-dask-address", "--lab-progress", "--lab-eta-from", "--lab-failures",
                                    "--lab-failures-documented"]
    assert parser.options["--lab-profile"]["default"] == "smoke"
    assert parser.options["--lab-failures"]["default"] is True  # --no-lab-failures turns the table off
    assert parser.options["--lab-workers"]["type"]("8,1,8") == [1, 8]
    assert parser.options["--lab-dask-address"]["type"]("tcp://127.0.0.1:8786") == "tcp://127.0.0.1:8786"


def run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env, cwd=PACKAGE_PARENT)


def test_real_processes_exit_2_with_one_line():
    for command, line in [
        ((sys.executable, "-m", "concurrency_lab", "run", "--workers", "0"),
         "concurrency-lab run: error: --workers: must be at least 1, got 0"),
        ((sys.executable, "-m", "concurrency_lab.lesson.executor_processor", "--workers", "0"),
         "python -m concurrency_lab.lesson.executor_processor: error: --workers: must be at least 1, got 0"),
    ]:
        done = run(*command)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", line + "\n")


def test_pytest_reports_a_bad_lab_option_as_a_usage_error():
    done = run(sys.executable, "-m", "pytest", "-p", "concurrency_lab.bench.plugin", "-p", "no:cacheprovider",
               "-c", os.devnull, "--noconftest", "--lab-workers", "0")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: --lab-workers: must be at least 1, got 0" in done.stderr.splitlines()


def test_the_largest_worker_count_is_accepted():
    args = cli.build_parser().parse_args(["run", f"--workers=1,{MAX_WORKERS}"])
    assert args.workers == [1, MAX_WORKERS]
    assert cli.build_parser().parse_args(["matrix", "--workers", str(MAX_WORKERS)]).workers == MAX_WORKERS


def test_run_help_says_which_rows_keep_their_own_count(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "the sequential baseline always runs with 1 worker" in help_text
    assert "cold-pool rows and the chunksize trap row run at one count per workload" in help_text
    assert f"each 1 to {MAX_WORKERS}" in help_text and "(default: standard)" in help_text


def test_a_command_changes_a_shared_option_for_itself_only():
    """`Option.but`: download's --workers defaults to 8; the option every other command adds is unchanged."""
    changed = OPTIONS["workers"].but(default=8)
    assert (changed.default, OPTIONS["workers"].default) == (8, None)
    assert (changed.flag, changed.parse) == (OPTIONS["workers"].flag, OPTIONS["workers"].parse)


# --- any text at all: a value, or the one documented error -----------------------------------------

NAMES = [*VARIANT_NAMES, *WORKLOAD_NAMES, "smoke", "fork", "spawn", "0", "1", "2", str(MAX_WORKERS), str(MAX_WORKERS + 1),
         "-3", " ", ""]
TEXT = st.one_of(st.text(), st.lists(st.sampled_from(NAMES)).map(",".join), st.integers().map(str))


@given(TEXT)
def test_validators_return_a_value_or_raise_option_error(text):
    for key, option in OPTIONS.items():
        try:
            value = option.parse(text)
        except OptionError as exc:
            assert "\n" not in str(exc), key
            continue
        if key == "workers":
            assert 1 <= value <= MAX_WORKERS
        elif key == "worker_counts":
            assert value and all(1 <= n <= MAX_WORKERS for n in value)


@given(TEXT)
def test_the_option_types_raise_only_their_callers_error(text):
    recorded: list[dict] = []
    add_options(lambda flag, **kwargs: recorded.append(kwargs), OPTIONS.values(), error=pytest.UsageError)
    for kwargs in recorded:
        with contextlib.suppress(pytest.UsageError):
            kwargs["type"](text)


@given(TEXT)
def test_any_workers_value_parses_or_is_one_line_and_exit_2(text):
    parser = ArgumentParser(prog="lab")
    add_options(parser.add_argument, [WORKER_COUNTS])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            parser.parse_args([f"--workers={text}"])
        except SystemExit as exc:
            assert exc.code == 2
            assert one_error_line(err.getvalue()).startswith("lab: error: --workers: ")
            return
    assert err.getvalue() == ""


def test_option_message_is_the_one_format():
    assert option_message("--workers", "must be at least 1, got 0") == "--workers: must be at least 1, got 0"


# --- run's options reach the session as one value, not as argv parsed again ------------------------

def test_run_hands_the_session_its_parsed_options_as_a_value(tmp_path, monkeypatch):
    """pytest.main gets no --lab-* text: a `LabSession` holding the `RunOptions` the command parsed."""
    seen: dict[str, object] = {}

    def fake_main(args, plugins):
        seen.update(args=list(args), plugins=list(plugins))
        return pytest.ExitCode.NO_TESTS_COLLECTED

    monkeypatch.setattr(pytest, "main", fake_main)
    cli.main(["run", "--profile", "smoke", "--variants", "sequential,thread_pool", "--workloads", "tiny_tasks",
              "--workers", "2,1", "--timeout", "30", "--no-failures", "--out", str(tmp_path)])
    assert not [arg for arg in seen["args"] if str(arg).startswith("--lab-")]
    (session,) = [p for p in seen["plugins"] if isinstance(p, plugin.LabSession)]
    assert session.options == RunOptions(profile="smoke", variants=["sequential", "thread_pool"], workloads=["tiny_tasks"],
                                         workers=[1, 2], timeout=30.0, failures=False, progress=True)


def test_pytest_options_build_the_same_value_and_the_same_cases():
    """`pytest --lab-profile smoke ...` (tox) collects the very cases `run` plans for the same `RunOptions`."""
    from concurrency_lab.bench import test_matrix
    from concurrency_lab.bench.run import RunPlan

    done = run(sys.executable, "-m", "pytest", "-p", "concurrency_lab.bench.plugin", "-p", "no:cacheprovider", "-c", os.devnull,
               "--noconftest", "--collect-only", "-q", test_matrix.__file__, "--lab-profile", "smoke",
               "--lab-variants", "sequential,thread_pool", "--lab-workloads", "tiny_tasks", "--lab-workers", "2,1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = [line.rsplit("[", 1)[1].rstrip("]") for line in done.stdout.splitlines() if "::test_benchmark[" in line]
    options = RunOptions(profile="smoke", variants=["sequential", "thread_pool"], workloads=["tiny_tasks"], workers=[1, 2])
    plan = RunPlan.make(options.profile, options.variants, options.workloads, options.workers)
    assert collected and collected == plan.case_ids


def test_run_options_are_read_by_field_name_whatever_the_prefix():
    parsed = {"lab_profile": "full", "lab_variants": ["sequential"], "lab_workloads": ["processor"], "lab_workers": None,
              "lab_timeout": None, "lab_dask_address": None, "lab_failures": False, "lab_progress": True,
              "lab_eta_from": None, "lab_failures_documented": True, "unrelated": 1}
    assert RunOptions.from_values(parsed, prefix="lab_") == RunOptions(
        profile="full", variants=["sequential"], workloads=["processor"], failures=False, progress=True,
        failures_documented=True)
    assert {option.dest for option in RUN_OPTIONS} <= {field.name for field in dataclasses.fields(RunOptions)}
