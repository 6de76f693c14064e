"""``objective.rank`` read from ``scenario.yaml`` and a workbook's settings sheet (issue 29 item 4):
the Chinese names are understood, a wrong value is one located error in both languages."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from matcher import load_scenario
from matcher.formats import validate_scenario
from matcher.messages import render

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


def _book(tmp_path: Path, value: str) -> Path:
    """A minimal Chinese workbook whose settings sheet says 志愿目标 = ``value`` (row 3)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "设置"
    ws.append(["学期", "2026-autumn"])
    ws.append(["每学期月数", 6])
    ws.append(["志愿目标", value])
    st = wb.create_sheet("学生")
    st.append(["学号", "工作年限", "所在高校", "学科", "志愿", "校内导师"])
    st.append(["S1", 3, "HIT", "0854", "W1", None])
    for name, header, row in (("工作站", ["工作站编号", "学科", "容量", "合作高校"],
                               ["W1", "0854", 1, ""]),
                              ("企业导师", ["企业导师编号", "工作站", "学科", "容量"],
                               ["M1", "W1", "0854", 1]),
                              ("校内导师", ["校内导师编号", "所在高校", "学科", "容量"],
                               ["U1", "HIT", "0854", 1])):
        sheet = wb.create_sheet(name)
        sheet.append(header)
        sheet.append(row)
    path = tmp_path / "b.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize(("value", "form"), [("志愿分布（最多第一志愿）", "profile"),
                                             ("最差志愿最小", "minimax"), ("志愿总和", "sum"),
                                             ("profile", "profile")])
def test_settings_sheet_reads_the_chinese_names(tmp_path: Path, value: str, form: str) -> None:
    """The settings sheet's 志愿目标 row takes the forms by their Chinese names."""
    assert load_scenario(_book(tmp_path, value)).objective.rank == form


def test_settings_sheet_refuses_a_wrong_value_at_its_row(tmp_path: Path) -> None:
    """A value that names no form: the sheet, its row and the choices, in Chinese and English."""
    found = validate_scenario(_book(tmp_path, "越多越好"))
    (m,) = found.errors
    assert m.code == "objectives.bad_rank"
    zh, en = render(m, "zh"), render(m, "en")
    assert "设置" in zh and "第3行" in zh and "“越多越好”不是可用的志愿目标" in zh
    assert "row 3" in en and "'越多越好' is not a rank objective" in en


def test_scenario_yaml_refuses_a_wrong_value(tmp_path: Path) -> None:
    """In scenario.yaml: ``scenario.yaml, objective.rank`` and what to give, both languages."""
    scen = tmp_path / "s"
    shutil.copytree(TINY, scen)
    text = (scen / "scenario.yaml").read_text(encoding="utf-8")
    (scen / "scenario.yaml").write_text(text.replace("pair_weight: true", "pair_weight: true\n"
                                                     "  rank: lexi"), encoding="utf-8")
    found = validate_scenario(scen)
    (m,) = found.errors
    assert render(m, "en") == ("scenario.yaml, objective.rank: 'lexi' is not a rank objective; "
                               "give sum (the least rank sum), profile (the most first choices, "
                               "then second choices, ...) or minimax (the best worst rank, then "
                               "the least rank sum)")
    assert render(m, "zh").startswith("scenario.yaml（objective.rank）：“lexi”不是可用的志愿目标")
    (scen / "scenario.yaml").write_text(text.replace("pair_weight: true", "pair_weight: true\n"
                                                     "  rank: 最多第一志愿"), encoding="utf-8")
    assert load_scenario(scen).objective.rank == "profile"
