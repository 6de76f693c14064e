"""Building a problem in code: bad data raises matcher's ProblemError, never pydantic's error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import matcher
from matcher.model import Policy, Problem, ProblemError, ProblemIssue, Student

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"


@pytest.fixture(scope="module")
def fields() -> dict[str, Any]:
    p = matcher.load_scenario(TINY)
    return {k: getattr(p, k) for k in Problem.model_fields}


def test_valid_fields_build_the_same_problem(fields: dict[str, Any]) -> None:
    """A problem built from a loaded one's fields equals it."""
    assert Problem(**fields) == matcher.load_scenario(TINY)


def test_cross_table_issue(fields: dict[str, Any]) -> None:
    """A rule spanning tables is a located issue (0-based row), not a ValidationError."""
    bad = fields["students"][0].model_copy(update={"university_id": "NOPE"})
    with pytest.raises(ProblemError) as info:
        Problem(**{**fields, "students": (bad, *fields["students"][1:])})
    assert not isinstance(info.value, ValidationError)
    assert ProblemIssue("students", 0, "university_id",
                        "unknown university 'NOPE' (not in universities.csv)") in info.value.issues
    assert str(info.value).startswith("students row 1, university_id: unknown university 'NOPE'")


def test_field_issues_are_located(fields: dict[str, Any]) -> None:
    """Field errors name the table, row and column, settings by ``scenario`` and their path."""
    student = {"student_id": "S9", "university_id": "HIT", "discipline": "0854",
               "work_experience_years": -1}
    with pytest.raises(ProblemError) as info:
        Problem(**{**fields, "term_months": 0, "policy": {"practice_months": 0},
                   "students": (*fields["students"], student)})
    found = {(i.table, i.row, i.column) for i in info.value.issues}
    assert found == {("scenario", None, "term_months"),
                     ("scenario", None, "policy.practice_months"),
                     ("students", len(fields["students"]), "work_experience_years")}
    assert all("too small" in i.message for i in info.value.issues)


def test_entities_and_settings_raise_problem_error() -> None:
    """An entity or a settings section built alone names its table (row unknown)."""
    with pytest.raises(ProblemError) as info:
        Student(student_id="S1", university_id="U", discipline="d", work_experience_years=-2)
    assert [(i.table, i.row, i.column) for i in info.value.issues] == [
        ("students", None, "work_experience_years")]
    with pytest.raises(ProblemError) as info:
        Policy(practice_months=0)
    assert [(i.table, i.column) for i in info.value.issues] == [
        ("scenario", "policy.practice_months")]


def test_missing_and_unknown_fields(fields: dict[str, Any]) -> None:
    """A missing field and an unknown one are issues too."""
    with pytest.raises(ProblemError) as info:
        Problem(**{k: v for k, v in fields.items() if k != "mentors"}, colour="blue")
    assert {(i.table, i.column, i.message) for i in info.value.issues} == {
        ("mentors", None, "is missing; give a value"),
        ("scenario", "colour", "is not a field; remove it")}


def test_student_issues_come_in_row_order(fields: dict[str, Any]) -> None:
    """Issues of several students come row by row (each row's in column order), whichever
    check finds them, and a sound student between them adds none."""
    st = fields["students"]
    edits = [
        {"window_start": "2027-spring"},  # row 1: one term left for two
        {"preferences": ("W1", "W1")},  # row 2: a choice twice
        {},  # row 3: sound
        {"supervisor_id": "HIT-S1", "preferences": ("W9", "W2")},  # row 4: two columns
        {"university_id": "NOPE", "supervisor_id": None},  # row 5
    ]
    students = tuple(s.model_copy(update=e) for s, e in zip(st, edits, strict=False)) + st[5:]
    with pytest.raises(ProblemError) as info:
        Problem(**{**fields, "students": students})
    assert [(i.table, i.row, i.column) for i in info.value.issues] == [
        ("students", 0, "window_end"),
        ("students", 1, "preferences"),
        ("students", 3, "preferences"),
        ("students", 3, "supervisor_id"),
        ("students", 3, "supervisor_id"),
        ("students", 4, "university_id"),
    ]
