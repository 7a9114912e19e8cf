"""What `advise` measured and concluded (`Advice`, versioned: advise.json), how advise.json is read back, and the
screen `concurrency-lab advise` prints, which is the record's `str`: one place, so that the screen, advise.html and the
report's Advice section (`advice_view`) never diverge."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.traits import Kind
from .advice_trials import Config, Probe, Trial, known
from .versions import ADVICE, SchemaError

ADVICE_SCHEMA_VERSION = ADVICE.newest
#: The other processes' load is a figure only over rounds lasting this long in all: the OS counts CPU time in
#: 10 ms ticks, so one tick over a 64 µs round reads as 156 cores (seen on a function of 100 ns per item).
OTHER_LOAD_MIN_WALL_S = 1.0
#: A configuration whose hand-offs alone (chunks x the measured cost for its kind) would take this many
#: sequential rounds is excluded by the sweep without running: it cannot win (the screen says so, with this figure).
HAND_OFF_EXCLUDES = 4.0
#: Other processes using this many cores while advise measured get a warning on the screen.
BUSY_WARNING_CORES = 0.25


@dataclass(repr=False)
class Advice:
    """The answer: what to use and why, with every figure it rests on. ``print(advice)`` shows the screen
    `concurrency-lab advise` prints (`render`, below); its repr is one short line."""

    function: str
    items_total: int
    items_sampled: int
    budget_seconds: float
    elapsed_seconds: float
    calls: int
    build: dict[str, Any]  # python, gil_enabled, free_threaded_build, usable_cpus
    probe: Probe
    bound: str | None  # a traits.Bound value, None when it could not be told
    reasons: list[str]  # the classification, in plain words from the figures
    trials: list[Trial]
    hand_off_seconds: dict[str, float]  # kind -> measured cost of handing one item to a worker of that kind
    ruled_out: dict[str, str]  # variant -> why it was not run
    not_tried: dict[str, str]  # configuration label or variant -> why it was not measured (budget, unavailable)
    excluded: dict[str, str] = field(default_factory=dict)  # label -> why one round was enough (far behind the best)
    recommended: Config | None = None
    speedup: float | None = None
    speedup_low: float | None = None
    speedup_high: float | None = None
    as_fast: list[str] = field(default_factory=list)  # labels of the configurations within noise of it
    chunksize_for_all: int | None = None  # the chunk size for the whole input, from the measured policy
    problem: str | None = None  # why there is no recommendation
    #: False when the measurements could not decide (`problem` then names the figure and what would decide it):
    #: not a finding about the function, unlike a problem with `judged` True.
    judged: bool = True
    #: Two sequential runs of the same items differed: {"index", "expected" (the first run's), "got"}.
    nondeterministic: dict[str, Any] | None = None
    snippet: str = ""
    schema_version: int = ADVICE_SCHEMA_VERSION

    def trial(self, config: Config) -> Trial | None:
        return next((t for t in self.trials if t.config == config), None)

    def __str__(self) -> str:
        return render(self)

    def __repr__(self) -> str:
        if self.recommended is not None and self.speedup is not None:
            answer = f"use {self.recommended.label}, {self.speedup:.2f}x"
        else:
            answer = "not judged" if not self.judged else "no advice"
        return f"<Advice for {self.function}: {answer}; print() it for the screen>"

    def _other_load(self) -> tuple[float, float]:
        """Other processes' CPU seconds and the rounds' wall seconds, over every round with a figure."""
        pairs = [(cores * seconds, seconds) for trial in self.trials
                 for cores, seconds in zip(trial.other_cores, trial.round_seconds, strict=False) if cores is not None]
        return sum(cpu for cpu, _ in pairs), sum(seconds for _, seconds in pairs)

    @property
    def machine_cpus(self) -> int | None:
        """The most cores other processes can use: every CPU of the machine (usable CPUs, for older advice)."""
        return self.build.get("machine_cpus") or self.build.get("usable_cpus")

    @property
    def other_cores(self) -> float | None:
        """The cores other processes used while the rounds ran, over all of them: their CPU seconds over the
        rounds' wall seconds (the OS counts system-wide CPU in 10 ms ticks, too coarse for one short round).
        None (not measured) when the rounds lasted less than OTHER_LOAD_MIN_WALL_S in all; never more than
        the machine's CPUs nor less than 0 (`other_cores_note` says when it was clamped)."""
        cpu, wall = self._other_load()
        if wall < OTHER_LOAD_MIN_WALL_S:
            return None
        return min(max(0.0, cpu / wall), self.machine_cpus or math.inf)

    @property
    def other_cores_note(self) -> str | None:
        """Why the other processes' load is not measured, or was clamped; None when the figure stands as measured."""
        cpu, wall = self._other_load()
        if wall <= 0:
            return None
        if wall < OTHER_LOAD_MIN_WALL_S:
            return (f"other processes' load not measured: the rounds lasted {wall * 1e3:.3g} ms in all, too short for the "
                    f"OS's 10 ms CPU ticks (at least {OTHER_LOAD_MIN_WALL_S:g} s is needed)")
        cpus = self.machine_cpus
        if cpus and cpu / wall > cpus:
            return (f"other processes' load measured more than the machine's {cpus} CPUs (the OS's CPU ticks are "
                    f"coarse): shown as {cpus}")
        return None

    @property
    def recommended_kind(self) -> str | None:
        found = self.trial(self.recommended) if self.recommended else None
        return found.kind if found else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["probe"] = self.probe.to_dict()
        data["trials"] = [t.to_dict() for t in self.trials]
        data["recommended_kind"] = self.recommended_kind
        data["other_cores"] = self.other_cores
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Advice:
        ADVICE.check(data.get("schema_version"))
        data = known(cls, data)  # recommended_kind and other_cores are derived, and rebuilt from the rest
        return cls(**{**data, "probe": Probe.from_dict(data["probe"]),
                      "trials": [Trial.from_dict(t) for t in data["trials"]],
                      "recommended": Config(**known(Config, data["recommended"])) if data.get("recommended") else None})


#: What `advise --out DIR` writes and `concurrency-lab report --latest-in` takes from each folder.
ADVICE_FILE = "advise.json"
#: The keys every advise.json has had (schema 1 on): how a document is told apart from benchmark results.
_ADVICE_KEYS = frozenset({"function", "trials", "probe", "build", "schema_version"})


class UnreadableAdvice(ValueError):
    """An advise.json this concurrency-lab cannot read: a newer schema, or not advice after all."""


def is_advice_document(document: Mapping[str, Any]) -> bool:
    return "benchmarks" not in document and _ADVICE_KEYS <= document.keys()


def advice_from_document(document: Mapping[str, Any], source: str) -> Advice:
    """The Advice in an advise.json; UnreadableAdvice (one line, naming `source`) when it cannot be read."""
    try:
        return Advice.from_dict(document)
    except SchemaError as error:
        raise UnreadableAdvice(f"{source}: {error}") from error
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise UnreadableAdvice(f"{source}: not advice concurrency-lab can read ({type(error).__name__}: "
                               f"{' '.join(str(error).split())})") from error


# --- the screen -------------------------------------------------------------------------------------


def nondeterministic_text(mismatch: dict) -> str:
    """ "results depend on earlier calls or shared state: item 0 gave 1, then 201": two sequential runs. When ==
    cannot check such results (NaN, arrays, objects without __eq__), that is the cause named instead."""
    gave = f"item {mismatch['index']} gave {mismatch['expected']}"
    if mismatch.get("uncomparable"):
        gave += " both times" if mismatch["expected"] == mismatch["got"] else f", then {mismatch['got']}"
        return (f"results do not compare equal to themselves with == ({gave}): NaN, arrays or objects without __eq__ "
                "cannot be checked against sequential's")
    return f"results depend on earlier calls or shared state: {gave}, then {mismatch['got']}"


def problem_text(advice: Advice) -> str:
    """The line shown instead of a recommendation: "NOT JUDGED: ..." (the measurements could not decide) or
    "NO ADVICE: ..." (something about the function, or nothing could run)."""
    return f"{'NO ADVICE' if advice.judged else 'NOT JUDGED'}: {advice.problem or 'no configuration was recommended'}"


def not_run_text(advice: Advice) -> str | None:
    """The configurations the hand-off cost excluded before they ran, or None. A label measured anyway is never
    listed; the ones listed ran in the variant's default chunks, which the same variant in larger chunks may not."""
    measured = {t.config.label for t in advice.trials}
    skipped = [label for label, why in advice.excluded.items() if why.startswith("not run") and label not in measured]
    if not skipped:
        return None
    return (f"not run, their hand-offs alone (at the measured cost) would take over {HAND_OFF_EXCLUDES:g}x sequential's "
            f"round: {', '.join(f'{label} (default chunks)' if ', chunks of' not in label else label for label in skipped)}")

def _bytes(value: int | None) -> str:
    return "?" if value is None else f"{value / 2**20:.0f} MiB"


def rounds_text(count: int) -> str:
    return f"{count} round{'s' if count != 1 else ''}"


def busy_warning(advice: Advice) -> str | None:
    """The warning for a machine other processes loaded while advise measured, or None when it was quiet."""
    others = advice.other_cores
    if others is None or others < BUSY_WARNING_CORES:
        return None
    return (f"other processes used {others:.2f} of the {advice.build.get('usable_cpus')} CPUs while this was measured: "
            "speedups are lower and rounds noisier than on a quiet machine")


def within_noise_text(advice: Advice) -> str | None:
    """ "loky x2 (1.97x, 5 rounds); mp_pool x2 (1.78x, 1 round): not told apart from it; the one named is
    simpler", or None: the configurations within noise, with their figures (some may be slower than the pick)."""
    base = advice.trials[0].median_seconds if advice.trials and advice.trials[0].ok else None
    shown = []
    for label in advice.as_fast:
        trial = next((t for t in advice.trials if t.config.label == label and t.ok), None)
        if trial is None or not base:
            shown.append(label)
            continue
        rounds = len(trial.round_seconds)
        shown.append(f"{label} ({base / trial.seconds:.2f}x, {rounds} round{'s' if rounds != 1 else ''})")
    return f"{'; '.join(shown)}: not told apart from it; the one named is simpler" if shown else None


def recommendation_text(advice: Advice) -> str | None:
    """ "process_pool with 2 workers, chunksize=25: expected 1.92x sequential (1.67-2.02x over 5 rounds)",
    or None without a recommendation: the screen's USE line and the report's, in one place."""
    config = advice.recommended
    if config is None or advice.speedup is None:
        return None
    sequential = advice.recommended_kind == Kind.SEQUENTIAL.value
    chunk = advice.chunksize_for_all
    how = "" if sequential else f" with {config.workers} workers" + (f", chunksize={chunk}" if chunk and chunk > 1 else "")
    trial = advice.trial(config)
    spread = "" if advice.speedup_low is None or advice.speedup_high is None else (
        f" ({advice.speedup_low:.2f}-{advice.speedup_high:.2f}x" + (f" over {rounds_text(len(trial.round_seconds))})"
                                                                    if trial else ")"))
    return f"{config.variant}{how}: expected {advice.speedup:.2f}x sequential{spread}"


def render(advice: Advice) -> str:
    """One screen: the answer, its figures and reasons, what was ruled out, and the code to paste."""
    build = advice.build
    gil = "GIL on" if build.get("gil_enabled") else "GIL off (free-threaded)"
    lines = [f"advise {advice.function}: Python {build.get('python')} ({gil}), {build.get('usable_cpus')} usable CPUs; "
             f"measured {advice.items_sampled} of {advice.items_total} items, {advice.calls} calls, "
             f"{advice.elapsed_seconds:.1f} s of a {advice.budget_seconds:g} s budget"]
    warning = busy_warning(advice)
    if warning:
        lines.append(f"WARNING: {warning}")
    note = advice.other_cores_note
    if note:
        lines.append(f"NOTE: {note}")
    recommendation = recommendation_text(advice)
    if recommendation is None:
        lines.append(problem_text(advice))
    else:
        lines.append(f"USE {recommendation}")
        close = within_noise_text(advice)
        if close:
            lines.append(f"  within noise: {close}")
    if advice.reasons:
        lines.append("why:")
        lines += [f"  - {reason}" for reason in advice.reasons]
    if advice.trials:
        lines.append("measured (speedup over sequential, cores used, start-up, peak USS):")
        base_s = advice.trials[0].median_seconds
        for trial in advice.trials:
            if trial.ok and base_s:
                sp = base_s / trial.seconds
                startup = "" if trial.startup_seconds is None else f", start-up {trial.startup_seconds * 1e3:.0f} ms"
                lines.append(f"  {trial.config.label:<34} {sp:5.2f}x  {trial.median_cores or 0:.2f} cores{startup}, "
                             f"{_bytes(trial.peak_uss_bytes)}, {rounds_text(len(trial.round_seconds))}")
            else:
                lines.append(f"  {trial.config.label:<34} NOT RECOMMENDED: {trial.problem or 'no rounds'}")
    not_run = not_run_text(advice)
    if not_run:
        lines.append(not_run)
    if advice.ruled_out:
        lines.append("ruled out:")
        lines += [f"  {name}: {why}" for name, why in advice.ruled_out.items()]
    if advice.not_tried:
        lines.append("not tried:")
        lines += [f"  {name}: {why}" for name, why in advice.not_tried.items()]
    if advice.snippet:
        lines.append("code:")
        lines += [f"    {line}" if line else "" for line in advice.snippet.splitlines()]
    return "\n".join(lines)
