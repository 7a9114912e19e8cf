"""`advise`'s parts that need no quiet machine: inputs, safety checks, the sweep's budget (a fake clock and a
fake child process), classification and recommendation from given figures, the answer, and the safety cases
run for real (a function that raises, hangs, exits, leaks or differs gives a line, never a hang)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import advise_targets as targets
import pytest

import concurrency_lab.advise as advise_package
from concurrency_lab.advise import Advice, InputError, advise, render
from concurrency_lab.advise.answer import recommend, snippet, within_noise
from concurrency_lab.advise.classify import classify
from concurrency_lab.advise.inputs import items_from_expression, items_from_file, items_from_range, load_function
from concurrency_lab.advise.safety import is_coroutine_function, serializer_problems
from concurrency_lab.advise.session import NoAnswer
from concurrency_lab.advise.sweep import Candidate, Sweep, choose, sample_size, splits_evenly
from concurrency_lab.core.traits import Bound, Kind
from concurrency_lab.records.advice_trials import Config, Probe, Trial
from concurrency_lab.variants import VARIANT_NAMES, variant_class

TARGETS = str(Path(__file__).parent / "support" / "advise_targets.py")


# --- inputs ------------------------------------------------------------------------------------------

@pytest.fixture
def own_sys_path(monkeypatch):
    """load_function puts a file's folder on sys.path: each test gets it back as it was."""
    import sys

    monkeypatch.setattr(sys, "path", [*sys.path])


def test_a_function_by_module_and_by_file_path(own_sys_path):
    assert load_function("advise_targets:sleep_20ms") is targets.sleep_20ms
    assert load_function(f"{TARGETS}:add_one")(1) == 2
    assert load_function("os.path:join") is __import__("os").path.join


@pytest.mark.parametrize("spec, says", [
    ("no_such_module_here:f", "no module named 'no_such_module_here'"),
    ("advise_targets:no_such_function", "has no attribute 'no_such_function'"),
    ("advise_targets:SERVER_ADDRESS", "not a function"),
    ("advise_targets", "expected MODULE:FUNCTION"),
    ("/no/such/file.py:f", "no such file"),
])
def test_a_bad_function_is_one_line(spec, says):
    with pytest.raises(InputError, match=says) as caught:
        load_function(spec)
    assert "\n" not in str(caught.value)


def test_a_module_that_fails_to_import_is_named(tmp_path, own_sys_path):
    broken = tmp_path / "broken_for_advise.py"
    broken.write_text("raise RuntimeError('on purpose')\n")
    with pytest.raises(InputError, match="importing 'broken_for_advise' failed: RuntimeError: on purpose"):
        load_function(f"{broken}:f")


def test_items_from_range_file_and_expression(tmp_path):
    assert items_from_range(3) == [0, 1, 2]
    array, lines = tmp_path / "a.json", tmp_path / "b.jsonl"
    array.write_text("[1, [2], {\"x\": 3}]")
    lines.write_text('1\n\n"two"\n[3]\n')
    assert items_from_file(array) == [1, [2], {"x": 3}]
    assert items_from_file(lines) == [1, "two", [3]]
    assert items_from_expression("(i * 2 for i in range(3))") == [0, 2, 4]


@pytest.mark.parametrize("make, says", [
    (lambda p: p.write_text("not json at all"), "neither a JSON array nor JSON lines"),
    (lambda p: p.write_text("[]"), "gave no items"),
    (lambda p: p.write_text('{"a": 1}'), "holds one JSON dict"),
    (lambda p: p.write_bytes(b"\xff\xfe"), "cannot read"),
])
def test_bad_input_files(tmp_path, make, says):
    path = tmp_path / "items.json"
    make(path)
    with pytest.raises(InputError, match=says):
        items_from_file(path)


@pytest.mark.parametrize("expression, says", [
    ("1/0", "--expr raised ZeroDivisionError"), ("42", "not iterable"), ("'abc'", "gave a str"),
    ("[]", "gave no items"), ("range(", "not a Python expression"), ("(1/(2-i) for i in range(5))", "while its items"),
])
def test_bad_expressions(expression, says):
    with pytest.raises(InputError, match=says):
        items_from_expression(expression)


# --- safety --------------------------------------------------------------------------------------------

def test_what_each_serializer_can_carry():
    from concurrency_lab.advise.safety import dumper

    closure = targets.make_locked_sleeper()
    assert serializer_problems(targets.add_one, [1, 2], ["pickle", "cloudpickle"]) == {}
    problems = serializer_problems(closure, [1], ["pickle", "cloudpickle"])
    assert "local object" in problems["pickle"]  # "Can't pickle local object" ("Can't get" from 3.13)
    by_item = serializer_problems(targets.add_one, [1, threading.Lock()], ["pickle"])
    assert by_item["pickle"].startswith("item 1 (lock")
    if dumper("cloudpickle") is None:  # the core install: no engine brings cloudpickle, none needs it
        assert "cloudpickle" not in problems
        return
    assert "_thread.lock" in problems["cloudpickle"]
    assert serializer_problems(lambda x: x, [1], ["cloudpickle"]) == {}


def test_coroutine_functions_are_told_apart():
    assert is_coroutine_function(targets.async_sleep_20ms)
    assert not is_coroutine_function(targets.sleep_20ms)


def test_candidates_by_traits():
    plain = choose(is_coroutine=False, serializer_problems={"pickle": "the function cannot be sent with pickle (x)"})
    assert plain.baseline.kind is Kind.SEQUENTIAL
    kinds = [c.kind for c in plain.candidates]
    assert Kind.EVENT_LOOP not in kinds and Kind.SEQUENTIAL not in kinds
    assert all(c.serializer != "pickle" for c in plain.candidates)
    assert any("pickle" in why for why in plain.ruled_out.values())
    assert all("coroutine" in plain.ruled_out[c] for c in ("asyncio",))
    # Representatives of each kind come first, the simplest kind first.
    firsts = []
    for candidate in plain.candidates:
        if candidate.kind not in firsts:
            firsts.append(candidate.kind)
    assert [c.kind for c in plain.candidates[:len(firsts)]] == firsts
    coroutine = choose(is_coroutine=True, serializer_problems={})
    assert coroutine.baseline.kind is Kind.EVENT_LOOP
    assert {c.kind for c in coroutine.candidates} == {Kind.EVENT_LOOP}


def test_unavailable_and_cluster_variants_are_listed_not_tried(monkeypatch):
    from concurrency_lab.variants import Variant, register, unregister
    from concurrency_lab.variants.chunks import run_chunk

    class FarAway(Variant):
        name, summary, kind, api_family, api = "far_cluster", "a toy cluster", Kind.CLUSTER, "toy", "toy.map"

        def _map_chunks(self, task, chunks, deadline, outcomes):
            for index, chunk in enumerate(chunks):
                outcomes[index] = run_chunk(task, chunk, deadline)

    class Missing(FarAway):
        name, kind = "missing_engine", Kind.PROCESSES

        @classmethod
        def unavailable_reason(cls):
            return "toy is not installed"

    register(FarAway)
    register(Missing)
    try:
        choice = choose(is_coroutine=False, serializer_problems={})
        assert "--include-cluster" in choice.not_tried["far_cluster"]
        assert choice.not_tried["missing_engine"] == "unavailable here: toy is not installed"
        assert "far_cluster" in [c.name for c in choose(is_coroutine=False, serializer_problems={},
                                                        include_cluster=True).candidates]
    finally:
        unregister("far_cluster")
        unregister("missing_engine")


# --- the sweep, with a fake child process and a fake clock -----------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeRunner:
    """Simulates a pure-Python CPU function of 10 ms per item on 2 CPUs with a GIL: threads stay at 1 core,
    processes halve the time. Every call advances the fake clock by what it would have taken."""

    def __init__(self, clock: FakeClock, per_item: float = 0.01, hang: str | None = None) -> None:
        self.clock, self.per_item, self.hang, self.calls = clock, per_item, hang, []

    def probe(self, bound_s, **arguments):
        self.clock.now += 0.2
        return Probe(item_seconds=(self.per_item,) * 20, cpu_seconds=0.2)

    def hand_off(self, bound_s, variant, workers):
        self.clock.now += 0.1
        return 1e-5 if variant.startswith("thread") else 1e-4

    def trial(self, bound_s, config, *, n, rounds, warmup, timeout, baseline, check=True):
        self.calls.append(config)
        kind = Candidate.of(config.variant).kind
        if config.variant == self.hang:
            self.clock.now += bound_s
            raise NoAnswer(f"no answer within {bound_s:.3g} s")
        parallel = min(config.workers, 2) if kind is Kind.PROCESSES else 1
        round_s = n * self.per_item / parallel
        startup = 0.2 if kind is Kind.PROCESSES else 0.0
        self.clock.now += startup + (warmup + rounds) * round_s
        cores = float(parallel)
        return Trial(config=config, kind=kind.value, round_seconds=[round_s * (1 + 0.01 * i) for i in range(rounds)],
                     cores_used=[cores] * rounds, startup_seconds=startup or None, items=n, calls=n * (warmup + rounds),
                     chunksize_used=config.chunksize or 1)


def _sweep(budget: float, runner_factory=FakeRunner, names=("sequential", "thread_pool", "process_pool", "mp_pool")):
    clock = FakeClock()
    runner = runner_factory(clock)
    choice = choose(is_coroutine=False, serializer_problems={}, names=list(names))
    sweep = Sweep(runner, choice, items_total=10_000, budget_s=budget, usable_cpus=2, clock=clock)
    started = clock.now
    return sweep.run(), clock.now - started, runner, choice


def test_the_sweep_stops_when_the_budget_is_spent():
    result, spent, runner, _ = _sweep(budget=2.0)
    assert spent <= 2.0
    assert result.trial(Config("sequential", 1)) is not None
    assert any("budget" in why for why in result.not_tried.values()), result.not_tried
    measured = {t.config.label for t in result.trials}
    assert not measured & set(result.not_tried), "a measured configuration is listed as not tried"
    full, full_spent, full_runner, _ = _sweep(budget=120.0)
    assert not any("budget" in why for why in full.not_tried.values()), full.not_tried
    assert len(full_runner.calls) > len(runner.calls)
    assert full_spent <= 120.0


def test_the_sweep_sizes_its_sample_from_the_probe_and_budget():
    assert sample_size(0.01, items_total=10_000, budget_s=30, largest_workers=2) == 60  # 0.6 s a round
    assert sample_size(0.5, items_total=10_000, budget_s=30, largest_workers=2, usable_cpus=2) == 8  # 4 per CPU
    assert sample_size(1e-6, items_total=500, budget_s=30, largest_workers=2) == 500  # all there is
    assert sample_size(0.02, items_total=10_000, budget_s=10, largest_workers=16, usable_cpus=2) == 32  # 2 per worker
    # The process variants' chunks (4 per worker) split evenly over the workers: 12 items, not 10 (5 chunks of 2).
    assert sample_size(0.02, items_total=10_000, budget_s=10, largest_workers=2, usable_cpus=2) == 10
    assert sample_size(0.02, items_total=10_000, budget_s=10, largest_workers=2, usable_cpus=2,
                       chunks_per_worker=[4]) == 12
    for per_item in (0.3, 0.05, 0.02, 0.014, 0.009, 0.0065, 0.004):
        n = sample_size(per_item, items_total=10_000, budget_s=10, largest_workers=2, usable_cpus=2,
                        chunks_per_worker=[4])
        assert splits_evenly(n, 8, 2), (per_item, n)


def test_a_configuration_that_hangs_is_a_report_line_and_the_sweep_goes_on():
    result, spent, runner, _ = _sweep(budget=60.0, runner_factory=lambda clock: FakeRunner(clock, hang="mp_pool"))
    hung = result.trial(Config("mp_pool", 2))
    assert hung is not None and not hung.ok and "it hangs" in hung.problem
    assert result.trial(Config("process_pool", 2)).ok
    assert spent <= 60.0


def test_a_measured_configuration_cut_by_the_budget_is_listed_as_its_further_rounds():
    class HangsWhenRefined(FakeRunner):
        def trial(self, bound_s, config, *, rounds, **kwargs):
            if config.variant == "process_pool" and any(c == config for c in self.calls):
                self.clock.now += bound_s  # its second call (more rounds) runs into the end of the budget
                raise NoAnswer("no answer")
            return super().trial(bound_s, config, rounds=rounds, **kwargs)
    result, _, _, _ = _sweep(budget=10.0, runner_factory=HangsWhenRefined)
    assert result.trial(Config("process_pool", 2)) is not None
    assert result.not_tried.get("process_pool x2, 4 more rounds") == "stopped unfinished when the budget ran out", \
        result.not_tried
    assert "process_pool x2" not in result.not_tried


def test_a_slow_run_cut_by_the_budget_is_listed_as_not_tried():
    class SlowProcesses(FakeRunner):
        def trial(self, bound_s, config, **kwargs):
            if config.variant == "mp_pool":
                self.clock.now += bound_s
                raise NoAnswer("no answer")
            return super().trial(bound_s, config, **kwargs)
    result, spent, _, _ = _sweep(budget=3.0, runner_factory=SlowProcesses)
    assert spent <= 3.0 + 1e-9
    assert result.not_tried.get("mp_pool x2", "").startswith(("stopped unfinished", "the budget was spent"))


def test_the_fake_sweep_recommends_processes_from_its_figures():
    result, _, _, choice = _sweep(budget=60.0)
    baseline = result.trial(Config("sequential", 1))
    candidates = {c.name: c for c in [choice.baseline, *choice.candidates]}
    pick = recommend(baseline, result.trials, candidates)
    assert Candidate.of(pick.config.variant).kind is Kind.PROCESSES
    assert pick.config.workers == 2 and 1.9 < pick.speedup < 2.1
    found = classify(baseline, result.trials, per_item_s=0.01, hand_off_s=result.hand_off_seconds, usable_cpus=2,
                     gil_enabled=True)
    assert found.bound is Bound.CPU_HOLDS_GIL and "holds the GIL" in found.reasons[-1]
    # Every configuration kept for more rounds is also run at 1 worker, to show how it scales.
    refined = {t.config.variant for t in result.trials if len(t.round_seconds) > 1 and t.config.workers > 1}
    assert refined and all(result.trial(Config(name, 1)) is not None for name in refined), result.trials


class EqualFooting(FakeRunner):
    """Every concurrent variant at 2 workers halves the time (some take a little longer: TIME_FACTOR), as
    any would for GIL-releasing work; each call's configuration and rounds are recorded in order."""

    TIME_FACTOR = {"mp_pool": 1.0, "threading": 1.03, "thread_pool": 1.06, "process_pool": 1.08}
    SPEEDUP = 2.0  # at 2 workers

    def trial(self, bound_s, config, *, n, rounds, warmup, timeout, baseline, check=True):
        self.calls.append((config, rounds))
        kind = Candidate.of(config.variant).kind
        round_s = n * self.per_item * (self.TIME_FACTOR.get(config.variant, 1.0) / self.SPEEDUP
                                       if config.workers > 1 else 1.0)
        self.clock.now += (warmup + rounds) * round_s
        return Trial(config=config, kind=kind.value, round_seconds=[round_s] * rounds, cores_used=[1.9] * rounds,
                     items=n, calls=n * (warmup + rounds), chunksize_used=config.chunksize or 1)


FOUR = ("sequential", "threading", "thread_pool", "process_pool", "mp_pool")


def test_the_simplest_of_the_close_ones_gets_the_rounds_to_be_named(monkeypatch):
    """After one round mp_pool is fastest and the hand-made threads second; with room for two, the second
    refined is ThreadPoolExecutor, the simplest of those close (with one round it could not be named)."""
    monkeypatch.setattr(advise_package.sweep, "MAX_REFINED", 2)
    result, _, _, choice = _sweep(budget=60.0, runner_factory=EqualFooting, names=FOUR)
    rounds = {t.config.label: len(t.round_seconds) for t in result.trials}
    assert rounds["mp_pool x2"] >= 3 and rounds["thread_pool x2"] >= 3, rounds
    assert rounds["threading x2"] == 1 and rounds["process_pool x2"] == 1, rounds
    assert "faster or simpler" in result.excluded["threading x2"], result.excluded
    candidates = {c.name: c for c in [choice.baseline, *choice.candidates]}
    pick = recommend(result.trial(Config("sequential", 1)), result.trials, candidates)
    assert pick.config == Config("thread_pool", 2) and pick.fastest == Config("mp_pool", 2), pick


def test_a_concurrent_variant_at_one_worker_is_never_refined():
    """At 1 worker it can never be named: however simple, it takes no refinement slot from a rival (here
    within KEEP_SHARE of the best, at 1.5x)."""
    class Modest(EqualFooting):
        SPEEDUP = 1.5
    clock = FakeClock()
    runner = Modest(clock)
    choice = choose(is_coroutine=False, serializer_problems={}, names=list(FOUR))
    result = Sweep(runner, choice, items_total=10_000, budget_s=40.0, usable_cpus=2, clock=clock,
                   worker_counts=(1, 2)).run()  # 40 s: rounds under LONG_ROUND_S, so five of them
    at_one = [(c, rounds) for c, rounds in runner.calls if c.workers == 1 and c.variant != "sequential"]
    assert at_one and all(rounds == 1 for _, rounds in at_one), at_one  # their first round, and the scaling run
    refined = [t.config for t in result.trials if len(t.round_seconds) == 5 and t.config.workers > 1]
    assert len(refined) == 3, result.trials


def test_the_further_rounds_come_in_passes_in_reverse_order():
    """No configuration gets all its further rounds at one moment: a load that comes and goes falls on each."""
    result, _, runner, _ = _sweep(budget=40.0, runner_factory=EqualFooting)  # rounds under 1 s: five of them
    configs = [config for config, _ in runner.calls]
    # The first call of a configuration measured before, after the baseline's first rounds: refinement begins.
    start = next((i for i, c in enumerate(configs) if c.workers > 1 and c in configs[:i]), None)
    assert start is not None, configs
    further = [(c, rounds) for c, rounds in runner.calls[start:] if c in configs[:start]]  # not the 1-worker runs
    refined = list(dict.fromkeys(c for c, _ in further))
    assert len(refined) >= 3 and refined[1] == Config("sequential", 1), refined  # the best, then the baseline
    assert [c for c, _ in further] == refined + refined[::-1], further
    # 1 + 2 + 2 rounds for each, and 3 + 1 + 1 for the baseline: five each, over both passes.
    assert all(rounds == (1 if c.workers == 1 else 2) for c, rounds in further), further
    assert all(len(result.trial(c).round_seconds) == 5 for c in refined), result.trials


def test_rounds_the_budget_cut_are_listed_once_with_what_each_still_wanted():
    """Scanning budgets: a cut in the first pass or the second names the rounds its configuration lacks."""
    seen = set()
    for budget in [x / 4 for x in range(8, 40)]:
        result, _, _, _ = _sweep(budget=budget, runner_factory=EqualFooting)
        for label, _why in result.not_tried.items():
            found = re.fullmatch(r"(.+), (\d+) more rounds?", label)
            if found is None:
                continue
            trial = next(t for t in result.trials if t.config.label == found[1])
            assert len(trial.round_seconds) + int(found[2]) == 5, (budget, label, trial.round_seconds)
            seen.add(int(found[2]) == 5 - 1 if trial.config.workers > 1 else "baseline")
        labels = [label.split(",")[0] for label in result.not_tried if "more round" in label]
        assert len(labels) == len(set(labels)), (budget, result.not_tried)
    assert {True, False} <= seen, seen  # cuts in the first pass (4 more rounds) and in the second


# --- classification and recommendation from given figures ------------------------------------------

def _trial(variant: str, workers: int, seconds: list[float], cores: float, chunksize=None, kind=None) -> Trial:
    return Trial(config=Config(variant, workers, chunksize), kind=kind or Candidate.of(variant).kind.value,
                 round_seconds=seconds, cores_used=[cores] * len(seconds), items=100, chunksize_used=chunksize or 1)


def test_classification_follows_the_figures_and_the_build():
    base = _trial("sequential", 1, [1.0, 1.0, 1.0], 0.98)
    waits = _trial("sequential", 1, [1.0], 0.02)
    threads_one_core = _trial("thread_pool", 2, [1.0], 0.99)
    threads_two_cores = _trial("thread_pool", 2, [0.52], 1.9)
    assert classify(waits, [], per_item_s=0.01, hand_off_s={}, usable_cpus=2, gil_enabled=True).bound is Bound.IO_WAIT
    assert classify(base, [threads_one_core], per_item_s=0.01, hand_off_s={"processes": 1e-4}, usable_cpus=2,
                    gil_enabled=True).bound is Bound.CPU_HOLDS_GIL
    free = classify(base, [threads_two_cores], per_item_s=0.01, hand_off_s={}, usable_cpus=2, gil_enabled=False)
    assert free.bound is Bound.CPU_RELEASES_GIL and "without a GIL" in free.reasons[-1]
    tiny = classify(base, [threads_one_core], per_item_s=1e-6, hand_off_s={"processes": 1e-4, "threads": 2e-5},
                    usable_cpus=2, gil_enabled=True)
    assert tiny.bound is Bound.DISPATCH and "cheaper than a hand-off" in tiny.reasons[-1]
    # On a loaded machine sequential gets half a core: threads at 1.5x that still release the GIL.
    loaded = _trial("sequential", 1, [1.0], 0.5)
    assert classify(loaded, [_trial("thread_pool", 2, [0.6], 0.85)], per_item_s=0.01, hand_off_s={}, usable_cpus=2,
                    gil_enabled=True).bound is Bound.CPU_RELEASES_GIL


def test_threads_are_judged_against_the_cores_other_processes_left_free():
    base = _trial("sequential", 1, [1.0], 0.98)
    hashing = _trial("thread_pool", 2, [0.76], 1.28)  # 1.31x sequential's cores, measured beside another suite
    args = dict(per_item_s=0.01, hand_off_s={}, usable_cpus=2, gil_enabled=True)
    assert classify(base, [hashing], **args).bound is Bound.CPU_HOLDS_GIL  # against 2 free cores: 1.5x needed
    half_busy = classify(base, [hashing], **args, other_cores=0.5)
    assert half_busy.bound is Bound.CPU_RELEASES_GIL and "1.50 cores left free" in half_busy.reasons[-1]
    busy = classify(base, [hashing], **args, other_cores=0.9)
    assert busy.bound is None and "too few to tell" in busy.reasons[-1] and "0.90 of the 2 CPUs" in busy.reasons[-1]


def test_the_cores_other_processes_used_are_measured_and_warned_about():
    """A process spinning beside a trial of a sleeping function, in advise's own child process (the spinner is
    not in its process tree, as another program is not): the spinner's core shows as used by others."""
    import subprocess
    import sys

    from concurrency_lab.advise.session import Session

    sequential = Config("sequential", 1)
    session = Session(targets.sleep_20ms, list(range(25)), is_coroutine=False)
    try:
        quiet = session.trial(60, sequential, n=10, rounds=2, warmup=0, timeout=30, baseline=sequential, check=False)
        assert len(quiet.other_cores) == len(quiet.round_seconds) == 2
        spinner = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 60\nwhile time.time() < end: pass"])
        try:
            busy = session.trial(60, sequential, n=25, rounds=3, warmup=1, timeout=30, baseline=sequential, check=False)
        finally:
            spinner.kill()
            spinner.wait()
    finally:
        session.close()
    advice = Advice(function="m:f", items_total=25, items_sampled=25, budget_seconds=10, elapsed_seconds=3, calls=100,
                    build={"python": "3", "gil_enabled": True, "usable_cpus": 2}, probe=Probe(), bound=None,
                    reasons=[], trials=[busy], hand_off_seconds={}, ruled_out={}, not_tried={})
    assert advice.other_cores > 0.3, busy.other_cores  # a spinning process gets most of a core
    assert "WARNING: other processes used" in render(advice)
    assert Advice.from_dict(json.loads(json.dumps(advice.to_dict()))).other_cores == advice.other_cores


def test_within_noise_the_simpler_one_is_named():
    candidates = {name: Candidate.of(name) for name in ("sequential", "thread_pool", "process_pool", "mp_pool")}
    base = _trial("sequential", 1, [1.0, 1.01, 0.99], 1.0)
    threads = _trial("thread_pool", 2, [0.52, 0.53, 0.51], 1.9)
    processes = _trial("process_pool", 2, [0.51, 0.52, 0.50], 1.95)
    pick = recommend(base, [base, threads, processes], candidates)
    assert pick.config == threads.config and pick.as_fast == ("process_pool x2",)
    assert pick.fastest == processes.config
    clearly = _trial("process_pool", 2, [0.30, 0.31, 0.30], 1.95)
    assert recommend(base, [base, threads, clearly], candidates).config == clearly.config
    # A concurrent variant at 1 worker is shown for scaling, never named.
    lucky = _trial("process_pool", 1, [0.5], 1.0)
    assert recommend(base, [base, threads, lucky], candidates).config == threads.config
    # Nothing beats sequential beyond noise: sequential, the simplest.
    same = _trial("mp_pool", 2, [0.98, 1.0, 0.99], 1.0)
    assert recommend(base, [base, same], candidates).config == base.config
    assert within_noise(base, same) and not within_noise(base, clearly)


def test_a_loaded_machines_outlier_rounds_do_not_hide_a_clear_win():
    """Every process round beats every sequential round: a real difference, though the rounds' spreads
    (CVs of 40% and 20%, as measured with other suites on both cores) add up to more than the gap."""
    candidates = {name: Candidate.of(name) for name in ("sequential", "process_pool")}
    base = _trial("sequential", 1, [1.0, 2.2, 0.95, 1.9, 1.1], 0.7)
    processes = _trial("process_pool", 2, [0.55, 0.9, 0.6, 0.58, 0.62], 1.4)
    assert not within_noise(base, processes)
    assert recommend(base, [base, processes], candidates).config == processes.config
    # The same gap with overlapping rounds is noise: sequential, the simplest, is named.
    overlapping = _trial("process_pool", 2, [0.55, 1.3, 0.6, 0.58, 1.0], 1.4)
    assert within_noise(base, overlapping)
    assert recommend(base, [base, overlapping], candidates).config == base.config
    # Too few rounds for the rank test: the spreads decide, and a 1-round trial far behind is not "as fast".
    one_round = _trial("process_pool", 2, [2.5], 1.4)
    assert not within_noise(_trial("sequential", 1, [1.0, 1.02, 0.98], 1.0), one_round)


def test_one_round_is_not_enough_to_be_named():
    candidates = {name: Candidate.of(name) for name in ("sequential", "thread_pool", "process_pool")}
    base = _trial("sequential", 1, [1.0, 1.1, 0.9, 1.05, 0.95], 1.0)
    processes = _trial("process_pool", 2, [0.52, 0.53, 0.51, 0.55, 0.5], 1.9)
    once = _trial("thread_pool", 2, [0.6], 1.6)  # simpler, within noise of processes, but measured once
    pick = recommend(base, [base, processes, once], candidates)
    assert pick.config == processes.config and pick.as_fast == ("thread_pool x2",), pick
    # Within noise but slower, it is shown with its figures, not as "as fast".
    slower = _trial("process_pool", 2, [1.15], 1.1)
    pick = recommend(base, [base, slower], candidates)
    assert pick.config == base.config and pick.as_fast == ("process_pool x2",), pick
    advice = Advice(function="m:f", items_total=100, items_sampled=100, budget_seconds=10, elapsed_seconds=3, calls=9,
                    build={"python": "3", "gil_enabled": True, "usable_cpus": 2}, probe=Probe(), bound=None,
                    reasons=[], trials=[base, slower], hand_off_seconds={}, ruled_out={}, not_tried={},
                    recommended=base.config, speedup=1.0, as_fast=list(pick.as_fast))
    assert "  within noise: process_pool x2 (0.87x, 1 round): not told apart from it; the one named is simpler" \
        in render(advice).splitlines()


def test_a_variant_that_differed_is_never_recommended():
    candidates = {name: Candidate.of(name) for name in ("sequential", "thread_pool")}
    base = _trial("sequential", 1, [1.0], 1.0)
    wrong = _trial("thread_pool", 2, [0.1], 1.0)
    wrong.problem, wrong.mismatch = "returned a different result", {"index": 4, "expected": "1", "got": "2"}
    assert recommend(base, [base, wrong], candidates).config == base.config


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_each_variant_gives_its_snippet_in_its_own_api(name):
    """Every registered variant's `usage`, as advise prints it: valid Python, its own API (or the lab's
    get_variant for one with no code of its own), the worker count, and the function imported after the
    library's imports."""
    cls = variant_class(name)
    code = snippet(Candidate.of(name), 3, 50, "advise_targets:add_one")
    compile(code, name, "exec")
    own = [part for part in cls.api.split()[0].split("(")[0].split(".") if part != "map"]
    assert any(part in code for part in own) or f"get_variant({name!r}" in code, code
    assert "add_one" in code and ("3" in code or cls.kind is Kind.SEQUENTIAL), code
    lines = code.splitlines()
    assert "from advise_targets import add_one" in lines, code
    below = lines[lines.index("from advise_targets import add_one") + 1:]
    assert not any(line.startswith(("import ", "from ")) for line in below), code
    closure = snippet(Candidate.of(name), 2, None, "advise_targets:make_locked_sleeper.<locals>.sleeper")
    assert "# sleeper: your function, made by make_locked_sleeper(...)" in closure and "import sleeper" not in closure


@pytest.mark.parametrize("name", VARIANT_NAMES)
def test_each_snippet_runs_and_gives_the_functions_results(name):
    """Pasted as a user would (as the main module), the snippet sets `results` to [func(item) for item in items]."""
    cls = variant_class(name)
    if cls.unavailable_reason() is not None:
        pytest.skip(cls.unavailable_reason())
    if cls.kind is Kind.CLUSTER:
        pytest.skip("it starts a cluster with the engine's defaults (a dashboard on port 8787): compiled only, above")
    function = "advise_targets:async_sleep_20ms" if cls.runs_coroutines else "advise_targets:add_one"
    expected = [2 * i for i in range(10)] if cls.runs_coroutines else [i + 1 for i in range(10)]
    for chunksize in (None, 3):  # the variant's own chunking, and a measured chunk size
        code = snippet(Candidate.of(name), 2, chunksize, function)
        namespace = {"__name__": "__main__", "items": list(range(10))}
        try:
            exec(compile(code, name, "exec"), namespace)
        finally:  # an engine's per-process executor the snippet left up (loky's, joblib's): the variant closes it
            if cls.has_pool():
                with cls(workers=2):
                    pass
        assert list(namespace["results"]) == expected, code
        if chunksize and not cls.runs_coroutines and cls.kind is not Kind.SEQUENTIAL:  # the chunk size is in it
            assert re.search(r"(chunksize|batch_size)=3\b", code) or "items[i:i + 3]" in code, code


def test_a_process_pool_snippet_names_the_chunk_size_it_measured():
    families = [n for n in VARIANT_NAMES if variant_class(n).api_default_chunksize == 1]
    for name in families:  # ProcessPoolExecutor.map: 1 by default, which users miss
        assert "chunksize=50" in snippet(Candidate.of(name), 2, 50, "m:f")
        assert "chunksize=1" in snippet(Candidate.of(name), 2, None, "m:f")


def test_a_joblib_snippet_keeps_the_batching_that_was_measured():
    families = {variant_class(n).api_family: n for n in VARIANT_NAMES if variant_class(n).unavailable_reason() is None}
    if "joblib" not in families:
        pytest.skip("joblib is not installed")
    automatic = snippet(Candidate.of(families["joblib"]), 2, 1, "m:f")  # chunk size 1: joblib's own batching ran
    assert "Parallel(n_jobs=2)(delayed(f)(item)" in automatic and "batch_size" not in automatic
    assert "batch_size=25" in snippet(Candidate.of(families["joblib"]), 2, 25, "m:f")


# --- for real: safety cases give a line, never a hang ----------------------------------------------

SMALL = dict(budget=4.0, variants=["sequential", "thread_pool", "process_pool"])


def judged_or_said_why(advice: Advice) -> bool:
    """Whether advise judged; if not (a busy machine can run a small budget out, or leave too few cores free),
    its answer must say so, with what would decide it: measured for real, the outcome is never asserted."""
    if advice.judged and advice.recommended is not None:
        return True
    assert not advice.judged and ("--budget" in advice.problem or "quieter machine" in advice.problem), render(advice)
    return False


@pytest.mark.parametrize("func, says", [
    (targets.raises_on_three, "raised Refused on item 3: item 3 refused"),
    (targets.hangs_always, "gave no result within 1.2 s"),
    (targets.hangs_on_two, "an item hangs"),
    (targets.exits_on_one, "ended the process running them (exit code 3)"),
    (targets.leaks_a_process, "processes running after map returned"),
], ids=lambda value: getattr(value, "__name__", "says"))
def test_a_function_that_misbehaves_gets_a_line_not_a_hang(func, says):
    advice = advise(func, range(20), **SMALL)  # (a hang would be stopped by pytest-timeout: no timing asserted)
    assert advice.recommended is None and says in advice.problem
    assert says in render(advice)


def test_a_variant_whose_results_differ_is_reported_with_the_first_item():
    advice = advise(targets.differs_in_threads, range(12), **SMALL)
    threads = [t for t in advice.trials if t.kind == "threads"]
    if not threads:  # all() of nothing would pass: a busy machine may spend the budget first, and only that skips
        cut = [f"{label}: {why}" for label, why in advice.not_tried.items() if "budget" in why]
        assert cut or not advice.judged, render(advice)
        pytest.skip(f"no thread trial to check: {'; '.join(cut) or advice.problem}")
    assert all(t.mismatch == {"index": 0, "expected": "(0, True)", "got": "(0, False)"} for t in threads)
    assert advice.recommended is None or advice.recommended_kind != "threads"
    assert advice.nondeterministic is None  # sequential agrees with itself: the threads differ
    if judged_or_said_why(advice):
        assert threads and "returned different results (item 0)" in render(advice), render(advice)


def test_a_result_that_cannot_come_back_rules_out_process_variants():
    advice = advise(targets.returns_a_lock, range(8), **SMALL)
    assert "result" in advice.ruled_out["process_pool"] and "pickle" in advice.ruled_out["process_pool"]


def test_the_advice_round_trips_through_json():
    advice = advise(targets.sleep_20ms, range(8), budget=3.0, variants=["sequential", "thread_pool"])
    again = Advice.from_dict(json.loads(json.dumps(advice.to_dict())))
    assert again.to_dict() == advice.to_dict()
    assert render(again) == render(advice)
    with pytest.raises(ValueError, match="schema 99"):
        Advice.from_dict({**advice.to_dict(), "schema_version": 99})
    # A key a newer writer added within this schema version is left out, not a TypeError.
    data = advice.to_dict()
    later = {**data, "added_later": 1, "trials": [{**t, "added_later": 2} for t in data["trials"]],
             "probe": {**data["probe"], "added_later": 3}}
    assert Advice.from_dict(later).to_dict() == data


def test_the_api_refuses_bad_arguments():
    with pytest.raises(ValueError, match="at least one item"):
        advise(targets.add_one, [])
    with pytest.raises(ValueError, match="budget"):
        advise(targets.add_one, [1], budget=0)
    with pytest.raises(ValueError, match="spent"):
        advise(targets.add_one, [1], spent=-1.0)
    with pytest.raises(TypeError, match="callable"):
        advise(42, [1])
    assert advise_package.advise is advise and callable(advise_package)


def test_a_test_suite_can_require_a_speedup(parallel_speedup):
    from concurrency_lab.advise import assert_parallel_speedup

    assert parallel_speedup is assert_parallel_speedup  # the lab's pytest plugin offers it as a fixture
    waits = dict(workers=2, budget=4.0, variants=["sequential", "thread_pool"])
    try:
        advice = assert_parallel_speedup(targets.sleep_20ms, range(16), at_least=1.5, **waits)
    except AssertionError as failed:  # a busy machine may run the budget out: that must be what it says
        assert re.match(r"1\.5x on 2 workers not (judged|measured): .*--budget", str(failed)), failed
    else:
        assert {t.config.workers for t in advice.trials} <= {1, 2}
    with pytest.raises(AssertionError, match=r"(no variant reached 3x on 2 workers \(the best: [12]\.\d\dx\)|"
                                             r"3x on 2 workers not (judged|measured): .*--budget.*)\nadvise "):
        assert_parallel_speedup(targets.sleep_20ms, range(16), at_least=3, **waits)


def test_a_function_from_a_file_is_checked_in_a_fresh_worker(tmp_path, monkeypatch, own_sys_path):
    from concurrency_lab.advise.safety import spawn_import_problem

    assert spawn_import_problem(targets.add_one, "process_pool") is None
    source = tmp_path / "gone_after_import.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    func = load_function(f"{source}:double")
    source.unlink()  # a fresh interpreter can no longer import it; this one already did
    problem = spawn_import_problem(func, "process_pool")
    assert problem.startswith("a fresh worker process (spawn) cannot import it")
    monkeypatch.delitem(__import__("sys").modules, "gone_after_import")


def test_a_budget_too_small_for_any_comparison_says_so():
    class OnlyTheReference(FakeRunner):
        def probe(self, bound_s, **arguments):
            self.clock.now += 0.5
            return Probe(item_seconds=(0.1,) * 5, cpu_seconds=0.5)

    clock = FakeClock()
    choice = choose(is_coroutine=False, serializer_problems={}, names=["sequential", "process_pool"])
    advice = advise(targets.add_one, range(100), budget=2.0, variants=["sequential", "process_pool"], clock=clock,
                    runner=OnlyTheReference(clock, per_item=0.1))
    assert advice.recommended is None and "raise --budget" in advice.problem, render(advice)
    assert choice.candidates


def test_a_probe_cut_by_the_budget_is_not_judged_as_a_cut_reference_is():
    """Both stop at their share of the budget: a larger one may decide, so neither is a finding about the
    function. A probe that ends its process is one (NO ADVICE)."""
    class ProbeNeverAnswers(FakeRunner):
        def probe(self, bound_s, **arguments):
            self.clock.now += bound_s
            raise NoAnswer(f"no answer within {bound_s:.3g} s")

    class ReferenceNeverAnswers(FakeRunner):
        def trial(self, bound_s, config, **kwargs):
            self.clock.now += bound_s
            raise NoAnswer(f"no answer within {bound_s:.3g} s")

    class ProbeExits(FakeRunner):
        def probe(self, bound_s, **arguments):
            raise NoAnswer("the child exited", exit_code=3)

    answers = {}
    for runner_class in (ProbeNeverAnswers, ReferenceNeverAnswers, ProbeExits):
        clock = FakeClock()
        answers[runner_class] = advise(targets.add_one, range(100), budget=2.0, clock=clock, runner=runner_class(clock),
                                       variants=["sequential", "process_pool"])
    for cut in (answers[ProbeNeverAnswers], answers[ReferenceNeverAnswers]):
        screen = render(cut)
        assert not cut.judged and cut.recommended is None and "raise --budget" in cut.problem, screen
        assert "\nNOT JUDGED: " in screen and "NO ADVICE" not in screen, screen
    assert answers[ProbeNeverAnswers].problem.startswith("the first sequential calls (the probe) gave no result within")
    exits = answers[ProbeExits]
    assert exits.judged and "\nNO ADVICE: " in render(exits) and "(exit code 3)" in exits.problem, render(exits)


def test_the_chunk_size_for_the_whole_input_follows_the_measured_policy():
    advice = advise(targets.sleep_20ms, range(200), budget=4.0, variants=["sequential", "thread_pool"])
    if judged_or_said_why(advice):
        assert advice.recommended_kind == "threads" and advice.chunksize_for_all == 1, render(advice)
        assert "chunksize" not in advice.snippet
    from concurrency_lab.advise.answer import chunksize_for_all

    measured = _trial("process_pool", 2, [0.1], 1.9, chunksize=50)  # 100 items in 2 chunks
    assert chunksize_for_all(measured, 10_000) == 5000


def test_the_spawn_import_check_is_paid_from_the_budget(monkeypatch):
    """The check of a file's function in a fresh worker runs before the sweep: the sweep gets what it left."""
    import concurrency_lab.advise.api as api

    clock = FakeClock()

    def slow_check(func, variant, timeout):
        clock.now += 6.0
        return None
    monkeypatch.setattr(api, "spawn_import_problem", slow_check)
    started = clock.now
    hangs = FakeRunner(clock, hang="process_pool")  # takes all the time it is given
    advice = advise(targets.add_one, range(10_000), budget=10.0, clock=clock, runner=hangs,
                    variants=["sequential", "thread_pool", "process_pool"], check_spawn=True)
    assert clock.now - started <= 10.0 + 1e-9, render(advice)
    assert advice.elapsed_seconds <= 10.0 + 1e-9


def test_what_the_caller_already_spent_is_paid_from_the_budget():
    """The command's loading of the function and its items: in the time spent, the budget shown as given."""
    clock = FakeClock()
    started = clock.now
    hangs = FakeRunner(clock, hang="process_pool")  # takes all the time it is given
    advice = advise(targets.add_one, range(10_000), budget=10.0, spent=4.0, clock=clock, runner=hangs,
                    variants=["sequential", "thread_pool", "process_pool"])
    assert clock.now - started <= 6.0 + 1e-9, render(advice)
    assert advice.budget_seconds == 10.0 and 4.0 < advice.elapsed_seconds <= 10.0 + 1e-9
    assert "of a 10 s budget" in render(advice).splitlines()[0]


# --- never a confident wrong answer: decisions from faked figures (issue 16) -----------------------------

class MachineFigures(FakeRunner):
    """A pure-Python CPU function of 10 ms per item measured on 2 CPUs, with the rounds' figures given: each
    kind's speedups at 2 workers (cycled over its rounds), the cores it used, and the other processes' load
    (None: not known, as when psutil cannot say)."""

    def __init__(self, clock, *, speedups, cores, other_cores=0.0):
        super().__init__(clock)
        self.speedups, self.cores, self.other = speedups, cores, other_cores
        self.rounds_given: dict[Config, int] = {}

    def trial(self, bound_s, config, *, n, rounds, warmup, timeout, baseline, check=True):
        self.calls.append(config)
        kind = Candidate.of(config.variant).kind
        factors = self.speedups[kind.value] if config.workers > 1 else [1.0, 0.98, 1.02]
        given = self.rounds_given.get(config, 0)
        self.rounds_given[config] = given + rounds
        round_seconds = [n * self.per_item / factors[(given + i) % len(factors)] for i in range(rounds)]
        self.clock.now += sum(round_seconds) * (1 + warmup)
        cores = self.cores[kind.value] if config.workers > 1 else self.cores["sequential"]
        return Trial(config=config, kind=kind.value, round_seconds=round_seconds, cores_used=[cores] * rounds,
                     other_cores=[self.other] * rounds, items=n, calls=n * (warmup + rounds), chunksize_used=1)


@pytest.fixture
def gil_build(monkeypatch):
    """The newcomer's build: 3.11 with a GIL, 2 usable CPUs, whatever Python runs the tests."""
    import concurrency_lab.advise.api as api

    monkeypatch.setattr(api, "build_facts", lambda: {"python": "3.11.7", "gil_enabled": True,
                                                     "free_threaded_build": False, "usable_cpus": 2, "machine_cpus": 2})
    monkeypatch.setattr(api, "lab_usable_cpus", lambda: 2)


THREADS_NOISE = [1.40, 1.42, 1.20, 1.41, 1.39]  # the newcomer's thread_pool x2: 1.40x (1.20-1.42x over 5 rounds)


def _advise_on(figures: MachineFigures, clock: FakeClock,
               variants=("sequential", "thread_pool", "process_pool")) -> Advice:
    return advise(targets.sum_of_squares, range(10_000), budget=30.0, clock=clock, runner=figures,
                  variants=list(variants), name="advise_targets:sum_of_squares")


def test_the_newcomers_loaded_machine_is_not_judged(gil_build):
    """Other processes used 1.29 of the 2 CPUs; threads used 0.96 cores and measured 1.40x: no USE line."""
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"threads": THREADS_NOISE, "processes": [1.05, 0.9, 1.1, 1.0, 0.95]},
                             cores={"sequential": 0.97, "threads": 0.96, "processes": 1.0}, other_cores=1.29)
    advice = _advise_on(figures, clock)
    screen = render(advice)
    assert advice.recommended is None and not advice.judged and not advice.snippet, screen
    assert advice.problem.startswith("thread_pool x2 measured 1.40x sequential (1.20-1.42x over 5 rounds)"), screen
    assert "other processes used 1.29 of the 2 CPUs meanwhile, leaving 0.71" in advice.problem, screen
    assert "quieter machine" in advice.problem and "--budget" in advice.problem
    assert "\nNOT JUDGED: thread_pool x2 measured 1.40x" in screen and "\nUSE " not in screen and "code:" not in screen
    again = Advice.from_dict(json.loads(json.dumps(advice.to_dict())))
    assert not again.judged and render(again) == screen


def test_a_loaded_machine_where_nothing_beat_sequential_is_not_judged_either(gil_build):
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"threads": [1.0, 0.97, 1.02], "processes": [1.0, 1.03, 0.98]},
                             cores={"sequential": 0.7, "threads": 0.7, "processes": 0.75}, other_cores=1.29)
    advice = _advise_on(figures, clock)
    assert advice.recommended is None and not advice.judged, render(advice)
    assert "nothing measured beat sequential beyond noise, but other processes used 1.29 of the 2 CPUs" \
        in advice.problem


def test_a_loaded_machine_with_no_thread_variant_measured_does_not_name_sequential(gil_build):
    """The free-core check is not only the thread question's: with processes alone no faster on a machine
    other processes loaded, sequential is not named (a GIL question never arose to catch it)."""
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"processes": [1.0, 1.03, 0.98]},
                             cores={"sequential": 0.7, "processes": 0.75}, other_cores=1.29)
    advice = _advise_on(figures, clock, variants=("sequential", "process_pool"))
    screen = render(advice)
    assert advice.recommended is None and not advice.judged and not advice.snippet, screen
    assert advice.problem.startswith("nothing measured beat sequential beyond noise, but other processes used 1.29 "
                                     "of the 2 CPUs meanwhile, leaving 0.71"), screen
    assert "quieter machine" in advice.problem and "\nUSE " not in screen and "code:" not in screen, screen


class TinyItems(MachineFigures):
    """Items of 1 µs (the probe's figure), far cheaper than a process hand-off (0.1 ms): dispatch-bound."""

    def __init__(self, clock, **figures):
        super().__init__(clock, **figures)
        self.per_item = 2e-5  # a sample's rounds of 0.2 s, so that other load is measured when given

    def probe(self, bound_s, **arguments):
        self.clock.now += 0.2
        return Probe(item_seconds=(1e-6,) * 2000, cpu_seconds=0.002)


@pytest.mark.parametrize("other_cores", [1.29, None], ids=["loaded", "load_not_measured"])
def test_work_cheaper_than_a_hand_off_is_sequential_on_any_machine(gil_build, other_cores):
    """Sequential wins there for a reason other load cannot explain: judged, loaded or not measured."""
    clock = FakeClock()
    figures = TinyItems(clock, speedups={"threads": [1.0, 0.97, 1.02], "processes": [1.0, 1.03, 0.98]},
                        cores={"sequential": 0.99, "threads": 0.99, "processes": 1.0}, other_cores=other_cores)
    advice = _advise_on(figures, clock)
    screen = render(advice)
    assert advice.bound == "dispatch" and advice.judged, screen
    assert advice.recommended == Config("sequential", 1) and "\nUSE sequential" in screen, screen
    assert (advice.other_cores is None) == (other_cores is None), screen


def test_other_load_not_measured_is_not_taken_as_idle(gil_build):
    """Rounds with no figure for other processes (too short, or psutil could not say): the newcomer's threads'
    1.40x is not named, nor is sequential (it was named, unknown load being read as none)."""
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"threads": THREADS_NOISE, "processes": [1.05, 0.9, 1.1, 1.0, 0.95]},
                             cores={"sequential": 0.97, "threads": 0.96, "processes": 1.0}, other_cores=None)
    advice = _advise_on(figures, clock)
    screen = render(advice)
    assert advice.other_cores is None and advice.recommended is None and not advice.judged, screen
    assert "other processes' load was not measured" in advice.problem and "quieter machine" in advice.problem, screen
    assert "\nNOT JUDGED: " in screen and "\nUSE " not in screen and "code:" not in screen, screen
    # No thread variant: sequential is not named either.
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"processes": [1.0, 1.03, 0.98]},
                             cores={"sequential": 0.99, "processes": 1.0}, other_cores=None)
    advice = _advise_on(figures, clock, variants=("sequential", "process_pool"))
    assert not advice.judged and advice.problem.startswith("nothing measured beat sequential beyond noise, but "
                                                           "other processes' load was not measured"), render(advice)


def test_the_free_core_check_from_given_figures():
    """`undecided` carries the figure whenever other load leaves too few cores, whatever was measured; never for
    work cheaper than a hand-off, nor with one usable CPU (nothing runs in parallel on any machine)."""
    base = _trial("sequential", 1, [1.0], 0.98)
    args = dict(per_item_s=0.01, hand_off_s={"processes": 1e-4}, gil_enabled=True)
    assert "1.29 of the 2 CPUs meanwhile, leaving 0.71" in classify(base, [], **args, usable_cpus=2,
                                                                    other_cores=1.29).undecided
    assert "not measured" in classify(base, [], **args, usable_cpus=2, other_cores=None).undecided
    assert classify(base, [], **args, usable_cpus=2, other_cores=0.3).undecided is None
    assert classify(base, [], **args, usable_cpus=1, other_cores=0.5).undecided is None
    tiny = dict(args, per_item_s=1e-6)
    for other in (1.29, None):
        found = classify(base, [], **tiny, usable_cpus=2, other_cores=other)
        assert found.bound is Bound.DISPATCH and found.undecided is None


def test_a_quiet_machines_figures_give_the_right_variant(gil_build):
    """The same noise in threads on a quiet machine: the function holds the GIL, so threads are never named
    (their 1.40x is noise) and processes, clearly faster, are; a function that releases it goes to threads."""
    clock = FakeClock()
    holds = MachineFigures(clock, speedups={"threads": THREADS_NOISE, "processes": [1.9, 1.95, 1.92, 1.88, 1.93]},
                           cores={"sequential": 0.99, "threads": 0.99, "processes": 1.97})
    advice = _advise_on(holds, clock)
    assert advice.judged and advice.bound == "cpu_holds_gil", render(advice)
    assert advice.recommended == Config("process_pool", 2), render(advice)
    assert "\nUSE process_pool with 2 workers" in render(advice)
    # Processes within noise of the threads' noise: threads, the simpler, would be named; they cannot be.
    clock = FakeClock()
    close = MachineFigures(clock, speedups={"threads": THREADS_NOISE, "processes": [1.5, 1.3, 1.45, 1.38, 1.42]},
                           cores={"sequential": 0.99, "threads": 0.99, "processes": 1.97})
    advice = _advise_on(close, clock)
    assert advice.recommended == Config("process_pool", 2) and "thread_pool x2" not in advice.as_fast, render(advice)
    assert any("thread_pool x2 measured 1.40x, but this function holds the GIL" in r for r in advice.reasons), \
        render(advice)
    # Threads no faster than noise, processes no faster either: sequential, judged (the machine was quiet).
    clock = FakeClock()
    flat = MachineFigures(clock, speedups={"threads": THREADS_NOISE, "processes": [1.0, 1.02, 0.98]},
                          cores={"sequential": 0.99, "threads": 0.99, "processes": 1.97})
    assert _advise_on(flat, clock).recommended == Config("sequential", 1)
    clock = FakeClock()
    releases = MachineFigures(clock, speedups={"threads": [1.9, 1.93, 1.91], "processes": [1.85, 1.9, 1.88]},
                              cores={"sequential": 0.99, "threads": 1.95, "processes": 1.97})
    advice = _advise_on(releases, clock)
    assert advice.bound == "cpu_releases_gil" and advice.recommended == Config("thread_pool", 2), render(advice)


def test_threads_for_computing_work_are_named_on_a_gil_build_only_when_the_gil_was_found_released():
    from concurrency_lab.advise.answer import Pick
    from concurrency_lab.advise.api import why_not_judged
    from concurrency_lab.advise.classify import Classification

    pick = Pick(Config("thread_pool", 2), 1.4, 1.2, 1.42, (), None)
    trial = _trial("thread_pool", 2, [0.7] * 5, 0.96)
    for bound in (None, Bound.DISPATCH, Bound.CPU_HOLDS_GIL):
        assert "not established" in why_not_judged(pick, Kind.THREADS, Classification(bound), True, trial)
    for bound in (Bound.IO_WAIT, Bound.CPU_RELEASES_GIL):
        assert why_not_judged(pick, Kind.THREADS, Classification(bound), True, trial) is None
    assert why_not_judged(pick, Kind.THREADS, Classification(None), False, trial) is None  # free-threaded


def _advice_with(trials, build=None) -> Advice:
    return Advice(function="m:f", items_total=100, items_sampled=100, budget_seconds=10, elapsed_seconds=3, calls=9,
                  build=build or {"python": "3", "gil_enabled": True, "usable_cpus": 2, "machine_cpus": 2},
                  probe=Probe(), bound=None, reasons=[], trials=trials, hand_off_seconds={}, ruled_out={},
                  not_tried={})


def test_impossible_other_load_never_reaches_the_screen():
    """156.93 of 2 CPUs was one 10 ms tick of the OS over rounds of a few µs: not measured; above the machine's
    CPUs over long rounds: clamped, with a note."""
    tiny = _trial("sequential", 1, [64e-6] * 3, 1.0)
    tiny.other_cores = [156.93] * 3
    advice = _advice_with([tiny])
    screen = render(advice)
    assert advice.other_cores is None and "156.93" not in screen and "WARNING" not in screen, screen
    assert "NOTE: other processes' load not measured: the rounds lasted 0.192 ms in all" in screen, screen
    long = _trial("sequential", 1, [0.6] * 3, 1.0)
    long.other_cores = [3.5] * 3
    advice = _advice_with([long])
    screen = render(advice)
    assert advice.other_cores == 2 and "3.50" not in screen, screen
    assert "WARNING: other processes used 2.00 of the 2 CPUs" in screen and "shown as 2" in screen, screen
    assert Advice.from_dict(json.loads(json.dumps(advice.to_dict()))).other_cores == 2
    older = _advice_with([long], build={"python": "3", "gil_enabled": True, "usable_cpus": 2})  # no machine_cpus
    assert older.other_cores == 2


def test_a_configuration_that_ran_is_never_listed_as_not_run():
    """A dispatch-bound function: each variant in its default chunks is excluded by the hand-off cost before it
    runs, and the same variant in large chunks runs; the line says which ran and which did not."""
    class Tiny(FakeRunner):
        def probe(self, bound_s, **arguments):
            self.clock.now += 0.2
            return Probe(item_seconds=(1e-7,) * 2000, cpu_seconds=0.2)

    clock = FakeClock()
    advice = advise(targets.add_one, range(1000), budget=30, clock=clock, runner=Tiny(clock, per_item=1e-7),
                    variants=["sequential", "thread_pool", "process_pool"])
    screen = render(advice)
    line = next(line for line in screen.splitlines() if line.startswith("not run"))
    assert "thread_pool x2 (default chunks)" in line, screen
    ran = {t.config.label for t in advice.trials}
    listed = [label.split(" (")[0] for label in line.split(": ", 1)[1].split(", ") if "chunks of" not in label]
    assert listed and not set(listed) & ran, (listed, ran)


# --- a function that is not deterministic (issue 16) ------------------------------------------------------

def test_a_function_that_is_not_deterministic_is_named_before_any_variant():
    advice = advise(targets.counts_its_calls, range(50), **SMALL)
    screen = render(advice)
    assert advice.recommended is None and advice.nondeterministic is not None, screen
    assert re.match(r"results depend on earlier calls or shared state: item 0 gave \d+, then \d+ \(two sequential "
                    r"runs", advice.problem), advice.problem
    first = next(line for line in screen.splitlines()[1:] if not line.startswith(("WARNING", "NOTE")))
    assert first.startswith("NO ADVICE: results depend on earlier calls or shared state: item 0 gave"), screen
    assert "returned a different result from sequential's" not in screen and "NOT RECOMMENDED" not in screen, screen
    assert [t.config.label for t in advice.trials] == ["sequential x1"]  # no variant was measured against it
    data = json.loads(json.dumps(advice.to_dict()))
    assert data["nondeterministic"]["index"] == 0 and data["judged"] is True
    assert render(Advice.from_dict(data)) == screen


@pytest.mark.parametrize("func, gave", [
    (targets.returns_nan, "item 0 gave nan both times"),
    (targets.returns_an_object, "item 0 gave <object objec"),  # (reprlib shortens it)
], ids=["nan", "object"])
def test_results_that_do_not_equal_themselves_are_not_called_not_deterministic(func, gave):
    """NaN, or objects without __eq__: == finds two sequential runs different, but the function is not to blame."""
    from concurrency_lab.advise import assert_parallel_speedup

    advice = advise(func, range(20), budget=4.0, variants=["sequential", "thread_pool"])
    screen = render(advice)
    said = ("results do not compare equal to themselves with == (" + gave)
    assert advice.recommended is None and advice.nondeterministic["uncomparable"] is True, screen
    assert advice.problem.startswith(said), advice.problem
    assert advice.problem.endswith("NaN, arrays or objects without __eq__ cannot be checked against sequential's, "
                                   "so no variant is judged"), advice.problem
    assert f"\nNO ADVICE: {said}" in screen and "depend on earlier calls" not in screen, screen
    data = json.loads(json.dumps(advice.to_dict()))
    assert data["problem"] == advice.problem and data["nondeterministic"]["uncomparable"] is True
    with pytest.raises(AssertionError) as failed:
        assert_parallel_speedup(func, range(20), at_least=1.5, workers=2, budget=4.0,
                                variants=["sequential", "thread_pool"])
    headline = str(failed.value).splitlines()[0]
    assert headline.startswith(f"1.5x on 2 workers not judged: {said}") and "not deterministic" not in headline, \
        headline


def test_what_equality_cannot_check_is_told_from_a_real_difference():
    from concurrency_lab.advise.trials import first_difference

    class Unorderable:
        def __eq__(self, other):
            raise ValueError("the truth value of an array with more than one element is ambiguous")

    assert first_difference([1, 2], [1, 3]) == {"index": 1, "expected": "2", "got": "3"}
    assert first_difference([[float("nan")]], [[float("nan")]])["uncomparable"] is True  # print the same
    assert first_difference([Unorderable()], [Unorderable()])["uncomparable"] is True
    assert first_difference([float("nan")], [1.0])["uncomparable"] is True
    assert "uncomparable" not in first_difference([(0, True)], [(0, False)])


def test_assert_parallel_speedup_gives_the_real_reason():
    from concurrency_lab.advise import assert_parallel_speedup

    with pytest.raises(AssertionError, match=r"^1\.5x on 2 workers not judged: the function is not deterministic: "
                                             r"results depend on earlier calls or shared state: item 0 gave "):
        assert_parallel_speedup(targets.counts_its_calls, range(50), at_least=1.5, workers=2, budget=4.0,
                                variants=["sequential", "thread_pool"])


def test_assert_parallel_speedup_hides_the_labs_frames(tmp_path):
    """Under pytest the failure shows the user's line and the reason, not the lab's source."""
    import subprocess
    import sys

    from concurrency_lab.core.helper_process import child_env

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_user.py").write_text(
        "import advise_targets\nfrom concurrency_lab.advise import assert_parallel_speedup\n\n"
        "def test_stays_parallel():\n"
        "    assert_parallel_speedup(advise_targets.counts_its_calls, range(50), budget=4.0,\n"
        "                            variants=['sequential', 'thread_pool'])\n")
    env = child_env()
    env["PYTHONPATH"] = f"{Path(__file__).parent / 'support'}{__import__('os').pathsep}{env.get('PYTHONPATH', '')}"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           str(tmp_path / "test_user.py")], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not judged: the function is not deterministic" in done.stdout, done.stdout
    assert "assert_parallel_speedup(advise_targets.counts_its_calls" in done.stdout, done.stdout
    assert "advise/api.py" not in done.stdout and "raise AssertionError" not in done.stdout, done.stdout


# --- the API as the README shows it (issue 16) ------------------------------------------------------------

def test_the_package_offers_advise_lazily_and_callable():
    import subprocess
    import sys

    from concurrency_lab.core.helper_process import child_env

    code = ("import sys, concurrency_lab\n"
            "assert 'concurrency_lab.advise' not in sys.modules, 'import concurrency_lab got heavier'\n"
            "assert 'advise' in dir(concurrency_lab)\n"
            "assert callable(concurrency_lab.advise)\n"
            "from concurrency_lab.advise import advise, render\n"
            "assert concurrency_lab.advise.advise is advise and callable(render)\n"
            "try:\n    concurrency_lab.no_such_thing\nexcept AttributeError as e:\n    print(e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "module 'concurrency_lab' has no attribute 'no_such_thing'"


def test_the_package_call_gives_a_readable_advice():
    import concurrency_lab

    clock = FakeClock()
    advice = concurrency_lab.advise(targets.sum_of_squares, range(10_000), budget=60.0, clock=clock,
                                    runner=FakeRunner(clock), variants=["sequential", "thread_pool", "process_pool"])
    assert isinstance(advice, Advice)
    name = "concurrency_lab.lesson.work_classes:sum_of_squares"  # where the function is defined
    assert str(advice) == render(advice) and str(advice).startswith(f"advise {name}: Python ")
    assert repr(advice) == (f"<Advice for {name}: use {advice.recommended.label}, {advice.speedup:.2f}x; "
                            "print() it for the screen>")
    assert "\n" not in repr(advice) and len(repr(advice)) < 120
    advice.recommended, advice.judged = None, False
    assert repr(advice) == f"<Advice for {name}: not judged; print() it for the screen>"


_JOBLIB_TRIAL_IN_THE_CHILD = """
import sys
from concurrency_lab.records.advice_trials import Config
from concurrency_lab.advise.session import Session

session = Session(abs, list(range(40)), is_coroutine=False)
try:
    trial = session.trial(120.0, Config(sys.argv[1], 2), n=40, rounds=2, warmup=1, timeout=60.0,
                          baseline=Config("sequential", 1))
    print(session._process.pid, trial.problem, flush=True)
finally:
    session.close(kill_now=sys.argv[2] == "kill")
"""


@pytest.mark.parametrize("ending", ["stop", "kill"])
def test_a_joblib_trial_leaves_no_memmapping_folder_however_the_child_ends(ending):
    """advise's child is forked and ends with os._exit (stopped) or is killed with its tree, loky's resource
    tracker included (after a trial with a problem, or a hang): no atexit hook runs either way, so the trial's
    close must remove every folder joblib made. Stopped, the tracker used to warn of "leaked folder objects";
    killed, the folders stayed in /dev/shm."""
    from concurrency_lab.core.helper_process import child_env

    names = [n for n in VARIANT_NAMES if variant_class(n).api_family == "joblib"]
    reason = variant_class(names[0]).unavailable_reason() if names else "no variant runs joblib"
    if reason:
        pytest.skip(reason)
    shm = Path("/dev/shm")
    done = subprocess.run([sys.executable, "-c", _JOBLIB_TRIAL_IN_THE_CHILD, names[0], ending], capture_output=True,
                          text=True, env=child_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    child, problem = done.stdout.split(maxsplit=1)
    left = sorted(shm.glob(f"joblib_memmapping_folder_{child}_*")) if shm.is_dir() else []
    for folder in left:  # so that a failure here leaves nothing behind
        shutil.rmtree(folder, ignore_errors=True)
    assert problem.strip() == "None", done.stdout
    assert "leaked folder" not in done.stderr, done.stderr
    assert not left


def test_threads_on_one_core_are_not_named_for_work_cheaper_than_a_hand_off(gil_build):
    """Seen in CI on a quiet machine (tiny_tuple, 200 ns items): thread_pool x2 in two chunks at 1.13x on 1.00
    cores. On a GIL build threads that stayed on one core ran nothing in parallel: the gain is sequential's own
    per-item overhead or noise. Sequential is named, judged, with the reason; not a NOT JUDGED."""
    clock = FakeClock()
    figures = TinyItems(clock, speedups={"threads": [1.13, 1.15, 1.12, 1.14, 1.13], "processes": [0.6, 0.55, 0.62]},
                        cores={"sequential": 1.0, "threads": 1.0, "processes": 1.05}, other_cores=0.02)
    advice = _advise_on(figures, clock)
    screen = render(advice)
    assert advice.bound == "dispatch" and advice.judged, screen
    assert advice.recommended == Config("sequential", 1) and "\nUSE sequential" in screen, screen
    assert any("they used 1.00 cores on a build with a GIL: nothing ran in parallel" in reason
               for reason in advice.reasons), screen


def test_a_gain_whose_rounds_reach_below_sequential_is_not_named():
    """Seen beside a busy loop on one core: 'USE process_pool with 2 workers: expected 1.06x sequential (0.92-1.40x
    over 5 rounds)', named as the simplest within noise of joblib's 1.24x. A median under 1.10x with rounds
    slower than sequential is no clear gain: not judged, with the spread and the load."""
    from concurrency_lab.advise.answer import Pick
    from concurrency_lab.advise.api import why_not_judged
    from concurrency_lab.advise.classify import Classification
    from concurrency_lab.core.traits import Kind

    config = Config("process_pool", 2, 25)
    trial = Trial(config=config, kind="processes", round_seconds=[0.2] * 5, items=16)
    load = "other processes used 0.88 of the 2 CPUs meanwhile, leaving 1.12 (at least 1.4 are needed)"
    unclear = Pick(config, 1.06, 0.92, 1.40, ("joblib x2",), None)
    why = why_not_judged(unclear, Kind.PROCESSES, Classification(None, [], undecided=load), True, trial)
    assert why is not None and why.startswith("process_pool x2, chunks of 25 measured 1.06x sequential (0.92-1.40x "
                                              "over 5 rounds): not clearly faster"), why
    assert load in why and "quieter machine" in why
    clear = Pick(config, 1.85, 0.95, 1.92, (), None)  # one slow round of five: the median is a clear gain
    assert why_not_judged(clear, Kind.PROCESSES, Classification(None, [], undecided=load), True, trial) is None


def test_a_clear_gain_with_one_slow_round_is_still_named(gil_build):
    """The same rule leaves a 1.9x alone when one round of five was slow: its median is a clear gain."""
    clock = FakeClock()
    figures = MachineFigures(clock, speedups={"processes": [1.9, 0.95, 1.92, 1.88, 1.93]},
                             cores={"sequential": 0.98, "processes": 1.9}, other_cores=0.02)
    advice = _advise_on(figures, clock, variants=("sequential", "process_pool"))
    assert advice.judged and advice.recommended == Config("process_pool", 2, advice.recommended.chunksize), \
        render(advice)
