"""Loopback-only listening: the bind rule and the socket options of the lab's HTTP server."""

from __future__ import annotations

import socket
import socketserver
import sys
from http.server import ThreadingHTTPServer
from typing import Any

from .routes import LabRequestHandler
from .state import LabState

# Host names are mapped here, never resolved: no DNS lookup, and "localhost" cannot mean another machine.
LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}
# Listen backlog. socketserver's default of 5 overflows when 32 clients connect at once, and the
# kernel then drops their SYNs: those clients stall for a retransmit or time out. Linux caps it at somaxconn.
REQUEST_QUEUE_SIZE = 1024


def loopback_address(host: str) -> str:
    """The loopback IP to bind for `host`, or ValueError: the lab server never listens beyond this machine."""
    try:
        return LOOPBACK_HOSTS[host]
    except KeyError:
        allowed = ", ".join(repr(name) for name in LOOPBACK_HOSTS)
        raise ValueError(f"refusing to bind the lab server to {host!r}: it listens on loopback only; "
                         f"use one of {allowed}") from None


class LabHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer serving the lab routes on a loopback address (port 0 picks a free port)."""

    daemon_threads = True  # a client that never hangs up cannot keep the process alive at exit
    block_on_close = False  # so server_close() does not wait for idle keep-alive connections
    request_queue_size = REQUEST_QUEUE_SIZE

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        address = loopback_address(host)
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self.state = LabState()
        super().__init__((address, port), LabRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS lookup that loopback does not need.
        socketserver.TCPServer.server_bind(self)
        # The bound address, as TCPServer.server_bind just stored it in server_address (whose type allows bytes).
        self.server_name, self.server_port = self.socket.getsockname()[:2]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Headers and body go out in separate writes. With Nagle's algorithm on, the body waits for the
        # ACK of the headers, which the client's delayed-ACK timer holds back: ~40 ms lost per request.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client hanging up mid-request is routine here, not a server bug
        super().handle_error(request, client_address)  # prints the traceback to stderr

    @property
    def base_url(self) -> str:
        host, port = self.server_name, self.server_port  # the bound address (server_bind)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

