"""The root conftest's Hypothesis profiles: reproducible in CI, wider and random on a developer's machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
#: Loads the root conftest as pytest would, then prints the settings every @given in the suite starts from.
SHOW_PROFILE = ("import json, conftest; from hypothesis import settings; d = settings.default; "
                "print(json.dumps({'derandomize': d.derandomize, 'database': d.database is None, "
                "'max_examples': d.max_examples, 'deadline': d.deadline}))")


def loaded_settings(**variables: str) -> dict[str, object]:
    """The default settings in a fresh interpreter with the root conftest loaded under `variables` only."""
    environ = {key: value for key, value in os.environ.items()
               if key not in ("CI", "HYPOTHESIS_PROFILE", "GITHUB_ACTIONS", "TF_BUILD", "CODEBUILD_BUILD_ID")}
    done = subprocess.run([sys.executable, "-c", SHOW_PROFILE], env={**environ, **variables}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("ci", ["true", "1", "yes"])
def test_ci_runs_are_derandomized_without_a_database(ci):
    """The same examples on every CI run: a bug found once is found every time until it is fixed."""
    loaded = loaded_settings(CI=ci)
    assert loaded == {"derandomize": True, "database": True, "max_examples": 8, "deadline": None}


def test_a_developer_machine_searches_wider_and_anew():
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    loaded = loaded_settings()
    assert loaded["derandomize"] is False and loaded["max_examples"] == dev.max_examples > ci.max_examples


def test_an_explicit_profile_wins_over_the_ci_variable():
    assert loaded_settings(CI="true", HYPOTHESIS_PROFILE="dev")["derandomize"] is False


@pytest.mark.parametrize("ci", ["", "0", "false"])
def test_a_ci_variable_that_says_no_is_not_ci(ci):
    assert loaded_settings(CI=ci)["derandomize"] is False

