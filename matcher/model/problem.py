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
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ProblemError, ProblemIssue, ScenarioError, error_reason

if TYPE_CHECKING:  # type checkers keep pydantic's field-by-field constructor signatures
    from pydantic._internal._model_construction import ModelMetaclass as _Checked
else:
    class _Checked(type(BaseModel)):  # pydantic's model metaclass
        """Calling a model class (``Student(...)``, ``Problem(...)``) raises ProblemError.

        Only a direct call is wrapped: ``model_validate`` and the validation of nested entities
        keep pydantic's own errors, which the readers turn into located messages.
        """

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().__call__(*args, **kwargs)
            except ValidationError as e:
                raise ProblemError(validation_issues(e, cls)) from None


class _Frozen(BaseModel, metaclass=_Checked):
    """Base for every model: immutable, no unknown fields, finite numbers only."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop blanks and duplicates, keep first-seen order."""
    seen: dict[str, None] = {}
    for v in values:
        v = str(v).strip()
        if v:
            seen.setdefault(v, None)
    return tuple(seen)


IdList = Annotated[tuple[str, ...], AfterValidator(_ids)]
"""A list cell: ids stripped, blanks and repeats dropped, first-seen order kept."""


class Policy(_Frozen):
    """Practice-period policy (``policy:`` in ``scenario.yaml``)."""

    practice_months: int = Field(default=12, ge=1, le=120)
    experienced_practice_months: int = Field(default=6, ge=1, le=120)
    experienced_years: float = Field(default=2.0, ge=0, le=100)
    window: tuple[str, str] | None = None
    preferences_only: bool = False


class SolverSettings(_Frozen):
    """Solver defaults (``solver:`` in ``scenario.yaml``); CLI flags and API arguments override."""

    time_limit_s: float = Field(default=60.0, gt=0, le=7 * 24 * 3600)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    workers: int = Field(default=2, ge=1, le=256)


class ObjectiveSettings(_Frozen):
    """Optional third objective level (``objective:`` in ``scenario.yaml``).

    Attributes
    ----------
    pair_weight
        Reward placements whose campus supervisor and enterprise mentor are an existing
        collaboration listed in ``pairs.csv`` (sum of their weights, maximised).
    """

    pair_weight: bool = True


class Student(_Frozen):
    """One professional master's student (a row of ``students.csv``)."""

    student_id: str = Field(min_length=1)
    university_id: str = Field(min_length=1)
    discipline: str = Field(min_length=1)
    work_experience_years: float = Field(ge=0, le=80)
    preferences: tuple[str, ...] = ()
    supervisor_id: str | None = None
    priority: float = 0.0
    window_start: str | None = None
    window_end: str | None = None
    required_months: int | None = Field(default=None, ge=1, le=120)

    @field_validator("preferences", mode="before")
    @classmethod
    def _split_preferences(cls, v: Any) -> Any:
        return tuple(str(x).strip() for x in v if str(x).strip()) if not isinstance(v, str) else v


class Workstation(_Frozen):
    """An enterprise postgraduate workstation (a row of ``workstations.csv``)."""

    workstation_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)
    partner_universities: IdList = ()
    city: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)


class Mentor(_Frozen):
    """An enterprise mentor (a row of ``mentors.csv``); capacity is per term."""

    mentor_id: str = Field(min_length=1)
    workstation_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class Supervisor(_Frozen):
    """A campus supervisor (a row of ``supervisors.csv``); capacity is for the whole allocation."""

    supervisor_id: str = Field(min_length=1)
    university_id: str = Field(min_length=1)
    disciplines: IdList = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class University(_Frozen):
    """A university (a row of the optional ``universities.csv``)."""

    university_id: str = Field(min_length=1)
    name: str | None = None
    city: str | None = None


class TermCapacity(_Frozen):
    """One term's capacity override for a workstation (``workstation_terms.csv``); 0 = closed."""

    workstation_id: str = Field(min_length=1)
    term: str = Field(min_length=1)
    capacity: int = Field(ge=0, le=1_000_000)


class Pair(_Frozen):
    """An existing supervisor–mentor collaboration worth rewarding (``pairs.csv``)."""

    supervisor_id: str = Field(min_length=1)
    mentor_id: str = Field(min_length=1)
    weight: float = Field(gt=0, le=1_000_000)


class Lock(_Frozen):
    """A fixed placement (``locks.csv``): the student must be placed at this workstation."""

    student_id: str = Field(min_length=1)
    workstation_id: str = Field(min_length=1)
    mentor_id: str | None = None
    start_term: str | None = None


class Ranking(_Frozen):
    """A workstation's own rank of a student (``rankings.csv``); 1 is best."""

    workstation_id: str = Field(min_length=1)
    student_id: str = Field(min_length=1)
    rank: int = Field(ge=1, le=1_000_000)


class Problem(_Frozen):
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
    term_capacities, pairs, locks, rankings
        Optional tables, in source-row order.
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
    input_sha256: str = ""
    input_files: tuple[tuple[str, str], ...] = ()
    source: str = ""
    language: Literal["zh", "en"] | None = None

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
        return _ids(s.university_id for s in self.supervisors)

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

    def window(self, student: Student) -> tuple[int, int]:
        """First and last term index (inclusive) a placement of the student may cover."""
        default = self.policy.window or (self.terms[0], self.terms[-1])
        first = self.term_index[student.window_start or default[0]]
        last = self.term_index[student.window_end or default[1]]
        return first, last


def cross_check(p: Problem) -> list[ProblemIssue]:
    """Every rule of the format that spans fields or tables; empty when the problem is valid.

    Row numbers in the returned issues are 0-based indices into the problem's tuples.
    """
    out: list[ProblemIssue] = []

    def bad(table: str, row: int | None, column: str | None, message: str) -> None:
        out.append(ProblemIssue(table, row, column, message))

    terms = p.terms
    tix: dict[str, int] = {}
    for k, t in enumerate(terms):
        if t in tix:
            bad("scenario", None, "terms", f"term '{t}' is listed twice; list each term once")
        tix.setdefault(t, k)
    if p.policy.window is not None:
        for t in p.policy.window:
            if t not in tix:
                bad("scenario", None, "policy.window", f"unknown term '{t}' (not in terms)")
        if all(t in tix for t in p.policy.window) and tix[p.policy.window[0]] > tix[
            p.policy.window[1]
        ]:
            bad("scenario", None, "policy.window", "window starts after it ends; swap the terms")

    def unique(table: str, column: str, values: list[str]) -> dict[str, int]:
        seen: dict[str, int] = {}
        for r, v in enumerate(values):
            if v in seen:
                bad(table, r, column, f"duplicate id '{v}' (also row {seen[v] + 1}); ids must "
                    "be unique")
            else:
                seen[v] = r
        return seen

    if not p.students:
        bad("students", None, None, "no students; add at least one row")
    if not p.workstations:
        bad("workstations", None, None, "no workstations; add at least one row")
    if not p.mentors:
        bad("mentors", None, None, "no mentors; add at least one row")
    if not p.supervisors:
        bad("supervisors", None, None, "no supervisors; add at least one row")

    stu = unique("students", "student_id", [s.student_id for s in p.students])
    ws = unique("workstations", "workstation_id", [w.workstation_id for w in p.workstations])
    men = unique("mentors", "mentor_id", [m.mentor_id for m in p.mentors])
    sup = unique("supervisors", "supervisor_id", [s.supervisor_id for s in p.supervisors])
    if p.universities:
        unis = set(unique("universities", "university_id",
                          [u.university_id for u in p.universities]))
        for r, s in enumerate(p.supervisors):
            if s.university_id not in unis:
                bad("supervisors", r, "university_id",
                    f"unknown university '{s.university_id}' (not in universities.csv)")
    else:
        unis = {s.university_id for s in p.supervisors}
    uni_hint = "universities.csv" if p.universities else "any supervisor's university_id"

    for r, w in enumerate(p.workstations):
        for u in w.partner_universities:
            if u not in unis:
                bad("workstations", r, "partner_universities",
                    f"unknown university '{u}' (not in {uni_hint})")
    for r, m in enumerate(p.mentors):
        if m.workstation_id not in ws:
            bad("mentors", r, "workstation_id",
                f"unknown workstation '{m.workstation_id}' (not in workstations.csv)")
    # a duplicated id means its first row (the one unique() keeps), as in every message
    sup_by_id = {s.supervisor_id: s for s in reversed(p.supervisors)}
    men_by_id = {m.mentor_id: m for m in reversed(p.mentors)}
    stu_by_id = {s.student_id: s for s in reversed(p.students)}

    default_window = p.policy.window or (terms[0], terms[-1])
    for r, st in enumerate(p.students):
        if st.university_id not in unis:
            bad("students", r, "university_id",
                f"unknown university '{st.university_id}' (not in {uni_hint})")
        seen_pref: set[str] = set()
        for wid in st.preferences:
            if wid not in ws:
                bad("students", r, "preferences",
                    f"unknown workstation '{wid}' (not in workstations.csv)")
            elif wid in seen_pref:
                bad("students", r, "preferences",
                    f"workstation '{wid}' is listed twice; list each choice once")
            seen_pref.add(wid)
        if st.supervisor_id is not None:
            given = sup_by_id.get(st.supervisor_id)
            if given is None:
                bad("students", r, "supervisor_id",
                    f"unknown supervisor '{st.supervisor_id}' (not in supervisors.csv)")
            else:
                if given.university_id != st.university_id:
                    bad("students", r, "supervisor_id",
                        f"supervisor '{st.supervisor_id}' is at university "
                        f"'{given.university_id}', not the student's '{st.university_id}'; "
                        "give a supervisor of the student's own university or leave it empty")
                if st.discipline not in given.disciplines:
                    bad("students", r, "supervisor_id",
                        f"supervisor '{st.supervisor_id}' does not supervise discipline "
                        f"'{st.discipline}'; give another supervisor or leave it empty")
        ok = True
        for col, term in (("window_start", st.window_start), ("window_end", st.window_end)):
            if term is not None and term not in tix:
                bad("students", r, col, f"unknown term '{term}' (not in scenario.yaml terms)")
                ok = False
        # a reversed policy window is reported once above, not again for every student using it
        uses_default = st.window_start is None or st.window_end is None
        if ok and all(t in tix for t in default_window) and not (
                uses_default and tix[default_window[0]] > tix[default_window[1]]):
            first = tix[st.window_start or default_window[0]]
            last = tix[st.window_end or default_window[1]]
            months = p.required_months(st)
            n = math.ceil(months / p.term_months)
            if last - first + 1 < n:
                col = "window_end" if st.window_end or st.window_start else "required_months"
                bad("students", r, col,
                    f"window {terms[first]}..{terms[last]} has {max(last - first + 1, 0)} "
                    f"term(s) but the student needs {n} ({months} months); widen the window "
                    "or lower required_months")

    for r, tc in enumerate(p.term_capacities):
        if tc.workstation_id not in ws:
            bad("workstation_terms", r, "workstation_id",
                f"unknown workstation '{tc.workstation_id}' (not in workstations.csv)")
        if tc.term not in tix:
            bad("workstation_terms", r, "term", f"unknown term '{tc.term}' (not in terms)")
    seen_tc: dict[tuple[str, str], int] = {}
    for r, tc in enumerate(p.term_capacities):
        key = (tc.workstation_id, tc.term)
        if key in seen_tc:
            bad("workstation_terms", r, "term",
                f"'{tc.workstation_id}' in '{tc.term}' is already set in row {seen_tc[key] + 1}")
        seen_tc.setdefault(key, r)

    seen_pair: dict[tuple[str, str], int] = {}
    for r, pr in enumerate(p.pairs):
        if pr.supervisor_id not in sup:
            bad("pairs", r, "supervisor_id",
                f"unknown supervisor '{pr.supervisor_id}' (not in supervisors.csv)")
        if pr.mentor_id not in men:
            bad("pairs", r, "mentor_id", f"unknown mentor '{pr.mentor_id}' (not in mentors.csv)")
        key2 = (pr.supervisor_id, pr.mentor_id)
        if key2 in seen_pair:
            bad("pairs", r, "mentor_id", f"pair already listed in row {seen_pair[key2] + 1}")
        seen_pair.setdefault(key2, r)

    locked: dict[str, int] = {}
    for r, lk in enumerate(p.locks):
        if lk.student_id in locked:
            bad("locks", r, "student_id",
                f"student '{lk.student_id}' is already locked in row {locked[lk.student_id] + 1}")
        locked.setdefault(lk.student_id, r)
        locked_st = stu_by_id.get(lk.student_id)
        if locked_st is None:
            bad("locks", r, "student_id",
                f"unknown student '{lk.student_id}' (not in students.csv)")
        if lk.workstation_id not in ws:
            bad("locks", r, "workstation_id",
                f"unknown workstation '{lk.workstation_id}' (not in workstations.csv)")
        if lk.mentor_id is not None:
            lk_mentor = men_by_id.get(lk.mentor_id)
            if lk_mentor is None:
                bad("locks", r, "mentor_id",
                    f"unknown mentor '{lk.mentor_id}' (not in mentors.csv)")
            elif lk_mentor.workstation_id != lk.workstation_id:
                bad("locks", r, "mentor_id",
                    f"mentor '{lk.mentor_id}' works at '{lk_mentor.workstation_id}', not at "
                    f"'{lk.workstation_id}'; lock a mentor of that workstation")
        if lk.start_term is not None and lk.start_term not in tix:
            bad("locks", r, "start_term", f"unknown term '{lk.start_term}' (not in terms)")
        w_row = ws.get(lk.workstation_id)
        if locked_st is not None and w_row is not None:
            _check_lock(p, r, lk, locked_st, p.workstations[w_row],
                        men_by_id.get(lk.mentor_id or ""), tix, default_window, bad)

    seen_rank: dict[tuple[str, str], int] = {}
    for r, rk in enumerate(p.rankings):
        if rk.workstation_id not in ws:
            bad("rankings", r, "workstation_id",
                f"unknown workstation '{rk.workstation_id}' (not in workstations.csv)")
        if rk.student_id not in stu:
            bad("rankings", r, "student_id",
                f"unknown student '{rk.student_id}' (not in students.csv)")
        key3 = (rk.workstation_id, rk.student_id)
        if key3 in seen_rank:
            bad("rankings", r, "student_id", f"already ranked in row {seen_rank[key3] + 1}")
        seen_rank.setdefault(key3, r)
    return out


def _check_lock(p: Problem, r: int, lk: Lock, st: Student, w: Workstation, m: Mentor | None,
                tix: dict[str, int], default_window: tuple[str, str], bad: Any) -> None:
    """A lock that breaks a rule on its own (not by competing for places) is an input error."""
    where = f"lock of '{lk.student_id}' at '{lk.workstation_id}'"
    if st.discipline not in w.disciplines:
        bad("locks", r, "workstation_id", f"{where}: the workstation does not take discipline "
            f"'{st.discipline}'; lock another workstation or add the discipline")
    if w.partner_universities and st.university_id not in w.partner_universities:
        bad("locks", r, "workstation_id", f"{where}: the workstation takes only students of "
            f"{', '.join(w.partner_universities)}; lock another workstation or add the partner")
    if m is not None and st.discipline not in m.disciplines:
        bad("locks", r, "mentor_id", f"{where}: mentor '{m.mentor_id}' does not mentor "
            f"discipline '{st.discipline}'; lock another mentor or leave mentor_id empty")
    if p.policy.preferences_only and lk.workstation_id not in st.preferences:
        bad("locks", r, "workstation_id", f"{where}: preferences_only is on and the workstation "
            "is not on the student's list; add it to the list or turn preferences_only off")
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
        bad("locks", r, "start_term", f"{where}: a {n}-term block from '{lk.start_term}' leaves "
            f"the student's window {p.terms[first]}..{p.terms[last]}; choose a start inside it")
        return
    closed = {tc.term for tc in p.term_capacities
              if tc.workstation_id == lk.workstation_id and tc.capacity == 0}
    if w.capacity == 0:
        closed |= set(p.terms) - {tc.term for tc in p.term_capacities
                                  if tc.workstation_id == lk.workstation_id and tc.capacity > 0}
    hit = [p.terms[k] for k in range(start, start + n) if p.terms[k] in closed]
    if hit:
        bad("locks", r, "start_term", f"{where}: the workstation is closed in {', '.join(hit)}; "
            "choose another start_term or reopen the workstation in workstation_terms.csv")


def lock_overloads(p: Problem) -> list[ProblemIssue]:
    """Locks that cannot be honoured, by arithmetic alone.

    On its own: a lock whose workstation is closed in some term of every block the student's
    window allows, or whose mentor or the student's given supervisor has capacity 0. Together:
    locks with a ``start_term`` that hold a workstation (or a locked mentor) in a term beyond
    its capacity, and locked students whose given ``supervisor_id`` takes fewer. A problem with
    such locks is well-formed (this is not part of :func:`cross_check`, and a solver reports it
    INFEASIBLE); the loader refuses it early because the message alone tells a clerk what to
    change. Expects a problem that passed :func:`cross_check`.
    """
    out: list[ProblemIssue] = []
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
        where = f"lock of '{lk.student_id}' at '{lk.workstation_id}'"
        n = p.block_terms(st)
        first, last = p.window(st)
        if lk.start_term is None and not any(
                all(ws_cap[lk.workstation_id, t] > 0 for t in p.terms[k:k + n])
                for k in range(first, last - n + 2)):
            out.append(ProblemIssue("locks", r, "workstation_id", (
                f"{where}: the workstation is closed in some term of every {n}-term block "
                f"inside the student's window {p.terms[first]}..{p.terms[last]}; lock another "
                "workstation or reopen it in workstation_terms.csv")))
        if lk.mentor_id is not None and m_cap[lk.mentor_id] == 0:
            out.append(ProblemIssue("locks", r, "mentor_id", (
                f"{where}: mentor '{lk.mentor_id}' has capacity 0; lock another mentor, leave "
                "mentor_id empty or raise the capacity")))
        elif lk.mentor_id is not None and lk.start_term is not None:
            start = p.term_index[lk.start_term]
            for t in p.terms[start:start + n]:
                at_m.setdefault((lk.mentor_id, t), []).append(r)
        if st.supervisor_id is not None and s_cap[st.supervisor_id] == 0:
            out.append(ProblemIssue("locks", r, "student_id", (
                f"{where}: the student's supervisor '{st.supervisor_id}' (students.csv) has "
                "capacity 0; give another supervisor or raise the capacity")))
        elif st.supervisor_id is not None:
            at_s.setdefault(st.supervisor_id, []).append(r)
        if lk.start_term is not None:
            start = p.term_index[lk.start_term]
            for t in p.terms[start:start + n]:
                at_ws.setdefault((lk.workstation_id, t), []).append(r)

    def rows(rs: list[int]) -> str:
        return ", ".join(str(r + 1) for r in rs)

    done: set[tuple[str, str]] = set()  # one line per overloaded workstation or mentor
    for (wid, t), rs in at_ws.items():
        if len(rs) > ws_cap[wid, t] and ("ws", wid) not in done:
            done.add(("ws", wid))
            out.append(ProblemIssue("locks", rs[-1], "start_term", (
                f"the locks in rows {rows(rs)} place {len(rs)} students at '{wid}' in {t}, "
                f"which holds {ws_cap[wid, t]} then; remove a lock, change a start_term or "
                "raise the capacity")))
    for (mid, t), rs in at_m.items():
        if len(rs) > m_cap[mid] and ("m", mid) not in done:
            done.add(("m", mid))
            out.append(ProblemIssue("locks", rs[-1], "mentor_id", (
                f"the locks in rows {rows(rs)} give mentor '{mid}' {len(rs)} students in {t}, "
                f"who takes {m_cap[mid]} at once; remove a lock, change a mentor_id or "
                "start_term, or raise the mentor's capacity")))
    for sid, rs in at_s.items():
        if len(rs) > s_cap[sid]:
            out.append(ProblemIssue("locks", rs[-1], "student_id", (
                f"the locked students in rows {rows(rs)} all have supervisor '{sid}' "
                f"(students.csv), who takes {s_cap[sid]}; remove a lock, change a "
                "supervisor_id or raise the supervisor's capacity")))
    return out


TABLE_OF_FIELD: dict[str, str] = {
    "students": "students", "workstations": "workstations", "mentors": "mentors",
    "supervisors": "supervisors", "universities": "universities",
    "term_capacities": "workstation_terms", "pairs": "pairs", "locks": "locks",
    "rankings": "rankings",
}
"""Problem field -> the table its rows come from (the other fields are ``scenario`` settings)."""

_ENTITY_TABLE: dict[type[BaseModel], str] = {
    Student: "students", Workstation: "workstations", Mentor: "mentors",
    Supervisor: "supervisors", University: "universities", TermCapacity: "workstation_terms",
    Pair: "pairs", Lock: "locks", Ranking: "rankings",
}
_SETTINGS_SECTION: dict[type[BaseModel], str] = {
    Policy: "policy", SolverSettings: "solver", ObjectiveSettings: "objective"}


def _reason(err: Any) -> str:
    if err.get("type") == "missing":
        return "is missing; give a value"
    if err.get("type") == "extra_forbidden":
        return "is not a field; remove it"
    return error_reason(err)


def validation_issues(error: ValidationError, model: type[BaseModel]) -> list[ProblemIssue]:
    """The issues of a pydantic error raised while building ``model``, located by table.

    A problem's cross-table issues (:func:`cross_check`) come back as they are; a field error
    is located by its table, row and column (settings by ``scenario`` and the setting's path).
    """
    out: list[ProblemIssue] = []
    for err in error.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ProblemError):
            out += cause.issues
            continue
        loc = [str(x) if not isinstance(x, int) else x for x in err["loc"]]
        message = _reason(err)
        if model in _ENTITY_TABLE:
            column = str(loc[0]) if loc else None
            out.append(ProblemIssue(_ENTITY_TABLE[model], None, column, message))
        elif model in _SETTINGS_SECTION:
            path = ".".join(map(str, [_SETTINGS_SECTION[model], *loc]))
            out.append(ProblemIssue("scenario", None, path, message))
        elif loc and loc[0] in TABLE_OF_FIELD:
            row = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            column = str(loc[2]) if len(loc) > 2 else None
            out.append(ProblemIssue(TABLE_OF_FIELD[str(loc[0])], row, column, message))
        else:
            out.append(ProblemIssue("scenario", None, ".".join(map(str, loc)) or None, message))
    return out


def checked_problem(fields: dict[str, Any], field_line: Callable[[str, str], str],
                    issue_text: Callable[[ProblemIssue], str]) -> Problem:
    """A Problem from its fields, with every field error and cross-table issue located.

    Parameters
    ----------
    fields
        :class:`Problem` fields.
    field_line
        ``(field path, reason) -> message line`` for a field that does not validate.
    issue_text
        ``issue -> message line`` for a broken cross-table rule (:func:`cross_check`,
        :func:`lock_overloads`).

    Raises
    ------
    ScenarioError
        With one line per problem.
    """
    try:
        problem = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError as e:
        raise ScenarioError([field_line(".".join(map(str, err["loc"])), error_reason(err))
                             for err in e.errors()]) from None
    issues = cross_check(problem) or lock_overloads(problem)
    if issues:
        raise ScenarioError([issue_text(i) for i in issues])
    return problem
