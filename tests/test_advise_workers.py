"""`advise` and workers that are interpreters of their own (processes, or interpreters of this process): what
their start-ups count for, how many of them are tried, their hand-off timed, what they refuse up front, and the
snippet run as the script a user pastes it into. Variants are selected by traits, never by name."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap

import pytest
from lab_params import variant_params

from concurrency_lab.advise.answer import runs_functions_of_main, snippet
from concurrency_lab.advise.safety import refusals
from concurrency_lab.advise.sweep import Candidate, Choice, Sweep, choose
from concurrency_lab.advise.trials import hand_off_seconds
from concurrency_lab.core.traits import Kind
from concurrency_lab.variants import VARIANT_NAMES, variant_class

#: A user's module: a module-level function, importable by name from the script's folder.
USER_MODULE = textwrap.dedent("""
    def collatz(n):
        steps = 0
        while n > 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        return steps
""")
SCRIPT_SECONDS = 30  # a snippet whose pool hangs (a task its workers cannot import) costs this, not a worker


def _candidate(kind: Kind) -> Candidate:
    return Candidate(f"a {kind.value} variant", kind, "a library", "Pool.map", None, None, True, True)


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_a_start_up_per_worker_counts_against_simplicity_where_each_worker_is_an_interpreter(kind):
    """An interpreter of its own per worker (a process, or one of this process with its own GIL) is started and
    imports the function once per worker: more of them are less simple. Threads of one interpreter are not."""
    candidate = _candidate(kind)
    assert candidate.starts_interpreters is not kind.shares_gil
    assert (candidate.simplicity(4) > candidate.simplicity(2)) is candidate.starts_interpreters


def test_more_workers_than_cpus_are_tried_only_where_a_worker_is_no_interpreter_of_its_own():
    """For waiting work advise adds a count above the usable CPUs: only for threads of one interpreter, which cost
    no start-up each; an interpreter per worker does, in this process or another."""
    candidates = [_candidate(kind) for kind in Kind if kind is not Kind.SEQUENTIAL]
    sweep = Sweep(runner=None, choice=Choice(None, candidates), items_total=1000, budget_s=30.0, usable_cpus=2)
    sweep.n = 1000
    tried: dict[str, list[int]] = {}
    for candidate, config in sweep._configs([2, 16], dispatch_bound=False):
        tried.setdefault(candidate.name, []).append(config.workers)
    for candidate in candidates:
        assert tried[candidate.name] == ([2] if candidate.starts_interpreters else [2, 16]), candidate.kind


def _hand_off_params() -> list:
    """Per kind whose hand-off advise times: its first variant with a pool, skipped with the reason it cannot run."""
    params = []
    for kind in (k for k in Kind if k.hand_off_items is not None):
        name = next((n for n in VARIANT_NAMES if variant_class(n).kind is kind and variant_class(n).has_pool()), None)
        if name is not None:
            reason = variant_class(name).unavailable_reason()
            params.append(pytest.param(name, id=kind.value, marks=pytest.mark.skipif(reason is not None,
                                                                                     reason=reason or "")))
    return params


@pytest.mark.parametrize("name", _hand_off_params())
def test_a_hand_off_is_timed_for_every_kind_that_declares_it(name):
    """The task it times must import in every kind of worker (a worker interpreter refuses psutil's extension)."""
    seconds = hand_off_seconds(name, 2)
    assert seconds is not None and seconds > 0


def _in_main(monkeypatch, func):
    """`func` as a function of the running ``__main__`` (a script's): it pickles by reference, as one would."""
    main = sys.modules["__main__"]
    monkeypatch.setattr(func, "__module__", "__main__")
    monkeypatch.setattr(func, "__qualname__", "lab_test_function_of_main")
    monkeypatch.setattr(main, "lab_test_function_of_main", func, raising=False)
    return func


def _refusing_main() -> list[str]:
    names = [n for n in VARIANT_NAMES if not runs_functions_of_main(variant_class(n))]
    available = [n for n in names if variant_class(n).unavailable_reason() is None]
    if not available:
        pytest.skip("no variant that refuses functions of __main__ runs here: " + "; ".join(
            f"{n}: {variant_class(n).unavailable_reason()}" for n in names))
    return available


def test_a_function_of_main_is_ruled_out_up_front_where_workers_cannot_import_it(monkeypatch):
    """Each worker interpreter has a ``__main__`` of its own: such variants are ruled out with their own reason,
    before anything runs; variants whose workers can import it (spawn re-imports the script) are not."""
    refusing = _refusing_main()
    func = _in_main(monkeypatch, lambda item: item + 1)
    refused = refusals(func, VARIANT_NAMES)
    for name in refusing:
        assert "defined in __main__" in refused[name] and "move it into a module" in refused[name], refused
        assert not refused[name].startswith(name), refused[name]
    assert not set(refused) - set(refusing), refused
    choice = choose(is_coroutine=False, serializer_problems={}, refused=refused)
    for name in refusing:
        assert choice.ruled_out[name].startswith("it refuses this function: "), choice.ruled_out
        assert name not in {c.name for c in choice.candidates}


def test_a_module_that_does_not_import_in_a_worker_interpreter_is_ruled_out_with_its_name(tmp_path, monkeypatch):
    refusing = _refusing_main()
    (tmp_path / "lab_needs_psutil.py").write_text("import psutil\n\n\ndef ident(item):\n    return item\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from lab_needs_psutil import ident  # type: ignore[import-not-found]

    refused = refusals(ident, refusing)
    for name in refusing:
        assert "'lab_needs_psutil' does not import in a subinterpreter" in refused.get(name, ""), refused


def _script_params() -> list:
    """Variants whose workers import the task by name (pickle): their snippet proves itself only as a real script
    importing a real module, in a fresh Python (the ones pickling by value run in test_advise, in this process)."""
    return [p for p in variant_params() if variant_class(p.values[0]).serializer == "pickle"]


@pytest.mark.parametrize("chunksize", [None, 4], ids=["own chunks", "measured chunks"])
@pytest.mark.parametrize("name", _script_params())
def test_the_snippet_runs_as_the_script_a_user_pastes_it_into(name, chunksize, tmp_path):
    """Written to a file beside the user's module and run by this Python from another folder, with no PYTHONPATH:
    its results are the function's, it keeps the __main__ guard, and it defines no function where the variant's
    workers could not run one (it would hang: bounded here by the subprocess's own timeout)."""
    cls = variant_class(name)
    (tmp_path / "userfuncs.py").write_text(USER_MODULE)
    code = snippet(Candidate.of(name), 2, chunksize, "userfuncs:collatz")
    assert 'if __name__ == "__main__":' in code, code
    if not runs_functions_of_main(cls):
        assert not any(isinstance(node, ast.FunctionDef) for node in ast.walk(ast.parse(code))), code
    items = list(range(1, 30))
    script = tmp_path / "pasted.py"
    script.write_text(f"items = {items!r}\n{code}\n" + 'if __name__ == "__main__":\n    print(repr(results))\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(script)], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=SCRIPT_SECONDS)
    assert done.returncode == 0, f"{code}\n---\n{done.stderr}"
    expected: dict = {}
    exec(USER_MODULE, expected)
    assert ast.literal_eval(done.stdout.strip()) == [expected["collatz"](item) for item in items], code
