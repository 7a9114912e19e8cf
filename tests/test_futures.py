"""The lesson's Future contract, the same on every variant that offers `submit` (taken from the registry)."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest
from lab_params import make_variant, variant_params
from lab_tasks import refuse, sleep_then_double

from concurrency_lab.variants import variant_class

WITH_FUTURES = [p for p in variant_params() if variant_class(p.values[0]).traits().futures]  # unavailable: skipped


def test_the_executor_variants_offer_submit():
    assert {p.values[0] for p in WITH_FUTURES} >= {"thread_pool", "process_pool"}
    assert all(hasattr(variant_class(p.values[0]), "submit") for p in WITH_FUTURES)


@pytest.fixture(params=WITH_FUTURES)
def executor(request):
    with make_variant(request.param, workers=2) as variant:
        yield variant


def test_submit_returns_a_future_at_once(executor):
    future = executor.submit(sleep_then_double, 21)
    assert isinstance(future, concurrent.futures.Future)
    assert not future.done()  # the task sleeps 0.3 s: submit did not wait for it
    assert future.result(timeout=60) == 42 and future.done()


def test_result_with_a_timeout_raises_timeout_error_while_running(executor):
    future = executor.submit(sleep_then_double, 1)
    with pytest.raises(concurrent.futures.TimeoutError):
        future.result(timeout=0.01)
    assert future.result(timeout=60) == 2


def test_an_exception_is_stored_and_exception_returns_it_without_raising(executor):
    future = executor.submit(refuse, 5)
    error = future.exception(timeout=60)
    assert isinstance(error, ValueError) and str(error) == "refused 5"
    with pytest.raises(ValueError, match="refused 5"):
        future.result()


def test_an_exception_nobody_asks_for_is_lost_silently(executor):
    """The lesson's warning, shown: a failed future that nobody asks raises nowhere."""
    future = executor.submit(refuse, 1)
    concurrent.futures.wait([future], timeout=60)
    assert future.done()  # it failed, and nothing told anyone: only asking would


def test_a_callback_added_after_completion_runs_at_once(executor):
    future = executor.submit(sleep_then_double, 2)
    future.result(timeout=60)
    seen = []
    future.add_done_callback(lambda f: seen.append((threading.get_ident(), f.result())))
    assert seen == [(threading.get_ident(), 4)]  # at once, in the caller's thread


def test_a_callback_added_before_completion_runs_when_it_completes(executor):
    done = threading.Event()
    results = []
    future = executor.submit(sleep_then_double, 3)
    future.add_done_callback(lambda f: (results.append(f.result()), done.set()))
    assert done.wait(60) and results == [6]


def test_two_warm_variants_of_one_kind_interleave_submit_and_map(executor):
    """Two warm pools of the same variant with different worker counts in one process (loky's reusable
    executor is one per process: the second resizes or replaces what the first holds), used in turn."""
    other = type(executor)(workers=1)
    with other:
        assert other.map(sleep_then_double, [1]) == [2]
        assert executor.submit(sleep_then_double, 2).result(timeout=60) == 4
        assert other.submit(sleep_then_double, 3).result(timeout=60) == 6
        assert executor.map(sleep_then_double, [4, 5]) == [8, 10]
    assert executor.submit(sleep_then_double, 6).result(timeout=60) == 12
