"""Tests of explain's fast paths at scale (matcher.planning.explain_verify): the changed problems
it builds without re-running the whole problem's cross-checks pass them, and checking only the
students a new row meets gives the whole checker's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

import matcher
from matcher.check import check
from matcher.model import Problem, TermCapacity
from matcher.model.problem import cross_check
from matcher.planning.explain_verify import keeps_rules, with_fields

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
ROWS = [  # tiny's optimum without S4 (at W3 with HEU-S1 in the optimum)
    {"student_id": "S1", "workstation_id": "W2", "mentor_id": "W2-M1", "supervisor_id": "HIT-S1",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
    {"student_id": "S2", "workstation_id": "W1", "mentor_id": "W1-M1", "supervisor_id": "HIT-S1",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
    {"student_id": "S3", "workstation_id": "W2", "mentor_id": "W2-M1", "supervisor_id": "HEU-S1",
     "start_term": "2026-autumn", "end_term": "2026-autumn"},
    {"student_id": "S5", "workstation_id": "W2", "mentor_id": "W2-M2", "supervisor_id": "HEU-S2",
     "start_term": "2026-autumn", "end_term": "2027-spring"},
]


def _row(sid: str, wid: str, mentor: str, sup: str) -> dict[str, str]:
    return {"student_id": sid, "workstation_id": wid, "mentor_id": mentor, "supervisor_id": sup,
            "start_term": "2026-autumn", "end_term": "2027-spring"}


@pytest.mark.parametrize("new", [
    _row("S4", "W3", "W3-M1", "HEU-S1"),  # fits
    _row("S4", "W2", "W2-M2", "HEU-S1"),  # mentor W2-M2 full (S5)
    _row("S4", "W3", "W3-M1", "HEU-S2"),  # supervisor HEU-S2 full (S5, placed at W2)
    _row("S6", "W3", "W3-M1", "HEU-S2"),  # discipline 0856 not taken at W3
    _row("S2", "W3", "W3-M1", "HEU-S1"),  # S2 twice
])
def test_checking_the_students_a_row_meets_is_the_whole_verdict(new: dict[str, str]) -> None:
    """keeps_rules (the checker on the students at the row's workstation and of its supervisor)
    agrees with the checker on the whole allocation, for a row that fits and rows breaking a
    mentor's, a supervisor's limit elsewhere, a discipline, one placement per student."""
    p = matcher.load_scenario(TINY)
    base = check(p, ROWS)
    assert base.ok
    assert keeps_rules(p, ROWS, new, base) == check(p, [*ROWS, new]).ok


def test_changed_problems_pass_the_full_validation() -> None:
    """The copies with_fields makes (no whole-problem cross-check) of each kind of change explain
    suggests pass the full cross-check, and the new row then fits by both verdicts."""
    p = matcher.load_scenario(TINY)
    base = check(p, ROWS)
    more = with_fields(p, term_capacities=tuple(  # (explain replaces a term's row, never adds)
        TermCapacity(workstation_id="W2", term=t, capacity=4) for t in p.terms))
    wider = with_fields(p, students=tuple(
        s.model_copy(update={"window_start": p.terms[0], "window_end": p.terms[-1]})
        if s.student_id == "S6" else s
        for s in p.students))
    mentors = with_fields(p, mentors=tuple(m.model_copy(update={"capacity": 2})
                                           if m.mentor_id == "W2-M2" else m for m in p.mentors))
    for changed in (more, wider, mentors):
        assert isinstance(changed, Problem) and cross_check(changed) == []
    both = with_fields(more, mentors=mentors.mentors)
    new = _row("S4", "W2", "W2-M2", "HEU-S1")  # fits once W2 has room and W2-M2 takes two
    assert keeps_rules(both, ROWS, new, base) and check(both, [*ROWS, new]).ok
    for one in (p, more, mentors):
        assert not keeps_rules(one, ROWS, new, base) and not check(one, [*ROWS, new]).ok


def test_a_minimum_intake_elsewhere_is_checked_on_the_whole_allocation() -> None:
    """With W2 taking at least 2 (it holds S1, S3, S5), S4's row at W3 with HEU-S1 meets only
    S3 at W2: counted alone, W2 would break its minimum. keeps_rules then checks the whole
    allocation and agrees with the checker that the row fits."""
    p = matcher.load_scenario(TINY)
    p = with_fields(p, workstations=tuple(w.model_copy(update={"min_intake": 2})
                                          if w.workstation_id == "W2" else w
                                          for w in p.workstations))
    new = _row("S4", "W3", "W3-M1", "HEU-S1")
    base = check(p, ROWS)
    assert base.ok and check(p, [*ROWS, new]).ok and keeps_rules(p, ROWS, new, base)
