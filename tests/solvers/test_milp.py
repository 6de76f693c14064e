"""Tests of the MILP cross-check solver (:mod:`matcher.solvers.milp`, HiGHS in a helper process).

Optimality is checked against :mod:`brute` (written from the spec, sharing no code with any
solver) on tiny generated problems and against ``scenarios/tiny``'s hand-derived optimum; every
result also goes through the independent checker.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from brute import brute_force
from budget import PROOF_S
from hypothesis import HealthCheck, given, settings
from strategies import examples, problems, tiny_problems

import matcher
from matcher.encoding import encode
from matcher.model import Lock, Problem, Result, Status
from matcher.planning.generate import generate_scenario
from matcher.solvers import EXACT, names
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.greedy import serial_dictatorship
from matcher.solvers.milp import refine_levels
from matcher.solvers.milp_model import build_model, hint_from_choices, violated_rows

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
# Each solve starts a helper process (~0.2 s), so the example counts stay modest.
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


def _solve(problem: Problem, time_limit_s: float = 20, seed: int = 0) -> Result:
    return matcher.solve(problem, solver="milp", time_limit_s=time_limit_s, workers=1, seed=seed)


def _check_ok(problem: Problem, result: Result) -> matcher.CheckReport:
    """The independent checker accepts the result (rules and claimed figures and bounds)."""
    report = matcher.check(problem, result)
    assert report.ok, report.violations
    return report


def _with_locks(problem: Problem, locks: list[Lock]) -> Problem:
    fields = {f: getattr(problem, f) for f in Problem.model_fields}
    return Problem(**{**fields, "locks": tuple(locks)})


def test_milp_is_registered_as_exact() -> None:
    """The registry lists milp and allows it to claim OPTIMAL."""
    assert "milp" in names()
    assert "milp" in EXACT


@settings(max_examples=examples(15, 40), **SETTINGS)
@given(tiny_problems())
def test_milp_equals_brute_force(problem: Problem) -> None:
    """On tiny problems milp's (placed, rank cost, pair weight) is the brute-force optimum."""
    expected = brute_force(problem)
    result = _solve(problem)
    report = _check_ok(problem, result)
    if expected is None:
        assert result.status == Status.INFEASIBLE, (result.status, result.message)
        assert result.placed == 0
        return
    assert result.status == Status.OPTIMAL, (result.status, result.message)
    assert (result.placed, result.rank_cost) == (expected.placed, expected.rank_cost)
    assert abs(result.pair_weight - expected.pair_weight) <= 1e-6
    assert (report.placed, report.rank_cost) == (expected.placed, expected.rank_cost)
    assert result.placed_upper_bound == expected.placed
    assert result.rank_cost_lower_bound == expected.rank_cost


@settings(max_examples=examples(10, 20), **SETTINGS)
@given(problems())
def test_milp_agrees_with_cpsat_on_larger_problems(problem: Problem) -> None:
    """Beyond brute-force sizes milp and cpsat prove the same optimum; the result checks."""
    result = _solve(problem)
    _check_ok(problem, result)
    cpsat = matcher.solve(problem, solver="cpsat", time_limit_s=20, workers=1, seed=0)
    assert result.status == cpsat.status, (result.message, cpsat.message)
    assert result.status in (Status.OPTIMAL, Status.INFEASIBLE), result.message
    if result.status == Status.OPTIMAL:
        assert result.placed == result.placed_upper_bound
        assert result.rank_cost == result.rank_cost_lower_bound
        assert len(result.placements) + len(result.unassigned) == len(problem.students)
        assert (result.placed, result.rank_cost) == (cpsat.placed, cpsat.rank_cost)
        assert abs(result.pair_weight - cpsat.pair_weight) <= 1e-6


@settings(max_examples=examples(40, 100), **SETTINGS)
@given(problems(max_students=8, max_workstations=4))
def test_greedy_allocation_is_a_feasible_point_of_the_model(problem: Problem) -> None:
    """The greedy allocation, mapped to MILP columns, keeps every row (a valid warm start)."""
    enc = encode(problem)
    mdl = build_model(enc)
    chosen, failed = serial_dictatorship(enc)
    if failed:
        return
    x = hint_from_choices(mdl, chosen)
    assert violated_rows(mdl.lp, x) == []
    placed = sum(c * x[j] for j, c in mdl.placed)
    assert placed == len(chosen)


@settings(max_examples=examples(40, 100), **SETTINGS)
@given(problems(max_students=8, max_workstations=4))
def test_everyone_placed_is_said_per_student(problem: Problem) -> None:
    """With ``placed`` equal to every student with an option, the model has no row over all
    placement columns but one equality per student: an allocation placing everyone keeps every
    row, and the same allocation with one student dropped breaks one. With fewer placed, the
    count row is there instead."""
    enc = encode(problem)
    everyone = len(build_model(enc).placed_cols)
    chosen, failed = serial_dictatorship(enc)
    if failed or not chosen:
        return

    def has_count_row(mdl: Any) -> bool:
        cols, lp = {j for j, _c in mdl.placed}, mdl.lp
        return any(set(lp.row_idx[lp.row_start[r]:lp.row_start[r + 1]]) == cols
                   and lp.row_lo[r] == lp.row_hi[r] == len(chosen) for r in range(lp.n_rows))

    if len(chosen) < everyone:
        mdl = build_model(enc, placed=len(chosen))
        assert has_count_row(mdl)
        assert violated_rows(mdl.lp, hint_from_choices(mdl, chosen)) == []
        return
    mdl = build_model(enc, placed=everyone)
    assert everyone < 2 or not has_count_row(mdl)
    x = hint_from_choices(mdl, chosen)
    assert violated_rows(mdl.lp, x) == []
    i = min(chosen)
    fewer = hint_from_choices(mdl, {k: c for k, c in chosen.items() if k != i})
    broken = violated_rows(mdl.lp, fewer) or [j for j in mdl.placed_cols[i]
                                               if fewer[j] < mdl.lp.lb[j]]
    assert broken


def test_tiny_scenario_known_optimum() -> None:
    """scenarios/tiny solves to its hand-derived optimum (expected.json), proven, and checks."""
    expected = json.loads((TINY / "expected.json").read_text(encoding="utf-8"))
    problem = matcher.load_scenario(TINY)
    result = _solve(problem)
    assert result.status == Status.OPTIMAL, result.message
    assert result.placed == expected["placed"]
    assert result.rank_cost == expected["rank_cost"]
    assert abs(result.pair_weight - expected["pair_weight"]) <= 1e-6
    assert (result.placed_upper_bound, result.rank_cost_lower_bound) == (5, 7)
    _check_ok(problem, result)


def test_runs_after_ortools_is_loaded() -> None:
    """With OR-Tools loaded in this process (cpsat), milp still solves (HiGHS runs elsewhere)."""
    problem = matcher.load_scenario(TINY)
    cpsat = matcher.solve(problem, solver="cpsat", time_limit_s=10, workers=1)
    assert "ortools" in sys.modules
    result = _solve(problem)
    assert (result.placed, result.rank_cost, result.pair_weight) == (
        cpsat.placed, cpsat.rank_cost, cpsat.pair_weight)


def test_conflicting_locks_are_named() -> None:
    """Two locks on a one-place workstation make it INFEASIBLE; the message names just those."""
    problem = _with_locks(matcher.load_scenario(TINY), [
        Lock(student_id="S1", workstation_id="W1"),
        Lock(student_id="S2", workstation_id="W1"),
        Lock(student_id="S4", workstation_id="W3"),  # fine on its own and with the others
    ])
    result = _solve(problem)
    assert result.status == Status.INFEASIBLE
    assert result.placed == 0
    assert "locks.csv rows 1, 2." in result.message and "S1" not in result.message
    _check_ok(problem, result)


def test_honoured_locks_are_kept() -> None:
    """Locks that fit are kept, and the optimum is the best allocation that keeps them."""
    problem = _with_locks(matcher.load_scenario(TINY), [
        Lock(student_id="S2", workstation_id="W1", start_term="2026-autumn")])
    result = _solve(problem)
    assert result.status == Status.OPTIMAL
    placed = {p.student_id: p.workstation_id for p in result.placements}
    assert placed["S2"] == "W1"
    expected = brute_force(problem)
    assert expected is not None
    assert (result.placed, result.rank_cost) == (expected.placed, expected.rank_cost)
    _check_ok(problem, result)


def test_same_seed_same_allocation(tmp_path: Path) -> None:
    """The same input and seed give the same assignments on a generated 120-student cohort."""
    folder = generate_scenario(tmp_path / "g", students=120, workstations=12, universities=3,
                               seed=5)
    problem = matcher.load_scenario(folder)
    first, second = _solve(problem, seed=3), _solve(problem, seed=3)
    assert first.status == second.status == Status.OPTIMAL
    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    _check_ok(problem, first)


def test_cut_short_run_is_honest(tmp_path: Path) -> None:
    """A run with a very short time limit never over-claims: status, bounds and rows all check."""
    folder = generate_scenario(tmp_path / "g", students=600, workstations=50, universities=6,
                               seed=11)
    problem = matcher.load_scenario(folder)
    result = _solve(problem, time_limit_s=0.3)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE, Status.UNKNOWN)
    _check_ok(problem, result)
    if result.status == Status.FEASIBLE:
        assert result.message
        assert result.placed_upper_bound is not None
        assert result.placed <= result.placed_upper_bound <= len(problem.students)
    if result.status == Status.UNKNOWN:
        assert result.placed == 0 and result.message


def test_no_options_is_trivially_optimal() -> None:
    """When nobody has an allowed option the answer is proven at once: nobody placed."""
    problem = matcher.load_scenario(TINY)
    fields = {f: getattr(problem, f) for f in Problem.model_fields}
    only_s6 = tuple(s for s in problem.students if s.student_id == "S6")
    problem = Problem(**{**fields, "students": only_s6, "locks": ()})
    result = _solve(problem)
    assert result.status == Status.OPTIMAL
    assert result.placed == 0 and result.placed_upper_bound == 0
    assert [sid for sid, _ in result.unassigned] == ["S6"]
    _check_ok(problem, result)


def test_violated_rows_detects_a_broken_capacity() -> None:
    """The feasibility helper reports a row that an over-full allocation breaks."""
    mdl = build_model(encode(matcher.load_scenario(TINY)))
    x = np.asarray(mdl.lp.ub, dtype=np.float64)  # everything at its upper bound
    assert violated_rows(mdl.lp, x)


def test_refine_levels_proves_levels_two_and_three(tmp_path: Path) -> None:
    """milp.refine_levels (cpsat's engine after level 1) returns a valid allocation placing
    exactly the given number, proven at levels 2 and 3, equal to the full milp solve's optimum
    when the count is the maximum."""
    folder = generate_scenario(tmp_path / "g", students=150, workstations=15, universities=3,
                               seed=7)
    problem = matcher.load_scenario(folder)
    reference = _solve(problem, time_limit_s=30)
    assert reference.status == Status.OPTIMAL, reference.message
    enc = encode(problem)
    start, failed = serial_dictatorship(enc)
    assert not failed
    for placed, chosen in ((len(start), start),
                           (reference.placed, enc.choices_from_ids({
                               p.student_id: (p.workstation_id, p.mentor_id, p.supervisor_id,
                                              p.start_term) for p in reference.placements}))):
        outcome = refine_levels(enc, placed, chosen, SolverConfig(time_limit_s=30),
                                time.perf_counter() + 30)
        assert outcome.chosen is not None and outcome.rank_proven, outcome.message
        assert outcome.pairs_proven, outcome.message
        assert len(outcome.chosen) == placed
        result = build_result(enc, "milp", Status.FEASIBLE, outcome.chosen, SolverConfig(), 0.0)
        assert outcome.rank_lb == result.rank_cost
        _check_ok(problem, result)
    assert (result.rank_cost, result.pair_weight) == (reference.rank_cost, reference.pair_weight)


def test_cpsat_with_highs_after_level_one_agrees(tmp_path: Path, monkeypatch: Any) -> None:
    """cpsat's classic path with levels 2-3 handed to HiGHS proves the same optimum as cpsat
    alone (HiGHS switched off here) and as the slot model, records HiGHS's part in its stats,
    and the results check. (A 30-student cohort with rewarded pairs, HiGHS made to take
    models of any size: CP-SAT alone proves it in a fraction of a second, where at 120 students
    it needed 6-30 s and a slow machine ran out of a 30 s limit; no budget is reached now.)"""
    from matcher.solvers import cpsat

    folder = generate_scenario(tmp_path / "g", students=30, workstations=5, universities=2,
                               seed=2)
    problem = matcher.load_scenario(folder)
    monkeypatch.setattr(cpsat, "SLOT_MIN_CHOICES", 0)  # the slot model at this size too
    by_slots = matcher.solve(problem, solver="cpsat", time_limit_s=PROOF_S, workers=2, seed=0)
    monkeypatch.setattr(cpsat, "USE_SLOT_MODEL", False)
    monkeypatch.setattr(cpsat, "LP_MIN_VARIABLES", 0)
    hybrid = matcher.solve(problem, solver="cpsat", time_limit_s=PROOF_S, workers=2, seed=0)
    monkeypatch.setattr(cpsat, "LP_MAX_VARIABLES", 0)
    alone = matcher.solve(problem, solver="cpsat", time_limit_s=PROOF_S, workers=2, seed=0)
    assert alone.status == hybrid.status == by_slots.status == Status.OPTIMAL, (
        alone.message, hybrid.message, by_slots.message)
    assert hybrid.pair_weight > 0  # level 3 has something to prove
    assert (hybrid.placed, hybrid.rank_cost) == (alone.placed, alone.rank_cost)
    assert (by_slots.placed, by_slots.rank_cost) == (alone.placed, alone.rank_cost)
    assert by_slots.stats["engine"] == "slot model + HiGHS"
    _check_ok(problem, by_slots)
    assert hybrid.rank_cost_lower_bound == hybrid.rank_cost
    assert "lp_seconds" not in alone.stats
    assert hybrid.stats["lp_rank_bound"] == hybrid.rank_cost and hybrid.stats["lp_rank_proven"]
    for r in (alone, hybrid):  # when levels 1-2 were proven, within the run
        assert 0 < r.stats["proven_seconds"] <= r.wall_seconds
    _check_ok(problem, hybrid)


@settings(max_examples=examples(10, 25), **SETTINGS)
@given(problems(max_students=7, max_workstations=3))
def test_relaxation_bound_is_valid_at_every_placed_count(problem: Problem) -> None:
    """The LP relaxation's rank bound never exceeds the brute-force optimum's rank cost (at the
    optimum's placed count), nor, one student fewer, that optimum minus its dearest student:
    ``rank_lb_at`` is a proof, not an estimate."""
    from matcher.solvers.relaxation import relax

    expected = brute_force(problem)
    if expected is None:
        return
    enc = encode(problem)
    lp, _ = relax(enc, SolverConfig(workers=1), time.perf_counter() + 30)
    assert lp.value is not None, lp.message
    assert lp.placed >= expected.placed - 1e-6
    bound = lp.rank_lb_at(expected.placed)
    assert bound is not None and bound <= expected.rank_cost
    assert set(lp.station) <= set(range(enc.n_students))


def test_relaxation_beats_the_flow_bound_and_guides_a_valid_rounding(tmp_path: Path) -> None:
    """On a generated cohort the LP bound is at most the exact optimum and equals the LP's
    rank cost at its own placed count; the rounding it guides (exact packing per workstation)
    keeps every rule and places nearly as many."""
    from matcher.solvers.flow import repair
    from matcher.solvers.relaxation import relax

    problem = matcher.load_scenario(generate_scenario(
        tmp_path / "g", students=150, workstations=14, universities=3, seed=21))
    enc = encode(problem)
    exact = matcher.solve(problem, solver="milp", time_limit_s=60, workers=2, seed=0)
    assert exact.status == Status.OPTIMAL and exact.rank_cost is not None
    lp, other = relax(enc, SolverConfig(workers=2), time.perf_counter() + 60,
                      meanwhile=lambda: "done here meanwhile")
    assert other == "done here meanwhile"
    bound = lp.rank_lb_at(exact.placed)
    assert bound is not None and bound <= exact.rank_cost
    assert lp.placed >= exact.placed - 1e-6
    if abs(lp.placed - round(lp.placed)) < 1e-6:
        # At the relaxation's own placed count the bound is its rank cost, rounded up.
        assert lp.rank_lb_at(round(lp.placed)) == math.ceil(lp.rank - 1e-6)
    rounded = repair(enc, lp.station, {}, exact=True).chosen
    assert rounded is not None and len(rounded) >= 0.9 * exact.placed
    result = build_result(enc, "test", Status.FEASIBLE, rounded, SolverConfig(), 0.0)
    assert matcher.check(problem, result).ok
