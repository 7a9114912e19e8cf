"""The run options, each defined once for every command and the pytest plugin: one parser, one
check and one error message per option (pytest-benchmark's ``add_global_options(addoption, prefix=...)``)."""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .bench.cases import PROFILES
from .core.cpus import (
    MAX_WORKERS,
    START_METHODS,
    available_start_methods,
    default_start_method,
    usable_cpus,
    worker_count_problem,
)
from .download.records import DEFAULT_OPTIONS as FETCH_DEFAULTS
from .variants import VARIANT_NAMES
from .variants.checks import MAX_TIMEOUT_SECONDS, check_scheduler_address
from .workloads import SIZE_LABELS, WORKLOAD_NAMES

_SHOWN_CHARS = 40  # a bad value is quoted up to this long: the error stays one readable line
#: Not int()'s "1_000" or other scripts' digits; 18 digits at most, so int() never refuses one (4300+).
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]{1,18}\s*", re.ASCII)
#: A decimal number as people write seconds ("2", "0.5", "1e-3"): not float()'s "nan", "inf" or "1_0".
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?\s*", re.ASCII)

# The upper bound of each numeric option, checked before anything starts (worker counts: MAX_WORKERS).
#: Inputs are the same for the same seed; random.Random takes abs(seed), so negative seeds would repeat
#: positive ones. 32 bits, the range every random-number tool replays.
MAX_SEED = 2**32 - 1
MAX_PORT = 65535  # TCP's 16 bits; 0 picks any free port
#: An hour for one URL (and for a connect or a read): loopback answers in milliseconds, a slow site in
#: seconds; a typo like 1e9 would otherwise keep a worker waiting for 30 years.
MAX_DOWNLOAD_SECONDS = 3600.0
#: urllib3's backoff (0.1 s x 2 ** (n - 1)) already sleeps 51 s before the 10th retry.
MAX_RETRIES = 10
MAX_REDIRECTS = 100  # requests stops at 30, aiohttp at 10: a hundred hops is a loop
#: 1 TiB: a body is hashed and dropped as it arrives, so the cap bounds time, never memory.
MAX_BODY_BYTES = 2**40
MAX_TASKS = 10_000  # the processor lesson's ranges: ~10 ms each on one core, so a couple of minutes at most
MAX_ADVISE_BUDGET_SECONDS = 24 * 3600.0  # a day: past any sweep worth waiting for


#: The longest file name and path the system looks up (Linux's NAME_MAX and PATH_MAX, in bytes);
#: past them every call fails with ENAMETOOLONG, which pathlib's exists() raises instead of answering.
_NAME_MAX = 255
_PATH_MAX = 4096


class OptionError(ValueError):
    """A bad option value. Its text says what is wrong, without the option's name: ``must be at least 1, got 0``."""


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def parse_workers(text: str) -> int:
    """``"8"`` -> 8: a number of workers, from 1 to `MAX_WORKERS`."""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise OptionError(f"expected a whole number from 1 to {MAX_WORKERS}, got {_shown(text)}")
    count = int(text)
    problem = worker_count_problem(count)
    if problem is not None:
        raise OptionError(problem)
    return count


def parse_whole_number(text: str, least: int, most: int) -> int:
    """``"8"`` -> 8: a whole number from `least` to `most`, in ASCII digits."""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise OptionError(f"expected a whole number from {least} to {most}, got {_shown(text)}")
    number = int(text)
    if number < least:
        raise OptionError(f"must be at least {least}, got {number}")
    if number > most:
        raise OptionError(f"must be at most {most}, got {number}")
    return number


def parse_seconds(text: str, most: float) -> float:
    """``"2.5"`` -> 2.5: a number of seconds above 0 and at most `most` (never NaN or infinite)."""
    if not _DECIMAL.fullmatch(text):
        raise OptionError(f"expected a number of seconds above 0 and at most {most:g}, got {_shown(text)}")
    seconds = float(text)
    if not (0 < seconds <= most and math.isfinite(seconds)):
        raise OptionError(f"must be above 0 and at most {most:g} seconds, got {seconds:g}")
    return seconds


def parse_worker_counts(text: str) -> list[int]:
    """``"8,1,2"`` -> [1, 2, 8]: one or more worker counts, each checked by `parse_workers`."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise OptionError(f"expected comma-separated worker counts like 1,2,8, got {_shown(text)}")
    return sorted({parse_workers(part) for part in parts})


def parse_name(text: str, choices: Sequence[str], kind: str) -> str:
    """`text` when it is one of `choices`; OptionError naming the `kind` of thing and the choices."""
    name = text.strip()
    if name not in choices:
        raise OptionError(f"unknown {kind} {_shown(name)}; choose from {', '.join(choices)}")
    return name


def parse_names(text: str, choices: Sequence[str], kind: str = "name") -> list[str]:
    """``"a,b"`` -> ["a", "b"] (repeats dropped), each one of `choices`; OptionError naming the unknown ones."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise OptionError(f"expected one or more comma-separated {kind}s from {', '.join(choices)}; got {_shown(text)}")
    unknown = [name for name in names if name not in choices]
    if unknown:
        listed = ", ".join(_shown(name) for name in unknown)
        raise OptionError(f"unknown {kind}{'s' if len(unknown) > 1 else ''} {listed}; choose from {', '.join(choices)}")
    return names


def parse_scheduler_address(text: str) -> str:
    """``"tcp://127.0.0.1:8786"``: a Dask scheduler's address, checked as the dask variant checks it."""
    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def parse_start_method(text: str) -> str:
    """One of the lab's start methods that this platform has."""
    method = parse_name(text, START_METHODS, "start method")
    if method not in available_start_methods():
        raise OptionError(f"start method {method!r} is not available on this platform; "
                          f"choose from {', '.join(available_start_methods())}")
    return method


def parse_start_methods(text: str) -> list[str]:
    return [parse_start_method(method) for method in parse_names(text, START_METHODS, "start method")]


def path_problem(text: str) -> str | None:
    """Why `text` cannot name a file on this system at all (whether or not one exists there), or None.

    Checked where arguments are parsed, because deeper down each of these fails differently: a NUL is a
    ValueError from ``os.scandir`` (pathlib's glob on 3.13) but silently "does not exist" from
    ``Path.exists``; a lone surrogate is a UnicodeEncodeError; a name too long an OSError from ``exists``.
    """
    if not text:
        return "expected a path, got ''"
    if "\0" in text:
        return "a path cannot hold a NUL character"
    try:
        encoded = os.fsencode(text)
    except UnicodeEncodeError as exc:
        return f"{text[exc.start:exc.end]!r} cannot be part of a file name here ({exc.reason})"
    # Checked by length, not by a lookup: a lookup stops at the first missing folder, before a long name.
    if len(encoded) >= _PATH_MAX or any(len(name) > _NAME_MAX for name in encoded.split(os.sep.encode())):
        return "the name is too long for this system"
    return None


def parse_path(text: str) -> Path:
    """A path that the system can look up: no NUL, encodable, not too long (`path_problem`)."""
    problem = path_problem(text)
    if problem:
        raise OptionError(f"{problem}: {_shown(text)}" if text else problem)
    return Path(text)


def parse_folder(text: str) -> Path:
    """A folder that exists or can be made, and can be written in; checked without making anything."""
    if not text.strip():
        raise OptionError("expected a folder, got ''")
    problem = path_problem(text) or _folder_problem(Path(text))
    if problem:
        raise OptionError(f"cannot write to {_shown(text)}: {problem}")
    return Path(text)


def _folder_problem(folder: Path) -> str | None:
    try:
        if folder.exists() and not folder.is_dir():
            return "it is a file, not a folder"
        nearest = next((path for path in (folder, *folder.parents) if path.exists()), Path.cwd())
        if not nearest.is_dir():
            return f"{str(nearest)!r} is a file, so no folder can be made below it"
        if not os.access(nearest, os.W_OK | os.X_OK):
            return f"no permission to write in {str(nearest)!r}"
    except (OSError, ValueError) as exc:  # a name too long, a NUL character
        return getattr(exc, "strerror", None) or str(exc)
    return None


def _profile_worker_counts() -> str:
    def counts(profile: Any) -> str:
        cpu = ", ".join(map(str, profile.cpu_worker_counts))
        return f"{cpu + ' and ' if cpu else ''}the usable CPUs, I/O {', '.join(map(str, profile.io_worker_counts))}"
    return "; ".join(f"{name}: {counts(profile)}" for name, profile in PROFILES.items())


@dataclass(frozen=True)
class Option:
    flag: str  # without the prefix
    parse: Callable[[str], Any]
    metavar: str
    help: str  # "{default}" is replaced by `default_text`, or the default itself
    default: Any = None
    default_text: str | None = None  # how the default reads in --help, when str(default) would not do


#: Every option of the lab's commands, by key. Two keys may share a flag: ``--workers`` is one count
#: for a single run (matrix, download, the lesson modules) and a comma list for the benchmark matrix;
#: both check each count with `parse_workers`.
OPTIONS: dict[str, Option] = {
    "profile": Option("--profile", lambda text: parse_name(text, tuple(PROFILES), "profile"), "NAME",
                      f"sizes, rounds and worker counts: {', '.join(PROFILES)} (default: {{default}})", "standard"),
    "variants": Option("--variants", lambda text: parse_names(text, VARIANT_NAMES, "variant"), "A,B",
                       f"comma-separated, of {', '.join(VARIANT_NAMES)} (default: all)",
                       lambda: list(VARIANT_NAMES)),  # at parse time: a variant registered later is in it
    "timeout": Option("--timeout", lambda text: parse_seconds(text, MAX_TIMEOUT_SECONDS), "S",
                      f"seconds one map call may take, at most {MAX_TIMEOUT_SECONDS:g}: past it pending work is "
                      "cancelled and worker processes stopped (a running thread cannot be; it ends after its item) "
                      "(default: no limit)"),
    "variant": Option("--variant", lambda text: parse_name(text, VARIANT_NAMES, "variant"), "NAME",
                      f"how to run it, one of {', '.join(VARIANT_NAMES)} (default: {{default}})"),
    "workloads": Option("--workloads", lambda text: parse_names(text, WORKLOAD_NAMES, "workload"), "A,B",
                        f"comma-separated, of {', '.join(WORKLOAD_NAMES)} (default: all)", list(WORKLOAD_NAMES)),
    "workers": Option("--workers", parse_workers, "N", f"worker count, 1 to {MAX_WORKERS} (default: {{default}})",
                      default_text=f"the variant's own: 1 for sequential, the usable CPUs ({usable_cpus()} here) "
                                   "for processes, min(32, usable CPUs + 4) for threads and asyncio"),
    "worker_counts": Option(
        "--workers", parse_worker_counts, "N,M",
        f"comma-separated worker counts, each 1 to {MAX_WORKERS} (default: the profile's, with {usable_cpus()} usable "
        f"CPUs here: {_profile_worker_counts()}). "
        "Some rows keep a count of their own: the sequential baseline always runs with 1 worker, and the "
        "cold-pool rows and the chunksize trap row run at one count per workload: the usable CPUs when "
        "that count is among those given, else the smallest given."),
    "start_method": Option("--start-method", parse_start_method, "NAME",
                           f"for process variants: {', '.join(available_start_methods())} (default: {{default}})",
                           default_text=f"the platform's, {default_start_method()} here"),
    "start_methods": Option("--start-methods", parse_start_methods, "A,B",
                            "comma-separated start methods for process pools (default: all this platform has)",
                            list(available_start_methods())),
    "dask_address": Option("--dask-address", parse_scheduler_address, "tcp://HOST:PORT",
                           "the Dask scheduler the dask variant sends its tasks to, as DASK_SCHEDULER_ADDRESS does; the "
                           "lab must be importable on its workers (default: {default})",
                           default_text="DASK_SCHEDULER_ADDRESS if set, else a LocalCluster of single-threaded worker "
                                        "processes on 127.0.0.1, started and stopped by the lab"),
    "out": Option("--out", parse_folder, "DIR", "where reports and raw results go (default: {default})", Path("reports")),
    "size": Option("--size", lambda text: parse_name(text, SIZE_LABELS, "size"), "NAME",
                   f"input size: {', '.join(SIZE_LABELS)} (default: {{default}})", "smoke"),
    "seed": Option("--seed", lambda text: parse_whole_number(text, 0, MAX_SEED), "N",
                   f"seed for the inputs, 0 to {MAX_SEED} (default: {{default}})", 0),
    "tasks": Option("--tasks", lambda text: parse_whole_number(text, 1, MAX_TASKS), "N",
                    f"ranges of ~200,000 numbers to sum, 1 to {MAX_TASKS:,} (default: {{default}})"),
    "budget": Option("--budget", lambda text: parse_seconds(text, MAX_ADVISE_BUDGET_SECONDS), "S",
                     f"seconds advise may spend in all, probe and measurements, at most {MAX_ADVISE_BUDGET_SECONDS:g} "
                     "(default: {default})", 30.0),
    "port": Option("--port", lambda text: parse_whole_number(text, 0, MAX_PORT), "N",
                   f"TCP port, 0 to {MAX_PORT}; 0 picks any free port (default: {{default}})"),
    # How patient a download is (FetchOptions); each bounded so that a typo cannot hang a worker.
    "connect_timeout": Option("--connect-timeout", lambda text: parse_seconds(text, MAX_DOWNLOAD_SECONDS), "S",
                              f"seconds to connect, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
                              FETCH_DEFAULTS.connect_timeout),
    "read_timeout": Option("--read-timeout", lambda text: parse_seconds(text, MAX_DOWNLOAD_SECONDS), "S",
                           f"seconds any read may wait, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
                           FETCH_DEFAULTS.read_timeout),
    "deadline": Option("--deadline", lambda text: parse_seconds(text, MAX_DOWNLOAD_SECONDS), "S",
                       f"seconds for a whole URL, at most {MAX_DOWNLOAD_SECONDS:g} (default: {{default}})",
                       FETCH_DEFAULTS.deadline),
    "retries": Option("--retries", lambda text: parse_whole_number(text, 0, MAX_RETRIES), "N",
                      f"retries after connection errors, 429 and 5xx, 0 (off) to {MAX_RETRIES} (default: {{default}})",
                      FETCH_DEFAULTS.retries),
    "max_redirects": Option("--max-redirects", lambda text: parse_whole_number(text, 0, MAX_REDIRECTS), "N",
                            f"redirects to follow, 0 to {MAX_REDIRECTS} (default: {{default}})", FETCH_DEFAULTS.max_redirects),
    "max_bytes": Option("--max-bytes", lambda text: parse_whole_number(text, 0, MAX_BODY_BYTES), "N",
                        f"body size cap in bytes, 0 to {MAX_BODY_BYTES} (default: {{default}})", FETCH_DEFAULTS.max_bytes),
}


def add_run_options(add: Callable[..., Any], *, only: Iterable[str], prefix: str = "",
                    defaults: Mapping[str, Any] | None = None, error: type[Exception] | None = None) -> None:
    """Register the options `only` names (keys of `OPTIONS`) with `add`: argparse's ``add_argument``
    or pytest's ``addoption``, as ``--{prefix}{name}`` (``--lab-workers``).

    `defaults` replaces an option's default, by key. A bad value raises ``argparse.ArgumentTypeError``
    (for `ArgumentParser`, which prints ``prog: error: --workers: must be at least 1, got 0``), or
    ``error("--lab-workers: must be at least 1, got 0")`` where `error` is given (pytest.UsageError).
    """
    only, defaults = tuple(only), defaults or {}
    unknown = set(only) - set(OPTIONS)
    if unknown or set(defaults) - set(only):
        raise ValueError(f"run options {sorted(unknown or set(defaults) - set(only))} are not among those added; "
                         f"the options are {', '.join(OPTIONS)}")
    for key in only:
        option = OPTIONS[key]
        flag = f"--{prefix}{option.flag.removeprefix('--')}"
        default = defaults.get(key, option.default)
        default = default() if callable(default) else default
        shown = option.default_text if default is None and option.default_text else str(default)
        add(flag, type=_checked(option.parse, flag, error), default=default, metavar=option.metavar,
            help=option.help.replace("{default}", shown))


def _checked(parse: Callable[[str], Any], flag: str, error: type[Exception] | None) -> Callable[[str], Any]:
    def check(text: str) -> Any:
        try:
            return parse(text)
        except OptionError as exc:
            if error is None:
                raise argparse.ArgumentTypeError(str(exc)) from None  # argparse puts the flag in front
            raise error(option_message(flag, str(exc))) from None
    check.__name__ = flag  # what argparse would call the type in a message of its own
    return check


def argument_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """`parse` as an argparse ``type=`` for an argument outside `OPTIONS` (a positional path, say): an
    OptionError becomes argparse's one-line error, ``prog: error: RESULTS: a path cannot hold a NUL character``."""
    return _checked(parse, name, None)


#: The argparse type of every argument that names a file or folder to read: one check for every command.
PATH_ARGUMENT = argument_type(parse_path, "path")


def option_message(flag: str, problem: str) -> str:
    """The one line every command prints for a bad value, after ``prog: error: ``."""
    return f"{flag}: {problem}"


def error_line(prog: str, message: str) -> str:
    """The one line a command prints on stderr, with exit status 2, for anything wrong with its arguments."""
    return f"{prog}: error: {message}"


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with every error as one line on stderr and exit status 2:
    ``prog: error: --workers: must be at least 1, got 0`` (no usage block, no traceback).

    Sub-commands made by `add_subparsers` use this class too.
    """

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --workers: <problem>"; the lab says what option_message says.
        if message.startswith("argument ") and ": " in message:
            flag, problem = message.removeprefix("argument ").split(": ", 1)
            message = option_message(flag, problem)
        self.exit(2, error_line(self.prog, message) + "\n")
