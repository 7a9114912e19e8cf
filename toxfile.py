"""tox's in-tree plugin: let plain `tox` find every Python on this machine, as a new user expects.

tox finds interpreters on PATH, where pyenv's shims answer only for the versions `pyenv global`
lists, so an installed 3.10 would be skipped. The pyenv plugins on PyPI fail on tox 4.67; this hook
appends every pyenv version's bin folder and the links to the Pythons tools/pythons provides
(3.13t, 3.13's GIL twin, 3.14, 3.14t), after everything already on PATH, before tox looks; it also
sets CONCURRENCY_LAB_PYTHONS_BIN to that links folder, for the twin3.13 env's base_python.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tox.plugin import impl

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))
try:
    from python_locations import links_dir, tox_path_additions
finally:
    sys.path.pop(0)


@impl
def tox_add_option(parser) -> None:  # the first hook, before any interpreter is looked for
    path = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(path + [folder for folder in tox_path_additions() if folder not in path])
    # For tox.ini's twin3.13, whose interpreter is named by path: no version spec may match it.
    os.environ["CONCURRENCY_LAB_PYTHONS_BIN"] = str(links_dir())
