"""A foreign executor for tests/test_new_variant.py: a kind the lab has never seen, declared with its facts in
one place, and a variant of that kind in a few lines (a ThreadPoolExecutor under another name)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from concurrency_lab.core.traits import Kind, register_kind
from concurrency_lab.variants.base import ExecutorVariant

KIND = "borrowed_threads"
NAME = "borrowed_pool"
#: Every fact a consumer reads. Between threads and the event loop in tables; the lesson's claims about threads
#: read its rows (it is one).
FACTS: dict[str, Any] = dict(
    order=1.5, label="borrowed threads", simplicity=1, in_process=True, shares_gil=True, one_thread=False,
    cpu_in_caller=True, crash_takes_caller=True, startup_guess_s=0.05, hand_off_items=None, starts_cluster=False,
    timeout_stops_work=False, subject="threads",
)


def declare() -> Kind:
    """The kind, declared now when it is not yet: the test's fixture declares it (and takes it out again); a
    failure probe's fresh process, which runs no fixture, declares it when the probe first reads the class's kind."""
    try:
        return Kind(KIND)
    except ValueError:
        return register_kind(KIND, **FACTS)


class _DeclaredKind:
    """`BorrowedPool.kind`: the kind registered under KIND now, declared on first use in a process that has none."""

    def __get__(self, instance: object, owner: type) -> Kind:
        return declare()


class BorrowedPool(ExecutorVariant):
    """`ExecutorVariant` does the work: the pool is the one thing said here."""

    name = NAME
    summary = "a ThreadPoolExecutor declared as a kind of its own (a test's foreign executor)"
    kind = _DeclaredKind()  # type: ignore[assignment]  # a Kind on every read, declared on first use
    api_family = "tests"
    api = "BorrowedPool.map"
    concurrent = True  # said here, so that defining the class reads no kind

    def _open(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="borrowed")

    def _close(self, pool: ThreadPoolExecutor) -> None:
        pool.shutdown(wait=True)

    def _abort(self, pool: ThreadPoolExecutor) -> None:
        pool.shutdown(wait=False, cancel_futures=True)
