"""machine_info: plain JSON facts, read at call time, without side effects on multiprocessing."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from concurrency_lab.core.cgroup import (
    ancestors,
    cpu_quota,
    parse_cfs,
    parse_cpu_max,
    parse_proc_cgroup,
    usable_from,
)
from concurrency_lab.measure import machine_info

EXPECTED_TYPES = {
    "usable_cpus": int,
    "affinity_cpus": int,
    "cgroup_cpu_quota": (float, type(None)),
    "logical_cpus": int,
    "physical_cpus": (int, type(None)),
    "gil_enabled": bool,
    "free_threaded_build": bool,
    "python_gil_env": (str, type(None)),
    "abiflags": str,
    "config_args": str,
    "gil_reenabled": bool,
    "python_version": str,
    "python_implementation": str,
    "python_build": list,
    "python_compiler": str,
    "default_start_method": str,
    "start_methods": list,
    "platform": str,
    "total_memory_bytes": int,
    "load_average": (list, type(None)),
    "engines": dict,
}
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def test_keys_and_types():
    info = machine_info()
    assert set(info) == set(EXPECTED_TYPES)
    for key, expected in EXPECTED_TYPES.items():
        assert isinstance(info[key], expected), f"{key}={info[key]!r}"
    assert json.loads(json.dumps(info)) == info


def test_cpu_counts_agree():
    info = machine_info()
    assert 1 <= info["usable_cpus"] <= info["affinity_cpus"] <= info["logical_cpus"]
    if info["cgroup_cpu_quota"] is not None:
        assert info["usable_cpus"] <= max(1, int(info["cgroup_cpu_quota"]))


def test_start_method_is_one_this_platform_has():
    info = machine_info()
    assert info["default_start_method"] in info["start_methods"] == multiprocessing.get_all_start_methods()


def test_gil_state_is_read_at_call_time(monkeypatch):
    monkeypatch.setattr(sys, "_is_gil_enabled", lambda: False, raising=False)
    assert machine_info()["gil_enabled"] is False
    monkeypatch.delattr(sys, "_is_gil_enabled")
    assert machine_info()["gil_enabled"] is True  # builds without the call always have a GIL


def test_machine_info_does_not_fix_the_start_method():
    # get_start_method() and get_context() would set the default for good; a fresh interpreter shows it.
    code = ("import multiprocessing as mp\n"
            "from concurrency_lab.measure import machine_info\n"
            "machine_info()\n"
            "assert mp.get_start_method(allow_none=True) is None\n"
            "mp.set_start_method('spawn')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


# --- cgroup quota (pure parsing, then a fake /sys/fs/cgroup) ------------------------------------

def test_cgroup_files_parse():
    assert parse_cpu_max("max 100000\n") is None
    assert parse_cpu_max("150000 100000\n") == 1.5
    assert parse_cfs("-1\n", "100000\n") is None
    assert parse_cfs("50000\n", "100000\n") == 0.5
    assert parse_proc_cgroup("0::/a/b\n4:cpu,cpuacct:/c\nbad\n") == [([], "/a/b"), (["cpu", "cpuacct"], "/c")]
    assert ancestors("/m", "/a/b") == [Path("/m/a/b"), Path("/m/a"), Path("/m")]


@pytest.mark.parametrize(("affinity", "quota", "usable"), [(2, None, 2), (2, 1.5, 1), (4, 0.5, 1), (2, 8.0, 2)])
def test_usable_cpus_is_the_smaller_limit_rounded_down(affinity, quota, usable):
    assert usable_from(affinity, quota) == usable


def test_the_tightest_quota_over_the_cgroup_and_its_parents_wins(tmp_path):
    (tmp_path / "proc").write_text("0::/outer/inner\n3:cpu,cpuacct:/job\n")
    v2 = tmp_path / "v2"
    (v2 / "outer" / "inner").mkdir(parents=True)
    (v2 / "outer" / "inner" / "cpu.max").write_text("max 100000\n")
    (v2 / "outer" / "cpu.max").write_text("300000 100000\n")
    v1 = tmp_path / "v1"
    (v1 / "job").mkdir(parents=True)
    (v1 / "job" / "cpu.cfs_quota_us").write_text("250000\n")
    (v1 / "job" / "cpu.cfs_period_us").write_text("100000\n")
    proc = str(tmp_path / "proc")
    assert cpu_quota(proc, (str(v2),), ()) == 3.0
    assert cpu_quota(proc, (str(v2),), (str(v1),)) == 2.5
    assert cpu_quota(proc, (str(tmp_path / "nothing"),), ()) is None
    assert cpu_quota(str(tmp_path / "no-proc-file")) is None


@pytest.mark.parametrize(("free_threaded", "enabled", "asked", "reenabled"), [
    (True, True, None, True),  # an import turned it back on
    (True, True, "1", False),  # asked for with PYTHON_GIL=1
    (True, False, None, False),
    (False, True, None, False),  # a GIL build: nothing was re-enabled
])
def test_a_free_threaded_build_whose_gil_came_back_is_recorded(monkeypatch, free_threaded, enabled, asked, reenabled):
    from concurrency_lab.measure import machine

    monkeypatch.setattr(machine.sysconfig, "get_config_var",
                        lambda name: int(free_threaded) if name == "Py_GIL_DISABLED" else None)
    monkeypatch.setattr(machine, "gil_enabled", lambda: enabled)
    if asked is None:
        monkeypatch.delenv("PYTHON_GIL", raising=False)
    else:
        monkeypatch.setenv("PYTHON_GIL", asked)
    facts = machine.gil_facts()
    assert facts["gil_reenabled"] is reenabled and facts["python_gil_env"] == asked


def test_the_optional_engines_versions_are_recorded_as_installed():
    import importlib.metadata

    from concurrency_lab.core.engines import ENGINES

    recorded = machine_info()["engines"]
    assert set(recorded) == {engine.distribution for engine in ENGINES}
    for distribution, version in recorded.items():
        try:
            assert version == importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            assert version is None


def test_a_missing_engine_is_named_with_its_install_hint():
    from concurrency_lab.core.engines import JOBLIB, Engine

    missing = Engine("concurrency_lab_no_such_engine", "no-such-engine", "nosuch")
    reason = missing.missing_reason()
    assert reason is not None and reason.startswith("no-such-engine is not installed: ")
    assert 'pip install "concurrency-lab[nosuch]"' in reason
    assert missing.version() is None
    try:
        import joblib  # noqa: F401
    except ImportError:
        assert JOBLIB.missing_reason() is not None
    else:
        assert JOBLIB.missing_reason() is None
