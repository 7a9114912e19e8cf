"""A loopback-only HTTP/1.1 test server with deterministic routes, for the lab's I/O workloads."""

from __future__ import annotations

from .cli import main
from .content import body_chunks, body_sha256
from .listener import LabHTTPServer, loopback_address
from .process import ServerProcess, running_server
from .routes import ROUTES

__all__ = [
    "ROUTES",
    "LabHTTPServer",
    "ServerProcess",
    "body_chunks",
    "body_sha256",
    "loopback_address",
    "main",
    "running_server",
]
