"""Reading scenarios and writing results: the only place files meet the model.

:func:`load_scenario` reads a scenario folder, or one ``.xlsx`` workbook (:mod:`matcher.excel`),
into a frozen :class:`~matcher.model.Problem`, collecting *every* input error (up to 50) as one
line naming the file, the data row (1-based, header excluded; a workbook names the sheet and
Excel's row number), the column, the bad value and what to do. Headers may use the aliases of
:mod:`matcher.aliases`. :func:`write_result` writes a result
folder atomically: into a temporary sibling folder first, renamed into place when complete.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import importlib
import io as _io
import json
import math
import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from .aliases import canonical_header
from .model.capacity import Occupancy, apply_occupancy
from .model.errors import ProblemIssue, ScenarioError, error_reason
from .model.problem import (
    Lock,
    Mentor,
    ObjectiveSettings,
    Pair,
    Policy,
    Problem,
    Ranking,
    SolverSettings,
    Student,
    Supervisor,
    TermCapacity,
    University,
    Workstation,
    checked_problem,
    cross_check,
)

if TYPE_CHECKING:
    import pandas as pd

    from .model.result import Result

LIST_SEPARATORS = (";", "；", "、")
MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest input table read (64 MiB, about a million student rows); larger files are refused."""
MAX_YAML_BYTES = 1024 * 1024
"""Largest ``scenario.yaml`` read (1 MiB: it holds settings, never data)."""


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
    _Table("occupancy", "occupancy.csv", Occupancy, (  # not a Problem field: see Occupancy
        _Col("workstation_id", "str"), _Col("term", "str"), _Col("used", "int"),
        _Col("mentor_id", "opt_str", False)), required_file=False),
)
FILE_OF = {t.name: t.file for t in TABLES} | {"scenario": "scenario.yaml"}
FIELD_OF = {"workstation_terms": "term_capacities"}  # table name -> Problem field


def _read_input(folder: Path, file: str, limit: int, errors: list[str]) -> bytes | None:
    """The bytes of ``folder/file`` if it is a regular file inside the folder within ``limit``."""
    path = folder / file
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        inside = False
    if not inside:
        errors.append(f"{file}: links to a file outside the scenario folder; copy the file "
                      "into the folder instead of linking to it")
        return None
    size = path.stat().st_size
    if size > limit:
        errors.append(f"{file}: {size / 2**20:.1f} MiB, over the {limit / 2**20:g} MiB limit "
                      "for one input file; check that it is the right file, or split the "
                      "scenario")
        return None
    try:
        return path.read_bytes()
    except OSError as e:
        errors.append(f"{file}: cannot be read ({e.strerror}); check its permissions")
        return None


def _decode(raw: bytes, file: str, errors: list[str]) -> str | None:
    """UTF-8 (with or without BOM), else GB18030 as saved by Chinese Excel; else an error.

    A binary file (an .xlsx renamed to .csv, an image) and a file that mixes UTF-8 lines with
    lines in another encoding are refused: decoding the latter as GB18030 would garble the
    UTF-8 part silently.
    """
    if raw[:4] == b"PK\x03\x04" or b"\x00" in raw:
        kind = "a zip or Excel file" if raw[:2] == b"PK" else "binary data"
        errors.append(f"{file}: holds {kind}, not CSV text; open it in your spreadsheet "
                      "program and save it as CSV UTF-8")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        utf8_error = e
    lines = raw.split(b"\n")
    utf8_lines = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8-sig")
            utf8_lines += 1
        except UnicodeDecodeError:
            pass
    bad_line = raw.count(b"\n", 0, utf8_error.start) + 1
    if utf8_lines:
        errors.append(f"{file} line {bad_line}: not UTF-8 although other lines are (the file "
                      "mixes encodings, or was cut off inside a character); save the whole "
                      "file again as CSV UTF-8")
        return None
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        errors.append(f"{file} line {bad_line}: not readable as UTF-8 or GB18030 text (byte "
                      f"{utf8_error.start}); save it as CSV UTF-8 from your spreadsheet program")
        return None


_INVISIBLE = {"Cc", "Cf", "Zl", "Zp", "Co", "Cs"}
_FORMULA_START = ("=", "@")
MAX_SHOWN = 40


def _show(value: object) -> str:
    """A cell value fit for a one-line message: invisible characters escaped, long ones cut."""
    parts = [c if unicodedata.category(c) not in _INVISIBLE else ascii(c)[1:-1]
             for c in str(value)]
    if sum(map(len, parts)) <= MAX_SHOWN:
        return "".join(parts)
    kept = ""
    for part in parts:  # cut between characters, never inside an escape such as \n
        if len(kept) + len(part) > MAX_SHOWN - 1:
            break
        kept += part
    return kept + "…"


def _cell_problem(cell: str) -> str | None:
    """Why a (stripped) cell cannot be taken as typed, or None when it is fine."""
    for c in cell if not (cell.isascii() and cell.isprintable()) else "":  # fast path
        cat = unicodedata.category(c)
        if c in "\r\n" or cat in ("Zl", "Zp"):
            return ("holds a line break; remove it (a stray quote \" may have merged rows "
                    "into this cell)")
        if cat in _INVISIBLE:
            name = unicodedata.name(c, "control character")
            return (f"holds an invisible character U+{ord(c):04X} ({name}); retype the cell "
                    "(it may come from pasting two files together or from a web page)")
    if cell.startswith(_FORMULA_START):
        return ("is a spreadsheet formula, not a value; paste the values instead (Paste "
                "Special > Values) and save again")
    return None


def parse_number(text: str, kind: str) -> float | int:
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


NO_VALUE = object()
"""What :func:`parse_cell` gives for an empty optional cell (the model's default applies)."""


def parse_cell(col: _Col, cell: str) -> tuple[Any, str | None]:
    """One cell's value for its column, or why it is refused.

    Returns
    -------
    (value, None)
        The parsed value (:data:`NO_VALUE` for an empty optional cell).
    (None, reason)
        A reason fit to follow ``file row r, column:`` in a message.
    """
    why = _cell_problem(cell)
    if why is not None:
        return None, f"'{_show(cell)}' {why}"
    if col.kind == "list":
        return tuple(split_list(cell)), None
    if cell == "":
        return (None, "empty; give a value") if col.kind in ("str", "int", "float") else (
            NO_VALUE, None)
    if col.kind in ("str", "opt_str"):
        return cell, None
    try:
        return parse_number(cell, "int" if col.kind.endswith("int") else "float"), None
    except ValueError as e:
        return None, f"'{_show(cell)}' is {e}; give a plain number"


def split_list(text: str) -> list[str]:
    """Items of a list cell: separated by ``;``, ``；`` or ``、``, trimmed, empties dropped."""
    for sep in LIST_SEPARATORS[1:]:
        text = text.replace(sep, LIST_SEPARATORS[0])
    return [x.strip() for x in text.split(LIST_SEPARATORS[0]) if x.strip()]


def _rows(text: str) -> Iterator[list[str]]:
    yield from csv.reader(_io.StringIO(text, newline=""))


def read_table(folder: Path, table: _Table, errors: list[str],
               hashes: dict[str, str], numbers: dict[str, list[int]] | None = None
               ) -> list[Any] | None:
    """Read one CSV into model objects (source order), appending located errors.

    Data rows are numbered as a spreadsheet shows them below the header, blank lines counted;
    ``numbers`` (if given) receives that number for each data row, for cross-table messages.
    """
    path = folder / table.file
    if not path.is_file():
        if table.required_file:
            errors.append(f"{table.file}: missing file; every scenario needs {table.file} "
                          f"in {folder}")
        return None if table.required_file else []
    raw = _read_input(folder, table.file, MAX_FILE_BYTES, errors)
    if raw is None:
        return None
    hashes[table.file] = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, table.file, errors)
    if text is None:
        return None
    try:
        rows = list(_rows(text))
    except csv.Error as e:
        errors.append(f"{table.file}: not valid CSV ({e}); check quotes and separators")
        return None
    quoting = _quoting_error(text)
    if quoting is not None and not any("\n" in c or "\r" in c for row in rows for c in row):
        # (a quote that swallows line breaks is named with its row by table_rows instead)
        errors.append(f"{table.file} {quoting}")
        return None
    header = next((r for r in rows if any(c.strip() for c in r)), [])
    broken = [c for c in header if "\n" in c or "\r" in c]
    if broken:
        errors.append(f"{table.file}: the header cell '{_show(broken[0].strip())}' holds a line "
                      "break; remove it (a stray quote \" may have merged lines into the header)")
        return None
    kept = [(k, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
    if not kept:
        return table_rows(table, [], errors)
    shown = [k - kept[0][0] for k, _ in kept]  # the header is row 0; blank lines count
    if numbers is not None:
        numbers[table.name] = shown[1:]
    return table_rows(table, [r for _, r in kept], errors, shown)


def _quoting_error(text: str) -> str | None:
    """Where the CSV's quotes break the format, which the lenient reader would paper over.

    A quote left open at the end swallows the rest of the file; ``"a"b`` silently becomes
    ``ab``. Strict parsing finds both; None when the quoting is sound.
    """
    reader = csv.reader(_io.StringIO(text, newline=""), strict=True)
    try:
        for _ in reader:
            pass
    except csv.Error as e:
        why = ("a quote (\") is opened but never closed" if "end of data" in str(e)
               else f"text follows a closing quote ({e})")
        return f"line {reader.line_num}: {why}; check the quotes in that line"
    return None


def table_rows(table: _Table, rows: list[list[str]], errors: list[str],
               numbers: list[int] | None = None) -> list[Any] | None:
    """Validate one table given as rows of strings (header first) into model objects.

    CSV files and workbook sheets (:mod:`matcher.excel`) both come here. ``table.file`` names
    the source in messages; ``numbers[k]`` is the row number shown for ``rows[k]`` (default: the
    header is 0 and data rows count from 1 once blank lines are dropped). Headers may use the
    aliases of :mod:`matcher.aliases`. The result keeps one entry per data row (None for a row
    with an error) so that row ``k`` of the table is ``numbers[k + 1]``.
    """
    if numbers is None:
        rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are not rows
        numbers = list(range(len(rows)))
    if not rows:
        errors.append(f"{table.file}: the file is empty; it needs a header row and data rows")
        return None
    typed = [h.strip().lstrip("\ufeff").strip() for h in rows[0]]  # a doubled BOM
    header, clashes = canonical_header([c.name for c in table.columns], typed)
    missing = [c.name for c in table.columns if c.required and c.name not in header]
    if missing and len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "semicolons" if ";" in header[0] else "tabs"
        errors.append(f"{table.file}: the columns are separated by {sep}, not commas; save it "
                      "as CSV UTF-8 (comma-separated)")
        return None
    for name in missing:
        errors.append(f"{table.file}: missing column '{name}'; the header must name "
                      + ", ".join(c.name for c in table.columns if c.required))
    dup = sorted(h for h, n in Counter(typed).items() if h and n > 1)  # linear: wide files
    for name in dup:
        errors.append(f"{table.file}: column '{_show(name)}' appears twice in the header; "
                      "keep one")
    errors.extend(f"{table.file}: {clash}" for clash in clashes)
    if missing or dup or clashes:
        return None
    where = {c.name: header.index(c.name) for c in table.columns if c.name in header}
    data = rows[1:]
    if not data and table.required_file:
        errors.append(f"{table.file}: no data rows; add at least one row under the header")
        return None
    out: list[Any] = []
    for r, row in zip(numbers[1:], data, strict=True):
        if len(row) > len(header) and any(c.strip() for c in row[len(header):]):
            errors.append(f"{table.file} row {r}: {len(row)} cells but the header has "
                          f"{len(header)}; remove the extra cells or quote cells with commas")
            out.append(None)
            continue
        values: dict[str, Any] = {}
        ok = True
        known = set(where.values())
        broken: set[int] = set()
        for pos, text in enumerate(row):  # a line break in any cell may hide merged rows
            if "\n" not in text and "\r" not in text:
                continue
            broken.add(pos)
            ok = False
            col_name = header[pos] if pos < len(header) and header[pos] else f"column {pos + 1}"
            shown = f"'{_show(text.strip())}' " if pos in known else ""  # never echo notes
            errors.append(f"{table.file} row {r}, {_show(col_name)}: {shown}holds a line "
                          "break; remove it (a stray quote \" may have merged rows into this "
                          "cell)")
        for col in table.columns:
            k = where.get(col.name)
            if k in broken:
                continue
            cell = row[k].strip() if k is not None and k < len(row) else ""
            value, why = parse_cell(col, cell)
            if why is not None:
                errors.append(f"{table.file} row {r}, {col.name}: {why}")
                ok = False
            elif value is not NO_VALUE:
                values[col.name] = value
        if not ok:
            out.append(None)  # keep row numbering aligned, as for model errors below
            continue
        try:
            out.append(table.model.model_validate(values))
        except ValidationError as e:
            for err in e.errors():
                col_name = str(err["loc"][0]) if err["loc"] else "?"
                k = where.get(col_name)  # show the cell as typed, not as parsed
                shown = row[k].strip() if k is not None and k < len(row) else ""
                errors.append(f"{table.file} row {r}, {col_name}: '{_show(shown)}' "
                              f"{error_reason(err)}")
            out.append(None)  # keep row numbering aligned; dropped before building the problem
    return out


_SCENARIO_KEYS = {"name", "terms", "term_months", "policy", "solver", "objective", "description"}


def _read_yaml(folder: Path, errors: list[str], hashes: dict[str, str]) -> dict[str, Any] | None:
    path = folder / "scenario.yaml"
    if not path.is_file():
        errors.append("scenario.yaml: missing file; every scenario needs scenario.yaml in "
                      f"{folder}")
        return None
    raw = _read_input(folder, "scenario.yaml", MAX_YAML_BYTES, errors)
    if raw is None:
        return None
    hashes["scenario.yaml"] = hashlib.sha256(raw).hexdigest()
    text = _decode(raw, "scenario.yaml", errors)
    if text is None:
        return None
    try:
        problem = _yaml_structure(text)
        doc = yaml.safe_load(text) if problem is None else None
    except RecursionError:  # PyYAML composes nested blocks recursively
        errors.append(_TOO_DEEP)
        return None
    except yaml.YAMLError as e:
        line = _line(getattr(e, "problem_mark", None))
        tag = re.search(r"tag '([^']*)'", str(getattr(e, "problem", "")))
        if isinstance(e, yaml.constructor.ConstructorError) and tag:
            shown = _show(tag.group(1).replace("tag:yaml.org,2002:", "!!"))
            errors.append(f"scenario.yaml{line}: the tag '{shown}' is not allowed; "
                          "scenario.yaml holds plain text, numbers, lists and mappings only")
        else:
            errors.append(f"scenario.yaml{line}: not valid YAML; check indentation and colons")
        return None
    if problem is not None:
        errors.append(problem)
        return None
    if doc is None:
        errors.append("scenario.yaml: the file is empty; give at least name and terms")
        return None
    if not isinstance(doc, dict):
        errors.append("scenario.yaml: expected keys such as name, terms, policy; got "
                      f"{type(doc).__name__}")
        return None
    return _settings(doc, folder.name, errors, lambda key: f"scenario.yaml, {key}")


def _settings(doc: dict[Any, Any], default_name: str, errors: list[str],
              at: Callable[[str], str]) -> dict[str, Any]:
    """Validate scenario settings: parsed ``scenario.yaml``, or a workbook's ``scenario`` sheet.

    ``at(key)`` is the message prefix locating a (dotted) key, e.g. ``"scenario.yaml, terms"``
    or ``"scenario.xlsx sheet scenario row 3, terms"``; ``default_name`` is used when the
    settings give no name.
    """
    for key in sorted(set(map(str, doc)) - _SCENARIO_KEYS):
        errors.append(f"{at(_show(key))}: unknown key; use one of "
                      + ", ".join(sorted(_SCENARIO_KEYS)))
    name = doc.get("name")
    if name is not None and not _is_label(name):
        errors.append(f"{at('name')}: give the scenario's name as one line of text")
    out: dict[str, Any] = {"name": str(name).strip() if _is_label(name) else default_name}
    terms = doc.get("terms")
    if not isinstance(terms, list) or not terms or not all(_is_label(t) for t in terms):
        errors.append(f"{at('terms')}: give a non-empty list of term labels in calendar "
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
            errors.append(f"{at(key)}: expected a mapping of settings")
            continue
        if key == "policy" and "window" in section and section["window"] is not None:
            win = section["window"]
            if not (isinstance(win, list) and len(win) == 2 and all(map(_is_label, win))):
                errors.append(f"{at('policy.window')}: give [first_term, last_term]")
                continue
            section = {**section, "window": tuple(str(t).strip() for t in win)}
        try:
            out[key] = model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                loc = _show(".".join(str(x) for x in err["loc"]))
                msg = "unknown setting" if err["type"] == "extra_forbidden" else error_reason(err)
                errors.append(f"{at(f'{key}.{loc}')}: {msg}")
    if "term_months" in out and (not isinstance(out["term_months"], int)
                                 or isinstance(out["term_months"], bool)
                                 or not 1 <= out["term_months"] <= 24):
        errors.append(f"{at('term_months')}: give a whole number of months from 1 to 24")
    return out


def _line(mark: Any) -> str:
    """`` line N`` for a YAML position, empty when unknown."""
    return f" line {mark.line + 1}" if mark is not None else ""


def _is_label(value: object) -> bool:
    """A YAML scalar usable as a label (a name, a term): text or a whole number, one line."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    text = str(value).strip()
    return bool(text) and _cell_problem(text) is None


MAX_YAML_DEPTH = 20
_TOO_DEEP = ("scenario.yaml: lists or mappings nested too deeply; scenario.yaml holds a few "
             "levels of settings only")


def _flow_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` counting every bracket, even quoted ones (an
    over-estimate, which a settings file never comes near, and that no quote can hide from)."""
    depth = deepest = 0
    for c in text:
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _yaml_structure(text: str) -> str | None:
    """Refuse what ``yaml.safe_load`` would accept but a settings file has no use for.

    Aliases (``*name``) are refused: a few lines of nested aliases expand to billions of values
    (the "billion laughs" attack). A key given twice in one mapping is refused: YAML keeps the
    last silently, which hides the first.
    """
    if _flow_depth(text) > MAX_YAML_DEPTH:  # PyYAML's scanner slows quadratically with depth
        return _TOO_DEEP
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return (f"scenario.yaml{_line(event.start_mark)}: aliases "
                    f"(*{_show(event.anchor)}) are not allowed; write the values out")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    todo = [root] if root is not None else []
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        return (f"scenario.yaml{_line(key.start_mark)}: key "
                                f"'{_show(key.value)}' is given twice; keep one")
                    seen.add(key.value)
                todo += [key, value]
        elif isinstance(node, yaml.SequenceNode):
            todo += node.value
    return None


@dataclass(frozen=True)
class _Source:
    """Where the tables came from, so that cross-table messages point at the right place.

    The default is a folder of CSVs: a table is named by its file and row ``k`` (0-based) is
    shown as ``k + 1``. A workbook names sheets, shows Excel's row numbers and says "sheet
    students" where a message would say "students.csv".
    """

    labels: dict[str, str] = field(default_factory=dict)  # table -> label in messages
    numbers: dict[str, list[int]] = field(default_factory=dict)  # table -> row shown, per row
    settings_at: Callable[[str], str] | None = None  # message prefix of a settings key
    renames: tuple[tuple[str, str], ...] = ()  # file names inside messages -> sheet names

    def line(self, issue: ProblemIssue) -> str:
        """One located message line for a problem issue."""
        if issue.table == "scenario" and issue.column and self.settings_at is not None:
            head = self.settings_at(issue.column)
        else:
            file = self.labels.get(issue.table) or FILE_OF.get(issue.table, issue.table)
            shown = self.numbers.get(issue.table, [])
            row = ""
            if issue.row is not None:
                row = f" row {shown[issue.row] if issue.row < len(shown) else issue.row + 1}"
            col = f", {issue.column}" if issue.column else ""
            head = f"{file}{row}{col}"
        message = issue.message
        for old, new in self.renames:
            message = message.replace(old, new)
        return f"{head}: {message}"


_CSV_SOURCE = _Source()


def issue_line(issue: ProblemIssue, src: _Source = _CSV_SOURCE) -> str:
    """One located message line (file or sheet, row, column) for a cross-table issue."""
    return src.line(issue)


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
                         src: _Source = _CSV_SOURCE) -> list[str]:
    """Cross-table issues that cell errors elsewhere cannot have caused (row numbers exact)."""
    dropped = {k for k, v in tables.items() if any(x is None for x in v)}
    fields: dict[str, Any] = dict(settings)
    for k, v in tables.items():
        fields[FIELD_OF.get(k, k)] = tuple(x for x in v if x is not None)
    try:
        partial = Problem.model_validate(fields, context={"cross_checked": True})
    except ValidationError:
        return []
    return [issue_line(i, src) for i in cross_check(partial)
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
        one such workbook and no CSV tables (see :mod:`matcher.excel`). Headers may use the
        aliases of :mod:`matcher.aliases`.
    occupancy
        Subtract ``occupancy.csv`` from the capacities (the default); False gives the full
        capacities (to edit the scenario, see :mod:`matcher.variant`).

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
    from .excel import find_workbook  # deferred: excel imports this module

    book = find_workbook(folder)
    if book is not None:
        return _load_workbook(book, occupancy=occupancy)
    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a scenario folder (it does not exist or is a "
                             "file); give the folder holding scenario.yaml and the CSVs, or "
                             "an .xlsx workbook"])
    errors: list[str] = []
    hashes: dict[str, str] = {}
    settings = _read_yaml(folder, errors, hashes)
    numbers: dict[str, list[int]] = {}
    tables = {t.name: read_table(folder, t, errors, hashes, numbers) for t in TABLES}
    errors += _misnamed_files(folder)
    return _build(folder, settings, tables, errors, hashes, _Source(numbers=numbers),
                  occupancy=occupancy)


def _load_workbook(book: Path, *, occupancy: bool) -> Problem:
    """Read a scenario workbook (see :mod:`matcher.excel`) through the same checks as CSVs."""
    from .excel import read_workbook

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
        settings = _settings(sheet.doc, default_name, errors, sheet.at)
    elif beside.is_file():
        settings = _read_yaml(book.parent, errors, hashes)
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
    src = _Source(
        labels={t: r.label for t, r in data.tables.items() if r is not None}
        | ({"scenario": sheet.label} if sheet is not None else {}),
        numbers={t: r.numbers[1:] for t, r in data.tables.items() if r is not None},
        settings_at=sheet.at if sheet is not None else None, renames=tuple(renames))
    return _build(book, settings, tables, errors, hashes, src, occupancy=occupancy)


def _build(path: Path, settings: dict[str, Any] | None, tables: dict[str, list[Any] | None],
           errors: list[str], hashes: dict[str, str], src: _Source, *,
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
                                lambda issue: issue_line(issue, src))
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
            out.append(f"{_show(name)}: not a scenario file name; did you mean {close[0]}? "
                       "rename it, or move it out of the folder if it is not part of the "
                       "scenario")
    return out


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


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP's list)."""


def escape_cell(text: str) -> str:
    """Defuse spreadsheet formula injection in one text cell of an output file.

    A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'``, so Excel and LibreOffice show it as text instead of running it as a formula.
    A cell that starts with ``'`` followed by one of those (or by another ``'``) gets one too,
    so that :func:`unescape_cell` gives back exactly the original text. Only text is escaped:
    numbers (negative ones included) are written as numbers by the callers.
    """
    if text.startswith(FORMULA_TRIGGERS) or (
            text.startswith("'") and text[1:2] != "" and text[1] in "'=+-@\t\r"):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The original text of a cell written with :func:`escape_cell`."""
    if text.startswith("'") and text[1:2] != "" and text[1] in "'=+-@\t\r":
        return text[1:]
    return text


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with :func:`escape_cell` applied to every text cell (numbers untouched)."""
    from pandas.api.types import is_numeric_dtype

    out = frame.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):  # object or string columns
            out[col] = out[col].map(lambda v: escape_cell(v) if isinstance(v, str) else v)
    return out


ResultWriter = Callable[["Result", "Problem | None", Path], object]
"""Writes one more file of a result folder: ``writer(result, problem, tmp_dir)``."""

RESULT_WRITERS: tuple[str, ...] = (
    "matcher.excel:write_results_xlsx",
    "matcher.report:write_report_into",
)
"""The extra files every result folder gets, as ``"module:function"`` (a :data:`ResultWriter`).

They run inside the temporary folder of :func:`write_result`, after the CSVs and
``summary.json`` and before ``manifest.json`` (which lists and hashes every file written), and
are imported only when a result is written. Add a writer here to add a file to every result.
"""


def write_result(result: Result, out_dir: str | os.PathLike[str], *, force: bool = False,
                 excel_bom: bool = False, problem: Problem | None = None,
                 writers: Sequence[ResultWriter] = ()) -> Path:
    """Write a result folder atomically.

    The folder holds ``assignments.csv``, ``unassigned.csv``, ``summary.json``, the files of
    :data:`RESULT_WRITERS` (``results.xlsx``, ...), those of ``writers``, and last
    ``manifest.json`` (the audit record, see :mod:`matcher.manifest`). Text cells of the CSVs
    are escaped against formula injection (:func:`escape_cell`).

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
        The problem solved. Without it ``results.xlsx`` has no student details and rosters by
        block instead of by term, and the manifest cannot name the input files, so
        ``matcher verify`` needs ``--scenario``.
    writers
        More :data:`ResultWriter` callables, run after :data:`RESULT_WRITERS`.

    Returns
    -------
    Path
        The folder written.
    """
    from .manifest import write_manifest  # deferred: it imports the solvers

    encoding = "utf-8-sig" if excel_bom else "utf-8"

    def fill(tmp: Path) -> None:
        _escaped(result.assignments).to_csv(tmp / "assignments.csv", index=False,
                                            lineterminator="\n", encoding=encoding)
        _escaped(result.unassigned_frame).to_csv(tmp / "unassigned.csv", index=False,
                                                 lineterminator="\n", encoding=encoding)
        (tmp / "summary.json").write_text(
            json.dumps(result.summary(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        for spec in RESULT_WRITERS:
            module, _, name = spec.partition(":")
            getattr(importlib.import_module(module), name)(result, problem, tmp)
        for writer in writers:
            writer(result, problem, tmp)
        write_manifest(result, problem, tmp, excel_bom=excel_bom)

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
    return [{k: unescape_cell((v or "").strip()) for k, v in r.items() if k is not None}
            for r in rows]
