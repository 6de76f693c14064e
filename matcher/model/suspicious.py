"""Suspicious data: what a valid problem holds that is most likely a mistake (warnings).

A problem can keep every rule of the format and still be wrong in a way the clerk would want
to know before solving (issue 25): students end up unassigned for a reason that lies in the
data, not in the competition for places. :func:`suspicious` finds, each as a
:class:`~matcher.model.errors.ProblemIssue` of severity ``warning`` pointing at the cells and
saying the likely fix:

* a discipline code that nobody offers to a student who has it (no workstation takes it, no
  mentor mentors it, no supervisor of the student's university supervises it);
* a code that looks like a number that lost its leading zero (``854`` where ``0854`` exists:
  Excel drops leading zeros of numbers), or like codes run together (``09510952``), or several
  codes in a cell that takes one (``0951,0952`` as a student's discipline, ``0951 0952``);
* ids that differ only by spaces, hyphens or underscores (``W 1`` and ``W1``);
* a student who fits no workstation at all, a workstation nobody can use (no mentor for its
  disciplines, closed in every term, no student it could take);
* a mentor or supervisor with capacity 0;
* totals that do not add up: the mentors of a workstation take fewer students per term than
  the workstation has places, or the supervisors of a university fewer than its students.

Warnings never stop a solve; ``matcher validate --strict`` treats them as errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any

from ..messages import msg
from .capacity import capacity_by_term
from .errors import ProblemIssue
from .problem import Problem

__all__ = ["suspicious"]

_SHOWN_ROWS = 10
_SEPARATORS = re.compile(r"[\s,，;；、/]+")


def _rows(indices: list[int]) -> tuple[str, ...]:
    """1-based data rows, at most ten, then … (a reader renumbers them as the user sees)."""
    shown = tuple(str(k + 1) for k in indices[:_SHOWN_ROWS])
    return shown + (("…",) if len(indices) > _SHOWN_ROWS else ())


def suspicious(p: Problem) -> list[ProblemIssue]:
    """Every suspicious finding of a valid problem, as warnings.

    Parameters
    ----------
    p
        A problem that passed :func:`~matcher.model.problem.cross_check`.

    Returns
    -------
    list[ProblemIssue]
        Warnings (0-based rows), in a stable order: codes, ids, capacities, totals, fit.
    """
    out: list[ProblemIssue] = []
    out += _codes(p)
    out += _spaced_ids(p)
    out += _zero_capacity(p)
    out += _totals(p)
    out += _fit(p)
    return out


# ---- discipline codes ------------------------------------------------------------------------
def _code_cells(p: Problem) -> Iterable[tuple[str, int, str, str]]:
    """(table, row, column, code) of every discipline code in the problem."""
    for r, s in enumerate(p.students):
        yield "students", r, "discipline", s.discipline
    for r, w in enumerate(p.workstations):
        for d in w.disciplines:
            yield "workstations", r, "disciplines", d
    for r, m in enumerate(p.mentors):
        for d in m.disciplines:
            yield "mentors", r, "disciplines", d
    for r, sv in enumerate(p.supervisors):
        for d in sv.disciplines:
            yield "supervisors", r, "disciplines", d


def _codes(p: Problem) -> list[ProblemIssue]:
    out: list[ProblemIssue] = []
    known = set(map(attrgetter("discipline"), p.students))
    for entities in (p.workstations, p.mentors, p.supervisors):
        known.update(chain.from_iterable(map(attrgetter("disciplines"), entities)))
    lengths = {len(c) for c in known if c.isdigit() and c.isascii()}
    # the verdict on a code does not depend on its row: judged once per distinct code (a few
    # dozen), then the cells (100,000 students at province scale) only collect the rows
    hints: dict[str, tuple[str, str | list[str]]] = {}
    for code in known:
        hint = _code_hint(code, known, lengths)
        if hint is not None:
            hints[code] = hint
    by_odd: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    if hints:
        for table, r, column, code in _code_cells(p):
            if code in hints:
                by_odd[table, column, code].append(r)
    for (table, column, code), rows in by_odd.items():
        kind, fix = hints[code]
        if isinstance(fix, str):
            detail = msg("data.leading_zero_lost", severity="warning", value=code, fix=fix,
                         rows=_rows(rows))
        elif kind == "data.codes_joined":
            detail = msg("data.codes_joined", severity="warning", value=code, codes=fix,
                         rows=_rows(rows))
        else:
            detail = msg("data.several_codes", severity="warning", value=code, codes=fix,
                         rows=_rows(rows))
        out.append(ProblemIssue.of(table, rows[0], column, detail))
    out += _not_offered(p, {k[2] for k in by_odd})
    return out


def _code_hint(code: str, known: set[str], lengths: set[int]
               ) -> tuple[str, str | list[str]] | None:
    """What looks wrong with one discipline code: several codes in one cell, a leading zero
    lost (the code it should be), codes written together; None when nothing does."""
    if not (code.isascii() and code.isdigit()):
        parts = [x for x in _SEPARATORS.split(code) if x]
        if len(parts) > 1 and all(x in known for x in parts):
            return "data.several_codes", parts
        return None
    padded = [code.zfill(n) for n in sorted(lengths) if n > len(code)]
    match = next((x for x in padded if x in known), None)
    if match is not None:
        return "data.leading_zero_lost", match
    if len(code) >= 6:
        split = _joined(code, known)
        if split is not None:
            return "data.codes_joined", split
    return None


def _joined(code: str, known: set[str]) -> list[str] | None:
    """``09510952`` -> ``['0951', '0952']`` when both halves are known codes."""
    for text in (code, "0" + code):
        for cut in range(2, len(text) - 1):
            a, b = text[:cut], text[cut:]
            if a in known and b in known and a != text and b != text:
                return [a, b]
    return None


def _not_offered(p: Problem, odd: set[str]) -> list[ProblemIssue]:
    """Student disciplines that no workstation, mentor or supervisor (of the university) takes."""
    out: list[ProblemIssue] = []
    ws = {d for w in p.workstations for d in w.disciplines}
    men = {d for m in p.mentors for d in m.disciplines}
    sup = {(s.university_id, d) for s in p.supervisors for d in s.disciplines}
    missing: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    # only students whose code is not offered everywhere, or who have no supervisor, can be
    # missing something: found in C loops, then looked at in row order
    codes = list(map(attrgetter("discipline"), p.students))
    offered = odd | (ws & men)
    look = [r for r, d in enumerate(codes) if d not in offered] if not offered.issuperset(
        codes) else []
    look += [r for r, s in enumerate(map(attrgetter("supervisor_id"), p.students))
             if s is None]
    for r in sorted(set(look)):
        st = p.students[r]
        d = st.discipline
        if d in odd:
            continue  # already named as a code that lost its zero
        if d not in ws:
            missing["workstation", d, ""].append(r)
        elif d not in men:
            missing["mentor", d, ""].append(r)
        elif st.supervisor_id is None and (st.university_id, d) not in sup:
            missing["supervisor", d, st.university_id].append(r)
    for (who, d, uni), rows in missing.items():
        if who == "workstation":
            detail = msg("data.no_workstation_takes", severity="warning", value=d,
                         count=len(rows), rows=_rows(rows), where="workstations.csv")
        elif who == "mentor":
            detail = msg("data.no_mentor_takes", severity="warning", value=d, count=len(rows),
                         rows=_rows(rows), where="mentors.csv")
        else:
            detail = msg("data.no_supervisor_takes", severity="warning", value=d,
                         university=uni, count=len(rows), rows=_rows(rows),
                         where="supervisors.csv")
        out.append(ProblemIssue.of("students", rows[0], "discipline", detail))
    workstations = {w.workstation_id: w for w in reversed(p.workstations)}
    for r, m in enumerate(p.mentors):
        w = workstations.get(m.workstation_id)
        if w is None:
            continue
        extra = [d for d in m.disciplines if d not in w.disciplines and d not in odd]
        if extra and len(extra) == len(m.disciplines):
            out.append(ProblemIssue.of("mentors", r, "disciplines", msg(
                "data.mentor_outside_workstation", severity="warning", mentor=m.mentor_id,
                workstation=m.workstation_id, codes=extra, offered=w.disciplines)))
    return out


# ---- ids -------------------------------------------------------------------------------------
_LOOSE_DROP = dict.fromkeys(map(ord, "-_ \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"))
"""What :func:`_loose` drops from an ASCII id besides case (``str.split``'s ASCII spaces), as
a ``str.translate`` table."""


def _loose(text: str) -> str:
    """An id without case, width, spaces, hyphens and underscores."""
    if text.isascii():
        return "".join(text.lower().replace("-", " ").replace("_", " ").split())
    key = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in key if not (c.isspace() or c in "-_"))


def _spaced_ids(p: Problem) -> list[ProblemIssue]:
    out: list[ProblemIssue] = []
    for table, column, ids in (
            ("students", "student_id", [s.student_id for s in p.students]),
            ("workstations", "workstation_id", [w.workstation_id for w in p.workstations]),
            ("mentors", "mentor_id", [m.mentor_id for m in p.mentors]),
            ("supervisors", "supervisor_id", [s.supervisor_id for s in p.supervisors]),
            ("universities", "university_id", [u.university_id for u in p.universities])):
        distinct = set(ids)
        joined = "".join(distinct)
        # (in C loops) no two distinct ids share a key; translate() only when an id has a
        # character it drops (a lookup per character: slow on 100,000 plain ids)
        if joined.isascii() and len(set(map(
                methodcaller("translate", _LOOSE_DROP), map(str.lower, distinct)) if any(
                    chr(c) in joined for c in _LOOSE_DROP) else map(str.lower, distinct)
                )) == len(distinct):
            continue
        seen: dict[str, int] = {}
        for r, ident in enumerate(ids):
            key = _loose(ident)
            first = seen.setdefault(key, r)
            if first != r and ids[first] != ident:
                out.append(ProblemIssue.of(table, r, column, msg(
                    "data.ids_differ_by_spaces", severity="warning", value=ident,
                    other=ids[first], other_row=first + 1)))
    return out


# ---- capacities ------------------------------------------------------------------------------
def _zero_capacity(p: Problem) -> list[ProblemIssue]:
    out: list[ProblemIssue] = []
    for table, rows in (("mentors", [r for r, m in enumerate(p.mentors) if m.capacity == 0]),
                        ("supervisors",
                         [r for r, s in enumerate(p.supervisors) if s.capacity == 0])):
        if rows:
            kind = msg("entity.mentor") if table == "mentors" else msg("entity.supervisor")
            out.append(ProblemIssue.of(table, rows[0], "capacity", msg(
                "data.capacity_zero", severity="warning", kind=kind, count=len(rows),
                rows=_rows(rows))))
    return out


def _totals(p: Problem) -> list[ProblemIssue]:
    out: list[ProblemIssue] = []
    cap = capacity_by_term(p)
    mentors: dict[str, int] = defaultdict(int)
    for m in p.mentors:
        mentors[m.workstation_id] += m.capacity
    short: list[tuple[int, str, int, int]] = []
    for r, w in enumerate(p.workstations):
        most = max((cap[w.workstation_id, t] for t in p.terms), default=0)
        have = mentors.get(w.workstation_id, 0)
        if 0 < have < most:
            short.append((r, w.workstation_id, have, most))
    if short:
        r, wid, have, most = short[0]
        out.append(ProblemIssue.of("workstations", r, "capacity", msg(
            "data.mentors_below_workstation", severity="warning", count=len(short),
            rows=_rows([x[0] for x in short]), workstation=wid, mentors=have, capacity=most,
            unused=sum(x[3] - x[2] for x in short), where="mentors.csv")))
    students = Counter(map(attrgetter("university_id"), p.students))
    supervising: dict[str, int] = defaultdict(int)
    first_row: dict[str, int] = {}
    for r, sv in enumerate(p.supervisors):
        supervising[sv.university_id] += sv.capacity
        first_row.setdefault(sv.university_id, r)
    for uni, n in sorted(students.items()):
        have = supervising.get(uni, 0)
        if uni in first_row and have < n:
            out.append(ProblemIssue.of("supervisors", first_row[uni], "capacity", msg(
                "data.supervisors_below_students", severity="warning", university=uni,
                capacity=have, students=n, short=n - have, where="students.csv")))
    return out


# ---- who fits where --------------------------------------------------------------------------
def _fit(p: Problem) -> list[ProblemIssue]:
    """Students who fit no workstation at all, and workstations nobody can use.

    A student whose discipline no workstation or no mentor takes is left out: the warning
    about the discipline says why already.
    """
    out: list[ProblemIssue] = []
    cap = capacity_by_term(p)
    terms = p.terms
    open_terms = {w.workstation_id: [cap[w.workstation_id, t] > 0 for t in terms]
                  for w in p.workstations}
    mentor_codes: dict[str, set[str]] = defaultdict(set)
    for m in p.mentors:
        if m.capacity > 0:
            mentor_codes[m.workstation_id].update(m.disciplines)
    by_code: dict[str, list[str]] = defaultdict(list)
    partners = {w.workstation_id: set(w.partner_universities) for w in p.workstations}
    for w in p.workstations:
        for d in w.disciplines:
            if d in mentor_codes[w.workstation_id]:
                by_code[d].append(w.workstation_id)
    code_sets = {d: set(ws) for d, ws in by_code.items()}
    block_cache: dict[tuple[str, int, int, int], bool] = {}

    def has_block(wid: str, first: int, last: int, n: int) -> bool:
        key = (wid, first, last, n)
        if key not in block_cache:
            flags = open_terms[wid]
            block_cache[key] = any(all(flags[k:k + n]) for k in range(first, last - n + 2))
        return block_cache[key]

    def fits(wid: str, uni: str, first: int, last: int, n: int) -> bool:
        return (not partners[wid] or uni in partners[wid]) and has_block(wid, first, last, n)

    nowhere: dict[tuple[str, str], list[int]] = defaultdict(list)
    usable: set[str] = set()
    if p.policy.preferences_only:
        for r, st in enumerate(p.students):
            first, last = p.window(st)
            n = p.block_terms(st)
            taking = code_sets.get(st.discipline, set())
            ok_ws = [w for w in st.preferences
                     if w in taking and fits(w, st.university_id, first, last, n)]
            usable.update(ok_ws)
            if not ok_ws:
                nowhere[st.university_id, st.discipline].append(r)
    else:
        # whether a student fits somewhere depends on these fields only (window() and
        # block_terms() read the last four): judged once per distinct combination
        keys = list(map(attrgetter("university_id", "discipline", "window_start",
                                   "window_end", "required_months", "work_experience_years"),
                        p.students))
        first_of = dict(zip(keys, range(len(keys)), strict=True))
        # workstations of a code with an open block in the window: (open to all, by partner)
        blocks: dict[tuple[str, int, int, int], tuple[list[str], dict[str, list[str]]]] = {}
        fit_none: set[tuple[Any, ...]] = set()
        for key, r in first_of.items():
            st = p.students[r]
            first, last = p.window(st)
            n = p.block_terms(st)
            code = (st.discipline, first, last, n)
            if code not in blocks:
                anyone: list[str] = []
                partner_of: dict[str, list[str]] = defaultdict(list)
                for wid in by_code.get(st.discipline, ()):
                    if has_block(wid, first, last, n):
                        if not partners[wid]:
                            anyone.append(wid)
                        for uni in partners[wid]:
                            partner_of[uni].append(wid)
                blocks[code] = anyone, partner_of
            anyone, partner_of = blocks[code]
            ok = partner_of.get(st.university_id, [])
            usable.update(anyone)
            usable.update(ok)
            if not anyone and not ok:
                fit_none.add(key)
        if fit_none:
            for r, key in enumerate(keys):
                if key in fit_none:
                    nowhere[key[0], key[1]].append(r)
    offered = ({d for w in p.workstations for d in w.disciplines}
               & {d for m in p.mentors for d in m.disciplines})
    for (uni, d), rows in nowhere.items():
        if d not in offered:
            continue
        out.append(ProblemIssue.of("students", rows[0], "discipline", msg(
            "data.student_fits_nowhere", severity="warning", university=uni, discipline=d,
            count=len(rows), rows=_rows(rows))))
    for r, w in enumerate(p.workstations):
        wid = w.workstation_id
        if not any(open_terms[wid]):
            detail = msg("data.workstation_closed", severity="warning", workstation=wid)
            column = "capacity"
        elif not any(d in mentor_codes[wid] for d in w.disciplines):
            detail = msg("data.workstation_no_mentor", severity="warning", workstation=wid,
                         codes=w.disciplines, where="mentors.csv")
            column = "disciplines"
        elif wid not in usable:
            detail = msg("data.workstation_no_student", severity="warning", workstation=wid,
                         codes=w.disciplines)
            column = "disciplines"
        else:
            continue
        out.append(ProblemIssue.of("workstations", r, column, detail))
    return out
