"""The lesson's CPU-bound processor as a command: a sum of squares split across worker processes."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from ..core import interrupt
from ..core.errors import BrokenPool, MapTimeout
from ..core.options import START_METHOD, WORKERS, ArgumentParser, Option, add_options, parse_whole_number
from ..variants import VariantUnavailable, get_variant
from ..variants.options import TIMEOUT, VARIANT
from ..workloads.processor import make_inputs, reference, sum_of_squares

DEFAULT_TASKS = 40  # long enough on one core to see processes pay off (the program prints its wall time)
MAX_TASKS = 10_000  # each task is a few milliseconds of pure Python: minutes at most
TASKS = Option("--tasks", lambda text: parse_whole_number(text, 1, MAX_TASKS), "N",
               f"ranges of ~200,000 numbers to sum, 1 to {MAX_TASKS:,} (default: {{default}})", DEFAULT_TASKS)


def main(argv: Sequence[str] | None, *, prog: str, default_variant: str, description: str) -> int:
    return interrupt.run_command(prog, lambda: _main(argv, prog, default_variant, description))


def _main(argv: Sequence[str] | None, prog: str, default_variant: str, description: str) -> int:
    parser = ArgumentParser(prog=prog, description=description)
    add_options(parser.add_argument, (TASKS, VARIANT.but(default=default_variant), WORKERS, START_METHOD, TIMEOUT))
    args = parser.parse_args(argv)
    try:
        start_method = {"start_method": args.start_method} if args.start_method else {}
        runner = get_variant(args.variant, workers=args.workers, **start_method)
    except (ValueError, TypeError, VariantUnavailable) as exc:
        parser.error(str(exc))
    ranges = make_inputs(args.tasks)
    started = time.perf_counter()
    with interrupt.during("during the sums; nothing printed"):
        try:
            partial_sums = runner.map(sum_of_squares, ranges, timeout=args.timeout)
        except (MapTimeout, BrokenPool) as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
    wall = time.perf_counter() - started
    total, expected = sum(partial_sums), sum(reference(ranges))
    first, last = ranges[0][0], ranges[-1][1]
    print(f"sum of x*x for x in range({first:,}, {last:,}) = {total}")
    print(f"{'matches' if total == expected else 'DIFFERS FROM'} the closed form")
    print(f"{args.tasks} tasks on {args.variant} x {runner.workers} workers "
          f"({len(runner.last_run.worker_pids) if runner.last_run else 0} worker processes) in {wall:.3f} s")
    return 0 if total == expected else 1

