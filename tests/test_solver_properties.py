"""Property tests of the CP-SAT solver against the checker and a brute-force optimum.

Problems come from :mod:`strategies` (valid by construction); the brute force is
:mod:`brute`, written from the spec and sharing no code with the solver.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
from brute import brute_force
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import problems, tiny_problems

import matcher
from matcher.model import Problem
from matcher.result import Result, Status

TINY = Path(__file__).resolve().parents[1] / "scenarios" / "tiny"
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def _solve(problem: Problem) -> Result:
    return matcher.solve(problem, solver="cpsat", time_limit_s=10, workers=2, seed=0)


def _check_ok(problem: Problem, result: Result) -> matcher.CheckReport:
    """Run the independent checker and require a clean report."""
    report = matcher.check(problem, result)
    assert report.ok, report.violations
    return report


def _rebuild(problem: Problem, **changes: object) -> Problem:
    """A fully re-validated copy of ``problem`` with some fields replaced."""
    fields = {f: getattr(problem, f) for f in Problem.model_fields}
    return Problem(**{**fields, **changes})


@settings(max_examples=200, **SETTINGS)
@given(problems())
def test_cpsat_result_passes_checker(problem: Problem) -> None:
    """On valid generated problems the CP-SAT result is proven (OPTIMAL/INFEASIBLE) and checks."""
    result = _solve(problem)
    assert result.status in (Status.OPTIMAL, Status.INFEASIBLE), result.message
    _check_ok(problem, result)
    if result.status == Status.INFEASIBLE:
        assert result.placed == 0 and not result.placements
        assert problem.locks, "only conflicting locks can make a problem infeasible"
    else:
        assert len(result.placements) + len(result.unassigned) == len(problem.students)


@settings(max_examples=600, **SETTINGS)
@given(tiny_problems())
def test_cpsat_equals_brute_force(problem: Problem) -> None:
    """On tiny problems CP-SAT's (placed, rank cost, pair weight) equals the brute-force optimum."""
    expected = brute_force(problem)
    result = _solve(problem)
    if expected is None:
        assert result.status == Status.INFEASIBLE, (result.status, result.placed)
        return
    # The brute-force allocation itself keeps every rule (a check on the brute force).
    rows = [{"student_id": sid, "workstation_id": o.workstation, "mentor_id": o.mentor,
             "supervisor_id": o.supervisor, "start_term": problem.terms[o.start],
             "end_term": problem.terms[o.terms[-1]], "preference_rank": ""}
            for sid, o in expected.allocation.items()]
    own = matcher.check(problem, rows)
    assert own.ok, own.violations
    assert (own.placed, own.rank_cost) == (expected.placed, expected.rank_cost)
    assert abs(own.pair_weight - expected.pair_weight) <= 1e-6
    assert result.status == Status.OPTIMAL, (result.status, result.message)
    got = (result.placed, result.rank_cost, result.pair_weight)
    want = (expected.placed, expected.rank_cost, expected.pair_weight)
    assert got[:2] == want[:2], (got, want)
    assert abs(got[2] - want[2]) <= 1e-6, (got, want)
    report = _check_ok(problem, result)
    assert (report.placed, report.rank_cost) == want[:2]
    assert abs(report.pair_weight - want[2]) <= 1e-6


@settings(max_examples=150, **SETTINGS)
@given(problems())
def test_reported_bounds_hold(problem: Problem) -> None:
    """Reported bounds hold: placed ≤ upper bound, rank cost ≥ lower bound, equal when OPTIMAL."""
    result = _solve(problem)
    if result.status == Status.INFEASIBLE:
        return
    assert result.placed_upper_bound is not None
    assert result.rank_cost_lower_bound is not None
    assert result.placed <= result.placed_upper_bound
    assert result.rank_cost >= result.rank_cost_lower_bound
    assert result.placed_upper_bound <= len(problem.students)
    if result.status == Status.OPTIMAL:
        assert result.placed == result.placed_upper_bound
        assert result.rank_cost == result.rank_cost_lower_bound


def test_tiny_scenario_known_optimum() -> None:
    """scenarios/tiny solves to its hand-derived optimum (5 placed, rank cost 7, pair weight 2)."""
    expected = json.loads((TINY / "expected.json").read_text(encoding="utf-8"))
    problem = matcher.load_scenario(TINY)
    result = _solve(problem)
    assert result.status == Status.OPTIMAL
    assert result.placed == expected["placed"]
    assert result.rank_cost == expected["rank_cost"]
    assert abs(result.pair_weight - expected["pair_weight"]) <= 1e-6
    report = matcher.check(problem, result)
    assert report.ok, report.violations
    optimum = brute_force(problem)
    assert optimum is not None
    assert (optimum.placed, optimum.rank_cost, optimum.pair_weight) == (5, 7, 2)


def test_tiny_scenario_student_order_irrelevant() -> None:
    """Shuffling the student rows of scenarios/tiny leaves the assignments unchanged."""
    problem = matcher.load_scenario(TINY)
    base = _solve(problem).assignments
    for seed in range(3):
        rows = list(problem.students)
        random.Random(seed).shuffle(rows)
        shuffled = _solve(_rebuild(problem, students=tuple(rows))).assignments
        pd.testing.assert_frame_equal(base, shuffled)


@settings(max_examples=80, **SETTINGS)
@given(problems(), st.randoms(use_true_random=False))
def test_student_order_irrelevant(problem: Problem, rnd: random.Random) -> None:
    """Shuffling the student rows of a generated problem gives the same assignments DataFrame."""
    rows = list(problem.students)
    rnd.shuffle(rows)
    base = _solve(problem)
    shuffled = _solve(_rebuild(problem, students=tuple(rows)))
    assert base.status == shuffled.status
    pd.testing.assert_frame_equal(base.assignments, shuffled.assignments)
