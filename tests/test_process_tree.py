"""The one way processes are stopped (core/process_tree.py), on real trees of sleeping processes started here:
SIGTERM, the grace, SIGKILL for what is left, every process gone and the handles reaped."""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from concurrency_lab.core import process_tree

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# One process of a tree: starts `depth` more levels of two children each, prints its pid and sleeps. With
# "note", SIGTERM leaves a file named after its pid and the process sleeps on: only SIGKILL ends it.
NODE = """\
import os, signal, subprocess, sys, time
script, depth, mode, folder = sys.argv[0], int(sys.argv[1]), sys.argv[2], sys.argv[3]
if mode == "note":
    signal.signal(signal.SIGTERM, lambda *_: open(os.path.join(folder, f"{os.getpid()}.term"), "w").close())
children = [subprocess.Popen([sys.executable, script, str(depth - 1), mode, folder]) for _ in range(2 if depth else 0)]
sys.stdout.write(f"{os.getpid()}\\n")  # one write, so that the tree's lines never interleave
sys.stdout.flush()
time.sleep(120)
"""
# A child of this process whose command line names multiprocessing's forkserver, and which starts one
# child of its own (as a forkserver forks the workers): a service, and work below it.
FORKSERVER_LIKE = ("import subprocess, sys, time; from multiprocessing.forkserver import main as _; "
                   "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); time.sleep(120)")


class Tree:
    """A tree of NODE processes: `root` (its Popen handle) and every process of it, found by the pids they printed."""

    def __init__(self, folder: Path, depth: int, mode: str) -> None:
        script = folder / "node.py"
        script.write_text(NODE)
        self.folder = folder
        self.root = subprocess.Popen([sys.executable, str(script), str(depth), mode, str(folder)], stdout=subprocess.PIPE)
        self.count = 2 ** (depth + 1) - 1
        self.processes: list[psutil.Process] = []

    def wait_until_started(self) -> None:
        assert self.root.stdout is not None
        self.processes = [psutil.Process(int(self.root.stdout.readline())) for _ in range(self.count)]

    def running(self) -> list[psutil.Process]:
        return [process for process in self.processes if process_tree.running(process)]

    def sigterm_noted(self) -> set[int]:
        return {int(path.stem) for path in self.folder.glob("*.term")}

    def close(self) -> None:
        """Whatever a failed test left: SIGKILL, the way the test under test does not."""
        with contextlib.suppress(psutil.Error):
            for process in psutil.Process(self.root.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    process.kill()
        self.root.kill()
        self.root.wait()
        if self.root.stdout is not None:
            self.root.stdout.close()


@pytest.fixture
def make_tree(tmp_path: Path) -> Iterator[Callable[[int, str], Tree]]:
    """``make_tree(depth, mode)``: a started `Tree`, closed after the test whatever happened."""
    trees: list[Tree] = []

    def start(depth: int, mode: str) -> Tree:
        trees.append(Tree(tmp_path, depth, mode))
        trees[-1].wait_until_started()
        return trees[-1]

    yield start
    for tree in trees:
        tree.close()


def test_a_tree_of_sleeping_processes_is_all_gone_after_sigterm_and_the_root_is_reaped(make_tree):
    tree = make_tree(2, "default")
    assert len(tree.running()) == 7 and {p.pid for p in process_tree.descendants(tree.root.pid)} >= {
        p.pid for p in tree.processes[1:]}
    process_tree.stop_tree(tree.root, grace=5.0)
    assert tree.running() == []
    assert tree.root.returncode == -signal.SIGTERM  # reaped through its handle, by SIGTERM, within the grace


def test_a_tree_that_ignores_sigterm_is_killed_after_the_grace(make_tree):
    tree = make_tree(1, "note")
    process_tree.stop_tree(tree.root, grace=0.3)
    assert tree.running() == []
    assert tree.sigterm_noted() == {p.pid for p in tree.processes}  # each was asked first
    assert tree.root.returncode == -signal.SIGKILL


def test_no_grace_means_sigkill_at_once(make_tree):
    tree = make_tree(0, "note")
    process_tree.stop_processes([tree.root], grace=0)
    assert tree.root.returncode == -signal.SIGKILL and tree.sigterm_noted() == set()


def test_processes_found_in_a_tree_are_stopped_too(make_tree):
    tree = make_tree(1, "note")
    process_tree.stop_processes(tree.processes[1:], grace=0.3)  # psutil's view only: the children, not the root
    assert tree.running() == tree.processes[:1]
    process_tree.stop_processes([tree.root], grace=0)


def _ignore_sigterm_and_sleep(ready: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    signal.pause()


def test_a_multiprocessing_process_is_killed_and_reaped_through_its_handle():
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    ready = context.Event()
    process = context.Process(target=_ignore_sigterm_and_sleep, args=(ready,))
    process.start()
    assert ready.wait(30)
    process_tree.stop_processes([process], grace=0.3)
    assert process.exitcode == -signal.SIGKILL  # multiprocessing saw its end: nothing reaped it behind its back
    process_tree.stop_processes([process, context.Process(target=abs, args=(1,))], grace=1.0)  # exited, unstarted: no-ops


def test_descendants_leave_out_multiprocessing_services_but_not_the_work_below_them():
    service = subprocess.Popen([sys.executable, "-c", FORKSERVER_LIKE])
    try:
        below: list[psutil.Process] = []
        deadline = time.monotonic() + 30
        while not below and time.monotonic() < deadline:  # its child, once started
            time.sleep(0.01)
            below = psutil.Process(service.pid).children()
        everything = {p.pid for p in process_tree.descendants(psutil.Process().pid)}
        work = {p.pid for p in process_tree.descendants(psutil.Process().pid, services=False)}
        assert {service.pid, below[0].pid} <= everything
        assert service.pid not in work and below[0].pid in work
    finally:
        process_tree.stop_tree(service, grace=5.0)
    assert not process_tree.running(below[0])
