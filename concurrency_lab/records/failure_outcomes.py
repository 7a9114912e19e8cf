"""The failure-modes record: what each probe measured, defined once.

The runner writes `FailureTable.to_dict()` into the benchmark JSON as ``lab_failures``; the report
reads it back with `FailureTable.from_dict`. A table of a newer schema is refused (`SchemaError`);
fields that are missing or of the wrong type read as None, as in `concurrency_lab.records.benchmark`.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.traits import VariantTraits
from .benchmark import as_bool, as_float, as_int, as_mapping, as_str
from .versions import FAILURE_TABLE

SCHEMA_VERSION = FAILURE_TABLE.newest
JSON_KEY = "lab_failures"  # where the table sits in a pytest-benchmark JSON file
#: The documented outcome, and the cell, of a case whose task ends the interpreter it runs in where that is the
#: calling process's own (os._exit or a segfault in a thread of it): no error can be raised, the caller is gone.
CALLER_ENDS = "the calling process ends"


@dataclass(frozen=True)
class FailureOutcome:
    """One variant under one failure case: what `map` did, how fast, and what it left behind."""

    variant: str
    case: str
    traits: VariantTraits | None
    expected: str | None  # the documented outcome: a qualified exception name, or "results"
    error: str | None = None  # the qualified name of what map raised; None: it returned (or never ended)
    documented: bool = False  # the outcome is the documented one, with all it must carry
    message: str | None = None  # the first line of the error's message
    cause: str | None = None  # the qualified name of its __cause__
    stopped: bool | None = None  # MapTimeout.stopped: the running work was stopped
    unfinished: int | None = None  # MapTimeout.unfinished
    seconds: float | None = None  # from the call to its return or raise (a cold pool: start-up included)
    returned: bool = False  # the call ended, by a return or an exception, within the probe's bound
    processes_left: int | None = None  # worker processes still alive a moment after the call ended
    threads_left: int | None = None  # threads started by the call still alive a moment after it ended
    left_running_s: float | None = None  # how long those went on after the call ended (None: never ended)
    note: str | None = None  # why there is no measurement (hung, the probe died, not importable)
    said: str | None = None  # what a case that returns words said happened ("earlier future stopped")
    #: The probe process ended during the call (the task's os._exit or signal took it): its status as subprocess
    #: reports it, an exit code or -N for signal N. Added within schema 1: an older lab shows the `note` instead.
    exit_status: int | None = None

    @property
    def workers_left(self) -> int:
        return (self.processes_left or 0) + (self.threads_left or 0)

    @property
    def caller_ended(self) -> bool:
        """The call ended the process that made it (see `exit_status`)."""
        return self.exit_status is not None

    def ended_how(self) -> str:
        """ "exit code 4", "SIGKILL": how the calling process ended ("" when it did not)."""
        return exit_words(self.exit_status) if self.exit_status is not None else ""

    def problem(self) -> str | None:
        """Why this outcome breaks what docs/failures.md promises (a hang, another outcome than the documented
        one, a worker process left running), in a line naming the variant and the case; None when it keeps it."""
        where = f"{self.variant} {self.case}"
        if not self.returned:
            if self.caller_ended and self.documented:
                return None  # the calling process ended, as documented for a kind whose crash takes the caller
            return f"{where}: {self.note or 'the call did not end'}"
        if not self.documented:
            what = self.said or self.error or "results"
            return f"{where}: {what} ({self.message!r}, cause {self.cause}); documented: {self.expected}"
        if self.processes_left:
            return f"{where}: {self.processes_left} worker process(es) outlived the call"
        return None

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["traits"] = self.traits.to_dict() if self.traits else None
        return values

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FailureOutcome | None:
        """The outcome in `data`; None without a variant and a case."""
        variant, case = as_str(data.get("variant")), as_str(data.get("case"))
        if variant is None or case is None:
            return None
        traits = data.get("traits")
        return cls(
            variant=variant, case=case,
            traits=VariantTraits.from_dict(traits) if isinstance(traits, Mapping) else None,
            expected=as_str(data.get("expected")), error=as_str(data.get("error")),
            documented=as_bool(data.get("documented")) is True, message=as_str(data.get("message")),
            cause=as_str(data.get("cause")), stopped=as_bool(data.get("stopped")),
            unfinished=as_int(data.get("unfinished")), seconds=as_float(data.get("seconds")),
            returned=as_bool(data.get("returned")) is True, processes_left=as_int(data.get("processes_left")),
            threads_left=as_int(data.get("threads_left")), left_running_s=as_float(data.get("left_running_s")),
            note=as_str(data.get("note")), said=as_str(data.get("said")), exit_status=as_int(data.get("exit_status")),
        )


@dataclass(frozen=True)
class CaseInfo:
    """A case as the table shows it: its column and the words that explain it."""

    name: str
    title: str
    does: str
    applies_to: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseInfo | None:
        name = as_str(data.get("name"))
        if name is None:
            return None
        return cls(name, as_str(data.get("title")) or name, as_str(data.get("does")) or "",
                   as_str(data.get("applies_to")) or "")


@dataclass(frozen=True)
class FailureTable:
    """Every failure probe of one run: the cases, one outcome per variant and applicable case, the
    variants that could not run here, and the settings every probe used."""

    cases: tuple[CaseInfo, ...]
    outcomes: tuple[FailureOutcome, ...]
    unavailable: dict[str, str] = field(default_factory=dict)  # variant -> why it cannot run here
    settings: dict[str, Any] = field(default_factory=dict)  # the probes' constants, as they were
    seconds: float | None = None  # what measuring the whole table took

    def outcome(self, variant: str, case: str) -> FailureOutcome | None:
        return next((o for o in self.outcomes if (o.variant, o.case) == (variant, case)), None)

    @property
    def variants(self) -> list[str]:
        """The variants with outcomes, in the order they were measured."""
        return list(dict.fromkeys(o.variant for o in self.outcomes))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "cases": [dataclasses.asdict(case) for case in self.cases],
            "outcomes": [outcome.to_dict() for outcome in self.outcomes],
            "unavailable": dict(self.unavailable),
            "settings": dict(self.settings),
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: Any) -> FailureTable:
        """The table in `data`; SchemaError when it is not one this lab reads."""
        data = as_mapping(data)
        FAILURE_TABLE.check(data.get("schema"))
        cases = [CaseInfo.from_dict(c) for c in _list(data.get("cases")) if isinstance(c, Mapping)]
        outcomes = [FailureOutcome.from_dict(o) for o in _list(data.get("outcomes")) if isinstance(o, Mapping)]
        unavailable = {k: v for k, v in as_mapping(data.get("unavailable")).items() if isinstance(v, str)}
        return cls(tuple(c for c in cases if c), tuple(o for o in outcomes if o), unavailable,
                   dict(as_mapping(data.get("settings"))), as_float(data.get("seconds")))


def exit_words(status: int) -> str:
    """A process's status as subprocess reports it, in words: "exit code 4"; "SIGSEGV" for -11."""
    if status >= 0:
        return f"exit code {status}"
    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
