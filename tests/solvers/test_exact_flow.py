"""The exact flow path (issue 27 item 1): capacitated assignments proven by a min-cost flow.

Each condition of :mod:`matcher.solvers.exact_flow` is shown necessary for the path to be
taken (and the solve still right without it), the path's result equals the brute-force
optimum, and a problem with one flow-exact component and one other is solved by parts.
"""

from __future__ import annotations

import random

import pytest
from brute import brute_force

import matcher
from matcher import (
    Mentor,
    ObjectiveSettings,
    Policy,
    Problem,
    Student,
    Supervisor,
    University,
    Workstation,
)
from matcher.check import check
from matcher.encoding import encode
from matcher.model import TermCapacity
from matcher.solvers.exact_flow import components, seats, why_not_exact

# About the slot model and the flow path: used on small problems too (tests/solvers/conftest.py).
pytestmark = pytest.mark.usefixtures("slot_model_at_every_size")


TERMS = ("2026-autumn", "2027-spring")
FLOW_BOUNDS = {"placed": "max_flow", "rank_cost": "min_cost_flow"}


def _problem(students: list[tuple[str, str, tuple[str, ...], float]],
             stations: list[tuple[str, tuple[str, ...], int]],
             mentors: list[tuple[str, str, tuple[str, ...], int]], *,
             experienced_months: int = 12, preferences_only: bool = False,
             term_capacities: tuple[TermCapacity, ...] = ()) -> Problem:
    """Students ``(id, discipline, preferences, work years)`` of one university, workstations
    ``(id, disciplines, capacity)``, mentors ``(id, workstation, disciplines, capacity)``;
    two terms, 12 months of practice (both terms) unless ``experienced_months`` differs."""
    disciplines = tuple(sorted({d for _s, d, _p, _y in students}))
    return Problem(
        name="flow", terms=TERMS, term_months=6,
        policy=Policy(practice_months=12, experienced_practice_months=experienced_months,
                      experienced_years=2, preferences_only=preferences_only),
        objective=ObjectiveSettings(pair_weight=False),
        universities=(University(university_id="U", name="U", city="Harbin"),),
        workstations=tuple(Workstation(workstation_id=w, disciplines=ds, capacity=c,
                                       city="Harbin") for w, ds, c in stations),
        mentors=tuple(Mentor(mentor_id=m, workstation_id=w, disciplines=ds, capacity=c)
                      for m, w, ds, c in mentors),
        supervisors=(Supervisor(supervisor_id="SV", university_id="U", disciplines=disciplines,
                                capacity=len(students)),),
        students=tuple(Student(student_id=s, university_id="U", discipline=d,
                               work_experience_years=y, preferences=prefs)
                       for s, d, prefs, y in students),
        term_capacities=term_capacities)


def _assert_brute(problem: Problem, result: matcher.Result) -> None:
    best = brute_force(problem)
    assert best is not None
    assert (result.placed, result.rank_cost) == (best.placed, best.rank_cost)
    assert check(problem, result).ok


def _assignment() -> Problem:
    """Five students wanting three workstations of one place each (one closed in a term), one
    listing nothing: a capacitated assignment."""
    return _problem(
        [("S1", "0854", ("W1", "W2"), 0), ("S2", "0854", ("W1",), 0),
         ("S3", "0855", ("W1", "W3"), 0), ("S4", "0855", ("W3", "W2"), 3),
         ("S5", "0854", (), 0)],
        [("W1", ("0854", "0855"), 1), ("W2", ("0854", "0855"), 2),
         ("W3", ("0854", "0855"), 1)],
        [("M1", "W1", ("0854", "0855"), 1), ("M2", "W2", ("0854", "0855"), 2),
         ("M3", "W3", ("0854", "0855"), 1)],
        term_capacities=(TermCapacity(workstation_id="W2", term="2027-spring", capacity=1),))


def test_a_capacitated_assignment_is_proven_by_the_flow() -> None:
    """Everyone needs both terms and mentors cannot bind: cpsat takes the flow, reports
    OPTIMAL with the flow's proof, and the allocation is the brute-force optimum."""
    problem = _assignment()
    enc = encode(problem)
    (comp,) = components(enc)
    assert why_not_exact(enc, comp) == ""
    assert [seats(enc, w, 2, 0, 1) for w in range(3)] == [1, 1, 1]  # W2: 2 then 1 place
    result = matcher.solve(problem, "cpsat", time_limit_s=10)
    assert result.status == matcher.Status.OPTIMAL
    assert result.stats["engine"] == "min-cost flow (exact)"
    assert result.stats["bounds"] == FLOW_BOUNDS
    assert result.placed == result.placed_upper_bound == 3
    assert result.rank_cost == result.rank_cost_lower_bound
    _assert_brute(problem, result)


@pytest.mark.parametrize(("change", "reason"), [
    ("terms", "its students need different terms"),
    ("discipline", "a mentor does not take every discipline that can come"),
    ("mentor_room", "mentor limits may bind"),
])
def test_each_condition_is_needed(change: str, reason: str) -> None:
    """Break one condition and the component is no longer flow-exact (for the reason given);
    cpsat then takes the slot model, and the optimum is still the brute-force one."""
    problem = _assignment()
    if change == "terms":  # S4 (3 years of work) needs one term only
        problem = problem.model_copy(update={"policy": problem.policy.model_copy(
            update={"experienced_practice_months": 6})})
    elif change == "discipline":  # M1 takes 0854 only, but S3 (0855) lists W1
        problem = problem.model_copy(update={"mentors": (
            Mentor(mentor_id="M1", workstation_id="W1", disciplines=("0854",), capacity=1),
            Mentor(mentor_id="M1b", workstation_id="W1", disciplines=("0855",), capacity=1),
            *problem.mentors[1:])})
    else:  # W2 holds 2 in autumn, its one mentor 1
        problem = problem.model_copy(update={"mentors": (
            problem.mentors[0],
            Mentor(mentor_id="M2", workstation_id="W2", disciplines=("0854", "0855"),
                   capacity=1),
            problem.mentors[2])})
    enc = encode(problem)
    (comp,) = components(enc)
    assert why_not_exact(enc, comp) == reason
    result = matcher.solve(problem, "cpsat", time_limit_s=20)
    assert "min-cost flow" not in result.stats["engine"]
    _assert_brute(problem, result)


def test_components_follow_eligibility() -> None:
    """With lists binding, students linked through no workstation are separate components;
    with off-list places allowed, every student of a discipline reaches them all."""
    students = [("A1", "0854", ("W1",), 0), ("A2", "0854", ("W1", "W2"), 0),
                ("B1", "0855", ("W3",), 0)]
    stations = [("W1", ("0854",), 1), ("W2", ("0854",), 1), ("W3", ("0854", "0855"), 1)]
    mentors = [("M1", "W1", ("0854",), 1), ("M2", "W2", ("0854",), 1),
               ("M3", "W3", ("0854", "0855"), 1)]
    listed = encode(_problem(students, stations, mentors, preferences_only=True))
    assert [(c.students, c.stations) for c in components(listed)] == [((0, 1), (0, 1)),
                                                                       ((2,), (2,))]
    free = encode(_problem(students, stations, mentors))
    assert [(c.students, c.stations) for c in components(free)] == [((0, 1, 2), (0, 1, 2))]


def test_a_problem_is_solved_by_parts() -> None:
    """One component is a capacitated assignment, the other (a one-term student among
    two-term ones) is not: the first by the flow, the second by the slot model, proven
    together and equal to the brute-force optimum."""
    problem = _problem(
        [("A1", "0854", ("W1", "W2"), 0), ("A2", "0854", ("W1",), 0),
         ("A3", "0854", ("W2", "W1"), 0),
         ("B1", "0855", ("W3",), 0), ("B2", "0855", ("W3", "W4"), 3),
         ("B3", "0855", ("W4",), 0)],
        [("W1", ("0854",), 1), ("W2", ("0854",), 1), ("W3", ("0855",), 1),
         ("W4", ("0855",), 1)],
        [("M1", "W1", ("0854",), 1), ("M2", "W2", ("0854",), 1), ("M3", "W3", ("0855",), 1),
         ("M4", "W4", ("0855",), 1)],
        experienced_months=6, preferences_only=True)
    enc = encode(problem)
    assert [why_not_exact(enc, c) for c in components(enc)] == [
        "", "its students need different terms"]
    result = matcher.solve(problem, "cpsat", time_limit_s=20)
    assert result.status == matcher.Status.OPTIMAL
    assert result.stats["engine"] == "min-cost flow (exact) + slot model + HiGHS"
    assert result.stats["flow_students"] == 3
    assert result.placed_upper_bound == result.placed
    assert result.rank_cost_lower_bound == result.rank_cost
    _assert_brute(problem, result)


@pytest.mark.parametrize("seed", range(12))
def test_random_capacitated_assignments_match_brute_force(seed: int) -> None:
    """Random small capacitated assignments (lists, capacities, closed terms, off-list places
    or not): the flow's proven optimum is the brute-force one."""
    rng = random.Random(seed)
    n_w = rng.randint(2, 4)
    stations = [(f"W{k}", ("0854", "0855"), rng.randint(0, 2)) for k in range(n_w)]
    mentors = [(f"M{k}", f"W{k}", ("0854", "0855"), 2) for k in range(n_w)]
    students = [(f"S{k}", rng.choice(("0854", "0855")),
                 tuple(rng.sample([w for w, _d, _c in stations], rng.randint(0, min(3, n_w)))),
                 0) for k in range(rng.randint(3, 6))]
    closed = tuple(TermCapacity(workstation_id=w, term=rng.choice(TERMS), capacity=0)
                   for w, _d, _c in stations if rng.random() < 0.2)
    problem = _problem(students, stations, mentors, preferences_only=rng.random() < 0.5,
                       term_capacities=closed)
    result = matcher.solve(problem, "cpsat", time_limit_s=20)
    assert result.status == matcher.Status.OPTIMAL
    if result.placed:
        assert result.stats["engine"].startswith("min-cost flow (exact)")
    _assert_brute(problem, result)
