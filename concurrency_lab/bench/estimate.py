"""How long a benchmark run will take: before it starts (the opening line) and while it runs (the ETA).

Pure arithmetic over case ids and seconds, so that it is tested with made-up figures. The best
evidence is this folder's previous run of the same profile, whose JSON keeps each case's seconds
(`TIMING_KEY`, written by the pytest plugin); without one, a per-case guess for the profile.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Where the plugin keeps the run's timing in the benchmark JSON: the profile, each case's seconds
#: (set-up, rounds and tear-down) and the whole session's (start-up and the failure table included).
TIMING_KEY = "lab_timing"

#: Seconds per case when this folder has no earlier run of the profile: a 2-core machine's mean for smoke and
#: standard (the `lab_timing` key of a `concurrency-lab run --profile NAME` JSON holds each case's seconds);
#: full is standard's figure scaled by its rounds (13 vs 8 with warm-up) and sizes (about 3x): a guess.
GUESSED_CASE_SECONDS = {"smoke": 1.5, "standard": 6.6, "full": 32.0}
GUESSED_FIXED_SECONDS = 5.0  # interpreter start, the helper processes, the failure-modes table, the reports
OUTSIDE_SESSION_SECONDS = 2.0  # the interpreter's start and imports, and the reports: not in the session's time


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str  # what it came from, for the opening line: "from this folder's previous smoke run (...)"


@dataclass(frozen=True)
class Timing:
    """One earlier run's timing, as the plugin saved it."""

    profile: str
    case_seconds: dict[str, float]
    session_seconds: float
    when: str  # pytest-benchmark's "datetime" of that run, for the opening line

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Timing | None:
        """The timing kept in a results document; None for a file without one (older, or not the lab's)."""
        timing = document.get(TIMING_KEY)
        if not isinstance(timing, Mapping):
            return None
        cases, session = timing.get("case_seconds"), timing.get("session_seconds")
        if not isinstance(cases, Mapping) or not isinstance(session, (int, float)) or not isinstance(timing.get("profile"), str):
            return None
        seconds = {str(k): float(v) for k, v in cases.items() if isinstance(v, (int, float)) and v >= 0}
        when = document.get("datetime")
        return cls(timing["profile"], seconds, float(session), when[:16].replace("T", " ") if isinstance(when, str) else "")


def previous_timing(results_dir: Path, profile: str) -> tuple[Path, Timing] | None:
    """The newest run of `profile` among the JSON files in `results_dir` (named by their start time), and its file."""
    try:
        files = sorted(results_dir.glob("*.json"), reverse=True)
    except OSError:
        return None
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # not ours to judge here: `report` says what is wrong with a file
        timing = Timing.from_document(document) if isinstance(document, dict) else None
        if timing is not None and timing.profile == profile and timing.case_seconds:
            return path, timing
    return None


def estimate_run(case_ids: Sequence[str], profile: str, previous: Timing | None) -> Estimate:
    """The whole run's seconds: the previous run's time for each case it also ran (its typical case for
    the others) plus what it spent outside the cases; else the profile's guess per case."""
    if previous is not None and set(case_ids) & set(previous.case_seconds):
        typical = statistics.median(previous.case_seconds.values())
        cases = sum(previous.case_seconds.get(case, typical) for case in case_ids)
        fixed = max(previous.session_seconds - sum(previous.case_seconds.values()), 0.0)
        when = f", {previous.when}" if previous.when else ""
        return Estimate(cases + fixed + OUTSIDE_SESSION_SECONDS, f"from this folder's previous {profile} run{when}")
    per_case = GUESSED_CASE_SECONDS.get(profile, max(GUESSED_CASE_SECONDS.values()))
    return Estimate(len(case_ids) * per_case + GUESSED_FIXED_SECONDS,
                    f"a guess of {per_case:g} s a case; the next run here estimates from this one")


def remaining_seconds(elapsed: float, done: Sequence[str], remaining: Sequence[str],
                      expected: Mapping[str, float] | None = None) -> float | None:
    """Seconds left after `done` took `elapsed`: the remaining cases' expected times (an earlier run's),
    scaled by how this run compares so far; without them, the mean so far for each. None before any."""
    if not done:
        return None
    if expected:
        typical = statistics.median(expected.values())
        so_far = sum(expected.get(case, typical) for case in done)
        if so_far > 0:
            return elapsed / so_far * sum(expected.get(case, typical) for case in remaining)
    return elapsed / len(done) * len(remaining)


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 05 min``: as rough as an estimate is."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
