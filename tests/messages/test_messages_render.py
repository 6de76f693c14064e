"""Messages and locations rendered in zh and en; values, JSON round trips, MessageError."""

from __future__ import annotations

import json
import pickle

import pytest

from matcher.messages import (
    Location,
    Message,
    MessageError,
    fill,
    label,
    msg,
    render,
)

SHEET = Location(file="scenario.xlsx", sheet="学生", row=9, column="C", header="所在高校",
                 field="university_id")
CSV = Location(file="students.csv", row=12, field="university_id")


def test_sheet_location_in_both_languages() -> None:
    """A workbook cell renders as the clerk sees it: sheet, Excel row, column letter and the
    clerk's own header (the workbook's name is kept but not shown)."""
    assert SHEET.text("zh") == "学生 工作表 第9行 C列（所在高校）"
    assert SHEET.text("en") == "sheet 学生, row 9, column C (所在高校)"


def test_csv_location_in_both_languages() -> None:
    """A CSV cell renders as file, data row and column; the English form is the one matcher has
    always written (``students.csv row 12, university_id``)."""
    assert CSV.text("zh") == "students.csv 第12行（university_id）"
    assert CSV.text("en") == "students.csv row 12, university_id"


@pytest.mark.parametrize(("loc", "zh", "en"), [
    (Location(file="students.csv"), "students.csv", "students.csv"),
    (Location(file="students.csv", row=3), "students.csv 第3行", "students.csv row 3"),
    (Location(file="scenario.yaml", line=4), "scenario.yaml 第4行", "scenario.yaml line 4"),
    (Location(file="scenario.yaml", field="policy.window"),
     "scenario.yaml（policy.window）", "scenario.yaml, policy.window"),
    (Location(file="s.xlsx", sheet="学生"), "学生 工作表", "sheet 学生"),
    (Location(sheet="学生", row=2, column="AB"), "学生 工作表 第2行 AB列",
     "sheet 学生, row 2, column AB"),
    (Location(sheet="设置", row=3, field="terms"), "设置 工作表 第3行（terms）",
     "sheet 设置, row 3, terms"),
    (Location(sheet="学生", row=9, column="C", field="university_id"),
     "学生 工作表 第9行 C列（university_id）", "sheet 学生, row 9, column C (university_id)"),
    (Location(file="students.csv", row=12, header="学号", field="student_id"),
     "students.csv 第12行（学号）", "students.csv row 12, 学号"),
    (Location(file="students.csv", row=12345), "students.csv 第12345行", "students.csv row 12345"),
    (Location(file="late.csv", row=2, header="学号").inside(Location(file="v.yaml",
                                                                   field="add_students")),
     "v.yaml（add_students）引用的 late.csv 第2行（学号）",
     "v.yaml, add_students: late.csv row 2, 学号"),
    (Location(file="late.xlsx", sheet="学生", row=3, column="D").inside(Location(file="v.yaml")),
     "v.yaml引用的 late.xlsx 中的 学生 工作表 第3行 D列",
     "v.yaml: late.xlsx, sheet 学生, row 3, column D"),
])
def test_location_forms(loc: Location, zh: str, en: str) -> None:
    """Each shape of location (file, row, line, sheet, letter, header, field, within another)
    renders in both languages; the user's header wins over the field; row numbers are never
    grouped; a sheet within another place names its workbook."""
    assert loc.text("zh") == zh
    assert loc.text("en") == en


@pytest.mark.parametrize("kwargs", [
    {}, {"file": "a.csv", "row": 0}, {"file": "a.csv", "row": True}, {"file": "a.csv", "row": 1,
    "line": 1}, {"sheet": "学生", "line": 2}, {"sheet": "学生", "column": "c"},
    {"sheet": "学生", "column": "C9"},
])
def test_location_refuses_nonsense(kwargs: dict[str, object]) -> None:
    """A location needs a file or sheet, rows and lines from 1 (not both, no line in a sheet),
    and a column letter in capitals."""
    with pytest.raises(ValueError):
        Location(**kwargs)  # type: ignore[arg-type]


def test_located_message_in_both_languages() -> None:
    """A message renders as location, then its sentence, in the language's punctuation; with
    severity=True the command line's prefix comes first."""
    m = msg("load.unknown_id", at=SHEET, kind=msg("entity.university"), value="HIT",
            where=msg("location.sheet", sheet="高校"))
    assert render(m, "en") == ("sheet 学生, row 9, column C (所在高校): unknown university 'HIT' "
                               "(not in sheet 高校)")
    assert render(m, "zh") == ("学生 工作表 第9行 C列（所在高校）："
                               "高校“HIT”不存在（在 高校 工作表 中找不到）")
    assert render(m, "zh", severity=True).startswith("错误：学生 工作表")
    assert render(m, "en", severity=True).startswith("error: sheet 学生")
    assert m.text("en") == "unknown university 'HIT' (not in sheet 高校)"


def test_todays_english_line_is_kept() -> None:
    """The README's example error line comes out the same from a structured message."""
    m = msg("load.unknown_id", at=Location(file="students.csv", row=12, field="preferences"),
            kind=msg("entity.workstation"), value="W9", where="workstations.csv")
    assert render(m, "en", severity=True) == (
        "error: students.csv row 12, preferences: unknown workstation 'W9' (not in "
        "workstations.csv)")


def test_warning_and_note_prefixes() -> None:
    """Warnings and notes carry their own prefix in each language."""
    note = msg("load.hidden_sheet", severity="note", at=Location(file="s.xlsx"), sheet="学生(旧)")
    assert render(note, "zh", severity=True).startswith("提示：s.xlsx：")
    assert render(note, "en", severity=True).startswith("note: s.xlsx: hidden sheet '学生(旧)'")
    warn = msg("load.list_separator", severity="warning", at=CSV, value="HIT,NEPU", separator=",")
    assert render(warn, "zh", severity=True).startswith("警告：")
    assert render(warn, "en", severity=True).startswith("warning: ")


def test_lists_and_numbers_follow_the_language() -> None:
    """A list joins with 、 in Chinese and ', ' in English; a number gets digit grouping; a
    format spec (``{row:d}``) is applied as Python does, without grouping."""
    m = msg("load.list_split", severity="note", value="HIT，NEPU", count=2, items=["HIT", "NEPU"])
    assert m.text("zh") == "“HIT，NEPU”已按 2 项读取：HIT、NEPU"
    assert m.text("en") == "'HIT，NEPU' read as 2 items: HIT, NEPU"
    big = msg("load.too_large", value="5000000", maximum=1_000_000)
    assert big.text("en") == "'5000000' is too large; give a value <= 1,000,000"
    assert big.text("zh") == "“5000000”过大；请填写不超过 1,000,000 的数"
    dup = msg("load.duplicate_id", value="S1", other_row=12345)
    assert dup.text("en") == "duplicate id 'S1' (also row 12345); ids must be unique"
    assert fill("{x}", {"x": 0.25}, "en") == "0.25"
    assert fill("{x:.1f} MiB", {"x": 1.25}, "zh") == "1.2 MiB"


def test_missing_values_and_codes_never_raise() -> None:
    """A placeholder without a value stays visible as ``{name}``; an unknown code shows as the
    code and its values; neither raises (the catalogue tests keep both from happening)."""
    assert msg("load.unknown_id", value="W9").text("en") == "unknown {kind} 'W9' (not in {where})"
    assert msg("nowhere.such_code", value="W9").text("zh") == "nowhere.such_code (value=W9)"
    assert label("nowhere.such_label", "zh") == "nowhere.such_label"
    assert fill("{x:d}", {"x": "abc"}, "en") == "abc"  # a spec that does not fit the value


def test_labels() -> None:
    """label() gives plain catalogue texts without location or severity."""
    assert label("severity.warning", "zh") == "警告"
    assert label("entity.mentor", "zh") == "企业导师"
    assert label("entity.mentor", "en") == "mentor"


def test_json_round_trip() -> None:
    """to_dict() is JSON data; from_dict() gives back an equal (and equally hashed) message,
    nested messages and lists included; with a language it also carries the texts."""
    m = msg("load.missing_sheet", at=Location(file="scenario.xlsx"), sheet="学生",
            needed=["students", "workstations"], found=["Sheet1"])
    n = msg("load.unknown_id", severity="warning", at=SHEET, kind=msg("entity.university"),
            value="HIT", where=msg("location.sheet", sheet="高校"))
    nested = msg("load.not_a_number", value="x", at=Location(file="late.csv", row=2).inside(
        Location(file="v.yaml", field="add_students")))
    assert "within" not in n.to_dict()["location"]  # only a nested location has the key
    for original in (m, n, nested):
        data = json.loads(json.dumps(original.to_dict(), ensure_ascii=False))
        back = Message.from_dict(data)
        assert back == original
        assert hash(back) == hash(original)
    shown = n.to_dict("zh")
    assert shown["text"] == "高校“HIT”不存在（在 高校 工作表 中找不到）"
    assert shown["where"] == "学生 工作表 第9行 C列（所在高校）"
    assert shown["location"]["row"] == 9 and shown["values"]["value"] == "HIT"
    assert Message.from_dict(json.loads(json.dumps(shown))) == n


def test_messages_are_frozen_and_hashable() -> None:
    """Equal messages are one set member; fields and values cannot be changed afterwards."""
    a = msg("load.missing_column", at=CSV, column="student_id", required=["student_id"])
    b = msg("load.missing_column", at=CSV, column="student_id", required=("student_id",))
    assert a == b and len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.code = "load.empty_cell"  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.values["column"] = "x"  # type: ignore[index]


@pytest.mark.parametrize(("args", "error"), [
    ({"code": "Load.X"}, ValueError), ({"code": "load"}, ValueError),
    ({"code": "load.x", "severity": "fatal"}, ValueError),
    ({"code": "load.x", "values": {"v": float("nan")}}, ValueError),
    ({"code": "load.x", "values": {"v": True}}, TypeError),
    ({"code": "load.x", "values": {"v": None}}, TypeError),
    ({"code": "load.x", "values": {"v": [1, 2]}}, TypeError),
    ({"code": "load.x", "values": {"not a name": 1}}, TypeError),
    ({"code": "load.x", "location": "students.csv"}, TypeError),
])
def test_message_refuses_nonsense(args: dict[str, object], error: type[Exception]) -> None:
    """Codes are dotted lower case, severities known, values plain and JSON-safe."""
    with pytest.raises(error):
        Message(**args)  # type: ignore[arg-type]


def test_message_error_renders_english_lines() -> None:
    """MessageError carries its messages; str() is English, one line per message; lines()
    renders them in either language."""
    a = msg("load.missing_file", at=Location(file="students.csv"), file="students.csv",
            folder="demo")
    b = msg("load.empty_cell", at=CSV)
    e = MessageError([a, b])
    assert e.messages == (a, b)
    assert str(e) == ("students.csv: missing file; every scenario needs students.csv in demo\n"
                      "students.csv row 12, university_id: empty; give a value")
    assert e.lines("zh")[1] == "students.csv 第12行（university_id）：未填写；请填入内容"
    assert e.lines("en", severity=True)[0].startswith("error: students.csv: ")


def test_messages_and_errors_pickle() -> None:
    """Messages and MessageError cross process boundaries (the web page's worker processes)
    unchanged."""
    m = msg("load.unknown_id", at=SHEET, kind=msg("entity.university"), value="HIT",
            where="universities.csv")
    assert pickle.loads(pickle.dumps(m)) == m
    e = pickle.loads(pickle.dumps(MessageError([m, m])))
    assert isinstance(e, MessageError) and e.messages == (m, m)
    assert str(e) == "\n".join([render(m, "en")] * 2)
