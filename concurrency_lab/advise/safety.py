"""Before measuring: what can carry the function, its items and its results to a worker, and whether
it is a coroutine function. Each problem is a reason a variant is ruled out, in words a user can act on."""

from __future__ import annotations

import inspect
import pickle
import reprlib
from collections.abc import Callable, Sequence
from typing import Any

from ..variants.checks import defined_in_unimportable_main
from ..variants.serializers import serializer_dumps

#: Items whose picklability is checked before any process variant runs: a few, so that a huge input
#: costs nothing here; an unpicklable item further on is still reported by the variant (NotPicklable).
SAMPLE_ITEMS = 5


def is_coroutine_function(func: Callable[..., Any]) -> bool:
    """Whether calling it gives a coroutine (``async def``, also behind functools.partial)."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(getattr(func, "func", None))


def dumper(serializer: str) -> Callable[[Any], bytes] | None:
    """The ``dumps`` a variant declaring `serializer` ("pickle", "cloudpickle") sends with; None when no
    installed engine brings cloudpickle (the core install, where no variant needs it)."""
    if serializer not in ("pickle", "cloudpickle"):
        raise ValueError(f"unknown serializer {serializer!r}")
    try:
        return serializer_dumps(serializer)
    except ImportError:
        return None


def cannot_send(value: Any, serializer: str) -> str | None:
    """Why `value` cannot be sent with `serializer` (``"TypeError: cannot pickle '_thread.lock' object"``), or None."""
    dumps = dumper(serializer)
    if dumps is None:
        return None  # nothing to check with; a variant that needs it is unavailable anyway
    try:
        dumps(value)
    except Exception as exc:  # noqa: BLE001 - any failure to serialize is the answer
        return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:200]
    return None


def serializer_problems(func: Callable[..., Any], items: Sequence[Any], serializers: Sequence[str]) -> dict[str, str]:
    """serializer -> why the function or one of the first `SAMPLE_ITEMS` items cannot reach a worker with it."""
    problems = {}
    for serializer in dict.fromkeys(serializers):
        problem = cannot_send(func, serializer)
        if problem is not None:
            problems[serializer] = f"the function cannot be sent with {serializer} ({problem})"
            continue
        if serializer == "pickle" and defined_in_unimportable_main(func):
            problems[serializer] = ("the function is defined in an interactive __main__, which worker processes "
                                    "started with spawn or forkserver cannot import; move it into a module")
            continue
        for index, item in enumerate(items[:SAMPLE_ITEMS]):
            problem = cannot_send(item, serializer)
            if problem is not None:
                problems[serializer] = (f"item {index} ({type(item).__name__} {reprlib.repr(item)}) cannot be sent "
                                        f"with {serializer} ({problem})")
                break
    return problems


def result_problems(result: Any, serializers: Sequence[str]) -> dict[str, str]:
    """serializer -> why a result cannot come back from a worker with it (run where the result was made)."""
    problems = {}
    for serializer in dict.fromkeys(serializers):
        problem = cannot_send(result, serializer)
        if problem is not None:
            problems[serializer] = (f"its result ({type(result).__name__} {reprlib.repr(result)}) cannot be sent back "
                                    f"with {serializer} ({problem})")
    return problems


def refusals(func: Callable[..., Any], names: Sequence[str]) -> dict[str, str]:
    """variant -> why it refuses `func` before any item is run, in its own words: its `check_task` (a function its
    workers cannot import, as one from ``__main__`` where each worker interpreter has a ``__main__`` of its own),
    or its `task_unavailable_reason` (the function's module does not import where its workers run it). Variants
    whose workers share this process's memory (no serializer) refuse nothing here; unavailable ones are skipped."""
    from ..core.errors import NotPicklable
    from ..variants import variant_class

    refused = {}
    for name in names:
        cls = variant_class(name)
        if cls.serializer is None or cls.unavailable_reason() is not None:
            continue
        try:
            cls(workers=1).check_task(func)
        except NotPicklable as exc:
            refused[name] = _own_words(name, str(exc))
            continue
        reason = cls.task_unavailable_reason(func)
        if reason is not None:
            refused[name] = _own_words(name, reason)
    return refused


def _own_words(name: str, text: str) -> str:
    """A variant's message without the variant's name it starts with, which the list of variants already shows."""
    for prefix in (f"{name}: ", f"variant {name!r}: "):
        text = text.removeprefix(prefix)
    return " ".join(text.split())


#: How long a fresh worker may take to start and import the function's module.
SPAWN_CHECK_SECONDS = 20.0


def _loads(blob: bytes) -> bool:
    pickle.loads(blob)
    return True


def spawn_import_problem(func: Callable[..., Any], variant_name: str, timeout: float = SPAWN_CHECK_SECONDS) -> str | None:
    """Why a worker started with spawn (a fresh interpreter: forkserver and spawn platforms) cannot import
    `func`, or None. Run through `variant_name`'s own failure handling, so that a hang is a MapTimeout."""
    from ..variants import get_variant

    try:
        blob = pickle.dumps(func)
        get_variant(variant_name, workers=1, start_method="spawn").map(_loads, [blob], timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - whatever stops it is the reason
        return f"a fresh worker process (spawn) cannot import it ({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
    return None
