"""The lesson's threaded downloader: hand-made `threading.Thread` workers fetching URLs.

Run `python -m concurrency_lab.lesson.threaded_downloader [URL...]`; with no URL it serves demo pages
on 127.0.0.1. Its refactoring onto ThreadPoolExecutor.map is `executor_downloader`: the one line
that differs is the variant's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..commands.download import main as _download_main

VARIANT = "threading"


def main(argv: Sequence[str] | None = None) -> int:
    return _download_main(argv, prog="python -m concurrency_lab.lesson.threaded_downloader", default_variant=VARIANT,
                          description="The lesson's threaded downloader: threading.Thread workers fed from a queue.")


if __name__ == "__main__":
    raise SystemExit(main())
