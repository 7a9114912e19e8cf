"""The lesson's claims, checked on each Python that ran: holds, does not hold, or not measured.

Each claim is one small rule over one run, reading rows by their traits (kind, role, bound) and
the run's GIL state, never by a variant's name; its verdict carries the deciding numbers and
the sections they come from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from ..core.traits import Bound, Kind, VariantTraits
from ..numerics.formatting import code, format_cores, format_mib, format_percent, format_seconds, format_times, plural
from ..numerics.stats import is_noisy
from ..records.failure_outcomes import FailureOutcome
from ..records.summary import Result, Run, Summary
from .evidence import start_cost
from .facts import (
    MEANINGFUL_SPEEDUP,
    PARALLEL_CORES,
    GroupFacts,
    best_warm,
    gil_each_in_process,
    group_facts,
    serial_gain,
)

HOLDS, DOES_NOT_HOLD, NOT_MEASURED, NOT_JUDGED = "holds", "does not hold", "not measured", "not judged"
#: A speedup is read as lying anywhere within this many CVs of its rounds (its own or its baseline's, the larger):
#: a claim whose threshold falls inside that range could go either way on a re-run, so it is not judged.
NOISE_SPAN_CVS = 2
#: "Very similar": the executor and the older pool within this share of each other.
SIMILAR_WITHIN = 0.10


@dataclass(frozen=True)
class ClaimCheck:
    """One claim on one run."""

    run: int
    status: str  # HOLDS, DOES_NOT_HOLD, NOT_MEASURED or NOT_JUDGED
    numbers: str  # the deciding figures, or why there are none
    sections: tuple[tuple[str, str | None], ...] = ()  # (workload, size label) of the rows it read
    from_failure_table: bool = False  # it read the run's failure-modes table


@dataclass(frozen=True)
class Claim:
    key: str
    text: str  # as the lesson says it
    check: Callable[[Summary, Run], ClaimCheck]


def section_anchor(workload: str, size_label: str | None) -> str:
    """The id of a workload's section in index.html and summary.md."""
    return "workload-" + "-".join(part for part in (workload, size_label) if part)


def _groups(summary: Summary, run: Run, keep: Callable[[GroupFacts], bool]) -> list[GroupFacts]:
    return [facts for facts in group_facts(summary) if facts.run.index == run.index and keep(facts)]


def _speedup(r: Result) -> float:
    """The speedup of a row `best_warm` chose, which has one."""
    if r.speedup is None:
        raise ValueError(f"{r.name} has no speedup")
    return r.speedup


def _check(run: Run, groups: list[GroupFacts], status: str, numbers: list[str], rows: list[Result]) -> ClaimCheck:
    """The check, with a warning when a row it read was too noisy to trust."""
    worst = max((r.cv for r in rows if r.cv is not None), default=None)
    if is_noisy(worst):
        numbers = [*numbers, f"the machine was too noisy to trust this: CV up to {format_percent(worst)}"]
    return ClaimCheck(run.index, status, "; ".join(numbers), tuple((g.workload, g.size_label) for g in groups))


def _straddling(found: list[tuple[GroupFacts, Result]], threshold: float) -> list[str]:
    """Rows whose speedup, within NOISE_SPAN_CVS of their noise, could fall on either side of `threshold`."""
    straddling = []
    for g, r in found:
        baseline = g.baseline()
        # Any spread, not only a "noisy" one: at CV 9% a 1.08x could be 1.24x (the range scales with it).
        spread = max((x.cv for x in (r, baseline) if x is not None and x.cv is not None), default=None)
        if spread is None:
            continue
        low, high = _speedup(r) * (1 - NOISE_SPAN_CVS * spread), _speedup(r) * (1 + NOISE_SPAN_CVS * spread)
        if low < threshold <= high:
            straddling.append(f"{code(g.workload)}: {g.describe(r)} {format_times(r.speedup)} with rounds spread CV "
                              f"{format_percent(spread)}, so anywhere in {format_times(low)}-{format_times(high)}, "
                              f"either side of {format_times(threshold)}")
    return straddling


def _judged(run: Run, groups: list[GroupFacts], holds: bool, numbers: list[str], rows: list[Result],
            found: list[tuple[GroupFacts, Result]], threshold: float) -> ClaimCheck:
    """HOLDS or DOES_NOT_HOLD as the numbers say, unless noise puts a deciding speedup on both sides of the threshold."""
    straddling = _straddling(found, threshold)
    if not straddling:
        return _check(run, groups, HOLDS if holds else DOES_NOT_HOLD, numbers, rows)
    why = "; ".join(straddling) + "; re-run on a quieter machine, or with more rounds, for a judgement"
    return ClaimCheck(run.index, NOT_JUDGED, "; ".join([*numbers, why]), tuple((g.workload, g.size_label) for g in groups))


def _unique(groups: list[GroupFacts]) -> list[GroupFacts]:
    return [g for number, g in enumerate(groups) if all(g is not other for other in groups[:number])]


def _not_measured(run: Run, why: str) -> ClaimCheck:
    return ClaimCheck(run.index, NOT_MEASURED, why)


def threads_suit_io(summary: Summary, run: Run) -> ClaimCheck:
    groups = _groups(summary, run, lambda f: f.io_bound)
    found = [(g, best) for g in groups if (best := best_warm(g.of_kind(*Kind.about("threads"))))]
    if not found:
        return _not_measured(run, "no thread rows on a workload that waits")
    numbers = [f"{code(g.workload)}: {g.describe(r)} {format_times(r.speedup)}, {format_cores(r.cores_used)} cores"
               + (f", {r.efficiency_vs_ideal:.2f} of the ideal" if r.efficiency_vs_ideal is not None else "")
               for g, r in found]
    holds = all(_speedup(r) >= MEANINGFUL_SPEEDUP for _, r in found)
    return _judged(run, [g for g, _ in found], holds, numbers, [r for _, r in found], found, MEANINGFUL_SPEEDUP)


def processes_suit_cpu(summary: Summary, run: Run) -> ClaimCheck:
    groups = _groups(summary, run, lambda f: f.bound is not None and f.bound.computes)
    found = [(g, best) for g in groups if (best := best_warm(g.of_kind(*Kind.about("processes"))))]
    if not found:
        return _not_measured(run, "no process rows on a CPU-bound workload")
    numbers = [f"{code(g.workload)}: {g.describe(r)} {format_times(r.speedup)} on {format_cores(r.cores_used)} cores"
               for g, r in found]
    holds = all(_speedup(r) >= MEANINGFUL_SPEEDUP and (r.cores_used or 0) >= PARALLEL_CORES for _, r in found)
    return _judged(run, [g for g, _ in found], holds, numbers, [r for _, r in found], found, MEANINGFUL_SPEEDUP)


def threads_gain_nothing_on_cpu(summary: Summary, run: Run) -> ClaimCheck:
    """On work that holds the GIL. On a build without one the claim's reason is gone: threads may scale. Beside it,
    what workers with a GIL each in this process (interpreters) reach on the same work, deciding nothing."""
    groups = _groups(summary, run, lambda f: f.bound is Bound.CPU_HOLDS_GIL)
    beside = _gil_each_beside(groups)
    check = _with_beside(_threads_on_gil_work(run, groups), beside)
    elsewhere = [g for g in group_facts(summary) if g.run.index != run.index and g.bound is Bound.CPU_HOLDS_GIL
                 and g.of_kind(*gil_each_in_process())]
    if elsewhere and not beside:  # shown on another Python: say why not on this one
        labels = ", ".join(dict.fromkeys(k.label for k in gil_each_in_process()))
        check = dataclasses.replace(check, numbers=f"{check.numbers}; no {labels} on this Python (not selected, or "
                                                   "unavailable here)")
    return check


def _threads_on_gil_work(run: Run, groups: list[GroupFacts]) -> ClaimCheck:
    found = [(g, best) for g in groups if (best := best_warm(g.of_kind(*Kind.about("threads"))))]
    if not found:
        return _not_measured(run, "no thread rows on a workload that holds the GIL")
    gil = ("GIL state unknown" if run.gil_enabled is None
           else "GIL enabled" if run.gil_enabled else "free-threaded, GIL disabled")
    numbers = [f"{code(g.workload)} ({gil}): {g.describe(r)} {format_times(r.speedup)}, {format_cores(r.cores_used)} cores"
               for g, r in found]
    no_gain = all(_speedup(r) < MEANINGFUL_SPEEDUP for _, r in found)
    if run.gil_enabled is False and not no_gain:
        numbers.append("threads scale here: no GIL on this build")
    if run.gil_enabled and (noise := [why for _, r in found if (why := serial_gain(r))]):
        return ClaimCheck(run.index, NOT_JUDGED, "; ".join([*numbers, *noise]),
                          tuple((g.workload, g.size_label) for g, _ in found))
    return _judged(run, [g for g, _ in found], no_gain, numbers, [r for _, r in found], found, MEANINGFUL_SPEEDUP)


def _gil_each_beside(groups: list[GroupFacts]) -> list[tuple[GroupFacts, str]]:
    """What workers in this process with a GIL each (interpreters) reach on the same GIL-holding work: the best warm
    row per kind and group, shown beside the threads' claim on every Python (the third answer to "threads cannot")."""
    beside = []
    for g in groups:
        for kind in gil_each_in_process():
            best = best_warm(g.of_kind(kind))
            if best is None:
                continue
            noise = f" (rounds spread CV {format_percent(best.cv)}: a rough figure)" if is_noisy(best.cv) else ""
            beside.append((g, f"beside them, {kind.label} (one process, a GIL each) on {code(g.workload)}: "
                              f"{g.describe(best)} {format_times(best.speedup)}, {format_cores(best.cores_used)} cores"
                              f"{noise}"))
    return beside


def _with_beside(check: ClaimCheck, beside: list[tuple[GroupFacts, str]]) -> ClaimCheck:
    """`check` with the figures `beside` it appended and their sections linked; its status unchanged."""
    if not beside:
        return check
    sections = tuple(dict.fromkeys([*check.sections, *((g.workload, g.size_label) for g, _ in beside)]))
    return dataclasses.replace(check, numbers="; ".join([check.numbers, *(text for _, text in beside)]),
                               sections=sections)


def _start_cost(facts: GroupFacts, subject: str) -> tuple[Result, Result] | None:
    """(cold, warm) of the first variant of a kind the lesson calls `subject` measured both ways at one worker count."""
    kinds = Kind.about(subject)
    for variant in facts.variants():
        colds = [r for r in facts.rows(variant) if r.mode == "cold" and r.kind in kinds]
        for cold in colds:
            warm = next((r for r in facts.rows(variant, cold.workers) if r.mode == "warm"), None)
            if warm is not None:
                return cold, warm
    return None


def processes_cost_more_for_io(summary: Summary, run: Run) -> ClaimCheck:
    """Start-up (cold minus warm median) and memory (peak USS of the tree, not summed RSS) at equal workers."""
    groups = _groups(summary, run, lambda f: f.io_bound)
    numbers, verdicts, used, rows = [], [], [], []
    for g in groups:
        processes, threads = _start_cost(g, "processes"), _start_cost(g, "threads")
        if processes and threads:
            rows += [*processes, *threads]
            p_cost, t_cost = start_cost(*processes), start_cost(*threads)
            numbers.append(f"{code(g.workload)} start-up: {code(processes[0].variant)} {_cost_text(*processes, p_cost)} vs "
                           f"{code(threads[0].variant)} {_cost_text(*threads, t_cost)} (cold − warm, "
                           f"{plural(processes[0].workers, 'worker')})")
            p_known, t_known = _known_cost(*processes, p_cost), _known_cost(*threads, t_cost)
            if p_known is not None and t_known is not None and (p_cost is not None or t_cost is not None):
                verdicts.append(p_known > t_known)  # a cost lost in noise, or two costs of zero, decide nothing
            used.append(g)
        memory = _uss_pair(g)
        if memory:
            p, t = memory
            rows += [p, t]
            numbers.append(f"{code(g.workload)} memory: {code(p.variant)} {format_mib(p.peak_uss_bytes)} MiB vs "
                           f"{code(t.variant)} {format_mib(t.peak_uss_bytes)} MiB USS at {plural(p.workers, 'worker')}")
            verdicts.append((p.peak_uss_bytes or 0) > (t.peak_uss_bytes or 0))  # both have USS (_uss_pair)
            used.append(g)
    if not verdicts:
        return _not_measured(run, "no process and thread rows, cold and warm or with USS, on a workload that waits")
    return _check(run, _unique(used), HOLDS if all(verdicts) else DOES_NOT_HOLD, numbers, rows)


def _known_cost(cold: Result, warm: Result, cost: float | None) -> float | None:
    """The start-up cost as evidence: the measured cost; zero where a cold call was no slower than a warm one;
    None where it is within noise (it may be anything small: it cannot be compared with another)."""
    if cost is not None:
        return cost
    return 0.0 if cold.median_s <= warm.median_s else None


def _cost_text(cold: Result, warm: Result, cost: float | None) -> str:
    """The start-up cost, or "not measurable" with the medians that made it so (never a negative figure)."""
    if cost is not None:
        return format_seconds(cost)
    why = "cold no slower" if cold.median_s <= warm.median_s else "within noise"
    return f"not measurable (cold {format_seconds(cold.median_s)}, warm {format_seconds(warm.median_s)}: {why})"


def _uss_pair(facts: GroupFacts) -> tuple[Result, Result] | None:
    """Warm process and thread rows with USS at the most workers both measured."""
    with_uss = [r for r in facts.trusted if r.peak_uss_bytes and r.mode in ("warm", None)]
    processes = {r.workers: r for r in with_uss if r.kind in Kind.about("processes")}
    threads = {r.workers: r for r in with_uss if r.kind in Kind.about("threads")}
    shared = set(processes) & set(threads)
    return (processes[max(shared)], threads[max(shared)]) if shared else None


def executor_like_pool(summary: Summary, run: Run) -> ClaimCheck:
    """The lesson pair of process variants, head to head on CPU-bound work (warm, same workers)."""
    groups = _groups(summary, run, lambda f: f.bound is not None and f.bound.computes)
    numbers, verdicts, used, rows, straddling = [], [], [], [], []
    for g in groups:
        for after, before in g.lesson_pairs():
            traits = g.traits_of(after)
            if traits is None or traits.kind not in Kind.about("processes"):
                continue
            a = g.representative(after)
            b = next((r for r in g.rows(before, a.workers) if (r.mode, r.start_method) == (a.mode, a.start_method)),
                     None) if a else None
            if a is None or b is None:
                continue
            ratio = a.median_s / b.median_s
            numbers.append(f"{code(g.workload)}: {code(after)} {format_seconds(a.median_s)} vs {code(before)} "
                           f"{format_seconds(b.median_s)} ({format_percent(abs(ratio - 1))} apart, "
                           f"{plural(a.workers, 'worker')})")
            verdicts.append(abs(ratio - 1) <= SIMILAR_WITHIN)
            used.append(g)
            rows += [a, b]
            if (why := _similarity_straddles(ratio, a, b)) is not None:
                straddling.append(f"{code(g.workload)}: {why}")
    if not verdicts:
        return _not_measured(run, "no pair of process variants (the lesson's before and after) on CPU-bound work")
    if straddling:
        why = "; ".join(straddling) + "; re-run on a quieter machine, or with more rounds, for a judgement"
        return ClaimCheck(run.index, NOT_JUDGED, "; ".join([*numbers, why]),
                          tuple((g.workload, g.size_label) for g in _unique(used)))
    return _check(run, _unique(used), HOLDS if all(verdicts) else DOES_NOT_HOLD,
                  numbers + [f"similar: within {format_percent(SIMILAR_WITHIN)}"], rows)


def _similarity_straddles(ratio: float, a: Result, b: Result) -> str | None:
    """Why noise could put the two on either side of "similar" (within SIMILAR_WITHIN), or None: their ratio,
    read anywhere within NOISE_SPAN_CVS of the larger of their rounds' CVs, is both within it and outside."""
    spread = max((r.cv for r in (a, b) if r.cv is not None), default=None)
    if spread is None or not is_noisy(spread):  # 2 CVs of the rounds overstate how far a median moves: only a noisy pair can flip
        return None
    low, high = ratio * (1 - NOISE_SPAN_CVS * spread), ratio * (1 + NOISE_SPAN_CVS * spread)
    similar_possible = low <= 1 + SIMILAR_WITHIN and high >= 1 - SIMILAR_WITHIN
    apart_possible = low < 1 - SIMILAR_WITHIN or high > 1 + SIMILAR_WITHIN
    if not (similar_possible and apart_possible):
        return None
    return (f"rounds spread CV {format_percent(spread)}, so the ratio could be anywhere in {low:.2f}-{high:.2f}, "
            f"within {format_percent(SIMILAR_WITHIN)} of each other or not")


def _failure_check(run: Run, case: str, applies: Callable[[VariantTraits], bool],
                   describe: Callable[[FailureOutcome], str], holds: Callable[[FailureOutcome], bool],
                   none_why: str) -> ClaimCheck:
    """The claim on the outcomes of `case` for the variants whose traits it `applies` to."""
    if run.failures is None:
        return _not_measured(run, "the run has no failure-modes table")
    outcomes = [o for o in run.failures.outcomes if o.case == case and o.traits is not None and applies(o.traits)]
    if not outcomes:
        return _not_measured(run, none_why)
    status = HOLDS if all(holds(o) for o in outcomes) else DOES_NOT_HOLD
    return ClaimCheck(run.index, status, "; ".join(describe(o) for o in outcomes), from_failure_table=True)


def exception_lost_if_unasked(summary: Summary, run: Run) -> ClaimCheck:
    return _failure_check(
        run, "future_unasked", lambda traits: traits.futures,
        lambda o: f"{code(o.variant)}: " + ("raised nothing; the exception was in the future when asked"
                                            if o.documented else f"{o.error or 'returned'}"),
        lambda o: o.documented, "no variant that offers submit() in the failure-modes table")


def processes_need_picklable_work(summary: Summary, run: Run) -> ClaimCheck:
    return _failure_check(
        run, "unpicklable_task", lambda traits: traits.kind in Kind.about("processes"),
        lambda o: f"{code(o.variant)}: " + (f"refused with {o.error.rsplit('.', 1)[-1]}" if o.error else
                                            "ran it (its serializer carries local functions)"),
        lambda o: o.error is not None, "no process variant in the failure-modes table")


CLAIMS: tuple[Claim, ...] = (
    Claim("threads_suit_io", "Threads suit I/O-bound work", threads_suit_io),
    Claim("processes_suit_cpu", "Processes suit CPU-bound work", processes_suit_cpu),
    Claim("threads_no_cpu_speedup", "Threads give no speedup on CPU-bound work, because of the GIL",
          threads_gain_nothing_on_cpu),
    Claim("processes_cost_more_for_io", "Processes cost more than threads for simple I/O (start-up, memory)",
          processes_cost_more_for_io),
    Claim("executor_like_pool", "ProcessPoolExecutor performs very similarly to multiprocessing.Pool", executor_like_pool),
    Claim("exception_lost_if_unasked", "An exception in a task is stored in its future, and lost if nobody asks",
          exception_lost_if_unasked),
    Claim("processes_need_picklable", "Work sent to processes must be picklable", processes_need_picklable_work),
)


def check_claims(summary: Summary) -> list[tuple[Claim, list[ClaimCheck]]]:
    """Every claim, with one check per run, in the order of `summary.runs`."""
    return [(claim, [claim.check(summary, run) for run in summary.runs]) for claim in CLAIMS]
