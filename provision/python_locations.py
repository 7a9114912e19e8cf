"""Where the lab's Pythons are: the targets it names, the folders tox searches, the cache, and what counts.

Shared by provision/pythons (which finds or builds them), toxfile.py (which gives tox the same folders)
and .ci/run (which checks that tox ran what was provided). Standard library only: tox's own Python
imports it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

MANIFEST = "provided.json"
MANIFEST_SCHEMA = 1
#: A build counts only if all of these import; without ssl, pip cannot install anything.
REQUIRED_MODULES = ("ssl", "ctypes", "zlib", "lzma", "bz2", "sqlite3")
PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Target:
    """A Python the matrix names: its tox env, the command tox looks for, and how it is built."""

    name: str
    minor: str
    free_threaded: bool
    command: str
    twin_of: str | None = None  # only built, from the source and flags of this target's own build

    @property
    def executable(self) -> str:
        """What `make altinstall` installs in the prefix's bin."""
        return f"python{self.minor}{'t' if self.free_threaded else ''}"


TARGETS = (
    Target("3.13t", "3.13", True, "python3.13t"),
    Target("twin3.13", "3.13", False, "python3.13-twin", twin_of="3.13t"),
    Target("3.14", "3.14", False, "python3.14"),
    Target("3.14t", "3.14", True, "python3.14t"),
)
TARGET_BY_NAME = {target.name: target for target in TARGETS}


@dataclass(frozen=True)
class Provided:
    """`provided.json`: the interpreters the last run provided (tox env -> interpreter) and those it could not."""

    pythons: dict[str, dict[str, str]]
    unavailable: dict[str, str]
    schema: int = MANIFEST_SCHEMA

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Provided:
        if data.get("schema") != MANIFEST_SCHEMA:
            raise ValueError(f"{MANIFEST} schema {data.get('schema')!r}; this provision/pythons reads {MANIFEST_SCHEMA}")
        return cls(dict(data["pythons"]), dict(data["unavailable"]))

    @classmethod
    def load(cls, root: Path | None = None) -> Provided:
        """The last run's manifest; empty when the script never ran here."""
        path = (root or pythons_root()) / MANIFEST
        if not path.exists():
            return cls({}, {})
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


# -- where they are ----------------------------------------------------------------------------

def pythons_root(env: Mapping[str, str] = os.environ) -> Path:
    """The cache folder, outside any repository: $CONCURRENCY_LAB_PYTHONS, else ~/.cache/concurrency-lab/pythons."""
    if env.get("CONCURRENCY_LAB_PYTHONS"):
        return Path(env["CONCURRENCY_LAB_PYTHONS"]).expanduser()
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path(env.get("HOME", "~")).expanduser() / ".cache"
    return cache / "concurrency-lab" / "pythons"


def links_dir(env: Mapping[str, str] = os.environ) -> Path:
    return pythons_root(env) / "bin"


def pyenv_root(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("PYENV_ROOT") or Path(env.get("HOME", "~")).expanduser() / ".pyenv")


def _version_key(text: str) -> list[int]:
    return [int(number) for number in re.findall(r"\d+", text)]


def pyenv_bins(env: Mapping[str, str] = os.environ) -> list[Path]:
    """Every pyenv version's bin folder, newest first (tox sees only pyenv's global versions through the shims)."""
    versions = pyenv_root(env) / "versions"
    found = [path / "bin" for path in versions.glob("*") if (path / "bin").is_dir()] if versions.is_dir() else []
    return sorted(found, key=lambda path: _version_key(path.parent.name), reverse=True)


def uv_bins(env: Mapping[str, str] = os.environ) -> list[Path]:
    """The bin folders of uv-managed Pythons, newest first."""
    if env.get("UV_PYTHON_INSTALL_DIR"):
        root = Path(env["UV_PYTHON_INSTALL_DIR"]).expanduser()
    else:
        home = Path(env.get("HOME", "~")).expanduser()
        data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
        root = data / "uv" / "python"
    found = [path / "bin" for path in root.glob("cpython-*") if (path / "bin").is_dir()] if root.is_dir() else []
    return sorted(found, key=lambda path: _version_key(path.parent.name), reverse=True)


def tox_path_additions(env: Mapping[str, str] = os.environ) -> list[str]:
    """What toxfile.py appends to tox's PATH: every pyenv version, then what this script provides."""
    return [str(path) for path in (*pyenv_bins(env), links_dir(env))]


def interpreter_search_path(env: Mapping[str, str] = os.environ) -> list[str]:
    """The folders where tox (with toxfile.py) finds interpreters, without version managers' shims."""
    shims = {str(pyenv_root(env) / "shims")}
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if entry and entry.rstrip("/") not in shims]
    return path + tox_path_additions(env)


# -- what counts ---------------------------------------------------------------------------------

_PROBE = """
import importlib, json, platform, sys, sysconfig
missing = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        missing.append(f"{name} ({type(error).__name__}: {error})")
print(json.dumps({"version": platform.python_version(), "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
                  "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(), "missing": missing}))
"""


def probe(executable: Path) -> dict | str:
    """What the interpreter says about itself (version, free-threaded build, missing modules), or why it could not say."""
    try:
        done = subprocess.run([str(executable), "-I", "-c", _PROBE, *REQUIRED_MODULES], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"does not run ({type(error).__name__}: {error})"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return f"does not run (exit status {done.returncode}: {(done.stderr.strip().splitlines() or ['no output'])[-1]})"


def why_not(target: Target, facts: dict | str) -> str | None:
    """Why an interpreter with these `probe` facts is not `target` (None: it is)."""
    if isinstance(facts, str):
        return facts
    if not str(facts["version"]).startswith(target.minor + "."):
        return f"is Python {facts['version']}, not {target.minor}"
    if bool(facts["free_threaded"]) != target.free_threaded:
        return "is a GIL build" if target.free_threaded else "is a free-threaded build"
    if facts["missing"]:
        return f"lacks {', '.join(facts['missing'])}"
    return None


def check(target: Target, executable: Path) -> tuple[str | None, str]:
    facts = probe(executable)
    return why_not(target, facts), facts["version"] if isinstance(facts, dict) else "?"


def candidates(target: Target, env: Mapping[str, str]) -> Iterator[tuple[str, Path]]:
    """Interpreters already present that may be `target`, in the order tox would find them."""
    ours = {str(links_dir(env)), str(pyenv_root(env) / "shims")}
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry and entry.rstrip("/") not in ours:
            yield "on PATH", Path(entry) / target.command
    for where, bins in (("in pyenv", pyenv_bins(env)), ("uv-managed", uv_bins(env))):
        for folder in bins:
            yield where, folder / target.command
