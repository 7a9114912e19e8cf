"""The lesson's processor refactored onto `ProcessPoolExecutor`.

Run `python -m concurrency_lab.lesson.executor_processor`. Compare with `parallel_processor`: the same
sums, at about the same speed, because both hand each worker chunks rather than single numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from .processor_cli import main as _processor_main

VARIANT = "process_pool"


def main(argv: Sequence[str] | None = None) -> int:
    return _processor_main(argv, prog="python -m concurrency_lab.lesson.executor_processor", default_variant=VARIANT,
                           description="The lesson's executor processor: concurrent.futures.ProcessPoolExecutor.")


if __name__ == "__main__":
    raise SystemExit(main())
