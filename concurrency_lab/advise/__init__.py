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
import types
from typing import Any

# Public name -> module (relative to this package), imported on first use: `import concurrency_lab` stays cheap.
_HOMES = {
    "DEFAULT_BUDGET_S": ".api", "advise": ".api", "assert_parallel_speedup": ".api", "render": "..records.advice",
    "InputError": ".inputs", "Advice": "..records.advice", "Config": "..records.advice_trials",
    "Trial": "..records.advice_trials",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name], __name__), name)
    globals()[name] = value
    return value


class _CallableModule(types.ModuleType):
    """`concurrency_lab.advise(func, items)` calls `advise.api.advise`, and `concurrency_lab.advise.render` still works."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return __getattr__("advise")(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
__all__ = sorted(_HOMES)
