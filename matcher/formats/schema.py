"""The scenario format's tables: their files, columns, column kinds and the model of a row.

:data:`TABLES` lists every table of a scenario folder in reading order; each column has a kind
(how its cells are parsed, :func:`matcher.formats.cells.parse_cell`) and says whether the header
must name it. Headers may use the aliases of :mod:`matcher.formats.aliases`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from ..model.capacity import Occupancy
from ..model.entities import (
    TABLE_OF_FIELD,
    GroupMember,
    Lock,
    Mentor,
    Pair,
    Ranking,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Veto,
    Workstation,
)
from ..model.errors import TABLE_FILES
from ..model.quotas import Quota

__all__ = ["FIELD_OF", "FILE_OF", "TABLES", "Column", "Table"]


@dataclass(frozen=True)
class Column:
    """A column of a table.

    Attributes
    ----------
    name
        The canonical header.
    kind
        ``str``, ``int``, ``float``, ``list`` (``;``-separated), ``opt_str``, ``opt_int``,
        ``opt_float`` (may be empty: the model's default applies) or ``opt_share`` (an
        optional fraction, also written as a percentage: ``30%`` is 0.3).
    required
        Whether the header must name it.
    """

    name: str
    kind: str
    required: bool = True


@dataclass(frozen=True)
class Table:
    """A table of a scenario.

    Attributes
    ----------
    name
        The table name used in messages of :func:`~matcher.model.problem.cross_check`.
    file
        The file in a scenario folder (in messages: the file, or a workbook's sheet).
    model
        The model of one row.
    columns
        Its columns, in the order written.
    required_file
        Whether every scenario has it.
    """

    name: str
    file: str
    model: type[BaseModel]
    columns: tuple[Column, ...]
    required_file: bool = True


def _table(name: str, model: type[BaseModel], columns: tuple[Column, ...],
           required_file: bool = True) -> Table:
    return Table(name, TABLE_FILES[name], model, columns, required_file)


_C = Column
TABLES: tuple[Table, ...] = (
    _table("students", Student, (
        _C("student_id", "str"), _C("university_id", "str"), _C("discipline", "str"),
        _C("work_experience_years", "float"), _C("preferences", "list"),
        _C("supervisor_id", "opt_str"), _C("priority", "opt_float", False),
        _C("window_start", "opt_str", False), _C("window_end", "opt_str", False),
        _C("required_months", "opt_int", False), _C("max_segments", "opt_int", False))),
    _table("workstations", Workstation, (
        _C("workstation_id", "str"), _C("disciplines", "list"), _C("capacity", "int"),
        _C("partner_universities", "list"), _C("city", "opt_str", False),
        _C("lat", "opt_float", False), _C("lon", "opt_float", False),
        _C("min_intake", "opt_int", False))),
    _table("mentors", Mentor, (
        _C("mentor_id", "str"), _C("workstation_id", "str"), _C("disciplines", "list"),
        _C("capacity", "int"))),
    _table("supervisors", Supervisor, (
        _C("supervisor_id", "str"), _C("university_id", "str"), _C("disciplines", "list"),
        _C("capacity", "int"))),
    _table("universities", University, (
        _C("university_id", "str"), _C("name", "opt_str", False),
        _C("city", "opt_str", False)), required_file=False),
    _table("workstation_terms", TermCapacity, (
        _C("workstation_id", "str"), _C("term", "str"), _C("capacity", "int")),
        required_file=False),
    _table("pairs", Pair, (
        _C("supervisor_id", "str"), _C("mentor_id", "str"), _C("weight", "float")),
        required_file=False),
    _table("locks", Lock, (
        _C("student_id", "str"), _C("workstation_id", "str"),
        _C("mentor_id", "opt_str", False), _C("start_term", "opt_str", False)),
        required_file=False),
    _table("rankings", Ranking, (
        _C("workstation_id", "str"), _C("student_id", "str"), _C("rank", "int")),
        required_file=False),
    _table("groups", GroupMember, (_C("group_id", "str"), _C("student_id", "str")),
           required_file=False),
    _table("vetoes", Veto, (_C("student_id", "str"), _C("workstation_id", "str")),
           required_file=False),
    _table("quotas", Quota, (
        _C("workstation_id", "opt_str"), _C("selector", "str"), _C("value", "str"),
        _C("min_share", "opt_share", False), _C("max_share", "opt_share", False),
        _C("min_count", "opt_int", False), _C("max_count", "opt_int", False),
        _C("hard", "opt_str", False)), required_file=False),
    _table("occupancy", Occupancy, (  # not a Problem field: matcher.model.capacity.Occupancy
        _C("workstation_id", "str"), _C("term", "str"), _C("used", "int"),
        _C("mentor_id", "opt_str", False)), required_file=False),
)
"""Every table of a scenario, in reading order."""

FILE_OF: dict[str, str] = {t.name: t.file for t in TABLES} | {"scenario": "scenario.yaml"}
"""Table name -> its file (``scenario``: the settings file)."""

FIELD_OF: dict[str, str] = {table: f for f, table in TABLE_OF_FIELD.items() if f != table}
"""Table name -> the Problem field holding its rows, where they differ."""
