"""The checker catches a broken allocation for each rule of issue 28, each with its own message.

Allocations are written by hand on the tiny scenario (``scenarios/tiny``: terms 2025-autumn ..
2027-spring, its optimum in ``scenarios/tiny/README.md``), with the scenario changed to carry
the rule; nothing here comes from a solver.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.check import check
from matcher.model import GroupMember, Policy, Problem, Veto

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
COLUMNS = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
           "end_term", "preference_rank")
A, B = "2026-autumn", "2027-spring"
OPTIMUM = [  # README.md, "Level 3": placed 5, rank cost 7
    ("S1", "W2", "W2-M1", "HIT-S1", A, B, "2"),
    ("S2", "W1", "W1-M1", "HIT-S1", A, B, "1"),
    ("S3", "W2", "W2-M1", "HEU-S1", A, A, "1"),
    ("S4", "W3", "W3-M1", "HEU-S1", A, B, "2"),
    ("S5", "W2", "W2-M2", "HEU-S2", A, B, "1"),
]


@pytest.fixture(scope="module")
def tiny() -> Problem:
    """The tiny scenario, loaded once."""
    return matcher.load_scenario(TINY)


def _rows() -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, r, strict=True)) for r in OPTIMUM]


def _with(p: Problem, **fields: Any) -> Problem:
    return Problem(**{**{f: getattr(p, f) for f in Problem.model_fields}, **fields})


def _rule_lines(rep: Any, rule: str) -> list[str]:
    return [v for v in rep.violations if v.startswith(rule)]


def test_the_optimum_keeps_the_new_rules_when_they_allow_it(tiny: Problem) -> None:
    """Baseline: the hand-written optimum is clean against tiny with harmless rules added."""
    p = _with(tiny, vetoes=(Veto(student_id="S1", workstation_id="W3"),),
              groups=(GroupMember(group_id="G", student_id="S3"),
                      GroupMember(group_id="G", student_id="S5")))
    rep = check(p, _rows())
    assert rep.ok, rep.violations


def test_a_vetoed_placement(tiny: Problem) -> None:
    """Rule 7: S2 at W1, which vetoes.csv forbids."""
    p = _with(tiny, vetoes=(Veto(student_id="S2", workstation_id="W1"),))
    lines = _rule_lines(check(p, _rows()), "rule 7")
    assert lines == ["rule 7: assignment row 2 (S2): placed at W1, which vetoes.csv forbids"]


def test_a_group_placed_apart(tiny: Problem) -> None:
    """Rule 8: S1 (W2) and S2 (W1) are a group but are at different workstations."""
    p = _with(tiny, groups=(GroupMember(group_id="G", student_id="S1"),
                            GroupMember(group_id="G", student_id="S2")))
    lines = _rule_lines(check(p, _rows()), "rule 8")
    assert len(lines) == 1 and "group G is not together" in lines[0]


def test_a_group_placed_in_part(tiny: Problem) -> None:
    """Rule 8: S4 is placed but its group mate S5 is not."""
    p = _with(tiny, groups=(GroupMember(group_id="G", student_id="S4"),
                            GroupMember(group_id="G", student_id="S5")))
    rows = [r for r in _rows() if r["student_id"] != "S5"]
    lines = _rule_lines(check(p, rows), "rule 8")
    assert lines == ["rule 8: group G: S4 placed but S5 not; a group is placed together or not "
                     "at all"]


def test_a_workstation_below_its_minimum(tiny: Problem) -> None:
    """Rule 9: W1 holds one student (S2) but needs at least two."""
    stations = tuple(w.model_copy(update={"min_intake": 2}) if w.workstation_id == "W1" else w
                     for w in tiny.workstations)
    lines = _rule_lines(check(_with(tiny, workstations=stations), _rows()), "rule 9")
    assert lines == ["rule 9: workstation W1 takes 1 student(s), below its minimum intake 2"]


def test_a_split_practice_that_is_not_allowed(tiny: Problem) -> None:
    """Rule 1: a practice in two blocks where the student may have one."""
    rows = _rows()
    rows[1].update(start_term="2025-autumn", end_term=B, terms=f"2025-autumn;{B}")
    lines = _rule_lines(check(tiny, rows), "rule 1")
    assert any("is split into 2 blocks, the student may have 1" in v for v in lines), lines


def test_a_split_practice_with_a_short_block(tiny: Problem) -> None:
    """Rule 1: two segments allowed, but each must be 12 months (two terms) long."""
    p = _with(tiny, policy=Policy(max_segments=2, min_segment_months=12, window=None))
    rows = _rows()
    rows[1].update(start_term="2025-autumn", end_term=B, terms=f"2025-autumn;{B}")
    lines = _rule_lines(check(p, rows), "rule 1")
    assert any("shorter than min_segment_months" in v for v in lines), lines


def test_a_split_practice_that_is_allowed(tiny: Problem) -> None:
    """Two 6-month segments allowed: S2 in 2025-autumn and 2027-spring is valid, counted as
    one extra segment; start and end terms must be the first and last of its terms."""
    p = _with(tiny, policy=Policy(max_segments=2, window=None))
    rows = _rows()
    rows[1].update(start_term="2025-autumn", end_term=B, terms=f"2025-autumn;{B}")
    rep = check(p, rows)
    assert not _rule_lines(rep, "rule 1"), rep.violations
    assert rep.extra_segments == 1
    rows[1].update(start_term=A)
    assert any("are not the first and last of terms" in v for v in check(p, rows).violations)


def test_tied_ranks_in_the_rank_cost(tiny: Problem) -> None:
    """A tie: S1 lists W1=W2, so its place at W2 costs 1 (not 2), and the claimed
    preference_rank must say 1."""
    students = tuple(s.model_copy(update={"preference_ranks": (1, 1)}) if s.student_id == "S1"
                     else s for s in tiny.students)
    s1 = next(s for s in students if s.student_id == "S1")
    assert len(s1.preferences) == 2
    p = _with(tiny, students=students)
    rows = _rows()
    rep = check(p, rows)
    assert any("preference_rank says 2, the list gives 1" in v for v in rep.violations)
    rows[0]["preference_rank"] = "1"
    rep = check(p, rows)
    assert rep.ok and rep.rank_cost == 6


def _two_places(prefs_a: str, **extra: Any) -> tuple[Problem, list[dict[str, str]]]:
    """One term; W1 and W2 with one place each; A (priority 1, listing ``prefs_a``) at W2 and
    B (priority 0, listing W1) at W1: W1 ranks A above B, so A envies W1 unless a rule says
    otherwise."""
    from matcher.model import Mentor, Student, Supervisor, Workstation
    p = Problem(
        name="envy", terms=("T1",), term_months=6,
        policy=Policy(practice_months=6, experienced_practice_months=6),
        students=(Student(student_id="A", university_id="U", discipline="D",
                          work_experience_years=0, preferences=prefs_a, priority=1),
                  Student(student_id="B", university_id="U", discipline="D",
                          work_experience_years=0, preferences="W1")),
        workstations=tuple(Workstation(workstation_id=w, disciplines=("D",), capacity=1)
                           for w in ("W1", "W2")),
        mentors=tuple(Mentor(mentor_id=f"{w}-M", workstation_id=w, disciplines=("D",),
                             capacity=1) for w in ("W1", "W2")),
        supervisors=(Supervisor(supervisor_id="P", university_id="U", disciplines=("D",),
                                capacity=5),), **extra)
    rows = [{"student_id": s, "workstation_id": w, "mentor_id": f"{w}-M", "supervisor_id": "P",
             "start_term": "T1", "end_term": "T1", "terms": "T1"}
            for s, w in (("A", "W2"), ("B", "W1"))]
    return p, rows


def test_envy_follows_ties_and_vetoes() -> None:
    """Justified envy with the rules: A at its second choice envies W1 (held by B, whom W1
    ranks below A); not when W1 and W2 are tied on A's list, nor when (A, W1) is vetoed."""
    p, rows = _two_places("W1;W2")
    assert check(p, rows, stability=True).blocking_pairs == [("A", "W1")]
    p, rows = _two_places("W1=W2")
    assert check(p, rows, stability=True).blocking_pairs == []
    assert check(p, rows, stability="strict").blocking_pairs == []
    p, rows = _two_places("W1;W2", vetoes=(Veto(student_id="A", workstation_id="W1"),))
    assert check(p, rows, stability=True).blocking_pairs == []
    assert check(p, rows, stability="strict").blocking_pairs == []
