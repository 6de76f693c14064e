"""CSV tables: one table's text, or a sheet's rows of strings, validated into model rows.

:func:`read_table` reads one CSV file of a scenario folder; :func:`table_rows` validates rows of
strings (header first) from a CSV file or a workbook sheet into one model object per data row,
appending one located error line per problem (file or sheet, row as the user sees it, column,
the value as typed and what to do).
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..model.errors import error_reason
from .aliases import canonical_header
from .cells import MAX_FILE_BYTES, NO_VALUE, decode, parse_cell, read_input, show
from .schema import Table

__all__ = ["csv_rows", "quoting_error", "read_table", "table_rows"]


def csv_rows(text: str) -> Iterator[list[str]]:
    """The rows of CSV text (the lenient reader: see :func:`quoting_error`)."""
    yield from csv.reader(_io.StringIO(text, newline=""))


def read_table(folder: Path, table: Table, errors: list[str],
               hashes: dict[str, str], numbers: dict[str, list[int]] | None = None
               ) -> list[Any] | None:
    """Read one CSV into model objects (source order), appending located errors.

    Data rows are numbered as a spreadsheet shows them below the header, blank lines counted;
    ``numbers`` (if given) receives that number for each data row, for cross-table messages.
    """
    path = folder / table.file
    if not path.is_file():
        if table.required_file:
            errors.append(f"{table.file}: missing file; every scenario needs {table.file} "
                          f"in {folder}")
        return None if table.required_file else []
    raw = read_input(folder, table.file, MAX_FILE_BYTES, errors)
    if raw is None:
        return None
    hashes[table.file] = hashlib.sha256(raw).hexdigest()
    text = decode(raw, table.file, errors)
    if text is None:
        return None
    try:
        rows = list(csv_rows(text))
    except csv.Error as e:
        errors.append(f"{table.file}: not valid CSV ({e}); check quotes and separators")
        return None
    quoting = quoting_error(text)
    if quoting is not None and not any("\n" in c or "\r" in c for row in rows for c in row):
        # (a quote that swallows line breaks is named with its row by table_rows instead)
        errors.append(f"{table.file} {quoting}")
        return None
    header = next((r for r in rows if any(c.strip() for c in r)), [])
    broken = [c for c in header if "\n" in c or "\r" in c]
    if broken:
        errors.append(f"{table.file}: the header cell '{show(broken[0].strip())}' holds a line "
                      "break; remove it (a stray quote \" may have merged lines into the header)")
        return None
    kept = [(k, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
    if not kept:
        return table_rows(table, [], errors)
    shown = [k - kept[0][0] for k, _ in kept]  # the header is row 0; blank lines count
    if numbers is not None:
        numbers[table.name] = shown[1:]
    return table_rows(table, [r for _, r in kept], errors, shown)


def quoting_error(text: str) -> str | None:
    """Where the CSV's quotes break the format, which the lenient reader would paper over.

    A quote left open at the end swallows the rest of the file; ``"a"b`` silently becomes
    ``ab``. Strict parsing finds both; None when the quoting is sound.
    """
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as e:
        why = ("a quote (\") is opened but never closed" if "end of data" in str(e)
               else f"text follows a closing quote ({e})")
        return f"line {reader.line_num}: {why}; check the quotes in that line"
    return None


def table_rows(table: Table, rows: list[list[str]], errors: list[str],
               numbers: list[int] | None = None) -> list[Any] | None:
    """Validate one table given as rows of strings (header first) into model objects.

    CSV files and workbook sheets (:mod:`matcher.formats.workbook`) both come here.
    ``table.file`` names the source in messages; ``numbers[k]`` is the row number shown for
    ``rows[k]`` (default: the header is 0 and data rows count from 1 once blank lines are
    dropped). Headers may use the aliases of :mod:`matcher.formats.aliases`. The result keeps
    one entry per data row (None for a row with an error) so that row ``k`` of the table is
    ``numbers[k + 1]``.
    """
    if numbers is None:
        rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are not rows
        numbers = list(range(len(rows)))
    if not rows:
        errors.append(f"{table.file}: the file is empty; it needs a header row and data rows")
        return None
    typed = [h.strip().lstrip("\ufeff").strip() for h in rows[0]]  # a doubled BOM
    header, clashes = canonical_header([c.name for c in table.columns], typed)
    missing = [c.name for c in table.columns if c.required and c.name not in header]
    if missing and len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        errors.append(f"{table.file}: the columns are separated by {sep}, not commas; save it "
                      "as CSV UTF-8 (comma-separated)")
        return None
    for name in missing:
        errors.append(f"{table.file}: missing column '{name}'; the header must name "
                      + ", ".join(c.name for c in table.columns if c.required))
    dup = sorted(h for h, n in Counter(typed).items() if h and n > 1)  # linear: wide files
    for name in dup:
        errors.append(f"{table.file}: column '{show(name)}' appears twice in the header; "
                      "keep one")
    errors.extend(f"{table.file}: {clash}" for clash in clashes)
    if missing or dup or clashes:
        return None
    where = {c.name: header.index(c.name) for c in table.columns if c.name in header}
    data = rows[1:]
    if not data and table.required_file:
        errors.append(f"{table.file}: no data rows; add at least one row under the header")
        return None
    out: list[Any] = []
    for r, row in zip(numbers[1:], data, strict=True):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            errors.append(f"{table.file} row {r}: {len(row)} cells but the header has "
                          f"{len(header)}; remove the extra cells or quote cells with commas")
            out.append(None)
            continue
        values: dict[str, Any] = {}
        ok = True
        known = set(where.values())
        broken: set[int] = set()
        for pos, text in enumerate(row):  # a line break in any cell may hide merged rows
            if "\n" not in text and "\r" not in text:
                continue
            broken.add(pos)
            ok = False
            col_name = header[pos] if pos < len(header) and header[pos] else f"column {pos + 1}"
            shown = f"'{show(text.strip())}' " if pos in known else ""  # never echo notes
            errors.append(f"{table.file} row {r}, {show(col_name)}: {shown}holds a line "
                          "break; remove it (a stray quote \" may have merged rows into this "
                          "cell)")
        for col in table.columns:
            k = where.get(col.name)
            if k in broken:
                continue
            cell = row[k].strip() if k is not None and k < len(row) else ""
            value, why = parse_cell(col, cell)
            if why is not None:
                errors.append(f"{table.file} row {r}, {col.name}: {why}")
                ok = False
            elif value is not NO_VALUE:
                values[col.name] = value
        if not ok:
            out.append(None)  # keep row numbering aligned, as for model errors below
            continue
        try:
            out.append(table.model.model_validate(values))
        except ValidationError as e:
            for err in e.errors():
                col_name = str(err["loc"][0]) if err["loc"] else "?"
                k = where.get(col_name)  # show the cell as typed, not as parsed
                shown = row[k].strip() if k is not None and k < len(row) else ""
                errors.append(f"{table.file} row {r}, {col_name}: '{show(shown)}' "
                              f"{error_reason(err)}")
            out.append(None)  # keep row numbering aligned; dropped before building the problem
    return out
