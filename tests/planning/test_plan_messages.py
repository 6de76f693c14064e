"""The planning library's refusals and notes are catalogue messages (``plan.po``, ``results.po``):
each is raised with its code and worded in Chinese and in English.

Every case is a tiny input the library refuses before (or instead of) solving; the test asserts
the code, a value in both texts, and that the Chinese text is Chinese.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import matcher
from matcher.cli import cli
from matcher.formats.resultdir import read_assignments, read_result, read_summary
from matcher.messages import Location, Message, render
from matcher.model import Problem, ScenarioError
from matcher.planning.compare import compare, read_view, write_comparison
from matcher.planning.rolling import simulate, write_rolling
from matcher.planning.sweep import check_grid
from matcher.planning.variant import build_variant

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def tiny() -> Problem:
    """The tiny scenario, loaded once."""
    return matcher.load_scenario(TINY)


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory, tiny: Problem) -> Path:
    """Tiny solved by greedy (no search) into a result folder."""
    out = tmp_path_factory.mktemp("r") / "r"
    matcher.write_result(matcher.solve(tiny, solver="greedy", time_limit_s=5, seed=0,
                                       workers=1), out)
    return out


def _refusal(error: pytest.ExceptionInfo[ScenarioError]) -> Message:
    """The first error as a message (a plain English line would fail here)."""
    (first, *_rest) = error.value.structured
    return first


def _both(m: Message, code: str, value: str) -> tuple[str, str]:
    """Assert the code, the value in both languages and Chinese words; the two lines."""
    zh, en = render(m, "zh"), render(m, "en")
    inner = m.stored().get("text") if m.code == "load.in_context" else None
    assert (inner.code if isinstance(inner, Message) else m.code) == code, m
    assert value in zh and value in en, (zh, en)
    assert HAN.search(zh) and not HAN.search(en), (zh, en)
    return zh, en


def test_rolling_empty_cohort(tiny: Problem) -> None:
    """A shrink that leaves a cohort without students: ``plan.rolling.empty_cohort``."""
    with pytest.raises(ScenarioError) as e:
        simulate(tiny, 2, -99.0, solver="greedy", time_limit_s=5, seed=0, workers=1)
    zh, en = _both(_refusal(e), "plan.rolling.empty_cohort", "-99")
    assert zh == "增长率 -99%：第 2 届将没有学生；请减小缩减幅度"
    assert en == "growth -99%: cohort 2 would have no students; use a smaller shrink"


def test_rolling_terms_without_a_year(tiny: Problem) -> None:
    """Terms not labelled by year cannot be shifted: ``plan.rolling.term_no_year``, located at
    scenario.yaml's terms."""
    p = tiny.model_copy(update={"terms": ("autumn-a", "spring-a", "autumn-b", "spring-b")})
    with pytest.raises(ScenarioError) as e:
        simulate(p, 2, solver="greedy", time_limit_s=5)
    zh, en = _both(_refusal(e), "plan.rolling.term_no_year", "autumn-a")
    assert zh.startswith("scenario.yaml（terms）：学期“autumn-a”不是以年份开头")
    assert en.startswith("scenario.yaml, terms: 'autumn-a' does not start with a year")


def test_rolling_calendar_not_yearly(tiny: Problem) -> None:
    """A calendar whose terms do not repeat yearly: ``plan.rolling.term_not_yearly``."""
    p = tiny.model_copy(update={"terms": ("2025-autumn", "2026-spring", "2026-autumn",
                                          "2028-spring")})
    with pytest.raises(ScenarioError) as e:
        simulate(p, 2, solver="greedy", time_limit_s=5)
    _both(_refusal(e), "plan.rolling.term_not_yearly", "2028-spring")


def test_sweep_too_many_points() -> None:
    """A grid over the limit: ``plan.sweep.too_many_points``, before anything runs."""
    vary = [("capacity_scale", tuple(range(1, 101))), ("intake_pct", tuple(range(101)))]
    with pytest.raises(ScenarioError) as e:
        check_grid(vary)
    zh, _en = _both(_refusal(e), "plan.sweep.too_many_points", "10100")
    assert "超过上限 10000" in zh


def test_variant_without_base(tmp_path: Path) -> None:
    """A variant file without ``base`` and no BASE given: ``plan.variant.no_base`` at the
    file's key."""
    f = tmp_path / "v.yaml"
    f.write_text("scale_capacity: 0.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        build_variant(f)
    zh, en = _both(_refusal(e), "plan.variant.no_base", "v.yaml")
    assert zh.startswith(f"{f}（base）：未填写")
    assert en.startswith(f"{f}, base: missing")


def test_variant_base_errors_carry_their_context(tmp_path: Path) -> None:
    """An unreadable base scenario: its own error, worded in the language, behind
    ``plan.variant.base`` (基础方案 ... / base scenario ...)."""
    f = tmp_path / "v.yaml"
    f.write_text("scale_capacity: 0.5\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        build_variant(f, tmp_path / "nope")
    nope = tmp_path / "nope"  # location first (as in .structured), then the context
    assert e.value.lines("zh")[0].startswith(f"{nope}：基础方案 {nope}：")
    assert e.value.lines("en")[0].startswith(f"{nope}: base scenario {nope}: ")
    assert e.value.lines("zh") == [render(m, "zh") for m in e.value.structured]


def test_compare_result_of_another_scenario(solved: Path, tiny: Problem) -> None:
    """A result naming a student its scenario lacks: ``plan.compare.not_in_scenario``, at the
    row and column of its assignments.csv."""
    other = tiny.model_copy(update={"students": tuple(s for s in tiny.students
                                                      if s.student_id != "S1")})
    views = [read_view(solved), read_view(solved, "B")]
    with pytest.raises(ScenarioError) as e:
        compare(views, [other, other])
    zh, en = _both(_refusal(e), "plan.compare.not_in_scenario", "S1")
    assert "assignments.csv 第1行（student_id）：“S1”不在为" in zh
    assert "assignments.csv row 1, student_id: 'S1' is not in the scenario given for" in en


@pytest.mark.parametrize(("damage", "code", "value"), [
    ("no_assignments", "result.missing_file", "assignments.csv"),
    ("no_summary", "result.missing_file", "summary.json"),
    ("bad_json", "result.not_json", "summary.json"),
    ("json_list", "result.not_object", "summary.json"),
    ("columns", "result.missing_columns", "mentor_id"),
    ("rank", "result.bad_rank", "first"),
])
def test_damaged_result_folder(solved: Path, tmp_path: Path, damage: str, code: str,
                               value: str) -> None:
    """Each damage of a result folder is refused with its own code, in both languages."""
    folder = tmp_path / "r"
    shutil.copytree(solved, folder)
    assignments = folder / "assignments.csv"
    text = assignments.read_text(encoding="utf-8")
    if damage == "no_assignments":
        assignments.unlink()
    elif damage == "no_summary":
        (folder / "summary.json").unlink()
    elif damage == "bad_json":
        (folder / "summary.json").write_text("{oops", encoding="utf-8")
    elif damage == "json_list":
        (folder / "summary.json").write_text("[1]", encoding="utf-8")
    elif damage == "columns":
        assignments.write_text(text.replace("mentor_id", "mentor"), encoding="utf-8")
    else:
        header, first, *rest = text.splitlines()
        cols = header.split(",")
        cells = first.split(",")
        cells[cols.index("preference_rank")] = "first"
        assignments.write_text("\n".join([header, ",".join(cells), *rest]) + "\n",
                               encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        read_assignments(folder)
        read_summary(folder)
        read_result(folder)
    _both(_refusal(e), code, value)


def test_variant_file_errors_in_both_languages(tmp_path: Path) -> None:
    """A variant file's errors (its own keys, and changes that cannot apply to the base) are
    messages located at the file and key, in both languages: ``variant.unknown_key``,
    ``variant.factor``, ``variant.no_match`` with its hint, ``variant.unknown_term``."""
    f = tmp_path / "v.yaml"
    f.write_text("sizes: 3\nscale_capacity: -1\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        build_variant(f, TINY)
    codes = [m.code for m in e.value.structured]
    assert sorted(codes) == ["variant.factor", "variant.unknown_key"]
    zh = e.value.lines("zh")
    assert f"{f}（sizes）：无法识别的设置项；可用的设置项有：base、" in "\n".join(zh)
    assert f"{f}（scale_capacity）：请填写 0 到 1000 之间的系数，例如 0.9 或 1.2" in zh
    f.write_text("scale_capacity: [{factor: 2, city: Dqing}]\n"
                 "close: [{workstation_id: W1, terms: [2031-spring]}]\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        build_variant(f, TINY)
    by_code = {m.code: m for m in e.value.structured}
    assert set(by_code) == {"variant.no_match", "variant.unknown_term"}
    zh_no_match, en_no_match = (render(by_code["variant.no_match"], lang) for lang in ("zh", "en"))
    assert zh_no_match.startswith(f"{f}（scale_capacity[0]）：没有符合条件（城市 Dqing）的工作站；"
                                  "请填写 workstations.csv 中已有的城市（")
    assert en_no_match.startswith(f"{f}, scale_capacity[0]: no workstation matches city Dqing; "
                                  "use a city of workstations.csv (")
    assert "学期“2031-spring”不存在；请使用基础方案中的学期：2025-autumn、" in render(
        by_code["variant.unknown_term"], "zh")


def test_broken_csv_named_by_a_variant(tmp_path: Path) -> None:
    """A bad cell in a CSV that a variant file names (``add_students: late.csv``): the CLI
    prints, in Chinese, the variant file and its key, then the CSV, its row and the header as
    typed; exit 2, no traceback, nothing written. The message is nested, not a plain line."""
    (tmp_path / "late.csv").write_text("学号,所在高校,学科,工作年限,志愿,校内导师\n"
                                       "S90,HIT,0854,0,W1,\nS91,HIT,0854,两年,W1,\n",
                                       encoding="utf-8")
    f = tmp_path / "v.yaml"
    f.write_text(f"base: {TINY}\nadd_students: late.csv\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["variant", str(f), "--out", str(out), "--lang", "zh"])
    assert r.exit_code == 2 and "Traceback" not in r.output and not out.exists()
    assert r.stderr.splitlines()[0] == (
        f"错误：{f}（add_students）引用的 late.csv 第2行（工作年限）：“两年”不是数字；"
        "请只填数字，不要带单位或文字")
    with pytest.raises(ScenarioError) as e:
        build_variant(f)
    (m,) = e.value.structured
    assert m.code == "load.not_a_number" and m.location is not None
    assert (m.location.file, m.location.row, m.location.header) == ("late.csv", 2, "工作年限")
    assert m.location.within == Location(file=str(f), field="add_students")
    assert render(m, "en") == (f"{f}, add_students: late.csv row 2, 工作年限: '两年' is not a "
                               "number; give a plain number")


def test_broken_sheet_named_by_a_variant(tmp_path: Path) -> None:
    """A workbook named by a variant file is read from its table's sheet: a bad cell names the
    variant file, the workbook, the sheet, Excel's row, the column letter and the header; a
    workbook without such a sheet says which names it reads and which sheets it has."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "学生"
    for row in (["学号", "所在高校", "学科", "工作年限", "志愿", "校内导师"],
                ["S90", "HIT", "0854", 0, "W1"], ["S1", "HIT", "0854", 0, "W1"]):
        sheet.append(row)
    book.save(tmp_path / "late.xlsx")
    f = tmp_path / "v.yaml"
    f.write_text(f"base: {TINY}\nadd_students: late.xlsx\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:  # a readable sheet: S1's clash is named at its cell
        build_variant(f)
    assert e.value.lines("zh")[0].startswith(
        f"{f}（add_students）引用的 late.xlsx 中的 学生 工作表 第3行 A列（学号）：")
    sheet.cell(row=3, column=4, value="两年")
    book.save(tmp_path / "late.xlsx")
    with pytest.raises(ScenarioError) as e:
        build_variant(f)
    assert e.value.lines("zh") == [
        f"{f}（add_students）引用的 late.xlsx 中的 学生 工作表 第3行 D列（工作年限）：“两年”不是"
        "数字；请只填数字，不要带单位或文字"]
    sheet.title = "Sheet1"
    book.save(tmp_path / "late.xlsx")
    with pytest.raises(ScenarioError) as e:
        build_variant(f)
    (m,) = e.value.structured
    assert m.code == "variant.missing_sheet"
    assert render(m, "zh") == (f"{f}（add_students）引用的 late.xlsx：该工作簿中没有存放这些行的"
                               "工作表；请把工作表命名为 students、学生（现有工作表：Sheet1）")


def test_added_row_clash_points_at_its_csv_row(tmp_path: Path) -> None:
    """A student added from a CSV whose id the base already has: the message points at the
    CSV's row and id column (within the variant's key), not at ``add_students``."""
    (tmp_path / "late.csv").write_text("学号,所在高校,学科,工作年限,志愿,校内导师\n"
                                       "S90,HIT,0854,0,W1,\nS2,HIT,0854,0,W1,\n", encoding="utf-8")
    f = tmp_path / "v.yaml"
    f.write_text(f"base: {TINY}\nadd_students: late.csv\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        build_variant(f)
    m = _refusal(e)  # (the English line has the user's Chinese header: not _both)
    assert m.code == "variant.student_exists"
    zh, en = render(m, "zh"), render(m, "en")
    assert zh.startswith(f"{f}（add_students）引用的 late.csv 第2行（学号）：")
    assert en.startswith(f"{f}, add_students: late.csv row 2, 学号: ")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_written_variant_header_in_the_language(tmp_path: Path, lang: str) -> None:
    """``matcher variant --lang``: the comments atop the written scenario.yaml (where it came
    from, each change) and its default description are in the chosen language."""
    f = tmp_path / "v.yaml"
    f.write_text(f"base: {TINY}\nscale_capacity: 2\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["variant", str(f), "--out", str(out), "--lang", lang])
    assert r.exit_code == 0, r.output
    text = (out / "scenario.yaml").read_text(encoding="utf-8")
    comments = [x for x in text.splitlines() if x.startswith("#")]
    description = next(x for x in text.splitlines() if x.startswith("description:"))
    if lang == "zh":
        assert comments[0] == f"# 变体方案 {f}"
        assert all(HAN.search(x) for x in comments[1:]) and len(comments) > 1
        assert "的变体方案，共 1 处改动，详见上方注释" in description
    else:
        assert comments[0] == f"# Variant {f}"
        assert not any(HAN.search(x) for x in comments)
        assert "variant of tiny with 1 change(s), listed in the comments above" in description
    assert matcher.load_scenario(out).name == "v"


def test_pages_word_statuses_and_cohorts(solved: Path, tiny: Problem, tmp_path: Path) -> None:
    """In Chinese, the comparison page's status column, the rolling page's statuses and cohort
    columns, and explain's note on an unproven result say 可行 / 第1届, not FEASIBLE /
    cohort_1 (the CSVs keep their English data)."""
    comparison = compare([read_view(solved), read_view(solved, "B")], [tiny, tiny])
    write_comparison(comparison, tmp_path / "c", lang="zh")
    page = (tmp_path / "c" / "report.md").read_text(encoding="utf-8")
    assert "| 可行 |" in page and "FEASIBLE" not in page
    report = simulate(tiny, 2, solver="greedy", time_limit_s=5, seed=0, workers=1)
    write_rolling(report, tmp_path / "r", lang="zh")
    page = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert "| 可行 |" in page and "FEASIBLE" not in page and "| 第1届 | 第2届 |" in page
    assert "FEASIBLE" in (tmp_path / "r" / "years.csv").read_text(encoding="utf-8")
    r = CliRunner().invoke(cli, ["explain", str(TINY), str(solved), "S6", "--verify", "0",
                                 "--lang", "zh"])
    assert r.exit_code == 0, r.output
    assert "结果状态为 可行，未被证明最优" in r.stdout and "FEASIBLE" not in r.stdout
