"""What a variant is and what bounds a workload, declared as data, so that consumers (the report's
rules, its tables and charts, the failure table and `advise`) select rows by traits, never by a
variant's name or a free-text label. Kinds are an open registry: `register_kind` declares a new one
with every fact the consumers read, in one place."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar


class KindFactMissing(LookupError):
    """A consumer needs a fact its kind's declaration left out: the message names the kind and the fact."""


class _Undeclared:
    """The value of a fact `register_kind` was not given (None is a declared value: "not timed", "no claim")."""

    def __repr__(self) -> str:
        return "UNDECLARED"


UNDECLARED: Any = _Undeclared()


@dataclass(frozen=True)
class KindFacts:
    """Every fact the lab's consumers read about a kind, declared once with it. A fact left out is never
    guessed: the consumer that needs it raises KindFactMissing naming the kind and the fact."""

    order: float  # its place in tables: the baseline, one process with many threads, many processes, a cluster
    label: str = UNDECLARED  # what the report's guide calls it: "threads", "an event loop"
    #: Its rank when two configurations end within noise and the simpler is named (smaller is simpler).
    simplicity: int = UNDECLARED
    #: Its workers run in the caller's process: more workers than CPUs stay cheap, and no process is added.
    in_process: bool = UNDECLARED
    shares_gil: bool = UNDECLARED  # its workers share the caller's GIL on a build that has one
    one_thread: bool = UNDECLARED  # at most one thread computes, GIL or not: at most one core of work
    #: Its workers' CPU time is the caller's own (else each chunk's reported CPU is added to the caller's).
    cpu_in_caller: bool = UNDECLARED
    #: A task that ends or crashes its interpreter (os._exit, a segfault) takes the calling process with it: the
    #: failure table's worker-death cases expect "the calling process ends" (measured in a fresh probe process).
    crash_takes_caller: bool = UNDECLARED
    startup_guess_s: float = UNDECLARED  # advise: a pool's start-up, before one is measured
    #: advise times a hand-off by handing this many items one by one to a warm pool; None: not timed.
    hand_off_items: int | None = UNDECLARED
    #: Starting it costs seconds: advise tries it only when asked, and I/O benchmarks get no cold row.
    starts_cluster: bool = UNDECLARED
    #: Whether a map timeout stops the work running in its workers, known from the kind alone (threads: never);
    #: None: its variants say (a variant whose workers are processes stops them).
    timeout_stops_work: bool | None = UNDECLARED
    #: Which of the lesson's claims its rows can prove or refute: those about "threads" or "processes"; None: none.
    subject: str | None = UNDECLARED


class _KindRegistry(type):
    """Iterating `Kind` gives the registered kinds in table order, as iterating an Enum gives its members."""

    def __iter__(cls) -> Iterator[Kind]:
        return iter(sorted(_KINDS.values(), key=lambda kind: kind.facts.order))

    def __len__(cls) -> int:
        return len(_KINDS)


class Kind(str, metaclass=_KindRegistry):
    """What runs the items: a string (its value, as records store it) carrying the facts its declaration
    gave. ``Kind("threads")`` is the registered kind of that value (ValueError for an unknown one, as a
    record from another version may hold); ``Kind.THREADS`` names the built-in ones; ``list(Kind)`` is table
    order. Declare a new one with `register_kind`."""

    SEQUENTIAL: ClassVar[Kind]  # one item after another in the calling thread
    THREADS: ClassVar[Kind]  # threads of this process: one interpreter, one GIL where the build has one
    EVENT_LOOP: ClassVar[Kind]  # coroutines on one event loop: one thread
    INTERPRETERS: ClassVar[Kind]  # threads of this process, each running its own interpreter with its own GIL
    PROCESSES: ClassVar[Kind]  # worker processes on this machine, each its own interpreter
    CLUSTER: ClassVar[Kind]  # workers a scheduler places, on this machine or others

    facts: KindFacts

    def __new__(cls, value: object) -> Kind:
        if isinstance(value, str) and value in _KINDS:
            return _KINDS[value]
        raise ValueError(f"{value!r} is not a registered kind; known: {', '.join(_KINDS)}")

    @classmethod
    def _declare(cls, value: str, facts: KindFacts) -> Kind:
        kind = str.__new__(cls, value)
        object.__setattr__(kind, "facts", facts)
        return kind

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"kind {self.value!r} is declared once, by register_kind: its {name!r} cannot change")

    def __repr__(self) -> str:
        return f"<Kind {self.value!r}>"

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return Kind, (self.value,)

    def __copy__(self) -> Kind:
        return self

    def __deepcopy__(self, memo: object) -> Kind:
        return self

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def name(self) -> str:
        return self.value.upper()

    def fact(self, name: str) -> Any:
        """The declared fact `name`; KindFactMissing naming the kind and the fact when it was left out."""
        value = getattr(self.facts, name)
        if value is UNDECLARED:
            raise KindFactMissing(f"kind {self.value!r} declares no {name!r}, which this needs: pass {name}= to "
                                  "register_kind where the kind is declared")
        return value

    @classmethod
    def about(cls, subject: str) -> tuple[Kind, ...]:
        """The kinds whose rows the lesson's claims about `subject` ("threads", "processes") read."""
        return tuple(kind for kind in cls if kind.facts.subject == subject)

    @property
    def order(self) -> float:
        return self.facts.order

    @property
    def label(self) -> str:
        return self.fact('label')

    @property
    def simplicity(self) -> int:
        return self.fact('simplicity')

    @property
    def in_process(self) -> bool:
        return self.fact('in_process')

    @property
    def shares_gil(self) -> bool:
        return self.fact('shares_gil')

    @property
    def one_thread(self) -> bool:
        return self.fact('one_thread')

    @property
    def cpu_in_caller(self) -> bool:
        return self.fact('cpu_in_caller')

    @property
    def crash_takes_caller(self) -> bool:
        return self.fact('crash_takes_caller')

    @property
    def startup_guess_s(self) -> float:
        return self.fact('startup_guess_s')

    @property
    def hand_off_items(self) -> int | None:
        return self.fact('hand_off_items')

    @property
    def starts_cluster(self) -> bool:
        return self.fact('starts_cluster')

    @property
    def timeout_stops_work(self) -> bool | None:
        return self.fact('timeout_stops_work')

    @property
    def subject(self) -> str | None:
        return self.fact('subject')


_KINDS: dict[str, Kind] = {}
_BUILT_IN: set[str] = set()


def register_kind(value: str, **facts: Any) -> Kind:
    """Declare a kind with its facts (`KindFacts`'s fields, `order` required): from then on `Kind(value)`,
    `Kind.<VALUE>` and iterating `Kind` include it, and every consumer reads its facts from here.
    ValueError when `value` is taken or not an identifier; TypeError naming a fact KindFacts does not know."""
    if not value.isidentifier() or not value.islower():
        raise ValueError(f"a kind's value is a lower-case identifier, as records store it: not {value!r}")
    if value in _KINDS:
        raise ValueError(f"a kind {value!r} is already registered")
    kind = Kind._declare(value, KindFacts(**facts))
    _KINDS[value] = kind
    type.__setattr__(Kind, kind.name, kind)
    return kind


def unregister_kind(value: str) -> None:
    """Take a kind `register_kind` added out of the registry again (the built-in ones stay)."""
    if value not in _KINDS or value in _BUILT_IN:
        raise ValueError(f"{value!r} is not a kind added with register_kind()")
    kind = _KINDS.pop(value)
    type.__delattr__(Kind, kind.name)


def _built_in(value: str, **facts: Any) -> None:
    register_kind(value, **facts)
    _BUILT_IN.add(value)


# The lab's kinds, in table order. Facts shared by all: declared in full for each, so each reads alone.
_built_in("sequential", order=0, label="one at a time", simplicity=0, in_process=True, shares_gil=True,
          one_thread=True, cpu_in_caller=True, crash_takes_caller=True, startup_guess_s=0.05, hand_off_items=None,
          starts_cluster=False, timeout_stops_work=None, subject=None)
_built_in("threads", order=1, label="threads", simplicity=1, in_process=True, shares_gil=True,
          one_thread=False, cpu_in_caller=True, crash_takes_caller=True, startup_guess_s=0.05, hand_off_items=1000,
          starts_cluster=False, timeout_stops_work=False, subject="threads")
_built_in("event_loop", order=2, label="an event loop", simplicity=1, in_process=True, shares_gil=True,
          one_thread=True, cpu_in_caller=True, crash_takes_caller=True, startup_guess_s=0.05, hand_off_items=None,
          starts_cluster=False, timeout_stops_work=None, subject=None)
# Threads of this process, each with an interpreter of its own (PEP 734): one process, as threads (a crash takes
# the caller, its workers' CPU is this process's), but one GIL per worker and nothing shared, as processes (tasks,
# items and results are pickled; a worker imports the task's modules afresh, which its start-up guess includes).
_built_in("interpreters", order=2.5, label="interpreters", simplicity=2, in_process=True, shares_gil=False,
          one_thread=False, cpu_in_caller=True, crash_takes_caller=True, startup_guess_s=0.15, hand_off_items=200,
          starts_cluster=False, timeout_stops_work=False, subject=None)
# A process's start-up guess (0.3 s) and a cluster's (3 s) are what advise assumes before it measures one.
_built_in("processes", order=3, label="processes", simplicity=2, in_process=False, shares_gil=False,
          one_thread=False, cpu_in_caller=False, crash_takes_caller=False, startup_guess_s=0.3, hand_off_items=200,
          starts_cluster=False, timeout_stops_work=True, subject="processes")
_built_in("cluster", order=4, label="a cluster", simplicity=3, in_process=False, shares_gil=False,
          one_thread=False, cpu_in_caller=False, crash_takes_caller=False, startup_guess_s=3.0, hand_off_items=None,
          starts_cluster=True, timeout_stops_work=None, subject=None)


class Bound(str, Enum):
    """What limits a workload."""

    IO_WAIT = "io_wait"  # waiting on another party (a server's latency): overlapping waits pays
    CPU_HOLDS_GIL = "cpu_holds_gil"  # pure-Python computation: threads share one GIL
    CPU_RELEASES_GIL = "cpu_releases_gil"  # C code that drops the GIL (hashlib, zlib): threads scale
    DISPATCH = "dispatch"  # each task is far cheaper than handing it to a worker

    @property
    def label(self) -> str:
        return _BOUND_LABELS[self]

    @property
    def computes(self) -> bool:
        """The work keeps a CPU busy (as opposed to waiting, or being too small to matter)."""
        return self in (Bound.CPU_HOLDS_GIL, Bound.CPU_RELEASES_GIL)

    @classmethod
    def parse(cls, text: object) -> Bound | None:
        """A recorded bound: its value, or the label results written before the schema carried (None if neither)."""
        if not isinstance(text, str):
            return None
        try:
            return cls(text)
        except ValueError:
            return _BY_LABEL.get(text)


_BOUND_LABELS = {
    Bound.IO_WAIT: "I/O",
    Bound.CPU_HOLDS_GIL: "CPU, holds the GIL",
    Bound.CPU_RELEASES_GIL: "CPU, releases the GIL",
    Bound.DISPATCH: "dispatch overhead",
}
_BY_LABEL = {label: bound for bound, label in _BOUND_LABELS.items()}


class Role(str, Enum):
    """The part a variant plays in the lesson."""

    BASELINE = "baseline"  # what every speedup divides: one item after another
    BEFORE = "before"  # the older, hand-made or lower-level way the lesson starts from
    AFTER = "after"  # the `concurrent.futures` way the lesson refactors it onto


@dataclass(frozen=True)
class VariantTraits:
    """A variant as the report sees it. `lesson_pair` names the pair a BEFORE and an AFTER variant
    form (the lesson compares `multiprocessing.Pool` with `ProcessPoolExecutor` within "processes")."""

    kind: Kind
    api_family: str  # the library that provides it: "concurrent.futures", "multiprocessing", ...
    api: str  # the call a user writes: "ProcessPoolExecutor.map"
    role: Role | None = None
    lesson_pair: str | None = None
    runs_coroutines: bool = False
    has_pool: bool = False  # keeps workers between calls, so it can be measured warm or cold
    futures: bool = False  # offers `submit`, returning a concurrent.futures.Future (the lesson's API)
    subject_to_gil: bool | None = None  # its workers share one GIL on the build that ran it (None: not known)
    #: Its workers are other processes, and a map timeout stops running work: as the variant that ran was set
    #: (joblib at one worker runs in the calling thread; Dask at an address stops nothing); None: not recorded.
    uses_processes: bool | None = None
    stops_running_work: bool | None = None

    @property
    def is_baseline(self) -> bool:
        return self.role is Role.BASELINE

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariantTraits | None:
        """The traits in `data`; None when their kind is missing or unknown (written by another version)."""
        try:
            kind = Kind(data.get("kind"))
        except ValueError:
            return None
        role = data.get("role")
        return cls(
            kind=kind,
            api_family=_text(data.get("api_family")) or "",
            api=_text(data.get("api")) or "",
            role=Role(role) if role in {r.value for r in Role} else None,
            lesson_pair=_text(data.get("lesson_pair")),
            runs_coroutines=data.get("runs_coroutines") is True,
            has_pool=data.get("has_pool") is True,
            futures=data.get("futures") is True,
            subject_to_gil=_flag(data.get("subject_to_gil")),
            uses_processes=_flag(data.get("uses_processes")),
            stops_running_work=_flag(data.get("stops_running_work")),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None
