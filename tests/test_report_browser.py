"""index.html as a reader sees it: loaded in a real headless Chromium, it logs no console error, asks
for nothing outside the file, and shows the claims table and every workload's charts on screen.

The full-page screenshot is saved beside the report as index.png for a reviewer, and copied into
``$CONCURRENCY_LAB_SCREENSHOT_DIR`` when that is set. Skipped, saying what to install, without
Chromium, chromedriver or Selenium (see tests/support/browser.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2")
pytest.importorskip("matplotlib", reason="the HTML report draws its charts with matplotlib")

import browser
from PIL import Image  # matplotlib's own dependency

from concurrency_lab.core.atomic_files import REPORT_MODE
from concurrency_lab.report import load_results, write_reports
from concurrency_lab.report.claims import section_anchor
from concurrency_lab.report.facts import group_facts

DATA = Path(__file__).parent / "data"
SCREENSHOT_DIR_VARIABLE = "CONCURRENCY_LAB_SCREENSHOT_DIR"
#: A box "shows something" when some pixel in it is darker than this (0 black, 255 white): text, lines
#: and bars are; the page's white and the charts' white backgrounds are not.
INK_BELOW = 200


@dataclass(frozen=True)
class Seen:
    """One element of the rendered page: displayed by the browser (CSS), its box in CSS pixels from the
    page's top left, and the darkest pixel the screenshot has inside that box."""

    name: str
    displayed: bool
    x: float
    y: float
    width: float
    height: float
    darkest: int

    def problems(self, window_width: int) -> list[str]:
        """Why a reader would not see it, if they would not."""
        found = []
        if not self.displayed:
            found.append("not displayed")
        if self.width <= 0 or self.height <= 0:
            found.append(f"{self.width:g} x {self.height:g} px")
        if self.x < 0 or self.x + self.width > window_width:
            found.append(f"spans x {self.x:g}-{self.x + self.width:g} px, outside the {window_width} px window")
        if self.darkest >= INK_BELOW:
            found.append("blank in the screenshot")
        return [f"{self.name}: {problem}" for problem in found]


@dataclass(frozen=True)
class RenderedReport:
    """What the browser did with index.html, read once, with the browser gone afterwards."""

    file: Path
    url: str
    ready_state: str
    title: str
    console: list[dict[str, Any]]
    requested: list[str]  # DevTools network events: every request the page made, fetched or not
    resources: list[str]  # the page's Resource Timing entries: what it fetched
    window_width: int  # CSS pixels, less the scroll bar
    page_width: int  # the whole page's, in CSS pixels: wider than the window means a horizontal scroll bar
    height: int  # the whole page's, in CSS pixels
    claims: list[Seen]  # the heading, the table, each of its rows
    guide: list[Seen]  # the "what to use for what" heading and tables, which open the report
    failures: list[Seen]  # each run's failure-modes table (it must fit the page's width)
    charts: dict[str, list[Seen]]  # a workload section's id: its charts, in page order
    screenshot: Path


def read_as_a_reader(driver: Any, page: Path) -> RenderedReport:
    from selenium.webdriver.common.by import By

    browser.leave_the_start_page(driver)
    driver.get(page.as_uri())
    console = browser.console_entries(driver)
    requested = browser.requested_urls(driver)
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(entry => entry.name)")
    window_width, page_width, height = driver.execute_script(
        "const root = document.documentElement; return [root.clientWidth, root.scrollWidth, root.scrollHeight]")
    screenshot = page.with_name("index.png")
    screenshot.write_bytes(browser.full_page_png(driver))
    with Image.open(screenshot) as image:
        gray = image.convert("L")

    def seen(element: Any, name: str) -> Seen:
        box = element.rect
        crop = gray.crop((round(box["x"]), round(box["y"]), round(box["x"] + box["width"]),
                          round(box["y"] + box["height"])))
        return Seen(name, element.is_displayed(), box["x"], box["y"], box["width"], box["height"],
                    crop.getextrema()[0] if crop.width and crop.height else 255)

    heading = driver.find_element(By.CSS_SELECTOR, "h2#claims")
    table = driver.find_element(By.CSS_SELECTOR, "table.claims")
    rows = table.find_elements(By.CSS_SELECTOR, "tr")
    claims = [seen(heading, "the claims heading"), seen(table, "the claims table"),
              *(seen(row, f"claims table row {number}") for number, row in enumerate(rows))]
    guide = [seen(driver.find_element(By.CSS_SELECTOR, "h2#guide"), "the guide heading"),
             *(seen(t, f"guide table {n}") for n, t in enumerate(driver.find_elements(By.CSS_SELECTOR, "table.guide")))]
    failures = [seen(t, f"failure-modes table {n}")
                for n, t in enumerate(driver.find_elements(By.CSS_SELECTOR, "section.failures table"))]
    charts = {}
    for section in driver.find_elements(By.CSS_SELECTOR, "section.workload"):
        anchor = section.get_attribute("id")
        charts[anchor] = [seen(svg, f"{anchor}, chart {number + 1}")
                          for number, svg in enumerate(section.find_elements(By.CSS_SELECTOR, "figure svg"))]
    return RenderedReport(page, driver.current_url, driver.execute_script("return document.readyState"),
                          driver.title, console, requested, resources, window_width, page_width, height, claims, guide,
                          failures, charts, screenshot)


def copy_for_a_reviewer(screenshot: Path) -> None:
    folder = os.environ.get(SCREENSHOT_DIR_VARIABLE)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: under xdist another worker may be writing the same file.
    descriptor, partial = tempfile.mkstemp(dir=folder, prefix=f".{screenshot.name}.")
    os.close(descriptor)
    shutil.copyfile(screenshot, partial)
    os.chmod(partial, REPORT_MODE)
    os.replace(partial, Path(folder) / screenshot.name)


def load_problems(rendered: RenderedReport) -> list[str]:
    problems = [] if (rendered.ready_state, rendered.title) == ("complete", "Concurrency lab report") else [
        f"not loaded: document.readyState {rendered.ready_state!r}, title {rendered.title!r}"]
    return problems + [f"console error: {entry['source']}: {entry['message']}"
                       for entry in rendered.console if entry["level"] == "SEVERE"]


def requests_leaving_the_file(rendered: RenderedReport) -> list[str]:
    problems = [] if rendered.url in rendered.requested else [
        f"the network log lacks the page itself ({rendered.url}): it was not read"]
    return problems + [f"the page asked for {url}" for url in dict.fromkeys(rendered.requested + rendered.resources)
                       if url.split("#")[0] != rendered.url and not url.startswith("data:")]


def off_screen(rendered: RenderedReport, expected_sections: set[str]) -> list[str]:
    problems = [] if len(rendered.claims) > 3 else ["the claims table has no claim row"]  # heading, table, header
    if set(rendered.charts) != expected_sections:
        problems.append(f"workload sections {sorted(rendered.charts)}, expected {sorted(expected_sections)}")
    problems += [f"{anchor}: no chart" for anchor, charts in rendered.charts.items() if not charts]
    if len(rendered.guide) < 2:
        problems.append("the report does not open with a what-to-use table")
    elif rendered.guide[0].y > rendered.claims[0].y:
        problems.append("the what-to-use table comes after the claims: the answer must come first")
    if not rendered.failures:
        problems.append("no failure-modes table")
    if rendered.page_width > rendered.window_width:
        problems.append(f"the page is {rendered.page_width} px wide in a {rendered.window_width} px window: "
                        "something runs off it (a horizontal scroll bar)")
    every_chart = (chart for charts in rendered.charts.values() for chart in charts)
    everything = [*rendered.guide, *rendered.claims, *rendered.failures, *every_chart]
    return problems + [problem for item in everything for problem in item.problems(rendered.window_width)]


def screenshot_problems(rendered: RenderedReport) -> list[str]:
    with Image.open(rendered.screenshot) as image:
        size = image.size
    page_size = (rendered.window_width, rendered.height)
    return [] if size == page_size else [f"the screenshot is {size}, not the whole page {page_size}"]


def test_the_report_as_a_reader_sees_it(tmp_path):
    browser.chromium_or_skip()  # before the report is built
    with_failures = json.loads((DATA / "run_py311.json").read_text())
    with_failures["lab_failures"] = json.loads((DATA / "lab_failures.json").read_text())
    for benchmark in with_failures["benchmarks"]:  # every row marked noisy: its widest form ("55.8% noisy")
        data = benchmark["stats"].get("data") or []
        benchmark["stats"]["data"] = [seconds * (1.8 if number % 2 else 1) for number, seconds in enumerate(data)]
    (tmp_path / "run_py311.json").write_text(json.dumps(with_failures))
    summary = load_results([tmp_path / "run_py311.json", DATA / "run_py313.json"])
    write_reports(summary, tmp_path)
    with browser.headless_chromium(tmp_path / "chromium-profile") as driver:
        rendered = read_as_a_reader(driver, tmp_path / "index.html")
    copy_for_a_reviewer(rendered.screenshot)
    expected_sections = {section_anchor(facts.workload, facts.size_label) for facts in group_facts(summary)}
    problems = [*load_problems(rendered), *requests_leaving_the_file(rendered),
                *off_screen(rendered, expected_sections), *screenshot_problems(rendered)]
    assert not problems, f"{rendered.file} in Chromium (screenshot: {rendered.screenshot}):\n" + "\n".join(problems)
