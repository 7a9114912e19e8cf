"""Test doubles for in-process variants, by workload name. Workloads without one run for real."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import requests_mock

from concurrency_lab.download import FetchOptions, session_factory
from concurrency_lab.download.sync_client import new_session
from concurrency_lab.server import body_chunks


@contextlib.contextmanager
def mocked_pages() -> Iterator[requests_mock.Adapter]:
    """Answer /bytes/<n>?seed=<k> from the server's content rules, through a requests-mock Adapter
    mounted on each worker's own Session (the global Mocker takes one lock around every request
    and would serialise the threads). Does not reach other processes."""
    adapter = requests_mock.Adapter()

    def page(request: Any, context: Any) -> bytes:
        nbytes = int(request.path.rsplit("/", 1)[1])
        return b"".join(body_chunks(nbytes, int(request.qs.get("seed", ["0"])[0])))

    adapter.register_uri("GET", re.compile(r"/bytes/\d+"), content=page)

    def mocked_session(options: FetchOptions):
        session = new_session(options)
        session.mount("http://", adapter)
        return session

    with session_factory(mocked_session):
        yield adapter


IN_PROCESS_DOUBLES: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {
    "downloader": mocked_pages,
}
