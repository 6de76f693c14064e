"""The checker's fairness measures: justified envy (blocking pairs) of an allocation, by id.

Like :mod:`matcher.check`, which owns it, this module reads the
:class:`~matcher.model.Problem` and the allocation's rows straight, by id, and shares no code
with the solvers: ``cpsat --stable`` states the same definition as constraints of its own, and
the tests hold the two against a brute force.

Justified envy (a *blocking pair*), the definition an office can defend (``feasible``, the
default):
    a student ``s`` who is not locked and a workstation ``w`` on the student's list above the
    student's placement (or the student is unplaced, or placed off its list) block when ``s``
    fits ``w`` (discipline, partnership) and ``w`` *could take* ``s``: there is a block of terms
    inside the student's window and a mentor ``m`` of ``w`` who takes the student's discipline
    such that in every term of the block

    * ``w`` has a free place or holds a student it ranks below ``s``, and
    * ``m`` has a free place or mentors a student ``w`` ranks below ``s``;

    and the student's supervisor can take the student: the given one, or any supervisor of the
    student's university and discipline, with room, counting the student's current place as
    freed (so a placed student always has one).

    With the rules of issue 28: "above" means a strictly better rank (a tied choice is not
    above); a vetoed pair (``vetoes.csv``) never blocks; the terms may be any plan the student
    may take (one block, or segments when ``max_segments`` allows); a workstation with a
    minimum intake that took nobody does not block (one student cannot open it); and a student
    of a group (``groups.csv``) is placed with its group, so, like a locked one, it never
    envies alone.

    A workstation ranks students by ``rankings.csv`` (1 best; equal ranks tie, and neither of
    two tied students is below the other), then every student it did not rank by ``priority``
    (higher first), then ``student_id``. A locked student is the office's decision: it never
    envies, and it is never below anyone (its place cannot be given away).

The old definition (``strict``) counts workstation places only: mentor and supervisor limits
do not excuse a blocking pair, and locks are not considered. It finds blocking pairs where no
workstation could have taken the student (its mentors for the discipline being full), so on
realistic scenarios no allocation is free of them; it stays for comparison with results
checked before.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .model import Problem, Student
from .model.rules import segment_plans

FEASIBLE = "feasible"
"""The default definition: the workstation could take the student (places, a mentor and a
supervisor)."""
STRICT = "strict"
"""The old definition: workstation places only."""
DEFINITIONS = (FEASIBLE, STRICT)
"""The definitions of justified envy, the default first."""


@dataclass(frozen=True)
class Held:
    """One placement as the fairness measures see it (term indices inclusive; ``terms``: every
    term of a practice split into segments, empty for one block ``start..end``)."""

    workstation_id: str
    mentor_id: str
    supervisor_id: str
    start: int
    end: int
    terms: tuple[int, ...] = ()

    def covered(self) -> tuple[int, ...] | range:
        """Every term the placement occupies."""
        return self.terms or range(self.start, self.end + 1)


def definition_of(stability: bool | str) -> str | None:
    """The definition asked for: ``True`` means the default; ``False`` none.

    Raises
    ------
    ValueError
        For a name that is not a definition.
    """
    if stability is False or stability is None:
        return None
    if stability is True:
        return FEASIBLE
    if stability not in DEFINITIONS:
        raise ValueError(f"unknown stability definition '{stability}'; choose one of: "
                         f"{', '.join(DEFINITIONS)}")
    return str(stability)


def station_order(problem: Problem) -> Callable[[str, str], tuple[Any, ...]]:
    """``key(workstation_id, student_id)``: how a workstation ranks a student, lower first.

    ``rankings.csv`` first (equal ranks give equal keys), then priority (higher first), then
    ``student_id``.
    """
    explicit = {(rk.workstation_id, rk.student_id): rk.rank for rk in problem.rankings}
    priority = {s.student_id: s.priority for s in problem.students}

    def key(wid: str, sid: str) -> tuple[Any, ...]:
        own = explicit.get((wid, sid))
        return (0, own, "") if own is not None else (1, -priority[sid], sid)

    return key


def listed_rank(st: Student, wid: str) -> int | None:
    """The rank of ``wid`` on the student's list (1 first; tied choices share a rank), None
    when it is not listed."""
    return st.ranks.get(wid)


def _better(st: Student, here: Held | None) -> list[str]:
    """The workstations on the student's list strictly above its placement (all of them when
    it is unplaced or placed off its list); a tied choice is not above."""
    ranks = st.ranks
    now = ranks.get(here.workstation_id) if here is not None else None
    if now is None:
        return list(st.preferences)
    return [w for w in st.preferences if ranks[w] < now]


def _plans(p: Problem, st: Student, n: int, first: int, last: int
           ) -> list[tuple[int, ...] | range]:
    """Every term set the student's practice may take: one block of ``n`` terms inside the
    window, or a split into segments when the student may have them (issue 28)."""
    plans: list[tuple[int, ...] | range] = [range(k, k + n) for k in range(first, last - n + 2)]
    plans += segment_plans(n, first, last, p.max_segments(st), p.min_segment_terms)
    return plans


def _window(p: Problem, st: Student) -> tuple[int, int, int]:
    """(n, first, last) of a student, from the problem's definitions."""
    first, last = p.window(st)
    return math.ceil(p.required_months(st) / p.term_months), first, last


def blocking_pairs(problem: Problem, placed: Mapping[str, Held],
                   definition: str = FEASIBLE, *,
                   students: Collection[str] | None = None) -> list[tuple[str, str]]:
    """Every blocking pair of an allocation, by the chosen definition (module docstring).

    Parameters
    ----------
    problem
        The problem.
    placed
        Student id -> its placement (students left out are unplaced).
    definition
        ``"feasible"`` (default) or ``"strict"``.
    students
        Only the pairs of these students (``explain`` asks for one student of a province);
        None: every student.

    Returns
    -------
    list of (student_id, workstation_id)
        Sorted by student id, then the workstation's place on the student's list.
    """
    wanted = None if students is None else set(students)
    if definition == STRICT:
        return _strict(problem, placed, wanted)
    if definition != FEASIBLE:
        raise ValueError(f"unknown stability definition '{definition}'")
    return _feasible(problem, placed, wanted)


def _who(p: Problem, wanted: set[str] | None) -> list[Student]:
    """The students whose pairs are asked for, by id."""
    return sorted((s for s in p.students if wanted is None or s.student_id in wanted),
                  key=lambda s: s.student_id)


def int_order(problem: Problem) -> Callable[[str, str], int]:
    """:func:`station_order` as integers (same order, same ties): ``rankings.csv`` ranks as
    they are, then every other student after the largest rank by its place in the priority
    order. Integers compare much faster than tuples, and a province compares millions."""
    explicit = {(rk.workstation_id, rk.student_id): rk.rank for rk in problem.rankings}
    top = max(explicit.values(), default=0) + 1
    by_priority = sorted(problem.students, key=lambda s: (-s.priority, s.student_id))
    base = {s.student_id: top + k for k, s in enumerate(by_priority)}

    def key(wid: str, sid: str) -> int:
        own = explicit.get((wid, sid))
        return base[sid] if own is None else own

    return key if explicit else (lambda _wid, sid: base[sid])


class _Term:
    """What a workstation's (or a mentor's) term offers a newcomer: how many places are held
    and the largest holder key (the holder ranked lowest); a locked holder counts as -1."""

    __slots__ = ("held", "worst")

    def __init__(self) -> None:
        self.held = 0
        self.worst = LOCKED

    def add(self, key: int) -> None:
        self.held += 1
        if key > self.worst:
            self.worst = key


LOCKED = -1
"""The key of a locked holder: never below anyone."""
_EMPTY = _Term()


def _feasible(p: Problem, placed: Mapping[str, Held],
              wanted: set[str] | None = None) -> list[tuple[str, str]]:
    """The default definition. A term has room for a student of key ``mine`` exactly when it
    has a free place or its lowest-ranked holder is ranked below the student (``worst >
    mine``): one comparison per term, whatever the number of holders."""
    n_terms = len(p.terms)
    order = int_order(p)
    locked = {lk.student_id for lk in p.locks}
    stations = {w.workstation_id: w for w in p.workstations}
    ws_cap = {w.workstation_id: [w.capacity] * n_terms for w in p.workstations}
    for tc in p.term_capacities:
        ws_cap[tc.workstation_id][p.term_index[tc.term]] = tc.capacity
    mentors_of: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for m in sorted(p.mentors, key=lambda m: m.mentor_id):
        for d in m.disciplines:
            mentors_of[m.workstation_id, d].append((m.mentor_id, m.capacity))
    # Per workstation (and mentor), its terms as the holders leave them; and per workstation
    # the best chance it gives anyone: a free term, or the lowest-ranked holder anywhere.
    at_ws: dict[str, list[_Term]] = {}
    at_m: dict[str, list[_Term]] = {}
    s_load: dict[str, int] = defaultdict(int)
    who = _who(p, wanted)
    # Only the workstations someone asked about may be envied (explain asks for one student).
    asked = None if wanted is None else {w for st in who for w in st.preferences}
    for sid, h in placed.items():
        s_load[h.supervisor_id] += 1
        if asked is not None and h.workstation_id not in asked:
            continue
        key = LOCKED if sid in locked else order(h.workstation_id, sid)
        ws_terms = at_ws.get(h.workstation_id) or at_ws.setdefault(
            h.workstation_id, [_Term() for _ in range(n_terms)])
        m_terms = at_m.get(h.mentor_id) or at_m.setdefault(
            h.mentor_id, [_Term() for _ in range(n_terms)])
        for k in h.covered():
            ws_terms[k].add(key)
            m_terms[k].add(key)
    empty = [_EMPTY] * n_terms
    # None: some term of the workstation is free (anyone may find room); else the largest key
    # held anywhere in it (a student ranked at or above it finds no room in any term).
    chance: dict[str, int | None] = {}
    for wid, caps in ws_cap.items():
        if asked is not None and wid not in asked:
            continue
        held = at_ws.get(wid, empty)
        chance[wid] = (None if any(held[t].held < caps[t] for t in range(n_terms))
                       else max(c.worst for c in held))
    sups_of: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for sup in p.supervisors:
        for d in sup.disciplines:
            sups_of[sup.university_id, d].append(sup)
    sup_by_id = {sup.supervisor_id: sup for sup in p.supervisors}

    def supervisor_free(st: Student) -> bool:
        if st.student_id in placed:
            return True  # its own supervisor, its place counted as freed
        if st.supervisor_id is not None:
            given = sup_by_id[st.supervisor_id]
            return s_load[given.supervisor_id] < given.capacity
        return any(s_load[x.supervisor_id] < x.capacity
                   for x in sups_of[st.university_id, st.discipline])

    vetoed = {(v.student_id, v.workstation_id) for v in p.vetoes}
    grouped = {g.student_id for g in p.groups}
    opened = {h.workstation_id for h in placed.values()}
    out: list[tuple[str, str]] = []
    for st in who:
        sid = st.student_id
        if sid in locked or sid in grouped:
            continue
        here = placed.get(sid)
        better = _better(st, here)
        if not better or not supervisor_free(st):
            continue
        n, first, last = _window(p, st)
        plans: list[tuple[int, ...] | range] | None = None  # made when first needed
        window = range(first, last + 1)
        for wid in better:
            ws = stations[wid]
            if st.discipline not in ws.disciplines or (
                    ws.partner_universities and st.university_id not in ws.partner_universities):
                continue
            if (sid, wid) in vetoed or (ws.min_intake > 1 and wid not in opened):
                continue  # never allowed; or not open, and one student cannot open it
            mine = order(wid, sid)
            most = chance[wid]
            if most is not None and most <= mine:
                continue  # full in every term of students not below this one
            cap = ws_cap[wid]
            held = at_ws.get(wid, empty)
            # Terms of the window where the workstation could make room for the student.
            ws_ok = [t for t in window if held[t].held < cap[t] or held[t].worst > mine]
            if len(ws_ok) < n:
                continue
            if plans is None:
                plans = _plans(p, st, n, first, last)
            fits = [plan for plan in plans if all(t in ws_ok for t in plan)]
            if not fits:
                continue
            for mentor_id, m_cap in mentors_of[wid, st.discipline]:
                mh = at_m.get(mentor_id, empty)
                ok = {t for t in ws_ok if mh[t].held < m_cap or mh[t].worst > mine}
                if any(all(t in ok for t in plan) for plan in fits):
                    out.append((sid, wid))
                    break
    return out


def _strict(p: Problem, placed: Mapping[str, Held],
            wanted: set[str] | None = None) -> list[tuple[str, str]]:
    """The old definition: workstation places only (no mentors, supervisors or locks)."""
    terms = list(p.terms)
    order = station_order(p)
    stations = {w.workstation_id: w for w in p.workstations}
    ws_cap = {(w.workstation_id, k): w.capacity for w in p.workstations
              for k in range(len(terms))}
    for tc in p.term_capacities:
        ws_cap[tc.workstation_id, p.term_index[tc.term]] = tc.capacity
    holders: dict[tuple[str, int], list[str]] = defaultdict(list)
    for sid, h in placed.items():
        for k in h.covered():
            holders[h.workstation_id, k].append(sid)
    vetoed = {(v.student_id, v.workstation_id) for v in p.vetoes}
    out: list[tuple[str, str]] = []
    for st in _who(p, wanted):
        here = placed.get(st.student_id)
        better = _better(st, here)
        n, first, last = _window(p, st)
        for wid in better:
            ws = stations[wid]
            if st.discipline not in ws.disciplines or (
                    ws.partner_universities and st.university_id not in ws.partner_universities):
                continue
            if (st.student_id, wid) in vetoed:
                continue
            mine = order(wid, st.student_id)
            for k in range(first, last - n + 2):
                block = range(k, k + n)
                if any(ws_cap[wid, t] == 0 for t in block):
                    continue
                if all(len(holders[wid, t]) < ws_cap[wid, t]
                       or any(order(wid, j) > mine for j in holders[wid, t]) for t in block):
                    out.append((st.student_id, wid))
                    break
    return out
