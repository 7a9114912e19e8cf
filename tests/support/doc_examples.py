"""The examples in README.md and docs/*.md, found and checked: the Python snippets and the lab's command lines.

A command line is parsed by the command's own parser (the real ``main``, stopped right after
``parse_args``), never run: the README's long commands (a full ``run``, ``tox``) cost minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from concurrency_lab.commands import cli

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

#: Fenced blocks only: ```python is run, ```sh and ```console (its "$ " lines) hold commands, ```text is output.
_FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SHELL_LANGUAGES = {"sh", "shell", "bash", "console"}
_COMMAND_SEPARATORS = {"&&", "||", ";", "|", "&"}
#: A synopsis in prose or a usage block: `concurrency-lab run [--profile smoke|standard|full] ...`.
_SYNOPSIS = re.compile(r"(?:concurrency-lab|provision/pythons|python -m concurrency_lab(?:\.\w+)*)(?: [^`\n]*)?")
#: The repository's own commands with a parser, by how the docs call them: their arguments are checked too.
TOOLS = {"provision/pythons": "provision.pythons"}
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    language: str
    body: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(paths: Sequence[Path] = DOC_FILES) -> list[Block]:
    found = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(path, line, match.group(1).lower(), match.group(2)))
    return found


def python_blocks(paths: Sequence[Path] = DOC_FILES) -> list[Block]:
    return [block for block in blocks(paths) if block.language == "python"]


def shell_commands(block: Block) -> list[str]:
    """The command lines of a shell block: every line of ```sh (continuations joined), the "$ " lines of ```console."""
    lines, pending = [], ""
    for raw in block.body.splitlines():
        if block.language == "console" and not pending:
            if not raw.startswith("$ "):
                continue
            raw = raw[2:]
        pending += raw.strip() if pending else raw.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip() + " "
            continue
        if pending.strip() and not pending.lstrip().startswith("#"):
            lines.append(pending.strip())
        pending = ""
    return lines


def lab_commands(line: str) -> list[list[str]]:
    """Each invocation of the lab in a shell line, as its argv from the program on: ``a && concurrency-lab run``
    gives ``[["concurrency-lab", "run"]]``; environment assignments before a command are dropped."""
    words = shlex.split(line, comments=True)
    found, current = [], []
    for word in [*words, ";"]:
        if word in _COMMAND_SEPARATORS:
            while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):
                current.pop(0)
            if current and _is_lab(current):
                found.append(current)
            current = []
        else:
            current.append(word)
    return found


def _is_lab(argv: Sequence[str]) -> bool:
    if Path(argv[0]).name == "concurrency-lab" or argv[0] in TOOLS:
        return True
    return (Path(argv[0]).name.startswith("python") and len(argv) > 2 and argv[1] == "-m"
            and argv[2].split(".")[0] == "concurrency_lab")


class _Parsed(Exception):
    """Raised by the patched ``parse_args``: the arguments parsed, and nothing runs."""


def parse_problem(argv: Sequence[str]) -> str | None:
    """None when the lab's own parser accepts `argv` (``--help`` counts as accepted); else what it said."""
    status, output = _parse_only(argv)
    if status in (0, None):
        return None
    return f"exit status {status}: {output.strip() or '(nothing printed)'}"


def help_of(command: Sequence[str]) -> str:
    """What ``COMMAND --help`` prints (on an unknown command: its one error line)."""
    return _parse_only([*command, "--help"])[1]


def _parse_only(argv: Sequence[str]) -> tuple[int | str | None, str]:
    """(exit status, what was printed) of the command's ``main`` stopped after parsing: status None when it parsed."""
    module, arguments = _entry_point(argv)
    if module is None:
        return 2, f"no such lab module: {argv[2]}"
    original_init, original_parse = argparse.ArgumentParser.__init__, argparse.ArgumentParser.parse_args

    def init_unabbreviated(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        # argparse takes `--profil` for `--profile`: the docs must spell every option in full.
        original_init(self, *args, **{**kwargs, "allow_abbrev": False})

    def parse_and_stop(self: argparse.ArgumentParser, args: Any = None, namespace: Any = None) -> Any:
        raise _Parsed(original_parse(self, args, namespace))

    output = io.StringIO()
    with mock.patch.object(argparse.ArgumentParser, "__init__", init_unabbreviated), \
            mock.patch.object(argparse.ArgumentParser, "parse_args", parse_and_stop), \
            contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            status = module.main(list(arguments))
        except _Parsed:
            status = None
        except SystemExit as stop:
            status = stop.code
    return status, output.getvalue()


def _entry_point(argv: Sequence[str]) -> tuple[Any, Sequence[str]]:
    """The module whose ``main`` the command line runs, and the arguments it gets."""
    if Path(argv[0]).name == "concurrency-lab":
        return cli, argv[1:]
    if argv[0] in TOOLS:
        return _tool(argv[0]), argv[1:]
    name = argv[2]
    if name == "concurrency_lab":
        return cli, argv[3:]
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None, ()
    return (module if hasattr(module, "main") else None), argv[3:]


def synopses(paths: Sequence[Path] = DOC_FILES) -> Iterator[tuple[str, str]]:
    """(where, text) for each mention of a lab command outside the runnable shell blocks (prose, usage blocks)."""
    for path in paths:
        text = path.read_text(encoding="utf-8")
        shell_spans = [m.span() for m in _FENCE.finditer(text) if m.group(1).lower() in SHELL_LANGUAGES]
        for match in _SYNOPSIS.finditer(text):
            if any(start <= match.start() < end for start, end in shell_spans):
                continue
            line = text.count("\n", 0, match.start()) + 1
            yield f"{path.relative_to(ROOT)}:{line}", match.group(0)


def unknown_options(synopsis: str) -> list[str]:
    """The ``--options`` a synopsis names that its command does not have (its ``--help`` lists each one)."""
    argv = re.sub(r"[][|()]", " ", synopsis).split()  # not shlex: prose has apostrophes
    command = argv[:1] if argv[0] == "concurrency-lab" or argv[0] in TOOLS else argv[:3]
    names_a_subcommand = len(argv) > len(command) and not argv[len(command)].startswith("-")
    if command[-1] in ("concurrency-lab", "concurrency_lab") and names_a_subcommand:
        command = argv[:len(command) + 1]
    help_text = help_of(command)
    return [option for option in _OPTION.findall(synopsis) if not re.search(rf"(?<![\w-]){option}(?![\w-])", help_text)]


def _tool(name: str) -> Any:
    """A repository command's module, imported with the repository on sys.path, as its script runs it."""
    with mock.patch("sys.path", [str(ROOT), *sys.path]):
        return importlib.import_module(TOOLS[name])
