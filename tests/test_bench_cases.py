"""The benchmark matrix as data: stable ids and groups, every registered variant, the trap row."""

from __future__ import annotations

import pytest

from concurrency_lab.bench.cases import PROFILES, TRAP_ITEMS, cases
from concurrency_lab.variants import VARIANT_NAMES, variant_class
from concurrency_lab.workloads import WORKLOAD_NAMES, get_workload


@pytest.mark.parametrize("profile", PROFILES.values(), ids=list(PROFILES))
def test_every_runnable_pair_is_benchmarked_with_unique_stable_ids(profile):
    matrix = cases(profile, variants=VARIANT_NAMES, workloads=WORKLOAD_NAMES, usable_cpus=2)
    ids = [case.id for case in matrix]
    assert len(ids) == len(set(ids))
    assert ids == [case.id for case in cases(profile, variants=VARIANT_NAMES, workloads=WORKLOAD_NAMES, usable_cpus=2)]
    for workload in WORKLOAD_NAMES:
        for variant in VARIANT_NAMES:
            runnable = not variant_class(variant).runs_coroutines or get_workload(workload).async_task is not None
            assert any(c.workload == workload and c.variant == variant for c in matrix) == runnable
    assert {case.group for case in matrix} == {f"{w}-{profile.size_label}" for w in WORKLOAD_NAMES}


def test_standard_covers_one_two_and_the_usable_cpus_and_io_beyond():
    matrix = cases(PROFILES["standard"], variants=["process_pool", "thread_pool"], workloads=["processor", "downloader"],
                   usable_cpus=4)
    cpu = {c.workers for c in matrix if c.workload == "processor" and c.mode == "warm"}
    io = {c.workers for c in matrix if c.workload == "downloader" and c.mode == "warm"}
    assert cpu == {1, 2, 4}
    assert max(io) >= 4 * 4 // 2 and 2 in io


def test_cold_pools_under_every_start_method_warm_under_the_default():
    matrix = cases(PROFILES["smoke"], variants=["mp_pool", "sequential"], workloads=["processor"], usable_cpus=2)
    assert {c.start_method for c in matrix if c.mode == "cold"} == {"fork", "forkserver", "spawn"}
    assert {c.start_method for c in matrix if c.mode == "warm"} == {None}
    assert [c.workers for c in matrix if c.variant == "sequential"] == [1]


@pytest.mark.parametrize("variant", [n for n in VARIANT_NAMES if variant_class(n).has_pool()])
def test_cold_rows_use_only_the_start_methods_a_variant_takes(variant):
    cls = variant_class(variant)
    matrix = cases(PROFILES["smoke"], variants=[variant], workloads=["processor"], usable_cpus=2)
    cold = {c.start_method for c in matrix if c.mode == "cold"}
    assert cold == (set(cls.start_methods) if cls.start_methods else {None})
    for case in matrix:  # every row's settings are accepted by the variant
        cls(workers=case.workers, **({"start_method": case.start_method} if case.start_method else {}))


def test_the_chunksize_trap_is_its_own_row():
    matrix = cases(PROFILES["smoke"], variants=["process_pool"], workloads=["tiny_tasks"], usable_cpus=2)
    (trap,) = [c for c in matrix if c.trap]
    assert (trap.chunksize, trap.items, trap.trap) == (1, TRAP_ITEMS, "chunksize=1")
    assert trap.id == "tiny_tasks-smoke-process_pool-w2-warm-trap-chunksize=1"


def test_explicit_worker_counts_replace_the_profiles():
    matrix = cases(PROFILES["smoke"], variants=["thread_pool"], workloads=["hashing"], usable_cpus=2, workers=[3, 1])
    assert sorted({c.workers for c in matrix if c.mode == "warm"}) == [1, 3]


@pytest.mark.parametrize(("workers", "single"), [([8], 8), ([1, 2, 4], 2), ([3, 5], 3)])
def test_given_worker_counts_govern_cold_and_trap_rows_too(workers, single):
    """Rows measured at one count take it from the given counts: the usable CPUs if given, else the fewest."""
    matrix = cases(PROFILES["smoke"], variants=["sequential", "process_pool"], workloads=["tiny_tasks", "processor"],
                   usable_cpus=2, workers=workers)
    assert {c.workers for c in matrix if c.mode == "cold" or c.trap} == {single}
    assert {c.workers for c in matrix if c.variant == "sequential"} == {1}  # the baseline, on purpose
    assert {c.workers for c in matrix if c.mode == "warm" and not c.trap and c.variant != "sequential"} == set(workers)


def test_a_trap_row_comes_from_a_declared_library_default_on_dispatch_bound_work_only():
    traps = [c for c in cases(PROFILES["smoke"], variants=VARIANT_NAMES, workloads=WORKLOAD_NAMES, usable_cpus=2) if c.trap]
    assert {(c.variant, c.chunksize) for c in traps} == {
        (name, variant_class(name).api_default_chunksize) for name in VARIANT_NAMES
        if variant_class(name).api_default_chunksize is not None}
    assert {get_workload(c.workload).bound.value for c in traps} == {"dispatch"}


def test_a_cluster_gets_no_cold_row_on_waiting_work_but_one_on_computing_work():
    from concurrency_lab.core.traits import Kind

    clusters = [n for n in VARIANT_NAMES if variant_class(n).kind is Kind.CLUSTER and variant_class(n).has_pool()]
    if not clusters:
        pytest.skip("no cluster variant is registered")
    matrix = cases(PROFILES["smoke"], variants=clusters, workloads=["downloader", "processor"], usable_cpus=2)
    assert not [c for c in matrix if c.workload == "downloader" and c.mode == "cold"]
    assert {c.variant for c in matrix if c.workload == "processor" and c.mode == "cold"} == set(clusters)
