"""Tests of matcher.reports.html: report.html is written by every solve, shows the headline
figures, is valid self-contained HTML with every datum escaped, and renders in headless Chromium
without a console error."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

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
CHROMIUM = Path("/usr/bin/chromium")

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


def _chromium(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="headless Chromium is not installed (Debian: apt-get install -y "
                           "chromium); the render check needs /usr/bin/chromium")
def test_renders_in_chromium_without_console_errors(solved: Path, tmp_path: Path) -> Any:
    """Chromium renders the report (the DOM holds the headline) and logs no console message.

    A control page with a deliberate console error shows the check would catch one.
    """
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><p>x</p><script>console.error("control-marker")'
                       "</script>", encoding="utf-8")
    seen = _console_lines(_chromium(control, tmp_path / "profile-control").stderr)
    assert any("control-marker" in line for line in seen), "console capture does not work"

    shutil.copy(solved / "report.html", tmp_path / "report.html")
    run = _chromium(tmp_path / "report.html", tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "matcher report — tiny" in run.stdout and "5 of 6" in run.stdout
    assert "<svg" in run.stdout
    assert _console_lines(run.stderr) == []
