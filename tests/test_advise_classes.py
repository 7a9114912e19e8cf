"""`advise` names a correct variant for each class of work, on this Python and build, measured for real.

Serial only: under `-n auto` another test takes a core and the ratios these rest on (cores used, speedup
on 2 cores) mean nothing. Under xdist they are skipped with that reason; run them with

    pytest -n 0 -m advise_serial tests/test_advise_classes.py

Margins are wide: ~20 ms per item, a 10 s budget per function, and only what classification needs is
asserted (the kind of the variant named, the bound, what was ruled out and why).
"""

from __future__ import annotations

import advise_targets as targets
import pytest
from lab_params import serial_only

from concurrency_lab.advise import advise, render
from concurrency_lab.measure.machine import gil_enabled
from concurrency_lab.variants import VARIANT_NAMES, variant_class

BUDGET = 10.0
GIL = gil_enabled()


pytestmark = serial_only("speedups", "pytest -n 0 -m advise_serial tests/test_advise_classes.py")


def _names(funcs):
    return [f.__name__ for f in funcs]


def _explain(advice) -> str:
    return "\n" + render(advice)


#: Other processes using this many cores while advise measured: a failed assertion is then a skip, with the
#: figure (the ratios these tests rest on need both cores); on a quiet machine every assertion stands.
BUSY_CORES = 0.3


def check(advice, condition: bool) -> None:
    if not condition and (advice.other_cores or 0.0) >= BUSY_CORES:
        pytest.skip(f"other processes used {advice.other_cores:.2f} cores while advise measured: too busy to judge"
                    + _explain(advice))
    assert condition, _explain(advice)


CPU_FUNCTIONS = [targets.sum_of_squares, targets.collatz_steps]


@pytest.mark.parametrize("func", CPU_FUNCTIONS, ids=_names(CPU_FUNCTIONS))
def test_pure_python_cpu_goes_to_processes_unless_the_build_has_no_gil(func):
    advice = advise(func, range(200), budget=BUDGET)
    if GIL:
        check(advice, advice.bound == "cpu_holds_gil")
        check(advice, advice.recommended_kind == "processes")
        check(advice, advice.speedup > 1.3)
    else:  # free-threaded: threads may run Python in parallel, and then they are the simpler answer
        check(advice, advice.recommended_kind in ("threads", "processes"))
        check(advice, advice.bound in ("cpu_releases_gil", "cpu_holds_gil"))


RELEASING = [targets.sha256_of_buffer, targets.zlib_crc_of_buffer]


@pytest.mark.parametrize("func", RELEASING, ids=_names(RELEASING))
def test_hashing_big_buffers_goes_to_threads(func):
    advice = advise(func, range(200), budget=BUDGET)
    check(advice, advice.bound == "cpu_releases_gil")
    if GIL:
        check(advice, advice.recommended_kind == "threads")
    else:  # measured on 3.13t: threads use 1.9 cores on zlib_crc_of_buffer yet reach only 1.2x (each item
        # allocates a fresh 12 MiB buffer), and processes 1.6x: the answer follows the measurement
        check(advice, advice.recommended_kind in ("threads", "processes"))


@pytest.fixture
def line_server():
    """A server on 127.0.0.1 that answers each line 25 ms later; its address in `advise_targets`."""
    with targets.line_server() as address:
        yield address


WAITS = [targets.sleep_20ms, targets.wait_on_event]


@pytest.mark.parametrize("func", WAITS, ids=_names(WAITS))
def test_blocking_waits_go_to_threads(func):
    advice = advise(func, range(200), budget=BUDGET)
    check(advice, advice.bound == "io_wait")
    check(advice, advice.recommended_kind == "threads" and advice.recommended.workers > 2)


def test_a_socket_read_goes_to_threads(line_server):
    advice = advise(targets.read_from_server, range(200), budget=BUDGET)
    check(advice, advice.bound == "io_wait")
    check(advice, advice.recommended_kind == "threads")


COROUTINES = [targets.async_sleep_20ms, targets.async_read_from_server]


@pytest.mark.parametrize("func", COROUTINES, ids=_names(COROUTINES))
def test_the_same_waits_as_coroutines_go_to_the_event_loop(func, line_server):
    advice = advise(func, range(200), budget=BUDGET)
    check(advice, advice.bound == "io_wait")
    check(advice, advice.recommended_kind == "event_loop" and advice.recommended.workers > 2)
    assert "sequential" in advice.ruled_out and "coroutine" in advice.ruled_out["sequential"]


TINY = [targets.add_one, targets.tiny_tuple]


@pytest.mark.parametrize("func", TINY, ids=_names(TINY))
def test_work_cheaper_than_a_hand_off_stays_sequential_or_takes_big_chunks(func):
    advice = advise(func, range(200_000), budget=BUDGET)
    check(advice, advice.bound == "dispatch")
    if advice.recommended_kind != "sequential":  # only when measured faster, and only in large chunks
        check(advice, advice.recommended_kind == "processes" and advice.recommended.chunksize is not None)
        check(advice, advice.speedup > 1.0)


def test_an_unpicklable_closure_doing_io_goes_to_threads():
    advice = advise(targets.make_locked_sleeper(), range(200), budget=BUDGET)
    check(advice, advice.recommended_kind == "threads")
    pickled = [n for n in VARIANT_NAMES if variant_class(n).serializer == "pickle"  # the standard library's
               and variant_class(n).unavailable_reason() is None]  # (one unavailable here is listed as such)
    assert pickled
    for name in pickled:
        assert "cannot be sent with pickle" in advice.ruled_out[name], _explain(advice)
    assert "local object" in render(advice)  # "Can't pickle local object" ("Can't get" from 3.13)


def _other_load(advice) -> str:
    """The figure a skip carries: the cores other processes used while `advice` measured, or that it is unknown."""
    if advice.other_cores is None:
        return "other processes' load not measured"
    return f"other processes used {advice.other_cores:.2f} of {advice.build.get('usable_cpus')} CPUs"


STABLE = [targets.sleep_20ms, targets.collatz_steps]


@pytest.mark.parametrize("func", STABLE, ids=_names(STABLE))
def test_the_advice_is_stable(func):
    """Run twice, it names the same configuration, or one of the runs lists the other's pick as within noise.

    Only judged answers can be compared, so it skips whenever either run is not judged (other load left fewer
    than 1.4 free cores, or was not measured; the budget ran out), with that run's figure in the reason. On CI,
    whose machine is never quiet, it will mostly skip: it checks stability on a quiet machine, and says so
    everywhere else."""
    first, second = (advise(func, range(200), budget=BUDGET) for _ in range(2))
    unjudged = [(run, advice) for run, advice in (("first", first), ("second", second)) if not advice.judged]
    if unjudged:  # other load left too few cores, or the budget ran out: said so, with the figure
        run, advice = unjudged[0]
        pytest.skip(f"the {run} run was not judged ({_other_load(advice)}): {advice.problem}" + _explain(advice))
    assert first.recommended is not None and second.recommended is not None, _explain(first) + _explain(second)
    same = first.recommended == second.recommended
    close = first.recommended.label in second.as_fast or second.recommended.label in first.as_fast
    if not (same or close) and max(first.other_cores or 0.0, second.other_cores or 0.0) >= BUSY_CORES:
        pytest.skip(f"other processes loaded the machine while advise measured (first run: {_other_load(first)}; "
                    f"second: {_other_load(second)})" + _explain(first) + _explain(second))
    assert same or close, _explain(first) + _explain(second)
