"""Header aliases: the Chinese (and loosely spelt English) names a column or sheet may have.

Graduate offices keep their lists in spreadsheets with Chinese headers. Every column of every
table (see ``TABLES`` in :mod:`matcher.formats.schema`) may be headed by its canonical English
name or by any alias below; the same holds for CSV files and workbook sheets. Matching is
forgiving about spelling that carries no meaning (see :func:`normalize`):

* case and surrounding spaces (``Student ID``, ``student id`` and ``student_id`` are one name);
* full-width and half-width forms (``（`` and ``(``, ``Ａ`` and ``A``);
* a trailing note in brackets, often a unit (``工作年限（年）``, ``capacity (per term)``).

An alias is looked up *within one table*: ``学科`` means ``discipline`` in ``students`` and
``disciplines`` in ``workstations``, ``mentors`` and ``supervisors``; ``开始学期`` means
``window_start`` in ``students`` and ``start_term`` in ``locks``. Within one table no two columns
share an alias (a test checks it), so a header can only be ambiguous when two of its columns
mean the same field, for example ``学号`` and ``student_id`` side by side; that is an error
naming both columns.

Column aliases (canonical name: aliases)
----------------------------------------
See :data:`COLUMN_ALIASES`; docs/format.md has the same table. Sheet names of a workbook have their
own aliases (:data:`SHEET_ALIASES`), and so do the keys and columns of its ``scenario`` sheet
(:data:`SETTING_ALIASES`, :data:`SETTING_COLUMN_ALIASES`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    # ids
    "student_id": ("学号", "学生编号", "学生学号", "学生ID"),
    "university_id": ("高校", "高校编号", "高校代码", "学校", "学校代码", "所在高校",
                      "培养单位"),
    "workstation_id": ("工作站编号", "工作站", "工作站代码", "工作站ID"),
    "mentor_id": ("企业导师", "企业导师编号", "企业导师工号"),
    "supervisor_id": ("校内导师", "校内导师编号", "校内导师工号"),
    # students
    "discipline": ("学科/专业类别", "学科", "专业类别", "专业学位类别", "学科专业", "学科代码"),
    "work_experience_years": ("工作年限", "工作经验年限", "工龄"),
    "preferences": ("志愿", "工作站志愿", "志愿顺序", "填报志愿"),
    "priority": ("优先级", "优先分", "综合成绩"),
    "window_start": ("最早开始学期", "窗口开始学期", "开始学期"),
    "window_end": ("最晚结束学期", "窗口结束学期", "结束学期"),
    "required_months": ("实践月数", "所需实践月数", "实践时长"),
    # workstations, mentors, supervisors
    "disciplines": ("学科/专业类别", "学科", "专业类别", "专业学位类别", "学科专业", "学科代码",
                    "接收学科", "指导学科"),
    "capacity": ("容量", "名额", "接收人数", "指导人数"),
    "partner_universities": ("合作高校", "合作院校", "合作学校"),
    "city": ("城市", "所在城市", "地市"),
    "lat": ("纬度",),
    "lon": ("经度",),
    # universities
    "name": ("高校名称", "学校名称", "名称"),
    # workstation_terms
    "term": ("学期",),
    # pairs
    "weight": ("权重", "合作权重"),
    # locks
    "start_term": ("开始学期", "起始学期"),
    # rankings
    "rank": ("排名", "名次", "工作站排名"),
    # occupancy
    "used": ("已占用名额", "已占用", "占用名额"),
}
"""Canonical column name -> accepted aliases (besides the name itself)."""

SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "scenario": ("设置", "参数", "方案"),
    "students": ("学生",),
    "workstations": ("工作站",),
    "mentors": ("企业导师",),
    "supervisors": ("校内导师",),
    "universities": ("高校",),
    "workstation_terms": ("工作站学期容量", "学期容量"),
    "pairs": ("导师组合", "合作导师组合"),
    "locks": ("锁定", "预先指定"),
    "rankings": ("工作站排名", "排名"),
    "occupancy": ("已占用名额", "已占用"),
}
"""Workbook sheet name (the CSV file name without ``.csv``, or ``scenario``) -> aliases."""

SETTING_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "key": ("参数", "设置项", "键", "项目", "setting", "parameter"),
    "value": ("值", "取值", "参数值", "设置值"),
}
"""Columns of a workbook's ``scenario`` sheet; any other column (a note) is ignored."""

SETTING_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("方案名称", "名称"),
    "description": ("方案说明", "描述"),
    "terms": ("学期", "学期列表"),
    "term_months": ("每学期月数",),
    "policy.practice_months": ("实践月数",),
    "policy.experienced_practice_months": ("有工作经验者实践月数",),
    "policy.experienced_years": ("工作经验年限阈值",),
    "policy.window": ("实践窗口",),
    "policy.preferences_only": ("仅限志愿",),
    "objective.pair_weight": ("奖励导师组合",),
    "solver.time_limit_s": ("求解时限", "时间限制"),
    "solver.seed": ("随机种子",),
    "solver.workers": ("线程数",),
}
"""Keys of a workbook's ``scenario`` sheet (the dotted form of ``scenario.yaml``) -> aliases."""

_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_SPACES = re.compile(r"[\s\-]+")


def normalize(name: object) -> str:
    """The form in which header names are compared.

    NFKC (full-width to half-width), a trailing ``(...)`` note removed, lower case, runs of
    spaces and hyphens turned into one underscore, byte-order marks dropped.
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").strip()
    stripped = _NOTE.sub("", text)
    text = stripped if stripped else text
    return _SPACES.sub("_", text.strip()).lower()


def _index(table: dict[str, tuple[str, ...]], names: Iterable[str]) -> dict[str, str]:
    """Normalized alias (and canonical name) -> canonical name, for the given names only."""
    out: dict[str, str] = {}
    for name in names:
        for alias in (name, *table.get(name, ())):
            out.setdefault(normalize(alias), name)
    return out


def canonical_header(columns: Sequence[str], header: Sequence[str],
                     ) -> tuple[list[str], list[str]]:
    """Map a header row onto a table's canonical column names.

    Parameters
    ----------
    columns
        The table's canonical column names.
    header
        The header cells as read (stripped).

    Returns
    -------
    tuple
        The header with every recognised cell replaced by its canonical name (others kept as
        they are), and one message per field named by two or more *different* header cells
        (identical cells are left for the caller's duplicate check).
    """
    lookup = _index(COLUMN_ALIASES, columns)
    out = [lookup.get(normalize(h), h) if h else h for h in header]
    clashes: list[str] = []
    for name in columns:
        cells = [k for k, c in enumerate(out) if c == name]
        spelled = {header[k] for k in cells}
        if len(spelled) > 1:
            shown = " and ".join(f"'{header[k]}' (column {_letter(k)})" for k in cells)
            each = "both" if len(cells) == 2 else "all"
            clashes.append(f"columns {shown} {each} mean {name}; keep one of them")
    return out, clashes


def canonical_sheet(title: str, tables: Iterable[str]) -> str | None:
    """The table (or ``scenario``) a sheet title names, or None for another sheet."""
    return _index(SHEET_ALIASES, tables).get(normalize(title))


def canonical_setting(key: str) -> str:
    """The dotted ``scenario.yaml`` key a ``scenario`` sheet key names (unknown keys unchanged)."""
    return _index(SETTING_ALIASES, SETTING_ALIASES).get(normalize(key), key.strip())


def canonical_setting_column(cell: str) -> str | None:
    """``key``, ``value`` or None (a note column) for a ``scenario`` sheet header cell."""
    return _index(SETTING_COLUMN_ALIASES, SETTING_COLUMN_ALIASES).get(normalize(cell))


def _letter(k: int) -> str:
    """Spreadsheet column letter of 0-based column ``k`` (A, ..., Z, AA, ...)."""
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(65 + r) + out
    return out


def preferred(name: str) -> str:
    """The first Chinese alias of a canonical column name (the name itself if it has none)."""
    return COLUMN_ALIASES.get(name, (name,))[0]
