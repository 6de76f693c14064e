"""A fast .xlsx writer: rows of text and numbers into sheets, a few styles, printing set up.

``results.xlsx`` at 100,000 students holds some 2.5 million cells. openpyxl (45 µs a cell on a
loaded 2-core machine) and XlsxWriter's constant-memory mode (13 µs) spend most of that in
per-cell Python calls; this writer builds each row's XML with one string join (about 1 µs a
cell), so that every output of ``matcher solve`` at province scale is written in seconds
(``benchmarks/outputs.py``). It writes the parts Excel needs, laid out as XlsxWriter writes
them: shared strings, a style sheet with the styles of :data:`STYLES`, and per sheet frozen
header rows, a filter, column widths, gridlines, page setup (A4, landscape, fit to width),
rows repeated on every printed page, a header and footer, and page breaks.

Text cells are escaped against formula injection by the caller
(:func:`matcher.formats.escape.escape_cell`); here they are always written as text, never read
as formulas, numbers or errors (``#N/A`` stays text). Characters XML cannot hold become U+FFFD.
The zip carries fixed timestamps: the same content gives the same bytes.

Example::

    book = Book(path, font="Calibri")
    sheet = book.sheet("Assignments", widths=[12, 30], styles=["text", "percent"])
    sheet.row(["Student", "Share"], style="header")
    sheet.row(["S1", 0.5])
    sheet.freeze(rows=1)
    sheet.autofilter()
    book.close()
"""

from __future__ import annotations

import math
import numbers
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MAX_PAGE_BREAKS", "MAX_ROWS", "MAX_TEXT", "STYLES", "Book", "Sheet",
           "column_letter", "safe_sheet_name", "text_width"]

MAX_ROWS = 1_048_576
"""Rows of a sheet (Excel's limit)."""
MAX_PAGE_BREAKS = 1023
"""Manual page breaks one sheet may hold (Excel's limit)."""
MAX_TEXT = 32_767
"""Characters one cell may hold (Excel's limit): longer text is cut and ends with ``…``."""

STYLES: dict[str, int] = {"text": 0, "header": 1, "title": 2, "bold": 3, "percent": 4,
                          "wrap": 5, "decimal": 6, "percent3": 7, "subtitle": 8, "int": 0}
"""Style name -> the cell format written (``int`` and ``text`` are Excel's General)."""

_FIXED = (2000, 1, 1, 0, 0, 0)
_SAMPLE = 500  # rows whose widths set the column widths: the first ones are good enough
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_RESERVED_SHEET = "history"  # Excel keeps this sheet name for itself
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"


def column_letter(index: int) -> str:
    """The letters of a 0-based column index: 0 -> ``A``, 26 -> ``AA``."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def text_width(value: Any) -> int:
    """Columns a value takes in a spreadsheet (CJK and full-width characters take two).

    Counted from the UTF-8 length, which is fast: an ASCII character is one byte (one column),
    a CJK character three bytes (two columns)."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return (len(text.encode("utf-8")) + len(text) + 1) // 2


def safe_sheet_name(name: str, taken: Iterable[str] = ()) -> str:
    """A valid, unused sheet name: no ``[]:*?/\\``, at most 31 characters, not taken
    (compared as Excel does, ignoring case), not Excel's own ``History``; a number is appended
    when needed."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "_"
    base = base[:31]
    used = {t.casefold() for t in taken} | {_RESERVED_SHEET}
    candidate, k = base, 2
    while candidate.casefold() in used:
        suffix = f" ({k})"
        candidate = base[:31 - len(suffix)] + suffix
        k += 1
    return candidate


def _style_attr(xf: int) -> str:
    return f' s="{xf}"' if xf else ""


def _escape(text: str) -> str:
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = _ILLEGAL.sub("\ufffd", text)
    # a bare CR would be read back as LF (XML line-end normalisation): write it as a reference
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def _quoted(name: str) -> str:
    """A sheet name as formulas and defined names refer to it."""
    return "'" + name.replace("'", "''") + "'"


@dataclass
class _Print:
    landscape: bool = True
    fit_width: bool = True
    repeat_rows: tuple[int, int] | None = None
    header: str = ""
    footer: str = ""
    gridlines: bool = False


@dataclass
class Sheet:
    """One sheet being written: rows are appended in order (see :meth:`row`).

    Build it with :meth:`Book.sheet`. ``widths`` are column widths in characters (None: from
    the content); ``styles`` the style of each column's plain cells (a name of :data:`STYLES`).
    """

    name: str
    widths: list[float | None]
    styles: list[str]
    book: Book
    rows: int = 0
    _chunks: list[str] = field(default_factory=list)
    _sample: list[list[int]] = field(default_factory=list)
    _frozen: int = 0
    _filter: tuple[int, int, int] | None = None
    _print: _Print | None = None
    _breaks: list[int] = field(default_factory=list)
    _merged: list[str] = field(default_factory=list)
    _max_cols: int = 0

    def row(self, values: Sequence[Any], style: str | None = None,
            styles: Sequence[str | None] | None = None) -> int:
        """Append one row; returns its 0-based index.

        Parameters
        ----------
        values
            Cells from column A: text (written as text), int and float (numbers; a float that
            is not finite is left empty), bool, or None (an empty cell).
        style
            One style for every cell of the row (``header``, ``title``, ``bold``, ...); else
            each column's own (``styles`` of the sheet).
        styles
            A style per cell, overriding both (None entries: the column's).
        """
        r = self.rows
        if r >= MAX_ROWS:
            raise ValueError(f"sheet {self.name!r} is full ({MAX_ROWS:,} rows)")
        self.rows += 1
        n = r + 1
        strings = self.book.strings
        width = len(values)
        if styles is not None:  # a style per cell: the column's where none is given
            own = self.book.style_attrs(self.styles, width, style)
            attrs = [_style_attr(STYLES[x]) if x is not None else own[c]
                     for c, x in zip(range(width), [*styles, *[None] * width], strict=False)]
        else:
            attrs = self.book.style_attrs(self.styles, width, style)
        refs = self.book.letters(width)
        cells = []
        gap = False  # a cell follows an empty one: it names its column (r="C5"), others need not
        for c, v in enumerate(values):
            if v is None or (isinstance(v, float) and not math.isfinite(v)):
                gap = True
                continue
            s = attrs[c]
            if gap:
                s = f' r="{refs[c]}{n}"{s}'
                gap = False
            if type(v) is str:
                k = strings.get(v)
                if k is None:
                    k = strings[v] = len(strings)
                cells.append(f'<c{s} t="s"><v>{k}</v></c>')
            elif type(v) is int:
                cells.append(f"<c{s}><v>{v}</v></c>")
            elif type(v) is bool:
                cells.append(f'<c{s} t="b"><v>{int(v)}</v></c>')
            elif type(v) is float:
                cells.append(f"<c{s}><v>{v!r}</v></c>")
            elif isinstance(v, numbers.Integral):  # numpy and other integers
                cells.append(f"<c{s}><v>{int(v)}</v></c>")
            elif isinstance(v, numbers.Real):
                cells.append(f"<c{s}><v>{float(v)!r}</v></c>")
            else:
                text = str(v)
                k = strings.get(text)
                if k is None:
                    k = strings[text] = len(strings)
                cells.append(f'<c{s} t="s"><v>{k}</v></c>')
        self._chunks.append(f'<row r="{n}">{"".join(cells)}</row>')
        if len(values) > self._max_cols:
            self._max_cols = len(values)
        if len(self._sample) < _SAMPLE and style not in ("title", "subtitle"):
            self._sample.append([text_width(v) for v in values])
        return r

    def rows_from(self, rows: Iterable[Sequence[Any]]) -> None:
        """Append many rows with the columns' styles."""
        for values in rows:
            self.row(values)

    def freeze(self, rows: int) -> None:
        """Keep the first ``rows`` rows in view when scrolling."""
        self._frozen = rows

    def autofilter(self, first_row: int = 0, last_row: int | None = None,
                   columns: int | None = None) -> None:
        """A filter on the table whose header is ``first_row`` (0-based) down to ``last_row``
        (default: the last row written so far)."""
        last = self.rows - 1 if last_row is None else last_row
        self._filter = (first_row, max(first_row, last), columns or self._max_cols or 1)

    def page_break(self) -> bool:
        """Start a new printed page before the next row; False when Excel's limit of
        :data:`MAX_PAGE_BREAKS` breaks per sheet is reached (then none is added)."""
        if self.rows == 0 or len(self._breaks) >= MAX_PAGE_BREAKS:
            return False
        self._breaks.append(self.rows)
        return True

    def merge(self, row: int, first_col: int, last_col: int) -> None:
        """Merge the cells of one row from ``first_col`` to ``last_col`` (0-based)."""
        self._merged.append(f"{column_letter(first_col)}{row + 1}:"
                            f"{column_letter(last_col)}{row + 1}")

    def print_setup(self, *, landscape: bool = True, fit_width: bool = True,
                    repeat_rows: tuple[int, int] | None = None, header: str = "",
                    footer: str = "", gridlines: bool = False) -> None:
        """Printing: A4, orientation, fit to one page wide, rows repeated on every page
        (0-based, inclusive), Excel header and footer codes (``&P``, ``&N``, ``&A``), gridlines.
        """
        self._print = _Print(landscape, fit_width, repeat_rows, header, footer, gridlines)

    # ---- written by Book.close ----------------------------------------------------------------
    def _widths(self) -> list[float]:
        out = []
        for k in range(max(self._max_cols, len(self.widths))):
            given = self.widths[k] if k < len(self.widths) else None
            if given is not None:
                out.append(float(given))
                continue
            seen = max((r[k] for r in self._sample if k < len(r)), default=8)
            out.append(float(min(max(seen + 2, 8), 60)))
        return out

    def xml(self, selected: bool) -> Iterable[str]:
        """The sheet's XML, in pieces."""
        last = column_letter(max(self._max_cols, 1) - 1)
        dim = f"A1:{last}{self.rows}" if self.rows else "A1"
        pr = self._print
        yield f"{_HEAD}<worksheet {_NS}>"
        if pr is not None and pr.fit_width:
            yield '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        yield f'<dimension ref="{dim}"/>'
        view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if selected else "")
        if self._frozen:
            top = f"A{self._frozen + 1}"
            yield (f"<sheetViews>{view}><pane ySplit=\"{self._frozen}\" topLeftCell=\"{top}\" "
                   'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
                   f'activeCell="{top}" sqref="{top}"/></sheetView></sheetViews>')
        else:
            yield f"<sheetViews>{view}/></sheetViews>"
        yield '<sheetFormatPr defaultRowHeight="15"/>'
        widths = self._widths()
        if widths:
            yield "<cols>" + "".join(
                f'<col min="{k}" max="{k}" width="{w:.2f}" customWidth="1"/>'
                for k, w in enumerate(widths, start=1)) + "</cols>"
        if self._chunks:
            yield "<sheetData>"
            for k in range(0, len(self._chunks), 4096):
                yield "".join(self._chunks[k:k + 4096])
            yield "</sheetData>"
        else:
            yield "<sheetData/>"
        if self._filter is not None:
            first, lastrow, cols = self._filter
            yield f'<autoFilter ref="A{first + 1}:{column_letter(cols - 1)}{lastrow + 1}"/>'
        if self._merged:
            yield (f'<mergeCells count="{len(self._merged)}">'
                   + "".join(f'<mergeCell ref="{m}"/>' for m in self._merged) + "</mergeCells>")
        if pr is not None and pr.gridlines:
            yield '<printOptions gridLines="1"/>'
        yield ('<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" '
               'footer="0.3"/>')
        if pr is not None:
            fit = ' fitToHeight="0"' if pr.fit_width else ""
            orient = "landscape" if pr.landscape else "portrait"
            yield f'<pageSetup paperSize="9"{fit} orientation="{orient}"/>'
            if pr.header or pr.footer:
                yield ("<headerFooter>"
                       + (f"<oddHeader>{_escape(pr.header)}</oddHeader>" if pr.header else "")
                       + (f"<oddFooter>{_escape(pr.footer)}</oddFooter>" if pr.footer else "")
                       + "</headerFooter>")
        if self._breaks:
            yield (f'<rowBreaks count="{len(self._breaks)}" '
                   f'manualBreakCount="{len(self._breaks)}">'
                   + "".join(f'<brk id="{b}" max="16383" man="1"/>' for b in self._breaks)
                   + "</rowBreaks>")
        yield "</worksheet>"

    def defined_names(self, index: int) -> list[tuple[str, str]]:
        """(name, value) of the sheet's defined names, in Excel's order."""
        out = []
        q = _quoted(self.name)
        if self._filter is not None:
            first, lastrow, cols = self._filter
            out.append(("_xlnm._FilterDatabase",
                        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" '
                        f'hidden="1">{_escape(q)}!$A${first + 1}:'
                        f"${column_letter(cols - 1)}${lastrow + 1}</definedName>"))
        if self._print is not None and self._print.repeat_rows is not None:
            a, b = self._print.repeat_rows
            out.append(("_xlnm.Print_Titles",
                        f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">'
                        f"{_escape(q)}!${a + 1}:${b + 1}</definedName>"))
        return out


class Book:
    """A workbook being written to ``path``; :meth:`close` writes the file.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (replaced).
    font
        The default font (``Calibri`` for Latin text; ``等线``, Excel's own for Chinese).
    text
        Applied to every distinct text once, as it is written (e.g. the formula escape
        :func:`matcher.formats.escape.escape_cell`): cells hold its result.
    """

    def __init__(self, path: str | Path, font: str = "Calibri",
                 text: Callable[[str], str] | None = None):
        self.path = Path(path)
        self.font = font
        self.text = text
        self.sheets: list[Sheet] = []
        self.strings: dict[str, int] = {}
        self._letters: list[str] = [column_letter(k) for k in range(64)]
        self._attrs: dict[tuple[tuple[str, ...], int, str | None], list[str]] = {}

    def letters(self, count: int) -> list[str]:
        """The letters of the first ``count`` columns (cached; may hold more)."""
        while count > len(self._letters):
            self._letters.append(column_letter(len(self._letters)))
        return self._letters

    def style_attrs(self, styles: Sequence[str], width: int, style: str | None) -> list[str]:
        """The ``s="..."`` attribute of each of ``width`` cells: ``style`` for all, else the
        columns' ``styles`` (General beyond them); cached."""
        key = (tuple(styles), width, style)
        found = self._attrs.get(key)
        if found is None:
            if style is not None:
                found = [_style_attr(STYLES[style])] * width
            else:
                found = [_style_attr(STYLES[styles[c]]) if c < len(styles) else ""
                         for c in range(width)]
            self._attrs[key] = found
        return found

    def sheet(self, name: str, *, widths: Sequence[float | None] = (),
              styles: Sequence[str] = ()) -> Sheet:
        """Add a sheet (its name made valid and unique, see :func:`safe_sheet_name`)."""
        title = safe_sheet_name(name, (s.name for s in self.sheets))
        out = Sheet(title, list(widths), list(styles), self)
        self.sheets.append(out)
        return out

    def close(self) -> Path:
        """Write the workbook (every part, fixed timestamps) and return its path."""
        if not self.sheets:
            self.sheet("Sheet1")
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            def put(name: str, parts: Iterable[str]) -> None:
                info = zipfile.ZipInfo(name, date_time=_FIXED)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                with z.open(info, "w", force_zip64=True) as f:
                    for part in parts:
                        f.write(part.encode("utf-8"))

            put("[Content_Types].xml", [self._content_types()])
            put("_rels/.rels", [self._root_rels()])
            put("docProps/app.xml", [self._app()])
            put("docProps/core.xml", [self._core()])
            put("xl/workbook.xml", [self._workbook()])
            put("xl/_rels/workbook.xml.rels", [self._workbook_rels()])
            put("xl/styles.xml", [self._styles()])
            for k, sheet in enumerate(self.sheets):
                put(f"xl/worksheets/sheet{k + 1}.xml", sheet.xml(k == 0))
            put("xl/sharedStrings.xml", self._shared_strings())
        return self.path

    # ---- package parts ----------------------------------------------------------------------
    def _content_types(self) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{_CT}.'
            'spreadsheetml.worksheet+xml"/>' for k in range(1, len(self.sheets) + 1))
        return (f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                'content-types"><Default Extension="rels" ContentType="application/'
                'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                'ContentType="application/xml"/><Override PartName="/docProps/app.xml" '
                f'ContentType="{_CT}.extended-properties+xml"/><Override '
                'PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
                'package.core-properties+xml"/><Override PartName="/xl/styles.xml" '
                f'ContentType="{_CT}.spreadsheetml.styles+xml"/><Override '
                f'PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
                f'{sheets}<Override PartName="/xl/sharedStrings.xml" '
                f'ContentType="{_CT}.spreadsheetml.sharedStrings+xml"/></Types>')

    @staticmethod
    def _root_rels() -> str:
        return (f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
                'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.'
                'openxmlformats.org/package/2006/relationships/metadata/core-properties" '
                f'Target="docProps/core.xml"/><Relationship Id="rId3" Type="{_REL}/'
                'extended-properties" Target="docProps/app.xml"/></Relationships>')

    def _app(self) -> str:
        names = "".join(f"<vt:lpstr>{_escape(s.name)}</vt:lpstr>" for s in self.sheets)
        n = len(self.sheets)
        return (f'{_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                '2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/'
                'officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel</Application>'
                '<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>'
                '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets'
                f'</vt:lpstr></vt:variant><vt:variant><vt:i4>{n}</vt:i4></vt:variant>'
                f'</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="{n}" '
                f'baseType="lpstr">{names}</vt:vector></TitlesOfParts><LinksUpToDate>false'
                '</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false'
                '</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>')

    @staticmethod
    def _core() -> str:
        stamp = "2000-01-01T00:00:00Z"
        return (f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
                '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/'
                'dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>'
                'matcher</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
                f'{stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}'
                '</dcterms:modified></cp:coreProperties>')

    def _workbook(self) -> str:
        sheets = "".join(f'<sheet name="{_attr(s.name)}" sheetId="{k}" r:id="rId{k}"/>'
                         for k, s in enumerate(self.sheets, start=1))
        names = sorted(((n, k, xml) for k, s in enumerate(self.sheets)
                        for n, xml in s.defined_names(k)), key=lambda t: (t[0], t[1]))
        defined = ("<definedNames>" + "".join(x for _, _, x in names) + "</definedNames>"
                   if names else "")
        return (f'{_HEAD}<workbook {_NS}><workbookPr/><bookViews><workbookView xWindow="240" '
                'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>'
                f'<sheets>{sheets}</sheets>{defined}<calcPr calcId="124519"/></workbook>')

    def _workbook_rels(self) -> str:
        n = len(self.sheets)
        rels = "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" '
                       f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, n + 1))
        return (f'{_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                f'relationships">{rels}<Relationship Id="rId{n + 1}" Type="{_REL}/styles" '
                f'Target="styles.xml"/><Relationship Id="rId{n + 2}" Type="{_REL}/'
                'sharedStrings" Target="sharedStrings.xml"/></Relationships>')

    def _styles(self) -> str:
        font = _attr(self.font)

        def f(extra: str = "", size: int = 11) -> str:
            return f'<font>{extra}<sz val="{size}"/><name val="{font}"/><family val="2"/></font>'

        thin = '<{0} style="thin"><color rgb="FF9AA5B1"/></{0}>'
        border = ("<border>" + "".join(thin.format(side) for side in
                                       ("left", "right", "top", "bottom")) + "<diagonal/></border>")
        xfs = [
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',  # text, int
            '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" '
            'applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="center" '
            'wrapText="1"/></xf>',  # header
            '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>',  # percent
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
            '<alignment vertical="top" wrapText="1"/></xf>',  # wrap
            '<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>',  # decimal
            '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>',  # percent3
            '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        ]
        assert len(xfs) == max(STYLES.values()) + 1
        return (f'{_HEAD}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
                'main"><numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
                '<numFmt numFmtId="165" formatCode="0.000%"/></numFmts><fonts count="4">'
                + f() + f("<b/>") + f("<b/>", 14) + f('<color rgb="FF5B6576"/>')
                + '</fonts><fills count="3"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill><fill><patternFill '
                'patternType="solid"><fgColor rgb="FFE8EDF3"/><bgColor indexed="64"/>'
                '</patternFill></fill></fills><borders count="2"><border><left/><right/><top/>'
                f'<bottom/><diagonal/></border>{border}</borders><cellStyleXfs count="1"><xf '
                'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">' + "".join(xfs) + '</cellXfs><cellStyles '
                'count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
                'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')

    def _shared_strings(self) -> Iterable[str]:
        n = len(self.strings)
        yield (f'{_HEAD}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               f'count="{n}" uniqueCount="{n}">')
        batch = []
        change = self.text
        for text in self.strings:  # insertion order is the index order
            if change is not None:
                text = change(text)
            if len(text) > MAX_TEXT:  # Excel refuses to open a longer cell
                text = text[:MAX_TEXT - 1] + "…"
            body = _escape(text)
            space = ' xml:space="preserve"' if body[:1].isspace() or body[-1:].isspace() \
                or "\n" in body else ""
            batch.append(f"<si><t{space}>{body}</t></si>")
            if len(batch) >= 4096:
                yield "".join(batch)
                batch = []
        yield "".join(batch) + "</sst>"
