"""pytest wiring for the benchmarks: options, parametrization, machine facts, shared fixtures."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..core.cpus import usable_cpus
from ..core.interrupt import Interrupted
from ..core.options import add_options
from ..failures import JSON_KEY as FAILURES_KEY
from ..failures import SUMMARY as FAILURES_SUMMARY
from ..measure import ResourceMonitor
from ..measure import machine_info as lab_machine_info
from ..variants import variant_class
from ..workloads import environments
from .cases import PROFILES, BenchCase, Profile, cases
from .estimate import TIMING_KEY, Timing, duration_text, remaining_seconds
from .options import RUN_OPTIONS, RunOptions

_OPTIONS = pytest.StashKey[RunOptions]()  # what this session runs: `LabSession`'s, else the --lab-* options'
_CASES = pytest.StashKey[dict]()
_FAILURES = pytest.StashKey[dict | None]()
_STARTED = pytest.StashKey[float]()  # time.perf_counter() at the session's start
_CASE_SECONDS = pytest.StashKey[dict]()  # case id -> seconds its test took, set-up and tear-down included
_RUNNING = pytest.StashKey[str | None]()  # the case whose test is running
_FIRST_CASE = pytest.StashKey[float]()  # time.perf_counter() as the first case started: the ETA's clock


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-lab", "concurrency_lab benchmarks")
    # The options of `concurrency-lab run`, checked alike; a bad value is a UsageError naming the option.
    # Each --lab-NAME fills the field NAME of the session's `RunOptions` (`lab_options`).
    add_options(group.addoption, [option.but(default="smoke") if option.dest == "profile" else option for option in RUN_OPTIONS],
                prefix="lab-", error=pytest.UsageError)
    group.addoption("--lab-progress", action="store_true",
                    help="print one line per finished benchmark, with the time left")
    group.addoption("--lab-eta-from", type=Path, metavar="FILE",
                    help="an earlier run's benchmark JSON: the time left weighs each case by its time there "
                         "(default: the mean of the cases so far)")
    group.addoption("--lab-failures", action=argparse.BooleanOptionalAction, default=True,
                    help=f"the failure-modes table ({FAILURES_SUMMARY}), measured once after the benchmarks, in "
                         f"the JSON as {FAILURES_KEY}; --no-lab-failures leaves it out (default: on)")
    group.addoption("--lab-failures-documented", action="store_true",
                    help="fail the session when a variant fails a case otherwise than docs/failures.md says (a "
                         "hang, another error, a worker left running): the failure table as a test (tox uses it)")


class LabSession:
    """Hands `options` to a benchmark session run in this process, as a value: ``pytest.main(args,
    plugins=[LabSession(options)])`` (`concurrency-lab run`); the --lab-* options are then not read."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options

    @pytest.hookimpl(tryfirst=True)  # before this module's pytest_configure, which would read --lab-*
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[_OPTIONS] = self.options


def lab_options(config: pytest.Config) -> RunOptions:
    """The session's `RunOptions`."""
    return config.stash[_OPTIONS]


def pytest_configure(config: pytest.Config) -> None:
    if _OPTIONS not in config.stash:  # `pytest --lab-profile smoke ...`: the same value, from pytest's options
        config.stash[_OPTIONS] = RunOptions.from_values(vars(config.option), prefix="lab_")
    config.stash[_STARTED] = time.perf_counter()
    config.stash[_CASE_SECONDS] = {}
    config.pluginmanager.register(_SilentOnInterruption(config), "concurrency-lab-silent-on-interruption")
    address = lab_options(config).dask_address
    if address is not None:  # for every dask variant made here, and the failure probes' processes
        from ..variants.dask_cluster import use_scheduler_address

        use_scheduler_address(address)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bench_case" not in metafunc.fixturenames:
        return
    options = lab_options(metafunc.config)
    matrix = cases(PROFILES[options.profile], variants=options.variants, workloads=options.workloads,
                   usable_cpus=usable_cpus(), workers=options.workers)
    metafunc.config.stash[_CASES] = {case.id: case for case in matrix}
    # Plain strings as parameters: pytest-benchmark stores anything else as "UNSERIALIZABLE[...]".
    metafunc.parametrize("bench_case", [case.id for case in matrix], ids=[case.id for case in matrix], indirect=True)


def case_id(item: pytest.Item) -> str | None:
    """The benchmark case an item runs, or None for any other test."""
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("bench_case") if callspec is not None else None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Each case's seconds, kept in the JSON (`TIMING_KEY`) so that the next run can say how long it will
    take; not a case skipped as unavailable here, which says nothing of its time."""
    started = time.perf_counter()
    case = item.config.stash[_RUNNING] = case_id(item)
    if case is not None:
        item.config.stash.setdefault(_FIRST_CASE, started)
    try:
        return (yield)
    finally:
        if case is not None and case in _runnable(item.config, [item]):
            item.config.stash[_CASE_SECONDS][case] = time.perf_counter() - started


class _SilentOnInterruption:
    """Stopped by the lab's own signal handling (`concurrency-lab run`): the command prints its one line, so
    pytest's terminal says nothing more (no "!!! KeyboardInterrupt !!!", no partial summary or table). A
    plain Ctrl-C under pytest itself keeps pytest's usual report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if not isinstance(excinfo.value, Interrupted):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()  # a progress line left open stays a line of its own
            # It would report the interruption at the session's end and print the summary hooks
            # (pytest-benchmark's table): unregistered, it hears of neither.
            self.config.pluginmanager.unregister(reporter)


@pytest.fixture
def bench_case(request: pytest.FixtureRequest) -> BenchCase:
    """The BenchCase behind this benchmark's id."""
    return request.config.stash[_CASES][request.param]


@pytest.fixture(scope="session")
def bench_timeout(pytestconfig: pytest.Config) -> float | None:
    """--lab-timeout: the limit of each map call, so that a hung variant fails its benchmark instead of the run."""
    return lab_options(pytestconfig).timeout


@pytest.fixture(scope="session")
def bench_profile(pytestconfig: pytest.Config) -> Profile:
    return PROFILES[lab_options(pytestconfig).profile]


@pytest.fixture
def parallel_speedup():
    """``parallel_speedup(func, items, at_least=1.5, workers=2)``: fails the test, with advise's screen, when no
    variant keeps that speedup over sequential with correct results (`concurrency_lab.advise.assert_parallel_speedup`)."""
    from ..advise import assert_parallel_speedup

    return assert_parallel_speedup


@pytest.fixture(scope="session")
def resource_monitor() -> Iterator[ResourceMonitor]:
    """One sampler process for the whole session, sampling only inside each benchmark."""
    with ResourceMonitor() as monitor:
        yield monitor


@pytest.fixture(scope="session")
def bench_environments() -> Iterator[dict[str, Any]]:
    """Workload environments (the loopback server process), started once, outside any timing."""
    with environments() as started:
        yield started


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Iterator[None]:
    """An interrupted session saves nothing, so the stored results and history stay as they were, and it
    stops at once: saving would first read the machine facts (py-cpuinfo runs a subprocess, up to a second)."""
    bench_session = getattr(session.config, "_benchmarksession", None)  # pytest-benchmark's, before it saves
    if exitstatus == pytest.ExitCode.INTERRUPTED and bench_session is not None:
        bench_session.json = bench_session.save = bench_session.autosave = None
    yield
    if exitstatus != pytest.ExitCode.INTERRUPTED and lab_options(session.config).failures_documented:
        _fail_on_undocumented_failures(session)


def _fail_on_undocumented_failures(session: pytest.Session) -> None:
    """--lab-failures-documented: the session fails, each problem said, when an outcome of the failure table
    (measured as the JSON was saved, or now) breaks what docs/failures.md promises, or none was measured."""
    config = session.config
    table = failure_table(config) if lab_options(config).failures else None
    if table is None:
        problems = ["the failure table was not measured (--no-lab-failures, or measuring it failed)"]
    else:
        from ..failures import FailureTable

        problems = [p for o in FailureTable.from_dict(table).outcomes if (p := o.problem()) is not None]
    for problem in problems:
        say(config, f"failure modes: not as documented: {problem}")
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    facts = lab_machine_info()  # read now, after imports: an extension can re-enable the GIL
    facts.pop("load_average", None)  # changes every run: it would make every compare warn of another machine
    facts.pop("python_build", None)  # pytest-benchmark records its own
    machine_info.update(facts)


def say(config: pytest.Config, line: str) -> None:
    """Print a line now, past pytest's capturing: through its terminal, or on stdout where the terminal
    plugin is off (`concurrency-lab run` without -v runs pytest with ``-p no:terminal``)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line)
        else:
            print(line, flush=True)


def _runnable(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """The cases of `items` whose variant can run here (the others are skipped, with the reason)."""
    known = config.stash.get(_CASES, {})
    ids = [case for item in items if (case := case_id(item)) is not None and case in known]
    return [case for case in ids if variant_class(known[case].variant).unavailable_reason() is None]


def _expected_seconds(config: pytest.Config) -> dict[str, float] | None:
    """--lab-eta-from: each case's seconds in an earlier run, or None (unreadable files are not the run's concern)."""
    path = lab_options(config).eta_from
    if path is None:
        return None
    try:
        timing = Timing.from_document(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None
    return timing.case_seconds if timing is not None else None


@pytest.fixture(scope="session")
def bench_progress(pytestconfig: pytest.Config, request: pytest.FixtureRequest):
    """`progress(line)`: with --lab-progress, prints `[k/N] [bar] 1 min 20 s left  line` as each benchmark finishes.

    N counts the cases whose variant can run here; the time left is the remaining cases' times in an
    earlier run (--lab-eta-from) scaled by this run's pace so far, or the mean so far for each.
    """
    pending = _runnable(pytestconfig, request.session.items)
    total = len(pending)
    expected = _expected_seconds(pytestconfig)
    done: list[str] = []

    def progress(line: str) -> None:
        case = pytestconfig.stash.get(_RUNNING, None)
        done.append(case or "")
        if case in pending:
            pending.remove(case)
        if not lab_options(pytestconfig).progress:
            return
        elapsed = time.perf_counter() - pytestconfig.stash.get(_FIRST_CASE, pytestconfig.stash[_STARTED])
        left = remaining_seconds(elapsed, done, pending, expected)
        width = len(str(total))
        bar = "#" * (20 * len(done) // max(total, 1))
        eta = f"{duration_text(left)} left" if left is not None and pending else "done"
        say(pytestconfig, f"[{len(done):>{width}}/{total}] [{bar:<20}] {eta:>14}  {line}")

    return progress


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list, output_json: dict[str, Any]) -> None:
    """The failure-modes table beside the benchmarks, in every JSON the session writes (the
    --benchmark-json file and the autosaved one): measured once, after the benchmarks ran. Then
    how long each case and the whole session took, for the next run's estimate (`TIMING_KEY`)."""
    if lab_options(config).failures:
        table = failure_table(config)
        if table is not None:
            output_json[FAILURES_KEY] = table
    output_json[TIMING_KEY] = {
        "profile": lab_options(config).profile,
        "case_seconds": {case: round(seconds, 3) for case, seconds in config.stash[_CASE_SECONDS].items()},
        "session_seconds": round(time.perf_counter() - config.stash[_STARTED], 3),
    }


def failure_table(config: pytest.Config) -> dict[str, Any] | None:
    """The run's variants under every failure case, measured on first use (seconds) and kept for the
    session; None, said on the terminal, when measuring failed: the benchmarks are saved all the same."""
    if _FAILURES not in config.stash:
        from ..failures.runner import measure_failures

        announced = False

        def progress(outcome) -> None:
            """One line as the probes start; a line per probe when pytest is verbose."""
            nonlocal announced
            if not lab_options(config).progress:
                return
            if config.get_verbosity() > 0:
                raised = (outcome.error or "returned").rsplit(".", 1)[-1]
                what = outcome.note or f"{raised} in {outcome.seconds * 1000:.0f} ms"
                say(config, f"[failure modes] {outcome.variant} {outcome.case}: {what}")
            elif not announced:
                say(config, f"[failure modes] measuring {FAILURES_SUMMARY}")
            announced = True

        try:
            config.stash[_FAILURES] = measure_failures(lab_options(config).variants, progress=progress).to_dict()
        except Exception as error:  # noqa: BLE001 - the benchmarks must still be written
            say(config, f"failure modes not measured: {type(error).__name__}: {error}")
            config.stash[_FAILURES] = None
    return config.stash[_FAILURES]
