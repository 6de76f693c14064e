"""The compare, sweep and rolling pages (:mod:`matcher.reports.pages`) in zh and en: the page
declares its language and a CJK font stack, tables' column names and KPI names are worded in
the page's language, the CSVs beside them keep their English columns."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

import matcher
from matcher.planning import sweep as sweep_module
from matcher.planning.compare import compare, read_view, write_comparison
from matcher.planning.rolling import simulate, write_rolling
from matcher.planning.sweep import parse_vary, run_sweep, write_sweep
from matcher.reports.pages import Page, column_label

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def test_page_in_chinese_declares_its_language_and_words_its_columns() -> None:
    """zh: lang="zh-CN", a CJK font family, Chinese column names (a suffix kept), the note on
    rows left out in Chinese; en: the names as they are."""
    frame = pd.DataFrame({"kpi": ["placed", "placed_share"], "delta:b": [1, 0.5]})
    page = Page("分配结果比较", lang="zh")
    page.table(frame, limit=1)
    html = page.html()
    assert '<html lang="zh-CN">' in html and "Microsoft YaHei" in html
    assert "<th>指标</th><th>差值：b</th>" in html and "（另有 1 行，见 CSV 文件）" in html
    assert "| 指标 | 差值：b |" in page.markdown()
    assert column_label("placed_share[university=HIT]", "zh") == "分配比例[university=HIT]"
    english = Page("x")
    english.table(frame)
    assert '<html lang="en">' in english.html() and "<th>kpi</th>" in english.html()


@pytest.fixture(scope="module")
def problem() -> matcher.Problem:
    return matcher.load_scenario(TINY)


def test_compare_page_in_chinese(problem: matcher.Problem, tmp_path: Path) -> None:
    """Two allocations of tiny compared in Chinese: title, KPI names and change kinds in
    Chinese on the page; kpis.csv keeps its English columns and KPI names."""
    a = matcher.write_result(matcher.solve(problem, "da"), tmp_path / "a", problem=problem)
    b = matcher.write_result(matcher.solve(problem, "greedy"), tmp_path / "b", problem=problem)
    c = compare([read_view(a), read_view(b)], [problem, problem])
    out = write_comparison(c, tmp_path / "cmp", lang="zh")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# 分配结果比较")
    assert "## 指标" in md and "## 谁换到了哪里" in md and "| 分配比例 |" in md
    assert "换了工作站" in md or "所有学生的分配都相同。" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    with (out / "kpis.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert next(iter(rows[0])) == "kpi" and rows[0]["kpi"] == "students"


def test_sweep_and_rolling_pages_in_chinese(problem: matcher.Problem, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A two-point sweep (greedy) and two rolling cohorts of tiny written in Chinese: the
    pages' headings and column names in Chinese, the CSVs in English. (The plots are stubbed:
    drawing them is test_sweep's business and takes seconds.)"""
    monkeypatch.setattr(sweep_module, "_plot",
                        lambda _sweep, _kpi, path, _lang: path.write_bytes(b"\x89PNG stub"))
    with ThreadPoolExecutor(1) as ex:
        sweep = run_sweep(problem, parse_vary(["capacity_scale=1,2"]), ex, solver="greedy")
    out = write_sweep(sweep, tmp_path / "sweep", title="tiny 的参数扫描", lang="zh")
    md = (out / "kpis.md").read_text(encoding="utf-8")
    assert md.startswith("# tiny 的参数扫描") and "| 点 |" in md and "| 已分配 |" in md
    assert "求解器 greedy，每个点的时限 10 秒；各状态的点数：可行 2。" in md
    assert 'alt="分配比例"' in (out / "report.html").read_text(encoding="utf-8")
    assert (out / "kpis.csv").read_text(encoding="utf-8").startswith("point,")
    report = simulate(problem, 2, 0, solver="greedy", seed=0)
    roll = write_rolling(report, tmp_path / "roll", lang="zh")
    md = (roll / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# 多届滚动模拟") and "## 每届的需求与名额" in md
    assert "从 tiny 出发模拟 2 届，招生人数每年增长 0%" in md
    assert "求解器 greedy（每届时限 10 秒）" in md
    assert "| 届次 |" in md and "| 学期 |" in md
    assert (roll / "years.csv").read_text(encoding="utf-8").startswith("cohort,")


def test_every_plan_page_names_solver_status_and_time_limit(
        problem: matcher.Problem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A planner reading a compare, sweep or rolling page learns which solver made each
    allocation, how it ended and within what time limit (the scenario's 10 s when none is
    given; 3 s given to the sweep), so that a shortage caused by a short budget or a heuristic
    is not read as a shortage of places."""
    monkeypatch.setattr(sweep_module, "_plot",
                        lambda _sweep, _kpi, path, _lang: path.write_bytes(b"\x89PNG stub"))
    with ThreadPoolExecutor(1) as ex:
        sweep = run_sweep(problem, parse_vary(["capacity_scale=1,2"]), ex, solver="da",
                          time_limit_s=3.0)
    out = write_sweep(sweep, tmp_path / "sweep", title="tiny")
    line = "Solver da, time limit 3 s per point; points by status: FEASIBLE 2."
    assert line in (out / "kpis.md").read_text(encoding="utf-8")
    assert line in (out / "report.html").read_text(encoding="utf-8")
    a = matcher.write_result(matcher.solve(problem, "da", time_limit_s=4.0), tmp_path / "a",
                             problem=problem)
    b = matcher.write_result(matcher.solve(problem, "greedy"), tmp_path / "b", problem=problem)
    cmp = write_comparison(compare([read_view(a), read_view(b)], [problem, problem]),
                           tmp_path / "cmp")
    md = (cmp / "report.md").read_text(encoding="utf-8")
    assert "| result | folder | solver | status | time limit (s) |" in md
    assert "| da | FEASIBLE | 4 |" in md and "| greedy | FEASIBLE | 10 |" in md
    roll = write_rolling(simulate(problem, 2, 0, solver="greedy", seed=0,
                                  time_limit_s=2.0), tmp_path / "roll")
    md = (roll / "report.md").read_text(encoding="utf-8")
    assert "solver greedy (time limit 2 s per cohort)" in md
    assert "| FEASIBLE |" in md  # each cohort's status in the years table
