"""The measurement plan: candidates chosen by traits, the sample size and rounds the budget allows, and a
sweep that spends no more than the budget (its clock is injectable, so budget stops are tested without timing)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.traits import Kind, Role
from ..numerics.formatting import format_seconds as _time
from ..records.advice import HAND_OFF_EXCLUDES
from ..records.advice_trials import Config, Probe, Trial
from ..variants import VARIANT_NAMES, variant_class
from .classify import WAITING_CORES
from .session import NoAnswer

# Every tuning value here is written into the advice's figures through what it produced.
PROBE_SHARE = 0.3  # the first probe may take this share of the budget before the function counts as hung
#: One sequential round of the sample should take about this share of the budget (clamped below), so that
#: a dozen configurations with a few rounds each fit in it.
ROUND_SHARE = 0.02
ROUND_SECONDS_MIN, ROUND_SECONDS_MAX = 0.2, 1.0
#: Items cheaper than this are dispatch-bound wherever they go: 0.05 s rounds show the hand-off costs as well,
#: and keep the many chunk-size configurations they need within seconds.
TINY_ITEM_S, TINY_ROUND_S = 1e-5, 0.05
WAIT_WORKER_FACTOR = 8  # for waiting work, threads of one interpreter also run with this many workers per usable CPU
MAX_WORKERS_TRIED = 64
#: The sample holds at least this many items per worker at the largest count tried, and at least 4 per usable CPU.
ITEMS_PER_WORKER_MIN = 2
ITEMS_PER_CPU_MIN = 4
EVEN_SPLIT_SHARE = 0.5  # the sample grows by at most this share so that default chunks split evenly
#: After one round each, a configuration slower than this share of the best is not refined further.
KEEP_SHARE = 0.6
MAX_REFINED = 3  # and at most this many (the fastest, then the simplest) get more rounds, besides the baseline
#: Within this share of the best after one round, the simpler configurations are refined first: a gap one
#: round's noise can make (or hide), so the simpler may yet end within noise of the best, and be named.
SIMPLER_SHARE = 0.8
#: Their further rounds come in this many passes over them all, each pass in the reverse order of the last.
REFINE_PASSES = 2
#: Rounds per kept configuration ("long": a round over 1 s). Five against five let the rank test of
#: `answer.within_noise` tell two configurations apart (its smallest p is then 0.008; three against three
#: can never reach 5%, and long rounds fall back on the spread of their rounds).
ROUNDS_WANTED, ROUNDS_WANTED_LONG = 5, 3
#: The baseline's rounds before the others: its reference run, one more compared with it (is it deterministic?),
#: then the rest right after one round of each kind's first variant.
BASELINE_ROUNDS = 3
LONG_ROUND_S = 1.0
WARMUP_BELOW_S = 0.5  # rounds shorter than this get one untimed warm-up round first
PER_ITEM_LIMIT_FLOOR_S = 1.0  # an item may take 20x its probe time, and never less than this, before it counts as hung
PER_ITEM_LIMIT_FACTOR = 20
STARTUP_ALLOWANCE_S = 2.0  # added to every round's time limit: a loaded machine starts processes slowly
WATCHDOG_SLACK_S = 10.0  # a child answering this long after its own limits is killed
#: The standard library's packages: "standard library first" among equally fast candidates.
STDLIB_FAMILIES = frozenset({"builtins", "concurrent.futures", "multiprocessing", "threading", "asyncio"})


class Runner(Protocol):
    """What the sweep needs from the child process (`session.Session`), or a test's fake."""

    def probe(self, bound_s: float, **arguments: Any) -> Probe: ...
    def hand_off(self, bound_s: float, variant: str, workers: int) -> float | None: ...
    def trial(self, bound_s: float, config: Config, *, n: int, rounds: int, warmup: int, timeout: float,
              baseline: Config, check: bool = True) -> Trial: ...


@dataclass(frozen=True)
class Candidate:
    """A variant as the sweep sees it: only its traits."""

    name: str
    kind: Kind
    api_family: str
    api: str
    role: Role | None
    serializer: str | None
    has_pool: bool
    futures: bool

    @classmethod
    def of(cls, name: str) -> Candidate:
        variant = variant_class(name)
        return cls(name, variant.kind, variant.api_family, variant.api, variant.role, variant.serializer,
                   variant.has_pool(), hasattr(variant, "submit"))

    @property
    def stdlib(self) -> bool:
        return self.api_family in STDLIB_FAMILIES

    @property
    def starts_interpreters(self) -> bool:
        """Whether each of its workers is an interpreter of its own (a process's, or one of this process's that does
        not share the caller's GIL): started, and importing the function's modules, once per worker."""
        return not self.kind.shares_gil

    def simplicity(self, workers: int) -> tuple[int, int, int, int]:
        """Smaller is simpler: fewer interpreters started (processes or not), then the standard library, then the
        lesson's "after"."""
        starts = workers if self.starts_interpreters else 0
        return (self.kind.simplicity, starts, 0 if self.stdlib else 1, 0 if self.role is not Role.BEFORE else 1)


@dataclass
class Choice:
    """Which variants the sweep runs, and why the others are not run."""

    baseline: Candidate | None
    candidates: list[Candidate]  # concurrent ones, representatives of each kind first
    ruled_out: dict[str, str] = field(default_factory=dict)  # cannot run this function correctly
    not_tried: dict[str, str] = field(default_factory=dict)  # could, but not here / not now


def choose(*, is_coroutine: bool, serializer_problems: dict[str, str], include_cluster: bool = False,
           names: Sequence[str] | None = None, refused: dict[str, str] | None = None) -> Choice:
    """Candidates by traits: event-loop variants for a coroutine function, the others for a plain one;
    a variant whose serializer cannot carry the function, items or result is ruled out with that reason, and
    one that `refused` the function (`safety.refusals`: variant -> why) with its own."""
    choice = Choice(None, [])
    for name in VARIANT_NAMES if names is None else names:
        cls = variant_class(name)
        reason = cls.unavailable_reason()
        if reason is not None:
            choice.not_tried[name] = f"unavailable here: {reason}"
            continue
        if cls.runs_coroutines != is_coroutine:
            choice.ruled_out[name] = ("it runs coroutine functions (async def), and this is a plain function"
                                      if cls.runs_coroutines else
                                      "it calls plain functions, and this is a coroutine function (async def)")
            continue
        if cls.serializer is not None and cls.serializer in serializer_problems:
            choice.ruled_out[name] = f"it sends work to other processes with {cls.serializer}, and " \
                                     f"{serializer_problems[cls.serializer]}"
            continue
        if refused and name in refused:
            choice.ruled_out[name] = f"it refuses this function: {refused[name]}"
            continue
        if cls.kind.starts_cluster and not include_cluster:
            choice.not_tried[name] = "it starts a cluster; pass --include-cluster (include_cluster=True) to try it"
            continue
        candidate = Candidate.of(name)
        if choice.baseline is None and (cls.kind is Kind.SEQUENTIAL or (is_coroutine and cls.kind is Kind.EVENT_LOOP)):
            choice.baseline = candidate  # the event loop at 1 worker is the coroutine's one-at-a-time loop
            if cls.kind is Kind.SEQUENTIAL:
                continue
        if cls.kind is not Kind.SEQUENTIAL:
            choice.candidates.append(candidate)
    representatives: dict[Kind, Candidate] = {}
    for candidate in sorted(choice.candidates, key=_preference):
        representatives.setdefault(candidate.kind, candidate)
    first = sorted(representatives.values(), key=lambda c: c.kind.simplicity)
    choice.candidates = first + [c for c in sorted(choice.candidates, key=_preference) if c not in first]
    return choice


def _preference(candidate: Candidate) -> tuple[int, int, int, int]:
    """Within a kind: the lesson's "after", an API with futures, the standard library."""
    return (candidate.kind.simplicity, 0 if candidate.role is Role.AFTER else 1,
            0 if candidate.futures else 1, 0 if candidate.stdlib else 1)


@dataclass
class SweepResult:
    probe: Probe
    n: int = 0
    trials: list[Trial] = field(default_factory=list)
    hand_off_seconds: dict[str, float] = field(default_factory=dict)
    not_tried: dict[str, str] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)  # label -> why it got no more rounds
    problem: str | None = None  # why the sweep stopped without a reference
    nondeterministic: dict[str, Any] | None = None  # two sequential runs differed: the first item that did
    budget_ran_out: bool = False  # the budget stopped the probe or the reference run: nothing could be judged
    waiting: bool | None = None
    per_item_seconds: float | None = None
    dispatch_bound: bool | None = None

    @property
    def calls(self) -> int:
        return len(self.probe.item_seconds) + sum(t.calls for t in self.trials)

    def trial(self, config: Config) -> Trial | None:
        return next((t for t in self.trials if t.config == config), None)


def sample_size(per_item_s: float, *, items_total: int, budget_s: float, largest_workers: int,
                usable_cpus: int = 1, chunks_per_worker: Sequence[int] = ()) -> int:
    """Items per round: one sequential round takes about ROUND_SHARE of the budget, with at least
    ITEMS_PER_WORKER_MIN items per worker, rounded up to a whole number of items per worker, and (adding at
    most EVEN_SPLIT_SHARE) to one that each `chunks_per_worker` policy cuts into equal chunks, as many for
    every one of `usable_cpus` workers: 10 items in chunks of 2 are 5 chunks, 3 for one worker and 2 for the
    other, and the sample would measure that ceiling (1.67x on 2) instead of the function's."""
    target = min(max(budget_s * ROUND_SHARE, ROUND_SECONDS_MIN), ROUND_SECONDS_MAX)
    if per_item_s < TINY_ITEM_S:
        target = min(target, TINY_ROUND_S)
    n = max(math.ceil(target / max(per_item_s, 1e-9)), ITEMS_PER_WORKER_MIN * largest_workers,
            ITEMS_PER_CPU_MIN * usable_cpus)
    n = math.ceil(n / largest_workers) * largest_workers
    even = n
    while even <= n * (1 + EVEN_SPLIT_SHARE) and not all(
            splits_evenly(even, per_worker * usable_cpus, usable_cpus) for per_worker in chunks_per_worker):
        even += largest_workers
    if even <= n * (1 + EVEN_SPLIT_SHARE):
        n = even
    return max(1, min(n, items_total))


def splits_evenly(n: int, chunks_wanted: int, workers: int) -> bool:
    """Whether n items in chunks of ceil(n / chunks_wanted) are whole chunks, as many for each worker."""
    size = math.ceil(n / chunks_wanted)
    return n % size == 0 and (n // size) % workers == 0


class Sweep:
    """Probe, reference, hand-off costs, one round of each configuration, then more rounds for those
    the first round did not exclude, then the winner at 1 worker: each step only if its estimate fits."""

    def __init__(self, runner: Runner, choice: Choice, *, items_total: int, budget_s: float, usable_cpus: int,
                 clock: Callable[[], float] = time.monotonic, serializers: Sequence[str] = (),
                 progress: Callable[[str], None] | None = None, worker_counts: Sequence[int] | None = None) -> None:
        self.runner, self.choice, self.items_total = runner, choice, items_total
        self.budget_s, self.usable_cpus, self.clock = budget_s, usable_cpus, clock
        self.serializers, self.progress = tuple(serializers), progress or (lambda line: None)
        self.worker_counts = tuple(worker_counts) if worker_counts else None
        self.deadline = 0.0

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def run(self) -> SweepResult:
        self.deadline = self.clock() + self.budget_s
        try:
            probe = self.runner.probe(self.budget_s * PROBE_SHARE, serializers=self.serializers)
        except NoAnswer as exc:
            bound = self.budget_s * PROBE_SHARE
            if exc.exit_code is not None:
                why = (f"the first sequential calls (the probe) ended the process running them (exit code "
                       f"{exc.exit_code}): the function exits or crashes its process, so no variant can run it safely")
            else:
                why = (f"the first sequential calls (the probe) gave no result within {bound:.3g} s ({PROBE_SHARE:.0%} "
                       "of the budget): an item hangs, or takes longer than the budget allows (raise --budget)")
            # Cut at its share of the budget, as a cut reference is: a larger budget may yet give a judgement.
            return SweepResult(Probe(problem=why), problem="probe", budget_ran_out=exc.exit_code is None)
        result = SweepResult(probe)
        if probe.problem or not probe.item_seconds or self.choice.baseline is None:
            result.problem = probe.problem or "no baseline variant can run this function"
            return result
        self._measure(result, self.choice.baseline)
        return result

    # --- the steps ---------------------------------------------------------------------------------

    def _measure(self, result: SweepResult, reference_variant: Candidate) -> None:
        probe = result.probe
        per_item = result.per_item_seconds = probe.seconds_per_item or 0.0
        result.waiting = probe.cpu_seconds < WAITING_CORES * sum(probe.item_seconds)
        counts = self._worker_counts(result.waiting)
        policies = sorted({k for k in (variant_class(c.name).chunks_per_worker for c in self.choice.candidates) if k})
        result.n = n = sample_size(per_item, items_total=self.items_total, budget_s=self.budget_s,
                                   largest_workers=max(counts), usable_cpus=self.usable_cpus, chunks_per_worker=policies)
        self.limit_s = max(PER_ITEM_LIMIT_FLOOR_S, PER_ITEM_LIMIT_FACTOR * max(probe.item_seconds))
        self.round_s = per_item * n
        self.n = n
        baseline = Config(reference_variant.name, 1)
        self.baseline = baseline
        self.progress(f"probe: {len(probe.item_seconds)} calls, {_time(per_item)} per item; measuring {n} items "
                      f"per round ({_time(self.round_s)} sequential), {self.budget_s:.3g} s of the budget left")
        reference = self._trial(result, baseline, rounds=1, check=False, kind=reference_variant.kind)
        if reference is None or not reference.ok:
            result.problem = f"the reference run ({baseline.label}) " + (
                reference.problem if reference is not None and reference.problem else "was not measured")
            return
        self.round_s = reference.median_seconds or self.round_s
        # Sequential again, compared with the first run, before any variant: a function whose results depend on
        # earlier calls or shared state can be compared with nothing, so no variant is judged.
        self._trial(result, baseline, rounds=1, kind=reference_variant.kind)
        if result.nondeterministic is not None:
            return
        result.waiting = (reference.median_cores or 0.0) < WAITING_CORES
        counts = self._worker_counts(result.waiting)
        self._hand_offs(result)
        process_hand_off = next((result.hand_off_seconds[k.value] for k in Kind.about("processes")
                                 if k.value in result.hand_off_seconds), None)
        result.dispatch_bound = process_hand_off is not None and per_item < process_hand_off
        # One round of every configuration: representatives of each kind first.
        configs = self._configs(counts, result.dispatch_bound or False)
        firsts = {kind: next(c for c in self.choice.candidates if c.kind is kind) for kind in
                  dict.fromkeys(c.kind for c in self.choice.candidates)}
        for candidate, config in configs:
            if candidate in firsts.values():
                self._trial(result, config, rounds=1, kind=candidate.kind)
        # The baseline's own noise, before the other candidates: every speedup divides by it.
        self._trial(result, baseline, rounds=BASELINE_ROUNDS - 2, kind=reference_variant.kind)
        for candidate, config in configs:
            if candidate not in firsts.values():
                self._trial(result, config, rounds=1, kind=candidate.kind)
        # More rounds for the baseline and every configuration the first round did not exclude.
        best = self._best(result)
        wanted = ROUNDS_WANTED_LONG if self.round_s > LONG_ROUND_S else ROUNDS_WANTED
        kept = self._kept(result, best)
        kept[1:1] = [baseline]  # the best first, then the baseline: every speedup divides by its noise
        # In REFINE_PASSES passes, each in the reverse order of the one before (the fastest first, then last):
        # a load that comes and goes falls on every configuration, not on whichever had all its rounds at that
        # moment. A configuration the budget cut is not run again in a later pass.
        cut: set[Config] = set()
        for done in range(REFINE_PASSES):
            for config in kept if done % 2 == 0 else kept[::-1]:
                trial = result.trial(config)
                if trial is not None and trial.ok and len(trial.round_seconds) < wanted and config not in cut:
                    missing = wanted - len(trial.round_seconds)
                    if self._trial(result, config, rounds=math.ceil(missing / (REFINE_PASSES - done)),
                                   kind=Kind(trial.kind), missing=missing) is None:
                        cut.add(config)
        # How each kept one scales: the same variant at 1 worker, one round each, the fastest first (what
        # the budget leaves out is listed as not tried).
        ranked = sorted((t for t in result.trials if t.ok and t.config in kept and t.config != baseline),
                        key=self._speedup_of(result), reverse=True)
        for trial in ranked:
            if trial.config.workers > 1:
                self._trial(result, Config(trial.config.variant, 1, trial.config.chunksize), rounds=1,
                            kind=Kind(trial.kind))

    def _kept(self, result: SweepResult, best: float) -> list[Config]:
        """The configurations that get more rounds, MAX_REFINED in all: the fastest after one round, then the
        simplest of those within SIMPLER_SHARE of it (the simpler is named when they end within noise, and
        only on rounds of its own), then the next fastest within KEEP_SHARE. The others are listed as
        excluded with their one round's figure. At 1 worker a concurrent variant is never named: not kept."""
        speedup = self._speedup_of(result)
        simplicity = {c.name: c.simplicity for c in self.choice.candidates}
        ranked = sorted((t for t in result.trials if t.ok and t.config != self.baseline and t.config.workers > 1),
                        key=speedup, reverse=True)
        close = [t for t in ranked if speedup(t) >= KEEP_SHARE * best]

        def order(trial: Trial) -> tuple:
            if speedup(trial) >= SIMPLER_SHARE * best:
                return (0, *simplicity[trial.config.variant](trial.config.workers), trial.config.workers, -speedup(trial))
            return (1, -speedup(trial))
        kept = close[:1] + sorted(close[1:], key=order)[:max(0, MAX_REFINED - 1)]
        for trial in ranked:
            if trial in kept:
                continue
            result.excluded[trial.config.label] = (
                f"{speedup(trial):.2f}x after one round: {MAX_REFINED} faster or simpler were measured further"
                if trial in close else
                f"{speedup(trial):.2f}x after one round, against {best:.2f}x for the best: not measured further")
        return [t.config for t in kept]

    def _worker_counts(self, waiting: bool) -> list[int]:
        if self.worker_counts:
            return list(self.worker_counts)
        counts = [self.usable_cpus]
        if waiting:
            counts.append(min(MAX_WORKERS_TRIED, WAIT_WORKER_FACTOR * self.usable_cpus))
        return counts

    def _configs(self, counts: list[int], dispatch_bound: bool) -> list[tuple[Candidate, Config]]:
        configs = []
        for candidate in self.choice.candidates:
            # More workers than CPUs pay only for waiting work, and only threads of one interpreter are cheap enough:
            # a worker that is an interpreter of its own costs a start-up and the imports, process or not.
            tried = counts if not candidate.starts_interpreters or self.worker_counts else counts[:1]
            for workers in tried:
                workers = min(workers, self.n) if workers > self.usable_cpus else workers
                configs.append((candidate, Config(candidate.name, workers)))
                if dispatch_bound:
                    configs.append((candidate, Config(candidate.name, workers, max(1, math.ceil(self.n / workers)))))
        return list(dict.fromkeys(configs))

    def _hand_offs(self, result: SweepResult) -> None:
        pooled = {c.kind for c in self.choice.candidates if c.has_pool}
        for kind in (k for k in Kind if k in pooled and k.hand_off_items is not None):
            candidate = next(c for c in self.choice.candidates if c.kind is kind and c.has_pool)
            estimate = kind.startup_guess_s + 0.2
            if self.remaining() < estimate:
                result.not_tried[f"hand-off cost ({kind.value})"] = "the budget was spent"
                continue
            try:
                seconds = self.runner.hand_off(min(self.remaining(), 30.0), candidate.name, self.usable_cpus)
            except NoAnswer:
                seconds = None
            if seconds is not None:
                result.hand_off_seconds[kind.value] = seconds

    def _trial(self, result: SweepResult, config: Config, *, rounds: int, kind: Kind, check: bool = True,
               missing: int | None = None) -> Trial | None:
        """Run `rounds` more rounds of `config`; None when the budget cut them (listed as not tried, with the
        `missing` rounds it still wanted, by default these), or once the function was found not deterministic."""
        if result.nondeterministic is not None:
            return None
        existing = result.trial(config)
        # What "not tried" calls it: a configuration already measured was not tried further.
        more = missing or rounds
        label = config.label if existing is None else f"{config.label}, {more} more round{'s' if more != 1 else ''}"
        # Measured before: its own round time; else as slow as sequential, the worst case.
        round_s = existing.seconds if existing is not None and existing.ok else self.round_s
        warmup = 1 if round_s < WARMUP_BELOW_S and (existing is None or config != self.baseline) else 0
        startup = self._startup_estimate(result, kind)
        if existing is None or not existing.ok:  # and each hand-off costs what was measured for its kind
            chunks = math.ceil(self.n / variant_class(config.variant)(workers=config.workers,
                                                                      chunksize=config.chunksize).chunksize_for(self.n))
            hand_offs_s = chunks * result.hand_off_seconds.get(kind.value, 0.0)
            if check and hand_offs_s > HAND_OFF_EXCLUDES * self.round_s:
                result.excluded[config.label] = (f"not run: its {chunks} hand-offs would take about {hand_offs_s:.2g} s, "
                                                 f"against {self.round_s:.2g} s for all of sequential")
                return None
            round_s += hand_offs_s
        estimate = startup + (warmup + rounds) * round_s
        if check and self.remaining() < estimate:
            result.not_tried.setdefault(label, f"the budget was spent (needed about {estimate:.2g} s, "
                                               f"{max(0.0, self.remaining()):.2g} s left)")
            return None
        # Per round: the per-item limit on top of a generous multiple of the sequential round, plus the pool's
        # start-up (some engines start their workers inside the first map).
        round_timeout = PER_ITEM_LIMIT_FACTOR * self.round_s + self.limit_s + 3 * startup + STARTUP_ALLOWANCE_S
        own_bound = startup * 3 + (warmup + rounds) * round_timeout + WATCHDOG_SLACK_S
        budget_left = max(0.0, self.remaining())
        try:
            trial = self.runner.trial(min(own_bound, budget_left), config, n=self.n, rounds=rounds, warmup=warmup,
                                      timeout=round_timeout, baseline=self.baseline, check=check)
        except NoAnswer as exc:
            cut = budget_left < own_bound and exc.exit_code is None
            if cut and check:
                result.not_tried[label] = "stopped unfinished when the budget ran out"
                self.progress(f"{label}: stopped, the budget ran out")
                return None
            if cut:  # the reference: without it nothing can be judged
                result.budget_ran_out = True
                why = (f"was stopped unfinished when the budget ran out ({budget_left:.3g} s were left): "
                       "raise --budget")
            elif exc.exit_code is not None:
                why = f"ended the process running it (exit code {exc.exit_code})"
            else:
                why = (f"gave no answer within {own_bound:.3g} s (the per-item limit from the probe): it hangs, or "
                       "is slower than the budget allows (raise --budget); stopped by advise")
            trial = Trial(config=config, kind=kind.value, items=self.n, problem=why)
        if config == self.baseline and trial.mismatch is not None:  # sequential differed from itself
            result.nondeterministic, result.problem = trial.mismatch, "not deterministic"
            self.progress(f"{config.label}: two runs gave different results: " + (
                "== cannot check them" if trial.mismatch.get("uncomparable") else "not deterministic"))
            return None
        if existing is not None:
            existing.merge(trial)
            trial = existing
        else:
            result.trials.append(trial)
        shown = trial.problem or (f"{_time(trial.median_seconds)} per round, {trial.median_cores:.2f} cores"
                                  if trial.ok else "no rounds")
        self.progress(f"{config.label}: {shown}")
        return trial

    def _startup_estimate(self, result: SweepResult, kind: Kind) -> float:
        measured = [t.startup_seconds for t in result.trials if t.kind == kind.value and t.startup_seconds is not None]
        return max(measured) if measured else kind.startup_guess_s

    def _speedup_of(self, result: SweepResult) -> Callable[[Trial], float]:
        base = result.trial(self.baseline)
        base_s = base.median_seconds if base is not None else None

        def speedup(trial: Trial) -> float:
            return (base_s / trial.median_seconds) if base_s and trial.median_seconds else 0.0
        return speedup

    def _best(self, result: SweepResult) -> float:
        speedup = self._speedup_of(result)
        return max([1.0, *(speedup(t) for t in result.trials if t.ok)])
