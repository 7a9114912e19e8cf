"""The child process every call of the user's function runs in: forked (so closures and lambdas need no
pickling), serving the probe and the trials one command at a time. The parent waits for each answer a
bounded time; a child that hangs, dies or is tainted (a timed-out thread still running) is killed with
everything under it and replaced, so a bad function never hangs `advise` itself."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any

from ..core.helper_process import exit_with_parent
from ..core.process_tree import stop_tree
from ..records.advice_trials import Config, Probe, Trial
from .first_calls import probe_items
from .trials import hand_off_seconds, run_trial


class NoAnswer(Exception):
    """The child gave no answer: it hung past its bound, or died (`exit_code` not None)."""

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _serve(connection: Any, func: Callable[[Any], Any], items: Sequence[Any], is_coroutine: bool,
           reference: list[Any] | None) -> None:
    exit_with_parent()
    monitor = None
    try:
        while True:
            command, arguments = connection.recv()
            if command == "stop":
                break
            if command == "probe":
                answer: Any = probe_items(func, items, is_coroutine=is_coroutine, **arguments)
            elif command == "hand_off":
                answer = hand_off_seconds(**arguments)
            elif command == "trial":
                if monitor is None:
                    from ..measure import ResourceMonitor

                    monitor = ResourceMonitor()
                    monitor.start()
                sample = items[:arguments.pop("n")]
                calls = 0
                if arguments.get("check", True) and reference is None:  # a replaced child: recompute it
                    base, reference = run_trial(func, sample, arguments.pop("baseline"), rounds=1, warmup=0,
                                                timeout=arguments["timeout"], reference=None,
                                                keep_pids=_own(monitor.pid))
                    calls = base.calls
                    if base.problem:
                        answer = (base, False)
                        connection.send(answer)
                        continue
                arguments.pop("baseline", None)
                check = arguments.pop("check", True)
                trial, results = run_trial(func, sample, reference=reference if check else None,
                                           monitor=monitor, keep_pids=_own(monitor.pid), **arguments)
                trial.calls += calls
                if not check and results is not None:
                    reference = results
                answer = (trial, _sendable(results) if not check else None)
            else:
                raise ValueError(f"unknown command {command!r}")
            connection.send(answer)
    finally:
        if monitor is not None:
            monitor.close()


def _sendable(results: list[Any] | None) -> list[Any] | None:
    import pickle

    try:
        pickle.dumps(results)
    except Exception:  # noqa: BLE001 - the parent then cannot hand them to a replacement child
        return None
    return results


class Session:
    """A child process holding the function and its items; `ask` sends one command and waits at most `bound_s`."""

    def __init__(self, func: Callable[[Any], Any], items: Sequence[Any], *, is_coroutine: bool) -> None:
        self._func, self._items, self._is_coroutine = func, items, is_coroutine
        self._process: Any = None
        self._connection: Any = None
        self.reference: list[Any] | None = None  # the reference results, when they could be sent here

    def _start(self) -> None:
        fork = "fork" in multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
        parent_end, child_end = context.Pipe()
        self._process = context.Process(target=_serve, name="lab-advise",
                                        args=(child_end, self._func, self._items, self._is_coroutine, self.reference))
        self._process.start()
        child_end.close()
        self._connection = parent_end

    def ask(self, command: str, bound_s: float, **arguments: Any) -> Any:
        """The child's answer; NoAnswer (the child killed first) when it hung past `bound_s` or died."""
        if self._process is None:
            self._start()
        connection = self._connection
        try:
            connection.send((command, arguments))
            if not connection.poll(max(0.0, bound_s)):
                self.close(kill_now=True)
                raise NoAnswer(f"no answer within {bound_s:.3g} s")
            return connection.recv()
        except (EOFError, OSError):
            self._process.join(1.0)
            code = self._process.exitcode
            self.close(kill_now=True)
            raise NoAnswer(f"the process running it ended (exit code {code})", exit_code=code) from None

    def probe(self, bound_s: float, **arguments: Any) -> Probe:
        return self.ask("probe", bound_s, **arguments)

    def hand_off(self, bound_s: float, variant: str, workers: int) -> float | None:
        return self.ask("hand_off", bound_s, variant_name=variant, workers=workers)

    def trial(self, bound_s: float, config: Config, *, n: int, rounds: int, warmup: int, timeout: float,
              baseline: Config, check: bool = True) -> Trial:
        trial, results = self.ask("trial", bound_s, config=config, n=n, rounds=rounds, warmup=warmup,
                                  timeout=timeout, baseline=baseline, check=check)
        if not check and results is not None:
            self.reference = results
        if trial.problem:  # a timed-out thread may still run in it, or its state may be broken: start afresh
            self.close(kill_now=True)
        return trial

    def close(self, kill_now: bool = False) -> None:
        """Stop the child and everything under it (idempotent)."""
        process, self._process = self._process, None
        if process is None:
            return
        if not kill_now and process.is_alive():
            try:
                self._connection.send(("stop", {}))
                process.join(5.0)
            except (OSError, ValueError):
                pass
        stop_tree(process, grace=0)  # reaps it
        self._connection.close()


__all__ = ["NoAnswer", "Session"]


def _own(pid: int | None) -> tuple[int, ...]:
    """The sampler's process, which a trial's leak check must not count as the function's (none before it runs)."""
    return () if pid is None else (pid,)
