"""Group quotas (issue 29 item 5) in the solvers: the exact solvers prove the brute force's
optimum under hard and soft quotas, every other solver refuses instead of ignoring them, and
the checker catches a broken quota.

Tiny hand-checkable problems (two terms of 6 months, 12-month students: one block each), and
random tiny problems with a random quota against :mod:`tests.brute`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from brute import brute_force
from budget import PROOF_S
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import examples, tiny_problems

from matcher import check, solve
from matcher.encoding import encode
from matcher.model import (
    Mentor,
    Problem,
    ProblemError,
    Quota,
    Student,
    Supervisor,
    University,
    Workstation,
)
from matcher.model.result import Status
from matcher.reports.words import summary_lines
from matcher.solvers.base import SolverConfig, build_result
from matcher.solvers.greedy import serial_dictatorship
from matcher.solvers.quota_repair import hold_quotas, repair

EXACT = ("cpsat", "milp")
REFUSING = ("greedy", "da", "flow", "plain")


def _problem(students: list[tuple[str, str, str]], stations: list[tuple[str, int]],
             quotas: list[dict[str, Any]]) -> Problem:
    """Students ``(id, university, preferences)``, workstations ``(id, capacity)``; two
    terms, every student needs both; universities U (city A) and V (city B)."""
    return Problem(
        name="quotas", terms=("T1", "T2"), term_months=6,
        students=tuple(Student(student_id=s, university_id=u, discipline="0854",
                               work_experience_years=0, preferences=prefs)
                       for s, u, prefs in students),
        workstations=tuple(Workstation(workstation_id=w, disciplines=("0854",), capacity=c)
                           for w, c in stations),
        mentors=tuple(Mentor(mentor_id=f"M{w}", workstation_id=w, disciplines=("0854",),
                             capacity=c) for w, c in stations),
        supervisors=(Supervisor(supervisor_id="PU", university_id="U", disciplines=("0854",),
                                capacity=99),
                     Supervisor(supervisor_id="PV", university_id="V", disciplines=("0854",),
                                capacity=99)),
        universities=(University(university_id="U", city="A"),
                      University(university_id="V", city="B")),
        quotas=tuple(Quota(**q) for q in quotas))


def _by_hand(enc: Any, where: dict[str, str]) -> Any:
    """An allocation of both terms at the given workstations (mentor M<w>, supervisor P<u>)."""
    univ = {s.student_id: s.university_id for s in enc.problem.students}
    return enc.choices_from_ids({sid: (w, f"M{w}", f"P{univ[sid]}", "T1;T2")
                                 for sid, w in where.items()})


def _run(p: Problem, solver: str) -> Any:
    r = solve(p, solver, time_limit_s=PROOF_S, seed=0, workers=1)
    rep = check(p, r)
    assert rep.ok, (solver, rep.violations)
    return r, rep


def _soft_shortfall(rep: Any) -> float:
    return sum(q.shortfall for q in rep.quotas if not q.hard)


def test_a_hard_share_keeps_students_out_for_the_optimum_under_it() -> None:
    """W1 (2 places) is everyone's first choice; at most half of W1 may be from U, so one of
    the two U students who want it goes to W2: the optimum under the quota, as brute force
    finds it, and every exact solver proves it."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W2;W1")],
                 [("W1", 2), ("W2", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "max_share": "50%"}])
    best = brute_force(p)
    assert best is not None and (best.placed, best.rank_cost) == (3, 5)
    for name in EXACT:
        r, rep = _run(p, name)
        assert r.status == Status.OPTIMAL, (name, r.message)
        assert (r.placed, r.rank_cost) == (best.placed, best.rank_cost), name
        (share,) = rep.quotas
        assert (share.count, share.total, share.ok) == (1, 2, True), name


def test_a_minimum_count_by_city_is_met() -> None:
    """At least one student from city B (university V) at W1, though V's student likes W2
    better: it costs rank, and the solvers pay it."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W2;W1")],
                 [("W1", 2), ("W2", 2)],
                 [{"workstation_id": "W1", "selector": "city", "value": "B", "min_count": 1}])
    best = brute_force(p)
    assert best is not None
    for name in EXACT:
        r, _rep = _run(p, name)
        assert r.status == Status.OPTIMAL
        assert (r.placed, r.rank_cost) == (best.placed, best.rank_cost) == (3, 5)
        assert {x.student_id: x.workstation_id for x in r.placements}["C"] == "W1"


def test_a_soft_quota_is_a_level_after_the_rank_cost() -> None:
    """Soft: the rank cost comes first (no student moves to a worse choice for it), then the
    least shortfall: among the allocations of least rank cost, the one nearer the share."""
    # A and C tie on cost whichever of them takes W1's one place (both list W1 then W2), so
    # the soft minimum share of V at W1 decides: C (V) takes W1.
    p = _problem([("A", "U", "W1;W2"), ("C", "V", "W1;W2")], [("W1", 1), ("W2", 1)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "V",
                   "min_share": 1.0, "hard": "soft"}])
    best = brute_force(p)
    assert best is not None and best.quota_shortfall == 0
    for name in EXACT:
        r, rep = _run(p, name)
        assert r.status == Status.OPTIMAL
        assert {x.student_id: x.workstation_id for x in r.placements}["C"] == "W1", name
        assert _soft_shortfall(rep) == 0
        assert r.stats.get("quota_shortfall_proven") is True, (name, r.stats)
    # A soft quota never costs rank: all at their first choice even though the share misses.
    q = _problem([("A", "U", "W1"), ("B", "U", "W1"), ("C", "V", "W2")],
                 [("W1", 2), ("W2", 1)],
                 [{"selector": "university_id", "value": "V", "min_share": "50%",
                   "hard": "软"}])
    best = brute_force(q)
    assert best is not None and best.rank_cost == 3
    for name in EXACT:
        r, rep = _run(q, name)
        assert (r.placed, r.rank_cost) == (3, 3)
        assert _soft_shortfall(rep) == pytest.approx(best.quota_shortfall) == 0.5


def test_a_hard_quota_no_allocation_meets_is_infeasible() -> None:
    """Two U students must be at W1 (min_count 2) but only one fits: no allocation exists,
    and the exact solvers say INFEASIBLE with a message naming the quotas."""
    p = _problem([("A", "U", "W1"), ("B", "U", "W1")], [("W1", 1)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "min_count": 1, "max_share": 0.5}])
    assert brute_force(p) is None
    for name in EXACT:
        r = solve(p, name, time_limit_s=PROOF_S, seed=0, workers=1)
        assert r.status == Status.INFEASIBLE, (name, r.status, r.message)
        assert "quotas" in r.message
        assert check(p, r).ok


@pytest.mark.parametrize("name", REFUSING)
def test_solvers_that_cannot_hold_quotas_refuse(name: str) -> None:
    """greedy (for a hard minimum), da, flow and plain do not ignore a quota: UNKNOWN, nothing
    placed, a message saying why and naming quotas.csv and the solvers that keep them, in the
    summary in Chinese too; score first says it by its name."""
    p = _problem([("A", "U", "W1"), ("B", "U", "W1")], [("W1", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "min_count": 1}])
    r = solve(p, name, time_limit_s=PROOF_S)
    assert (r.status, r.placed) == (Status.UNKNOWN, 0)
    assert "quotas.csv" in r.message and "cpsat" in r.message
    why = {"greedy": "holding places back", "da": "deferred acceptance",
           "flow": "network", "plain": "no quota rows"}[name]
    assert why in r.message
    zh = "\n".join(summary_lines(r, 2, None, "zh", p))
    assert "无法满足" in zh and "--solver cpsat" in zh
    r = solve(p, "cpsat", time_limit_s=PROOF_S, policy="priority")
    assert r.status == Status.UNKNOWN and "score first" in r.message
    r = solve(p, "cpsat", time_limit_s=PROOF_S, stable=True)
    assert r.status == Status.UNKNOWN and "quotas" in r.message


def test_the_checker_catches_a_broken_quota() -> None:
    """An allocation moved by hand so that U holds both places of W1 breaks the hard maximum
    share: rule 10 names the quota's row, the figures and the bound."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W2;W1")],
                 [("W1", 2), ("W2", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "max_share": 0.5}])
    r, _rep = _run(p, "milp")
    moved = tuple(dataclasses.replace(x, workstation_id="W1", mentor_id="MW1",
                                      preference_rank=1) if x.student_id in ("A", "B")
                  else dataclasses.replace(x, workstation_id="W2", mentor_id="MW2",
                                           preference_rank=1) for x in r.placements)
    rep = check(p, [dict(vars(x)) for x in moved])
    assert any(v.startswith("rule 10: quotas row 1 (W1, university_id U): 2 of 2 placed")
               for v in rep.violations), rep.violations


def test_a_minimum_above_the_reachable_is_an_input_error() -> None:
    """A hard min_count above the group's students who could ever be placed there is refused
    when the problem is built, located at the quota's min_count."""
    with pytest.raises(ProblemError) as err:
        _problem([("A", "U", "W1")], [("W1", 1)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "min_count": 2}])
    (issue,) = err.value.issues
    assert (issue.table, issue.row, issue.column) == ("quotas", 0, "min_count")
    assert issue.detail is not None and issue.detail.code == "quotas.min_count_unreachable"


@st.composite
def _with_quota(draw: Any) -> Problem:
    p = draw(tiny_problems())
    unis = sorted({s.university_id for s in p.students})
    stations = [None, *sorted(w.workstation_id for w in p.workstations)]
    share = st.sampled_from([None, 0.0, 0.25, 0.5, 1.0])
    count = st.sampled_from([None, 0, 1, 2])
    q = {"workstation_id": draw(st.sampled_from(stations)), "selector": "university_id",
         "value": draw(st.sampled_from(unis)), "min_share": draw(share),
         "max_share": draw(share), "min_count": draw(count), "max_count": draw(count),
         "hard": draw(st.booleans())}
    assume(any(q[k] is not None for k in ("min_share", "max_share", "min_count", "max_count")))
    fields = {f: getattr(p, f) for f in Problem.model_fields}
    try:
        return Problem(**{**fields, "quotas": (Quota(**q),)})
    except ProblemError:
        assume(False)
        raise


@settings(max_examples=examples(8, 80), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_with_quota())
def test_random_quotas_match_brute_force(p: Problem) -> None:
    """On random tiny problems with one random quota (hard or soft), ``milp`` proves the brute
    force's optimum (placed, rank cost, the soft shortfall) or says INFEASIBLE exactly when no
    allocation keeps the hard quota; the checker agrees."""
    best = brute_force(p)
    r = solve(p, "milp", time_limit_s=PROOF_S, seed=0, workers=1)
    rep = check(p, r)
    assert rep.ok, rep.violations
    if best is None:
        assert r.status == Status.INFEASIBLE, r.message
        return
    assert r.status == Status.OPTIMAL, r.message
    assert (r.placed, r.rank_cost) == (best.placed, best.rank_cost)
    assert _soft_shortfall(rep) == pytest.approx(best.quota_shortfall)


def test_a_quick_allocation_is_made_to_keep_the_hard_quotas() -> None:
    """An allocation (greedy's before it kept maximums) puts both U students at W1 (over the
    maximum share); the repair takes them out one by one (1 of 1 is still over half) until the
    quota holds, keeping C; a minimum count that is not met cannot be mended by taking students
    out (no start)."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W2")],
                 [("W1", 2), ("W2", 1)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "max_share": 0.5}])
    enc = encode(p)
    greedy = _by_hand(enc, {"A": "W1", "B": "W1", "C": "W2"})  # (greedy before it kept quotas)
    assert not enc.quotas_hold(greedy)
    assert enc.quotas_hold(serial_dictatorship(enc)[0])  # score first keeps the maximum now
    kept = hold_quotas(enc, greedy)
    assert kept is not None and enc.quotas_hold(kept)
    assert [enc.student_ids[i] for i in kept] == ["C"]
    assert check(p, build_result(enc, "test", Status.FEASIBLE, kept, SolverConfig(), 0.0)).ok
    # repair exchanges instead: A to W2 (its second choice), C to W1 (off its list); all placed
    mended = repair(enc, greedy)
    assert mended is not None and enc.quotas_hold(mended)
    assert {enc.student_ids[i]: enc.workstation_ids[c[0]] for i, c in mended.items()} == {
        "A": "W2", "B": "W1", "C": "W1"}
    assert check(p, build_result(enc, "test", Status.FEASIBLE, mended, SolverConfig(), 0.0)).ok
    q = _problem([("A", "U", "W1"), ("C", "V", "W1")], [("W1", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "V",
                   "min_count": 1, "max_share": 0.5}])
    assert hold_quotas(encode(q), {}) is None


def test_students_taken_out_are_placed_again_where_the_quotas_allow() -> None:
    """An allocation puts A and B (U) at W1 and C (V, listing only W1) off its list at W2; the
    repair takes A and B out of W1 (over half from U), then places A again at W2, its second choice,
    where no quota looks; B finds W2 full. The start keeps every rule and the quota."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W1")],
                 [("W1", 2), ("W2", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "max_share": 0.5}])
    enc = encode(p)
    greedy = _by_hand(enc, {"A": "W1", "B": "W1", "C": "W2"})
    kept = hold_quotas(enc, greedy)
    assert kept is not None
    where = {enc.student_ids[i]: enc.workstation_ids[c[0]] for i, c in kept.items()}
    assert where == {"A": "W2", "C": "W2"}
    assert check(p, build_result(enc, "test", Status.FEASIBLE, kept, SolverConfig(), 0.0)).ok
    # repair: A and C exchange workstations (C gets its only choice): nobody left out
    mended = repair(enc, greedy)
    assert mended is not None
    assert {enc.student_ids[i]: enc.workstation_ids[c[0]] for i, c in mended.items()} == {
        "A": "W2", "B": "W1", "C": "W1"}
    assert check(p, build_result(enc, "test", Status.FEASIBLE, mended, SolverConfig(), 0.0)).ok


def test_score_first_keeps_a_hard_maximum_share_as_places_fill() -> None:
    """Score first holds a hard maximum share (at most half of W1 from U) as the places fill: a
    member of the group is let in only while, with them, the share of the students placed there
    so far stays within it. A (U, first in order) cannot open W1 (1 of 1 is over half) and
    takes W2; C (V) takes W1; then B (U) may join C there (1 of 2). The checker agrees; the
    status stays FEASIBLE."""
    p = _problem([("A", "U", "W1;W2"), ("B", "U", "W1;W2"), ("C", "V", "W1")],
                 [("W1", 2), ("W2", 2)],
                 [{"workstation_id": "W1", "selector": "university_id", "value": "U",
                   "max_share": 0.5}])
    p = p.model_copy(update={"students": tuple(
        s.model_copy(update={"priority": {"A": 3.0, "C": 2.0, "B": 1.0}[s.student_id]})
        for s in p.students)})
    r = solve(p, "greedy", policy="priority")
    assert r.status == Status.FEASIBLE
    assert {pl.student_id: pl.workstation_id for pl in r.placements} == {
        "A": "W2", "C": "W1", "B": "W1"}
    assert check(p, r).ok
