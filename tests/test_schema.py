"""The benchmark record: one schema, written by the engine and read by the report; old files load, newer ones are refused."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import concurrency_lab.report as report_package
from concurrency_lab.core.traits import Bound, Kind, Role, VariantTraits
from concurrency_lab.records.benchmark import SCHEMA_VERSION, BenchRecord, PerCoreTrace
from concurrency_lab.records.versions import SchemaError
from concurrency_lab.report import load_results
from concurrency_lab.variants import VARIANT_NAMES, variant_class

DATA = Path(__file__).with_name("data")


def _record(**changes) -> BenchRecord:
    values = dict(
        workload="processor", bound=Bound.CPU_HOLDS_GIL, variant="process_pool",
        traits=variant_class("process_pool").traits(gil_enabled=True), workers=2, mode="warm", start_method="fork",
        chunksize=3, size=24, size_label="smoke", items=24, params={"jitter": 0.1}, seed=12, rounds=3,
        warmup_rounds=1, identical=True, cpu_seconds=1.5, wall_seconds=0.8, cores_used=1.875, self_cpu_seconds=0.1,
        worker_cpu_seconds=1.4, reaped_children_cpu_seconds=0.0, peak_rss_bytes=10, peak_uss_bytes=5,
        peak_threads=4, peak_processes=3, sampler_cpu_seconds=0.01, interval_s=0.1,
        per_core=PerCoreTrace("system", (0, 1), (0.0, 0.1), ((50.0, 60.0), (70.0, 80.0))), ideal_s=None,
    )
    return BenchRecord(**{**values, **changes})


def test_a_record_survives_json_unchanged():
    record = _record()
    data = json.loads(json.dumps(record.to_dict()))
    assert data["schema"] == SCHEMA_VERSION and data["bound"] == "cpu_holds_gil" and data["traits"]["kind"] == "processes"
    loaded = BenchRecord.from_dict(data)
    assert loaded.record == record and loaded.version == SCHEMA_VERSION and loaded.missing == ()


def test_every_registered_variant_declares_its_traits():
    for name in VARIANT_NAMES:
        traits = variant_class(name).traits(gil_enabled=True)
        assert isinstance(traits.kind, Kind) and traits.api and traits.api_family, name
        assert traits.subject_to_gil == traits.kind.shares_gil
        assert variant_class(name).traits(gil_enabled=False).subject_to_gil is False
    baselines = [n for n in VARIANT_NAMES if variant_class(n).traits().role is Role.BASELINE]
    assert len(baselines) == 1, "exactly one baseline divides every speedup"


def test_each_lesson_pair_has_one_before_and_one_after():
    pairs: dict[str, list[Role]] = {}
    for name in VARIANT_NAMES:
        traits = variant_class(name).traits()
        if traits.lesson_pair:
            pairs.setdefault(traits.lesson_pair, []).append(traits.role)
    assert pairs and all(sorted(roles) == sorted([Role.BEFORE, Role.AFTER]) for roles in pairs.values()), pairs


def test_a_legacy_record_takes_traits_from_the_registry_and_says_what_it_lacks():
    legacy = {"workload": "downloader", "variant": "thread_pool", "workers": 8, "bound": "I/O", "median": 1}
    loaded = BenchRecord.from_dict(legacy, gil_enabled=False)
    assert loaded.version == 1 and loaded.record.bound is Bound.IO_WAIT
    assert loaded.record.traits == variant_class("thread_pool").traits(gil_enabled=False)
    assert "cores_used" in loaded.missing and "traits" not in loaded.missing  # v1 never had traits: no news


def test_a_legacy_record_of_an_unknown_variant_has_no_traits():
    assert BenchRecord.from_dict({"workload": "w", "variant": "gone_now", "workers": 1}).record.traits is None


def test_wrong_types_read_as_missing_never_as_errors():
    loaded = BenchRecord.from_dict({"schema": 2, "workers": "two", "bound": "sideways", "traits": {"kind": "quantum"},
                                    "identical": "yes", "per_core": [1, 2]})
    record = loaded.record
    assert record.workers is None and record.bound is None and record.traits is None and record.identical is None
    assert record.per_core is None and record.params == {}


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, 99])
def test_a_newer_schema_is_refused_naming_its_version(version):
    with pytest.raises(SchemaError, match=f"schema {version} is newer.*upgrade concurrency-lab"):
        BenchRecord.from_dict({"schema": version})


@pytest.mark.parametrize("version", [0, "2", None, True, 1.5])
def test_a_schema_that_is_not_a_version_is_refused(version):
    with pytest.raises(SchemaError):
        BenchRecord.from_dict({"schema": version})


def test_the_report_refuses_a_newer_file_in_one_line_and_keeps_the_others(tmp_path):
    document = json.loads((DATA / "run_py311.json").read_text())
    for benchmark in document["benchmarks"]:
        benchmark["extra_info"]["schema"] = SCHEMA_VERSION + 1
    future = tmp_path / "future.json"
    future.write_text(json.dumps(document))
    summary = load_results([future, DATA / "run_py313.json"])
    assert len(summary.runs) == 1 and summary.runs[0].python_version.startswith("3.13")
    (refused,) = [w for w in summary.warnings if w.source == str(future)]
    assert f"schema {SCHEMA_VERSION + 1} is newer" in refused.message and "\n" not in refused.message


def test_the_saved_fixtures_load_with_a_note_of_what_they_lack():
    summary = load_results([DATA / "run_py311.json", DATA / "run_py313.json"])
    assert summary.results and all(r.traits is not None for r in summary.results)
    notes = [w.message for w in summary.warnings]
    assert sum("before the benchmark record had a schema" in n for n in notes) == 2


def test_traits_read_back_from_a_mapping():
    traits = VariantTraits(Kind.CLUSTER, "distributed", "Client.map", Role.AFTER, "cluster", False, True, False)
    assert VariantTraits.from_dict(json.loads(json.dumps(traits.to_dict()))) == traits


def _string_constants(path: Path) -> set[str]:
    return {node.value.strip("`") for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)}


def test_the_report_package_names_no_variant_and_matches_no_bound_text():
    """Rules select rows by traits: a string naming a registered variant, or a bound's value or label,
    in the report's code would be a rule that a new variant or workload could not reach."""
    package = Path(report_package.__file__).parent
    forbidden = set(VARIANT_NAMES) | {b.value for b in Bound} | {b.label for b in Bound}
    found = {f"{path.name}: {text!r}" for path in package.rglob("*.py") for text in _string_constants(path) & forbidden}
    template_text = "\n".join(p.read_text() for p in package.rglob("*.j2"))
    found |= {f"template: {name!r}" for name in VARIANT_NAMES
              if any(f"{q}{name}{e}" in template_text for q, e in (("'", "'"), ('"', '"'), ("<code>", "</code>")))}
    assert not found, f"the report names variants or bounds: {sorted(found)}"
