"""Turn a scenario folder of CSVs into one Excel workbook with Chinese headers.

Regenerates ``scenarios/heilongjiang-demo-xlsx/scenario.xlsx`` from the CSV demo::

    python scenarios/make_xlsx.py

or converts any scenario folder::

    python scenarios/make_xlsx.py SCENARIO_FOLDER OUT.xlsx

The workbook has a ``scenario`` sheet (参数 / 值 / 说明: one setting per row, nested settings as
``policy.window``) and one sheet per CSV table, named like the file without ``.csv``, with each
column headed by its first Chinese alias from :mod:`matcher.formats.aliases` (学号,
学科/专业类别, 志愿, ...). Number columns are written as numbers, everything else (ids such
as ``0854``) as text, as a clerk's workbook would hold them. The output is byte-identical on
every run.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import yaml
from openpyxl import Workbook

from matcher.formats.aliases import preferred
from matcher.formats.schema import TABLES
from matcher.reports.xlsx import save_workbook

HERE = Path(__file__).resolve().parent

NOTES = {
    "name": "方案名称",
    "description": "说明",
    "terms": "学期，按时间顺序，用 ; 分隔",
    "term_months": "每学期计入的实践月数",
    "policy.practice_months": "工作年限不足 experienced_years 的学生需实践的月数",
    "policy.experienced_practice_months": "工作年限达到 experienced_years 的学生需实践的月数",
    "policy.experienced_years": "工作年限阈值（年）",
    "policy.window": "实践可安排的第一个和最后一个学期",
    "policy.preferences_only": "是否只安排到学生志愿中的工作站",
    "objective.pair_weight": "第三目标：奖励已有合作的校内导师与企业导师组合",
    "solver.time_limit_s": "求解时限（秒），命令行参数优先",
    "solver.seed": "随机种子",
    "solver.workers": "求解线程数",
}


def _settings_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """``scenario.yaml`` as (key, value, note) rows, nested keys dotted."""
    rows: list[list[Any]] = []
    for key, value in doc.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in items:
            name = f"{key}.{sub}" if sub is not None else str(key)
            if isinstance(v, list):
                v = "; ".join(str(x) for x in v)
            rows.append([name, v, NOTES.get(name)])
    return rows


def _typed(text: str, kind: str) -> Any:
    """A CSV cell as the value a spreadsheet would hold: numbers for number columns."""
    text = text.strip()
    if text == "" or kind not in ("int", "float", "opt_int", "opt_float"):
        return text or None
    number = float(text)
    return int(number) if number.is_integer() else number


def convert(folder: Path, out: Path) -> Path:
    """Write the workbook for a scenario folder of CSVs; return its path."""
    book = Workbook(write_only=True)
    doc = yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8-sig"))
    sheet = book.create_sheet("scenario")
    sheet.append(["参数", "值", "说明"])
    for row in _settings_rows(doc):
        sheet.append(row)
    for table in TABLES:
        path = folder / table.file
        if not path.is_file():
            continue
        with path.open(encoding="utf-8-sig", newline="") as f:
            header, *rows = list(csv.reader(f))
        kinds = {c.name: c.kind for c in table.columns}
        sheet = book.create_sheet(table.name)
        sheet.append([preferred(h) if h in kinds else h for h in header])
        for row in rows:
            sheet.append([_typed(cell, kinds.get(h, "str")) for h, cell in zip(header, row,
                                                                               strict=True)])
    out.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(book, out)
    return out


def main(argv: list[str]) -> Path:
    """Convert ``argv[0]`` (default: the CSV demo) into ``argv[1]`` (default: the xlsx demo)."""
    src = Path(argv[0]) if argv else HERE / "heilongjiang-demo"
    out = Path(argv[1]) if len(argv) > 1 else HERE / "heilongjiang-demo-xlsx" / "scenario.xlsx"
    return convert(src, out)


if __name__ == "__main__":
    print(main(sys.argv[1:]))
