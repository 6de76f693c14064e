"""End to end in a real headless Chromium: ``matcher ui --no-browser`` on a free port, a clerk
uploads the demo workbook, gets the result, downloads results.xlsx, searches a student, and
stops a second run, in Chinese and in English; a screenshot of each page goes to the test's
tmp folder (``screens/``).

Chromium is the system's (``/usr/bin/chromium``, installed by .ci/run), driven by Playwright's
Python package: no browser download. Without Chromium the tests skip, except in CI (``CI``
set), where they fail. Every wait is on a condition with a generous timeout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_XLSX

CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LONG = 300_000  # ms: a generous bound for a step on a loaded 2-core machine

if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs chromium")
    pytest.skip("no Chromium on this machine (CI installs it)", allow_module_level=True)
try:
    from playwright import sync_api
except ImportError:  # the test extra installs it; only a bare development setup lacks it
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -e .[test])", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``matcher ui --no-browser`` on a free port with a fresh data folder; its URL."""
    data = tmp_path_factory.mktemp("ui") / "data"
    port = _free_port()
    log = (data.parent / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "ui", "--no-browser",
                             "--port", str(port), "--data", str(data)],
                            stdout=log, stderr=subprocess.STDOUT,
                            env=dict(os.environ, LANG="C.UTF-8"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url + "/new", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert proc.poll() is None, (data.parent / "server.log").read_text()
        assert time.monotonic() < deadline, "matcher ui did not answer within 120 s"
        time.sleep(0.3)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system's Chromium, headless."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


WORDS = {
    "zh": {"valid": "检查通过", "result": "分配结果", "history": "历史记录",
           "stopped": "已由您停止", "running": "正在分配"},
    "en": {"valid": "is valid", "result": "Result", "history": "Run history",
           "stopped": "Stopped by you", "running": "Running"},
}


def _upload_demo(page: Any, url: str, shots: Path, lang: str) -> None:
    page.goto(url + "/new")
    page.screenshot(path=str(shots / f"new-{lang}.png"), full_page=True)
    page.set_input_files("#scenario", str(DEMO_XLSX))
    page.click("#upload")
    page.wait_for_selector("#validation-verdict.ok", timeout=LONG)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_clerk_from_upload_to_results(server: str, browser: Any, tmp_path: Path,
                                      lang: str) -> None:
    """Upload the demo workbook, start (greedy: the point here is the page), wait for the
    result, download results.xlsx, explain a student, then start a cpsat run and stop it:
    the best allocation found is kept. Every page in the browser's language."""
    shots = tmp_path / "screens"
    shots.mkdir()
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US",
                                  accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    words = WORDS[lang]
    try:
        _upload_demo(page, server, shots, lang)
        assert words["valid"] in page.inner_text("#validation-verdict")
        assert page.get_attribute("html", "lang") == ("zh-CN" if lang == "zh" else "en")
        page.screenshot(path=str(shots / f"validated-{lang}.png"), full_page=True)
        page.select_option("#solver", "greedy")
        page.fill("#time_limit_s", "30")
        page.click("#start")
        page.wait_for_selector("#headline", timeout=LONG)
        assert words["result"] in page.inner_text("h1")
        assert page.get_attribute("#headline", "data-status") == "FEASIBLE"
        page.screenshot(path=str(shots / f"result-{lang}.png"))

        with page.expect_download(timeout=LONG) as download:
            page.click("#dl-results-xlsx")
        saved = tmp_path / "results.xlsx"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as book:
            assert "xl/workbook.xml" in book.namelist()

        first = page.locator("#unassigned tbody a").first
        student = first.inner_text().strip()
        page.fill("#student", student)
        page.click("#search-button")
        page.wait_for_selector("#explanation", timeout=LONG)
        assert student in page.inner_text("#explanation")
        page.locator("#search").screenshot(path=str(shots / f"search-{lang}.png"))

        _upload_demo(page, server, shots, lang)
        page.select_option("#solver", "cpsat")
        page.fill("#time_limit_s", "600")
        page.click("#start")
        page.wait_for_selector("#running[data-stage=solving]", timeout=LONG)
        assert words["running"] in page.inner_text("h1")
        page.screenshot(path=str(shots / f"running-{lang}.png"), full_page=True)
        page.click("#cancel")
        page.wait_for_selector("#headline", timeout=LONG)
        status = page.get_attribute("#headline", "data-status")
        assert status in ("FEASIBLE", "OPTIMAL", "cancelled")
        if status != "cancelled":
            assert words["stopped"] in page.inner_text("#cancelled-note")
        page.screenshot(path=str(shots / f"cancelled-{lang}.png"), full_page=True)

        page.click("#nav-history")
        page.wait_for_selector("#history", timeout=LONG)
        assert words["history"] in page.inner_text("h1")
        page.screenshot(path=str(shots / f"history-{lang}.png"), full_page=True)
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(shots / f"last-{lang}.png"), full_page=True)
        context.close()
    assert len(list(shots.glob("*.png"))) >= 8
