"""Why one student got what they got: ``matcher explain SCENARIO RESULT_DIR STUDENT_ID``.

An explanation is read off the problem and the final allocation, like the checker's verdict: it
works on ids straight from the :class:`~matcher.model.Problem` and shares no code with the
solvers (it re-derives the rules itself). It answers, for one student:

* **why this placement** — the workstation, its rank on the student's list, mentor, supervisor
  and terms, and what fixed it (a lock, a given supervisor, a rewarded pair);
* **why not each better-ranked choice** — the rule that rules it out (``discipline``,
  ``partnership``, ``mentor``: no mentor for the discipline, ``window``: no open block of terms
  inside the student's window, ``lock``), or the terms in which it is full, who holds those
  places, their standing under the workstation's ranking (``rankings.csv``, else higher
  ``priority`` first, then ``student_id``) and whether the student would have been ahead of
  them; or that its mentors or the supervisors are fully booked;
* for an **unassigned** student, the smallest single change that would place them: one more
  place at a named workstation in named terms, one more student for a mentor (or another mentor
  at a workstation), one more supervisor place, or a longer window. Each candidate is built so
  that the current allocation plus the student keeps every rule of the changed problem (checked
  with the independent checker), then the first few are **verified by re-solving** the changed
  problem (with the result's solver, seed and workers, under a short time limit): a candidate is
  verified when the re-solve places the student, or, when the new room went to another student
  of equal claim, when a re-solve with the student locked there places them without placing
  fewer students in all. Candidates are ordered by size: the number of capacities or terms
  changed (then places before mentors, supervisors and windows, then the student's own ranks).

The workstation's ranking does not enter the objective (place as many as possible, then the best
preference ranks), so a holder the student would be ahead of is a fact worth telling, not a rule
that was broken.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import progress as _progress
from ..check import check
from ..model import (
    Lock,
    Mentor,
    Placement,
    Problem,
    Result,
    Status,
    Student,
    Supervisor,
    TermCapacity,
)
from ..solvers import solve

DEFAULT_RESOLVE_LIMIT_S = 30.0
"""Cap on the time limit of one verifying re-solve (the result's own limit if shorter)."""

_KIND_ORDER = {"none": 0, "place": 1, "mentor": 2, "supervisor": 3, "window": 4}


class ExplainError(ValueError):
    """The student or the result cannot be explained against this scenario (a user error)."""


@dataclass(frozen=True)
class Holder:
    """A student holding a contested place.

    Attributes
    ----------
    student_id
        The holder.
    standing
        Their standing under the workstation's ranking, e.g. ``"priority 80"`` or
        ``"ranked 2 by W2"``.
    their_rank
        The workstation's rank on the holder's own list (None: not on it).
    student_ahead
        True when the explained student would be ahead of the holder under that ranking.
    """

    student_id: str
    standing: str
    their_rank: int | None
    student_ahead: bool


@dataclass(frozen=True)
class FullTerm:
    """A term in which a workstation has no free place."""

    term: str
    capacity: int
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class ChoiceReason:
    """Why the student is not at one workstation.

    Attributes
    ----------
    workstation_id
        The workstation.
    rank
        Its position on the student's list (None for a workstation not on it).
    kind
        ``discipline``, ``partnership``, ``mentor``, ``window``, ``lock`` (rules), ``full``
        (full terms), ``mentors_full``, ``supervisor`` (no supervisor with room) or ``free``
        (it had room: the result is not optimal).
    text
        One line for a person.
    full_terms
        For ``full`` (and the full blocks behind ``mentors_full``): the full terms and holders.
    """

    workstation_id: str
    rank: int | None
    kind: str
    text: str
    full_terms: tuple[FullTerm, ...] = ()


@dataclass(frozen=True)
class Change:
    """One single change that makes room for an unassigned student.

    Attributes
    ----------
    kind
        ``place`` (workstation capacity in named terms), ``mentor`` (mentor capacity or a new
        mentor), ``supervisor`` (supervisor capacity or a new supervisor), ``window`` (the
        student's window) or ``none`` (there is room already: the result is not optimal).
    text
        The change in words.
    size
        How many capacities or terms it changes (0 for ``none``); smaller is smaller.
    workstation_id, terms
        Where the student would go under this change.
    verified
        True: re-solving the changed problem placed the student, either as it is or with the
        student locked at the workstation without placing fewer students in all (see
        ``verified_by``); False: neither did; None: not re-solved (only the first few are).
    verification
        What the re-solves did, in words.
    verified_by
        ``"re-solve"`` or ``"re-solve with a lock"`` when verified.
    problem
        The changed problem.
    """

    kind: str
    text: str
    size: int
    workstation_id: str
    terms: tuple[str, ...]
    verified: bool | None = None
    verification: str = "not re-solved"
    verified_by: str = ""
    problem: Problem | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Explanation:
    """The explanation of one student's outcome; :meth:`text` renders it for a person."""

    student_id: str
    placement: Placement | None
    profile: str
    why: tuple[str, ...]
    choices: tuple[ChoiceReason, ...]
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def placed(self) -> bool:
        """True when the student is placed."""
        return self.placement is not None

    def text(self) -> str:
        """The explanation as plain text, for the terminal or an e-mail to the student."""
        out = [self.profile, ""]
        out += self.why
        if self.choices:
            out += ["", "Better-ranked choices:" if self.placed else "The student's choices:"]
            for c in self.choices:
                head = f"  {c.rank}. " if c.rank is not None else "  - "
                out.append(f"{head}{c.workstation_id}: {c.text}")
                for terms, ft in _grouped(c.full_terms):
                    holders = "; ".join(_holder_text(h) for h in ft.holders)
                    each = " each" if len(terms) > 1 else ""
                    out.append(f"       {_names(terms)} ({len(ft.holders)} of {ft.capacity} "
                               f"places{each}): {holders or 'closed'}")
        if self.changes:
            out += ["", "Smallest single changes that would place the student (smallest first):"]
            for k, ch in enumerate(self.changes, start=1):
                mark = {True: f"verified by {ch.verified_by}", False: "not verified",
                        None: "not re-solved"}[ch.verified]
                out.append(f"  {k}. {ch.text} [{mark}]")
                if ch.verified is not None:
                    out.append(f"       {ch.verification}")
        if self.notes:
            out += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data (for ``--json``)."""
        return {
            "student_id": self.student_id,
            "placement": None if self.placement is None else vars(self.placement),
            "profile": self.profile,
            "why": list(self.why),
            "choices": [{"workstation_id": c.workstation_id, "rank": c.rank, "kind": c.kind,
                         "text": c.text,
                         "full_terms": [{"term": f.term, "capacity": f.capacity,
                                         "holders": [vars(h) for h in f.holders]}
                                        for f in c.full_terms]} for c in self.choices],
            "changes": [{"kind": c.kind, "text": c.text, "size": c.size,
                         "workstation_id": c.workstation_id, "terms": list(c.terms),
                         "verified": c.verified, "verified_by": c.verified_by,
                         "verification": c.verification}
                        for c in self.changes],
            "notes": list(self.notes),
        }


def _grouped(full_terms: Iterable[FullTerm]) -> list[tuple[list[str], FullTerm]]:
    """Consecutive terms with the same capacity and holders, shown once."""
    out: list[tuple[list[str], FullTerm]] = []
    for ft in full_terms:
        if out and (out[-1][1].capacity, out[-1][1].holders) == (ft.capacity, ft.holders):
            out[-1][0].append(ft.term)
        else:
            out.append(([ft.term], ft))
    return out


def _holder_text(h: Holder) -> str:
    rank = f"their choice {h.their_rank}" if h.their_rank is not None else "not on their list"
    ahead = ", the student would be ahead" if h.student_ahead else ""
    return f"{h.student_id} ({h.standing}, {rank}{ahead})"


def _names(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---- the allocation as the explanation sees it ---------------------------------------------------
@dataclass
class _Row:
    student_id: str
    workstation_id: str
    mentor_id: str
    supervisor_id: str
    start: int
    end: int


class _State:
    """Indexes of the problem and the allocation, by id (no solver encoding)."""

    def __init__(self, problem: Problem, rows: list[dict[str, str]]):
        p = problem
        self.p = p
        self.terms = list(p.terms)
        self.students = {s.student_id: s for s in p.students}
        self.stations = {w.workstation_id: w for w in p.workstations}
        self.mentors = {m.mentor_id: m for m in p.mentors}
        self.sups = {s.supervisor_id: s for s in p.supervisors}
        self.ws_cap = {(w.workstation_id, t): w.capacity for w in p.workstations
                       for t in self.terms}
        for tc in p.term_capacities:
            self.ws_cap[tc.workstation_id, tc.term] = tc.capacity
        self.rankings = {(rk.workstation_id, rk.student_id): rk.rank for rk in p.rankings}
        self.ranked_by = {rk.workstation_id for rk in p.rankings}
        self.locks = {lk.student_id: lk for lk in p.locks}
        self.pairs = {(pr.supervisor_id, pr.mentor_id): pr.weight for pr in p.pairs}
        self.mentors_at: dict[str, list[Mentor]] = defaultdict(list)
        for m in sorted(p.mentors, key=lambda m: m.mentor_id):
            self.mentors_at[m.workstation_id].append(m)
        self.rows: dict[str, _Row] = {}
        self.ws_load: Counter[tuple[str, str]] = Counter()
        self.m_load: Counter[tuple[str, str]] = Counter()
        self.s_load: Counter[str] = Counter()
        self.holders: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.mentees: dict[tuple[str, str], list[str]] = defaultdict(list)
        tix = p.term_index
        for r in rows:
            sid, wid = r.get("student_id", ""), r.get("workstation_id", "")
            if r.get("start_term") not in tix or r.get("end_term") not in tix \
                    or sid in self.rows:
                continue  # the checker reports these; nothing to count
            row = _Row(sid, wid, r.get("mentor_id", ""), r.get("supervisor_id", ""),
                       tix[r["start_term"]], tix[r["end_term"]])
            self.rows[sid] = row
            for k in range(row.start, row.end + 1):
                self.ws_load[wid, self.terms[k]] += 1
                self.m_load[row.mentor_id, self.terms[k]] += 1
                self.holders[wid, self.terms[k]].append(sid)
                self.mentees[row.mentor_id, self.terms[k]].append(sid)
            self.s_load[row.supervisor_id] += 1

    # ---- the workstation's ranking -------------------------------------------------------------
    def order(self, wid: str, sid: str) -> tuple[Any, ...]:
        """Ranking key of student ``sid`` at ``wid``; lower is ahead."""
        own = self.rankings.get((wid, sid))
        if own is not None:
            return (0, own, "")
        return (1, -self.students[sid].priority, sid)

    def standing(self, wid: str, sid: str) -> str:
        own = self.rankings.get((wid, sid))
        if own is not None:
            return f"ranked {own} by {wid}"
        pri = f"priority {self.students[sid].priority:g}"
        return f"not ranked by {wid}, {pri}" if wid in self.ranked_by else pri

    # ---- the student's own rules -------------------------------------------------------------
    def block(self, st: Student) -> tuple[int, int, int]:
        """(n, first, last): block length and window of the student."""
        first, last = self.p.window(st)
        return self.p.block_terms(st), first, last

    def sup_options(self, st: Student) -> list[Supervisor]:
        """Supervisors the student may get (capacity aside)."""
        if st.supervisor_id is not None:
            return [self.sups[st.supervisor_id]]
        return sorted((s for s in self.p.supervisors if s.university_id == st.university_id
                       and st.discipline in s.disciplines), key=lambda s: s.supervisor_id)

    def mentor_options(self, wid: str, discipline: str) -> list[Mentor]:
        return [m for m in self.mentors_at[wid] if discipline in m.disciplines]

    def mentor_has_room(self, m: Mentor, block: Iterable[str]) -> bool:
        return all(self.m_load[m.mentor_id, t] < m.capacity for t in block)

    def rule_against(self, st: Student, wid: str) -> tuple[str, str] | None:
        """(kind, text) of a rule that rules ``wid`` out for the student whatever others get."""
        w = self.stations[wid]
        lock = self.locks.get(st.student_id)
        if lock is not None and lock.workstation_id != wid:
            return "lock", f"locks.csv fixes the student at {lock.workstation_id}"
        if st.discipline not in w.disciplines:
            return "discipline", (f"does not take discipline {st.discipline} (it takes "
                                  f"{', '.join(w.disciplines)})")
        if w.partner_universities and st.university_id not in w.partner_universities:
            return "partnership", (f"takes only students of its partner universities "
                                   f"{', '.join(w.partner_universities)}, not "
                                   f"{st.university_id}")
        if not any(m.capacity > 0 for m in self.mentor_options(wid, st.discipline)):
            return "mentor", f"has no enterprise mentor for discipline {st.discipline}"
        n, first, last = self.block(st)
        if not self.open_blocks(st, wid):
            closed = sorted({self.terms[k] for k in range(first, last + 1)
                             if self.ws_cap[wid, self.terms[k]] == 0},
                            key=self.terms.index)
            return "window", (f"is closed in {_names(closed)}, so no {n}-term block fits the "
                              f"student's window {self.terms[first]}..{self.terms[last]}")
        return None

    def open_blocks(self, st: Student, wid: str) -> list[list[str]]:
        """Blocks of terms inside the window with ``wid`` open in every term."""
        n, first, last = self.block(st)
        out = []
        for k in range(first, last - n + 2):
            block = self.terms[k:k + n]
            if all(self.ws_cap[wid, t] > 0 for t in block):
                out.append(block)
        return out


# ---- why not a choice ----------------------------------------------------------------------------
def _why_not(s: _State, st: Student, wid: str, rank: int | None, placed: bool) -> ChoiceReason:
    rule = s.rule_against(st, wid)
    if rule is not None:
        return ChoiceReason(wid, rank, rule[0], rule[1])
    blocks = s.open_blocks(st, wid)
    full_terms: set[str] = set()
    mentor_blocked: list[list[str]] = []
    free: list[list[str]] = []
    for block in blocks:
        full = [t for t in block if s.ws_load[wid, t] >= s.ws_cap[wid, t]]
        if full:
            full_terms.update(full)
            continue
        if not any(s.mentor_has_room(m, block) for m in s.mentor_options(wid, st.discipline)):
            mentor_blocked.append(block)
            continue
        free.append(block)
    detail = tuple(_full_term(s, st, wid, t) for t in sorted(full_terms, key=s.terms.index))
    if free:  # the full terms of other blocks do not matter then
        sups = s.sup_options(st)
        if not placed and not any(s.s_load[x.supervisor_id] < x.capacity for x in sups):
            return ChoiceReason(wid, rank, "supervisor",
                                f"had room from {free[0][0]}, but {_sup_full_text(s, st)}")
        return ChoiceReason(wid, rank, "free",
                            f"had room from {free[0][0]} with a mentor free; this result is not "
                            "proven optimal (re-run with a longer time limit or the cpsat "
                            "solver)")
    if mentor_blocked:
        booked = []
        for m in s.mentor_options(wid, st.discipline):
            busy = [t for t in sorted({t for b in mentor_blocked for t in b}, key=s.terms.index)
                    if s.m_load[m.mentor_id, t] >= m.capacity]
            if busy:
                who = sorted({x for t in busy for x in s.mentees[m.mentor_id, t]})
                booked.append(f"{m.mentor_id} (capacity {m.capacity}; full in "
                              f"{_names(busy)}: {', '.join(who)})")
            elif m.capacity == 0:
                booked.append(f"{m.mentor_id} (capacity 0)")
        text = (f"had free places from {mentor_blocked[0][0]}, but its mentors for "
                f"{st.discipline} are fully booked then: {'; '.join(booked)}")
        if full_terms:
            text += f"; in the other blocks it is full in {_names([f.term for f in detail])}"
        return ChoiceReason(wid, rank, "mentors_full", text, detail)
    n, first, last = s.block(st)
    ahead = sorted({h.student_id for f in detail for h in f.holders if h.student_ahead})
    if len(blocks) == 1:
        text = f"full in {_names([f.term for f in detail])}, the terms the student needs"
    else:
        text = (f"every {n}-term block inside the window {s.terms[first]}..{s.terms[last]} "
                f"meets a full term: {_names([f.term for f in detail])}")
    if ahead:
        text += (f"; under {wid}'s ranking the student ({s.standing(wid, st.student_id)}) would "
                 f"be ahead of {_names(ahead)}, but the allocation follows the students' "
                 "preferences (place as many as possible, then the best ranks), not the "
                 "workstations' rankings")
    else:
        text += f"; every holder is ahead of the student under {wid}'s ranking"
    return ChoiceReason(wid, rank, "full", text, detail)


def _full_term(s: _State, st: Student, wid: str, term: str) -> FullTerm:
    mine = s.order(wid, st.student_id)
    holders = []
    for h in sorted(s.holders[wid, term], key=lambda h: s.order(wid, h)):
        prefs = s.students[h].preferences if h in s.students else ()
        holders.append(Holder(h, s.standing(wid, h), prefs.index(wid) + 1 if wid in prefs
                              else None, mine < s.order(wid, h)))
    return FullTerm(term, s.ws_cap[wid, term], tuple(holders))


def _sup_full_text(s: _State, st: Student) -> str:
    sups = s.sup_options(st)
    if len(sups) == 1:
        x = sups[0]
        who = sorted(r.student_id for r in s.rows.values() if r.supervisor_id == x.supervisor_id)
        role = "the given supervisor" if st.supervisor_id is not None else (
            f"the only supervisor of {st.university_id} for {st.discipline},")
        return (f"{role} {x.supervisor_id} is full ({s.s_load[x.supervisor_id]} of "
                f"{x.capacity} students" + (f": {', '.join(who)}" if who else "") + ")")
    loads = ", ".join(f"{x.supervisor_id} {s.s_load[x.supervisor_id]}/{x.capacity}"
                      for x in sups[:6])
    return (f"all {len(sups)} supervisor(s) of {st.university_id} for {st.discipline} are full "
            f"({loads}{' …' if len(sups) > 6 else ''})")


# ---- why this placement --------------------------------------------------------------------------
def _why_here(s: _State, st: Student, row: _Row) -> list[str]:
    terms = s.terms
    rank = st.preferences.index(row.workstation_id) + 1 if row.workstation_id in \
        st.preferences else None
    where = (f"choice {rank} of {len(st.preferences)}" if rank is not None
             else "not on the student's list")
    span = (f"{terms[row.start]}..{terms[row.end]}" if row.end > row.start
            else terms[row.start])
    out = [f"Placed at {row.workstation_id} ({where}) with enterprise mentor {row.mentor_id} "
           f"and campus supervisor {row.supervisor_id}, {span} "
           f"({row.end - row.start + 1} term(s), {s.p.required_months(st)} months)."]
    lock = s.locks.get(st.student_id)
    if lock is not None:
        out.append(f"locks.csv fixes this student at {lock.workstation_id}"
                   + (f" with mentor {lock.mentor_id}" if lock.mentor_id else "")
                   + (f" from {lock.start_term}" if lock.start_term else "") + ".")
    if rank == 1:
        out.append("This is the student's first choice.")
    elif rank is None and st.preferences:
        out.append("None of the listed choices could take the student (see below); placing as "
                   "many students as possible comes before preference ranks, so the student "
                   "is placed at a workstation that fits but was not listed.")
    elif rank is None:
        out.append("The student listed no workstation; any fitting workstation may be given.")
    elif rank == 2:
        out.append("Choice 1 could not take the student (see below).")
    else:
        out.append(f"Choices 1 to {rank - 1} could not take the student (see below).")
    if st.supervisor_id is not None:
        out.append(f"Supervisor {row.supervisor_id} was given in students.csv.")
    else:
        n_sup = len(s.sup_options(st))
        out.append(f"Supervisor {row.supervisor_id} was chosen among the {n_sup} supervisor(s) "
                   f"of {st.university_id} for discipline {st.discipline}.")
    weight = s.pairs.get((row.supervisor_id, row.mentor_id))
    if weight is not None and s.p.objective.pair_weight:
        out.append(f"{row.supervisor_id} and {row.mentor_id} are an existing collaboration "
                   f"(pairs.csv, weight {weight:g}), which the objective rewards.")
    return out


# ---- smallest changes for an unassigned student --------------------------------------------------
@dataclass
class _Candidate:
    kind: str
    text: str
    size: int
    wid: str
    start: int
    block: list[str]
    mentor_id: str
    supervisor_id: str
    update: dict[str, Any]
    sort_key: tuple[Any, ...]
    key_terms: list[str]


def _with(problem: Problem, **update: Any) -> Problem:
    """A validated copy of the frozen problem with some fields replaced."""
    fields = {name: getattr(problem, name) for name in type(problem).model_fields}
    return Problem.model_validate({**fields, **update})


def _candidates(s: _State, st: Student) -> list[_Candidate]:
    """Every single change that makes room for the student next to the current allocation."""
    p = s.p
    n, first, last = s.block(st)
    listed = {w: r for r, w in enumerate(st.preferences, start=1)}
    lock = s.locks.get(st.student_id)
    sups = s.sup_options(st)
    sup_room = [x for x in sups if s.s_load[x.supervisor_id] < x.capacity]
    out: list[_Candidate] = []
    stations = sorted(s.stations)
    if lock is not None:
        stations = [lock.workstation_id]
    elif p.policy.preferences_only:
        stations = [w for w in stations if w in listed]
    for wid in stations:
        w = s.stations[wid]
        if st.discipline not in w.disciplines or (
                w.partner_universities and st.university_id not in w.partner_universities):
            continue
        mentors = s.mentor_options(wid, st.discipline)
        if lock is not None and lock.mentor_id is not None:
            mentors = [m for m in mentors if m.mentor_id == lock.mentor_id]
        for k in range(0, len(s.terms) - n + 1):
            if lock is not None and lock.start_term is not None \
                    and s.terms[k] != lock.start_term:
                continue
            block = s.terms[k:k + n]
            extra = max(0, first - k) + max(0, k + n - 1 - last)
            full = [t for t in block if s.ws_load[wid, t] >= s.ws_cap[wid, t]]
            m_room = [m for m in mentors if s.mentor_has_room(m, block)]
            needs = [kind for kind, need in (("window", extra), ("place", full),
                                             ("mentor", not m_room),
                                             ("supervisor", not sup_room)) if need]
            if len(needs) > 1:
                continue  # not a single change
            rank = listed.get(wid)
            base = (rank is None, rank or 0, wid, k)
            kind = needs[0] if needs else "none"
            m_id = m_room[0].mentor_id if m_room else ""
            s_id = sup_room[0].supervisor_id if sup_room else ""
            update: dict[str, Any] = {}
            if kind == "none":
                text = (f"no change: {wid} has room from {block[0]} with mentor {m_id} free "
                        "(this result is not proven optimal); re-run with a longer time limit")
                size = 0
            elif kind == "window":
                new_start = s.terms[k] if k < first else None
                new_end = s.terms[k + n - 1] if k + n - 1 > last else None
                parts = []
                if new_start:
                    parts.append(f"starting {new_start} ({first - k} term(s) earlier)")
                if new_end:
                    parts.append(f"ending {new_end} ({k + n - 1 - last} term(s) later)")
                text = (f"a longer window for {st.student_id}: {' and '.join(parts)}, which "
                        f"opens {wid} from {block[0]}")
                size = extra
                changed = st.model_copy(update={
                    "window_start": new_start or s.terms[first],
                    "window_end": new_end or s.terms[last]})
                update["students"] = tuple(changed if x.student_id == st.student_id else x
                                           for x in p.students)
            elif kind == "place":
                caps = {t: s.ws_cap[wid, t] for t in full}
                shown = ", ".join(f"{t}: {c} → {c + 1}" if c else f"{t}: closed → 1"
                                  for t, c in caps.items())
                text = (f"one more place at {wid} in {_names(full)} ({shown})")
                size = len(full)
                kept = [tc for tc in p.term_capacities
                        if not (tc.workstation_id == wid and tc.term in caps)]
                update["term_capacities"] = tuple(kept) + tuple(
                    TermCapacity(workstation_id=wid, term=t, capacity=c + 1)
                    for t, c in caps.items())
            elif kind == "mentor":
                size = 1
                raisable = [m for m in mentors
                            if all(s.m_load[m.mentor_id, t] <= m.capacity for t in block)]
                if raisable:
                    m = raisable[0]
                    m_id = m.mentor_id
                    text = (f"one more student for mentor {m_id} at {wid} (capacity "
                            f"{m.capacity} → {m.capacity + 1} per term), from {block[0]}")
                    update["mentors"] = tuple(
                        x.model_copy(update={"capacity": x.capacity + 1})
                        if x.mentor_id == m_id else x for x in p.mentors)
                else:
                    m_id = _fresh_id(f"{wid}-M-NEW", s.mentors)
                    text = (f"another enterprise mentor for {st.discipline} at {wid} (e.g. "
                            f"{m_id}, 1 student per term), from {block[0]}")
                    update["mentors"] = (*p.mentors, Mentor(
                        mentor_id=m_id, workstation_id=wid, disciplines=(st.discipline,),
                        capacity=1))
            else:  # supervisor
                size = 1
                if sups:
                    x = sups[0]
                    s_id = x.supervisor_id
                    text = (f"one more supervisor place: {s_id} takes "
                            f"{x.capacity + 1} students instead of {x.capacity} "
                            f"(then {wid} from {block[0]})")
                    update["supervisors"] = tuple(
                        y.model_copy(update={"capacity": y.capacity + 1})
                        if y.supervisor_id == s_id else y for y in p.supervisors)
                else:
                    s_id = _fresh_id(f"{st.university_id}-S-NEW", s.sups)
                    text = (f"another campus supervisor at {st.university_id} for "
                            f"{st.discipline} (e.g. {s_id}, 1 student; then {wid} from "
                            f"{block[0]})")
                    update["supervisors"] = (*p.supervisors, Supervisor(
                        supervisor_id=s_id, university_id=st.university_id,
                        disciplines=(st.discipline,), capacity=1))
            out.append(_Candidate(kind, text, size, wid, k, block, m_id, s_id, update,
                                  (size, _KIND_ORDER[kind], *base), full))
    # one candidate per distinct change (the best placement it opens)
    best: dict[Any, _Candidate] = {}
    for c in sorted(out, key=lambda c: c.sort_key):
        key: Any
        if c.kind == "place":
            key = ("place", c.wid, tuple(c.key_terms))
        elif c.kind == "mentor":
            key = ("mentor", c.wid, c.mentor_id)
        elif c.kind == "supervisor":
            key = ("supervisor", c.supervisor_id)
        elif c.kind == "window":
            key = ("window", c.start)
        else:
            key = ("none",)
        best.setdefault(key, c)
    return sorted(best.values(), key=lambda c: c.sort_key)


def _fresh_id(stem: str, taken: Mapping[str, Any]) -> str:
    k = 1
    while f"{stem}{k}" in taken:
        k += 1
    return f"{stem}{k}"


class _Verifier:
    """Re-solves changed problems to confirm that a change places the student."""

    def __init__(self, student_id: str, placed_before: int, solver: str, time_limit_s: float,
                 seed: int, workers: int, solve: Any):
        self.sid = student_id
        self.before = placed_before
        self.solver = solver
        self.limit = time_limit_s
        self.seed = seed
        self.workers = workers
        self.solve = solve

    def _run(self, problem: Problem) -> tuple[Result, Placement | None]:
        res: Result = self.solve(problem, self.solver, time_limit_s=self.limit, seed=self.seed,
                                 workers=self.workers)
        return res, next((pl for pl in res.placements if pl.student_id == self.sid), None)

    def verify(self, ch: Change, may_lock: bool) -> Change:
        """The change with its verdict: first a plain re-solve, then one with a lock."""
        assert ch.problem is not None
        res, got = self._run(ch.problem)
        head = (f"re-solved with {self.solver} ({res.status.value}, {res.wall_seconds:.1f} s, "
                f"limit {self.limit:g} s): ")
        if got is not None:
            text = (f"{head}{self.sid} placed at {got.workstation_id}, "
                    f"{got.start_term}..{got.end_term}; {res.placed} placed (was {self.before})")
            return replace(ch, verified=True, verification=text, verified_by="re-solve")
        if res.status in (Status.UNKNOWN, Status.INFEASIBLE):
            text = (f"{head}nothing found within the limit, so nothing is confirmed; try a "
                    "longer --time-limit")
            return replace(ch, verified=False, verification=text)
        text = f"{head}{self.sid} still unassigned ({res.placed} placed, was {self.before})"
        if not may_lock:
            return replace(ch, verified=False, verification=text)
        # the room went to someone else: would the change place the student if the office
        # also locked them there, without placing fewer students in all?
        lock = Lock(student_id=self.sid, workstation_id=ch.workstation_id,
                    start_term=ch.terms[0])
        locked_problem = _with(ch.problem, locks=(*ch.problem.locks, lock))
        res2, got2 = self._run(locked_problem)
        if got2 is not None and res2.placed >= res.placed:
            text += (f"; with {self.sid} locked at {ch.workstation_id} from {ch.terms[0]} "
                     f"({res2.status.value}, {res2.wall_seconds:.1f} s): {self.sid} placed and "
                     f"{res2.placed} placed in all, no fewer than without the lock")
            return replace(ch, verified=True, verification=text,
                           verified_by="re-solve with a lock")
        text += (f"; with {self.sid} locked at {ch.workstation_id}: {res2.status.value}, "
                 f"{res2.placed} placed" + ("" if got2 is not None else
                                            f", {self.sid} not placed"))
        return replace(ch, verified=False, verification=text)


# ---- entry point ---------------------------------------------------------------------------------
def _rows_of(result: Result | Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    if isinstance(result, Result):
        return [{k: "" if v is None else str(v) for k, v in vars(pl).items()}
                for pl in result.placements]
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in result]


def explain(problem: Problem, result: Result | Iterable[Mapping[str, Any]], student_id: str, *,
            solver: str | None = None, time_limit_s: float | None = None,
            seed: int | None = None, workers: int | None = None, verify: int = 3,
            show: int = 6) -> Explanation:
    """Explain one student's outcome in an allocation.

    Parameters
    ----------
    problem
        The scenario.
    result
        A :class:`~matcher.model.Result` (for example from :func:`matcher.read_result`)
        or rows with the ``assignments.csv`` columns.
    student_id
        The student to explain.
    solver, time_limit_s, seed, workers
        How to re-solve when verifying changes. Defaults: the result's solver, seed and workers
        (``cpsat``, the scenario's seed and workers for plain rows) and a time limit of
        ``min(result's limit, 30 s)``.
    verify
        How many of the smallest candidate changes to verify by re-solving (0: none).
    show
        How many candidate changes to list at most.

    Returns
    -------
    Explanation
        Render it with :meth:`Explanation.text`.

    Raises
    ------
    ExplainError
        When the student is unknown or the result does not fit the scenario.
    """
    p = problem
    rows = _rows_of(result)
    s = _State(p, rows)
    st = s.students.get(student_id)
    if st is None:
        raise ExplainError(f"student '{student_id}' is not in students.csv of scenario "
                           f"'{p.name}'; give a student_id from that file")
    baseline = check(p, rows)
    unknown = [v for v in baseline.violations if "unknown" in v]
    if unknown:
        raise ExplainError(f"the result does not fit scenario '{p.name}' ({unknown[0]}); give "
                           "the scenario the result was solved from")
    status = result.status if isinstance(result, Result) else None
    n, first, last = s.block(st)
    prefs = ", ".join(st.preferences) if st.preferences else "none listed"
    profile = (f"{st.student_id}: {st.university_id}, discipline {st.discipline}, needs {n} "
               f"term(s) ({p.required_months(st)} months) within {s.terms[first]}.."
               f"{s.terms[last]}; choices: {prefs}")
    notes: list[str] = [v for v in baseline.violations if student_id in v]
    row = s.rows.get(student_id)
    placement = None
    if isinstance(result, Result):
        placement = next((pl for pl in result.placements if pl.student_id == student_id), None)
    elif row is not None:
        rank = st.preferences.index(row.workstation_id) + 1 \
            if row.workstation_id in st.preferences else None
        placement = Placement(student_id, row.workstation_id, row.mentor_id, row.supervisor_id,
                              s.terms[row.start], s.terms[row.end], rank)

    if row is not None:
        why = _why_here(s, st, row)
        cutoff = (st.preferences.index(row.workstation_id) if row.workstation_id in
                  st.preferences else len(st.preferences))
        choices = [_why_not(s, st, w, r, True)
                   for r, w in enumerate(st.preferences[:cutoff], start=1)]
        return Explanation(student_id, placement, profile, tuple(why), tuple(choices),
                           notes=tuple(notes))

    # ---- unassigned ----
    why = ["Not placed."]
    if isinstance(result, Result):
        reason = dict(result.reasons("en")).get(student_id)
        if reason:
            why.append(f"Reason recorded with the result: {reason}.")
    if status == Status.INFEASIBLE:
        why.append("The result is INFEASIBLE: no allocation keeps every rule (usually locks "
                   "that cannot all be honoured), so nobody is placed; fix that first"
                   + (f" ({result.message})" if isinstance(result, Result) and result.message
                      else "") + ".")
        return Explanation(student_id, None, profile, tuple(why), (), notes=tuple(notes))
    sups = s.sup_options(st)
    if not sups:
        why.append(f"No campus supervisor of {st.university_id} takes discipline "
                   f"{st.discipline}.")
    elif not any(s.s_load[x.supervisor_id] < x.capacity for x in sups):
        text = _sup_full_text(s, st)
        why.append(text[0].upper() + text[1:] + ".")
    choices = [_why_not(s, st, w, r, False) for r, w in enumerate(st.preferences, start=1)]
    if st.student_id in s.locks:
        why.append(f"locks.csv fixes the student at {s.locks[st.student_id].workstation_id}.")
    elif p.policy.preferences_only:
        why.append("preferences_only is on: workstations not on the student's list are not "
                   "considered.")
    elif len(st.preferences) < len(s.stations):
        others = [w for w in sorted(s.stations) if w not in st.preferences]
        tally: Counter[str] = Counter(_why_not(s, st, w, None, False).kind for w in others)
        fitting = sum(c for k, c in tally.items()
                      if k not in ("discipline", "partnership", "mentor", "window", "lock"))
        words = {"full": "full in the needed terms", "mentors_full": "with mentors fully booked",
                 "supervisor": "with room but no supervisor free", "free": "with room"}
        parts = [f"{tally[k]} {words[k]}" for k in words if tally[k]]
        why.append(f"Workstations not on the list may also be given: of the {len(others)} "
                   f"others, {fitting} fit the student"
                   + (f" ({', '.join(parts)})" if parts else "") + ".")

    cands = _candidates(s, st)
    changes: list[Change] = []
    base_violations = set(baseline.violations)
    res_solver = solver or (result.solver if isinstance(result, Result) else None) or "cpsat"
    res_seed = seed if seed is not None else (result.seed if isinstance(result, Result)
                                              else p.solver.seed)
    res_workers = workers if workers is not None else (
        result.workers if isinstance(result, Result) else p.solver.workers)
    if time_limit_s is None:
        own = result.time_limit_s if isinstance(result, Result) and result.time_limit_s > 0 \
            else p.solver.time_limit_s
        time_limit_s = min(own, DEFAULT_RESOLVE_LIMIT_S)
    for c in cands:
        if len(changes) >= show:
            break
        changed = _with(p, **c.update) if c.update else p
        witness = [*rows, {"student_id": st.student_id, "workstation_id": c.wid,
                           "mentor_id": c.mentor_id, "supervisor_id": c.supervisor_id,
                           "start_term": c.block[0], "end_term": c.block[-1],
                           "preference_rank": ""}]
        if not set(check(changed, witness).violations) <= base_violations:
            continue  # the change does not make room after all: never suggest it
        changes.append(Change(c.kind, c.text, c.size, c.wid, tuple(c.block), problem=changed))
    to_verify = changes[:max(verify, 0)]
    verifier = _Verifier(student_id, len(s.rows), res_solver, time_limit_s, res_seed,
                         res_workers, solve)
    with _progress.progress(f"verifying changes for {student_id}", total=len(to_verify),
                            limit_s=time_limit_s * len(to_verify)) as bar:
        for k, ch in enumerate(to_verify):
            changes[k] = verifier.verify(ch, st.student_id not in s.locks)
            bar.advance()
    if not changes:
        why.append("No single change of the kinds considered (one more workstation place, "
                   "mentor place or supervisor place, or a longer window) makes room for the "
                   "student; the rules above rule out every workstation.")
    elif to_verify and not any(ch.verified for ch in changes):
        notes.append("Each listed change makes room next to the current allocation (checked "
                     "with the independent checker), but no re-solve confirmed it within the "
                     "time limit; try a longer --time-limit.")
    if status is not None and status != Status.OPTIMAL and status != Status.INFEASIBLE:
        notes.append(f"The result is {status.value}, not proven optimal: a longer solve may "
                     "place the student without any change.")
    return Explanation(student_id, None, profile, tuple(why), tuple(choices), tuple(changes),
                       tuple(notes))


__all__ = ["Change", "ChoiceReason", "ExplainError", "Explanation", "FullTerm", "Holder",
           "explain"]
