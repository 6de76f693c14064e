"""The language of a scenario, from its names (:mod:`matcher.formats.language`): Chinese headers
or sheet names mean zh; data, damaged files and English names say nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from chinese import TINY, chinese_tiny

import matcher
from matcher.formats.language import scenario_language

ROOT = Path(__file__).resolve().parents[2]


def test_folders_by_their_headers(tmp_path: Path) -> None:
    """tiny (English headers) says nothing; the same data under Chinese headers is zh, and the
    loader records it on the problem."""
    assert scenario_language(TINY) is None
    assert matcher.load_scenario(TINY).language is None
    zh = chinese_tiny(tmp_path / "zh")
    assert scenario_language(zh) == "zh"
    assert matcher.load_scenario(zh).language == "zh"


def test_chinese_data_under_english_headers_is_not_chinese(tmp_path: Path) -> None:
    """Names are looked at, not data: Chinese cities under English headers say nothing."""
    folder = tmp_path / "data"
    folder.mkdir()
    for f in TINY.iterdir():
        text = f.read_text(encoding="utf-8").replace("Harbin", "哈尔滨")
        (folder / f.name).write_text(text, encoding="utf-8")
    assert scenario_language(folder) is None


def test_workbooks_by_sheet_names_or_first_rows(tmp_path: Path) -> None:
    """A workbook is zh by a Chinese sheet name, or by Chinese headers under English sheet names
    (the demo workbook); English sheets and headers say nothing."""
    assert scenario_language(ROOT / "scenarios" / "heilongjiang-demo-xlsx") == "zh"

    def book(name: str, sheet: str, header: list[str], rows: list[list[str]]) -> Path:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = sheet
        for row in [header, *rows]:
            ws.append(row)
        path = tmp_path / name
        wb.save(path)
        return path

    assert scenario_language(book("a.xlsx", "学生", ["student_id"], [["S1"]])) == "zh"
    assert scenario_language(book("b.xlsx", "students", ["学号", "高校"], [["S1", "HIT"]])) \
        == "zh"
    assert scenario_language(book("c.xlsx", "students", ["student_id", "city"],
                                  [["S1", "哈尔滨"]])) is None


def test_unreadable_inputs_say_nothing(tmp_path: Path) -> None:
    """A damaged workbook, a missing path or an undecodable CSV give None, never an error (the
    loader reports on them)."""
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert scenario_language(tmp_path / "broken.xlsx") is None
    assert scenario_language(tmp_path / "missing") is None
    folder = tmp_path / "bytes"
    folder.mkdir()
    (folder / "students.csv").write_bytes(b"\xff\xfe\x00garbage")
    assert scenario_language(folder) is None
