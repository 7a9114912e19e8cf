"""The lesson's programs run by their own names, with no arguments, and print what they did."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from concurrency_lab import parallel_sum_with_executor


def run_module(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.parametrize("module", ["threaded_downloader", "executor_downloader"])
def test_downloaders_serve_their_own_demo_pages(module):
    done = run_module(f"concurrency_lab.lesson.{module}")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.startswith("ok    200") and "http://127.0.0.1:" in line for line in lines) == 12
    assert re.search(r"^12 URLs: 12 ok, 0 failed, in \d+\.\d{3} s with \w+ x 8 workers$", done.stdout, re.M)


@pytest.mark.parametrize(("module", "variant"), [("parallel_processor", "mp_pool"), ("executor_processor", "process_pool")])
def test_processors_print_the_sum_and_their_time(module, variant):
    done = run_module(f"concurrency_lab.lesson.{module}", "--tasks", "6")
    assert done.returncode == 0, done.stderr
    assert "matches the closed form" in done.stdout
    assert re.search(rf"^6 tasks on {variant} x \d+ workers \(\d+ worker processes\) in \d+\.\d{{3}} s$", done.stdout, re.M)


def test_parallel_sum_with_executor():
    numbers = list(range(1000))
    assert parallel_sum_with_executor(numbers) == sum(x * x for x in numbers)
    assert parallel_sum_with_executor([]) == 0
    assert parallel_sum_with_executor(iter([3, -4]), workers=3) == 25


def test_parallel_sum_sends_one_slice_per_worker(monkeypatch):
    """Chunked: one task per worker, not one pickled call per number."""
    from concurrency_lab.variants.process_pool import ProcessPool

    seen = []
    original = ProcessPool.map

    def spy(self, task, items, **kwargs):
        items = list(items)
        seen.append((self.workers, len(items)))
        return original(self, task, items, **kwargs)

    monkeypatch.setattr(ProcessPool, "map", spy)
    assert parallel_sum_with_executor(range(1000), workers=2) == sum(x * x for x in range(1000))
    assert seen == [(2, 2)]
