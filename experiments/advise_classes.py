"""`advise` on one function of each class of work, its screen printed for each: what the lesson's claims
look like for functions a user brings, on the Python that runs this.

    python experiments/advise_classes.py [--budget 10] [--only sum_of_squares,sleep_20ms]

The functions are the classification tests' (`concurrency_lab.lesson.work_classes`): pure-Python CPU, a blocking
sleep, a socket read from a server on 127.0.0.1, the same waits as coroutines, hashing and CRCs of
multi-megabyte buffers, work far cheaper than a hand-off, and an unpicklable closure doing I/O. Run it
on a quiet machine: the line after each screen gives the cores other processes took meanwhile (the
screen itself warns from 0.25). Not a test: it only prints (tests/test_advise_classes.py asserts the classes).
"""

from __future__ import annotations

import argparse
import sys
import time

from concurrency_lab.advise import advise, render
from concurrency_lab.lesson import work_classes as targets

#: name -> (function, items, needs the line server)
CLASSES = {
    "sum_of_squares": (targets.sum_of_squares, range(200), False),
    "collatz_steps": (targets.collatz_steps, range(200), False),
    "sleep_20ms": (targets.sleep_20ms, range(200), False),
    "read_from_server": (targets.read_from_server, range(200), True),
    "async_sleep_20ms": (targets.async_sleep_20ms, range(200), False),
    "async_read_from_server": (targets.async_read_from_server, range(200), True),
    "sha256_of_buffer": (targets.sha256_of_buffer, range(200), False),
    "zlib_crc_of_buffer": (targets.zlib_crc_of_buffer, range(200), False),
    "add_one": (targets.add_one, range(200_000), False),
    "tiny_tuple": (targets.tiny_tuple, range(200_000), False),
    "locked_sleeper (closure)": (targets.make_locked_sleeper(), range(200), False),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=10.0, help="advise's budget per function (default 10 s)")
    parser.add_argument("--only", help="a comma-separated subset of: " + ", ".join(CLASSES))
    args = parser.parse_args(argv)
    names = list(CLASSES) if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in CLASSES]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}; choose from {', '.join(CLASSES)}")
    for name in names:
        func, items, needs_server = CLASSES[name]
        started = time.monotonic()
        print(f"=== {name} ===", flush=True)
        if needs_server:
            with targets.line_server():
                advice = advise(func, items, budget=args.budget)
        else:
            advice = advise(func, items, budget=args.budget)
        print(render(advice))
        others = "unknown" if advice.other_cores is None else f"{advice.other_cores:.2f}"
        print(f"(bound: {advice.bound}; named: {advice.recommended.label if advice.recommended else None}; "
              f"other processes: {others} cores; {time.monotonic() - started:.1f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
