"""Re-running a result from its manifest and comparing the allocation (``matcher verify``).

:func:`verify_result` loads the scenario the manifest names (or another path given), refuses it
unless every input file has the recorded hash, re-runs the recorded solver with the recorded
seed, workers and time limit, and compares the allocation with the folder's
``assignments.csv`` student by student. With the same input, seed and workers a solve that
finishes gives the same allocation; one cut by its time limit (an exact solver's ``FEASIBLE``)
may not, and the report says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import solvers
from ..formats.occupancy import apply_previous
from ..formats.resultdir import read_assignments
from ..formats.scenario import load_scenario
from ..model import Problem, Result, ScenarioError
from ..reports.manifest import (
    MANIFEST,
    file_sha256,
    read_manifest,
    stopped_by_time_limit,
    versions,
)
from ..solvers import solve

__all__ = ["MAX_LISTED", "VerifyReport", "main_lines", "verify_result"]


@dataclass
class VerifyReport:
    """What :func:`verify_result` found.

    Attributes
    ----------
    scenario
        The scenario path used.
    differences
        One line per student whose placement in the folder differs from the re-run's.
    notes
        Remarks that do not decide the outcome (a time-limited run, changed versions, an edited
        file holding the same allocation).
    rerun
        The re-run's result.
    """

    scenario: str
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rerun: Result | None = None

    @property
    def ok(self) -> bool:
        """True when the re-run gives exactly the folder's allocation."""
        return not self.differences


def _scenario_path(doc: dict[str, Any], result_dir: Path, given: str | None) -> Path:
    if given is not None:
        return Path(given)
    sc = doc["scenario"]
    candidates = []
    if isinstance(sc.get("path"), str):
        candidates.append(Path(sc["path"]))
    if isinstance(sc.get("path_from_result"), str):
        candidates.append(result_dir / sc["path_from_result"])
    for c in candidates:
        if c.exists():
            return c
    if not candidates:
        raise ScenarioError([f"{result_dir / MANIFEST}: records no scenario path; give it with "
                             "--scenario PATH"])
    raise ScenarioError([f"{candidates[0]}: the scenario recorded in the manifest is not there "
                         "any more; give its new place with --scenario PATH"])


def _check_inputs(doc: dict[str, Any], problem: Problem, where: Path) -> None:
    """Raise unless the scenario's input files are exactly those of the run."""
    recorded = doc["scenario"].get("files") or {}
    if not isinstance(recorded, dict):
        raise ScenarioError([f"{where / MANIFEST}: scenario.files is damaged"])
    now = dict(problem.input_files)
    lines = []
    if recorded:
        for name in sorted(set(recorded) | set(now)):
            if name not in now:
                lines.append(f"{name}: read by the run but missing now")
            elif name not in recorded:
                lines.append(f"{name}: not an input of the run (new since)")
            elif recorded[name] != now[name]:
                lines.append(f"{name}: changed since the run (SHA-256 {recorded[name][:12]}… "
                             f"then, {now[name][:12]}… now)")
    elif doc["scenario"].get("input_sha256") and \
            doc["scenario"]["input_sha256"] != problem.input_sha256:
        lines.append("the input files differ from the run's (input_sha256)")
    if lines:
        raise ScenarioError([f"{problem.source or 'scenario'}: {line}; verify needs the exact "
                             "input of the run" for line in lines])


def _with_previous(doc: dict[str, Any], problem: Problem) -> Problem:
    """Subtract again the earlier cohorts a run was given with ``solve --previous``.

    :func:`matcher.formats.occupancy.apply_previous` records such a result's
    ``assignments.csv`` as the input file ``previous:<path>``; it must still be there,
    unchanged.
    """
    files = doc["scenario"].get("files") or {}
    earlier = [name.partition(":")[2] for name in files if str(name).startswith("previous:")]
    if not earlier:
        return problem
    for path in earlier:
        problem, _ = apply_previous(problem, str(Path(path).parent))
    return problem


def _describe(row: dict[str, str] | None) -> str:
    if row is None:
        return "unassigned"
    span = row["start_term"] if row["start_term"] == row["end_term"] else \
        f"{row['start_term']}..{row['end_term']}"
    return (f"{row['workstation_id']} (mentor {row['mentor_id']}, supervisor "
            f"{row['supervisor_id']}, {span})")


_KEYS = ("workstation_id", "mentor_id", "supervisor_id", "start_term", "end_term")


def verify_result(result_dir: str | os.PathLike[str], scenario: str | None = None, *,
                  log: bool = False) -> VerifyReport:
    """Re-run a result from its manifest and compare the allocation.

    Parameters
    ----------
    result_dir
        A result folder written by :func:`matcher.write_result`.
    scenario
        The scenario path, if not the one recorded in the manifest.
    log
        Print solver progress to stderr.

    Returns
    -------
    VerifyReport
        ``ok`` when every student's placement (workstation, mentor, supervisor, terms) is the
        same, or unassigned in both.

    Raises
    ------
    ScenarioError
        When the manifest or the scenario cannot be read, when an input file differs from the
        run's, or when the recorded solver is not registered.
    """
    folder = Path(result_dir)
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a result folder; give the folder written by "
                             "matcher solve"])
    doc = read_manifest(folder)
    path = _scenario_path(doc, folder, scenario)
    problem = load_scenario(path)
    problem = _with_previous(doc, problem)
    _check_inputs(doc, problem, folder)
    published = {r["student_id"]: r for r in read_assignments(folder)}
    cfg = doc["solver"]
    if cfg["name"] not in solvers.names():
        raise ScenarioError([f"{folder / MANIFEST}: solver '{cfg['name']}' is not registered "
                             f"in this matcher ({', '.join(solvers.names())}); install the "
                             "version that wrote it"])
    options = cfg.get("options") if isinstance(cfg.get("options"), dict) else {}
    stable = {"stable": True} if options.get("stable") is True else {}  # cpsat --stable
    policy = options.get("policy") if options.get("policy") in solvers.POLICIES else None
    rerun = solve(problem, cfg["name"], time_limit_s=float(cfg["time_limit_s"]),
                  seed=cfg["seed"], workers=cfg["workers"], log=log, policy=policy, **stable)
    report = VerifyReport(str(path), rerun=rerun)
    again = {p.student_id: {k: getattr(p, k) for k in _KEYS} for p in rerun.placements}
    for sid in sorted(set(published) | set(again)):
        old, new = published.get(sid), again.get(sid)
        if old is None or new is None or any(old.get(k, "") != new[k] for k in _KEYS):
            report.differences.append(f"{sid}: result folder {_describe(old)}; re-run "
                                      f"{_describe(new)}")
    run = doc["run"]
    if run.get("stopped_by_time_limit"):
        report.notes.append(
            f"the original run stopped at its time limit (status {run.get('status')}, "
            f"{cfg['time_limit_s']:g} s), so it is not reproducible: a re-run may find another "
            "allocation of the same or better quality; give the solve more time for a "
            "reproducible result")
    if stopped_by_time_limit(rerun):
        report.notes.append(f"the re-run stopped at its time limit too (status "
                            f"{rerun.status.value})")
    if run.get("status") not in (None, rerun.status.value):
        report.notes.append(f"status {run.get('status')} then, {rerun.status.value} now")
    recorded_out = doc.get("outputs") or {}
    for name in ("assignments.csv", "unassigned.csv"):
        if isinstance(recorded_out, dict) and name in recorded_out and (folder / name).is_file() \
                and file_sha256(folder / name) != recorded_out[name]:
            report.notes.append(f"{name} was changed after the run (its SHA-256 differs from "
                                "the manifest)")
    then = doc.get("versions") or {}
    now = versions()
    changed = [f"{k} {then.get(k)} then, {now[k]} now" for k in ("matcher", "ortools", "python")
               if isinstance(then, dict) and then.get(k) not in (None, now[k])]
    if changed:
        report.notes.append("versions differ (" + "; ".join(changed) + "): a different version "
                            "may find another allocation of the same quality")
    return report


MAX_LISTED = 50
"""Differing students ``matcher verify`` lists before it says how many more there are."""


def main_lines(report: VerifyReport) -> list[str]:
    """The lines ``matcher verify`` prints for a report (without the notes)."""
    r = report.rerun
    figures = f"{r.placed} placed, rank cost {r.rank_cost}" if r is not None else ""
    if report.ok:
        return [f"verified: the re-run gives the same allocation ({figures})"]
    shown = report.differences[:MAX_LISTED]
    more = len(report.differences) - len(shown)
    return [f"not verified: {len(report.differences)} student(s) placed differently "
            f"(re-run: {figures})", *(f"  {line}" for line in shown),
            *([f"  ... and {more} more"] if more else [])]
