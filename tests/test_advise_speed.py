"""advise's own wall time, with the default budget: on a ~0.5 s pure-Python function and a ~1 µs one.

The figures are benchmarks, not assertions: advise's elapsed seconds and the configuration it named go
into `extra_info`; only structural facts are asserted (an answer, the budget kept by design). Serial only,
like tests/test_advise_classes.py (under xdist another test takes a core); run them with

    pytest tests/test_advise_speed.py -n 0 -m advise_serial --benchmark-only --no-lab-failures

(--no-lab-failures: otherwise the lab's plugin measures its failure table, about 35 s, into the JSON.)
"""

from __future__ import annotations

import advise_targets as targets
import pytest
from lab_params import serial_only

import concurrency_lab
from concurrency_lab.advise import DEFAULT_BUDGET_S

#: advise stops starting measurements when its budget is spent; what runs past it is the last round
#: finishing and the child process stopping. Generous, as the machine is shared: a design bound, not a timing.
SLACK_S = 0.5 * DEFAULT_BUDGET_S


pytestmark = serial_only("advise's wall time", "pytest -n 0 -m advise_serial tests/test_advise_speed.py")

CASES = {  # id -> (function, items)
    "half_second": (targets.about_half_a_second, range(64)),
    "one_microsecond": (targets.one_microsecond, range(100_000)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_advise_wall_time_with_the_default_budget(benchmark, case):
    func, items = CASES[case]
    advice = benchmark.pedantic(concurrency_lab.advise, args=(func, items), rounds=1, iterations=1)
    benchmark.extra_info.update({
        "advise_elapsed_seconds": round(advice.elapsed_seconds, 3),
        "advise_budget_seconds": advice.budget_seconds,
        "advised": advice.recommended.label if advice.recommended else None,
        "advised_speedup": None if advice.speedup is None else round(advice.speedup, 3),
        "seconds_per_item": advice.probe.seconds_per_item,
        "items_sampled": advice.items_sampled,
        "calls": advice.calls,
    })
    assert advice.budget_seconds == DEFAULT_BUDGET_S
    assert advice.recommended is not None, advice.problem
    assert advice.speedup is not None and advice.speedup > 0
    assert advice.elapsed_seconds <= advice.budget_seconds + SLACK_S, (advice.elapsed_seconds, advice.budget_seconds)
