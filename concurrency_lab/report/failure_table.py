"""The failure-modes table of one run, as text cells: shared by markdown and HTML. Its columns are
the cases the table recorded, its rows the variants it measured, in `variant_rank` order: nothing
here knows a case or a variant by name."""

from __future__ import annotations

from dataclasses import dataclass

from ..numerics.formatting import code, format_seconds
from ..records.failure_outcomes import CALLER_ENDS, FailureOutcome, FailureTable
from .tables import variant_rank

VARIANT_COLUMN = "variant"
LEFT_COLUMN = "workers left"
DOES_NOT_APPLY = "–"
NOT_MEASURED = ("not measured: this results file has no failure-modes table (written before the lab measured "
                "them, or with --no-lab-failures)")


@dataclass(frozen=True)
class FailureRow:
    variant: str
    cells: tuple[str, ...]
    details: tuple[str, ...]  # per cell, the error's message (HTML shows it on hover)
    undocumented: bool  # some case did not end as the lab documents


@dataclass(frozen=True)
class FailureView:
    columns: tuple[str, ...]
    rows: tuple[FailureRow, ...]
    notes: tuple[str, ...]


def failure_view(table: FailureTable) -> FailureView:
    cases = table.cases
    columns = (VARIANT_COLUMN, *(case.title for case in cases), LEFT_COLUMN)
    by_variant: dict[str, list[FailureOutcome]] = {}
    for outcome in table.outcomes:
        by_variant.setdefault(outcome.variant, []).append(outcome)
    order = sorted(by_variant, key=lambda name: variant_rank(by_variant[name][0].traits, name))
    rows = []
    for name in order:
        outcomes = [table.outcome(name, case.name) for case in cases]
        cells = [name, *(DOES_NOT_APPLY if o is None else outcome_cell(o) for o in outcomes), left_cell(table, name)]
        details = ["", *("" if o is None else o.message or o.note or o.said or "" for o in outcomes), ""]
        undocumented = any(o is not None and not o.documented for o in outcomes)
        rows.append(FailureRow(name, tuple(cells), tuple(details), undocumented))
    return FailureView(columns, tuple(rows), tuple(failure_notes(table)))


def short_name(qualified: str | None) -> str:
    """ "concurrency_lab.core.errors.BrokenPool" -> "BrokenPool"."""
    return (qualified or "").rsplit(".", 1)[-1]


def outcome_cell(outcome: FailureOutcome) -> str:
    """ "BrokenPool, 63.0 ms"; "returned, 4.00 ms"; "earlier future stopped, 1.20 s" (what a case that
    returns words said); "the calling process ends, SIGSEGV"; "hung: no error within 30 s"; with the
    documented outcome where it differs."""
    if outcome.caller_ended:
        said, text = CALLER_ENDS, f"{CALLER_ENDS}, {outcome.ended_how()}"
    elif not outcome.returned:
        return outcome.note or "no measurement"
    else:
        said = short_name(outcome.error) if outcome.error else outcome.said or "returned"
        text = f"{said}, {format_seconds(outcome.seconds)}"
    if outcome.stopped is False:
        text += ", not stopped"
    if not outcome.documented:
        expected = short_name(outcome.expected) if outcome.expected and "." in outcome.expected else outcome.expected
        if expected == "results":
            expected = "returned"
        text += f" (documented: {expected})" if expected and expected != said else " (not as documented)"
    return text


def left_cell(table: FailureTable, variant: str) -> str:
    """Per case where the call left workers running: how many, and when they ended; "none" otherwise."""
    parts = []
    for case in table.cases:
        outcome = table.outcome(variant, case.name)
        if outcome is None or not outcome.workers_left:
            continue
        kinds = [f"{n} {noun if n == 1 else nouns}" for n, noun, nouns in
                 ((outcome.threads_left, "thread", "threads"), (outcome.processes_left, "process", "processes")) if n]
        ended = ("killed by the watchdog" if not outcome.returned
                 else f"ended {format_seconds(outcome.left_running_s)} later" if outcome.left_running_s is not None
                 else "still running, then killed")
        parts.append(f"{case.title}: {' and '.join(kinds)}, {ended}")
    return "; ".join(parts) or "none"


def failure_notes(table: FailureTable) -> list[str]:
    """How the figures were obtained, what each case did, and what the reader must notice."""
    s = {key: f"{value:g}" if isinstance(value, float) else value for key, value in table.settings.items()}
    notes = []
    if s:
        notes.append(
            f"Each probe ran in a fresh process: one cold `map` call (or the calls its case names) "
            f"with {s.get('workers', '?')} workers (start method "
            f"{s.get('start_method', '?')}) and timeout={s.get('guard_timeout_s', '?')} s, so that none can hang the run "
            f"(a probe silent for {s.get('hang_bound_s', '?')} s is killed, with all it started). The time is from the "
            "call to its raise or return, pool start-up and shutdown included. Workers left: processes and threads "
            f"the call started that were still alive {s.get('linger_s', '?')} s after it ended.")
    notes += [f"{case.title}: {case.does}" + (f" (applies to {case.applies_to})" if case.applies_to else "") + "."
              for case in table.cases]
    if any(table.outcome(variant, case.name) is None for variant in table.variants for case in table.cases):
        notes.append(f"{DOES_NOT_APPLY}: the case does not apply to the variant.")
    ended = _names(o for o in table.outcomes if o.caller_ended)
    if ended:
        notes.append(f"{CALLER_ENDS} ({ended}): the task ran in the calling process (its own thread, its threads, its "
                     "event loop, its interpreters), so ending or crashing its interpreter ended that process, with the "
                     "exit code or signal shown: no error can be raised, and nothing of the call is kept.")
    in_background = _names(o for o in table.outcomes if o.stopped is False and o.workers_left)
    if in_background:
        notes.append(f"not stopped ({in_background}): a running thread cannot be stopped, so on timeout `map` raises "
                     "at once and the items running then finish in the background (workers left).")
    in_caller = _names(o for o in table.outcomes if o.stopped is False and not o.workers_left)
    if in_caller:
        notes.append(f"not stopped, no workers left ({in_caller}): nothing could stop the item running, so `map` "
                     "raised only once it had ended.")
    if any(not o.documented for o in table.outcomes):
        notes.append("(documented: …), (not as documented): the outcome differs from the documented one: the variant "
                     "did not fail the way the lab documents for that case (the error type, its message, its cause, what "
                     "it carries or what it says it stopped), or returned what the lab does not document.")
    if table.unavailable:
        reasons = (f"{code(name)} ({reason})" for name, reason in table.unavailable.items())
        notes.append("not measured here: " + "; ".join(reasons))
    if table.seconds is not None:
        notes.append(f"The table took {format_seconds(table.seconds)} to measure.")
    return notes



def _names(outcomes) -> str:
    return ", ".join(code(name) for name in dict.fromkeys(o.variant for o in outcomes))
