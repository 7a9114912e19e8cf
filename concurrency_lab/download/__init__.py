"""Fetching URLs into comparable records: one record per URL, errors recorded, never raised."""

from __future__ import annotations

from .results import DEFAULT_OPTIONS, DownloadRecord, ErrorKind, FetchOptions
from .sync_client import fetch, session_factory

__all__ = ["DEFAULT_OPTIONS", "DownloadRecord", "ErrorKind", "FetchOptions", "fetch", "session_factory"]
