"""One usable_cpus() for the whole lab: every default worker count and the machine facts agree with it."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from concurrency_lab.core import cpus
from concurrency_lab.measure import machine_info
from concurrency_lab.variants import VARIANT_NAMES, get_variant, usable_cpus, variant_class

PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def run_python(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter (its multiprocessing state and start-up settings its own); its stdout."""
    path = os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": path, **env},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch):
    """`set(affinity=, quota=, interpreter=)` fakes what `concurrency_lab.core.cpus` reads."""
    def set_limits(*, affinity: int, quota: float | None = None, interpreter: int | None = None) -> None:
        monkeypatch.setattr(cpus, "affinity_cpus", lambda: affinity)
        monkeypatch.setattr(cpus, "cgroup_cpu_quota", lambda: quota)
        monkeypatch.setattr(cpus, "interpreter_cpu_count", lambda: interpreter)
    return set_limits


def expected_default(name: str, usable: int) -> int:
    cls = variant_class(name)
    if not cls.concurrent:
        return 1  # the baseline
    if cls.kind.in_process and cls.kind.shares_gil:
        return min(32, usable + 4)  # threads and coroutines of this interpreter: ThreadPoolExecutor's formula
    return usable  # one worker per usable CPU, each with an interpreter of its own: a pool's or a cluster's


@pytest.mark.parametrize("interpreter", [None, 16], ids=["before-3.13", "process_cpu_count"])
@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_a_cgroup_quota_of_two_cpus_sets_every_default(name, interpreter, limits):
    limits(affinity=16, quota=2.0, interpreter=interpreter)
    assert usable_cpus() == 2
    assert variant_class(name)().workers == expected_default(name, 2)  # the class: an engine need not be installed


def test_the_defaults_named_in_the_issue(limits):
    limits(affinity=16, quota=2.0, interpreter=16)
    assert get_variant("mp_pool").workers == 2
    assert get_variant("process_pool").workers == 2
    assert get_variant("thread_pool").workers == get_variant("threading").workers == 6
    assert cpus.default_thread_workers() == 6


def test_machine_info_reports_the_same_count_beside_the_limits(limits):
    limits(affinity=16, quota=2.0, interpreter=16)
    info = machine_info()
    assert (info["usable_cpus"], info["affinity_cpus"], info["cgroup_cpu_quota"]) == (2, 16, 2.0)


@pytest.mark.parametrize(("affinity", "quota", "interpreter", "usable"), [
    (16, None, None, 16),
    (16, 2.5, None, 2),  # a quota's fraction of a CPU keeps no worker busy
    (16, 0.5, None, 1),  # at least 1
    (1, None, None, 1),
    (16, None, 3, 3),  # PYTHON_CPU_COUNT=3 on 3.13+
    (2, None, 64, 2),  # PYTHON_CPU_COUNT cannot raise it
    (8, 4.0, 6, 4),
])
def test_the_tightest_limit_wins(affinity, quota, interpreter, usable, limits):
    limits(affinity=affinity, quota=quota, interpreter=interpreter)
    assert usable_cpus() == usable
    assert cpus.default_thread_workers() == min(32, usable + 4)


def test_the_real_count_is_at_least_one_and_within_the_affinity_mask():
    assert 1 <= usable_cpus() <= cpus.affinity_cpus() <= cpus.logical_cpus()
    assert usable_cpus() == machine_info()["usable_cpus"]


@pytest.mark.skipif(sys.version_info < (3, 13), reason="PYTHON_CPU_COUNT and os.process_cpu_count() are new in Python 3.13")
def test_python_cpu_count_is_honoured():
    code = "from concurrency_lab.variants import get_variant, usable_cpus; print(usable_cpus(), get_variant('mp_pool').workers)"
    assert run_python(code, PYTHON_CPU_COUNT="1").split() == ["1", "1"]
    assert int(run_python(code, PYTHON_CPU_COUNT="4096").split()[0]) <= cpus.affinity_cpus()  # lowers, never raises


def test_mp_context_does_not_fix_the_process_wide_start_method():
    # get_context(None) and get_start_method() set the default for good; a fresh interpreter shows it.
    code = ("import multiprocessing as mp\n"
            "from concurrency_lab.variants import get_variant\n"
            "pool = get_variant('process_pool')\n"
            "pool.mp_context(); print(pool.effective_start_method)\n"
            "get_variant('mp_pool', start_method='spawn').mp_context()\n"
            "assert mp.get_start_method(allow_none=True) is None, mp.get_start_method(allow_none=True)\n"
            "mp.set_start_method('spawn')  # raises if anything above had fixed it\n"
            "print(get_variant('process_pool').effective_start_method)\n")
    default, after = run_python(code).split()
    assert default == multiprocessing.get_all_start_methods()[0]
    assert after == "spawn"  # a start method the program sets is the one pools use


def test_start_methods_are_the_labs_known_ones_this_platform_has():
    here = cpus.available_start_methods()
    assert here and set(here) <= set(cpus.START_METHODS) & set(multiprocessing.get_all_start_methods())
    with pytest.raises(ValueError, match=f"choose one of {', '.join(here)}$"):
        get_variant("mp_pool", start_method="bogus")


def test_worker_counts_above_the_bound_are_refused_before_a_pool_starts():
    assert get_variant("thread_pool", workers=cpus.MAX_WORKERS).workers == cpus.MAX_WORKERS  # nothing started yet
    with pytest.raises(ValueError, match=f"workers must be at most {cpus.MAX_WORKERS}, got {cpus.MAX_WORKERS + 1}"):
        get_variant("thread_pool", workers=cpus.MAX_WORKERS + 1)


def test_importing_the_variants_leaves_psutil_and_the_monitor_unimported():
    # Every spawn and forkserver worker imports them to unpickle its task.
    code = ("import sys, concurrency_lab.variants, concurrency_lab.core.cpus\n"
            "print(sorted(m for m in sys.modules if m == 'psutil' or m.startswith('concurrency_lab.measure')))\n")
    assert run_python(code).strip() == "[]"


def test_the_measure_package_still_offers_every_public_name():
    import concurrency_lab.measure as measure

    for name in measure.__all__:
        assert getattr(measure, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        measure.nothing_here  # noqa: B018
