"""concurrency_lab: the same jobs run with every Python concurrency variant, proved identical and measured.

    import concurrency_lab
    advice = concurrency_lab.advise(my_function, items)   # which variant for your function; print(advice)
"""

from __future__ import annotations

import importlib
from typing import Any

from .lesson.exercise import parallel_sum_with_executor

__version__ = "0.1.0"
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
