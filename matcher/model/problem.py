"""The problem: one frozen, validated pydantic object, and the rules that span its tables.

A :class:`Problem` is built once, by :func:`matcher.load_scenario` from a scenario folder, or
directly by a library caller or a test strategy. It is immutable: solvers, the checker and the
reports all read the same object and none of them can change it. Building a problem (or one of
its entities) in code with bad data raises :class:`~matcher.model.errors.ProblemError` with
every issue found, never a raw pydantic ``ValidationError``.

Entities keep the order of their source rows, so that a validation message can name the row;
solvers never rely on that order (the encoding sorts by id, see :mod:`matcher.encoding`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from functools import cached_property
from itertools import chain
from operator import attrgetter
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from ..messages import Message, msg
from .entities import (
    CarriedColumn,
    Frozen,
    GroupMember,
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Policy,
    Ranking,
    SolverSettings,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Veto,
    Workstation,
    unique_ids,
    validation_issues,
)
from .errors import TABLE_FILES, ProblemError, ProblemIssue, ScenarioError
from .quotas import Quota, quota_issues
from .rules import rule_issues


class Problem(Frozen):
    """A complete allocation problem: everything a solver or the checker needs.

    Attributes
    ----------
    name
        Scenario name.
    terms
        Term labels in calendar order.
    term_months
        Months of practice one term counts for.
    policy, solver, objective
        Scenario settings (see :class:`Policy`, :class:`SolverSettings`,
        :class:`ObjectiveSettings`).
    students, workstations, mentors, supervisors, universities
        The entities, in source-row order.
    term_capacities, pairs, locks, rankings, groups, vetoes, quotas
        Optional tables, in source-row order (``quotas``: group quotas, see
        :mod:`matcher.model.quotas`).
    input_sha256
        Hash of the input files (empty for problems built in code).
    input_files
        ``(file name, SHA-256)`` of every input file read, sorted by name (empty for problems
        built in code); the audit manifest records them.
    source
        The scenario path it was loaded from, absolute (empty for problems built in code).
    language
        The language the scenario is written in, as the loader saw it: ``"zh"`` when its
        headers or sheet names are Chinese, None when nothing says (English headers, a problem
        built in code). Outputs are written in it unless the user asks for another (see
        :func:`matcher.messages.choose_lang`).
    carried
        The user's own columns that matcher does not use (names, notes), in their order, by
        table (see :class:`CarriedColumn`); empty for problems built in code.

    Raises
    ------
    ProblemError
        When built with data that breaks a rule: every issue found, located by table, row
        (0-based) and column.
    """

    name: str = Field(min_length=1)
    terms: tuple[str, ...] = Field(min_length=1)
    term_months: int = Field(default=6, ge=1, le=24)
    policy: Policy = Policy()
    solver: SolverSettings = SolverSettings()
    objective: ObjectiveSettings = ObjectiveSettings()
    students: tuple[Student, ...]
    workstations: tuple[Workstation, ...]
    mentors: tuple[Mentor, ...]
    supervisors: tuple[Supervisor, ...]
    universities: tuple[University, ...] = ()
    term_capacities: tuple[TermCapacity, ...] = ()  # the workstation_terms table
    pairs: tuple[Pair, ...] = ()
    locks: tuple[Lock, ...] = ()
    rankings: tuple[Ranking, ...] = ()
    groups: tuple[GroupMember, ...] = ()
    vetoes: tuple[Veto, ...] = ()
    quotas: tuple[Quota, ...] = ()
    input_sha256: str = ""
    input_files: tuple[tuple[str, str], ...] = ()
    source: str = ""
    language: Literal["zh", "en"] | None = None
    carried: tuple[CarriedColumn, ...] = ()

    @model_validator(mode="after")
    def _cross_check(self, info: ValidationInfo) -> Problem:
        if info.context and info.context.get("cross_checked"):
            return self
        issues = cross_check(self)
        if issues:
            raise ProblemError(issues)
        return self

    # ---- derived facts every consumer agrees on -------------------------------------------
    @cached_property
    def term_index(self) -> dict[str, int]:
        """Term label -> position in calendar order."""
        return {t: k for k, t in enumerate(self.terms)}

    @cached_property
    def university_ids(self) -> tuple[str, ...]:
        """Known universities: ``universities.csv`` if given, else those of the supervisors."""
        if self.universities:
            return tuple(u.university_id for u in self.universities)
        return unique_ids(s.university_id for s in self.supervisors)

    def required_months(self, student: Student) -> int:
        """Months of practice the student needs (own column, else the policy)."""
        if student.required_months is not None:
            return student.required_months
        if student.work_experience_years >= self.policy.experienced_years:
            return self.policy.experienced_practice_months
        return self.policy.practice_months

    def block_terms(self, student: Student) -> int:
        """Length ``n`` of the student's contiguous block of terms."""
        return math.ceil(self.required_months(student) / self.term_months)

    def max_segments(self, student: Student) -> int:
        """Most blocks the student's practice may be split into (own column, else the
        policy)."""
        return student.max_segments or self.policy.max_segments

    @cached_property
    def min_segment_terms(self) -> int:
        """Shortest block of a split practice, in terms (``min_segment_months`` rounded up)."""
        months = self.policy.min_segment_months or self.term_months
        return math.ceil(months / self.term_months)

    @cached_property
    def max_rank(self) -> int:
        """``K``: the largest rank on any list (tied choices share one); an off-list
        placement costs ``K + 1``."""
        return max((max(s.preference_ranks) if s.preference_ranks else len(s.preferences)
                    for s in self.students if s.preferences), default=0)

    def window(self, student: Student) -> tuple[int, int]:
        """First and last term index (inclusive) a placement of the student may cover."""
        default = self.policy.window or (self.terms[0], self.terms[-1])
        first = self.term_index[student.window_start or default[0]]
        last = self.term_index[student.window_end or default[1]]
        return first, last


def _kind(table: str) -> Message:
    """The label of the entity a table holds (``entity.workstation``, ...)."""
    if table == "workstations":
        return msg("entity.workstation")
    if table == "mentors":
        return msg("entity.mentor")
    if table == "supervisors":
        return msg("entity.supervisor")
    if table == "universities":
        return msg("entity.university")
    return msg("entity.student")


_LOOK_ALIKE = str.maketrans({
    # Cyrillic and Greek letters that look like Latin ones (after case folding)
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x"})


def id_key(value: str) -> str:
    """How ids are compared for look-alikes: NFKC (full width, composed letters), case folded,
    Cyrillic and Greek letters that look Latin mapped to them. ``Ｓ1``, ``s1`` and ``S1`` give
    ``s1``, and so does ``С1`` with a Cyrillic С; ``Sé`` typed composed or decomposed gives one
    key."""
    if value.isascii():
        return value.lower()
    return unicodedata.normalize("NFKC", value).casefold().translate(_LOOK_ALIKE)


def _unknown(table: str, value: str, known: dict[str, str] | None = None) -> Message:
    """``unknown workstation 'W9' (not in workstations.csv)``: an id missing from its table;
    with ``known`` (look-alike key -> id), a near miss says which id it looks like."""
    similar = known.get(id_key(value)) if known else None
    if similar is not None and similar != value:
        return msg("load.unknown_id_similar", kind=_kind(table), value=value,
                   where=TABLE_FILES[table], similar=similar)
    return msg("load.unknown_id", kind=_kind(table), value=value, where=TABLE_FILES[table])


def cross_check(p: Problem) -> list[ProblemIssue]:
    """Every rule of the format that spans fields or tables; empty when the problem is valid.

    Row numbers in the returned issues are 0-based indices into the problem's tuples; each
    issue carries a structured message (:class:`~matcher.model.errors.ProblemIssue`).
    """
    out: list[ProblemIssue] = []

    def bad(table: str, row: int | None, column: str | None, detail: Message) -> None:
        out.append(ProblemIssue.of(table, row, column, detail))

    terms = p.terms
    tix: dict[str, int] = {}
    for k, t in enumerate(terms):
        if t in tix:
            bad("scenario", None, "terms", msg("load.duplicate_term", value=t))
        tix.setdefault(t, k)
    unique_terms = tuple(tix)
    if p.policy.window is not None:
        for t in p.policy.window:
            if t not in tix:
                bad("scenario", None, "policy.window",
                    msg("load.unknown_term", value=t, terms=unique_terms))
        if all(t in tix for t in p.policy.window) and tix[p.policy.window[0]] > tix[
            p.policy.window[1]
        ]:
            bad("scenario", None, "policy.window", msg("load.window_reversed"))

    keys: dict[str, dict[str, str]] = {}  # table -> look-alike key -> id

    def unique(table: str, column: str, values: list[str]) -> dict[str, int]:
        # the common case at once, in C loops: distinct ids, distinct look-alike keys
        seen = dict(zip(values, range(len(values)), strict=True))
        if len(seen) == len(values):
            loose_keys = (list(map(str.lower, values)) if "".join(values).isascii()
                          else list(map(id_key, values)))
            quick = dict(zip(loose_keys, values, strict=True))
            if len(quick) == len(values):
                keys[table] = quick
                return seen
        seen = {}
        loose: dict[str, int] = {}
        for r, v in enumerate(values):
            if v in seen:
                bad(table, r, column, msg("load.duplicate_id", value=v, other_row=seen[v] + 1))
                continue
            seen[v] = r
            first = loose.setdefault(id_key(v), r)
            if first != r:
                bad(table, r, column, msg("load.id_collision", value=v, other=values[first],
                                          other_row=first + 1))
        keys[table] = {k: values[r] for k, r in loose.items()}
        return seen

    for table, rows in (("students", p.students), ("workstations", p.workstations),
                        ("mentors", p.mentors), ("supervisors", p.supervisors)):
        if not rows:
            bad(table, None, None, msg("load.no_data_rows"))

    stu = unique("students", "student_id", [s.student_id for s in p.students])
    ws = unique("workstations", "workstation_id", [w.workstation_id for w in p.workstations])
    men = unique("mentors", "mentor_id", [m.mentor_id for m in p.mentors])
    sup = unique("supervisors", "supervisor_id", [s.supervisor_id for s in p.supervisors])
    uni_where: str | Message
    if p.universities:
        unis = set(unique("universities", "university_id",
                          [u.university_id for u in p.universities]))
        for r, s in enumerate(p.supervisors):
            if s.university_id not in unis:
                bad("supervisors", r, "university_id",
                    _unknown("universities", s.university_id, keys.get("universities")))
        uni_where = TABLE_FILES["universities"]
    else:
        unis = {s.university_id for s in p.supervisors}
        uni_where = msg("load.any_supervisor_university")

    def unknown_university(u: str) -> Message:
        return msg("load.unknown_id", kind=msg("entity.university"), value=u, where=uni_where)

    for r, w in enumerate(p.workstations):
        for u in w.partner_universities:
            if u not in unis:
                bad("workstations", r, "partner_universities", unknown_university(u))
    for r, m in enumerate(p.mentors):
        if m.workstation_id not in ws:
            bad("mentors", r, "workstation_id",
                _unknown("workstations", m.workstation_id, keys["workstations"]))
    # a duplicated id means its first row (the one unique() keeps), as in every message
    sup_by_id = {s.supervisor_id: s for s in reversed(p.supervisors)}
    men_by_id = {m.mentor_id: m for m in reversed(p.mentors)}
    stu_by_id = {s.student_id: s for s in reversed(p.students)} if p.locks else {}

    default_window = p.policy.window or (terms[0], terms[-1])

    def window_issues(st: Student) -> list[tuple[str, Message]]:
        """The student's window: its terms known, and long enough for the practice."""
        found: list[tuple[str, Message]] = []
        for col, term in (("window_start", st.window_start), ("window_end", st.window_end)):
            if term is not None and term not in tix:
                found.append((col, msg("load.unknown_term", value=term, terms=unique_terms)))
        # a reversed policy window is reported once above, not again for every student using it
        uses_default = st.window_start is None or st.window_end is None
        if not found and all(t in tix for t in default_window) and not (
                uses_default and tix[default_window[0]] > tix[default_window[1]]):
            first = tix[st.window_start or default_window[0]]
            last = tix[st.window_end or default_window[1]]
            months = p.required_months(st)
            n = math.ceil(months / p.term_months)
            if last - first + 1 < n:
                col = "window_end" if st.window_end or st.window_start else "required_months"
                found.append((col, msg(
                    "load.window_too_short", first=terms[first], last=terms[last],
                    have=max(last - first + 1, 0), need=n, months=months)))
        return found

    def student_issues(r: int, st: Student) -> None:
        if st.university_id not in unis:
            bad("students", r, "university_id", unknown_university(st.university_id))
        seen_pref: set[str] = set()
        for wid in st.preferences:
            if wid not in ws:
                bad("students", r, "preferences",
                    _unknown("workstations", wid, keys["workstations"]))
            elif wid in seen_pref:
                bad("students", r, "preferences",
                    msg("load.duplicate_choice", kind=msg("entity.workstation"), value=wid))
            seen_pref.add(wid)
        if st.supervisor_id is not None:
            given = sup_by_id.get(st.supervisor_id)
            if given is None:
                bad("students", r, "supervisor_id",
                    _unknown("supervisors", st.supervisor_id, keys["supervisors"]))
            else:
                if given.university_id != st.university_id:
                    bad("students", r, "supervisor_id", msg(
                        "load.supervisor_other_university", supervisor=st.supervisor_id,
                        university=given.university_id, own=st.university_id))
                if st.discipline not in given.disciplines:
                    bad("students", r, "supervisor_id", msg(
                        "load.supervisor_discipline", supervisor=st.supervisor_id,
                        discipline=st.discipline))
        for col, detail in window_issues(st):
            bad("students", r, col, detail)

    # A student is looked at closely (student_issues, in row order) only when a test of the
    # whole column finds something: distinct values are judged once (a province has a few
    # hundred supervisors' and windows' combinations for 100,000 students), the lists all
    # at once (every id known, none twice). Sound rows then cost a few passes in C loops.
    students = p.students
    suspects: set[int] = set()
    universities = list(map(attrgetter("university_id"), students))
    if not unis.issuperset(universities):
        suspects.update(r for r, u in enumerate(universities) if u not in unis)
    lists = list(map(attrgetter("preferences"), students))
    all_ws = ws.keys()
    if not all_ws >= set(chain.from_iterable(lists)) or (
            list(map(len, map(set, lists))) != list(map(len, lists))):
        suspects.update(r for r, prefs in enumerate(lists)
                        if len(all_ws & set(prefs)) != len(prefs))
    given_sup = list(map(attrgetter("supervisor_id", "university_id", "discipline"), students))
    wrong = {(sid, uni, d) for sid, uni, d in set(given_sup) if sid is not None and (
        sid not in sup_by_id or sup_by_id[sid].university_id != uni
        or d not in sup_by_id[sid].disciplines)}
    if wrong:
        suspects.update(r for r, key in enumerate(given_sup) if key in wrong)
    # required_months() reads the last two fields only
    windows = list(map(attrgetter("window_start", "window_end", "required_months",
                                  "work_experience_years"), students))
    first_of = dict(zip(windows, range(len(windows)), strict=True))
    wrong_windows = {key for key, r in first_of.items() if window_issues(students[r])}
    if wrong_windows:
        suspects.update(r for r, key in enumerate(windows) if key in wrong_windows)
    for r in sorted(suspects):
        student_issues(r, students[r])

    for r, tc in enumerate(p.term_capacities):
        if tc.workstation_id not in ws:
            bad("workstation_terms", r, "workstation_id",
                _unknown("workstations", tc.workstation_id))
        if tc.term not in tix:
            bad("workstation_terms", r, "term",
                msg("load.unknown_term", value=tc.term, terms=unique_terms))
    seen_tc: dict[tuple[str, str], int] = {}
    for r, tc in enumerate(p.term_capacities):
        key = (tc.workstation_id, tc.term)
        if key in seen_tc:
            bad("workstation_terms", r, "term", msg(
                "load.duplicate_term_capacity", workstation=tc.workstation_id, term=tc.term,
                other_row=seen_tc[key] + 1))
        seen_tc.setdefault(key, r)

    seen_pair: dict[tuple[str, str], int] = {}
    for r, pr in enumerate(p.pairs):
        if pr.supervisor_id not in sup:
            bad("pairs", r, "supervisor_id", _unknown("supervisors", pr.supervisor_id))
        if pr.mentor_id not in men:
            bad("pairs", r, "mentor_id", _unknown("mentors", pr.mentor_id))
        key2 = (pr.supervisor_id, pr.mentor_id)
        if key2 in seen_pair:
            bad("pairs", r, "mentor_id",
                msg("load.duplicate_pair", other_row=seen_pair[key2] + 1))
        seen_pair.setdefault(key2, r)

    locked: dict[str, int] = {}
    for r, lk in enumerate(p.locks):
        if lk.student_id in locked:
            bad("locks", r, "student_id", msg("load.duplicate_lock", value=lk.student_id,
                                              other_row=locked[lk.student_id] + 1))
        locked.setdefault(lk.student_id, r)
        locked_st = stu_by_id.get(lk.student_id)
        if locked_st is None:
            bad("locks", r, "student_id", _unknown("students", lk.student_id, keys["students"]))
        if lk.workstation_id not in ws:
            bad("locks", r, "workstation_id",
                _unknown("workstations", lk.workstation_id, keys["workstations"]))
        if lk.mentor_id is not None:
            lk_mentor = men_by_id.get(lk.mentor_id)
            if lk_mentor is None:
                bad("locks", r, "mentor_id", _unknown("mentors", lk.mentor_id))
            elif lk_mentor.workstation_id != lk.workstation_id:
                bad("locks", r, "mentor_id", msg(
                    "load.lock_mentor_elsewhere", mentor=lk.mentor_id,
                    elsewhere=lk_mentor.workstation_id, workstation=lk.workstation_id))
        if lk.start_term is not None and lk.start_term not in tix:
            bad("locks", r, "start_term",
                msg("load.unknown_term", value=lk.start_term, terms=unique_terms))
        w_row = ws.get(lk.workstation_id)
        if locked_st is not None and w_row is not None:
            _check_lock(p, r, lk, locked_st, p.workstations[w_row],
                        men_by_id.get(lk.mentor_id or ""), tix, default_window, bad)

    seen_rank: dict[tuple[str, str], int] = {}
    for r, rk in enumerate(p.rankings):
        if rk.workstation_id not in ws:
            bad("rankings", r, "workstation_id",
                _unknown("workstations", rk.workstation_id, keys["workstations"]))
        if rk.student_id not in stu:
            bad("rankings", r, "student_id",
                _unknown("students", rk.student_id, keys["students"]))
        key3 = (rk.workstation_id, rk.student_id)
        if key3 in seen_rank:
            bad("rankings", r, "student_id",
                msg("load.duplicate_ranking", other_row=seen_rank[key3] + 1))
        seen_rank.setdefault(key3, r)
    out += rule_issues(p, lambda table, value: keys[table].get(id_key(value)))
    out += quota_issues(p)
    return out


def _check_lock(p: Problem, r: int, lk: Lock, st: Student, w: Workstation, m: Mentor | None,
                tix: dict[str, int], default_window: tuple[str, str], bad: Any) -> None:
    """A lock that breaks a rule on its own (not by competing for places) is an input error."""
    who, where = lk.student_id, lk.workstation_id
    if st.discipline not in w.disciplines:
        bad("locks", r, "workstation_id",
            msg("load.lock_discipline", discipline=st.discipline, student=who, workstation=where))
    if w.partner_universities and st.university_id not in w.partner_universities:
        bad("locks", r, "workstation_id",
            msg("load.lock_partner", partners=w.partner_universities, student=who,
                workstation=where))
    if m is not None and st.discipline not in m.disciplines:
        bad("locks", r, "mentor_id", msg("load.lock_mentor_discipline", mentor=m.mentor_id,
                                         discipline=st.discipline, student=who, workstation=where))
    if p.policy.preferences_only and lk.workstation_id not in st.preferences:
        bad("locks", r, "workstation_id",
            msg("load.lock_preferences_only", student=who, workstation=where))
    if lk.start_term is None or lk.start_term not in tix:
        return
    if any(t not in tix for t in (st.window_start or default_window[0],
                                  st.window_end or default_window[1])):
        return
    first = tix[st.window_start or default_window[0]]
    last = tix[st.window_end or default_window[1]]
    n = p.block_terms(st)
    start = tix[lk.start_term]
    if start < first or start + n - 1 > last:
        bad("locks", r, "start_term", msg(
            "load.lock_outside_window", terms_count=n, start=lk.start_term,
            first=p.terms[first], last=p.terms[last], student=who, workstation=where))
        return
    closed = {tc.term for tc in p.term_capacities
              if tc.workstation_id == lk.workstation_id and tc.capacity == 0}
    if w.capacity == 0:
        closed |= set(p.terms) - {tc.term for tc in p.term_capacities
                                  if tc.workstation_id == lk.workstation_id and tc.capacity > 0}
    hit = [p.terms[k] for k in range(start, start + n) if p.terms[k] in closed]
    if hit:
        bad("locks", r, "start_term", msg(
            "load.lock_closed", closed=hit, student=who, workstation=where,
            where=TABLE_FILES["workstation_terms"]))


def lock_overloads(p: Problem) -> list[ProblemIssue]:
    """Locks that cannot be honoured, by arithmetic alone.

    On its own: a lock whose workstation is closed in some term of every block the student's
    window allows, or whose mentor or the student's given supervisor has capacity 0. Together:
    locks that hold a workstation (or a locked mentor) in a term beyond its capacity — with a
    ``start_term`` its block, without one the terms every block of the student's window covers
    (a practice in one block), and locked students whose given ``supervisor_id`` takes fewer. A
    problem with such locks is well-formed (this is not part of :func:`cross_check`, and a
    solver reports it INFEASIBLE); the loader refuses it early because the message alone tells
    a clerk what to change. Expects a problem that passed :func:`cross_check`.
    """
    out: list[ProblemIssue] = []
    if not p.locks:
        return out
    stu = {s.student_id: s for s in p.students}
    ws_cap = {(w.workstation_id, t): w.capacity for w in p.workstations for t in p.terms}
    ws_cap |= {(tc.workstation_id, tc.term): tc.capacity for tc in p.term_capacities}
    m_cap = {m.mentor_id: m.capacity for m in p.mentors}
    s_cap = {s.supervisor_id: s.capacity for s in p.supervisors}
    at_ws: dict[tuple[str, str], list[int]] = {}
    at_m: dict[tuple[str, str], list[int]] = {}
    at_s: dict[str, list[int]] = {}
    for r, lk in enumerate(p.locks):
        st = stu[lk.student_id]
        who, where = lk.student_id, lk.workstation_id
        n = p.block_terms(st)
        first, last = p.window(st)
        if lk.start_term is None and not any(
                all(ws_cap[lk.workstation_id, t] > 0 for t in p.terms[k:k + n])
                for k in range(first, last - n + 2)):
            out.append(ProblemIssue.of("locks", r, "workstation_id", msg(
                "load.lock_no_open_block", terms_count=n, first=p.terms[first],
                last=p.terms[last], student=who, workstation=where,
                where=TABLE_FILES["workstation_terms"])))
        if lk.mentor_id is not None and m_cap[lk.mentor_id] == 0:
            out.append(ProblemIssue.of("locks", r, "mentor_id", msg(
                "load.lock_mentor_zero", mentor=lk.mentor_id, student=who, workstation=where)))
        elif lk.mentor_id is not None and lk.start_term is not None:
            start = p.term_index[lk.start_term]
            for t in p.terms[start:start + n]:
                at_m.setdefault((lk.mentor_id, t), []).append(r)
        if st.supervisor_id is not None and s_cap[st.supervisor_id] == 0:
            out.append(ProblemIssue.of("locks", r, "student_id", msg(
                "load.lock_supervisor_zero", supervisor=st.supervisor_id, student=who,
                workstation=where, where=TABLE_FILES["students"])))
        elif st.supervisor_id is not None:
            at_s.setdefault(st.supervisor_id, []).append(r)
        if lk.start_term is not None:
            start = p.term_index[lk.start_term]
            for t in p.terms[start:start + n]:
                at_ws.setdefault((lk.workstation_id, t), []).append(r)
        elif p.max_segments(st) == 1:
            # Without a start the lock still holds the terms every block of the window covers
            # (a 2-term student in a 2-term window: both), so two such locks on one place clash.
            for t in p.terms[max(first, last - n + 1):min(last, first + n - 1) + 1]:
                at_ws.setdefault((lk.workstation_id, t), []).append(r)
                if lk.mentor_id is not None and m_cap[lk.mentor_id] > 0:
                    at_m.setdefault((lk.mentor_id, t), []).append(r)

    def rows(rs: list[int]) -> tuple[str, ...]:
        return tuple(str(r + 1) for r in rs)

    done: set[tuple[str, str]] = set()  # one line per overloaded workstation or mentor
    for (wid, t), rs in at_ws.items():
        if len(rs) > ws_cap[wid, t] and ("ws", wid) not in done:
            done.add(("ws", wid))
            out.append(ProblemIssue.of("locks", rs[-1], "start_term", msg(
                "load.locks_over_workstation", rows=rows(rs), count=len(rs), workstation=wid,
                term=t, capacity=ws_cap[wid, t])))
    for (mid, t), rs in at_m.items():
        if len(rs) > m_cap[mid] and ("m", mid) not in done:
            done.add(("m", mid))
            out.append(ProblemIssue.of("locks", rs[-1], "mentor_id", msg(
                "load.locks_over_mentor", rows=rows(rs), count=len(rs), mentor=mid, term=t,
                capacity=m_cap[mid])))
    for sid, rs in at_s.items():
        if len(rs) > s_cap[sid]:
            out.append(ProblemIssue.of("locks", rs[-1], "student_id", msg(
                "load.locks_over_supervisor", rows=rows(rs), supervisor=sid,
                capacity=s_cap[sid], where=TABLE_FILES["students"])))
    return out


def checked_problem(fields: dict[str, Any], locate: Callable[[ProblemIssue], Message],
                    context: Message | str | None = None) -> Problem:
    """A Problem from its fields, with every field error and cross-table issue located.

    Parameters
    ----------
    fields
        :class:`Problem` fields.
    locate
        ``issue -> located message`` for a field that does not validate or a broken
        cross-table rule (:func:`cross_check`, :func:`lock_overloads`).
    context
        What made the fields (``cohort 2``), put before every message; None for a scenario
        as read.

    Raises
    ------
    ScenarioError
        With one message per problem.
    """
    try:
        problem = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError as e:
        raise ScenarioError([locate(i) for i in validation_issues(e, Problem)],
                            context=context) from None
    issues = cross_check(problem) or lock_overloads(problem)
    if issues:
        raise ScenarioError([locate(i) for i in issues], context=context)
    return problem
