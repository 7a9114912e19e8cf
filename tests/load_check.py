"""Run by test_load.py in a fresh interpreter, so that its peak RSS is this load's alone.

usage: python load_check.py BASE_URL VARIANT URLS WORKERS  -> one JSON line on stdout
"""

from __future__ import annotations

import json
import resource
import sys
from collections import Counter

from concurrency_lab.download import FetchOptions
from concurrency_lab.download.cli import download_task
from concurrency_lab.variants import get_variant

FAULTS = ("/status/500", "/drop", "/truncated/2000", "/status/404")  # one URL in 20 is a fault: 5%
FAULT_EVERY = 20


def urls(base_url: str, count: int) -> list[str]:
    return [
        base_url + (FAULTS[(i // FAULT_EVERY) % len(FAULTS)] if i % FAULT_EVERY == 0 else f"/bytes/{1024 + i % 16 * 1024}?seed={i}")
        for i in range(count)
    ]


def main(base_url: str, variant_name: str, count: int, workers: int) -> None:
    todo = urls(base_url, count)
    variant = get_variant(variant_name, workers=workers)
    records = variant.map(download_task(variant, FetchOptions(retries=0)), todo)
    print(json.dumps({
        "urls_in_order": [r.url for r in records] == todo,
        "records": len(records),
        "kinds": Counter(str(r.error_kind) for r in records),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB on Linux
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
