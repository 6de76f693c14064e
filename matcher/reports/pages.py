"""Report pages: a small page builder written as Markdown and as self-contained HTML.

:class:`Page` collects headings, paragraphs, lists, tables (pandas DataFrames) and images once
and writes them as ``report.md`` and ``report.html`` (inline style, images embedded); the
compare, sweep and rolling reports use it. :func:`markdown_table` is the pipe table of a
DataFrame (numbers right-aligned). Every text, in both forms, is escaped by
:mod:`matcher.formats.escape`: ids, names and folder names show as typed and never run.

A page has a language (``zh`` or ``en``): the HTML declares it and uses a font stack with CJK
families, and the tables' column names are worded by the catalogue (``page.col.<name>`` in
``page.po``; a name it does not know is shown as it is). The CSV files beside a page keep their
English column names: they are for programs.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..formats.escape import escape_html, escape_markdown
from ..messages import Lang, label, template
from .html import FONT_STACK, HTML_LANG

__all__ = ["Page", "column_label", "html_table", "is_number", "markdown_table", "word"]


def word(kind: str, name: str, lang: Lang) -> str:
    """``page.<kind>.<name>`` of the catalogue in ``lang``, else ``name`` as it is."""
    code = f"page.{kind}.{name}"
    return label(code, lang) if template(code, lang) is not None else name


def column_label(name: str, lang: Lang) -> str:
    """A column's (or KPI's) name for people: ``placed_share`` is ``分配比例`` in Chinese;
    ``delta:b`` and ``placed_share[university=HIT]`` keep their suffix."""
    if name.startswith("delta:"):
        return word("col", "delta", lang) + ("：" if lang == "zh" else ":") + name[6:]
    base, bracket, rest = name.partition("[")
    return word("col", base, lang) + bracket + rest


def _headers(frame: pd.DataFrame, lang: Lang) -> list[str]:
    return [column_label(str(c), lang) for c in frame.columns]


def is_number(x: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, float):
        return f"{x:.4f}".rstrip("0").rstrip(".") if not x.is_integer() else str(int(x))
    return str(x)


def _numeric(column: pd.Series) -> bool:
    """True when every value of the column is a number or empty (and one is a number)."""
    values = [x for x in column.tolist() if x is not None and not (
        isinstance(x, float) and math.isnan(x))]
    return bool(values) and all(is_number(x) for x in values)


def markdown_table(frame: pd.DataFrame, limit: int | None = None, lang: Lang = "en") -> str:
    """A pipe table of a DataFrame (numbers right-aligned, at most ``limit`` rows), its
    column names in ``lang``."""
    cols = _headers(frame, lang)
    numeric = [_numeric(frame[c]) for c in frame.columns]
    lines = ["| " + " | ".join(escape_markdown(c) for c in cols) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    shown = frame if limit is None else frame.head(limit)
    for rec in shown.itertuples(index=False):
        lines.append("| " + " | ".join(escape_markdown(_fmt(x)) for x in rec) + " |")
    if limit is not None and len(frame) > limit:
        lines.append("\n" + label("page.more_rows", lang, count=len(frame) - limit))
    return "\n".join(lines)


def html_table(frame: pd.DataFrame, limit: int | None = None, lang: Lang = "en") -> str:
    """An HTML table of a DataFrame (as :func:`markdown_table`)."""
    numeric = [_numeric(frame[c]) for c in frame.columns]
    head = "".join(f"<th>{escape_html(c)}</th>" for c in _headers(frame, lang))
    body = []
    shown = frame if limit is None else frame.head(limit)
    for rec in shown.itertuples(index=False):
        cells = "".join(f"<td class=\"{'n' if n else ''}\">{escape_html(_fmt(x))}</td>"
                        for x, n in zip(rec, numeric, strict=True))
        body.append(f"<tr>{cells}</tr>")
    more = (f"<p>{escape_html(label('page.more_rows', lang, count=len(frame) - limit))}</p>"
            if limit is not None and len(frame) > limit else "")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


_CSS = ("body{font-family:" + FONT_STACK + ";margin:2em;max-width:75em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:90%}"
        "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}"
        "img{max-width:100%;border:1px solid #eee}")


@dataclass
class Page:
    """A report page built once and written as markdown and as self-contained HTML."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    lang: Lang = "en"

    def heading(self, text: str) -> None:
        """A section heading."""
        self.blocks.append(("h2", text))

    def text(self, text: str) -> None:
        """A paragraph."""
        self.blocks.append(("p", text))

    def bullets(self, items: Iterable[str]) -> None:
        """A bulleted list."""
        self.blocks.append(("ul", list(items)))

    def table(self, frame: pd.DataFrame, limit: int | None = None) -> None:
        """A table (the first ``limit`` rows)."""
        self.blocks.append(("table", (frame, limit)))

    def image(self, path: Path, rel: str, alt: str) -> None:
        """A PNG: linked by ``rel`` in markdown, embedded in the HTML."""
        self.blocks.append(("img", (path, rel, alt)))

    def markdown(self) -> str:
        """The page as markdown (every text escaped: it shows, it never runs or links)."""
        out = [f"# {escape_markdown(self.title)}", ""]
        for kind, x in self.blocks:
            if kind == "h2":
                out += [f"## {escape_markdown(x)}", ""]
            elif kind == "p":
                out += [escape_markdown(x, block=True), ""]
            elif kind == "ul":
                out += [f"- {escape_markdown(i)}" for i in x] + [""]
            elif kind == "table":
                out += [markdown_table(x[0], x[1], lang=self.lang), ""]
            else:  # our own plots/<kpi>.png: a fixed relative path
                out += [f"![{escape_markdown(x[2])}]({x[1]})", ""]
        return "\n".join(out)

    def html(self) -> str:
        """The page as one HTML file with inline style and images."""
        out = ["<!DOCTYPE html>", f"<html lang=\"{HTML_LANG[self.lang]}\"><head>"
               "<meta charset=\"utf-8\">",
               f"<title>{escape_html(self.title)}</title><style>{_CSS}</style></head><body>",
               f"<h1>{escape_html(self.title)}</h1>"]
        for kind, x in self.blocks:
            if kind == "h2":
                out.append(f"<h2>{escape_html(x)}</h2>")
            elif kind == "p":
                out.append(f"<p>{escape_html(x)}</p>")
            elif kind == "ul":
                out.append("<ul>" + "".join(f"<li>{escape_html(i)}</li>" for i in x) + "</ul>")
            elif kind == "table":
                out.append(html_table(x[0], x[1], lang=self.lang))
            else:
                data = base64.b64encode(Path(x[0]).read_bytes()).decode()
                out.append(f"<p><img alt=\"{escape_html(x[2])}\" "
                           f"src=\"data:image/png;base64,{data}\"></p>")
        out.append("</body></html>\n")
        return "\n".join(out)

    def write(self, folder: Path, stem: str = "report") -> None:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``folder``."""
        (folder / f"{stem}.md").write_text(self.markdown(), encoding="utf-8")
        (folder / f"{stem}.html").write_text(self.html(), encoding="utf-8")
