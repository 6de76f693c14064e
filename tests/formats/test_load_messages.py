"""Loader messages in both languages (issue 25 items 1-2): structured, located as the user sees
them, rendered in zh and en; validate_scenario's outcome; carried columns written back."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher import ScenarioError, load_scenario
from matcher.cli import cli
from matcher.formats import validate_scenario, write_scenario
from matcher.messages import Message, catalogue, placeholders, render

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"
OWN = ("load.po", "data.po")


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


def _own_codes() -> list[str]:
    from matcher.messages import po_paths

    out = []
    for path in po_paths("en"):
        if path.name in OWN:
            out += re.findall(r'^msgid "(.+)"$', path.read_text(encoding="utf-8"), flags=re.M)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_loader_code_renders_in_full(lang: str) -> None:
    """Every code of load.po and data.po, filled with sample values, renders with no
    placeholder left and (in zh) with Chinese text."""
    codes = _own_codes()
    assert len(codes) > 100
    for code in codes:
        values = {name: ("1" if spec == "" else 1) for name, spec in
                  placeholders(catalogue(lang)[code]).items()}
        text = Message(code, values=values).text(lang)
        assert "{" not in text, (code, text)
        if lang == "zh" and code not in ("load.text", "load.in_context"):
            assert re.search("[\u4e00-\u9fff]", text), (code, text)


def test_unknown_id_in_both_languages(scen: Path) -> None:
    """An unknown workstation in a CSV: the file, row and header; the same message in zh."""
    _edit(scen, "students.csv", "W2;W3", "W2;W9")
    with pytest.raises(ScenarioError) as info:
        load_scenario(scen)
    (m,) = info.value.structured
    assert m.code == "load.unknown_id" and m.location is not None
    assert (m.location.file, m.location.row, m.location.header) == ("students.csv", 4,
                                                                    "preferences")
    assert render(m, "en") == ("students.csv row 4, preferences: unknown workstation 'W9' (not "
                               "in workstations.csv)")
    assert render(m, "zh") == ("students.csv 第4行（preferences）：工作站“W9”不存在（在 "
                               "workstations.csv 中找不到）")
    assert info.value.lines("zh", severity=True)[0].startswith("错误：students.csv 第4行")
    assert info.value.messages == [render(m, "en")]  # what callers have always read


def test_cell_error_in_a_sheet_zh(tmp_path: Path) -> None:
    """A bad cell of a Chinese workbook: 学生 工作表 第N行 C列（所在高校） as the clerk sees it."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "设置"
    ws.append(["学期", "2026-autumn；2027-spring"])
    st = wb.create_sheet("学生")
    st.append(["学号", "工作年限", "所在高校", "学科", "志愿", "校内导师"])
    st.append(["S1", "三年", "HIT", "0854", "W1", None])
    for name, header, row in (("工作站", ["工作站编号", "学科", "容量", "合作高校"],
                               ["W1", "0854", 1, ""]),
                              ("企业导师", ["企业导师编号", "工作站", "学科", "容量"],
                               ["M1", "W1", "0854", 1]),
                              ("校内导师", ["校内导师编号", "所在高校", "学科", "容量"],
                               ["U1", "HIT", "0854", 1])):
        sheet = wb.create_sheet(name)
        sheet.append(header)
        sheet.append(row)
    path = tmp_path / "b.xlsx"
    wb.save(path)
    found = validate_scenario(path)
    (m,) = found.errors
    assert render(m, "zh") == ("学生 工作表 第2行 B列（工作年限）：“三年”不是数字；"
                               "请只填数字，不要带单位或文字")
    assert render(m, "en") == ("sheet 学生, row 2, column B (工作年限): '三年' is not a "
                               "number; give a plain number")
    assert found.lang_hint == "zh"


def test_missing_column_named_in_the_users_words(scen: Path) -> None:
    """In a file with Chinese headers, a missing column is named by its Chinese header."""
    path = scen / "mentors.csv"
    path.write_text("企业导师编号,工作站,学科\nW1-M1,W1,0854\n", encoding="utf-8")
    found = validate_scenario(scen)
    assert [render(m, "zh") for m in found.errors] == [
        "mentors.csv：缺少“容量”列；表头必须包含以下各列：企业导师、工作站编号、学科/专业类别、容量"]


def test_advice_names_sheets_in_a_workbook(tmp_path: Path) -> None:
    """A workbook user is sent to sheets, never to CSV files, also for a sheet to add."""
    import importlib.util

    import openpyxl

    spec = importlib.util.spec_from_file_location("make_xlsx", ROOT / "scenarios" / "make_xlsx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    book = module.convert(TINY, tmp_path / "t" / "tiny.xlsx")
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:  # Chinese sheet names, as an office keeps them
        ws.title = {"students": "学生", "workstations": "工作站", "mentors": "企业导师",
                    "supervisors": "校内导师", "universities": "高校", "scenario": "设置",
                    "pairs": "导师组合", "workstation_terms": "学期容量"}[ws.title]
    wb["学生"]["E7"] = "W3;W9"
    wb.save(book)
    found = validate_scenario(book)
    text = " ".join(render(m, "zh") for m in found.messages)
    assert ".csv" not in text, text
    assert "在 工作站 工作表 中找不到" in text


def test_validation_rows_for_a_page(scen: Path) -> None:
    """validate_scenario gives a table for the web page: severity, sheet/file, row, column,
    header, text; JSON-ready."""
    _edit(scen, "students.csv", "S4,HEU,0855,0,", "S4,HEU,0855,x,")
    found = validate_scenario(scen)
    assert not found.ok and found.problem is None
    rows = found.rows("zh")
    json.dumps(rows, ensure_ascii=False)
    assert rows[0] == {"severity": "error", "code": "load.not_a_number", "file": "students.csv",
                       "sheet": None, "row": 4, "line": None, "column": None,
                       "header": "work_experience_years", "field": "work_experience_years",
                       "where": "students.csv 第4行（work_experience_years）",
                       "text": "“x”不是数字；请只填数字，不要带单位或文字"}
    assert len(rows) == 1  # warnings are looked for in a valid scenario only


def test_validate_lang_option(scen: Path) -> None:
    """validate --lang zh words everything in Chinese, --lang en in English; without it an
    English-headed scenario in an English locale speaks English."""
    runner = CliRunner(env={"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""})
    r = runner.invoke(cli, ["validate", str(scen), "--lang", "zh"], catch_exceptions=False)
    assert r.exit_code == 0
    assert r.stdout.startswith("tiny：校验通过——学生 6 名")
    assert r.stderr.splitlines()[0].startswith(
        "警告：students.csv 第6行（discipline）：没有任何工作站")
    r = runner.invoke(cli, ["validate", str(scen)], catch_exceptions=False)
    assert r.stdout.startswith("tiny: valid") and "warning: " in r.stderr
    r = runner.invoke(cli, ["validate", str(scen), "--lang", "fr"])
    assert r.exit_code == 2


def test_carried_columns_written_back(scen: Path, tmp_path: Path) -> None:
    """The clerk's own columns survive write_scenario and a second reading, by id."""
    _edit(scen, "students.csv", "supervisor_id,priority\n", "supervisor_id,priority,姓名,备注\n")
    path = scen / "students.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0]] + [f"{line},名{k},注{k}" for k, line in enumerate(lines[1:], 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = load_scenario(scen)
    assert [(c.header, c.by_id()["S2"]) for c in p.carried] == [("姓名", "名2"), ("备注", "注2")]
    again = load_scenario(write_scenario(p, tmp_path / "copy"))
    assert again.carried == p.carried
