"""One measured configuration, run in the session's child process: a warm pool, timed rounds with the
benchmarks' CPU clocks and resource monitor, every result compared item by item with the reference."""

from __future__ import annotations

import reprlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil

from ..core.errors import BrokenPool, MapTimeout, NotPicklable
from ..core.process_tree import descendants, stop_processes
from ..measure.cpu_time import CpuClock, machine_busy_seconds, tree_cpu_seconds
from ..records.advice_trials import Config, Trial
from ..variants import variant_class
from .noop import noop

#: After a pool closed, how long its workers may take to exit before they count as left running.
LEFT_RUNNING_GRACE_S = 2.0


def first_difference(expected: Sequence[Any], got: Sequence[Any]) -> dict[str, Any] | None:
    """The first index where `got` differs from `expected` (results, in input order), or None. With
    "uncomparable": True when == cannot check such results at all (`cannot_be_compared`)."""
    for index, (want, have) in enumerate(zip(expected, got, strict=False)):
        try:
            same = bool(want == have)
        except Exception:  # noqa: BLE001 - an == that raises is a difference too
            same = False
        if not same:
            found = {"index": index, "expected": reprlib.repr(want), "got": reprlib.repr(have)}
            return {**found, "uncomparable": True} if cannot_be_compared(want, have) else found
    if len(expected) != len(got):
        return {"index": min(len(expected), len(got)), "expected": f"{len(expected)} results", "got": f"{len(got)} results"}
    return None


def cannot_be_compared(want: Any, have: Any) -> bool:
    """Whether two results that == calls different may be the same all the same, so that == cannot check them:
    a value not equal to itself (NaN; an array, whose == gives an array or raises), objects of a class without
    __eq__ (each equal only to itself), or two that print the same."""
    try:
        if not bool(want == want):  # the point: NaN and arrays are not equal to themselves
            return True
    except Exception:  # noqa: BLE001 - an == that raises cannot check anything
        return True
    if type(want) is type(have) and type(want).__eq__ is object.__eq__:
        return True
    try:
        return repr(want) == repr(have)
    except Exception:  # noqa: BLE001 - a repr that raises tells nothing
        return False


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())[:240]
    if isinstance(error, MapTimeout):
        return f"timed out (the per-item limit from the probe): {text}"
    if isinstance(error, BrokenPool):  # a worker died, or (a worker interpreter) could not start: its text says
        return f"its pool broke: {text}"
    if isinstance(error, NotPicklable):
        return f"could not send the work: {text}"
    return f"raised {type(error).__name__}" + (f": {text}" if text else "")


def run_trial(func: Callable[[Any], Any], items: Sequence[Any], config: Config, *, rounds: int, warmup: int,
              timeout: float, reference: list[Any] | None, monitor: Any = None,
              keep_pids: Sequence[int] = ()) -> tuple[Trial, list[Any] | None]:
    """Measure `config` over `items`; return the trial and the results of its last round (None if it failed).

    With `reference` None the results are not checked (this is the reference run)."""
    cls = variant_class(config.variant)
    trial = Trial(config=config, kind=cls.kind.value, items=len(items))
    variant = cls(workers=config.workers, chunksize=config.chunksize)
    trial.chunksize_used = variant.chunksize_for(len(items))
    results: list[Any] | None = None
    me = psutil.Process()
    try:
        if cls.has_pool():
            began = time.perf_counter()
            variant.start()
            trial.startup_seconds = time.perf_counter() - began
        section = monitor.measure() if monitor is not None else None
        with section if section is not None else _Nothing() as measured:
            for round_index in range(warmup + rounds):
                busy_before, own_before, clock = machine_busy_seconds(), tree_cpu_seconds(), CpuClock().start()
                results = None
                results = variant.map(func, items, timeout=timeout)
                last = variant.last_run
                cpu = clock.stop(last.worker_cpu_seconds if last is not None and variant.cpu_spent_elsewhere() else 0.0)
                busy_after, own_after = machine_busy_seconds(), tree_cpu_seconds()
                trial.calls += len(items)
                if reference is not None:
                    trial.mismatch = first_difference(reference, results)
                    if trial.mismatch is not None:
                        trial.problem = (f"returned a different result from sequential's for item "
                                         f"{trial.mismatch['index']}: {trial.mismatch['got']} instead of "
                                         f"{trial.mismatch['expected']}")
                        break
                if round_index >= warmup:
                    trial.round_seconds.append(cpu.wall_seconds)
                    trial.cores_used.append(cpu.cores_used)
                    # What the machine spent less what this process tree spent (workers' start-up, pickling
                    # and the sampler included, which the work's own figure leaves out). One entry per round,
                    # None where psutil cannot say; unclamped: the OS's 10 ms ticks err both ways.
                    own = max(own_after - own_before, cpu.cpu_seconds)
                    if busy_before is not None and busy_after is not None and cpu.wall_seconds > 0:
                        trial.other_cores.append((busy_after - busy_before - own) / cpu.wall_seconds)
                    else:
                        trial.other_cores.append(None)
            if measured is not None:
                reading = measured.final()
                trial.peak_rss_bytes, trial.peak_uss_bytes = reading.peak_rss_bytes, reading.peak_uss_bytes
    except Exception as error:  # noqa: BLE001 - whatever the variant raised is this trial's report line
        trial.problem = _describe(error)
        if results is None and variant.last_run is not None:
            trial.calls += len(variant.last_run.salvaged)
        results = None
    finally:
        variant.close()
    left = _left_running(me, keep_pids)
    if left:
        stop_processes(left, grace=0)
        trial.problem = trial.problem or (f"left {len(left)} process{'es' if len(left) > 1 else ''} running after "
                                          "map returned and its pool closed (stopped by advise)")
    return trial, None if trial.problem else results


def _left_running(me: psutil.Process, keep_pids: Sequence[int]) -> list[psutil.Process]:
    give_up = time.monotonic() + LEFT_RUNNING_GRACE_S
    while True:
        left = [p for p in descendants(me.pid, services=False) if p.pid not in keep_pids]
        if not left or time.monotonic() > give_up:
            return left
        time.sleep(0.02)


def hand_off_seconds(variant_name: str, workers: int) -> float | None:
    """What handing one item to a worker of this variant costs the caller: a warm pool, one item per task, as
    many as its kind declares (None: its kind's hand-off is not timed)."""
    cls = variant_class(variant_name)
    count = cls.kind.hand_off_items
    if count is None:
        return None
    try:
        with cls(workers=workers) as variant:
            variant.map(noop, range(min(10, count)), chunksize=1)  # warm every worker
            began = time.perf_counter()
            variant.map(noop, range(count), chunksize=1, timeout=30.0)
            return (time.perf_counter() - began) / count
    except Exception:  # noqa: BLE001 - no figure then; classification says so
        return None


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
