"""Reading scenarios and writing results: the only place files meet the model.

:func:`load_scenario` reads a scenario folder into a frozen :class:`~matcher.model.Problem`,
collecting *every* input error (up to 50) as one line naming the file, the data row (1-based,
header excluded), the column, the bad value and what to do. :func:`write_result` writes a result
folder atomically: into a temporary sibling folder first, renamed into place when complete.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from .model import (
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Policy,
    Problem,
    ProblemIssue,
    Ranking,
    SolverSettings,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Workstation,
    cross_check,
)

if TYPE_CHECKING:
    from .result import Result

MAX_ERRORS = 50
LIST_SEPARATORS = (";", "；", "、")


class ScenarioError(Exception):
    """Invalid input: carries every message found, one line each (at most ``MAX_ERRORS``)."""

    def __init__(self, messages: list[str]):
        self.messages = messages[:MAX_ERRORS]
        extra = len(messages) - len(self.messages)
        if extra > 0:
            self.messages.append(f"... and {extra} more error(s) not shown")
        super().__init__("\n".join(self.messages))


class ResultExistsError(Exception):
    """The output folder exists and is not empty, and overwriting was not asked for."""


# ---- tables ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Col:
    name: str
    kind: str  # str | int | float | list | opt_str | opt_int | opt_float
    required: bool = True


@dataclass(frozen=True)
class _Table:
    name: str  # the table name used in messages of cross_check
    file: str
    model: type[BaseModel]
    columns: tuple[_Col, ...]
    required_file: bool = True


TABLES: tuple[_Table, ...] = (
    _Table("students", "students.csv", Student, (
        _Col("student_id", "str"), _Col("university_id", "str"), _Col("discipline", "str"),
        _Col("work_experience_years", "float"), _Col("preferences", "list"),
        _Col("supervisor_id", "opt_str"), _Col("priority", "opt_float", False),
        _Col("window_start", "opt_str", False), _Col("window_end", "opt_str", False),
        _Col("required_months", "opt_int", False))),
    _Table("workstations", "workstations.csv", Workstation, (
        _Col("workstation_id", "str"), _Col("disciplines", "list"), _Col("capacity", "int"),
        _Col("partner_universities", "list"), _Col("city", "opt_str", False),
        _Col("lat", "opt_float", False), _Col("lon", "opt_float", False))),
    _Table("mentors", "mentors.csv", Mentor, (
        _Col("mentor_id", "str"), _Col("workstation_id", "str"), _Col("disciplines", "list"),
        _Col("capacity", "int"))),
    _Table("supervisors", "supervisors.csv", Supervisor, (
        _Col("supervisor_id", "str"), _Col("university_id", "str"), _Col("disciplines", "list"),
        _Col("capacity", "int"))),
    _Table("universities", "universities.csv", University, (
        _Col("university_id", "str"), _Col("name", "opt_str", False),
        _Col("city", "opt_str", False)), required_file=False),
    _Table("workstation_terms", "workstation_terms.csv", TermCapacity, (
        _Col("workstation_id", "str"), _Col("term", "str"), _Col("capacity", "int")),
        required_file=False),
    _Table("pairs", "pairs.csv", Pair, (
        _Col("supervisor_id", "str"), _Col("mentor_id", "str"), _Col("weight", "float")),
        required_file=False),
    _Table("locks", "locks.csv", Lock, (
        _Col("student_id", "str"), _Col("workstation_id", "str"),
        _Col("mentor_id", "opt_str", False), _Col("start_term", "opt_str", False)),
        required_file=False),
    _Table("rankings", "rankings.csv", Ranking, (
        _Col("workstation_id", "str"), _Col("student_id", "str"), _Col("rank", "int")),
        required_file=False),
)
FILE_OF = {t.name: t.file for t in TABLES} | {"scenario": "scenario.yaml"}
_FIELD_OF = {"workstation_terms": "term_capacities"}  # table name -> Problem field


def _decode(raw: bytes, file: str, errors: list[str]) -> str | None:
    """UTF-8 (with or without BOM), else GB18030 as saved by Chinese Excel; else an error."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        errors.append(f"{file}: not readable as UTF-8 or GB18030 text (byte "
                      f"{utf8_error.start}); save it as CSV UTF-8 from your spreadsheet program")
        return None


def _number(text: str, kind: str) -> float | int:
    """Parse a cell as int or float; raise ValueError with a user-facing reason."""
    t = text.strip().replace(",", "") if kind == "int" else text.strip()
    if kind == "int":
        try:
            return int(t)
        except ValueError:
            pass
        try:
            f = float(t)
        except ValueError:
            raise ValueError("not a whole number") from None
        if math.isfinite(f) and f == int(f):
            return int(f)
        raise ValueError("not a whole number")
    try:
        f = float(t)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(f):
        raise ValueError("not a finite number")
    return f


def _split_list(text: str) -> list[str]:
    for sep in LIST_SEPARATORS[1:]:
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [x.strip() for x in text.split(LIST_SEPARATORS[0]) if x.strip()]


def _rows(text: str) -> Iterator[list[str]]:
    yield from csv.reader(_io.StringIO(text, newline=""))


def _read_table(folder: Path, table: _Table, errors: list[str],
                hashes: dict[str, str]) -> list[Any] | None:
    """Read one CSV into model objects (source order), appending located errors."""
    path = folder / table.file
    if not path.is_file():
        if table.required_file:
            errors.append(f"{table.file}: missing file; every scenario needs {table.file} "
                          f"in {folder}")
        return None if table.required_file else []
    raw = path.read_bytes()
    hashes[table.file] = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, table.file, errors)
    if text is None:
        return None
    try:
        rows = list(_rows(text))
    except csv.Error as e:
        errors.append(f"{table.file}: not valid CSV ({e}); check quotes and separators")
        return None
    rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are not rows
    if not rows:
        errors.append(f"{table.file}: the file is empty; it needs a header row and data rows")
        return None
    header = [h.strip() for h in rows[0]]
    missing = [c.name for c in table.columns if c.required and c.name not in header]
    for name in missing:
        errors.append(f"{table.file}: missing column '{name}'; the header must name "
                      + ", ".join(c.name for c in table.columns if c.required))
    dup = sorted({h for h in header if h and header.count(h) > 1})
    for name in dup:
        errors.append(f"{table.file}: column '{name}' appears twice in the header; keep one")
    if missing or dup:
        return None
    where = {c.name: header.index(c.name) for c in table.columns if c.name in header}
    data = rows[1:]
    if not data and table.required_file:
        errors.append(f"{table.file}: no data rows; add at least one row under the header")
        return None
    out: list[Any] = []
    for r, row in enumerate(data, start=1):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            errors.append(f"{table.file} row {r}: {len(row)} cells but the header has "
                          f"{len(header)}; remove the extra cells or quote cells with commas")
            out.append(None)
            continue
        values: dict[str, Any] = {}
        ok = True
        for col in table.columns:
            k = where.get(col.name)
            cell = row[k].strip() if k is not None and k < len(row) else ""
            if col.kind == "list":
                values[col.name] = tuple(_split_list(cell))
                continue
            if cell == "":
                if col.kind in ("str", "int", "float"):
                    errors.append(f"{table.file} row {r}, {col.name}: empty; give a value")
                    ok = False
                continue  # optional: model default
            if col.kind in ("str", "opt_str"):
                values[col.name] = cell
                continue
            try:
                values[col.name] = _number(cell, "int" if col.kind.endswith("int") else "float")
            except ValueError as e:
                errors.append(f"{table.file} row {r}, {col.name}: '{cell}' is {e}; "
                              "give a plain number")
                ok = False
        if not ok:
            out.append(None)  # keep row numbering aligned, as for model errors below
            continue
        try:
            out.append(table.model.model_validate(values))
        except ValidationError as e:
            for err in e.errors():
                col_name = str(err["loc"][0]) if err["loc"] else "?"
                val = values.get(col_name, "")
                shown = ";".join(val) if isinstance(val, tuple) else val
                errors.append(f"{table.file} row {r}, {col_name}: '{shown}' {_reason(err)}")
            out.append(None)  # keep row numbering aligned; dropped before building the problem
    return out


def _reason(err: Any) -> str:
    """Turn a pydantic error into a short instruction."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        return f"is too small; give a value {'>=' if 'ge' in ctx else '>'} {bound}"
    if kind in ("less_than_equal", "less_than"):
        bound = ctx.get("le", ctx.get("lt"))
        return f"is too large; give a value <= {bound}"
    if kind == "too_short":
        return "is empty; give at least one value"
    return f"is invalid ({err.get('msg', kind)})"


_SCENARIO_KEYS = {"name", "terms", "term_months", "policy", "solver", "objective", "description"}


def _read_yaml(folder: Path, errors: list[str], hashes: dict[str, str]) -> dict[str, Any] | None:
    path = folder / "scenario.yaml"
    if not path.is_file():
        errors.append("scenario.yaml: missing file; every scenario needs scenario.yaml in "
                      f"{folder}")
        return None
    raw = path.read_bytes()
    hashes["scenario.yaml"] = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, "scenario.yaml", errors)
    if text is None:
        return None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        errors.append(f"scenario.yaml{line}: not valid YAML; check indentation and colons")
        return None
    if not isinstance(doc, dict):
        errors.append("scenario.yaml: expected keys such as name, terms, policy; got "
                      f"{type(doc).__name__}")
        return None
    for key in sorted(set(map(str, doc)) - _SCENARIO_KEYS):
        errors.append(f"scenario.yaml, {key}: unknown key; use one of "
                      + ", ".join(sorted(_SCENARIO_KEYS)))
    out: dict[str, Any] = {"name": str(doc.get("name") or folder.name)}
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms or not all(
            isinstance(t, str | int) and str(t).strip() for t in terms):
        errors.append("scenario.yaml, terms: give a non-empty list of term labels in calendar "
                      "order, e.g. [2026-autumn, 2027-spring]")
    else:
        out["terms"] = tuple(str(t).strip() for t in terms)
    if "term_months" in doc:
        out["term_months"] = doc["term_months"]
    for key, model in (("policy", Policy), ("solver", SolverSettings),
                       ("objective", ObjectiveSettings)):
        section = doc.get(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            errors.append(f"scenario.yaml, {key}: expected a mapping of settings")
            continue
        if key == "policy" and "window" in section and section["window"] is not None:
            win = section["window"]
            if not (isinstance(win, list) and len(win) == 2):
                errors.append("scenario.yaml, policy.window: give [first_term, last_term]")
                continue
            section = {**section, "window": tuple(str(t) for t in win)}
        try:
            out[key] = model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"])
                msg = "unknown setting" if err["type"] == "extra_forbidden" else _reason(err)
                errors.append(f"scenario.yaml, {key}.{loc}: {msg}")
    if "term_months" in out and (not isinstance(out["term_months"], int)
                                 or isinstance(out["term_months"], bool)
                                 or not 1 <= out["term_months"] <= 24):
        errors.append("scenario.yaml, term_months: give a whole number of months from 1 to 24")
    return out


def _issue_line(issue: ProblemIssue) -> str:
    file = FILE_OF.get(issue.table, issue.table)
    row = f" row {issue.row + 1}" if issue.row is not None else ""
    col = f", {issue.column}" if issue.column else ""
    return f"{file}{row}{col}: {issue.message}"


# table -> tables its rows refer to (a dropped row there could make a reference look unknown)
_REFERS: dict[str, set[str]] = {
    "students": {"universities", "supervisors", "workstations"},
    "workstations": {"universities", "supervisors"},
    "mentors": {"workstations"},
    "supervisors": {"universities"},
    "workstation_terms": {"workstations"},
    "pairs": {"supervisors", "mentors"},
    "locks": {"students", "workstations", "mentors", "workstation_terms", "supervisors",
              "universities"},
    "rankings": {"workstations", "students"},
}


def _partial_cross_check(settings: dict[str, Any], tables: dict[str, Any]) -> list[str]:
    """Cross-table issues that cell errors elsewhere cannot have caused (row numbers exact)."""
    dropped = {k for k, v in tables.items() if any(x is None for x in v)}
    fields: dict[str, Any] = dict(settings)
    for k, v in tables.items():
        fields[_FIELD_OF.get(k, k)] = tuple(x for x in v if x is not None)
    try:
        partial = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError:
        return []
    return [_issue_line(i) for i in cross_check(partial)
            if i.table not in dropped and not (_REFERS.get(i.table, set()) & dropped)]


def load_scenario(path: str | os.PathLike[str]) -> Problem:
    """Read and validate a scenario folder.

    Parameters
    ----------
    path
        A folder holding ``scenario.yaml``, ``students.csv``, ``workstations.csv``,
        ``mentors.csv``, ``supervisors.csv`` and optionally ``universities.csv``,
        ``workstation_terms.csv``, ``pairs.csv``, ``locks.csv``, ``rankings.csv``.

    Returns
    -------
    Problem
        The frozen, validated problem.

    Raises
    ------
    ScenarioError
        With every input error found (up to 50), one line each.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a scenario folder (it does not exist or is a "
                             "file); give the folder holding scenario.yaml and the CSVs"])
    errors: list[str] = []
    hashes: dict[str, str] = {}
    settings = _read_yaml(folder, errors, hashes)
    tables = {t.name: _read_table(folder, t, errors, hashes) for t in TABLES}
    if errors or settings is None or any(v is None for v in tables.values()):
        if settings is not None and all(v is not None for v in tables.values()):
            errors += _partial_cross_check(settings, tables)
        raise ScenarioError(errors or ["scenario could not be read"])
    assert all(v is not None for v in tables.values())
    if any(x is None for v in tables.values() for x in v or ()):
        raise ScenarioError(errors)
    digest = hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()
    fields: dict[str, Any] = {**settings, "input_sha256": digest}
    for k, v in tables.items():
        fields[_FIELD_OF.get(k, k)] = tuple(v or ())
    try:
        unchecked = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError as e:
        raise ScenarioError([f"scenario.yaml, {'.'.join(map(str, err['loc']))}: {_reason(err)}"
                             for err in e.errors()]) from None
    issues = cross_check(unchecked)
    if issues:
        raise ScenarioError([_issue_line(i) for i in issues])
    return unchecked


# ---- results --------------------------------------------------------------------------------
def check_out_dir(out: str | os.PathLike[str], force: bool) -> None:
    """Refuse an existing non-empty output folder unless ``force``.

    Raises
    ------
    ResultExistsError
        When the folder exists, is not empty and ``force`` is false.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise ResultExistsError(f"{out}: already exists and is not empty; choose another --out "
                                "or pass --force to replace it")


def atomic_folder(out: str | os.PathLike[str], force: bool,
                  fill: Callable[[Path], object]) -> Path:
    """Write a folder via a temporary sibling and a rename; never leave it half-written.

    ``fill`` writes the content into the temporary folder it is given.
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


def write_result(result: Result, out_dir: str | os.PathLike[str], *, force: bool = False,
                 excel_bom: bool = False) -> Path:
    """Write ``assignments.csv``, ``unassigned.csv`` and ``summary.json`` atomically.

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

    Returns
    -------
    Path
        The folder written.
    """
    encoding = "utf-8-sig" if excel_bom else "utf-8"

    def fill(tmp: Path) -> None:
        result.assignments.to_csv(tmp / "assignments.csv", index=False, lineterminator="\n",
                                  encoding=encoding)
        result.unassigned_frame.to_csv(tmp / "unassigned.csv", index=False, lineterminator="\n",
                                       encoding=encoding)
        (tmp / "summary.json").write_text(
            json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    return atomic_folder(out_dir, force, fill)


def read_assignments(result_dir: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Read a result folder's ``assignments.csv`` as plain rows of strings.

    Raises
    ------
    ScenarioError
        When the file is missing or lacks a required column.
    """
    path = Path(result_dir) / "assignments.csv"
    if not path.is_file():
        raise ScenarioError([f"{path}: missing file; give a result folder written by "
                             "matcher solve"])
    errors: list[str] = []
    text = _decode(path.read_bytes(), "assignments.csv", errors)
    if text is None:
        raise ScenarioError(errors)
    rows = list(csv.DictReader(_io.StringIO(text, newline="")))
    need = ("student_id", "workstation_id", "mentor_id", "supervisor_id", "start_term",
            "end_term")
    header = rows[0].keys() if rows else next(_rows(text), [])
    missing = [c for c in need if c not in header]
    if missing:
        raise ScenarioError([f"assignments.csv: missing column(s) {', '.join(missing)}"])
    return [{k: (v or "").strip() for k, v in r.items() if k is not None} for r in rows]
