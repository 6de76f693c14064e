"""The fast .xlsx writer (:mod:`matcher.reports.sheetwriter`): what it writes reads back as
written (openpyxl and python-calamine, two independent readers), with the styles, frozen
panes, filters, print setup and page breaks asked for, valid sheet names, hostile text kept as
text, and the same bytes every time."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from matcher.formats.escape import escape_cell, unescape_cell
from matcher.reports.sheetwriter import (
    MAX_PAGE_BREAKS,
    MAX_TEXT,
    Book,
    column_letter,
    safe_sheet_name,
    text_width,
)


def _write(path: Path) -> Path:
    book = Book(path)
    sheet = book.sheet("Data", widths=[12, None, 30], styles=["text", "int", "percent", "wrap"])
    sheet.row(["id", "n", "share", "note"], style="header")
    sheet.row(["S1", 3, 0.25, "a & b < c > d"])
    sheet.row(["学号 甲", -5, 1.0, "  leading and trailing  "])
    sheet.row(["#N/A", None, float("nan"), "line\nbreak"])
    sheet.row(["=1+2", True, 0.5, "bad \x01 char"])
    sheet.freeze(1)
    sheet.autofilter()
    sheet.print_setup(landscape=True, repeat_rows=(0, 0), header="&Ctitle",
                      footer="&Cpage &P of &N", gridlines=True)
    other = book.sheet("Data")  # the same name: made unique
    other.row(["only a title"], style="title")
    other.row([])
    other.row(["after a break"])
    other.page_break()
    other.row(["second page"])
    other.merge(0, 0, 3)
    return book.close()


def test_cells_read_back_as_written(tmp_path: Path) -> None:
    """Text stays text (also '#N/A' and '=1+2'), numbers stay numbers, None and NaN are empty
    cells, XML-special and CJK characters survive, a character XML cannot hold becomes U+FFFD."""
    path = _write(tmp_path / "a.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "Data (2)"]
    ws = wb["Data"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows == [
        ["id", "n", "share", "note"],
        ["S1", 3, 0.25, "a & b < c > d"],
        ["学号 甲", -5, 1, "  leading and trailing  "],
        ["#N/A", None, None, "line\nbreak"],
        ["=1+2", True, 0.5, "bad \ufffd char"],
    ]
    assert ws["A4"].data_type == "s" and ws["A5"].data_type == "s"
    assert ws["B3"].data_type == "n"


def test_styles_and_sheet_setup(tmp_path: Path) -> None:
    """Bold header with a fill, percentages as 0.0%, wrapped notes; frozen header, filter over
    the table, widths, print titles, landscape fit to width, header/footer, gridlines; a page
    break and a merged title on the second sheet."""
    wb = openpyxl.load_workbook(_write(tmp_path / "a.xlsx"))
    ws = wb["Data"]
    assert ws["A1"].font.b and ws["A1"].fill.fgColor.rgb == "FFE8EDF3"
    assert ws["C2"].number_format == "0.0%"
    assert ws["D2"].alignment.wrap_text
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:D5"
    assert ws.column_dimensions["A"].width == 12
    assert ws.column_dimensions["C"].width == 30
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    assert ws.print_options.gridLines
    assert ws.oddHeader.center.text == "title" and "&P" in ws.oddFooter.center.text
    second = wb["Data (2)"]
    assert second["A1"].font.sz == 14
    assert [b.id for b in second.row_breaks.brk] == [3]
    assert [str(r) for r in second.merged_cells.ranges] == ["A1:D1"]


def test_every_part_is_well_formed_xml_and_bytes_repeat(tmp_path: Path) -> None:
    """Each part of the package parses as XML and the content types name every part; writing
    the same content twice gives the same bytes (fixed timestamps)."""
    a, b = _write(tmp_path / "a.xlsx"), _write(tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        names = z.namelist()
        for name in names:
            ElementTree.fromstring(z.read(name))
        types = z.read("[Content_Types].xml").decode()
    for name in names:
        if name.startswith("xl/") and name.endswith(".xml") and "_rels" not in name:
            assert f'PartName="/{name}"' in types, name


def test_sheet_names_are_valid_and_unique() -> None:
    """Characters Excel refuses become _, names are cut to 31 characters, and a name taken
    (ignoring case) gets a number."""
    assert safe_sheet_name("a/b:c*d?[e]") == "a_b_c_d__e_"
    assert len(safe_sheet_name("x" * 40)) == 31
    assert safe_sheet_name("Summary", ["summary"]) == "Summary (2)"
    assert safe_sheet_name("Summary", ["summary", "Summary (2)"]) == "Summary (3)"
    assert safe_sheet_name("x" * 40, ["x" * 31]).endswith(" (2)")


def test_page_breaks_stop_at_excels_limit(tmp_path: Path) -> None:
    """A sheet holds at most 1023 manual page breaks; more are refused, not written."""
    book = Book(tmp_path / "p.xlsx")
    sheet = book.sheet("p")
    added = 0
    for k in range(MAX_PAGE_BREAKS + 5):
        sheet.row([k])
        added += sheet.page_break()
    assert added == MAX_PAGE_BREAKS
    ws = openpyxl.load_workbook(book.close())["p"]
    assert len(ws.row_breaks.brk) == MAX_PAGE_BREAKS


@pytest.mark.parametrize(("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"),
                                                (702, "AAA")])
def test_column_letters(index: int, letters: str) -> None:
    """Column letters as Excel numbers them."""
    assert column_letter(index) == letters


def test_text_width_counts_wide_characters_twice() -> None:
    """Chinese characters take two columns, Latin ones one."""
    assert text_width("W1") == 2 and text_width("学号") == 4 and text_width(None) == 0


def test_numpy_numbers_are_numbers(tmp_path: Path) -> None:
    """Numbers from pandas or numpy are written as plain numbers; a numpy NaN is empty."""
    import numpy as np

    book = Book(tmp_path / "n.xlsx")
    book.sheet("n").row([np.int64(7), np.float64(0.5), np.float64("nan"), "after"])
    ws = openpyxl.load_workbook(book.close())["n"]
    assert [c.value for c in next(ws.iter_rows())] == [7, 0.5, None, "after"]


HOSTILE = ["=1+2", "+SUM(A1)", "-M1", "@cmd", "\tlead tab", "\rlead cr", "'=quoted",
           "ctrl \x00\x01\x08\x0b\x0c\x1f end", "cr\r\nlf", "哈尔滨工业大学 学号　全角",
           "emoji 😀 ok", "#N/A", "TRUE", "1e5", "0854", "  spaces  ", "<b>&amp;</b>\"'",
           "x" * (MAX_TEXT + 10)]
"""Text a workbook must keep as text: formula-like, control characters, CR, CJK, astral
characters, look-alike numbers and booleans, markup, and text longer than a cell holds."""


def _expected(text: str) -> str:
    """What a reader sees: the formula escape, U+FFFD for characters XML cannot hold, long
    text cut to Excel's limit."""
    out = escape_cell(text)
    out = "".join("\ufffd" if (ord(c) < 32 and c not in "\t\n\r") else c for c in out)
    return out if len(out) <= MAX_TEXT else out[:MAX_TEXT - 1] + "…"


def test_hostile_text_reads_back_in_openpyxl_and_calamine(tmp_path: Path) -> None:
    """Every hostile text is written as a text cell, escaped against formulas by the one
    escaping layer, and read back the same by openpyxl and by python-calamine; numbers beside
    them stay numbers; unescaping gives the original text back where nothing had to go."""
    book = Book(tmp_path / "h.xlsx", text=escape_cell)
    sheet = book.sheet("学生名单")
    for k, text in enumerate(HOSTILE):
        sheet.row([k, text, -1.5])
    path = book.close()
    want = [_expected(t) for t in HOSTILE]
    ws = openpyxl.load_workbook(path)["学生名单"]
    got = [(r[0].value, r[1].value, r[1].data_type, r[2].value) for r in ws.iter_rows()]
    assert [g[1] for g in got] == want
    assert all(g[2] == "s" for g in got)
    assert [(g[0], g[3]) for g in got] == [(k, -1.5) for k in range(len(HOSTILE))]
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("学生名单").to_python()
    assert [r[1] for r in rows] == want
    assert [r[2] for r in rows] == [-1.5] * len(HOSTILE)
    assert unescape_cell(want[0]) == "=1+2" and unescape_cell(want[6]) == "'=quoted"
    assert len(want[-1]) == MAX_TEXT


def test_calamine_reads_the_sheets_as_openpyxl_does(tmp_path: Path) -> None:
    """The sample workbook (styles, breaks, merged title, empty cells) reads the same in both
    readers: sheet names and every value."""
    path = _write(tmp_path / "a.xlsx")
    ours = openpyxl.load_workbook(path)
    theirs = CalamineWorkbook.from_path(str(path))
    assert theirs.sheet_names == ours.sheetnames
    for name in ours.sheetnames:
        a = [["" if v is None else v for v in row]
             for row in ours[name].iter_rows(values_only=True)]
        b = theirs.get_sheet_by_name(name).to_python()
        width = max((len(r) for r in a + b), default=0)
        pad = [r + [""] * (width - len(r)) for r in a]
        assert [r + [""] * (width - len(r)) for r in b] == pad, name


def test_excels_reserved_sheet_name_is_not_used() -> None:
    """Excel keeps "History" for itself: a sheet asked for by that name gets a number."""
    assert safe_sheet_name("history") == "history (2)"
