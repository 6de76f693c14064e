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

from ..messages import Location, Message, msg
from ..model import Problem, ScenarioError
from ..model.capacity import Occupancy, Use, subtract
from .locations import Found
from .resultdir import read_assignments
from .schema import TABLES
from .tables import Grid, csv_grid, read_grid
from .workbook import find_workbook, read_workbook

__all__ = ["apply_previous", "previous_uses", "read_occupancy"]


def read_occupancy(scenario: str | os.PathLike[str]) -> tuple[Occupancy, ...]:
    """The rows of a scenario's ``occupancy.csv`` (or ``occupancy`` sheet of a workbook
    scenario), cell-checked only; empty when there is none.

    Raises
    ------
    ScenarioError
        When a cell or the header is bad (located messages).
    """
    table = next(t for t in TABLES if t.name == "occupancy")
    found = Found()
    path = Path(scenario)
    book = find_workbook(path)
    grid: Grid | None = None
    if book is None:
        if not (path / table.file).is_file():
            return ()
        grid = csv_grid(path, table, found, {})
    else:
        data = read_workbook(book, found, {}, only=("occupancy",))
        if data is not None and "occupancy" not in data.grids:
            return ()
        grid = data.grids.get("occupancy") if data is not None else None
    read = read_grid(table, grid, found) if grid is not None else None
    if found.errors or read is None or any(r is None for r in read.rows):
        raise ScenarioError(found.errors or [msg("load.unreadable",
                                                  at=Location(file=table.file))])
    return tuple(read.rows)


def previous_uses(problem: Problem, result_dir: str | os.PathLike[str]
                  ) -> tuple[list[Use], list[Message]]:
    """Turn an earlier cohort's ``assignments.csv`` into uses of this problem's terms."""
    rows = read_assignments(result_dir)
    where_file = str(Path(result_dir) / "assignments.csv")
    tix = problem.term_index
    students = {s.student_id for s in problem.students}
    uses: list[Use] = []
    errors: list[Message] = []
    outside = 0
    for r, row in enumerate(rows, start=1):
        where = Location(file=where_file, row=r)
        sid = row.get("student_id", "")
        if sid in students:
            errors.append(msg("load.previous_same_student", at=replace(where, field="student_id"),
                              value=sid))
            continue
        start, end = row.get("start_term", ""), row.get("end_term", "")
        if start in tix and end in tix:
            first, last = tix[start], tix[end]
            if first > last:
                errors.append(msg("load.previous_order", at=replace(where, field="end_term"),
                                  end=end, start=start))
                continue
        elif start in tix:  # the block runs past this calendar's last term
            first, last = tix[start], len(problem.terms) - 1
        elif end in tix:  # the block began before this calendar's first term
            first, last = 0, tix[end]
        else:
            outside += 1
            continue
        mentor = row.get("mentor_id") or None
        listed = [t for t in (row.get("terms") or "").split(";") if t.strip()]
        held = [tix[t] for t in listed if t in tix] if listed else range(first, last + 1)
        for k in held:  # (a split practice holds its own terms only)
            uses.append(Use(where, row.get("workstation_id", ""), mentor, problem.terms[k], 1,
                            term_column="start_term", used_column="workstation_id"))
    if errors:
        raise ScenarioError(errors)
    notes = [msg("load.previous_outside", severity="note", at=Location(file=where_file),
                 count=outside)] if outside else []
    return uses, notes


def apply_previous(problem: Problem, result_dir: str | os.PathLike[str]
                   ) -> tuple[Problem, list[Message]]:
    """The problem with an earlier cohort's placements subtracted from its capacities.

    A placement covers the terms of its ``terms`` column (a split practice has gaps), or else
    every term from its ``start_term`` to its ``end_term``; a term label that
    is not in this scenario's calendar lies before its first term (a start) or after its last
    (an end), and a placement with neither term in the calendar takes no places here. The new
    problem's ``input_sha256`` also covers the earlier result.

    Returns
    -------
    problem
        The reduced problem.
    notes
        Messages worth telling the user (placements ignored).

    Raises
    ------
    ScenarioError
        A missing or malformed result folder, a student of this cohort in it, an unknown
        workstation, mentor or term, or more places used than there are.
    """
    uses, notes = previous_uses(problem, result_dir)
    path = Path(result_dir) / "assignments.csv"
    return subtract(problem, uses, msg("load.previous_result", folder=str(result_dir)),
                    (f"previous:{path}", path.read_bytes())), notes
