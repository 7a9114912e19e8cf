"""Run a test's body in a child interpreter with its own short limit, and get its outcome back as data.

CPython's executor tests guard each crash case with a deadline (`_fail_on_deadlock`); here the whole body
runs in ``python -c`` in a session of its own, so that a hang, a dead caller or a leaked worker costs the
limit, never a hung xdist worker: when the limit passes the child's whole process group is killed. What it
returned or raised comes back as an `Outcome` (names and messages, not objects: the child's classes need
not exist here), and every process of its group still running once it ended is listed, then killed.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

#: The child's own limit: a body that passes takes seconds (a Dask cluster's start is the longest part; pytest
#: --durations shows them), several times less than this even with both cores busy.
CHILD_LIMIT_SECONDS = 20.0
#: How long the child's workers may take to exit after it did, before they count as left running.
LEFTOVER_GRACE_SECONDS = 5.0
TESTS_DIR = pathlib.Path(__file__).resolve().parent
_ATTRIBUTES = ("code", "exit_type")  # TaskExit's; what else an error carries is in its message


@dataclass
class Outcome:
    """How a body run in a child ended: `status` is "returned" (with `value`), "raised" (with the error's
    type name, message, base classes and cause), "hung" (killed at the limit) or "died" (no outcome: the
    child itself crashed or exited)."""

    status: str
    value: Any = None
    error_type: str | None = None
    message: str = ""
    bases: list[str] = field(default_factory=list)
    cause_type: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    returncode: int | None = None
    leftovers: list[str] = field(default_factory=list)  # processes of its group alive after it ended
    stderr: str = ""

    def is_error(self, name: str) -> bool:
        """It raised `name` or a subclass of it (by class name: TaskExit need not exist in this process)."""
        return self.status == "raised" and (self.error_type == name or name in self.bases)

    def __str__(self) -> str:
        if self.status == "returned":
            return f"returned {self.value!r}"
        if self.status == "raised":
            return f"raised {self.error_type}: {self.message[:600]} (cause {self.cause_type}, bases {self.bases})"
        tail = self.stderr.strip()[-1500:]
        return f"{self.status} (exit {self.returncode}); stderr:\n{tail}"


def run_in_child(body: Callable[..., Any], *args: Any, limit: float = CHILD_LIMIT_SECONDS) -> Outcome:
    """Call the module-level `body(*args)` (JSON-able arguments) in a fresh interpreter, within `limit` s.

    The body's return value must be JSON-able. Anything it leaves running (a worker that outlived it) is
    reported in `leftovers` and killed: nothing started here outlives the call.
    """
    with tempfile.TemporaryDirectory(prefix="lab-contract-") as folder:
        result_path = pathlib.Path(folder) / "outcome.json"
        code = (f"import sys; sys.path[:0] = [{str(TESTS_DIR)!r}, {str(TESTS_DIR.parent)!r}]; import contract_child; "
                f"contract_child._child_main({body.__module__!r}, {body.__qualname__!r}, {json.dumps(args)!r}, "
                f"{str(result_path)!r})")
        python_path = os.pathsep.join(filter(None, [str(TESTS_DIR), str(TESTS_DIR.parent), os.environ.get("PYTHONPATH")]))
        env = dict(os.environ, PYTHONPATH=python_path)
        env.pop("PYTHONFAULTHANDLER", None)  # a deliberate crash dumps nothing (see failures.tasks.segfault)
        # stderr goes to a file, not a pipe: a worker the body left running would hold a pipe open, and
        # waiting for its end would wait for that worker rather than for the child.
        with open(pathlib.Path(folder) / "stderr", "w+b") as stderr_file:
            process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=stderr_file,
                                       env=env, cwd=folder, start_new_session=True)
            try:
                process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.wait()
                status = "hung"
            except BaseException:  # interrupted here (Ctrl-C, pytest-timeout): its session would outlive us
                _kill_group(process.pid)
                process.wait()
                raise
            else:
                status = "died" if not result_path.exists() else "returned"
            leftovers = _stop_group(process.pid)
            stderr_file.seek(0)
            stderr = stderr_file.read().decode(errors="replace")
        if status != "returned":
            return Outcome(status, returncode=process.returncode, stderr=stderr, leftovers=leftovers)
        data = json.loads(result_path.read_text())
    return Outcome(**data, returncode=process.returncode, stderr=stderr, leftovers=leftovers)


def _group_members(group: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (OSError, psutil.Error):
            continue
    return found


def _kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _stop_group(group: int) -> list[str]:
    """What of the child's group is still running after LEFTOVER_GRACE_SECONDS (described), all killed then."""
    deadline = time.monotonic() + LEFTOVER_GRACE_SECONDS
    members = _group_members(group)
    while members and time.monotonic() < deadline:
        time.sleep(0.05)
        members = _group_members(group)
    described = []
    for process in members:
        try:
            described.append(f"pid {process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            described.append(f"pid {process.pid}")
    _kill_group(group)
    psutil.wait_procs(members, timeout=LEFTOVER_GRACE_SECONDS)  # SIGKILL is delivered, not waited for
    return described


def _child_main(module_name: str, qualname: str, args_json: str, result_path: str) -> None:
    """In the child: run the body, write its outcome, and end (workers it left are the parent's to find)."""
    import importlib

    body = importlib.import_module(module_name)
    for part in qualname.split("."):
        body = getattr(body, part)
    try:
        outcome: dict[str, Any] = {"status": "returned", "value": body(*json.loads(args_json))}
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt are outcomes too
        outcome = {"status": "raised", **describe_error(exc)}
    pathlib.Path(result_path).write_text(json.dumps(outcome, default=repr))
    sys.stdout.flush()
    os._exit(0)  # not interpreter shutdown: a pool the body left would be joined there, and hide a leak


def describe_error(exc: BaseException) -> dict[str, Any]:
    """An error as data a body can return and `Outcome` takes: what the tests compare, by name."""
    return {
        "error_type": type(exc).__name__,
        "message": str(exc),
        "bases": [cls.__name__ for cls in type(exc).__mro__[1:]],
        "cause_type": None if exc.__cause__ is None else type(exc.__cause__).__name__,
        "attributes": {name: _plain(getattr(exc, name)) for name in _ATTRIBUTES if hasattr(exc, name)},
    }


def error_outcome(report: dict[str, Any] | None) -> Outcome | None:
    """The `describe_error` report a body returned, as an Outcome (None stays None)."""
    return None if report is None else Outcome("raised", **report)


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str, bool, type(None))) else repr(value)
