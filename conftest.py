"""Suite-wide settings: hypothesis profiles and a guard that keeps every test on loopback."""

from __future__ import annotations

import os
import socket

import pytest
from hypothesis import HealthCheck, settings

# deadline=None: the default 200 ms deadline is a hidden timing assertion, and starting a spawn
# pool takes longer than that on a busy machine.
# "ci" replaces Hypothesis's own CI profile, so it keeps what that one promises: derandomized (the same
# examples on every run, so a bug found once is found every time until fixed), no example database, and
# the blob to replay a failure printed. Few examples keep the suite within CI's time.
# "dev" searches wider where that costs nothing: more examples, new ones on every run, and a failure it
# finds is kept in .hypothesis/ and tried first next time.
_LAB_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=8, derandomize=True, database=None, print_blob=True, **_LAB_SETTINGS)
settings.register_profile("dev", max_examples=25, derandomize=False, **_LAB_SETTINGS)


def hypothesis_profile(environ: dict[str, str]) -> str:
    """HYPOTHESIS_PROFILE when set; else "ci" where a CI variable is set (as .ci/run and CI services do), else "dev"."""
    return environ.get("HYPOTHESIS_PROFILE") or ("ci" if environ.get("CI", "").lower() not in ("", "0", "false") else "dev")


settings.load_profile(hypothesis_profile(dict(os.environ)))

LOOPBACK = {"127.0.0.1", "localhost", "::1", None}


class NonLoopbackLookup(BaseException):
    """A BaseException, so that no `except Exception` in the code under test can record it as an error."""


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to resolve a name other than loopback: the lookup itself leaves the machine."""
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host not in LOOPBACK:
            raise NonLoopbackLookup(f"test tried to resolve {host!r}: tests talk to 127.0.0.1 only")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)

# The benchmark options (--lab-profile, ...) and fixtures, for tests/test_benchmarks.py.
pytest_plugins = ["concurrency_lab.bench.plugin"]
