"""The rules of issue 28 in the scenario format: reading, Chinese headers, writing, bad input.

A copy of ``scenarios/tiny`` gains ``min_intake``, ``max_segments``, tied choices, ``groups.csv``
and ``vetoes.csv``; each bad-input test breaks one of them and asserts the located message.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pytest

from matcher import load_scenario
from matcher.formats.scenario import write_scenario
from matcher.model import ScenarioError

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
MAKE_XLSX_PATH = TINY.parent / "make_xlsx.py"


def _scenario(tmp_path: Path, *, students: str | None = None, workstations: str | None = None,
              groups: str | None = "group_id,student_id\nG1,S4\nG1,S5\n",
              vetoes: str | None = "student_id,workstation_id\nS1,W3\n",
              policy: str = "") -> Path:
    """tiny with the rules: W2 needs at least 2, S1 may split, ties on S4's list."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "students.csv").write_text(students or (
        "student_id,university_id,discipline,work_experience_years,preferences,supervisor_id,"
        "priority,max_segments,window_start\n"
        "S1,HIT,0854,0,W1;W2,HIT-S1,92.0,2,2025-autumn\n"
        "S2,HIT,0854,0,W1,,85.5,,\n"
        "S3,HEU,0854,3,W2,HEU-S1,80.0,,\n"
        "S4,HEU,0855,0,W2=W3,,90.0,,\n"
        "S5,HEU,0855,0,W2,,75.5,,\n"
        "S6,HEU,0856,0,W3,,70.0,,\n"), encoding="utf-8")
    (folder / "workstations.csv").write_text(workstations or (
        "workstation_id,disciplines,capacity,partner_universities,min_intake\n"
        "W1,0854,1,HIT,\n"
        "W2,0854;0855,3,,2\n"
        "W3,0855,1,,0\n"), encoding="utf-8")
    if groups is not None:
        (folder / "groups.csv").write_text(groups, encoding="utf-8")
    if vetoes is not None:
        (folder / "vetoes.csv").write_text(vetoes, encoding="utf-8")
    if policy:
        text = (folder / "scenario.yaml").read_text(encoding="utf-8")
        (folder / "scenario.yaml").write_text(
            text.replace("  preferences_only: false", "  preferences_only: false\n" + policy),
            encoding="utf-8")
    return folder


def _errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.messages


def test_the_rules_are_read(tmp_path: Path) -> None:
    """Every addition lands in the Problem: min_intake, max_segments, ties, groups, vetoes and
    the policy keys."""
    p = load_scenario(_scenario(tmp_path, policy="  max_segments: 1\n  min_segment_months: 6\n"))
    by_ws = {w.workstation_id: w for w in p.workstations}
    by_st = {s.student_id: s for s in p.students}
    assert [by_ws[w].min_intake for w in ("W1", "W2", "W3")] == [0, 2, 0]
    assert by_st["S1"].max_segments == 2 and p.max_segments(by_st["S1"]) == 2
    assert p.max_segments(by_st["S2"]) == 1
    assert by_st["S4"].preferences == ("W2", "W3") and by_st["S4"].ranks == {"W2": 1, "W3": 1}
    assert p.max_rank == 2  # S1's list: ranks 1, 2
    assert [(g.group_id, g.student_id) for g in p.groups] == [("G1", "S4"), ("G1", "S5")]
    assert [(v.student_id, v.workstation_id) for v in p.vetoes] == [("S1", "W3")]
    assert p.policy.min_segment_months == 6


def test_write_scenario_keeps_the_rules(tmp_path: Path) -> None:
    """A scenario written back (variants do this) reads as the same problem, ties included;
    a scenario without the rules is written as before (no new columns or keys)."""
    p = load_scenario(_scenario(tmp_path, policy="  max_segments: 2\n"))
    out = write_scenario(p, tmp_path / "out")
    assert "W2=W3" in (out / "students.csv").read_text(encoding="utf-8")
    back = load_scenario(out)
    skip = {"input_sha256", "input_files", "source"}
    assert back.model_dump(exclude=skip) == p.model_dump(exclude=skip)
    plain = write_scenario(load_scenario(TINY), tmp_path / "plain")
    assert "min_intake" not in (plain / "workstations.csv").read_text(encoding="utf-8")
    assert "max_segments" not in (plain / "scenario.yaml").read_text(encoding="utf-8")
    assert not (plain / "groups.csv").exists() and not (plain / "vetoes.csv").exists()


def test_chinese_headers_and_sheet_names(tmp_path: Path) -> None:
    """A graduate office's names: 最低接收人数, 分段数, 组号, sheets 小组 and 回避."""
    folder = _scenario(tmp_path)
    spec = importlib.util.spec_from_file_location("make_xlsx", MAKE_XLSX_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    book = module.convert(folder, tmp_path / "book" / "rules.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["groups"].title = "小组"
    wb["vetoes"].title = "回避"
    headers = {c.value for c in next(wb["workstations"].iter_rows(max_row=1))}
    assert "最低接收人数" in headers
    assert "组号" in {c.value for c in next(wb["小组"].iter_rows(max_row=1))}
    wb.save(book)
    p = load_scenario(book)
    assert [g.student_id for g in p.groups] == ["S4", "S5"]
    assert {s.student_id: s.max_segments for s in p.students}["S1"] == 2
    assert {w.workstation_id: w.min_intake for w in p.workstations}["W2"] == 2


def test_min_intake_above_what_the_workstation_can_hold(tmp_path: Path) -> None:
    """W1 holds 1 a term over 4 terms: 4 students of one term (S3 needs one) at most, so 5 is
    an error."""
    ws = ("workstation_id,disciplines,capacity,partner_universities,min_intake\n"
          "W1,0854,1,HIT,5\nW2,0854;0855,3,,\nW3,0855,1,,\n")
    errors = _errors(_scenario(tmp_path, workstations=ws))
    assert any(e.startswith("workstations.csv row 1, min_intake: minimum intake 5 of 'W1' is "
                            "more than it can ever take: 4 term-places") for e in errors), errors


def test_a_group_that_can_never_share_a_workstation(tmp_path: Path) -> None:
    """S5 (0855) and S6 (0856): no workstation takes both disciplines."""
    errors = _errors(_scenario(tmp_path, groups="group_id,student_id\nG9,S5\nG9,S6\n"))
    assert any(e.startswith("groups.csv row 2, group_id: the 2 students of group 'G9' can "
                            "never share a workstation: none takes all their disciplines")
               for e in errors), errors


def test_a_group_split_by_partnership(tmp_path: Path) -> None:
    """S2 (HIT) and S3 (HEU), both 0854: W1 takes 0854 but only HIT; W2 takes both."""
    ws = ("workstation_id,disciplines,capacity,partner_universities\n"
          "W1,0854,1,HIT\nW2,0854;0855,3,HIT\nW3,0855,1,\n")
    errors = _errors(_scenario(tmp_path, workstations=ws,
                               groups="group_id,student_id\nG9,S2\nG9,S3\n"))
    assert any("none that takes their disciplines is open to all their universities" in e
               for e in errors), errors


def test_a_veto_of_an_unknown_pair(tmp_path: Path) -> None:
    """A veto naming a student or workstation the scenario does not have."""
    errors = _errors(_scenario(tmp_path, vetoes="student_id,workstation_id\nS9,W1\nS1,W7\n"))
    assert "vetoes.csv row 1, student_id: unknown student 'S9' (not in students.csv)" in errors
    assert "vetoes.csv row 2, workstation_id: unknown workstation 'W7' (not in " \
           "workstations.csv)" in errors


def test_a_tie_that_repeats_a_workstation(tmp_path: Path) -> None:
    """``W2=W2`` lists W2 twice."""
    students = ("student_id,university_id,discipline,work_experience_years,preferences,"
                "supervisor_id\nS1,HIT,0854,0,W1=W1;W2,HIT-S1\n")
    errors = _errors(_scenario(tmp_path, students=students, groups=None, vetoes=None))
    assert any(e.startswith("students.csv row 1, preferences: workstation 'W1' is listed twice")
               for e in errors), errors


def test_max_segments_that_no_window_can_hold(tmp_path: Path) -> None:
    """S2 (12 months = 2 terms) in the 2-term policy window cannot be split (a split needs a
    term between the blocks)."""
    students = ("student_id,university_id,discipline,work_experience_years,preferences,"
                "supervisor_id,max_segments\nS2,HIT,0854,0,W1,,2\n")
    errors = _errors(_scenario(tmp_path, students=students, groups=None, vetoes=None))
    assert any(e.startswith("students.csv row 1, max_segments: max_segments 2: a practice of 2 "
                            "term(s) cannot be split inside the window") for e in errors), errors


def test_a_lock_on_a_vetoed_workstation(tmp_path: Path) -> None:
    """A lock and a veto that contradict each other name both rows."""
    folder = _scenario(tmp_path, vetoes="student_id,workstation_id\nS2,W1\n")
    (folder / "locks.csv").write_text("student_id,workstation_id\nS2,W1\n", encoding="utf-8")
    errors = _errors(folder)
    assert any(e.startswith("locks.csv row 1, workstation_id: lock of 'S2' at 'W1': vetoes row "
                            "1 forbids that placement") for e in errors), errors


def test_a_rules_id_that_looks_like_a_known_one_says_which(tmp_path: Path) -> None:
    """``s1`` in vetoes.csv and ``Ｓ4`` (full width) in groups.csv are unknown, but look like
    S1 and S4: the loader's "did you mean" (``load.unknown_id_similar``), in both languages;
    an id like nothing keeps ``rules.unknown_student``."""
    folder = _scenario(tmp_path, vetoes="student_id,workstation_id\ns1,w3\n",
                       groups="group_id,student_id\nG1,Ｓ4\nG1,S9\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    found = {(m.location.file if m.location else "", m.code): m for m in info.value.structured}
    veto = found["vetoes.csv", "load.unknown_id_similar"]
    assert veto.stored()["similar"] in ("S1", "W3")
    en, zh = info.value.lines("en"), info.value.lines("zh")
    assert ("vetoes.csv row 1, student_id: unknown student 's1' (not in students.csv); did you "
            "mean 'S1'?") in en
    assert ("vetoes.csv row 1, workstation_id: unknown workstation 'w3' (not in "
            "workstations.csv); did you mean 'W3'?") in en
    assert any(line.startswith("groups.csv 第1行（student_id）：学生“Ｓ4”不存在") and
               "是否应为“S4”" in line for line in zh), zh
    assert found["groups.csv", "rules.unknown_student"].stored()["value"] == "S9"
