"""The hygiene fixtures: a test that leaves a process or a non-daemon thread running fails, naming
them; helpers kept for the session (and multiprocessing's own) may outlive a test, not the session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# A small suite run by pytest in a child process, with this suite's conftest.py and hygiene.py.
SUITE = '''
import multiprocessing, subprocess, sys, threading, time
import pytest

SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]

@pytest.fixture(scope="session")
def kept():
    """Helpers started on first use, as the workload environments are; all but "forgotten" stopped at the end."""
    started = {}
    yield started
    for name, process in started.items():
        if name != "forgotten":
            process.kill()
            process.wait()

def test_leaks_a_process():
    subprocess.Popen(SLEEPER)

def test_leaks_a_thread():
    threading.Thread(target=time.sleep, args=(1,), name="left-behind").start()

def test_a_process_that_exits_within_the_grace_is_no_leak():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])

def test_a_forkserver_pool_leaves_only_multiprocessing_helpers():
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        assert pool.map(abs, [-1, -2]) == [1, 2]

def test_a_session_fixture_may_start_its_helper_on_first_use(kept):
    kept["server"] = subprocess.Popen(SLEEPER)

def test_allowed_outright(allow_long_lived, kept):
    kept["other"] = process = subprocess.Popen(SLEEPER)
    allow_long_lived(process.pid)

def test_zz_kept_but_never_stopped(kept):
    kept["forgotten"] = subprocess.Popen(SLEEPER)
'''


def run_suite(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # In a folder below the rootdir, as here: pytest asks a session fixture's hooks of the rootdir's conftest only.
    suite = tmp_path / "tests"
    suite.mkdir()
    (suite / "support").mkdir()
    shutil.copy(TESTS / "conftest.py", suite / "conftest.py")
    shutil.copy(TESTS / "support" / "hygiene.py", suite / "support" / "hygiene.py")
    (suite / "conftest.py").write_text((suite / "conftest.py").read_text() + "\nhygiene.GRACE_SECONDS = 0.5\n")
    (suite / "test_suite.py").write_text(textwrap.dedent(SUITE))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull, "--rootdir", str(tmp_path),
                           "-p", "no:randomly", "-rA", "-q", *args, str(suite)],
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)


def outcomes(output: str, outcome: str) -> list[str]:
    return re.findall(rf"^{outcome} \S+::(\w+)", output, re.MULTILINE)


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_leaks_fail_their_own_test_and_the_session_checks_what_it_kept(tmp_path, xdist):
    done = run_suite(tmp_path, *xdist)
    every_test = re.findall(r"^def (test_\w+)", SUITE, re.MULTILINE)
    assert sorted(outcomes(done.stdout, "PASSED")) == sorted(every_test), done.stdout  # the calls all pass
    errors = outcomes(done.stdout, "ERROR")  # a teardown error: a leak, or what the session's end found
    assert {"test_leaks_a_process", "test_leaks_a_thread"} < set(errors) and len(errors) == 3, done.stdout
    assert re.search(r"test_leaks_a_process leaked: when it ended, 1 child process and 0 non-daemon threads were still "
                     r"running after a grace of 0.5 s:\n  process pid \d+: \S*python\S* -c import time; time.sleep\(30\)\n",
                     done.stdout), done.stdout
    assert ("test_leaks_a_thread leaked: when it ended, 0 child processes and 1 non-daemon thread were still running "
            "after a grace of 0.5 s:\n  thread 'left-behind'\n") in done.stdout
    # In the teardown of the last test to run (of its xdist worker): only the helper its fixture never stopped.
    assert re.search(r"When the session ended, 1 child process and 0 non-daemon threads were still running after a grace "
                     r"of 0.5 s:\n  process pid \d+: \S*python\S* -c import time; time.sleep\(30\)\n", done.stdout), done.stdout
