"""The one check of a folder that reports are written to (`--out`), made before any work starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .options import Option, OptionError, path_problem, shown

#: What the folder probe is called while it exists (a few microseconds): a name nobody else uses.
_PROBE_PREFIX = ".concurrency-lab-out-check-"


def out_folder(text: str) -> Path:
    """`text` as a folder that exists or can be made, and can be written in; OptionError, one line, if not.

    Missing folders are allowed (each command makes them as it writes). The nearest folder that exists is
    then checked for what the mode bits do not say: a read-only file system, and one where no folder can be
    made at all (/proc, /sys: root passes every permission check there, and mkdir still fails). That last
    check makes an empty folder there and removes it at once: nothing short of trying tells.
    """
    if not text.strip():
        raise OptionError("expected a folder, got ''")
    problem = path_problem(text) or _folder_problem(Path(text))
    if problem:
        raise OptionError(f"cannot write to {shown(text)}: {problem}")
    return Path(text)


def _folder_problem(folder: Path) -> str | None:
    try:
        if folder.exists() and not folder.is_dir():
            return "it is a file, not a folder"
        nearest = next((path for path in (folder, *folder.parents) if path.exists()), Path.cwd())
        if not nearest.is_dir():
            return f"{str(nearest)!r} is a file, so no folder can be made below it"
        if os.statvfs(nearest).f_flag & os.ST_RDONLY:
            return f"{str(nearest)!r} is on a read-only file system"
        if not os.access(nearest, os.W_OK | os.X_OK):
            return f"no permission to write in {str(nearest)!r}"
        return _cannot_make_folder_in(nearest)
    except (OSError, ValueError) as exc:  # a name too long, a NUL character
        return getattr(exc, "strerror", None) or str(exc)


def _cannot_make_folder_in(folder: Path) -> str | None:
    """Why no folder can be made in `folder` (a virtual file system such as /proc or /sys), or None."""
    try:
        probe = tempfile.mkdtemp(prefix=_PROBE_PREFIX, dir=folder)
    except OSError as exc:
        return f"no folder can be made in {str(folder)!r} ({exc.strerror or exc})"
    os.rmdir(probe)
    return None


OUT = Option("--out", out_folder, "DIR", "where reports and raw results go (default: {default})", Path("reports"))
