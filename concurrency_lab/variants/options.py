"""The options that name variants and bound their calls, declared once for every command that takes them."""

from __future__ import annotations

from ..core.options import Option, OptionError, parse_name, parse_names, parse_seconds
from . import VARIANT_NAMES
from .checks import MAX_TIMEOUT_SECONDS, check_scheduler_address


def parse_scheduler_address(text: str) -> str:
    """``"tcp://127.0.0.1:8786"``: a Dask scheduler's address, checked as the dask variant checks it."""
    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


VARIANT = Option("--variant", lambda text: parse_name(text, VARIANT_NAMES, "variant"), "NAME",
                 f"how to run it, one of {', '.join(VARIANT_NAMES)} (default: {{default}})")
VARIANTS = Option("--variants", lambda text: parse_names(text, VARIANT_NAMES, "variant"), "A,B",
                  f"comma-separated, of {', '.join(VARIANT_NAMES)} (default: all)",
                  lambda: list(VARIANT_NAMES))  # at parse time: a variant registered later is in it
TIMEOUT = Option("--timeout", lambda text: parse_seconds(text, MAX_TIMEOUT_SECONDS), "S",
                 f"seconds one map call may take, at most {MAX_TIMEOUT_SECONDS:g}: past it pending work is "
                 "cancelled and worker processes stopped (a running thread cannot be; it ends after its item) "
                 "(default: no limit)")
DASK_ADDRESS = Option("--dask-address", parse_scheduler_address, "tcp://HOST:PORT",
                      "the Dask scheduler the dask variant sends its tasks to, as DASK_SCHEDULER_ADDRESS does; the "
                      "lab must be importable on its workers (default: {default})",
                      default_text="DASK_SCHEDULER_ADDRESS if set, else a LocalCluster of single-threaded worker "
                                   "processes on 127.0.0.1, started and stopped by the lab")
