"""The Lagrangian bound of :mod:`matcher.solvers.lagrange` (problems too large for the LP).

Its contract is the LP relaxation's: ``rank_lb_at(P)`` is a proof. It is checked against
:mod:`brute` (written from the spec) on tiny problems, against the exact optimum and the LP on a
generated cohort, and the helper process is checked to answer, and to stop when asked.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest
from brute import brute_force
from budget import PROOF_S, far
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, problems

import matcher
from matcher.encoding import encode
from matcher.model import Problem, Status
from matcher.planning.generate import generate_scenario
from matcher.solvers import lagrange
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.flow import relaxation as flow_relaxation
from matcher.solvers.flow import repair
from matcher.solvers.lagrange import (
    _ascend,
    _cheapest,
    _groups,
    _loads,
    lagrangian_bound,
    relax_apart,
    upgrade_by_discipline,
)
from matcher.solvers.relaxation import relax, relax_weight

DEMO = Path(__file__).resolve().parents[2] / "scenarios" / "heilongjiang-demo"


@settings(max_examples=examples(12, 80), deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=7, max_workstations=3))
def test_bound_is_valid_against_brute_force(problem: Problem) -> None:
    """At the brute-force optimum's placed count the bound never exceeds its rank cost, and
    the guide only names students and workstations of the problem."""
    expected = brute_force(problem)
    if expected is None:
        return
    enc = encode(problem)
    got = lagrangian_bound(enc, far(), max_iterations=300)
    assert got.value is not None
    bound = got.rank_lb_at(expected.placed)
    assert bound is not None and bound <= expected.rank_cost
    assert all(0 <= i < enc.n_students and 0 <= w < len(enc.workstation_ids)
               for i, w in got.station.items())


@settings(max_examples=examples(25, 60), deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=8, max_workstations=4), st.integers(0, 2**32 - 1))
def test_cheapest_options_match_enumeration(problem: Problem, seed: int) -> None:
    """At random prices, the vectorised subproblem (segmented and row-wise minima over students,
    workstations, starts, mentors and supervisors) gives every student the price of its
    cheapest option found by enumerating them all (a locked student must take one, any other
    may stay out at 0), and the loads count exactly the options it picked."""
    enc = encode(problem)
    rng = np.random.default_rng(seed)
    n_ws, n_terms, n_m = len(enc.workstation_ids), enc.n_terms, len(enc.m_cap)
    lam, mu = rng.random((n_ws, n_terms)) * 3, rng.random((n_m, n_terms)) * 3
    nu, weight = rng.random(len(enc.s_cap)) * 3, relax_weight(enc)
    gr = _groups(enc)
    got = _cheapest(enc, gr, lam, mu, nu, weight)
    total = 0.0
    for i in range(enc.n_students):
        n, d = enc.st_block[i], enc.st_disc[i]
        lock = enc.st_lock[i]
        best = math.inf
        for w, k in enc.options(i):
            block = list(enc.covers(k, n))
            mentors = [lock[1]] if lock is not None and lock[1] >= 0 else enc.mentors_for(w, d)
            for m in mentors:
                for s in enc.supervisors_for(i):
                    best = min(best, enc.cost(i, w) - weight + lam[w, block].sum()
                               + mu[m, block].sum() + nu[s])
        if best < math.inf:
            total += best if lock is not None else min(0.0, best)
    assert got.value == pytest.approx(total, abs=1e-6)
    ws, ms, ss = _loads(enc, gr, got, (n_ws, n_terms), n_m, len(enc.s_cap))
    want_ws, want_ms = np.zeros((n_ws, n_terms)), np.zeros((n_m, n_terms))
    for i in np.flatnonzero(got.station >= 0):
        block = list(enc.covers(int(got.start[i]), enc.st_block[i]))
        want_ws[got.station[i], block] += 1
        want_ms[got.mentor[i], block] += 1
    assert (ws == want_ws).all() and (ms == want_ms).all()
    assert ss.sum() == (got.station >= 0).sum()


def test_bound_on_the_demo_is_close_to_the_lp_and_far_above_the_flow() -> None:
    """On the demo (optimum 4,844 with all 2,000 placed; LP relaxation 4,820; flow bound
    3,659) the bound lands between the flow bound and the LP's: priced term limits are what
    the flow relaxation misses."""
    enc = encode(matcher.load_scenario(DEMO))
    got = lagrangian_bound(enc, far(), max_iterations=600)
    bound = got.rank_lb_at(2000)
    assert bound is not None
    flow = flow_relaxation(enc).rank_lb_at(2000)
    assert flow is not None and flow < 4700 <= bound <= 4820


def test_guide_rounds_to_a_valid_allocation(tmp_path: Path) -> None:
    """The guide (each student's most frequent choice over the last iterations) rounded by
    exact packing per workstation keeps every rule and places most students; the bound is at
    most the exact optimum's rank cost."""
    problem = matcher.load_scenario(generate_scenario(
        tmp_path / "g", students=150, workstations=14, universities=3, seed=21))
    enc = encode(problem)
    exact = matcher.solve(problem, solver="milp", time_limit_s=PROOF_S, workers=2, seed=0)
    assert exact.status == Status.OPTIMAL and exact.rank_cost is not None
    got = lagrangian_bound(enc, far(), max_iterations=500)
    bound = got.rank_lb_at(exact.placed)
    assert bound is not None and bound <= exact.rank_cost
    rounded = repair(enc, got.station, {}, exact=True).chosen
    assert rounded is not None and len(rounded) >= 0.9 * exact.placed
    assert matcher.check(problem, build_result(enc, "test", Status.FEASIBLE, rounded,
                                               SolverConfig(), 0.0)).ok


@settings(max_examples=examples(10, 20), deadline=None, suppress_health_check=list(HealthCheck))
@given(problems(max_students=7, max_workstations=3))
def test_upgrade_by_discipline_stays_valid_against_brute_force(problem: Problem) -> None:
    """Raising the Lagrangian value by each discipline's LP (only shared limits priced; every
    discipline tried, however large its share) never lowers it and never passes the
    brute-force optimum's rank cost at its placed count."""
    expected = brute_force(problem)
    if expected is None:
        return
    enc = encode(problem)
    got, prices = _ascend(enc, far(), max_iterations=100)
    assert got.value is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lagrange, "UPGRADE_MAX_SHARE", 1.0)
        value, _raised = upgrade_by_discipline(enc, prices, got.value, far())
    assert value >= got.value - 1e-6
    assert math.ceil(value + got.weight * expected.placed - 1e-6) <= expected.rank_cost


def test_upgrade_by_discipline_lands_between_the_lagrangian_and_the_lp(tmp_path: Path) -> None:
    """On a generated cohort of eight disciplines (most workstations take two or three), the
    disciplines' LPs at the Lagrangian's prices raise its value, and never past the LP
    relaxation's optimum (the partial Lagrangian is a relaxation of the LP)."""
    problem = matcher.load_scenario(generate_scenario(
        tmp_path / "g", students=150, workstations=14, universities=3, seed=21))
    enc = encode(problem)
    got, prices = _ascend(enc, far(), max_iterations=150)
    assert got.value is not None
    seen: list[float] = []
    value, raised = upgrade_by_discipline(enc, prices, got.value, far(),
                                          progress=seen.append)
    lp, _ = relax(enc, SolverConfig(workers=1), far())
    assert lp.value is not None
    assert raised == len(seen) > 0 and seen[-1] == value
    assert got.value + 1.0 < value <= lp.value + 1e-6


def _helper_ended() -> None:
    """Wait until relax_apart's helper process has ended (it has then sent all it had), however
    long that takes: a condition, not a pause of fixed length."""
    end = time.perf_counter() + PROOF_S
    while multiprocessing.active_children() and time.perf_counter() < end:
        time.sleep(0.05)
    assert not multiprocessing.active_children()


def test_helper_process_answers_and_stops_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """relax_apart runs the bound in a forked helper while this process works (its value comes
    back with the bound), and a stop request ends the wait with no bound and a reason, at once
    although the deadline is ten minutes away. (The wait for the helper's answer is as long as
    it takes here, not the grace of a few seconds a solve allows it.)"""
    monkeypatch.setattr(lagrange, "_GRACE_S", PROOF_S)
    enc = encode(matcher.load_scenario(DEMO))
    got, other, later = relax_apart(enc, time.perf_counter() + 3, meanwhile=lambda: "meanwhile")
    assert other == "meanwhile" and later() is None  # no later bound was asked for
    assert got.value is not None and (got.rank_lb_at(2000) or 0) <= 4844
    t0 = time.perf_counter()
    deadline = far()
    stopped, _, _ = relax_apart(enc, deadline, stop=lambda: True)
    assert stopped.value is None and stopped.message == "stopped"
    assert time.perf_counter() < t0 + (deadline - t0) / 2
    _helper_ended()


def test_helper_goes_on_raising_the_bound_after_the_guide(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """With ``bound_until``, the helper sends its relaxation (bound and guide) when due, then
    goes on with the same prices: the later value is higher than the first (3.5 s more of
    ascent on the demo; it needs about 50 iterations of 4 ms) and still a valid bound (below
    the demo's optimum 4,844 with 2,000 placed), and taken when asked for after it came, with
    no time left to wait (the test waits for the helper to end, not for a fixed time). Asked
    not to wait, the getter ends the helper at once, although its bound is due in ten
    minutes."""
    monkeypatch.setattr(lagrange, "_GRACE_S", PROOF_S)
    monkeypatch.setattr(lagrange, "UPGRADE_MAX_SHARE", 0.0)  # the ascent goes on (no LPs)
    enc = encode(matcher.load_scenario(DEMO))
    start = time.perf_counter()
    got, _, later = relax_apart(enc, start + 0.5, bound_until=start + 4)
    assert got.value is not None
    _helper_ended()  # it has sent its later value by now
    final = later(wait_until=time.perf_counter())  # taken although the wait is already over
    assert final is not None and final > got.value
    assert final + got.weight * 2000 <= 4844
    t0 = time.perf_counter()
    due = far()
    _, _, later = relax_apart(enc, time.perf_counter() + 0.5, bound_until=due)
    assert later(wait=False) is None and time.perf_counter() < t0 + (due - t0) / 2
    _helper_ended()
