"""The lesson's parallel processor: a `multiprocessing.Pool` summing squares across processes.

Run `python -m concurrency_lab.lesson.parallel_processor`. Its refactoring onto ProcessPoolExecutor.map
is `executor_processor`: the one line that differs is the variant's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from .processor_cli import main as _processor_main

VARIANT = "mp_pool"


def main(argv: Sequence[str] | None = None) -> int:
    return _processor_main(argv, prog="python -m concurrency_lab.lesson.parallel_processor", default_variant=VARIANT,
                           description="The lesson's parallel processor: multiprocessing.Pool.map.")


if __name__ == "__main__":
    raise SystemExit(main())
