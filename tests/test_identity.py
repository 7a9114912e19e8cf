"""The core promise: every variant x workload returns exactly the workload's independent reference."""

from __future__ import annotations

import os

import pytest
from doubles import IN_PROCESS_DOUBLES
from lab_params import WORKLOAD_NAMES, make_variant, variant_start_method_params

from concurrency_lab.variants import VariantUnavailable
from concurrency_lab.workloads import get_workload

SEED = 20261123


@pytest.mark.parametrize("workload_name", WORKLOAD_NAMES)
@pytest.mark.parametrize(("variant_name", "start_method"), variant_start_method_params())
def test_matches_reference(variant_name, start_method, workload_name, environments):
    workload = get_workload(workload_name)
    variant = make_variant(variant_name, start_method, workers=3)
    try:
        task = workload.task_for(variant)
    except VariantUnavailable as exc:
        pytest.skip(str(exc))
    inputs = workload.make_inputs(workload.size("test"), SEED, env=environments[workload_name])
    # The requests-mock double reaches requests Sessions of this interpreter only: not another process's, nor a worker
    # interpreter's (whose tasks and items are serialized to it).
    in_process_requests = variant.serializer is None and not variant.runs_coroutines
    double = IN_PROCESS_DOUBLES.get(workload_name) if in_process_requests else None

    if double is None:
        results = variant.map(task, inputs)
    else:
        with double() as mock:
            results = variant.map(task, inputs)
        assert mock.call_count == len(inputs)  # the double answered, not the server

    assert results == workload.reference(inputs)
    pids = variant.last_run.worker_pids
    if not variant.kind.in_process:
        assert os.getpid() not in pids  # computed in other processes
    else:
        assert pids == {os.getpid()}
