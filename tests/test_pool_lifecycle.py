"""A pool's life: replaced whichever call broke it, its workers ended with the process that called the lab,
`close()` waiting for submitted futures, and what a map timeout does to them. Variants are taken from the
registry by their traits; every case that could hang or kill its caller runs in a child process with its own limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from lab_params import make_variant, variant_params, variant_start_method_params
from lab_tasks import exit_on_five, refuse_seven, sleep_long, sleep_then_double

from concurrency_lab.errors import BrokenPool, MapTimeout
from concurrency_lab.variants import variant_class

TESTS = Path(__file__).resolve().parent
#: Bounds that only prove nothing hung: a loaded 2-core machine starts a pool in seconds.
CHILD_LIMIT_S = 60.0
GONE_WITHIN_S = 15.0


def _with_futures(params: list) -> list:
    return [p for p in params if variant_class(p.values[0]).traits().futures]


def _with_pool(params: list) -> list:
    return [p for p in params if variant_class(p.values[0]).has_pool()]


def _child_env() -> dict[str, str]:
    path = os.pathsep.join([str(TESTS.parent), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path}


# -- a pool broken by any call is replaced -------------------------------------------------------------

@pytest.mark.parametrize(("name", "start_method"), _with_futures(variant_start_method_params(processes=True)))
def test_a_pool_broken_under_submit_is_replaced_on_the_next_map_and_submit(name, start_method):
    """The future of the task that killed its worker fails; the pool it broke is not the next call's problem."""
    with make_variant(name, start_method, workers=2) as variant:
        with pytest.raises(Exception):  # noqa: B017, PT011 - each engine's own error: which one is not the point
            variant.submit(exit_on_five, 5).result(timeout=CHILD_LIMIT_S)
        assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]
        with pytest.raises(Exception):  # noqa: B017, PT011
            variant.submit(exit_on_five, 5).result(timeout=CHILD_LIMIT_S)
        assert variant.submit(refuse_seven, 2).result(timeout=CHILD_LIMIT_S) == 20


@pytest.mark.parametrize(("name", "start_method"), _with_pool(variant_start_method_params(processes=True)))
def test_a_warm_pool_whose_worker_died_between_calls_is_replaced(name, start_method):
    """A worker killed while the pool is idle (the OOM killer): the next map runs on a new pool, with results."""
    with make_variant(name, start_method, workers=2) as variant:
        pids = variant.map(os.getpid if False else _pid, range(4), chunksize=1)  # noqa: SIM222 - a picklable task
        victim = pids[0]
        os.kill(victim, signal.SIGKILL)
        psutil.Process(victim).wait(GONE_WITHIN_S) if psutil.pid_exists(victim) else None
        _wait_until_noticed(variant)
        assert variant.map(refuse_seven, [1, 2, 3]) == [10, 20, 30]
