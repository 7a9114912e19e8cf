"""`python -m concurrency_lab.server`: serve the lab routes until Ctrl-C."""

from __future__ import annotations

from ..core.helper_process import follow_parent
from .cli import main

if __name__ == "__main__":
    follow_parent()  # started as the lab's helper: ends with the process that started it
    raise SystemExit(main())
