"""The pytest-benchmark JSON format: reading files, tolerant field extraction, no derived figures.

A field that is missing or has the wrong type reads as None: older files and skipped
environments lack some of them, and the report says "–" rather than failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..records.benchmark import as_bool, as_float, as_int, as_mapping, as_str


class UnreadableResults(ValueError):
    """A results file that is not a pytest-benchmark JSON object."""


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a directory (e.g. `.benchmarks/`) stands for its JSON files, sorted."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            try:
                files.extend(sorted(path.rglob("*.json")))
            except OSError as error:  # a folder that cannot be walked (`/` meets /proc's files that vanish)
                raise UnreadableResults(f"{path}: cannot be searched for results ({error.strerror or error})") from error
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"benchmark results file {str(path)!r} does not exist")
    return files


def read_results_file(path: Path) -> dict[str, Any]:
    """The JSON object in `path`; UnreadableResults when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableResults(f"{path}: not JSON ({error})") from error
    if not isinstance(document, dict):
        raise UnreadableResults(f"{path}: expected a pytest-benchmark JSON object, got {type(document).__name__}")
    return document


def benchmarks_in(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    benchmarks = document.get("benchmarks")
    return [b for b in benchmarks if isinstance(b, Mapping)] if isinstance(benchmarks, list) else []


def run_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a report says about the Python and machine of one file."""
    info = as_mapping(document.get("machine_info"))
    commit = as_mapping(document.get("commit_info"))
    commit_id = as_str(commit.get("id"))
    if commit_id and commit.get("dirty") is True:
        commit_id += " (dirty)"
    return {
        "python_version": as_str(info.get("python_version")),
        "python_implementation": as_str(info.get("python_implementation")),
        "gil_enabled": as_bool(info.get("gil_enabled")),
        "free_threaded_build": as_bool(info.get("free_threaded_build")),
        "gil_reenabled": as_bool(info.get("gil_reenabled")),
        "python_gil_env": as_str(info.get("python_gil_env")),
        "abiflags": as_str(info.get("abiflags")),
        "config_args": as_str(info.get("config_args")),
        "usable_cpus": as_int(info.get("usable_cpus")),
        "default_start_method": as_str(info.get("default_start_method")),
        "engines": engines_text(info.get("engines")),
        "machine": machine_description(info),
        "datetime": as_str(document.get("datetime")),
        "commit": commit_id,
        "pytest_benchmark_version": as_str(document.get("version")),
    }


def engines_text(engines: Any) -> str | None:
    """ "loky 3.7.0, joblib 1.6.0" for the installed ones; "none installed"; None when not recorded (older files)."""
    if not isinstance(engines, Mapping):
        return None
    installed = [f"{name} {version}" for name, version in engines.items() if isinstance(version, str)]
    return ", ".join(installed) or "none installed"


def machine_description(info: Mapping[str, Any]) -> str:
    """ "Linux x86_64, Intel(R) Xeon(R) ..., 2 usable of 4 CPUs" from what is there."""
    cpu = as_mapping(info.get("cpu"))
    system = " ".join(s for s in (as_str(info.get("system")), as_str(info.get("machine"))) if s)
    brand = as_str(cpu.get("brand_raw")) or as_str(info.get("processor"))
    usable, count = as_int(info.get("usable_cpus")), as_int(cpu.get("count"))
    if usable is not None and count is not None and count != usable:
        cpus = f"{usable} usable of {count} CPUs"
    elif usable is not None or count is not None:
        cpus = f"{usable if usable is not None else count} usable CPUs"
    else:
        cpus = None
    return ", ".join(part for part in (system, brand, cpus) if part) or "unknown machine"


def round_times(stats: Mapping[str, Any]) -> tuple[float, ...]:
    """Per-round times: only in files saved with --benchmark-save-data or --benchmark-json."""
    data = stats.get("data")
    if not isinstance(data, list):
        return ()
    times = tuple(seconds for t in data if (seconds := as_float(t)) is not None)
    return times if len(times) == len(data) else ()  # a value that is not a time: none are trusted
