"""Command line of the lab server: `python -m concurrency_lab.server [--host 127.0.0.1] [--port 8765]`."""

from __future__ import annotations

import argparse

from ..core import interrupt
from ..core.options import ArgumentParser, Option, add_options, parse_whole_number
from .listener import LOOPBACK_HOSTS, LabHTTPServer
from .routes import ROUTE_HELP

PROG = "python -m concurrency_lab.server"
DEFAULT_PORT = 8765  # fixed, so a browser tab or a curl command survives restarts; 0 picks any free port
MAX_PORT = 65535  # TCP's 16 bits; 0 picks any free port
PORT = Option("--port", lambda text: parse_whole_number(text, 0, MAX_PORT), "N",
              f"TCP port, 0 to {MAX_PORT}; 0 picks any free port (default: {{default}})", DEFAULT_PORT)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Serve the concurrency lab's test routes on loopback until Ctrl-C.",
        epilog=ROUTE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help=f"loopback address to bind, one of {', '.join(LOOPBACK_HOSTS)} (default: %(default)s)")
    add_options(parser.add_argument, [PORT])
    return parser


def _listen(parser: argparse.ArgumentParser, host: str, port: int) -> LabHTTPServer:
    try:
        return LabHTTPServer(host, port)
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:
        parser.error(f"cannot listen on {host} port {port}: {exc.strerror or exc}; pass --port 0 for any free port")


def main(argv: list[str] | None = None) -> int:
    """Serve until a signal stops it (Ctrl-C is how it is meant to stop): exit status 128 + the signal."""
    parser = build_parser()
    args = parser.parse_args(argv)

    def serve() -> int:
        with _listen(parser, args.host, args.port) as httpd, interrupt.during(f"while serving {httpd.base_url}; stopped"):
            print(f"serving on {httpd.base_url}", flush=True)  # running_server() reads this line
            httpd.serve_forever()
        return 0  # not reached: only a signal ends serve_forever

    return interrupt.run_command(PROG, serve)
