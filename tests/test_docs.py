"""README.md and docs/*.md as a newcomer reads them: every Python snippet runs, every lab command parses.

Snippets run in a fresh interpreter each (a snippet must be self-contained: its own imports, small
inputs, 127.0.0.1 only). Shell lines are never run (a full ``run`` or ``tox`` takes minutes): each
``concurrency-lab ...`` or ``python -m concurrency_lab...`` invocation is parsed by the real parser.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from doc_examples import (
    DOC_FILES,
    ROOT,
    SHELL_LANGUAGES,
    Block,
    blocks,
    help_of,
    lab_commands,
    parse_problem,
    python_blocks,
    shell_commands,
    synopses,
    unknown_options,
)

from concurrency_lab.variants import VARIANT_NAMES, variant_class

SNIPPET_TIMEOUT_S = 120  # advise's snippet has a 2 s budget; the rest take well under a second

SNIPPETS = python_blocks()
COMMANDS = [(block.where, line, argv) for block in blocks() if block.language in SHELL_LANGUAGES
            for line in shell_commands(block) for argv in lab_commands(line)]
LAB_MODULES = ["concurrency_lab.lesson.threaded_downloader", "concurrency_lab.lesson.executor_downloader",
               "concurrency_lab.lesson.parallel_processor", "concurrency_lab.lesson.executor_processor", "concurrency_lab.server"]


def _missing_engine(block: Block) -> str | None:
    """Why a snippet cannot run here: it names a variant whose optional engine is not installed (with the hint)."""
    for name in VARIANT_NAMES:
        if re.search(rf"""["']{name}["']""", block.body):
            reason = variant_class(name).unavailable_reason()
            if reason:
                return f"{name}: {reason}"
    return None


def test_the_docs_have_examples_to_check():
    assert (ROOT / "docs").is_dir() and len(DOC_FILES) > 1
    assert SNIPPETS and COMMANDS


@pytest.mark.parametrize("block", SNIPPETS, ids=[block.where for block in SNIPPETS])
def test_python_snippet_runs(block, tmp_path):
    missing = _missing_engine(block)
    if missing:
        pytest.skip(missing)
    script = tmp_path / "snippet.py"
    script.write_text(block.body, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=SNIPPET_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize(("where", "line", "argv"), COMMANDS,
                         ids=[f"{where}:{' '.join(argv[:3])}" for where, _, argv in COMMANDS])
def test_lab_command_in_a_shell_block_parses(where, line, argv):
    assert parse_problem(argv) is None, f"{where}: `{line}`: {parse_problem(argv)}"


SYNOPSES = list(synopses())


@pytest.mark.parametrize(("where", "synopsis"), SYNOPSES, ids=[where for where, _ in SYNOPSES])
def test_options_named_in_prose_exist(where, synopsis):
    assert not unknown_options(synopsis), f"{where}: `{synopsis}` names options its command lacks: {unknown_options(synopsis)}"


@pytest.mark.parametrize("command", [["concurrency-lab"]]
                         + [["concurrency-lab", name] for name in ("run", "report", "compare", "matrix", "advise",
                                                                   "list", "download", "serve")]
                         + [["python", "-m", module] for module in LAB_MODULES] + [["provision/pythons"]], ids=" ".join)
def test_help_of_each_command_runs(command):
    assert "usage:" in help_of(command)


@pytest.mark.parametrize("line", [
    "concurrency-lab rnu --profile smoke",                  # a misspelled command
    "concurrency-lab run --profil smoke",                   # a misspelled option
    "concurrency-lab run --profile smok",                   # a value the option refuses
    "pip install . && concurrency-lab advise m:f --range 10 --budjet 3",
    "python -m concurrency_lab.threaded_downloadr",         # no such lesson module
    "python -m concurrency_lab.lesson.parallel_processor --tasks 0",
    "provision/pythons --source /tmp/sources",
])
def test_a_misspelled_command_line_is_caught(line):
    (argv,) = lab_commands(line)
    assert parse_problem(argv) is not None


def test_a_misspelled_option_in_prose_is_caught():
    assert unknown_options("concurrency-lab run [--profile smoke|standard] [--no-failure]") == ["--no-failure"]
    assert unknown_options("concurrency-lab download URL... [--variant asyncio] [--deadline 30]") == []


def test_shell_lines_are_split_into_lab_invocations():
    block = Block(ROOT / "README.md", 1, "console", "$ A=1 concurrency-lab list \\\n  --help\noutput\n$ tox -e 3.11\n")
    assert shell_commands(block) == ["A=1 concurrency-lab list --help", "tox -e 3.11"]
    assert lab_commands("python -m pip install . && concurrency-lab run  # 10 minutes") == [["concurrency-lab", "run"]]
    server = ["python3", "-m", "concurrency_lab.server", "--port", "0"]
    assert lab_commands("python3 -m concurrency_lab.server --port 0 &") == [server]


def _anchors(path):
    """GitHub's ids for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.*)$", text, flags=re.MULTILINE)}


def test_every_docs_page_is_linked_from_the_readme_and_every_link_resolves():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in DOC_FILES[1:]:
        assert f"docs/{page.name}" in readme, f"README.md does not link {page.relative_to(ROOT)}"
    for path in DOC_FILES:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", path.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            linked = (path.parent / target) if target else path
            assert linked.exists(), f"{path.relative_to(ROOT)} links {target}, which does not exist"
            assert not anchor or anchor in _anchors(linked), f"{path.relative_to(ROOT)} links {target}#{anchor}: no such heading"


def test_code_is_in_fenced_blocks_the_suite_checks():
    """An indented code block is neither run nor parsed: every example goes in a fence with its language."""
    for path in DOC_FILES:
        text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)
        indented = re.findall(r"\n[ \t]*\n((?: {4}|\t)\S.*)", text)
        assert not indented, f"{path.relative_to(ROOT)} has an indented code block: {indented[0]!r}"
    fences = {block.language for block in blocks()}
    assert fences <= SHELL_LANGUAGES | {"python", "text"}, f"fences the suite does not know: {fences}"


def test_the_readme_shows_the_what_to_use_table_as_the_report_renders_it(tmp_path):
    """The README quotes summary.md's opening table for tests/data/run_newcomer.json: each quoted row is the
    rendered row less its link column, so a change of wording in the report shows up here."""
    from concurrency_lab.report import load_results, verdicts
    from concurrency_lab.report.markdown import render_markdown

    summary = load_results([ROOT / "tests" / "data" / "run_newcomer.json"])
    rendered = {line.rsplit(" | [", 1)[0] + " |" for line in render_markdown(summary, verdicts(summary)).splitlines()
                if line.startswith("| ") and " | [" in line}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = [line for line in readme.splitlines()
              if re.match(r"\| (I/O|CPU, |dispatch overhead)", line)]
    assert quoted, "the README no longer quotes the what-to-use table"
    assert [line for line in quoted if line not in rendered] == []
