"""The audit manifest of a result folder, and re-running a result from it (``matcher verify``).

Every result folder written by :func:`matcher.io.write_result` ends with ``manifest.json``:

``manifest_version``, ``created_utc``
    Format version (1) and when the folder was written.
``versions``, ``platform``
    matcher, Python, OR-Tools, pydantic, pandas, numpy and openpyxl versions; the OS.
``scenario``
    ``path`` (absolute) and ``path_from_result`` (relative to the result folder) of the scenario
    folder or workbook, its ``name``, ``input_sha256`` and ``files``: the SHA-256 of every input
    file read (``{"students.csv": "…", ...}``).
``settings``
    The scenario's ``terms``, ``term_months``, ``policy``, ``objective`` and ``solver_defaults``.
``solver``
    ``name``, whether it is ``exact``, and the ``seed``, ``workers`` and ``time_limit_s`` used;
    ``options`` ``{"stable": true}`` for ``cpsat --stable`` (re-run the same way).
``run``
    ``status``, ``message``, ``wall_seconds``, ``stopped_by_time_limit`` and ``reproducible``.
``objective``
    The three levels in order, each with ``name``, ``sense``, ``value`` and the proven ``bound``
    (None when nothing is proven): placed, rank cost, pair weight.
``outputs``
    SHA-256 of every other file of the folder, as written.
``write_options``
    ``excel_bom``.

:func:`verify_result` loads the scenario the manifest names (or another path given), refuses it
unless every input file has the recorded hash, re-runs the recorded solver with the recorded
seed, workers and time limit, and compares the allocation with the folder's
``assignments.csv`` student by student. With the same input, seed and workers a solve that
finishes gives the same allocation; one cut by its time limit (an exact solver's ``FEASIBLE``)
may not, and the report says so.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .io import ScenarioError, load_scenario, read_assignments
from .model.result import Status

if TYPE_CHECKING:
    from .model import Problem
    from .model.result import Result

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_PACKAGES = ("matcher", "ortools", "pydantic", "pandas", "numpy", "openpyxl")


def versions() -> dict[str, str | None]:
    """Versions of Python and the packages a result depends on (None when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stopped_by_time_limit(result: Result) -> bool:
    """Whether the run was cut by its time limit (so a re-run may legitimately differ).

    An exact solver ends FEASIBLE or UNKNOWN only at its time limit, and leaves the pair weight
    (level 3) unproven only there; any solver may say so in its message.
    """
    from . import solvers

    exact = result.solver in solvers.EXACT
    return (exact and result.status in (Status.FEASIBLE, Status.UNKNOWN)) \
        or (exact and (result.stats or {}).get("pair_weight_proven") is False) \
        or "time limit" in result.message.lower()


def build_manifest(result: Result, problem: Problem | None, folder: Path, *,
                   excel_bom: bool = False) -> dict[str, Any]:
    """The manifest of a result folder whose other files are already in ``folder``.

    Parameters
    ----------
    result
        The result written.
    problem
        The problem solved (None: the input files and settings are not recorded).
    folder
        The folder being written; its files are hashed. Relative paths are computed from it,
        so it must be the result folder or a sibling of it (the temporary folder).
    excel_bom
        The write option used for the CSVs.
    """
    from . import solvers

    source = problem.source if problem is not None else ""
    relative = None
    if source:
        try:
            relative = os.path.relpath(source, folder.resolve())
        except ValueError:  # another drive on Windows
            relative = None
    cut = stopped_by_time_limit(result)
    stats = result.stats or {}
    pair_enabled = problem.objective.pair_weight if problem is not None else None
    return {
        "manifest_version": MANIFEST_VERSION,
        "created_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "versions": versions(),
        "platform": platform.platform(),
        "scenario": {
            "path": source or None,
            "path_from_result": relative,
            "name": problem.name if problem is not None else None,
            "input_sha256": result.input_sha256 or (problem.input_sha256 if problem else ""),
            "files": dict(problem.input_files) if problem is not None else {},
        },
        "settings": None if problem is None else {
            "terms": list(problem.terms),
            "term_months": problem.term_months,
            "policy": problem.policy.model_dump(mode="json"),
            "objective": problem.objective.model_dump(mode="json"),
            "solver_defaults": problem.solver.model_dump(mode="json"),
        },
        "solver": {
            "name": result.solver,
            "exact": result.solver in solvers.EXACT,
            "seed": result.seed,
            "workers": result.workers,
            "time_limit_s": result.time_limit_s,
            **({"options": {"stable": True}} if stats.get("stable") else {}),  # cpsat --stable
        },
        "run": {
            "status": result.status.value,
            "message": result.message,
            "wall_seconds": round(result.wall_seconds, 3),
            "stopped_by_time_limit": cut,
            "reproducible": not cut,
        },
        "objective": [
            {"level": 1, "name": "placed", "sense": "maximise", "value": result.placed,
             "bound": result.placed_upper_bound},
            {"level": 2, "name": "rank_cost", "sense": "minimise", "value": result.rank_cost,
             "bound": result.rank_cost_lower_bound},
            {"level": 3, "name": "pair_weight", "sense": "maximise",
             "value": round(result.pair_weight, 6), "enabled": pair_enabled,
             "bound": stats.get("pair_weight_upper_bound")},
        ],
        "outputs": {p.name: _sha256(p) for p in sorted(folder.iterdir())
                    if p.is_file() and p.name != MANIFEST},
        "write_options": {"excel_bom": excel_bom},
    }


def write_manifest(result: Result, problem: Problem | None, folder: Path, *,
                   excel_bom: bool = False) -> None:
    """Write ``manifest.json`` into ``folder`` (last: it hashes the files already there)."""
    doc = build_manifest(result, problem, folder, excel_bom=excel_bom)
    (folder / MANIFEST).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")


def read_manifest(result_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a result folder's ``manifest.json``.

    Raises
    ------
    ScenarioError
        When it is missing, not JSON, or lacks what :func:`verify_result` needs.
    """
    path = Path(result_dir) / MANIFEST
    if not path.is_file():
        raise ScenarioError([f"{path}: missing file; give a result folder written by matcher "
                             "solve (folders written before manifests existed cannot be "
                             "verified; solve again)"])
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError([f"{path}: not valid JSON ({e}); the manifest was damaged"]) from None
    need = {"scenario": dict, "solver": dict, "run": dict}
    bad = [k for k, kind in need.items() if not isinstance(doc.get(k) if isinstance(doc, dict)
                                                           else None, kind)]
    if bad:
        raise ScenarioError([f"{path}: lacks {', '.join(bad)}; the manifest was damaged"])
    solver = doc["solver"]
    if not (isinstance(solver.get("name"), str) and isinstance(solver.get("seed"), int)
            and isinstance(solver.get("workers"), int)
            and isinstance(solver.get("time_limit_s"), int | float)):
        raise ScenarioError([f"{path}: solver lacks name, seed, workers or time_limit_s; the "
                             "manifest was damaged"])
    return dict(doc)


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

    :func:`matcher.rolling.apply_previous` records such a result's ``assignments.csv`` as the
    input file ``previous:<path>``; it must still be there, unchanged.
    """
    files = doc["scenario"].get("files") or {}
    earlier = [name.partition(":")[2] for name in files if str(name).startswith("previous:")]
    if not earlier:
        return problem
    from .rolling import apply_previous

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
        A result folder written by :func:`matcher.io.write_result`.
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
    from . import solvers
    from .api import solve

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
    rerun = solve(problem, cfg["name"], time_limit_s=float(cfg["time_limit_s"]),
                  seed=cfg["seed"], workers=cfg["workers"], log=log, **stable)
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
                and _sha256(folder / name) != recorded_out[name]:
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


__all__ = ["MANIFEST", "VerifyReport", "build_manifest", "read_manifest", "verify_result",
           "versions", "write_manifest"]
