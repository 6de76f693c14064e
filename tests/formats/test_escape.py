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
