"""The one result-folder module: writing a result folder atomically, and reading it back.

A result folder holds ``assignments.csv``, ``unassigned.csv`` and ``summary.json`` (written
here, by :func:`write_result_files`) and the files of the writers it is given (``results.xlsx``,
``report.html``, ``manifest.json``: :func:`matcher.write_result` composes them). Text cells of
the CSVs are escaped against formula injection (:func:`matcher.formats.escape.escape_cell`)
and unescaped when read. Every reader of result folders comes here: the checker, the reports,
compare, rolling cohorts, verify and resolve.

* :func:`read_assignments`: ``assignments.csv`` as rows of strings (what the checker checks);
* :func:`read_unassigned`: ``unassigned.csv`` as ``(student_id, reason)`` pairs;
* :func:`read_summary`: ``summary.json`` (the figures the result claims);
* :func:`read_result`: all three as a :class:`~matcher.model.Result`.

Folders are written through :func:`atomic_folder`: into a temporary sibling first, renamed into
place when complete, so a folder is never left half-written.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..messages import Lang
from ..model import Placement, Problem, Result, ScenarioError, Status
from .cells import decode
from .escape import escape_frame, unescape_cell
from .tables import csv_rows

__all__ = ["ASSIGNMENTS", "SUMMARY", "UNASSIGNED", "ResultExistsError", "ResultWriter",
           "atomic_folder", "check_out_dir", "read_assignments", "read_result", "read_summary",
           "read_unassigned", "result_folder", "write_result_files"]

ASSIGNMENTS = "assignments.csv"
"""The placements, one row per placed student (:data:`~matcher.model.result.ASSIGNMENT_COLUMNS`)."""
UNASSIGNED = "unassigned.csv"
"""The students not placed, with the reason."""
SUMMARY = "summary.json"
"""The result's figures and claims (:meth:`~matcher.model.Result.summary`)."""


class ResultExistsError(Exception):
    """The output folder exists and is not empty, and overwriting was not asked for.

    Attributes
    ----------
    path
        The folder.
    """

    def __init__(self, path: Path):
        self.path = path
        super().__init__(f"{path}: already exists and is not empty; choose another folder or "
                         "pass force=True to replace it")


# ---- writing ---------------------------------------------------------------------------------
def check_out_dir(out: str | os.PathLike[str], force: bool) -> None:
    """Refuse an existing non-empty output folder unless ``force``.

    Raises
    ------
    ResultExistsError
        When the folder exists, is not empty and ``force`` is false.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ResultExistsError(out)


def atomic_folder(out: str | os.PathLike[str], force: bool,
                  fill: Callable[[Path], object]) -> Path:
    """Write a folder via a temporary sibling and a rename; never leave it half-written.

    ``fill`` writes the content into the temporary folder it is given.

    Raises
    ------
    ResultExistsError
        When ``out`` exists, is not empty and ``force`` is false.
    """
    out = Path(out)
    check_out_dir(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        fill(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


ResultWriter = Callable[[Result, Problem | None, Path], object]
"""Writes one more file of a result folder: ``writer(result, problem, tmp_dir)``."""


def write_result_files(result: Result, out_dir: str | os.PathLike[str], *,
                       force: bool = False, excel_bom: bool = False,
                       problem: Problem | None = None,
                       writers: Sequence[ResultWriter] = (), lang: Lang = "en") -> Path:
    """Write a result folder atomically: the CSVs and ``summary.json``, then ``writers``.

    Parameters
    ----------
    result
        A solver's result.
    out_dir
        The result folder; must not exist or be empty unless ``force``.
    force
        Replace an existing folder (atomically).
    excel_bom
        Write CSVs as UTF-8 with a byte-order mark, so Excel opens them correctly.
    problem
        The problem solved, handed to the writers (None when unknown).
    writers
        :data:`ResultWriter` callables, run in order inside the temporary folder after the
        CSVs and ``summary.json``.
    lang
        The language of the reasons in ``unassigned.csv`` (``"zh"`` or ``"en"``); the column
        names stay in English (other programs read them).

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    ResultExistsError
        When ``out_dir`` exists, is not empty and ``force`` is false.
    """
    encoding = "utf-8-sig" if excel_bom else "utf-8"

    def fill(tmp: Path) -> None:
        escape_frame(result.assignments).to_csv(tmp / ASSIGNMENTS, index=False,
                                                lineterminator="\n", encoding=encoding)
        escape_frame(result.unassigned_table(lang)).to_csv(tmp / UNASSIGNED, index=False,
                                                     lineterminator="\n", encoding=encoding)
        (tmp / SUMMARY).write_text(
            json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for writer in writers:
            writer(result, problem, tmp)

    return atomic_folder(out_dir, force, fill)


# ---- reading ---------------------------------------------------------------------------------
def result_folder(path: str | os.PathLike[str]) -> Path:
    """The path as a result folder.

    Raises
    ------
    ScenarioError
        When it is not a folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a result folder; give a folder written by "
                             "matcher solve"])
    return folder


def read_assignments(result_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a result folder's ``assignments.csv`` as plain rows of strings (ids unescaped).

    Raises
    ------
    ScenarioError
        When the file is missing or lacks a required column.
    """
    path = Path(result_dir) / ASSIGNMENTS
    if not path.is_file():
        raise ScenarioError([f"{path}: missing file; give a result folder written by "
                             "matcher solve"])
    errors: list[Any] = []
    text = decode(path.read_bytes(), ASSIGNMENTS, errors)
    if text is None:
        raise ScenarioError(errors)
    rows = list(csv.DictReader(_io.StringIO(text, newline="")))
    need = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
            "end_term")
    header = rows[0].keys() if rows else next(csv_rows(text), [])
    missing = [c for c in need if c not in header]
    if missing:
        raise ScenarioError([f"{ASSIGNMENTS}: missing column(s) {', '.join(missing)}"])
    return [{k: unescape_cell((v or "").strip()) for k, v in r.items() if k is not None}
            for r in rows]


def read_unassigned(result_dir: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a result folder's ``unassigned.csv``: ``(student_id, reason)`` pairs in file order.

    Ids and reasons are unescaped; rows without a student id are left out; a folder without
    the file gives an empty list.

    Raises
    ------
    ScenarioError
        When the file cannot be decoded or lacks the ``student_id`` column.
    """
    path = Path(result_dir) / UNASSIGNED
    if not path.is_file():
        return []
    errors: list[Any] = []
    text = decode(path.read_bytes(), str(path), errors)
    if text is None:
        raise ScenarioError(errors)
    reader = csv.DictReader(_io.StringIO(text, newline=""))
    if reader.fieldnames is None or "student_id" not in reader.fieldnames:
        raise ScenarioError([f"{path}: missing column student_id; give the file written by "
                             "matcher solve"])
    out = []
    for row in reader:
        sid = unescape_cell((row.get("student_id") or "").strip())
        if sid:
            out.append((sid, unescape_cell((row.get("reason") or "").strip())))
    return out


def read_summary(result_dir: str | os.PathLike[str], *, required: bool = True
                 ) -> dict[str, Any]:
    """Read a result folder's ``summary.json`` (the figures the result claims).

    Parameters
    ----------
    result_dir
        The folder.
    required
        Whether a folder without the file is an error (else: an empty mapping).

    Raises
    ------
    ScenarioError
        When the file is missing (and required), not JSON, or not a JSON object.
    """
    path = Path(result_dir) / SUMMARY
    if not path.is_file():
        if required:
            raise ScenarioError([f"{path}: missing file; give a result folder written by "
                                 "matcher solve"])
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError([f"{path}: not valid JSON ({e}); give the file written by "
                             "matcher solve"]) from None
    if not isinstance(summary, dict):
        raise ScenarioError([f"{path}: expected a JSON object; give the file written by "
                             "matcher solve"])
    return summary


def read_result(result_dir: str | os.PathLike[str]) -> Result:
    """Rebuild a :class:`~matcher.model.Result` from a folder written by ``matcher solve``.

    Reads ``assignments.csv``, ``unassigned.csv`` and ``summary.json``; placements and
    unassigned students come back sorted by student id, the summary's figures as written.

    Raises
    ------
    ScenarioError
        When a file is missing or unreadable, naming the file and what to do.
    """
    folder = result_folder(result_dir)
    rows = read_assignments(folder)
    summary = read_summary(folder)
    try:
        status = Status(str(summary.get("status")))
    except ValueError:
        raise ScenarioError([f"{folder / SUMMARY}, status: '{summary.get('status')}' is not "
                             "one of " + ", ".join(s.value for s in Status)]) from None
    placements = []
    for r, row in enumerate(rows, start=1):
        rank_text = row.get("preference_rank", "")
        try:
            rank = int(float(rank_text)) if rank_text not in ("", "<NA>", "nan") else None
        except ValueError:
            raise ScenarioError([f"{ASSIGNMENTS} row {r}, preference_rank: '{rank_text}' is "
                                 "not a whole number"]) from None
        placements.append(Placement(
            student_id=row["student_id"], workstation_id=row["workstation_id"],
            mentor_id=row["mentor_id"], supervisor_id=row["supervisor_id"],
            start_term=row["start_term"], end_term=row["end_term"], preference_rank=rank))
    unassigned = read_unassigned(folder)

    def num(key: str, default: Any = None) -> Any:
        value = summary.get(key, default)
        return default if value is None else value

    return Result(
        solver=str(num("solver", "?")), status=status,
        placements=tuple(sorted(placements, key=lambda p: p.student_id)),
        unassigned=tuple(sorted(unassigned)), placed=len(placements),
        rank_cost=int(num("rank_cost", 0)), pair_weight=float(num("pair_weight", 0.0)),
        placed_upper_bound=summary.get("placed_upper_bound"),
        rank_cost_lower_bound=summary.get("rank_cost_lower_bound"),
        wall_seconds=float(num("wall_seconds", 0.0)), seed=int(num("seed", 0)),
        workers=int(num("workers", 1)), time_limit_s=float(num("time_limit_s", 0.0)),
        input_sha256=str(num("input_sha256", "")), stats=dict(num("stats", {}) or {}),
        message=str(num("message", "")))
