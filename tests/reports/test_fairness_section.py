"""The fairness section of report.html and results.xlsx (issue 29 item 6), in Chinese and English:
blocking pairs with the students and workstations named (or a note when the cohort is too large
to count them), the rank distribution by university and by discipline, and the quota shares
against their targets; summary.json carries the quota shares and the checker verifies them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from budget import PROOF_S

import matcher.reports.fairness_figures as figures_module
from matcher import load_scenario, read_result, solve, write_result
from matcher.check import check_result_dir
from matcher.model import Problem

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
SHEET = {"en": "Fairness", "zh": "公平性"}


@pytest.fixture(scope="module")
def with_quota(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    """tiny with a hard quota: at most half of W2's students from HEU."""
    folder = tmp_path_factory.mktemp("q") / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "quotas.csv").write_text(
        "workstation_id,selector,value,max_share\nW2,university_id,HEU,50%\n", encoding="utf-8")
    return load_scenario(folder)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_and_workbook_show_fairness(with_quota: Problem, tmp_path: Path,
                                           lang: str) -> None:
    """The page has the fairness section (blocking pairs named, ranks by university and by
    discipline, the quota table); the workbook's fairness sheet has the same figures, read back
    with openpyxl; summary.json lists the quota's share and read_result keeps it."""
    p = with_quota
    r = solve(p, "milp", time_limit_s=PROOF_S, seed=0, workers=1)
    out = write_result(r, tmp_path / "out", problem=p, lang=lang)
    html = (out / "report.html").read_text(encoding="utf-8")
    for anchor in ('id="fairness"', 'id="blocking"', 'id="quotas"'):
        assert anchor in html
    if lang == "zh":
        assert "阻塞对" in html and "各高校志愿录取情况" in html and "各学科志愿录取情况" in html
        assert "不高于 50%" in html and "满足" in html
    else:
        assert "Blocking pairs" in html and "Ranks by university" in html
        assert "at most 50%" in html and "Ranks by discipline" in html
    book = openpyxl.load_workbook(out / "results.xlsx")
    rows = [r for r in book[SHEET[lang]].iter_rows(values_only=True)]
    cells = [c for row in rows for c in row if c is not None]
    # every blocking pair the checker counts is on the sheet, its student and workstation named
    fair = figures_module.figures(p, read_result(out))
    assert fair.blocking is not None
    pairs = {(row[0], row[4]) for row in rows if row[0] in {s for s, _w in fair.blocking}}
    assert pairs == set(fair.blocking)
    heu = next(row for row in rows if row[0] == "HEU")
    assert heu[1] == 4 and sum(heu[2:8]) == 4  # every HEU student in one outcome
    quota = next(row for row in rows if row[0] == 1 and row[1] == "W2")
    assert quota[5:8] == (1, 2, 0.5)
    assert ("满足" if lang == "zh" else "met") in cells
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["quotas"] == [{"row": 1, "workstation_id": "W2",
                                  "selector": "university_id", "value": "HEU", "hard": True,
                                  "count": 1, "total": 2, "share": 0.5, "shortfall": 0.0,
                                  "met": True}]
    assert read_result(out).quotas == tuple(summary["quotas"])
    assert check_result_dir(p, out).ok


def test_a_false_quota_claim_is_caught(with_quota: Problem, tmp_path: Path) -> None:
    """summary.json claiming another count for a quota than the allocation gives is a finding
    of the checker."""
    r = solve(with_quota, "milp", time_limit_s=PROOF_S, seed=0, workers=1)
    out = write_result(r, tmp_path / "out", problem=with_quota)
    path = out / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["quotas"][0]["count"] = 2
    path.write_text(json.dumps(summary), encoding="utf-8")
    rep = check_result_dir(with_quota, out)
    assert any("quotas row 1 counts 2/2, recomputed 1/2" in v for v in rep.violations)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_blocking_pairs_skipped_above_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                lang: str) -> None:
    """Above the size limit the blocking pairs are not counted, and both outputs say so and
    how to count them; the rank tables are still there."""
    monkeypatch.setattr(figures_module, "BLOCKING_MAX_STUDENTS", 3)
    p = load_scenario(TINY)
    r = solve(p, "greedy")
    out = write_result(r, tmp_path / "out", problem=p, lang=lang, parallel=False)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "--stability" in html and 'id="quotas"' not in html
    book = openpyxl.load_workbook(out / "results.xlsx")
    cells = [c for row in book[SHEET[lang]].iter_rows(values_only=True) for c in row if c]
    assert any("--stability" in str(c) for c in cells)
    assert ("各学科志愿录取情况" if lang == "zh" else "Ranks by discipline") in cells
