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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import solvers
from ..check import check
from ..formats.escape import escape_cell
from ..formats.resultdir import read_assignments, result_folder
from ..formats.scenario import write_scenario
from ..model import Problem, Result
from ..reports.folder import write_result
from ..solvers.base import SolverConfig
from .variant import Variant, VariantSpec, apply_variant

__all__ = ["MOVE_COLUMNS", "Move", "Resolution", "previous_placements", "resolve",
           "write_resolution"]

MOVE_COLUMNS = ["student_id", "outcome", "before", "after", "why"]


@dataclass(frozen=True)
class Move:
    """What happened to one student in a re-solve.

    ``outcome`` is one of ``kept``, ``moved``, ``unplaced``, ``new``, ``new-unplaced``,
    ``withdrawn``; ``before``/``after`` describe the placements
    (``workstation/mentor/supervisor/start..end``), empty when there is none.
    """

    student_id: str
    outcome: str
    before: str
    after: str
    why: str


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


def previous_placements(result_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rows of an earlier result's ``assignments.csv``.

    Raises
    ------
    ScenarioError
        When the folder is not a result folder.
    """
    return read_assignments(result_folder(result_dir))


def _describe(row: Mapping[str, object] | None) -> str:
    if row is None:
        return ""
    return (f"{row['workstation_id']}/{row['mentor_id']}/{row['supervisor_id']}/"
            f"{row['start_term']}..{row['end_term']}")


def _same(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    keys = ("workstation_id", "mentor_id", "supervisor_id", "start_term", "end_term")
    return all(str(a[k]) == str(b[k]) for k in keys)


def _broken_rules(problem: Problem, row: Mapping[str, str]) -> list[str]:
    """What the earlier placement breaks under the changed problem (the independent checker)."""
    return check(problem, [row]).violations


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
        When the changes do not apply to the scenario.
    """
    variant = apply_variant(base, changes)
    problem = variant.problem
    defaults = problem.solver
    config = SolverConfig(
        time_limit_s=defaults.time_limit_s if time_limit_s is None else time_limit_s,
        seed=defaults.seed if seed is None else seed,
        workers=defaults.workers if workers is None else workers, log=log,
        options={"previous": {r["student_id"]: (r["workstation_id"], r["mentor_id"],
                                                r["supervisor_id"], r["start_term"])
                              for r in previous}})
    result = solvers.get("cpsat")(problem, config)
    return Resolution(variant, result, tuple(_moves(problem, previous, result)))


def _moves(problem: Problem, previous: list[dict[str, str]], result: Result) -> list[Move]:
    before = {r["student_id"]: r for r in previous}
    after = {p.student_id: vars(p) for p in result.placements}
    reason = dict(result.reasons("en"))
    current = {s.student_id for s in problem.students}
    moves: list[Move] = []
    for sid in sorted(current | set(before)):
        old, new = before.get(sid), after.get(sid)
        if sid not in current:
            moves.append(Move(sid, "withdrawn", _describe(old), "", "no longer in the scenario"))
            continue
        if old is None:
            outcome = "new" if new is not None else "new-unplaced"
            why = "" if new is not None else reason.get(sid, "")
            moves.append(Move(sid, outcome, "", _describe(new), why))
            continue
        if new is not None and _same(old, new):
            moves.append(Move(sid, "kept", _describe(old), _describe(new), ""))
            continue
        broken = _broken_rules(problem, old)
        if broken:
            why = "the earlier placement now breaks a rule: " + "; ".join(broken)
        else:
            why = ("the earlier placement is still valid, but its room was needed to place more "
                   "students")
        if new is None:
            why += f". Not placed: {reason.get(sid, 'no room')}"
        moves.append(Move(sid, "moved" if new is not None else "unplaced", _describe(old),
                          _describe(new), why))
    return moves


def write_resolution(res: Resolution, out: str | os.PathLike[str], *, force: bool = False,
                     excel_bom: bool = False, lang: str | None = None) -> Path:
    """Write the result folder of a re-solve atomically.

    Besides the usual files: ``moves.csv`` (every student's outcome and why) and ``scenario/``,
    the changed scenario that was solved (``matcher check OUT/scenario OUT`` re-checks it).
    ``lang`` is the language of the outputs for people (see :func:`matcher.write_result`).
    """

    def write_moves(_result: Result, _problem: Problem | None, folder: Path) -> None:
        with open(folder / "moves.csv", "w", newline="",
                  encoding="utf-8-sig" if excel_bom else "utf-8") as f:
            w = csv.writer(f)
            w.writerow(MOVE_COLUMNS)
            for m in res.moves:
                w.writerow([escape_cell(getattr(m, c)) for c in MOVE_COLUMNS])
        write_scenario(res.problem, folder / "scenario", occupancy=res.variant.occupancy,
                       description=res.variant.description)

    return write_result(res.result, out, force=force, excel_bom=excel_bom,
                        problem=res.problem, writers=[write_moves], lang=lang)
