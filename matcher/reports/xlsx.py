"""``results.xlsx``: the result folder's workbook, and saving workbooks reproducibly.

:func:`write_results_xlsx` writes ``results.xlsx`` into a result folder (one of the writers of
:func:`matcher.reports.folder.write_result`). Text cells starting with a character that makes a
spreadsheet read a formula are escaped with a leading ``'`` (see
:func:`matcher.formats.escape.escape_cell`); numbers (including negative ones) stay numbers.
:func:`save_workbook` saves any openpyxl workbook byte-for-byte reproducibly.
"""

from __future__ import annotations

import datetime as _dt
import io as _io
import re
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats.escape import escape_cell
from ..messages import Lang

if TYPE_CHECKING:
    from ..model import Placement, Problem, Result

__all__ = ["Sheet", "results_sheets", "save_workbook", "write_results_xlsx"]


_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save_workbook(book: Any, path: Path) -> None:
    """Save an openpyxl workbook byte-for-byte reproducibly (fixed timestamps inside)."""
    stamp = _dt.datetime(*_FIXED_TIME)
    book.properties.created = stamp
    book.properties.modified = stamp
    buffer = _io.BytesIO()
    book.save(buffer)
    out = _io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                content = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            dst.writestr(fixed, content)
    path.write_bytes(out.getvalue())


def _add_sheet(book: Any, title: str, header: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> None:
    """One sheet: bold frozen header, filter, column widths from the content."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    body = [list(r) for r in rows]
    ws = book.create_sheet(title)
    sample = body[:2000]  # column widths from the first rows are good enough
    widths = [max([_width(h), *(_width(r[k]) for r in sample)]) for k, h in enumerate(header)]
    for k, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(k)].width = min(max(w + 2, 8), 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(body) + 1}"
    bold = Font(bold=True)

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", escape_cell(value))
        if not text.startswith("#"):  # escaped text is never read as a formula
            return text
        c = WriteOnlyCell(ws, value=text)  # "#N/A" would become an error cell
        c.data_type = "s"
        return c

    head = []
    for h in header:
        c = WriteOnlyCell(ws, value=h)
        c.font = bold
        head.append(c)
    ws.append(head)
    for r in body:
        ws.append([cell(v) for v in r])


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    # CJK characters are about two Latin characters wide
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_results_xlsx(result: Result, problem: Problem | None, folder: Path, *,
                       lang: Lang = "en") -> None:
    """Write ``results.xlsx`` into a (temporary) result folder.

    Sheets: ``assignments`` (the CSV's columns, with university, discipline and city when the
    problem is given), ``unassigned`` (with reasons), ``by_workstation_term`` (one row per
    workstation, term and student: the roster per workstation by term), ``by_mentor``,
    ``by_supervisor`` and ``summary`` (the figures of ``summary.json``).

    Parameters
    ----------
    result
        The solver's result.
    problem
        The problem solved; without it the rosters list blocks of terms (``start..end``)
        instead of one row per term, and the student details are left out.
    folder
        Where to write.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, header, rows in results_sheets(result, problem, lang):
        _add_sheet(book, title, header, rows)
    save_workbook(book, folder / "results.xlsx")


Sheet = tuple[str, list[str], list[list[Any]]]


def results_sheets(result: Result, problem: Problem | None, lang: Lang = "en") -> list[Sheet]:
    """The content of ``results.xlsx``: ``(title, header, rows)`` per sheet, in order."""
    students = {s.student_id: s for s in problem.students} if problem else {}
    stations = {w.workstation_id: w for w in problem.workstations} if problem else {}
    sups = {s.supervisor_id: s for s in problem.supervisors} if problem else {}

    def who(sid: str) -> list[Any]:
        s = students.get(sid)
        return [s.university_id, s.discipline] if s else [None, None]

    def terms(p: Placement) -> list[str]:
        if problem is None:
            return [p.start_term if p.start_term == p.end_term
                    else f"{p.start_term}..{p.end_term}"]
        k0, k1 = problem.term_index[p.start_term], problem.term_index[p.end_term]
        return list(problem.terms[k0:k1 + 1])

    order = (problem.term_index if problem else {})
    placements = list(result.placements)
    base = ["student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
            "end_term", "preference_rank"]
    detail = ["university_id", "discipline", "city"] if problem else []
    assignments = [[p.student_id, p.workstation_id, p.mentor_id, p.supervisor_id, p.start_term,
                    p.end_term, p.preference_rank]
                   + ([*who(p.student_id), _city(stations, p.workstation_id)] if problem else [])
                   for p in placements]
    unassigned_header = ["student_id", *(["university_id", "discipline", "preferences"]
                                         if problem else []), "reason"]
    unassigned = [[sid, *([*who(sid), ";".join(students[sid].preferences)]
                          if problem and sid in students else
                          ([None, None, None] if problem else [])), reason]
                  for sid, reason in result.reasons(lang)]
    by_station = sorted(
        ([p.workstation_id, _city(stations, p.workstation_id), t, p.student_id,
          *who(p.student_id), p.mentor_id, p.supervisor_id]
         for p in placements for t in terms(p)),
        key=lambda r: (r[0], order.get(r[2], 0), r[2], r[3]))
    by_mentor = sorted(
        ([p.mentor_id, p.workstation_id, p.student_id, *who(p.student_id), p.supervisor_id,
          p.start_term, p.end_term, len(terms(p)) if problem else None]
         for p in placements),
        key=lambda r: (r[0], order.get(r[6], 0), r[2]))
    by_supervisor = sorted(
        ([p.supervisor_id, sups[p.supervisor_id].university_id if p.supervisor_id in sups
          else None, p.student_id, *who(p.student_id)[1:], p.workstation_id, p.mentor_id,
          p.start_term, p.end_term] for p in placements),
        key=lambda r: (r[0], r[2]))
    summary: list[list[Any]] = [["scenario", problem.name if problem else None]]
    for key, value in result.summary().items():
        if key == "stats":
            for k, v in value.items():
                summary.append([f"stats.{k}", _plain(v)])
        else:
            summary.append([key, _plain(value)])
    return [
        ("assignments", base + detail, assignments),
        ("unassigned", unassigned_header, unassigned),
        ("by_workstation_term", ["workstation_id", "city", "term", "student_id",
                                 "university_id", "discipline", "mentor_id", "supervisor_id"],
         by_station),
        ("by_mentor", ["mentor_id", "workstation_id", "student_id", "university_id",
                       "discipline", "supervisor_id", "start_term", "end_term", "terms"],
         by_mentor),
        ("by_supervisor", ["supervisor_id", "university_id", "student_id", "discipline",
                           "workstation_id", "mentor_id", "start_term", "end_term"],
         by_supervisor),
        ("summary", ["key", "value"], summary),
    ]


def _city(stations: dict[str, Any], wid: str) -> str | None:
    w = stations.get(wid)
    return w.city if w is not None else None


def _plain(value: Any) -> Any:
    """A summary value as one cell: numbers and text as they are, lists joined, None empty."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return value

