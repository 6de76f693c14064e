"""A scenario workbook kept the way a graduate office keeps it (issue 25), for the tests.

Everything the issue found refused or misread is in it: title rows (merged) above the headers,
a title row on the settings sheet, a hidden old copy of the students sheet (``学生(旧)``) and a
very hidden sheet, headers with spaces inside (``学 号``), the clerk's own columns (姓名,
工作站名称, 备注), preferences spread over ``第一志愿``/``第二志愿``/``第三志愿`` and given
as workstation names, lists separated by ``，``, ``,``, ``、`` and Alt+Enter line breaks, a
university merged over two student rows, dates in a term column (an Excel date cell and a typed
one), a hidden row, and totals rows (``合计``, ``共6人``) with a note below them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

TERMS = "2026-autumn；2027-spring；2027-autumn；2028-spring"


def build(path: Path) -> Path:
    """Write the workbook to ``path`` (its folder is created) and return ``path``."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "设置"
    ws["A1"] = "2026级专业学位研究生实践分配参数"
    ws.merge_cells("A1:C1")
    for row in (["方案名称", "2026级分配"], ["学期", TERMS], ["每学期月数", 6],
                ["实践月数", 12], ["有工作经验者实践月数", 6], ["仅限志愿", "否"]):
        ws.append(row)

    st = wb.create_sheet("学生")
    st["A1"] = "2026级专业学位研究生实践分配表"
    st.merge_cells("A1:K1")
    st["A2"] = "填表单位：研究生院培养办"
    st.append(["学 号", "姓名", "所在高校", "学科/专业类别", "工作年限", "第一志愿", "第二志愿",
               "第三志愿", "最早开始学期", "校内导师", "备注"])
    st.append(["S01", "张三", "HIT", "0854", 0, "哈尔滨电气集团研究生工作站", "W02", None,
               None, None, "班长"])
    st.append(["S02", "李四", "HIT", "0854", 3, "W02", "哈尔滨电气集团研究生工作站", None,
               None, None, None])
    st.append(["S03", "王五", "NEPU", "0855", 1, "W03", None, None,
               dt.datetime(2026, 9, 1), None, "缓考"])
    st.append(["S04", "赵六", None, "0855", 0, "W03", "W02", None, "2026-09-01", None, None])
    st.append(["S05", "钱七", "HEU", "0951", 0, "W04", None, None, None, None, None])
    st.append(["S06", "孙八", "HEU", "0952", 2, "W04", "W03", None, None, None, "待定"])
    st.merge_cells("C6:C7")  # S03 and S04 share the university cell (NEPU)
    st.row_dimensions[8].hidden = True  # S05's row, hidden by a filter
    st.append(["合计", None, None, None, None, None, None, None, None, None, "共6人"])
    st.append([])
    st.append(["制表人：刘老师"])

    old = wb.create_sheet("学生(旧)")
    old.append(["学号", "所在高校"])
    old.append(["S99", "HIT"])
    old.sheet_state = "hidden"
    secret = wb.create_sheet("vh")
    secret["A1"] = "x"
    secret.sheet_state = "veryHidden"

    ws2 = wb.create_sheet("工作站")
    ws2["A1"] = "工作站名单"
    ws2.append(["工作站编号", "工作站名称", "学科", "容量", "合作高校"])
    ws2.append(["W01", "哈尔滨电气集团研究生工作站", "0854", 2, "HIT，NEPU"])
    ws2.append(["W02", "中国一重研究生工作站", "0854、0855", 2, "HIT, NEPU, HEU"])
    ws2.append(["W03", "大庆油田研究生工作站", "0855", 2, None])
    ws2.append(["W04", "哈药集团研究生工作站", "0951,0952", 2, "HEU"])
    ws2.append(["合计", None, None, 8, None])

    me = wb.create_sheet("企业导师")
    me.append(["企业导师编号", "姓名", "工作站", "学科", "指导人数"])
    me.append(["M1", "周工", "哈尔滨电气集团研究生工作站", "0854", 2])
    me.append(["M2", "吴工", "W02", "0854\n0855", 2])
    me.append(["M3", "郑工", "W03", "0855", 2])
    me.append(["M4", "王工", "W04", "0951；0952", 2])

    su = wb.create_sheet("校内导师")
    su.append(["校内导师编号", "姓名", "所在高校", "学科", "指导人数"])
    su.append(["HIT-1", "陈教授", "HIT", "0854", 3])
    su.append(["NEPU-1", "林教授", "NEPU", "0855", 3])
    su.append(["HEU-1", "黄教授", "HEU", "0951、0952", 3])

    un = wb.create_sheet("高校")
    un.append(["高校代码", "高校名称"])
    un.append(["HIT", "哈尔滨工业大学"])
    un.append(["NEPU", "东北石油大学"])
    un.append(["HEU", "哈尔滨工程大学"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
