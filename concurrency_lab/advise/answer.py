"""The answer from the figures: which configuration (within noise, the simpler one), its expected speedup
with its spread, and the code to paste; pure functions of the figures (the screen is the record's own:
`records.advice.render`)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.traits import Kind
from ..numerics.stats import NOISY_CV, SIGNIFICANCE_LEVEL, coefficient_of_variation, mann_whitney_u
from ..records.advice_trials import Config, Trial
from ..variants import Variant, variant_class
from .sweep import Candidate

#: Two configurations closer than this (relative to the slower) count as equally fast, whatever their rounds
#: say: a difference that small is not worth a less simple variant (a rank test on 5 rounds each finds 8%
#: apart "significant" on a quiet machine, as between the hand-made threads and ThreadPoolExecutor).
MIN_NOISE = 0.10
#: A configuration is named over the fastest only with at least this many rounds of its own.
MIN_ROUNDS_TO_NAME = 3


@dataclass(frozen=True)
class Pick:
    config: Config | None
    speedup: float | None
    low: float | None
    high: float | None
    as_fast: tuple[str, ...]  # labels not told apart from the fastest (so from the pick), faster-measured first
    fastest: Config | None  # the fastest measured, when that is not the pick

    @property
    def label(self) -> str:
        """The picked configuration's label ('' when nothing was picked)."""
        return "" if self.config is None else self.config.label


def speedups(baseline: Trial, trial: Trial) -> tuple[float, float, float]:
    """Median speedup over the baseline's median, and the lowest and highest over the trial's rounds."""
    base = baseline.median_seconds or 0.0
    return (base / trial.seconds, base / max(trial.round_seconds), base / min(trial.round_seconds))


def noise(trial: Trial) -> float:
    """The relative spread of a trial's rounds: their CV, or the lab's noisy mark when there is one round."""
    cv = coefficient_of_variation(trial.round_seconds)
    return NOISY_CV if cv is None else cv


def within_noise(a: Trial, b: Trial) -> bool:
    """Whether the two cannot be told apart: closer than MIN_NOISE, or neither clearly apart by rank (every
    round of one against every round of the other: Mann-Whitney U, the report's test) nor by more than their
    rounds' combined coefficients of variation. The rank test is what keeps a loaded machine's slow outlier
    rounds from hiding a real difference; the CV rule is what decides when there are too few rounds for it."""
    fast, slow = sorted((a.seconds, b.seconds))
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
    fastest = min(correct, key=lambda t: t.seconds)
    close = [t for t in correct if within_noise(t, fastest)]

    def simplicity(trial: Trial) -> tuple:
        return (*candidates[trial.config.variant].simplicity(trial.config.workers), trial.config.workers,
                trial.seconds)
    # Named only with a spread of its own: a configuration measured once (cut by the budget, or not among the
    # fastest refined) may be within noise of the fastest, but not chosen over it on one round.
    pick = min((t for t in close if len(t.round_seconds) >= MIN_ROUNDS_TO_NAME or t is fastest), key=simplicity)
    speedup, low, high = speedups(baseline, pick)
    as_fast = tuple(t.config.label for t in sorted(close, key=lambda t: t.seconds) if t is not pick)
    return Pick(pick.config, speedup, low, high, as_fast, None if fastest is pick else fastest.config)


def chunksize_for_all(trial: Trial, items_total: int) -> int | None:
    """The chunk size for the whole input that keeps the measured chunks per worker."""
    if trial.chunksize_used is None or trial.items == 0:
        return None
    chunks = max(1, math.ceil(trial.items / trial.chunksize_used))
    return max(1, math.ceil(items_total / chunks))


# --- the snippet, in the recommended variant's own API (each variant's `usage`) -------------------------

def runs_functions_of_main(cls: type[Variant]) -> bool:
    """Whether a function the snippet defines (in the user's ``__main__``) can be the variant's task: not where tasks
    are pickled, by name, to workers of this process (interpreters: each has a ``__main__`` of its own, which
    no re-import of the script fills, as spawn's does for worker processes)."""
    return not (cls.serializer == "pickle" and cls.kind.in_process)


def _chunks_made_here(cls: type[Variant], func: str, workers: int, chunksize: int) -> list[str]:
    """The variant's code over chunks of `items` the snippet makes, with `results` flattened where it is set."""
    every = f"for i in range(0, len(items), {chunksize})"
    if runs_functions_of_main(cls):
        lines = re.sub(r"\bitems\b", "chunks", cls.usage("run_chunk", workers, None)).splitlines()
        added = ["", "def run_chunk(chunk):", f"    return [{func}(item) for item in chunk]", "",
                 f"chunks = [items[i:i + {chunksize}] {every}]"]
    else:  # a map object pickles with its function (by name) and its slice, unrun: the worker's list() runs it
        lines = re.sub(r"\bitems\b", "chunks", cls.usage("list", workers, None)).splitlines()
        added = [f"# each chunk: map({func}, a slice), run by list() in a worker (a function defined here could not be)",
                 f"chunks = [map({func}, items[i:i + {chunksize}]) {every}]"]
    body = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))), len(lines))
    lines[body:body] = added
    # Right after the statement that sets results (inside its __main__ guard, if any), else at the end.
    last = max((i for i, line in enumerate(lines) if line.lstrip().startswith("results = ")), default=len(lines) - 1)
    sets_results = lines[last].lstrip().startswith("results = ")
    indent = lines[last][:len(lines[last]) - len(lines[last].lstrip())] if sets_results else ""
    lines.insert(last + 1, f"{indent}results = [result for chunk in results for result in chunk]")
    return lines


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
        # Its API takes no chunk size: the measured chunks are made here, each one call of run_chunk; or, where a
        # function this script defines cannot be a task, each a lazy map over its slice that `list` runs in a worker.
        lines = _chunks_made_here(cls, func, workers, chunksize or 1)
    else:
        lines = cls.usage(func, workers, chunksize).splitlines()
    imports = next((i for i, line in enumerate(lines) if not line.startswith(("import ", "from "))), len(lines))
    if head:
        lines.insert(imports, head)
    return "\n".join(lines)
