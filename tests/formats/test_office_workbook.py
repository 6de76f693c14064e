"""The graduate office's own workbook (issue 25): read with every tolerance noted, solved
with no edit, the clerk's own columns carried (tests/formats/office_book.py builds it)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import matcher
from matcher.cli import cli
from matcher.formats import Validation, validate_scenario
from matcher.messages import render

sys.path.insert(0, str(Path(__file__).parent))
import office_book


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return office_book.build(tmp_path_factory.mktemp("office") / "2026级分配.xlsx")


@pytest.fixture(scope="module")
def found(book: Path) -> Validation:
    return validate_scenario(book)


def _notes(found: Validation, code: str) -> list[str]:
    return [render(m, "en") for m in found.notes if m.code == code]


def test_valid_with_every_tolerance_noted(found: Validation) -> None:
    """The workbook validates (no error, no warning) and each tolerance is one note (by code):
    hidden sheets, the settings title, the header rows found below titles, the spaced header,
    the one-choice preference columns, the totals rows and the note below them, the hidden
    row, the merged university cell, lists at commas and line breaks, names as ids, dates as
    terms."""
    assert found.ok and found.errors == () and found.warnings == (), found.messages
    assert Counter(m.code for m in found.notes) == Counter({
        "load.hidden_sheet": 2, "load.title_rows": 1, "load.header_row": 2,
        "load.header_normalised": 1, "load.preference_columns": 1, "load.totals_rows": 2,
        "load.footer_rows": 1, "load.hidden_rows": 1, "load.merged_filled": 1,
        "load.list_split_cells": 3, "load.names_as_ids": 2, "load.dates_as_terms": 1})
    assert all(m.severity == "note" for m in found.notes)
    assert found.lang_hint == "zh"


def test_notes_name_the_cells(found: Validation) -> None:
    """Each note says where: the sheet, the Excel row, the column and the clerk's header."""
    assert _notes(found, "load.hidden_sheet")[0].startswith(
        "2026级分配.xlsx: hidden sheet '学生(旧)' not read")
    assert _notes(found, "load.header_row") == [
        "sheet 学生, row 3: taken as the header row; the row(s) above it (1, 2) were read as a "
        "title and skipped",
        "sheet 工作站, row 2: taken as the header row; the row(s) above it (1) were read as a "
        "title and skipped"]
    assert "'学 号' read as student_id" in _notes(found, "load.header_normalised")[0]
    assert _notes(found, "load.totals_rows")[0] == (
        "sheet 学生: 1 totals row(s) left out (rows 10)")
    assert _notes(found, "load.hidden_rows")[0].startswith(
        "sheet 学生: 1 hidden or filtered-out row(s) were read all the same (rows 8)")
    assert _notes(found, "load.merged_filled") == [
        "sheet 学生: merged cells C6:C7: the value of the first cell was used for every row of "
        "the merge"]
    assert _notes(found, "load.names_as_ids")[0] == (
        "sheet 学生, row 4, column F (第一志愿): names read as ids (rows 4, 5), e.g. "
        "'哈尔滨电气集团研究生工作站' as W01")
    assert _notes(found, "load.dates_as_terms") == [
        "sheet 学生, row 6, column I (最早开始学期): dates read as the term that contains them "
        "(rows 6, 7), e.g. '2026-09-01' as 2026-autumn (2026-09 to 2027-02)"]
    lists = _notes(found, "load.list_split_cells")
    assert any("'HIT，NEPU' as HIT, NEPU" in n for n in lists)
    assert any("'0951,0952' as 0951, 0952" in n and "sheet 工作站, row 6, column C" in n
               for n in lists)


def test_read_as_the_clerk_meant(found: Validation) -> None:
    """The values behind the notes: lists split, names and dates resolved, merged cell filled,
    hidden row read, totals and the hidden old sheet left out."""
    p = found.problem
    assert p is not None
    assert [s.student_id for s in p.students] == ["S01", "S02", "S03", "S04", "S05", "S06"]
    by_id = {s.student_id: s for s in p.students}
    assert by_id["S01"].preferences == ("W01", "W02")
    assert by_id["S02"].preferences == ("W02", "W01")
    assert by_id["S04"].university_id == "NEPU"
    assert by_id["S03"].window_start == by_id["S04"].window_start == "2026-autumn"
    ws = {w.workstation_id: w for w in p.workstations}
    assert ws["W04"].disciplines == ("0951", "0952")
    assert ws["W01"].partner_universities == ("HIT", "NEPU")
    assert [m.workstation_id for m in p.mentors] == ["W01", "W02", "W03", "W04"]
    assert p.mentors[1].disciplines == ("0854", "0855")
    assert p.terms == ("2026-autumn", "2027-spring", "2027-autumn", "2028-spring")


def test_carried_columns(found: Validation) -> None:
    """The clerk's own columns are kept, in order, with their headers, by id."""
    p = found.problem
    assert p is not None
    assert [(c.table, c.header) for c in p.carried] == [
        ("students", "姓名"), ("students", "备注"), ("workstations", "工作站名称"),
        ("mentors", "姓名"), ("supervisors", "姓名")]
    assert p.carried[0].by_id()["S01"] == "张三"
    assert p.carried[1].by_id() == {"S01": "班长", "S02": "", "S03": "缓考", "S04": "",
                                    "S05": "", "S06": "待定"}


def test_solves_with_no_edit(book: Path, tmp_path: Path) -> None:
    """matcher solve takes the workbook as it is (exit 0, notes printed in Chinese, no
    warning), and the result passes matcher check."""
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", str(book), "--out", str(tmp_path / "r"), "--solver",
                            "greedy"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith("提示：") for line in lines), lines
    problem = matcher.load_scenario(book)
    assert matcher.check(problem, matcher.read_result(tmp_path / "r")).ok


def test_the_same_workbook_without_tolerance_would_fail(book: Path, tmp_path: Path) -> None:
    """Unhiding the old students sheet makes it clash with 学生: an error naming both sheets
    (the hidden sheet was the only reason it was ignored)."""
    wb = openpyxl.load_workbook(book)
    wb["学生(旧)"].sheet_state = "visible"
    copy = tmp_path / "unhidden.xlsx"
    wb.save(copy)
    found = validate_scenario(copy)
    assert [m.code for m in found.errors] == ["load.sheets_clash"]
    assert "'学生' and '学生(旧)'" in render(found.errors[0], "en")
