"""Tests of justified envy (:mod:`matcher.fairness`): the blocking-pair definitions.

The reference is a brute force written here from the words of the definition, by moving
students: ``(s, w)`` blocks when, for some set of students ``w`` ranks below ``s`` (none of them
locked), taking them and ``s`` out of the allocation lets ``s`` in at ``w`` with some mentor, block
of terms and supervisor, every limit kept (the supervisor only with the room left once ``s``'s own
place is freed). It enumerates those sets; the checker counts places term by term, so the two
share nothing but the problem.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from brute import Option, Search
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, tiny_problems

import matcher
from matcher.check import blocking_pairs, check
from matcher.fairness import DEFINITIONS, Held
from matcher.fairness import blocking_pairs as fairness_pairs
from matcher.model import (
    Lock,
    Mentor,
    Policy,
    Problem,
    Ranking,
    SolverSettings,
    Student,
    Supervisor,
    University,
    Workstation,
)

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
COLUMNS = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
           "end_term")


# ---- the brute-force reference -------------------------------------------------------------------
def _key(p: Problem) -> Any:
    explicit = {(rk.workstation_id, rk.student_id): rk.rank for rk in p.rankings}
    prio = {s.student_id: s.priority for s in p.students}

    def key(wid: str, sid: str) -> tuple[Any, ...]:
        own = explicit.get((wid, sid))
        return (0, own, "") if own is not None else (1, -prio[sid], sid)

    return key


def brute_blocking(p: Problem, alloc: dict[str, Option]) -> list[tuple[str, str]]:
    """Blocking pairs by moving students (module docstring)."""
    sr = Search.of(p)
    key = _key(p)
    locked = {lk.student_id for lk in p.locks}
    out = []
    for s, opts in zip(sr.students, sr.options, strict=True):
        sid = s.student_id
        if sid in locked:
            continue
        here = alloc.get(sid)
        cut = (s.preferences.index(here.workstation) if here is not None
               and here.workstation in s.preferences else len(s.preferences))
        for wid in s.preferences[:cut]:
            lower = [j for j, o in alloc.items() if o.workstation == wid and j not in locked
                     and key(wid, j) > key(wid, sid)]
            sup_load: dict[str, int] = defaultdict(int)
            for j, o in alloc.items():
                if j != sid:
                    sup_load[o.supervisor] += 1
            found = False
            for size in range(len(lower) + 1):
                for out_set in itertools.combinations(lower, size):
                    load: dict[tuple[Any, ...], int] = {}
                    for j, o in alloc.items():
                        if j != sid and j not in out_set:
                            sr.take(load, o, +1)
                    for o in opts:
                        if o.workstation != wid or sup_load[o.supervisor] >= sr.s_cap[
                                o.supervisor]:
                            continue
                        if all(load.get(("w", wid, t), 0) < sr.ws_cap[wid, t]
                               and load.get(("m", o.mentor, t), 0) < sr.m_cap[o.mentor]
                               for t in o.terms):
                            found = True
                            break
                    if found:
                        break
                if found:
                    break
            if found:
                out.append((sid, wid))
    return out


def random_allocation(p: Problem, rng: random.Random) -> dict[str, Option]:
    """A random allocation keeping every limit (locks placed first where they fit)."""
    sr = Search.of(p)
    load: dict[tuple[Any, ...], int] = {}
    alloc: dict[str, Option] = {}
    order = sorted(range(len(sr.students)),
                   key=lambda i: (sr.students[i].student_id not in sr.locked, rng.random()))
    for i in order:
        opts = [o for o in sr.options[i] if sr.fits(load, o)]
        if opts and (sr.students[i].student_id in sr.locked or rng.random() < 0.8):
            o = rng.choice(opts)
            sr.take(load, o, +1)
            alloc[sr.students[i].student_id] = o
    return alloc


def rows_of(p: Problem, alloc: dict[str, Option]) -> list[dict[str, str]]:
    """``assignments.csv`` rows of an allocation."""
    n = {s.student_id: p.block_terms(s) for s in p.students}
    return [dict(zip(COLUMNS, (sid, o.workstation, o.mentor, o.supervisor, p.terms[o.start],
                               p.terms[o.start + n[sid] - 1]), strict=True))
            for sid, o in sorted(alloc.items())]


@st.composite
def ranked_problems(draw: Any) -> Problem:
    """Tiny problems with a few ``rankings.csv`` rows (ranks 1-3, so ties occur)."""
    p = draw(tiny_problems())
    cells = [(w.workstation_id, s.student_id) for w in p.workstations for s in p.students]
    picked = draw(st.lists(st.sampled_from(cells), unique=True, max_size=4))
    rankings = tuple(Ranking(workstation_id=w, student_id=s, rank=draw(st.integers(1, 3)))
                     for w, s in picked)
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "rankings": rankings})


@settings(max_examples=examples(80, 200), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ranked_problems(), st.integers(0, 2**16))
def test_blocking_pairs_equal_the_brute_force(p: Problem, seed: int) -> None:
    """On generated problems (terms, mentors, supervisors, locks, ties in rankings.csv) and
    random valid allocations, the checker's blocking pairs are exactly the brute force's; those
    of some students only are the same pairs, under either definition."""
    alloc = random_allocation(p, random.Random(seed))
    rows = rows_of(p, alloc)
    rep = check(p, rows, stability=True)
    # Locks that compete for places may be left out here; every other rule holds.
    assert [v for v in rep.violations if not v.startswith("rule 6")] == []
    assert rep.stability == "feasible"
    assert rep.blocking_pairs == brute_blocking(p, alloc)
    # Asked for some students only (explain asks for one), the same pairs of those students.
    some = {s.student_id for s in p.students[::2]}
    n = {x.student_id: p.block_terms(x) for x in p.students}
    held = {sid: Held(o.workstation, o.mentor, o.supervisor, o.start, o.start + n[sid] - 1)
            for sid, o in alloc.items()}
    for definition in DEFINITIONS:
        assert fairness_pairs(p, held, definition, students=some) == [
            pair for pair in fairness_pairs(p, held, definition) if pair[0] in some]


@settings(max_examples=examples(40, 100), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(ranked_problems(), st.integers(0, 2**16))
def test_feasible_pairs_are_strict_pairs(p: Problem, seed: int) -> None:
    """Every blocking pair that respects the whole placement is one of the old definition's
    (which counts workstation places only), when no lock is involved."""
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, "locks": ()})
    rows = rows_of(p, random_allocation(p, random.Random(seed)))
    feasible = set(blocking_pairs(p, rows))
    strict = set(blocking_pairs(p, rows, "strict"))
    assert feasible <= strict


# ---- hand-built cases ----------------------------------------------------------------------------
def market(*, ws_cap: int, mentors: list[tuple[str, int]], students: list[tuple[str, float]],
           sup_cap: int = 9, locks: tuple[Lock, ...] = (), given: bool = False) -> Problem:
    """One term, one workstation W (listed by everyone) with mentors ``(id, capacity)`` and an
    unlisted workstation X; students ``(id, priority)``; one supervisor P."""
    return Problem(
        name="hand-built", terms=("T0",), term_months=6, policy=Policy(),
        solver=SolverSettings(time_limit_s=10, seed=0, workers=2),
        students=tuple(Student(student_id=sid, university_id="U", discipline="0854",
                               work_experience_years=0, preferences=("W",), priority=prio,
                               required_months=6, supervisor_id="P" if given else None)
                       for sid, prio in students),
        workstations=(Workstation(workstation_id="W", disciplines=("0854",), capacity=ws_cap),
                      Workstation(workstation_id="X", disciplines=("0854",), capacity=9)),
        mentors=(*(Mentor(mentor_id=m, workstation_id="W", disciplines=("0854",), capacity=c)
                   for m, c in mentors),
                 Mentor(mentor_id="XM", workstation_id="X", disciplines=("0854",), capacity=9)),
        supervisors=(Supervisor(supervisor_id="P", university_id="U", disciplines=("0854",),
                                capacity=sup_cap),),
        universities=(University(university_id="U"),), locks=locks)


def rows(*placed: tuple[str, str, str]) -> list[dict[str, str]]:
    """Rows ``(student, workstation, mentor)`` in the one term, supervisor P."""
    return [dict(zip(COLUMNS, (sid, wid, mid, "P", "T0", "T0"), strict=True))
            for sid, wid, mid in placed]


def test_full_mentor_of_a_higher_student_excuses_the_free_place() -> None:
    """W has a free place, but its only mentor is full with a student ranked above: W could not
    take B, so no blocking pair; the old definition counts one."""
    p = market(ws_cap=2, mentors=[("M", 1)], students=[("A", 90), ("B", 80)])
    alloc = rows(("A", "W", "M"), ("B", "X", "XM"))
    assert blocking_pairs(p, alloc) == []
    assert blocking_pairs(p, alloc, "strict") == [("B", "W")]


def test_mentor_of_a_lower_student_makes_room() -> None:
    """The mentor is full with a student ranked below: W could take A in B's place."""
    p = market(ws_cap=2, mentors=[("M", 1)], students=[("A", 90), ("B", 80)])
    alloc = rows(("B", "W", "M"), ("A", "X", "XM"))
    assert blocking_pairs(p, alloc) == [("A", "W")]


def test_free_place_and_lower_mentee_of_different_mentors() -> None:
    """A term must have room at the workstation *and* at one mentor: a free mentor does not
    help when the workstation is full with higher students, while a lower student of one
    mentor makes room for a student another mentor has room for."""
    p = market(ws_cap=1, mentors=[("M1", 1), ("M2", 1)],
               students=[("A", 90), ("B", 80), ("C", 70)])
    assert blocking_pairs(p, rows(("A", "W", "M1"), ("B", "X", "XM"))) == []
    assert blocking_pairs(p, rows(("C", "W", "M1"), ("A", "X", "XM"), ("B", "X", "XM"))) == [
        ("A", "W"), ("B", "W")]


def test_unplaced_student_needs_a_supervisor_with_room() -> None:
    """An unplaced student blocks only if a supervisor has room; a placed one always has its
    own (its place counted as freed)."""
    p = market(ws_cap=2, mentors=[("M", 2)], students=[("A", 90), ("B", 80)], sup_cap=1)
    assert blocking_pairs(p, rows(("B", "W", "M"))) == []  # A unplaced, P full
    p2 = market(ws_cap=2, mentors=[("M", 2)], students=[("A", 90), ("B", 80)], sup_cap=2)
    assert blocking_pairs(p2, rows(("B", "W", "M"))) == [("A", "W")]
    p3 = market(ws_cap=1, mentors=[("M", 2)], students=[("A", 90), ("B", 80)], sup_cap=2,
                given=True)
    assert blocking_pairs(p3, rows(("B", "W", "M"), ("A", "X", "XM"))) == [("A", "W")]


def test_locks_are_the_offices_decision() -> None:
    """A locked holder cannot be displaced, and a locked student does not envy."""
    locked_b = (Lock(student_id="B", workstation_id="W"),)
    p = market(ws_cap=1, mentors=[("M", 1)], students=[("A", 90), ("B", 80)], locks=locked_b)
    assert blocking_pairs(p, rows(("B", "W", "M"), ("A", "X", "XM"))) == []
    assert blocking_pairs(p, rows(("B", "W", "M"), ("A", "X", "XM")), "strict") == [("A", "W")]
    locked_a = (Lock(student_id="A", workstation_id="X"),)
    p2 = market(ws_cap=1, mentors=[("M", 1)], students=[("A", 90), ("B", 80)], locks=locked_a)
    assert blocking_pairs(p2, rows(("B", "W", "M"), ("A", "X", "XM"))) == []


def test_tiny_optimum_blocking_pairs() -> None:
    """Tiny's optimum (README) has two blocking pairs under both definitions: S1 (92) would
    take W1 from S2 (85.5), and S4 (90) would take W2's 0855 mentor from S5 (75.5)."""
    p = matcher.load_scenario(TINY)
    r = matcher.solve(p, "cpsat", time_limit_s=10)
    assert blocking_pairs(p, r) == [("S1", "W1"), ("S4", "W2")]
    assert blocking_pairs(p, r, "strict") == [("S1", "W1"), ("S4", "W2")]


def test_cli_stability_definitions() -> None:
    """``matcher check --stability`` counts by the default definition and says which;
    ``--stability strict`` by the old one; another name is a usage error (exit 2)."""
    from click.testing import CliRunner

    from matcher.cli import cli

    golden = Path(__file__).resolve().parents[1] / "data" / "golden" / "tiny-cpsat"
    run = CliRunner()
    default = run.invoke(cli, ["check", str(TINY), str(golden), "--stability"])
    assert default.exit_code == 0, default.output
    assert "blocking pairs 2  (feasible)" in default.stdout
    assert "S4 and W2 prefer each other" in default.stdout
    strict = run.invoke(cli, ["check", str(TINY), str(golden), "--stability", "strict"])
    assert strict.exit_code == 0 and "blocking pairs 2  (strict)" in strict.stdout
    bad = run.invoke(cli, ["check", str(TINY), str(golden), "--stability", "loose"])
    assert bad.exit_code == 2
