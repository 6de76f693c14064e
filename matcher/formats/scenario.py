"""Scenarios in and out: :func:`load_scenario` and :func:`validate_scenario` read one,
:func:`write_scenario` writes one.

:func:`validate_scenario` reads a scenario (a folder of CSVs, or one ``.xlsx`` workbook) and
says everything it found, as structured messages (:class:`~matcher.messages.Message`): every
input error (up to 50), the suspicious data (warnings) and the tolerances it applied (notes),
each located as the user sees it (the file and its data row, or the sheet, Excel's row, the
column letter and the header as typed), with the :class:`~matcher.model.Problem` when it is
valid. :func:`load_scenario` gives the problem or raises :class:`~matcher.model.ScenarioError`
with the same messages. Headers may use the aliases of :mod:`matcher.formats.aliases`; tables
are read as offices keep them (:mod:`matcher.formats.tables`, :mod:`matcher.formats.tolerance`).
A scenario's ``occupancy.csv`` (places earlier cohorts use) is subtracted from the capacities
(:func:`matcher.model.capacity.apply_occupancy`). :func:`write_scenario` writes a problem as a
scenario folder that :func:`load_scenario` reads back, the carried columns included.
"""

from __future__ import annotations

import csv
import difflib
import gc
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..messages import Lang, Location, Message, looks_chinese, msg
from ..model import Problem, ScenarioError
from ..model.capacity import Occupancy, apply_occupancy
from ..model.entities import CarriedColumn
from ..model.problem import checked_problem, cross_check
from ..model.suspicious import suspicious
from .cells import show
from .language import scenario_language
from .locations import Found, Source, sheet_renames
from .schema import FIELD_OF, TABLES
from .settings import read_yaml
from .settings import settings as settings_of
from .tables import TableRead, csv_grid, read_grid
from .tolerance import dates_as_terms, names_as_ids
from .workbook import find_workbook, read_workbook

__all__ = ["Validation", "load_scenario", "validate_scenario", "write_scenario"]


@dataclass(frozen=True)
class Validation:
    """What reading a scenario found: the problem when valid, and every message.

    Attributes
    ----------
    path
        The scenario as given (a folder or an ``.xlsx`` workbook).
    problem
        The validated problem, or None when there are errors.
    errors
        What stops the scenario from being used (at most 50, then ``load.too_many_errors``).
    warnings
        Suspicious data that does not stop a solve (a discipline nobody offers, a code that
        lost its leading zero, capacities that do not add up, ...), each naming the cells and
        the likely fix.
    notes
        What the reader did that the user should know (a title row skipped, a hidden sheet
        not read, a list split at commas, names read as ids, dates read as terms, ...).
    lang_hint
        ``"zh"`` when the scenario's headers or sheet names are Chinese, else None (the locale
        decides); pass it to :func:`matcher.messages.choose_lang`. A valid problem records
        it as :attr:`~matcher.model.Problem.language`.
    """

    path: str
    problem: Problem | None
    errors: tuple[Message, ...] = ()
    warnings: tuple[Message, ...] = ()
    notes: tuple[Message, ...] = ()
    lang_hint: Lang | None = None

    @property
    def ok(self) -> bool:
        """True when the scenario is valid (warnings and notes allowed)."""
        return not self.errors and self.problem is not None

    @property
    def messages(self) -> tuple[Message, ...]:
        """Errors, then warnings, then notes."""
        return self.errors + self.warnings + self.notes

    def rows(self, lang: Lang) -> list[dict[str, Any]]:
        """Every message as a table row for a page: severity, file, sheet, row, column,
        header, message, in ``lang``.

        Parameters
        ----------
        lang
            ``"zh"`` or ``"en"``.

        Returns
        -------
        list of dict
            ``{"severity", "code", "file", "sheet", "row", "line", "column", "header",
            "field", "where", "text"}`` per message (location fields None where not known).
        """
        out = []
        for m in self.messages:
            loc = m.location
            data = m.to_dict(lang)
            out.append({"severity": m.severity, "code": m.code,
                        **(loc.to_dict() if loc is not None else dict.fromkeys(
                            ("file", "sheet", "row", "line", "column", "header", "field"))),
                        "where": data["where"], "text": data["text"]})
        return out


# table -> tables its rows refer to (a dropped row there could make a reference look unknown)
_REFERS: dict[str, set[str]] = {
    "students": {"universities", "supervisors", "workstations"},
    "workstations": {"universities", "supervisors"},
    "mentors": {"workstations"},
    "supervisors": {"universities"},
    "workstation_terms": {"workstations"},
    "pairs": {"supervisors", "mentors"},
    "locks": {"students", "workstations", "mentors", "workstation_terms", "supervisors", "vetoes",
              "universities"},
    "rankings": {"workstations", "students"},
    "groups": {"students", "workstations", "mentors", "locks", "vetoes", "workstation_terms",
               "universities", "supervisors"},
    "vetoes": {"students", "workstations"},
    "quotas": {"students", "workstations", "universities", "mentors", "vetoes",
               "workstation_terms", "supervisors"},
}


@dataclass
class _Reading:
    """A scenario as read, before the problem is built."""

    path: Path
    found: Found = field(default_factory=Found)
    hashes: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] | None = None
    reads: dict[str, TableRead | None] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)  # tables that could not be read
    source: Source = field(default_factory=Source)
    names: list[str] = field(default_factory=list)  # headers and sheet names, for the language


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
        The frozen, validated problem (warnings and notes are not raised: see
        :func:`validate_scenario`).

    Raises
    ------
    ScenarioError
        With every input error found (up to 50), each a located message; its ``warnings`` and
        ``notes`` hold what else was found.
    """
    found = validate_scenario(path, occupancy=occupancy)
    if found.problem is None:
        raise ScenarioError(found.errors, warnings=found.warnings, notes=found.notes)
    return found.problem


def validate_scenario(path: str | os.PathLike[str], *, occupancy: bool = True) -> Validation:
    """Read a scenario and say everything found: errors, warnings and notes, located.

    Parameters
    ----------
    path
        A scenario folder or workbook, as for :func:`load_scenario`.
    occupancy
        Subtract ``occupancy.csv`` from the capacities (the default).

    Returns
    -------
    Validation
        The problem (None when there are errors) and every message; never raises for bad
        input.
    """
    # Reading a province creates millions of small objects and no reference cycle: the cyclic
    # garbage collector would walk them again and again (a third of the load time at 100,000
    # students). Paused while reading, restored after (a caller who paused it keeps it so).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _validate(path, occupancy)
    finally:
        if paused:
            gc.enable()


def _validate(path: str | os.PathLike[str], occupancy: bool) -> Validation:
    folder = Path(path)
    hint = scenario_language(path)  # from the names alone; also when nothing else can be read
    try:
        book = find_workbook(folder)
    except ScenarioError as e:
        return Validation(str(path), None, tuple(e.structured), lang_hint=hint)
    if book is not None:
        reading = _read_workbook(book)
    elif not folder.is_dir():
        return Validation(str(path), None, (msg("load.no_scenario", at=Location(
            file=str(folder))),), lang_hint=hint)
    else:
        reading = _read_folder(folder)
    return _finish(reading, hint, occupancy=occupancy)


def _read_folder(folder: Path) -> _Reading:
    reading = _Reading(folder)
    found = reading.found
    reading.settings = read_yaml(folder, found, reading.hashes)
    for t in TABLES:
        if not (folder / t.file).is_file():
            if t.required_file:
                found.add(msg("load.missing_file", at=Location(file=t.file), file=t.file,
                              folder=str(folder)))
                reading.broken.add(t.name)
            continue
        grid = csv_grid(folder, t, found, reading.hashes)
        read = read_grid(t, grid, found) if grid is not None else None
        reading.reads[t.name] = read
        if read is None:
            reading.broken.add(t.name)
        else:
            reading.names += read.headers
    for m in _misnamed_files(folder):
        found.add(m)
    reading.source = Source(tables={k: v for k, v in reading.reads.items() if v is not None})
    return reading


def _read_workbook(book: Path) -> _Reading:
    """Read a scenario workbook (:mod:`matcher.formats.workbook`) through the CSVs' checks."""
    reading = _Reading(book)
    found = reading.found
    data = read_workbook(book, found, reading.hashes)
    if data is None:
        reading.broken.add("workbook")
        return reading
    reading.names += list(data.titles.values())
    beside = book.parent / "scenario.yaml"
    default_name = book.parent.resolve().name if book.stem.lower() == "scenario" else book.stem
    sheet = data.settings
    at = Location(file=book.name)
    if data.has_settings_sheet and beside.is_file():
        found.add(msg("load.settings_twice", at=at))
    elif sheet is not None:
        reading.settings = settings_of(sheet.doc, default_name, found, sheet.at)
        reading.names += [typed for _, typed in sheet.rows.values()]
    elif beside.is_file():
        reading.settings = read_yaml(book.parent, found, reading.hashes)
    elif not data.has_settings_sheet:
        found.add(msg("load.no_settings", at=at, folder=str(book.parent)))
    for t in TABLES:
        if t.name not in data.grids:
            continue
        grid = data.grids[t.name]
        read = read_grid(t, grid, found) if grid is not None else None
        reading.reads[t.name] = read
        if read is None:
            reading.broken.add(t.name)
        else:
            reading.names += read.headers
    reading.source = Source(
        tables={k: v for k, v in reading.reads.items() if v is not None},
        settings_at=sheet.at if sheet is not None else None,
        sheets=sheet_renames(data.titles, looks_chinese(data.titles.values())))
    return reading


def _finish(reading: _Reading, hint: Lang | None, *, occupancy: bool) -> Validation:
    """The problem from what was read (resolved, checked, occupancy applied), and messages."""
    found = reading.found
    if looks_chinese(reading.names):  # a header found below a title row counts too
        hint = "zh"

    def outcome(problem: Problem | None, errors: Sequence[Message] = ()) -> Validation:
        errs = tuple(errors) or tuple(found.errors)
        kept = errs[:50] + ((msg("load.too_many_errors", count=len(errs) - 50),)
                            if len(errs) > 50 else ())
        return Validation(str(reading.path), problem if not errs else None, kept,
                          tuple(found.warnings), tuple(found.notes), hint)

    settings = reading.settings
    if settings is not None and "terms" in settings:
        names_as_ids(reading.reads, found)
        dates_as_terms(reading.reads, settings["terms"],
                       settings.get("term_months", 6) if isinstance(
                           settings.get("term_months", 6), int) else 6, found)
    tables: dict[str, list[Any]] = {}
    for t in TABLES:
        read = reading.reads.get(t.name)
        tables[t.name] = read.rows if read is not None else []
    occupied = tables.pop("occupancy")
    if found.errors or settings is None or reading.broken:
        if settings is not None and not reading.broken:
            for m in _partial_cross_check(settings, tables, reading.source):
                found.add(m)
        if not found.errors:
            found.add(msg("load.unreadable", at=Location(file=reading.path.name)))
        return outcome(None)
    if any(x is None for v in tables.values() for x in v):
        return outcome(None)
    digest = hashlib.sha256(json.dumps(sorted(reading.hashes.items())).encode()).hexdigest()
    fields: dict[str, Any] = {**settings, "input_sha256": digest,
                              "input_files": tuple(sorted(reading.hashes.items())),
                              "source": str(reading.path.resolve()),
                              "carried": _carried(reading.reads), "language": hint}
    for k, v in tables.items():
        fields[FIELD_OF.get(k, k)] = tuple(v)
    try:
        problem = checked_problem(fields, reading.source.locate)
    except ScenarioError as e:
        return outcome(None, e.structured)
    if occupied and occupancy:
        where = reading.reads["occupancy"]
        assert where is not None
        try:
            problem = apply_occupancy(problem, occupied, source=where.where,
                                      numbers=where.numbers)
        except ScenarioError as e:
            return outcome(None, [reading.source.words(m) for m in e.structured])
    for issue in suspicious(problem):
        found.add(reading.source.locate(issue))
    return outcome(problem)


def _carried(reads: dict[str, TableRead | None]) -> tuple[CarriedColumn, ...]:
    """The user's own columns of every table, by id, in the order of the sheet or file."""
    out = []
    for name, read in reads.items():
        if read is None or not read.carried:
            continue
        id_field = read.table.columns[0].name
        ids = [getattr(r, id_field) if r is not None else "" for r in read.rows]
        for header, _, values in read.carried:
            out.append(CarriedColumn(table=name, header=header,
                                     values=tuple(zip(ids, values, strict=True))))
    return tuple(out)


def _partial_cross_check(settings: dict[str, Any], tables: dict[str, Any],
                         src: Source) -> list[Message]:
    """Cross-table issues that cell errors elsewhere cannot have caused (row numbers exact)."""
    dropped = {k for k, v in tables.items() if any(x is None for x in v)}
    fields: dict[str, Any] = dict(settings)
    for k, v in tables.items():
        fields[FIELD_OF.get(k, k)] = tuple(x for x in v if x is not None)
    try:
        partial = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError:
        return []
    return [src.locate(i) for i in cross_check(partial)
            if i.table not in dropped and not (_REFERS.get(i.table, set()) & dropped)]


def _misnamed_files(folder: Path) -> list[Message]:
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
            out.append(msg("load.misnamed_file", at=Location(file=show(name)), wanted=close[0]))
    return out


# ---- writing a scenario folder ---------------------------------------------------------------
# ---- writing a scenario folder -----------------------------------------------------------------
def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, tuple):
        return ";".join(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


_UNSET: dict[str, Any] = {"min_intake": 0}
"""Optional columns whose default is not empty: written only when some row sets them (so that
scenarios without the rule are written as they always were)."""


def _write_table(path: Path, columns: Sequence[Any], rows: Sequence[BaseModel],
                 carried: Sequence[CarriedColumn] = ()) -> None:
    """One CSV: required columns always, optional ones when some row has a value, then the
    carried columns (by the row's id)."""
    names = [c.name for c in columns
             if c.required or any(getattr(r, c.name) not in (None, _UNSET.get(c.name))
                                  for r in rows)]
    extra = [(c.header, c.by_id()) for c in carried]
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(names + [h for h, _ in extra])
        for r in rows:
            key = str(getattr(r, columns[0].name))
            out.writerow([_preferences(r) if n == "preferences" else _cell(getattr(r, n))
                          for n in names] + [by_id.get(key, "") for _, by_id in extra])


def _preferences(student: Any) -> str:
    """A list cell with its ties: ``W1;W2=W3;W4``."""
    return ";".join("=".join(group) for group in student.tie_groups)


def write_scenario(problem: Problem, folder: str | os.PathLike[str], *,
                   occupancy: Sequence[Occupancy] = (), header: Sequence[str] = (),
                   description: str | None = None) -> Path:
    """Write a problem as a scenario folder that :func:`load_scenario` reads back.

    Writes ``scenario.yaml`` and every table with rows (optional tables only when they have
    rows; ``occupancy.csv`` from ``occupancy``), each with its carried columns
    (:attr:`Problem.carried`) after matcher's own. The folder is created; existing scenario
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
    for key, default in (("max_segments", 1), ("min_segment_months", None)):
        if policy[key] == default:  # (scenarios without split practice stay as they were)
            del policy[key]
    settings["policy"] = policy
    settings["objective"] = problem.objective.model_dump(
        exclude={"rank"} if problem.objective.rank == "sum" else None)  # (older files unchanged)
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
            _write_table(path, table.columns, rows,
                         [c for c in problem.carried if c.table == table.name])
        else:
            path.unlink(missing_ok=True)
    return out
