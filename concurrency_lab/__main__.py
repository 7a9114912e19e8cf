"""`python -m concurrency_lab`: the same as the `concurrency-lab` command."""

from __future__ import annotations

from .commands.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
