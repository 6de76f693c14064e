"""What earlier cohorts occupy: ``occupancy.csv`` (or a workbook's sheet), or a result folder.

:func:`read_occupancy` reads a scenario's occupancy rows (cell-checked only);
:func:`apply_previous` subtracts an earlier cohort's placements, read from its result folder,
from a problem's capacities (``matcher solve --previous``). Both end in the capacity transforms
of :mod:`matcher.model.capacity`.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..model import Problem, ScenarioError
from ..model.capacity import Occupancy, Use, subtract
from .resultdir import read_assignments
from .schema import TABLES
from .tables import read_table, table_rows
from .workbook import find_workbook, read_workbook

__all__ = ["apply_previous", "previous_uses", "read_occupancy"]


def read_occupancy(scenario: str | os.PathLike[str]) -> tuple[Occupancy, ...]:
    """The rows of a scenario's ``occupancy.csv`` (or ``occupancy`` sheet of a workbook
    scenario), cell-checked only; empty when there is none.

    Raises
    ------
    ScenarioError
        When a cell or the header is bad.
    """
    table = next(t for t in TABLES if t.name == "occupancy")
    errors: list[str] = []
    path = Path(scenario)
    book = find_workbook(path)
    rows: list[Any] | None
    if book is None:
        rows = read_table(path, table, errors, {})
    else:
        data = read_workbook(book, errors, {})
        sheet = data.tables.get("occupancy") if data is not None else None
        if data is not None and "occupancy" not in data.tables:
            rows = []
        elif sheet is None:
            rows = None
        else:
            rows = table_rows(replace(table, file=sheet.label), sheet.rows, errors,
                               sheet.numbers)
    if errors or rows is None or any(r is None for r in rows):
        raise ScenarioError(errors or ["occupancy.csv could not be read"])
    return tuple(rows)


def previous_uses(problem: Problem, result_dir: str | os.PathLike[str]
                   ) -> tuple[list[Use], list[str]]:
    """Turn an earlier cohort's ``assignments.csv`` into uses of this problem's terms."""
    rows = read_assignments(result_dir)
    where_file = Path(result_dir) / "assignments.csv"
    tix = problem.term_index
    students = {s.student_id for s in problem.students}
    uses: list[Use] = []
    errors: list[str] = []
    outside = 0
    for r, row in enumerate(rows, start=1):
        where = f"{where_file} row {r}"
        sid = row.get("student_id", "")
        if sid in students:
            errors.append(f"{where}, student_id: '{sid}' is also a student of this scenario; "
                          "--previous takes an earlier cohort's result, not this cohort's")
            continue
        start, end = row.get("start_term", ""), row.get("end_term", "")
        if start in tix and end in tix:
            first, last = tix[start], tix[end]
            if first > last:
                errors.append(f"{where}, end_term: '{end}' comes before start_term '{start}' "
                              "in scenario.yaml terms; give the result of a scenario with the "
                              "same calendar")
                continue
        elif start in tix:  # the block runs past this calendar's last term
            first, last = tix[start], len(problem.terms) - 1
        elif end in tix:  # the block began before this calendar's first term
            first, last = 0, tix[end]
        else:
            outside += 1
            continue
        mentor = row.get("mentor_id") or None
        for k in range(first, last + 1):
            uses.append(Use(where, row.get("workstation_id", ""), mentor, problem.terms[k], 1,
                             term_column="start_term", used_column="workstation_id"))
    if errors:
        raise ScenarioError(errors)
    notes = [f"{outside} earlier placement(s) lie wholly outside this scenario's terms and "
             "take no places"] if outside else []
    return uses, notes


def apply_previous(problem: Problem, result_dir: str | os.PathLike[str]
                   ) -> tuple[Problem, list[str]]:
    """The problem with an earlier cohort's placements subtracted from its capacities.

    A placement covers the terms from its ``start_term`` to its ``end_term``; a term label that
    is not in this scenario's calendar lies before its first term (a start) or after its last
    (an end), and a placement with neither term in the calendar takes no places here. The new
    problem's ``input_sha256`` also covers the earlier result.

    Returns
    -------
    problem
        The reduced problem.
    notes
        Lines worth telling the user (placements ignored).

    Raises
    ------
    ScenarioError
        A missing or malformed result folder, a student of this cohort in it, an unknown
        workstation, mentor or term, or more places used than there are.
    """
    uses, notes = previous_uses(problem, result_dir)
    path = Path(result_dir) / "assignments.csv"
    return subtract(problem, uses, f"the previous result {result_dir}",
                    (f"previous:{path}", path.read_bytes())), notes
