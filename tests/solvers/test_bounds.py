"""Bounds that are never lost and never loose (issue 27 item 2).

``cpsat`` reports a placed bound at least as strong as a maximum flow over eligibility and
capacities, and a rank-cost bound at least as strong as the min-cost flow relaxation's, even
when its LP phase gets no time at all; ``stats.bounds`` says which method gave each. The LP
phase is starved deterministically (a work budget, :mod:`matcher.solvers.clock`), so these
tests do not depend on the machine's pace.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from ortools.graph.python import min_cost_flow

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
from matcher.planning.generate import generate_scenario
from matcher.solvers import moves, slots
from matcher.solvers.relaxation import relax_weight
from matcher.solvers.slot_flow import SlotFlow, flow_prices

# About the slot model and the flow path: used on small problems too (tests/solvers/conftest.py).
pytestmark = pytest.mark.usefixtures("slot_model_at_every_size")


ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "heilongjiang-demo"
DEMO_OPTIMUM = (2000, 4844)
"""The demo's proven optimum (placed, rank cost): docs/solvers.md, benchmarks/RESULTS.md."""


def _crowded(students: int = 6) -> Problem:
    """``students`` two-term students, all wanting W1 (one place a term) then W2 (one place
    a term): at most two can be placed, whatever their lists say."""
    return Problem(
        name="crowded", terms=("2026-autumn", "2027-spring"), term_months=6,
        policy=Policy(practice_months=12, experienced_practice_months=6, experienced_years=2),
        universities=(University(university_id="U", name="U", city="Harbin"),),
        workstations=(Workstation(workstation_id="W1", disciplines=("0854",), capacity=1,
                                  city="Harbin"),
                      Workstation(workstation_id="W2", disciplines=("0854",), capacity=1,
                                  city="Harbin")),
        mentors=(Mentor(mentor_id="M1", workstation_id="W1", disciplines=("0854",),
                        capacity=1),
                 Mentor(mentor_id="M2", workstation_id="W2", disciplines=("0854",),
                        capacity=1)),
        supervisors=(Supervisor(supervisor_id="S", university_id="U", disciplines=("0854",),
                                capacity=students),),
        students=tuple(Student(student_id=f"S{k}", university_id="U", discipline="0854",
                               work_experience_years=0, preferences=("W1", "W2"))
                       for k in range(students)))


def test_a_starved_lp_phase_still_reports_both_bounds() -> None:
    """The demo with a work budget far too small for its LP: the result still has a placed
    bound (every student with an option, or the maximum flow) and a rank bound (the flow
    relaxation's), both valid against the proven optimum, and says where they came from."""
    problem = matcher.load_scenario(DEMO)
    result = matcher.solve(problem, "cpsat", time_limit_s=0.05, deterministic=True)
    assert result.placed_upper_bound is not None and result.rank_cost_lower_bound is not None
    assert result.placed_upper_bound >= DEMO_OPTIMUM[0] >= result.placed
    if result.placed == DEMO_OPTIMUM[0]:
        assert result.rank_cost_lower_bound <= DEMO_OPTIMUM[1] <= result.rank_cost
    bounds = result.stats["bounds"]
    assert bounds["placed"] in ("students_with_options", "max_flow")
    assert bounds["rank_cost"] == "flow_relaxation"
    assert check(problem, result).ok


def test_the_placed_bound_is_a_maximum_flow_not_the_head_count() -> None:
    """Six students with an option each, room for two: the bound is 2 (from the maximum
    flow, also when the LP gets no time), not 6, and the optimum is proven."""
    problem = _crowded()
    starved = matcher.solve(problem, "cpsat", time_limit_s=0.01, deterministic=True)
    assert starved.placed_upper_bound == 2
    assert starved.stats["bounds"]["placed"] == "max_flow"
    assert check(problem, starved).ok
    full = matcher.solve(problem, "cpsat", time_limit_s=10, deterministic=True)
    assert full.status == matcher.Status.OPTIMAL
    assert (full.placed, full.placed_upper_bound) == (2, 2)
    assert full.rank_cost_lower_bound == full.rank_cost == 2 + 1  # one at W1, one at W2
    assert check(problem, full).ok


def test_bounds_name_the_lp_with_cuts_when_the_lp_phase_finishes() -> None:
    """With the time it needs, the demo's rank bound comes from the LP with cuts (4,844, the
    optimum) and is reported as such."""
    problem = matcher.load_scenario(DEMO)
    # (levels 1-2 only: the run ends at the proof)
    problem = problem.model_copy(update={"objective": ObjectiveSettings(pair_weight=False)})
    result = matcher.solve(problem, "cpsat", time_limit_s=20, deterministic=True)
    assert result.status == matcher.Status.OPTIMAL
    assert (result.placed, result.rank_cost) == DEMO_OPTIMUM
    assert result.stats["bounds"]["rank_cost"] in ("lp_with_cuts", "branch_and_cut")


def _same_block(tmp_path: Path) -> Path:
    """A generated cohort of 300 two-term students (the same block for all) at 30
    workstations with room for 0.9 of them."""
    return generate_scenario(tmp_path / "same-block", students=300, workstations=30, seed=3,
                             same_block=True, capacity_share=0.9)


def test_the_flow_bound_at_a_count_is_the_relaxations_optimum_there(tmp_path: Path) -> None:
    """``SlotFlow.count_bound(P)`` (Newton's method on the reward per placed student) equals
    the relaxation's own optimum among flows placing at least P students, computed here
    directly: every student needs the same two terms, so "at least P placed" is the bypass
    arc capped at the units of the rest. The flow's single reward gives 0 below its count."""
    enc = encode(matcher.load_scenario(_same_block(tmp_path)))
    assert slots.applies(enc) == ""
    model = slots.build(enc)
    weight = relax_weight(enc)
    net = SlotFlow(enc, model, weight)
    prices = flow_prices(enc, model, weight)
    most = prices.placed_ub()
    bypass = int(np.flatnonzero((net.tail == 0) & (net.head == 1))[0])
    on = net.col_arc >= 0
    cost = np.zeros(len(net.tail), dtype=np.int64)
    cost[net.col_arc[on]] = net.SCALE * net.unit[on] * model.col_cost[on]

    def direct(placed: int) -> int:
        cap = net.cap.copy()
        cap[bypass] = net.total_units - 2 * placed
        flow = min_cost_flow.SimpleMinCostFlow()
        flow.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, cap, cost)
        supply = np.zeros(net.n_nodes, dtype=np.int64)
        supply[0], supply[1] = net.total_units, -net.total_units
        flow.set_nodes_supplies(np.arange(net.n_nodes), supply)
        assert flow.solve() == flow.OPTIMAL
        return math.ceil(flow.optimal_cost() / (net.SCALE * net.lcm) - 1e-9)

    assert 200 < most < 300
    for placed in (100, 200, most - 3, most - 1, most):
        assert net.count_bound(placed) == direct(placed), placed
    assert prices.rank_lb_at(most - 3) == 0 < direct(most - 3)


def test_a_starved_run_placing_fewer_still_has_a_useful_rank_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 27's XL symptom in small: a deterministic budget far too small (and local moves
    made too dear to run) leaves the allocation short of the maximum flow; the rank bound is
    then the flow relaxation's optimum at the count reached (not the single reward's 0),
    valid for the allocation found, and named."""
    monkeypatch.setattr(moves, "TRY_SECONDS", 1.0)
    scenario = generate_scenario(tmp_path / "cohort", students=300, workstations=30, seed=4)
    problem = matcher.load_scenario(scenario)
    result = matcher.solve(problem, "cpsat", time_limit_s=0.05, deterministic=True)
    assert result.placed_upper_bound is not None and result.rank_cost_lower_bound is not None
    assert 0 < result.placed < result.placed_upper_bound
    assert result.stats["bounds"] == {"placed": "max_flow", "rank_cost": "flow_relaxation"}
    enc = encode(problem)
    single = flow_prices(enc, slots.build(enc), relax_weight(enc)).rank_lb_at(result.placed)
    assert single == 0 < result.rank_cost_lower_bound == result.stats["flow_count_bound"]
    assert result.rank_cost_lower_bound <= result.rank_cost
    assert check(problem, result).ok
