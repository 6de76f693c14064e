"""Tests of matcher.reports.html: report.html is written by every solve, shows the headline
figures, is valid self-contained HTML with every datum escaped, in either language (the
rendering in headless Chromium: test_html_browser.py)."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

import matcher
from matcher import read_result
from matcher.cli import cli
from matcher.model import Problem
from matcher.reports.html import render_report, write_report

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "heilongjiang-demo"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Page(HTMLParser):
    """Collects tags, attributes, text and nesting errors of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # <rect .../> in SVG: opens and closes

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved once by the CLI (cpsat, one worker)."""
    out = tmp_path_factory.mktemp("report") / "out"
    r = CliRunner().invoke(cli, ["solve", str(TINY), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    return out


def test_solve_writes_the_report(solved: Path) -> None:
    """Every result folder written by matcher solve holds report.html with the headline."""
    html = (solved / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    text = " ".join(" ".join(page.text).split())
    assert "matcher report — tiny" in text
    for figure in ("OPTIMAL", "5 of 6", "proven maximum 5", "lower bound 7, gap 0.00%",
                   "60.0%", "3 of 5 placed", "100.0%", "passed"):
        assert figure in text, figure
    assert re.search(r"Rank cost 7 ", text)
    # the unassigned student and the recorded reason
    assert "S6" in text and "no workstation takes discipline 0856" in text
    # heat map: one cell per workstation and term, W2 full (3/3) in 2026-autumn
    assert text.count("W2, 2026-autumn: 3 of 3 places used") == 1
    assert "W1, 2025-autumn: 0 of 1 places used" in text


def test_html_is_valid_and_self_contained(solved: Path) -> None:
    """Balanced tags, a doctype and charset, no script, no stylesheet link, no external URL."""
    html = (solved / "report.html").read_text(encoding="utf-8")
    page = _parse(html)
    assert page.doctype and not page.errors and page.stack == []
    assert ("meta", {"charset": "utf-8"}) in page.tags
    names = {t for t, _ in page.tags}
    assert {"svg", "table", "style"} <= names
    assert not names & {"script", "link", "iframe", "img", "object", "embed"}
    for tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href", "action"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    assert "http://" not in html and "https://" not in html
    assert "url(" not in html and "@import" not in html


def test_report_escapes_data(tmp_path: Path) -> None:
    """Ids and names that look like markup come out as text, never as tags."""
    p = matcher.load_scenario(TINY)
    evil = "<script>alert(1)</script>"
    p = Problem.model_validate({
        **{f: getattr(p, f) for f in Problem.model_fields},
        "name": f"tiny {evil}",
        "workstations": tuple(w.model_copy(update={"city": f'Harbin"&{evil}'})
                              for w in p.workstations),
        "universities": tuple(u.model_copy(update={"name": f"<b>{u.university_id}</b>"})
                              for u in p.universities)})
    res = matcher.solve(p, "cpsat", time_limit_s=10, seed=0, workers=1)
    html = render_report(p, res)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = _parse(html)
    assert not page.errors and page.stack == []
    assert any(evil in t for t in page.text)  # shown to the reader as text


def test_report_command_regenerates_identically(solved: Path, tmp_path: Path) -> None:
    """matcher report rebuilds the same bytes from the folder (no timestamp, same figures)."""
    out = tmp_path / "again.html"
    r = CliRunner().invoke(cli, ["report", str(TINY), str(solved), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == (solved / "report.html").read_bytes()


def test_report_command_bad_folder(tmp_path: Path) -> None:
    """A folder without a result: one 'error:' line naming the file, exit 2, nothing written."""
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(cli, ["report", str(TINY), str(tmp_path / "empty")])
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "assignments.csv" in r.stderr
    assert "Traceback" not in r.output
    assert not (tmp_path / "empty" / "report.html").exists()


def test_report_command_other_scenario(solved: Path, tmp_path: Path) -> None:
    """A result reported against a scenario it does not fit: one error line, exit 2."""
    other = tmp_path / "other"
    shutil.copytree(TINY, other)
    path = other / "students.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("\nS1,HIT,", "\nT1,HIT,"),
                    encoding="utf-8")  # S1 is renamed: the result's S1 is unknown there
    r = CliRunner().invoke(cli, ["report", str(other), str(solved), "--out",
                                 str(tmp_path / "r.html")])
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith("error: the result does not fit scenario")
    assert not (tmp_path / "r.html").exists()


def test_read_result_round_trip(solved: Path) -> None:
    """read_result gives back what solve wrote: placements, reasons and claims."""
    res = read_result(solved)
    assert (res.status.value, res.placed, res.rank_cost, res.placed_upper_bound) == (
        "OPTIMAL", 5, 7, 5)
    assert [sid for sid, _ in res.unassigned] == ["S6"]
    assert matcher.check(matcher.load_scenario(TINY), res).ok


def test_demo_report_at_scale(tmp_path: Path) -> None:
    """The 2,000-student demo (greedy, fast): every workstation-term cell and every unassigned
    student appear."""
    p = matcher.load_scenario(DEMO)
    res = matcher.solve(p, "greedy", seed=0)
    path = write_report(p, res, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.count("places used</title>") + html.count(": closed</title>") == \
        len(p.workstations) * len(p.terms)
    page = _parse(html)
    assert not page.errors
    text = " ".join(page.text)
    assert f"Unassigned students ({len(res.unassigned):,})" in text
    assert all(sid in text for sid, _ in res.unassigned)
    assert "FEASIBLE" in text and "no lower bound proven" in text


def test_status_card_says_what_is_proven(tmp_path: Path) -> None:
    """An OPTIMAL result whose pair weight was cut by the time limit: the card says levels 1-2
    are proven and the pair weight is not, never "every objective level"."""
    import dataclasses

    p = matcher.load_scenario(TINY)
    proven = read_result(Path(__file__).resolve().parents[1] / "data" / "golden" / "tiny-cpsat")
    cut = dataclasses.replace(proven, stats={"pair_weight_proven": False},
                              input_sha256=p.input_sha256)
    text = " ".join(" ".join(_parse(render_report(p, cut)).text).split())
    assert "OPTIMAL levels 1-2 proven optimal (placed, rank cost); pair weight not proven" in text
    assert "every objective level" not in text


def test_report_in_chinese(tmp_path: Path) -> None:
    """A Chinese-headed scenario gets a Chinese page: lang zh-CN, a CJK font stack, the
    headline, headings and the reason in Chinese."""
    from chinese import chinese_tiny

    p = matcher.load_scenario(chinese_tiny(tmp_path / "zh"))
    out = matcher.write_result(matcher.solve(p, "da"), tmp_path / "out", problem=p)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC"' in html
    text = " ".join(" ".join(_parse(html).text).split())
    for words in ("matcher 分配报告：tiny", "状态 可行", "5 / 6 人", "志愿满足情况",
                  "未分配学生（1 人）", "没有工作站接收“0856”类别的学生", "哈尔滨工业大学"):
        assert words in text, words
