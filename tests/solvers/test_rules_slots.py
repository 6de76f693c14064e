"""The rules' slot model (matcher.solvers.rules_slots): which workstations it states by the slot
lemma, the packing of a slot-exact workstation, and cpsat through it on tiny hand-checked cases
(each solve ends with the independent checker, and the exact ones match brute force)."""

from __future__ import annotations

from typing import Any

from brute import brute_force
from budget import PROOF_S

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
    Workstation,
)
from matcher.model.result import Status
from matcher.solvers import rules_slots


def _problem(students: list[dict[str, Any]], stations: list[dict[str, Any]], **extra: Any
             ) -> Problem:
    """Four terms, 12-month students (two terms each), one mentor per workstation as large as
    it, one roomy supervisor."""
    return Problem(
        name="rules-slots", terms=("T1", "T2", "T3", "T4"), term_months=6,
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


def _cpsat(p: Problem) -> tuple[Any, Any]:
    r = solve(p, "cpsat", time_limit_s=PROOF_S, seed=0, workers=1)
    rep = check(p, r)
    assert rep.ok, rep.violations
    return r, rep


def test_slot_exact_leaves_out_a_workstation_with_a_closed_term() -> None:
    """A workstation with the same capacity in every term is slot-exact; one with a closed
    term is not (its starts are counted as in the aggregated model)."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"}],
                 [{"workstation_id": "W1", "capacity": 2}, {"workstation_id": "W2", "capacity": 2}],
                 term_capacities=(TermCapacity(workstation_id="W2", term="T3", capacity=0),))
    exact, terms = rules_slots.slot_exact(encode(p))
    assert (exact, terms) == ({0}, 4)


def test_pack_starts_a_group_together() -> None:
    """Packing a slot-exact workstation gives a group's members one start, and says None when
    they cannot start together (two places a term, a group of three)."""
    students = [{"student_id": s, "preferences": "W1"} for s in "ABC"]
    groups = tuple(GroupMember(group_id="G", student_id=s) for s in "AB")
    enc = encode(_problem(students, [{"workstation_id": "W1", "capacity": 2}], groups=groups))
    got = rules_slots.pack(enc, 0, [0, 1, 2])
    assert got is not None and got[0][0] == got[1][0] and set(got) == {0, 1, 2}
    trio = tuple(GroupMember(group_id="G", student_id=s) for s in "ABC")
    enc3 = encode(_problem(students, [{"workstation_id": "W1", "capacity": 2}], groups=trio))
    assert rules_slots.pack(enc3, 0, [0, 1, 2]) is None


def test_a_group_that_cannot_start_together_is_solved_again() -> None:
    """A group of three at a workstation of two places a term fits its term-places (the Hall
    row: 6 <= 4 * 2) but not together: the model is solved again without that workstation as
    slot-exact, and the group goes to its second choice; the optimum of brute force, proven."""
    students = [{"student_id": s, "preferences": "W1;W2"} for s in "ABC"]
    p = _problem(students, [{"workstation_id": "W1", "capacity": 2},
                            {"workstation_id": "W2", "capacity": 3}],
                 groups=tuple(GroupMember(group_id="G", student_id=s) for s in "ABC"))
    r, _rep = _cpsat(p)
    best = brute_force(p)
    assert best is not None
    assert r.status == Status.OPTIMAL, r.message
    assert (r.placed, r.rank_cost) == (best.placed, best.rank_cost) == (3, 6)
    assert r.stats["rounds"] == 2 and r.stats["unpacked_workstations"] == ["W1"]


def test_a_split_practice_takes_one_block_at_a_slot_exact_workstation() -> None:
    """Students allowed two segments at a workstation with the same room every term get one
    block each (no extra segment), all placed: the optimum, proven."""
    students = [{"student_id": s, "preferences": "W1", "max_segments": 2} for s in "ABCD"]
    p = _problem(students, [{"workstation_id": "W1", "capacity": 2}],
                 policy=Policy(max_segments=2))
    r, rep = _cpsat(p)
    assert r.status == Status.OPTIMAL, r.message
    assert r.placed == 4 and rep.extra_segments == 0
    assert r.stats["engine"] == "slot model with the rules (HiGHS)"
    assert r.stats["slot_exact_workstations"] == 1


def test_a_minimum_intake_at_a_slot_exact_workstation() -> None:
    """A slot-exact workstation with a minimum of three that only two want stays closed;
    they go to their second choice."""
    students = [{"student_id": s, "preferences": "W1;W2"} for s in "AB"]
    p = _problem(students, [{"workstation_id": "W1", "capacity": 2, "min_intake": 3},
                            {"workstation_id": "W2", "capacity": 2}])
    r, _rep = _cpsat(p)
    assert r.status == Status.OPTIMAL, r.message
    assert r.placed == 2 and r.rank_cost == 4
    assert {pl.workstation_id for pl in r.placements} == {"W2"}
