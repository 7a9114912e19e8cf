"""A variant the lab has never seen, registered from inside a test, goes through the benchmark engine
and lands in the report's tables, charts and verdicts with no edit to the report package; and a variant
of a kind the lab has never seen (tests/support/foreign_kind.py: the kind declared with its facts, the
variant in a few lines) reaches every consumer with no edit anywhere else."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import foreign_kind
import pytest
from lab_params import make_variant, variant_params, variant_start_method_params

from concurrency_lab import variants
from concurrency_lab.advise.sweep import Candidate, choose
from concurrency_lab.bench.cases import PROFILES, cases
from concurrency_lab.bench.options import RunOptions
from concurrency_lab.bench.run import run_benchmarks, write_run_reports
from concurrency_lab.core.errors import NotPicklable
from concurrency_lab.core.traits import Kind, KindFactMissing, VariantTraits, register_kind, unregister_kind
from concurrency_lab.failures import JSON_KEY, FailureTable, runner
from concurrency_lab.failures.cases import CASES_BY_NAME
from concurrency_lab.variants.base import Variant, run_chunk
from concurrency_lab.workloads import get_workload

TOY = "toy_delayed_threads"
DELAY_S = 0.01


class DelayedThreads(Variant):
    """Threads that wait a fixed delay before each call: slower than `thread_pool`, and not by name."""

    name = TOY
    summary = "a thread pool that sleeps before each map (a test's toy)"
    kind = Kind.THREADS
    api_family = "tests"
    api = "DelayedThreads.map"

    def _open(self):
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="toy")

    def _close(self, pool):
        pool.shutdown(wait=True)

    def _map_chunks(self, task, chunks, deadline, outcomes):
        time.sleep(DELAY_S)
        outcomes[:] = self._pool.map(run_chunk, [task] * len(chunks), chunks, [deadline] * len(chunks))


@pytest.fixture
def toy_registered():
    variants.register(DelayedThreads)
    try:
        yield TOY
    finally:
        variants.unregister(TOY)


def test_registering_checks_what_it_is_given(toy_registered):
    with pytest.raises(ValueError, match="already registered"):
        variants.register(DelayedThreads)
    with pytest.raises(TypeError):
        variants.register(object)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a variant added with register"):
        variants.unregister("sequential")
    assert variants.get_variant(TOY, workers=2).map(abs, [-1, 2, -3]) == [1, 2, 3]


def test_a_registered_variant_reaches_every_part_of_the_report(toy_registered, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark turns itself off inside xdist workers
    code, results = run_benchmarks(RunOptions(profile="smoke", variants=["sequential", TOY], workloads=["processor"],
                                              workers=[2], failures=False), out_dir=tmp_path)  # the foreign kind's test has one
    assert code == 0 and results.exists()
    assert write_run_reports([results], tmp_path, verbose=True) == 0

    rows = json.loads((tmp_path / "summary.json").read_text())["results"]
    toy_rows = [r for r in rows if r["variant"] == TOY]
    assert {r["mode"] for r in toy_rows} == {"warm", "cold"} and all(r["identical"] for r in toy_rows)
    assert all(r["traits"]["kind"] == "threads" and r["speedup"] is not None for r in toy_rows)

    markdown = (tmp_path / "summary.md").read_text()
    assert f"| {TOY} |" in markdown  # its table row
    verdicts = json.loads((tmp_path / "summary.json").read_text())["verdicts"]
    threads = [v["text"] for v in verdicts if v["rule"] == "threads_and_the_gil"]
    assert threads and f"`{TOY}`" in threads[0]  # chosen as a thread variant by its kind
    html = (tmp_path / "index.html").read_text()
    section = html[html.index('id="workload-processor-smoke"'):]
    speedup_svg = section[section.index("<svg"):section.index("</svg>")]
    assert "Speedup over the baseline" in section and TOY in speedup_svg  # a line of its own in the speedup chart
    assert f"<code>{TOY}</code>" in html
    assert f"`{TOY}`" in capsys.readouterr().out  # the verdicts `run -v` prints


# The failure cases the foreign kind is probed with: one its task raises, one it times out, one it pickles.
FOREIGN_CASES = ("task_raises", "timeout", "unpicklable_task")


@pytest.fixture
def foreign_registered():
    """The foreign kind and its variant, declared for this test and taken out again after it."""
    kind = foreign_kind.declare()
    variants.register(foreign_kind.BorrowedPool)
    try:
        yield kind
    finally:
        variants.unregister(foreign_kind.NAME)
        unregister_kind(foreign_kind.KIND)
    assert foreign_kind.KIND not in {k.value for k in Kind}


def test_a_kind_is_declared_once_with_its_facts_and_records_of_unknown_kinds_still_load(foreign_registered):
    kind = foreign_registered
    assert Kind(foreign_kind.KIND) is kind and Kind.BORROWED_THREADS is kind  # type: ignore[attr-defined]
    order = list(Kind)
    assert order.index(Kind.THREADS) < order.index(kind) < order.index(Kind.EVENT_LOOP)  # its declared place
    assert kind in Kind.about("threads") and kind.simplicity == 1 and kind.shares_gil
    with pytest.raises(ValueError, match="already registered"):
        register_kind(foreign_kind.KIND, **foreign_kind.FACTS)
    with pytest.raises(ValueError, match="not a kind added with register_kind"):
        unregister_kind("threads")
    written = VariantTraits(kind, "tests", "BorrowedPool.map").to_dict()
    assert json.loads(json.dumps(written))["kind"] == foreign_kind.KIND
    unregister_kind(foreign_kind.KIND)  # another lab reads the record: the kind is unknown there
    try:
        assert VariantTraits.from_dict(written) is None
    finally:
        register_kind(foreign_kind.KIND, **foreign_kind.FACTS)


def test_a_kind_missing_a_fact_fails_naming_the_kind_and_the_fact():
    kind = register_kind("half_declared", order=9, label="half declared")
    try:
        with pytest.raises(KindFactMissing, match="kind 'half_declared' declares no 'simplicity'"):
            _ = kind.simplicity
        with pytest.raises(KindFactMissing, match="'hand_off_items'"):
            _ = kind.hand_off_items
        with pytest.raises(TypeError, match="colour"):
            register_kind("with_a_typo", order=10, colour="blue")
    finally:
        unregister_kind("half_declared")


def test_a_foreign_kind_maps_submits_and_is_among_the_identity_tests(foreign_registered):
    name = foreign_kind.NAME
    assert name in [p.values[0] for p in variant_params()]
    assert (name, None) in [tuple(p.values) for p in variant_start_method_params()]
    assert name in [p.values[0] for p in variant_params(processes=False)]  # its workers run in this process
    workload = get_workload("processor")
    with make_variant(name, workers=3) as variant:
        inputs = workload.make_inputs(workload.size("test"), 20261123, env=None)
        assert variant.map(workload.task_for(variant), inputs) == workload.reference(inputs)
        assert variant.submit(abs, -4).result(timeout=10) == 4
        assert variant.traits().kind is foreign_registered and variant.traits().futures


def test_a_foreign_kind_reaches_the_benchmark_rows_the_report_and_the_failure_table(foreign_registered, tmp_path,
                                                                                      monkeypatch):
    name = foreign_kind.NAME
    rows = cases(PROFILES["smoke"], variants=["sequential", name], workloads=["processor"], usable_cpus=2, workers=[2])
    assert {(c.variant, c.mode) for c in rows} >= {(name, "warm"), (name, "cold")}
    monkeypatch.setattr(runner, "CASES", tuple(CASES_BY_NAME[c] for c in FOREIGN_CASES))  # a subset: seconds
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # pytest-benchmark turns itself off inside xdist workers
    code, results = run_benchmarks(RunOptions(profile="smoke", variants=["sequential", name], workloads=["processor"],
                                              workers=[2]), out_dir=tmp_path)
    assert code == 0 and results.exists(), code
    table = FailureTable.from_dict(json.loads(results.read_text())[JSON_KEY])
    foreign = {o.case: o for o in table.outcomes if o.variant == name}
    assert set(foreign) == set(FOREIGN_CASES) and all(o.traits.kind is foreign_registered for o in foreign.values())
    assert [c for c, o in foreign.items() if not (o.returned and o.documented)] == [], foreign
    assert write_run_reports([results], tmp_path) == 0

    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = [r for r in summary["results"] if r["variant"] == name]
    assert rows and all(r["traits"]["kind"] == foreign_kind.KIND and r["identical"] for r in rows), rows
    markdown = (tmp_path / "summary.md").read_text()
    assert f"| {name} |" in markdown
    first_cells = [line.split("|")[1].strip(" *") for line in markdown.splitlines() if line.startswith("| ")]
    assert first_cells.index("sequential") < first_cells.index(name)  # tables in the kinds' order (a winner in bold)
    assert name in markdown[markdown.index("### Failure modes"):]  # its row of the failure table
    claims = {c["claim"]: c["runs"][0] for c in summary["claims"]}
    assert f"`{name}`" in claims["threads_no_cpu_speedup"]["numbers"], claims  # its kind's declared subject: threads
    assert any(v["rule"] == "threads_and_the_gil" and f"`{name}`" in v["text"] for v in summary["verdicts"]), \
        summary["verdicts"]


def test_advise_takes_a_foreign_kind_among_its_candidates(foreign_registered):
    choice = choose(is_coroutine=False, serializer_problems={}, names=["sequential", "thread_pool", foreign_kind.NAME])
    assert choice.baseline is not None and choice.baseline.kind is Kind.SEQUENTIAL
    names = [c.name for c in choice.candidates]
    assert foreign_kind.NAME in names and "thread_pool" in names
    assert Candidate.of(foreign_kind.NAME).simplicity(4) == Candidate.of("thread_pool").simplicity(4)[:1] + (0, 1, 0)


def test_the_serializer_a_variant_declares_decides_what_it_refuses(foreign_registered):
    """Not being a process variant: a thread pool that declares pickle refuses a lambda as a process pool does,
    and its chunks make the pickled trip through ExecutorVariant's one loop."""
    class PicklingBorrowedPool(foreign_kind.BorrowedPool):
        name = "pickling_borrowed_pool"
        serializer = "pickle"

    with pytest.raises(NotPicklable, match="must be picklable"):
        PicklingBorrowedPool(workers=2).map(lambda item: item, [1, 2])
    assert PicklingBorrowedPool(workers=2).map(abs, [-1, 2, -3], chunksize=2) == [1, 2, 3]
    assert foreign_kind.BorrowedPool(workers=2).map(lambda item: -item, [1, 2]) == [-1, -2]  # shares memory


def test_an_instance_reports_the_traits_it_was_set_to():
    joblib = variants.variant_class("joblib")
    if joblib.unavailable_reason():
        pytest.skip(joblib.unavailable_reason())
    assert joblib.traits().uses_processes and joblib(workers=2).traits().uses_processes
    one = joblib(workers=1)  # joblib's n_jobs=1: a loop in the calling thread
    assert one.traits().uses_processes is False and one.traits().stops_running_work is False
    dask = variants.variant_class("dask")
    if dask.unavailable_reason() is None:
        assert dask().traits().stops_running_work is True  # its own cluster, stopped with it
        assert dask(address="tcp://127.0.0.1:1").traits().stops_running_work is False  # a cluster it did not start
