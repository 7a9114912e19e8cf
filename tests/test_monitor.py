"""The resource monitor: the pure tree walk and reading data, then the sampler process on real process trees."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from concurrency_lab.measure import PER_CORE_SCOPE, Reading, ResourceMonitor, TreeSample
from concurrency_lab.measure.psutil_reads import TreeReader, read_tree
from concurrency_lab.measure.reading import PeakTracker, monitor_overhead, select_cpus
from concurrency_lab.measure.sampler import handle, serve
from concurrency_lab.measure.tree import FORKSERVER, RESOURCE_TRACKER, WORK, measured_pids, role_of

TIMEOUT = 30.0  # only proves nothing hung; every wait below is normally milliseconds
INTERVAL = 0.05  # short, so that even brief tests get periodic samples as well as the final one
FORKSERVER_CMD = ["python", "-c", "from multiprocessing.forkserver import main; main(3, 4, ['__main__'])"]
TRACKER_CMD = ["python", "-c", "from multiprocessing.resource_tracker import main;main(5)"]
LOKY_TRACKERS = [["python", "-B", "-c", f"from {package}.backend.resource_tracker import main; main(3, False)"]
                 for package in ("loky", "joblib.externals.loky")]


# --- the tree walk (pure) ---------------------------------------------------------------------

def test_roles_come_from_multiprocessing_command_lines():
    assert role_of(FORKSERVER_CMD) == FORKSERVER
    assert role_of(TRACKER_CMD) == RESOURCE_TRACKER
    assert all(role_of(command) == RESOURCE_TRACKER for command in LOKY_TRACKERS)
    assert role_of(["python", "-m", "pytest"]) == WORK
    assert role_of([]) == WORK


def test_walk_counts_forkserver_workers_but_not_the_helpers():
    # 1 root; 2 sampler; 3 forkserver -> 31, 32 workers (forked, so same command line); 4 tracker; 5 worker -> 51
    parents = {1: 0, 2: 1, 3: 1, 31: 3, 32: 3, 4: 1, 5: 1, 51: 5}
    cmdlines = {3: FORKSERVER_CMD, 31: FORKSERVER_CMD, 32: FORKSERVER_CMD, 4: TRACKER_CMD}
    assert measured_pids(1, parents, cmdlines, skip={2}) == [1, 5, 31, 32, 51]


def test_walk_leaves_out_skipped_subtrees_and_strangers():
    parents = {1: 0, 7: 1, 71: 7, 8: 1, 99: 0, 991: 99}  # 99 and 991 are another tenant's
    assert measured_pids(1, parents, {}, skip={7}) == [1, 8]


def test_root_counts_even_with_a_forkserver_command_line():
    assert measured_pids(1, {1: 0, 2: 1}, {1: FORKSERVER_CMD}) == [1, 2]


# --- readings (pure) --------------------------------------------------------------------------

def _sample(t: float, rss: int, uss: int | None, threads: int, pids: tuple[int, ...]) -> TreeSample:
    return TreeSample(t, rss, uss, threads, len(pids), pids)


def test_peaks_are_maxima_and_uss_stays_none_until_read():
    peaks = PeakTracker()
    peaks.add(_sample(0.1, 100, None, 3, (1,)))
    assert peaks.uss_bytes is None
    peaks.add(_sample(0.2, 300, 50, 9, (1, 2, 3)))
    peaks.add(_sample(0.3, 200, 80, 4, (1, 2)))
    assert (peaks.samples, peaks.rss_bytes, peaks.uss_bytes, peaks.threads, peaks.processes) == (3, 300, 80, 9, 3)


def _reading(**changes) -> Reading:
    fields = dict(
        interval_s=0.1, uss_every_s=1.0, wall_seconds=0.4, samples=3, cpu_ids=(0, 2),
        per_core=((0.1, (50.0, 100.0)), (0.4, (100.0, 0.0))), peak_rss_bytes=300, peak_uss_bytes=80,
        peak_threads=9, peak_processes=3, sampler_cpu_seconds=0.008, final=_sample(0.4, 200, 80, 4, (1, 2)),
        root_pid=1, sampler_pid=2, excluded_pids=(7,),
    )
    return Reading(**{**fields, **changes})


def test_reading_to_dict_is_plain_json_and_round_trips():
    reading = _reading()
    data = json.loads(json.dumps(reading.to_dict()))
    assert data["per_core_scope"] == PER_CORE_SCOPE == "system-wide"
    assert data["per_core"] == [[0.1, [50.0, 100.0]], [0.4, [100.0, 0.0]]]
    assert data["final"]["pids"] == [1, 2]
    assert data["sampler_overhead"] == pytest.approx(0.008 / (0.4 * 2))
    assert Reading.from_dict(data) == reading


@pytest.mark.parametrize(("sampler", "wall", "cpus"), [(None, 1.0, 2), (0.01, None, 2), (0.01, 0.0, 2), (0.01, 1.0, 0),
                                                      (0.01, 1.0, None), (0.01, -1.0, 2)])
def test_monitor_overhead_is_none_without_a_capacity_to_compare_with(sampler, wall, cpus):
    assert monitor_overhead(sampler, wall, cpus) is None


def test_monitor_overhead_is_sampler_cpu_over_wall_times_cpus():
    assert monitor_overhead(0.008, 0.4, 2) == pytest.approx(0.01)
    assert monitor_overhead(0.0, 0.4, 2) == 0.0
    assert _reading(wall_seconds=0.0).sampler_overhead is None


def test_mean_per_core_weights_each_entry_by_the_time_it_covers():
    assert _reading().mean_per_core() == pytest.approx([(50 * 0.1 + 100 * 0.3) / 0.4, 100 * 0.1 / 0.4])
    assert _reading(per_core=()).mean_per_core() == []


def test_select_cpus_picks_ids_and_reads_missing_ones_as_zero():
    assert select_cpus([10.0, 20.0, 30.0], [0, 2, 5]) == (10.0, 30.0, 0.0)


# --- the sampler's command loop, without a process ----------------------------------------------

def test_serve_answers_every_command_and_reports_errors():
    commands = io.BytesIO(b"\n".join([
        json.dumps({"cmd": "begin", "root": os.getpid(), "interval": 60}).encode(),
        b'{"cmd": "end"}',
        b'{"cmd": "bogus"}',
        b'{"cmd": "end"}',
        b"not json",
        b"",
    ]))
    replies = io.StringIO()
    serve(commands, replies)
    ready, begun, ended, bogus, end, garbage = (json.loads(line) for line in replies.getvalue().splitlines())
    assert ready == {"ready": True, "pid": os.getpid()}
    assert begun["ok"] and os.getpid() in ended["final"]["pids"] and ended["samples"] == 1
    assert "unknown command 'bogus'" in bogus["error"]
    assert "no section is open" in end["error"]
    assert "JSONDecodeError" in garbage["error"]


def test_a_second_begin_is_refused():
    reader = TreeReader()
    _, section = handle({"cmd": "begin", "root": os.getpid(), "interval": 0.1}, None, reader)
    with pytest.raises(ValueError, match="already open"):
        handle({"cmd": "begin", "root": os.getpid(), "interval": 0.1}, section, reader)


def test_a_vanished_root_reads_as_an_empty_tree():
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait(TIMEOUT)  # reaped: the pid names nothing now
    sample = read_tree(child.pid, with_uss=True)
    assert (sample.processes, sample.pids, sample.rss_bytes) == (0, (), 0)


# --- the sampler process --------------------------------------------------------------------

@pytest.fixture(scope="module")
def monitor() -> Iterator[ResourceMonitor]:
    with ResourceMonitor(interval=INTERVAL) as started:
        yield started


def _python(code: str, **options) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], text=True, **options)


def _tree_now(monitor: ResourceMonitor, exclude_pids=()) -> TreeSample:
    """The tree as the sampler sees it now: the final sample of an empty section."""
    with monitor.measure(exclude_pids) as section:
        return section.final().final


def test_sampler_is_a_process_of_its_own_and_not_measured(monitor):
    assert monitor.pid is not None and monitor.pid != os.getpid()
    assert psutil.Process(monitor.pid).ppid() == os.getpid()
    sample = _tree_now(monitor)
    assert os.getpid() in sample.pids and monitor.pid not in sample.pids
    assert sample.processes == len(sample.pids) and sample.rss_bytes > 0 and sample.uss_bytes > 0


def test_a_cpu_burning_child_is_counted(monitor):
    burn = ("import sys, time\n"
            "end = time.perf_counter() + 0.5\n"
            "while time.perf_counter() < end: pass\n"
            "print('done', flush=True)\n"
            "sys.stdin.read()")
    with monitor.measure() as section:
        child = _python(burn, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            assert child.stdout.readline() == "done\n"  # it burned its 0.5 s and now waits for us
            reading = section.final()
        finally:
            child.communicate(timeout=TIMEOUT)
    assert child.pid in reading.final.pids and os.getpid() in reading.final.pids
    assert reading.peak_processes >= 2 and reading.peak_rss_bytes > 0 and reading.peak_threads >= 2
    assert reading.peak_uss_bytes is not None and reading.peak_uss_bytes > 0
    assert reading.samples >= 1 and reading.per_core, "0.5 s is more than a sampling interval"
    if hasattr(os, "sched_getaffinity"):
        assert reading.cpu_ids == tuple(sorted(os.sched_getaffinity(0)))
    assert all(len(percents) == len(reading.cpu_ids) for _, percents in reading.per_core)
    assert all(0.0 <= p <= 100.0 for _, percents in reading.per_core for p in percents)
    assert [t for t, _ in reading.per_core] == sorted(t for t, _ in reading.per_core)
    assert isinstance(reading.sampler_cpu_seconds, float) and reading.sampler_cpu_seconds >= 0.0
    assert section.final() is reading  # after the block too


def test_excluded_pids_and_their_children_are_not_counted(monitor):
    # The excluded process starts a child of its own: that one must be left out too.
    grandchild_code = "import sys; print(1, flush=True); sys.stdin.read()"
    parent = _python(f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {grandchild_code!r}])",
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert parent.stdout.readline() == "1\n"  # the grandchild is up
        (grandchild,) = psutil.Process(parent.pid).children()
        everything = _tree_now(monitor)
        with monitor.measure(exclude_pids=[parent.pid]) as section:
            reading = section.final()
    finally:
        parent.communicate(timeout=TIMEOUT)
    assert {parent.pid, grandchild.pid} <= set(everything.pids)
    assert not {parent.pid, grandchild.pid} & set(reading.final.pids)
    assert reading.excluded_pids == (parent.pid,)
    assert reading.final.processes == len(reading.final.pids)


def test_zombies_and_vanishing_children_do_not_crash_the_sampler(monitor):
    zombie = _python("")
    deadline = time.monotonic() + TIMEOUT
    while psutil.Process(zombie.pid).status() != psutil.STATUS_ZOMBIE:  # exited; we have not reaped it
        assert time.monotonic() < deadline, "a child running `pass` did not exit"
        time.sleep(0.01)
    try:
        assert zombie.pid not in _tree_now(monitor).pids
    finally:
        zombie.wait(TIMEOUT)
    with monitor.measure() as section:
        for _ in range(10):  # children that come and go between and during samples
            _python("").wait(TIMEOUT)
    assert section.final().samples >= 1 and os.getpid() in section.final().final.pids
    assert _tree_now(monitor).processes >= 1, "the sampler still answers"


def test_a_section_shorter_than_an_interval_still_has_its_final_sample(monitor):
    with monitor.measure() as section:
        time.sleep(0.005)
    reading = section.final()  # the one leaving the block took
    assert reading.samples >= 1 and reading.final.processes >= 1 and os.getpid() in reading.final.pids
    assert reading.final.uss_bytes is not None and reading.peak_uss_bytes is not None
    assert reading.wall_seconds > 0 and reading.interval_s == INTERVAL


@pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                    reason="no forkserver start method on this platform")
def test_forkserver_workers_are_counted_and_the_helpers_are_not(monitor):
    pool = multiprocessing.get_context("forkserver").Pool(2)  # starts both workers before returning
    try:
        workers = {process.pid for process in pool._pool}  # Pool has no public list of its workers
        with monitor.measure() as section:
            assert pool.apply_async(os.getpid).get(TIMEOUT) in workers
            reading = section.final()  # while the pool is alive
        forkservers = {psutil.Process(pid).ppid() for pid in workers}
    finally:
        pool.terminate()
        pool.join()
    assert os.getpid() not in forkservers, "forkserver workers are not our children"
    assert workers <= set(reading.final.pids)
    assert forkservers.isdisjoint(reading.final.pids)
    trackers = {p.pid for p in psutil.Process().children() if role_of(p.cmdline()) == RESOURCE_TRACKER}
    assert trackers.isdisjoint(reading.final.pids)
    assert reading.peak_processes >= 3


def test_sections_do_not_nest(monitor):
    with monitor.measure():
        with pytest.raises(RuntimeError, match="cannot nest"):
            with monitor.measure():
                pass


def test_final_ends_the_section_before_the_block_does(monitor):
    with monitor.measure() as first:
        reading = first.final()
        with monitor.measure() as second:  # no longer nested: the first one has ended
            pass
    assert first.final() is reading and second.final() is not reading


def test_a_monitor_must_be_started_and_stops_its_sampler():
    monitor = ResourceMonitor()
    with pytest.raises(RuntimeError, match="start"):
        with monitor.measure():
            pass
    monitor.start()
    pid = monitor.pid
    monitor.close()
    assert monitor.pid is None and not psutil.pid_exists(pid)
    monitor.close()  # idempotent


@pytest.mark.parametrize("interval", [0, -1, "0.1", True])
def test_interval_must_be_positive_seconds(interval):
    with pytest.raises(ValueError, match="interval"):
        ResourceMonitor(interval)
