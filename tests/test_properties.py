"""Property tests: for random inputs, worker counts and chunk sizes, every variant returns what `sequential` does."""

from __future__ import annotations

import contextlib

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lab_params import WORKLOAD_NAMES, make_variant, task_for, variant_params

from concurrency_lab.core.traits import Kind
from concurrency_lab.variants import Variant, VariantUnavailable, get_variant, variant_class
from concurrency_lab.workloads import get_workload
from concurrency_lab.workloads.tiny_tasks import affine

workers = st.integers(min_value=1, max_value=8)
chunksizes = st.none() | st.integers(min_value=1, max_value=7)
some_items = st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=80)

#: How each variant meets hypothesis's examples. Forked workers start in milliseconds: a cold pool per example.
#: Workers that are fresh interpreters (spawn, forkserver, loky's fork+exec) take 0.2-0.3 s each: a cold pool
#: per example still (so every example also checks that the pool stops), but fewer examples. A cluster takes
#: about a second: one warm cluster serves the module. (loky's reusable executor is one per process, so another
#: test in the same worker may resize or replace it: a warm loky pool cannot be kept across tests.)
FRESH_EXAMPLES = 6
CLUSTER_EXAMPLES = 20


def _starts(name: str) -> str:
    cls = variant_class(name)
    if cls.kind.in_process:
        return "fast"
    if cls.kind is Kind.CLUSTER:
        return "cluster"
    return "fast" if getattr(cls(workers=1), "effective_start_method", "fork") == "fork" else "fresh"


COLD = [p for p in variant_params() if _starts(p.values[0]) == "fast"]
FRESH = [p for p in variant_params() if _starts(p.values[0]) == "fresh"]
WARM = [p for p in variant_params() if _starts(p.values[0]) == "cluster"]
few_fresh_pools = settings(max_examples=FRESH_EXAMPLES, deadline=None)
on_a_warm_cluster = settings(max_examples=CLUSTER_EXAMPLES, deadline=None)


@pytest.fixture(scope="module")
def warm(allow_long_lived):
    """name -> that cluster variant with 2 workers, started (and its workers brought up by a first map)
    before the module's tests, and stopped when the module ends: its processes and threads are the
    fixture's, not a test's leftovers."""
    with contextlib.ExitStack() as stack:
        started = {}
        for param in WARM:
            name = param.values[0]
            if variant_class(name).unavailable_reason() is not None:
                continue  # its tests skip with the reason
            before = {child.pid for child in psutil.Process().children()}
            variant = started[name] = stack.enter_context(make_variant(name, workers=2))
            variant.map(task_for(variant, affine), range(8), chunksize=1)  # every worker up before the tests
            for child in psutil.Process().children():
                if child.pid not in before:
                    allow_long_lived(child.pid)
        yield started


def check_items(variant: Variant, items: list[int], chunksize: int | None = None) -> None:
    expected = get_variant("sequential").map(affine, items)
    assert variant.map(task_for(variant, affine), items, chunksize=chunksize) == expected


def check_workload(variant: Variant, workload_name: str, environments, data) -> None:
    workload = get_workload(workload_name)
    size = data.draw(st.integers(min_value=0, max_value=workload.size("test")), label="size")
    seed = data.draw(st.integers(min_value=0, max_value=2**32), label="seed")
    inputs = workload.make_inputs(size, seed, env=environments[workload_name])
    try:
        task = workload.task_for(variant)
    except VariantUnavailable as exc:
        pytest.skip(str(exc))
    assert variant.map(task, inputs) == get_variant("sequential").map(workload.task, inputs)


def _items_on_a_cold_pool(variant_name, items, workers, chunksize):
    check_items(make_variant(variant_name, workers=workers, chunksize=chunksize), items)


def _workload_on_a_cold_pool(variant_name, workload_name, environments, data, workers):
    check_workload(make_variant(variant_name, workers=workers), workload_name, environments, data)


any_items = given(items=some_items, workers=workers, chunksize=chunksizes)
any_inputs = given(data=st.data(), workers=workers)
test_any_items_in_order = pytest.mark.parametrize("variant_name", COLD)(any_items(_items_on_a_cold_pool))
test_any_items_in_order_on_fresh_pools = pytest.mark.parametrize("variant_name", FRESH)(
    few_fresh_pools(any_items(_items_on_a_cold_pool)))
test_any_workload_inputs = pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)(
    pytest.mark.parametrize("variant_name", COLD)(any_inputs(_workload_on_a_cold_pool)))
test_any_workload_inputs_on_fresh_pools = pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)(
    pytest.mark.parametrize("variant_name", FRESH)(few_fresh_pools(any_inputs(_workload_on_a_cold_pool))))


@pytest.mark.parametrize("variant_name", WARM)
@on_a_warm_cluster
@given(items=some_items, chunksize=chunksizes)
def test_any_items_in_order_on_a_warm_cluster(variant_name, warm, items, chunksize):
    check_items(warm[variant_name], items, chunksize)


@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
@pytest.mark.parametrize("variant_name", WARM)
@on_a_warm_cluster
@given(data=st.data())
def test_any_workload_inputs_on_a_warm_cluster(variant_name, workload_name, warm, environments, data):
    check_workload(warm[variant_name], workload_name, environments, data)


@pytest.mark.parametrize("variant_name", variant_params())
def test_empty_input_starts_no_pool(variant_name, monkeypatch):
    variant = make_variant(variant_name, workers=2)

    def no_pool_please(self):
        raise AssertionError("a pool was started for an empty input")

    monkeypatch.setattr(type(variant), "_open", no_pool_please)
    assert variant.map(task_for(variant, affine), []) == []
    assert variant.map(task_for(variant, affine), iter(())) == []

