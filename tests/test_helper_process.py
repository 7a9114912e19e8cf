"""Helper processes: started with this package importable, stopped by SIGTERM then SIGKILL, always reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile

import pytest

import concurrency_lab
from concurrency_lab.core import helper_process

TIMEOUT = 30.0  # only proves nothing hung


def test_the_child_environment_puts_this_package_first_on_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "elsewhere")
    path = helper_process.child_env()["PYTHONPATH"].split(os.pathsep)
    assert os.path.dirname(os.path.dirname(concurrency_lab.__file__)) == path[0] and path[1:] == ["elsewhere"]


@pytest.mark.skipif(sys.platform == "win32", reason="terminate() is already a kill there")
def test_stop_kills_a_helper_that_ignores_sigterm_after_the_grace() -> None:
    ignoring = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen([sys.executable, "-c", ignoring], stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        helper_process.stop(process, grace=0.2)
    assert process.returncode == -signal.SIGKILL and process.stdout.closed
    helper_process.stop(process)  # idempotent: already reaped


def test_a_failure_names_the_helper_its_exit_code_and_its_stderr() -> None:
    with tempfile.TemporaryFile() as stderr:
        process = helper_process.start("concurrency_lab.no_such_module", stdin=subprocess.DEVNULL, stderr=stderr)
        process.wait(TIMEOUT)
        error = helper_process.failure("test helper", process, stderr, "exited")
    assert str(error).startswith(f"test helper process {process.pid} exited (exit code 1); its stderr:\n")
    assert "No module named concurrency_lab.no_such_module" in str(error)
