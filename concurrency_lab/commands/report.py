"""`concurrency-lab report` and `compare`: saved results read back, checked before anything is written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..core.options import PATH_ARGUMENT, Commands, add_options, error_line
from ..core.out_path import OUT


def add_commands(commands: Commands) -> None:
    """The `report` and `compare` sub-commands."""
    report = commands.add_parser("report",
                                 help="rebuild the reports from saved benchmark results (several Pythons merge into one)",
                                 description="Merge saved pytest-benchmark JSON results (one file per Python run), and "
                                             "advise.json files, into summary.json, summary.md and index.html.")
    report.add_argument("results", nargs="*", type=PATH_ARGUMENT, metavar="RESULTS",
                        help="pytest-benchmark JSON files or folders of them; an advise.json there (from `advise --out`) "
                             "is shown in an Advice section")
    report.add_argument("--latest-in", action="append", type=PATH_ARGUMENT, metavar="DIR",
                        help="also take DIR/*/latest.json (what each tox env saved) and DIR/*/advise.json")
    add_options(report.add_argument, [OUT])
    report.set_defaults(handler=report_command)

    compare = commands.add_parser("compare", help="per-benchmark ratios between two saved runs, with significance",
                                  description="Per-benchmark median ratios between two pytest-benchmark JSON files, with a "
                                              "Mann-Whitney U p-value where both kept per-round data (--benchmark-save-data).")
    compare.add_argument("a", type=PATH_ARGUMENT, metavar="A")
    compare.add_argument("b", type=PATH_ARGUMENT, metavar="B")
    compare.set_defaults(handler=compare_command)


def _results_paths(args: argparse.Namespace) -> list[Path]:
    from ..records.advice import ADVICE_FILE

    paths = list(args.results)
    for directory in args.latest_in or ():  # one latest.json per tox env; envs that were skipped have none
        paths += sorted(Path(directory).glob("*/latest.json")) + sorted(Path(directory).glob(f"*/{ADVICE_FILE}"))
    return paths


def _results_problem(paths: Sequence[Path]) -> str | None:
    """Why `paths` cannot be read as results (the first reason), or None; read before any report is made."""
    from ..records.advice import ADVICE_FILE, UnreadableAdvice, advice_from_document, is_advice_document
    from ..records.benchmark import record_version
    from ..records.versions import SchemaError
    from ..report.pytest_benchmark_json import UnreadableResults, benchmarks_in, expand_paths, read_results_file

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


def report_command(args: argparse.Namespace) -> int:
    from ..bench.run import write_run_reports
    from ..records.summary import ReportWarning
    from ..report.envs import env_notes

    paths = _results_paths(args)
    # The tox envs that failed, were skipped or did not finish: named in the report, not left out in silence.
    envs = [ReportWarning(f"tox env {env}", None, note) for env, note in env_notes(args.latest_in or ())]
    problem = _results_problem(paths)
    if problem:
        for warning in envs:
            print(f"warning: {warning.source}: {warning.message}", file=sys.stderr)
        return _refused("report", problem)
    # verbose: the verdicts, what `report` printed before `run -v` existed
    return write_run_reports(paths, args.out, verbose=True, warnings=envs)


def compare_command(args: argparse.Namespace) -> int:
    from ..report import build_note, compare_runs, format_comparison_table

    for path in (args.a, args.b):
        problem = f"no such results file: {str(path)!r}" if not path.is_file() else _results_problem([path])
        if problem:
            return _refused("compare", problem)
    print(format_comparison_table(compare_runs(args.a, args.b), labels=(str(args.a), str(args.b)),
                                  note=build_note(args.a, args.b)))
    return 0
