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
  them; or that its mentors or the supervisors are fully booked; and whether the student and
  that workstation are a blocking pair (justified envy) by the checker's one definition
  (:func:`matcher.check.blocking_pairs`: the workstation could have taken the student, a
  mentor and a supervisor included);
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
from ..fairness import Held, blocking_pairs
from ..messages import LIST_SEPARATOR, Lang, Message, label, msg, render
from ..model import (
    Mentor,
    Placement,
    Problem,
    Result,
    Status,
    Student,
    Supervisor,
    TermCapacity,
)
from ..model.rules import segment_plans
from ..solvers import solve
from .explain_quotas import closed_by_rules
from .explain_rules import group_text, plan_text
from .explain_verify import Verifier, keeps_rules, with_fields

DEFAULT_RESOLVE_LIMIT_S = 30.0
"""Cap on the time limit of one verifying re-solve (the result's own limit if shorter)."""

_KIND_ORDER = {"none": 0, "place": 1, "mentor": 2, "supervisor": 3, "window": 4}


class ExplainError(ValueError):
    """The student or the result cannot be explained against this scenario (a user error).

    Parameters
    ----------
    message
        What is wrong, as a catalogue message (``str()`` gives its English).
    """

    def __init__(self, message: Message):
        super().__init__(render(message, "en"))
        self.message = message


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
        ``discipline``, ``partnership``, ``mentor``, ``window``, ``lock``, ``min_intake``,
        ``quota`` (a hard group quota, issue 29) (rules), ``full``
        (full terms), ``mentors_full``, ``supervisor`` (no supervisor with room) or ``free``
        (it had room: the result is not optimal).
    text
        One line for a person.
    full_terms
        For ``full`` (and the full blocks behind ``mentors_full``): the full terms and holders.
    blocking
        True when the student and this workstation form a blocking pair (justified envy) by
        the checker's definition (:func:`matcher.check.blocking_pairs`): the workstation could
        have taken the student, places, a mentor and a supervisor included, ahead of holders it
        ranks lower.
    """

    workstation_id: str
    rank: int | None
    kind: str
    text: str
    full_terms: tuple[FullTerm, ...] = ()
    blocking: bool = False


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
    lang: Lang = "en"

    @property
    def placed(self) -> bool:
        """True when the student is placed."""
        return self.placement is not None

    def text(self) -> str:
        """The explanation as plain text in its language (:attr:`lang`), for the terminal or
        an e-mail to the student."""
        lang = self.lang

        def t(code: str, **values: Any) -> str:
            return label(code, lang, **values)

        out = [self.profile, ""]
        out += self.why
        if self.choices:
            out += ["", t("explain.heading.better" if self.placed else "explain.heading.choices")]
            for c in self.choices:
                head = f"  {c.rank}. " if c.rank is not None else "  - "
                colon = "：" if lang == "zh" else ": "
                out.append(f"{head}{c.workstation_id}{colon}{c.text}")
                if c.blocking:
                    out.append("       " + t("fairness.explain.envy",
                                             workstation=c.workstation_id))
                for terms, ft in _grouped(c.full_terms):
                    holders = ("；" if lang == "zh" else "; ").join(
                        _holder_text(h, lang) for h in ft.holders)
                    code = "explain.full_terms_each" if len(terms) > 1 else "explain.full_terms"
                    out.append("       " + t(code, terms=_names(terms, lang),
                                             count=len(ft.holders), capacity=ft.capacity,
                                             holders=holders or t("explain.closed")))
        if self.changes:
            out += ["", t("explain.heading.changes")]
            for k, ch in enumerate(self.changes, start=1):
                mark = t({True: "explain.mark.verified_lock" if "lock" in ch.verified_by
                          else "explain.mark.verified_resolve", False: "explain.mark.not_verified",
                          None: "explain.mark.not_resolved"}[ch.verified])
                out.append(f"  {k}. {ch.text} [{mark}]")
                if ch.verified is not None:
                    out.append(f"       {ch.verification}")
        if self.notes:
            out += [""] + [t("explain.note", text=n) for n in self.notes]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain data (for ``--json``)."""
        return {
            "student_id": self.student_id,
            "placement": None if self.placement is None else vars(self.placement),
            "profile": self.profile,
            "why": list(self.why),
            "choices": [{"workstation_id": c.workstation_id, "rank": c.rank, "kind": c.kind,
                         "text": c.text, "blocking_pair": c.blocking,
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


def _holder_text(h: Holder, lang: Lang) -> str:
    code = "explain.holder" if h.their_rank is not None else "explain.holder_unlisted"
    if h.student_ahead:
        code += "_ahead"
    return label(code, lang, student=h.student_id, standing=h.standing,
                 rank=h.their_rank if h.their_rank is not None else "")


def _names(items: list[str], lang: Lang = "en") -> str:
    """``a``, ``a and b``, ``a, b and c`` (in Chinese ``a、b和c``)."""
    and_ = label("explain.and", lang)
    if len(items) <= 2:
        return and_.join(items)
    return LIST_SEPARATOR[lang].join(items[:-1]) + and_ + items[-1]


# ---- the allocation as the explanation sees it ---------------------------------------------------
@dataclass
class _Row:
    student_id: str
    workstation_id: str
    mentor_id: str
    supervisor_id: str
    start: int
    end: int
    held: tuple[int, ...] = ()  # every term of the practice (a split one has gaps)


class _State:
    """Indexes of the problem and the allocation, by id (no solver encoding)."""

    def __init__(self, problem: Problem, rows: list[dict[str, str]], lang: Lang = "en"):
        p = problem
        self.p = p
        self.lang = lang
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
        self.vetoes = {(v.student_id, v.workstation_id) for v in p.vetoes}
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
            listed = [tix[t] for t in (r.get("terms") or "").split(";") if t in tix]
            row = _Row(sid, wid, r.get("mentor_id", ""), r.get("supervisor_id", ""),
                       tix[r["start_term"]], tix[r["end_term"]], tuple(listed) or tuple(
                           range(tix[r["start_term"]], tix[r["end_term"]] + 1)))
            self.rows[sid] = row
            for k in row.held:
                self.ws_load[wid, self.terms[k]] += 1
                self.m_load[row.mentor_id, self.terms[k]] += 1
                self.holders[wid, self.terms[k]].append(sid)
                self.mentees[row.mentor_id, self.terms[k]].append(sid)
            self.s_load[row.supervisor_id] += 1

    def t(self, code: str, **values: Any) -> str:
        """A text of the catalogue in the explanation's language."""
        return label(code, self.lang, **values)

    def names(self, items: list[str]) -> str:
        """Items joined as the language writes a list ending in "and"."""
        return _names(items, self.lang)

    # ---- the workstation's ranking -------------------------------------------------------------
    def held(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """Student id -> (workstation id, terms held), for every placed student (made once)."""
        if "_held" not in vars(self):
            self._held = {sid: (r.workstation_id, r.held) for sid, r in self.rows.items()}
        return self._held

    def order(self, wid: str, sid: str) -> tuple[Any, ...]:
        """Ranking key of student ``sid`` at ``wid``; lower is ahead."""
        own = self.rankings.get((wid, sid))
        if own is not None:
            return (0, own, "")
        return (1, -self.students[sid].priority, sid)

    def standing(self, wid: str, sid: str) -> str:
        own = self.rankings.get((wid, sid))
        if own is not None:
            return self.t("explain.standing.ranked", rank=own, workstation=wid)
        pri = f"{self.students[sid].priority:g}"
        if wid in self.ranked_by:
            return self.t("explain.standing.unranked", workstation=wid, priority=pri)
        return self.t("explain.standing.priority", priority=pri)

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
            return "lock", self.t("explain.rule.lock", workstation=lock.workstation_id)
        if (st.student_id, wid) in self.vetoes:
            return "veto", self.t("explain.rule.veto")
        if st.discipline not in w.disciplines:
            return "discipline", self.t("explain.rule.discipline", discipline=st.discipline,
                                        takes=tuple(w.disciplines))
        if w.partner_universities and st.university_id not in w.partner_universities:
            return "partnership", self.t("explain.rule.partnership",
                                         partners=tuple(w.partner_universities),
                                         university=st.university_id)
        if not any(m.capacity > 0 for m in self.mentor_options(wid, st.discipline)):
            return "mentor", self.t("explain.rule.mentor", discipline=st.discipline)
        n, first, last = self.block(st)
        if not self.open_blocks(st, wid):
            closed = sorted({self.terms[k] for k in range(first, last + 1)
                             if self.ws_cap[wid, self.terms[k]] == 0},
                            key=self.terms.index)
            return "window", self.t("explain.rule.window", closed=self.names(closed), n=n,
                                    first=self.terms[first], last=self.terms[last])
        return None

    def open_blocks(self, st: Student, wid: str) -> list[list[str]]:
        """Blocks of terms inside the window with ``wid`` open in every term."""
        n, first, last = self.block(st)
        out = []
        plans = [tuple(range(k, k + n)) for k in range(first, last - n + 2)]
        plans += segment_plans(n, first, last, self.p.max_segments(st), self.p.min_segment_terms)
        for plan in plans:
            block = [self.terms[t] for t in plan]
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
        closed = closed_by_rules(s.p, s.held(), st, wid, s.lang)  # a minimum intake, a quota
        if closed:
            return ChoiceReason(wid, rank, *closed)
        sups = s.sup_options(st)
        if not placed and not any(s.s_load[x.supervisor_id] < x.capacity for x in sups):
            return ChoiceReason(wid, rank, "supervisor",
                                s.t("explain.why.supervisor", term=free[0][0],
                                    detail=_sup_full_text(s, st)))
        return ChoiceReason(wid, rank, "free", s.t("explain.why.free", term=free[0][0]))
    if mentor_blocked:
        booked = []
        for m in s.mentor_options(wid, st.discipline):
            busy = [t for t in sorted({t for b in mentor_blocked for t in b}, key=s.terms.index)
                    if s.m_load[m.mentor_id, t] >= m.capacity]
            if busy:
                who = sorted({x for t in busy for x in s.mentees[m.mentor_id, t]})
                booked.append(s.t("explain.mentor_booked", mentor=m.mentor_id,
                                  capacity=m.capacity, terms=s.names(busy), students=tuple(who)))
            elif m.capacity == 0:
                booked.append(s.t("explain.mentor_zero", mentor=m.mentor_id))
        text = s.t("explain.why.mentors_full", term=mentor_blocked[0][0],
                   discipline=st.discipline,
                   booked=("；" if s.lang == "zh" else "; ").join(booked))
        if full_terms:
            text += s.t("explain.why.other_blocks", terms=s.names([f.term for f in detail]))
        return ChoiceReason(wid, rank, "mentors_full", text, detail)
    n, first, last = s.block(st)
    ahead = sorted({h.student_id for f in detail for h in f.holders if h.student_ahead})
    full_names = s.names([f.term for f in detail])
    if len(blocks) == 1:
        text = s.t("explain.why.full_needed", terms=full_names)
    else:
        text = s.t("explain.why.full_every", n=n, first=s.terms[first], last=s.terms[last],
                   terms=full_names)
    if ahead:
        text += s.t("explain.why.ahead", workstation=wid,
                    standing=s.standing(wid, st.student_id), students=s.names(ahead))
    else:
        text += s.t("explain.why.behind", workstation=wid)
    return ChoiceReason(wid, rank, "full", text, detail)


def _envy(reason: ChoiceReason, envied: set[str]) -> ChoiceReason:
    """The reason, marked when the checker counts the pair as a blocking pair."""
    return replace(reason, blocking=True) if reason.workstation_id in envied else reason


def _full_term(s: _State, st: Student, wid: str, term: str) -> FullTerm:
    mine = s.order(wid, st.student_id)
    holders = []
    for h in sorted(s.holders[wid, term], key=lambda h: s.order(wid, h)):
        own = s.students[h].ranks if h in s.students else {}
        holders.append(Holder(h, s.standing(wid, h), own.get(wid), mine < s.order(wid, h)))
    return FullTerm(term, s.ws_cap[wid, term], tuple(holders))


def _sup_full_text(s: _State, st: Student) -> str:
    sups = s.sup_options(st)
    if len(sups) == 1:
        x = sups[0]
        who = sorted(r.student_id for r in s.rows.values() if r.supervisor_id == x.supervisor_id)
        code = "explain.sup.given_full" if st.supervisor_id is not None \
            else "explain.sup.only_full"
        return s.t(code, supervisor=x.supervisor_id, university=st.university_id,
                   discipline=st.discipline, load=s.s_load[x.supervisor_id],
                   capacity=x.capacity,
                   who=s.t("explain.sup.who", students=tuple(who)) if who else "")
    loads = LIST_SEPARATOR[s.lang].join(
        f"{x.supervisor_id} {s.s_load[x.supervisor_id]}/{x.capacity}" for x in sups[:6])
    return s.t("explain.sup.all_full", count=len(sups), university=st.university_id,
               discipline=st.discipline, loads=loads + (" …" if len(sups) > 6 else ""))


# ---- why this placement --------------------------------------------------------------------------
def _why_here(s: _State, st: Student, row: _Row) -> list[str]:
    terms = s.terms
    rank = st.ranks.get(row.workstation_id)
    where = (s.t("explain.where.choice", rank=rank, count=max(st.ranks.values()))
             if rank is not None else s.t("explain.where.unlisted"))
    span = (f"{terms[row.start]}..{terms[row.end]}" if row.end > row.start
            else terms[row.start])
    if len(row.held) != row.end - row.start + 1:  # a split practice: every term it holds
        span = ", ".join(terms[t] for t in row.held)
    out = [s.t("explain.placed", workstation=row.workstation_id, where=where,
               mentor=row.mentor_id, supervisor=row.supervisor_id, span=span,
               terms=len(row.held), months=s.p.required_months(st))]
    out += [x for x in (plan_text(s.p, st, row.held, s.lang),
                        group_text(s.p, s.held(), st, s.lang)) if x]
    lock = s.locks.get(st.student_id)
    if lock is not None:
        out.append(s.t("explain.locked", workstation=lock.workstation_id,
                       mentor=s.t("explain.locked.mentor", mentor=lock.mentor_id)
                       if lock.mentor_id else "",
                       start=s.t("explain.locked.start", term=lock.start_term)
                       if lock.start_term else ""))
    if rank == 1:
        out.append(s.t("explain.first_choice"))
    elif rank is None and st.preferences:
        out.append(s.t("explain.unlisted_placed"))
    elif rank is None:
        out.append(s.t("explain.no_list"))
    elif rank == 2:
        out.append(s.t("explain.choice1_failed"))
    else:
        out.append(s.t("explain.choices_failed", last=rank - 1))
    if st.supervisor_id is not None:
        out.append(s.t("explain.sup_given", supervisor=row.supervisor_id))
    else:
        out.append(s.t("explain.sup_chosen", supervisor=row.supervisor_id,
                       count=len(s.sup_options(st)), university=st.university_id,
                       discipline=st.discipline))
    weight = s.pairs.get((row.supervisor_id, row.mentor_id))
    if weight is not None and s.p.objective.pair_weight:
        out.append(s.t("explain.pair", supervisor=row.supervisor_id, mentor=row.mentor_id,
                       weight=f"{weight:g}"))
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


def _candidates(s: _State, st: Student) -> list[_Candidate]:
    """Every single change that makes room for the student next to the current allocation."""
    p = s.p
    n, first, last = s.block(st)
    listed = st.ranks
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
                text = s.t("explain.change.none", workstation=wid, term=block[0], mentor=m_id)
                size = 0
            elif kind == "window":
                new_start = s.terms[k] if k < first else None
                new_end = s.terms[k + n - 1] if k + n - 1 > last else None
                parts = []
                if new_start:
                    parts.append(s.t("explain.change.earlier", term=new_start, count=first - k))
                if new_end:
                    parts.append(s.t("explain.change.later", term=new_end,
                                     count=k + n - 1 - last))
                text = s.t("explain.change.window", student=st.student_id,
                           parts=s.t("explain.and").join(parts), workstation=wid,
                           term=block[0])
                size = extra
                changed = st.model_copy(update={
                    "window_start": new_start or s.terms[first],
                    "window_end": new_end or s.terms[last]})
                update["students"] = tuple(changed if x.student_id == st.student_id else x
                                           for x in p.students)
            elif kind == "place":
                caps = {t: s.ws_cap[wid, t] for t in full}
                shown = LIST_SEPARATOR[s.lang].join(
                    s.t("explain.change.cap", term=t, old=c, new=c + 1) if c
                    else s.t("explain.change.cap_closed", term=t) for t, c in caps.items())
                text = s.t("explain.change.place", workstation=wid, terms=s.names(full),
                           caps=shown)
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
                    text = s.t("explain.change.mentor", mentor=m_id, workstation=wid,
                               old=m.capacity, new=m.capacity + 1, term=block[0])
                    update["mentors"] = tuple(
                        x.model_copy(update={"capacity": x.capacity + 1})
                        if x.mentor_id == m_id else x for x in p.mentors)
                else:
                    m_id = _fresh_id(f"{wid}-M-NEW", s.mentors)
                    text = s.t("explain.change.new_mentor", discipline=st.discipline,
                               workstation=wid, mentor=m_id, term=block[0])
                    update["mentors"] = (*p.mentors, Mentor(
                        mentor_id=m_id, workstation_id=wid, disciplines=(st.discipline,),
                        capacity=1))
            else:  # supervisor
                size = 1
                if sups:
                    x = sups[0]
                    s_id = x.supervisor_id
                    text = s.t("explain.change.supervisor", supervisor=s_id,
                               new=x.capacity + 1, old=x.capacity, workstation=wid,
                               term=block[0])
                    update["supervisors"] = tuple(
                        y.model_copy(update={"capacity": y.capacity + 1})
                        if y.supervisor_id == s_id else y for y in p.supervisors)
                else:
                    s_id = _fresh_id(f"{st.university_id}-S-NEW", s.sups)
                    text = s.t("explain.change.new_supervisor", university=st.university_id,
                               discipline=st.discipline, supervisor=s_id, workstation=wid,
                               term=block[0])
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


# ---- entry point ---------------------------------------------------------------------------------
def _rows_of(result: Result | Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    if isinstance(result, Result):
        return [{k: "" if v is None else ";".join(v) if isinstance(v, tuple) else str(v)
                 for k, v in vars(pl).items()} for pl in result.placements]
    return [{k: "" if v is None else ";".join(v) if isinstance(v, tuple) else str(v)
             for k, v in r.items()} for r in result]


def explain(problem: Problem, result: Result | Iterable[Mapping[str, Any]], student_id: str, *,
            solver: str | None = None, time_limit_s: float | None = None,
            seed: int | None = None, workers: int | None = None, verify: int = 3,
            show: int = 6, lang: Lang = "en") -> Explanation:
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
    lang
        The language of the explanation's texts (``"zh"`` or ``"en"``).

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
    s = _State(p, rows, lang)
    st = s.students.get(student_id)
    if st is None:
        raise ExplainError(msg("explain.unknown_student", student=student_id, scenario=p.name))
    baseline = check(p, rows)
    unfit = baseline.unfit()
    if unfit:
        raise ExplainError(msg("explain.wrong_scenario", scenario=p.name, problem=unfit[0]))
    # The one definition of justified envy, asked for this student only (a province's whole
    # list of blocking pairs takes minutes).
    envied = {w for _sid, w in blocking_pairs(
        p, {sid: Held(r.workstation_id, r.mentor_id, r.supervisor_id, r.start, r.end,
                      tuple(r.held) if len(r.held) != r.end - r.start + 1 else ())
            for sid, r in s.rows.items()}, students=(student_id,))}
    status = result.status if isinstance(result, Result) else None
    n, first, last = s.block(st)
    prefs = (LIST_SEPARATOR[lang].join(st.preferences) if st.preferences
             else s.t("explain.no_choices"))
    profile = s.t("explain.profile", student=st.student_id, university=st.university_id,
                  discipline=st.discipline, n=n, months=p.required_months(st),
                  first=s.terms[first], last=s.terms[last], choices=prefs)
    notes: list[str] = [render(m, lang) for m in baseline.about(student_id)]
    row = s.rows.get(student_id)
    placement = None
    if isinstance(result, Result):
        placement = next((pl for pl in result.placements if pl.student_id == student_id), None)
    elif row is not None:
        placement = Placement(student_id, row.workstation_id, row.mentor_id, row.supervisor_id,
                              s.terms[row.start], s.terms[row.end],
                              st.ranks.get(row.workstation_id),
                              tuple(s.terms[t] for t in row.held))

    if row is not None:
        why = _why_here(s, st, row)
        cutoff = st.ranks.get(row.workstation_id, len(st.preferences) + 1)
        choices = [_envy(_why_not(s, st, w, r, True), envied)
                   for w, r in st.ranks.items() if r < cutoff]
        return Explanation(student_id, placement, profile, tuple(why), tuple(choices),
                           notes=tuple(notes), lang=lang)

    # ---- unassigned ----
    why = [s.t("explain.not_placed")]
    if isinstance(result, Result):
        reason = dict(result.reasons(lang)).get(student_id)
        if reason:
            why.append(s.t("explain.reason", reason=reason.rstrip("。.")))
    if status == Status.INFEASIBLE:
        detail = (s.t("explain.detail", text=result.message)
                  if isinstance(result, Result) and result.message else "")
        why.append(s.t("explain.infeasible", detail=detail))
        return Explanation(student_id, None, profile, tuple(why), (), notes=tuple(notes),
                           lang=lang)
    sups = s.sup_options(st)
    if not sups:
        why.append(s.t("explain.no_supervisor", university=st.university_id,
                       discipline=st.discipline))
    elif not any(s.s_load[x.supervisor_id] < x.capacity for x in sups):
        text = _sup_full_text(s, st)
        why.append(s.t("explain.sentence", text=text[0].upper() + text[1:]))
    choices = [_envy(_why_not(s, st, w, r, False), envied) for w, r in st.ranks.items()]
    why += [x for x in (group_text(p, s.held(), st, s.lang),) if x]
    if st.student_id in s.locks:
        why.append(s.t("explain.locked_at", workstation=s.locks[st.student_id].workstation_id))
    elif p.policy.preferences_only:
        why.append(s.t("explain.preferences_only"))
    elif len(st.preferences) < len(s.stations):
        others = [w for w in sorted(s.stations) if w not in st.preferences]
        tally: Counter[str] = Counter(_why_not(s, st, w, None, False).kind for w in others)
        fitting = sum(c for k, c in tally.items()
                      if k not in ("discipline", "partnership", "mentor", "window", "lock"))
        parts = [s.t(f"explain.tally.{k}", count=tally[k])
                 for k in ("full", "mentors_full", "supervisor", "free") if tally[k]]
        why.append(s.t("explain.others", count=len(others), fitting=fitting,
                       detail=s.t("explain.detail", text=LIST_SEPARATOR[lang].join(parts))
                       if parts else ""))

    cands = _candidates(s, st)
    changes: list[Change] = []
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
        changed = with_fields(p, **c.update) if c.update else p
        if not keeps_rules(changed, rows, {
                "student_id": st.student_id, "workstation_id": c.wid, "mentor_id": c.mentor_id,
                "supervisor_id": c.supervisor_id, "start_term": c.block[0],
                "end_term": c.block[-1], "preference_rank": ""}, baseline):
            continue  # the change does not make room after all: never suggest it
        changes.append(Change(c.kind, c.text, c.size, c.wid, tuple(c.block), problem=changed))
    to_verify = changes[:max(verify, 0)]
    verifier = Verifier(student_id, len(s.rows), res_solver, time_limit_s, res_seed,
                         res_workers, solve, lang)
    with _progress.progress(f"verifying changes for {student_id}", total=len(to_verify),
                            limit_s=time_limit_s * len(to_verify)) as bar:
        for k, ch in enumerate(to_verify):
            assert ch.problem is not None
            ok, text, by = verifier.verify(ch.problem, ch.workstation_id, ch.terms,
                                           st.student_id not in s.locks)
            changes[k] = replace(ch, verified=ok, verification=text, verified_by=by)
            bar.advance()
    if not changes:
        why.append(s.t("explain.no_change"))
    elif to_verify and not any(ch.verified for ch in changes):
        notes.append(s.t("explain.unconfirmed"))
    if status is not None and status != Status.OPTIMAL and status != Status.INFEASIBLE:
        notes.append(s.t("explain.not_optimal", status=s.t(f"status.{status.value.lower()}")))
    return Explanation(student_id, None, profile, tuple(why), tuple(choices), tuple(changes),
                       tuple(notes), lang=lang)


__all__ = ["Change", "ChoiceReason", "ExplainError", "Explanation", "FullTerm", "Holder",
           "explain"]
