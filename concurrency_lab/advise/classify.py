"""What bounds the function, from the measurements (never from its name or a guess): waiting or computing
from sequential's cores used, GIL-holding or not from threads' cores used, and work cheaper than a
hand-off from the time per item against the measured hand-off cost. It follows the build's GIL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core.traits import Bound, Kind
from ..numerics.formatting import format_seconds as _time
from ..records.advice_trials import Trial

#: Sequential's cores used below this: it waits far more than it computes. Low, because a computing function
#: on a loaded machine gets less than a core (0.5 was measured with other tests running on both cores), while
#: sleeps and socket reads measure 0.00-0.05.
WAITING_CORES = 0.25
#: Threads at W workers (W >= 2 usable CPUs) using at least 1 + 0.5 x (W - 1) times sequential's cores release
#: the GIL: 1.5x at 2 workers, halfway between holding it (1.0x) and not (2.0x). A ratio to sequential's own
#: figure, so that other load on the machine, which lowers both, does not decide it.
RELEASES_SHARE = 0.5
#: Threads are judged against the cores the machine left free (its usable CPUs less what other processes
#: used meanwhile); with fewer free than this, holding the GIL and releasing it cannot be told apart.
MIN_FREE_CORES = 1.4


def releases_gil(threads: Trial, baseline: Trial) -> bool:
    """Whether a thread trial used the cores releasing the GIL gives at its workers (RELEASES_SHARE of each worker
    past the first, against sequential's own cores): below that, its threads took turns on one core."""
    threshold = 1 + RELEASES_SHARE * (threads.config.workers - 1)
    return (threads.median_cores or 0.0) >= threshold * (baseline.median_cores or 0.0)


@dataclass
class Classification:
    bound: Bound | None
    reasons: list[str] = field(default_factory=list)
    #: When other load left too few free cores to tell GIL use: the figure, for a "not judged" answer.
    undecided: str | None = None


def too_loaded(other_cores: float | None, usable_cpus: int, workers: int | None = None) -> str | None:
    """Why other load leaves parallel work unjudged, with the figure, or None: fewer than MIN_FREE_CORES left
    free (of `workers`, when given), or the load not measured at all (unknown is not idle). None with one
    usable CPU, where nothing runs in parallel on any machine."""
    if usable_cpus < 2:
        return None
    if other_cores is None:
        return ("other processes' load was not measured (rounds too short for the OS's CPU ticks, or no figure "
                f"from the OS), so whether {MIN_FREE_CORES:g} cores were free is not known")
    free = usable_cpus - other_cores if workers is None else min(workers, usable_cpus - other_cores)
    if free >= MIN_FREE_CORES:
        return None
    return (f"other processes used {other_cores:.2f} of the {usable_cpus} CPUs meanwhile, leaving {free:.2f} "
            f"(at least {MIN_FREE_CORES:g} are needed)")


def _hand_off_of(subject: str, hand_off_s: dict[str, float]) -> float | None:
    """The measured hand-off of the kind the lesson calls `subject` ("threads", "processes"), if one was."""
    return next((hand_off_s[k.value] for k in Kind.about(subject) if k.value in hand_off_s), None)


def classify(baseline: Trial, trials: Sequence[Trial], *, per_item_s: float, hand_off_s: dict[str, float],
             usable_cpus: int, gil_enabled: bool, other_cores: float | None = 0.0) -> Classification:
    """The bound, with the sentences that justify it from the figures. `other_cores` None: the other processes'
    load was not measured, and is then taken as possibly too high, never as idle. `undecided` is set whenever
    that load leaves parallel work unjudged, except for work cheaper than a hand-off (sequential is right for
    it on any machine)."""
    cores, wall = baseline.median_cores or 0.0, baseline.median_seconds or 0.0
    reasons = [f"sequential takes {_time(per_item_s)} per item and uses {cores:.2f} cores "
               f"({_time(wall)} for {baseline.items} items)"]
    if cores < WAITING_CORES:
        reasons.append("it waits (I/O, sleep, a lock) far more than it computes: overlapping the waits pays, "
                       "and more workers than CPUs help")
        return Classification(Bound.IO_WAIT, reasons, undecided=too_loaded(other_cores, usable_cpus))
    process_s, thread_s = _hand_off_of("processes", hand_off_s), _hand_off_of("threads", hand_off_s)
    if process_s is not None and per_item_s < process_s:
        thread_text = f", to a thread {_time(thread_s)}" if thread_s is not None else ""
        reasons.append(f"an item takes {_time(per_item_s)}, less than handing it to a worker process "
                       f"({_time(process_s)} measured{thread_text}): the work is cheaper than a hand-off, so only "
                       "large chunks can pay")
        return Classification(Bound.DISPATCH, reasons)
    threads = [t for t in trials if t.ok and t.kind in Kind.about("threads") and t.config.workers >= 2
               and t.config.chunksize is None]
    if usable_cpus < 2 or not threads:
        reasons.append("it computes; " + ("with one usable CPU nothing can run in parallel" if usable_cpus < 2
                                         else "no thread variant was measured, so GIL use is not known"))
        return Classification(None, reasons, undecided=too_loaded(other_cores, usable_cpus))
    top = max(threads, key=lambda t: t.median_cores or 0.0)
    used = top.median_cores or 0.0
    build = "this build has a GIL" if gil_enabled else "this free-threaded build runs without a GIL"
    figures = f"threads use {used:.2f} cores at {top.config.workers} workers, {used / max(cores, 1e-9):.2f}x sequential's"
    load = too_loaded(other_cores, usable_cpus, top.config.workers)
    if load is not None or other_cores is None:
        reasons.append(f"{figures}; {load}: " + ("too few to tell whether threads run it in parallel (run again on a "
                                                 "quieter machine)" if other_cores is not None else
                                                 "whether threads run it in parallel cannot be told"))
        return Classification(None, reasons, undecided=load)
    free = min(top.config.workers, usable_cpus - other_cores)
    threshold = 1 + RELEASES_SHARE * (free - 1)
    if other_cores >= 0.05:
        figures += f", with {free:.2f} cores left free by other processes"
    if used >= threshold * cores:
        what = ("the function releases the GIL (C code such as hashlib or zlib)" if gil_enabled else
                "threads run its Python in parallel")
        reasons.append(f"{figures} ({build}): {what}")
        return Classification(Bound.CPU_RELEASES_GIL, reasons)
    why = ("this function holds the GIL" if gil_enabled else
           "something serializes the threads (a lock, or the GIL turned back on by an import)")
    reasons.append(f"{figures} ({build}): {why}")
    return Classification(Bound.CPU_HOLDS_GIL, reasons)
