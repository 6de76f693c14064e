"""The New-run page and ``POST /api/runs`` show what ``validate`` says (the library's
structured :func:`matcher.validate_scenario`): errors, warnings and notes located at the
sheet, Excel row, column letter and the clerk's header, in the page's language."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from matcher.messages import Message, msg
from matcher.web.validation import findings


@pytest.fixture(scope="module")
def chinese_book(tmp_path_factory: pytest.TempPathFactory, tiny_xlsx: Path) -> Path:
    """The tiny workbook kept as an office keeps it: its students sheet named 学生 with a
    title row above the header, and an unknown university (NOPE) in the row of S2, which is
    Excel row 4 below the title."""
    wb = openpyxl.load_workbook(tiny_xlsx)
    sheet = wb["students"]
    sheet.title = "学生"
    assert sheet["B1"].value == "高校"
    sheet["B3"] = "NOPE"
    sheet.insert_rows(1)
    sheet["A1"] = "2026级专业学位研究生实践分配表"
    out = tmp_path_factory.mktemp("zh") / "分配表.xlsx"
    wb.save(out)
    return out


def test_api_error_located_in_chinese(client: TestClient, chinese_book: Path) -> None:
    """422 whose error names the sheet 学生, row 4, column B (高校) in Chinese; the note that
    row 2 was taken as the header comes after the errors; nothing is queued."""
    r = client.post("/api/runs?lang=zh", files={"scenario": ("分配表.xlsx",
                                                            chinese_book.read_bytes())})
    assert r.status_code == 422, r.text
    messages = r.json()["messages"]
    error = next(m for m in messages if m["code"] == "load.unknown_id")
    assert error["severity"] == "error"
    assert error["location"]["sheet"] == "学生"
    assert (error["location"]["row"], error["location"]["column"]) == (4, "B")
    assert error["location"]["header"] == "高校"
    assert error["where"] == "学生 工作表 第4行 B列（高校）"
    assert "NOPE" in error["text"] and "高校" in error["text"]
    severities = [m["severity"] for m in messages]
    assert severities == sorted(severities, key=["error", "warning", "note"].index)
    assert "load.header_row" in [m["code"] for m in messages if m["severity"] == "note"]
    assert client.get("/api/runs").json()["runs"] == []


def test_new_page_table_in_chinese(client: TestClient, chinese_book: Path) -> None:
    """The New-run page's table: the error row carries its code, the sheet, the Excel row,
    the column letter and header, and the Chinese text; no start form."""
    page = client.post("/new", files={"scenario": ("分配表.xlsx", chinese_book.read_bytes())},
                       headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    html = page.text
    row = html[html.index('data-code="load.unknown_id"'):]
    row = row[:row.index("</tr>")]
    assert "学生" in row and ">4<" in row and "B" in row and "高校" in row and "NOPE" in row
    assert 'data-code="load.header_row"' in html
    assert 'id="start-form"' not in html


def test_findings_rows_like_the_library() -> None:
    """Other lists of messages (a refused upload, an old run's plain line) become the same
    rows: errors first, then warnings, then notes; a plain line is an error with no code."""
    from matcher.messages import Location

    note = msg("load.header_row", severity="note", at=Location(sheet="学生", row=2),
               skipped="1")
    error = msg("web.upload_missing", at=Location(file="upload"))
    rows = findings([note, "old: line", error], "zh")
    assert [(r["severity"], r["code"]) for r in rows] == [
        ("error", None), ("error", "web.upload_missing"), ("note", "load.header_row")]
    assert rows[0]["text"] == "old: line" and rows[2]["sheet"] == "学生"
    assert isinstance(note, Message)


def test_folder_errors_name_the_setting_and_the_cell(client: TestClient, tmp_path: Path
                                                    ) -> None:
    """A zipped folder: a bad setting of scenario.yaml is shown with its key (no row, no
    column to point at), a bad cell with its file, row and header; in English here."""
    import shutil

    from conftest import TINY, zip_of

    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    yaml = folder / "scenario.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("practice_months: 12 ",
                                                    "practice_months: -3 "), "utf-8")
    students = folder / "students.csv"
    students.write_text(students.read_text("utf-8") + 'S9,HIT,0854,0,W1,,x\n', "utf-8")
    page = client.post("/new", files={"scenario": ("tiny.zip", zip_of(folder, "tiny/"))},
                       headers={"accept-language": "en"})
    html = page.text
    setting = html[html.index('data-code="load.value_too_small"'):]
    setting = setting[:setting.index("</tr>")]
    assert "policy.practice_months" in setting
    cell = html[html.index('data-code="load.not_a_number"'):]
    cell = cell[:cell.index("</tr>")]
    assert "students.csv" in cell and ">7<" in cell and "priority" in cell


def test_a_loader_bug_is_a_row_not_a_500(client: TestClient, tiny_xlsx: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Should the loader itself fail (a bug, not bad input), the clerk gets one error row
    naming the upload (422 from the API), never a server error; nothing is queued."""
    import matcher.web.validation as web_validation

    def broken(path: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web_validation, "validate_scenario", broken)
    r = client.post("/api/runs", files={"scenario": ("tiny.xlsx", tiny_xlsx.read_bytes())})
    assert r.status_code == 422, r.text
    (only,) = r.json()["messages"]
    assert only["code"] == "web.validate_crashed" and only["location"]["file"] == "tiny.xlsx"
    page = client.post("/new", files={"scenario": ("tiny.xlsx", tiny_xlsx.read_bytes())})
    assert page.status_code == 200 and 'data-code="web.validate_crashed"' in page.text
    assert client.get("/api/runs").json()["runs"] == []
