"""`concurrency-lab advise`: which variant for the user's own function, proven identical to sequential and measured.

    import concurrency_lab
    advice = concurrency_lab.advise(my_function, items, budget=30)   # an Advice
    print(advice)   # the screen `concurrency-lab advise` prints

`concurrency_lab.advise` is this subpackage, made callable; `from concurrency_lab.advise import advise` gives the
function itself.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

# Public name -> submodule, imported on first use: the CLI's parser (`commands/advise.py`) imports `advise.inputs` only.
_HOMES = {
    "DEFAULT_BUDGET_S": "api", "advise": "api", "assert_parallel_speedup": "api", "render": "answer",
    "InputError": "inputs", "Advice": "model", "Config": "model", "Trial": "model",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value
    return value


class _CallableModule(type(sys)):
    """`concurrency_lab.advise(func, items)` calls `advise.api.advise`, and `concurrency_lab.advise.render` still works."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return __getattr__("advise")(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__all__ = sorted(_HOMES)
