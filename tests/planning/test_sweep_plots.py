"""The sweep's plots speak the page's language: Chinese titles and axes drawn with a font that
has Chinese glyphs (:func:`matcher.reports.fonts.cjk_font`), English ones when no such font is
installed, and no "missing glyph" warnings either way.

Each test captures the figures as they are saved (``Figure.savefig``) and reads their title,
axis labels and the title's font.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

import matcher.planning.sweep as sweep_module
from matcher import load_scenario
from matcher.planning.sweep import Sweep, parse_vary, run_sweep, write_sweep
from matcher.reports.fonts import CJK_FAMILIES, cjk_font

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


@pytest.fixture(scope="module")
def sweep() -> Sweep:
    """Two points of tiny (intake -50 % and +0 %), greedy, in a thread of the test process."""
    with ThreadPoolExecutor(1) as ex:
        return run_sweep(load_scenario(TINY), parse_vary(["intake_pct=-50,0"]), ex,
                         solver="greedy", seed=3)


def _saved(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Record, for every figure saved, its title, axis labels and the title's font (two
    plots are enough: fewer PNGs keep the tests quick)."""
    monkeypatch.setattr(sweep_module, "HEADLINE", ("students", "placed"))
    seen: list[dict[str, str]] = []
    original = Figure.savefig

    def spy(fig: Figure, *args: Any, **kwargs: Any) -> None:
        ax = fig.axes[0]
        seen.append({"title": ax.get_title(), "x": ax.get_xlabel(), "y": ax.get_ylabel(),
                     "font": ax.title.get_fontname()})
        original(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return seen


def test_chinese_plots_with_a_cjk_font(sweep: Sweep, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``lang="zh"`` and a CJK font installed: Chinese title and axes, drawn with that
    font, and no warning (a missing glyph, such as the minus of a negative tick, would warn)."""
    font = cjk_font()
    if font is None:
        pytest.skip("no font with Chinese glyphs on this machine (fonts-wqy-zenhei, Noto CJK)")
    assert font in CJK_FAMILIES
    seen = _saved(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning (a missing glyph) fails the test
        write_sweep(sweep, tmp_path / "s", lang="zh")
    placed = next(s for s in seen if s["y"] == "已分配")
    assert placed["x"] == "招生人数增减（%，intake_pct）"
    assert placed["title"] == "已分配随招生人数增减（%，intake_pct）的变化"
    assert placed["font"] == font


def test_english_plots(sweep: Sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``lang="en"``: English title and axes (the parameter as typed in --vary)."""
    seen = _saved(monkeypatch)
    write_sweep(sweep, tmp_path / "s", lang="en")
    placed = next(s for s in seen if s["title"].startswith("placed by"))
    assert placed["x"] == "intake_pct"
    assert placed["title"] == f"{placed['y']} by intake_pct"


def test_without_a_cjk_font_the_plots_fall_back_to_english(
        sweep: Sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No CJK font installed: a Chinese page's plots are labelled in English (no boxes), with
    no warning; the page itself stays Chinese (its statuses too; kpis.csv keeps the data)."""
    monkeypatch.setattr(sweep_module, "cjk_font", lambda: None)
    seen = _saved(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_sweep(sweep, tmp_path / "s", lang="zh")
    assert seen and all(not any("\u4e00" <= c <= "\u9fff" for c in s["title"] + s["x"] + s["y"])
                        for s in seen)
    assert "招生人数增减" in (tmp_path / "s" / "report.html").read_text(encoding="utf-8")
    md = (tmp_path / "s" / "kpis.md").read_text(encoding="utf-8")  # statuses worded too
    assert "| 可行 |" in md and "FEASIBLE" not in md
    assert "FEASIBLE" in (tmp_path / "s" / "kpis.csv").read_text(encoding="utf-8")
