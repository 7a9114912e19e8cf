"""contract_child.run_in_child, the guard of every crash case: what it reports, and that nothing it started
outlives it, a hung body's own children included."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
from contract_child import run_in_child


def add(x: int, y: int) -> int:
    return x + y


def exit_like_a_task() -> None:
    sys.exit(3)


def hang_with_a_child() -> None:
    """Starts a grandchild that would sleep for minutes, says its pid, and hangs."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    print(sleeper.pid, file=sys.stderr, flush=True)
    time.sleep(300)


def leave_a_child_running() -> int:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"]).pid


def segfault_the_caller() -> None:
    from concurrency_lab.failures.tasks import segfault

    segfault()


def test_a_returned_value_comes_back_as_data():
    outcome = run_in_child(add, 2, 3)
    assert outcome.status == "returned" and outcome.value == 5 and outcome.leftovers == []


def test_an_error_comes_back_by_name_with_its_bases_and_attributes():
    outcome = run_in_child(exit_like_a_task)
    assert outcome.status == "raised" and outcome.is_error("SystemExit") and outcome.is_error("BaseException")
    assert outcome.attributes == {"code": 3} and not outcome.is_error("Exception")


def test_a_hung_body_is_killed_at_its_limit_with_everything_it_started():
    outcome = run_in_child(hang_with_a_child, limit=3)
    assert outcome.status == "hung"
    grandchild = int(outcome.stderr.split()[0])
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE


def test_what_a_body_leaves_running_is_reported_then_killed():
    outcome = run_in_child(leave_a_child_running)
    assert outcome.status == "returned" and len(outcome.leftovers) == 1 and str(outcome.value) in outcome.leftovers[0]
    assert not psutil.pid_exists(outcome.value) or psutil.Process(outcome.value).status() == psutil.STATUS_ZOMBIE


def test_a_caller_that_dies_is_reported_as_died():
    outcome = run_in_child(segfault_the_caller)
    assert outcome.status == "died" and outcome.returncode == -11
