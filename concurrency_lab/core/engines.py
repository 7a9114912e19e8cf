"""Optional engines (loky, joblib, Dask): found without importing them, and named with the install hint when missing.

The core install stays lean: a variant whose engine is missing is listed as unavailable, with the
``pip install`` line that adds it, and its tests skip with that reason. Nothing here imports an
engine: `concurrency-lab list` and the CLI's choices must not pay for Dask's import.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Engine:
    """One optional engine: the module a variant imports, the distribution that provides it, its extra."""

    module: str
    distribution: str
    extra: str
    #: Why it cannot be installed on some builds, when that is known (its dependencies' wheels).
    free_threaded_note: str | None = None

    @property
    def install_hint(self) -> str:
        return f'pip install "concurrency-lab[{self.extra}]" (or "concurrency-lab[engines]" for all of them)'

    def missing_reason(self) -> str | None:
        """None when the engine can be imported here; otherwise why not, with the install hint."""
        if importlib.util.find_spec(self.module) is not None:
            return None
        reason = f"{self.distribution} is not installed: {self.install_hint}"
        if self.free_threaded_note and _free_threaded():
            reason += f"; {self.free_threaded_note}"
        return reason

    def version(self) -> str | None:
        try:
            return importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            return None


def _free_threaded() -> bool:
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED")) or "t" in getattr(sys, "abiflags", "")


LOKY = Engine("loky", "loky", "loky")
JOBLIB = Engine("joblib", "joblib", "joblib")
DASK = Engine("distributed", "distributed", "dask",
              free_threaded_note="on free-threaded builds its dependency msgpack has no wheel (seen for 3.13t)")

#: The PEP 734 backport: InterpreterPoolExecutor on Python 3.13 (3.14 has it in the standard library). Its extra's
#: requirement is marked for 3.13 only, so no other Python installs it.
INTERPRETERS = Engine("interpreters_backport", "interpreters-pep-734", "interpreters")

ENGINES = (LOKY, JOBLIB, DASK, INTERPRETERS)


def engine_versions() -> dict[str, str | None]:
    """Distribution -> installed version (None: not installed), for every optional engine: recorded with each run."""
    return {engine.distribution: engine.version() for engine in ENGINES}


__all__ = ["DASK", "ENGINES", "INTERPRETERS", "JOBLIB", "LOKY", "Engine", "engine_versions"]
