"""Capacities after subtracting places already used (:mod:`matcher.model.capacity`), through
a scenario's ``occupancy.csv``: checked value by value on ``scenarios/tiny``."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from matcher import ScenarioError, load_scenario
from matcher.cli import cli

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "scenarios" / "tiny"


def _run(*args: str | Path) -> Result:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def _tiny_with(tmp_path: Path, occupancy: str) -> Path:
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    (folder / "occupancy.csv").write_text(occupancy, encoding="utf-8")
    return folder


# ---- occupancy.csv ------------------------------------------------------------------------------
def test_occupancy_reduces_capacities(tmp_path: Path) -> None:
    """Used places come off the workstation's capacity in that term (as an override) and off
    the mentor's capacity (busiest term of the window); occupancy=False gives the full ones."""
    folder = _tiny_with(tmp_path, "workstation_id,term,used,mentor_id\n"
                                  "W2,2026-autumn,1,W2-M1\nW1,2027-spring,1,\n"
                                  "W2,2026-autumn,1,W2-M1\n")
    p = load_scenario(folder)
    assert [(t.workstation_id, t.term, t.capacity) for t in p.term_capacities] == [
        ("W2", "2027-spring", 2), ("W2", "2026-autumn", 1), ("W1", "2027-spring", 0)]
    assert {m.mentor_id: m.capacity for m in p.mentors} == {
        "W1-M1": 1, "W2-M1": 0, "W2-M2": 1, "W3-M1": 1}
    full = load_scenario(folder, occupancy=False)
    assert full.term_capacities == load_scenario(TINY).term_capacities
    assert full.mentors == load_scenario(TINY).mentors


def test_occupancy_outside_the_window_leaves_mentors_alone(tmp_path: Path) -> None:
    """Mentor load in a term no student can use does not reduce the mentor."""
    p = load_scenario(_tiny_with(tmp_path, "workstation_id,term,used,mentor_id\n"
                                           "W2,2025-autumn,2,W2-M1\n"))
    assert {m.mentor_id: m.capacity for m in p.mentors}["W2-M1"] == 2
    assert ("W2", "2025-autumn", 1) in [(t.workstation_id, t.term, t.capacity)
                                        for t in p.term_capacities]


def test_occupancy_errors(tmp_path: Path) -> None:
    """Unknown workstation, term or mentor, a mentor of another workstation, and more places
    than there are: one line each, naming occupancy.csv, the row and the column."""
    folder = _tiny_with(tmp_path, "workstation_id,term,used,mentor_id\nW9,2026-autumn,1,\n"
                                  "W2,2031-spring,1,\nW1,2026-autumn,2,\nW2,2026-autumn,1,W3-M1\n"
                                  "W2,2026-autumn,1,W2-MX\nW2,2026-autumn,3,W2-M2\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(folder)
    assert info.value.messages == [
        "occupancy.csv row 1, workstation_id: unknown workstation 'W9' (not in "
        "workstations.csv); remove the row or add the workstation",
        "occupancy.csv row 2, term: unknown term '2031-spring' (not in terms: "
        "2025-autumn, 2026-spring, 2026-autumn, 2027-spring)",
        "occupancy.csv row 3, used: 'W1' holds 1 place(s) in 2026-autumn but 2 are used (rows "
        "add up); lower the places used or raise the capacity in workstations.csv or "
        "workstation_terms.csv",
        "occupancy.csv row 4, mentor_id: mentor 'W3-M1' works at 'W3', not at 'W2'; give a "
        "mentor of that workstation or leave it empty",
        "occupancy.csv row 5, mentor_id: unknown mentor 'W2-MX' (not in mentors.csv); give a "
        "mentor of the workstation or leave it empty",
        "occupancy.csv row 6, mentor_id: mentor 'W2-M2' takes 1 student(s) per term but 3 are "
        "used in 2026-autumn (rows add up); lower the places used or raise the mentor's "
        "capacity in mentors.csv",
    ]


def test_occupancy_negative_and_cli(tmp_path: Path) -> None:
    """A negative 'used' is a cell error; validate exits 2 with the line."""
    folder = _tiny_with(tmp_path, "workstation_id,term,used\nW2,2026-autumn,-1\n")
    r = _run("validate", folder)
    assert r.exit_code == 2
    assert r.stderr == "error: occupancy.csv row 1, used: '-1' is too small; give a value >= 0\n"


def test_occupancy_sheet_errors_name_the_sheet(tmp_path: Path) -> None:
    """In a workbook scenario the occupancy sheet's errors name the sheet and Excel's row."""
    folder = _tiny_with(tmp_path, "workstation_id,term,used\nW2,2026-autumn,1\n"
                                  "W9,2026-autumn,1\n")
    book = tmp_path / "book" / "t.xlsx"
    book.parent.mkdir()
    subprocess.run([sys.executable, str(ROOT / "scenarios" / "make_xlsx.py"), str(folder),
                    str(book)], check=True, capture_output=True, timeout=120)
    with pytest.raises(ScenarioError) as info:
        load_scenario(book)
    assert info.value.messages == [
        "sheet occupancy, row 3, workstation_id: unknown workstation 'W9' (not in sheet "
        "workstations); remove the row or add the workstation"]
