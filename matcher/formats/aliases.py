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
    # rules (issue 28): minimum intake, split practice, groups
    "min_intake": ("最低接收人数", "最少人数", "最低人数", "最少接收人数"),
    "max_segments": ("分段数", "最多分段数", "实践分段数"),
    "group_id": ("组号", "小组", "小组编号", "分组"),
    # quotas (issue 29)
    "selector": ("统计项", "统计依据", "配额类别", "按"),
    "value": ("取值", "对象", "值"),
    "min_share": ("最低比例", "比例下限", "最少比例"),
    "max_share": ("最高比例", "比例上限", "最多比例"),
    "min_count": ("最少人数", "人数下限", "最低人数"),
    "max_count": ("最多人数", "人数上限", "最高人数"),
    "hard": ("硬性", "约束类型", "是否硬性", "硬性约束"),
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
    "groups": ("小组", "分组", "同组学生"),
    "vetoes": ("回避", "禁止", "回避名单"),
    "quotas": ("配额", "比例要求", "名额比例"),
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
    "policy.max_segments": ("分段数", "最多分段数"),
    "policy.min_segment_months": ("每段最少月数", "最短分段月数"),
    "objective.pair_weight": ("奖励导师组合",),
    "objective.rank": ("志愿目标", "志愿优化目标"),
    "solver.time_limit_s": ("求解时限", "时间限制"),
    "solver.seed": ("随机种子",),
    "solver.workers": ("线程数",),
    "solver.policy": ("分配规则", "录取规则"),
    "solver.deterministic": ("可复现求解", "确定性求解"),
}
"""Keys of a workbook's ``scenario`` sheet (the dotted form of ``scenario.yaml``) -> aliases."""

NAME_ALIASES: dict[str, tuple[str, ...]] = {
    "workstations": ("workstation_name", "工作站名称", "工作站全称", "企业名称", "单位名称",
                     "名称"),
}
"""Headers of a table's name column (kept as a carried column). Where a scenario gives a
workstation by its name instead of its id (``哈尔滨电气集团研究生工作站``), a unique name is read
as the id, with a note."""

_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
_SPACES = re.compile(r"[\s\-]+")
_ANY_SPACE = re.compile(r"\s+")
_CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def normalize(name: object) -> str:
    """The form in which header names are compared.

    NFKC (full-width to half-width), a trailing ``(...)`` note removed, lower case, byte-order
    marks dropped; in a Chinese header every space goes (``学 号`` is ``学号``), in another one
    runs of spaces and hyphens become one underscore (``Student ID`` is ``student_id``).
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\ufeff", "").strip()
    stripped = _NOTE.sub("", text)
    text = stripped if stripped else text
    if _CJK.search(text):
        return _ANY_SPACE.sub("", text).lower()
    return _SPACES.sub("_", text.strip()).lower()


def loosely_typed(header: str) -> bool:
    """Whether a header was recognised only by forgiving what carries no meaning that a note
    should mention: spaces inside a Chinese header (``学 号``) or full-width letters and digits
    (``ＩＤ``), as against case, brackets or a unit note, which are the format's own spelling."""
    text = header.replace("\ufeff", "").strip()
    if _CJK.search(text) and _ANY_SPACE.search(text):
        return True
    return any("\uff10" <= c <= "\uff5a" for c in text)


def _index(table: dict[str, tuple[str, ...]], names: Iterable[str]) -> dict[str, str]:
    """Normalized alias (and canonical name) -> canonical name, for the given names only."""
    out: dict[str, str] = {}
    for name in names:
        for alias in (name, *table.get(name, ())):
            out.setdefault(normalize(alias), name)
    return out


def canonical_header(columns: Sequence[str], header: Sequence[str]) -> list[str]:
    """Map a header row onto a table's canonical column names.

    Parameters
    ----------
    columns
        The table's canonical column names.
    header
        The header cells as read (stripped).

    Returns
    -------
    list[str]
        The header with every recognised cell replaced by its canonical name (others kept as
        they are).
    """
    lookup = _index(COLUMN_ALIASES, columns)
    return [lookup.get(normalize(h), h) if h else h for h in header]


def is_name_column(table: str, header: str) -> bool:
    """Whether ``header`` heads the name column of ``table`` (:data:`NAME_ALIASES`)."""
    names = NAME_ALIASES.get(table, ())
    return bool(names) and normalize(header) in {normalize(n) for n in names}


_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ORDINAL = (re.compile(r"(?:工作站)?第([0-9]+|[一二三四五六七八九十]+)(?:志愿|选择)(?:工作站)?"),
            re.compile(r"(?:工作站)?(?:志愿|选择)([0-9]+|[一二三四五六七八九十]+)(?:工作站)?"),
            re.compile(r"(?:preference|choice|pref)_?([0-9]+)"))


def chinese_number(text: str) -> int | None:
    """``3`` for ``3`` or ``三``, ``12`` for ``十二``; None for anything else (up to 99)."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(c not in _NUMERALS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _NUMERALS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return _NUMERALS.get(tens, 1 if not tens else 0) * 10 + (_NUMERALS[ones] if ones else 0)


def preference_ordinal(header: str) -> int | None:
    """The place of a one-choice-per-column preference header, or None.

    ``第一志愿`` and ``第1志愿`` are 1, ``第二志愿`` and ``志愿2`` are 2, ``preference 3`` is 3.
    """
    key = normalize(header)
    for pattern in _ORDINAL:
        found = pattern.fullmatch(key)
        if found:
            n = chinese_number(found.group(1))
            return n if n else None
    return None


_TOTALS = re.compile(r"(?:合计|总计|小计|共计|总数|总和|汇总).*|(?:total|subtotal|sum)\b.*|"
                     r"共[0-9一二三四五六七八九十百千万两〇零]+(?:人|名|个|条|项|所|家|位)?"
                     r"(?:学生|研究生|导师|工作站|单位|企业)?", re.IGNORECASE)
_GRAND = ("合计", "总计", "共计", "总数", "总和", "汇总", "total", "sum", "共")


def totals_word(cell: str) -> str | None:
    """The word that makes a cell the label of a totals row (``合计``, ``共10人``), or None.

    Returns
    -------
    str or None
        The cell as typed when it starts a totals row; None otherwise.
    """
    text = _ANY_SPACE.sub("", unicodedata.normalize("NFKC", cell))
    if text and _TOTALS.fullmatch(text):
        return cell.strip()
    return None


def is_grand_total(word: str) -> bool:
    """Whether a totals label (:func:`totals_word`) ends the table (``合计``), as against a
    subtotal between groups (``小计``)."""
    text = _ANY_SPACE.sub("", unicodedata.normalize("NFKC", word)).lower()
    return text.startswith(_GRAND) and not text.startswith("subtotal")


def canonical_sheet(title: str, tables: Iterable[str]) -> str | None:
    """The table (or ``scenario``) a sheet title names, or None for another sheet."""
    return _index(SHEET_ALIASES, tables).get(normalize(title))


def canonical_setting(key: str) -> str:
    """The dotted ``scenario.yaml`` key a ``scenario`` sheet key names (unknown keys unchanged)."""
    return _index(SETTING_ALIASES, SETTING_ALIASES).get(normalize(key), key.strip())


def canonical_setting_column(cell: str) -> str | None:
    """``key``, ``value`` or None (a note column) for a ``scenario`` sheet header cell."""
    return _index(SETTING_COLUMN_ALIASES, SETTING_COLUMN_ALIASES).get(normalize(cell))


def letter(k: int) -> str:
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
