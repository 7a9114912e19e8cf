"""The lesson's downloader refactored onto `ThreadPoolExecutor.map`.

Run `python -m concurrency_lab.lesson.executor_downloader [URL...]`; with no URL it serves demo pages
on 127.0.0.1. Compare with `threaded_downloader`: same records, less code.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..commands.download import main as _download_main

VARIANT = "thread_pool"


def main(argv: Sequence[str] | None = None) -> int:
    return _download_main(argv, prog="python -m concurrency_lab.lesson.executor_downloader", default_variant=VARIANT,
                          description="The lesson's executor downloader: concurrent.futures.ThreadPoolExecutor.map.")


if __name__ == "__main__":
    raise SystemExit(main())
