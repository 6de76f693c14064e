"""The one escaping layer: spreadsheet formula escaping, HTML and Markdown text.

* :func:`escape_cell` / :func:`unescape_cell`: a text cell of an output CSV or workbook that a
  spreadsheet would run as a formula gets a leading ``'`` (OWASP's list of first characters);
  reading it back gives the original text;
* :func:`escape_html`: any value as HTML text or attribute;
* :func:`escape_markdown`: text inside a Markdown pipe-table cell.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "escape_cell", "escape_frame", "escape_html", "escape_markdown",
           "unescape_cell"]


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


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with :func:`escape_cell` applied to every text cell (numbers untouched)."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):  # object or string columns
            out[col] = out[col].map(lambda v: escape_cell(v) if isinstance(v, str) else v)
    return out


def escape_html(value: Any) -> str:
    """Any value as HTML text or attribute value (None is empty; quotes escaped too)."""
    return html.escape("" if value is None else str(value), quote=True)


def escape_markdown(text: str) -> str:
    """Text fit for one cell of a Markdown pipe table (``|`` escaped)."""
    return text.replace("|", "\\|")
