"""pytest wiring for the benchmarks: options, parametrization, machine facts, shared fixtures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..cpus import usable_cpus
from ..measure import ResourceMonitor
from ..measure import machine_info as lab_machine_info
from ..variants import VARIANT_NAMES
from ..workloads import WORKLOAD_NAMES, environments
from .cases import PROFILES, cases, parse_names


_CASES = pytest.StashKey[dict]()


def _names(choices: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        try:
            return parse_names(text, choices)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    return parse


def _counts(text: str) -> list[int]:
    try:
        counts = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise pytest.UsageError(f"--lab-workers takes whole numbers of at least 1, like 1,2,8; got {text!r}")
    return counts


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("concurrency-lab", "concurrency_lab benchmarks")
    group.addoption("--lab-profile", choices=sorted(PROFILES), default="smoke", help="benchmark profile (default: smoke)")
    group.addoption("--lab-variants", type=_names(VARIANT_NAMES), default=list(VARIANT_NAMES), help="comma-separated variants (default: all)")
    group.addoption("--lab-workloads", type=_names(WORKLOAD_NAMES), default=list(WORKLOAD_NAMES), help="comma-separated workloads (default: all)")
    group.addoption("--lab-workers", type=_counts, default=None, help="comma-separated worker counts (default: the profile's)")
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
