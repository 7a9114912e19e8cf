"""`advise(func, items)`: the safety checks, the sweep in a child process, the classification and the answer."""

from __future__ import annotations

import math
import platform
import sysconfig
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..core.cpus import logical_cpus
from ..core.cpus import usable_cpus as lab_usable_cpus
from ..core.traits import Bound, Kind
from ..measure.machine import gil_enabled
from ..records.advice import Advice, nondeterministic_text, render, rounds_text
from ..records.advice_trials import Config, Trial
from ..variants import VARIANT_NAMES, variant_class
from ..variants.checks import as_list, check_callable
from .answer import Pick, chunksize_for_all, recommend, snippet, speedups
from .classify import Classification, classify, releases_gil
from .inputs import describe
from .safety import SPAWN_CHECK_SECONDS, is_coroutine_function, refusals, serializer_problems, spawn_import_problem
from .session import Session
from .sweep import Choice, Sweep, choose

DEFAULT_BUDGET_S = 30.0


#: A concurrent configuration is named at a median under this only when none of its rounds was slower than
#: sequential's median: a 1.06x whose rounds reach 0.92x is no clear gain (seen beside a one-core busy loop).
CLEAR_GAIN = 1.10
#: What to do for a judgement when the measurements could not decide.
FOR_A_JUDGEMENT = "for a judgement, run it again on a quieter machine, or with a larger --budget (more rounds)"


def build_facts() -> dict[str, Any]:
    return {"python": platform.python_version(), "gil_enabled": gil_enabled(),
            "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")), "usable_cpus": lab_usable_cpus(),
            "machine_cpus": logical_cpus()}


def threads_ruled_out_by_gil(gil: bool, bound: Bound | None, trial: Trial | None, baseline: Trial) -> str | None:
    """Why threads cannot be the answer on a build with a GIL, or None: on GIL-holding Python they cannot run it
    in parallel; on work cheaper than a hand-off, threads that stayed on one core (under what releasing the
    GIL gives, `classify.releases_gil`) ran nothing in parallel either. Their speedup is then the baseline's
    own overhead or noise, not theirs to give (seen: 1.13x on 1.00 cores, 200 ns items, in two chunks)."""
    if not gil:
        return None
    if bound is Bound.CPU_HOLDS_GIL:
        return "this function holds the GIL on a build with one: threads cannot run it in parallel"
    if bound is Bound.DISPATCH and trial is not None and not releases_gil(trial, baseline):
        return (f"they used {trial.median_cores or 0:.2f} cores on a build with a GIL: nothing ran in parallel, "
                "so the gain is sequential's own per-item overhead or noise")
    return None


def threads_unproven(gil: bool, bound: Bound | None) -> bool:
    """On a build with a GIL, threads are named for computing work only when the classifier found the GIL
    released; for waiting work they always may be."""
    return gil and bound not in (Bound.IO_WAIT, Bound.CPU_RELEASES_GIL)


def why_not_judged(pick: Pick, kind: Kind, found: Classification, gil: bool, trial: Any) -> str | None:
    """Why the measurements do not support naming `pick` (the figure that prevented it, and what would decide
    it), or None when they do: threads for computing work on a GIL build whose GIL use was not established, or
    sequential when other load left too few free cores for parallel work to show (or was not measured), unless
    its items are cheaper than a hand-off: the classifier leaves `undecided` unset for that."""
    spread = ("" if pick.low is None or pick.high is None or trial is None else
              f" ({pick.low:.2f}-{pick.high:.2f}x over {rounds_text(len(trial.round_seconds))})")
    if kind in Kind.about("threads") and threads_unproven(gil, found.bound):
        figure = found.undecided or ("threads did not clearly use more than one core"
                                     if found.bound is not Bound.DISPATCH else "its items are cheaper than a hand-off")
        return (f"{pick.label} measured {pick.speedup:.2f}x sequential{spread}, but on a build with a GIL threads "
                f"run computing work in parallel only where it releases the GIL, and that was not established: "
                f"{figure}; {FOR_A_JUDGEMENT}")
    if kind is Kind.SEQUENTIAL and found.undecided is not None:  # (never set for work cheaper than a hand-off)
        return (f"nothing measured beat sequential beyond noise, but {found.undecided}: too few free cores hide "
                f"what parallel work gains; {FOR_A_JUDGEMENT}")
    if kind is not Kind.SEQUENTIAL and pick.speedup is not None and pick.speedup < CLEAR_GAIN \
            and pick.low is not None and pick.low < 1.0:
        load = f"; {found.undecided}" if found.undecided else ""
        return (f"{pick.label} measured {pick.speedup:.2f}x sequential{spread}: not clearly faster, some of "
                f"its rounds were slower than sequential's{load}; {FOR_A_JUDGEMENT}")
    return None


def advise(func: Callable[[Any], Any], items: Iterable[Any], *, budget: float = DEFAULT_BUDGET_S,
           variants: Sequence[str] | None = None, include_cluster: bool = False, workers: Sequence[int] | None = None,
           clock: Callable[[], float] = time.monotonic, progress: Callable[[str], None] | None = None,
           name: str | None = None, runner: Any = None, check_spawn: bool = False, spent: float = 0.0) -> Advice:
    """Which variant to run `func` over `items` with, proven (every result compared with sequential's) and
    measured within `budget` seconds. `variants` limits the candidates (default: every registered one);
    `workers` replaces the worker counts tried (default: the usable CPUs, and more for waiting work; each
    configuration kept is also run at 1 worker).
    `check_spawn` first imports the function in a fresh spawn worker (for a function loaded from a file path),
    ruling out the pickle-based process variants when that fails. `spent` is what the caller already paid from
    the budget (the command's loading of the function and its items): counted in the time spent, leaving the
    sweep at least a tenth of the budget. `runner` replaces the child process (tests); `clock` the budget's clock."""
    check_callable(func)
    items = as_list(items)
    if not items:
        raise ValueError("advise needs at least one item")
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not (budget > 0 and math.isfinite(budget)):
        raise ValueError(f"budget must be a number of seconds above 0, got {budget!r}")
    if isinstance(spent, bool) or not isinstance(spent, (int, float)) or not (spent >= 0 and math.isfinite(spent)):
        raise ValueError(f"spent must be a number of seconds, 0 or more, got {spent!r}")
    started = clock() - spent
    is_coroutine = is_coroutine_function(func)
    names = list(VARIANT_NAMES if variants is None else variants)
    serializers = sorted({s for s in (variant_class(n).serializer for n in names) if s is not None})
    problems = serializer_problems(func, items, serializers)
    if check_spawn and "pickle" in serializers and "pickle" not in problems:
        spawner = next((n for n in names if variant_class(n).uses_processes and variant_class(n).serializer == "pickle"
                        and variant_class(n).unavailable_reason() is None), None)
        problem = spawn_import_problem(func, spawner, min(SPAWN_CHECK_SECONDS, budget / 3)) if spawner else None
        if problem is not None:
            problems["pickle"] = problem
    # What a variant refuses before running anything (a function its workers cannot import): ruled out, not tried.
    refused = refusals(func, [n for n in names if variant_class(n).serializer not in problems])
    choice = choose(is_coroutine=is_coroutine, serializer_problems=problems, include_cluster=include_cluster, names=names,
                    refused=refused)
    cpus = lab_usable_cpus()
    own_runner = runner is None
    runner = Session(func, items, is_coroutine=is_coroutine) if own_runner else runner
    # What loading and the safety checks (the spawn import, at most a third) left of the budget.
    left = max(float(budget) - (clock() - started), budget / 10)
    try:
        sweep = Sweep(runner, choice, items_total=len(items), budget_s=left, usable_cpus=cpus, clock=clock,
                      serializers=[s for s in serializers if s not in problems], progress=progress,
                      worker_counts=workers).run()
    except BaseException:  # interrupted: the child and its workers are stopped at once, not asked
        if own_runner:
            runner.close(kill_now=True)
        raise
    if own_runner:
        runner.close()
    # A result that cannot come back from a worker rules out that serializer's variants after the fact.
    for serializer, why in sweep.probe.unsendable.items():
        for candidate in choice.candidates:
            if candidate.serializer == serializer:
                choice.ruled_out.setdefault(candidate.name, f"it sends results back with {serializer}, and {why}")
    return _conclude(func, items, name, budget, clock() - started, cpus, choice, sweep)


def _conclude(func: Callable[[Any], Any], items: list[Any], name: str | None, budget: float, elapsed: float,
              cpus: int, choice: Choice, sweep: Any) -> Advice:
    function = name or describe(func)
    advice = Advice(function=function, items_total=len(items), items_sampled=sweep.n, budget_seconds=float(budget),
                    elapsed_seconds=elapsed, calls=sweep.calls, build=build_facts(), probe=sweep.probe, bound=None,
                    reasons=[], trials=sweep.trials, hand_off_seconds=sweep.hand_off_seconds,
                    ruled_out=dict(choice.ruled_out), not_tried={**choice.not_tried, **sweep.not_tried},
                    excluded=dict(sweep.excluded))
    if sweep.nondeterministic is not None:  # before any variant is judged: nothing can be compared with sequential
        advice.nondeterministic = dict(sweep.nondeterministic)
        advice.problem = (f"{nondeterministic_text(sweep.nondeterministic)}, so no variant is judged"
                          if sweep.nondeterministic.get("uncomparable") else
                          f"{nondeterministic_text(sweep.nondeterministic)} (two sequential runs of the same items): "
                          "no variant can be compared with sequential's results, so none is judged")
        return advice
    if sweep.problem is not None:
        advice.problem = sweep.probe.problem or sweep.problem
        advice.judged = not sweep.budget_ran_out
        return advice
    reference = choice.baseline
    if reference is None:  # (the sweep stops with a problem without one)
        raise ValueError("a sweep without a problem had no baseline variant")
    baseline = sweep.trial(Config(reference.name, 1))
    found = classify(baseline, sweep.trials, per_item_s=sweep.per_item_seconds or 0.0,
                     hand_off_s=sweep.hand_off_seconds, usable_cpus=cpus, gil_enabled=advice.build["gil_enabled"],
                     other_cores=advice.other_cores)  # None, not measured, is not taken as idle
    advice.bound = None if found.bound is None else found.bound.value
    advice.reasons = found.reasons
    usable = {c.name: c for c in [reference, *choice.candidates] if c.name not in choice.ruled_out}
    others = [t for t in sweep.trials if t.config != baseline.config and t.config.workers > 1 and t.ok]
    if baseline.ok and not others and any(c.name in usable for c in choice.candidates) \
            and not any(t.problem for t in sweep.trials):
        advice.judged = False
        advice.problem = (f"the budget ({budget:g} s) was spent before any concurrent variant was measured "
                          f"(the sample of {sweep.n} items takes {baseline.median_seconds:.2g} s sequentially): "
                          "raise --budget")
        return advice
    pick = recommend(baseline, sweep.trials, usable)
    ruled_out = None if pick.config is None or usable[pick.config.variant].kind not in Kind.about("threads") else \
        threads_ruled_out_by_gil(advice.build["gil_enabled"], found.bound, advice.trial(pick.config), baseline)
    if ruled_out is not None:
        advice.reasons.append(f"{pick.label} measured {pick.speedup:.2f}x, but {ruled_out}: that figure is "
                              "not the threads', and no thread variant is named")
        usable = {name: c for name, c in usable.items() if c.kind not in Kind.about("threads")}
        pick = recommend(baseline, sweep.trials, usable)
    if pick.config is None:
        advice.problem = ("no configuration returned sequential's results, sequential itself included: the function's "
                          "results differ from run to run (compared with ==)" if baseline.ok else
                          "no configuration ran correctly")
        return advice
    not_judged = why_not_judged(pick, usable[pick.config.variant].kind, found, advice.build["gil_enabled"],
                                advice.trial(pick.config))
    if not_judged is not None:
        advice.judged, advice.problem = False, not_judged
        return advice
    advice.recommended, advice.speedup = pick.config, pick.speedup
    advice.speedup_low, advice.speedup_high, advice.as_fast = pick.low, pick.high, list(pick.as_fast)
    trial = next(t for t in advice.trials if t.config == pick.config)  # the pick is one of the trials
    candidate = usable[pick.config.variant]
    if candidate.kind is Kind.SEQUENTIAL:
        advice.chunksize_for_all = None
    elif pick.config.chunksize is None:  # the variant's own chunking, applied to the whole input
        advice.chunksize_for_all = variant_class(pick.config.variant)(workers=pick.config.workers).chunksize_for(len(items))
    else:  # a measured chunk size: as many chunks per worker over the whole input
        advice.chunksize_for_all = chunksize_for_all(trial, len(items))
    speed = f"{pick.speedup:.2f}x on {trial.median_cores:.2f} cores"
    fastest = advice.trial(pick.fastest) if pick.fastest else None
    if pick.config == baseline.config:
        best = min((t for t in sweep.trials if t.ok and t is not baseline and t.config.workers > 1),
                   key=lambda t: t.median_seconds,
                   default=None)
        advice.reasons.append("nothing measured beat sequential beyond noise" + (
            f": the fastest, {best.config.label}, reached {baseline.median_seconds / best.median_seconds:.2f}x"
            if best is not None else ""))
    elif fastest is not None:
        advice.reasons.append(f"{pick.config.label} reaches {speed}; {fastest.config.label} measured "
                              f"{baseline.median_seconds / fastest.median_seconds:.2f}x, within noise: the simpler "
                              "one is named, the other is as fast")
    else:
        advice.reasons.append(f"{pick.config.label} reaches {speed}")
    wrong = [t for t in sweep.trials if t.mismatch is not None]
    for t in wrong:
        advice.reasons.append(f"{t.config.label} returned different results (item {t.mismatch['index']}): "
                              "never recommended")
    advice.snippet = snippet(candidate, pick.config.workers, advice.chunksize_for_all, function)
    return advice


def assert_parallel_speedup(func: Callable[[Any], Any], items: Iterable[Any], *, at_least: float = 1.5,
                            workers: int = 2, budget: float = 20.0, variants: Sequence[str] | None = None) -> Advice:
    """For a test suite: "this function must keep `at_least`x on `workers` workers". Every candidate is
    measured at `workers` workers and proved against sequential; AssertionError with the advice's screen
    when no correct one reaches the speedup. Returns the advice::

        def test_resize_stays_parallel():
            assert_parallel_speedup(resize, images, at_least=1.5, workers=2)
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not the lab's
    advice = advise(func, items, budget=budget, variants=variants, workers=[workers])
    baseline = advice.trials[0] if advice.trials else None
    gil = bool(advice.build.get("gil_enabled"))
    bound = Bound(advice.bound) if advice.bound else None
    reached = [speedups(baseline, t)[0] for t in advice.trials[1:] if baseline is not None and baseline.ok and t.ok
               and t.config.workers == workers and t.config.variant not in advice.ruled_out
               and not (t.kind in Kind.about("threads") and threads_unproven(gil, bound))]
    best = max(reached, default=0.0)
    if best >= at_least:
        return advice
    if advice.nondeterministic is not None and advice.nondeterministic.get("uncomparable"):
        why = f"{at_least:g}x on {workers} workers not judged: {advice.problem}"
    elif advice.nondeterministic is not None:
        why = f"{at_least:g}x on {workers} workers not judged: the function is not deterministic: {advice.problem}"
    elif not advice.judged:
        why = f"{at_least:g}x on {workers} workers not judged: {advice.problem}"
    elif not reached and advice.problem:
        why = f"{at_least:g}x on {workers} workers not measured: {advice.problem}"
    else:
        why = f"no variant reached {at_least:g}x on {workers} workers (the best: {best:.2f}x)"
    raise AssertionError(f"{why}\n{render(advice)}")
