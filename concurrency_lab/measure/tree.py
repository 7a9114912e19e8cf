"""Which processes count as the measured work: a pure walk over a parent map and command lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from ..core.process_tree import FORKSERVER, RESOURCE_TRACKER, WORK, role_of  # how multiprocessing's service processes are named


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
