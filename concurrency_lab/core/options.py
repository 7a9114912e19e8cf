"""The option toolkit: parsers with their bounds, `Option` and `add_options`, the lab's `ArgumentParser`.

Each command declares its own options with it; an option several commands share is declared once, by the
layer that knows what it names, and added by each (pytest-benchmark's ``add_global_options(addoption,
prefix=...)``): one parser, one check and one error message per option. Nothing here knows the product.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeAlias

from .cpus import (
    MAX_WORKERS,
    START_METHODS,
    available_start_methods,
    default_start_method,
    usable_cpus,
    worker_count_problem,
)

_SHOWN_CHARS = 40  # a bad value is quoted up to this long: the error stays one readable line
#: Not int()'s "1_000" or other scripts' digits; 18 digits at most, so int() never refuses one (4300+).
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]{1,18}\s*", re.ASCII)
#: A decimal number as people write seconds ("2", "0.5", "1e-3"): not float()'s "nan", "inf" or "1_0".
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,4})?\s*", re.ASCII)

#: The longest file name and path the system looks up (Linux's NAME_MAX and PATH_MAX, in bytes);
#: past them every call fails with ENAMETOOLONG, which pathlib's exists() raises instead of answering.
_NAME_MAX = 255
_PATH_MAX = 4096


class OptionError(ValueError):
    """A bad option value. Its text says what is wrong, without the option's name: ``must be at least 1, got 0``."""


def shown(text: str) -> str:
    """`text` quoted as an error line shows it: whole when short, else its start and its length."""
    return repr(text) if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def parse_workers(text: str) -> int:
    """``"8"`` -> 8: a number of workers, from 1 to `MAX_WORKERS`."""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise OptionError(f"expected a whole number from 1 to {MAX_WORKERS}, got {shown(text)}")
    count = int(text)
    problem = worker_count_problem(count)
    if problem is not None:
        raise OptionError(problem)
    return count


def parse_whole_number(text: str, least: int, most: int) -> int:
    """``"8"`` -> 8: a whole number from `least` to `most`, in ASCII digits."""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise OptionError(f"expected a whole number from {least} to {most}, got {shown(text)}")
    number = int(text)
    if number < least:
        raise OptionError(f"must be at least {least}, got {number}")
    if number > most:
        raise OptionError(f"must be at most {most}, got {number}")
    return number


def parse_seconds(text: str, most: float) -> float:
    """``"2.5"`` -> 2.5: a number of seconds above 0 and at most `most` (never NaN or infinite)."""
    if not _DECIMAL.fullmatch(text):
        raise OptionError(f"expected a number of seconds above 0 and at most {most:g}, got {shown(text)}")
    seconds = float(text)
    if not (0 < seconds <= most and math.isfinite(seconds)):
        raise OptionError(f"must be above 0 and at most {most:g} seconds, got {seconds:g}")
    return seconds


def parse_worker_counts(text: str) -> list[int]:
    """``"8,1,2"`` -> [1, 2, 8]: one or more worker counts, each checked by `parse_workers`."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise OptionError(f"expected comma-separated worker counts like 1,2,8, got {shown(text)}")
    return sorted({parse_workers(part) for part in parts})


def parse_name(text: str, choices: Sequence[str], kind: str) -> str:
    """`text` when it is one of `choices`; OptionError naming the `kind` of thing and the choices."""
    name = text.strip()
    if name not in choices:
        raise OptionError(f"unknown {kind} {shown(name)}; choose from {', '.join(choices)}")
    return name


def parse_names(text: str, choices: Sequence[str], kind: str = "name") -> list[str]:
    """``"a,b"`` -> ["a", "b"] (repeats dropped), each one of `choices`; OptionError naming the unknown ones."""
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise OptionError(f"expected one or more comma-separated {kind}s from {', '.join(choices)}; got {shown(text)}")
    unknown = [name for name in names if name not in choices]
    if unknown:
        listed = ", ".join(shown(name) for name in unknown)
        raise OptionError(f"unknown {kind}{'s' if len(unknown) > 1 else ''} {listed}; choose from {', '.join(choices)}")
    return names


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
        raise OptionError(f"{problem}: {shown(text)}" if text else problem)
    return Path(text)


@dataclass(frozen=True)
class Option:
    """One command-line option: how it is spelt, parsed and explained. `add_options` registers it."""

    flag: str  # without the prefix
    parse: Callable[[str], Any]
    metavar: str
    help: str  # "{default}" is replaced by `default_text`, or the default itself
    default: Any = None  # a callable is called as the option is added (a list that must be up to date)
    default_text: str | None = None  # how the default reads in --help, when str(default) would not do

    def but(self, **changes: Any) -> Option:
        """This option with another default (or help): ``VARIANT.but(default="thread_pool")``."""
        return replace(self, **changes)

    @property
    def dest(self) -> str:
        """The attribute argparse stores it in without a prefix: ``--dask-address`` -> ``dask_address``."""
        return self.flag.removeprefix("--").replace("-", "_")


def add_options(add: Callable[..., Any], options: Iterable[Option], *, prefix: str = "",
                error: type[Exception] | None = None) -> None:
    """Register `options` with `add`: argparse's ``add_argument`` or pytest's ``addoption``, as
    ``--{prefix}{name}`` (``--lab-workers``).

    A bad value raises ``argparse.ArgumentTypeError`` (for `ArgumentParser`, which prints ``prog: error:
    --workers: must be at least 1, got 0``), or ``error("--lab-workers: must be at least 1, got 0")`` where
    `error` is given (pytest.UsageError).
    """
    for option in options:
        flag = f"--{prefix}{option.flag.removeprefix('--')}"
        default = option.default() if callable(option.default) else option.default
        shown = option.default_text if default is None and option.default_text else str(default)
        add(flag, type=_checked(option.parse, flag, error), default=default, metavar=option.metavar,
            help=option.help.replace("{default}", shown))


# Options that several commands share and that name nothing above the core.
WORKERS = Option("--workers", parse_workers, "N", f"worker count, 1 to {MAX_WORKERS} (default: {{default}})",
                 default_text=f"the variant's own: 1 for sequential, the usable CPUs ({usable_cpus()} here) "
                              "for processes and interpreters, min(32, usable CPUs + 4) for threads and asyncio")
START_METHOD = Option("--start-method", parse_start_method, "NAME",
                      f"for process variants: {', '.join(available_start_methods())} (default: {{default}})",
                      default_text=f"the platform's, {default_start_method()} here")


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
    """`parse` as an argparse ``type=`` for an argument that is not an `Option` (a positional path, say): an
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


#: What `ArgumentParser.add_subparsers` returns: each command's module adds its own parser to it.
Commands: TypeAlias = "argparse._SubParsersAction[ArgumentParser]"
