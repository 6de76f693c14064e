"""What-if variants: a YAML file of changes applied to a scenario's tables.

A variant file names a base scenario and the changes to make to it; :func:`build_variant` applies
them to the base's tables (as data: rows removed, added and rewritten) and :func:`write_variant`
writes the result as a complete scenario folder that :func:`matcher.io.load_scenario` reads, so
it can be inspected, solved and compared as is. The schema (every key optional except ``base``
when no base is given on the command line)::

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
    add_workstations: new.csv       # CSV next to this file, or a list of rows
    add_mentors: new-mentors.csv    # CSV or rows; a new workstation without one gets <id>-M1
    close:
      - {workstation_id: W0020, terms: [2027-autumn]}
    policy: {practice_months: 12, window: [2026-autumn, 2028-spring], preferences_only: false}
    intake_pct: 15                  # +15 % students (negative: fewer)
    remove_students: [S00017]       # e.g. withdrawn students (``matcher resolve``)
    add_students: late.csv          # CSV next to this file, or a list of rows
    mentor_leave: [M0031]           # mentors unavailable for this allocation (capacity 0)

The changes apply in this order: remove, scale, add, close, policy, intake, then the
students and mentors changes (remove_students, add_students, mentor_leave). The README
("What-if planning", "Variants") gives the full rules, including the rounding of scaled
capacities (largest remainder, :func:`scale_largest_remainder`).
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from .io import (
    FIELD_OF,
    NO_VALUE,
    TABLES,
    Occupancy,
    ScenarioError,
    atomic_folder,
    error_reason,
    load_scenario,
    parse_cell,
    read_table,
)
from .model import Mentor, Policy, Problem, Student, TermCapacity, Workstation
from .rolling import apply_occupancy, built_in_code, read_occupancy, rebuild

__all__ = ["CloseRule", "ScaleRule", "Variant", "VariantSpec", "apply_variant", "build_variant",
           "draw_students", "new_ids", "read_variant", "scale_largest_remainder",
           "write_scenario", "write_variant"]

KEYS = ("base", "name", "description", "seed", "remove_workstations", "scale_capacity",
        "add_workstations", "add_mentors", "close", "policy", "intake_pct", "remove_students",
        "add_students", "mentor_leave")
"""The keys of a variant file."""

POLICY_KEYS = ("practice_months", "experienced_practice_months", "experienced_years", "window",
               "preferences_only")
MAX_FACTOR = 1000
MAX_CAPACITY = 1_000_000


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
    """

    factor: float
    discipline: str | None = None
    city: str | None = None
    university: str | None = None
    key: str = "scale_capacity"

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


@dataclass(frozen=True)
class Variant:
    """A variant applied to its base.

    Attributes
    ----------
    problem
        The changed scenario, full capacities (validated).
    occupancy
        The base's ``occupancy.csv`` rows that still apply (checked against the new capacities).
    changes
        What was changed, one line each.
    notes
        Side effects worth a look (locks dropped with a removed workstation, default mentors).
    description
        The ``description:`` written to ``scenario.yaml``.
    """

    problem: Problem
    occupancy: tuple[Occupancy, ...] = ()
    changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    description: str = ""


# ---- reading a variant file -------------------------------------------------------------------
def read_variant(path: str | os.PathLike[str]) -> VariantSpec:
    """Read and shape-check a variant YAML file (ids are checked when it is applied).

    Raises
    ------
    ScenarioError
        One line per problem, naming the file, the key and what to do.
    """
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise ScenarioError([f"{src}: not found; give the path of a variant YAML file"])
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ScenarioError([f"{src}: not UTF-8 text; save the variant file as UTF-8"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError([f"{src}{line}: not valid YAML; check indentation and colons"]
                            ) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ScenarioError([f"{src}: expected keys such as base, scale_capacity, policy; got "
                             f"{type(doc).__name__}"])
    errors: list[str] = []

    def bad(key: str, msg: str) -> None:
        errors.append(f"{src}, {key}: {msg}")

    for key in sorted(set(map(str, doc)) - set(KEYS)):
        bad(key, "unknown key; use one of " + ", ".join(KEYS))
    here = path.resolve().parent
    spec: dict[str, Any] = {"source": src, "name": path.stem}
    if doc.get("base") is not None:
        if not isinstance(doc["base"], str) or not doc["base"].strip():
            bad("base", "give the base scenario folder as a path relative to this file")
        else:
            spec["base"] = (here / doc["base"].strip()).resolve()
    for key in ("name", "description"):
        if doc.get(key) is not None:
            if isinstance(doc[key], str | int | float) and str(doc[key]).strip():
                spec[key] = str(doc[key]).strip()
            else:
                bad(key, "give a line of text")
    if "seed" in doc:
        seed = doc["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            bad("seed", "give a whole number from 0 to 4294967295")
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
            spec[key] = _rows(doc[key], key, table_name, here, src, bad, errors)
    if doc.get("close") is not None:
        spec["close"] = _close_rules(doc["close"], bad)
    if doc.get("policy") is not None:
        spec["policy"] = _policy(doc["policy"], bad)
    if doc.get("intake_pct") is not None:
        pct = doc["intake_pct"]
        if isinstance(pct, bool) or not isinstance(pct, int | float) or not (
                math.isfinite(pct) and -100 < pct <= 1000):
            bad("intake_pct", "give a percentage above -100 and at most 1000, e.g. 15 or -10")
        else:
            spec["intake_pct"] = float(pct)
    if errors:
        raise ScenarioError(errors)
    return VariantSpec(**spec)


def _text(v: Any) -> str | None:
    """An id-like YAML scalar as text (None for a mapping, a list or an empty value)."""
    if isinstance(v, bool) or v is None or isinstance(v, dict | list):
        return None
    text = str(v).strip()
    return text or None


def _id_list(value: Any, key: str, bad: Callable[[str, str], None]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, v in enumerate(items):
        text = _text(v)
        if text is None:
            bad(f"{key}[{i}]", "give a workstation id")
        else:
            out.append(text)
    return tuple(out)


def _factor(v: Any, key: str, bad: Callable[[str, str], None]) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not (
            math.isfinite(v) and 0 <= v <= MAX_FACTOR):
        bad(key, f"give a factor from 0 to {MAX_FACTOR}, e.g. 0.9 or 1.2")
        return None
    return float(v)


def _scale_rules(value: Any, bad: Callable[[str, str], None]) -> tuple[ScaleRule, ...]:
    if not isinstance(value, list):
        if isinstance(value, dict):
            value = [value]
        else:
            f = _factor(value, "scale_capacity", bad)
            return () if f is None else (ScaleRule(f),)
    rules = []
    allowed = ("factor", "discipline", "city", "university")
    for i, item in enumerate(value):
        key = f"scale_capacity[{i}]"
        if not isinstance(item, dict):
            bad(key, "give a mapping such as {factor: 1.2, city: Daqing}")
            continue
        for k in sorted(set(map(str, item)) - set(allowed)):
            bad(f"{key}.{k}", "unknown key; use factor and at most discipline, city, university")
        if "factor" not in item:
            bad(key, "missing factor; give e.g. {factor: 1.2, city: Daqing}")
            continue
        f = _factor(item["factor"], f"{key}.factor", bad)
        sel: dict[str, str] = {}
        for k in allowed[1:]:
            if item.get(k) is not None:
                text = _text(item[k])
                if text is None:
                    bad(f"{key}.{k}", f"give one {k} as text")
                else:
                    sel[k] = text
        if f is not None:
            rules.append(ScaleRule(f, key=key, **sel))
    return tuple(rules)


def _close_rules(value: Any, bad: Callable[[str, str], None]) -> tuple[CloseRule, ...]:
    items = value if isinstance(value, list) else [value]
    rules = []
    for i, item in enumerate(items):
        key = f"close[{i}]"
        if not isinstance(item, dict):
            bad(key, "give a mapping such as {workstation_id: W0020, terms: [2027-autumn]}")
            continue
        for k in sorted(set(map(str, item)) - {"workstation_id", "terms"}):
            bad(f"{key}.{k}", "unknown key; use workstation_id and terms")
        wid = _text(item.get("workstation_id"))
        terms = item.get("terms")
        term_list = terms if isinstance(terms, list) else [terms]
        texts = [_text(t) for t in term_list]
        if wid is None:
            bad(f"{key}.workstation_id", "give the id of the workstation to close")
        if terms is None or not term_list or any(t is None for t in texts):
            bad(f"{key}.terms", "give the list of terms to close it in, e.g. [2027-autumn]")
            continue
        if wid is not None:
            rules.append(CloseRule(wid, tuple(t for t in texts if t is not None), key=key))
    return tuple(rules)


def _policy(value: Any, bad: Callable[[str, str], None]) -> tuple[tuple[str, Any], ...]:
    if not isinstance(value, dict):
        bad("policy", "give a mapping such as {practice_months: 12}")
        return ()
    out = []
    for k, v in value.items():
        k = str(k)
        if k not in POLICY_KEYS:
            bad(f"policy.{k}", "unknown setting; use one of " + ", ".join(POLICY_KEYS))
            continue
        if k == "window" and v is not None:
            if not (isinstance(v, list) and len(v) == 2 and all(_text(t) for t in v)):
                bad("policy.window", "give [first_term, last_term], or null for all terms")
                continue
            v = (_text(v[0]), _text(v[1]))
        out.append((k, v))
    return tuple(out)


def _rows(value: Any, key: str, table_name: str, here: Path, src: str,
          bad: Callable[[str, str], None], errors: list[str]) -> tuple[Any, ...]:
    """Rows of a table given inline (a list of mappings) or as a CSV next to the file."""
    table = next(t for t in TABLES if t.name == table_name)
    if isinstance(value, str):
        rel = value.strip()
        path = here / rel
        try:
            inside = path.resolve().is_relative_to(here)
        except (OSError, RuntimeError):
            inside = False
        if not rel or not inside:
            bad(key, f"'{value}' is outside the variant file's folder; put the CSV next to the "
                     "variant file (or in a folder below it) and give its relative path")
            return ()
        if not path.is_file():
            bad(key, f"file '{rel}' not found next to the variant file; give a CSV path "
                     f"relative to {here}")
            return ()
        found: list[str] = []
        rows = read_table(here, replace(table, file=rel, required_file=True), found, {})
        errors.extend(f"{src}, {key}: {line}" for line in found)
        return tuple(r for r in rows or () if r is not None) if not found else ()
    if not isinstance(value, list):
        bad(key, f"give a list of rows or the path of a CSV with the {table.file} columns")
        return ()
    out = []
    names = [c.name for c in table.columns]
    for i, row in enumerate(value):
        where = f"{key}[{i}]"
        if not isinstance(row, dict):
            bad(where, "give a mapping of column: value, e.g. {workstation_id: W9001, ...}")
            continue
        for k in sorted(set(map(str, row)) - set(names)):
            bad(f"{where}.{k}", "unknown column; use " + ", ".join(names))
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
                    bad(f"{where}.{col.name}", "give a single value as text")
                    ok = False
                    continue
                cell = text
            elif isinstance(v, bool):
                bad(f"{where}.{col.name}", f"'{v}' is not a number; give a plain number")
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
                bad(f"{where}.{col_name}", f"'{values.get(col_name, '')}' {error_reason(err)}")
    return tuple(out)


# ---- applying it ------------------------------------------------------------------------------
def scale_largest_remainder(items: Sequence[tuple[str, int]], factor: float | Fraction
                            ) -> dict[str, int]:
    """Scale integer capacities so that their total scales too (largest remainder).

    Every capacity becomes ``floor(capacity x factor)``; then the ones with the largest
    fractional parts (ties by id) get one more place each until the total is the exact total
    times ``factor`` rounded half up. The factor is taken as the decimal it prints as (0.9 is
    9/10), so results do not depend on binary rounding. A capacity of 0 stays 0.

    Parameters
    ----------
    items
        ``(id, capacity)`` pairs.
    factor
        The multiplier (>= 0).

    Returns
    -------
    dict
        id -> scaled capacity.
    """
    f = factor if isinstance(factor, Fraction) else Fraction(repr(float(factor)))
    exact = {i: c * f for i, c in items}
    out = {i: math.floor(x) for i, x in exact.items()}
    total = sum(exact.values(), Fraction(0))
    left = math.floor(total + Fraction(1, 2)) - sum(out.values())
    order = sorted((i for i, x in exact.items() if x != out[i]),
                   key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:left]:
        out[i] += 1
    return out


def new_ids(taken: set[str], n: int, like: Sequence[str], prefix: str = "") -> list[str]:
    """``n`` new ids in the style of ``like`` that are not in ``taken``.

    The most common ``<letters><zero-padded number>`` pattern of ``like`` is continued after
    the highest number in use (``S02000`` -> ``S02001``, ...), after ``prefix``; ids without a
    number give ``<prefix>NEW-00001``, ...
    """
    patterns: Counter[tuple[str, int]] = Counter()
    for x in like:
        m = re.fullmatch(r"(.*?)(\d+)", x)
        if m:
            patterns[m.group(1), len(m.group(2))] += 1
    stem, width = patterns.most_common(1)[0][0] if patterns else ("NEW-", 5)
    stem = prefix + stem
    start = 0
    for x in taken:
        if x.startswith(stem) and x[len(stem):].isdigit():
            start = max(start, int(x[len(stem):]))
    out: list[str] = []
    k = start
    while len(out) < n:
        k += 1
        candidate = f"{stem}{k:0{width}d}"
        if candidate not in taken:
            out.append(candidate)
    return out


def draw_students(pool: Sequence[Student], n: int, rng: np.random.Generator, *,
                  taken: set[str], prefix: str = "") -> list[Student]:
    """``n`` new students drawn with replacement from ``pool`` (the base distribution).

    Each copies a random pool student's university, discipline, work experience, preferences,
    priority, window and required months; the copy has a new id (see :func:`new_ids`) and no
    given supervisor (new students have none yet).
    """
    picks = rng.integers(0, len(pool), size=n)
    ids = new_ids(taken | {s.student_id for s in pool}, n, [s.student_id for s in pool], prefix)
    return [pool[int(k)].model_copy(update={"student_id": sid, "supervisor_id": None})
            for k, sid in zip(picks.tolist(), ids, strict=True)]


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _known(requested: Sequence[str], present: set[str], key: str, what: str, file: str,
           bad: Callable[[str, str], None]) -> set[str]:
    """The requested ids that exist; one error line per unknown one."""
    for i, rid in enumerate(requested):
        if rid not in present:
            bad(f"{key}[{i}]", f"unknown {what} '{rid}' (not in the scenario's {file}); check "
                "the id")
    return set(requested) & present


def apply_variant(base: Problem, spec: VariantSpec,
                  occupancy: Sequence[Occupancy] = ()) -> Variant:
    """Apply a variant's changes to a base problem (full capacities).

    Order: remove workstations, scale capacities, add workstations and mentors, close
    workstations in terms, change the policy, change the intake.

    Parameters
    ----------
    base
        The base scenario, loaded with ``occupancy=False``.
    spec
        The changes.
    occupancy
        The base's ``occupancy.csv`` rows; rows at removed workstations are dropped, the rest
        must still fit the changed capacities.

    Returns
    -------
    Variant

    Raises
    ------
    ScenarioError
        One line per problem, starting with ``spec.source`` and the key.
    """
    src = spec.source
    errors: list[str] = []
    changes: list[str] = []
    notes: list[str] = []

    def bad(key: str, msg: str) -> None:
        errors.append(f"{src}, {key}: {msg}")

    ws = list(base.workstations)
    mentors = list(base.mentors)
    tcs = list(base.term_capacities)
    pairs, locks, rankings = list(base.pairs), list(base.locks), list(base.rankings)
    students = list(base.students)
    occ = list(occupancy)

    # 1. remove
    if spec.remove_workstations:
        ids = {w.workstation_id for w in ws}
        gone = _known(spec.remove_workstations, ids, "remove_workstations", "workstation",
                      "workstations.csv", bad)
        gone_m = {m.mentor_id for m in mentors if m.workstation_id in gone}
        places = sum(w.capacity for w in ws if w.workstation_id in gone)
        ws = [w for w in ws if w.workstation_id not in gone]
        mentors = [m for m in mentors if m.workstation_id not in gone]
        tcs = [tc for tc in tcs if tc.workstation_id not in gone]
        pairs = [pr for pr in pairs if pr.mentor_id not in gone_m]
        rankings = [rk for rk in rankings if rk.workstation_id not in gone]
        dropped = [lk.student_id for lk in locks if lk.workstation_id in gone]
        locks = [lk for lk in locks if lk.workstation_id not in gone]
        if dropped:
            notes.append(f"dropped the lock(s) of {', '.join(dropped)} at removed workstations")
        n_occ = len(occ)
        occ = [o for o in occ if o.workstation_id not in gone]
        if len(occ) < n_occ:
            notes.append(f"dropped {n_occ - len(occ)} occupancy.csv row(s) at removed "
                         "workstations")
        students = [s if not set(s.preferences) & gone else s.model_copy(update={
            "preferences": tuple(w for w in s.preferences if w not in gone)}) for s in students]
        if gone:
            changes.append(f"removed {len(gone)} workstation(s) ({', '.join(sorted(gone))}; "
                           f"{places} places per term) with their mentors")

    # 2. scale
    for rule in spec.scale_capacity:
        match = [w for w in ws
                 if (rule.discipline is None or rule.discipline in w.disciplines)
                 and (rule.city is None or w.city == rule.city)
                 and (rule.university is None or rule.university in w.partner_universities)]
        if not match:
            hint = _selector_hint(rule, ws)
            bad(rule.key, f"no workstation matches {rule.describe()}; {hint}")
            continue
        ids_m = {w.workstation_id for w in match}
        before = sum(w.capacity for w in match)
        caps = scale_largest_remainder([(w.workstation_id, w.capacity) for w in match],
                                       rule.factor)
        too_big = [i for i, c in caps.items() if c > MAX_CAPACITY]
        if too_big:
            bad(rule.key, f"capacity of {too_big[0]} would exceed {MAX_CAPACITY}; use a smaller "
                "factor")
            continue
        ws = [w.model_copy(update={"capacity": caps[w.workstation_id]})
              if w.workstation_id in ids_m else w for w in ws]
        for t in base.terms:
            group = [(tc.workstation_id, tc.capacity) for tc in tcs
                     if tc.term == t and tc.workstation_id in ids_m]
            if group:
                scaled = scale_largest_remainder(group, rule.factor)
                tcs = [tc.model_copy(update={"capacity": scaled[tc.workstation_id]})
                       if tc.term == t and tc.workstation_id in ids_m else tc for tc in tcs]
        m_caps = scale_largest_remainder([(m.mentor_id, m.capacity) for m in mentors
                                          if m.workstation_id in ids_m], rule.factor)
        mentors = [m.model_copy(update={"capacity": m_caps[m.mentor_id]})
                   if m.mentor_id in m_caps else m for m in mentors]
        changes.append(f"scaled capacity x{rule.factor:g} at {len(match)} workstation(s) "
                       f"({rule.describe()}): {before} -> {sum(caps.values())} places per term, "
                       "mentors alike")

    # 3. add
    if spec.add_workstations or spec.add_mentors:
        ids = {w.workstation_id for w in ws}
        added = []
        for i, w in enumerate(spec.add_workstations):
            if w.workstation_id in ids:
                bad(f"add_workstations[{i}]", f"workstation '{w.workstation_id}' is already in "
                    "the scenario; give a new id, or remove the old one first")
            else:
                ids.add(w.workstation_id)
                added.append(w)
        ws += added
        m_ids = {m.mentor_id for m in mentors}
        for i, m in enumerate(spec.add_mentors):
            if m.mentor_id in m_ids:
                bad(f"add_mentors[{i}]", f"mentor '{m.mentor_id}' is already in the scenario; "
                    "give a new id")
            elif m.workstation_id not in ids:
                bad(f"add_mentors[{i}]", f"unknown workstation '{m.workstation_id}' (neither "
                    "in the base nor in add_workstations); add the workstation or fix the id")
            else:
                m_ids.add(m.mentor_id)
                mentors.append(m)
        staffed = {m.workstation_id for m in mentors}
        defaults = []
        for w in added:
            if w.workstation_id not in staffed:
                mid = next(f"{w.workstation_id}-M{k}" for k in range(1, len(m_ids) + 2)
                           if f"{w.workstation_id}-M{k}" not in m_ids)
                m_ids.add(mid)
                mentors.append(Mentor(mentor_id=mid, workstation_id=w.workstation_id,
                                      disciplines=w.disciplines, capacity=w.capacity))
                defaults.append(mid)
        if added:
            changes.append(f"added {len(added)} workstation(s) "
                           f"(+{sum(w.capacity for w in added)} places per term)")
        if len(spec.add_mentors):
            changes.append(f"added {len(spec.add_mentors)} mentor(s)")
        if defaults:
            notes.append(f"{len(defaults)} new workstation(s) had no mentor and got one covering "
                         f"all their disciplines with their capacity ({', '.join(defaults)})")

    # 4. close
    ids = {w.workstation_id for w in ws}
    for cl in spec.close:
        if cl.workstation_id not in ids:
            bad(f"{cl.key}.workstation_id", f"unknown workstation '{cl.workstation_id}' "
                "(not in the scenario after removals and additions); check the id")
            continue
        unknown = [t for t in cl.terms if t not in base.term_index]
        if unknown:
            bad(f"{cl.key}.terms", f"unknown term '{unknown[0]}'; use terms of the base "
                "scenario: " + ", ".join(base.terms))
            continue
        for t in cl.terms:
            at = [k for k, tc in enumerate(tcs)
                  if tc.workstation_id == cl.workstation_id and tc.term == t]
            closed = TermCapacity(workstation_id=cl.workstation_id, term=t, capacity=0)
            if at:
                tcs[at[0]] = closed
            else:
                tcs.append(closed)
        changes.append(f"closed {cl.workstation_id} in {', '.join(cl.terms)}")

    # 5. policy
    policy = base.policy
    if spec.policy:
        merged = {**base.policy.model_dump(), **dict(spec.policy)}
        try:
            policy = Policy.model_validate(merged)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"])
                bad(f"policy.{loc}", f"{error_reason(err)}")
        else:
            diff = [f"{k} {getattr(base.policy, k)} -> {getattr(policy, k)}"
                    for k, _ in spec.policy if getattr(base.policy, k) != getattr(policy, k)]
            if diff:
                changes.append("policy: " + ", ".join(diff))

    # 6. intake
    if spec.intake_pct:
        n = _round_half_up(len(students) * abs(spec.intake_pct) / 100)
        rng = np.random.default_rng(spec.seed)
        if spec.intake_pct > 0 and n:
            pool = list(students)  # the base cohort, preferences already without removals
            new = draw_students(pool, n, rng, taken={s.student_id for s in students})
            students += new
            changes.append(f"intake +{spec.intake_pct:g}%: {n} new student(s) "
                           f"({new[0].student_id}..{new[-1].student_id}) drawn from the base "
                           f"cohort with seed {spec.seed}")
        elif n:
            locked = {lk.student_id for lk in locks}
            free = [s for s in students if s.student_id not in locked]
            if n > len(free):
                bad("intake_pct", f"cannot remove {n} students: only {len(free)} are not "
                    "locked; use a smaller cut")
            else:
                pick = {free[int(k)].student_id
                        for k in rng.choice(len(free), size=n, replace=False)}
                students = [s for s in students if s.student_id not in pick]
                rankings = [rk for rk in rankings if rk.student_id not in pick]
                changes.append(f"intake {spec.intake_pct:g}%: removed {n} random unlocked "
                               f"student(s) with seed {spec.seed}")

    # 7. students and mentors (withdrawals, late students, mentors on leave)
    if spec.remove_students:
        ids = {st.student_id for st in students}
        gone = _known(spec.remove_students, ids, "remove_students", "student", "students.csv",
                      bad)
        students = [st for st in students if st.student_id not in gone]
        locks = [lk for lk in locks if lk.student_id not in gone]
        rankings = [rk for rk in rankings if rk.student_id not in gone]
        if gone:
            changes.append(f"removed {len(gone)} student(s)")
    if spec.add_students:
        ids = {st.student_id for st in students}
        clash = [st.student_id for st in spec.add_students if st.student_id in ids]
        if clash:
            bad("add_students", f"student '{clash[0]}' is already in the scenario; give new "
                "students new ids")
        students += list(spec.add_students)
        changes.append(f"added {len(spec.add_students)} student(s)")
    if spec.mentor_leave:
        ids = {m.mentor_id for m in mentors}
        away = _known(spec.mentor_leave, ids, "mentor_leave", "mentor", "mentors.csv", bad)
        mentors = [m.model_copy(update={"capacity": 0}) if m.mentor_id in away else m
                   for m in mentors]
        dropped = [lk.student_id for lk in locks if lk.mentor_id in away]
        locks = [lk.model_copy(update={"mentor_id": None}) if lk.mentor_id in away else lk
                 for lk in locks]
        if dropped:
            notes.append(f"{len(dropped)} lock(s) no longer name a mentor on leave")
        if away:
            changes.append(f"{len(away)} mentor(s) on leave (capacity 0)")

    if errors:
        raise ScenarioError(errors)
    name = spec.name or f"{base.name}-variant"
    used = [k for k, given in (
        ("remove_workstations", spec.remove_workstations), ("scale_capacity", spec.scale_capacity),
        ("add_workstations", spec.add_workstations), ("add_mentors", spec.add_mentors),
        ("close", spec.close), ("policy", spec.policy), ("intake_pct", spec.intake_pct),
        ("remove_students", spec.remove_students), ("add_students", spec.add_students),
        ("mentor_leave", spec.mentor_leave)) if given]
    problem = rebuild(base, f"{src}, {'/'.join(used) or 'base'}: the changed scenario breaks a "
                      "rule", name=name,
                      workstations=tuple(ws), mentors=tuple(mentors),
                      term_capacities=tuple(tcs), pairs=tuple(pairs), locks=tuple(locks),
                      rankings=tuple(rankings), students=tuple(students), policy=policy,
                      **built_in_code())
    if occ:
        try:
            apply_occupancy(problem, occ)
        except ScenarioError as e:
            raise ScenarioError([f"{src}, {'/'.join(used) or 'base'}: after the changes, {line}"
                                 for line in e.messages]) from None
    description = spec.description or (f"variant of {base.name} with {len(changes)} "
                                       "change(s), listed in the comments above")
    return Variant(problem, tuple(occ), tuple(changes), tuple(notes), description)


def _selector_hint(rule: ScaleRule, ws: Sequence[Workstation]) -> str:
    """What the selectors could be, for a rule that matches nothing."""
    if rule.discipline is not None:
        known = sorted({d for w in ws for d in w.disciplines})
        return ("use a discipline some workstation takes (" + ", ".join(known) + "); quote "
                "codes with leading zeros, e.g. \"0856\"")
    if rule.city is not None:
        return "use a city of workstations.csv (" + ", ".join(
            sorted({w.city for w in ws if w.city})) + ")"
    if rule.university is not None:
        return "use a university listed in some workstation's partner_universities (" + \
            ", ".join(sorted({u for w in ws for u in w.partner_universities})) + ")"
    return "the scenario has no workstations left"


def build_variant(variant_file: str | os.PathLike[str],
                  base: str | os.PathLike[str] | None = None) -> Variant:
    """Read a variant file and apply it to its base scenario.

    Parameters
    ----------
    variant_file
        The variant YAML.
    base
        The base scenario folder; replaces the file's ``base`` when given.

    Raises
    ------
    ScenarioError
        Errors in the variant file (naming it and the key), in the base scenario (prefixed with
        its folder), or in the changed scenario.
    """
    spec = read_variant(variant_file)
    folder = Path(base) if base is not None else spec.base
    if folder is None:
        raise ScenarioError([f"{spec.source}, base: missing; name the base scenario folder "
                             "(relative to this file) or give BASE on the command line"])
    try:
        problem = load_scenario(folder, occupancy=False)
        occupancy = read_occupancy(folder)
    except ScenarioError as e:
        raise ScenarioError([f"base scenario {folder}: {line}" for line in e.messages]
                            ) from None
    return apply_variant(problem, spec, occupancy)


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
    """Write a problem as a scenario folder that :func:`matcher.io.load_scenario` reads back.

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


def write_variant(variant: Variant, out: str | os.PathLike[str], *, force: bool = False,
                  source: str = "") -> Path:
    """Write a variant as a scenario folder, atomically, and check that it loads.

    Raises
    ------
    ResultExistsError
        When ``out`` exists, is not empty and ``force`` is false.
    """
    header = [f"Variant {source}" if source else "Variant", *variant.changes, *variant.notes]

    def fill(tmp: Path) -> None:
        write_scenario(variant.problem, tmp, occupancy=variant.occupancy, header=header,
                       description=variant.description)
        load_scenario(tmp)  # what we write must load; a failure here is a bug, not bad input

    return atomic_folder(out, force, fill)
