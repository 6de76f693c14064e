"""Fuzzing the loader: mutated copies of ``scenarios/tiny`` load cleanly or fail cleanly.

Hypothesis mutates the scenario's files at two levels: bytes (flip, truncate, insert, delete)
and cells (replace a cell by random text, a number or nothing; drop a row; duplicate a row).
For every mutant :func:`matcher.load_scenario` must either

- return a problem that re-validates from scratch and has exactly one entity per non-blank data
  line of each file (a row is never dropped silently), or
- raise :class:`~matcher.ScenarioError` whose lines are single printable lines naming a file,

and never raise anything else (which the CLI would show as a traceback).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher import ScenarioError, load_scenario
from matcher.model import Problem

TINY = Path(__file__).resolve().parents[2] / "scenarios" / "tiny"
FILES = {p.name: p.read_bytes() for p in sorted(TINY.iterdir())
         if p.suffix in (".csv", ".yaml")}
CSV_FILES = sorted(n for n in FILES if n.endswith(".csv"))
# file -> Problem field holding its rows
FIELD = {"students.csv": "students", "workstations.csv": "workstations",
         "mentors.csv": "mentors", "supervisors.csv": "supervisors",
         "universities.csv": "universities", "workstation_terms.csv": "term_capacities",
         "pairs.csv": "pairs"}
DEEP = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "0"))
"""Set MATCHER_FUZZ_EXAMPLES=N for a deeper run: N fresh random examples per test. By default
each test runs a fixed (derandomised) sequence of EXAMPLES, the same on every run: 200 (each
example is a whole load from disk; 2 x 1,000 took a minute of CPU, the most of tests/formats),
1,000 with ``pytest --thorough``."""
EXAMPLES = DEEP or strategies.examples(200, 1000)
SETTINGS: dict[str, Any] = {"deadline": None, "derandomize": not DEEP, "max_examples": EXAMPLES,
                            "suppress_health_check": [HealthCheck.too_slow]}
BREAKS = re.compile(r"\r\n|\r|\n")


def _chinese(files: dict[str, bytes]) -> dict[str, bytes]:
    """The same scenario with Chinese city names, so multi-byte UTF-8 gets cut and flipped."""
    text = files["workstations.csv"].decode("utf-8")
    text = text.replace("Harbin", "哈尔滨").replace("Daqing", "大庆")
    return {**files, "workstations.csv": text.encode("utf-8")}


# ---- mutations --------------------------------------------------------------------------------
@st.composite
def byte_mutation(draw: Any, files: dict[str, bytes]) -> dict[str, bytes]:
    """Flip, truncate, insert or delete bytes in one file."""
    name = draw(st.sampled_from(sorted(files)))
    raw = bytearray(files[name])
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    at = draw(st.integers(0, len(raw)))
    if kind == "flip" and raw:
        k = min(at, len(raw) - 1)
        raw[k] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del raw[at:]
    elif kind == "insert":
        raw[at:at] = draw(st.binary(min_size=1, max_size=8)
                          | st.sampled_from([b",", b"\n", b'"', b"\r", b"\xef\xbb\xbf",
                                             b"\x00", b";", b" ", b"\xe5"]))
    else:
        del raw[at:at + draw(st.integers(1, 12))]
    return {**files, name: bytes(raw)}


CELL_VALUES = st.one_of(
    st.text(max_size=12),
    st.just(""),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["W1", "W2", "S1", "HIT", "HEU", "0854", "2027-spring", "W1;W9", " S2 ",
                     "=1+1", "nan", "1e30", "-1", '"', "a\nb", "\ufeffS3", "HIT-S1"]),
)


def _parse(raw: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _unparse(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


@st.composite
def cell_mutation(draw: Any, files: dict[str, bytes]) -> dict[str, bytes]:
    """Replace one cell, drop a data row or duplicate a data row in one CSV file."""
    name = draw(st.sampled_from(CSV_FILES))
    rows = _parse(files[name])
    kind = draw(st.sampled_from(["cell", "cell", "header", "drop", "duplicate"]))
    if kind in ("drop", "duplicate") and len(rows) > 1:
        k = draw(st.integers(1, len(rows) - 1))
        rows[k:k + 1] = [] if kind == "drop" else [rows[k], list(rows[k])]
    elif rows:
        k = 0 if kind == "header" else draw(st.integers(0, len(rows) - 1))
        col = draw(st.integers(0, max(len(rows[k]) - 1, 0)))  # a row may be empty (a bare \r)
        rows[k] = [*rows[k][:col], draw(CELL_VALUES), *rows[k][col + 1:]]
    return {**files, name: _unparse(rows)}


def mutants(mutation: Any) -> st.SearchStrategy[dict[str, bytes]]:
    """One to three mutations of tiny (plain or with Chinese city names)."""
    @st.composite
    def build(draw: Any) -> dict[str, bytes]:
        files = _chinese(FILES) if draw(st.booleans()) else dict(FILES)
        for _ in range(draw(st.integers(1, 3))):
            files = draw(mutation(files))
        return files
    return build()


# ---- the property -----------------------------------------------------------------------------
def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _blank(line: str) -> bool:
    """A line with no content: only separators, spaces and empty quoted cells."""
    return all(re.fullmatch(r'\s*("\s*")?\s*', cell) for cell in line.split(","))


def _data_lines(raw: bytes) -> int:
    """Non-blank physical lines after the header (counted without a CSV parser)."""
    lines = [line for line in BREAKS.split(_decode(raw)) if not _blank(line)]
    return max(len(lines) - 1, 0)


def _printable_line(text: str) -> bool:
    return bool(text.strip()) and not any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs") for c in text)


def _loads_or_fails_cleanly(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "scenario"
        folder.mkdir()
        for name, raw in files.items():
            (folder / name).write_bytes(raw)
        try:
            problem = load_scenario(folder)
        except ScenarioError as e:
            assert e.messages
            for line in e.messages:
                assert _printable_line(line), repr(line)
                assert line.startswith((*FILES, "... and")), line
            return
    # Loaded: valid from scratch, and one entity per data line of every file.
    again = Problem.model_validate({f: getattr(problem, f) for f in Problem.model_fields})
    assert again == problem
    for name, field in FIELD.items():
        assert len(getattr(problem, field)) == _data_lines(files[name]), name


@settings(**SETTINGS)
@given(mutants(byte_mutation))
def test_byte_mutations(files: dict[str, bytes]) -> None:
    """Byte flips, cuts, insertions and deletions: a valid problem or clean errors."""
    _loads_or_fails_cleanly(files)


@settings(**SETTINGS)
@given(mutants(cell_mutation))
def test_cell_mutations(files: dict[str, bytes]) -> None:
    """Random cells, dropped and duplicated rows: a valid problem or clean errors."""
    _loads_or_fails_cleanly(files)


def test_untouched_tiny_loads() -> None:
    """The unmutated files load and count right (the property's baseline)."""
    _loads_or_fails_cleanly(dict(FILES))
    problem = load_scenario(TINY)
    assert [len(getattr(problem, f)) for f in FIELD.values()] == [6, 3, 4, 3, 2, 1, 1]
