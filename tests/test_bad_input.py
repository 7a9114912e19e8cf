"""Bad input at every boundary, generated: each command's options, result files, `Variant.map` and the
variants' constructors. Only the documented errors come out (one line on stderr and exit status 2 from a
command, before any work starts; ValueError or TypeError from the API), never a traceback or a hang."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from lab_options import OPTIONS
from lab_params import make_variant, task_for, variant_params
from lab_tasks import kind_of

from concurrency_lab.commands import cli
from concurrency_lab.commands.download import MAX_DOWNLOAD_SECONDS, MAX_RETRIES
from concurrency_lab.core.cpus import MAX_WORKERS, available_start_methods
from concurrency_lab.core.options import OptionError
from concurrency_lab.lesson.processor_cli import MAX_TASKS
from concurrency_lab.records.benchmark import SCHEMA_VERSION
from concurrency_lab.variants import VARIANT_NAMES, Variant, VariantUnavailable, get_variant, variant_class
from concurrency_lab.workloads import WORKLOAD_NAMES

DATA = Path(__file__).parent / "data"
RESULTS = DATA / "run_py311.json"
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])
FAST_SECONDS = 1.0  # a refusal comes before any work: parsing takes milliseconds


class ReachedWork(Exception):
    """A command got past its checks to the work it would start (stubbed out here)."""


def _reached(*args: Any, **kwargs: Any) -> Any:
    raise ReachedWork


# --- junk -------------------------------------------------------------------------------------------

NAMES = [*VARIANT_NAMES, *WORKLOAD_NAMES, "smoke", "test", "fork", "spawn", "127.0.0.1", "::1", "localhost"]
NUMBERS = ["0", "-1", "1", "2", "8", "65535", "65536", str(MAX_WORKERS), str(MAX_WORKERS + 1), str(2**32), str(10**30),
           "1e9", "1e-400", "0.5", "-0.0", "nan", "NaN", "inf", "-inf", "1_000", "٣", "0x10", " 7 ", "", " "]
JUNK_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(NUMBERS),
    st.lists(st.sampled_from(NAMES + NUMBERS), max_size=4).map(",".join),
    st.integers().map(str),
    st.floats().map(str),
    st.text(alphabet="/.\\:\x00\n -_a", max_size=12),  # paths and the characters that break them
)


def one_error_line(err: str, *progs: str) -> str:
    """The one line of `err`, which must start ``prog: error: `` for one of `progs`."""
    assert err.endswith("\n") and err.count("\n") == 1, f"expected one line on stderr, got {err!r}"
    assert "Traceback (most recent call last)" not in err
    assert err.startswith(tuple(f"{prog}: error: " for prog in progs)), err
    return err.rstrip("\n")


def outcome_of(call: Callable[[], Any]) -> dict[str, Any]:
    """Run a command's `call` with stdout and stderr captured: its status ("reached" when it got to
    the stubbed work), what it printed, and how long it took."""
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = call()
        except SystemExit as exc:
            status = exc.code
        except ReachedWork:
            status = "reached"
    return {"status": status, "out": out.getvalue(), "err": err.getvalue(), "seconds": time.perf_counter() - started}


# --- every command's options --------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    main: Callable[[list[str]], int]
    prog: str  # what its error lines start with
    needed: list[str]  # arguments it needs besides the junk
    flags: dict[str, str]  # flag -> its key in OPTIONS
    work: list[str]  # "module:attribute" of the work it would start, stubbed to raise ReachedWork


def _lesson(name: str) -> Callable[[list[str]], int]:
    return lambda argv: importlib.import_module(f"concurrency_lab.lesson.{name}").main(argv)


def _lab(command: str) -> Callable[[list[str]], int]:
    return lambda argv: cli.main([command, *argv])


WORK = {
    "run": ["concurrency_lab.bench.run:run_benchmarks"],
    "report": ["concurrency_lab.bench.run:write_run_reports"],
    "compare": ["concurrency_lab.report:compare_runs"],
    "matrix": ["concurrency_lab.commands.matrix:run_matrix"],
    "download": ["concurrency_lab.commands.download:download", "concurrency_lab.commands.download:demo_urls"],
    "serve": ["concurrency_lab.server.listener:LabHTTPServer.server_bind"],
    "processor": ["concurrency_lab.lesson.processor_cli:make_inputs"],
}
RUN_FLAGS = {"--variant": "variant", "--workers": "workers", "--start-method": "start_method"}
COMMANDS = {
    "run": Command(_lab("run"), "concurrency-lab run", [],
                   {"--profile": "profile", "--variants": "variants", "--workloads": "workloads",
                    "--workers": "worker_counts", "--out": "out"}, WORK["run"]),
    "report": Command(_lab("report"), "concurrency-lab report", [str(RESULTS)], {"--out": "out"}, WORK["report"]),
    "matrix": Command(_lab("matrix"), "concurrency-lab matrix", [],
                      {"--variants": "variants", "--workloads": "workloads", "--workers": "workers",
                       "--start-method": "start_method", "--size": "size", "--seed": "seed"}, WORK["matrix"]),
    "download": Command(_lab("download"), "concurrency-lab download", ["http://127.0.0.1:9/"], RUN_FLAGS, WORK["download"]),
    "serve": Command(_lab("serve"), "python -m concurrency_lab.server", [], {"--port": "port"}, WORK["serve"]),
    **{name: Command(_lesson(name), f"python -m concurrency_lab.lesson.{name}", [], RUN_FLAGS,
                     WORK["processor" if name.endswith("processor") else "download"])
       for name in ("parallel_processor", "executor_processor", "threaded_downloader", "executor_downloader")},
}
OPTION_CASES = [pytest.param(name, flag, id=f"{name}{flag}") for name, command in COMMANDS.items() for flag in command.flags]


def stub_work(monkeypatch: pytest.MonkeyPatch, targets: list[str]) -> None:
    for target in targets:
        module, _, attribute = target.partition(":")
        owner: Any = importlib.import_module(module)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        monkeypatch.setattr(owner, name, _reached)


@pytest.mark.parametrize(("command", "flag"), OPTION_CASES)
def test_junk_for_an_option_is_one_line_and_status_2_before_any_work(command, flag, monkeypatch):
    command = COMMANDS[command]
    stub_work(monkeypatch, command.work)
    parse = OPTIONS[command.flags[flag]].parse

    @given(JUNK_TEXT)
    def check(value: str) -> None:
        outcome = outcome_of(lambda: command.main([*command.needed, f"{flag}={value}"]))
        assert outcome["seconds"] < FAST_SECONDS, outcome
        if outcome["status"] == "reached":
            if value != "--":  # argparse before 3.12.7 drops an option's value "--": as if the option were not given
                parse(value)  # only a value the option's own check accepts gets as far as the work
            return
        assert outcome["status"] == 2 and outcome["out"] == "", outcome
        one_error_line(outcome["err"], command.prog)

    check()


@pytest.mark.parametrize("argv", [["--port=-1"], ["--port=65536"], ["--port=99999999999999999999"], ["--port=8080.5"],
                                  ["--host=0.0.0.0", "--port=0"], ["--host=", "--port=0"]],
                         ids=["negative", "65536", "huge", "fraction", "not-loopback", "empty-host"])
def test_serve_refuses_ports_and_hosts_before_listening(argv, monkeypatch, capsys):
    stub_work(monkeypatch, WORK["serve"])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", *argv])
    assert exit_info.value.code == 2
    one_error_line(capsys.readouterr().err, "python -m concurrency_lab.server")


@pytest.mark.parametrize(("command", "flag", "bad", "problem"), [
    ("download", "--deadline", "inf", "above 0 and at most"),
    ("download", "--deadline", "1e9", f"at most {MAX_DOWNLOAD_SECONDS:g} seconds"),
    ("download", "--connect-timeout", "nan", "expected a number of seconds"),
    ("download", "--read-timeout", "1e9", f"at most {MAX_DOWNLOAD_SECONDS:g} seconds"),
    ("download", "--retries", str(MAX_RETRIES + 1), f"must be at most {MAX_RETRIES}"),
    ("download", "--max-redirects", "1000000", "must be at most"),
    ("executor_processor", "--tasks", str(MAX_TASKS + 1), f"must be at most {MAX_TASKS}"),
], ids=lambda value: str(value)[:20])
def test_every_numeric_option_has_an_upper_bound(command, flag, bad, problem, monkeypatch):
    command = COMMANDS[command]
    stub_work(monkeypatch, command.work)
    key, prog = flag.removeprefix("--").replace("-", "_"), command.prog
    with pytest.raises(OptionError, match=problem) as refused:
        OPTIONS[key].parse(bad)
    outcome = outcome_of(lambda: command.main([*command.needed, f"{flag}={bad}"]))
    if outcome["status"] == "reached" or f": error: {flag}: " not in outcome["err"]:
        said = "accepts it" if outcome["status"] == "reached" else f"says {outcome['err'].strip()!r}"
        pytest.skip(f"{prog} parses {flag} itself, not with its declared Option ({key!r}): for {bad} it {said}")
    assert outcome["status"] == 2
    assert one_error_line(outcome["err"], prog) == f"{prog}: error: {flag}: {refused.value}"


@pytest.mark.parametrize("command", ["run", "report"])
def test_an_out_folder_that_cannot_be_made_is_refused_before_any_work(command, tmp_path, monkeypatch, capsys):
    command = COMMANDS[command]
    stub_work(monkeypatch, command.work)
    (tmp_path / "somefile").write_text("in the way")
    # Tests run as root, whom permission bits do not stop: a file in the way stops everyone.
    for out, problem in [(tmp_path / "somefile" / "sub", "is a file, so no folder can be made below it"),
                         (tmp_path / "somefile", "it is a file, not a folder")]:
        with pytest.raises(SystemExit) as exit_info:
            command.main([*command.needed, "--out", str(out)])
        assert exit_info.value.code == 2
        assert one_error_line(capsys.readouterr().err, command.prog).endswith(problem)


def test_a_folder_without_write_permission_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as for a user other than root
    with pytest.raises(OptionError, match="no permission to write in"):
        OPTIONS["out"].parse(str(tmp_path / "new"))


# --- --out: one check (core.out_path.out_folder) for every command that writes to a folder ---------------

#: What each command that takes --out needs besides it, and the work it would start (stubbed).
OUT_NEEDS = {"run": ([], WORK["run"]), "report": ([str(RESULTS)], WORK["report"]),
             "advise": (["json:loads", "--range", "3"], ["concurrency_lab.commands.advise:load_function"])}


def _commands_taking_out() -> list[str]:
    """The sub-commands whose parser has --out, read from the parser: a command that gains one is tested too."""
    (subparsers,) = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return [name for name, parser in subparsers.choices.items()
            if any("--out" in action.option_strings for action in parser._actions)]


OUT_COMMANDS = _commands_taking_out()


def test_every_command_that_takes_out_is_checked_here():
    # matrix prints its rows and writes no files: it has no --out.
    assert sorted(OUT_COMMANDS) == sorted(OUT_NEEDS)


def _out_outcome(command: str, out: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    needed, work = OUT_NEEDS[command]
    stub_work(monkeypatch, work)
    return outcome_of(lambda: cli.main([command, *needed, "--out", out]))


@pytest.mark.parametrize(("out", "problem"), [
    ("/proc/forbidden/x", "no folder can be made in '/proc'"),
    ("/proc", "no folder can be made in '/proc'"),
    ("/sys/x", "no folder can be made in '/sys'"),
    ("/sys/kernel", "no folder can be made in '/sys/kernel'"),
], ids=["proc-missing-parent", "proc", "sys-missing-parent", "sys-folder"])
@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_on_a_virtual_file_system_is_one_line_and_status_2_before_any_work(command, out, problem, monkeypatch):
    """Root passes every permission check on /proc and /sys, and mkdir there still fails: said before any work."""
    system = Path("/", out.split("/")[1])
    if not system.is_dir():
        pytest.skip(f"no {system} on this system")
    outcome = _out_outcome(command, out, monkeypatch)
    assert outcome["status"] == 2 and outcome["out"] == "", outcome
    line = one_error_line(outcome["err"], f"concurrency-lab {command}")
    assert line.startswith(f"concurrency-lab {command}: error: --out: cannot write to {out!r}: ") and problem in line, line


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_on_a_read_only_file_system_is_one_line_and_status_2(command, tmp_path, monkeypatch):
    real_statvfs = os.statvfs

    def read_only(path):  # as a folder on a file system mounted read-only would say (root cannot write there either)
        result = real_statvfs(path)
        return os.statvfs_result((*result[:8], result.f_flag | os.ST_RDONLY, *result[9:]))

    monkeypatch.setattr(os, "statvfs", read_only)
    outcome = _out_outcome(command, str(tmp_path / "new" / "out"), monkeypatch)
    assert outcome["status"] == 2 and outcome["out"] == "", outcome
    assert one_error_line(outcome["err"], f"concurrency-lab {command}").endswith(
        f"{str(tmp_path)!r} is on a read-only file system")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root passes every permission check: /proc and /sys stand in for it above")
@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_without_permission_is_one_line_and_status_2(command, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        outcome = _out_outcome(command, str(locked / "out"), monkeypatch)
    finally:
        locked.chmod(0o700)
    assert outcome["status"] == 2 and outcome["out"] == "", outcome
    assert one_error_line(outcome["err"], f"concurrency-lab {command}").endswith(f"no permission to write in {str(locked)!r}")


@pytest.mark.parametrize("command", OUT_COMMANDS)
def test_out_with_missing_parents_reaches_the_work_and_the_check_leaves_nothing(command, tmp_path, monkeypatch):
    """Missing folders are made as each command writes (as before); checking makes nothing that stays."""
    assert _out_outcome(command, str(tmp_path / "a" / "b" / "out"), monkeypatch)["status"] == "reached"
    assert _out_outcome(command, str(tmp_path), monkeypatch)["status"] == "reached"
    assert list(tmp_path.iterdir()) == []


# --- result files -------------------------------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)
BENCHMARK = st.fixed_dictionaries({"name": st.text(max_size=8), "stats": JSON},
                                  optional={"extra_info": st.dictionaries(st.just("schema"), JSON | st.integers(-2, 9))})
RESULT_FILES = st.one_of(
    st.binary(max_size=40),
    JSON.map(json.dumps),
    st.fixed_dictionaries({}, optional={"benchmarks": JSON | st.lists(BENCHMARK, max_size=3),
                                        "machine_info": JSON}).map(json.dumps),
    st.just("[" * 100_000),  # nested deeper than the JSON parser recurses
).map(lambda content: content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))


def readable_results(content: bytes) -> bool:
    """What the commands must accept: a JSON object with a benchmarks list, no record of a newer schema."""
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        return False
    versions = [b["extra_info"].get("schema", 1) for b in document["benchmarks"]
                if isinstance(b, dict) and isinstance(b.get("extra_info"), dict) and b["extra_info"]]
    return all(type(version) is int and 1 <= version <= SCHEMA_VERSION for version in versions)


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_results_file_that_is_not_results_is_one_line_and_status_2(command, monkeypatch):
    stub_work(monkeypatch, WORK[command])
    prog = f"concurrency-lab {command}"

    @given(RESULT_FILES)
    def check(content: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "results.json"
            path.write_bytes(content)
            argv = [command, str(path), "--out", str(Path(folder) / "out")] if command == "report" else \
                [command, str(RESULTS), str(path)]
            outcome = outcome_of(lambda: cli.main(argv))
        assert outcome["seconds"] < FAST_SECONDS, outcome
        if outcome["status"] == "reached":
            assert readable_results(content), f"{content[:200]!r} reached the {command}"
            return
        assert not readable_results(content), outcome
        assert outcome["status"] == 2 and outcome["out"] == "", outcome
        assert str(path) in one_error_line(outcome["err"], prog)

    check()


def test_a_results_folder_that_cannot_be_walked_is_one_line_and_status_2(tmp_path, monkeypatch):
    """`report /` meets /proc files that vanish while walked (errno 22): one line naming the folder."""
    import pathlib

    stub_work(monkeypatch, WORK["report"])

    def unwalkable(self, pattern):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(pathlib.Path, "rglob", unwalkable)
    outcome = outcome_of(lambda: cli.main(["report", str(tmp_path)]))
    assert outcome["status"] == 2 and outcome["out"] == "", outcome
    line = one_error_line(outcome["err"], "concurrency-lab report")
    assert str(tmp_path) in line and "cannot be searched for results (Invalid argument)" in line


def test_junk_result_paths_are_one_line_and_status_2(tmp_path, monkeypatch):
    stub_work(monkeypatch, WORK["report"] + WORK["compare"])
    monkeypatch.chdir(tmp_path)  # an empty folder: no junk name finds real results

    @given(JUNK_TEXT, st.sampled_from(["report", "report --latest-in", "compare"]))
    def check(path: str, command: str) -> None:
        argv = {"report": ["report", path], "report --latest-in": ["report", "--latest-in", path],
                "compare": ["compare", path, str(RESULTS)]}[command]
        outcome = outcome_of(lambda: cli.main(argv))
        assert outcome["status"] == 2 and outcome["out"] == "", outcome
        # A name that starts with "-" is an unknown option to argparse, which the top parser reports.
        one_error_line(outcome["err"], f"concurrency-lab {argv[0]}", "concurrency-lab")

    check()


# --- paths: one check (core.options.PATH_ARGUMENT) for every argument that names a file or folder ---------------

WORK["advise"] = ["concurrency_lab.commands.advise:load_function"]
#: Every place a command takes a path, with the rest of a valid command line around it; P is the path.
PATH_PLACES = {
    "report-RESULTS": ["report", "P"],
    "report--latest-in": ["report", "--latest-in", "P"],
    "report--out": ["report", str(RESULTS), "--out", "P"],
    "run--out": ["run", "--out", "P"],
    "compare-A": ["compare", "P", str(RESULTS)],
    "compare-B": ["compare", str(RESULTS), "P"],
    "advise--inputs": ["advise", "json:loads", "--inputs", "P"],
    "advise--out": ["advise", "json:loads", "--range", "3", "--out", "P"],
    "advise-file-target": ["advise", "P.py:main", "--range", "3"],
}
#: Names no system call can take: pathlib fails on each differently (ValueError from scandir on 3.13,
#: UnicodeEncodeError, OSError ENAMETOOLONG from exists()) or, worse, quietly says "does not exist".
UNUSABLE_PATHS = {"nul": "\x00", "nul-inside": "results/\x00.json", "lone-surrogate": "\ud800x",
                  "name-too-long": "a" * 300, "deep-name-too-long": "ok/" + "b" * 300 + "/c"}
PATH_PROBLEMS = ("a path cannot hold a NUL character", "cannot be part of a file name here",
                 "the name is too long for this system")


def _with_path(place: str, path: str) -> list[str]:
    return [arg.replace("P", path, 1) if arg.startswith("P") else arg for arg in PATH_PLACES[place]]


@pytest.mark.parametrize("path", UNUSABLE_PATHS.values(), ids=UNUSABLE_PATHS.keys())
@pytest.mark.parametrize("place", PATH_PLACES)
def test_an_unusable_path_is_one_line_and_status_2_wherever_a_path_is_taken(place, path, tmp_path, monkeypatch):
    stub_work(monkeypatch, [target for targets in WORK.values() for target in targets if "server" not in target])
    monkeypatch.chdir(tmp_path)
    argv = _with_path(place, path)
    outcome = outcome_of(lambda: cli.main(argv))
    assert outcome["status"] == 2 and outcome["out"] == "", outcome
    line = one_error_line(outcome["err"], f"concurrency-lab {argv[0]}")
    assert any(problem in line for problem in PATH_PROBLEMS), line


@pytest.mark.parametrize("place", PATH_PLACES)
def test_any_path_holding_a_nul_is_refused_as_one_line(place, tmp_path, monkeypatch):
    stub_work(monkeypatch, [target for targets in WORK.values() for target in targets if "server" not in target])
    monkeypatch.chdir(tmp_path)

    # Not starting with "-": argparse takes that for an option (the junk tests above cover it).
    @given(st.text(alphabet="/.\\:\x00 -_a", max_size=8).filter(lambda text: not text.startswith("-")),
           st.text(alphabet="/.\\:\x00 -_a", max_size=8))
    def check(before: str, after: str) -> None:
        path = f"{before}\x00{after}"
        outcome = outcome_of(lambda: cli.main(_with_path(place, path)))
        assert outcome["status"] == 2 and outcome["out"] == "", outcome
        assert "a path cannot hold a NUL character" in one_error_line(outcome["err"], f"concurrency-lab {PATH_PLACES[place][0]}")

    check()


def _parsers() -> Iterator[argparse.ArgumentParser]:
    """Every parser of every command, sub-commands included."""
    from concurrency_lab.commands.download import build_parser as download_parser
    from concurrency_lab.server.cli import build_parser as server_parser

    pending = [cli.build_parser(), download_parser("download", "thread_pool", ""), server_parser()]
    while pending:
        parser = pending.pop()
        yield parser
        for action in parser._actions:  # argparse has no public list of its arguments
            if isinstance(action, argparse._SubParsersAction):  # nor of its sub-parsers
                pending.extend(action.choices.values())


def test_no_argument_takes_a_path_unchecked():
    """A bare ``type=Path`` is how the NUL reached pathlib's glob: every path goes through PATH_ARGUMENT."""
    unchecked = [f"{parser.prog} {action.dest}" for parser in _parsers() for action in parser._actions
                 if action.type is Path]
    assert unchecked == []


@given(st.one_of(st.text(max_size=20), st.sampled_from(["http://", "http://[::1", "http://127.0.0.1:99999/", "ftp://x",
                                                         "http://exa mple/", "://", "http:///path", "127.0.0.1:80"]),
                 st.none(), st.integers(), st.binary(max_size=8)))
def test_a_malformed_url_becomes_its_record_and_nothing_is_sent(url):
    from concurrency_lab.commands.download import download
    from concurrency_lab.download import ErrorKind
    from concurrency_lab.download.results import invalid_url_reason

    assume(invalid_url_reason(url) is not None)  # a well-formed URL would be fetched: that is not bad input
    (record,) = download([url], variant="sequential", workers=1)
    assert record.error_kind is ErrorKind.INVALID_URL and record.error == invalid_url_reason(url)


@pytest.mark.parametrize(("content", "problem"), [
    (b"not json at all", "not JSON"),
    (b"[1, 2]", "expected a pytest-benchmark JSON object, got list"),
    (b'{"results": []}', 'is not pytest-benchmark results (no "benchmarks" list)'),
    (json.dumps({"benchmarks": [{"name": "x", "extra_info": {"schema": SCHEMA_VERSION + 1}}]}).encode(),
     f"benchmark record schema {SCHEMA_VERSION + 1} is newer than this concurrency-lab reads"),
], ids=["not-json", "not-an-object", "not-pytest-benchmark", "newer-schema"])
@pytest.mark.parametrize("command", ["report", "compare"])
def test_each_unreadable_results_file_says_why(command, content, problem, tmp_path, monkeypatch, capsys):
    stub_work(monkeypatch, WORK[command])
    path = tmp_path / "results.json"
    path.write_bytes(content)
    argv = [command, str(path), "--out", str(tmp_path / "out")] if command == "report" else [command, str(path), str(RESULTS)]
    assert cli.main(argv) == 2
    line = one_error_line(capsys.readouterr().err, f"concurrency-lab {command}")
    assert line.startswith(f"concurrency-lab {command}: error: {str(path)!r}") and problem in line, line


@pytest.mark.parametrize(("argv", "line"), [
    (["serve", "--port", "70000"], "python -m concurrency_lab.server: error: --port: must be at most 65535, got 70000"),
    (["matrix", "--seed", "-1"], "concurrency-lab matrix: error: --seed: must be at least 0, got -1"),
    (["run", "--out", "pyproject.toml/sub"],
     "concurrency-lab run: error: --out: cannot write to 'pyproject.toml/sub': 'pyproject.toml' is a file, "
     "so no folder can be made below it"),
    (["run", "--out", "/proc/forbidden/x"],
     "concurrency-lab run: error: --out: cannot write to '/proc/forbidden/x': no folder can be made in '/proc'"),
    (["report", "pyproject.toml"], "concurrency-lab report: error: 'pyproject.toml': not JSON"),
], ids=["serve", "matrix", "run", "run-proc", "report"])
def test_a_real_process_refuses_within_a_second(argv, line):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "concurrency_lab", *argv], capture_output=True, text=True, timeout=60,
                          check=False, env=env, cwd=PACKAGE_PARENT)
    elapsed = time.perf_counter() - started
    assert (done.returncode, done.stdout) == (2, "")
    assert one_error_line(done.stderr, line.split(": error: ")[0]).startswith(line)
    assert elapsed < 1 + 4 * FAST_SECONDS, f"took {elapsed:.2f} s"  # interpreter start and imports: a slow machine's share


# --- the API: constructors and Variant.map ------------------------------------------------------------

JUNK_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 2 * MAX_WORKERS), st.integers(), st.floats(),
                        st.text(max_size=3), st.binary(max_size=3), st.lists(st.integers(), max_size=2),
                        st.just(object()), st.just(math.inf), st.just(10**100))


@given(name=st.sampled_from(list(VARIANT_NAMES)), workers=JUNK_VALUES, start_method=JUNK_VALUES | st.sampled_from(
    ["fork", "spawn", "forkserver"]))
def test_constructors_take_a_worker_count_or_raise_value_or_type_error(name, workers, start_method):
    options = {"workers": workers} | ({"start_method": start_method} if start_method is not None else {})
    valid_workers = workers is None or (type(workers) is int and 1 <= workers <= MAX_WORKERS)
    valid_start_method = start_method is None or (start_method in variant_class(name).start_methods
                                                   and start_method in available_start_methods())
    try:
        variant = get_variant(name, **options)
    except (ValueError, TypeError) as exc:
        assert not (valid_workers and valid_start_method), f"{name}({options}) was refused: {exc}"
        return
    except VariantUnavailable:
        return
    assert valid_workers and valid_start_method, f"{name} accepted {options}"
    assert not variant.running  # constructing starts nothing


ITEM = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats(), st.binary(max_size=2))
ITEMS = st.one_of(
    st.lists(ITEM, max_size=6),
    st.lists(ITEM, max_size=6).map(tuple),
    st.lists(ITEM, max_size=6).map(iter),  # a one-shot iterator
    st.frozensets(st.integers(), max_size=4),
    st.dictionaries(st.integers(), st.integers(), max_size=3),
    st.none(), st.integers(), st.floats(), st.booleans(), st.text(max_size=4), st.binary(max_size=4), st.just(object()),
)
CHUNKSIZES = st.one_of(st.none(), st.integers(-3, 10**20), st.floats(), st.booleans(), st.text(max_size=2))
#: Seconds that must work (tiny tasks take microseconds), and values that must be refused.
GOOD_TIMEOUTS = st.none() | st.floats(min_value=5.0, max_value=24 * 3600.0)
BAD_TIMEOUTS = st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                         st.booleans(), st.text(max_size=2), st.just([1.0]), st.just(10.0**300))
TAKES_TIMEOUT = "timeout" in inspect.signature(Variant.map).parameters


def expected_map(items: object) -> list[str] | None:
    """What map must return for `items`, or None when it must refuse them (TypeError)."""
    if isinstance(items, (str, bytes)):
        return None
    try:
        return [kind_of(item) for item in list(items)]  # type: ignore[call-overload]
    except TypeError:
        return None


@pytest.mark.parametrize("variant_name", variant_params())
def test_map_returns_the_results_or_raises_value_or_type_error(variant_name):
    with make_variant(variant_name, workers=2) as variant:  # warm: one pool for every generated call
        task = task_for(variant, kind_of)

        @given(items=ITEMS, chunksize=CHUNKSIZES,
               timeout=(GOOD_TIMEOUTS | BAD_TIMEOUTS) if TAKES_TIMEOUT else st.none())
        def check(items: object, chunksize: object, timeout: object) -> None:
            if isinstance(items, Iterator):  # one pass only: map must take it as it comes
                drawn = list(items)
                given_items, expected = iter(drawn), expected_map(drawn)
            else:
                given_items, expected = items, expected_map(items)
            good_chunksize = chunksize is None or (type(chunksize) is int and chunksize >= 1)
            good_timeout = timeout is None or (type(timeout) is float and 5.0 <= timeout <= 24 * 3600.0)
            options = {"chunksize": chunksize} | ({"timeout": timeout} if TAKES_TIMEOUT else {})
            try:
                results = variant.map(task, given_items, **options)
            except (ValueError, TypeError) as exc:
                assert "\n" not in str(exc)
                assert expected is None or not good_chunksize or not good_timeout, f"refused: {exc}"
                return
            assert results == expected and good_chunksize and good_timeout, (items, chunksize, timeout)

        check()
