"""Bad arguments get a clear error at the call, never a hang or a traceback from inside multiprocessing."""

from __future__ import annotations

import pytest
from lab_params import make_variant, selected, task_for, variant_params
from lab_tasks import TaskFailed, fail_on_four_last, fail_on_three, fail_unpicklably

from concurrency_lab import variants
from concurrency_lab.variants import get_variant, variant_class
from concurrency_lab.workloads import get_workload
from concurrency_lab.workloads.tiny_tasks import affine


@pytest.mark.parametrize("variant_name", variant_params())
@pytest.mark.parametrize(
    ("workers", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError), (True, TypeError)],
    ids=["zero", "negative", "float", "str", "bool"],
)
def test_bad_workers(variant_name, workers, error):
    with pytest.raises(error, match="workers"):
        make_variant(variant_name, workers=workers)


@pytest.mark.parametrize("variant_name", variant_params())
@pytest.mark.parametrize(("chunksize", "error"), [(0, ValueError), (-3, ValueError), (2.0, TypeError)],
                         ids=["zero", "negative", "float"])
def test_bad_chunksize(variant_name, chunksize, error):
    with pytest.raises(error, match="chunksize"):
        make_variant(variant_name, chunksize=chunksize)
    variant = make_variant(variant_name)
    with pytest.raises(error, match="chunksize"):
        variant.map(task_for(variant, affine), [1, 2], chunksize=chunksize)


@pytest.mark.parametrize("variant_name", variant_params())
@pytest.mark.parametrize("items", [5, None, object()], ids=["int", "None", "object"])
def test_non_iterable_items(variant_name, items):
    variant = make_variant(variant_name, workers=2)
    with pytest.raises(TypeError, match="iterable"):
        variant.map(task_for(variant, affine), items)


@pytest.mark.parametrize("variant_name", variant_params())
def test_a_single_string_is_not_a_list_of_items(variant_name):
    variant = make_variant(variant_name, workers=2)
    with pytest.raises(TypeError, match=r"wrap it: \['http://127.0.0.1/'\]"):
        variant.map(task_for(variant, affine), "http://127.0.0.1/")


@pytest.mark.parametrize("variant_name", variant_params())
def test_task_not_callable(variant_name):
    with pytest.raises(TypeError, match="task must be callable"):
        make_variant(variant_name, workers=2).map(42, [1])


@pytest.mark.parametrize("variant_name", selected(variant_params(processes=True), serializer="pickle"))
def test_unpicklable_task_is_refused_before_any_process_starts(variant_name, monkeypatch):
    variant = make_variant(variant_name, workers=2)
    monkeypatch.setattr(type(variant), "_open", lambda self: pytest.fail("a pool was started"))
    with pytest.raises(TypeError, match="must be picklable"):
        variant.map(lambda x: x, [1, 2])


@pytest.mark.parametrize("variant_name", [p for p in variant_params() if variant_class(p.values[0]).start_methods])
def test_start_method_is_checked(variant_name):
    with pytest.raises(ValueError, match="start method 'bogus' is not available here; choose one of"):
        make_variant(variant_name, start_method="bogus")


@pytest.mark.parametrize("variant_name", [p for p in variant_params() if not variant_class(p.values[0]).start_methods])
def test_variants_without_start_methods_take_none(variant_name):
    with pytest.raises(ValueError, match="takes no start method"):
        make_variant(variant_name, start_method="spawn")


def test_unknown_variant_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown variant 'threads'; available: sequential, threading, "):
        get_variant("threads")
    with pytest.raises(ValueError, match="unknown variant"):
        variant_class("")


def test_unknown_workload_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown workload 'download'; available: downloader, "):
        get_workload("download")


def test_unknown_size_label():
    with pytest.raises(ValueError, match="unknown size 'huge'; choose one of test, smoke, standard, full"):
        get_workload("processor").size("huge")


@pytest.mark.parametrize("variant_name", variant_params())
def test_a_failing_task_is_raised_not_lost(variant_name):
    """The lesson's warning: an exception stored in a future is lost if nobody asks. map asks."""
    variant = make_variant(variant_name, workers=2)
    with pytest.raises(TaskFailed, match="task refused 3"):
        variant.map(task_for(variant, fail_on_three), range(8))


@pytest.mark.parametrize("variant_name", variant_params())
def test_the_first_failure_in_input_order_is_the_one_raised(variant_name):
    variant = make_variant(variant_name, workers=4, chunksize=1)
    with pytest.raises(TaskFailed, match="task refused 4$"):
        variant.map(task_for(variant, fail_on_four_last), [1, 3, 4, 5, 6, 8])


@pytest.mark.parametrize("variant_name", variant_params())
def test_warm_pool_is_reused_and_survives_a_failing_task(variant_name):
    variant = make_variant(variant_name, workers=2)
    with variant:
        assert variant.running
        with pytest.raises(TaskFailed):
            variant.map(task_for(variant, fail_on_three), range(8))
        assert variant.map(task_for(variant, affine), range(10)) == [2 * x + 1 for x in range(10)]
    assert not variant.running


def test_asyncio_refuses_a_blocking_function():
    with pytest.raises(TypeError, match="runs coroutine functions .* use thread_pool for it"):
        get_variant("asyncio").map(affine, [1])


def test_module_level_map():
    assert variants.map(affine, [1, 2, 3], variant="thread_pool", workers=2) == [3, 5, 7]


def test_a_variant_that_cannot_run_here_says_why(monkeypatch):
    from lab_params import variant_params

    from concurrency_lab.variants import VariantUnavailable
    from concurrency_lab.variants.thread_pool import ThreadPool

    class NeedsTomorrow(ThreadPool):
        name = "thread_pool"

        @classmethod
        def unavailable_reason(cls):
            return "needs Python 3.99"

    monkeypatch.setattr(variants, "variant_class", lambda name: NeedsTomorrow)
    with pytest.raises(VariantUnavailable, match="variant 'thread_pool' cannot run here: needs Python 3.99"):
        variants.get_variant("thread_pool")
    monkeypatch.setattr("lab_params.variant_class", lambda name: NeedsTomorrow)
    (param, *_) = variant_params()
    assert [mark.kwargs["reason"] for mark in param.marks] == ["sequential: needs Python 3.99"]


@pytest.mark.parametrize("variant_name", variant_params(processes=True))
def test_a_worker_process_failure_carries_its_remote_traceback(variant_name):
    from concurrency_lab.variants.base import RemoteTraceback

    with pytest.raises(TaskFailed) as failure:
        make_variant(variant_name, workers=2).map(fail_on_three, range(6))
    assert isinstance(failure.value.__cause__, RemoteTraceback)
    assert "fail_on_three" in str(failure.value.__cause__)


@pytest.mark.parametrize("variant_name", variant_params(processes=True))
def test_an_exception_that_cannot_travel_back_is_named_not_a_hang(variant_name):
    from concurrency_lab.variants.base import TaskError

    # Workers that are fresh interpreters: a forked one inherits what this process imported, and
    # distributed (imported here once a dask test ran) installs tblib's pickling of every exception.
    fresh = "spawn" if "spawn" in variant_class(variant_name).start_methods else None
    with pytest.raises(TaskError, match=r"lab_tasks.NeedsTwoArguments: refused \(2\)"):
        make_variant(variant_name, fresh, workers=2).map(fail_unpicklably, range(5))
