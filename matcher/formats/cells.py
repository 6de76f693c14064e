"""Input bytes and cells: reading one input file safely, decoding it, and parsing its cells.

An input file is read only when it is a regular file inside the scenario folder and within its
size limit (:func:`read_input`). Its bytes are decoded with confidence (:func:`decode`): UTF-8
with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), or GB18030 as Chinese Excel
saves CSV files, but only when the decoded text is plausible Chinese; a Latin-1 file, which
GB18030 would turn into rare characters without complaint, is refused with advice.

A cell is refused when it holds a line break, an invisible character or a spreadsheet formula
(:func:`cell_problem`), and parsed by its column's kind (:func:`parse_cell`). Numbers are read
strictly (:func:`parse_number`): the digits 0-9, a sign, a decimal point and an exponent; a
thousands separator (``1,000``), a decimal comma (``1,5``), an underscore (``1_0``), digits of
another script (``١٢``, ``１２``), NaN and infinity are errors naming the cell. Lists are separated
by ``;``, ``；``, ``、``, ``,``, ``，`` or line breaks (:func:`split_list`). Every message is a
:class:`~matcher.messages.Message` without location: the caller knows the cell.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any

from ..messages import Location, Message, msg
from .schema import Column

__all__ = ["LIST_SEPARATORS", "MAX_CELL_CHARS", "MAX_FILE_BYTES", "MAX_SHOWN", "MAX_YAML_BYTES",
           "NO_VALUE", "QUIET_SEPARATORS", "NumberError", "cell_problem", "decode",
           "loud_separator", "nfc", "parse_cell", "parse_number", "plausible_gb18030",
           "read_input", "show", "split_list"]

LIST_SEPARATORS = (";", "；", "、", ",", "，", "\n")
"""What separates the items of a list cell (a line break: Alt+Enter inside an Excel cell)."""
QUIET_SEPARATORS = (";", "；", "、")
"""The separators of the format; a list split at any other one is reported in a note."""
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest input table read (64 MiB, about a million student rows); larger files are refused."""
MAX_YAML_BYTES = 1024 * 1024
"""Largest ``scenario.yaml`` read (1 MiB: it holds settings, never data)."""
MAX_CELL_CHARS = 1000
"""Longest cell read in a column matcher uses (ids, codes, lists of choices)."""
MAX_SHOWN = 40
"""Longest cell value quoted in a message (longer ones are cut with …)."""


def read_input(folder: Path, file: str, limit: int, errors: list[Message]) -> bytes | None:
    """The bytes of ``folder/file`` if it is a regular file inside the folder within ``limit``.

    Parameters
    ----------
    folder
        The scenario folder.
    file
        The file's name inside it.
    limit
        The largest size read, in bytes.
    errors
        Receives a located message when the file cannot be read.

    Returns
    -------
    bytes or None
        The content, or None (a message was added).
    """
    path = folder / file
    at = Location(file=file)
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        errors.append(msg("load.link_outside", at=at))
        return None
    try:
        size = path.stat().st_size
        if size > limit:
            errors.append(msg("load.file_too_large", at=at, size=f"{size / 2**20:.1f}",
                              limit=f"{limit / 2**20:g}"))
            return None
        return path.read_bytes()
    except OSError as e:
        errors.append(msg("load.cannot_read", at=at, reason=str(e.strerror or e)))
        return None


def decode(raw: bytes, file: str, errors: list[Message], notes: list[Message] | None = None
           ) -> str | None:
    """The text of an input file, decoded with confidence, or None (a message was added).

    UTF-8 (with or without BOM) first; UTF-16 with a BOM; else GB18030 as saved by Chinese
    Excel, when :func:`plausible_gb18030` finds the text plausible (a note says so). A binary
    file (an .xlsx renamed to .csv, an image), a file that mixes UTF-8 lines with lines in
    another encoding, and one that is neither UTF-8 nor plausible GB18030 (Latin-1, say) are
    refused: decoding them anyway would garble names silently.

    Parameters
    ----------
    raw
        The file's bytes.
    file
        Its name (the location of messages).
    errors
        Receives the error when the file is refused.
    notes
        Receives ``load.read_as_gb18030`` when the file was read as GB18030.
    """
    at = Location(file=file)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            errors.append(msg("load.encoding", at=at, byte=e.start))
            return None
    if raw[:4] == b"PK\x03\x04" or b"\x00" in raw:
        errors.append(msg("load.zip_not_csv" if raw[:2] == b"PK" else "load.binary_not_csv",
                          at=at))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    bad_line = raw.count(b"\n", 0, utf8_error.start) + 1
    for chunk in raw.split(b"\n"):
        if chunk.isascii():
            continue
        try:
            chunk.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
        errors.append(msg("load.mixed_encodings", at=Location(file=file, line=bad_line)))
        return None
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        errors.append(msg("load.encoding", at=Location(file=file, line=bad_line),
                          byte=utf8_error.start))
        return None
    odd = plausible_gb18030(text)
    if odd is not None:
        sample, line = odd
        errors.append(msg("load.encoding_unsure", at=Location(file=file, line=line),
                          sample=sample))
        return None
    if notes is not None:
        notes.append(msg("load.read_as_gb18030", severity="note", at=at))
    return text


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def plausible_gb18030(text: str) -> tuple[str, int] | None:
    """None when ``text`` (decoded as GB18030) reads like Chinese; else an odd sample and line.

    Chinese Excel's GB18030 (GBK) files hold nearly only characters of the common GB2312 set.
    A Latin-1 file decoded as GB18030 turns each accented letter and the letter after it into
    one rare character standing between Latin letters (``Müller`` becomes ``M黰ller``). A
    character is odd when it is outside GB2312 and is not a Han character inside Chinese text
    (rare name characters such as 堃 are fine there); the text is implausible when odd
    characters are a tenth or more of its non-ASCII characters.

    Parameters
    ----------
    text
        The decoded text.

    Returns
    -------
    tuple of (str, int) or None
        A few characters around the first odd one, and its line (1-based); None when plausible.
    """
    distinct = {c for c in text if ord(c) > 127}
    if not distinct:
        return None
    outside: set[str] = set()
    for c in distinct:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            outside.add(c)
    if not outside:
        return None
    non_ascii = odd = 0
    first = -1
    for k, c in enumerate(text):
        if ord(c) <= 127:
            continue
        non_ascii += 1
        if c not in outside:
            continue
        before = text[k - 1] if k else " "
        after = text[k + 1] if k + 1 < len(text) else " "
        if _HAN.match(c) and not ((before.isascii() and before.isalnum())
                                  or (after.isascii() and after.isalnum())):
            continue
        odd += 1
        if first < 0:
            first = k
    if odd == 0 or odd * 10 < non_ascii:
        return None
    sample = show(text[max(first - 3, 0):first + 4].splitlines()[0] if text[first] != "\n"
                  else text[first])
    return sample, text.count("\n", 0, first) + 1


_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
_FORMULA_START = ("=", "@")


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


def cell_problem(cell: str, *, line_breaks: bool = False) -> Message | None:
    """Why a (stripped) cell cannot be taken as typed, or None when it is fine.

    Parameters
    ----------
    cell
        The cell's text.
    line_breaks
        Whether a line break is allowed (a list cell of a workbook: Alt+Enter separates items).

    Returns
    -------
    Message or None
        ``load.line_break``, ``load.invisible_character``, ``load.formula_text`` or
        ``load.cell_too_long`` (without location), or None.
    """
    if len(cell) > MAX_CELL_CHARS:
        return msg("load.cell_too_long", length=len(cell), limit=MAX_CELL_CHARS)
    if not (cell.isascii() and cell.isprintable()):
        for c in cell:
            cat = unicodedata.category(c)
            if c in "\r\n" or cat in ("Zl", "Zp"):
                if line_breaks:
                    continue
                return msg("load.line_break", value=show(cell))
            if cat in _INVISIBLE:
                return msg("load.invisible_character", value=show(cell),
                           code_point=f"U+{ord(c):04X}",
                           name=unicodedata.name(c, "control character"))
    if cell.startswith(_FORMULA_START):
        return msg("load.formula_text", value=show(cell))
    return None


_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMMA_NUMBER = re.compile(r"[+-]?[0-9][0-9,]*(?:\.[0-9]*)?")
_UNDERSCORE_NUMBER = re.compile(r"[+-]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?")
_NOT_FINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity",
               "-infinity"}


class NumberError(ValueError):
    """A cell that is not a plain number; ``detail`` says why (a message without location)."""

    def __init__(self, detail: Message):
        super().__init__(detail.text("en"))
        self.detail = detail


def parse_number(text: str, kind: str) -> float | int:
    """A cell as a whole number (``kind="int"``) or a number (``"float"``), read strictly.

    Parameters
    ----------
    text
        The cell's text (stripped).
    kind
        ``int`` or ``float``.

    Returns
    -------
    int or float
        The number; a whole number may be written ``3``, ``3.0`` or ``3e0``.

    Raises
    ------
    NumberError
        With ``load.number_comma``, ``load.number_underscore``, ``load.non_ascii_digits``,
        ``load.not_finite``, ``load.not_a_number`` or ``load.not_a_whole_number``.
    """
    t = text.strip()
    shown = show(t)
    if not _PLAIN_NUMBER.fullmatch(t):
        if any(c.isdigit() and not c.isascii() for c in t):
            raise NumberError(msg("load.non_ascii_digits", value=shown))
        if "," in t and _COMMA_NUMBER.fullmatch(t):
            raise NumberError(msg("load.number_comma", value=shown))
        if "_" in t and _UNDERSCORE_NUMBER.fullmatch(t):
            raise NumberError(msg("load.number_underscore", value=shown))
        if t.lower() in _NOT_FINITE and kind != "int":
            raise NumberError(msg("load.not_finite", value=shown))
        raise NumberError(msg("load.not_a_whole_number" if kind == "int"
                              else "load.not_a_number", value=shown))
    if kind == "int":
        if "." not in t and "e" not in t and "E" not in t:
            return int(t)
        f = float(t)
        if math.isfinite(f) and f == int(f):
            return int(f)
        raise NumberError(msg("load.not_a_whole_number", value=shown))
    f = float(t)
    if not math.isfinite(f):  # 1e999 overflows to infinity
        raise NumberError(msg("load.too_large", value=shown, maximum="1e308"))
    return f


NO_VALUE = object()
"""What :func:`parse_cell` gives for an empty optional cell (the model's default applies)."""


def nfc(text: str) -> str:
    """``text`` in Unicode normal form C (one code point for é: ids typed on different systems
    compare equal); ASCII text is returned as it is."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def parse_cell(col: Column, cell: str, *, line_breaks: bool = False
               ) -> tuple[Any, Message | None]:
    """One cell's value for its column, or why it is refused.

    Parameters
    ----------
    col
        The column (its kind decides the parsing).
    cell
        The cell's text, stripped.
    line_breaks
        Whether a line break separates the items of a list cell (a workbook's Alt+Enter).

    Returns
    -------
    (value, None)
        The parsed value (:data:`NO_VALUE` for an empty optional cell); texts and list items
        in Unicode normal form C.
    (None, message)
        Why the cell is refused (a message without location).
    """
    why = cell_problem(cell, line_breaks=line_breaks and col.kind == "list")
    if why is not None:
        return None, why
    if col.kind == "list":
        return tuple(split_list(nfc(cell))), None
    if cell == "":
        return (None, msg("load.empty_cell")) if col.kind in ("str", "int", "float") else (
            NO_VALUE, None)
    if col.kind in ("str", "opt_str"):
        return nfc(cell), None
    if col.kind == "opt_share" and cell.endswith(("%", "％")):
        # a percentage (30%): the number before the sign, read as strictly as any number
        try:
            return parse_number(cell[:-1].strip(), "float") / 100, None
        except NumberError as e:
            return None, e.detail
    try:
        return parse_number(cell, "int" if col.kind.endswith("int") else "float"), None
    except NumberError as e:
        return None, e.detail


_SPLIT = re.compile("[;；、,，\n\r]")


def split_list(text: str) -> list[str]:
    """Items of a list cell: separated by :data:`LIST_SEPARATORS`, trimmed, empties dropped."""
    if not _SPLIT.search(text):
        t = text.strip()
        return [t] if t else []
    return [x.strip() for x in _SPLIT.split(text) if x.strip()]


def loud_separator(text: str) -> str | None:
    """The first separator of a list cell that is not one of :data:`QUIET_SEPARATORS`.

    Parameters
    ----------
    text
        A list cell.

    Returns
    -------
    str or None
        ``,``, ``，`` or ``\\n`` when the cell uses one between items (a note says how the
        cell was read), else None.
    """
    for sep in (",", "，", "\n"):
        if sep in text:
            return sep
    return None

