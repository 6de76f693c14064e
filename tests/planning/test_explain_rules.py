"""``explain`` names the rules of issue 28: a workstation below its minimum that did not open,
a group kept together or left out together, and the plan of terms a split practice follows.

Allocations are written by hand (no solver; ``verify=0``), on four terms of six months with
12-month students (two terms each)."""

from __future__ import annotations

from typing import Any

from matcher.model import GroupMember, Mentor, Policy, Problem, Student, Supervisor, Workstation
from matcher.model.entities import TermCapacity
from matcher.planning.explain import explain


def _problem(students: list[dict[str, Any]], stations: list[dict[str, Any]], **extra: Any
             ) -> Problem:
    return Problem(
        name="explain-rules", terms=("T1", "T2", "T3", "T4"), term_months=6,
        policy=extra.pop("policy", Policy()),
        students=tuple(Student(university_id="U", discipline="D", work_experience_years=0, **s)
                       for s in students),
        workstations=tuple(Workstation(disciplines=("D",), **w) for w in stations),
        mentors=tuple(Mentor(mentor_id=f"M{w['workstation_id']}",
                             workstation_id=w["workstation_id"], disciplines=("D",),
                             capacity=max(w["capacity"], 1)) for w in stations),
        supervisors=(Supervisor(supervisor_id="P", university_id="U", disciplines=("D",),
                                capacity=9),), **extra)


def _row(sid: str, wid: str, terms: str) -> dict[str, str]:
    held = terms.split(";")
    return {"student_id": sid, "workstation_id": wid, "mentor_id": f"M{wid}",
            "supervisor_id": "P", "start_term": held[0], "end_term": held[-1], "terms": terms}


def test_a_workstation_below_its_minimum_is_named_as_not_opened() -> None:
    """A lists W1 (minimum 2) first and is at W2: explain says W1 did not open for want of its
    minimum intake."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 2},
                  {"workstation_id": "W2", "capacity": 1}])
    text = explain(p, [_row("A", "W2", "T1;T2")], "A", verify=0).text()
    assert "W1" in text and "did not open" in text and "min_intake" in text


def test_a_group_left_out_is_told_why() -> None:
    """A and B form a group; W1 has one place: neither is placed, and explain says the group is
    placed only together."""
    p = _problem([{"student_id": "A", "preferences": "W1"}, {"student_id": "B",
                                                             "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 1}],
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    text = explain(p, [], "A", verify=0).text()
    assert "group G" in text and "together" in text and "B" in text


def test_a_group_placed_together_is_said_so() -> None:
    """A and B, a group, both at W1 from T1: explain says they were kept together there."""
    p = _problem([{"student_id": "A", "preferences": "W1"}, {"student_id": "B",
                                                             "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 2}],
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    rows = [_row("A", "W1", "T1;T2"), _row("B", "W1", "T1;T2")]
    text = explain(p, rows, "A", verify=0).text()
    assert "Kept together with group G" in text and "all at W1 from T1" in text


def test_the_split_plan_is_shown() -> None:
    """A may split its practice; W1 is closed in T2, so A holds T1 and T3: explain shows the
    two blocks."""
    p = _problem([{"student_id": "A", "preferences": "W1", "max_segments": 2}],
                 [{"workstation_id": "W1", "capacity": 1}],
                 term_capacities=(TermCapacity(workstation_id="W1", term="T2", capacity=0),))
    text = explain(p, [_row("A", "W1", "T1;T3")], "A", verify=0).text()
    assert "split into 2 blocks (T1; T3" in text


def test_the_rules_parts_are_worded_in_chinese() -> None:
    """With ``lang="zh"`` the rules' sentences come from ``explain_rules.po`` in Chinese: the
    unopened workstation (最少接收人数), the group kept together (与小组), the split plan
    (分为 2 段, blocks joined by ；) — no English sentence left."""
    p = _problem([{"student_id": "A", "preferences": "W1;W2"}],
                 [{"workstation_id": "W1", "capacity": 2, "min_intake": 2},
                  {"workstation_id": "W2", "capacity": 1}])
    zh = explain(p, [_row("A", "W2", "T1;T2")], "A", verify=0, lang="zh").text()
    assert "该工作站未开设" in zh and "至少接收 2 人" in zh and "did not open" not in zh
    p = _problem([{"student_id": "A", "preferences": "W1"}, {"student_id": "B",
                                                             "preferences": "W1"}],
                 [{"workstation_id": "W1", "capacity": 2}],
                 groups=(GroupMember(group_id="G", student_id="A"),
                         GroupMember(group_id="G", student_id="B")))
    zh = explain(p, [_row("A", "W1", "T1;T2"), _row("B", "W1", "T1;T2")], "A", verify=0,
                 lang="zh").text()
    assert "与小组 G 的其他成员（B；见 groups.csv）安排在一起：全部在 W1，自 T1 起" in zh
    assert "Kept together" not in zh
    zh = explain(p, [], "A", verify=0, lang="zh").text()
    assert "只能与小组 G 的其他成员（B；见 groups.csv）一起安排" in zh
    p = _problem([{"student_id": "A", "preferences": "W1", "max_segments": 2}],
                 [{"workstation_id": "W1", "capacity": 1}],
                 term_capacities=(TermCapacity(workstation_id="W1", term="T2", capacity=0),))
    zh = explain(p, [_row("A", "W1", "T1;T3")], "A", verify=0, lang="zh").text()
    assert "实践分为 2 段（T1；T3；最多可分 2 段" in zh
