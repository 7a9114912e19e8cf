"""The `concurrency-lab` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..core import interrupt
from ..failures import SUMMARY as FAILURES_SUMMARY
from ..options import PATH_ARGUMENT, ArgumentParser, add_run_options, error_line
from ..variants import VARIANT_NAMES, variant_class
from ..variants.dask_cluster import use_scheduler_address
from ..workloads import SIZE_LABELS, WORKLOAD_NAMES, get_workload

# The commands are listed once, by argparse, from each sub-parser's help.
DESCRIPTION = """\
Run the same jobs with every Python concurrency variant, check that every variant returns
exactly the workload's reference results, and show what each one buys.
"""


def _cmd_matrix(args: argparse.Namespace) -> int:
    from .matrix import print_matrix, run_matrix

    use_scheduler_address(args.dask_address)
    rows = run_matrix(args.workloads, args.variants, workers=args.workers, size_label=args.size, seed=args.seed,
                      start_method=args.start_method, timeout=args.timeout)
    print(f"concurrency-lab {__version__} on Python {sys.version.split()[0]}: size {args.size!r}, cold pools "
          "(start-up included), one run each; see `concurrency-lab run` for measured benchmarks", flush=True)
    with interrupt.during("during the matrix; the rows printed are complete"):
        return 0 if print_matrix(rows, sys.stdout) else 1


def _cmd_run(args: argparse.Namespace) -> int:
    from ..bench.run import run_benchmarks, write_run_reports

    use_scheduler_address(args.dask_address)
    code, raw = run_benchmarks(profile=args.profile, variants=args.variants, workloads=args.workloads,
                               workers=args.workers, out_dir=args.out, timeout=args.timeout,
                               extra_pytest_args=() if args.failures else ("--no-lab-failures",), verbose=args.verbose)
    if not raw.exists():
        partial = raw.with_suffix(".json.partial")
        kept = f"; whatever was measured is in {partial}" if partial.exists() else ""
        print(f"the benchmarks did not finish (pytest exit status {code}): no reports written{kept}", file=sys.stderr)
        return code or 1
    print(f"results: {raw}")
    return write_run_reports([raw], args.out, verbose=args.verbose) or (1 if code else 0)


def _results_paths(args: argparse.Namespace) -> list[Path]:
    from ..records.advice import ADVICE_FILE

    paths = list(args.results)
    for directory in args.latest_in or ():  # one latest.json per tox env; envs that were skipped have none
        paths += sorted(Path(directory).glob("*/latest.json")) + sorted(Path(directory).glob(f"*/{ADVICE_FILE}"))
    return paths


def _results_problem(paths: Sequence[Path]) -> str | None:
    """Why `paths` cannot be read as results (the first reason), or None; read before any report is made."""
    from ..records.advice import ADVICE_FILE, UnreadableAdvice, advice_from_document, is_advice_document
    from ..report.pytest_benchmark_json import UnreadableResults, benchmarks_in, expand_paths, read_results_file
    from ..records.benchmark import record_version
    from ..records.versions import SchemaError

    missing = [str(path) for path in paths if not path.exists()]
    if missing or not paths:
        return f"no such results: {', '.join(map(repr, missing))}" if missing else "no results given or found"
    try:
        files = expand_paths(paths)
    except UnreadableResults as exc:
        return str(exc)
    if not files:
        return f"no results (*.json) in {', '.join(repr(str(path)) for path in paths)}"
    for path in files:
        try:
            document = read_results_file(path)
            if is_advice_document(document):
                advice_from_document(document, str(path))  # a newer schema: refused, naming its version
                continue
            if not isinstance(document.get("benchmarks"), list):
                return (f"{str(path)!r} is not pytest-benchmark results (no \"benchmarks\" list) nor advise's "
                        f"{ADVICE_FILE}; save them with `concurrency-lab run`, pytest --benchmark-json=FILE "
                        "or `concurrency-lab advise ... --out DIR`")
            for benchmark in benchmarks_in(document):
                extra = benchmark.get("extra_info")
                if isinstance(extra, dict) and extra:
                    record_version(extra)  # a record of a newer schema: refused, naming its version
        except (UnreadableResults, UnreadableAdvice, SchemaError) as exc:
            return f"{str(path)!r}: {str(exc).removeprefix(f'{path}: ')}"
        except RecursionError:
            return f"{str(path)!r}: not JSON (nested too deeply)"
        except OSError as exc:
            return f"{str(path)!r}: cannot be read ({exc.strerror or exc})"
    return None


def _refused(command: str, problem: str) -> int:
    print(error_line(f"concurrency-lab {command}", " ".join(problem.split())), file=sys.stderr)
    return 2


def _cmd_report(args: argparse.Namespace) -> int:
    from ..bench.run import write_run_reports
    from ..report.envs import env_notes
    from ..records.summary import ReportWarning

    paths = _results_paths(args)
    # The tox envs that failed, were skipped or did not finish: named in the report, not left out in silence.
    envs = [ReportWarning(f"tox env {env}", None, note) for env, note in env_notes(args.latest_in or ())]
    problem = _results_problem(paths)
    if problem:
        for warning in envs:
            print(f"warning: {warning.source}: {warning.message}", file=sys.stderr)
        return _refused("report", problem)
    return write_run_reports(paths, args.out, verbose=True, warnings=envs)  # verdicts: what `report` printed before `run -v` existed


def _cmd_compare(args: argparse.Namespace) -> int:
    from ..report import build_note, compare_runs, format_comparison_table

    for path in (args.a, args.b):
        problem = f"no such results file: {str(path)!r}" if not path.is_file() else _results_problem([path])
        if problem:
            return _refused("compare", problem)
    print(format_comparison_table(compare_runs(args.a, args.b), labels=(str(args.a), str(args.b)),
                                  note=build_note(args.a, args.b)))
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    print("variants:")
    for name in VARIANT_NAMES:
        cls = variant_class(name)
        reason = cls.unavailable_reason()
        print(f"  {name:<13} {cls.summary}" + (f"  [unavailable: {reason}]" if reason else ""))
    print("workloads:")
    for name in WORKLOAD_NAMES:
        workload = get_workload(name)
        sizes = ", ".join(f"{label} {workload.sizes[label]}" for label in SIZE_LABELS)
        print(f"  {name:<13} [{workload.bound.label}] {workload.summary} (sizes: {sizes})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="concurrency-lab", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                                     description="`concurrency-lab COMMAND --help` shows a command's options.")

    run = commands.add_parser("run", help="benchmark the variant x workload x workers matrix on this Python and write reports",
                              description="Benchmark every variant x workload x workers case under pytest-benchmark "
                                          "(median of several rounds after warm-up; exact CPU seconds; memory and per-core "
                                          "use sampled from a separate process), then write summary.json, summary.md and "
                                          "index.html. It says first what it will run and about how long it will take.")
    add_run_options(run.add_argument, only=("profile", "variants", "workloads", "worker_counts", "timeout", "dask_address",
                                           "out"))
    run.add_argument("--no-failures", dest="failures", action="store_false",
                     help=f"leave out the failure-modes table ({FAILURES_SUMMARY})")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="pytest's own output (each test, its summary and pytest-benchmark's tables) and every "
                          "verdict; without it, the progress, one line of counts and the reports' paths")
    run.set_defaults(handler=_cmd_run)

    report = commands.add_parser("report", help="rebuild the reports from saved benchmark results (several Pythons merge into one)",
                                 description="Merge saved pytest-benchmark JSON results (one file per Python run), and advise.json files, into "
                                             "summary.json, summary.md and index.html.")
    report.add_argument("results", nargs="*", type=PATH_ARGUMENT, metavar="RESULTS",
                        help="pytest-benchmark JSON files or folders of them; an advise.json there (from `advise --out`) "
                             "is shown in an Advice section")
    report.add_argument("--latest-in", action="append", type=PATH_ARGUMENT, metavar="DIR",
                        help="also take DIR/*/latest.json (what each tox env saved) and DIR/*/advise.json")
    add_run_options(report.add_argument, only=("out",))
    report.set_defaults(handler=_cmd_report)

    compare = commands.add_parser("compare", help="per-benchmark ratios between two saved runs, with significance",
                                  description="Per-benchmark median ratios between two pytest-benchmark JSON files, with a "
                                              "Mann-Whitney U p-value where both kept per-round data (--benchmark-save-data).")
    compare.add_argument("a", type=PATH_ARGUMENT, metavar="A")
    compare.add_argument("b", type=PATH_ARGUMENT, metavar="B")
    compare.set_defaults(handler=_cmd_compare)

    matrix = commands.add_parser("matrix", help="run every variant over every workload once, printing results and times",
                                 description="Run each workload with each variant once (cold pools), print the wall time, "
                                             "the speedup over sequential and whether the results equal the reference. "
                                             "Exit status 1 if any result differs.")
    add_run_options(matrix.add_argument, only=("variants", "workloads", "workers", "start_method", "size", "seed",
                                               "timeout", "dask_address"))
    matrix.set_defaults(handler=_cmd_matrix)

    from .advise import add_arguments as add_advise_arguments

    add_advise_arguments(commands.add_parser(
        "advise", help="which variant for your own function: proven against sequential and measured within a budget",
        description="Probe MODULE:FUNCTION over its items, rule out what cannot run it, prove every variant's results "
                    "equal sequential's, measure speedup, cores used and memory within --budget seconds, and name "
                    "the variant to use with its worker count, chunk size and a snippet."))
    commands.add_parser("list", help="the variants and workloads, and whether each can run here",
                        description="List variants and workloads.").set_defaults(handler=_cmd_list)
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
            from ..download.cli import main as download_main

            return download_main(argv[1:])
        from ..server import main as serve_main

        return serve_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.handler(args)
