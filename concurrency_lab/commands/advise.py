"""`concurrency-lab advise TARGET (--range N | --inputs FILE | --expr EXPR)`: arguments, bad input, output.

With `--out`, advise.html (the lab report's Advice section on a page of its own: one template macro renders
both) and advise.json (what `concurrency-lab report` reads to put that section into its report) are written
the way the report is (`core.atomic_files`): all or none, readable by others. This command is where advise and the
report meet, above both."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..advise.inputs import MAX_ITEMS, InputError, items_from_expression, items_from_file, items_from_range, load_function
from ..core import interrupt
from ..core.atomic_files import write_files
from ..core.options import (
    PATH_ARGUMENT,
    Commands,
    Option,
    OptionError,
    add_options,
    error_line,
    parse_seconds,
    parse_whole_number,
)
from ..core.out_path import OUT
from ..records.advice import ADVICE_FILE, Advice, problem_text, render

PROG = "concurrency-lab advise"
MAX_BUDGET_SECONDS = 24 * 3600.0  # a day: past any sweep worth waiting for
BUDGET = Option("--budget", lambda text: parse_seconds(text, MAX_BUDGET_SECONDS), "S",
                f"seconds advise may spend in all, probe and measurements, at most {MAX_BUDGET_SECONDS:g} "
                "(default: {default})", 30.0)


def add_command(commands: Commands) -> None:
    """The `advise` sub-command."""
    parser = commands.add_parser(
        "advise", help="which variant for your own function: proven against sequential and measured within a budget",
        description="Probe MODULE:FUNCTION over its items, rule out what cannot run it, prove every variant's results "
                    "equal sequential's, measure speedup, cores used and memory within --budget seconds, and name "
                    "the variant to use with its worker count, chunk size and a snippet.")
    parser.add_argument("target", type=_target, metavar="MODULE:FUNCTION",
                        help="the function: a module on sys.path and its function, or path/to/file.py:function")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--range", type=_range_count, metavar="N", help=f"the items 0..N-1 (N from 1 to {MAX_ITEMS})")
    source.add_argument("--inputs", type=PATH_ARGUMENT, metavar="FILE", help="a JSON array, or JSON lines: one item per line")
    source.add_argument("--expr", metavar="EXPRESSION", help="a Python expression giving the items, e.g. 'range(100)'")
    add_options(parser.add_argument, [
        BUDGET,
        OUT.but(default=None, help="also write advise.json and advise.html (the lab report's Advice section, as one "
                                   "self-contained page) there; `concurrency-lab report DIR` puts the same section into "
                                   "the lab's report, alone or beside benchmark results")])
    parser.add_argument("--json", action="store_true", help="print the advice as JSON instead of the screen")
    parser.add_argument("--include-cluster", action="store_true",
                        help="also try variants that start a cluster (Dask): slower to start")
    parser.set_defaults(handler=advise_command)


def _check_cluster_address() -> None:
    """A malformed scheduler address (DASK_SCHEDULER_ADDRESS, or dask's own configuration) is bad input."""
    from ..variants.dask_cluster import ADDRESS_VARIABLE, configured_address

    try:
        configured_address()
    except ValueError as exc:
        raise InputError(f"--include-cluster: {ADDRESS_VARIABLE} or dask's scheduler-address: {exc}") from None


def _target(text: str) -> str:
    """MODULE:FUNCTION as given; when it names a file (path/to/file.py:FUNCTION), a path the system can look up."""
    module_part = text.rpartition(":")[0]
    if module_part.endswith(".py"):
        PATH_ARGUMENT(module_part)  # argparse's one line for a NUL, a lone surrogate or a name too long
    return text


def _range_count(text: str) -> int:
    try:
        return parse_whole_number(text, 1, MAX_ITEMS)
    except OptionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@contextlib.contextmanager
def _within(seconds: float, what: str) -> Iterator[None]:
    """Ends the command with one line and status 2 when the block takes longer than `seconds`: the user's
    module runs at import, in this process, where nothing can interrupt it (it stays on the main thread,
    where a module may set signal handlers; a watcher thread ends the process instead)."""
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            print(error_line(PROG, f"{what} took longer than the budget ({seconds:g} s): importing the module or "
                                   "making the items hangs, or is slower than --budget allows"),
                  file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(2)  # nothing of advise has started yet: no child, no file

    watcher = threading.Thread(target=watch, name="lab-advise-load-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def advise_command(args: argparse.Namespace) -> int:
    from ..advise import advise  # the sweep and the variants: only when advise runs, not to build the parser

    try:
        loading = time.monotonic()
        with _within(args.budget, f"loading {args.target} and its items"):
            func = load_function(args.target)
            if args.range is not None:
                items = items_from_range(args.range)
            elif args.inputs is not None:
                items = items_from_file(args.inputs)
            else:
                items = items_from_expression(args.expr)
        if args.include_cluster:
            _check_cluster_address()
    except InputError as exc:
        print(error_line(PROG, str(exc)), file=sys.stderr)
        return 2

    def progress(line: str) -> None:
        print(f"advise: {line}", file=sys.stderr, flush=True)

    with interrupt.during("during advise; nothing written"):
        # The budget covers loading too (the sweep gets at least a tenth, so that a slow import still gets an answer).
        advice = advise(func, items, budget=args.budget, spent=time.monotonic() - loading,
                        include_cluster=args.include_cluster, progress=progress, name=args.target,
                        check_spawn=args.target.rpartition(":")[0].endswith(".py"))
    print(json.dumps(advice.to_dict(), indent=2) if args.json else render(advice), flush=True)
    if args.out is not None:
        for path in write_advice(advice, args.out):
            print(f"advise: wrote {path}", file=sys.stderr, flush=True)
    if advice.recommended is None:  # stderr's last line (after the files written), also beside --json: why no answer
        print(f"advise: {problem_text(advice)}", file=sys.stderr, flush=True)
    return 0 if advice.recommended is not None else 1


def write_advice(advice: Advice, folder: Path) -> list[Path]:
    """advise.html and advise.json in `folder` (made if missing), both or neither, mode 0644 like the report."""
    from ..report.html import advice_page  # Jinja2 and the report's templates: only when a page is written

    return write_files(folder, {"advise.html": lambda: [advice_page(advice)],
                                ADVICE_FILE: lambda: [json.dumps(advice.to_dict(), indent=2), "\n"]})
