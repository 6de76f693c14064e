"""The rules of issue 28 in every solver: each rule alone and all together, against brute force.

Tiny hand-checkable problems (4 terms of 6 months, 12-month students: two terms each): the exact
solvers (``cpsat`` with the slot model on and off, ``milp``, ``plain``) must prove the brute
force's optimum (placed, rank cost, and for ``cpsat``/``milp`` the fewest extra segments); the
heuristics (``greedy``, ``da``, ``flow``) must keep every rule. Every result goes through the
independent checker.
"""

from __future__ import annotations

from typing import Any

import pytest
from brute import brute_force
from budget import PROOF_S
from hypothesis import HealthCheck, given, settings
from strategies import examples, tiny_problems

import matcher.solvers.cpsat as cpsat_module
from matcher import check, solve
from matcher.encoding import encode
from matcher.model import (
    GroupMember,
    Mentor,
    Policy,
    Problem,
    Student,
    Supervisor,
    TermCapacity,
    Veto,
    Workstation,
)
from matcher.model.result import Status
from matcher.solvers.rules import enforce

EXACT = ("cpsat", "milp", "plain")
HEURISTICS = ("greedy", "da", "flow")


def _problem(students: list[dict[str, Any]], stations: list[dict[str, Any]], **extra: Any
             ) -> Problem:
    """Four terms, 12-month students, one mentor per workstation as large as it, one roomy
    supervisor."""
    return Problem(
        name="rules", terms=("T1", "T2", "T3", "T4"), term_months=6,
        policy=extra.pop("policy", Policy()),
        students=tuple(Student(university_id="U", discipline="0854", work_experience_years=0,
                               **s) for s in students),
        workstations=tuple(Workstation(disciplines=("0854",), **w) for w in stations),
        mentors=tuple(Mentor(mentor_id=f"M{w['workstation_id']}",
                             workstation_id=w["workstation_id"], disciplines=("0854",),
                             capacity=max(w["capacity"], 1)) for w in stations),
        supervisors=(Supervisor(supervisor_id="P", university_id="U", disciplines=("0854",),
                                capacity=99),),
        **extra)


def _run(p: Problem, solver: str, **kw: Any) -> Any:
    r = solve(p, solver, time_limit_s=PROOF_S, seed=0, workers=1, **kw)
    rep = check(p, r)
    assert rep.ok, (solver, rep.violations)
    return r, rep


def _exact_match(p: Problem, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every exact solver proves the brute-force optimum; every heuristic keeps the rules."""
    best = brute_force(p)
    assert best is not None
    for slot_model in (True, False):
        monkeypatch.setattr(cpsat_module, "USE_SLOT_MODEL", slot_model)
        r, rep = _run(p, "cpsat")
        assert r.status == Status.OPTIMAL, r.message
        assert (r.placed, r.rank_cost, rep.extra_segments) == (
            best.placed, best.rank_cost, best.extra_segments)
    for name in ("milp", "plain"):
        r, rep = _run(p, name)
        assert r.status == Status.OPTIMAL, (name, r.message)
        assert (r.placed, r.rank_cost) == (best.placed, best.rank_cost), name
        if name == "milp":
            assert rep.extra_segments == best.extra_segments
    for name in HEURISTICS:
        r, _rep = _run(p, name)
        assert r.placed <= best.placed


def test_tied_choices_cost_their_shared_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    """``W1=W2;W3``: W1 and W2 both cost 1, W3 costs 2; K is the largest rank (2), so an
    off-list place costs 3; the assignments carry the tied rank."""
    p = _problem([{"student_id": "A", "preferences": "W1=W2;W3"},
                  {"student_id": "B", "preferences": "W1;W3"}],
                 [{"workstation_id": "W1", "capacity": 1},
                  {"workstation_id": "W2", "capacity": 1},
                  {"workstation_id": "W3", "capacity": 1}])
    # (capacity 1 in 4 terms: two 2-term students fit at W1; tighten to one start)
    p = Problem(**{**{f: getattr(p, f) for f in Problem.model_fields},
                   "policy": Policy(window=("T1", "T2"))})
    assert p.max_rank == 2
    _exact_match(p, monkeypatch)
    r, _ = _run(p, "cpsat")
    by = {x.student_id: x for x in r.placements}
    assert (by["A"].workstation_id, by["A"].preference_rank) == ("W2", 1)
    assert r.rank_cost == 2


def test_a_veto_removes_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vetoed first choice is never used; the student takes its second."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"}],
                 [{"workstation_id": "W1", "capacity": 2},
                  {"workstation_id": "W2", "capacity": 2}],
                 vetoes=(Veto(student_id="A", workstation_id="W1"),))
    _exact_match(p, monkeypatch)
    for name in (*EXACT, *HEURISTICS):
        r, _ = _run(p, name)
        assert [x.workstation_id for x in r.placements] == ["W2"], name


def test_a_group_is_placed_together_or_not_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """A and B (a group) want different first choices; together they go where both fit."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"},
                  {"student_id": "B", "preferences": "W3;W2"},
                  {"student_id": "C", "preferences": "W2"}],
                 [{"workstation_id": "W1", "capacity": 2},
                  {"workstation_id": "W2", "capacity": 2},
                  {"workstation_id": "W3", "capacity": 1}],
                 policy=Policy(window=("T1", "T2")),
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    _exact_match(p, monkeypatch)
    for name in (*EXACT, *HEURISTICS):
        r, _ = _run(p, name)
        at = {x.student_id: (x.workstation_id, x.start_term) for x in r.placements}
        assert ("A" in at) == ("B" in at) and (("A" not in at) or at["A"] == at["B"]), name


def test_enforce_keeps_the_rules_when_told_to_stop() -> None:
    """rules.enforce on an allocation that splits a group and leaves a workstation below its
    minimum: it puts the group together (at W2, the one common place with room) and closes
    the workstation; told to stop at once, it places nobody more but still takes the group
    out and closes the workstation, so both rules hold either way."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"},
                  {"student_id": "B", "preferences": "W3;W2"},
                  {"student_id": "C", "preferences": "W4"}],
                 [{"workstation_id": "W1", "capacity": 2},
                  {"workstation_id": "W2", "capacity": 2},
                  {"workstation_id": "W3", "capacity": 1},
                  {"workstation_id": "W4", "capacity": 2, "min_intake": 2}],
                 policy=Policy(window=("T1", "T2"), preferences_only=True),
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    enc = encode(p)
    ws, st = enc.workstation_ids.index, enc.student_ids.index
    apart = {st(s): (ws(w), enc.ws_mentors[ws(w)][0], 0, 0)
             for s, w in (("A", "W1"), ("B", "W3"), ("C", "W4"))}
    done = enforce(enc, apart)
    assert {enc.student_ids[i]: enc.workstation_ids[c[0]] for i, c in done.items()} == {
        "A": "W2", "B": "W2"}
    assert enforce(enc, apart, stop=lambda: True) == {}


def test_a_workstation_below_its_minimum_does_not_open(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """W1 needs 3 students and only 2 can go there: it stays closed, they go elsewhere."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"},
                  {"student_id": "B", "preferences": "W1;W2"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 3},
                  {"workstation_id": "W2", "capacity": 2}],
                 policy=Policy(preferences_only=True))
    _exact_match(p, monkeypatch)
    for name in (*EXACT, *HEURISTICS):
        r, _ = _run(p, name)
        assert {x.workstation_id for x in r.placements} == {"W2"}, name


def test_a_minimum_met_opens_the_workstation(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a third student W1 reaches its minimum of 3 and everyone gets a first choice."""
    p = _problem([{"student_id": s, "preferences": "W1;W2"} for s in "ABC"],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 3},
                  {"workstation_id": "W2", "capacity": 1}])
    _exact_match(p, monkeypatch)
    r, _ = _run(p, "cpsat")
    assert r.rank_cost == 3 and {x.workstation_id for x in r.placements} == {"W1"}


def test_a_split_practice_goes_around_a_closed_term(monkeypatch: pytest.MonkeyPatch) -> None:
    """W1 is closed in T2 and A's window is T1..T3: no 2-term block fits, so in one block A is
    not placed; with two segments allowed A takes T1 and T3 (one extra segment)."""
    one = _problem([{"student_id": "A", "preferences": "W1", "window_end": "T3"}],
                   [{"workstation_id": "W1", "capacity": 1}],
                   term_capacities=(TermCapacity(workstation_id="W1", term="T2", capacity=0),),
                   policy=Policy(preferences_only=True))
    r, _ = _run(one, "cpsat")
    assert r.placed == 0 and r.status == Status.OPTIMAL
    p = Problem(**{**{f: getattr(one, f) for f in Problem.model_fields},
                   "policy": Policy(max_segments=2, preferences_only=True)})
    best = brute_force(p)
    assert best is not None and (best.placed, best.extra_segments) == (1, 1)
    _exact_match(p, monkeypatch)
    r, _ = _run(p, "cpsat")
    a = next(x for x in r.placements if x.student_id == "A")
    assert a.terms == ("T1", "T3") and (a.start_term, a.end_term) == ("T1", "T3")


def test_one_block_is_preferred_when_it_costs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments allowed but not needed: the optimum has no extra segment (level 3; ``plain``
    proves levels 1-2 only, so it is not asked)."""
    p = _problem([{"student_id": "A", "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 1}],
                 policy=Policy(max_segments=2))
    _exact_match(p, monkeypatch)
    for name in ("cpsat", "milp", *HEURISTICS):
        _r, rep = _run(p, name)
        assert rep.extra_segments == 0, name


def test_all_rules_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ties, a veto, a group, a minimum intake and a split practice in one problem."""
    p = _problem([{"student_id": "A", "preferences": "W1=W2;W3"},
                  {"student_id": "B", "preferences": "W2;W1"},
                  {"student_id": "C", "preferences": "W1;W3", "max_segments": 2},
                  {"student_id": "D", "preferences": "W3=W1"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 2},
                  {"workstation_id": "W2", "capacity": 1},
                  {"workstation_id": "W3", "capacity": 1}],
                 term_capacities=(TermCapacity(workstation_id="W1", term="T2", capacity=1),),
                 vetoes=(Veto(student_id="D", workstation_id="W3"),),
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    _exact_match(p, monkeypatch)


def test_the_slot_model_hands_over_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a rule the plain slot model cannot hold, cpsat records the engine it used (the
    rules' slot model) and why."""
    p = _problem([{"student_id": "A", "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 2}])
    monkeypatch.setattr(cpsat_module, "SLOT_MIN_CHOICES", 0)  # a slot-sized problem here
    r, _ = _run(p, "cpsat")
    assert r.stats["engine"] == "slot model with the rules (HiGHS)"
    assert "minimum intake" in r.stats["engine_why"]
    assert r.placed == 0 and r.status == Status.OPTIMAL


def test_stable_says_it_cannot_hold_the_rules() -> None:
    """``--stable`` does not ignore a rule it does not state: it says so (status UNKNOWN)."""
    p = _problem([{"student_id": "A", "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 2}])
    r = solve(p, "cpsat", stable=True, time_limit_s=5)
    assert r.status == Status.UNKNOWN and "minimum intakes" in r.message


@settings(max_examples=examples(6, 40),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tiny_problems(rules=True))
def test_exact_solvers_prove_the_brute_force_optimum_with_rules(p: Problem) -> None:
    """Random tiny problems with the rules: cpsat and milp prove the brute-force optimum
    (placed, rank cost, extra segments) or agree it is infeasible; the heuristics keep every
    rule."""
    best = brute_force(p)
    for name in ("cpsat", "milp"):
        r = solve(p, name, time_limit_s=PROOF_S, seed=0, workers=1)
        rep = check(p, r)
        assert rep.ok, (name, rep.violations)
        if best is None:
            assert r.status in (Status.INFEASIBLE, Status.UNKNOWN), name
            continue
        assert r.status == Status.OPTIMAL, (name, r.message)
        assert (r.placed, r.rank_cost, rep.extra_segments) == (
            best.placed, best.rank_cost, best.extra_segments), name
    for name in HEURISTICS:
        r = solve(p, name, time_limit_s=PROOF_S, seed=0, workers=1)
        if best is None:  # no valid allocation: a heuristic must not claim one
            assert r.status in (Status.INFEASIBLE, Status.UNKNOWN), name
            continue
        assert check(p, r).ok, name
