"""SIGINT, SIGTERM and SIGHUP stop a command the same way: unwind, stop helpers and pools, exit 128 + signal."""

from __future__ import annotations

import _thread
import contextlib
import gc
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

#: The signals that stop a command: Ctrl-C, `kill`, and the terminal going away (where the platform has them).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: After an interruption was swallowed, the wait before it is delivered again: long enough for the
#: main thread to have left the fork hook or finalizer that swallowed it, short beside the 2 s goal.
REDELIVER_SECONDS = 0.01


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; raised in the main thread wherever it was.

    A KeyboardInterrupt, so that everything treats it as Ctrl-C: pytest ends the session (instead
    of recording a failed test), the variants stop their pools, ``with`` blocks stop the helpers,
    and no ``except Exception`` takes it for an error of its own.
    """

    def __init__(self, signum: int, during: str | Callable[[], str] = "") -> None:
        super().__init__(signum)
        self.signum = signum
        self._during = during

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        """128 + the signal number, as a shell reports a process the signal ended: 130, 143, 129."""
        return 128 + self.signum

    def line(self, prog: str) -> str:
        """`prog: interrupted by SIGTERM during the benchmarks; ...`: the one line the command prints."""
        during = self._during() if callable(self._during) else self._during
        return f"{prog}: interrupted by {self.signal_name}" + (f" {during}" if during else "")

    def __str__(self) -> str:
        return self.signal_name  # what pytest shows in its "KeyboardInterrupt" summary


_owner_pid: int | None = None  # the process running a command with these handlers (a forked one has not)
_prog = ""
_received: Interrupted | None = None
_redeliver = False  # the interruption was swallowed where Python cannot raise: the next "signal" is it again
_previous_unraisablehook: Callable[[Any], object] = sys.__unraisablehook__
_previous_handlers: dict[int, Any] = {}
_stages: list[str | Callable[[], str]] = []
_fork_hook_registered = False


@contextlib.contextmanager
def during(what: str | Callable[[], str]) -> Iterator[None]:
    """Name what an interruption inside the block stops (and what it leaves), for the command's line.

    `what` follows "interrupted by SIGTERM", e.g. "during the downloads; no records printed"; a
    callable is asked when the line is printed, after the unwinding.
    """
    _stages.append(what)
    try:
        yield
    finally:
        _stages.pop()


def reraise() -> None:
    """Raise the interruption again, for a caller of code that catches KeyboardInterrupt itself (pytest.main).

    Its traceback is dropped first, with warnings off: the frames it held are finalized then, and a plugin
    whose teardown the signal cut short fails there (pytest-benchmark's makereport, seen in CI: pluggy's
    PluggyTeardownRaisedWarning and an "Exception ignored" on stderr), which is the signal's doing."""
    if _received is not None and _owner_pid == os.getpid():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _received.with_traceback(None)
            gc.collect()
        raise _received


def run_command(prog: str, body: Callable[[], int]) -> int:
    """Run a command's `body` so that a stop signal ends it cleanly, and return its exit status.

    The first SIGINT, SIGTERM or SIGHUP raises `Interrupted` in the main thread; the ``with``
    blocks between there and here stop what they started. Then one line goes to stderr and the
    status is 128 + the signal. A second signal while stopping exits at once (the helpers and pool
    workers then end by themselves, see `helper_process.exit_with_parent`). A signal that was
    ignored when the command started stays ignored (``nohup``, a shell's background job). Nested
    commands (`concurrency-lab download` runs the downloader's main) are handled by the outermost.
    """
    global _owner_pid, _prog, _received, _redeliver, _previous_unraisablehook, _previous_handlers, _fork_hook_registered
    if _owner_pid == os.getpid() or threading.current_thread() is not threading.main_thread():
        return body()  # an outer command handles the signals; only the main thread may set handlers
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forked)
        _fork_hook_registered = True
    previous = _previous_handlers = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    _previous_unraisablehook = sys.unraisablehook
    threads_before = set(threading.enumerate())
    _owner_pid, _prog, _received, _redeliver = os.getpid(), prog, None, False
    try:
        for signum, handler in previous.items():
            if handler is not signal.SIG_IGN:
                signal.signal(signum, _on_signal)
        sys.unraisablehook = _on_unraisable
        status = body()
        if _received is None:
            return status
        interrupted = _received  # something caught it and carried on: the command was still stopped
    except BaseException:
        if _received is None and not isinstance(sys.exc_info()[1], KeyboardInterrupt):
            raise
        # What failed while unwinding after the signal was caused by it: the signal is the news.
        interrupted = _received or Interrupted(signal.SIGINT)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = _previous_unraisablehook
        _owner_pid = None
        _stages.clear()
    print(interrupted.line(prog), file=sys.stderr, flush=True)
    if any(t.is_alive() and not t.daemon for t in set(threading.enumerate()) - threads_before):
        # A thread cannot be stopped: a thread variant's worker still waiting on a download would hold
        # the exit until it ends (up to its deadline). Everything else is stopped by now: exit without it.
        sys.stdout.flush()
        os._exit(interrupted.exit_status)
    return interrupted.exit_status


def _forked() -> None:
    """In a process forked while a command runs (a pool worker): not this command's handlers.

    SIGTERM and SIGHUP get back what they had, so that they end a worker at once: a handler in
    Python runs only when the main thread does, and a worker waits for tasks in a C call (its
    exit-with-parent thread may take the signal). Ctrl-C reaches the whole process group, and the
    command stops its workers itself, so SIGINT is ignored.
    """
    global _owner_pid, _received, _redeliver
    if _owner_pid is None:
        return
    for signum, handler in _previous_handlers.items():
        signal.signal(signum, signal.SIG_IGN if signum == signal.SIGINT else handler)
    sys.unraisablehook = _previous_unraisablehook
    _owner_pid, _received, _redeliver = None, None, False


def _on_signal(signum: int, frame: object) -> None:
    global _received, _redeliver
    if _owner_pid != os.getpid():  # a forked worker, before `_forked` replaced this handler: not ours
        _as_before(signum, frame)
        return
    if _redeliver and _received is not None:
        _redeliver = False
        raise _received.with_traceback(None)
    if _received is not None:  # a second signal while stopping: stop now
        sys.stderr.write(f"{_received.line(_prog)}; stopped at once by a second {signal.Signals(signum).name}\n")
        sys.stderr.flush()
        os._exit(_received.exit_status)
    _received = Interrupted(signum, _stages[-1] if _stages else "")
    raise _received


def _as_before(signum: int, frame: object) -> None:
    """What the signal would have done in a forked process without the command's handlers.

    The signal can reach a worker between its fork and the fork hook: Python then runs the command's
    handler inside the hook, which must neither raise there nor report the parent's interruption.
    """
    # getsignal() gives None for a handler set outside Python: taken as the default, as signal.signal needs one.
    handler = signal.SIG_IGN if signum == signal.SIGINT else _previous_handlers.get(signum) or signal.SIG_DFL
    signal.signal(signum, handler)
    if handler is signal.SIG_DFL:
        os.kill(os.getpid(), signum)  # ends the process, as the signal would have
    elif callable(handler):
        handler(signum, frame)


def _on_unraisable(unraisable: Any) -> None:
    """A handler's exception raised where Python cannot raise one (a fork hook such as logging's, a
    finalizer, a weakref callback) is reported here instead, and the command would run on: deliver
    it again, as if the signal came again, once out of here (an exception raised in this hook is
    swallowed too)."""
    global _redeliver
    if _received is not None and unraisable.exc_value is _received:
        _redeliver = True
        threading.Thread(target=_deliver_again, args=(_received.signum,), name="lab-interrupt", daemon=True).start()
        return
    if _received is not None:  # what failed while unwinding after the signal was caused by it: not news
        return
    _previous_unraisablehook(unraisable)


def _deliver_again(signum: int) -> None:
    time.sleep(REDELIVER_SECONDS)
    if hasattr(signal, "pthread_kill"):  # a real signal, so that a blocking call in the main thread ends too
        signal.pthread_kill(threading.main_thread().ident, signum)  # type: ignore[arg-type]
    else:
        _thread.interrupt_main(signal.Signals(signum))  # the main thread runs the handler at its next bytecode
