"""The `concurrency-lab` command: the top-level parser and the dispatch; each command is a module beside it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..core import interrupt
from ..core.options import ArgumentParser
from ..core.version import __version__
from . import advise, listing, matrix, report, run

# The commands are listed once, by argparse, from each sub-parser's help.
DESCRIPTION = """\
Run the same jobs with every Python concurrency variant, check that every variant returns
exactly the workload's reference results, and show what each one buys.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="concurrency-lab", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                                     description="`concurrency-lab COMMAND --help` shows a command's options.")

    # Each command declares its own options (and its handler) in its module, in the order --help lists them.
    run.add_command(commands)
    report.add_commands(commands)
    matrix.add_command(commands)
    advise.add_command(commands)
    listing.add_command(commands)
    commands.add_parser("download", help="fetch URLs with a chosen variant (demo pages on 127.0.0.1 when none are given)",
                        add_help=False).set_defaults(forward="download")
    commands.add_parser("serve", help="run the lab's loopback HTTP test server", add_help=False).set_defaults(forward="serve")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; SIGINT, SIGTERM and SIGHUP stop it with one line and status 128 + the signal."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    prog = f"concurrency-lab {argv[0]}" if argv and not argv[0].startswith("-") else "concurrency-lab"
    return interrupt.run_command(prog, lambda: _dispatch(parser, argv))


def _dispatch(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    if argv and argv[0] in ("download", "serve"):  # these parse their own arguments
        if argv[0] == "download":
            from .download import main as download_main

            return download_main(argv[1:])
        from ..server import main as serve_main

        return serve_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.handler(args)
