"""The one escaping layer: every CSV, workbook, Markdown and HTML text matcher writes.

Ids, names, folder and scenario names reach outputs as data, and data must never act as a
formula, a tag or a link. Every writer escapes through here, and every reader of matcher's own
outputs (check, verify, compare, resolve) unescapes through here:

* :func:`escape_cell` / :func:`unescape_cell`: a text cell of an output CSV or workbook that a
  spreadsheet would run as a formula gets a leading ``'`` (OWASP's list of first characters);
  reading it back gives the original text; :func:`escape_frame` does it for a whole table,
  header included;
* :func:`escape_html`: any value as HTML text or attribute;
* :func:`escape_markdown`: any value as Markdown text (a table cell, a heading, a paragraph,
  a list item): no raw HTML, no link or image, no emphasis or code, no line break, no pipe;
  with ``block=True`` also no heading, list or quote marker at its start.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "escape_cell", "escape_frame", "escape_html", "escape_markdown",
           "unescape_cell", "unescape_frame"]


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""


def escape_cell(text: str) -> str:
    """Defuse spreadsheet formula injection in one text cell of an output file.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'``, so Excel and LibreOffice show it as text instead of running it as a formula.
    A cell that starts with ``'`` followed by one of those (or by another ``'``) gets one too,
    so that :func:`unescape_cell` gives back exactly the original text. Only text is escaped:
    numbers (negative ones included) are written as numbers by the callers.
    """
    if text.startswith(FORMULA_TRIGGERS) or (
            text.startswith("'") and text[1:2] != "" and text[1] in "'=+-@\t\r"):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The original text of a cell written with :func:`escape_cell`."""
    if text.startswith("'") and text[1:2] != "" and text[1] in "'=+-@\t\r":
        return text[1:]
    return text


def _each(column: pd.Series, change: Any) -> pd.Series:
    """``change`` applied to the text cells of a column that stays of kind object (``map``
    would infer float64 for a column of ints and floats, and 5 would be written 5.0)."""
    import pandas as pd

    cells = [change(v) if isinstance(v, str) else v for v in column]
    if column.dtype == object:
        return pd.Series(cells, index=column.index, dtype=object, name=column.name)
    return pd.Series(cells, index=column.index, dtype=column.dtype, name=column.name)


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with :func:`escape_cell` applied to every text cell and to the column names
    (which may be result labels, that is folder names); numbers untouched."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):  # object or string columns
            out[col] = _each(out[col], escape_cell)
    out.columns = [escape_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def unescape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table :func:`escape_frame` was given, from what it returned (read back from CSV)."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = _each(out[col], unescape_cell)
    out.columns = [unescape_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def escape_html(value: Any) -> str:
    """Any value as HTML text or attribute value (None is empty; quotes escaped too)."""
    return html.escape("" if value is None else str(value), quote=True)


_MARKDOWN_ACTIVE = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "[": "\\[", "]": "\\]",
    "|": "\\|", "~": "\\~", "&": "&amp;", "<": "&lt;", ">": "&gt;",
    "\r": " ", "\n": " ", "\u2028": " ", "\u2029": " "})
_BLOCK_START = re.compile(r"^(\s*)([#+\-=>]|\d+[.)])")


def _defuse_marker(m: re.Match[str]) -> str:
    lead, marker = m.group(1), m.group(2)
    if marker[0].isdigit():  # "1." or "1)": a numbered list item
        return f"{lead}{marker[:-1]}\\{marker[-1]}"
    return f"{lead}\\{marker}"


def escape_markdown(text: Any, *, block: bool = False) -> str:
    """Any value as Markdown text that renders as exactly that text.

    Characters that start HTML (``<``, ``>``, ``&`` become entities), links and images
    (``[``, ``]``), emphasis and code (``*``, ``_``, `````, ``~``) and table cells (``|``) are
    escaped, and line breaks become spaces, so a name such as ``<script>`` or ``[x](javascript:)``
    is shown, never run or followed. ``block=True`` (a paragraph or list item) also escapes a
    heading, list or quote marker at the start.
    """
    out = ("" if text is None else str(text)).translate(_MARKDOWN_ACTIVE)
    if block:
        out = _BLOCK_START.sub(_defuse_marker, out, count=1)
    return out
