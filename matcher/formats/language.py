"""The language a scenario is written in, from its names: Chinese headers or sheet names mean zh.

:func:`scenario_language` looks only at names, never at data (a student's Chinese name says
nothing about the office's language if its headers are English): the header line of each table
of a folder, and the sheet names and first rows of a workbook. It reads as little as it can (the
first line of a CSV; of a workbook, its sheet list, the first row of each sheet and the shared
strings those rows use), so that a 100,000-student workbook costs milliseconds, and it never
raises: a file it cannot read says nothing about the language.

The loader records the answer as :attr:`matcher.model.Problem.language`; outputs are written in
that language unless the user asks for another (``--lang``), see
:func:`matcher.messages.choose_lang`.
"""

from __future__ import annotations

import html
import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from ..messages import Lang, looks_chinese
from .schema import TABLES

__all__ = ["scenario_language"]

_HEAD_BYTES = 64 * 1024  # a header line is far shorter; the rest of the file is data
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_FIRST_ROW = re.compile(rb"<(?:\w+:)?row\b.*?</(?:\w+:)?row>", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_TYPE = re.compile(rb'\bt="(\w+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>(\d+)</")
_TEXT = re.compile(rb"<(?:\w+:)?t\b[^>]*>([^<]*)</")


def scenario_language(path: str | os.PathLike[str]) -> Lang | None:
    """``"zh"`` when the scenario's headers or sheet names are Chinese, else None.

    Parameters
    ----------
    path
        A scenario folder (CSV tables and ``scenario.yaml``) or an ``.xlsx`` workbook (or a
        folder holding one).

    Returns
    -------
    "zh" or None
        None also when nothing could be read: the caller falls back to the locale.
    """
    path = Path(path)
    try:
        if path.is_file():
            return _workbook_language(path)
        if not path.is_dir():
            return None
        names = []
        for table in TABLES:
            head = _first_line(path / table.file)
            if head is not None:
                names.append(head)
        if names:
            return "zh" if looks_chinese(names) else None
        books = sorted(path.glob("*.xlsx"))
        return _workbook_language(books[0]) if len(books) == 1 else None
    except (OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError, KeyError):
        return None


def _first_line(file: Path) -> str | None:
    """The first non-blank line of a text file (UTF-8 or GB18030), or None."""
    if not file.is_file():
        return None
    with file.open("rb") as f:
        raw = f.read(_HEAD_BYTES)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError as e:
            if e.start >= len(raw) - 4:  # cut inside the last character: decode what is whole
                text = raw[:e.start].decode(encoding, errors="ignore")
                break
    else:
        return None
    return next((line for line in text.splitlines() if line.strip()), None)


def _workbook_language(book: Path) -> Lang | None:
    """``"zh"`` when a workbook's sheet names or the first row of a sheet are Chinese."""
    if book.suffix.lower() != ".xlsx":
        return None
    with zipfile.ZipFile(book) as z:
        wb = ElementTree.fromstring(z.read("xl/workbook.xml"))
        sheets = [(s.get("name") or "", s.get(_REL) or "") for s in wb.iter(f"{_NS}sheet")]
        if looks_chinese(name for name, _ in sheets):
            return "zh"
        targets = _sheet_targets(z)
        wanted: set[int] = set()
        inline: list[str] = []
        for _, rid in sheets:
            target = targets.get(rid)
            if target is None or target not in z.namelist():
                continue
            with z.open(target) as f:
                head = f.read(_HEAD_BYTES)
            row = _FIRST_ROW.search(head)
            if row is None:
                continue
            for cell in _CELL.finditer(row.group(0)):
                kind = _TYPE.search(cell.group(1))
                body = cell.group(2) or b""
                if kind is not None and kind.group(1) == b"s":
                    index = _VALUE.search(body)
                    if index is not None:
                        wanted.add(int(index.group(1)))
                elif kind is not None and kind.group(1) == b"inlineStr":
                    inline.append(html.unescape(b"".join(_TEXT.findall(body)).decode("utf-8")))
        if looks_chinese(inline):
            return "zh"
        return "zh" if looks_chinese(_shared_strings(z, wanted)) else None


def _sheet_targets(z: zipfile.ZipFile) -> dict[str, str]:
    """Relationship id -> the sheet's part name inside the archive."""
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    out = {}
    for r in rels:
        target = r.get("Target") or ""
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        out[r.get("Id") or ""] = target
    return out


def _shared_strings(z: zipfile.ZipFile, wanted: set[int]) -> list[str]:
    """The shared strings at the ``wanted`` indices (read up to the last one only)."""
    if not wanted or "xl/sharedStrings.xml" not in z.namelist():
        return []
    last = max(wanted)
    out = []
    with z.open("xl/sharedStrings.xml") as f:
        k = 0
        for _, el in ElementTree.iterparse(f, events=("end",)):
            if el.tag != f"{_NS}si":
                continue
            if k in wanted:
                out.append("".join(t.text or "" for t in el.iter(f"{_NS}t")))
            el.clear()
            k += 1
            if k > last:
                break
    return out
