"""pytest wiring for the benchmarks: options, parametrization, machine facts, shared fixtures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..cpus import usable_cpus
from ..measure import ResourceMonitor
from ..measure import machine_info as lab_machine_info
from ..options import add_run_options
from ..workloads import environments
from .cases import PROFILES, cases


_CASES = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-lab", "concurrency_lab benchmarks")
    # The options of `concurrency-lab run`, checked alike; a bad value is a UsageError naming the option.
    add_run_options(group.addoption, prefix="lab-", only=("profile", "variants", "workloads", "worker_counts"),
                    defaults={"profile": "smoke"}, error=pytest.UsageError)
    group.addoption("--lab-progress", action="store_true", help="print one line per finished benchmark")


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
def bench_profile(pytestconfig: pytest.Config):
    return PROFILES[pytestconfig.getoption("--lab-profile")]


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
