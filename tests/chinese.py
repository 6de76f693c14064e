"""tiny as a Chinese graduate office writes it: the same data under Chinese headers, with Chinese
university names and cities (a test helper: the outputs of such a scenario are in Chinese)."""

from __future__ import annotations

import shutil
from pathlib import Path

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny"

HEADERS = {
    "students.csv": "学号,高校,学科/专业类别,工作年限,志愿,校内导师,优先级",
    "workstations.csv": "工作站编号,学科/专业类别,容量,合作高校,城市,纬度,经度",
    "mentors.csv": "企业导师,工作站编号,学科/专业类别,容量",
    "supervisors.csv": "校内导师,高校,学科/专业类别,容量",
    "universities.csv": "高校,高校名称,城市",
    "workstation_terms.csv": "工作站编号,学期,容量",
    "pairs.csv": "校内导师,企业导师,权重",
}
"""The Chinese header of every table of tiny (aliases the loader accepts)."""

WORDS = {"Harbin Institute of Technology": "哈尔滨工业大学",
         "Harbin Engineering University": "哈尔滨工程大学",
         "Daqing": "大庆", "Harbin": "哈尔滨"}
"""Names and cities written in Chinese."""


NAMES = {"S1": "张伟", "S2": "王芳", "S3": "李娜", "S4": "刘洋", "S5": "陈静", "S6": "杨磊"}
"""The students' names: the clerk's own column 姓名, which matcher carries to its outputs."""

STATIONS = {"W1": "哈尔滨电气集团研究生工作站", "W2": "中国一重研究生工作站",
            "W3": "大庆油田研究生工作站"}
"""The workstations' names: the clerk's own column 工作站名称."""


def chinese_tiny(folder: Path, *, carried: bool = False) -> Path:
    """Write tiny with Chinese headers, university names and cities into ``folder``; with
    ``carried``, also the clerk's own columns: students' 姓名 and 备注, workstations'
    工作站名称 (columns matcher does not use and carries through)."""
    shutil.copytree(TINY, folder)
    for name, header in HEADERS.items():
        path = folder / name
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = lines[1:]
        if carried and name == "students.csv":
            header += ",姓名,备注"
            rows = [f"{r},{NAMES[r.split(',')[0]]},{'交换生' if r.startswith('S3') else ''}"
                    for r in rows]
        if carried and name == "workstations.csv":
            header += ",工作站名称"
            rows = [f"{r},{STATIONS[r.split(',')[0]]}" for r in rows]
        body = "\n".join(rows)
        for old, new in WORDS.items():
            body = body.replace(old, new)
        path.write_text(header + "\n" + body + "\n", encoding="utf-8")
    return folder
