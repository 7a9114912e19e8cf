"""Run by test_load.py in a fresh interpreter, so that its peak RSS is this load's alone.

usage: python load_check.py BASE_URL VARIANT URLS WORKERS  -> one JSON line on stdout
"""

from __future__ import annotations

import json
import resource
import sys
from collections import Counter

from concurrency_lab.commands.download import download_task
from concurrency_lab.download import FetchOptions
from concurrency_lab.variants import get_variant

FAULTS = ("/status/500", "/drop", "/truncated/2000", "/status/404")  # one URL in 20 is a fault: 5%
FAULT_EVERY = 20


def urls(base_url: str, count: int) -> list[str]:
    return [
        base_url + (FAULTS[(i // FAULT_EVERY) % len(FAULTS)] if i % FAULT_EVERY == 0
                    else f"/bytes/{1024 + i % 16 * 1024}?seed={i}")
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
        "peak_rss_bytes": peak_rss_bytes(),
    }))


def peak_rss_bytes() -> int:
    """This interpreter's own peak RSS: VmHWM, the high-water mark of its address space, which exec starts
    afresh. Not ru_maxrss: Linux carries that over exec from the process that forked (or vforked) this one,
    so under xdist it reported the test worker's 343 MiB instead of this run's figure."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB where there is no /proc


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
