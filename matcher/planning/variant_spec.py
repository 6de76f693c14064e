"""The variant file: the changes a what-if variant makes (:class:`VariantSpec`), read from YAML.

:func:`read_variant` reads and shape-checks a variant file (ids are checked when the changes are
applied, by :func:`matcher.planning.variant.apply_variant`); a :class:`VariantSpec` can also be
built in code. The schema (every key optional except ``base`` when no base is given on the
command line)::

    base: ../heilongjiang-demo      # base scenario folder, relative to this file
    name: daqing-plus               # name of the new scenario (default: this file's name)
    description: 20 more places in Daqing
    seed: 0                         # seeds the intake draw
    remove_workstations: [W0011]
    scale_capacity:                 # a number (every workstation) or a list of rules
      - {factor: 0.9}
      - {factor: 1.2, city: Daqing}
      - {factor: 1.5, discipline: "0856"}
      - {factor: 1.1, university: NEPU}   # workstations partnered with NEPU
      - {min_intake: 3, city: Harbin}     # and/or set their minimum intake (issue 28)
    add_workstations: new.csv       # CSV next to this file, or a list of rows
    add_mentors: new-mentors.csv    # CSV or rows; a new workstation without one gets <id>-M1
    close:
      - {workstation_id: W0020, terms: [2027-autumn]}
    policy: {practice_months: 12, window: [2026-autumn, 2028-spring], preferences_only: false,
             max_segments: 2, min_segment_months: 6}
    intake_pct: 15                  # +15 % students (negative: fewer)
    remove_students: [S00017]       # e.g. withdrawn students (``matcher resolve``)
    add_students: late.csv          # CSV next to this file, or a list of rows
    mentor_leave: [M0031]           # mentors unavailable for this allocation (capacity 0)

The changes apply in this order: remove, scale, add, close, policy, intake, then the
students and mentors changes (remove_students, add_students, mentor_leave). The planning
guide (docs/planning.md, "Variants") gives the full rules, including the rounding of scaled
capacities (largest remainder, :func:`matcher.planning.variant.scale_largest_remainder`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..formats.aliases import SHEET_ALIASES
from ..formats.cells import NO_VALUE, parse_cell
from ..formats.locations import Found
from ..formats.schema import TABLES, Table
from ..formats.tables import TableRead, read_grid, read_table
from ..formats.workbook import read_workbook
from ..formats.yamlsafe import read_yaml_file
from ..messages import Location, Message, msg
from ..model import Mentor, ScenarioError, Student, Workstation
from ..model.errors import error_detail

__all__ = ["KEYS", "POLICY_KEYS", "CloseRule", "ScaleRule", "VariantSpec", "check_variant",
           "read_variant"]

KEYS = ("base", "name", "description", "seed", "remove_workstations", "scale_capacity",
        "add_workstations", "add_mentors", "close", "policy", "intake_pct", "remove_students",
        "add_students", "mentor_leave")
"""The keys of a variant file."""

POLICY_KEYS = ("practice_months", "experienced_practice_months", "experienced_years", "window",
               "preferences_only", "max_segments", "min_segment_months")
Bad = Callable[[str, Message], None]
"""``bad(key, message)``: an error at a key of the variant file (the message's location is set
from the file and the key)."""

MAX_FACTOR = 1000


@dataclass(frozen=True)
class ScaleRule:
    """Multiply the capacities of the workstations matching every given selector.

    Attributes
    ----------
    factor
        The multiplier (>= 0).
    discipline, city, university
        Selectors: workstations taking the discipline (among others), located in the city,
        partnered with the university (listing it in ``partner_universities``). None = any.
    key
        Where the rule was given, for messages (``scale_capacity[1]``).
    min_intake
        Also set the matching workstations' minimum intake (None: leave it).
    """

    factor: float
    discipline: str | None = None
    city: str | None = None
    university: str | None = None
    key: str = "scale_capacity"
    min_intake: int | None = None

    def describe(self) -> str:
        """The selection in words."""
        parts = [f"{k} {v}" for k, v in (("discipline", self.discipline), ("city", self.city),
                                         ("partner university", self.university)) if v]
        return " and ".join(parts) if parts else "every workstation"


@dataclass(frozen=True)
class CloseRule:
    """Close a workstation (capacity 0) in the given terms."""

    workstation_id: str
    terms: tuple[str, ...]
    key: str = "close"


@dataclass(frozen=True)
class VariantSpec:
    """The changes a variant makes (see the module docstring); build it in code or read it.

    Attributes
    ----------
    source
        Where the changes come from, the start of every error line (the variant file's path).
    base
        The base scenario folder (resolved), if the spec names one.
    """

    source: str = "variant"
    base: Path | None = None
    name: str | None = None
    description: str | None = None
    seed: int = 0
    remove_workstations: tuple[str, ...] = ()
    scale_capacity: tuple[ScaleRule, ...] = ()
    add_workstations: tuple[Workstation, ...] = ()
    add_mentors: tuple[Mentor, ...] = ()
    close: tuple[CloseRule, ...] = ()
    policy: tuple[tuple[str, Any], ...] = ()
    intake_pct: float = 0.0
    remove_students: tuple[str, ...] = ()
    add_students: tuple[Student, ...] = ()
    mentor_leave: tuple[str, ...] = ()
    origins: tuple[tuple[str, tuple[Location, ...]], ...] = ()
    """For rows added from a file: key -> where each row was read (the file, row and id
    column, within the variant file's key), so that errors found later point there."""

    def row_at(self, key: str, i: int) -> Location:
        """Where row ``i`` of ``key`` (``add_students``) was given, as the user sees it.

        Parameters
        ----------
        key
            ``add_workstations``, ``add_mentors`` or ``add_students``.
        i
            The 0-based row among those added.

        Returns
        -------
        Location
            The file's row and id column within the variant file's key, or the variant file
            and ``key[i]`` for rows given inline (or a spec built in code).
        """
        rows = dict(self.origins).get(key, ())
        if 0 <= i < len(rows):
            return rows[i]
        return Location(file=str(self.source), field=f"{key}[{i}]")



def read_variant(path: str | os.PathLike[str]) -> VariantSpec:
    """Read and shape-check a variant YAML file (ids are checked when it is applied).

    The file is read by the one safe YAML reader (:mod:`matcher.formats.yamlsafe`): aliases,
    anchors, tags, keys given twice, deep nesting and files over 1 MiB are refused.

    Raises
    ------
    ScenarioError
        One line per problem, naming the file, the key and what to do.
    """
    path = Path(path)
    src = str(path)
    doc = read_yaml_file(path, src)  # the one safe YAML reader: no aliases, tags, bombs
    return check_variant({} if doc is None else doc, src, path.resolve().parent, path.stem)


def check_variant(doc: Any, src: str, here: Path, name: str | None = None) -> VariantSpec:
    """Shape-check the changes of a variant, however they were given: a variant or changes
    file's mapping (:func:`read_variant`), or one point of a sweep (``{"scale_capacity": 0.8,
    "intake_pct": 15, "policy": {...}}``, see :func:`matcher.planning.sweep.spec_for`).

    Parameters
    ----------
    doc
        The mapping of changes (the keys of :data:`KEYS`).
    src
        Where they come from, the start of every error line (a file, ``--vary ...``).
    here
        The folder relative paths are resolved from (``base``, CSVs of rows).
    name
        The variant's default name.

    Raises
    ------
    ScenarioError
        One line per problem, naming ``src``, the key and what to do.
    """
    if not isinstance(doc, dict):
        raise ScenarioError([msg("variant.not_mapping", at=Location(file=str(src)),
                                 found=type(doc).__name__)])
    errors: list[str | Message] = []

    def bad(key: str, message: Message) -> None:
        errors.append(replace(message, location=Location(file=str(src), field=key)))

    for key in sorted(set(map(str, doc)) - set(KEYS)):
        bad(key, msg("variant.unknown_key", keys=list(KEYS)))
    spec: dict[str, Any] = {"source": src, "name": name}
    origins: dict[str, tuple[Location, ...]] = {}
    if doc.get("base") is not None:
        if not isinstance(doc["base"], str) or not doc["base"].strip():
            bad("base", msg("variant.base_path"))
        else:
            spec["base"] = (here / doc["base"].strip()).resolve()
    for key in ("name", "description"):
        if doc.get(key) is not None:
            if isinstance(doc[key], str | int | float) and str(doc[key]).strip():
                spec[key] = str(doc[key]).strip()
            else:
                bad(key, msg("variant.text"))
    if "seed" in doc:
        seed = doc["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            bad("seed", msg("variant.seed"))
        else:
            spec["seed"] = seed
    if doc.get("remove_workstations") is not None:
        spec["remove_workstations"] = _id_list(doc["remove_workstations"],
                                               "remove_workstations", bad)
    if doc.get("scale_capacity") is not None:
        spec["scale_capacity"] = _scale_rules(doc["scale_capacity"], bad)
    for key in ("remove_students", "mentor_leave"):
        if doc.get(key) is not None:
            spec[key] = _id_list(doc[key], key, bad)
    for key, table_name in (("add_workstations", "workstations"), ("add_mentors", "mentors"),
                            ("add_students", "students")):
        if doc.get(key) is not None:
            spec[key] = _rows(doc[key], key, table_name, here, src, bad, errors, origins)
    if doc.get("close") is not None:
        spec["close"] = _close_rules(doc["close"], bad)
    if doc.get("policy") is not None:
        spec["policy"] = _policy(doc["policy"], bad)
    if doc.get("intake_pct") is not None:
        pct = doc["intake_pct"]
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not (
                math.isfinite(pct) and -100 < pct <= 1000):
            bad("intake_pct", msg("variant.percentage"))
        else:
            spec["intake_pct"] = float(pct)
    if errors:
        raise ScenarioError(errors)
    return VariantSpec(**spec, origins=tuple(origins.items()))


def _text(v: Any) -> str | None:
    """An id-like YAML scalar as text (None for a mapping, a list or an empty value)."""
    if isinstance(v, bool) or v is None or isinstance(v, dict | list):
        return None
    text = str(v).strip()
    return text or None


def _id_list(value: Any, key: str, bad: Bad) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, v in enumerate(items):
        text = _text(v)
        if text is None:
            bad(f"{key}[{i}]", msg("variant.id", kind=msg(
                "entity.student" if key == "remove_students" else "entity.mentor"
                if key == "mentor_leave" else "entity.workstation")))
        else:
            out.append(text)
    return tuple(out)


def _factor(v: Any, key: str, bad: Bad) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not (
            math.isfinite(v) and 0 <= v <= MAX_FACTOR):
        bad(key, msg("variant.factor", maximum=str(MAX_FACTOR)))
        return None
    return float(v)


def _scale_rules(value: Any, bad: Bad) -> tuple[ScaleRule, ...]:
    if not isinstance(value, list):
        if isinstance(value, dict):
            value = [value]
        else:
            f = _factor(value, "scale_capacity", bad)
            return () if f is None else (ScaleRule(f),)
    rules = []
    allowed = ("factor", "discipline", "city", "university", "min_intake")
    for i, item in enumerate(value):
        key = f"scale_capacity[{i}]"
        if not isinstance(item, dict):
            bad(key, msg("variant.mapping", example="{factor: 1.2, city: Daqing}"))
            continue
        for k in sorted(set(map(str, item)) - set(allowed)):
            bad(f"{key}.{k}", msg("variant.scale_unknown_key"))
        if "factor" not in item and "min_intake" not in item:
            bad(key, msg("variant.missing_factor", example="{factor: 1.2, city: Daqing}"))
            continue
        f = _factor(item.get("factor", 1.0), f"{key}.factor", bad)
        least = item.get("min_intake")
        if least is not None and (isinstance(least, bool) or not isinstance(least, int)
                                  or not 0 <= least <= 1_000_000):
            bad(f"{key}.min_intake", msg("variant.min_intake"))
            continue
        sel: dict[str, str] = {}
        for k in allowed[1:4]:
            if item.get(k) is not None:
                text = _text(item[k])
                if text is None:
                    bad(f"{key}.{k}", msg("variant.one_text", what=k))
                else:
                    sel[k] = text
        if f is not None:
            rules.append(ScaleRule(f, key=key, min_intake=least, **sel))
    return tuple(rules)


def _close_rules(value: Any, bad: Bad) -> tuple[CloseRule, ...]:
    items = value if isinstance(value, list) else [value]
    rules = []
    for i, item in enumerate(items):
        key = f"close[{i}]"
        if not isinstance(item, dict):
            bad(key, msg("variant.mapping",
                         example="{workstation_id: W0020, terms: [2027-autumn]}"))
            continue
        for k in sorted(set(map(str, item)) - {"workstation_id", "terms"}):
            bad(f"{key}.{k}", msg("variant.close_unknown_key"))
        wid = _text(item.get("workstation_id"))
        terms = item.get("terms")
        term_list = terms if isinstance(terms, list) else [terms]
        texts = [_text(t) for t in term_list]
        if wid is None:
            bad(f"{key}.workstation_id", msg("variant.close_workstation"))
        if terms is None or not term_list or any(t is None for t in texts):
            bad(f"{key}.terms", msg("variant.close_terms"))
            continue
        if wid is not None:
            rules.append(CloseRule(wid, tuple(t for t in texts if t is not None), key=key))
    return tuple(rules)


def _policy(value: Any, bad: Bad) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, dict):
        bad("policy", msg("variant.mapping", example="{practice_months: 12}"))
        return ()
    out = []
    for k, v in value.items():
        k = str(k)
        if k not in POLICY_KEYS:
            bad(f"policy.{k}", msg("variant.unknown_setting", keys=list(POLICY_KEYS)))
            continue
        if k == "window" and v is not None:
            if not (isinstance(v, list) and len(v) == 2 and all(_text(t) for t in v)):
                bad("policy.window", msg("variant.window"))
                continue
            v = (_text(v[0]), _text(v[1]))
        out.append((k, v))
    return tuple(out)


def _read_file(here: Path, rel: str, table: Table) -> tuple[TableRead | None, Found]:
    """A table named by a variant file: a CSV, or the table's sheet of an ``.xlsx`` workbook
    (``学生`` / ``students`` for ``add_students``); what reading found, located in that file."""
    found = Found()
    if Path(rel).suffix.lower() != ".xlsx":
        return read_table(here, replace(table, file=rel, required_file=True), found, {}), found
    book = read_workbook(here / rel, found, {}, only=(table.name,))
    # the scenario workbook's "needs sheets students, workstations, ..." would mislead here
    found.errors = [msg("variant.missing_sheet", at=m.location, found=m.stored()["found"],
                        names=[table.name, *SHEET_ALIASES.get(table.name, ())])
                    if m.code == "load.missing_sheet" else m for m in found.errors]
    grid = book.grids.get(table.name) if book is not None else None
    if grid is None:
        return None, found
    return read_grid(table, grid, found), found


def _rows(value: Any, key: str, table_name: str, here: Path, src: str,
          bad: Bad, errors: list[str | Message], origins: dict[str, tuple[Location, ...]]
          ) -> tuple[Any, ...]:
    """Rows of a table given inline (a list of mappings) or as a CSV (or workbook) next to the
    file; for a file, ``origins[key]`` gets where each row was read (nested in the key)."""
    table = next(t for t in TABLES if t.name == table_name)
    if isinstance(value, str):
        rel = value.strip()
        path = here / rel
        try:
            inside = path.resolve().is_relative_to(here)
        except (OSError, RuntimeError):
            inside = False
        if not rel or not inside:
            bad(key, msg("variant.csv_outside", value=str(value)))
            return ()
        if not path.is_file():
            bad(key, msg("variant.csv_missing", file=rel, folder=str(here)))
            return ()
        outer = Location(file=str(src), field=key)
        read, found = _read_file(here, rel, table)
        errors.extend(replace(m, location=(m.location or Location(file=rel)).inside(outer))
                      for m in found.errors)
        if found.errors or read is None:
            return ()
        id_column = table.columns[0].name
        origins[key] = tuple(read.at(k, id_column).inside(outer)
                             for k, r in enumerate(read.rows) if r is not None)
        return tuple(r for r in read.rows if r is not None)
    if not isinstance(value, list):
        bad(key, msg("variant.rows", file=table.file))
        return ()
    out = []
    names = [c.name for c in table.columns]
    for i, row in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(row, dict):
            bad(where, msg("variant.mapping", example="{workstation_id: W9001, ...}"))
            continue
        for k in sorted(set(map(str, row)) - set(names)):
            bad(f"{where}.{k}", msg("variant.unknown_column", columns=names))
        values: dict[str, Any] = {}
        ok = True
        for col in table.columns:
            v = row.get(col.name)
            # YAML gives typed values: turn each into the text a CSV cell would hold, so that
            # the loader's own cell rules (parse_cell) apply.
            if col.kind == "list":
                cell = (";".join(t for t in (_text(x) for x in v) if t) if isinstance(v, list)
                        else "" if v is None else str(v).strip())
            elif v is None or (isinstance(v, str) and not v.strip()):
                cell = ""
            elif col.kind in ("str", "opt_str"):
                text = _text(v)
                if text is None:
                    bad(f"{where}.{col.name}", msg("variant.single_text"))
                    ok = False
                    continue
                cell = text
            elif isinstance(v, bool):
                bad(f"{where}.{col.name}", msg("load.not_a_number", value=str(v)))
                ok = False
                continue
            else:
                cell = str(v).strip()
            value, why = parse_cell(col, cell)
            if why is not None:
                bad(f"{where}.{col.name}", why)
                ok = False
            elif value is not NO_VALUE:
                values[col.name] = value
        if not ok:
            continue
        try:
            out.append(table.model.model_validate(values))
        except ValidationError as e:
            for err in e.errors():
                col_name = str(err["loc"][0]) if err["loc"] else "?"
                bad(f"{where}.{col_name}", msg("variant.cell",
                                               value=str(values.get(col_name, "")),
                                               reason=error_detail(err)))
    return tuple(out)
