"""Minimal-disruption re-solve: repair an allocation after changes without reshuffling everyone.

A graduate office has published an allocation; then a student withdraws, a workstation closes in
a term, a mentor goes on leave, late students arrive. :func:`resolve` applies the changes (a
changes file in the variant format of :mod:`matcher.planning.variant_spec`, typically with
``remove_students``, ``close``, ``mentor_leave``, ``add_students``) to the scenario, and solves
the changed problem with ``cpsat`` given the earlier placements. The objective is lexicographic:

1. place as many students as possible;
2. then move the fewest: keep the most earlier placements *exactly* (same workstation, mentor,
   campus supervisor and terms) — a placement that is still valid is only changed when placing
   more students needs it;
3. then the default levels (rank cost, rewarded pairs).

The changed scenario is written beside the result (``scenario/``). Every student gets a line
in ``moves.csv`` saying what happened and why: ``kept``; ``moved`` or ``unplaced`` because the
earlier placement now breaks a rule (named by the independent checker: a closed term, a mentor
on leave, ...) or because the room was needed to place more students; ``new`` (placed or not)
for a student without an earlier placement; ``withdrawn``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import solvers
from ..check import check
from ..formats.cells import show
from ..formats.escape import escape_cell
from ..formats.output import Input
from ..formats.resultdir import read_assignments, result_folder
from ..formats.scenario import write_scenario
from ..messages import Lang, Location, Message, msg
from ..model import Problem, Result, ScenarioError
from ..model.result import Reason, reason_text
from ..reports.folder import output_lang, write_result
from ..solvers.base import SolverConfig, check_budget
from .variant import Variant, VariantSpec, apply_variant

__all__ = ["MOVE_COLUMNS", "Move", "Resolution", "check_previous", "previous_placements",
           "resolve", "write_resolution"]

MOVE_COLUMNS = ["student_id", "outcome", "before", "after", "why"]


@dataclass(frozen=True)
class Move:
    """What happened to one student in a re-solve.

    ``outcome`` is one of ``kept``, ``moved``, ``unplaced``, ``new``, ``new-unplaced``,
    ``withdrawn``; ``before``/``after`` describe the placements
    (``workstation/mentor/supervisor/start..end``), empty when there is none. ``reason`` says
    why (``plan.resolve.*``, ``reason.*``: worded in ``moves.csv`` in the output's language),
    ``why`` is the same in English (empty when there is nothing to say).
    """

    student_id: str
    outcome: str
    before: str
    after: str
    why: str
    reason: Reason | None = None

    def why_in(self, lang: Lang) -> str:
        """``why`` worded in ``lang``."""
        return "" if self.reason is None else reason_text(self.reason, lang)


@dataclass(frozen=True)
class Resolution:
    """A re-solve: the changed scenario, the new result and every student's move."""

    variant: Variant
    result: Result
    moves: tuple[Move, ...]

    @property
    def problem(self) -> Problem:
        """The changed problem that was solved."""
        return self.variant.problem

    def count(self, outcome: str) -> int:
        """How many students had ``outcome``."""
        return sum(1 for m in self.moves if m.outcome == outcome)


def previous_placements(result_dir: str | os.PathLike[str], base: Problem | None = None
                        ) -> list[dict[str, str]]:
    """The rows of an earlier result's ``assignments.csv``.

    Parameters
    ----------
    result_dir
        The earlier result folder.
    base
        The scenario it must have been solved from: every row must name its students,
        workstations, mentors, supervisors and terms (:func:`check_previous`).

    Raises
    ------
    ScenarioError
        When the folder is not a result folder, or holds a result of another scenario.
    """
    folder = result_folder(result_dir)
    rows = read_assignments(folder)
    if base is not None:
        check_previous(base, rows, str(folder / "assignments.csv"))
    return rows


_PREVIOUS_COLUMNS = ("student_id", "workstation_id", "mentor_id", "supervisor_id",
                     "start_term", "end_term")


def check_previous(base: Problem, rows: list[dict[str, str]], source: str = "previous") -> None:
    """Refuse an earlier allocation that names what ``base`` does not have: a result of
    another scenario would otherwise show every student as withdrawn or new.

    Raises
    ------
    ScenarioError
        One message per offending cell (at most five), naming the row and column.
    """
    known = {
        "student_id": {x.student_id for x in base.students},
        "workstation_id": {x.workstation_id for x in base.workstations},
        "mentor_id": {x.mentor_id for x in base.mentors},
        "supervisor_id": {x.supervisor_id for x in base.supervisors},
        "start_term": set(base.terms), "end_term": set(base.terms)}
    found = []
    for r, row in enumerate(rows, start=1):
        for column in _PREVIOUS_COLUMNS:
            if row.get(column, "") not in known[column]:
                found.append(msg("resolve.previous_unknown", at=Location(file=source, row=r,
                                                                          field=column),
                                 value=show(row.get(column, "")), scenario=base.name))
                break
        if len(found) == 5:
            break
    if found:
        raise ScenarioError(found)


def _describe(row: Mapping[str, object] | None) -> str:
    if row is None:
        return ""
    return (f"{row['workstation_id']}/{row['mentor_id']}/{row['supervisor_id']}/"
            f"{row['start_term']}..{row['end_term']}")


def _same(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    keys = ("workstation_id", "mentor_id", "supervisor_id", "start_term", "end_term")
    # (a folder from before the terms column says only start..end: then that decides)
    return all(str(a[k]) == str(b[k]) for k in keys) and (
        not _held(a) or not _held(b) or _held(a) == _held(b))


def _held(row: Mapping[str, object]) -> str:
    """The terms of a placement as written (``terms``; a tuple in a Result)."""
    value = row.get("terms") or ""
    return ";".join(value) if isinstance(value, tuple) else str(value)


def _broken_rules(problem: Problem, row: Mapping[str, str]) -> list[Message]:
    """What the earlier placement breaks under the changed problem (the independent checker)."""
    return check(problem, [row]).issues


def resolve(base: Problem, previous: list[dict[str, str]], changes: VariantSpec, *,
            time_limit_s: float | None = None, seed: int | None = None,
            workers: int | None = None, log: bool = False) -> Resolution:
    """Apply ``changes`` to ``base`` and re-solve, keeping earlier placements where possible.

    Parameters
    ----------
    base
        The scenario the earlier allocation was made for.
    previous
        That allocation's ``assignments.csv`` rows (:func:`previous_placements`).
    changes
        The changes (:func:`matcher.planning.variant_spec.read_variant`).
    time_limit_s, seed, workers, log
        As for :func:`matcher.solve` (defaults from the scenario).

    Returns
    -------
    Resolution

    Raises
    ------
    ScenarioError
        When the changes do not apply to the scenario, or ``previous`` names students,
        workstations, mentors, supervisors or terms it does not have.
    """
    check_budget(time_limit_s, seed, workers)
    check_previous(base, previous)
    variant = apply_variant(base, changes)
    problem = variant.problem
    defaults = problem.solver
    config = SolverConfig(
        time_limit_s=defaults.time_limit_s if time_limit_s is None else time_limit_s,
        seed=defaults.seed if seed is None else seed,
        workers=defaults.workers if workers is None else workers, log=log,
        options={"previous": {r["student_id"]: (r["workstation_id"], r["mentor_id"],
                                                r["supervisor_id"], r.get("terms") or
                                                r["start_term"]) for r in previous}})
    result = solvers.get("cpsat")(problem, config)
    return Resolution(variant, result, tuple(_moves(problem, previous, result)))


def _moves(problem: Problem, previous: list[dict[str, str]], result: Result) -> list[Move]:
    before = {r["student_id"]: r for r in previous}
    after = {p.student_id: p.row() for p in result.placements}
    reason = dict(result.unassigned)
    current = {s.student_id for s in problem.students}
    moves: list[Move] = []

    def move(sid: str, outcome: str, old: Any, new: Any, why: Reason | None) -> Move:
        return Move(sid, outcome, _describe(old), _describe(new),
                    "" if why is None else reason_text(why, "en"), why)

    for sid in sorted(current | set(before)):
        old, new = before.get(sid), after.get(sid)
        if sid not in current:
            moves.append(move(sid, "withdrawn", old, None, msg("plan.resolve.withdrawn")))
            continue
        if old is None:
            outcome = "new" if new is not None else "new-unplaced"
            moves.append(move(sid, outcome, None, new, None if new is not None
                              else reason.get(sid)))
            continue
        if new is not None and _same(old, new):
            moves.append(move(sid, "kept", old, new, None))
            continue
        broken = _broken_rules(problem, old)
        why = (msg("plan.resolve.breaks_rule", rules=broken) if broken
               else msg("plan.resolve.room_needed"))
        if new is None:
            why = msg("plan.resolve.not_placed", why=why,
                      reason=reason.get(sid) or msg("plan.resolve.no_room"))
        moves.append(move(sid, "moved" if new is not None else "unplaced", old, new, why))
    return moves


def write_resolution(res: Resolution, out: str | os.PathLike[str], *, force: bool = False,
                     excel_bom: bool = False, inputs: Iterable[Input] = (),
                     lang: str | None = None) -> Path:
    """Write the result folder of a re-solve atomically.

    Besides the usual files: ``moves.csv`` (every student's outcome and why) and ``scenario/``,
    the changed scenario that was solved (``matcher check OUT/scenario OUT`` re-checks it).
    Never written into or over ``inputs`` (the scenario, the earlier result, the changes file).
    ``lang`` is the language of the outputs for people (see :func:`matcher.write_result`).
    """

    chosen = output_lang(lang, res.problem)

    def write_moves(_result: Result, _problem: Problem | None, folder: Path) -> None:
        with open(folder / "moves.csv", "w", newline="",
                  encoding="utf-8-sig" if excel_bom else "utf-8") as f:
            w = csv.writer(f)
            w.writerow(MOVE_COLUMNS)
            for m in res.moves:  # the why column in the output's language
                w.writerow([escape_cell(m.why_in(chosen) if c == "why" else getattr(m, c))
                            for c in MOVE_COLUMNS])
        write_scenario(res.problem, folder / "scenario", occupancy=res.variant.occupancy,
                       header=res.variant.header_lines(chosen),
                       description=res.variant.description_in(chosen))

    return write_result(res.result, out, force=force, excel_bom=excel_bom,
                        problem=res.problem, writers=[write_moves], inputs=inputs,
                        lang=lang)
