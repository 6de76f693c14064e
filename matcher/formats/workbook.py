"""Reading a scenario given as one ``.xlsx`` workbook into rows of strings, like CSV rows.

A scenario may be one workbook instead of a folder of CSVs: :func:`find_workbook` decides which
(a path to an ``.xlsx`` file, or a folder holding exactly one workbook and no CSV tables), and
:func:`read_workbook` turns each sheet into rows of strings exactly like CSV rows, so that every
check of :mod:`matcher.formats` and :mod:`matcher.model` applies unchanged. The workbook has

* one sheet per table, named like the CSV file without ``.csv`` (``students``, ``workstations``,
  ``mentors``, ``supervisors``, optional ``universities``, ``workstation_terms``, ``pairs``,
  ``locks``, ``rankings``, ``occupancy``) or by a Chinese alias (``学生``, ``工作站``, ...;
  see :mod:`matcher.formats.aliases`). The first non-empty row is the header; headers may be
  Chinese too. Cells right of the last header cell, and other sheets (notes, pivot tables),
  are ignored.
* a ``scenario`` sheet (alias ``设置``) with the settings of ``scenario.yaml``, one per row: a
  ``key`` column and a ``value`` column (aliases ``参数`` and ``值``; other columns are notes and
  are ignored; the header row may be left out). Nested settings use dotted keys, exactly the
  paths of ``scenario.yaml``: ``name``, ``description``, ``terms``, ``term_months``,
  ``policy.practice_months``, ``policy.experienced_practice_months``,
  ``policy.experienced_years``, ``policy.window``, ``policy.preferences_only``,
  ``objective.pair_weight``, ``solver.time_limit_s``, ``solver.seed``, ``solver.workers``. List
  values (``terms``, ``policy.window``) are separated by ``;``, ``,``, ``；``, ``，`` or ``、``
  (brackets around them are allowed); yes/no settings take ``true``/``false``, ``是``/``否`` or
  an Excel TRUE/FALSE cell. An empty value means "not set" (the default applies).
  Instead of the sheet, a ``scenario.yaml`` may lie beside the workbook (not both).

Messages name the workbook, the sheet as titled and the row number Excel shows (the header is
row 1 when it is in the first row), e.g. ``scenario.xlsx sheet students row 12, preferences:
unknown workstation 'W9' (not in sheet workstations)``.

Cells are read as stored; formulas are **not** evaluated: a cell holding a formula (or an Excel
error such as ``#N/A``) is an error naming the cell, to be replaced by its value (copy, then
Paste Special > Values). Numbers become the text Excel would show for a plain number (``3``,
``2.5``); a whole number formatted with leading zeros (format ``0000``) keeps them (``0854``),
dates become ``YYYY-MM-DD``. Limits: the workbook file at most :data:`MAX_WORKBOOK_BYTES`, its
unpacked content at most :data:`MAX_UNPACKED_BYTES`, each sheet at most :data:`MAX_SHEET_ROWS`
non-empty rows, columns after :data:`MAX_COLUMNS` are not read. Workbooks linking to other
workbooks or to external data sources are refused: their values could change outside the file.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io as _io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model.errors import ScenarioError
from . import aliases
from .schema import TABLES

MAX_WORKBOOK_BYTES = 64 * 1024 * 1024
"""Largest workbook file read (64 MiB, as for one CSV table)."""
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
"""Largest total size of the files packed inside a workbook (guards against zip bombs)."""
MAX_SHEET_ROWS = 500_000
"""Most non-empty rows read from one sheet."""
MAX_COLUMNS = 100
"""Columns read from each sheet; cells to the right of it are not read."""

_REFUSED_SUFFIXES = {
    ".xls": "an old-format Excel workbook (.xls)",
    ".xlsm": "a macro-enabled workbook (.xlsm)",
    ".xlsb": "a binary workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".et": "a WPS spreadsheet (.et)",
}
_SETTING_SECTIONS = ("policy", "solver", "objective")
_LIST_SETTINGS = ("terms", "policy.window")
_LIST_SPLIT = re.compile(r"[;,；，、]")
_YES_NO = {"是": "true", "否": "false"}
_ZEROS = re.compile(r"0+")


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
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            return path
        if suffix in _REFUSED_SUFFIXES:
            raise ScenarioError([f"{path}: {_REFUSED_SUFFIXES[suffix]} cannot be read; open it "
                                 "in your spreadsheet program and save it as Excel Workbook "
                                 "(.xlsx)"])
        raise ScenarioError([f"{path}: not a scenario folder or .xlsx workbook; give the folder "
                             "holding scenario.yaml and the CSVs, or the .xlsx workbook"])
    if not path.is_dir():
        return None
    books = sorted(p for p in path.iterdir() if p.suffix.lower() == ".xlsx" and p.is_file()
                   and not p.name.startswith(("~$", ".")))  # ~$x.xlsx: Excel's lock file
    if not books:
        return None
    csvs = [t.file for t in TABLES if (path / t.file).exists()]
    if csvs:
        raise ScenarioError([f"{path}: holds both CSV tables ({', '.join(csvs)}) and a workbook "
                             f"({books[0].name}); give the workbook's path to read it, or move "
                             "the workbook out of the folder to read the CSVs"])
    if len(books) > 1:
        raise ScenarioError([f"{path}: holds {len(books)} workbooks ("
                             + ", ".join(b.name for b in books)
                             + "); give the path of the one to read"])
    return books[0]


# ---- reading --------------------------------------------------------------------------------
@dataclass
class SheetRows:
    """One sheet as rows of strings, header first, blank rows left out.

    Attributes
    ----------
    title
        The sheet's title as written in the workbook.
    label
        How messages name the sheet: ``"scenario.xlsx sheet students"``.
    rows
        The header row, then the data rows, each a list of stripped-or-not strings like CSV
        cells.
    numbers
        The Excel row number of each row (``rows[k]`` is row ``numbers[k]``).
    """

    title: str
    label: str
    rows: list[list[str]]
    numbers: list[int]


@dataclass
class SettingsSheet:
    """The ``scenario`` sheet as a ``scenario.yaml``-shaped mapping.

    Attributes
    ----------
    title
        The sheet's title as written in the workbook.
    label
        How messages name the sheet.
    doc
        Settings as nested dicts, like the parsed ``scenario.yaml``.
    rows
        Dotted key -> Excel row it was given in.
    """

    title: str
    label: str
    doc: dict[str, Any]
    rows: dict[str, int]

    def at(self, key: str) -> str:
        """Message prefix for a (dotted) setting key: the sheet and the row it was given in."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            row = self.rows.get(".".join(parts[:n]))
            if row is not None:
                return f"{self.label} row {row}, {key}"
        return f"{self.label}, {key}"


@dataclass
class WorkbookData:
    """What :func:`read_workbook` found.

    Attributes
    ----------
    name
        The workbook's file name, as used in messages.
    tables
        Table name -> its sheet, or None when the sheet could not be taken (the errors are
        reported) or is required and missing; optional tables without a sheet are absent.
    settings
        The ``scenario`` sheet, or None when the workbook has none or it could not be read.
    has_settings_sheet
        Whether the workbook has a ``scenario`` sheet (readable or not).
    """

    name: str
    tables: dict[str, SheetRows | None] = field(default_factory=dict)
    settings: SettingsSheet | None = None
    has_settings_sheet: bool = False


def read_workbook(path: Path, errors: list[str], hashes: dict[str, str]) -> WorkbookData | None:
    """Read a scenario workbook into rows of strings, appending located errors.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    errors
        Receives one line per problem found.
    hashes
        Receives the workbook's SHA-256 under its file name.

    Returns
    -------
    WorkbookData or None
        None when the file cannot be read as a workbook at all. A sheet with a cell error
        (a formula, too many rows) is None in ``tables`` after its errors are added.
    """
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_WORKBOOK_BYTES:
            errors.append(f"{name}: {size / 2**20:.1f} MiB, over the "
                          f"{MAX_WORKBOOK_BYTES / 2**20:g} MiB limit for a workbook; check that "
                          "it is the right file, or split the scenario")
            return None
        raw = path.read_bytes()
    except OSError as e:
        errors.append(f"{name}: cannot be read ({e.strerror}); check its permissions")
        return None
    hashes[name] = hashlib.sha256(raw).hexdigest()
    if not _safe_archive(raw, name, errors):
        return None
    import openpyxl

    # openpyxl warns about features it skips (data validation, conditional formats); they do
    # not change the values read, and a clerk's terminal is no place for Python warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(_io.BytesIO(raw), read_only=True, data_only=False,
                                          keep_links=False)
        except Exception as e:  # openpyxl raises many kinds on a damaged file; all mean this
            errors.append(f"{name}: not a readable .xlsx workbook ({type(e).__name__}); open it "
                          "in your spreadsheet program and save it again as Excel Workbook "
                          "(.xlsx)")
            return None
        try:
            return _read_sheets(book, name, errors)
        finally:
            book.close()


def _safe_archive(raw: bytes, name: str, errors: list[str]) -> bool:
    """Check the zip container before openpyxl parses it: size, links, external data."""
    try:
        with zipfile.ZipFile(_io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        errors.append(f"{name}: not an .xlsx workbook (password-protected workbooks and files "
                      "renamed to .xlsx cannot be read); save it as Excel Workbook (.xlsx) "
                      "without a password")
        return False
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED_BYTES:
        errors.append(f"{name}: unpacks to {unpacked / 2**20:.0f} MiB, over the "
                      f"{MAX_UNPACKED_BYTES / 2**20:g} MiB limit; remove images and unused "
                      "sheets, or split the scenario")
        return False
    names = [i.filename for i in infos]
    if any(n.startswith("xl/externalLinks/") for n in names):
        errors.append(f"{name}: links to other workbooks (external links); break the links "
                      "(Data > Edit Links > Break Link) so the values are stored in this file")
        return False
    if "xl/connections.xml" in names:
        errors.append(f"{name}: has external data connections (queries); copy the data and "
                      "paste it as values, then delete the connections")
        return False
    return True


def _read_sheets(book: Any, name: str, errors: list[str]) -> WorkbookData:
    table_names = [t.name for t in TABLES]
    by_table: dict[str, Any] = {}
    for ws in book.worksheets:
        target = aliases.canonical_sheet(ws.title, [*table_names, "scenario"])
        if target is None:
            continue
        if target in by_table:
            errors.append(f"{name}: sheets '{by_table[target].title}' and '{ws.title}' both "
                          f"mean {target}; keep one of them")
            continue
        by_table[target] = ws
    data = WorkbookData(name)
    for t in TABLES:
        ws = by_table.get(t.name)
        if ws is None:
            if t.required_file:
                titles = ", ".join(f"'{w.title}'" for w in book.worksheets) or "none"
                needed = ", ".join(x.name for x in TABLES if x.required_file)
                errors.append(f"{name}: missing sheet '{t.name}'; a scenario workbook needs "
                              f"sheets named {needed} (sheets found: {titles})")
                data.tables[t.name] = None
            continue
        sheet = _sheet_rows(ws, f"{name} sheet {ws.title}", errors)
        if sheet is not None and not sheet.rows:
            errors.append(f"{sheet.label}: the sheet is empty; it needs a header row and data "
                          "rows")
            sheet = None
        if sheet is not None:  # cells right of the last header cell are notes: not read
            width = len(sheet.rows[0])
            sheet.rows[1:] = [row[:width] for row in sheet.rows[1:]]
        data.tables[t.name] = sheet
    ws = by_table.get("scenario")
    if ws is not None:
        data.has_settings_sheet = True
        sheet = _sheet_rows(ws, f"{name} sheet {ws.title}", errors)
        if sheet is not None:
            data.settings = _settings_sheet(sheet, errors)
    return data


def _sheet_rows(ws: Any, label: str, errors: list[str]) -> SheetRows | None:
    """Rows of strings of one worksheet; None (errors added) when a cell cannot be taken."""
    ws.reset_dimensions()  # a stored dimension may claim a million rows; read what is there
    rows: list[list[str]] = []
    numbers: list[int] = []
    ok = True
    for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
        values: list[str] = []
        for cell in cells:
            text, why = _cell_text(cell)
            if why is not None:
                errors.append(f"{label} cell {cell.coordinate}: {why}")
                ok = False
            values.append(text)
        while values and values[-1] == "":
            values.pop()
        if not any(v.strip() for v in values):
            continue
        if len(rows) > MAX_SHEET_ROWS:
            errors.append(f"{label}: more than {MAX_SHEET_ROWS} rows; check that it is the "
                          "right sheet, or split the scenario")
            return None
        rows.append(values)
        numbers.append(number)
    if not ok:
        return None
    return SheetRows(ws.title, label, rows, numbers)


def _cell_text(cell: Any) -> tuple[str, str | None]:
    """A cell as the text a CSV export would hold, or a reason it cannot be taken."""
    value = cell.value
    kind = getattr(cell, "data_type", "n")
    if kind == "f":
        formula = str(getattr(value, "text", value))
        shown = formula if len(formula) <= 40 else formula[:39] + "…"
        return "", (f"holds a formula ({shown}); formulas are not evaluated: replace it with "
                    "its value (copy, then Paste Special > Values)")
    if kind == "e":
        return "", (f"holds the Excel error {value}; correct the cell or type the value "
                    "(formulas are not evaluated)")
    if value is None:
        return "", None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int):
        return _padded(value, cell), None
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return _padded(int(value), cell), None
        return repr(value), None
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat(), None
        return value.isoformat(sep=" "), None
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat(), None
    return str(value), None


def _padded(value: int, cell: Any) -> str:
    """A whole number as text; leading zeros kept when the cell's format shows them (0000)."""
    text = str(value)
    fmt = getattr(cell, "number_format", "General")
    if value >= 0 and isinstance(fmt, str) and _ZEROS.fullmatch(fmt):
        return text.zfill(len(fmt))
    return text


def _settings_sheet(sheet: SheetRows, errors: list[str]) -> SettingsSheet:
    """Key/value rows into a nested mapping shaped like ``scenario.yaml``."""
    out = SettingsSheet(sheet.title, sheet.label, {}, {})
    rows, numbers = sheet.rows, sheet.numbers
    columns = [aliases.canonical_setting_column(c) for c in rows[0]] if rows else []
    if "key" in columns and "value" in columns:
        key_col, value_col = columns.index("key"), columns.index("value")
        body = range(1, len(rows))
    else:  # no header row: key in the first column, value in the second
        key_col, value_col = 0, 1
        body = range(len(rows))
    for k in body:
        row = rows[k]
        number = numbers[k]
        key_cell = row[key_col].strip() if key_col < len(row) else ""
        value = row[value_col].strip() if value_col < len(row) else ""
        if not key_cell:
            if value:
                errors.append(f"{sheet.label} row {number}: a value without a key; put the "
                              "setting's name (such as terms or policy.window) in the key column")
            continue
        key = aliases.canonical_setting(key_cell)
        if value == "":
            continue  # not set: the default applies
        if key in out.rows:
            errors.append(f"{sheet.label} row {number}, {key}: already given in row "
                          f"{out.rows[key]}; keep one row per setting")
            continue
        if key in _SETTING_SECTIONS:
            errors.append(f"{sheet.label} row {number}, {key}: give one row per setting, "
                          f"named like {key}.<setting> (for example policy.window)")
            continue
        out.rows[key] = number
        section, dot, setting = key.partition(".")
        typed: Any = _YES_NO.get(value, value)
        if key in _LIST_SETTINGS:
            typed = [x.strip() for x in _LIST_SPLIT.split(value.strip("[]［］ ")) if x.strip()]
        elif key == "term_months" and re.fullmatch(r"\d+", value):
            typed = int(value)
        if not dot:
            out.doc[key] = typed
        elif section in _SETTING_SECTIONS:
            out.doc.setdefault(section, {})[setting] = typed
        else:  # reported as an unknown key by the settings check, at this row
            out.doc[key] = typed
    return out
