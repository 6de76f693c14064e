"""Scenarios in and out: :func:`load_scenario` reads one, :func:`write_scenario` writes one.

:func:`load_scenario` reads a scenario (a folder of CSVs, or one ``.xlsx`` workbook) into a
frozen :class:`~matcher.model.Problem`, collecting *every* input error (up to 50) as one line
naming the file, the data row (1-based, header excluded; a workbook names the sheet and Excel's
row number), the column, the bad value and what to do. Headers may use the aliases of
:mod:`matcher.formats.aliases`. A scenario's ``occupancy.csv`` (places earlier cohorts use) is
subtracted from the capacities (:func:`matcher.model.capacity.apply_occupancy`).
:func:`write_scenario` writes a problem as a scenario folder that :func:`load_scenario` reads
back.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..model import Problem, ScenarioError
from ..model.capacity import Occupancy, apply_occupancy
from ..model.problem import checked_problem, cross_check
from .cells import show
from .language import scenario_language
from .locations import Source
from .schema import FIELD_OF, TABLES
from .settings import read_yaml
from .settings import settings as settings_of
from .tables import read_table, table_rows
from .workbook import find_workbook, read_workbook

__all__ = ["load_scenario", "write_scenario"]


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


def _partial_cross_check(settings: dict[str, Any], tables: dict[str, Any],
                         src: Source) -> list[str]:
    """Cross-table issues that cell errors elsewhere cannot have caused (row numbers exact)."""
    dropped = {k for k, v in tables.items() if any(x is None for x in v)}
    fields: dict[str, Any] = dict(settings)
    for k, v in tables.items():
        fields[FIELD_OF.get(k, k)] = tuple(x for x in v if x is not None)
    try:
        partial = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError:
        return []
    return [src.line(i) for i in cross_check(partial)
            if i.table not in dropped and not (_REFERS.get(i.table, set()) & dropped)]


def load_scenario(path: str | os.PathLike[str], *, occupancy: bool = True) -> Problem:
    """Read and validate a scenario: a folder of CSVs, or one ``.xlsx`` workbook.

    Parameters
    ----------
    path
        A folder holding ``scenario.yaml``, ``students.csv``, ``workstations.csv``,
        ``mentors.csv``, ``supervisors.csv`` and optionally ``universities.csv``,
        ``workstation_terms.csv``, ``pairs.csv``, ``locks.csv``, ``rankings.csv``,
        ``occupancy.csv``; or an ``.xlsx`` workbook with a sheet per table, or a folder holding
        one such workbook and no CSV tables (see :mod:`matcher.formats.workbook`). Headers may
        use the aliases of :mod:`matcher.formats.aliases`.
    occupancy
        Subtract ``occupancy.csv`` from the capacities (the default); False gives the full
        capacities (to edit the scenario, see :mod:`matcher.planning.variant`).

    Returns
    -------
    Problem
        The frozen, validated problem.

    Raises
    ------
    ScenarioError
        With every input error found (up to 50), one line each.
    """
    problem = _load(Path(path), occupancy=occupancy)
    return problem.model_copy(update={"language": scenario_language(path)})


def _load(folder: Path, *, occupancy: bool) -> Problem:
    """:func:`load_scenario` without the language."""
    book = find_workbook(folder)
    if book is not None:
        return _load_workbook(book, occupancy=occupancy)
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a scenario folder (it does not exist or is a "
                             "file); give the folder holding scenario.yaml and the CSVs, or "
                             "an .xlsx workbook"])
    errors: list[str] = []
    hashes: dict[str, str] = {}
    settings = read_yaml(folder, errors, hashes)
    numbers: dict[str, list[int]] = {}
    tables = {t.name: read_table(folder, t, errors, hashes, numbers) for t in TABLES}
    errors += _misnamed_files(folder)
    return _build(folder, settings, tables, errors, hashes, Source(numbers=numbers),
                  occupancy=occupancy)


def _load_workbook(book: Path, *, occupancy: bool) -> Problem:
    """Read a scenario workbook (:mod:`matcher.formats.workbook`) through the CSVs' checks."""
    errors: list[str] = []
    hashes: dict[str, str] = {}
    data = read_workbook(book, errors, hashes)
    if data is None:
        raise ScenarioError(errors)
    beside = book.parent / "scenario.yaml"
    default_name = book.parent.resolve().name if book.stem.lower() == "scenario" else book.stem
    settings: dict[str, Any] | None = None
    sheet = data.settings
    if data.has_settings_sheet and beside.is_file():
        errors.append(f"{book.name}: has a scenario sheet and there is also a scenario.yaml "
                      "beside it; keep one of them")
    elif sheet is not None:
        settings = settings_of(sheet.doc, default_name, errors, sheet.at)
    elif beside.is_file():
        settings = read_yaml(book.parent, errors, hashes)
    elif not data.has_settings_sheet:
        errors.append(f"{book.name}: no sheet named scenario and no scenario.yaml beside it; "
                      "add a sheet scenario with one setting per row (key, value), or put "
                      f"scenario.yaml in {book.parent}")
    tables: dict[str, list[Any] | None] = {}
    for t in TABLES:
        rows = data.tables.get(t.name)
        if t.name not in data.tables:
            tables[t.name] = None if t.required_file else []
        elif rows is None:
            tables[t.name] = None
        else:
            tables[t.name] = table_rows(replace(t, file=rows.label), rows.rows, errors,
                                         rows.numbers)
    titles = {t.name: rows.title for t in TABLES if (rows := data.tables.get(t.name))}
    renames = [(t.file, f"sheet {titles.get(t.name, t.name)}") for t in TABLES]
    if sheet is not None:
        renames.append(("scenario.yaml", f"sheet {sheet.title}"))
    src = Source(
        labels={t: r.label for t, r in data.tables.items() if r is not None}
        | ({"scenario": sheet.label} if sheet is not None else {}),
        numbers={t: r.numbers[1:] for t, r in data.tables.items() if r is not None},
        settings_at=sheet.at if sheet is not None else None, renames=tuple(renames))
    return _build(book, settings, tables, errors, hashes, src, occupancy=occupancy)


def _build(path: Path, settings: dict[str, Any] | None, tables: dict[str, list[Any] | None],
           errors: list[str], hashes: dict[str, str], src: Source, *,
           occupancy: bool) -> Problem:
    """The checked Problem from what was read, or a ScenarioError with every error found."""
    occupied = tables.pop("occupancy")  # applied to the built problem, below
    if errors or settings is None or any(v is None for v in tables.values()):
        if settings is not None and all(v is not None for v in tables.values()):
            errors += _partial_cross_check(settings, tables, src)
        raise ScenarioError(errors or ["scenario could not be read"])
    assert all(v is not None for v in tables.values())
    if any(x is None for v in tables.values() for x in v or ()):
        raise ScenarioError(errors)
    digest = hashlib.sha256(json.dumps(sorted(hashes.items())).encode()).hexdigest()
    fields: dict[str, Any] = {**settings, "input_sha256": digest,
                              "input_files": tuple(sorted(hashes.items())),
                              "source": str(path.resolve())}
    for k, v in tables.items():
        fields[FIELD_OF.get(k, k)] = tuple(v or ())
    at = src.settings_at or (lambda key: f"scenario.yaml, {key}")
    unchecked = checked_problem(fields, lambda loc, why: f"{at(loc)}: {why}",
                                src.line)
    if occupied and occupancy:
        try:
            return apply_occupancy(unchecked, occupied,
                                   source=src.labels.get("occupancy", "occupancy.csv"),
                                   numbers=src.numbers.get("occupancy"))
        except ScenarioError as e:  # name sheets, not CSV files, for a workbook
            lines = e.messages
            for old, new in src.renames:
                lines = [line.replace(old, new) for line in lines]
            raise ScenarioError(lines) from None
    return unchecked


def _misnamed_files(folder: Path) -> list[str]:
    """CSV files whose name is close to a table the folder lacks (``lock.csv``, ``Locks.csv``).

    Other files (notes, READMEs, results) are ignored, but a misspelt table would be ignored
    silently too, and a missing ``locks.csv`` changes the allocation.
    """
    known = [t.file for t in TABLES]
    out = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if not name.lower().endswith(".csv") or name in known:
            continue
        close = [k for k in known if k == name.lower()] or difflib.get_close_matches(
            name.lower(), known, n=1, cutoff=0.8)
        if close and not (folder / close[0]).exists():
            out.append(f"{show(name)}: not a scenario file name; did you mean {close[0]}? "
                       "rename it, or move it out of the folder if it is not part of the "
                       "scenario")
    return out


# ---- writing a scenario folder ----------------------------------------------------------------
# ---- writing a scenario folder -----------------------------------------------------------------
def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, tuple):
        return ";".join(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _write_table(path: Path, columns: Sequence[Any], rows: Sequence[BaseModel]) -> None:
    """One CSV: required columns always, optional ones when some row has a value."""
    names = [c.name for c in columns
             if c.required or any(getattr(r, c.name) is not None for r in rows)]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(names)
        for r in rows:
            out.writerow([_cell(getattr(r, n)) for n in names])


def write_scenario(problem: Problem, folder: str | os.PathLike[str], *,
                   occupancy: Sequence[Occupancy] = (), header: Sequence[str] = (),
                   description: str | None = None) -> Path:
    """Write a problem as a scenario folder that :func:`load_scenario` reads back.

    Writes ``scenario.yaml`` and every table with rows (optional tables only when they have
    rows; ``occupancy.csv`` from ``occupancy``). The folder is created; existing scenario
    files in it are replaced.

    Parameters
    ----------
    problem
        The problem (full capacities).
    folder
        Where to write.
    occupancy
        Rows of ``occupancy.csv``.
    header
        Comment lines at the top of ``scenario.yaml``.
    description
        ``description:`` of ``scenario.yaml``.

    Returns
    -------
    Path
        The folder.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    settings: dict[str, Any] = {"name": problem.name}
    if description:
        settings["description"] = description
    settings["terms"] = list(problem.terms)
    settings["term_months"] = problem.term_months
    policy = problem.policy.model_dump()
    policy["window"] = None if problem.policy.window is None else list(problem.policy.window)
    settings["policy"] = policy
    settings["objective"] = problem.objective.model_dump()
    settings["solver"] = problem.solver.model_dump()
    text = "".join(f"# {line}\n" for line in header)
    text += yaml.safe_dump(settings, sort_keys=False, allow_unicode=True, width=1000)
    (out / "scenario.yaml").write_text(text, encoding="utf-8", newline="\n")
    for table in TABLES:
        if table.name == "occupancy":
            rows: Sequence[BaseModel] = tuple(occupancy)
        else:
            rows = getattr(problem, FIELD_OF.get(table.name, table.name))
        path = out / table.file
        if rows or table.required_file:
            _write_table(path, table.columns, rows)
        else:
            path.unlink(missing_ok=True)
    return out
