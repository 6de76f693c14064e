"""Verifying a result folder against its manifest and a re-run (``matcher verify``).

:func:`verify_result` checks everything a published result folder holds:

1. **every file against the manifest**: each file the run wrote must be there with the SHA-256
   the manifest recorded; a file missing, changed, or added since is a difference;
2. **the input**: the scenario the manifest names (or another path given) must hold exactly the
   input files of the run (same names, same hashes), or nothing is re-run;
3. **the re-run**: the recorded solver with the recorded seed, workers and time limit, compared
   with the folder's ``assignments.csv`` student by student.

A changed table is named with its rows (the data rows, counted as in every message, that differ
from what the re-run writes), a changed ``summary.json`` with its fields. With the same input,
seed and workers a solve that finishes gives the same allocation; one cut by its time limit (an
exact solver's ``FEASIBLE``) may not, and the report says so, unless it was deterministic
(``--deterministic``, re-run so): that one gives the same allocation on any machine. Every
line is a catalogue message (``verify.*`` in ``safety.po``).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import solvers
from ..formats.escape import escape_frame
from ..formats.occupancy import apply_previous
from ..formats.output import MARKER
from ..formats.resultdir import ASSIGNMENTS, SUMMARY, UNASSIGNED, read_assignments
from ..formats.scenario import load_scenario
from ..messages import Lang, Message, msg, render
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

MAX_LISTED = 50
"""Differences ``matcher verify`` lists before it says how many more there are."""

_VOLATILE = ("wall_seconds", "stats", "message")
"""Summary fields a faithful re-run may change (timings, the solver's log of itself)."""


@dataclass
class VerifyReport:
    """What :func:`verify_result` found.

    Attributes
    ----------
    scenario
        The scenario path used.
    files
        One message per file that differs from the manifest: missing, changed (with the rows
        or fields that differ from the re-run), or added since the run.
    students
        One message per student whose placement in the folder differs from the re-run's.
    remarks
        Notes that do not decide the outcome (a time-limited run, changed versions).
    rerun
        The re-run's result.
    """

    scenario: str
    files: list[Message] = field(default_factory=list)
    students: list[Message] = field(default_factory=list)
    remarks: list[Message] = field(default_factory=list)
    rerun: Result | None = None

    @property
    def ok(self) -> bool:
        """True when every file is as written and the re-run gives the same allocation."""
        return not self.files and not self.students

    @property
    def differences(self) -> list[str]:
        """Every difference (files, then students) as an English line."""
        return [render(m, "en") for m in (*self.files, *self.students)]

    @property
    def notes(self) -> list[str]:
        """Every remark as an English line."""
        return [render(m, "en") for m in self.remarks]


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
        raise ScenarioError([msg("verify.no_scenario_path", manifest=str(result_dir / MANIFEST))])
    raise ScenarioError([msg("verify.scenario_moved", path=str(candidates[0]))])


def _check_inputs(doc: dict[str, Any], problem: Problem) -> None:
    """Raise unless the scenario's input files are exactly those of the run."""
    recorded = doc["scenario"].get("files") or {}
    now = dict(problem.input_files)
    where = problem.source or "scenario"
    found: list[str | Message] = []
    if recorded:
        for name in sorted(set(recorded) | set(now)):
            if name not in now:
                found.append(msg("verify.input_missing", scenario=where, file=name))
            elif name not in recorded:
                found.append(msg("verify.input_new", scenario=where, file=name))
            elif recorded[name] != now[name]:
                found.append(msg("verify.input_changed", scenario=where, file=name,
                                 then=recorded[name][:12], now=now[name][:12]))
    elif doc["scenario"].get("input_sha256") and \
            doc["scenario"]["input_sha256"] != problem.input_sha256:
        found.append(msg("verify.input_differs", scenario=where))
    if found:
        raise ScenarioError(found)


def _with_previous(doc: dict[str, Any], problem: Problem) -> Problem:
    """Subtract again the earlier cohorts a run was given with ``solve --previous``.

    :func:`matcher.formats.occupancy.apply_previous` records such a result's
    ``assignments.csv`` as the input file ``previous:<path>``; it must still be there,
    unchanged.
    """
    files = doc["scenario"].get("files") or {}
    earlier = [name.partition(":")[2] for name in files if str(name).startswith("previous:")]
    for path in earlier:
        problem, _ = apply_previous(problem, str(Path(path).parent))
    return problem


def _describe(row: dict[str, str] | None) -> Message:
    if row is None:
        return msg("verify.unassigned")
    span = row["start_term"] if row["start_term"] == row["end_term"] else \
        f"{row['start_term']}..{row['end_term']}"
    return msg("verify.placement", workstation=row["workstation_id"], mentor=row["mentor_id"],
               supervisor=row["supervisor_id"], terms=span)


_KEYS = ("workstation_id", "mentor_id", "supervisor_id", "start_term", "end_term")


# ---- the files against the manifest ----------------------------------------------------------
def _as_written(rerun: Result, name: str, excel_bom: bool, lang: Lang) -> str | None:
    """The text the re-run writes for a table of the folder (None for other files)."""
    frame = {ASSIGNMENTS: rerun.assignments,
             UNASSIGNED: rerun.unassigned_table(lang)}.get(name)
    if frame is None:
        return None
    text = escape_frame(frame).to_csv(index=False, lineterminator="\n")
    return ("\ufeff" if excel_bom else "") + text


def _row_label(line: str) -> str:
    """``row N (id)`` for a data line: its first cell is the student id."""
    try:
        first = next(csv.reader(io.StringIO(line)), [""])
    except csv.Error:
        first = [""]
    return first[0] if first and first[0] else "?"


def _changed_rows(path: Path, expected: str) -> list[str]:
    """The data rows of ``path`` that differ from ``expected`` (``row 3 (S3)``), file order."""
    try:
        have = path.read_bytes().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    want = expected.splitlines()
    rows: list[str] = []
    matcher_ = difflib.SequenceMatcher(a=want, b=have, autojunk=False)
    for op, a1, a2, b1, b2 in matcher_.get_opcodes():
        if op == "equal":
            continue
        for k in range(b1, b2):  # rows of the file that the re-run does not write
            if k > 0:
                rows.append(f"{k} ({_row_label(have[k])})")
        if b1 == b2:  # rows the re-run writes that the file lost
            rows += [f"- ({_row_label(want[k])})" for k in range(a1, a2) if k > 0]
    return rows


def _changed_fields(path: Path, rerun: Result) -> list[str] | None:
    """Summary fields that differ from the re-run's (None: not a JSON object)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    expected = json.loads(json.dumps(rerun.summary()))
    keys = sorted((set(doc) | set(expected)) - set(_VOLATILE))
    return [k for k in keys if doc.get(k) != expected.get(k)]


def _check_files(folder: Path, doc: dict[str, Any], rerun: Result,
                 reproducible: bool) -> list[Message]:
    """Every file of the folder against the manifest's hashes; differences named."""
    outputs: dict[str, str] = doc["outputs"]
    options = doc.get("write_options") or {}
    excel_bom = bool(options.get("excel_bom"))
    lang: Lang = "zh" if options.get("lang") == "zh" else "en"
    found: list[Message] = []
    for name in sorted(outputs):
        path = folder / name
        if not path.is_file():
            found.append(msg("verify.file_missing", file=name))
            continue
        if file_sha256(path) == outputs[name]:
            continue
        expected = _as_written(rerun, name, excel_bom, lang) if reproducible else None
        rows = _changed_rows(path, expected) if expected is not None else []
        fields = _changed_fields(path, rerun) if name == SUMMARY and reproducible else None
        if rows:
            shown = rows[:10] + ([f"… +{len(rows) - 10}"] if len(rows) > 10 else [])
            found.append(msg("verify.file_rows", file=name, rows=shown))
        elif fields:
            found.append(msg("verify.file_fields", file=name, fields=fields))
        else:
            found.append(msg("verify.file_changed", file=name))
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in outputs and path.name not in (MANIFEST, MARKER):
            found.append(msg("verify.file_added", file=path.name))
    return found


# ---- verifying ---------------------------------------------------------------------------------
def verify_result(result_dir: str | os.PathLike[str], scenario: str | None = None, *,
                  log: bool = False) -> VerifyReport:
    """Verify a result folder: every file against its manifest, then a re-run.

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
        ``ok`` when every file has the hash the manifest recorded and every student's
        placement (workstation, mentor, supervisor, terms) is the same in the re-run, or
        unassigned in both.

    Raises
    ------
    ScenarioError
        When the folder or its manifest cannot be read or is damaged, when the scenario cannot
        be read or an input file differs from the run's, or when the recorded solver is not
        registered.
    """
    folder = Path(result_dir)
    if not folder.is_dir():
        raise ScenarioError([msg("verify.not_result_folder", path=str(folder))])
    doc = read_manifest(folder)
    path = _scenario_path(doc, folder, scenario)
    problem = _with_previous(doc, load_scenario(path))
    _check_inputs(doc, problem)
    published = {r["student_id"]: r for r in read_assignments(folder)}
    cfg = doc["solver"]
    if cfg["name"] not in solvers.names():
        raise ScenarioError([msg("verify.solver_unknown", manifest=str(folder / MANIFEST),
                                 solver=cfg["name"], known=solvers.names())])
    options = cfg.get("options") or {}
    stable = {"stable": True} if options.get("stable") is True else {}  # cpsat --stable
    deterministic = cfg.get("deterministic") is True
    policy = options.get("policy") if options.get("policy") in solvers.POLICIES else None
    rank = options.get("rank") if options.get("rank") in solvers.RANK_OBJECTIVES else None
    rerun = solve(problem, cfg["name"], time_limit_s=float(cfg["time_limit_s"]),
                  seed=cfg["seed"], workers=cfg["workers"], log=log, policy=policy,
                  rank_objective=rank,
                  deterministic=deterministic, **stable)
    run = doc["run"]
    cut = not deterministic and (bool(run.get("stopped_by_time_limit"))
                                 or stopped_by_time_limit(rerun))
    report = VerifyReport(str(path), rerun=rerun)
    report.files = _check_files(folder, doc, rerun, reproducible=not cut)
    again = {p.student_id: {k: getattr(p, k) for k in _KEYS} for p in rerun.placements}
    for sid in sorted(set(published) | set(again)):
        old, new = published.get(sid), again.get(sid)
        if old is None or new is None or any(old.get(k, "") != new[k] for k in _KEYS):
            report.students.append(msg("verify.student_differs", student=sid,
                                       before=_describe(old), after=_describe(new)))
    if run.get("stopped_by_time_limit") and not deterministic:
        report.remarks.append(msg("verify.time_limited", severity="note",
                                  status=str(run.get("status")),
                                  seconds=f"{cfg['time_limit_s']:g}"))
    if stopped_by_time_limit(rerun) and not deterministic:
        report.remarks.append(msg("verify.rerun_time_limited", severity="note",
                                  status=rerun.status.value))
    if run.get("status") not in (None, rerun.status.value):
        report.remarks.append(msg("verify.status_differs", severity="note",
                                  then=str(run.get("status")), now=rerun.status.value))
    then = doc.get("versions") or {}
    now = versions()
    changed = [f"{k} {then.get(k)} → {now[k]}" for k in ("matcher", "ortools", "python")
               if then.get(k) not in (None, now[k])]
    if changed:
        report.remarks.append(msg("verify.versions_differ", severity="note", changed=changed))
    return report


def main_lines(report: VerifyReport, lang: Lang = "en") -> list[str]:
    """The lines ``matcher verify`` prints for a report (without the notes): the verdict, then
    at most :data:`MAX_LISTED` differences, indented."""
    r = report.rerun
    placed = r.placed if r is not None else 0
    cost = r.rank_cost if r is not None else 0
    if report.ok:
        return [render(msg("verify.ok", placed=placed, rank_cost=cost), lang)]
    listed = [*report.files, *report.students]
    shown = listed[:MAX_LISTED]
    more = len(listed) - len(shown)
    head = msg("verify.not_ok", files=len(report.files), students=len(report.students),
               placed=placed, rank_cost=cost)
    return [render(head, lang), *(f"  {render(m, lang)}" for m in shown),
            *([f"  {render(msg('verify.more', count=more), lang)}"] if more else [])]
