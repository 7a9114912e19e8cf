"""How a variant that declares a `serializer` sends things to its workers, and what it cannot send: keyed on the
declared serializer (pickle or cloudpickle), whatever the variant's kind."""

from __future__ import annotations

import pickle
import reprlib
from collections.abc import Callable, Sequence
from typing import Any

from ..core.errors import NotPicklable
from .chunks import PICKLING_FAILURES, is_callers_interrupt

#: Plain data a task can take and return through any process variant.
PLAIN_DATA = "numbers, strings, bytes, tuples, lists, dicts, or dataclasses of them"


def serializer_dumps(serializer: str | None) -> Callable[[Any], bytes]:
    """The function that turns an object into bytes the way a variant declaring `serializer` sends it."""
    if serializer == "cloudpickle":
        try:
            import cloudpickle  # loky's dependency; imported here, as only cloudpickle variants need it
        except ImportError:  # joblib alone: its own copy
            from joblib.externals import cloudpickle
        return cloudpickle.dumps
    return pickle.dumps


def unsendable_item(variant: str, serializer: str | None, chunks: Sequence[Sequence[Any]],
                    first_index: int = 0) -> NotPicklable | None:
    """NotPicklable naming the first item of `chunks` (input index `first_index` on) that `serializer`
    cannot carry to a worker process, or None when every one can."""
    index, dumps = first_index, serializer_dumps(serializer)
    for chunk in chunks:
        for item in chunk:
            try:
                dumps(item)
            except PICKLING_FAILURES as exc:  # any failure to pickle is the
                if is_callers_interrupt(exc):  # answer, a __reduce__ that calls sys.exit included; but a Ctrl-C
                    raise
                return NotPicklable(
                    f"{variant} sends each item to a worker process, and item {index} "
                    f"({type(item).__name__} {reprlib.repr(item)}) cannot be pickled ({type(exc).__name__}: {exc}); "
                    f"pass plain data ({PLAIN_DATA}), or use a thread variant, which shares memory")
            index += 1
    return None
