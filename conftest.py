"""Suite-wide settings: hypothesis profiles and a guard that keeps every test on loopback."""

from __future__ import annotations

import os
import socket

import pytest
from hypothesis import HealthCheck, settings

# deadline=None: the default 200 ms deadline is a hidden timing assertion, and starting a spawn
# pool takes longer than that on a busy machine. "ci" keeps the suite within CI's time.
settings.register_profile("ci", max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

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
