"""The answer from the figures: which configuration (within noise, the simpler one), its expected speedup
with its spread, and the screen a user reads (`render`); pure functions of the `Advice`."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..report.stats import NOISY_CV, SIGNIFICANCE_LEVEL, coefficient_of_variation, mann_whitney_u
from ..core.traits import Kind
from ..variants import variant_class
from .model import Advice, Config, Trial
from .sweep import HAND_OFF_EXCLUDES, Candidate

#: Two configurations closer than this (relative to the slower) count as equally fast, whatever their rounds
#: say: a difference that small is not worth a less simple variant (a rank test on 5 rounds each finds 8%
#: apart "significant" on a quiet machine, as between the hand-made threads and ThreadPoolExecutor).
MIN_NOISE = 0.10
#: A configuration is named over the fastest only with at least this many rounds of its own.
MIN_ROUNDS_TO_NAME = 3
#: Other processes using this many cores while advise measured get a warning on the screen.
BUSY_WARNING_CORES = 0.25


@dataclass(frozen=True)
class Pick:
    config: Config | None
    speedup: float | None
    low: float | None
    high: float | None
    as_fast: tuple[str, ...]  # labels not told apart from the fastest (so from the pick), faster-measured first
    fastest: Config | None  # the fastest measured, when that is not the pick


def speedups(baseline: Trial, trial: Trial) -> tuple[float, float, float]:
    """Median speedup over the baseline's median, and the lowest and highest over the trial's rounds."""
    base = baseline.median_seconds or 0.0
    return (base / trial.median_seconds, base / max(trial.round_seconds), base / min(trial.round_seconds))


def noise(trial: Trial) -> float:
    """The relative spread of a trial's rounds: their CV, or the lab's noisy mark when there is one round."""
    cv = coefficient_of_variation(trial.round_seconds)
    return NOISY_CV if cv is None else cv


def within_noise(a: Trial, b: Trial) -> bool:
    """Whether the two cannot be told apart: closer than MIN_NOISE, or neither clearly apart by rank (every
    round of one against every round of the other: Mann-Whitney U, the report's test) nor by more than their
    rounds' combined coefficients of variation. The rank test is what keeps a loaded machine's slow outlier
    rounds from hiding a real difference; the CV rule is what decides when there are too few rounds for it."""
    fast, slow = sorted((a.median_seconds, b.median_seconds))
    apart = (slow - fast) / slow
    if apart < MIN_NOISE:
        return True
    if mann_whitney_u(a.round_seconds, b.round_seconds) < SIGNIFICANCE_LEVEL:
        return False
    return apart < noise(a) + noise(b)


def recommend(baseline: Trial, trials: Sequence[Trial], candidates: dict[str, Candidate]) -> Pick:
    """The fastest correct configuration, or the simplest of those within noise of it (the baseline included)."""
    # A concurrent variant at 1 worker shows how that configuration scales; it cannot beat the baseline but by noise.
    correct = [t for t in trials if t.ok and t.config.variant in candidates
               and (t.config == baseline.config or t.config.workers > 1)]
    if not baseline.ok:
        return Pick(None, None, None, None, (), None)
    fastest = min(correct, key=lambda t: t.median_seconds)
    close = [t for t in correct if within_noise(t, fastest)]

    def simplicity(trial: Trial) -> tuple:
        return (*candidates[trial.config.variant].simplicity(trial.config.workers), trial.config.workers,
                trial.median_seconds)
    # Named only with a spread of its own: a configuration measured once (cut by the budget, or not among the
    # fastest refined) may be within noise of the fastest, but not chosen over it on one round.
    pick = min((t for t in close if len(t.round_seconds) >= MIN_ROUNDS_TO_NAME or t is fastest), key=simplicity)
    speedup, low, high = speedups(baseline, pick)
    as_fast = tuple(t.config.label for t in sorted(close, key=lambda t: t.median_seconds) if t is not pick)
    return Pick(pick.config, speedup, low, high, as_fast, None if fastest is pick else fastest.config)


def chunksize_for_all(trial: Trial, items_total: int) -> int | None:
    """The chunk size for the whole input that keeps the measured chunks per worker."""
    if trial.chunksize_used is None or trial.items == 0:
        return None
    chunks = max(1, math.ceil(trial.items / trial.chunksize_used))
    return max(1, math.ceil(items_total / chunks))


# --- the snippet, in the recommended variant's own API (each variant's `usage`) -------------------------

def snippet(candidate: Candidate, workers: int, chunksize: int | None, function: str) -> str:
    """The variant's own code for `function` (``module:name``, a file path, or a closure's qualified name),
    with the function's import placed after the variant's imports."""
    module, _, name = function.partition(":")
    if "<locals>" in name:  # a closure: the user has it in hand, under its own name
        func, head = name.rsplit(".", 1)[-1], f"# {name.rsplit('.', 1)[-1]}: your function, made by {name.split('.')[0]}(...)"
    else:
        func = name or "func"
        if module.endswith(".py"):  # a file path: advise imported it by its file name, from its folder
            module = Path(module).stem
        head = f"from {module} import {name.split('.')[0]}" if module and module != "__main__" and name else ""
    cls = variant_class(candidate.name)
    chunked = bool(chunksize and chunksize > 1) and cls.kind is not Kind.SEQUENTIAL and not cls.runs_coroutines
    if chunked and not cls.api_chunks:  # (coroutines are never measured in chunks)
        # Its API takes no chunk size: the measured chunks are made here, each one call of run_chunk.
        code = re.sub(r"\bitems\b", "chunks", cls.usage("run_chunk", workers, None))
        lines = code.splitlines()
        body = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))), len(lines))
        lines[body:body] = ["", "def run_chunk(chunk):", f"    return [{func}(item) for item in chunk]", "",
                            f"chunks = [items[i:i + {chunksize}] for i in range(0, len(items), {chunksize})]"]
        # Right after the statement that sets results (inside its __main__ guard, if any), else at the end.
        last = max((i for i, line in enumerate(lines) if line.lstrip().startswith("results = ")), default=len(lines) - 1)
        indent = lines[last][:len(lines[last]) - len(lines[last].lstrip())] if lines[last].lstrip().startswith("results = ") else ""
        lines.insert(last + 1, f"{indent}results = [result for chunk in results for result in chunk]")
    else:
        lines = cls.usage(func, workers, chunksize).splitlines()
    imports = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))), len(lines))
    if head:
        lines.insert(imports, head)
    return "\n".join(lines)


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
        shown.append(f"{label} ({base / trial.median_seconds:.2f}x, {rounds} round{'s' if rounds != 1 else ''})")
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
                sp = base_s / trial.median_seconds
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
