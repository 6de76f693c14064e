"""Why a student is unassigned (:mod:`matcher.solvers.reasons`): every kind of reason is a
structured message with its own code, worded in both languages, and the English wording is the
one unassigned.csv has always had.

Each case is a hand-made problem of one or two workstations and an allocation given in ids, so
the reason is computed for exactly the situation named (no solver involved)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from matcher.encoding import encode
from matcher.messages import Message, catalogue
from matcher.model import (
    GroupMember,
    Lock,
    Mentor,
    Policy,
    Problem,
    Quota,
    Student,
    Supervisor,
    Veto,
    Workstation,
)
from matcher.model.entities import TermCapacity
from matcher.solvers.reasons import REASON_CODES, unassigned_reasons

HAN = re.compile("[\u4e00-\u9fff]")


def _problem(**changes: Any) -> Problem:
    """Two terms, one workstation W1 (discipline A, 1 place), its mentor M1, a supervisor S1 at
    U1 (and S2 at U2 for discipline B), and the student X (U1, A, 1 term, listing W1);
    ``changes`` replace any field."""
    fields: dict[str, Any] = {
        "name": "reasons", "terms": ("T1", "T2"), "term_months": 6,
        "policy": Policy(practice_months=6, experienced_practice_months=6),
        "students": (Student(student_id="X", university_id="U1", discipline="A",
                             work_experience_years=0, preferences=("W1",)),),
        "workstations": (Workstation(workstation_id="W1", disciplines=("A",), capacity=1),),
        "mentors": (Mentor(mentor_id="M1", workstation_id="W1", disciplines=("A",),
                           capacity=1),),
        "supervisors": (Supervisor(supervisor_id="S1", university_id="U1", disciplines=("A",),
                                   capacity=5),
                        Supervisor(supervisor_id="S2", university_id="U2", disciplines=("B",),
                                   capacity=5)),
    }
    fields.update(changes)
    return Problem(**fields)


def _student(sid: str, **kw: Any) -> Student:
    base: dict[str, Any] = {"student_id": sid, "university_id": "U1", "discipline": "A",
                            "work_experience_years": 0, "preferences": ("W1",)}
    return Student(**(base | kw))


def _reason(problem: Problem, placed: dict[str, tuple[str, str, str, str]] | None = None,
            student: str = "X") -> Message:
    enc = encode(problem)
    chosen = enc.choices_from_ids(placed or {})
    assert len(chosen) == len(placed or {}), "every given placement is valid"
    reasons = unassigned_reasons(enc, chosen)
    return reasons[enc.student_ids.index(student)]


def _others(n: int, terms: tuple[str, ...] = ("T1", "T2")) -> tuple[Student, ...]:
    return tuple(_student(f"Y{k}") for k in range(n * len(terms)))


def _case(code: str) -> tuple[Problem, dict[str, tuple[str, str, str, str]]]:
    """A problem and an allocation in which X is unassigned for the reason ``code``."""
    x = _problem().students[0]
    if code == "reason.supervisor_no_capacity":
        return _problem(
            students=(x.model_copy(update={"supervisor_id": "S0"}),),
            supervisors=(*_problem().supervisors, Supervisor(
                supervisor_id="S0", university_id="U1", disciplines=("A",), capacity=0))), {}
    if code == "reason.no_supervisor":
        return _problem(students=(x.model_copy(update={"university_id": "U2"}),)), {}
    if code == "reason.no_workstation":
        return _problem(
            students=(x.model_copy(update={"discipline": "B"}),),
            supervisors=(Supervisor(supervisor_id="S1", university_id="U1",
                                    disciplines=("A", "B"), capacity=5),)), {}
    if code == "reason.partners_only":
        return _problem(workstations=(Workstation(
            workstation_id="W1", disciplines=("A",), capacity=1,
            partner_universities=("U2",)),)), {}
    if code == "reason.no_mentor":
        return _problem(
            workstations=(Workstation(workstation_id="W1", disciplines=("A", "B"),
                                      capacity=1),),
            mentors=(Mentor(mentor_id="M1", workstation_id="W1", disciplines=("B",),
                            capacity=1),)), {}
    if code == "reason.window_closed":
        return _problem(term_capacities=(
            TermCapacity(workstation_id="W1", term="T1", capacity=0),
            TermCapacity(workstation_id="W1", term="T2", capacity=0))), {}
    if code == "reason.prefs_only_no_choices":
        return _problem(policy=Policy(practice_months=6, experienced_practice_months=6,
                                      preferences_only=True),
                        students=(x.model_copy(update={"preferences": ()}),)), {}
    if code == "reason.prefs_only_none_fit":
        return _problem(
            policy=Policy(practice_months=6, experienced_practice_months=6,
                          preferences_only=True),
            students=(x.model_copy(update={"preferences": ("W2",)}),),
            workstations=(*_problem().workstations,
                          Workstation(workstation_id="W2", disciplines=("B",), capacity=1)),
            mentors=(*_problem().mentors, Mentor(mentor_id="M2", workstation_id="W2",
                                                 disciplines=("B",), capacity=1))), {}
    if code == "reason.lock":
        return _problem(
            policy=Policy(practice_months=6, experienced_practice_months=6, window=("T2", "T2")),
            term_capacities=(TermCapacity(workstation_id="W2", term="T2", capacity=0),),
            workstations=(*_problem().workstations,
                          Workstation(workstation_id="W2", disciplines=("A",), capacity=1)),
            mentors=(*_problem().mentors, Mentor(mentor_id="M2", workstation_id="W2",
                                                 disciplines=("A",), capacity=1)),
            locks=(Lock(student_id="X", workstation_id="W2"),)), {}
    if code in ("reason.supervisor_full", "reason.supervisors_full"):
        given = {"supervisor_id": "S1"} if code == "reason.supervisor_full" else {}
        return _problem(
            students=(x.model_copy(update=given), _student("Y")),
            workstations=(Workstation(workstation_id="W1", disciplines=("A",), capacity=2),),
            supervisors=(Supervisor(supervisor_id="S1", university_id="U1", disciplines=("A",),
                                    capacity=1),)), {"Y": ("W1", "M1", "S1", "T1")}
    if code == "reason.had_room":
        return _problem(), {}
    if code == "reason.full":
        return (_problem(students=(x, _student("Y"), _student("Z"))),
                {"Y": ("W1", "M1", "S1", "T1"), "Z": ("W1", "M1", "S1", "T2")})
    if code == "reason.mentors_booked":
        return (_problem(students=(x, _student("Y"), _student("Z")),
                         workstations=(Workstation(workstation_id="W1", disciplines=("A",),
                                                   capacity=2),)),
                {"Y": ("W1", "M1", "S1", "T1"), "Z": ("W1", "M1", "S1", "T2")})
    if code == "reason.full_and_mentors":
        return (_problem(
            students=(x.model_copy(update={"preferences": ("W1", "W2")}),
                      *(_student(s) for s in ("Y", "Z", "P", "Q"))),
            workstations=(*_problem().workstations,
                          Workstation(workstation_id="W2", disciplines=("A",), capacity=2)),
            mentors=(*_problem().mentors, Mentor(mentor_id="M2", workstation_id="W2",
                                                 disciplines=("A",), capacity=1))),
            {"Y": ("W1", "M1", "S1", "T1"), "Z": ("W1", "M1", "S1", "T2"),
             "P": ("W2", "M2", "S1", "T1"), "Q": ("W2", "M2", "S1", "T2")})
    if code == "reason.vetoed":
        return _problem(vetoes=(Veto(student_id="X", workstation_id="W1"),)), {}
    if code == "reason.group_no_room":
        return _problem(students=(x, _student("Y")),
                        groups=(GroupMember(group_id="G1", student_id="X"),
                                GroupMember(group_id="G1", student_id="Y"))), {}
    if code == "reason.not_opened":
        return _problem(workstations=(Workstation(workstation_id="W1", disciplines=("A",),
                                                  capacity=2, min_intake=2),)), {}
    if code == "reason.quota":  # issue 29: W1 has room, but at most 0 students of U1 there
        return _problem(quotas=(Quota(workstation_id="W1", selector="university_id",
                                      value="U1", max_count=0),)), {}
    raise AssertionError(code)


ENGLISH = {  # the wording unassigned.csv has always had (byte for byte)
    "reason.supervisor_no_capacity": "given supervisor S0 has capacity 0; raise the capacity or "
                                     "leave supervisor_id empty",
    "reason.no_supervisor": "no campus supervisor at U2 takes discipline A; add one in "
                            "supervisors.csv",
    "reason.no_workstation": "no workstation takes discipline B; add B to a workstation's "
                             "disciplines",
    "reason.partners_only": "the 1 workstation(s) taking A only take partner universities other "
                            "than U1; add U1 as a partner of one of them",
    "reason.no_mentor": "no enterprise mentor for A at the workstations open to U1 (W1); add a "
                        "mentor",
    "reason.window_closed": "every workstation open to U1 for A is closed in some term of each "
                            "1-term block inside the window T1..T2; widen the window or reopen "
                            "a term",
    "reason.prefs_only_no_choices": "preferences_only is on and the student listed no "
                                    "workstation; collect the student's choices",
    "reason.prefs_only_none_fit": "preferences_only is on and none of the student's choices "
                                  "takes A from U1 with an open 1-term block in the window; add "
                                  "a fitting choice",
    "reason.lock": "the student's lock cannot be honoured; check locks.csv",
    "reason.supervisor_full": "given supervisor S1 is full (1 of 1 students); raise the capacity "
                              "or choose another",
    "reason.supervisors_full": "all 1 campus supervisor(s) for A at U1 are full; raise a "
                               "capacity or add a supervisor",
    "reason.had_room": "not placed although W1 had room from T1 (this result is not proven "
                       "optimal); re-run with a longer time limit or the cpsat solver",
    "reason.full": "every fitting workstation is full in the needed terms: W1 (T1, T2); add "
                   "places or mentors there, or widen the window",
    "reason.mentors_booked": "mentors for A are fully booked at W1; add places or mentors "
                             "there, or widen the window",
    "reason.full_and_mentors": "workstations full in the needed terms: W1 (T1, T2); mentors for "
                               "A are fully booked at W2; add places or mentors there, or widen "
                               "the window",
    "reason.vetoed": "every workstation that fits the student is vetoed for it in vetoes.csv "
                     "(W1); remove a veto or add a fitting workstation",
    "reason.group_no_room": "placed only together with group G1 (2 students, groups.csv), and "
                            "no workstation had room for all of them from one start term; add "
                            "places, or split the group",
    "reason.not_opened": "too few students for the minimum intake of W1 (at least 2), which did "
                         "not open, and no other fitting workstation had room; add places, or "
                         "lower a minimum intake",
    "reason.quota": "the workstations with room for the student (W1) are closed to it by the "
                    "hard quotas of quotas.csv rows 1; widen those quotas or make them soft",
}


def test_every_reason_code_has_a_case() -> None:
    """The cases below cover every code the reasons module can give (and nothing else)."""
    assert set(ENGLISH) == set(REASON_CODES)


@pytest.mark.parametrize("code", REASON_CODES)
def test_reason_kind_has_its_code_and_both_languages(code: str) -> None:
    """The situation gives a message with its code; the English text is the one unassigned.csv
    always had, the Chinese one is complete (no placeholder left, Chinese words, no fallback to
    English) and names the same ids."""
    problem, placed = _case(code)
    reason = _reason(problem, placed)
    assert reason.code == code
    assert code in catalogue("zh") and code in catalogue("en")
    en, zh = reason.text("en"), reason.text("zh")
    assert en == ENGLISH[code]
    assert "{" not in zh and HAN.search(zh) and zh != en
    for value in set(re.findall(r"\b(?:[WMSTU]\d|[AB])\b", en)):  # ids, terms, disciplines
        assert value in zh, (value, zh)


def test_long_lists_are_summarised_in_both_languages() -> None:
    """Six full workstations: four are named with their terms, then "and 2 more" / "等（另有 2
    个）"."""
    ws = tuple(Workstation(workstation_id=f"W{k}", disciplines=("A",), capacity=1)
               for k in range(1, 7))
    ms = tuple(Mentor(mentor_id=f"M{k}", workstation_id=f"W{k}", disciplines=("A",), capacity=1)
               for k in range(1, 7))
    others = tuple(_student(f"Y{k}{t}") for k in range(1, 7) for t in (1, 2))
    placed = {f"Y{k}{t}": (f"W{k}", f"M{k}", "S1", f"T{t}") for k in range(1, 7)
              for t in (1, 2)}
    problem = _problem(students=(_problem().students[0], *others), workstations=ws, mentors=ms,
                       supervisors=(Supervisor(supervisor_id="S1", university_id="U1",
                                               disciplines=("A",), capacity=20),))
    reason = _reason(problem, placed)
    assert reason.code == "reason.full"
    assert reason.text("en") == (
        "every fitting workstation is full in the needed terms: W1 (T1, T2), W2 (T1, T2), "
        "W3 (T1, T2), W4 (T1, T2) and 2 more; add places or mentors there, or widen the window")
    shown = "W1（T1、T2）、W2（T1、T2）、W3（T1、T2）、W4（T1、T2） 等（另有 2 个）"
    assert shown in reason.text("zh")


def test_a_workbook_scenario_is_pointed_to_its_sheets() -> None:
    """A workbook has no supervisors.csv: the reason names the sheet in the user's language."""
    problem, _ = _case("reason.no_supervisor")
    book = problem.model_copy(update={"source": "/office/2026级实践分配.xlsx"})
    reason = _reason(book)
    assert reason.text("en").endswith("add one in the supervisors sheet")
    assert reason.text("zh").endswith("请在 “校内导师”工作表 中添加")


def test_reasons_survive_json_and_pickling() -> None:
    """A reason goes to the web page as JSON and through worker processes as a pickle."""
    import json
    import pickle

    problem, placed = _case("reason.full_and_mentors")
    reason = _reason(problem, placed)
    assert pickle.loads(pickle.dumps(reason)) == reason
    back = Message.from_dict(json.loads(json.dumps(reason.to_dict("zh"))))
    assert back == reason and back.text("zh") == reason.text("zh")
