"""A variant the lab has never seen, registered from inside a test, goes through the benchmark engine
and lands in the report's tables, charts and verdicts with no edit to the report package."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from concurrency_lab import variants
from concurrency_lab.bench.options import RunOptions
from concurrency_lab.bench.run import run_benchmarks, write_run_reports
from concurrency_lab.core.traits import Kind
from concurrency_lab.variants.base import Variant, run_chunk

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
                                              workers=[2]), out_dir=tmp_path)
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
