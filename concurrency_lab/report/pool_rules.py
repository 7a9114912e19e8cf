"""Verdicts on pools: executor against the older pool, the chunksize trap, start-up costs.

Every difference is checked against the rounds (`evidence.difference`): a cost that the rounds
do not separate is "no measurable" cost, and one that too few rounds cannot test says so.
"""

from __future__ import annotations

from ..core.traits import Role
from ..numerics.formatting import code, format_percent, format_seconds, format_times, plural
from ..numerics.stats import SIGNIFICANCE_LEVEL, format_ratio
from ..records.summary import Result
from .evidence import TIE_TOLERANCE, Difference, difference, start_cost
from .facts import GroupFacts, Verdict

WITHIN = 0.05  # "within X%" below this difference; beyond it the ratio is stated


def _with_note(text: str, d: Difference) -> str:
    note = d.untestable_note()
    return f"{text}; {note}" if note else text


def _api(facts: GroupFacts, variant: str) -> str:
    """The call a user writes for `variant` (its name where its traits are not known)."""
    traits = facts.traits_of(variant)
    return traits.api if traits and traits.api else variant


def executor_vs_pool(facts: GroupFacts) -> list[Verdict]:
    """Each lesson pair head to head: the executor API (after) against the older way (before)."""
    verdicts = []
    for newer, older in facts.lesson_pairs():
        a = facts.representative(newer)
        if a is None:
            continue
        b = next((r for r in facts.rows(older, a.workers) if (r.mode, r.start_method) == (a.mode, a.start_method)), None)
        if b is None:
            continue
        d = difference(a, b)
        figures = f"{format_seconds(a.median_s)} vs {format_seconds(b.median_s)}, {plural(a.workers, 'worker')}"
        figures += f", {d.p_text()}" if d.p_text() else ""
        workload = code(facts.workload)
        if d.relative < WITHIN:
            within = format_percent(d.relative, 0 if d.relative >= 0.01 else 1)
            text = f"{code(newer)} is within {within} of {code(older)} on {workload} ({figures})"
        elif d.testable and d.p is not None and d.p >= SIGNIFICANCE_LEVEL:
            text = f"no significant difference between {code(newer)} and {code(older)} on {workload} " \
                   f"({figures}, {format_percent(d.relative)} apart)"
        else:
            ratio = format_ratio(b.median_s, a.median_s)  # significant, untestable or without rounds: as measured
            text = _with_note(f"{code(newer)} is {ratio} than {code(older)} on {workload} ({figures})", d)
        verdicts.append(facts.verdict("executor_vs_pool", text, a, b))
    return verdicts


def _chunked_warm(facts: GroupFacts, variant: str, workers: int) -> Result | None:
    """The warm chunked row of `variant`: same workers as the trap where measured, default start method."""
    rows = [r for r in facts.rows(variant) if r.mode in ("warm", None) and r.per_task_s is not None]
    return min(rows, key=lambda r: (r.workers != workers, r.start_method not in (None, facts.run.default_start_method),
                                    r.median_s), default=None)


def chunksize_trap(facts: GroupFacts) -> list[Verdict]:
    """The deliberate per-item dispatch row against chunked warm rows, PER TASK: the trap runs on fewer items."""
    verdicts = []
    for trap in facts.traps:
        chunked = _chunked_warm(facts, trap.variant, trap.workers)
        if chunked is None or trap.per_task_s is None or chunked.per_task_s is None:  # _chunked_warm's rows have one
            continue
        items = f"{trap.items_or_size} vs {chunked.items_or_size} items"
        text = (
            f"{code(f'{_api(facts, trap.variant)}({trap.trap})')} is "
            f"{format_times(trap.per_task_s / chunked.per_task_s)} slower per task than chunked {code(trap.variant)} on "
            f"{code(facts.workload)} ({format_seconds(trap.per_task_s)} vs {format_seconds(chunked.per_task_s)} per task, "
            f"chunksize {trap.chunksize} vs {chunked.chunksize}, {items})"
        )
        compared = [trap, chunked]
        other = facts.lesson_partner(trap.variant, Role.BEFORE)  # the older way, chunked as it chunks by default
        pool = _chunked_warm(facts, other, trap.workers) if other else None
        if other and pool is not None and pool.per_task_s is not None:
            text += (f" and {format_times(trap.per_task_s / pool.per_task_s)} slower per task than "
                     f"{code(_api(facts, other))} ({format_seconds(pool.per_task_s)} per task, chunksize {pool.chunksize})")
            compared.append(pool)
        verdicts.append(facts.verdict("chunksize_trap", text, *compared))
    return verdicts


def pool_start_cost(facts: GroupFacts) -> list[Verdict]:
    """Cold minus warm median: what creating the pool (and its workers) adds to one call, when measurable."""
    verdicts = []
    for variant in facts.variants():
        colds = [r for r in facts.rows(variant) if r.mode == "cold"]
        for workers in sorted({r.workers for r in colds}):
            pairs = [
                (cold, warm) for cold in sorted((r for r in colds if r.workers == workers), key=lambda r: r.median_s)
                if (warm := next((r for r in facts.rows(variant, workers)
                                  if r.mode == "warm" and r.start_method == cold.start_method), None))
            ]
            if pairs:
                text = _start_cost_text(facts, f"{code(variant)} with {plural(workers, 'worker')}", pairs)
                verdicts.append(facts.verdict("pool_start_cost", text, *(r for pair in pairs for r in pair)))
    return verdicts


def _start_cost_text(facts: GroupFacts, subject: str, pairs: list[tuple[Result, Result]]) -> str:
    """ "starting X on W costs 33 ms with `fork` (cold .. vs warm ..)", or "no measurable start-up cost ..." per pair."""
    costs, none, untestable = [], [], None
    for cold, warm in pairs:
        d = difference(cold, warm)
        method = f"with {code(cold.start_method)}" if cold.start_method else ""
        figures = f"cold {format_seconds(cold.median_s)} vs warm {format_seconds(warm.median_s)}"
        if start_cost(cold, warm) is None:  # cold no slower, or not separable from warm
            # The rounds are quoted only when they do not separate the two: a separated pair is never "no cost".
            p_text = f", {d.p_text()}" if d.p_text() and d.a_slower else ""
            none.append((f"{method}, " if method else "") + figures + p_text)
        else:
            p_text = f", {d.p_text()}" if d.testable else ""
            share = f", {format_percent(d.relative, 1)} of a call" if d.relative < TIE_TOLERANCE else ""
            costs.append(f"{format_seconds(cold.median_s - warm.median_s)}{f' {method}' if method else ''} "
                         f"({_per_worker(cold, warm)}{figures}{p_text}{share})")
            untestable = untestable or (d if d.untestable_note() else None)
    where = f"{subject} on {code(facts.workload)}"
    parts = [f"starting {where} costs {'; '.join(costs)}"] if costs else []
    if none:
        parts.append(f"no measurable start-up cost{'' if costs else f' for {where}'}: {'; '.join(none)}")
    text = "; ".join(parts)
    return _with_note(text, untestable) if untestable else text


def _per_worker(cold: Result, warm: Result) -> str:
    """ "13.4 ms a worker, " where a pool of several started: what each worker process or interpreter adds (each
    imports the task's modules afresh), the figure that compares pools of different sizes."""
    if cold.workers < 2:
        return ""
    return f"{format_seconds((cold.median_s - warm.median_s) / cold.workers)} a worker, "


def start_method_cost(facts: GroupFacts) -> list[Verdict]:
    """Between start methods, cold medians: the same work, only the way workers start differs."""
    verdicts = []
    for variant in facts.variants():
        colds = [r for r in facts.rows(variant) if r.mode == "cold" and r.start_method]
        reference = (next((r for r in colds if r.start_method == "fork"), None)
                     or min(colds, key=lambda r: r.median_s, default=None))
        for other in colds:
            if reference is None or other is reference or other.workers != reference.workers:
                continue
            d = difference(other, reference)
            figures = f"{code(variant)}, {plural(other.workers, 'worker')}, cold {format_seconds(other.median_s)} vs " \
                      f"{format_seconds(reference.median_s)}"
            if d.tie and not d.rounds_differ:
                text = f"no measurable difference between starting a {code(other.start_method)} and a " \
                       f"{code(reference.start_method)} pool ({figures}" + (f", {d.p_text()})" if d.p_text() else ")")
            else:
                extra = other.median_s - reference.median_s
                text = _with_note(
                    f"starting a {code(other.start_method)} pool costs {format_seconds(abs(extra))} "
                    f"{'more' if extra >= 0 else 'less'} than {code(reference.start_method)} ({figures}"
                    + (f", {d.p_text()})" if d.testable else ")"),
                    d,
                )
            verdicts.append(facts.verdict("start_method_cost", text, other, reference))
    return verdicts
