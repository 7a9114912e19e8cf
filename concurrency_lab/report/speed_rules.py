"""Verdicts on speed against the baseline: the winner, cores bought, serial fraction, oversubscription.

Trap rows never enter these: `GroupFacts.trusted` and `rows` leave them out.
"""

from __future__ import annotations

from ..numerics.formatting import code, format_cores, format_percent, format_seconds, format_times, plural
from ..records.summary import Result
from .choice import BARRED_WORDS, NOISE_ADVICE, Choice, choose, format_memory, processes_of
from .evidence import TIE_TOLERANCE, Difference, difference
from .facts import GroupFacts, Verdict

TIES_NAMED = 3  # the winner line names this many ties, then counts the rest


def winner(facts: GroupFacts) -> list[Verdict]:
    """The lesson's rule (`choice.choose`): among results within noise of the fastest, the one that costs least;
    the fastest itself when it costs least too. Not judged when those results are too noisy to choose among."""
    choice = choose(facts)
    if choice is None:
        return []
    best = choice.chosen
    if best is None:  # not judged
        return [_not_judged(facts, choice)]
    figures = format_seconds(best.median_s)
    baseline = facts.baseline()
    if best.speedup is not None and not best.is_baseline and baseline is not None:
        figures += f" ({format_times(best.speedup)} {baseline.variant})"
    if choice.decided_by is None:
        fastest = "wins" if any(r.median_s < best.median_s for r in choice.barred) else "is the fastest"
        text = f"{facts.describe(best)} {fastest} on {code(facts.workload)}: {figures}"
    else:
        text = (f"{facts.describe(best)} wins on {code(facts.workload)}: {figures}, {format_memory(best.peak_rss_bytes)}; "
                f"{_faster_but_costlier(facts, choice.fastest, best, choice.decided_by)}")
    named_already = (best,) if choice.decided_by is None else (best, choice.fastest)
    ties = [(r, difference(best, r)) for r in choice.contenders if all(r is not n for n in named_already)]
    if ties:
        named = [f"{facts.describe(r)} at {format_seconds(r.median_s)} ({_gap(d)})" for r, d in ties[:TIES_NAMED]]
        more = f" and {len(ties) - TIES_NAMED} more" if len(ties) > TIES_NAMED else ""
        # "Too close to call": within noise, or apart by less than a re-run moves a median (then its p says so).
        lead = "; too close to call against it: " if choice.decided_by is None else "; also too close to call: "
        text += lead + ", ".join(named) + more
    if choice.barred:
        text += f"; {BARRED_WORDS}"
    return [facts.verdict("winner", text, *choice.contenders)]


_WHY = {
    "memory": "the least memory among results too close to call wins",
    "processes": "the fewest processes among results too close to call win",
    "simplicity": "the simplest among results too close to call wins (one thread before threads before processes, "
                  "then fewer workers)",
}


def _faster_but_costlier(facts: GroupFacts, fastest: Result, best: Result, decided_by: str) -> str:
    """ "`process_pool` with 32 workers was 1.00 ms faster, within noise (+0.9%, p=0.421), at 1.5 GiB: <why>" """
    cost = format_memory(fastest.peak_rss_bytes)
    if decided_by == "processes":
        cost += f" and {processes_of(fastest)} processes against {processes_of(best)}"
    gap = difference(best, fastest)
    return (f"{facts.describe(fastest)} was {format_seconds(best.median_s - fastest.median_s)} faster, "
            f"{gap.closeness} ({_gap(gap, signed=False)}), at {cost}: {_WHY[decided_by]}")


def _not_judged(facts: GroupFacts, choice: Choice) -> Verdict:
    if choice.suspect is not None:
        text = f"not judged on {code(facts.workload)}: {choice.suspect}"
    else:
        worst = max(choice.noisy, key=lambda r: r.cv or 0.0)  # a noisy row has a CV
        others = len(choice.contenders) - 1
        text = (f"not judged on {code(facts.workload)}: {facts.describe(choice.fastest)} is the fastest at "
                f"{format_seconds(choice.fastest.median_s)}, but {plural(others, 'other result')} within noise of it "
                f"spread too much to choose among them by cost (CV {format_percent(worst.cv)} for {facts.describe(worst)}: "
                f"{NOISE_ADVICE})")
    return Verdict(facts.run.index, facts.workload, facts.size_label, facts.size, "winner", text, noisy=True)


def _gap(d: Difference, signed: bool = True) -> str:
    """ "+1.2%, p=0.421" (the other against the named one: "-" when it was faster). A difference the rounds
    separate but smaller than TIE_TOLERANCE says so, so that "within noise" never stands beside a bare p<0.05."""
    sign = ("-" if d.a_slower else "+") if signed else ""
    text = f"{sign}{format_percent(d.relative, 1)}" + (f", {d.p_text()}" if d.p_text() else "")
    if d.rounds_differ and d.relative < TIE_TOLERANCE:
        text += f": measurable, but under the {format_percent(TIE_TOLERANCE)} a re-run moves a median"
    return text


def mismatched_outputs(facts: GroupFacts) -> list[Verdict]:
    return [
        facts.verdict(
            "mismatched_outputs",
            f"{facts.describe(r)} did NOT reproduce the reference output of {code(facts.workload)}: "
            "its figures are left out of the winner and every comparison",
        )
        for r in facts.results if r.identical is False
    ]


def missing_baseline(facts: GroupFacts) -> list[Verdict]:
    if any(r.speedup is not None for r in facts.results):
        return []
    return [facts.verdict(
        "missing_baseline",
        f"no run of the baseline variant with 1 worker for {code(facts.workload)} in this run: "
        "speedup, efficiency and serial fraction are not computed",
    )]


def cores_for_speedup(facts: GroupFacts) -> list[Verdict]:
    """Cores bought against speed gained, for CPU work, by variants whose workers do not share the caller's GIL
    (processes, a cluster, interpreters in this process): threads and the one-thread kinds have their own verdict
    (`threads_and_the_gil`), waiting work is judged against the ideal."""
    if facts.io_bound:
        return []
    verdicts = []
    for variant in facts.variants():
        traits = facts.traits_of(variant)
        if traits is None or traits.kind.shares_gil:
            continue
        r = facts.representative(variant)
        if r is None or r.workers < 2 or r.speedup is None or r.cores_used is None:
            continue
        verdicts.append(facts.verdict(
            "cores_for_speedup",
            f"{code(variant)} uses {format_cores(r.cores_used)} cores for a {format_times(r.speedup)} speedup "
            f"on {code(facts.workload)} ({plural(r.workers, 'worker')}, efficiency {format_percent(r.efficiency)})",
            r,
        ))
    return verdicts


def serial_fraction(facts: GroupFacts) -> list[Verdict]:
    """Karp-Flatt from the one point where workers == usable CPUs, one figure per variant.

    Not for waiting-bound work: its speedup is not bought with processors, so e says nothing.
    """
    usable = facts.run.usable_cpus
    if usable is None or usable < 2 or facts.io_bound:
        return []
    fractions = [(r, e) for v in facts.variants()
                 if (r := facts.representative(v, usable)) and (e := r.serial_fraction) is not None]
    if not fractions:
        return []
    rows = [r for r, _ in fractions]
    fitted = [f"{code(r.variant)} {e:.2f}" for r, e in fractions if 0 <= e < 1]
    none = [f"{code(r.variant)} {format_times(r.speedup)}" for r, e in fractions if e >= 1]
    superlinear = [f"{code(r.variant)} {format_times(r.speedup)}" for r, e in fractions if e < 0]
    parts = [", ".join(fitted)] if fitted else []
    if none:
        parts.append(f"no parallel gain at all (e ≥ 1): {', '.join(none)}")
    if superlinear:
        parts.append(f"superlinear, the work waits rather than computes (e < 0): {', '.join(superlinear)}")
    return [facts.verdict(
        "serial_fraction",
        f"Karp-Flatt serial fraction at {plural(usable, 'worker')} on {usable} usable CPUs: " + "; ".join(parts),
        *rows,
    )]


def oversubscription(facts: GroupFacts) -> list[Verdict]:
    """More workers than CPUs: said for CPU work; waiting work is meant to have them (see client_cpu_limit)."""
    usable = facts.run.usable_cpus
    beyond = [r for r in facts.trusted if r.oversubscribed]
    if usable is None or not beyond or facts.io_bound:
        return []
    workers_by_variant: dict[str, set[int]] = {}
    for r in beyond:
        workers_by_variant.setdefault(r.variant, set()).add(r.workers)
    rows = ", ".join(f"{code(v)} ×{', ×'.join(map(str, sorted(w)))}" for v, w in workers_by_variant.items())
    text = f"beyond {usable} workers on {usable} usable CPUs is oversubscription ({rows}); no serial-fraction curve is fitted"
    busiest = max((r.cores_used for r in beyond if r.cores_used is not None), default=None)
    if busiest is not None and busiest < usable / 2:
        text += f"; these workers mostly wait (at most {format_cores(busiest)} cores used), so extra workers can still pay off"
    return [facts.verdict("oversubscription", text)]
