"""A real browser for the tests that look at a page as its reader does: Debian's headless Chromium,
driven by Selenium through Debian's chromedriver, kept offline, and gone (every process) when done.

    with headless_chromium(profile_dir) as driver:
        leave_the_start_page(driver)
        driver.get(page.as_uri())
        console_entries(driver), requested_urls(driver), full_page_png(driver)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest

#: Debian's packages `chromium` and `chromium-driver` (`.ci/run` installs them).
BROWSER, DRIVER = "chromium", "chromedriver"
INSTALL_HINT = "apt-get install chromium chromium-driver"
#: A laptop's window: the layout is checked at a width a reader has.
WINDOW_SIZE = (1280, 900)
#: What keeps Chromium from reaching out: no updater, sync, field-trial or safe-browsing fetches, no
#: first-run tasks, no QUIC (on this machine the background fetches are refused many at a time). Even so,
#: Chromium 156 looks up accounts.google.com, clients2.google.com and its search engine at start (seen
#: with strace): every host name but localhost resolves to nothing inside the browser, so none is sent.
OFFLINE_SWITCHES = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
)
#: Headless, no GPU, and one screen pixel per CSS pixel, so an element's rect indexes the screenshot.
DISPLAY_SWITCHES = ("--headless=new", "--disable-gpu", "--force-device-scale-factor=1")
#: How long the browser's processes get to exit after `quit()` before they are killed (and the test fails):
#: they are usually gone within 0.2 s.
QUIT_GRACE_SECONDS = 10.0
#: Should Selenium Manager ever run (it must not: both paths are given), it stays offline and sends no statistics.
SELENIUM_MANAGER_ENV = {"SE_OFFLINE": "true", "SE_AVOID_STATS": "true"}


def chromium_or_skip() -> tuple[str, str]:
    """The paths of the browser and its driver; the test is skipped, saying what to install, without them."""
    pytest.importorskip("selenium", minversion="4.10",
                        reason="needs Selenium: pip install -e '.[test]' (the test extra)")
    browser, driver = shutil.which(BROWSER), shutil.which(DRIVER)
    missing = [name for name, path in ((BROWSER, browser), (DRIVER, driver)) if path is None]
    if missing:
        pytest.skip(f"no {' and no '.join(missing)} on PATH: {INSTALL_HINT} (as root; .ci/run does it)")
    return browser, driver


def chromium_options(browser: str, profile_dir: Path) -> Any:
    from selenium.webdriver import ChromeOptions

    options = ChromeOptions()
    options.binary_location = browser
    for switch in (*DISPLAY_SWITCHES, *OFFLINE_SWITCHES, f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
                   f"--user-data-dir={profile_dir}"):
        options.add_argument(switch)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to start as root
    # The console ("browser") and the DevTools network events ("performance"), read with driver.get_log().
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return options


@contextmanager
def headless_chromium(profile_dir: Path) -> Iterator[Any]:
    """A Selenium driver of a fresh headless Chromium (its profile in `profile_dir`, which must be new).

    On exit the driver quits and every process of the browser, chromedriver included, is waited for: the
    browser's helpers outlive their parent for a moment, reparented away from this process, where the
    suite's leak check would not see them.
    """
    browser, driver_path = chromium_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with pytest.MonkeyPatch.context() as patch:
        for name, value in SELENIUM_MANAGER_ENV.items():
            patch.setenv(name, value)
        # Both paths given: Selenium Manager has nothing to find, so it never runs (and never downloads).
        driver = webdriver.Chrome(options=chromium_options(browser, profile_dir),
                                  service=Service(executable_path=driver_path, env=_environment(profile_dir)))
    try:
        yield driver
    finally:
        processes = _tree(driver.service.process.pid)
        driver.quit()
        left = _wait_until_gone(processes, QUIT_GRACE_SECONDS)
        for process in left:
            try:
                process.kill()
            except psutil.Error:
                pass
        if left:
            pytest.fail(f"{len(left)} browser process(es) still ran {QUIT_GRACE_SECONDS:g} s after quit(), "
                        f"killed: pids {sorted(process.pid for process in left)}", pytrace=False)


def _environment(profile_dir: Path) -> dict[str, str]:
    """This process's environment, with the config folder inside the profile: Chromium's crash reporter
    ignores --user-data-dir and would otherwise create ~/.config/chromium."""
    return {**os.environ, "XDG_CONFIG_HOME": str(profile_dir / "config")}


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _running(process: psutil.Process) -> bool:
    """A zombie has exited: it waits only for its (new) parent to reap it."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_until_gone(processes: list[psutil.Process], grace: float) -> list[psutil.Process]:
    """Those of `processes` still running after up to `grace` seconds (polled: psutil.wait_procs
    would wait for the zombies of processes that are not this one's children)."""
    deadline = time.monotonic() + grace
    while (left := [process for process in processes if _running(process)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def leave_the_start_page(driver: Any) -> None:
    """Go to about:blank and forget what the start page logged (its console, its requests): what is read
    next belongs to the page loaded next."""
    driver.get("about:blank")
    console_entries(driver)
    requested_urls(driver)


def console_entries(driver: Any) -> list[dict[str, Any]]:
    """The console messages since the last call (``level``: SEVERE for errors, ``message``, ``source``)."""
    return driver.get_log("browser")


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call, from its DevTools network events: what the
    page requested, fetched or not (a blocked or failed request is sent first, then fails)."""
    events = (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
    return [event["params"]["request"]["url"] for event in events if event["method"] == "Network.requestWillBeSent"]


def full_page_png(driver: Any) -> bytes:
    """The whole page, not only the window, one pixel per CSS pixel (see DISPLAY_SWITCHES)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    return base64.b64decode(shot["data"])
