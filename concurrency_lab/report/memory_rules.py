"""Memory of the whole process tree: workers in this process with a GIL each (interpreters) against worker processes.

Both run Python on every core; one adds interpreters to the caller's process, the other adds processes. Peak USS
(memory no other process shares) summed over the tree is the figure that compares them: RSS counts the pages a
forked worker shares with its parent once per process.
"""

from __future__ import annotations

from ..numerics.formatting import code, format_mib, plural
from ..records.summary import Result
from .choice import processes_of
from .facts import GroupFacts, Verdict, gil_each_in_process

#: Said beside a `fork` pool's USS: the pages its workers still share with the caller copy-on-write are unique to
#: no process, so no USS counts them and the tree's sum understates it.
FORK_USS = ("a `fork` pool's USS leaves out the pages its workers still share with the caller copy-on-write, so it "
            "understates that tree (`spawn` and `forkserver` rows do not)")


def _makes_processes(facts: GroupFacts, variant: str) -> bool:
    """Its workers are processes: as the run recorded it, else as its kind says (records without the trait)."""
    traits = facts.traits_of(variant)
    if traits is None:
        return False
    return traits.uses_processes if traits.uses_processes is not None else not traits.kind.in_process


def _tree(facts: GroupFacts, r: Result) -> str:
    method = f" (`{r.start_method}`)" if r.start_method else ""
    processes = processes_of(r)
    where = "" if processes is None else f" in {processes} process" + ("es" if processes != 1 else "")
    return f"{code(r.variant)}{method} {format_mib(r.peak_uss_bytes)} MiB{where}"


def tree_memory(facts: GroupFacts) -> list[Verdict]:
    """Per row of a variant with a GIL per worker in this process: its peak USS against each process variant's at the
    same workers and mode (warm against warm: a cold row's peak includes starting the pool)."""
    own = gil_each_in_process()
    processes = [v for v in facts.variants() if _makes_processes(facts, v)]
    verdicts = []
    for r in facts.trusted:
        if r.kind not in own or r.peak_uss_bytes is None:
            continue
        partners = [p for v in processes for p in facts.rows(v, r.workers)
                    if p.mode == r.mode and p.peak_uss_bytes is not None]
        if not partners:
            continue
        text = (f"memory of the whole process tree on {code(facts.workload)} at {plural(r.workers, 'worker')}"
                f"{f', {r.mode}' if r.mode else ''} (peak USS): {_tree(facts, r)} vs "
                + ", ".join(_tree(facts, p) for p in partners))
        baseline = facts.baseline()
        if baseline is not None and baseline.peak_uss_bytes is not None:  # what the workers add to the caller
            text += f"; the caller alone ({code(baseline.variant)}): {format_mib(baseline.peak_uss_bytes)} MiB"
        if any(p.start_method == "fork" for p in partners):
            text += f"; {FORK_USS}"
        verdicts.append(facts.verdict("tree_memory", text))
    return verdicts
