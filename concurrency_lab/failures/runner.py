"""Running the failure cases: every probe in a fresh process under a watchdog, so that a variant
that hangs, crashes or leaves workers behind becomes a row of the table, never a hang of the run."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable

from ..core import helper_process, process_tree
from ..core.cpus import default_start_method
from ..measure.machine import gil_enabled
from ..records.failure_outcomes import CALLER_ENDS, CaseInfo, FailureOutcome, FailureTable
from ..variants import VARIANT_NAMES, variant_class
from ..variants.base import Variant
from . import cases as case_settings
from . import child as probe_child
from .cases import CASES, Expected, FailureCase

#: How long one probe process may take in all (start-up, a cold pool, the call, its clean-up) before
#: it counts as hung and is killed with everything it started: far past a probe's time (the failure table gives each).
HANG_BOUND_S = 30.0
_STDERR_SHOWN = 300  # characters of a dead probe's stderr quoted in its row


def measure_failures(variants: Iterable[str] | None = None, *, bound_s: float = HANG_BOUND_S,
                     progress: Callable[[FailureOutcome], None] | None = None) -> FailureTable:
    """Every case on every named variant (default: all registered) that can run here, one probe at a time."""
    started = time.perf_counter()
    outcomes: list[FailureOutcome] = []
    unavailable: dict[str, str] = {}
    for name in VARIANT_NAMES if variants is None else variants:
        cls = variant_class(name)
        reason = cls.unavailable_reason()
        if reason is not None:
            unavailable[name] = reason
            continue
        for case in CASES:
            if case.applies(cls):
                outcomes.append(probe(cls, case, bound_s=bound_s))
                if progress is not None:
                    progress(outcomes[-1])
    return FailureTable(
        cases=tuple(CaseInfo(c.name, c.title, c.does, c.applies_to) for c in CASES), outcomes=tuple(outcomes),
        unavailable=unavailable, settings=settings(bound_s), seconds=time.perf_counter() - started,
    )


def settings(bound_s: float = HANG_BOUND_S) -> dict[str, object]:
    """The constants every probe used, written into the table: each figure traces back to them."""
    return {
        "workers": case_settings.PROBE_WORKERS, "guard_timeout_s": case_settings.GUARD_TIMEOUT_S,
        "timeout_s": case_settings.TIMEOUT_S, "sleep_s": case_settings.SLEEP_S, "linger_s": probe_child.LINGER_S,
        "left_running_bound_s": probe_child.LEFT_RUNNING_BOUND_S, "hang_bound_s": bound_s,
        "start_method": default_start_method(), "python": platform.python_version(),
    }


def probe(cls: type[Variant], case: FailureCase, *, bound_s: float = HANG_BOUND_S) -> FailureOutcome:
    """One case on one variant class, in a fresh process that is killed, with all it started, after `bound_s`."""
    base = FailureOutcome(variant=cls.name, case=case.name, traits=cls.traits(gil_enabled()),
                          expected=case.expect(cls).name)
    if case.unavailable:
        return _replace(base, note=f"not run: {case.unavailable}")
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        return _replace(base, note=f"not run: {cls.__qualname__} cannot be imported by a fresh process; "
                                   "define the variant at the top level of a module")
    spec = {"module": cls.__module__, "qualname": cls.__qualname__, "case": case.name, "sys_path": sys.path}
    with tempfile.TemporaryFile() as stderr:
        process = helper_process.start("concurrency_lab.failures.child", stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=stderr)
        try:
            stdout, _ = process.communicate(json.dumps(spec).encode(), timeout=bound_s)
        except subprocess.TimeoutExpired:
            left = _stop_tree(process)
            return _replace(base, processes_left=left, note=f"hung: no error within {bound_s:g} s")
        except BaseException:
            _stop_tree(process)  # interrupted: nothing the probe started outlives the run
            raise
        helper_process.stop(process, grace=0)  # closes the pipes
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace").strip()
    lines = stdout.decode(errors="replace").strip().splitlines()
    try:
        outcome = FailureOutcome.from_dict(json.loads(lines[-1]))
    except (IndexError, ValueError, TypeError, AttributeError):
        outcome = None
    if outcome is None:
        return _died(base, case.expect(cls), process.returncode, lines, errors)
    return outcome


def _died(base: FailureOutcome, expected: Expected, status: int, lines: list[str], errors: str) -> FailureOutcome:
    """The row of a probe process that ended without its outcome: during the call (its last line says the call
    had begun), the calling process ended, documented where the case expects exactly that status; else it died."""
    if lines and lines[-1] == probe_child.CALLING:
        ended = _replace(base, exit_status=status, documented=expected.ended_as(status))
        if ended.documented:
            return _replace(ended, note=f"{CALLER_ENDS}: {ended.ended_how()}")
    else:
        ended = base
    said = errors.splitlines()[-1][:_STDERR_SHOWN] if errors else "nothing on stderr"
    return _replace(ended, note=f"the probe process died (exit code {status}): {said}")


def _stop_tree(process: subprocess.Popen[bytes]) -> int:
    """Kill the probe and every process under it; the number of workers (not multiprocessing's own
    service processes) that were still alive."""
    workers = process_tree.descendants(process.pid, services=False)
    process_tree.stop_tree(process, grace=0)  # the probe is signalled first, so that nothing starts new workers
    helper_process.stop(process, grace=0)  # reaped already: closes the pipes
    return len(workers)


def _replace(outcome: FailureOutcome, **changes: object) -> FailureOutcome:
    return dataclasses.replace(outcome, **changes)  # type: ignore[arg-type]
