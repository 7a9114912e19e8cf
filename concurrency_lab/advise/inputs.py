"""What `advise` is asked about: a function named MODULE:FUNCTION or path/to/file.py:FUNCTION, and its
items from --range, --inputs or --expr. Every problem is an `InputError` whose text is one line."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Items read or evaluated, at most: advise measures a sample, and a list this long already takes
#: hundreds of MB; a typo like --range 10**12 is refused before anything is built.
MAX_ITEMS = 10_000_000


class InputError(ValueError):
    """Something `advise` was given cannot be used; the text says what and how to fix it, in one line."""


def load_function(spec: str) -> Callable[..., Any]:
    """The callable `spec` names: ``package.module:function`` (importable from sys.path) or
    ``path/to/file.py:function`` (its folder is put first on sys.path, so that worker processes
    started with spawn or forkserver import it by the same name). Dotted attributes are followed."""
    module_part, sep, attribute = spec.rpartition(":")
    if not sep or not module_part or not attribute:
        raise InputError(f"expected MODULE:FUNCTION or path/to/file.py:FUNCTION, got {spec!r}")
    module = _import_file(module_part) if module_part.endswith(".py") else _import_module(module_part)
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise InputError(f"{module_part} has no attribute {attribute!r}") from None
    if not callable(target):
        raise InputError(f"{spec} is a {type(target).__name__}, not a function")
    return target


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise InputError(f"no module named {name!r} on sys.path; give a file as path/to/file.py:FUNCTION "
                             "or install the package") from None
        raise InputError(f"importing {name!r} failed: {_one_line(exc)}") from None
    except BaseException as exc:  # the user's module may raise anything, SystemExit too
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"importing {name!r} failed: {_one_line(exc)}") from None


def _import_file(path_text: str) -> Any:
    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"no such file: {path_text!r}")
    folder, name = str(path.resolve().parent), path.stem
    if not name.isidentifier():
        raise InputError(f"{path_text!r} cannot be imported by worker processes: {name!r} is not a module name")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() != path.resolve():
        raise InputError(f"{path_text!r} would be imported as {name!r}, which is already the module "
                         f"{getattr(existing, '__file__', name)}; rename the file")
    return _import_module(name)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def items_from_range(count: int) -> list[int]:
    if count < 1:
        raise InputError(f"--range must be at least 1 (the items are 0..N-1), got {count}")
    if count > MAX_ITEMS:
        raise InputError(f"--range must be at most {MAX_ITEMS}, got {count}")
    return list(range(count))


def items_from_file(path: Path) -> list[Any]:
    """A JSON array, or JSON lines (one item per line; blank lines skipped)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        document = None
    else:
        if isinstance(document, list):
            return _checked(document, f"{str(path)!r}")
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except (ValueError, RecursionError):
                raise InputError(f"{str(path)!r} is neither a JSON array nor JSON lines: line {number} is not JSON") from None
    if document is not None and len(items) == 1:  # one JSON value that is not an array
        raise InputError(f"{str(path)!r} holds one JSON {type(document).__name__}; expected an array or JSON lines")
    return _checked(items, f"{str(path)!r}")


def items_from_expression(expression: str) -> list[Any]:
    """The items of a Python expression (evaluated with builtins only; import what you need inside it)."""
    try:
        value = eval(compile(expression, "<--expr>", "eval"), {"__builtins__": __builtins__})  # the user's own code
    except SyntaxError as exc:
        raise InputError(f"--expr is not a Python expression: {exc.msg}") from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"--expr raised {_one_line(exc)}") from None
    if isinstance(value, (str, bytes)):
        raise InputError(f"--expr gave a {type(value).__name__}; expected an iterable of items, like range(100)")
    try:
        iterator = iter(value)
    except TypeError:
        raise InputError(f"--expr gave a {type(value).__name__}, which is not iterable; expected e.g. range(100)") from None
    items = []
    try:
        for item in iterator:
            items.append(item)
            if len(items) > MAX_ITEMS:
                raise InputError(f"--expr gave more than {MAX_ITEMS} items")
    except InputError:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"--expr raised {_one_line(exc)} while its items were read") from None
    return _checked(items, "--expr")


def _checked(items: list[Any], what: str) -> list[Any]:
    if not items:
        raise InputError(f"{what} gave no items: advise needs at least one")
    if len(items) > MAX_ITEMS:
        raise InputError(f"{what} gave {len(items)} items; at most {MAX_ITEMS}")
    return items


def describe(func: Callable[..., Any]) -> str:
    """``module:qualname`` of a function, or its repr."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    return f"{module}:{qualname}" if module and qualname else repr(func)
