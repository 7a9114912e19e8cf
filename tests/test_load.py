"""Load: 2,000 URLs, 64 workers, 5% faults against the loopback server: every URL accounted for once.

Every concurrent in-process variant takes the load; 64 worker processes would measure fork, not the client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lab_params import variant_params

from concurrency_lab.variants import variant_class

pytest.importorskip("resource", reason="peak RSS is read with resource.getrusage, which this platform lacks")

URLS, WORKERS = 2_000, 64
PEAK_RSS_BOUND = 256 * 1024 * 1024  # the client streams and hashes: bodies never pile up in memory


@pytest.mark.load
@pytest.mark.parametrize("variant_name", [p for p in variant_params(processes=False) if variant_class(p.values[0]).concurrent])
def test_every_url_once_and_memory_bounded(variant_name, lab_server):
    done = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "support" / "load_check.py"),
         lab_server.base_url, variant_name, str(URLS), str(WORKERS)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["urls_in_order"] and result["records"] == URLS
    faults = URLS // 20
    assert result["kinds"] == {
        "None": URLS - faults, "http_status": faults // 2, "connection": faults // 4, "truncated": faults // 4,
    }
    assert result["peak_rss_bytes"] < PEAK_RSS_BOUND, f"peak RSS {result['peak_rss_bytes'] / 2**20:.0f} MiB"
