"""Tests of Excel input (:mod:`matcher.formats.workbook`), Chinese header aliases and encodings.

Workbooks are made from the CSV scenarios by ``scenarios/make_xlsx.py`` (Chinese headers, numbers
as numbers) and then edited with openpyxl to break one thing at a time.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from matcher import ScenarioError, load_scenario
from matcher.cli import cli
from matcher.formats import aliases
from matcher.formats import workbook as excel
from matcher.formats.schema import TABLES
from matcher.model import Problem

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "heilongjiang-demo"
DEMO_XLSX = ROOT / "scenarios" / "heilongjiang-demo-xlsx" / "scenario.xlsx"
PROVENANCE = {"input_files", "input_sha256", "source", "language"}


def _make_xlsx() -> Any:
    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_XLSX = _make_xlsx()


def _same(a: Problem, b: Problem) -> bool:
    """Equal as problems: every setting and entity, ignoring where they were read from."""
    return a.model_dump(exclude=PROVENANCE) == b.model_dump(exclude=PROVENANCE)


def _errors(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.messages


def _run(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """tiny as a workbook with Chinese headers, alone in a folder."""
    return MAKE_XLSX.convert(TINY, tmp_path / "tiny" / "tiny.xlsx")


def _edit(path: Path, sheet: str, cell: str, value: Any) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


# ---- reading workbooks ----------------------------------------------------------------------
def test_demo_workbook_same_problem_as_csv() -> None:
    """The committed demo workbook (Chinese headers) loads into the same Problem as the CSVs."""
    from_csv = load_scenario(DEMO)
    from_xlsx = load_scenario(DEMO_XLSX)
    assert _same(from_csv, from_xlsx)
    assert from_xlsx.input_files[0][0] == "scenario.xlsx"
    assert from_xlsx.source == str(DEMO_XLSX)
    header = next(openpyxl.load_workbook(DEMO_XLSX, read_only=True)["students"].values)
    assert header[:5] == ("学号", "高校", "学科/专业类别", "工作年限", "志愿")


def test_demo_workbook_is_up_to_date(tmp_path: Path) -> None:
    """make_xlsx.py regenerates the committed demo workbook byte for byte."""
    fresh = MAKE_XLSX.convert(DEMO, tmp_path / "scenario.xlsx")
    assert fresh.read_bytes() == DEMO_XLSX.read_bytes()


def test_tiny_workbook_file_and_folder(book: Path) -> None:
    """A workbook given as a file, or as the one workbook in a folder, is the CSV problem."""
    tiny = load_scenario(TINY)
    assert _same(load_scenario(book), tiny)
    assert _same(load_scenario(book.parent), tiny)


def test_sheet_row_in_cross_table_message(book: Path) -> None:
    """A cross-table error names the sheet, Excel's row number, the column letter and the
    header as typed, and the sheet (not the CSV file) that should hold the id."""
    _edit(book, "students", "E5", "W2;W9")  # S4, data row 4, is Excel row 5
    assert _errors(book) == ["sheet students, row 5, column E (志愿): unknown workstation "
                             "'W9' (not in sheet workstations)"]


def test_sheet_row_in_cell_message(book: Path) -> None:
    """A bad cell names the sheet, Excel's row and the column, with the value as typed."""
    _edit(book, "students", "D4", "abc")
    assert _errors(book) == ["sheet students, row 4, column D (工作年限): 'abc' is not a "
                             "number; give a plain number"]


def test_rows_are_excel_rows_after_blank_and_title_rows(book: Path) -> None:
    """Blank rows and a header below row 1 do not shift the row numbers from Excel's."""
    wb = openpyxl.load_workbook(book)
    ws = wb["mentors"]
    ws.insert_rows(1, 2)  # header now in row 3
    ws.insert_rows(5)  # a blank row inside the data
    wb.save(book)
    _edit(book, "mentors", "B7", "W7")  # W2-M2 (was Excel row 4)
    assert _errors(book) == ["sheet mentors, row 7, column B (工作站编号): unknown "
                             "workstation 'W7' (not in sheet workstations)"]


def test_notes_beside_the_table_and_other_sheets_ignored(book: Path) -> None:
    """A note right of the header's last column and an extra sheet do not change anything."""
    wb = openpyxl.load_workbook(book)
    wb["students"]["L3"] = "缺材料, 待补"
    wb.create_sheet("说明")["A1"] = "本表由研究生院填写"
    wb.save(book)
    assert _same(load_scenario(book), load_scenario(TINY))


def test_formula_cell_is_an_error(book: Path) -> None:
    """A formula is not evaluated: the cell is named and the table is not used."""
    _edit(book, "mentors", "D3", "=1+1")
    assert _errors(book) == ["sheet mentors, row 3, column D (容量): holds a formula (=1+1); "
                             "formulas are not evaluated: replace it with its value (copy, then "
                             "Paste Special > Values)"]


def test_error_value_cell_is_an_error(book: Path) -> None:
    """An Excel error value (#N/A) is named with its cell."""
    _edit(book, "students", "B2", "#N/A")
    assert _errors(book) == ["sheet students, row 2, column B (高校): holds the Excel error "
                             "#N/A; correct the cell or type the value (formulas are not "
                             "evaluated)"]


def test_zero_padded_number_keeps_leading_zeros(book: Path) -> None:
    """A discipline typed as the number 854 in a cell formatted 0000 is read as '0854'."""
    wb = openpyxl.load_workbook(book)
    cell = wb["students"]["C2"]
    cell.value = 854
    cell.number_format = "0000"
    wb.save(book)
    assert load_scenario(book).students[0].discipline == "0854"


def test_chinese_sheet_names(book: Path) -> None:
    """Sheets may be named by their Chinese aliases (学生, 设置, ...)."""
    wb = openpyxl.load_workbook(book)
    wb["students"].title = "学生"
    wb["scenario"].title = "设置"
    wb.save(book)
    assert _same(load_scenario(book), load_scenario(TINY))
    _edit(book, "学生", "E5", "W9")
    assert _errors(book)[0].startswith("sheet 学生, row 5, column E (志愿): unknown "
                                       "workstation 'W9'")


def test_missing_sheet(book: Path) -> None:
    """A missing required sheet is named with the sheets that are there."""
    wb = openpyxl.load_workbook(book)
    del wb["mentors"]
    wb.save(book)
    (msg,) = _errors(book)
    assert msg.startswith("tiny.xlsx: missing sheet 'mentors'; a scenario workbook needs sheets "
                          "named students, workstations, mentors, supervisors (sheets found: ")


def test_empty_sheet(book: Path) -> None:
    """An empty required sheet is reported as such."""
    wb = openpyxl.load_workbook(book)
    del wb["mentors"]
    wb.create_sheet("mentors")
    wb.save(book)
    assert _errors(book) == ["sheet mentors: the sheet is empty; it needs a header row and "
                             "data rows"]


# ---- the scenario sheet ---------------------------------------------------------------------
def _setting_row(book: Path, key: str) -> int:
    ws = openpyxl.load_workbook(book)["scenario"]
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == key)


def test_scenario_sheet_unknown_term_names_row(book: Path) -> None:
    """A policy.window naming an unknown term points at the row of policy.window."""
    row = _setting_row(book, "policy.window")
    _edit(book, "scenario", f"B{row}", "2026-autumn; 2029-spring")
    assert _errors(book) == [f"sheet scenario, row {row}, column B (policy.window): unknown "
                             "term '2029-spring' (not in terms: 2025-autumn, 2026-spring, "
                             "2026-autumn, 2027-spring)"]


def test_scenario_sheet_unknown_key_and_setting(book: Path) -> None:
    """Unknown keys and settings are named with their rows."""
    row = _setting_row(book, "policy.preferences_only")
    _edit(book, "scenario", f"A{row}", "policy.preferences_onlyy")
    wb = openpyxl.load_workbook(book)
    wb["scenario"].append(["colour", "red"])
    last = wb["scenario"].max_row
    wb.save(book)
    assert sorted(_errors(book)) == sorted([
        f"sheet scenario, row {row}, column B (policy.preferences_onlyy): unknown setting",
        f"sheet scenario, row {last}, column B (colour): unknown key; use one of description, "
        "name, objective, policy, solver, term_months, terms"])


def test_scenario_sheet_duplicate_key(book: Path) -> None:
    """A setting given twice names both rows."""
    row = _setting_row(book, "term_months")
    wb = openpyxl.load_workbook(book)
    wb["scenario"].append(["每学期月数", 6])  # the Chinese alias of term_months
    last = wb["scenario"].max_row
    wb.save(book)
    assert _errors(book) == [f"sheet scenario, row {last}, 每学期月数: already given in row "
                             f"{row}; keep one row per setting"]


def test_scenario_sheet_values(book: Path) -> None:
    """是/否, TRUE/FALSE cells, bracketed lists and a sheet without a header row all work."""
    wb = openpyxl.load_workbook(book)
    ws = wb["scenario"]
    ws.delete_rows(1)  # no header row: key in A, value in B
    for r in range(1, ws.max_row + 1):
        key = ws.cell(r, 1).value
        if key == "policy.preferences_only":
            ws.cell(r, 2).value = "是"
        if key == "objective.pair_weight":
            ws.cell(r, 2).value = False
        if key == "terms":
            ws.cell(r, 2).value = "[2025-autumn, 2026-spring，2026-autumn、2027-spring]"
    wb.save(book)
    p = load_scenario(book)
    assert p.policy.preferences_only is True
    assert p.objective.pair_weight is False
    assert p.terms == ("2025-autumn", "2026-spring", "2026-autumn", "2027-spring")


def test_yaml_beside_workbook(book: Path) -> None:
    """Without a scenario sheet, scenario.yaml beside the workbook gives the settings."""
    wb = openpyxl.load_workbook(book)
    del wb["scenario"]
    wb.save(book)
    shutil.copy(TINY / "scenario.yaml", book.parent / "scenario.yaml")
    p = load_scenario(book)
    assert _same(p, load_scenario(TINY))
    assert [name for name, _ in p.input_files] == ["scenario.yaml", "tiny.xlsx"]


def test_sheet_and_yaml_both_is_an_error(book: Path) -> None:
    """A scenario sheet and a scenario.yaml beside it: ambiguous, refused."""
    shutil.copy(TINY / "scenario.yaml", book.parent / "scenario.yaml")
    assert _errors(book) == ["tiny.xlsx: has a scenario sheet and there is also a scenario.yaml "
                             "beside it; keep one of them"]


def test_no_settings_at_all(book: Path) -> None:
    """No scenario sheet and no scenario.yaml: one line saying what to add."""
    wb = openpyxl.load_workbook(book)
    del wb["scenario"]
    wb.save(book)
    (msg,) = _errors(book)
    assert msg.startswith("tiny.xlsx: no sheet named scenario and no scenario.yaml beside it")


# ---- which file is the scenario -------------------------------------------------------------
def test_folder_with_csvs_and_workbook(book: Path) -> None:
    """A folder holding CSV tables and a workbook is ambiguous."""
    shutil.copy(TINY / "students.csv", book.parent / "students.csv")
    (msg,) = _errors(book.parent)
    assert msg == (f"{book.parent}: holds both CSV tables (students.csv) and a workbook "
                   "(tiny.xlsx); give the workbook's path to read it, or move the workbook out "
                   "of the folder to read the CSVs")
    assert _same(load_scenario(book), load_scenario(TINY))  # the file path is clear


def test_folder_with_two_workbooks(book: Path) -> None:
    """Two workbooks in a folder: give the one to read."""
    shutil.copy(book, book.parent / "other.xlsx")
    assert _errors(book.parent) == [f"{book.parent}: holds 2 workbooks (other.xlsx, tiny.xlsx); "
                                    "give the path of the one to read"]


@pytest.mark.parametrize(("name", "content", "start"), [
    ("old.xls", b"\xd0\xcf\x11\xe0", "an old-format Excel workbook (.xls) cannot be read"),
    ("fake.xlsx", b"student_id,university_id\n", "not an .xlsx workbook"),
    ("notes.txt", b"hello", "not a scenario folder or .xlsx workbook"),
])
def test_not_a_workbook(tmp_path: Path, name: str, content: bytes, start: str) -> None:
    """Files that are not .xlsx workbooks get one clear line."""
    path = tmp_path / name
    path.write_bytes(content)
    (msg,) = _errors(path)
    assert start in msg and msg.startswith(name if name == "fake.xlsx" else str(path))


def test_external_links_refused(book: Path) -> None:
    """A workbook linking to another workbook is refused before it is parsed."""
    raw = io.BytesIO()
    with zipfile.ZipFile(book) as src, zipfile.ZipFile(raw, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/externalLinks/externalLink1.xml", "<externalLink/>")
    book.write_bytes(raw.getvalue())
    (msg,) = _errors(book)
    assert msg.startswith("tiny.xlsx: links to other workbooks (external links)")


def test_size_and_row_limits(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the file-size or the row limit, the workbook or sheet is refused with the limit."""
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 5)  # mentors: header and 4 rows, still fine
    assert _errors(book) == [f"sheet {name}: {rows} rows, more than the 5 a table may have; "
                             "check that it is the right file or sheet, or split the scenario"
                             for name, rows in (("students", 7), ("scenario", 14))]
    monkeypatch.setattr(excel, "MAX_WORKBOOK_BYTES", 1000)
    (msg,) = _errors(book)
    assert msg.startswith("tiny.xlsx: ") and "over the 0.000953674 MiB limit" in msg


# ---- Chinese headers and encodings in CSVs --------------------------------------------------
def _chinese_headers(folder: Path, encoding: str) -> None:
    """Rewrite every CSV of ``folder`` with Chinese headers, saved in ``encoding``."""
    for table in TABLES:
        path = folder / table.file
        if not path.is_file():
            continue
        with path.open(encoding="utf-8", newline="") as f:
            header, *rows = list(csv.reader(f))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([aliases.preferred(h) for h in header])
        writer.writerows(rows)
        path.write_bytes(out.getvalue().encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    """CSVs with Chinese headers load the same in UTF-8, UTF-8 with BOM and GB18030."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    _chinese_headers(folder, encoding)
    raw = (folder / "students.csv").read_bytes()
    assert "学号".encode(encoding) in raw
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert _same(load_scenario(folder), load_scenario(TINY))


def test_gb18030_errors_name_the_users_header(tmp_path: Path) -> None:
    """Messages from a GB18030 file with Chinese headers name the column by the header the
    clerk typed (issue 25: locations as the clerk sees them)."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    text = (folder / "students.csv").read_text(encoding="utf-8").replace("W2;W3", "W2;W9")
    (folder / "students.csv").write_text(text, encoding="utf-8")
    _chinese_headers(folder, "gb18030")
    assert _errors(folder) == ["students.csv row 4, 志愿: unknown workstation 'W9' (not "
                               "in workstations.csv)"]


def test_ambiguous_header_csv(tmp_path: Path) -> None:
    """Two columns meaning the same field (学号 and student_id) are named, nothing loads."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    path = folder / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",学号"] + [line + "," + line.split(",")[0] for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _errors(folder) == ["students.csv: columns 'student_id' (column A) and '学号' "
                               "(column H) both mean student_id; keep one of them"]


def test_ambiguous_header_xlsx(book: Path) -> None:
    """The same in a workbook sheet, and three spellings of one field: each later column
    is named with the first."""
    wb = openpyxl.load_workbook(book)
    ws = wb["mentors"]
    ws["E1"], ws["F1"] = "capacity", "名额"
    wb.save(book)
    assert _errors(book) == [
        "sheet mentors: columns '容量' (column D) and 'capacity' (column E) both mean "
        "capacity; keep one of them",
        "sheet mentors: columns '容量' (column D) and '名额' (column F) both mean capacity; keep "
        "one of them"]


@pytest.mark.parametrize(("cell", "name"), [
    ("学号", "student_id"), ("Student ID", "student_id"), (" STUDENT-ID ", "student_id"),
    ("工作年限（年）", "work_experience_years"), ("容量 (人)", "capacity"),
    ("学科/专业类别", "discipline"), ("志愿", "preferences"), ("校内导师", "supervisor_id"),
])
def test_header_normalisation(cell: str, name: str) -> None:
    """Case, spaces, hyphens, full-width forms and a bracketed unit do not matter."""
    columns = [c.name for t in TABLES if t.name == "students" for c in t.columns] + ["capacity"]
    assert aliases.canonical_header(columns, [cell]) == [name]


@pytest.mark.parametrize(("cell", "total"), [
    ("合计", True), ("合  计", True), ("总计：", True), ("小计", True), ("Total", True),
    ("共10人", True), ("共 10 人", True), ("共10名学生", True), ("共十人", True),
    ("共计10人", True), ("共３２名研究生", True),
    ("共享工作站", False), ("总部", False), ("S01", False), ("合肥", False), ("10人", False),
])
def test_totals_words(cell: str, total: bool) -> None:
    """The labels of totals and count rows an office types, and look-alikes that are data."""
    assert (aliases.totals_word(cell) is not None) is total


def test_alias_table_is_complete_and_unambiguous() -> None:
    """Every column of every table has a Chinese alias; no alias means two columns of a table;
    the format reference (docs/format.md) lists every alias."""
    readme = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    for table in TABLES:
        seen: dict[str, str] = {}
        for col in table.columns:
            names = aliases.COLUMN_ALIASES.get(col.name, ())
            assert any("\u4e00" <= ch <= "\u9fff" for a in names for ch in a), col.name
            for alias in (col.name, *names):
                key = aliases.normalize(alias)
                assert seen.setdefault(key, col.name) == col.name, (table.name, alias)
                assert f"`{alias}`" in readme or alias == col.name, alias
    for sheet, names in aliases.SHEET_ALIASES.items():
        assert all(f"`{a}`" in readme for a in names), sheet


def test_validate_and_solve_accept_workbook_path(book: Path, tmp_path: Path) -> None:
    """The CLI takes a workbook path where it takes a scenario folder; its Chinese headers
    make Chinese the language of messages unless --lang says otherwise."""
    r = _run("validate", book)
    assert r.exit_code == 0 and "tiny：校验通过" in r.stdout, r.output
    r = _run("validate", book, "--lang", "en")
    assert r.exit_code == 0 and "tiny: valid" in r.stdout, r.output
    _edit(book, "students", "E5", "W2;W9")
    r = _run("validate", book, "--lang", "en")
    assert r.exit_code == 2
    assert [line for line in r.stderr.splitlines() if line.startswith("error")] == [
        "error: sheet students, row 5, column E (志愿): unknown workstation 'W9' (not in sheet "
        "workstations)"]
    r = _run("validate", book)
    assert ("错误：students 工作表 第5行 E列（志愿）：工作站“W9”不存在（在 workstations 工作表 中"
            "找不到）") in r.stderr.splitlines()
