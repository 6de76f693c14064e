"""``results.xlsx``: the result for a graduate office, in Chinese or English.

:func:`write_results_xlsx` writes ``results.xlsx`` into a result folder (one of the writers of
:func:`matcher.reports.folder.write_result`), with :mod:`matcher.reports.sheetwriter` (fast
enough for 100,000 students in a few seconds). The sheets, named and headed in the chosen
language (``xlsx.po``):

* **summary** (汇总): the status in words, exactly what is proven, the figures (shares as
  percentages), the rank distribution and placement by university; solver internals stay in
  ``summary.json``;
* **assignments** (分配结果): one row per placed student with university, discipline,
  workstation, city, mentor, supervisor, terms and the rank of the choice, and the clerk's own
  columns of the input carried through (names, notes);
* **unassigned** (未分配学生): every unassigned student with their choices and the reason;
* **fairness** (公平性, issue 29): every blocking pair (student, its placement, the workstation
  it would rather have), the rank distribution by university and by discipline, and the group
  quotas' targets against their shares (:mod:`matcher.reports.fairness_figures`);
* **rosters**: one printable roster per workstation, by term, with mentor and supervisor: one
  sheet per workstation when there are at most :data:`MAX_ROSTER_SHEETS`, else all on one sheet
  with a page break before each workstation.

Every sheet has a frozen, filterable header, column widths from the content, and is set up to
print (A4, fit to width, header row on every page, page numbers). Text cells starting with a
character that makes a spreadsheet read a formula are escaped with a leading ``'``
(:func:`matcher.formats.escape.escape_cell`); numbers stay numbers. :func:`save_workbook` saves
an openpyxl workbook byte-for-byte reproducibly (for tools that build workbooks with openpyxl).
"""

from __future__ import annotations

import datetime as _dt
import io as _io
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..formats.escape import escape_cell
from ..messages import LIST_SEPARATOR, Lang, label
from ..model import Status
from ..model.result import reason_text
from .fairness_figures import (
    BLOCKING_MAX_STUDENTS,
    blocking_rows,
    figures,
    outcome_labels,
    quota_rows,
)
from .sheetwriter import Book, Sheet
from .words import pair_weight_used, proof, rank_objective_text, status_word

if TYPE_CHECKING:
    from ..model import Placement, Problem, Result

__all__ = ["MAX_ROSTER_SHEETS", "save_workbook", "write_results_xlsx"]

MAX_ROSTER_SHEETS = 60
"""Up to this many workstations with students, each gets its own roster sheet; above, all
rosters share one sheet (a province has thousands of workstations)."""

_FIXED_TIME = (2000, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
_FONT = {"zh": "等线", "en": "Calibri"}  # Excel's own default font in each language


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


def _carried(problem: Problem | None, table: str) -> list[tuple[str, dict[str, str]]]:
    """The clerk's own columns of ``table`` (header, values by id), in their order."""
    if problem is None:
        return []
    return [(c.header, c.by_id()) for c in problem.carried if c.table == table]


class _Workbook:
    """What the sheets share: the language, the problem's lookups, the header style."""

    def __init__(self, result: Result, problem: Problem | None, lang: Lang):
        self.result, self.problem, self.lang = result, problem, lang
        self.students = {s.student_id: s for s in problem.students} if problem else {}
        self.stations = {w.workstation_id: w for w in problem.workstations} if problem else {}
        self.unis = {u.university_id: u for u in problem.universities} if problem else {}
        self.student_cols = _carried(problem, "students")
        self.station_cols = _carried(problem, "workstations")

    def label(self, code: str, **values: Any) -> str:
        return label(code, self.lang, **values)

    def header(self, sheet: Sheet, codes: Sequence[str], extra: Sequence[str] = (),
               at: int = 1) -> int:
        """A header row: catalogue labels with the carried headers inserted at ``at``."""
        names = [self.label(f"xlsx.header.{c}") for c in codes]
        names[at:at] = list(extra)
        return sheet.row([n for n in names], style="header")

    def student_extra(self, sid: str) -> list[Any]:
        return [values.get(sid) or None for _, values in self.student_cols]

    def city(self, wid: str) -> str | None:
        w = self.stations.get(wid)
        return w.city if w is not None else None


def write_results_xlsx(result: Result, problem: Problem | None, folder: Path, *,
                       lang: Lang = "en") -> None:
    """Write ``results.xlsx`` into a (temporary) result folder.

    Parameters
    ----------
    result
        The solver's result.
    problem
        The problem solved; without it the sheets hold what the result has (no student
        details, no carried columns, rosters by block of terms).
    folder
        Where to write.
    lang
        ``"zh"`` or ``"en"``: sheet names, headers, the summary and the reasons.
    """
    wb = _Workbook(result, problem, lang)
    book = Book(Path(folder) / "results.xlsx", font=_FONT[lang], text=escape_cell)
    _summary(book, wb)
    _assignments(book, wb)
    _unassigned(book, wb)
    _fairness(book, wb)
    _rosters(book, wb)
    book.close()


def _print(sheet: Sheet, wb: _Workbook, header_row: int | None, *,
           landscape: bool = True) -> None:
    name = wb.problem.name if wb.problem is not None else ""
    sheet.print_setup(landscape=landscape, fit_width=True,
                      repeat_rows=(header_row, header_row) if header_row is not None else None,
                      header="&C" + name.replace("&", "&&") if name else "",
                      footer="&C" + wb.label("xlsx.print.footer"), gridlines=True)


# ---- summary ------------------------------------------------------------------------------------
def _summary(book: Book, wb: _Workbook) -> None:
    r, p = wb.result, wb.problem
    sheet = book.sheet(wb.label("xlsx.sheet.summary"), widths=[34, 70, 14, 14, 16, 20],
                       styles=["bold", "text", "int", "int", "percent", "percent"])
    name = p.name if p is not None else ""
    sheet.row([wb.label("xlsx.summary.title", scenario=name)], style="title")
    sheet.row([])
    total = len(p.students) if p is not None else r.placed + len(r.unassigned)
    placed = len(r.placements)
    none = wb.label("xlsx.summary.none")
    ranks = [pl.preference_rank for pl in r.placements]
    top3 = sum(1 for k in ranks if k is not None and k <= 3)
    lines: list[tuple[str, Any, str | None]] = [
        ("status", status_word(r.status, wb.lang), None),
        ("proven", proof(r, p).text(wb.lang), "wrap"),
        ("students", total, None),
        ("placed", placed, None),
        ("placed_share", placed / total if total else 0.0, "percent"),
        ("unassigned", total - placed, None),
        ("placed_bound", r.placed_upper_bound if r.placed_upper_bound is not None else none,
         None),
        ("first_choice", r.first_choice_share, "percent"),
        ("top3", top3 / placed if placed else 0.0, "percent"),
        ("rank_cost", r.rank_cost, None),
        ("rank_bound", r.rank_cost_lower_bound if r.rank_cost_lower_bound is not None
         else none, None),
        ("rank_gap", r.rank_gap if r.rank_gap is not None else none,
         "percent3" if r.rank_gap is not None else None),
    ]
    ranked = rank_objective_text(r, wb.lang)  # level 2 as a profile or the worst rank
    if ranked is not None:
        lines.append(("rank_objective", ranked, "wrap"))
    if pair_weight_used(r, p) or r.pair_weight:
        lines.append(("pair_weight", r.pair_weight, None))
    lines += [("solver", r.solver, None), ("seed", r.seed, None),
              ("time_limit", r.time_limit_s, None),
              # a deterministic run shows its counted work: the workbook is the same everywhere
              ("work_seconds", round(r.work_seconds, 2), None)
              if r.deterministic and r.work_seconds is not None
              else ("wall_seconds", round(r.wall_seconds, 2), None)]
    if p is not None and any(w.min_intake > 1 for w in p.workstations):
        used = {pl.workstation_id for pl in r.placements}
        closed = [wb.label("xlsx.summary.ws_minimum", workstation=w.workstation_id,
                           minimum=w.min_intake) for w in p.workstations
                  if w.min_intake > 1 and w.workstation_id not in used]
        lines.append(("not_opened", LIST_SEPARATOR[wb.lang].join(closed) or none, "wrap"))
    if r.message:
        lines.append(("note", r.message, "wrap"))
    digest = r.input_sha256 or (p.input_sha256 if p is not None else "")
    if digest:
        lines.append(("input", digest[:16], None))
    head = sheet.row([wb.label("xlsx.header.item"), wb.label("xlsx.header.value")],
                     style="header")
    for key, value, style in lines:
        sheet.row([wb.label(f"xlsx.summary.{key}"), value],
                  styles=[None, style or ("text" if isinstance(value, str) else None)])
    sheet.row([])
    # the rank distribution
    sheet.row([wb.label("xlsx.summary.ranks")], style="subtitle")
    sheet.row([wb.label(f"xlsx.header.{c}") for c in ("outcome", "students", "share")],
              style="header")
    counts = Counter(ranks)
    longest = max((len(s.preferences) for s in p.students), default=0) if p is not None \
        else max((k for k in ranks if k is not None), default=0)
    outcomes: list[tuple[str, int]] = [(wb.label("xlsx.outcome.choice", rank=k), counts[k])
                                       for k in range(1, longest + 1)]
    if counts.get(None) or (p is not None and not p.policy.preferences_only):
        outcomes.append((wb.label("xlsx.outcome.off_list"), counts.get(None, 0)))
    outcomes.append((wb.label("xlsx.outcome.unassigned"), total - placed))
    for text, count in outcomes:
        sheet.row([text, count, count / total if total else 0.0],
                  styles=["text", "int", "percent"])
    if p is not None:
        sheet.row([])
        sheet.row([wb.label("xlsx.summary.universities")], style="subtitle")
        sheet.row([wb.label(f"xlsx.header.{c}") for c in (
            "university_id", "university_name", "students", "placed", "placed_share",
            "first_choice_share")], style="header")
        members: Counter[str] = Counter(s.university_id for s in p.students)
        got: Counter[str] = Counter()
        first: Counter[str] = Counter()
        for pl in r.placements:
            st = wb.students.get(pl.student_id)
            if st is not None:
                got[st.university_id] += 1
                first[st.university_id] += pl.preference_rank == 1
        for uid in sorted(members):
            uni = wb.unis.get(uid)
            sheet.row([uid, uni.name if uni is not None and uni.name else "",
                       members[uid], got[uid], got[uid] / members[uid],
                       first[uid] / got[uid] if got[uid] else 0.0],
                      styles=["text", "text", "int", "int", "percent", "percent"])
    sheet.row([])
    sheet.row([wb.label("xlsx.summary.more_in_folder")], style="subtitle")
    sheet.freeze(head + 1)
    _print(sheet, wb, None, landscape=False)


# ---- assignments and unassigned ---------------------------------------------------------------
def _assignments(book: Book, wb: _Workbook) -> None:
    p = wb.problem
    codes = ["student_id"]
    if p is not None:
        codes += ["university_id", "university_name", "discipline"]
    codes += ["workstation_id"]
    station_at = len(codes)
    codes += (["city"] if p is not None else []) + [
        "mentor_id", "supervisor_id", "start_term", "end_term", "terms", "preference_rank"]
    extra_students = [h for h, _ in wb.student_cols]
    extra_stations = [h for h, _ in wb.station_cols]
    styles = ["text"] * (len(codes) + len(extra_students) + len(extra_stations))
    styles[-2:] = ["int", "int"]
    sheet = book.sheet(wb.label("xlsx.sheet.assignments"), styles=styles)
    names = [wb.label(f"xlsx.header.{c}") for c in codes]
    names[station_at:station_at] = extra_stations
    names[1:1] = extra_students
    sheet.row([n for n in names], style="header")
    term_index = p.term_index if p is not None else {}
    for pl in wb.result.placements:
        row: list[Any] = [pl.student_id, *wb.student_extra(pl.student_id)]
        if p is not None:
            st = wb.students.get(pl.student_id)
            uni = wb.unis.get(st.university_id) if st is not None else None
            row += [st.university_id if st else None,
                    uni.name if uni is not None and uni.name else None,
                    st.discipline if st else None]
        row.append(pl.workstation_id)
        row += [values.get(pl.workstation_id) or None for _, values in wb.station_cols]
        if p is not None:
            row.append(wb.city(pl.workstation_id))
        k0, k1 = term_index.get(pl.start_term), term_index.get(pl.end_term)
        held = len(pl.covered(p.terms)) if p is not None and pl.terms else (
            k1 - k0 + 1 if k0 is not None and k1 is not None else None)  # a split has gaps
        row += [pl.mentor_id, pl.supervisor_id, pl.start_term, pl.end_term, held,
                pl.preference_rank]
        sheet.row(row)
    sheet.freeze(1)
    sheet.autofilter()
    _print(sheet, wb, 0)


def _unassigned(book: Book, wb: _Workbook) -> None:
    r, p = wb.result, wb.problem
    codes = ["student_id", *(["university_id", "discipline", "preferences"] if p else []),
             "reason"]
    extra = [h for h, _ in wb.student_cols]
    widths: list[float | None] = [None] * (len(codes) + len(extra))
    widths[-1] = 80
    sheet = book.sheet(wb.label("xlsx.sheet.unassigned"), widths=widths,
                       styles=["text"] * (len(widths) - 1) + ["wrap"])
    wb.header(sheet, codes, extra)
    reasons = dict(r.unassigned)
    if p is not None:
        placed = {pl.student_id for pl in r.placements}
        missing = [s.student_id for s in p.students if s.student_id not in placed]
        missing.sort()
    else:
        missing = sorted(reasons)
    fallback = ("outcome.infeasible" if r.status == Status.INFEASIBLE else "outcome.no_reason")
    sep = LIST_SEPARATOR[wb.lang]
    for sid in missing:
        reason = reasons.get(sid)
        text = reason_text(reason, wb.lang) if reason is not None else wb.label(fallback)
        row: list[Any] = [sid, *wb.student_extra(sid)]
        st = wb.students.get(sid)
        if p is not None:
            row += [st.university_id if st else None,
                    st.discipline if st else None,
                    sep.join(st.preferences) if st else None]
        row.append(text)
        sheet.row(row)
    sheet.freeze(1)
    sheet.autofilter()
    _print(sheet, wb, 0)


# ---- fairness (issue 29) ------------------------------------------------------------------------
def _fairness(book: Book, wb: _Workbook) -> None:
    """The fairness sheet: every blocking pair with the student and workstations named, the
    rank distribution by university and by discipline, the quotas' targets and shares."""
    r, p = wb.result, wb.problem
    if p is None:
        return
    fair = figures(p, r)
    outcomes = outcome_labels(wb.lang)
    sheet = book.sheet(wb.label("quotas.sheet.fairness"), widths=[24, 24, 20, 14, 20, 16, 16, 16],
                       styles=["text", "text", "text", "int", "text", "int", "int", "int"])
    sheet.row([wb.label("quotas.report.h")], style="title")
    sheet.row([])
    sheet.row([wb.label("quotas.report.blocking_h")], style="subtitle")
    if fair.blocking is None:
        sheet.row([wb.label("quotas.report.blocking_skipped", students=fair.students,
                            limit=BLOCKING_MAX_STUDENTS)], style="wrap")
    elif not fair.blocking:
        sheet.row([wb.label("quotas.report.blocking_none")])
    else:
        sheet.row([wb.label("quotas.report.blocking_count", count=len(fair.blocking))])
        sheet.row([wb.label(c) for c in (
            "quotas.col.student", "quotas.col.university", "quotas.col.placement",
            "quotas.col.placement_rank", "quotas.col.envied", "quotas.col.envied_rank")],
            style="header")
        for pair in blocking_rows(p, r, fair.blocking, wb.lang):
            sheet.row(list(pair))
    for code, rows, first in (("quotas.report.ranks_by_university", fair.by_university,
                               "quotas.col.university"),
                              ("quotas.report.ranks_by_discipline", fair.by_discipline,
                               "xlsx.header.discipline")):
        sheet.row([])
        sheet.row([wb.label(code)], style="subtitle")
        sheet.row([wb.label(first), wb.label("quotas.col.students"), *outcomes],
                  style="header")
        for g in rows:
            sheet.row([g.name, g.students, *g.counts],
                      styles=["text", "int", *["int"] * len(g.counts)])
    if fair.quotas:
        sheet.row([])
        sheet.row([wb.label("quotas.report.quotas_h")], style="subtitle")
        sheet.row([wb.label(c) for c in (
            "quotas.col.row", "quotas.col.where", "quotas.col.group", "quotas.col.kind",
            "quotas.col.target", "quotas.col.count", "quotas.col.total", "quotas.col.share",
            "quotas.col.met")], style="header")
        for row, where, group, kind, target, count, total, share, met in quota_rows(
                fair.quotas, wb.lang):
            sheet.row([row, where, group, kind, target, count, total, share, met],
                      styles=["int", "text", "text", "text", "text", "int", "int", "percent",
                              "text"])
    _print(sheet, wb, None)


# ---- rosters ------------------------------------------------------------------------------------
def _roster_rows(wb: _Workbook) -> dict[str, list[tuple[int, str, Placement]]]:
    """Workstation -> (term index, term, placement) for every term a student is there."""
    p = wb.problem
    out: dict[str, list[tuple[int, str, Placement]]] = defaultdict(list)
    for pl in wb.result.placements:
        if p is not None and pl.start_term in p.term_index and pl.end_term in p.term_index:
            for term in pl.covered(p.terms):  # every term held (a split practice has gaps)
                out[pl.workstation_id].append((p.term_index[term], term, pl))
        else:  # without the problem: the block as one row
            span = pl.start_term if pl.start_term == pl.end_term \
                else f"{pl.start_term}..{pl.end_term}"
            out[pl.workstation_id].append((0, span, pl))
    for rows in out.values():
        rows.sort(key=lambda t: (t[0], t[1], t[2].student_id))
    return out


def _rosters(book: Book, wb: _Workbook) -> None:
    p = wb.problem
    by_station = _roster_rows(wb)
    codes = ["term", "student_id", *(["university_id", "discipline"] if p else []),
             "mentor_id", "supervisor_id", "start_term", "end_term"]
    extra = [h for h, _ in wb.student_cols]
    stations = sorted(by_station)
    one_sheet = len(stations) > MAX_ROSTER_SHEETS or not stations
    sheet = book.sheet(wb.label("xlsx.sheet.rosters")) if one_sheet else None
    if sheet is not None and not stations:
        sheet.row([wb.label("xlsx.roster.none")])
    for wid in stations:
        if sheet is None or not one_sheet:
            sheet = book.sheet(wid)
            own = True
        else:
            own = False
            if sheet.rows:
                sheet.row([])
                sheet.page_break()
        rows = by_station[wid]
        title = _station_title(wb, wid)
        city = wb.city(wid)
        sheet.row([wb.label("xlsx.roster.title_city", workstation=title, city=city)
                         if city else wb.label("xlsx.roster.title", workstation=title)],
                  style="title")
        count = len({pl.student_id for _, _, pl in rows})
        sheet.row([wb.label("xlsx.roster.subtitle", count=count,
                                  scenario=p.name if p else "")], style="subtitle")
        head = wb.header(sheet, codes, extra, at=2)
        for _, term, pl in rows:
            st = wb.students.get(pl.student_id)
            row: list[Any] = [term, pl.student_id, *wb.student_extra(pl.student_id)]
            if p is not None:
                row += [st.university_id if st else None,
                        st.discipline if st else None]
            row += [pl.mentor_id, pl.supervisor_id, pl.start_term,
                    pl.end_term]
            sheet.row(row)
        if own:
            sheet.freeze(head + 1)
            _print(sheet, wb, head, landscape=False)
    if sheet is not None and one_sheet:
        _print(sheet, wb, None, landscape=False)


def _station_title(wb: _Workbook, wid: str) -> str:
    """The workstation's id, with its name when the clerk's columns give one."""
    for header, values in wb.station_cols:
        if "名称" in header or "name" in header.lower():
            name = values.get(wid, "")
            if name:
                return f"{wid} {name}"
    return wid
