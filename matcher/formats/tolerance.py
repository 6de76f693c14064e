"""What the office writes in place of ids and terms: names read as ids, dates read as terms.

Applied to the tables as read (:class:`~matcher.formats.tables.TableRead`), before the problem
is built, each with a note naming the cells it touched (issue 25):

* :func:`names_as_ids`: a workstation given by its name (``哈尔滨电气集团研究生工作站``) where
  its id is expected, when the workstations table has a name column (``工作站名称``) in which
  that name is unique; the same for a university given by its name (``universities``'
  ``name``). A name that two workstations share is an error naming both.
* :func:`dates_as_terms`: a date (``2026-09-01``, an Excel date cell) in a term column, read as
  the term that contains it, when the scenario's term labels say their season and year
  (``2026-autumn``, ``2027春``, ``2026-2027-1``): a term of ``term_months`` months starts in
  March (spring), June (summer), September (autumn) or December (winter), so with six-month
  terms autumn is September to February.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..messages import msg
from .cells import show
from .locations import Found
from .tables import TableRead

__all__ = ["dates_as_terms", "names_as_ids", "term_starts"]

_SHOWN_ROWS = 10

# table -> (column, the table its values name)
_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "students": (("preferences", "workstations"), ("university_id", "universities")),
    "workstations": (("partner_universities", "universities"),),
    "mentors": (("workstation_id", "workstations"),),
    "supervisors": (("university_id", "universities"),),
    "workstation_terms": (("workstation_id", "workstations"),),
    "locks": (("workstation_id", "workstations"),),
    "rankings": (("workstation_id", "workstations"),),
    "occupancy": (("workstation_id", "workstations"),),
}
_TERM_COLUMNS: dict[str, tuple[str, ...]] = {
    "students": ("window_start", "window_end"), "workstation_terms": ("term",),
    "locks": ("start_term",), "occupancy": ("term",)}
_ID = {"workstations": "workstation_id", "universities": "university_id"}


def _key(name: str) -> str:
    """How names are compared: NFKC, case folded, without spaces."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass
class _Touched:
    """The cells of one column that a tolerance changed, for one note."""

    rows: list[str]
    first: tuple[int, str, str]  # (data row, value as typed, what it was read as)


def _names(reads: dict[str, TableRead | None], table: str
           ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Name key -> id for names that are unique, and name key -> ids for shared names."""
    read = reads.get(table)
    if read is None:
        return {}, {}
    ids = [getattr(r, _ID[table], None) if r is not None else None for r in read.rows]
    if table == "workstations":
        names: Sequence[str | None] = read.names or []
    else:
        names = [getattr(r, "name", None) if r is not None else None for r in read.rows]
    by_key: dict[str, list[str]] = {}
    for name, ident in zip(names, ids, strict=False):
        if name and ident:
            by_key.setdefault(_key(name), []).append(ident)
    unique = {k: v[0] for k, v in by_key.items() if len(set(v)) == 1}
    shared = {k: sorted(set(v)) for k, v in by_key.items() if len(set(v)) > 1}
    return unique, shared


def names_as_ids(reads: dict[str, TableRead | None], found: Found) -> None:
    """Replace names by ids in every column that refers to workstations or universities.

    Parameters
    ----------
    reads
        The tables as read (changed in place: a row whose cell named an entity by its name
        is replaced by a copy holding the id).
    found
        Receives one note per column touched, and an error per cell naming a shared name.
    """
    lookups: dict[str, tuple[set[str], dict[str, str], dict[str, list[str]]]] = {}
    for table in ("workstations", "universities"):
        read = reads.get(table)
        ids = {getattr(r, _ID[table]) for r in (read.rows if read else []) if r is not None}
        unique, shared = _names(reads, table)
        if unique or shared:
            lookups[table] = (ids, unique, shared)
    if not lookups:
        return
    for table, refs in _REFERENCES.items():
        read = reads.get(table)
        if read is None:
            continue
        for column, target in refs:
            if target not in lookups:
                continue
            ids, unique, shared = lookups[target]
            touched: _Touched | None = None
            for k, row in enumerate(read.rows):
                if row is None:
                    continue
                value = getattr(row, column)
                items = value if isinstance(value, tuple) else (value,)
                new: list[Any] = []
                changed = False
                for item in items:
                    if item is None or item in ids:
                        new.append(item)
                        continue
                    key = _key(item)
                    if key in unique:
                        new.append(unique[key])
                        changed = True
                        if touched is None:
                            touched = _Touched([], (k, item, unique[key]))
                        if len(touched.rows) <= _SHOWN_ROWS:
                            touched.rows.append(str(read.numbers[k]))
                    else:
                        if key in shared:
                            found.add(msg("load.shared_name", at=read.at(k, column, item),
                                          value=show(item), ids=shared[key]))
                        new.append(item)
                if changed:
                    update = tuple(new) if isinstance(value, tuple) else new[0]
                    read.rows[k] = row.model_copy(update={column: update})
            if touched is not None:
                k, item, ident = touched.first
                found.add(msg("load.names_as_ids", severity="note", at=read.at(k, column, ident),
                              value=show(item), id=ident, rows=_few(touched.rows)))


def _few(rows: list[str]) -> tuple[str, ...]:
    return tuple(rows[:_SHOWN_ROWS]) + (("…",) if len(rows) > _SHOWN_ROWS else ())


_SEASONS = {"spring": 3, "春": 3, "summer": 6, "夏": 6, "autumn": 9, "fall": 9, "秋": 9,
            "winter": 12, "冬": 12}
_SEASON = r"(autumn|fall|spring|summer|winter|秋|春|夏|冬)"
_SUFFIX = r"\s*(?:季学期|季|学期|term|semester)?"
_TERM_FORMS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[int, int] | None]],
                   ...] = (
    (re.compile(r"(\d{4})\s*(?:年)?\s*[-_/ ]?\s*" + _SEASON + _SUFFIX, re.I),
     lambda m: (int(m.group(1)), _SEASONS[m.group(2).lower()])),
    (re.compile(_SEASON + r"\s*[-_ ]?\s*(\d{4})" + _SUFFIX, re.I),
     lambda m: (int(m.group(2)), _SEASONS[m.group(1).lower()])),
    (re.compile(r"(\d{4})\s*[-–~至]\s*(\d{4})\s*(?:学年)?\s*[-_ ]?\s*(?:第)?\s*([12一二])"
                r"\s*(?:学期)?", re.I),
     lambda m: (int(m.group(1)), 9) if m.group(3) in "1一" and int(m.group(2)) == int(
         m.group(1)) + 1 else ((int(m.group(2)), 3) if int(m.group(2)) == int(m.group(1)) + 1
                               else None)),
)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:[-/.月]\s*(\d{1,2})\s*日?)?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")


def term_starts(terms: Sequence[str]) -> dict[str, tuple[int, int]] | None:
    """The (year, month) each term starts in, from its label; None when a label does not say.

    ``2026-autumn``, ``2026 Fall``, ``2026秋``, ``2026年秋季学期`` start in September 2026;
    ``2027-spring``, ``2027春`` in March 2027; ``2026-2027-1`` (the first term of the
    2026-2027 academic year) in September 2026 and ``2026-2027-2`` in March 2027.
    """
    out: dict[str, tuple[int, int]] = {}
    for term in terms:
        text = unicodedata.normalize("NFKC", term).strip()
        for pattern, start in _TERM_FORMS:
            m = pattern.fullmatch(text)
            if m is not None:
                got = start(m)
                if got is not None:
                    out[term] = got
                    break
        else:
            return None
    return out


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _date(text: str) -> tuple[int, int] | None:
    m = _DATE.fullmatch(text.strip())
    if m is None:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    day = int(m.group(3)) if m.group(3) else 1
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return year, month


def dates_as_terms(reads: dict[str, TableRead | None], terms: Sequence[str], term_months: int,
                   found: Found) -> None:
    """Replace dates in term columns by the term that contains them.

    Parameters
    ----------
    reads
        The tables as read (changed in place).
    terms
        The scenario's terms, in calendar order.
    term_months
        Months one term lasts.
    found
        Receives one note per column touched, and an error per date outside every term.
    """
    known = set(terms)
    starts = term_starts(terms)
    for table, columns in _TERM_COLUMNS.items():
        read = reads.get(table)
        if read is None:
            continue
        for column in columns:
            touched: _Touched | None = None
            for k, row in enumerate(read.rows):
                value = getattr(row, column, None) if row is not None else None
                if not value or value in known:
                    continue
                when = _date(value)
                if when is None:
                    continue
                if starts is None:
                    found.add(msg("load.date_without_seasons", at=read.at(k, column),
                                  value=show(value), terms=tuple(terms)))
                    continue
                month = _month_index(*when)
                hits = [t for t, s in starts.items()
                        if _month_index(*s) <= month < _month_index(*s) + term_months]
                if len(hits) != 1:
                    found.add(msg("load.date_outside_terms", at=read.at(k, column),
                                  value=show(value), terms=tuple(terms)))
                    continue
                assert row is not None
                read.rows[k] = row.model_copy(update={column: hits[0]})
                if touched is None:
                    touched = _Touched([], (k, value, hits[0]))
                if len(touched.rows) <= _SHOWN_ROWS:
                    touched.rows.append(str(read.numbers[k]))
            if touched is not None and starts is not None:
                k, value, term = touched.first
                year, month = starts[term]
                end = _month_index(year, month) + term_months - 1
                found.add(msg("load.dates_as_terms", severity="note", at=read.at(k, column),
                              value=show(value), term=term,
                              first=f"{year}-{month:02d}",
                              last=f"{end // 12}-{end % 12 + 1:02d}",
                              rows=_few(touched.rows)))
