"""Suspicious-data warnings (issue 25 item 4): each names the cells and the likely fix; none
stops a solve, and validate --strict refuses them."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from matcher.cli import cli
from matcher.formats import validate_scenario
from matcher.messages import Message, render
from matcher.model.problem import Problem
from matcher.model.suspicious import suspicious

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def _make_xlsx() -> object:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def scen(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _warnings(path: Path) -> dict[str, Message]:
    found = validate_scenario(path)
    assert found.ok, found.errors
    return {m.code: m for m in found.warnings}


def test_tiny_warnings() -> None:
    """tiny's known oddities: S6's discipline 0856 that no workstation takes, and HEU's
    supervisors taking 3 of its 4 students (why tiny places 5 of 6)."""
    found = _warnings(TINY)
    assert set(found) == {"data.no_workstation_takes", "data.supervisors_below_students"}
    assert render(found["data.no_workstation_takes"], "en") == (
        "students.csv row 6, discipline: no workstation takes discipline '0856', which 1 "
        "student(s) have (rows 6); check the code, or add it to a workstation's disciplines in "
        "workstations.csv")
    assert render(found["data.supervisors_below_students"], "zh") == (
        "supervisors.csv 第2行（capacity）：HEU 的校内导师合计只能指导 3 名学生，少于 students.csv "
        "中该校的 4 名学生，至少有 1 名无法分配；请提高校内导师的指导人数，或增加校内导师")


def test_leading_zero_lost_in_a_workbook(tmp_path: Path) -> None:
    """A discipline typed as the number 854 (Excel dropped the leading zero) where 0854 exists:
    a warning naming the sheet, row, column and the fix (type 0854, format the column as
    Text) — and no second warning about the same students."""
    book = _make_xlsx().convert(TINY, tmp_path / "t" / "tiny.xlsx")  # type: ignore[attr-defined]
    wb = openpyxl.load_workbook(book)
    wb["students"]["C3"] = 854  # S2, a number in a General cell
    wb.save(book)
    found = validate_scenario(book)
    assert found.ok
    lost = [m for m in found.warnings if m.code == "data.leading_zero_lost"]
    assert [render(m, "en") for m in lost] == [
        "sheet students, row 3, column C (学科/专业类别): '854' looks like '0854' with its "
        "leading zero lost (Excel drops the leading zeros of numbers; rows 3); type '0854' and "
        "format the column as Text"]
    assert render(lost[0], "zh").endswith(
        "请改填“0854”，并把该列设为文本格式（设置单元格格式 > 文本）")
    assert not any(m.code in ("data.no_workstation_takes", "data.student_fits_nowhere")
                   and "854'" in render(m, "en") for m in found.warnings)


def test_several_codes_in_one_discipline_cell(scen: Path) -> None:
    """A student's discipline '0854,0855' (one cell, one code expected) is a warning naming
    the cell and saying to give one code."""
    _edit(scen, "students.csv", "S4,HEU,0855,", 'S4,HEU,"0854,0855",')
    w = _warnings(scen)["data.several_codes"]
    assert render(w, "en") == (
        "students.csv row 4, discipline: '0854,0855' holds several codes (0854, 0855) where one "
        "is expected (rows 4); give one code, or put the row once per code")


def test_codes_run_together(scen: Path) -> None:
    """A mentor discipline '08540855' (two codes without a separator) is named with both."""
    _edit(scen, "mentors.csv", "W2-M1,W2,0854,", "W2-M1,W2,0854;08540855,")
    w = _warnings(scen)["data.codes_joined"]
    assert render(w, "en").startswith("mentors.csv row 2, disciplines: '08540855' looks like the "
                                      "codes 0854, 0855 written together (rows 2)")


def test_comma_list_is_a_note_not_a_code(scen: Path) -> None:
    """Mentor disciplines '0854,0855' in one cell are two codes (with a note), not one."""
    _edit(scen, "mentors.csv", "W2-M1,W2,0854,", 'W2-M1,W2,"0854,0855",')
    found = validate_scenario(scen)
    assert found.problem is not None and found.problem.mentors[1].disciplines == ("0854",
                                                                                  "0855")
    (note,) = [m for m in found.notes if m.code == "load.list_split_cells"]
    assert render(note, "en").startswith("mentors.csv row 2, disciplines: 1 cell(s) of this "
                                         "column separate items with ','")


def test_capacity_zero_and_spaced_ids(scen: Path) -> None:
    """A mentor with capacity 0 and two workstation ids differing by a space are warnings."""
    _edit(scen, "mentors.csv", "W2-M2,W2,0855,1", "W2-M2,W2,0855,0")
    _edit(scen, "workstations.csv", "W3,0855", "W 1,0855")
    _edit(scen, "mentors.csv", "W3-M1,W3", "W3-M1,W 1")
    _edit(scen, "students.csv", "W2;W3", "W2;W 1")
    _edit(scen, "students.csv", "S6,HEU,0856,0,W3", "S6,HEU,0856,0,W 1")
    w = _warnings(scen)
    assert render(w["data.capacity_zero"], "en") == (
        "mentors.csv row 3, capacity: 1 mentor(s) with capacity 0 (rows 3) take no student; "
        "give the capacity, or delete the row if they take none this year")
    assert render(w["data.ids_differ_by_spaces"], "en").startswith(
        "workstations.csv row 3, workstation_id: 'W 1' and 'W1' (row 1) differ only by spaces")


def test_workstation_nobody_can_use_and_student_who_fits_nowhere(scen: Path) -> None:
    """A workstation whose mentors do not cover its disciplines; students of a university no
    workstation with their discipline accepts."""
    _edit(scen, "mentors.csv", "W3-M1,W3,0855,", "W3-M1,W3,0854,")
    _edit(scen, "workstations.csv", "W2,0854;0855,3,,", "W2,0854;0855,3,HIT,")
    found = validate_scenario(scen).warnings
    (ws,) = [render(m, "en") for m in found if m.code == "data.workstation_no_mentor"]
    assert ws.startswith("workstations.csv row 3, disciplines: workstation 'W3' takes 0855, but "
                         "none of its mentors in mentors.csv mentors them")
    nowhere = [render(m, "en") for m in found if m.code == "data.student_fits_nowhere"]
    assert [line.split(" fit no workstation")[0] for line in nowhere] == [
        "students.csv row 3, discipline: 1 student(s) of HEU in discipline '0854' (rows 3)",
        "students.csv row 4, discipline: 2 student(s) of HEU in discipline '0855' (rows 4, 5)"]


def test_mentors_below_workstation(scen: Path) -> None:
    """A workstation with more places than its mentors take together: one warning, the
    places that cannot be used."""
    _edit(scen, "workstations.csv", "W2,0854;0855,3,", "W2,0854;0855,5,")
    assert render(_warnings(scen)["data.mentors_below_workstation"], "en").startswith(
        "workstations.csv row 2, capacity: 1 workstation(s) have more places per term than their "
        "mentors take together (rows 2; e.g. 'W2': 5 places, its mentors take 3): 2 place(s) "
        "cannot be used")


def test_warnings_are_model_issues() -> None:
    """suspicious() works on a problem built in code: warnings located by table and row."""
    from matcher import load_scenario

    p: Problem = load_scenario(TINY)
    issues = suspicious(p)
    assert {(i.table, i.row, i.column, i.severity) for i in issues} == {
        ("students", 5, "discipline", "warning"), ("supervisors", 1, "capacity", "warning")}


def test_warnings_do_not_stop_a_solve_but_strict_validate_refuses(tmp_path: Path) -> None:
    """solve prints the warnings and exits 0; validate --strict exits 2 after them."""
    runner = CliRunner()
    r = runner.invoke(cli, ["solve", str(TINY), "--out", str(tmp_path / "r"), "--solver",
                            "greedy"], catch_exceptions=False)
    assert r.exit_code == 0
    assert "warning: students.csv row 6, discipline: no workstation takes" in r.stderr
    r = runner.invoke(cli, ["validate", str(TINY), "--strict"], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == ("error: 2 warning(s) above; --strict treats them as "
                                         "errors")
    assert r.stdout == ""
