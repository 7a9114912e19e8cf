"""What each tox env did, for the report tox merges: one small status file per env, written by toxfile.py's
hooks (ran OK, failed with its exit code, skipped and why) and read by `concurrency-lab report --latest-in`,
so the merged report names every env that has no fresh results instead of leaving it out in silence.

Standard library only, and importing nothing of the lab: tox's own Python loads this file by path.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: Beside the env's latest.json. Not *.json: `concurrency-lab report FOLDER` takes every *.json as results.
STATUS_FILE = "tox-env.status"
RESULTS_FILE = "latest.json"  # what the env's benchmarks save for the report env (tox.ini)
SCHEMA = 1

RUNNING, OK, FAILED, SKIPPED = "running", "ok", "failed", "skipped"
STATES = (RUNNING, OK, FAILED, SKIPPED)


class UnreadableStatus(ValueError):
    """A status file that is not one this module wrote: its text says what is wrong."""


def now() -> str:
    """The time, as status files give it: ISO 8601 in UTC, to the second (sorts as text)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class EnvStatus:
    """One tox env's last run, as its hooks saw it."""

    env: str
    state: str  # one of STATES; RUNNING until the commands end (a status left RUNNING: tox was stopped)
    tox_run: str  # when the tox run that wrote it started (`now`): the envs of one run share it
    updated: str  # when this status was written
    exit_code: int | None = None  # the commands' (FAILED), None when they never ran
    reason: str = ""  # why it failed or was skipped, one line

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvStatus:
        if not isinstance(data, Mapping) or data.get("schema") != SCHEMA:
            raise UnreadableStatus(f"expected a status of schema {SCHEMA}, got {str(data)[:80]}")
        keys = ("env", "state", "tox_run", "updated", "reason")
        texts = {key: value for key in keys if isinstance(value := data.get(key), str)}
        if len(texts) < len(keys) or texts["state"] not in STATES:
            raise UnreadableStatus(f"a field is missing or not text, or the state is not one of {', '.join(STATES)}")
        exit_code = data.get("exit_code")
        if exit_code is not None and type(exit_code) is not int:
            raise UnreadableStatus(f"exit_code is not a whole number: {exit_code!r}")
        return cls(exit_code=exit_code, **texts)


def write_status(folder: Path, status: EnvStatus) -> Path:
    """Write `status` into the env's results `folder`, whole or not at all (a report may read it meanwhile)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STATUS_FILE
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{STATUS_FILE}.")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(status.to_dict(), file, indent=1)
    os.chmod(temporary, 0o644)  # mkstemp makes 0600; like the reports (core.atomic_files.REPORT_MODE), others may read it
    os.replace(temporary, path)
    return path


def read_status(folder: Path) -> EnvStatus | None:
    """The status in the env's results `folder`, None when there is none; UnreadableStatus when broken."""
    path = folder / STATUS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableStatus(f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableStatus(f"not JSON ({exc})") from None
    return EnvStatus.from_dict(data)


def env_notes(results_folders: Iterable[Path]) -> list[tuple[str, str]]:
    """(env, line) for each env under `results_folders` (``.benchmarks``: one folder per env) whose
    results are not a fresh, whole run: it failed, was skipped, never finished, or its status is from an
    earlier tox run than the newest. Envs that ran OK in the newest run say nothing."""
    found: list[tuple[str, Path, EnvStatus | None, str]] = []
    for parent in results_folders:
        try:
            folders = sorted(path for path in Path(parent).iterdir() if (path / STATUS_FILE).exists())
        except OSError:
            continue  # a folder that cannot be listed: `report` says so about its results
        for folder in folders:
            try:
                found.append((folder.name, folder, read_status(folder), ""))
            except UnreadableStatus as exc:
                found.append((folder.name, folder, None, str(exc)))
    newest = max((status.tox_run for _, _, status, _ in found if status is not None), default="")
    notes = []
    for env, folder, status, problem in found:
        line = f"its tox status file is unreadable: {problem}" if status is None else _note(status, folder, newest)
        if line:
            notes.append((env, line))
    return notes


def _note(status: EnvStatus, folder: Path, newest_run: str) -> str | None:
    has_results = (folder / RESULTS_FILE).exists()
    results = "its results are shown" if has_results else "no results"
    earlier = "" if status.tox_run == newest_run else f" (in an earlier tox run, started {status.tox_run})"
    if status.state == FAILED:
        code = "" if status.exit_code is None else f" (exit {status.exit_code})"
        reason = f": {status.reason}" if status.reason else ""
        saved = "; the benchmarks saved theirs before that, shown" if has_results else "; no results"
        return f"failed{code}{reason}{earlier}{saved}"
    if status.state == SKIPPED:
        return f"skipped: {status.reason or 'no reason given'}{earlier}; {results}"
    if status.state == RUNNING:
        return f"did not finish: tox was stopped while it ran (started {status.updated}); {results}"
    if earlier:
        return f"ran OK{earlier}: not part of the newest tox run; {results}"
    return None
