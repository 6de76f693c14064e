"""Reading a scenario given as one ``.xlsx`` workbook into grids of text, like CSV files.

A scenario may be one workbook instead of a folder of CSVs: :func:`find_workbook` decides which
(a path to an ``.xlsx`` file, or a folder holding exactly one workbook and no CSV tables), and
:func:`read_workbook` turns each sheet into a :class:`~matcher.formats.tables.Grid` (rows of
cell texts, Excel's row numbers, the formula and error cells, the hidden rows), so that every
check of :mod:`matcher.formats` and :mod:`matcher.model` applies unchanged. The workbook has

* one sheet per table, named like the CSV file without ``.csv`` (``students``, ``workstations``,
  ``mentors``, ``supervisors``, optional ``universities``, ``workstation_terms``, ``pairs``,
  ``locks``, ``rankings``, ``occupancy``) or by a Chinese alias (``学生``, ``工作站``, ...;
  see :mod:`matcher.formats.aliases`). The header is found below any title rows; headers may be
  Chinese too. Cells right of the last header cell, and other sheets (notes, pivot tables),
  are ignored. **Hidden and very hidden sheets are not read** (a note names them), so an old
  copy ``学生(旧)`` kept hidden does not clash with ``学生``.
* a ``scenario`` sheet (alias ``设置``) with the settings of ``scenario.yaml``, one per row: a
  ``key`` column and a ``value`` column (aliases ``参数`` and ``值``; other columns are notes and
  are ignored; the header row may be left out, and a title row above is skipped). Nested
  settings use dotted keys, exactly the paths of ``scenario.yaml``: ``name``, ``description``,
  ``terms``, ``term_months``, ``policy.practice_months``, ``policy.experienced_practice_months``,
  ``policy.experienced_years``, ``policy.window``, ``policy.preferences_only``,
  ``objective.pair_weight``, ``solver.time_limit_s``, ``solver.seed``, ``solver.workers``. List
  values (``terms``, ``policy.window``) are separated by ``;``, ``,``, ``；``, ``，`` or ``、``
  (brackets around them are allowed); yes/no settings take ``true``/``false``, ``是``/``否`` or
  an Excel TRUE/FALSE cell. An empty value means "not set" (the default applies).
  Instead of the sheet, a ``scenario.yaml`` may lie beside the workbook (not both).

Messages name the sheet as titled, the row number Excel shows and the column letter with its
header, e.g. ``sheet 学生, row 12, column E (志愿): unknown workstation 'W9' (not in sheet
工作站)``.

Values are read with python-calamine (fast, in Rust); what it does not report is taken from a
scan of the sheet's XML: formula cells, Excel error cells, hidden (or filtered-out) rows and
whole numbers formatted with leading zeros (format ``0000`` keeps ``0854``). Formulas are
**not** evaluated: a formula (or an Excel error such as ``#N/A``) in a column matcher reads is an
error naming the cell, to be replaced by its value (copy, then Paste Special > Values); in the
user's own columns the stored value is taken. Dates become ``YYYY-MM-DD``. A vertically merged
cell in the data gives its value to every row of the merge (a note names the merges).

Limits, checked before any sheet is parsed: the workbook file at most
:data:`MAX_WORKBOOK_BYTES`, its unpacked content at most :data:`MAX_UNPACKED_BYTES`, each sheet
at most :data:`MAX_SHEET_ROWS` rows and :data:`MAX_COLUMNS` columns. Workbooks linking to other
workbooks or to external data sources are refused: their values could change outside the file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import io as _io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..messages import Location, Message, msg
from ..model.errors import ScenarioError
from . import aliases
from .locations import Found
from .schema import TABLES
from .tables import Grid

__all__ = ["MAX_COLUMNS", "MAX_SHEET_ROWS", "MAX_UNPACKED_BYTES", "MAX_WORKBOOK_BYTES",
           "SettingsSheet", "WorkbookData", "find_workbook", "read_workbook"]

MAX_WORKBOOK_BYTES = 64 * 1024 * 1024
"""Largest workbook file read (64 MiB, as for one CSV table)."""
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
"""Largest total size of the files packed inside a workbook (guards against zip bombs)."""
MAX_SHEET_ROWS = 500_000
"""Most rows one sheet may have (counted in its XML before it is parsed)."""
MAX_COLUMNS = 200
"""Most columns one sheet may have."""
_COUNT_ABOVE = 8 * 1024 * 1024
"""A sheet's XML larger than this has its rows counted before parsing (a smaller one cannot
hold :data:`MAX_SHEET_ROWS` rows)."""
_CHUNK = 4 * 1024 * 1024
"""Bytes of a sheet's XML read at a time while its rows are counted as it streams."""
_READ_WHOLE = 128 * 1024 * 1024
"""A sheet's XML up to this size whose dimension claims no more rows than the limit is read
whole to count its rows (and then scanned without a second read); a larger one, or one that
claims too many, is counted as it streams and refused as soon as the count passes the limit."""

_REFUSED_SUFFIXES = (".xls", ".xlsm", ".xlsb", ".ods", ".et")
_SETTING_SECTIONS = ("policy", "solver", "objective")
_LIST_SETTINGS = ("terms", "policy.window")
_LIST_SPLIT = re.compile(r"[;,；，、\n]")
_YES_NO = {"是": "true", "否": "false"}


# ---- finding the workbook -------------------------------------------------------------------
def find_workbook(path: Path) -> Path | None:
    """The workbook a scenario path means, or None when it is a folder of CSVs.

    Parameters
    ----------
    path
        What the user gave: an ``.xlsx`` file, or a folder.

    Returns
    -------
    Path or None
        The workbook: ``path`` itself, or the one ``.xlsx`` in a folder that holds no CSV
        table. None for anything else (a folder of CSVs, a path that does not exist), which the
        CSV loader reports on.

    Raises
    ------
    ScenarioError
        For a file that is not an ``.xlsx`` workbook, and for a folder whose content is
        ambiguous (CSV tables and a workbook, or several workbooks).
    """
    at = Location(file=str(path))
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            return path
        if suffix in _REFUSED_SUFFIXES:
            raise ScenarioError([_refused_suffix(suffix, at)])
        raise ScenarioError([msg("load.not_a_scenario", at=at)])
    if not path.is_dir():
        return None
    books = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xlsx" and p.is_file()
                   and not p.name.startswith(("~$", ".")))  # ~$x.xlsx: Excel's lock file
    if not books:
        return None
    csvs = [t.file for t in TABLES if (path / t.file).exists()]
    if csvs:
        raise ScenarioError([msg("load.csv_and_workbook", at=at, files=csvs,
                                 workbook=books[0].name)])
    if len(books) > 1:
        raise ScenarioError([msg("load.several_workbooks", at=at, count=len(books),
                                 workbooks=[b.name for b in books])])
    return books[0]


def _refused_suffix(suffix: str, at: Location) -> Message:
    if suffix == ".xls":
        return msg("load.xls_file", at=at)
    if suffix == ".xlsm":
        return msg("load.xlsm_file", at=at)
    if suffix == ".xlsb":
        return msg("load.xlsb_file", at=at)
    if suffix == ".ods":
        return msg("load.ods_file", at=at)
    return msg("load.et_file", at=at)


# ---- what a workbook gives ------------------------------------------------------------------
@dataclass
class SettingsSheet:
    """The ``scenario`` sheet as a ``scenario.yaml``-shaped mapping.

    Attributes
    ----------
    title
        The sheet's title as written in the workbook.
    where
        The sheet's location (workbook file and sheet).
    doc
        Settings as nested dicts, like the parsed ``scenario.yaml``.
    rows
        Dotted key -> (Excel row it was given in, the key as typed).
    value_column
        The letter of the value column.
    """

    title: str
    where: Location
    doc: dict[str, Any]
    rows: dict[str, tuple[int, str]]
    value_column: str = "B"

    def at(self, key: str) -> Location:
        """Where a (dotted) setting key is: the sheet, the row it was given in, its value cell."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            found = self.rows.get(".".join(parts[:n]))
            if found is not None:
                row, typed = found
                return Location(file=self.where.file, sheet=self.title, row=row,
                                column=self.value_column,
                                header=typed if n == len(parts) else key, field=key)
        return Location(file=self.where.file, sheet=self.title, field=key)


@dataclass
class WorkbookData:
    """What :func:`read_workbook` found.

    Attributes
    ----------
    name
        The workbook's file name.
    grids
        Table name -> its sheet as a grid, or None when the sheet could not be taken (the
        errors are reported) or is required and missing; optional tables without a sheet are
        absent.
    titles
        Table name (or ``scenario``) -> the title of the sheet read for it.
    settings
        The ``scenario`` sheet, or None when the workbook has none or it could not be read.
    has_settings_sheet
        Whether the workbook has a (visible) ``scenario`` sheet, readable or not.
    """

    name: str
    grids: dict[str, Grid | None] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    settings: SettingsSheet | None = None
    has_settings_sheet: bool = False


def read_workbook(path: Path, found: Found, hashes: dict[str, str],
                  only: tuple[str, ...] | None = None) -> WorkbookData | None:
    """Read a scenario workbook into grids of text, adding located messages to ``found``.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    found
        Receives every error and note.
    hashes
        Receives the workbook's SHA-256 under its file name.
    only
        Read only these tables (and no settings), e.g. ``("occupancy",)``; all by default.

    Returns
    -------
    WorkbookData or None
        None when the file cannot be read as a workbook at all. A sheet that cannot be taken
        (too many rows) is None in ``grids`` after its errors are added.
    """
    name = path.name
    book_at = Location(file=name)
    try:
        size = path.stat().st_size
        if size > MAX_WORKBOOK_BYTES:
            found.add(msg("load.file_too_large", at=book_at, size=f"{size / 2**20:.1f}",
                          limit=f"{MAX_WORKBOOK_BYTES / 2**20:g}"))
            return None
        raw = path.read_bytes()
    except OSError as e:
        found.add(msg("load.cannot_read", at=book_at, reason=str(e.strerror or e)))
        return None
    hashes[name] = hashlib.sha256(raw).hexdigest()
    try:
        archive = zipfile.ZipFile(_io.BytesIO(raw))
    except zipfile.BadZipFile:
        found.add(msg("load.not_xlsx", at=book_at))
        return None
    with archive:
        parts = _Parts(archive, name)
        if not parts.safe(found):
            return None
        import python_calamine

        try:
            book = python_calamine.CalamineWorkbook.from_filelike(_io.BytesIO(raw))
        except Exception as e:  # calamine raises several kinds on a damaged file; all mean this
            found.add(msg("load.damaged_xlsx", at=book_at, reason=type(e).__name__))
            return None
        try:
            return _read_sheets(book, parts, name, found, only)
        finally:
            book.close()


class _Parts:
    """The XML parts of a workbook that calamine does not report on, read with plain scans."""

    def __init__(self, archive: zipfile.ZipFile, name: str):
        self.archive = archive
        self.name = name
        self.infos = {i.filename: i for i in archive.infolist()}
        self.sheet_paths: dict[str, str] = {}
        self.zero_styles: dict[int, int] = {}
        self.read: dict[str, bytes] = {}  # sheet title -> its XML, read while counting rows

    def safe(self, found: Found) -> bool:
        """Sizes, links and data connections checked; sheet paths and styles read."""
        at = Location(file=self.name)
        unpacked = sum(i.file_size for i in self.infos.values())
        if unpacked > MAX_UNPACKED_BYTES:
            found.add(msg("load.unpacked_too_large", at=at, size=f"{unpacked / 2**20:.0f}",
                          limit=f"{MAX_UNPACKED_BYTES / 2**20:g}"))
            return False
        if any(n.startswith("xl/externalLinks/") for n in self.infos):
            found.add(msg("load.external_links", at=at))
            return False
        if "xl/connections.xml" in self.infos:
            found.add(msg("load.data_connections", at=at))
            return False
        if "xl/workbook.xml" not in self.infos:
            found.add(msg("load.not_xlsx", at=at))
            return False
        self._sheet_paths()
        self._styles()
        return True

    def text(self, part: str, limit: int = 16 * 1024 * 1024) -> str:
        info = self.infos.get(part)
        if info is None or info.file_size > limit:
            return ""
        return self.archive.read(info).decode("utf-8", "replace")

    def _sheet_paths(self) -> None:
        rels = {a.get("Id", ""): a.get("Target", "") for a in _tags(
            self.text("xl/_rels/workbook.xml.rels"), "Relationship")}
        for a in _tags(self.text("xl/workbook.xml"), "sheet"):
            target = rels.get(a.get("r:id", ""), "")
            if target:
                path = target.lstrip("/") if target.startswith("/") else "xl/" + target
                self.sheet_paths[a.get("name", "")] = path

    def _styles(self) -> None:
        """Cell style index -> width of a zero-padding number format (``0000`` -> 4)."""
        styles = self.text("xl/styles.xml")
        formats = {int(a["numFmtId"]): len(a.get("formatCode", ""))
                   for a in _tags(styles, "numFmt")
                   if a.get("numFmtId", "").isdigit() and len(a.get("formatCode", "")) > 1
                   and set(a.get("formatCode", "")) == {"0"}}
        xfs = styles.split("<cellXfs", 1)[1] if "<cellXfs" in styles else ""
        xfs = xfs.split("</cellXfs>", 1)[0]
        for k, a in enumerate(_tags(xfs, "xf")):
            fmt = a.get("numFmtId", "")
            if fmt.isdigit() and int(fmt) in formats:
                self.zero_styles[k] = formats[int(fmt)]

    def size_problem(self, title: str, where: Location) -> Message | None:
        """Too many rows or columns in a sheet, found before it is parsed; else None."""
        part = self.sheet_paths.get(title)
        info = self.infos.get(part or "")
        if info is None:
            return None
        with self.archive.open(info) as f:
            head = f.read(4096)
        dim = re.search(rb'<dimension ref="[A-Z]*[0-9]*:?([A-Z]+)([0-9]+)"', head)
        if dim is not None:
            width = _column_number(dim.group(1).decode())
            if width > MAX_COLUMNS:
                return msg("load.too_many_columns", at=where, count=width, limit=MAX_COLUMNS)
            claimed = int(dim.group(2))
        else:
            claimed = 0
        if claimed <= MAX_SHEET_ROWS and info.file_size <= _COUNT_ABOVE:
            return None
        if claimed <= MAX_SHEET_ROWS and info.file_size <= _READ_WHOLE:
            # most likely within the limit: read once, counted, and kept for scan()
            xml = self.archive.read(info)
            rows = xml.count(b"<row ")
            if rows > MAX_SHEET_ROWS:
                return msg("load.too_many_rows", at=where, count=rows, limit=MAX_SHEET_ROWS)
            self.read[title] = xml
            return None
        rows = 0
        tail = b""
        with self.archive.open(info) as f:
            while chunk := f.read(_CHUNK):
                rows += (tail + chunk).count(b"<row ") - tail.count(b"<row ")
                tail = chunk[-8:]
                if rows > MAX_SHEET_ROWS:
                    # counting stops here: the rest of a huge sheet is not worth reading
                    return msg("load.too_many_rows" if not f.read(1) else
                               "load.too_many_rows_at_least", at=where, count=rows,
                               limit=MAX_SHEET_ROWS)
        return None

    def scan(self, title: str) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str],
                                        set[int], dict[tuple[int, int], int]]:
        """Formula cells, error cells, hidden rows and zero-padded cells of one sheet."""
        part = self.sheet_paths.get(title)
        info = self.infos.get(part or "")
        formulas: dict[tuple[int, int], str] = {}
        errors: dict[tuple[int, int], str] = {}
        hidden: set[int] = set()
        zeros: dict[tuple[int, int], int] = {}
        if info is None:
            return formulas, errors, hidden, zeros
        xml = self.read.pop(title, None) or self.archive.read(info)
        # (each scan only when its mark occurs at all: most sheets have none of them)
        for m in re.finditer(rb"<f[ >/]", xml) if b"<f" in xml else ():
            cell = _cell_ref(xml, m.start())
            if cell is not None:
                end = xml.find(b"</f>", m.end())
                stop = xml.find(b"</c>", m.end())
                text = (xml[xml.find(b">", m.start()) + 1:end] if 0 <= end < (
                    stop if stop >= 0 else len(xml)) else b"")
                formulas[cell] = "=" + html.unescape(text.decode("utf-8", "replace"))
        for m in re.finditer(rb'<c [^>]*\bt="e"[^>]*>', xml) if b't="e"' in xml else ():
            cell = _cell_ref(xml, m.end())
            value = re.match(rb"\s*<v>([^<]*)</v>", xml[m.end():m.end() + 64])
            if cell is not None:
                errors[cell] = value.group(1).decode("utf-8", "replace") if value else "#ERROR"
        for m in (re.finditer(rb'<row [^>]*\bhidden="(?:1|true)"[^>]*>', xml)
                  if b"hidden=" in xml else ()):
            r = re.search(rb'\br="([0-9]+)"', m.group(0))
            if r is not None:
                hidden.add(int(r.group(1)))
        if self.zero_styles:
            wanted = b"|".join(str(s).encode() for s in self.zero_styles)
            for m in re.finditer(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?\bs="(' + wanted + rb')"', xml):
                zeros[int(m.group(2)), _column_number(m.group(1).decode()) - 1] = (
                    self.zero_styles[int(m.group(3))])
        return formulas, errors, hidden, zeros


_ATTR = re.compile(r'([\w:]+)="([^"]*)"')


def _tags(xml: str, tag: str) -> list[dict[str, str]]:
    """The attributes of every ``<tag ...>`` in ``xml`` (entities decoded)."""
    return [{k: html.unescape(v) for k, v in _ATTR.findall(m.group(1))}
            for m in re.finditer(r"<" + tag + r"\b([^>]*)>", xml)]


def _column_number(letters: str) -> int:
    n = 0
    for c in letters:
        n = n * 26 + ord(c) - 64
    return n


def _cell_ref(xml: bytes, pos: int) -> tuple[int, int] | None:
    """(Excel row, 0-based column) of the ``<c>`` element that holds position ``pos``."""
    start = xml.rfind(b"<c ", 0, pos)
    if start < 0:
        return None
    m = re.match(rb'<c [^>]*?\br="([A-Z]+)([0-9]+)"', xml[start:start + 200])
    if m is None:
        return None
    return int(m.group(2)), _column_number(m.group(1).decode()) - 1


def _read_sheets(book: Any, parts: _Parts, name: str, found: Found,
                 only: tuple[str, ...] | None) -> WorkbookData:
    table_names = [t.name for t in TABLES]
    wanted = [*table_names, "scenario"] if only is None else list(only)
    by_table: dict[str, str] = {}
    for meta in book.sheets_metadata:
        title = meta.name
        state = str(meta.visible).rsplit(".", 1)[-1].lower()
        target = aliases.canonical_sheet(title, [*table_names, "scenario"])
        if state != "visible":
            if only is None:
                found.add(msg("load.hidden_sheet", severity="note", at=Location(file=name),
                              sheet=title))
            continue
        if target is None or target not in wanted:
            continue
        if target in by_table:
            found.add(msg("load.sheets_clash", at=Location(file=name), sheet=by_table[target],
                          other=title))
            continue
        by_table[target] = title
    data = WorkbookData(name, titles=dict(by_table))
    visible = [m.name for m in book.sheets_metadata
               if str(m.visible).rsplit(".", 1)[-1].lower() == "visible"]
    for t in TABLES:
        if t.name not in wanted:
            continue
        title = by_table.get(t.name)
        if title is None:
            if t.required_file:
                needed = [x.name for x in TABLES if x.required_file]
                found.add(msg("load.missing_sheet", at=Location(file=name), sheet=t.name,
                              needed=needed, found=visible or ["-"]))
                data.grids[t.name] = None
            continue
        data.grids[t.name] = _grid(book, parts, name, title, found)
    title = by_table.get("scenario")
    if title is not None:
        data.has_settings_sheet = True
        grid = _grid(book, parts, name, title, found)
        if grid is not None:
            data.settings = _settings_sheet(grid, title, found)
    return data


def _grid(book: Any, parts: _Parts, name: str, title: str, found: Found) -> Grid | None:
    """One sheet as a grid of text (None, with an error, when it is too large)."""
    where = Location(file=name, sheet=title)
    too_big = parts.size_problem(title, where)
    if too_big is not None:
        found.add(too_big)
        return None
    sheet = book.get_sheet_by_name(title)
    formulas, excel_errors, hidden, zeros = parts.scan(title)
    floats = _FloatTexts()  # a column of numbers repeats a few values: each converted once
    # skip_empty_area=False: rows and columns count from A1, as Excel numbers them
    values = sheet.to_python(skip_empty_area=False)
    rows = [[v if type(v) is str else floats[v] if type(v) is float else _text(v) for v in row]
            for row in values]  # (one comprehension: no Python loop around it)
    for (number, j), width in zeros.items():  # whole numbers formatted 0000 keep their zeros
        v = (values[number - 1][j] if number <= len(values) and j < len(values[number - 1])
             else None)
        if isinstance(v, float) and v.is_integer() and v >= 0:
            rows[number - 1][j] = str(int(v)).zfill(width)
    for cells in [r for r in rows if r and not r[-1]]:  # the rows that end in blank cells
        while cells and cells[-1] == "":
            cells.pop()
    numbers = list(range(1, len(rows) + 1))
    if len(rows) > MAX_SHEET_ROWS:
        found.add(msg("load.too_many_rows", at=where, count=len(rows), limit=MAX_SHEET_ROWS))
        return None
    merged = _fill_merges(sheet.merged_cell_ranges or [], rows)
    if merged:
        found.add(msg("load.merged_filled", severity="note", at=where,
                      ranges=merged[:10] + (["…"] if len(merged) > 10 else [])))
    return Grid(where, rows, numbers, sheet=True, hidden=frozenset(hidden), formulas=formulas,
                excel_errors=excel_errors)


def _fill_merges(ranges: list[Any], rows: list[list[str]]) -> list[str]:
    """Give a vertically merged cell's value to every row of the merge; the ranges filled."""
    done: list[str] = []
    for (r0, c0), (r1, _c1) in ranges:
        if r1 <= r0:
            continue  # a merge within one row (a title) has one value: nothing to fill
        first = r0
        if not 0 <= first < len(rows) or c0 >= len(rows[first]) or not rows[first][c0]:
            continue
        value = rows[first][c0]
        filled = False
        for r in range(first + 1, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c0:
                row.extend([""] * (c0 + 1 - len(row)))
            if row[c0] == "":
                row[c0] = value
                filled = True
        if filled:
            done.append(f"{aliases.letter(c0)}{r0 + 1}:{aliases.letter(c0)}{r1 + 1}")
    return done


class _FloatTexts(dict[float, str]):
    """``floats[x]`` is ``_text(x)`` for a float ``x``, computed once per value."""

    def __missing__(self, value: float) -> str:
        text = self[value] = _text(value)
        return text


def _text(value: Any) -> str:
    """A calamine value as the text a CSV export would hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


def _settings_sheet(grid: Grid, title: str, found: Found) -> SettingsSheet:
    """Key/value rows into a nested mapping shaped like ``scenario.yaml``.

    The header row (``参数``/``值``, ``key``/``value``) may be anywhere among the first rows;
    without one, the keys are in the first column and the values in the second, and rows
    above the first known key that fill one cell only (a title) are skipped with a note.
    """
    where = grid.where
    out = SettingsSheet(title, where, {}, {})
    rows = grid.rows
    filled = [k for k, row in enumerate(rows) if any(c.strip() for c in row)]
    key_col, value_col, body = 0, 1, filled
    for k in filled[:5]:
        columns = [aliases.canonical_setting_column(c) for c in rows[k]]
        if "key" in columns and "value" in columns:
            key_col, value_col = columns.index("key"), columns.index("value")
            body = [j for j in filled if j > k]
            skipped = [j for j in filled if j < k]
            if skipped:
                found.add(msg("load.header_row", severity="note",
                              at=Location(file=where.file, sheet=title, row=grid.numbers[k]),
                              skipped=tuple(str(grid.numbers[j]) for j in skipped)))
            break
    else:
        known = set(aliases.SETTING_ALIASES)
        titles = []
        for k in filled:
            row = rows[k]
            key = aliases.canonical_setting(row[0]) if row and row[0].strip() else ""
            if key in known or key in {"name", "description", "terms", "term_months"} or (
                    key.split(".")[0] in _SETTING_SECTIONS):
                break
            if sum(1 for c in row if c.strip()) > 1:
                break
            titles.append(k)
        if titles:
            body = [k for k in filled if k not in titles]
            found.add(msg("load.title_rows", severity="note", at=where,
                          rows=tuple(str(grid.numbers[k]) for k in titles)))
    out.value_column = aliases.letter(value_col)
    for k in body:
        row = rows[k]
        number = grid.numbers[k]
        at = Location(file=where.file, sheet=title, row=number)
        if (number, value_col) in grid.formulas:
            found.add(msg("load.formula", at=Location(file=where.file, sheet=title, row=number,
                                                      column=aliases.letter(value_col)),
                          formula=grid.formulas[number, value_col]))
            continue
        key_cell = row[key_col].strip() if key_col < len(row) else ""
        value = row[value_col].strip() if value_col < len(row) else ""
        if not key_cell:
            if value:
                found.add(msg("load.value_without_key", at=at))
            continue
        key = aliases.canonical_setting(key_cell)
        if value == "":
            continue  # not set: the default applies
        if key in out.rows:
            found.add(msg("load.setting_twice", at=Location(
                file=where.file, sheet=title, row=number, header=key_cell, field=key),
                other_row=out.rows[key][0]))
            continue
        if key in _SETTING_SECTIONS:
            found.add(msg("load.setting_section", at=Location(
                file=where.file, sheet=title, row=number, header=key_cell, field=key),
                section=key))
            continue
        out.rows[key] = (number, key_cell)
        section, dot, setting = key.partition(".")
        typed: Any = _YES_NO.get(value, value)
        if key in _LIST_SETTINGS:
            typed = [x.strip() for x in _LIST_SPLIT.split(value.strip("[]［］ ")) if x.strip()]
        elif key == "term_months" and re.fullmatch(r"[0-9]+", value):
            typed = int(value)
        if not dot:
            out.doc[key] = typed
        elif section in _SETTING_SECTIONS:
            out.doc.setdefault(section, {})[setting] = typed
        else:  # reported as an unknown key by the settings check, at this row
            out.doc[key] = typed
    return out
