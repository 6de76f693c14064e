"""Tables as the user keeps them: a CSV file's or a sheet's rows of text, read into model rows.

:func:`csv_grid` reads one CSV file of a scenario folder into a :class:`Grid` (rows of text and
where each row is); :mod:`matcher.formats.workbook` gives a :class:`Grid` per sheet.
:func:`read_grid` then reads a grid the way a graduate office keeps its lists, and says what it
did in notes (issue 25):

* the **header row** is the row among the first ten that names the most columns (title rows
  and merged title cells above it are skipped: a note names the row taken);
* headers may use the aliases of :mod:`matcher.formats.aliases`, with spaces inside Chinese
  headers (``学 号``) and full-width letters forgiven (a note);
* preferences may be spread over one column per choice (``第一志愿``, ``第二志愿``, ... or
  ``志愿1``, ``志愿2``, ...), read in that order (a note);
* **totals rows** (``合计``, ``总计``, ``小计``, ``共10人``) are left out, and so are notes
  below the grand total; blank rows are skipped (a note names the rows left out);
* list cells may separate items with ``,``, ``，`` or (in a workbook) line breaks besides
  ``;``, ``；`` and ``、`` (a note names the cells);
* the user's own columns that matcher does not use (``姓名``, ``备注``, a workstation's name)
  are **carried**: kept with their header, in order, so that outputs can show them.

Every problem is a :class:`~matcher.messages.Message` located as the user sees it: the file
and its data row (the first row under the header is row 1), or the sheet, Excel's row number,
the column letter and the header as typed.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import compress
from operator import itemgetter, methodcaller
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..messages import Location, Message, looks_chinese, msg
from ..model.errors import error_detail
from . import aliases
from .cells import (
    MAX_CELL_CHARS,
    MAX_FILE_BYTES,
    NO_VALUE,
    decode,
    loud_separator,
    parse_cell,
    read_input,
    show,
    split_list,
)
from .locations import Found
from .schema import Column, Table

__all__ = ["CARRIED_TABLES", "HEADER_SCAN", "MAX_CSV_ROWS", "Grid", "TableRead", "csv_grid",
           "csv_rows", "quoting_error", "read_grid", "read_table"]

HEADER_SCAN = 10
"""How many non-blank rows from the top may be searched for the header row."""
MAX_CSV_ROWS = 1_000_000
"""Most lines of one CSV file (counted before the file is parsed)."""
CARRIED_TABLES = ("students", "workstations", "mentors", "supervisors", "universities")
"""Tables whose rows have one id, so that the user's own columns can be carried by id."""
_SHOWN_ROWS = 10


@dataclass
class Grid:
    """One table as the user keeps it: rows of cell texts and where each row is.

    Attributes
    ----------
    where
        The file (``Location(file="students.csv")``) or the sheet
        (``Location(file="scenario.xlsx", sheet="学生")``).
    rows
        Every row read, blank ones included, each a list of cell texts.
    numbers
        ``rows[k]``'s Excel row number in a sheet; its 0-based record index in a CSV file.
    sheet
        Whether it is a workbook sheet (Excel rows, column letters, Alt+Enter in list cells).
    hidden
        Excel rows hidden or filtered out (read all the same; a note names them).
    formulas
        ``(Excel row, 0-based column) -> formula`` of every formula cell of a sheet.
    excel_errors
        ``(Excel row, 0-based column) -> error value`` (``#N/A``) of a sheet.
    multiline
        Whether a CSV file may hold a cell with a line break (more lines than records): only
        then are all cells scanned for one.
    """

    where: Location
    rows: list[list[str]]
    numbers: list[int]
    sheet: bool = False
    hidden: frozenset[int] = frozenset()
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    excel_errors: dict[tuple[int, int], str] = field(default_factory=dict)
    multiline: bool = True


@dataclass
class TableRead:
    """One table read: a model object per data row, and where each row and column is.

    Attributes
    ----------
    table
        The table.
    where
        Its file or sheet.
    rows
        One model object per data row, None for a row with an error (so that ``rows[k]`` is
        the row shown as ``numbers[k]``).
    numbers
        The row number the user sees for each data row.
    columns
        Canonical column -> (0-based position, header as typed).
    sheet
        Whether the table is a workbook sheet.
    carried
        The user's own columns: (header as typed, 0-based position, text per data row).
    names
        The text of the table's name column per data row (``工作站名称``), or None.
    preference_columns
        For preferences spread over ``第一志愿``, ``第二志愿``, ...: per data row, the 0-based
        column of each preference in order; None otherwise.
    headers
        Every header cell as typed (for the choice of language).
    row_index
        The grid row each data row was read from.
    """

    table: Table
    where: Location
    rows: list[Any]
    numbers: list[int]
    columns: dict[str, tuple[int, str]]
    sheet: bool
    carried: list[tuple[str, int, list[str]]] = field(default_factory=list)
    names: list[str] | None = None
    preference_columns: list[tuple[int, ...]] | None = None
    headers: list[str] = field(default_factory=list)
    row_index: list[int] = field(default_factory=list, repr=False)

    def at(self, row: int | None, column: str | None, value: str | None = None) -> Location:
        """Where data row ``row`` (0-based, None for the table) and ``column`` are.

        Parameters
        ----------
        row
            The 0-based data row, or None.
        column
            The canonical column (or None).
        value
            For ``preferences`` spread over several columns: the choice, to find its column.

        Returns
        -------
        Location
            The file and data row (the header's name), or the sheet, Excel row, column letter
            and header.
        """
        shown = self.numbers[row] if row is not None and 0 <= row < len(self.numbers) else (
            row + 1 if row is not None else None)
        pos = self.columns.get(column) if column is not None else None
        if (column == "preferences" and self.preference_columns is not None and row is not None
                and 0 <= row < len(self.rows) and value is not None):
            found = self.rows[row]
            prefs = tuple(getattr(found, "preferences", ()) or ())
            cols = self.preference_columns[row]
            if value in prefs and prefs.index(value) < len(cols):
                k = cols[prefs.index(value)]
                pos = (k, self.headers[k] if k < len(self.headers) else column)
        if pos is None:
            return replace(self.where, row=shown, field=column)
        k, typed = pos
        return replace(self.where, row=shown, column=aliases.letter(k) if self.sheet else None,
                       header=typed or None, field=column)


def csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of CSV text (the lenient reader: see :func:`quoting_error`)."""
    yield from csv.reader(_io.StringIO(text, newline=""))


def csv_grid(folder: Path, table: Table, found: Found, hashes: dict[str, str]
             ) -> Grid | None:
    """One CSV file of a scenario folder as a :class:`Grid`, or None (messages added).

    The size limits (bytes, lines) are checked before the text is decoded or parsed; the
    quoting is checked strictly (a quote left open would swallow the rest of the file).

    Parameters
    ----------
    folder
        The scenario folder.
    table
        The table (its file name).
    found
        Receives the messages.
    hashes
        Receives the file's SHA-256 under its name.
    """
    at = Location(file=table.file)
    raw = read_input(folder, table.file, MAX_FILE_BYTES, found.errors)
    if raw is None:
        return None
    lines = raw.count(b"\n")
    if lines > MAX_CSV_ROWS:
        found.add(msg("load.too_many_rows", at=at, count=lines, limit=MAX_CSV_ROWS))
        return None
    hashes[table.file] = hashlib.sha256(raw).hexdigest()
    text = decode(raw, table.file, found.errors, found.notes)
    if text is None:
        return None
    try:
        rows = list(csv_rows(text))
    except csv.Error as e:
        code = "load.cell_too_long" if "field larger" in str(e) else "load.not_csv"
        found.add(msg(code, at=at, reason=str(e), length=csv.field_size_limit(),
                      limit=csv.field_size_limit()))
        return None
    quoting = quoting_error(text, table.file)
    if quoting is not None and not any("\n" in c or "\r" in c for row in rows for c in row):
        # (a quote that swallows line breaks is named with its row by read_grid instead)
        found.add(quoting)
        return None
    breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
    return Grid(at, rows, list(range(len(rows))), multiline=breaks > len(rows))


def quoting_error(text: str, file: str = "") -> Message | None:
    """Where the CSV's quotes break the format, which the lenient reader would paper over.

    A quote left open at the end swallows the rest of the file; ``"a"b`` silently becomes
    ``ab``. Strict parsing finds both; None when the quoting is sound.
    """
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as e:
        at = Location(file=file or "?", line=max(reader.line_num, 1))
        if "end of data" in str(e):
            return msg("load.quote_not_closed", at=at)
        return msg("load.text_after_quote", at=at, reason=str(e))
    return None


def _recognised(table: Table, row: Sequence[str]) -> int:
    """How many cells of ``row`` name a column of ``table`` (the header row names the most)."""
    names = [c.name for c in table.columns]
    canon = aliases.canonical_header(names, [c.strip() for c in row])
    n = sum(1 for c in canon if c in names)
    if table.name == "students":
        n += sum(1 for c in row if c.strip() and aliases.preference_ordinal(c) is not None)
    return n


def read_grid(table: Table, grid: Grid, found: Found) -> TableRead | None:
    """Read a grid the way an office keeps its lists (see the module docstring).

    Parameters
    ----------
    table
        The table the grid holds.
    grid
        Its rows.
    found
        Receives every error, warning and note, located.

    Returns
    -------
    TableRead or None
        None when the header cannot be used (errors added); else one entry per data row (None
        for a row with an error, whose errors were added).
    """
    where = grid.where
    # the rows with a cell that is not blank (C loops: compress, map, any)
    filled = list(compress(range(len(grid.rows)),
                           map(any, map(partial(map, str.strip), grid.rows))))
    if not filled:
        found.add(msg("load.empty_sheet", at=where) if grid.sheet
                  else msg("load.empty_file", at=where))
        return None
    best, best_n = filled[0], 0
    for k in filled[:HEADER_SCAN]:
        n = _recognised(table, grid.rows[k])
        if n > best_n:
            best, best_n = k, n
    hk = best
    header_row = grid.rows[hk]
    first_number = grid.numbers[hk]

    def shown(k: int) -> int:
        return grid.numbers[k] if grid.sheet else grid.numbers[k] - first_number

    def row_at(k: int) -> Location:
        if grid.sheet:
            return replace(where, row=grid.numbers[k])
        return replace(where, line=grid.numbers[k] + 1)

    skipped = [k for k in filled if k < hk]
    if skipped:
        found.add(msg("load.header_row", severity="note", at=row_at(hk),
                      skipped=tuple(str(grid.numbers[k] + (0 if grid.sheet else 1))
                                    for k in skipped)))
    typed = [h.strip().lstrip("\ufeff").strip() for h in header_row]
    broken = [h for h in typed if "\n" in h or "\r" in h]
    if broken and not grid.sheet:
        found.add(msg("load.header_line_break", at=where, value=show(broken[0])))
        return None
    names = [c.name for c in table.columns]
    canon = aliases.canonical_header(names, [" ".join(h.split()) for h in typed])
    chinese = looks_chinese(typed)
    columns: dict[str, tuple[int, str]] = {}
    ordinals: dict[int, int] = {}  # preference place -> position
    carried: list[tuple[str, int]] = []
    name_pos: int | None = None
    bad = False
    for k, (name, head) in enumerate(zip(canon, typed, strict=True)):
        if not head:
            continue
        if name in names:
            if name in columns:
                other, other_head = columns[name]
                code = ("load.duplicate_column" if other_head == head else "load.same_column")
                found.add(msg(code, at=where, column=show(head), header=show(head),
                              other_header=show(other_head), other_column=aliases.letter(other),
                              letter=aliases.letter(k), field=name))
                bad = True
                continue
            columns[name] = (k, head)
            if aliases.loosely_typed(head):
                found.add(msg("load.header_normalised", severity="note",
                              at=replace(row_at(hk), column=aliases.letter(k) if grid.sheet
                                         else None), header=head, field=name))
            continue
        place = aliases.preference_ordinal(head) if table.name == "students" else None
        if place is not None:
            if place in ordinals:
                found.add(msg("load.same_column", at=where, header=show(head),
                              other_header=show(typed[ordinals[place]]),
                              other_column=aliases.letter(ordinals[place]),
                              letter=aliases.letter(k), field="preferences"))
                bad = True
            ordinals[place] = k
            continue
        if aliases.is_name_column(table.name, head) and name_pos is None:
            name_pos = k
        if table.name in CARRIED_TABLES:
            carried.append((head, k))
    if ordinals and "preferences" in columns:
        k, head = columns["preferences"]
        found.add(msg("load.preference_columns_clash", at=where, header=head,
                      columns=tuple(typed[ordinals[p]] for p in sorted(ordinals))))
        bad = True
    elif ordinals:
        order = [ordinals[p] for p in sorted(ordinals)]
        columns["preferences"] = (order[0], typed[order[0]])
        found.add(msg("load.preference_columns", severity="note", at=where,
                      columns=tuple(typed[k] for k in order)))
    missing = [c.name for c in table.columns if c.required and c.name not in columns]
    if missing and len([h for h in typed if h]) == 1 and (";" in typed[0] or "\t" in typed[0]):
        found.add(msg("load.semicolons" if ";" in typed[0] else "load.tabs", at=where))
        return None
    required = tuple(aliases.preferred(c.name) if chinese else c.name
                     for c in table.columns if c.required)
    for name in missing:
        found.add(msg("load.missing_column", at=where,
                      column=aliases.preferred(name) if chinese else name, required=required))
    if missing or bad:
        return None
    out = TableRead(table, where, [], [], columns, grid.sheet, headers=typed)
    order = [ordinals[p] for p in sorted(ordinals)]
    if order:
        out.preference_columns = []
    _read_rows(table, grid, found, out, [k for k in filled if k > hk], shown, order)
    if carried:
        out.carried = [(head, k, []) for head, k in carried]
        for k in out.row_index:
            row = grid.rows[k]
            for _, pos, values in out.carried:
                values.append(row[pos].strip() if pos < len(row) else "")
        if name_pos is not None:
            out.names = next(v for _, pos, v in out.carried if pos == name_pos)
    if not out.rows and table.required_file:
        found.add(msg("load.no_data_rows", at=where))
        return None
    return out


_TOTAL_HINT = re.compile(r"\s*(?:[合总小共汇]|(?i:tot|sub|sum))")
_HINT_FIRST = frozenset("合总小共汇")
_HINT_WORDS = frozenset(("tot", "sub", "sum"))
# the same tests over a column's heads joined by NUL (``\s`` is str.isspace() for str patterns;
# casefold() leaves NUL alone, so the separators still count the rows)
_LOOK_FIRST = re.compile("\0[合总小共汇\\s]")
_LOOK_WORD = re.compile("\0(?:tot|sub|sum)")
_SIMPLE_FLOAT = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?")
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(model: type[Any]) -> TypeAdapter[Any]:
    """A validator of a whole list of rows at once (pydantic's core loops, not Python's)."""
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


def _plain_column(kind: str, cells: list[str]) -> list[Any] | None:
    """Every value of a column whose cells are all plain (ASCII, printable, no formula, short,
    numbers in their simplest form), checked column-wise in C loops; None when some cell is
    not, so that the column is read cell by cell with the full checks."""
    if not cells:
        return []
    joined = " ".join(cells)
    if (not joined.isascii() or not joined.isprintable() or " =" in " " + joined
            or " @" in " " + joined or max(map(len, cells)) > MAX_CELL_CHARS):
        return None
    if kind in ("str", "opt_str"):
        if kind == "str" and not all(cells):
            return None
        return [c if c else NO_VALUE for c in cells] if kind == "opt_str" else cells
    if kind == "list":
        if "," not in joined and " " not in "".join(cells):
            # ";" is then the only separator (the others are not ASCII, or not printable) and
            # nothing needs trimming: split in C (a province's preferences, 100,000 cells)
            return list(map(tuple, map(partial(filter, None), map(methodcaller("split", ";"),
                                                                   cells))))
        return [tuple(split_list(c)) if c else () for c in cells]
    if kind in ("int", "opt_int"):
        if not all(map(str.isdigit, filter(None, cells))) or max(map(len, cells)) > 15:
            return None
        if not all(cells):
            return None if kind == "int" else [int(c) if c else NO_VALUE for c in cells]
        return list(map(int, cells))
    if not all(map(_SIMPLE_FLOAT.fullmatch, filter(None, cells))):
        return None
    if not all(cells):
        return None if kind == "float" else [float(c) if c else NO_VALUE for c in cells]
    return list(map(float, cells))


def _worth_a_look(row: list[str], wide: int) -> bool:
    """Whether a row may be a totals row, or (``wide`` >= 0) is wider than ``wide`` cells; any
    row of a CSV file that may hold line breaks (``wide`` = -1)."""
    if wide < 0 or len(row) > wide > 0:
        return True
    # a superset of what _TOTAL_HINT matches: ``\s`` is str.isspace(), and the case-blind
    # words also match with a long s (``ſ``), which casefold() turns into ``s``
    return any(c[:1] in _HINT_FIRST or c[:1].isspace() or c[:3].casefold() in _HINT_WORDS
               for c in row[:3])


def _first_to_look(rows: list[list[str]], wide: int) -> int:
    """The index of the first row :func:`_worth_a_look` picks (``len(rows)`` if none), or an
    earlier one (a row looked at closely is read all the same): each of the first three
    columns is joined into one text with NUL between the cells and searched by a regular
    expression, in C loops (a province's 100,000 rows are plain)."""
    if wide < 0:
        return 0
    first = len(rows)
    if wide > 0 and rows and max(map(len, rows)) > wide:
        first = next(i for i, r in enumerate(rows) if len(r) > wide)
    head = rows[:first] if first < len(rows) else rows
    shortest = min(map(len, head), default=0)
    for j in range(3):
        cells = (map(itemgetter(j), head) if shortest > j
                 else (r[j] if len(r) > j else "" for r in head))
        text = "\0" + "\0".join(cells)
        if text.count("\0") != len(head):  # a NUL inside a cell: look row by row
            return next((i for i, r in enumerate(rows) if _worth_a_look(r, wide)), len(rows))
        # a match at the NUL before cell i: i + 1 NULs up to it (casefold() keeps each NUL,
        # and a cell's casefold() starts with its first three characters' casefold())
        for pattern, searched in ((_LOOK_FIRST, text), (_LOOK_WORD, text.casefold())):
            m = pattern.search(searched)
            if m is not None:
                first = min(first, searched.count("\0", 0, m.start() + 1) - 1)
    return first


def _read_rows(table: Table, grid: Grid, found: Found, out: TableRead, body: list[int],
               shown: Any, order: list[int]) -> None:
    """The data rows of a grid into ``out`` (totals and footer rows left out, with notes).

    Rows are chosen first (totals, notes below the total, hidden rows, extra cells, line
    breaks); then each column is read at once: a column of plain cells in C loops
    (:func:`_plain_column`), any other cell by cell with the full checks and its location. The
    rows are validated into model objects in one call per table; a table with a bad row is
    validated row by row to name it.
    """
    where = grid.where
    header_width = len(out.headers)
    id_pos = out.columns.get(table.columns[0].name, (0, ""))[0]
    used = {k for k, _ in out.columns.values()} | set(order)
    totals: list[str] = []
    footer: list[str] = []
    hidden: list[str] = []
    lists: dict[str, list[tuple[int, str, str]]] = {}
    after_total = False
    bad: set[int] = set()  # positions in ``out`` of rows with an error
    skips: dict[int, set[int]] = {}  # position in ``out`` -> columns with a line break
    rows: list[list[str]] = []
    all_rows = [grid.rows[k] for k in body]
    # the rows that need a closer look; every row before the first of them is plain data
    # (a sheet's row is never too wide: its cells are named by letter)
    wide = 0 if grid.sheet else header_width if not grid.multiline else -1
    first = _first_to_look(all_rows, wide)
    rows.extend(all_rows[:first])
    out.rows.extend([None] * first)
    out.numbers.extend(shown(k) for k in body[:first])
    out.row_index.extend(body[:first])
    if out.preference_columns is not None:
        out.preference_columns.extend([()] * first)
    for k in body[first:]:
        row = grid.rows[k]
        width = len(row)
        number = shown(k)
        if _TOTAL_HINT.match(row[0] if width else "") or (width > 1 and _TOTAL_HINT.match(
                row[1])) or (width > 2 and _TOTAL_HINT.match(row[2])):
            label = next((w for c in row[:3] if c for w in [aliases.totals_word(c)] if w),
                         None)
            id_cell = row[id_pos].strip() if id_pos < width else ""
            if label is not None and (not id_cell or aliases.totals_word(id_cell)):
                totals.append(str(number))
                after_total = after_total or aliases.is_grand_total(label)
                continue
        if after_total and sum(1 for p in used if p < width and row[p].strip()) < 2:
            footer.append(str(number))
            continue
        index = len(out.rows)
        _append(out, k, None, number)
        rows.append(row)
        if not grid.sheet and width > header_width and any(c.strip()
                                                           for c in row[header_width:]):
            found.add(msg("load.extra_cells", at=replace(where, row=number), count=width,
                          header_count=header_width))
            bad.add(index)
            continue
        if not grid.sheet and grid.multiline:  # a line break may hide rows a quote merged
            for q, text in enumerate(row):
                if "\n" not in text and "\r" not in text:
                    continue
                skips.setdefault(index, set()).add(q)
                bad.add(index)
                head = out.headers[q] if q < len(out.headers) and out.headers[q] else None
                at_row = replace(where, row=number)
                at = replace(at_row, header=head) if head else replace(
                    at_row, field=aliases.letter(q))
                found.add(msg("load.cell_line_break", at=at, value=show(text.strip()))
                          if q in used else msg("load.line_break", at=at))
    if grid.sheet and grid.hidden:
        hidden = [str(n) for n, k in zip(out.numbers, out.row_index, strict=True)
                  if grid.numbers[k] in grid.hidden]
    names: list[str] = []
    columns: list[list[Any]] = []
    fields = table.model.model_fields
    for col in table.columns:
        spot = out.columns.get(col.name)
        if spot is None:
            continue
        if col.name == "preferences" and order:
            values = _choice_columns(grid, found, out, rows, order, col, bad, skips, lists)
        else:
            values = _column(grid, found, out, rows, spot[0], col, bad, skips, lists)
        default = fields[col.name].default if col.name in fields else None
        names.append(col.name)
        columns.append([default if v is NO_VALUE else v for v in values]
                       if NO_VALUE in values else values)  # ``in``: a C loop, mostly absent
    records = zip(*columns, strict=True) if columns else ((),) * len(rows)
    # one mapping per row, built in C (map over partial(zip, names)); then the bad rows out
    values = list(map(dict, map(partial(zip, names), records)))
    _validate(table, grid, found, out, values, bad)
    if totals:
        found.add(msg("load.totals_rows", severity="note", at=where, rows=_few(totals),
                      count=len(totals)))
    if footer:
        found.add(msg("load.footer_rows", severity="note", at=where, rows=_few(footer),
                      count=len(footer)))
    if hidden:
        found.add(msg("load.hidden_rows", severity="note", at=where, rows=_few(hidden),
                      count=len(hidden)))
    for name, cells in lists.items():
        number, cell, sep = cells[0]
        spot = out.columns[name]
        found.add(msg("load.list_split_cells", severity="note",
                      at=_cell_at(out, replace(where, row=number), spot, name),
                      count=len(cells), value=show(cell), items=tuple(split_list(cell)),
                      separator="↵" if sep == "\n" else sep,
                      rows=_few([str(n) for n, _, _ in cells])))


def _column(grid: Grid, found: Found, out: TableRead, rows: list[list[str]], pos: int,
            col: Column, bad: set[int], skips: dict[int, set[int]],
            lists: dict[str, list[tuple[int, str, str]]]) -> list[Any]:
    """One column of every data row read: at once when plain, else cell by cell."""
    cells = (list(map(str.strip, map(itemgetter(pos), rows)))
             if rows and min(map(len, rows)) > pos  # (C loops when every row has the cell)
             else [row[pos].strip() if pos < len(row) else "" for row in rows])
    marked = grid.sheet and any(c == pos for _, c in (*grid.formulas, *grid.excel_errors))
    values = None if marked or skips else _plain_column(col.kind, cells)
    if values is not None:
        if col.kind == "list":
            for i, cell in enumerate(cells):
                if "," in cell:
                    lists.setdefault(col.name, []).append((out.numbers[i], cell, ","))
        return values
    out_values: list[Any] = []
    for i, cell in enumerate(cells):
        if pos in skips.get(i, ()):
            out_values.append(NO_VALUE)
            continue
        value, why = _cell(grid, found, out, replace(grid.where, row=out.numbers[i]), pos,
                           col, cell, lists)
        if why:
            bad.add(i)
            value = NO_VALUE
        out_values.append(value)
    return out_values


def _choice_columns(grid: Grid, found: Found, out: TableRead, rows: list[list[str]],
                    order: list[int], col: Column, bad: set[int], skips: dict[int, set[int]],
                    lists: dict[str, list[tuple[int, str, str]]]) -> list[Any]:
    """Preferences spread over one column per choice (``第一志愿``, ...), row by row."""
    out_values: list[Any] = []
    assert out.preference_columns is not None
    for i, row in enumerate(rows):
        items: list[str] = []
        cols: list[int] = []
        for p in order:
            cell = row[p].strip() if p < len(row) else ""
            if p in skips.get(i, ()) or not cell:
                continue
            value, why = _cell(grid, found, out, replace(grid.where, row=out.numbers[i]), p,
                               col, cell, lists)
            if why:
                bad.add(i)
                continue
            items += value
            cols += [p] * len(value)
        out_values.append(tuple(items))
        out.preference_columns[i] = tuple(cols)
    return out_values


def _validate(table: Table, grid: Grid, found: Found, out: TableRead,
              values: list[dict[str, Any]], bad: set[int]) -> None:
    """Model objects for the parsed rows (``values[i]`` is ``out.rows[i]``'s, rows in ``bad``
    left out): all at once, or row by row when one is bad."""
    pending = [(i, v) for i, v in enumerate(values) if i not in bad] if bad else None
    if not values or pending == []:
        return
    try:
        made = _adapter(table.model).validate_python(
            values if pending is None else [v for _, v in pending])
    except ValidationError:
        made = None
    if made is not None:
        if pending is None:  # every row: in order, no loop in Python
            out.rows[:len(made)] = made
            return
        for (index, _), obj in zip(pending, made, strict=True):
            out.rows[index] = obj
        return
    if pending is None:
        pending = list(enumerate(values))
    for index, given in pending:
        try:
            out.rows[index] = table.model.model_validate(given)
        except ValidationError as e:
            row = grid.rows[out.row_index[index]]
            at_row = replace(grid.where, row=out.numbers[index])
            for err in e.errors():
                name = str(err["loc"][0]) if err["loc"] else "?"
                spot = out.columns.get(name)
                typed = row[spot[0]].strip() if spot is not None and spot[0] < len(row) else ""
                found.add(replace(error_detail(err, show(typed)),
                                  location=_cell_at(out, at_row, spot, name)))


def _few(rows: list[str]) -> tuple[str, ...]:
    """At most ten row numbers, then … when there are more."""
    return tuple(rows[:_SHOWN_ROWS]) + (("…",) if len(rows) > _SHOWN_ROWS else ())


def _append(out: TableRead, k: int, made: Any, number: int) -> None:
    out.rows.append(made)
    out.numbers.append(number)
    out.row_index.append(k)
    if out.preference_columns is not None:
        out.preference_columns.append(())


def _cell_at(out: TableRead, at_row: Location, spot: tuple[int, str] | None, name: str
             ) -> Location:
    if spot is None:
        return replace(at_row, field=name)
    k, typed = spot
    return replace(at_row, column=aliases.letter(k) if out.sheet else None, header=typed or None,
                   field=name)


def _cell(grid: Grid, found: Found, out: TableRead, at_row: Location, pos: int,
          col: Any, cell: str, lists: dict[str, list[tuple[int, str, str]]]
          ) -> tuple[Any, bool]:
    """One cell parsed for its column; (value, True) when an error was added."""
    head = out.headers[pos] if pos < len(out.headers) else col.name
    at = replace(at_row, column=aliases.letter(pos) if grid.sheet else None,
                 header=head or None, field=col.name)
    if grid.sheet and at_row.row is not None:
        key = (at_row.row, pos)
        if key in grid.formulas:
            formula = grid.formulas[key]
            found.add(msg("load.formula", at=at, formula=show(formula)))
            return None, True
        if key in grid.excel_errors:
            found.add(msg("load.excel_error", at=at, value=grid.excel_errors[key]))
            return None, True
    value, why = parse_cell(col, cell, line_breaks=grid.sheet)
    if why is not None:
        found.add(replace(why, location=at))
        return None, True
    if col.kind == "list" and cell:
        sep = loud_separator(cell)
        if sep is not None:
            lists.setdefault(col.name, []).append((at_row.row or 0, cell, sep))
    return value, False



def read_table(folder: Path, table: Table, found: Found, hashes: dict[str, str]
               ) -> TableRead | None:
    """One CSV file read on its own (not as part of a scenario), e.g. the rows a variant file
    adds: its messages go to ``found``, located in the file (the caller may nest them).

    Parameters
    ----------
    folder
        The folder ``table.file`` is relative to.
    table
        The table, with the file's name.
    found
        Receives the errors, warnings and notes.
    hashes
        Receives the file's SHA-256 under its name.

    Returns
    -------
    TableRead or None
        The table read (``rows`` holds None for a row with an error), or None when the file
        cannot be used.
    """
    grid = csv_grid(folder, table, found, hashes)
    return read_grid(table, grid, found) if grid is not None else None
