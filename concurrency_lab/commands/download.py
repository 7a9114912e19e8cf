"""The downloader as a command: `concurrency-lab download` and the lesson's two downloader modules.

Here, above the workloads, so that it asks the workload registry which task a variant runs (the one place
that chooses between `fetch` and `afetch`) without the download package importing upward."""

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
from ..core.options import START_METHOD, WORKERS, ArgumentParser, Option, add_options, parse_seconds, parse_whole_number
from ..download.results import DEFAULT_OPTIONS, DownloadRecord, FetchOptions
from ..variants import Variant, VariantUnavailable, get_variant
from ..variants.options import VARIANT
from ..workloads import get_workload

DEMO_PAGES = 12  # pages served when no URL is given: enough that overlapping the waits shows
DEMO_LATENCY_S = 0.2  # server-side delay per demo page: sequential takes 12 x 0.2 s
DEFAULT_WORKERS = 8  # concurrent downloads: 8 overlap the demo pages' waits in about 2 x 0.2 s

#: An hour for one URL (and for a connect or a read): loopback answers in milliseconds, a slow site in
#: seconds; a typo like 1e9 would otherwise keep a worker waiting for 30 years.
MAX_DOWNLOAD_SECONDS = 3600.0
#: urllib3's backoff (0.1 s x 2 ** (n - 1)) already sleeps 51 s before the 10th retry.
MAX_RETRIES = 10
MAX_REDIRECTS = 100  # requests stops at 30, aiohttp at 10: a hundred hops is a loop
#: 1 TiB: a body is hashed and dropped as it arrives, so the cap bounds time, never memory.
MAX_BODY_BYTES = 2**40


def _seconds(text: str) -> float:
    return parse_seconds(text, MAX_DOWNLOAD_SECONDS)


#: How patient a download is (`FetchOptions`, whose defaults they show); each bounded so that a typo cannot hang a worker.
FETCH_OPTIONS = (
    Option("--connect-timeout", _seconds, "S", f"seconds to connect, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
           DEFAULT_OPTIONS.connect_timeout),
    Option("--read-timeout", _seconds, "S", f"seconds any read may wait, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
           DEFAULT_OPTIONS.read_timeout),
    Option("--deadline", _seconds, "S", f"seconds for a whole URL, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
           DEFAULT_OPTIONS.deadline),
    Option("--retries", lambda text: parse_whole_number(text, 0, MAX_RETRIES), "N",
           f"retries after connection errors, 429 and 5xx, 0 (off) to {MAX_RETRIES} (default: {{default}})",
           DEFAULT_OPTIONS.retries),
    Option("--max-redirects", lambda text: parse_whole_number(text, 0, MAX_REDIRECTS), "N",
           f"redirects to follow, 0 to {MAX_REDIRECTS} (default: {{default}})", DEFAULT_OPTIONS.max_redirects),
    Option("--max-bytes", lambda text: parse_whole_number(text, 0, MAX_BODY_BYTES), "N",
           f"body size cap in bytes, 0 to {MAX_BODY_BYTES} (default: {{default}})", DEFAULT_OPTIONS.max_bytes),
)


def download_task(variant: Variant, options: FetchOptions) -> Callable[[str], Any]:
    """The picklable task `variant` runs for one URL, chosen as for every workload (`Workload.task_for`):
    the coroutine function for event-loop variants."""
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
    kind = record.error_kind.value if record.error_kind is not None else "error"  # a failed record names its kind
    return f"FAIL  {kind}{status}  {record.url}: {record.error}"


def build_parser(prog: str, default_variant: str, description: str) -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                            epilog="With no URL, a local server on 127.0.0.1 serves "
                                   f"{DEMO_PAGES} demo pages, each answered after {DEMO_LATENCY_S:g} s.\n"
                                   "Exit status: 0 when every URL was fetched, 1 when any failed, 2 on bad arguments.")
    parser.add_argument("urls", nargs="*", metavar="URL", help="http or https URLs to fetch (default: the demo pages)")
    add_options(parser.add_argument, (VARIANT.but(default=default_variant), WORKERS.but(default=DEFAULT_WORKERS), START_METHOD))
    parser.add_argument("--json", action="store_true", help="print one JSON object per URL instead of text lines")
    # Each URL's own limits (FetchOptions); --deadline bounds every URL, so the whole call is bounded too.
    add_options(parser.add_argument, FETCH_OPTIONS)
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
