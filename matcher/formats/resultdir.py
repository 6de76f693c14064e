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
import errno
import io as _io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..messages import Lang, Message, msg
from ..model import Placement, Problem, Result, ScenarioError, Status
from ..model.result import TERM_SEPARATOR
from .cells import MAX_FILE_BYTES, decode, show
from .escape import escape_frame, unescape_cell
from .interrupt import finish_first
from .lock import claim
from .output import (
    Input,
    OutputError,
    ResultExistsError,
    check_output,
    problem_inputs,
    recheck_output,
    write_marker,
)
from .tables import csv_rows

__all__ = ["ASSIGNMENTS", "SUMMARY", "UNASSIGNED", "OutputError", "ResultExistsError",
           "ResultWriter", "atomic_folder", "check_out_dir", "read_assignments", "read_result",
           "read_summary", "read_unassigned", "result_folder", "result_size_estimate",
           "write_result_files"]

ASSIGNMENTS = "assignments.csv"
"""The placements, one row per placed student (:data:`~matcher.model.result.ASSIGNMENT_COLUMNS`)."""
UNASSIGNED = "unassigned.csv"
"""The students not placed, with the reason."""
SUMMARY = "summary.json"
"""The result's figures and claims (:meth:`~matcher.model.Result.summary`)."""


# ---- writing ---------------------------------------------------------------------------------
def check_out_dir(out: str | os.PathLike[str], force: bool,
                  inputs: Iterable[Input] = ()) -> Path:
    """Refuse an output folder that may not or cannot be written (see
    :func:`matcher.formats.output.check_output`); the folder to write.

    Raises
    ------
    ResultExistsError
        When the folder exists, is not empty and ``force`` is false.
    OutputError
        For every other reason (an input, not matcher's, not writable, ...).
    """
    return check_output(out, inputs, force=force)


def _swap(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` in place of ``target`` (which may exist)."""
    if not os.path.lexists(target):
        os.rename(tmp, target)  # fails if another program made a non-empty folder meanwhile
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / "x")
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old / "x", target)  # put the previous folder back
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


def atomic_folder(out: str | os.PathLike[str], force: bool,
                  fill: Callable[[Path], object], *, kind: str = "result",
                  inputs: Iterable[Input] = (),
                  legacy: Callable[[Path], bool] | None = None) -> Path:
    """Write a folder via a temporary sibling and a rename; never leave it half-written.

    ``fill`` writes the content into the temporary folder it is given. The output is checked
    (:func:`matcher.formats.output.check_output`: not an input, replaced only if matcher wrote
    it, writable) and claimed (:func:`matcher.formats.lock.claim`) for the whole write,
    checked again just before the rename, and marked as matcher's (a result folder by its
    ``manifest.json``, any other by :func:`matcher.formats.output.write_marker`). A signal
    during the write lets it finish first (:func:`matcher.formats.interrupt.finish_first`); a
    second one abandons it, and nothing is left behind.

    Parameters
    ----------
    out
        The folder.
    force
        Replace an existing non-empty folder that matcher wrote.
    fill
        Writes the content.
    kind
        What the folder is, for its marker (``result``, ``scenario``, ``comparison``, ...).
    inputs
        The inputs of the command, ``(path, role)``: the folder may not be, hold or lie in one.
    legacy
        Recognises a folder of this kind written by an older matcher (without the marker).

    Returns
    -------
    Path
        The folder written (absolute, symbolic links resolved).

    Raises
    ------
    ResultExistsError
        When ``out`` exists, is not empty and ``force`` is false.
    OutputError
        When it may not or cannot be written, or writing failed (nothing is written then).
    matcher.formats.interrupt.Interrupted
        A signal arrived: ``completed`` is the folder if it was finished first, else None.
    """
    inputs = list(inputs)
    target = check_output(out, inputs, force=force, legacy=legacy)
    with claim(target):
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent))
        try:
            os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes it private; a folder honours umask
            with finish_first(target):
                fill(tmp)
                if kind != "result":  # a result folder's manifest.json marks it as matcher's
                    write_marker(tmp, kind)
                recheck_output(target, force, legacy)
                _swap(tmp, target)
        except OSError as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST) and os.path.lexists(target):
                recheck_output(target, force, legacy)  # says another program wrote there
            raise OutputError(target, [msg("out.write_failed", path=str(target),
                                           reason=e.strerror or str(e))]) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import (setting it is not thread-safe)


def result_size_estimate(students: int) -> int:
    """Bytes a result folder of ``students`` students may take (a generous estimate: about
    400 bytes a student are written, in the CSVs, the workbook and the report)."""
    return 1 << 20 if students <= 0 else (1 << 20) + 1024 * students


ResultWriter = Callable[[Result, Problem | None, Path], object]
"""Writes one more file of a result folder: ``writer(result, problem, tmp_dir)``."""


def write_result_files(result: Result, out_dir: str | os.PathLike[str], *,
                       force: bool = False, excel_bom: bool = False,
                       problem: Problem | None = None,
                       writers: Sequence[ResultWriter] = (),
                       inputs: Iterable[Input] = (), lang: Lang = "en") -> Path:
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
    inputs
        More inputs the folder may not touch, besides the problem's scenario and
        ``--previous`` result (see :func:`atomic_folder`).
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
    OutputError
        When ``out_dir`` may not or cannot be written (see :func:`atomic_folder`).
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

    return atomic_folder(out_dir, force, fill, kind="result",
                         inputs=[*problem_inputs(problem), *inputs])


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
        raise ScenarioError([msg("result.not_folder", path=str(folder))])
    return folder


def _text_of(path: Path, name: str) -> str:
    """A result folder's CSV as text (size-limited, decoded as the loader decodes)."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([msg("result.bad_csv", path=str(path),
                                 reason=msg("result.too_large", size=MAX_FILE_BYTES >> 20))])
    errors: list[Any] = []
    text = decode(path.read_bytes(), name, errors)
    if text is None:
        raise ScenarioError(errors)
    return text


def _dict_rows(text: str, path: Path) -> list[dict[str, Any]]:
    """The rows of a result CSV as dicts, or ScenarioError naming what is wrong."""
    try:
        return list(csv.DictReader(_io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ScenarioError([msg("result.bad_csv", path=str(path), reason=str(e))]) from None


def read_assignments(result_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a result folder's ``assignments.csv`` as plain rows of strings (ids unescaped).

    Raises
    ------
    ScenarioError
        When the file is missing or lacks a required column.
    """
    path = Path(result_dir) / ASSIGNMENTS
    if not path.is_file():
        raise ScenarioError([msg("result.missing_file", path=str(path))])
    text = _text_of(path, ASSIGNMENTS)
    rows = _dict_rows(text, path)
    need = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
            "end_term")
    header = rows[0].keys() if rows else next(csv_rows(text), [])
    missing = [c for c in need if c not in header]
    if missing:
        raise ScenarioError([msg("result.missing_columns", file=ASSIGNMENTS, columns=missing)])
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
    text = _text_of(path, str(path))
    rows = _dict_rows(text, path)
    header = rows[0].keys() if rows else next(csv_rows(text), [])
    if "student_id" not in header:
        raise ScenarioError([msg("result.missing_student_id", path=str(path))])
    out = []
    for row in rows:
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
            raise ScenarioError([msg("result.missing_file", path=str(path))])
        return {}
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([msg("result.not_json", path=str(path),
                                 reason=msg("result.too_large", size=MAX_FILE_BYTES >> 20))])
    try:
        summary = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        # The JSON reader's own reason (line and column) is technical but exact: kept as is.
        reason = msg("result.too_deep") if isinstance(e, RecursionError) else str(e)
        raise ScenarioError([msg("result.not_json", path=str(path), reason=reason)]) from None
    if not isinstance(summary, dict):
        raise ScenarioError([msg("result.not_object", path=str(path))])
    return summary


_SUMMARY_KINDS: dict[str, str] = {
    "solver": "text", "rank_cost": "whole", "pair_weight": "number",
    "placed_upper_bound": "whole", "rank_cost_lower_bound": "whole", "wall_seconds": "number",
    "seed": "whole", "workers": "whole", "time_limit_s": "number", "input_sha256": "text",
    "stats": "map", "message": "text"}
"""The fields of ``summary.json`` a :class:`Result` is rebuilt from, and their kind."""


def _summary_kind(value: Any, kind: str) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "map":
        return isinstance(value, dict)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value < 0:
        return False
    return kind == "number" or (isinstance(value, int) or float(value).is_integer())


def _summary_problems(summary: dict[str, Any], path: Path) -> list[str | Message]:
    """One message per field of the summary that is of the wrong kind."""
    labels = {"text": msg("kind.text"), "whole": msg("kind.whole"),
              "number": msg("kind.number"), "map": msg("kind.map")}
    found: list[str | Message] = []
    if summary.get("status") not in {s.value for s in Status}:
        found.append(msg("result.summary_status", path=str(path),
                         value=show(str(summary.get("status"))),
                         allowed=[s.value for s in Status]))
    for key, kind in _SUMMARY_KINDS.items():
        value = summary.get(key)
        if value is not None and not _summary_kind(value, kind):
            found.append(msg("result.summary_field", path=str(path), field=key,
                             expected=labels[kind], value=show(json.dumps(value)[:40])))
    return found


def read_result(result_dir: str | os.PathLike[str]) -> Result:
    """Rebuild a :class:`~matcher.model.Result` from a folder written by ``matcher solve``.

    Reads ``assignments.csv``, ``unassigned.csv`` and ``summary.json``; placements and
    unassigned students come back sorted by student id, the summary's figures as written.

    Raises
    ------
    ScenarioError
        When a file is missing or unreadable, or a field of ``summary.json`` is of the wrong
        kind, naming the file (and the field) and what to do.
    """
    folder = result_folder(result_dir)
    rows = read_assignments(folder)
    summary = read_summary(folder)
    wrong = _summary_problems(summary, folder / SUMMARY)
    if wrong:
        raise ScenarioError(wrong)
    status = Status(str(summary.get("status")))
    placements = []
    for r, row in enumerate(rows, start=1):
        rank_text = row.get("preference_rank", "")
        try:
            rank = int(float(rank_text)) if rank_text not in ("", "<NA>", "nan") else None
        except (ValueError, OverflowError):
            raise ScenarioError([msg("result.bad_rank", file=ASSIGNMENTS, row=r,
                                     value=show(rank_text))]) from None
        placements.append(Placement(
            student_id=row["student_id"], workstation_id=row["workstation_id"],
            mentor_id=row["mentor_id"], supervisor_id=row["supervisor_id"],
            start_term=row["start_term"], end_term=row["end_term"], preference_rank=rank,
            terms=tuple(t.strip() for t in (row.get("terms") or "").split(TERM_SEPARATOR)
                        if t.strip())))
    unassigned = read_unassigned(folder)

    def num(key: str, default: Any = None) -> Any:
        value = summary.get(key, default)
        return default if value is None else value

    return Result(
        solver=str(num("solver", "?")), status=status,
        placements=tuple(sorted(placements, key=lambda p: p.student_id)),
        unassigned=tuple(sorted(unassigned)), placed=len(placements),
        rank_cost=int(num("rank_cost", 0)), pair_weight=float(num("pair_weight", 0.0)),
        placed_upper_bound=_whole(summary.get("placed_upper_bound")),
        rank_cost_lower_bound=_whole(summary.get("rank_cost_lower_bound")),
        wall_seconds=float(num("wall_seconds", 0.0)), seed=int(num("seed", 0)),
        workers=int(num("workers", 1)), time_limit_s=float(num("time_limit_s", 0.0)),
        input_sha256=str(num("input_sha256", "")), stats=dict(num("stats", {}) or {}),
        message=str(num("message", "")), deterministic=summary.get("deterministic") is True,
        work_seconds=None if summary.get("work_seconds") is None else float(
            num("work_seconds", 0.0)),
        quotas=tuple(q for q in summary.get("quotas") or () if isinstance(q, dict)))


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)
