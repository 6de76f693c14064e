"""report.html in a real headless Chromium, in English (tiny) and in Chinese (tiny under Chinese
headers): the page declares its language, shows the headline figures and exactly what is
proven, draws every Chinese character with a real glyph (no missing-glyph boxes), and logs no
console message. A screenshot of each page goes to the test's tmp folder.

Chromium is the system's (``/usr/bin/chromium``, which .ci/run installs with a CJK font), driven
by Playwright's Python package with ``executable_path`` (no browser download). Without Chromium
the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chinese import TINY, chinese_tiny

import matcher
from matcher.model import Problem, Result
from matcher.reports.html import FONT_STACK, write_report

CHROMIUM = os.environ.get("MATCHER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "tiny-cpsat"

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

# Every Chinese character of a text drawn on a canvas in the page's own fonts: a character
# without a glyph is drawn as the same box as every other such character (and as a code
# point no font has), so the count of distinct drawings tells real glyphs from boxes.
GLYPHS = """([text, script]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 48; canvas.height = 48;
  const g = canvas.getContext("2d", {willReadFrequently: true});
  g.font = "32px " + getComputedStyle(document.body).fontFamily;
  const draw = (ch) => {
    g.clearRect(0, 0, 48, 48); g.fillText(ch, 4, 38);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(",");
  };
  const pattern = new RegExp("\\\\p{Script=" + script + "}", "u");
  const han = [...new Set([...text].filter((ch) => pattern.test(ch)))];
  const box = draw("\\u{10FFFD}");
  return {han: han.length, distinct: new Set(han.map(draw)).size,
          boxes: han.filter((ch) => draw(ch) === box)};
}"""

FIGURES = {
    "en": ["OPTIMAL", "every objective level proven optimal: placed, rank cost and pair weight",
           "5 of 6", "proven maximum 5 — reached", "lower bound 7, gap 0.00%", "passed"],
    "zh": ["最优", "各层目标均已证明最优：分配人数、志愿代价和导师组合权重", "5 / 6 人",
           "已证明最多可分配 5 人，已达到", "下界 7，差距 0.00%", "通过"],
}
TITLE = {"en": "matcher report — tiny", "zh": "matcher 分配报告：tiny"}
REASON = {"en": "no workstation takes discipline 0856",
          "zh": "没有工作站接收“0856”类别的学生"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """The system's Chromium, headless."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _page(problem: Problem, tmp_path: Path, lang: str) -> Path:
    """report.html of tiny's proven optimum (the checked-in cpsat result, so no solve's pace
    matters) with the solver's structured reasons, in ``lang``."""
    proven = matcher.read_result(GOLDEN)
    reasons = matcher.solve(problem, "da").unassigned  # S6's reason holds whatever the solver
    result: Result = dataclasses.replace(proven, unassigned=reasons,
                                         input_sha256=problem.input_sha256)
    return write_report(problem, result, tmp_path / f"report-{lang}.html", lang=lang)


def _console(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"error: {e}"))
    return seen


def test_console_capture_works(browser: Any, tmp_path: Path) -> None:
    """A control page with a deliberate console error is caught (so an empty list below means
    the report logged nothing)."""
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><p>x</p><script>console.error("control-marker")'
                       "</script>", encoding="utf-8")
    page = browser.new_page()
    seen = _console(page)
    page.goto(control.as_uri())
    page.wait_for_load_state("load")
    assert any("control-marker" in line for line in seen)
    page.close()


def test_glyph_check_sees_boxes(browser: Any, tmp_path: Path) -> None:
    """The glyph check tells boxes from glyphs: Tangut characters, which no installed font
    draws, all come out as the same box; Latin letters all differ."""
    blank = tmp_path / "x.html"
    blank.write_text("<!DOCTYPE html><body>x</body>", encoding="utf-8")
    page = browser.new_page()
    page.goto(blank.as_uri())
    tangut = "".join(chr(0x17000 + k) for k in range(12))
    boxes = page.evaluate(GLYPHS, [tangut, "Tangut"])
    assert boxes["han"] == 12 and boxes["distinct"] == 1 and len(boxes["boxes"]) == 12
    latin = page.evaluate(GLYPHS, ["abcdefghij", "Latin"])
    assert latin["distinct"] == 10 and latin["boxes"] == []
    page.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_its_language(browser: Any, tmp_path: Path, lang: str) -> None:
    """The page has the right lang, title, headline figures, proof and reason; the font stack
    holds the CJK families; every Chinese character has a real glyph; no console message."""
    problem = matcher.load_scenario(TINY if lang == "en" else chinese_tiny(tmp_path / "zh"))
    path = _page(problem, tmp_path, lang)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = _console(page)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert page.get_attribute("html", "lang") == {"en": "en", "zh": "zh-CN"}[lang]
    assert page.inner_text("h1") == TITLE[lang]
    headline = page.inner_text("#headline")
    for figure in FIGURES[lang]:
        assert figure in headline, figure
    assert REASON[lang] in page.inner_text("#unassigned ~ table")
    card = page.locator("#status-card")
    box = card.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    for name in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC"):
        assert name in family and name in FONT_STACK
    if lang == "zh":
        glyphs = page.evaluate(GLYPHS, [page.inner_text("body"), "Han"])
        assert glyphs["han"] > 50
        assert glyphs["boxes"] == [] and glyphs["distinct"] == glyphs["han"], glyphs
    page.screenshot(path=str(tmp_path / f"report-{lang}.png"), full_page=True)
    assert (tmp_path / f"report-{lang}.png").stat().st_size > 10_000
    assert seen == []
    page.close()
