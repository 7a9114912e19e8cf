"""The task advise times a hand-off with, in a module that imports nothing: every kind of worker must import it,
and a worker interpreter cannot import trials.py (psutil's extension refuses subinterpreters)."""

from __future__ import annotations

from typing import Any


def noop(item: Any) -> Any:
    """The item itself: what a hand-off costs, with no work."""
    return item
