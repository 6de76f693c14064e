"""Capacity transforms: places already used are subtracted, giving a new, checked Problem.

Places are counted per calendar term, and a cohort's practice overlaps the next cohort's. What
earlier cohorts use (``occupancy.csv`` rows, :class:`Occupancy`; an earlier cohort's result
folder, :func:`matcher.formats.occupancy.apply_previous`) goes through the one transformation
:func:`subtract` (:func:`apply_occupancy` for occupancy rows), which returns a new
:class:`~matcher.model.Problem` with the remaining capacities, so solvers, the checker and the
reports need to know nothing about earlier cohorts:

* a workstation's capacity in a term (its ``capacity``, or its ``workstation_terms.csv``
  override) is reduced by the places used then; the reduced value is written as a per-term
  override;
* a mentor's capacity is per term, but the format has one number per mentor, so the mentor's
  capacity is reduced by its *busiest* term among the terms where a student of this problem
  could be placed (the union of the students' windows). That never over-books a mentor; it can
  leave a mentor's place unused in a term the earlier cohort leaves free;
* campus supervisors are not reduced: their capacity is per allocation (per cohort).

Rows add up. An unknown workstation, mentor or term, a negative ``used``, or more places used
than a workstation (or mentor) has is an input error naming the file and row. Also here: the
capacity per workstation and term (:func:`capacity_by_term`), the policy window
(:func:`policy_window`) and :func:`rebuild`, the checked copy of a problem with fields replaced.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..messages import Location, Message, msg
from .entities import Mentor, TermCapacity
from .errors import ScenarioError, table_location
from .problem import Problem, checked_problem

__all__ = ["PROVENANCE", "Occupancy", "Use", "apply_occupancy", "built_in_code",
           "capacity_by_term", "policy_window", "rebuild", "student_terms", "subtract"]


class Occupancy(BaseModel):
    """A row of the optional ``occupancy.csv``: places an earlier cohort already uses.

    Not a :class:`~matcher.model.Problem` field: :func:`load_scenario` subtracts these rows
    from the capacities (:func:`apply_occupancy`), so every solver and the
    checker see only the remaining places. Rows add up; ``mentor_id`` (optional) also counts
    the places against that mentor.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)
    workstation_id: str = Field(min_length=1)
    term: str = Field(min_length=1)
    used: int = Field(ge=0, le=1_000_000)
    mentor_id: str | None = None


def rebuild(problem: Problem, label: str | Message, **update: Any) -> Problem:
    """A copy of ``problem`` with some fields replaced, validated like a loaded scenario.

    Parameters
    ----------
    problem
        The problem to start from.
    label
        What made the change, put before every error (e.g. ``"cohort 2"``, or a message).
    **update
        :class:`~matcher.model.Problem` fields to replace.

    Raises
    ------
    ScenarioError
        When the changed problem breaks a rule of the format (one line per issue).
    """
    fields = {name: getattr(problem, name) for name in Problem.model_fields}
    fields.update(update)
    return checked_problem(
        fields, lambda i: i.located(table_location(i.table, i.row, i.column)), context=label)


PROVENANCE = ("input_sha256", "input_files", "source")


def built_in_code() -> dict[str, Any]:
    """The provenance fields of a problem built in code (their empty defaults).

    A changed problem is not what its files say: variants and cohorts reset these fields.
    """
    return {k: Problem.model_fields[k].default for k in PROVENANCE if k in Problem.model_fields}


def capacity_by_term(problem: Problem) -> dict[tuple[str, str], int]:
    """``(workstation_id, term) -> places``: the capacity with its per-term overrides."""
    cap = {(w.workstation_id, t): w.capacity for w in problem.workstations for t in problem.terms}
    for tc in problem.term_capacities:
        cap[tc.workstation_id, tc.term] = tc.capacity
    return cap


@dataclass(frozen=True)
class Use:
    """Places used at a workstation (and maybe a mentor) in one term, with where it was said."""

    where: Location  # occupancy.csv row 3, a sheet's row, prev/assignments.csv row 5
    workstation_id: str
    mentor_id: str | None
    term: str
    used: int
    term_column: str = "term"
    used_column: str = "used"


def student_terms(problem: Problem) -> set[str]:
    """Terms in which some student of the problem could be placed."""
    out: set[str] = set()
    for st in problem.students:
        first, last = problem.window(st)
        out.update(problem.terms[first:last + 1])
    return out


def subtract(problem: Problem, uses: Iterable[Use], label: str | Message,
             input_file: tuple[str, bytes] | None = None) -> Problem:
    """Reduce capacities by places already used (see the module docstring for the rules).

    ``input_file`` (name, content) is an extra input the uses came from; it is folded into the
    problem's ``input_sha256`` (and ``input_files``).

    Raises
    ------
    ScenarioError
        One line per bad use, naming where it was given.
    """
    errors: list[Message] = []
    ws_ids = {w.workstation_id for w in problem.workstations}
    mentors = {m.mentor_id: m for m in problem.mentors}
    cap = capacity_by_term(problem)
    ws_used: Counter[tuple[str, str]] = Counter()
    m_used: Counter[tuple[str, str]] = Counter()
    full: set[tuple[str, str]] = set()

    def at(u: Use, column: str) -> Location:
        return replace(u.where, field=column, header=None)

    for u in uses:
        ok = True
        if u.workstation_id not in ws_ids:
            errors.append(msg("load.use_unknown_workstation", at=at(u, "workstation_id"),
                              value=u.workstation_id, where="workstations.csv"))
            ok = False
        if u.term not in problem.term_index:
            errors.append(msg("load.unknown_term", at=at(u, u.term_column), value=u.term,
                              terms=problem.terms))
            ok = False
        mentor = mentors.get(u.mentor_id) if u.mentor_id is not None else None
        if u.mentor_id is not None and mentor is None:
            errors.append(msg("load.use_unknown_mentor", at=at(u, "mentor_id"),
                              value=u.mentor_id, where="mentors.csv"))
            ok = False
        elif mentor is not None and mentor.workstation_id != u.workstation_id:
            errors.append(msg("load.use_mentor_elsewhere", at=at(u, "mentor_id"),
                              mentor=mentor.mentor_id, elsewhere=mentor.workstation_id,
                              workstation=u.workstation_id))
            ok = False
        if not ok or u.used == 0:
            continue
        key = (u.workstation_id, u.term)
        ws_used[key] += u.used
        if ws_used[key] > cap[key] and key not in full:
            full.add(key)
            errors.append(msg("load.use_over_workstation", at=at(u, u.used_column),
                              workstation=u.workstation_id, capacity=cap[key], term=u.term,
                              used=ws_used[key], where="workstations.csv",
                              terms_file="workstation_terms.csv"))
        if mentor is not None:
            mkey = (mentor.mentor_id, u.term)
            m_used[mkey] += u.used
            if m_used[mkey] > mentor.capacity and mkey not in full:
                full.add(mkey)
                errors.append(msg("load.use_over_mentor", at=at(u, "mentor_id"),
                                  mentor=mentor.mentor_id, capacity=mentor.capacity,
                                  used=m_used[mkey], term=u.term, where="mentors.csv"))
    if errors:
        raise ScenarioError(errors)
    if not ws_used:
        return problem
    overrides = {(tc.workstation_id, tc.term): tc.capacity for tc in problem.term_capacities}
    for key, used in ws_used.items():
        overrides[key] = cap[key] - used
    tix = problem.term_index
    # existing overrides keep their rows (new values); new ones follow in calendar order
    known = [(tc.workstation_id, tc.term) for tc in problem.term_capacities]
    extra = sorted(set(overrides) - set(known), key=lambda k: (tix[k[1]], k[0]))
    term_caps = tuple(TermCapacity(workstation_id=w, term=t, capacity=overrides[w, t])
                      for w, t in known + extra)
    relevant = student_terms(problem)
    busiest: dict[str, int] = {}
    for (mid, t), used in m_used.items():
        if t in relevant:
            busiest[mid] = max(busiest.get(mid, 0), used)
    new_mentors = tuple(
        m if m.mentor_id not in busiest
        else Mentor(**{**m.model_dump(), "capacity": m.capacity - busiest[m.mentor_id]})
        for m in problem.mentors)
    update: dict[str, Any] = {"term_capacities": term_caps, "mentors": new_mentors}
    if input_file is not None:  # the earlier result is part of the input now
        name, data = input_file
        update["input_sha256"] = hashlib.sha256(problem.input_sha256.encode()
                                                + data).hexdigest()
        if "input_files" in Problem.model_fields:
            update["input_files"] = tuple(sorted(
                (*problem.input_files, (name, hashlib.sha256(data).hexdigest()))))
    return rebuild(problem, msg("load.after_subtracting", what=label), **update)


def apply_occupancy(problem: Problem, rows: Sequence[Occupancy], *,
                    source: str | Location = "occupancy.csv",
                    numbers: Sequence[int] | None = None) -> Problem:
    """The problem with ``occupancy.csv`` rows subtracted from its capacities.

    Parameters
    ----------
    problem
        A problem with full capacities.
    rows
        The rows, in file order (row numbers in messages are 1-based).
    source
        The file name used in messages, or the location of the table (a workbook's sheet:
        ``Location(sheet=...)``), whose ``row`` is then set per row.
    numbers
        The row number to show for each row (a workbook's own row numbers); default 1, 2, ...

    Raises
    ------
    ScenarioError
        Unknown workstation, mentor or term, or more places used than there are.
    """
    shown = list(numbers) if numbers is not None and len(numbers) == len(rows) else list(
        range(1, len(rows) + 1))
    base = source if isinstance(source, Location) else Location(file=source)
    name = base.sheet or base.file or "occupancy.csv"
    return subtract(problem, (Use(replace(base, row=r), o.workstation_id, o.mentor_id, o.term,
                                  o.used) for r, o in zip(shown, rows, strict=True)), name)




def policy_window(problem: Problem) -> list[str]:
    """The terms of the policy window (all terms when there is none), in calendar order."""
    first, last = (problem.term_index[t] for t in
                   (problem.policy.window or (problem.terms[0], problem.terms[-1])))
    return list(problem.terms[first:last + 1])

