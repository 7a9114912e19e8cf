"""pytest wiring for the benchmarks: options, parametrization, machine facts, shared fixtures."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..cpus import usable_cpus
from ..failures import JSON_KEY as FAILURES_KEY
from ..failures import SUMMARY as FAILURES_SUMMARY
from ..measure import ResourceMonitor
from ..measure import machine_info as lab_machine_info
from ..options import add_run_options
from ..workloads import environments
from .cases import PROFILES, cases


_CASES = pytest.StashKey[dict]()
_FAILURES = pytest.StashKey[dict | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-lab", "concurrency_lab benchmarks")
    # The options of `concurrency-lab run`, checked alike; a bad value is a UsageError naming the option.
    add_run_options(group.addoption, prefix="lab-", only=("profile", "variants", "workloads", "worker_counts", "timeout", "dask_address"),
                    defaults={"profile": "smoke"}, error=pytest.UsageError)
    group.addoption("--lab-progress", action="store_true", help="print one line per finished benchmark")
    group.addoption("--lab-failures", action=argparse.BooleanOptionalAction, default=True,
                    help=f"the failure-modes table ({FAILURES_SUMMARY}), measured once after the benchmarks, in "
                         f"the JSON as {FAILURES_KEY}; --no-lab-failures leaves it out (default: on)")


def pytest_configure(config: pytest.Config) -> None:
    address = config.getoption("--lab-dask-address", default=None)
    if address is not None:  # for every dask variant made here, and the failure probes' processes
        from ..variants.dask_cluster import use_scheduler_address

        use_scheduler_address(address)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "bench_case" not in metafunc.fixturenames:
        return
    option = metafunc.config.getoption
    profile = PROFILES[option("--lab-profile")]
    matrix = cases(profile, variants=option("--lab-variants"), workloads=option("--lab-workloads"),
                   usable_cpus=usable_cpus(), workers=option("--lab-workers"))
    metafunc.config.stash[_CASES] = {case.id: case for case in matrix}
    # Plain strings as parameters: pytest-benchmark stores anything else as "UNSERIALIZABLE[...]".
    metafunc.parametrize("bench_case", [case.id for case in matrix], ids=[case.id for case in matrix], indirect=True)


@pytest.fixture
def bench_case(request: pytest.FixtureRequest):
    """The BenchCase behind this benchmark's id."""
    return request.config.stash[_CASES][request.param]


@pytest.fixture(scope="session")
def bench_timeout(pytestconfig: pytest.Config) -> float | None:
    """--lab-timeout: the limit of each map call, so that a hung variant fails its benchmark instead of the run."""
    return pytestconfig.getoption("--lab-timeout")


@pytest.fixture(scope="session")
def bench_profile(pytestconfig: pytest.Config):
    return PROFILES[pytestconfig.getoption("--lab-profile")]


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


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    facts = lab_machine_info()  # read now, after imports: an extension can re-enable the GIL
    facts.pop("load_average", None)  # changes every run: it would make every compare warn of another machine
    facts.pop("python_build", None)  # pytest-benchmark records its own
    machine_info.update(facts)


@pytest.fixture(scope="session")
def bench_progress(pytestconfig: pytest.Config, request: pytest.FixtureRequest):
    """`progress(line)`: with --lab-progress, prints `[k/N] line` as each benchmark finishes."""
    total = sum("bench_case" in getattr(item, "fixturenames", ()) for item in request.session.items)
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    done = 0

    def progress(line: str) -> None:
        nonlocal done
        done += 1
        if pytestconfig.getoption("--lab-progress") and reporter is not None:
            width = len(str(total))
            bar = "#" * (20 * done // max(total, 1))
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                reporter.ensure_newline()
                reporter.write_line(f"[{done:>{width}}/{total}] [{bar:<20}] {line}")

    return progress


def pytest_benchmark_update_json(config: pytest.Config, benchmarks: list, output_json: dict[str, Any]) -> None:
    """The failure-modes table beside the benchmarks, in every JSON the session writes (the
    --benchmark-json file and the autosaved one): measured once, after the benchmarks ran."""
    if config.getoption("--lab-failures"):
        table = failure_table(config)
        if table is not None:
            output_json[FAILURES_KEY] = table


def failure_table(config: pytest.Config) -> dict[str, Any] | None:
    """The run's variants under every failure case, measured on first use (seconds) and kept for the
    session; None, said on the terminal, when measuring failed: the benchmarks are saved all the same."""
    if _FAILURES not in config.stash:
        from ..failures import measure_failures

        def say(line: str) -> None:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            capture = config.pluginmanager.get_plugin("capturemanager")
            if reporter is not None:
                with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                    reporter.ensure_newline()
                    reporter.write_line(line)

        def progress(outcome) -> None:
            if config.getoption("--lab-progress"):
                raised = (outcome.error or "returned").rsplit(".", 1)[-1]
                what = outcome.note or f"{raised} in {outcome.seconds * 1000:.0f} ms"
                say(f"[failure modes] {outcome.variant} {outcome.case}: {what}")

        try:
            config.stash[_FAILURES] = measure_failures(config.getoption("--lab-variants"), progress=progress).to_dict()
        except Exception as error:  # noqa: BLE001 - the benchmarks must still be written
            say(f"failure modes not measured: {type(error).__name__}: {error}")
            config.stash[_FAILURES] = None
    return config.stash[_FAILURES]
