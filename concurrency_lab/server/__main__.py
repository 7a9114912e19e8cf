"""`python -m concurrency_lab.server`: serve the lab routes until Ctrl-C."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
