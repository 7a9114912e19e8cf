"""Which processes count as the measured work: a pure walk over a parent map and command lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

# multiprocessing starts its helpers with `python -c "<this>; main(...)"`; we know them by that text.
FORKSERVER_MARK = "multiprocessing.forkserver import main"
RESOURCE_TRACKER_MARK = "multiprocessing.resource_tracker import main"
#: loky's own resource tracker, started the same way, once per process that uses loky (joblib's copy of
#: loky runs it as `joblib.externals.loky.backend...`): a service like multiprocessing's, not work.
LOKY_RESOURCE_TRACKER_MARK = "loky.backend.resource_tracker import main"
RESOURCE_TRACKER_MARKS = (RESOURCE_TRACKER_MARK, LOKY_RESOURCE_TRACKER_MARK)

WORK = "work"
FORKSERVER = "forkserver"
RESOURCE_TRACKER = "resource_tracker"


def role_of(cmdline: Sequence[str]) -> str:
    """`FORKSERVER`, `RESOURCE_TRACKER` or `WORK`, from a process's command line."""
    text = " ".join(cmdline)
    if FORKSERVER_MARK in text:
        return FORKSERVER
    if any(mark in text for mark in RESOURCE_TRACKER_MARKS):
        return RESOURCE_TRACKER
    return WORK


def descendants(root: int, parents: Mapping[int, int]) -> list[int]:
    """`root` and every pid below it in a pid -> parent pid map, root first."""
    children = _children(parents)
    found: list[int] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            found.append(pid)
            stack.extend(children.get(pid, ()))
    return found


def _children(parents: Mapping[int, int]) -> defaultdict[int, list[int]]:
    children: defaultdict[int, list[int]] = defaultdict(list)
    for pid, ppid in parents.items():
        if pid != ppid:
            children[ppid].append(pid)
    return children


def measured_pids(
    root: int,
    parents: Mapping[int, int],
    cmdlines: Mapping[int, Sequence[str]],
    skip: Collection[int] = (),
) -> list[int]:
    """The root and its descendants, without multiprocessing's helpers and without `skip` subtrees.

    `parents` maps pid -> parent pid for (at least) the root's descendants. A forkserver is left
    out but its children are walked: they are the pool workers, forked from it, so they carry the
    forkserver's command line too; everything below a forkserver therefore counts as work. The
    resource tracker is left out. A pid in `skip` (the sampler, a server process) is left out
    with all its descendants.
    """
    children = _children(parents)
    measured: list[int] = []
    stack = [(root, False)]  # (pid, is it below a forkserver)
    seen: set[int] = set()
    while stack:
        pid, below_forkserver = stack.pop()
        if pid in seen or pid in skip:
            continue
        seen.add(pid)
        role = WORK if pid == root or below_forkserver else role_of(cmdlines.get(pid, ()))
        if role == RESOURCE_TRACKER:
            continue
        if role == WORK:
            measured.append(pid)
        stack.extend((child, below_forkserver or role == FORKSERVER) for child in children.get(pid, ()))
    return sorted(measured)
