"""The view of an `Advice` (pure data) that both the report's Advice section and advise.html render, with the
screen's own words (`advice`), so that the report, the page and `concurrency-lab advise` never diverge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .advice import Advice, busy_warning, recommendation_text, render, within_noise_text


@dataclass(frozen=True)
class AdviceRow:
    """One measured configuration, as the table shows it ('' where there is no figure)."""

    configuration: str
    speedup: str
    cores_used: str
    startup: str
    rounds: str
    peak_uss: str
    problem: str  # why it must not be recommended ('' when it ran correctly)
    recommended: bool


@dataclass(frozen=True)
class AdviceView:
    function: str
    build: str  # "Python 3.11.7, GIL on, 2 usable CPUs"
    measured: str  # "8 of 64 items, 73 calls, 28.6 s of a 30 s budget"
    recommendation: str | None  # "process_pool with 2 workers, chunksize=4: expected 1.61x sequential (1.55-1.66x over 5 rounds)"
    problem: str | None  # why there is no recommendation
    problem_label: str  # "Not judged" (the measurements could not decide) or "No advice"
    warning: str | None  # other processes loaded the machine while advise measured
    within_noise: str | None  # the configurations not told apart from the one named, with their figures
    reasons: tuple[str, ...]
    rows: tuple[AdviceRow, ...]
    ruled_out: tuple[tuple[str, str], ...]
    not_tried: tuple[tuple[str, str], ...]
    snippet: str
    screen: str  # what `concurrency-lab advise` printed


TABLE_COLUMNS = ("configuration", "speedup", "cores used", "start-up", "rounds", "peak USS", "not recommended")


def build_text(build: Mapping[str, Any]) -> str:
    states: dict[bool | None, str] = {True: "GIL on", False: "GIL off"}
    gil = states.get(build.get("gil_enabled"), "GIL unknown")
    if build.get("free_threaded_build"):
        gil += " (free-threaded build)"
    cpus = build.get("usable_cpus")
    return f"Python {build.get('python') or '(version unknown)'}, {gil}" + (f", {cpus} usable CPUs" if cpus else "")


def advice_view(advice: Advice) -> AdviceView:
    base = advice.trials[0].seconds if advice.trials and advice.trials[0].ok else None
    rows = []
    for trial in advice.trials:
        ran = trial.ok and bool(base)
        rows.append(AdviceRow(
            configuration=trial.config.label,
            speedup=f"{base / trial.seconds:.2f}x" if base and ran else "",
            cores_used=f"{trial.median_cores:.2f}" if ran and trial.median_cores is not None else "",
            startup="" if not ran or trial.startup_seconds is None else f"{trial.startup_seconds * 1e3:.0f} ms",
            rounds=str(len(trial.round_seconds)) if ran else "",
            peak_uss="" if not ran or trial.peak_uss_bytes is None else f"{trial.peak_uss_bytes / 2**20:.0f} MiB",
            problem="" if ran else (trial.problem or "no rounds"),
            recommended=trial.config == advice.recommended,
        ))
    recommendation = recommendation_text(advice)
    return AdviceView(
        function=advice.function,
        build=build_text(advice.build),
        measured=(f"{advice.items_sampled} of {advice.items_total} items, {advice.calls} calls, "
                  f"{advice.elapsed_seconds:.1f} s of a {advice.budget_seconds:g} s budget"),
        recommendation=recommendation,
        problem=None if recommendation else (advice.problem or "no configuration was recommended"),
        problem_label="No advice" if advice.judged else "Not judged",
        warning=busy_warning(advice),
        within_noise=within_noise_text(advice),
        reasons=tuple(advice.reasons),
        rows=tuple(rows),
        ruled_out=tuple(advice.ruled_out.items()),
        not_tried=tuple(advice.not_tried.items()),
        snippet=advice.snippet,
        screen=render(advice),
    )

