"""Strict, explained parsing (issue 24 item 5): numbers, encodings, ids, hidden rows and sheets,
and size limits checked before a workbook is parsed."""

from __future__ import annotations

import io
import shutil
import sys
import unicodedata
import zipfile
from pathlib import Path

import openpyxl
import pytest

from matcher.formats import cells, validate_scenario
from matcher.formats import workbook as excel
from matcher.formats.cells import NumberError, parse_number, plausible_gb18030
from matcher.messages import render

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


@pytest.fixture
def scen(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    return folder


def _edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(folder: Path) -> list[str]:
    found = validate_scenario(folder)
    assert not found.ok
    return [render(m, "en") for m in found.errors]


# ---- numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "kind", "code"), [
    ("1,5", "int", "load.number_comma"), ("1,000", "int", "load.number_comma"),
    ("1,000.5", "float", "load.number_comma"), ("1_0", "int", "load.number_underscore"),
    ("1_000.0", "float", "load.number_underscore"), ("١٢", "int", "load.non_ascii_digits"),
    ("１２", "int", "load.non_ascii_digits"), ("３.５", "float", "load.non_ascii_digits"),
    ("NaN", "float", "load.not_finite"), ("-inf", "float", "load.not_finite"),
    ("Infinity", "float", "load.not_finite"), ("inf", "int", "load.not_a_whole_number"),
    ("1e999", "float", "load.too_large"), ("2.5", "int", "load.not_a_whole_number"),
    ("3 人", "int", "load.not_a_whole_number"), ("", "float", "load.not_a_number"),
])
def test_numbers_refused(text: str, kind: str, code: str) -> None:
    """Thousands separators, decimal commas, underscores, digits of other scripts, NaN and
    infinity are refused with their own reason (Python's int() and float() take several)."""
    with pytest.raises(NumberError) as info:
        parse_number(text, kind)
    assert info.value.detail.code == code


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("3", "int", 3), ("+3", "int", 3), ("3.0", "int", 3), ("1e3", "int", 1000),
    ("-2", "int", -2), ("2.5", "float", 2.5), (".5", "float", 0.5), ("1E2", "float", 100.0),
])
def test_plain_numbers_read(text: str, kind: str, value: float) -> None:
    """Plain numbers (sign, point, exponent) are read as before."""
    assert parse_number(text, kind) == value


def test_number_errors_name_the_cell(scen: Path) -> None:
    """A capacity '1,5' and an experience '١' are errors naming the file, row and column."""
    _edit(scen, "workstations.csv", "W1,0854,1,", 'W1,0854,"1,5",')
    _edit(scen, "students.csv", "S3,HEU,0854,3,", "S3,HEU,0854,١,")
    assert sorted(_errors(scen)) == [
        "students.csv row 3, work_experience_years: '١' has digits other than 0-9 (full-width "
        "or another script); type the number with the digits 0-9",
        "workstations.csv row 1, capacity: '1,5' holds a comma, which could be a thousands "
        "separator or a decimal comma; type the number plainly (1000, not 1,000; 1.5, not 1,5)"]


# ---- encodings -------------------------------------------------------------------------------
def test_latin1_file_refused(scen: Path) -> None:
    """A Latin-1 file that GB18030 would decode into rare characters is refused with advice."""
    path = scen / "universities.csv"
    text = "university_id,name,city\nHIT,École Müller Straße,Harbin\nHEU,Sévérine,Harbin\n"
    path.write_bytes(text.encode("latin-1"))
    raw = path.read_bytes()
    raw.decode("gb18030")  # GB18030 alone would take it without a word
    (line,) = _errors(scen)
    assert line.startswith("universities.csv line 2: neither UTF-8 nor plausible GB18030 text")
    assert line.endswith("save it as CSV UTF-8 from your spreadsheet program")


def test_gb18030_file_read_with_a_note(scen: Path) -> None:
    """A GB18030 file with Chinese text (a rare name character included) is read; a note says
    which encoding was used."""
    path = scen / "universities.csv"
    text = ("university_id,name,city\nHIT,哈尔滨工业大学,哈尔滨\n"
            "HEU,哈尔滨工程大学（张堃）,哈尔滨\nNEPU,东北石油大学,大庆\n")
    path.write_bytes(text.encode("gb18030"))
    found = validate_scenario(scen)
    assert found.ok, found.errors
    assert [m.code for m in found.notes] == ["load.read_as_gb18030"]
    assert found.problem is not None
    assert found.problem.universities[1].name == "哈尔滨工程大学（张堃）"


def test_plausibility() -> None:
    """Chinese text is plausible; Latin-1 accents between Latin letters are not."""
    assert plausible_gb18030("学号,姓名\nS1,张三\nS2,李堃\n") is None
    odd = plausible_gb18030("M\u9ef0ller,x\n")
    assert odd is not None and odd[1] == 1


def test_utf16_with_bom_read(scen: Path) -> None:
    """Excel's 'Unicode text' (UTF-16 with BOM) is decoded; commas keep it a CSV."""
    path = scen / "universities.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    assert validate_scenario(scen).ok


# ---- ids -------------------------------------------------------------------------------------
def test_ids_nfc_normalised(scen: Path) -> None:
    """An id typed decomposed (e + combining accent) is read composed, so a preference typed
    composed finds it."""
    decomposed = unicodedata.normalize("NFD", "Wé")
    composed = unicodedata.normalize("NFC", "Wé")
    assert decomposed != composed
    _edit(scen, "workstations.csv", "W1,0854", f"{decomposed},0854")
    _edit(scen, "mentors.csv", "W1-M1,W1,", f"W1-M1,{composed},")
    _edit(scen, "students.csv", "W1;W2", f"{composed};W2")
    _edit(scen, "students.csv", "S2,HIT,0854,0,W1", f"S2,HIT,0854,0,{composed}")
    found = validate_scenario(scen)
    assert found.ok, found.errors
    assert found.problem is not None
    assert found.problem.workstations[0].workstation_id == composed


def test_nfc_nfd_pair_is_one_id_twice(scen: Path) -> None:
    """'Sé' typed composed and decomposed are the same id: a duplicate naming both rows."""
    _edit(scen, "students.csv", "S1,", unicodedata.normalize("NFC", "Sé") + ",")
    _edit(scen, "students.csv", "S2,", unicodedata.normalize("NFD", "Sé") + ",")
    assert _errors(scen) == ["students.csv row 2, student_id: duplicate id 'Sé' (also row 1); "
                             "ids must be unique"]


@pytest.mark.parametrize("other", ["Ｓ1", "s1", "\u04051"])  # full width, lower case, Cyrillic
def test_look_alike_ids_collide(scen: Path, other: str) -> None:
    """Ids that differ only in width, case or a look-alike letter are an error naming both."""
    _edit(scen, "students.csv", "S2,", f"{other},")
    (line,) = _errors(scen)
    assert line.startswith(f"students.csv row 2, student_id: '{other}' and 'S1' (row 1) differ "
                           "only in letter case, character width or look-alike letters")


def test_near_miss_reference_suggests_the_id(scen: Path) -> None:
    """A preference 'ｗ1' (full width, lower case) names the id it looks like."""
    _edit(scen, "students.csv", "W1;W2", "ｗ1;W2")
    assert _errors(scen) == ["students.csv row 1, preferences: unknown workstation 'ｗ1' (not "
                             "in workstations.csv); did you mean 'W1'?"]


# ---- hidden rows and sheets ------------------------------------------------------------------
def _make_xlsx() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return _make_xlsx().convert(TINY, tmp_path / "t" / "tiny.xlsx")  # type: ignore[attr-defined]


def test_hidden_rows_and_sheets_noted(book: Path) -> None:
    """Hidden rows are read and named in a note; a hidden sheet is not read, and named."""
    wb = openpyxl.load_workbook(book)
    wb["students"].row_dimensions[3].hidden = True
    wb.create_sheet("old students").sheet_state = "hidden"
    wb.save(book)
    found = validate_scenario(book)
    assert found.ok
    notes = {m.code: render(m, "en") for m in found.notes}
    assert notes["load.hidden_rows"].startswith("sheet students: 1 hidden or filtered-out row(s) "
                                                "were read all the same (rows 3)")
    assert notes["load.hidden_sheet"].startswith("tiny.xlsx: hidden sheet 'old students' not "
                                                 "read")


# ---- size limits, before parsing -------------------------------------------------------------
def _huge_book(path: Path, rows: int, claimed: int | None = None) -> Path:
    """A workbook whose students sheet has ``rows`` rows (its dimension may claim another
    count), written directly as XML."""
    book = openpyxl.Workbook()
    book.active.title = "students"
    buf = io.BytesIO()
    book.save(buf)
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    dim = claimed if claimed is not None else rows
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<dimension ref="A1:A{dim}"/><sheetData>{body}</sheetData></worksheet>')
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else src.read(
                info)
            dst.writestr(info.filename, data)
    return path


def test_row_limit_checked_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    """A sheet over the row limit is refused from its XML, before calamine parses it: true
    whether the dimension tells the truth or understates the rows."""
    import python_calamine

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the sheet was parsed")

    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 1000)
    monkeypatch.setattr(excel, "_COUNT_ABOVE", 1000)
    monkeypatch.setattr(python_calamine.CalamineSheet, "to_python", never, raising=False)
    for claimed in (None, 5):
        path = _huge_book(tmp_path / f"big{claimed}.xlsx", 1500, claimed)
        found = validate_scenario(path)
        codes = [m.code for m in found.errors]
        assert "load.too_many_rows" in codes, codes
        line = next(render(m, "en") for m in found.errors if m.code == "load.too_many_rows")
        assert line.startswith("sheet students: 1,500 rows, more than the 1,000 a table")


def test_row_count_cut_short_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A huge sheet's rows are counted only until they pass the limit: the refusal gives that
    count as where counting stopped, not as the sheet's size, in both languages."""
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 1000)
    monkeypatch.setattr(excel, "_COUNT_ABOVE", 1000)
    monkeypatch.setattr(excel, "_CHUNK", 4096)
    found = validate_scenario(_huge_book(tmp_path / "big.xlsx", 3000))
    (cut,) = [m for m in found.errors if m.code == "load.too_many_rows_at_least"]
    counted = cut.values["count"]
    assert 1000 < counted < 3000
    assert render(cut, "en").startswith(
        f"sheet students: more than the 1,000 rows a table may have (counting stopped at "
        f"{counted:,}; the sheet has more)")
    assert f"数到第 {counted:,} 行即停止计数" in render(cut, "zh")


def test_column_and_cell_limits(tmp_path: Path, scen: Path) -> None:
    """A sheet wider than the column limit is refused; an over-long cell names its cell."""
    path = _huge_book(tmp_path / "wide.xlsx", 3)
    raw = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(raw, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<dimension ref="A1:A3"/>', b'<dimension ref="A1:ZZ3"/>')
            dst.writestr(info.filename, data)
    path.write_bytes(raw.getvalue())
    found = validate_scenario(path)
    assert any(m.code == "load.too_many_columns" for m in found.errors)
    _edit(scen, "students.csv", "S1,", "S" + "1" * (cells.MAX_CELL_CHARS + 1) + ",")
    (line,) = _errors(scen)
    assert line.startswith("students.csv row 1, student_id: holds 1,002 characters, more than "
                           "the 1,000 a cell may have")


def test_csv_line_limit_before_parsing(scen: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSV over the line limit is refused by counting its lines, before decoding."""
    from matcher.formats import tables

    monkeypatch.setattr(tables, "MAX_CSV_ROWS", 3)
    assert "students.csv: 7 rows, more than the 3 a table may have" in _errors(scen)[0]


if sys.platform == "win32":  # pragma: no cover
    pytest.skip("POSIX paths", allow_module_level=True)


def test_garbage_collector_given_back_as_found(scen: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    """Reading pauses the cyclic garbage collector (speed at province scale) and leaves it as
    it found it: on when it was on, off when the caller had turned it off, also when the
    scenario is refused and when reading fails with an exception."""
    import gc

    seen: list[bool] = []
    real = excel.find_workbook

    def spy(folder: Path) -> Path | None:
        seen.append(gc.isenabled())
        return real(folder)

    monkeypatch.setattr("matcher.formats.scenario.find_workbook", spy)
    was = gc.isenabled()
    try:
        gc.enable()
        assert validate_scenario(scen).ok and gc.isenabled()
        _edit(scen, "workstations.csv", "W2,0854;0855,3,", 'W2,0854;0855,"1,5",')
        assert not validate_scenario(scen).ok and gc.isenabled()
        gc.disable()
        assert not validate_scenario(scen).ok and not gc.isenabled()
        gc.enable()

        def broken(folder: Path) -> None:
            raise RuntimeError("disk gone")

        monkeypatch.setattr("matcher.formats.scenario.find_workbook", broken)
        with pytest.raises(RuntimeError):
            validate_scenario(scen)
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False, False]
