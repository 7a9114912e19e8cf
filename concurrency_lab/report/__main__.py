"""python -m concurrency_lab.report RESULTS... [--out DIR] | --compare A B"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import compare_runs, format_comparison_table, load_results, write_reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m concurrency_lab.report", description=__doc__)
    parser.add_argument("results", nargs="*", type=Path, help="pytest-benchmark JSON files, or directories of them (.benchmarks/)")
    parser.add_argument("--out", type=Path, default=Path("reports/latest"), help="where to write the reports (default: %(default)s)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two results files benchmark by benchmark")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = args.compare
        print(format_comparison_table(compare_runs(a, b), labels=(a.stem, b.stem)))
        return 0
    if not args.results:
        parser.error("give results files (or directories), or --compare A B")
    summary = load_results(args.results)
    for warning in summary.warnings:
        print(f"warning: {warning.source}" + (f" [{warning.benchmark}]" if warning.benchmark else "") + f": {warning.message}")
    for path in write_reports(summary, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
