"""Group quotas (issue 29 item 5) in the scenario format: ``quotas.csv`` and the ``配额`` sheet read
with percentages and Chinese words, written back, and every bad row refused with its file (or
sheet), row and column in both languages.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from matcher import load_scenario
from matcher.formats.scenario import write_scenario
from matcher.model import ScenarioError

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
HEADER = "workstation_id,selector,value,min_share,max_share,min_count,max_count,hard\n"


def _scenario(tmp_path: Path, rows: str) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "quotas.csv").write_text(HEADER + rows, encoding="utf-8")
    return folder


def _lines(path: Path) -> tuple[list[str], list[str]]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.lines("en"), info.value.lines("zh")


def test_quotas_are_read_and_written_back(tmp_path: Path) -> None:
    """``30%`` is 0.3, ``高校`` is university_id, ``软`` is soft, an empty workstation counts
    every placed student; write_scenario writes quotas.csv that reads back the same."""
    p = load_scenario(_scenario(tmp_path, "W2,高校,HIT,30%,,,,\n,discipline,0855,,0.5,,3,软\n"
                                          ",city,Harbin,,,1,,hard\n"))
    a, b, c = p.quotas
    assert (a.workstation_id, a.selector, a.value, a.min_share, a.hard) == (
        "W2", "university_id", "HIT", pytest.approx(0.3), True)
    assert (b.workstation_id, b.selector, b.max_share, b.max_count, b.hard) == (
        None, "discipline", 0.5, 3, False)
    assert (c.selector, c.min_count, c.hard) == ("city", 1, True)
    again = load_scenario(write_scenario(p, tmp_path / "copy"))
    assert again.quotas == p.quotas


@pytest.mark.parametrize(("row", "column", "en", "zh"), [
    ("W9,university_id,HIT,0.3,,,,\n", "workstation_id", "unknown workstation 'W9'",
     "工作站“W9”不存在"),
    ("W2,university_id,XYZ,0.3,,,,\n", "value", "unknown university 'XYZ'", "“XYZ”"),
    ("W2,discipline,9999,0.3,,,,\n", "value", "discipline '9999'", "学科“9999”"),
    ("W2,city,Daqing,0.3,,,,\n", "value", "city 'Daqing'", "“Daqing”"),
    ("W2,province,HL,0.3,,,,\n", "selector", "unknown selector 'province'", "统计项“province”"),
    ("W2,university_id,HIT,150%,,,,\n", "min_share", "share 1.5 is outside 0..1",
     "比例 1.5 不在 0 到 1 之间"),
    ("W2,university_id,HIT,0.6,0.4,,,\n", "max_share", "the minimum 0.6 is above the maximum 0.4",
     "下限 0.6 高于上限 0.4"),
    ("W2,university_id,HIT,,,,,\n", "min_share", "gives no bound", "没有填写任何限制"),
    ("W1,university_id,HIT,,,5,,\n", "min_count", "at least 5 students asked for",
     "要求至少 5 人"),
    ("W2,university_id,HIT,3O%,,,,\n", "min_share", "3O", "3O"),
])
def test_bad_rows_are_located_in_both_languages(tmp_path: Path, row: str, column: str, en: str,
                                                zh: str) -> None:
    """Each broken quota row gives one error naming quotas.csv, row 1 and the column, worded
    in English and in Chinese."""
    lines_en, lines_zh = _lines(_scenario(tmp_path, row))
    hit = [x for x in lines_en if "quotas.csv row 1" in x and column in x]
    assert hit and en in hit[0], lines_en
    hit_zh = [x for x in lines_zh if "quotas.csv 第1行" in x and column in x]
    assert hit_zh and zh in hit_zh[0], lines_zh


def test_locks_above_a_hard_maximum(tmp_path: Path) -> None:
    """Two HEU students locked at W2 and a hard max_count of 1 for HEU there: refused at the
    quota's max_count, naming the locked students; soft, the same quota is accepted."""
    folder = _scenario(tmp_path, "W2,university_id,HEU,,,,1,\n")
    (folder / "locks.csv").write_text("student_id,workstation_id\nS3,W2\nS5,W2\n",
                                      encoding="utf-8")
    en, zh = _lines(folder)
    (line,) = [x for x in en if "quotas.csv row 1, max_count" in x]
    assert "2 of the group are locked there (S3, S5)" in line
    assert any("已有 2 人被锁定在此" in x for x in zh)
    (folder / "quotas.csv").write_text(HEADER + "W2,university_id,HEU,,,,1,soft\n",
                                       encoding="utf-8")
    assert load_scenario(folder).quotas[0].hard is False


def test_a_workbook_sheet_with_chinese_headers(tmp_path: Path) -> None:
    """A ``配额`` sheet with Chinese headers (工作站, 统计项, 取值, 最高比例, 硬性) is read; a
    bad share there is located by sheet, Excel row and column letter."""
    folder = tmp_path / "book"
    folder.mkdir()
    p = load_scenario(TINY)
    write_scenario(p, tmp_path / "csv")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in ("students", "workstations", "mentors", "supervisors", "universities"):
        ws = wb.create_sheet(name)
        for line in (tmp_path / "csv" / f"{name}.csv").read_text(encoding="utf-8").splitlines():
            ws.append(line.split(","))
    ws = wb.create_sheet("配额")
    ws.append(["工作站", "统计项", "取值", "最高比例", "硬性"])
    ws.append(["W2", "学科", "0855", 0.5, "是"])
    ws.append(["W2", "高校", "HEU", "七成", "是"])
    shutil.copy(TINY / "scenario.yaml", folder / "scenario.yaml")
    wb.save(folder / "book.xlsx")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder / "book.xlsx")
    (line,) = [x for x in info.value.lines("zh") if "配额" in x]
    assert "第3行" in line and "D列" in line and "最高比例" in line, line
    ws.delete_rows(3)
    wb.save(folder / "book.xlsx")
    (q,) = load_scenario(folder / "book.xlsx").quotas
    assert (q.workstation_id, q.selector, q.value, q.max_share, q.hard) == (
        "W2", "discipline", "0855", 0.5, True)
