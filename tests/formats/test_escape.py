"""The formula-injection escaping of output cells (:mod:`matcher.formats.escape`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.formats.escape import escape_cell, unescape_cell


# ---- formula-injection escaping -------------------------------------------------------------
@given(st.text())
def test_escape_round_trip(text: str) -> None:
    """unescape(escape(s)) == s, and an escaped cell never starts a formula."""
    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(("text", "out"), [
    ("=1+2", "'=1+2"), ("+86", "'+86"), ("-W1", "'-W1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("W1", "W1"), ("'plain", "'plain"), ("'=x", "''=x"), ("", ""),
])
def test_escape_examples(text: str, out: str) -> None:
    """Cells starting with = + - @ get a leading quote; others are unchanged."""
    assert escape_cell(text) == out


# ---- tables, Markdown -----------------------------------------------------------------------
def test_frame_escapes_cells_and_headers_and_reads_back() -> None:
    """escape_frame escapes text cells and column names (result labels are folder names),
    leaves numbers alone, and unescape_frame gives the table back."""
    import pandas as pd

    from matcher.formats.escape import escape_frame, unescape_frame

    frame = pd.DataFrame({"kpi": ["placed", "+cmd"], "=1+cmd|calc!A0": [5, -3]})
    out = escape_frame(frame)
    assert out.columns.tolist() == ["kpi", "'=1+cmd|calc!A0"]
    assert out["kpi"].tolist() == ["placed", "'+cmd"]
    assert out["'=1+cmd|calc!A0"].tolist() == [5, -3]
    assert unescape_frame(out).equals(frame)


@pytest.mark.parametrize(("text", "shown"), [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
    ("![x](http://evil/x.png)", "!\\[x\\](http://evil/x.png)"),
    ("a|b", "a\\|b"), ("two\nlines", "two lines"), ("**bold** _it_ `code`",
                                                      "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
    ("AT&T", "AT&amp;T"), ("0.25", "0.25"), ("W0011", "W0011"),
])
def test_markdown_text_shows_as_typed(text: str, shown: str) -> None:
    """No raw HTML, link, image, emphasis, code, pipe or line break survives; plain ids and
    numbers are left alone."""
    from matcher.formats.escape import escape_markdown

    assert escape_markdown(text) == shown


def test_markdown_block_markers() -> None:
    """A paragraph that would start a heading, a list or a quote starts with a literal."""
    from matcher.formats.escape import escape_markdown

    assert escape_markdown("# not a heading", block=True) == "\\# not a heading"
    assert escape_markdown("- not a list", block=True) == "\\- not a list"
    assert escape_markdown("12. not a list", block=True) == "12\\. not a list"
    assert escape_markdown("> not a quote", block=True) == "&gt; not a quote"
    assert escape_markdown("# in a cell") == "# in a cell"
