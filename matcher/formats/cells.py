"""Input bytes and cells: reading one input file safely, decoding it, and parsing its cells.

An input file is read only when it is a regular file inside the scenario folder and within its
size limit (:func:`read_input`); its bytes are decoded as UTF-8 (with or without BOM) or as
GB18030 as saved by Chinese Excel (:func:`decode`). A cell is refused when it holds a line
break, an invisible character or a spreadsheet formula (:func:`cell_problem`), and parsed by its
column's kind (:func:`parse_cell`): numbers (:func:`parse_number`), lists separated by ``;``,
``；`` or ``、`` (:func:`split_list`). :func:`show` makes any value fit for a one-line message.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import Any

from .schema import Column

__all__ = ["LIST_SEPARATORS", "MAX_FILE_BYTES", "MAX_SHOWN", "MAX_YAML_BYTES", "NO_VALUE",
           "cell_problem", "decode", "parse_cell", "parse_number", "read_input", "show",
           "split_list"]

LIST_SEPARATORS = (";", "；", "、")
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest input table read (64 MiB, about a million student rows); larger files are refused."""
MAX_YAML_BYTES = 1024 * 1024
"""Largest ``scenario.yaml`` read (1 MiB: it holds settings, never data)."""


def read_input(folder: Path, file: str, limit: int, errors: list[str]) -> bytes | None:
    """The bytes of ``folder/file`` if it is a regular file inside the folder within ``limit``."""
    path = folder / file
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        errors.append(f"{file}: links to a file outside the scenario folder; copy the file "
                      "into the folder instead of linking to it")
        return None
    size = path.stat().st_size
    if size > limit:
        errors.append(f"{file}: {size / 2**20:.1f} MiB, over the {limit / 2**20:g} MiB limit "
                      "for one input file; check that it is the right file, or split the "
                      "scenario")
        return None
    try:
        return path.read_bytes()
    except OSError as e:
        errors.append(f"{file}: cannot be read ({e.strerror}); check its permissions")
        return None


def decode(raw: bytes, file: str, errors: list[str]) -> str | None:
    """UTF-8 (with or without BOM), else GB18030 as saved by Chinese Excel; else an error.

    A binary file (an .xlsx renamed to .csv, an image) and a file that mixes UTF-8 lines with
    lines in another encoding are refused: decoding the latter as GB18030 would garble the
    UTF-8 part silently.
    """
    if raw[:4] == b"PK\x03\x04" or b"\x00" in raw:
        kind = "a zip or Excel file" if raw[:2] == b"PK" else "binary data"
        errors.append(f"{file}: holds {kind}, not CSV text; open it in your spreadsheet "
                      "program and save it as CSV UTF-8")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    lines = raw.split(b"\n")
    utf8_lines = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8-sig")
            utf8_lines += 1
        except UnicodeDecodeError:
            pass
    bad_line = raw.count(b"\n", 0, utf8_error.start) + 1
    if utf8_lines:
        errors.append(f"{file} line {bad_line}: not UTF-8 although other lines are (the file "
                      "mixes encodings, or was cut off inside a character); save the whole "
                      "file again as CSV UTF-8")
        return None
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        errors.append(f"{file} line {bad_line}: not readable as UTF-8 or GB18030 text (byte "
                      f"{utf8_error.start}); save it as CSV UTF-8 from your spreadsheet program")
        return None


_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
_FORMULA_START = ("=", "@")
MAX_SHOWN = 40


def show(value: object) -> str:
    """A cell value fit for a one-line message: invisible characters escaped, long ones cut."""
    parts = [c if unicodedata.category(c) not in _INVISIBLE else ascii(c)[1:-1]
             for c in str(value)]
    if sum(map(len, parts)) <= MAX_SHOWN:
        return "".join(parts)
    kept = ""
    for part in parts:  # cut between characters, never inside an escape such as \n
        if len(kept) + len(part) > MAX_SHOWN - 1:
            break
        kept += part
    return kept + "…"


def cell_problem(cell: str) -> str | None:
    """Why a (stripped) cell cannot be taken as typed, or None when it is fine."""
    for c in cell if not (cell.isascii() and cell.isprintable()) else "":  # fast path
        cat = unicodedata.category(c)
        if c in "\r\n" or cat in ("Zl", "Zp"):
            return ("holds a line break; remove it (a stray quote \" may have merged rows "
                    "into this cell)")
        if cat in _INVISIBLE:
            name = unicodedata.name(c, "control character")
            return (f"holds an invisible character U+{ord(c):04X} ({name}); retype the cell "
                    "(it may come from pasting two files together or from a web page)")
    if cell.startswith(_FORMULA_START):
        return ("is a spreadsheet formula, not a value; paste the values instead (Paste "
                "Special > Values) and save again")
    return None


def parse_number(text: str, kind: str) -> float | int:
    """Parse a cell as int or float; raise ValueError with a user-facing reason."""
    t = text.strip().replace(",", "") if kind == "int" else text.strip()
    if kind == "int":
        try:
            return int(t)
        except ValueError:
            pass
        try:
            f = float(t)
        except ValueError:
            raise ValueError("not a whole number") from None
        if math.isfinite(f) and f == int(f):
            return int(f)
        raise ValueError("not a whole number")
    try:
        f = float(t)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(f):
        raise ValueError("not a finite number")
    return f


NO_VALUE = object()
"""What :func:`parse_cell` gives for an empty optional cell (the model's default applies)."""


def parse_cell(col: Column, cell: str) -> tuple[Any, str | None]:
    """One cell's value for its column, or why it is refused.

    Returns
    -------
    (value, None)
        The parsed value (:data:`NO_VALUE` for an empty optional cell).
    (None, reason)
        A reason fit to follow ``file row r, column:`` in a message.
    """
    why = cell_problem(cell)
    if why is not None:
        return None, f"'{show(cell)}' {why}"
    if col.kind == "list":
        return tuple(split_list(cell)), None
    if cell == "":
        return (None, "empty; give a value") if col.kind in ("str", "int", "float") else (
            NO_VALUE, None)
    if col.kind in ("str", "opt_str"):
        return cell, None
    try:
        return parse_number(cell, "int" if col.kind.endswith("int") else "float"), None
    except ValueError as e:
        return None, f"'{show(cell)}' is {e}; give a plain number"


def split_list(text: str) -> list[str]:
    """Items of a list cell: separated by ``;``, ``；`` or ``、``, trimmed, empties dropped."""
    for sep in LIST_SEPARATORS[1:]:
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [x.strip() for x in text.split(LIST_SEPARATORS[0]) if x.strip()]

