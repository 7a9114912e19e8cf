"""The downloader as a command: `concurrency-lab download` and the lesson's two downloader modules."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..core import interrupt
from ..options import ArgumentParser, add_run_options
from ..variants import Variant, VariantUnavailable, get_variant
from .records import DEFAULT_OPTIONS, DownloadRecord, FetchOptions

DEMO_PAGES = 12  # pages served when no URL is given: enough that overlapping the waits shows
DEMO_LATENCY_S = 0.2  # server-side delay per demo page: sequential takes 12 x 0.2 s
DEFAULT_WORKERS = 8  # concurrent downloads: 8 overlap the demo pages' waits in about 2 x 0.2 s


def download_task(variant: Variant, options: FetchOptions) -> Callable[[str], Any]:
    """The picklable task `variant` runs for one URL, chosen as for every workload (`Workload.task_for`):
    the coroutine function for event-loop variants."""
    from ..workloads import get_workload

    task: Callable[..., Any] = get_workload("downloader").task_for(variant)  # fetch or afetch: both take options=
    return functools.partial(task, options=options)


@contextlib.contextmanager
def demo_urls() -> Iterator[list[str]]:
    """Serve the demo pages from a lab server on 127.0.0.1 for as long as the block runs."""
    from ..server import running_server

    with running_server() as server:
        yield [server.url(f"/bytes/{1024 * (i + 1)}?seed={i}&delay={DEMO_LATENCY_S:g}") for i in range(DEMO_PAGES)]


def download(urls: Sequence[str], *, variant: str, workers: int | None, options: FetchOptions = DEFAULT_OPTIONS,
             start_method: str | None = None) -> list[DownloadRecord]:
    """One record per URL, in input order, whatever failed."""
    runner = get_variant(variant, workers=workers, **({"start_method": start_method} if start_method else {}))
    return runner.map(download_task(runner, options), urls)


def format_record(record: DownloadRecord) -> str:
    if record.error_kind is None:  # ok: the whole body was read, so it has a digest
        return f"ok    {record.status} {record.nbytes:>10,} B  sha256 {(record.sha256 or '–')[:16]}  {record.url}"
    status = "" if record.status is None else f" (HTTP {record.status})"
    return f"FAIL  {record.error_kind.value}{status}  {record.url}: {record.error}"


def build_parser(prog: str, default_variant: str, description: str) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog="With no URL, a local server on 127.0.0.1 serves "
                                   f"{DEMO_PAGES} demo pages, each answered after {DEMO_LATENCY_S:g} s.\n"
                                   "Exit status: 0 when every URL was fetched, 1 when any failed, 2 on bad arguments.")
    parser.add_argument("urls", nargs="*", metavar="URL", help="http or https URLs to fetch (default: the demo pages)")
    add_run_options(parser.add_argument, only=("variant", "workers", "start_method"),
                    defaults={"variant": default_variant, "workers": DEFAULT_WORKERS})
    parser.add_argument("--json", action="store_true", help="print one JSON object per URL instead of text lines")
    # Each URL's own limits (FetchOptions); --deadline bounds every URL, so the whole call is bounded too.
    add_run_options(parser.add_argument, only=("connect_timeout", "read_timeout", "deadline", "retries",
                                               "max_redirects", "max_bytes"))
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "concurrency-lab download", default_variant: str = "thread_pool",
         description: str = "Fetch URLs concurrently: one line per URL, then a summary.") -> int:
    return interrupt.run_command(prog, lambda: _main(argv, prog, default_variant, description))


def _main(argv: Sequence[str] | None, prog: str, default_variant: str, description: str) -> int:
    parser = build_parser(prog, default_variant, description)
    args = parser.parse_args(argv)
    try:
        options = FetchOptions(
            connect_timeout=args.connect_timeout, read_timeout=args.read_timeout, deadline=args.deadline,
            retries=args.retries, max_redirects=args.max_redirects, max_bytes=args.max_bytes,
        )
        # bad --workers, a start method for threads, an unavailable variant: say so now, exit 2
        get_variant(args.variant, workers=args.workers, **({"start_method": args.start_method} if args.start_method else {}))
    except (ValueError, TypeError, VariantUnavailable) as exc:
        parser.error(str(exc))
    with interrupt.during("during the downloads; no records printed"), contextlib.ExitStack() as stack:
        urls = args.urls or stack.enter_context(demo_urls())
        started = time.perf_counter()
        records = download(urls, variant=args.variant, workers=args.workers, options=options, start_method=args.start_method)
        wall = time.perf_counter() - started
    for record in records:
        print(json.dumps(record.to_dict()) if args.json else format_record(record))
    failed = sum(not r.ok for r in records)
    summary = (f"{len(records)} URLs: {len(records) - failed} ok, {failed} failed, in {wall:.3f} s "
               f"with {args.variant} x {args.workers} workers")
    print(summary, file=sys.stderr if args.json else sys.stdout)
    return 1 if failed else 0
