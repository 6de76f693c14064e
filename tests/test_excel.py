"""Tests of Excel input and output, Chinese header aliases, encodings, formula-injection escaping,
the audit manifest and ``matcher verify``.

Workbooks are made from the CSV scenarios by ``scenarios/make_xlsx.py`` (Chinese headers, numbers
as numbers) and then edited with openpyxl to break one thing at a time.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib.util
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult
from hypothesis import given
from hypothesis import strategies as st

import matcher
from matcher import ScenarioError, aliases, excel, load_scenario
from matcher.check import check_result_dir
from matcher.cli import cli
from matcher.io import TABLES, escape_cell, unescape_cell, write_result
from matcher.manifest import verify_result
from matcher.model import Problem, Status

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny"
DEMO = ROOT / "scenarios" / "heilongjiang-demo"
DEMO_XLSX = ROOT / "scenarios" / "heilongjiang-demo-xlsx" / "scenario.xlsx"
PROVENANCE = {"input_files", "input_sha256", "source"}


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
    """A cross-table error names the workbook, the sheet and Excel's row number."""
    _edit(book, "students", "E5", "W2;W9")  # S4, data row 4, is Excel row 5
    assert _errors(book) == ["tiny.xlsx sheet students row 5, preferences: unknown workstation "
                             "'W9' (not in sheet workstations)"]


def test_sheet_row_in_cell_message(book: Path) -> None:
    """A bad cell names the sheet, Excel's row and the column, with the value as typed."""
    _edit(book, "students", "D4", "abc")
    assert _errors(book) == ["tiny.xlsx sheet students row 4, work_experience_years: 'abc' is "
                             "not a number; give a plain number"]


def test_rows_are_excel_rows_after_blank_and_title_rows(book: Path) -> None:
    """Blank rows and a header below row 1 do not shift the row numbers from Excel's."""
    wb = openpyxl.load_workbook(book)
    ws = wb["mentors"]
    ws.insert_rows(1, 2)  # header now in row 3
    ws.insert_rows(5)  # a blank row inside the data
    wb.save(book)
    _edit(book, "mentors", "B7", "W7")  # W2-M2 (was Excel row 4)
    assert _errors(book) == ["tiny.xlsx sheet mentors row 7, workstation_id: unknown "
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
    assert _errors(book) == ["tiny.xlsx sheet mentors cell D3: holds a formula (=1+1); formulas "
                             "are not evaluated: replace it with its value (copy, then Paste "
                             "Special > Values)"]


def test_error_value_cell_is_an_error(book: Path) -> None:
    """An Excel error value (#N/A) is named with its cell."""
    _edit(book, "students", "B2", "#N/A")
    assert _errors(book) == ["tiny.xlsx sheet students cell B2: holds the Excel error #N/A; "
                             "correct the cell or type the value (formulas are not evaluated)"]


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
    assert _errors(book)[0].startswith("tiny.xlsx sheet 学生 row 5, preferences: unknown "
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
    assert _errors(book) == ["tiny.xlsx sheet mentors: the sheet is empty; it needs a header "
                             "row and data rows"]


# ---- the scenario sheet ---------------------------------------------------------------------
def _setting_row(book: Path, key: str) -> int:
    ws = openpyxl.load_workbook(book)["scenario"]
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == key)


def test_scenario_sheet_unknown_term_names_row(book: Path) -> None:
    """A policy.window naming an unknown term points at the row of policy.window."""
    row = _setting_row(book, "policy.window")
    _edit(book, "scenario", f"B{row}", "2026-autumn; 2029-spring")
    assert _errors(book) == [f"tiny.xlsx sheet scenario row {row}, policy.window: unknown term "
                             "'2029-spring' (not in terms)"]


def test_scenario_sheet_unknown_key_and_setting(book: Path) -> None:
    """Unknown keys and settings are named with their rows."""
    row = _setting_row(book, "policy.preferences_only")
    _edit(book, "scenario", f"A{row}", "policy.preferences_onlyy")
    wb = openpyxl.load_workbook(book)
    wb["scenario"].append(["colour", "red"])
    last = wb["scenario"].max_row
    wb.save(book)
    assert sorted(_errors(book)) == sorted([
        f"tiny.xlsx sheet scenario row {row}, policy.preferences_onlyy: unknown setting",
        f"tiny.xlsx sheet scenario row {last}, colour: unknown key; use one of description, "
        "name, objective, policy, solver, term_months, terms"])


def test_scenario_sheet_duplicate_key(book: Path) -> None:
    """A setting given twice names both rows."""
    row = _setting_row(book, "term_months")
    wb = openpyxl.load_workbook(book)
    wb["scenario"].append(["每学期月数", 6])  # the Chinese alias of term_months
    last = wb["scenario"].max_row
    wb.save(book)
    assert _errors(book) == [f"tiny.xlsx sheet scenario row {last}, term_months: already given "
                             f"in row {row}; keep one row per setting"]


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
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 4)  # mentors has 4 data rows: still fine
    assert _errors(book) == [f"tiny.xlsx sheet {name}: more than 4 rows; check that it is the "
                             "right sheet, or split the scenario"
                             for name in ("students", "scenario")]
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


def test_gb18030_errors_name_canonical_columns(tmp_path: Path) -> None:
    """Messages from a GB18030 file with Chinese headers name the column's canonical name."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    text = (folder / "students.csv").read_text(encoding="utf-8").replace("W2;W3", "W2;W9")
    (folder / "students.csv").write_text(text, encoding="utf-8")
    _chinese_headers(folder, "gb18030")
    assert _errors(folder) == ["students.csv row 4, preferences: unknown workstation 'W9' (not "
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
    """The same in a workbook sheet, and three spellings of one field."""
    wb = openpyxl.load_workbook(book)
    ws = wb["mentors"]
    ws["E1"], ws["F1"] = "capacity", "名额"
    wb.save(book)
    assert _errors(book) == ["tiny.xlsx sheet mentors: columns '容量' (column D) and 'capacity' "
                             "(column E) and '名额' (column F) all mean capacity; keep one of "
                             "them"]


@pytest.mark.parametrize(("cell", "name"), [
    ("学号", "student_id"), ("Student ID", "student_id"), (" STUDENT-ID ", "student_id"),
    ("工作年限（年）", "work_experience_years"), ("容量 (人)", "capacity"),
    ("学科/专业类别", "discipline"), ("志愿", "preferences"), ("校内导师", "supervisor_id"),
])
def test_header_normalisation(cell: str, name: str) -> None:
    """Case, spaces, hyphens, full-width forms and a bracketed unit do not matter."""
    columns = [c.name for t in TABLES if t.name == "students" for c in t.columns] + ["capacity"]
    header, clashes = aliases.canonical_header(columns, [cell])
    assert header == [name] and clashes == []


def test_alias_table_is_complete_and_unambiguous() -> None:
    """Every column of every table has a Chinese alias; no alias means two columns of a table;
    the README lists every alias."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
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


# ---- formula-injection escaping -------------------------------------------------------------
@given(st.text())
def test_escape_round_trip(text: str) -> None:
    """unescape(escape(s)) == s, and an escaped cell never starts a formula."""
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(("text", "out"), [
    ("=1+2", "'=1+2"), ("+86", "'+86"), ("-W1", "'-W1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("W1", "W1"), ("'plain", "'plain"), ("'=x", "''=x"), ("", ""),
])
def test_escape_examples(text: str, out: str) -> None:
    """Cells starting with = + - @ get a leading quote; others are unchanged."""
    assert escape_cell(text) == out


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
    ws = wb["assignments"]
    cells = {c.value: c for row in ws.iter_rows() for c in row}
    assert cells["'=1+2"].data_type == "s"
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@"))
                   for sheet in wb.worksheets for row in sheet.iter_rows(values_only=True)
                   for v in row)
    ranks = [row[6] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert ranks and all(isinstance(r, int) for r in ranks)
    assert check_result_dir(problem, out).violations == []


def test_negative_numbers_stay_numbers(tmp_path: Path) -> None:
    """In xlsx output -5 is a number cell, '-5' (text) is escaped text, '#N/A' stays text."""
    wb = openpyxl.Workbook(write_only=True)
    excel._add_sheet(wb, "s", ["n", "t", "f", "e", "x"], [[-5, "-2.5", "=cmd", "#N/A", -2.5]])
    wb.save(tmp_path / "x.xlsx")
    row = next(openpyxl.load_workbook(tmp_path / "x.xlsx")["s"].iter_rows(min_row=2))
    assert [(c.value, c.data_type) for c in row] == [
        (-5, "n"), ("'-2.5", "s"), ("'=cmd", "s"), ("#N/A", "s"), (-2.5, "n")]


# ---- results.xlsx ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny solved into a result folder through the CLI (seed 0, one worker)."""
    out = tmp_path_factory.mktemp("solved") / "out"
    r = _run("solve", TINY, "--out", out, "--seed", "0", "--workers", "1")
    assert r.exit_code == 0, r.output
    return out


def test_results_xlsx_sheets(solved: Path) -> None:
    """results.xlsx has the six sheets with the allocation, reasons, rosters and summary."""
    wb = openpyxl.load_workbook(solved / "results.xlsx")
    assert wb.sheetnames == ["assignments", "unassigned", "by_workstation_term", "by_mentor",
                             "by_supervisor", "summary"]

    def rows(name: str) -> list[tuple[Any, ...]]:
        return list(wb[name].iter_rows(values_only=True))

    with (solved / "assignments.csv").open(encoding="utf-8", newline="") as f:
        csv_rows = list(csv.reader(f))
    assignments = rows("assignments")
    assert [list(r[:6]) for r in assignments] == [r[:6] for r in csv_rows]
    assert assignments[1][7:] == ("HIT", "0854", "Harbin")
    unassigned = rows("unassigned")
    assert unassigned[0] == ("student_id", "university_id", "discipline", "preferences",
                             "reason")
    assert unassigned[1][:4] == ("S6", "HEU", "0856", "W3") and "0856" in unassigned[1][4]
    # S1 and S2 hold two terms each, S3 one, S4 and S5 two: 9 roster rows
    roster = rows("by_workstation_term")
    assert len(roster) == 1 + 9
    assert ("W2", "Harbin", "2027-spring", "S1", "HIT", "0854", "W2-M1", "HIT-S1") in roster
    assert [r[0] for r in rows("by_mentor")[1:]] == sorted(r[0] for r in rows("by_mentor")[1:])
    assert {r[2] for r in rows("by_supervisor")[1:]} == {"S1", "S2", "S3", "S4", "S5"}
    summary = dict(rows("summary")[1:])
    assert (summary["status"], summary["placed"], summary["rank_cost"]) == ("OPTIMAL", 5, 7)
    assert summary["scenario"] == "tiny"
    assert wb["assignments"].freeze_panes == "A2"


def test_results_xlsx_without_problem(tmp_path: Path) -> None:
    """Without the problem the rosters list blocks of terms and leave out student details."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out")
    wb = openpyxl.load_workbook(out / "results.xlsx")
    roster = list(wb["by_workstation_term"].iter_rows(values_only=True))
    assert len(roster) == 1 + 5
    assert ("W2", None, "2026-autumn..2027-spring", "S1", None, None, "W2-M1", "HIT-S1") in roster


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
    assert manifest["write_options"] == {"excel_bom": True}


# ---- the manifest ---------------------------------------------------------------------------
def test_manifest_contents(solved: Path) -> None:
    """manifest.json records input hashes, configuration, versions, objective levels, outputs."""
    m = json.loads((solved / "manifest.json").read_text(encoding="utf-8"))
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in TINY.iterdir() if p.suffix in (".csv", ".yaml")}
    assert m["scenario"]["files"] == files
    assert m["scenario"]["path"] == str(TINY)
    assert (solved / m["scenario"]["path_from_result"]).resolve() == TINY
    summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
    assert m["scenario"]["input_sha256"] == summary["input_sha256"]
    assert m["solver"] == {"name": "cpsat", "exact": True, "seed": 0, "workers": 1,
                           "time_limit_s": 10.0}
    assert m["settings"]["policy"]["window"] == ["2026-autumn", "2027-spring"]
    assert m["settings"]["solver_defaults"] == {"time_limit_s": 10.0, "seed": 0, "workers": 1}
    assert {k for k, v in m["versions"].items() if v} >= {"python", "ortools", "matcher",
                                                           "openpyxl"}
    assert m["run"]["status"] == "OPTIMAL" and m["run"]["reproducible"] is True
    levels = [(o["name"], o["value"], o["bound"]) for o in m["objective"]]
    assert levels[:2] == [("placed", 5, 5), ("rank_cost", 7, 7)]
    assert levels[2][:2] == ("pair_weight", 2.0)
    outputs = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
               for p in solved.iterdir() if p.name != "manifest.json"}
    assert m["outputs"] == outputs
    assert {"assignments.csv", "unassigned.csv", "summary.json", "results.xlsx"} <= set(outputs)


def test_manifest_of_workbook_scenario(book: Path, tmp_path: Path) -> None:
    """Solving a workbook records the workbook's path and hash; verify re-runs from it."""
    out = tmp_path / "out"
    r = _run("solve", book, "--out", out, "--workers", "1")
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["scenario"]["path"] == str(book)
    assert m["scenario"]["files"] == {"tiny.xlsx": hashlib.sha256(book.read_bytes()).hexdigest()}
    r = _run("verify", out)
    assert r.exit_code == 0 and "verified" in r.stdout, r.output


# ---- verify ---------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of tiny and a fresh result folder solved from it."""
    scen = tmp_path / "scen"
    shutil.copytree(TINY, scen)
    out = tmp_path / "out"
    r = _run("solve", scen, "--out", out, "--workers", "1")
    assert r.exit_code == 0, r.output
    return scen, out


def test_verify_fresh_result(fresh: tuple[Path, Path]) -> None:
    """verify on a fresh result exits 0 and says verified, with no notes."""
    r = _run("verify", fresh[1])
    assert r.exit_code == 0, r.output
    assert "verified: the re-run gives the same allocation (5 placed, rank cost 7)" in r.stdout
    assert "note:" not in r.stdout


def test_verify_edited_assignment(fresh: tuple[Path, Path]) -> None:
    """An edited assignment: exit 1, the student listed, the edited file noted."""
    path = fresh[1] / "assignments.csv"
    text = path.read_text(encoding="utf-8")
    old = "S3,W2,W2-M1,HEU-S1,2026-autumn,2026-autumn,1"
    assert old in text
    path.write_text(text.replace(old, old.replace("W2,W2-M1", "W1,W1-M1")), encoding="utf-8")
    r = _run("verify", fresh[1])
    assert r.exit_code == 1
    assert ("  S3: result folder W1 (mentor W1-M1, supervisor HEU-S1, 2026-autumn); re-run W2 "
            "(mentor W2-M1, supervisor HEU-S1, 2026-autumn)") in r.stdout.splitlines()
    assert "not verified: 1 student(s) placed differently" in r.stdout
    assert "note: assignments.csv was changed after the run" in r.stdout


def test_verify_removed_assignment(fresh: tuple[Path, Path]) -> None:
    """A placement deleted from assignments.csv is listed as unassigned in the folder."""
    path = fresh[1] / "assignments.csv"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not
             ln.startswith("S5,")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _run("verify", fresh[1])
    assert r.exit_code == 1
    assert any(ln.startswith("  S5: result folder unassigned; re-run W2 ")
               for ln in r.stdout.splitlines())


def test_verify_changed_input(fresh: tuple[Path, Path]) -> None:
    """A changed input file: exit 2 naming the file, nothing re-run."""
    scen, out = fresh
    with (scen / "pairs.csv").open("a", encoding="utf-8") as f:
        f.write("HIT-S1,W1-M1,1\n")
    r = _run("verify", out)
    assert r.exit_code == 2
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"error: {scen}: pairs.csv: changed since the run (SHA-256 ")
    assert line.endswith("; verify needs the exact input of the run")


def test_verify_added_input(fresh: tuple[Path, Path]) -> None:
    """An input file that was not there at the run (a new locks.csv) is refused too."""
    scen, out = fresh
    (scen / "locks.csv").write_text("student_id,workstation_id\n", encoding="utf-8")
    r = _run("verify", out)
    assert r.exit_code == 2
    assert "locks.csv: not an input of the run (new since)" in r.stderr


def test_verify_moved_scenario(fresh: tuple[Path, Path], tmp_path: Path) -> None:
    """A moved scenario is an error unless --scenario names its new place."""
    scen, out = fresh
    moved = scen.rename(tmp_path / "moved")
    r = _run("verify", out)
    assert r.exit_code == 2 and "--scenario PATH" in r.stderr
    r = _run("verify", out, "--scenario", moved)
    assert r.exit_code == 0, r.output
    assert "verified" in r.stdout


def test_verify_without_manifest(tmp_path: Path) -> None:
    """A folder without manifest.json: exit 2 with one error line."""
    (tmp_path / "out").mkdir()
    r = _run("verify", tmp_path / "out")
    assert r.exit_code == 2
    assert r.stderr.startswith("error: ") and "manifest.json: missing file" in r.stderr


def test_verify_time_limited_run_says_so(tmp_path: Path) -> None:
    """A run cut by its time limit is recorded as not reproducible and verify says so."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    cut = dataclasses.replace(result, status=Status.FEASIBLE,
                              message="time limit reached before every level was proven optimal")
    out = write_result(cut, tmp_path / "out", problem=problem)
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["run"]["stopped_by_time_limit"] is True and m["run"]["reproducible"] is False
    report = verify_result(out)
    assert report.ok
    assert any("stopped at its time limit" in n and "not reproducible" in n
               for n in report.notes)


def test_verify_lists_at_most_fifty() -> None:
    """A long list of differing students is cut after 50 lines with a count of the rest."""
    from matcher.manifest import MAX_LISTED, VerifyReport, main_lines

    report = VerifyReport("x", differences=[f"S{i}: ..." for i in range(MAX_LISTED + 7)])
    lines = main_lines(report)
    assert lines[0].startswith(f"not verified: {MAX_LISTED + 7} student(s) placed differently")
    assert len(lines) == 1 + MAX_LISTED + 1 and lines[-1] == "  ... and 7 more"


def test_verify_result_written_without_problem(tmp_path: Path) -> None:
    """Without a recorded scenario path verify needs --scenario, then checks input_sha256."""
    problem = load_scenario(TINY)
    result = matcher.solve(problem, time_limit_s=20, seed=0, workers=1)
    out = write_result(result, tmp_path / "out")
    with pytest.raises(ScenarioError, match="records no scenario path"):
        verify_result(out)
    assert verify_result(out, str(TINY)).ok
    other = tmp_path / "other"
    shutil.copytree(TINY, other)
    (other / "pairs.csv").write_text("supervisor_id,mentor_id,weight\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="differ from the run's"):
        verify_result(out, str(other))


def test_verify_solve_with_previous(tmp_path: Path) -> None:
    """A solve given an earlier cohort (--previous) is verified with that cohort subtracted."""
    earlier = tmp_path / "earlier"
    shutil.copytree(TINY, earlier)
    path = earlier / "students.csv"
    path.write_text("\n".join(ln if i == 0 else "T" + ln[1:] for i, ln in
                              enumerate(path.read_text(encoding="utf-8").splitlines())) + "\n",
                    encoding="utf-8")
    assert _run("solve", earlier, "--out", tmp_path / "prev", "--workers", "1").exit_code == 0
    out = tmp_path / "out"
    r = _run("solve", TINY, "--out", out, "--workers", "1", "--previous", tmp_path / "prev")
    assert r.exit_code == 0, r.output
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["scenario"]["files"]
    assert any(name.startswith("previous:") for name in files)
    r = _run("verify", out)
    assert r.exit_code == 0 and "verified" in r.stdout, r.output
    (tmp_path / "prev" / "assignments.csv").write_text("student_id\n", encoding="utf-8")
    assert _run("verify", out).exit_code == 2


def test_validate_and_solve_accept_workbook_path(book: Path, tmp_path: Path) -> None:
    """The CLI takes a workbook path where it takes a scenario folder."""
    r = _run("validate", book)
    assert r.exit_code == 0 and "tiny: valid" in r.stdout, r.output
    _edit(book, "students", "E5", "W2;W9")
    r = _run("validate", book)
    assert r.exit_code == 2
    assert r.stderr.splitlines() == ["error: tiny.xlsx sheet students row 5, preferences: "
                                     "unknown workstation 'W9' (not in sheet workstations)"]
