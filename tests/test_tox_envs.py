"""tox's merged report names every env that failed, was skipped or did not finish: toxfile.py's hooks
(run here with fake tox envs, never a real tox) write a status per env, and `report --latest-in` reads them."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from concurrency_lab.commands import cli
from concurrency_lab.report import envs
from concurrency_lab.report.envs import FAILED, OK, RUNNING, SKIPPED, EnvStatus, env_notes, read_status, write_status

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "data" / "run_py311.json"
THIS_RUN, EARLIER_RUN = "2026-12-07T10:00:00+00:00", "2026-12-01T09:00:00+00:00"


def status(env: str, state: str, *, run: str = THIS_RUN, exit_code: int | None = None, reason: str = "") -> EnvStatus:
    return EnvStatus(env, state, run, run, exit_code, reason)


def env_folder(benchmarks: Path, env_status: EnvStatus, *, results: bool) -> Path:
    folder = benchmarks / env_status.env
    write_status(folder, env_status)
    if results:
        shutil.copy(RESULTS, folder / envs.RESULTS_FILE)
    return folder


# --- the report's side, from status files made here -------------------------------------------------------

def test_each_env_without_fresh_results_gets_one_line_saying_why(tmp_path):
    env_folder(tmp_path, status("3.11", OK), results=True)
    env_folder(tmp_path, status("3.12", FAILED, exit_code=1, reason="`pytest -n auto` exited 1"), results=False)
    env_folder(tmp_path, status("3.13", FAILED, exit_code=1, reason="`pytest tests/test_advise_classes.py` exited 1"),
               results=True)
    env_folder(tmp_path, status("3.14", SKIPPED, reason="could not find python interpreter with spec(s): 3.14"),
               results=False)
    env_folder(tmp_path, status("3.14t", RUNNING), results=False)
    env_folder(tmp_path, status("3.10", OK, run=EARLIER_RUN), results=True)
    assert dict(env_notes([tmp_path])) == {
        "3.10": f"ran OK (in an earlier tox run, started {EARLIER_RUN}): not part of the newest tox run; "
                "its results are shown",
        "3.12": "failed (exit 1): `pytest -n auto` exited 1; no results",
        "3.13": "failed (exit 1): `pytest tests/test_advise_classes.py` exited 1; the benchmarks saved theirs "
                "before that, shown",
        "3.14": "skipped: could not find python interpreter with spec(s): 3.14; no results",
        "3.14t": f"did not finish: tox was stopped while it ran (started {THIS_RUN}); no results",
    }


def test_an_unreadable_status_is_named_not_fatal(tmp_path):
    (tmp_path / "3.12").mkdir()
    (tmp_path / "3.12" / envs.STATUS_FILE).write_text("{not json")
    (tmp_path / "3.13").mkdir()
    (tmp_path / "3.13" / envs.STATUS_FILE).write_text(json.dumps({"schema": envs.SCHEMA + 1}))
    notes = dict(env_notes([tmp_path, tmp_path / "missing"]))
    assert notes["3.12"].startswith("its tox status file is unreadable: not JSON")
    assert notes["3.13"].startswith(f"its tox status file is unreadable: expected a status of schema {envs.SCHEMA}")


def test_a_status_survives_its_round_trip_and_is_not_taken_for_results(tmp_path):
    written = status("3.12", FAILED, exit_code=2, reason="why")
    path = write_status(tmp_path, written)
    assert read_status(tmp_path) == written and read_status(tmp_path / "none") is None
    assert not path.name.endswith(".json")  # `report FOLDER` takes every *.json as results
    assert [p.name for p in tmp_path.iterdir()] == [envs.STATUS_FILE]  # no temporary file left
    assert path.stat().st_mode & 0o777 == 0o644  # readable by others, as the reports are (mkstemp makes 0600)


def test_the_merged_report_lists_the_envs_that_failed_or_were_skipped(tmp_path, capsys):
    benchmarks, out = tmp_path / ".benchmarks", tmp_path / "reports" / "tox"
    env_folder(benchmarks, status("3.11", OK), results=True)
    env_folder(benchmarks, status("3.12", FAILED, exit_code=1, reason="`pytest -n auto` exited 1"), results=False)
    env_folder(benchmarks, status("3.14", SKIPPED, reason="could not find python interpreter with spec(s): 3.14"),
               results=False)
    assert cli.main(["report", "--latest-in", str(benchmarks), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: tox env 3.12: failed (exit 1): `pytest -n auto` exited 1; no results" in err
    assert "warning: tox env 3.14: skipped: could not find python interpreter" in err
    summary = json.loads((out / "summary.json").read_text())
    sources = [warning["source"] for warning in summary["warnings"]]
    assert sources[:2] == ["tox env 3.12", "tox env 3.14"] and "tox env 3.11" not in sources
    markdown = (out / "summary.md").read_text()
    assert "tox env 3.12: failed (exit 1)" in markdown and "tox env 3.14: skipped: could not find" in markdown


def test_when_every_env_failed_the_refusal_comes_after_why(tmp_path, capsys):
    benchmarks = tmp_path / ".benchmarks"
    env_folder(benchmarks, status("3.12", FAILED, exit_code=1, reason="`pytest -n auto` exited 1"), results=False)
    assert cli.main(["report", "--latest-in", str(benchmarks), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "warning: tox env 3.12: failed (exit 1): `pytest -n auto` exited 1; no results",
        "concurrency-lab report: error: no results given or found"]


def test_tox_writes_its_report_apart_from_the_one_run_writes():
    from configparser import ConfigParser

    tox = ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    commands = tox["testenv:report"]["commands"]
    assert "--out {toxinidir}/reports/tox" in commands and "--latest-in {toxinidir}/.benchmarks" in commands
    assert tox["testenv:report"]["set_env"].strip() == ""  # saves no results: no status of its own


# --- toxfile.py's hooks, with fake tox envs ------------------------------------------------------------------

class Skip(Exception):
    """Named as tox's own (tox.tox_env.errors.Skip): the hook tells a skip by the name."""


@pytest.fixture
def toxfile(monkeypatch) -> Any:
    """toxfile.py loaded afresh (its record of the envs that ran starts empty), with a stand-in for
    tox.plugin's `impl` marker where tox is not installed (the test envs do not install it)."""
    if importlib.util.find_spec("tox") is None:
        plugin = types.ModuleType("tox.plugin")
        plugin.impl = lambda function: function  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "tox", types.ModuleType("tox"))
        monkeypatch.setitem(sys.modules, "tox.plugin", plugin)
    spec = importlib.util.spec_from_file_location("lab_toxfile", ROOT / "toxfile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_env(name: str, benchmarks: Path | None, base_python: Callable[[], object] = lambda: "python3") -> Any:
    class FakeToxEnv:
        conf = SimpleNamespace(name=name)
        environment_variables = {"BENCHMARKS": str(benchmarks)} if benchmarks else {"PATH": "/bin"}
        options = SimpleNamespace(no_test=False)

        @property
        def base_python(self) -> object:
            return base_python()

    return FakeToxEnv()


def fake_outcome(exit_code: int, *cmd: str) -> Any:
    return SimpleNamespace(exit_code=exit_code, cmd=list(cmd))


def test_an_env_that_starts_forgets_its_earlier_results_and_says_it_is_running(toxfile, tmp_path):
    folder = tmp_path / "3.12"
    folder.mkdir()
    (folder / envs.RESULTS_FILE).write_text("{}")
    toxfile.tox_before_run_commands(fake_env("3.12", folder))
    assert not (folder / envs.RESULTS_FILE).exists()
    assert read_status(folder).state == RUNNING and read_status(folder).tox_run == toxfile.TOX_RUN


def test_the_commands_outcome_is_recorded_with_the_command_that_failed(toxfile, tmp_path):
    failing, passing = fake_env("3.12", tmp_path / "3.12"), fake_env("3.11", tmp_path / "3.11")
    for env in (failing, passing):
        toxfile.tox_before_run_commands(env)
    toxfile.tox_after_run_commands(failing, 1, [fake_outcome(0, "pytest", "-n", "auto"),
                                                fake_outcome(1, "pytest", "tests/test_benchmarks.py", "-n", "0")])
    toxfile.tox_after_run_commands(passing, 0, [fake_outcome(0, "pytest")])
    for env in (failing, passing):
        toxfile.tox_env_teardown(env)  # after commands that ran: changes nothing
    assert read_status(tmp_path / "3.12") == EnvStatus("3.12", FAILED, toxfile.TOX_RUN, read_status(tmp_path / "3.12").updated,
                                                       1, "`pytest tests/test_benchmarks.py -n 0` exited 1")
    assert read_status(tmp_path / "3.11").state == OK
    assert dict(env_notes([tmp_path])) == {"3.12": "failed (exit 1): `pytest tests/test_benchmarks.py -n 0` exited 1; "
                                                   "no results"}


def test_an_env_without_its_python_is_recorded_as_skipped_with_tox_s_reason(toxfile, tmp_path):
    folder = tmp_path / "3.14"
    folder.mkdir()
    (folder / envs.RESULTS_FILE).write_text("{}")  # an earlier run's: not this run's results

    def missing() -> object:
        raise Skip("could not find python interpreter with spec(s): 3.14")

    toxfile.tox_env_teardown(fake_env("3.14", folder, missing))
    assert not (folder / envs.RESULTS_FILE).exists()
    assert dict(env_notes([tmp_path])) == {"3.14": "skipped: could not find python interpreter with spec(s): 3.14; "
                                                   "no results"}


def test_an_env_that_failed_before_its_commands_is_recorded_as_failed(toxfile, tmp_path):
    toxfile.tox_env_teardown(fake_env("3.13t", tmp_path / "3.13t"))  # its Python found, its install failed
    recorded = read_status(tmp_path / "3.13t")
    assert (recorded.state, recorded.exit_code) == (FAILED, 1) and "before its commands ran" in recorded.reason


def test_envs_that_save_no_results_get_no_status(toxfile, tmp_path):
    for env in (fake_env(".pkg", tmp_path / ".pkg"), fake_env("report", None)):
        toxfile.tox_before_run_commands(env)
        toxfile.tox_after_run_commands(env, 0, [])
        toxfile.tox_env_teardown(env)
    assert list(tmp_path.iterdir()) == []
