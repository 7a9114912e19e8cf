"""Issue 16's newcomer figures (tests/data/run_newcomer.json): the Winner follows the lesson's rule (least cost
within noise of the fastest, and says why), and no line contradicts its own p-value or shows a negative cost."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from report_fixtures import processor_with_a_slowed_baseline

from concurrency_lab.core.traits import Kind
from concurrency_lab.numerics.formatting import format_seconds
from concurrency_lab.report import load_results, verdicts
from concurrency_lab.report.choice import choose
from concurrency_lab.report.claims import check_claims
from concurrency_lab.report.facts import group_facts
from concurrency_lab.report.markdown import render_markdown
from concurrency_lab.report.tables import variant_rows

NEWCOMER = Path(__file__).parent / "data" / "run_newcomer.json"


@pytest.fixture(scope="module")
def summary():
    return load_results([NEWCOMER])


@pytest.fixture(scope="module")
def found(summary):
    return verdicts(summary)


def one(found, workload: str, rule: str) -> str:
    (text,) = [v.text for v in found if (v.workload, v.rule) == (workload, rule)]
    return text


def row(summary, workload, variant, workers, mode="warm"):
    (result,) = [r for r in summary.results if (r.workload, r.variant, r.workers, r.mode) == (workload, variant, workers, mode)]
    return result


def test_within_noise_the_least_memory_wins_and_the_line_says_why(summary, found):
    threads, processes = row(summary, "downloader", "threading", 16), row(summary, "downloader", "process_pool", 32)
    assert processes.median_s < threads.median_s and processes.peak_rss_bytes > 20 * threads.peak_rss_bytes
    text = one(found, "downloader", "winner")
    assert text.startswith("`threading` with 16 workers wins on `downloader`: 115 ms (10.9x sequential), 58 MiB; ")
    assert "`process_pool` with 32 workers (warm) was 1.00 ms faster, within noise (0.9%" in text
    assert "at 1.5 GiB: the least memory among results too close to call wins" in text


def test_the_winner_row_is_the_one_set_in_bold(summary):
    facts = next(f for f in group_facts(summary) if f.workload == "downloader")
    bold = [line for line in render_markdown(summary).splitlines() if line.startswith("| **")]
    assert any(line.startswith("| **threading** | 16* |") for line in bold)
    assert not any(line.startswith("| **process_pool**") and "| 32* |" in line for line in bold)
    assert choose(facts).chosen.variant == "threading"


def test_costs_are_read_from_traits_not_names(summary):
    """Renamed variants, same traits and figures: the same choice (nothing keys on "threading")."""
    renamed = dataclasses.replace(summary, results=[
        dataclasses.replace(r, variant=f"v{number}") for number, r in enumerate(summary.results)])
    facts = next(f for f in group_facts(renamed) if f.workload == "downloader")
    chosen = choose(facts).chosen
    assert (chosen.workers, chosen.peak_rss_bytes) == (16, row(summary, "downloader", "threading", 16).peak_rss_bytes)


def test_with_equal_memory_fewer_processes_then_the_simpler_wins(summary):
    facts = next(f for f in group_facts(summary) if f.workload == "downloader")
    threads, processes = row(summary, "downloader", "threading", 16), row(summary, "downloader", "process_pool", 32)
    same_memory = dataclasses.replace(processes, peak_rss_bytes=threads.peak_rss_bytes)
    choice = choose(dataclasses.replace(facts, results=tuple(same_memory if r is processes else r for r in facts.results)))
    assert choice.chosen is threads and choice.decided_by == "processes"


def test_noise_that_could_change_the_choice_gives_not_judged(summary):
    facts = next(f for f in group_facts(summary) if f.workload == "downloader")
    processes = row(summary, "downloader", "process_pool", 32)
    noisy = dataclasses.replace(processes, cv=0.25, noisy=True)
    facts = dataclasses.replace(facts, results=tuple(noisy if r is processes else r for r in facts.results))
    assert not choose(facts).judged
    from concurrency_lab.report.speed_rules import winner
    (verdict,) = winner(facts)
    assert verdict.text.startswith("not judged on `downloader`: `process_pool` with 32 workers (warm) is the fastest")
    assert "CV 25% for `process_pool` with 32 workers (warm)" in verdict.text and "quieter machine" in verdict.text


def test_a_significant_start_up_cost_is_never_called_not_measurable(summary, found):
    cold, warm = row(summary, "processor", "process_pool", 2, "cold"), row(summary, "processor", "process_pool", 2)
    assert cold.median_s - warm.median_s < 0.02 * warm.median_s  # a cost of 1%: within the closeness tolerance
    text = one(found, "processor", "pool_start_cost")
    cost = format_seconds(cold.median_s - warm.median_s)
    assert text.startswith(f"starting `process_pool` with 2 workers on `processor` costs {cost}")
    assert "p<0.001" in text and "no measurable" not in text


def test_no_line_says_no_measurable_beside_a_significant_p(found):
    for v in found:
        for clause in v.text.split("; "):
            if "no measurable" in clause or "not distinguishable" in clause:
                assert not re.search(r"p(<0\.001|=0\.0[0-4])", clause), v.text


def test_a_negative_start_up_cost_is_not_measurable_never_a_negative_figure(summary):
    (check,) = dict(check_claims(summary))[next(c for c, _ in check_claims(summary) if c.key == "processes_cost_more_for_io")]
    cold, warm = row(summary, "downloader", "thread_pool", 8, "cold"), row(summary, "downloader", "thread_pool", 8)
    assert cold.median_s < warm.median_s
    assert "`thread_pool` not measurable (cold 168 ms, warm 170 ms: cold no slower)" in check.numbers
    assert not re.search(r"-\d", check.numbers)
    text = render_markdown(load_results([NEWCOMER]))
    assert not re.search(r"(?<![\w-])-\d+(\.\d+)? ?(ms|s|µs)\b", text)


def test_a_claim_whose_threshold_lies_within_the_noise_is_not_judged(summary):
    def claim(s, key):
        return next(checks[0] for c, checks in check_claims(s) if c.key == key)

    assert claim(summary, "threads_no_cpu_speedup").status == "holds"  # 0.99x, rounds CV 1%
    threads = row(summary, "processor", "thread_pool", 2)
    noisy = dataclasses.replace(summary, results=[dataclasses.replace(r, cv=0.12, noisy=True) if r is threads else r
                                                  for r in summary.results])
    check = claim(noisy, "threads_no_cpu_speedup")
    assert check.status == "not judged"
    assert "rounds spread CV 12%, so anywhere in 0.75x-1.23x, either side of 1.10x" in check.numbers
    assert "quieter machine" in check.numbers
    assert claim(noisy, "processes_suit_cpu").status == "holds"  # its rows were not noisy


def test_threads_are_no_candidate_on_gil_holding_work_with_a_gil(tmp_path):
    """Threads 5% ahead of a slightly slowed sequential: under the 1.10x that makes the baseline suspect, but
    still no answer for GIL-holding Python on a GIL build. Table, Winner and bold row agree: sequential."""
    slowed = processor_with_a_slowed_baseline(tmp_path, 1.06)
    (facts,) = [f for f in group_facts(slowed) if f.workload == "processor"]
    choice = choose(facts)
    assert choice.judged and choice.chosen.variant == "sequential"
    assert choice.barred and all(r.kind is Kind.THREADS for r in choice.barred)
    text = one(verdicts(slowed), "processor", "winner")
    assert text.startswith("`sequential` with 1 worker wins on `processor`") and "threads are no candidate here" in text


def test_a_suspect_baseline_leaves_table_winner_and_bold_row_not_judged(tmp_path):
    """Threads 1.6x ahead on one core: the baseline was slowed; nothing is named anywhere on the page."""
    slowed = processor_with_a_slowed_baseline(tmp_path, 1.6)
    (facts,) = [f for f in group_facts(slowed) if f.workload == "processor"]
    assert not choose(facts).judged
    text = one(verdicts(slowed), "processor", "winner")
    assert text.startswith("not judged on `processor`: `thread") and "cannot come from threads running" in text
    assert not any(table_row.winner for table_row in variant_rows(facts))  # no row in bold


def test_a_start_up_cost_lost_in_noise_decides_nothing(tmp_path):
    """Processes' start-up within noise of nothing, threads' measurable: that is no evidence either way (it was
    counted as zero, so 'processes cost more' did not hold); the memory figure still decides the claim."""
    import json

    document = json.loads(NEWCOMER.read_text())
    warm = {(b["extra_info"]["variant"], b["extra_info"]["workers"]): b["stats"] for b in document["benchmarks"]
            if b["extra_info"]["workload"] == "downloader" and b["extra_info"]["mode"] == "warm"}
    for benchmark in document["benchmarks"]:
        info, stats = benchmark["extra_info"], benchmark["stats"]
        if info["workload"] != "downloader" or info["mode"] != "cold":
            continue
        factor = 1.5 if info["variant"] in ("thread_pool", "threading") else 1.003  # threads: clearly; processes: noise
        base = warm[(info["variant"], info["workers"])]
        for key in ("min", "max", "mean", "median"):
            stats[key] = base[key] * factor
        stats["data"] = [seconds * factor for seconds in base.get("data", [])]
    path = tmp_path / "noisy_start.json"
    path.write_text(json.dumps(document))
    found = load_results([path])
    (check,) = dict(check_claims(found))[next(c for c, _ in check_claims(found) if c.key == "processes_cost_more_for_io")]
    assert "within noise" in check.numbers and "memory" in check.numbers
    assert check.status == "holds", check.numbers


def test_a_gap_the_rounds_separate_is_never_called_within_noise(summary):
    """A 1% gap with p<0.001 is too close to matter, but it is not 'within noise': the words follow the p-value."""
    from concurrency_lab.report.evidence import difference

    base = next(r for r in summary.results if len(r.round_times_s) >= 5)
    spread = [1.0 + n * 0.001 for n in range(len(base.round_times_s))]  # tight rounds, 0.1% apart
    fast = dataclasses.replace(base, round_times_s=tuple(base.median_s * f for f in spread))
    slow = dataclasses.replace(base, median_s=base.median_s * 1.01, round_times_s=tuple(base.median_s * 1.01 * f for f in spread))
    gap = difference(slow, fast)
    assert gap.rounds_differ and gap.closeness == "a real difference but under the re-run spread"
    assert difference(fast, dataclasses.replace(fast)).closeness == "within noise"
