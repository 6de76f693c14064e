"""Hypothesis strategies that build valid :class:`matcher.model.Problem` objects by construction.

Every drawn value respects the format's cross-table rules (known ids, a given supervisor of the
student's own university and discipline, a window at least as long as the student's block, locks
that are valid on their own), so constructing the ``Problem`` never raises. Locks may still
compete for the same places, which makes some problems INFEASIBLE on purpose.

``problems()`` takes size bounds; ``tiny_problems()`` keeps the brute-force search space small.
``examples(quick, thorough)`` is a property test's example count: ``quick`` in the default run
(a fixed, derandomised set), ``thorough`` with ``pytest --thorough`` (fresh random examples).
With ``rules=True`` they also draw the rules of issue 28 (tied choices, vetoes, a split
practice, minimum intakes, a group kept together), each only where the problem stays valid.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from hypothesis import strategies as st

from matcher.model import (
    GroupMember,
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Policy,
    Problem,
    SolverSettings,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Veto,
    Workstation,
)
from matcher.model.errors import ProblemError

THOROUGH = False
"""Set by tests/conftest.py from ``pytest --thorough`` before the test modules are imported."""

DISCIPLINES = ("0854", "0855", "0856")
PAIR_WEIGHTS = (0.5, 1.0, 1.25, 2.0, 3.0)


def examples(quick: int, thorough: int | None = None) -> int:
    """How many examples a property test runs: ``quick`` by default, ``thorough`` (default
    ``quick``) in the nightly run."""
    return thorough if THOROUGH and thorough is not None else quick


def _subset(draw: Any, items: list[str], *, min_size: int = 0, max_size: int | None = None
            ) -> tuple[str, ...]:
    """A duplicate-free sub-list of ``items`` (kept in the drawn order)."""
    if not items:
        return ()
    picked = draw(st.lists(st.sampled_from(items), min_size=min_size, max_size=max_size,
                           unique=True))
    return tuple(picked)


def _size(draw: Any, lo: int, hi: int) -> int:
    """A count in ``lo..hi``: half the time ``hi`` (fuller problems), shrinking towards ``lo``."""
    if draw(st.booleans()):
        return hi
    return draw(st.integers(lo, hi))


def _capacity(draw: Any, max_capacity: int) -> int:
    """A capacity, mostly positive (0 = closed / unavailable is drawn now and then)."""
    if max_capacity <= 0:
        return 0
    return draw(st.sampled_from([*[c for c in range(1, max_capacity + 1) for _ in range(2)], 0]))


def _disciplines(draw: Any, discs: list[str]) -> tuple[str, ...]:
    """Half the time a random non-empty subset, else every discipline."""
    if draw(st.booleans()):
        return _subset(draw, discs, min_size=1)
    return tuple(discs)


def _block(months: int, term_months: int) -> int:
    return math.ceil(months / term_months)


@st.composite
def problems(draw: Any, *, max_students: int = 6, max_workstations: int = 3,
             min_terms: int = 2, max_terms: int = 4, max_universities: int = 2,
             max_disciplines: int = 3, max_mentors_per_station: int = 2,
             max_supervisors: int = 4, max_capacity: int = 3, max_preferences: int = 3,
             max_term_overrides: int = 3, max_pairs: int = 3, max_locks: int = 2,
             rules: bool = False) -> Problem:
    """A valid problem whose size stays within the given bounds.

    Sizes: students ``1..max_students``, workstations ``1..max_workstations``, terms
    ``min_terms..max_terms``, universities ``1..max_universities``, disciplines
    ``1..max_disciplines``, mentors per workstation ``1..max_mentors_per_station``, supervisors
    ``1..max_supervisors``; capacities ``0..max_capacity``; preference lists
    ``0..max_preferences`` distinct workstations.
    """
    term_months = 6
    n_terms = draw(st.integers(min_terms, max_terms))
    terms = tuple(f"T{k}" for k in range(n_terms))
    n_unis = draw(st.integers(1, max_universities))
    unis = [f"U{u}" for u in range(n_unis)]
    discs = list(DISCIPLINES[: draw(st.integers(1, min(max_disciplines, len(DISCIPLINES))))])

    # Policy: 6 or 12 months (1 or 2 terms), an optional default window of any length.
    practice = draw(st.sampled_from([6, 12]))
    experienced = draw(st.sampled_from([6, 12]))
    if draw(st.booleans()):
        w0 = draw(st.integers(0, n_terms - 1))
        w1 = draw(st.integers(w0, n_terms - 1))
        window: tuple[str, str] | None = (terms[w0], terms[w1])
        default = (w0, w1)
    else:
        window, default = None, (0, n_terms - 1)
    policy = Policy(practice_months=practice, experienced_practice_months=experienced,
                    experienced_years=2.0, window=window,
                    preferences_only=draw(st.integers(0, 3)) == 3)

    # Workstations and their mentors.
    n_ws = _size(draw, 1, max_workstations)
    stations: list[Workstation] = []
    mentors: list[Mentor] = []
    for j in range(n_ws):
        wid = f"W{j}"
        stations.append(Workstation(
            workstation_id=wid,
            disciplines=_disciplines(draw, discs),
            capacity=_capacity(draw, max_capacity),
            partner_universities=() if draw(st.booleans()) else _subset(draw, unis)))
        for k in range(draw(st.integers(1, max_mentors_per_station))):
            mentors.append(Mentor(mentor_id=f"{wid}-M{k}", workstation_id=wid,
                                  disciplines=_disciplines(draw, discs),
                                  capacity=_capacity(draw, max_capacity)))
    ws_ids = [w.workstation_id for w in stations]

    # Campus supervisors: the first ones cover the universities in turn, the rest are random.
    supervisors = [
        Supervisor(supervisor_id=f"P{k}",
                   university_id=unis[k] if k < n_unis else draw(st.sampled_from(unis)),
                   disciplines=_disciplines(draw, discs),
                   capacity=_capacity(draw, max_capacity))
        for k in range(_size(draw, 1, max_supervisors))]

    # Per-term capacity overrides (0 = closed that term).
    cells = [(w, t) for w in ws_ids for t in terms]
    override_cells = draw(st.lists(st.sampled_from(cells), max_size=max_term_overrides,
                                   unique=True))
    term_caps = [TermCapacity(workstation_id=w, term=t, capacity=draw(st.integers(0, max_capacity)))
                 for w, t in override_cells]

    # Students.
    students: list[Student] = []
    for i in range(_size(draw, 1, max_students)):
        uni = draw(st.sampled_from(unis))
        disc = draw(st.sampled_from(discs))
        years = draw(st.sampled_from([0.0, 1.0, 3.0]))
        own = [m for m in (3, 6, 7, 12, 18) if _block(m, term_months) <= n_terms]
        required = draw(st.none() | st.sampled_from(own))
        months = required if required is not None else (experienced if years >= 2 else practice)
        n = _block(months, term_months)
        if n > n_terms:  # policy months longer than the horizon: give the student its own
            required = draw(st.sampled_from(own))
            n = _block(required, term_months)
        window_start = window_end = None
        if not (default[1] - default[0] + 1 >= n and draw(st.booleans())):
            first = draw(st.integers(0, n_terms - n))
            last = draw(st.integers(first + n - 1, n_terms - 1))
            if first != default[0] or draw(st.booleans()):
                window_start = terms[first]
            if last != default[1] or draw(st.booleans()):
                window_end = terms[last]
        fitting = [s.supervisor_id for s in supervisors
                   if s.university_id == uni and disc in s.disciplines]
        given = draw(st.none() | st.sampled_from(fitting)) if fitting else None
        students.append(Student(
            student_id=f"S{i}", university_id=uni, discipline=disc,
            work_experience_years=years,
            preferences=_subset(draw, ws_ids, max_size=max_preferences),
            supervisor_id=given, priority=float(draw(st.integers(0, 100))),
            window_start=window_start, window_end=window_end, required_months=required))

    # Rewarded supervisor-mentor pairs, mostly ones that can meet (a shared discipline).
    every = [(s.supervisor_id, m.mentor_id) for s in supervisors for m in mentors]
    meeting = [(s.supervisor_id, m.mentor_id) for s in supervisors for m in mentors
               if set(s.disciplines) & set(m.disciplines)]
    pool = meeting if meeting and draw(st.integers(0, 3)) else every
    n_pairs = min(_size(draw, 0, max_pairs), len(pool)) if max_pairs > 0 else 0
    pair_keys = draw(st.lists(st.sampled_from(pool), min_size=n_pairs, max_size=n_pairs,
                              unique=True))
    pairs = [Pair(supervisor_id=s, mentor_id=m, weight=draw(st.sampled_from(PAIR_WEIGHTS)))
             for s, m in pair_keys]

    base = Problem(name="generated", terms=terms, term_months=term_months, policy=policy,
                   solver=SolverSettings(time_limit_s=10, seed=0, workers=2),
                   objective=ObjectiveSettings(pair_weight=draw(st.integers(0, 3)) < 3),
                   students=tuple(students), workstations=tuple(stations),
                   mentors=tuple(mentors), supervisors=tuple(supervisors),
                   universities=tuple(University(university_id=u) for u in unis),
                   term_capacities=tuple(term_caps), pairs=tuple(pairs))

    if rules:
        base = draw(_with_rules(base))
    # Locks: each valid on its own; together they may conflict.
    locks: list[Lock] = []
    if max_locks > 0:
        locked = draw(st.lists(st.sampled_from(students), max_size=max_locks, unique_by=lambda s:
                               s.student_id))
        for s in locked:
            lock = draw(_lock_for(base, s))
            if lock is not None:
                locks.append(lock)
    if not locks:
        return base
    try:
        return Problem(**{**{f: getattr(base, f) for f in Problem.model_fields},
                          "locks": tuple(locks)})
    except ProblemError:  # (rules: a lock on a vetoed workstation, group locks that disagree)
        return base


def _replace(p: Problem, **fields: Any) -> Problem:
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, **fields})


@st.composite
def _with_rules(draw: Any, p: Problem) -> Problem:
    """``p`` with some of the rules of issue 28, each kept only where ``p`` stays valid."""
    students = list(p.students)
    for k, s in enumerate(students):  # tied choices: merge neighbours on some lists
        if len(s.preferences) > 1 and draw(st.booleans()):
            ranks = [1]
            for _ in s.preferences[1:]:
                ranks.append(ranks[-1] + (0 if draw(st.booleans()) else 1))
            students[k] = s.model_copy(update={"preference_ranks": tuple(ranks)})
    p = _replace(p, students=tuple(students))
    if draw(st.booleans()):  # a split practice
        policy = p.policy.model_copy(update={"max_segments": 2})
        with contextlib.suppress(ProblemError):
            p = _replace(p, policy=policy)
    pairs = [(s.student_id, w.workstation_id) for s in p.students for w in p.workstations]
    vetoes = draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True))
    if vetoes:
        p = _replace(p, vetoes=tuple(Veto(student_id=s, workstation_id=w) for s, w in vetoes))
    stations = list(p.workstations)
    for k, w in enumerate(stations):
        if draw(st.integers(0, 2)) == 0:
            stations[k] = w.model_copy(update={"min_intake": draw(st.integers(2, 3))})
    with contextlib.suppress(ProblemError):
        p = _replace(p, workstations=tuple(stations))
    ids = [s.student_id for s in p.students]
    if len(ids) >= 2 and draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(ids), min_size=2, max_size=3, unique=True))
        with contextlib.suppress(ProblemError):
            p = _replace(p, groups=tuple(GroupMember(group_id="G1", student_id=s)
                                         for s in members))
    return p


def _closed_terms(p: Problem, wid: str) -> set[int]:
    """Term indices in which a workstation has capacity 0 (overrides included)."""
    cap = {t: next(w.capacity for w in p.workstations if w.workstation_id == wid)
           for t in p.terms}
    for tc in p.term_capacities:
        if tc.workstation_id == wid:
            cap[tc.term] = tc.capacity
    return {k for k, t in enumerate(p.terms) if cap[t] == 0}


@st.composite
def _lock_for(draw: Any, p: Problem, s: Student) -> Lock | None:
    """A lock of student ``s`` that is valid on its own, or None when none can be made."""
    candidates = [w for w in p.workstations
                  if s.discipline in w.disciplines
                  and (not w.partner_universities or s.university_id in w.partner_universities)
                  and (not p.policy.preferences_only or w.workstation_id in s.preferences)]
    if not candidates:
        return None
    w = draw(st.sampled_from(candidates))
    fit_mentors = [m.mentor_id for m in p.mentors
                   if m.workstation_id == w.workstation_id and s.discipline in m.disciplines]
    mentor = draw(st.none() | st.sampled_from(fit_mentors)) if fit_mentors else None
    first, last = p.window(s)
    n = p.block_terms(s)
    closed = _closed_terms(p, w.workstation_id)
    starts = [p.terms[k] for k in range(first, last - n + 2)
              if not any(t in closed for t in range(k, k + n))]
    start = draw(st.none() | st.sampled_from(starts)) if starts else None
    return Lock(student_id=s.student_id, workstation_id=w.workstation_id, mentor_id=mentor,
                start_term=start)


def tiny_problems(*, rules: bool = False) -> st.SearchStrategy[Problem]:
    """Problems small enough for :mod:`tests.brute` (≤ 4 students, ≤ 2 workstations, ≤ 3 terms;
    with ``rules``, ≤ 4 terms so that a split practice can happen)."""
    return problems(max_students=4, max_workstations=2, max_terms=4 if rules else 3,
                    max_supervisors=3, max_term_overrides=2, max_pairs=4, max_locks=2,
                    rules=rules)
