"""tox's in-tree plugin: let plain `tox` find every Python on this machine, as a new user expects, and
record what each env did for the report env.

tox finds interpreters on PATH, where pyenv's shims answer only for the versions `pyenv global`
lists, so an installed 3.10 would be skipped. The pyenv plugins on PyPI fail on tox 4.67; this hook
appends every pyenv version's bin folder and the links to the Pythons provision/pythons provides
(3.13t, 3.13's GIL twin, 3.14, 3.14t), after everything already on PATH, before tox looks; it also
sets CONCURRENCY_LAB_PYTHONS_BIN to that links folder, for the twin3.13 env's base_python.

Each env that saves results (its BENCHMARKS folder, tox.ini's set_env) gets a status file there
(concurrency_lab/report/envs.py): running, then ran OK, failed with its exit code, or skipped and why;
its latest.json from an earlier run is deleted when it starts (or is skipped), so the report env never
merges old results as this run's, and names every env without fresh ones.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from tox.plugin import impl

HERE = Path(__file__).resolve().parent


def _load_by_path(name: str, path: Path) -> Any:
    """A module of the repository without importing its package (tox's Python has none of the lab's dependencies)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, path
    module = sys.modules[name] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


envs = _load_by_path("concurrency_lab_tox_envs", HERE / "concurrency_lab" / "report" / "envs.py")
locations = _load_by_path("concurrency_lab_python_locations", HERE / "provision" / "python_locations.py")
TOX_RUN = envs.now()  # this tox run: the report tells the envs of the newest run from older ones
_ran: set[str] = set()  # the envs whose commands ran in this tox run


@impl
def tox_add_option(parser) -> None:  # the first hook, before any interpreter is looked for
    path = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(path + [folder for folder in locations.tox_path_additions() if folder not in path])
    # For tox.ini's twin3.13, whose interpreter is named by path: no version spec may match it.
    os.environ["CONCURRENCY_LAB_PYTHONS_BIN"] = str(locations.links_dir())


def _results_folder(tox_env: Any) -> Path | None:
    """The env's BENCHMARKS folder; None for an env that saves no results (a packaging env, say)."""
    if tox_env.conf.name.startswith("."):  # tox's packaging envs (.pkg): they run no commands of ours
        return None
    folder = tox_env.environment_variables.get("BENCHMARKS")
    return Path(folder) if folder else None


def _record(tox_env: Any, state: str, exit_code: int | None = None, reason: str = "") -> None:
    folder = _results_folder(tox_env)
    if folder is not None:
        envs.write_status(folder, envs.EnvStatus(tox_env.conf.name, state, TOX_RUN, envs.now(), exit_code, reason))


def _forget_results(tox_env: Any) -> None:
    folder = _results_folder(tox_env)
    if folder is not None:
        (folder / envs.RESULTS_FILE).unlink(missing_ok=True)


@impl
def tox_before_run_commands(tox_env: Any) -> None:
    """An earlier run's latest.json goes: if this one fails, no old results are merged as fresh."""
    _forget_results(tox_env)
    _record(tox_env, envs.RUNNING)


@impl
def tox_after_run_commands(tox_env: Any, exit_code: int, outcomes: list[Any]) -> None:
    _ran.add(tox_env.conf.name)
    failed = next((outcome for outcome in outcomes if outcome.exit_code != 0), None)
    reason = "" if failed is None else f"`{_shown(failed.cmd)}` exited {failed.exit_code}"
    _record(tox_env, envs.OK if exit_code == 0 else envs.FAILED, exit_code, reason)


@impl
def tox_env_teardown(tox_env: Any) -> None:
    """An env whose commands never ran: skipped (no interpreter) or failed while being set up."""
    name = tox_env.conf.name
    if name in _ran or getattr(getattr(tox_env, "options", None), "no_test", False):  # --notest: nothing to say
        return
    _forget_results(tox_env)
    try:
        getattr(tox_env, "base_python", None)  # raises tox's Skip (or NoInterpreter) when none was found
    except Exception as exc:  # noqa: BLE001 - tox's own exception types; their text is the reason
        skipped = type(exc).__name__ == "Skip"
        _record(tox_env, envs.SKIPPED if skipped else envs.FAILED, None if skipped else 1, " ".join(str(exc).split()))
        return
    _record(tox_env, envs.FAILED, 1, "it failed before its commands ran (creating the env or installing); "
                                     "tox's output says why")


def _shown(cmd: list[str], most: int = 100) -> str:
    text = " ".join(map(str, cmd))
    return text if len(text) <= most else text[: most - 3] + "..."
