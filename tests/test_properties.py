"""Property tests: for random inputs, worker counts and chunk sizes, every variant returns what `sequential` does."""

from __future__ import annotations

import contextlib

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lab_params import WORKLOAD_NAMES, make_variant, task_for, variant_params

from concurrency_lab.traits import Kind
from concurrency_lab.variants import Variant, VariantUnavailable, get_variant, variant_class
from concurrency_lab.workloads import get_workload
from concurrency_lab.workloads.tiny_tasks import affine

workers = st.integers(min_value=1, max_value=8)
chunksizes = st.none() | st.integers(min_value=1, max_value=7)
some_items = st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=80)

#: A cluster (a scheduler and its worker processes) takes about a second to start, too long to pay for each of
#: hypothesis's examples: one warm cluster per variant serves the module, with fewer examples and no deadline.
CLUSTER_EXAMPLES = 20
COLD = [p for p in variant_params() if variant_class(p.values[0]).kind is not Kind.CLUSTER]
WARM = [p for p in variant_params() if variant_class(p.values[0]).kind is Kind.CLUSTER]
on_a_warm_cluster = settings(max_examples=CLUSTER_EXAMPLES, deadline=None)


@pytest.fixture(scope="module")
def warm(allow_long_lived):
    """name -> that variant, started on first use with 2 workers and kept for the module (its workers allowed to
    outlive each test, and stopped when the module ends)."""
    class Started(dict):
        def __missing__(self, name: str) -> Variant:
            before = {child.pid for child in psutil.Process().children()}
            self[name] = stack.enter_context(make_variant(name, workers=2))
            for child in psutil.Process().children():
                if child.pid not in before:
                    allow_long_lived(child.pid)
            return self[name]

    with contextlib.ExitStack() as stack:
        yield Started()


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


@pytest.mark.parametrize("variant_name", COLD)
@given(items=some_items, workers=workers, chunksize=chunksizes)
def test_any_items_in_order(variant_name, items, workers, chunksize):
    check_items(make_variant(variant_name, workers=workers, chunksize=chunksize), items)


@pytest.mark.parametrize("variant_name", WARM)
@on_a_warm_cluster
@given(items=some_items, chunksize=chunksizes)
def test_any_items_in_order_on_a_warm_cluster(variant_name, warm, items, chunksize):
    check_items(warm[variant_name], items, chunksize)


@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
@pytest.mark.parametrize("variant_name", COLD)
@given(data=st.data(), workers=workers)
def test_any_workload_inputs(variant_name, workload_name, environments, data, workers):
    check_workload(make_variant(variant_name, workers=workers), workload_name, environments, data)


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

