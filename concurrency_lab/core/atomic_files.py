"""Writing a set of files so that a killed run never leaves half a file, and so that others can read them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

REPORT_MODE = 0o644  # mkstemp creates 0600; reports and advice pages are meant to be read (and served) by others

#: A file's name in the folder -> what renders its text, in chunks.
Renderers = Mapping[str, Callable[[], Iterable[str]]]


def write_files(out_dir: str | Path, renderers: Renderers) -> list[Path]:
    """Write every file of `renderers` into `out_dir` (created if missing); returns their paths.

    Every document is rendered into a temporary file next to its destination and fsynced first;
    only when all of them rendered do they replace the previous files, each by an atomic
    `os.replace`. A failure while rendering leaves every previous file as it was.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, render in renderers.items():
            staged.append((stage(out, name, render), out / name))
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)  # nothing left behind after a failure; no-op once replaced
    _fsync_directory(out)
    return [final for _, final in staged]


def stage(directory: Path, name: str, render: Callable[[], Iterable[str]]) -> Path:
    """Render into a hidden temporary file in `directory`, flushed to disk; removed on failure."""
    descriptor, temporary_name = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            for chunk in render():
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, REPORT_MODE)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _fsync_directory(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
