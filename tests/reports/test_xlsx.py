"""``results.xlsx`` and the escaped, BOM-marked outputs of a result folder
(:mod:`matcher.reports.xlsx`)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from chinese import chinese_tiny
from click.testing import CliRunner
from click.testing import Result as CliResult
from python_calamine import CalamineWorkbook

import matcher
from matcher import load_scenario, write_result
from matcher.check import check_result_dir
from matcher.cli import cli
from matcher.model import Problem
from matcher.reports import xlsx as excel

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
PROVENANCE = {"input_files", "input_sha256", "source"}


def _run(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _hostile(tmp_path: Path) -> Problem:
    """tiny with ids that spreadsheets would run as formulas (built in code, as a library may)."""
    text = json.dumps(load_scenario(TINY).model_dump(mode="json", exclude=PROVENANCE))
    for old, new in (('"S1"', '"=1+2"'), ('"S6"', '"@SUM(A1)"'), ('"W1-M1"', '"-M1"'),
                     ('"HIT-S1"', '"+HIT"')):
        assert old in text
        text = text.replace(old, new)
    return Problem.model_validate(json.loads(text))


def test_outputs_escape_text_not_numbers(tmp_path: Path) -> None:
    """CSV and xlsx outputs quote formula-like text; numbers stay numbers; check reads back."""
    problem = _hostile(tmp_path)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out", problem=problem)
    text = (out / "assignments.csv").read_text(encoding="utf-8")
    assert "\n'=1+2,W2,W2-M1,'+HIT," in text and "'-M1" in text
    assert "\n'@SUM(A1)," in (out / "unassigned.csv").read_text(encoding="utf-8")
    wb = openpyxl.load_workbook(out / "results.xlsx")
    ws = wb["Assignments"]
    cells = {c.value: c for row in ws.iter_rows() for c in row}
    assert cells["'=1+2"].data_type == "s"
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@"))
                   for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True)
                   for v in row)
    ranks = [row[-1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert ranks and all(isinstance(r, int) or r is None for r in ranks)
    assert check_result_dir(problem, out).violations == []
    _calamine_agrees(out / "results.xlsx")


# ---- results.xlsx ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved into a result folder through the CLI (seed 0, one worker)."""
    out = tmp_path_factory.mktemp("solved") / "out"
    r = _run("solve", TINY, "--out", out, "--seed", "0", "--workers", "1")
    assert r.exit_code == 0, r.output
    return out


def _rows(wb: Any, name: str) -> list[tuple[Any, ...]]:
    return list(wb[name].iter_rows(values_only=True))


def _calamine_agrees(path: Path) -> None:
    """python-calamine (the reader of another ecosystem, Rust) reads the same sheets and
    values as openpyxl: the workbook is not only readable by the library that tests it."""
    ours = openpyxl.load_workbook(path)
    theirs = CalamineWorkbook.from_path(str(path))
    assert theirs.sheet_names == ours.sheetnames
    for name in ours.sheetnames:
        a = [["" if v is None else v for v in r] for r in ours[name].iter_rows(values_only=True)]
        b = theirs.get_sheet_by_name(name).to_python()
        width = max((len(r) for r in a + b), default=0)
        assert ([r + [""] * (width - len(r)) for r in b]
                == [r + [""] * (width - len(r)) for r in a]), name


def test_results_xlsx_for_the_office(solved: Path) -> None:
    """The summary for people, the assignments with readable headers and student details,
    the unassigned with choices and reasons, and one roster sheet per workstation by term."""
    wb = openpyxl.load_workbook(solved / "results.xlsx")
    assert wb.sheetnames == ["Summary", "Assignments", "Unassigned", "Fairness", "W1", "W2", "W3"]
    with (solved / "assignments.csv").open(encoding="utf-8", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assignments = _rows(wb, "Assignments")
    assert assignments[0] == ("Student ID", "University", "University name", "Discipline",
                              "Workstation", "City", "Enterprise mentor", "Campus supervisor",
                              "First term", "Last term", "Terms", "Choice")
    assert [(r[0], r[4], r[6], r[7], r[8], r[9]) for r in assignments[1:]] == [
        (c["student_id"], c["workstation_id"], c["mentor_id"], c["supervisor_id"],
         c["start_term"], c["end_term"]) for c in csv_rows]
    assert assignments[1][:4] == ("S1", "HIT", "Harbin Institute of Technology", "0854")
    unassigned = _rows(wb, "Unassigned")
    assert unassigned[0] == ("Student ID", "University", "Discipline", "Choices", "Reason")
    assert unassigned[1][:4] == ("S6", "HEU", "0856", "W3") and "0856" in unassigned[1][4]
    # W2 holds S1 and S5 in both terms and S3 in 2026-autumn: 5 roster rows under 3 head rows
    roster = _rows(wb, "W2")
    assert roster[0][0] == "W2 (Harbin): students by term"
    assert roster[2][:2] == ("Term", "Student ID")
    assert [r[:2] for r in roster[3:]] == [
        ("2026-autumn", "S1"), ("2026-autumn", "S3"), ("2026-autumn", "S5"),
        ("2027-spring", "S1"), ("2027-spring", "S5")]
    assert ("2027-spring", "S5", "HEU", "0855", "W2-M2", "HEU-S2", "2026-autumn",
            "2027-spring") in roster
    ws = wb["W2"]
    assert ws.print_title_rows == "$3:$3" and ws.freeze_panes == "A4"
    assert wb["Assignments"].freeze_panes == "A2"
    assert wb["Assignments"].auto_filter.ref == "A1:L6"
    _calamine_agrees(solved / "results.xlsx")


def test_summary_is_for_people(solved: Path) -> None:
    """Status and proof in words, shares as percentages, the rank distribution; no solver
    internals (stats.*), which stay in summary.json."""
    wb = openpyxl.load_workbook(solved / "results.xlsx")
    ws = wb["Summary"]
    values = {r[0]: r[1] for r in ws.iter_rows(values_only=True) if r[0]}
    assert values["Status"] == "OPTIMAL"
    assert values["What is proven"] == ("every objective level proven optimal: placed, rank "
                                        "cost and pair weight")
    assert (values["Students"], values["Placed"], values["Unassigned"]) == (6, 5, 1)
    assert values["Rank cost"] == 7 and values["Rank cost lower bound (proven)"] == 7
    shares = {r[0].value: r[1] for r in ws.iter_rows() if r[0].value}
    assert shares["First choice (share of placed)"].number_format == "0.0%"
    assert shares["First choice (share of placed)"].value == pytest.approx(0.6)
    assert not any(isinstance(k, str) and k.startswith("stats.") for k in values)
    ranks = {r[0]: r[1:3] for r in ws.iter_rows(values_only=True)
             if isinstance(r[0], str) and r[0].startswith(("choice", "not on", "unassigned"))}
    assert ranks == {"choice 1": (3, 0.5), "choice 2": (2, 1 / 3), "not on the list": (0, 0.0),
                     "unassigned": (1, 1 / 6)}


def test_results_xlsx_in_chinese_with_the_clerks_columns(tmp_path: Path) -> None:
    """A Chinese-headed scenario with the clerk's own columns (姓名, 备注, 工作站名称): sheet
    names, headers, summary and reasons in Chinese, and the clerk's columns carried beside the
    student and the workstation, on every sheet that lists students."""
    zh = chinese_tiny(tmp_path / "zh", carried=True)
    problem = load_scenario(zh)
    out = write_result(matcher.solve(problem, "da"), tmp_path / "out", problem=problem)
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["汇总", "分配结果", "未分配学生", "公平性", "W1", "W2", "W3"]
    head, first = _rows(wb, "分配结果")[:2]
    assert head == ("学号", "姓名", "备注", "高校", "高校名称", "学科/专业类别", "工作站编号",
                    "工作站名称", "城市", "企业导师", "校内导师", "开始学期", "结束学期",
                    "学期数", "志愿序号")
    s1 = dict(zip(head, first, strict=True))
    assert (s1["学号"], s1["姓名"], s1["备注"], s1["高校名称"]) == ("S1", "张伟", None,
                                                                 "哈尔滨工业大学")
    assert s1["工作站名称"] == {"W1": "哈尔滨电气集团研究生工作站", "W2": "中国一重研究生工作站",
                             "W3": "大庆油田研究生工作站"}[s1["工作站编号"]]
    s3 = dict(zip(head, next(r for r in _rows(wb, "分配结果") if r[0] == "S3"), strict=True))
    assert s3["备注"] == "交换生"
    unassigned = _rows(wb, "未分配学生")
    assert unassigned[0] == ("学号", "姓名", "备注", "高校", "学科/专业类别", "志愿", "未分配原因")
    assert unassigned[1][:2] == ("S6", "杨磊")
    assert unassigned[1][-1] == ("没有工作站接收“0856”类别的学生；请在某个工作站的接收学科中加上 "
                                 "0856")
    summary = {r[0]: r[1] for r in _rows(wb, "汇总") if r[0]}
    assert summary["状态"] == "可行" and summary["学生总数"] == 6
    roster = _rows(wb, "W2")
    assert roster[0][0] == "W2 中国一重研究生工作站（哈尔滨）学生名单（按学期）"
    assert roster[2][:4] == ("学期", "学号", "姓名", "备注")
    _calamine_agrees(out / "results.xlsx")


def test_results_xlsx_without_problem(tmp_path: Path) -> None:
    """Without the problem the rosters list blocks of terms and leave out student details."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out")
    wb = openpyxl.load_workbook(out / "results.xlsx")
    roster = _rows(wb, "W2")
    assert ("2026-autumn..2027-spring", "S1", "W2-M1", "HIT-S1", "2026-autumn",
            "2027-spring") in roster
    assert _rows(wb, "Assignments")[0][:3] == ("Student ID", "Workstation", "Enterprise mentor")


def test_many_workstations_share_one_roster_sheet(tmp_path: Path) -> None:
    """Above MAX_ROSTER_SHEETS workstations (a province), every roster is on one sheet, a page
    break before each workstation."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, "da")
    monkey = pytest.MonkeyPatch()
    monkey.setattr(excel, "MAX_ROSTER_SHEETS", 2)
    try:
        out = write_result(result, tmp_path / "out", problem=problem)
    finally:
        monkey.undo()
    wb = openpyxl.load_workbook(out / "results.xlsx")
    assert wb.sheetnames == ["Summary", "Assignments", "Unassigned", "Fairness", "Rosters"]
    ws = wb["Rosters"]
    titles = [r[0] for r in ws.iter_rows(values_only=True) if r[0] and "students by term" in r[0]]
    assert titles == ["W1 (Harbin): students by term", "W2 (Harbin): students by term",
                      "W3 (Daqing): students by term"]
    assert len(ws.row_breaks.brk) == 2


# ---- --excel-bom ----------------------------------------------------------------------------
def test_excel_bom(tmp_path: Path) -> None:
    """--excel-bom writes both CSVs with a BOM; check and verify still read them."""
    out = tmp_path / "out"
    assert _run("solve", TINY, "--out", out, "--workers", "1", "--excel-bom").exit_code == 0
    for name in ("assignments.csv", "unassigned.csv"):
        assert (out / name).read_bytes().startswith(b"\xef\xbb\xbfstudent_id,")
    assert _run("check", TINY, out).exit_code == 0
    r = _run("verify", out)
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["write_options"] == {"excel_bom": True, "lang": "en"}
