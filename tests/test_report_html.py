"""index.html: escaped user data, nothing fetched from the network, one inline SVG per chart."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2")
pytest.importorskip("matplotlib", reason="the HTML report draws its charts with matplotlib")

from concurrency_lab.report import load_results
from concurrency_lab.report.facts import group_facts
from concurrency_lab.report.html import render_html_chunks, with_code_spans

DATA = Path(__file__).parent / "data"
EVIL = "<script>alert(1)</script>"


class TagCollector(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = TagCollector()
    collector.feed(page)
    return collector.tags


@pytest.fixture(scope="module")
def lab_summary():
    return load_results([DATA / "run_py311.json", DATA / "run_py313.json"])


@pytest.fixture(scope="module")
def lab_page(lab_summary):
    return "".join(render_html_chunks(lab_summary))


@pytest.fixture(scope="module")
def hostile_page():
    return "".join(render_html_chunks(load_results([DATA / "run_hostile.json"])))


def test_user_strings_are_escaped(hostile_page):
    assert EVIL not in hostile_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_page  # shown as text, in the table and in the verdicts
    assert "<img" not in hostile_page and "<b>Evil" not in hostile_page and "<i>fork" not in hostile_page
    assert "&lt;b&gt;Evil CPU&lt;/b&gt; &amp;amp; co".replace("&amp;amp;", "&amp;") in hostile_page


def test_no_active_content_at_all(hostile_page):
    tags = tags_of(hostile_page)
    assert not [tag for tag, _ in tags if tag in {"script", "img", "iframe", "object", "embed", "link", "foreignobject"}]
    assert not [(tag, name) for tag, attrs in tags for name in attrs if name.startswith("on")]


def test_code_spans_are_made_after_escaping():
    assert str(with_code_spans("`<b>` & <i>x</i>")) == "<code>&lt;b&gt;</code> &amp; &lt;i&gt;x&lt;/i&gt;"


def test_page_is_self_contained(lab_page):
    for tag, attrs in tags_of(lab_page):
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value), f"<{tag} {name}={value!r}> would fetch from the network"
    assert "<link" not in lab_page and "@import" not in lab_page and "url(http" not in lab_page
    assert "<?xml" not in lab_page and "<!DOCTYPE svg" not in lab_page and "<metadata>" not in lab_page
    external = re.findall(r"https?://[^\s\"'<>]+", lab_page)
    assert set(external) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # xmlns values only


def test_one_svg_per_chart(lab_summary, lab_page):
    groups = {(f.workload, f.size_label, f.size) for f in group_facts(lab_summary)}
    per_core_panels = [f for f in group_facts(lab_summary) if any(r.per_core for r in f.results)]
    assert lab_page.count("<svg") == len(groups) + len(per_core_panels) == 4 + 8
    assert lab_page.count("<figure>") == lab_page.count("<svg")


def test_svg_ids_do_not_collide_between_charts(lab_page):
    referenced = re.findall(r'(?:xlink:href="#|url\(#)([\w-]+)', lab_page)
    defined = re.findall(r'<(?:clipPath|path)[^>]* id="([\w-]+)"', lab_page)
    assert referenced and all(defined.count(name) == 1 for name in set(referenced))


def test_page_carries_tables_and_verdicts(lab_page):
    assert "How each figure was obtained" in lab_page
    assert "threads gain nothing on <code>processor</code> with the GIL" in lab_page
    assert "no GIL on this free-threaded build" in lab_page
    assert '<tr class="winner">' in lab_page
    assert "CPython 3.13.1 free-threaded, GIL disabled" in lab_page
    assert "threads scale on <code>hashing</code>: its work releases the GIL" in lab_page


def test_io_tables_have_an_of_ideal_column_and_traps_sit_in_their_workloads_table(lab_summary, lab_page):
    assert lab_page.count('<th class="num">of ideal</th>') == 2  # the downloader of each run
    downloader_rows = sum(1 for r in lab_summary.results if r.workload == "downloader")
    assert lab_page.count('<td class="num of-ideal">') == downloader_rows == 11 + 9
    sections = lab_page.split('<section class="workload"')
    (tiny,) = [part for part in sections if "<code>tiny_tasks</code> <span" in part]
    assert tiny.count('<tr class="trap">') == 2  # one per run, in the same section as the chunked rows
    assert "process_pool (trap: chunksize=1, 2000 items)" in tiny
