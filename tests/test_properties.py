"""Property tests: for random inputs, worker counts and chunk sizes, every variant returns what `sequential` does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lab_params import WORKLOAD_NAMES, make_variant, task_for, variant_params

from concurrency_lab.variants import VariantUnavailable, get_variant
from concurrency_lab.workloads import get_workload
from concurrency_lab.workloads.tiny_tasks import affine

workers = st.integers(min_value=1, max_value=8)
chunksizes = st.none() | st.integers(min_value=1, max_value=7)


@pytest.mark.parametrize("variant_name", variant_params())
@given(items=st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=80), workers=workers, chunksize=chunksizes)
def test_any_items_in_order(variant_name, items, workers, chunksize):
    expected = get_variant("sequential").map(affine, items)
    variant = make_variant(variant_name, workers=workers, chunksize=chunksize)
    assert variant.map(task_for(variant, affine), items) == expected


@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
@pytest.mark.parametrize("variant_name", variant_params())
@given(data=st.data(), workers=workers)
def test_any_workload_inputs(variant_name, workload_name, environments, data, workers):
    workload = get_workload(workload_name)
    size = data.draw(st.integers(min_value=0, max_value=workload.size("test")), label="size")
    seed = data.draw(st.integers(min_value=0, max_value=2**32), label="seed")
    inputs = workload.make_inputs(size, seed, env=environments[workload_name])
    variant = make_variant(variant_name, workers=workers)
    try:
        task = workload.task_for(variant)
    except VariantUnavailable as exc:
        pytest.skip(str(exc))
    assert variant.map(task, inputs) == get_variant("sequential").map(workload.task, inputs)


@pytest.mark.parametrize("variant_name", variant_params())
def test_empty_input_starts_no_pool(variant_name, monkeypatch):
    variant = make_variant(variant_name, workers=2)

    def no_pool_please(self):
        raise AssertionError("a pool was started for an empty input")

    monkeypatch.setattr(type(variant), "_open", no_pool_please)
    assert variant.map(task_for(variant, affine), []) == []
    assert variant.map(task_for(variant, affine), iter(())) == []

