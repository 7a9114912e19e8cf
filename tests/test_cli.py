"""The `concurrency-lab` command: help, listing, the matrix, downloads with exit statuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from concurrency_lab.commands.cli import main
from concurrency_lab.commands.download import main as download_main


def test_console_script_and_module_both_explain_themselves():
    script = shutil.which("concurrency-lab", path=str(Path(sys.executable).parent)) or shutil.which("concurrency-lab")
    assert script, "the concurrency-lab console script is not installed"
    for command in ([script, "--help"], [sys.executable, "-m", "concurrency_lab", "--help"]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "matrix" in done.stdout and "download" in done.stdout


def test_help_lists_each_command_once(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("run", "report", "compare", "matrix", "list", "download", "serve"):
        listed = [line for line in out.splitlines() if line.split()[:1] == [name]]
        assert len(listed) == 1, f"{name!r} is listed {len(listed)} times in --help:\n{out}"


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


def test_list_names_every_variant_and_workload(capsys):
    from concurrency_lab.variants import VARIANT_NAMES
    from concurrency_lab.workloads import WORKLOAD_NAMES

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in (*VARIANT_NAMES, *WORKLOAD_NAMES))


def test_matrix_checks_every_result(capsys):
    assert main(["matrix", "--size", "test", "--workloads", "processor,tiny_tasks", "--variants",
                 "sequential,process_pool,asyncio", "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count(" yes") == 4  # two workloads x two variants that can run them
    assert out.count("skipped: variant 'asyncio' runs coroutines") == 2


def test_matrix_says_which_process_variants_did_not_take_the_start_method(capsys):
    from concurrency_lab.variants import VARIANT_NAMES, variant_class

    own_way = [n for n in VARIANT_NAMES if variant_class(n).uses_processes and not variant_class(n).start_methods
               and variant_class(n).unavailable_reason() is None and not variant_class(n).runs_coroutines]
    taking = [n for n in VARIANT_NAMES if "spawn" in variant_class(n).start_methods]
    if not own_way:
        pytest.skip("no installed process variant starts its workers its own way (loky, joblib: an extra)")
    assert main(["matrix", "--size", "test", "--workloads", "tiny_tasks", "--variants", ",".join([*own_way, *taking]),
                 "--workers", "2", "--start-method", "spawn"]) == 0
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.startswith("tiny_tasks ")}
    for name in own_way:
        assert "started its workers its own way" in lines[name] and "not with spawn" in lines[name], lines[name]
    for name in taking:
        assert "own way" not in lines[name], lines[name]


@pytest.mark.parametrize("argv", [["matrix", "--workers", "0"], ["matrix", "--variants", "threads"],
                                  ["matrix", "--size", "huge"]])
def test_matrix_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_download_prints_one_line_per_url_and_fails_when_any_failed(lab_server, capsys):
    urls = [lab_server.url("/bytes/10?seed=1"), lab_server.url("/status/404"), lab_server.url("/bytes/20?seed=2")]
    assert download_main([*urls, "--workers", "2", "--retries", "0"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["ok", "FAIL", "ok"]
    assert lines[3].startswith("3 URLs: 2 ok, 1 failed")


def test_download_json_lines(lab_server, capsys):
    urls = [lab_server.url("/bytes/10?seed=1"), lab_server.url("/bytes/10?seed=1")]
    assert main(["download", *urls, "--json", "--variant", "asyncio"]) == 0
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["url"] for r in records] == urls and all(r["status"] == 200 for r in records)
    assert "2 URLs: 2 ok" in captured.err


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--deadline", "-1"], ["--variant", "nope"],
                                  ["--variant", "thread_pool", "--start-method", "spawn"]])
def test_download_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        download_main(["http://127.0.0.1:9/", *argv])
    assert exit_info.value.code == 2


def test_serve_explains_its_routes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "/barrier/" in out and "127.0.0.1" in out
