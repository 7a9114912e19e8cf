"""concurrency_lab: the same jobs run with every Python concurrency variant, proved identical and measured.

    import concurrency_lab
    advice = concurrency_lab.advise(my_function, items)   # which variant for your function; print(advice)

Layers, bottom to top. A module imports only from its own layer or the ones below, counting imports inside
functions, and no two modules or subpackages import each other (`tests/test_layers.py` checks both):

    core < measure < variants < server < download < workloads < numerics < records < failures
    < report | advise < bench < commands | lesson | __init__ | __main__

core holds the facts everything reads (errors, traits, CPUs with their cgroup reading, optional engines,
interrupts, helper processes, atomic file writing); records the persisted records (benchmark record,
failure table, advice, the report's summary) and their schema versions; numerics the pure statistics and
number formatting under them. report and advise are siblings: they share only records and numerics, and
meet above both (`commands.advise` writes advise.html with the report's template). Optional third-party
engines are imported lazily, inside the variant that needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

from .core.version import __version__
from .lesson.exercise import parallel_sum_with_executor

__all__ = ["__version__", "advise", "parallel_sum_with_executor"]

#: Imported on first use, so that `import concurrency_lab` stays light (the CLI's parser, every worker process).
_LAZY_SUBPACKAGES = frozenset({"advise"})


def __getattr__(name: str) -> Any:
    """`concurrency_lab.advise`: the subpackage, which is callable (`advise(func, items)` runs advise.api.advise)."""
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)  # the import also binds it here: called once
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_SUBPACKAGES})
